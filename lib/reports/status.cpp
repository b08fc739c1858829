#include "reports/status.hpp"

#include "domain/calendar.hpp"
#include "ops/logging.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace billing {

namespace {

// The value, or null when absent.
template<typename T>
nlohmann::ordered_json json_opt(const std::optional<T>& v)
{
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

} // namespace

std::string status_text(const StatusReport& r)
{
  std::ostringstream out;
  out << "database:             " << r.database << "\n"
      << "schema version:       " << r.schema_version << "\n"
      << "tzdata version:       " << r.tzdata_version << "\n"
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
  out["tzdata_version"] = r.tzdata_version;
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
