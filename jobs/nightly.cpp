#include "jobs/nightly.hpp"

#include "domain/calendar.hpp"
#include "jobs/close_accounts_job.hpp"
#include "jobs/complete_day_job.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <thread>

namespace billing {

std::vector<Date> dates_to_run(const RunRequest& request, std::optional<Date> last_completed)
{
  if (request.to >= request.today) {
    throw UsageError("business date " + format_date(request.to) + " is not over yet (today is "
                     + format_date(request.today) + " UTC); only past dates can be closed");
  }
  if (request.from && *request.from > request.to) {
    throw UsageError("--from " + format_date(*request.from) + " is after --to "
                     + format_date(request.to));
  }
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

constexpr auto k_shard_wait_max = std::chrono::hours(6);
constexpr auto k_shard_poll = std::chrono::milliseconds(200);

bool wait_for_other_shards(Database& db, Date date, const RunHooks& hooks, Job* complete_day)
{
  const auto give_up = std::chrono::steady_clock::now() + k_shard_wait_max;
  DayTotals unused;
  JobContext ctx{ db, date, DryRun::no, Shard{}, unused, {}, hooks.now };
  while (std::chrono::steady_clock::now() < give_up) {
    complete_day->run(ctx);
    if (day_status(db, date) == DayStatus::complete) {
      return true;
    }
    std::this_thread::sleep_for(k_shard_poll);
  }
  spdlog::warn("{}: other shards did not finish within the wait limit", format_date(date));
  return false;
}

} // namespace

RunOutcome run_nightly(Database& db, const RunRequest& request, const RunHooks& hooks)
{
  RunOutcome outcome;
  std::optional<Transaction> dry_run_tx;
  if (request.dry_run == DryRun::yes) {
    dry_run_tx.emplace(db); // rolled back when it goes out of scope
  }
  if (hooks.before_dates) {
    hooks.before_dates();
  }
  const auto last = last_completed_date(db);
  const Date first_requested = request.from.value_or(request.to);
  for (Date d = first_requested; last && d <= *last && d <= request.to; d = d.next()) {
    if (day_status(db, d) != DayStatus::complete) {
      continue; // before the first closed date: never run, and never will be
    }
    DateOutcome already;
    already.date = d;
    already.already_complete = true;
    outcome.dates.push_back(already);
  }
  CloseAccountsJob close_accounts;
  CompleteDayJob complete_day;
  std::vector<Job*> jobs = { &close_accounts, &complete_day };
  for (const Date date : dates_to_run(request, last)) {
    const auto started = std::chrono::steady_clock::now();
    DateOutcome result;
    result.date = date;
    if (request.dry_run == DryRun::no) {
      Transaction tx(db);
      mark_day_started(db, date, hooks.now());
      tx.commit();
    } else {
      mark_day_started(db, date, hooks.now());
    }
    JobContext ctx{ db,       date, request.dry_run, request.shard, result.totals, hooks.progress,
                    hooks.now };
    for (Job* job : jobs) {
      spdlog::debug("{}: {}", format_date(date), job->name());
      job->run(ctx);
    }
    result.completed = day_status(db, date) == DayStatus::complete;
    if (!result.completed && request.shard.count > 1 && request.dry_run == DryRun::no) {
      // The other shards are still closing this date; the next date needs it
      // complete, so wait for them (bounded), then complete it if they died
      // after their last chunk.
      result.completed = wait_for_other_shards(db, date, hooks, jobs.back());
    }
    result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
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

} // namespace billing
