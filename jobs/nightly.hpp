// The orchestrator of `billing run`: decides which dates to close (catch-up
// from the day after the last completed date up to the target, never a date
// that is not over), and runs the jobs for each date in order. A date already
// complete is reported and left alone; a date in progress resumes.
#pragma once

#include "jobs/job.hpp"

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
  // Called once, before the first date (inbox ingest and reject retries).
  std::function<void()> before_dates;
};

// The dates `request` would close, given the last completed date.
// Throws UsageError when the target date is not over yet.
std::vector<Date> dates_to_run(const RunRequest& request, std::optional<Date> last_completed);

// Runs the dates. On a dry run everything happens in one transaction that is
// rolled back: the summary is computed, nothing is written.
RunOutcome run_nightly(Database& db, const RunRequest& request, const RunHooks& hooks);

} // namespace billing
