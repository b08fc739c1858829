#include "reports/metrics.hpp"

#include "domain/calendar.hpp"
#include "ops/atomic_file.hpp"
#include "storage/status_store.hpp"

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
  const MetricsFigures f = read_metrics_figures(db);
  MetricsText m;
  m.family("billing_last_success_timestamp_seconds",
           "gauge",
           "Unix time of the end of the last successful run.");
  m.sample("billing_last_success_timestamp_seconds", static_cast<double>(f.last_success_us) / 1e6);
  m.family("billing_run_duration_seconds", "gauge", "Wall time of the last run.");
  m.sample("billing_run_duration_seconds", run.duration_s);
  m.family("billing_run_exit_code", "gauge", "Exit code of the last run (0 is success).");
  m.sample("billing_run_exit_code", run.exit_code);
  const auto last = f.last_completed_date ? parse_date(*f.last_completed_date) : std::nullopt;
  m.family("billing_last_completed_business_date_seconds",
           "gauge",
           "Start (Unix time) of the last completed business date; 0 when none.");
  m.sample("billing_last_completed_business_date_seconds",
           last ? static_cast<double>(start_of(*last).us / 1'000'000) : 0.0);

  m.family("billing_usage_events_charged_total", "counter", "Usage events charged, by channel.");
  for (size_t i = 0; i < std::size(k_metrics_channels); ++i) {
    m.sample(std::string("billing_usage_events_charged_total{channel=\"") + k_metrics_channels[i]
               + "\"}",
             static_cast<double>(f.events_charged[i]));
  }
  struct Figure
  {
    const char* name;
    const char* type;
    const char* help;
    long long value;
  };
  const Figure figures[] = {
    { "billing_credits_used_total", "counter", "Credits used by charged usage.", f.credits_used },
    { "billing_credits_expired_total", "counter", "Credits expired.", f.credits_expired },
    { "billing_rejected_lines_total",
      "counter",
      "Usage lines rejected at ingest.",
      f.rejected_lines },
    { "billing_rejected_lines_pending",
      "gauge",
      "Rejected lines not retried successfully.",
      f.rejected_lines_pending },
    { "billing_recharges_total",
      "counter",
      "Auto-recharges made (payment requests).",
      f.recharges },
    { "billing_accounts_suspended",
      "gauge",
      "Accounts whose sending is stopped.",
      f.accounts_suspended },
  };
  for (const Figure& fig : figures) {
    m.family(fig.name, fig.type, fig.help);
    m.sample(fig.name, static_cast<double>(fig.value));
  }
  return m.str();
}

void write_metrics_file(Database& db, const RunFigures& run, const std::string& path)
{
  write_file_atomically(path, render_metrics(db, run), 0640);
}

} // namespace billing
