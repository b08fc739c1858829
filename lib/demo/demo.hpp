// `billing demo`: a complete nightly run on generated data. Generates plans,
// accounts, purchases and several days of usage logs (with bad lines and late
// events) ending yesterday, loads them into an empty database, closes the
// quiet dates before the usage starts, then, day by day as the timer would,
// imports the operator's files of that night (plan changes, cancellations and
// a reactivation, adjustments, a price change: SPEC 14, 15, 18, through
// import_csv as `billing import` does), ingests the day's log, runs the night
// (jobs/nightly.hpp's run_night, as `billing run` does) and feeds back the
// payment provider's results (one card in ten declined); finally writes the
// exports and verifies the books.
//
// Each step holds the run lock as the command it stands for would (migrate
// and imports, ingest, run, payments import), and releases it after.
#pragma once

#include "demo/workload.hpp"
#include "jobs/nightly.hpp"
#include "storage/usage_store.hpp"
#include "storage/verify.hpp"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace billing {

struct DemoRequest
{
  unsigned long long seed = 42;
  long long accounts = 3000;
  int days = 7; // days of usage, the last one the day before `today`
  long long events_per_day = 30000;
  // Share of the accounts with a time zone (SPEC 16, WorkloadSpec).
  double zoned_share = 0.25;
  // The operator's files between nights (WorkloadSpec::operator_files).
  OperatorFiles operator_files = OperatorFiles::demo;
  Date today;
  // The folder for the generated inputs (DIR/input) and the exports
  // (DIR/exports).
  std::string out_dir;
  // Names this process in the lock and the run records ("host:pid demo").
  std::string holder;
};

// One usage day: its log ingested, its night run, the payments answered.
struct DemoNight
{
  IngestReport ingest;
  std::vector<DateOutcome> dates; // the night's dates (the one usage day)
  long long failed_payments = 0;  // payment requests of the date declined
};

// What the demo tells as it goes, in this order; each may be empty.
struct DemoObserver
{
  // The data is generated and imported.
  std::function<void(const WorkloadFiles&)> loaded;
  // The dates before the usage starts, from..to, are closed (only when the
  // first account's cycle starts before the usage).
  std::function<void(Date from, Date to, long long dates)> quiet_closed;
  // A usage day's night is done.
  std::function<void(const DemoNight&)> night;
};

// The operator's imports of the demo and what the books show of them.
struct DemoOperatorImports
{
  OperatorFileCounts counts; // what the files hold
  // The import reports of each kind added up, indexed by OperatorFileKind.
  struct Totals
  {
    long long files = 0;
    long long rows = 0;
    long long inserted = 0;
    long long unchanged = 0;
    long long rejected = 0;
  };
  std::array<Totals, 3> totals{};
  // From the exports of the usage days: rows of the adjustments export, the
  // reconciliation's `adjusted` added up (grants minus debits) and the
  // credits the refunds revoked.
  long long adjustments_applied = 0;
  long long adjusted_credits = 0;
  long long refunded_credits = 0;
};

// What `billing demo` prints of the operator's imports, one line each with a
// newline; empty when the demo had none.
std::string describe(const DemoOperatorImports& imports);

struct DemoResult
{
  std::string input_dir;   // DIR/input/
  std::string exports_dir; // DIR/exports/
  DemoOperatorImports operator_imports;
  VerifyReport verify;
};

// Runs the demo on `db` (created if missing, migrated here).
// REQUIRES: 1 <= days <= 366, accounts >= 1, events_per_day >= 0.
// Throws UsageError when the database already holds accounts, and what
// the night and the imports throw.
DemoResult run_demo(Database& db, const DemoRequest& request, const DemoObserver& observer);

} // namespace billing
