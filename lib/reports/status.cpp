#include "reports/status.hpp"

#include "domain/calendar.hpp"
#include "ops/logging.hpp"
#include "storage/migrations.hpp"
#include "storage/run_lock.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace billing {

namespace {

constexpr int k_runs_shown = 5;

// The value, or null when absent.
template<typename T>
nlohmann::ordered_json json_opt(const std::optional<T>& v)
{
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

} // namespace

StatusReport read_status(Database& db)
{
  StatusReport r;
  r.database = db.url().display();
  r.schema_version = current_schema_version(db);
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
  r.usage_events_uncharged = query_ll(db,
                                      "SELECT COUNT(*) FROM usage_events WHERE charged_date > "
                                        + sql_quote(r.last_completed_date.value_or("0000-00-00")));
  r.rejects_pending = query_ll(db, "SELECT COUNT(*) FROM rejects WHERE status = 'pending'");
  r.accounts_suspended =
    query_ll(db, "SELECT COUNT(*) FROM account_state WHERE sending_enabled = 0");
  r.payments_pending =
    query_ll(db, "SELECT COUNT(*) FROM payment_requests WHERE status = 'pending'");
  r.lock_holder = lock_holder(db);
  soci::rowset<soci::row> runs =
    db.sql().prepare << "SELECT run_id, command, holder, started_us, finished_us, outcome, "
                        "exit_code, detail FROM runs ORDER BY run_id DESC LIMIT "
                          + std::to_string(k_runs_shown);
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

std::string status_text(const StatusReport& r)
{
  std::ostringstream out;
  out << "database:             " << r.database << "\n"
      << "schema version:       " << r.schema_version << "\n"
      << "last completed date:  " << r.last_completed_date.value_or("none yet") << "\n";
  if (r.date_in_progress) {
    out << "date in progress:     " << *r.date_in_progress << " (resumes on the next run)\n";
  }
  out << "lock:                 " << (r.lock_holder ? "held by " + *r.lock_holder : "free") << "\n"
      << "plans:                " << r.plans << "\n"
      << "accounts:             " << r.accounts << "\n"
      << "purchases:            " << r.purchases << "\n"
      << "usage files:          " << r.usage_files << "\n"
      << "usage events:         " << r.usage_events << " (" << r.usage_events_uncharged
      << " not charged yet)\n"
      << "rejects pending:      " << r.rejects_pending << "\n"
      << "accounts suspended:   " << r.accounts_suspended << "\n"
      << "payments pending:     " << r.payments_pending << "\n";
  if (!r.last_runs.empty()) {
    out << "last runs:\n";
    for (const auto& s : r.last_runs) {
      out << "  #" << s.run_id << " " << s.started << " " << s.command << " " << s.outcome;
      if (s.duration_s) {
        char buf[32];
        std::snprintf(buf, sizeof buf, " %.1fs", *s.duration_s);
        out << buf;
      }
      if (!s.detail.empty()) {
        out << " (" << s.detail << ")";
      }
      out << "\n";
    }
  }
  return out.str();
}

std::string status_json(const StatusReport& r)
{
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const auto& s : r.last_runs) {
    nlohmann::ordered_json run;
    run["run_id"] = s.run_id;
    run["command"] = s.command;
    run["holder"] = s.holder;
    run["started"] = s.started;
    // Seconds to the millisecond, as a number.
    std::optional<double> duration_s;
    if (s.duration_s) {
      duration_s = std::round(*s.duration_s * 1000) / 1000;
    }
    run["duration_s"] = json_opt(duration_s);
    run["outcome"] = s.outcome;
    run["exit_code"] = json_opt(s.exit_code);
    run["detail"] = s.detail;
    runs.push_back(std::move(run));
  }
  nlohmann::ordered_json out;
  out["database"] = r.database;
  out["schema_version"] = r.schema_version;
  out["last_completed_date"] = json_opt(r.last_completed_date);
  out["date_in_progress"] = json_opt(r.date_in_progress);
  out["lock_holder"] = json_opt(r.lock_holder);
  out["plans"] = r.plans;
  out["accounts"] = r.accounts;
  out["purchases"] = r.purchases;
  out["usage_files"] = r.usage_files;
  out["usage_events"] = r.usage_events;
  out["usage_events_uncharged"] = r.usage_events_uncharged;
  out["rejects_pending"] = r.rejects_pending;
  out["accounts_suspended"] = r.accounts_suspended;
  out["payments_pending"] = r.payments_pending;
  out["last_runs"] = std::move(runs);
  return json_text(out) + "\n";
}

} // namespace billing
