#include "reports/metrics.hpp"

#include "domain/calendar.hpp"
#include "ops/atomic_file.hpp"
#include "storage/day_store.hpp"

#include <cstdio>
#include <sstream>

namespace billing {

namespace {

class MetricsText
{
public:
  void family(const char* name, const char* type, const char* help)
  {
    m_out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void sample(const std::string& name_and_labels, double value)
  {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    m_out << name_and_labels << " " << buf << "\n";
  }
  std::string str() const { return m_out.str(); }

private:
  std::ostringstream m_out;
};

} // namespace

std::string render_metrics(Database& db, const RunFigures& run)
{
  MetricsText m;
  const double last_success_us = static_cast<double>(
    query_ll(db,
             "SELECT COALESCE(MAX(finished_us), 0) FROM runs WHERE outcome = 'ok' AND command LIKE "
             "'run%'"));
  m.family("billing_last_success_timestamp_seconds",
           "gauge",
           "Unix time of the end of the last successful run.");
  m.sample("billing_last_success_timestamp_seconds", last_success_us / 1e6);
  m.family("billing_run_duration_seconds", "gauge", "Wall time of the last run.");
  m.sample("billing_run_duration_seconds", run.duration_s);
  m.family("billing_run_exit_code", "gauge", "Exit code of the last run (0 is success).");
  m.sample("billing_run_exit_code", run.exit_code);
  const auto last = last_completed_date(db);
  m.family("billing_last_completed_business_date_seconds",
           "gauge",
           "Start (Unix time) of the last completed business date; 0 when none.");
  m.sample("billing_last_completed_business_date_seconds",
           last ? static_cast<double>(start_of(*last).us / 1'000'000) : 0.0);

  m.family("billing_usage_events_charged_total", "counter", "Usage events charged, by channel.");
  for (const char* channel : { "sms", "mms", "voice", "ringless" }) {
    m.sample(std::string("billing_usage_events_charged_total{channel=\"") + channel + "\"}",
             static_cast<double>(query_ll(db,
                                          "SELECT COUNT(*) FROM usage_events WHERE charged_date <= "
                                            + sql_quote(last ? format_date(*last) : "0000-00-00")
                                            + " AND channel = '" + channel + "'")));
  }
  struct Figure
  {
    const char* name;
    const char* type;
    const char* help;
    const char* query;
  };
  static constexpr Figure k_figures[] = {
    { "billing_credits_used_total",
      "counter",
      "Credits used by charged usage.",
      "SELECT COALESCE(SUM(used), 0) FROM reconciliation" },
    { "billing_credits_expired_total",
      "counter",
      "Credits expired.",
      "SELECT COALESCE(SUM(expired), 0) FROM reconciliation" },
    { "billing_rejected_lines_total",
      "counter",
      "Usage lines rejected at ingest.",
      "SELECT COUNT(*) FROM rejects" },
    { "billing_rejected_lines_pending",
      "gauge",
      "Rejected lines not retried successfully.",
      "SELECT COUNT(*) FROM rejects WHERE status = 'pending'" },
    { "billing_recharges_total",
      "counter",
      "Auto-recharges made (payment requests).",
      "SELECT COUNT(*) FROM payment_requests" },
    { "billing_accounts_suspended",
      "gauge",
      "Accounts whose sending is stopped.",
      "SELECT COUNT(*) FROM account_state WHERE sending_enabled = 0" },
  };
  for (const Figure& f : k_figures) {
    m.family(f.name, f.type, f.help);
    m.sample(f.name, static_cast<double>(query_ll(db, f.query)));
  }
  return m.str();
}

void write_metrics_file(Database& db, const RunFigures& run, const std::string& path)
{
  write_file_atomically(path, render_metrics(db, run), 0640);
}

} // namespace billing
