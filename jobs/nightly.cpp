#include "jobs/nightly.hpp"

#include "domain/calendar.hpp"
#include "jobs/close_accounts_job.hpp"
#include "jobs/complete_day_job.hpp"
#include "jobs/tx_scope.hpp"
#include "reports/metrics.hpp"
#include "storage/run_lock.hpp"
#include "storage/run_log.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <thread>

namespace billing {

void check_run_request(const RunRequest& request)
{
  if (request.to >= request.today) {
    throw UsageError("business date " + format_date(request.to) + " is not over yet (today is "
                     + format_date(request.today) + " UTC); only past dates can be closed");
  }
  if (request.from && *request.from > request.to) {
    throw UsageError("--from " + format_date(*request.from) + " is after --to "
                     + format_date(request.to));
  }
}

std::vector<Date> dates_to_run(const RunRequest& request, std::optional<Date> last_completed)
{
  check_run_request(request);
  // Catch-up: everything after the last completed date; with none yet, the
  // requested start (SPEC 13.12: --date D alone).
  const Date start = last_completed ? last_completed->next() : request.from.value_or(request.to);
  std::vector<Date> out;
  for (Date d = start; d <= request.to; d = d.next()) {
    out.push_back(d);
  }
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

// How long a shard worker waits for the other shards to close a date. Below
// the units' TimeoutStartSec (4 h, systemd/billing-shard@.service), so a
// worker gives up and says so before systemd kills it.
constexpr auto k_shard_wait_max = std::chrono::hours(3);
constexpr auto k_shard_poll = std::chrono::milliseconds(200);

bool wait_for_other_shards(Database& db, Date date, const RunHooks& hooks, Job* complete_day)
{
  const auto give_up = Clock::now() + k_shard_wait_max;
  DayTotals unused;
  JobContext ctx{ db, date, DryRun::no, Shard{}, unused, {}, hooks.now };
  while (Clock::now() < give_up) {
    complete_day->run(ctx);
    if (ctx.date_complete) {
      return true;
    }
    std::this_thread::sleep_for(k_shard_poll);
  }
  spdlog::warn("{}: other shards did not finish within the wait limit", format_date(date));
  return false;
}

// The dates of the request that were closed before it: reported, not run.
std::vector<DateOutcome> already_complete(Database& db,
                                          const RunRequest& request,
                                          std::optional<Date> last)
{
  std::vector<DateOutcome> out;
  const Date first_requested = request.from.value_or(request.to);
  for (Date d = first_requested; last && d <= *last && d <= request.to; d = d.next()) {
    if (day_status(db, d) != DayStatus::complete) {
      continue; // before the first closed date: never run, and never will be
    }
    DateOutcome already;
    already.date = d;
    already.already_complete = true;
    out.push_back(already);
  }
  return out;
}

} // namespace

RunOutcome run_nightly(Database& db, const RunRequest& request, const RunHooks& hooks)
{
  std::optional<Transaction> dry_run_tx;
  if (request.dry_run == DryRun::yes) {
    dry_run_tx.emplace(db); // rolled back when it goes out of scope
  }
  const auto last = last_completed_date(db);
  RunOutcome outcome;
  outcome.dates = already_complete(db, request, last);
  CloseAccountsJob close_accounts;
  CompleteDayJob complete_day;
  std::vector<Job*> jobs = { &close_accounts, &complete_day };
  for (const Date date : dates_to_run(request, last)) {
    const auto started = Clock::now();
    DateOutcome result;
    result.date = date;
    {
      TxScope tx(db, request.dry_run);
      mark_day_started(db, date, hooks.now());
      tx.commit();
    }
    JobContext ctx{ db,       date, request.dry_run, request.shard, result.totals, hooks.progress,
                    hooks.now };
    for (Job* job : jobs) {
      spdlog::debug("{}: {}", format_date(date), job->name());
      job->run(ctx);
    }
    result.completed = ctx.date_complete;
    if (!result.completed && request.shard.count > 1 && request.dry_run == DryRun::no) {
      // The other shards are still closing this date; the next date needs it
      // complete, so wait for them (bounded), then complete it if they died
      // after their last chunk.
      result.completed = wait_for_other_shards(db, date, hooks, jobs.back());
    }
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    spdlog::info("{}: {} accounts, {} usage events ({} late), {} credits used, {} recharges{}",
                 format_date(date),
                 result.totals.accounts,
                 result.totals.usage_events,
                 result.totals.late_events,
                 result.totals.credits_used,
                 result.totals.recharges,
                 result.completed ? "" : "; other shards still open");
    outcome.dates.push_back(result);
    if (!result.completed) {
      break; // the next date needs this one complete
    }
  }
  return outcome;
}

std::string run_lock_name(Shard shard)
{
  if (shard.count <= 1) {
    return "billing";
  }
  return "billing-shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
}

namespace {

// The run record's detail: what the run closed.
std::string closed_detail(const std::vector<DateOutcome>& dates)
{
  std::vector<Date> closed;
  for (const auto& d : dates) {
    if (!d.already_complete) {
      closed.push_back(d.date);
    }
  }
  if (closed.empty()) {
    return "nothing to do";
  }
  if (closed.size() == 1) {
    return "closed " + format_date(closed.front());
  }
  return "closed " + format_date(closed.front()) + ".." + format_date(closed.back()) + " ("
         + std::to_string(closed.size()) + " dates)";
}

// Metrics are written after every real run, failed ones included; a failure
// to write them is logged and does not fail the run.
void write_metrics(Database& db, const NightRequest& request, Clock::time_point started, int code)
{
  if (!request.metrics_path) {
    return;
  }
  try {
    RunFigures figures;
    figures.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
    figures.exit_code = code;
    write_metrics_file(db, figures, *request.metrics_path);
  } catch (const std::exception& e) {
    spdlog::warn("cannot write metrics to {}: {}", *request.metrics_path, e.what());
  }
}

int exit_code_of(const std::exception& e)
{
  const auto* known = dynamic_cast<const BillingError*>(&e);
  return static_cast<int>(known ? known->code() : ExitCode::internal);
}

// The inbox of a real run, before its dates.
std::optional<InboxSummary> ingest_configured_inbox(Database& db, const NightRequest& request)
{
  if (!request.inbox) {
    return std::nullopt;
  }
  if (request.run.shard.count > 1) {
    spdlog::info("shard worker: the inbox is not ingested here; run `billing ingest` before "
                 "starting the shard workers");
    return std::nullopt;
  }
  return ingest_inbox(db, *request.inbox, request.now());
}

} // namespace

NightReport run_night(Database& db, const NightRequest& request)
{
  check_run_request(request.run); // refused before it starts: no lock, record or metrics
  RunLock lock(db, request.holder, run_lock_name(request.run.shard));
  const RunHooks hooks{ request.progress, request.now };
  NightReport report;
  if (request.run.dry_run == DryRun::yes) {
    // The whole dry run is run_nightly's rolled-back transaction. It is no
    // run of the books, so it has no run record and no metrics; the inbox is
    // not ingested (ingest commits file by file).
    if (request.inbox) {
      spdlog::info("dry run: the inbox {} is not ingested", *request.inbox);
    }
    report.dates = run_nightly(db, request.run, hooks).dates;
    return report;
  }
  const auto started = Clock::now();
  const long long run_id =
    open_run(db, "run " + format_date(request.run.to), request.holder, request.now());
  try {
    report.inbox = ingest_configured_inbox(db, request);
    report.dates = run_nightly(db, request.run, hooks).dates;
    close_run(db, run_id, "ok", 0, closed_detail(report.dates), request.now());
  } catch (const std::exception& e) {
    const int code = exit_code_of(e);
    try {
      close_run(db, run_id, "failed", code, e.what(), request.now());
    } catch (...) {
      // The database may be gone; the next holder marks the run interrupted.
    }
    write_metrics(db, request, started, code);
    throw;
  }
  write_metrics(db, request, started, 0);
  return report;
}

} // namespace billing
