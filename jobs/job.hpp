// The nightly jobs: each closes one part of a business date, all with the
// same small interface, and the orchestrator (jobs/nightly.hpp) runs them in
// order. A job is idempotent: run again after a crash at any point, it
// continues where the committed work ends and gives the same database.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"
#include "storage/day_store.hpp"

#include <functional>
#include <string_view>

namespace billing {

enum class DryRun
{
  no,
  yes
};

// Called as work advances: done, total (0 when unknown).
using ProgressFn = std::function<void(long long done, long long total)>;

struct JobContext
{
  Database& db;
  Date date;
  DryRun dry_run = DryRun::no;
  Shard shard;
  DayTotals& totals;
  ProgressFn progress;
  // The wall clock of the run, for bookkeeping columns only (never for the
  // books themselves, which depend on the date alone).
  std::function<Instant()> now;
  // Set by CompleteDayJob when the date is complete (by this run or before),
  // so the orchestrator need not read the date's status again.
  bool date_complete = false;
};

class Job
{
public:
  virtual ~Job() = default;
  virtual std::string_view name() const = 0;
  // Does the job's work for ctx.date. Infrastructure failures throw.
  virtual void run(JobContext& ctx) = 0;
};

} // namespace billing
