// `billing status`: what an operator asks first. Schema version, counts, the
// last completed date, the last runs with outcome and duration, the lock
// holder, rejects waiting and accounts whose sending is stopped.
#pragma once

#include "storage/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace billing {

struct RunSummary
{
  long long run_id = 0;
  std::string command;
  std::string holder;
  std::string started; // instant text
  std::optional<double> duration_s;
  std::string outcome;
  std::optional<long long> exit_code;
  std::string detail;
};

struct StatusReport
{
  std::string database;
  int schema_version = 0;
  std::optional<std::string> last_completed_date;
  std::optional<std::string> date_in_progress;
  long long plans = 0;
  long long accounts = 0;
  long long purchases = 0;
  long long usage_files = 0;
  long long usage_events = 0;
  long long usage_events_uncharged = 0;
  long long rejects_pending = 0;
  long long accounts_suspended = 0;
  long long payments_pending = 0;
  std::optional<std::string> lock_holder;
  std::vector<RunSummary> last_runs;
};

StatusReport read_status(Database& db);
std::string status_text(const StatusReport& r);
std::string status_json(const StatusReport& r);

} // namespace billing
