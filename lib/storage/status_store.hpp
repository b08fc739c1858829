// The reads behind `billing status` (reports/status.hpp) and the metrics
// textfile (reports/metrics.hpp): counts and figures of the books, as values.
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
  std::string tzdata_version; // of the system tzdata the zones come from (SPEC 16)
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

// Everything `billing status` shows, read in one pass of small queries.
StatusReport read_status(Database& db);

// The books' figures the metrics textfile carries.
struct MetricsFigures
{
  long long last_success_us = 0; // end of the last successful run; 0 when none
  std::optional<std::string> last_completed_date;
  // Of the closed dates, from their business_days figures (complete_day):
  // charged usage events by channel, in k_metrics_channels' order, and the
  // credits used and expired.
  std::vector<long long> events_charged;
  long long credits_used = 0;
  long long credits_expired = 0;
  long long rejected_lines = 0;
  long long rejected_lines_pending = 0;
  long long recharges = 0;
  long long accounts_suspended = 0;
};

inline constexpr const char* k_metrics_channels[] = { "sms", "mms", "voice", "ringless" };

MetricsFigures read_metrics_figures(Database& db);

} // namespace billing
