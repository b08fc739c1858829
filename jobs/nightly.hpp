// The night: the one entry point of `billing run`, of each night of `billing
// demo` and of the tests. run_night() takes the run lock, records the run,
// ingests the inbox, decides which dates to close (catch-up from the day
// after the last completed date up to the target, never a date that is not
// over), runs the jobs for each date in order, completes the dates and writes
// the metrics. A date already complete is reported and left alone; a date in
// progress resumes. A dry run is one transaction that is rolled back.
#pragma once

#include "jobs/ingest_inbox.hpp"
#include "jobs/job.hpp"
#include "ops/clock.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace billing {

struct RunRequest
{
  std::optional<Date> from; // --from (or nullopt)
  Date to;                  // --date / --to / yesterday
  Date today;               // the current UTC date: `to` must be before it
  DryRun dry_run = DryRun::no;
  Shard shard;
};

struct DateOutcome
{
  Date date;
  bool already_complete = false;
  bool completed = false; // false: other shards still have accounts open
  DayTotals totals;
  double seconds = 0;
};

struct RunOutcome
{
  std::vector<DateOutcome> dates;
};

struct RunHooks
{
  ProgressFn progress;
  std::function<Instant()> now;
};

// Throws UsageError when the target date is not over yet (to >= today) or
// --from is after --to.
void check_run_request(const RunRequest& request);

// The dates `request` would close, given the last completed date.
// Throws UsageError as check_run_request does.
std::vector<Date> dates_to_run(const RunRequest& request, std::optional<Date> last_completed);

// The dates and their jobs alone: no lock, run record, inbox or metrics.
// On a dry run everything happens in one transaction that is rolled back: the
// summary is computed, nothing is written.
// REQUIRES: the caller holds the run lock (run_night does).
RunOutcome run_nightly(Database& db, const RunRequest& request, const RunHooks& hooks);

struct NightRequest
{
  RunRequest run;
  // Names this process in the lock and the run record ("host:pid run").
  std::string holder;
  // The folder of usage logs to ingest first (usage.inbox); none: no ingest.
  std::optional<std::string> inbox;
  // The Prometheus textfile to write after the run (metrics.path).
  std::optional<std::string> metrics_path;
  ProgressFn progress;
  // The wall clock, for bookkeeping columns and the run record only.
  std::function<Instant()> now = now_utc;
};

struct NightReport
{
  std::vector<DateOutcome> dates; // already complete ones first, then those run
  std::optional<InboxSummary> inbox;
};

// The name of the run lock of a worker: "billing", or one per shard
// ("billing-shard-K-of-N"), so shard workers run side by side.
std::string run_lock_name(Shard shard);

// One night. In order:
//  - refuses a request check_run_request() refuses (UsageError), before
//    anything else: no lock, no run record, no metrics;
//  - takes the run lock (LockHeld when another process holds it);
//  - a real run records itself in the runs table, ingests the inbox (not in a
//    shard worker: the workers expect `billing ingest` before them) and its
//    pending rejects, closes the dates, closes its run record with the
//    outcome, and writes the metrics, also when it fails after it started (with
//    the failure's exit code; the failure is then rethrown);
//  - a dry run closes the dates in one transaction that is rolled back, and
//    records no run, ingests nothing and writes no metrics.
NightReport run_night(Database& db, const NightRequest& request);

} // namespace billing
