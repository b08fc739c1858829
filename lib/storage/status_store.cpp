#include "storage/status_store.hpp"

#include "domain/calendar.hpp"
#include "ops/time_zones.hpp"
#include "storage/day_store.hpp"
#include "storage/migrations.hpp"
#include "storage/run_lock.hpp"

namespace billing {

namespace {

constexpr long long k_runs_shown = 5;

} // namespace

StatusReport read_status(Database& db)
{
  StatusReport r;
  r.database = db.url().display();
  r.schema_version = current_schema_version(db);
  r.tzdata_version = tzdata_version();
  soci::rowset<soci::row> days = db.sql().prepare
                                 << "SELECT business_date, status FROM business_days "
                                    "ORDER BY business_date DESC";
  for (const auto& row : days) {
    const std::string date = as_str(row, 0);
    if (as_str(row, 1) == "complete") {
      r.last_completed_date = date;
      break;
    }
    r.date_in_progress = date;
  }
  r.plans = query_ll(db, "SELECT COUNT(*) FROM plans");
  r.accounts = query_ll(db, "SELECT COUNT(*) FROM accounts");
  r.purchases = query_ll(db, "SELECT COUNT(*) FROM purchases");
  r.usage_files = query_ll(db, "SELECT COUNT(*) FROM usage_files");
  r.usage_events = query_ll(db, "SELECT COUNT(*) FROM usage_events");
  // Events whose charge date is not closed yet.
  const std::string last = r.last_completed_date.value_or("0000-00-00");
  r.usage_events_uncharged =
    query_ll(db, "SELECT COUNT(*) FROM usage_events WHERE charged_date > :last", last);
  r.rejects_pending = query_ll(db, "SELECT COUNT(*) FROM rejects WHERE status = 'pending'");
  r.accounts_suspended =
    query_ll(db, "SELECT COUNT(*) FROM account_state WHERE sending_enabled = 0");
  r.payments_pending =
    query_ll(db, "SELECT COUNT(*) FROM payment_requests WHERE status = 'pending'");
  r.lock_holder = lock_holder(db);
  soci::rowset<soci::row> runs =
    (db.sql().prepare << "SELECT run_id, command, holder, started_us, finished_us, outcome, "
                         "exit_code, detail FROM runs ORDER BY run_id DESC LIMIT :shown",
     soci::use(k_runs_shown));
  for (const auto& row : runs) {
    RunSummary s;
    s.run_id = as_ll(row, 0);
    s.command = as_str(row, 1);
    s.holder = as_str(row, 2);
    const long long started = as_ll(row, 3);
    s.started = format_instant(Instant{ started / 1'000'000 * 1'000'000 });
    if (const auto finished = as_opt_ll(row, 4)) {
      s.duration_s = static_cast<double>(*finished - started) / 1e6;
    }
    s.outcome = as_str(row, 5);
    s.exit_code = as_opt_ll(row, 6);
    s.detail = as_str(row, 7);
    r.last_runs.push_back(s);
  }
  return r;
}

MetricsFigures read_metrics_figures(Database& db)
{
  MetricsFigures f;
  f.last_success_us = query_ll(db,
                               "SELECT COALESCE(MAX(finished_us), 0) FROM runs WHERE outcome = "
                               "'ok' AND command LIKE 'run%'");
  const auto last = last_completed_date(db);
  if (last) {
    f.last_completed_date = format_date(*last);
  }
  // Sums over the closed dates' own figures (complete_day): one row a date,
  // never the history of reconciliation rows and events.
  soci::rowset<soci::row> rows = db.sql().prepare
                                 << "SELECT COALESCE(SUM(events_sms), 0), "
                                    "COALESCE(SUM(events_mms), 0), COALESCE(SUM(events_voice), "
                                    "0), COALESCE(SUM(events_ringless), 0), "
                                    "COALESCE(SUM(credits_used), 0), "
                                    "COALESCE(SUM(credits_expired), 0) FROM business_days WHERE "
                                    "status = 'complete'";
  for (const auto& r : rows) {
    for (size_t i = 0; i < std::size(k_metrics_channels); ++i) {
      f.events_charged.push_back(as_ll(r, i));
    }
    f.credits_used = as_ll(r, 4);
    f.credits_expired = as_ll(r, 5);
  }
  f.rejected_lines = query_ll(db, "SELECT COUNT(*) FROM rejects");
  f.rejected_lines_pending = query_ll(db, "SELECT COUNT(*) FROM rejects WHERE status = 'pending'");
  f.recharges = query_ll(db, "SELECT COUNT(*) FROM payment_requests");
  f.accounts_suspended =
    query_ll(db, "SELECT COUNT(*) FROM account_state WHERE sending_enabled = 0");
  return f;
}

} // namespace billing
