#include "demo/demo.hpp"

#include "demo/payment_provider.hpp"
#include "domain/calendar.hpp"
#include "ingest/csv_reader.hpp"
#include "ops/atomic_file.hpp"
#include "ops/clock.hpp"
#include "reports/exports.hpp"
#include "storage/figures.hpp"
#include "storage/imports.hpp"
#include "storage/migrations.hpp"
#include "storage/payments.hpp"
#include "storage/run_lock.hpp"
#include "util/assert.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace billing {

namespace {

void write_export_file(Database& db, ExportKind kind, Date from, Date to, const std::string& path)
{
  ExportRequest request;
  request.kind = kind;
  if (kind == ExportKind::reconciliation || kind == ExportKind::charges
      || kind == ExportKind::adjustments) {
    request.from = from;
    request.to = to;
  }
  std::ostringstream buffer;
  write_export(db, request, buffer);
  write_file_atomically(path, buffer.str());
}

// The empty database migrated and loaded, as `billing migrate` and `billing
// import` would.
void load(Database& db, const DemoRequest& request, const WorkloadFiles& files)
{
  RunLock lock(db, request.holder);
  migrate(db);
  if (account_count(db) > 0) {
    throw UsageError("demo: the database " + db.url().display()
                     + " already holds accounts; the demo needs an empty one");
  }
  import_csv(db, ImportKind::plans, files.plans, now_utc());
  import_csv(db, ImportKind::accounts, files.accounts, now_utc());
  import_csv(db, ImportKind::purchases, files.purchases, now_utc());
}

ImportKind import_kind_of(OperatorFileKind kind)
{
  switch (kind) {
    case OperatorFileKind::rates:
      return ImportKind::rates;
    case OperatorFileKind::changes:
      return ImportKind::changes;
    case OperatorFileKind::adjustments:
      return ImportKind::adjustments;
  }
  throw std::logic_error("unknown operator file kind");
}

// The operator files of the night of `night`, imported as `billing import
// KIND FILE` would (rejected rows logged as it logs them), added to `imports`.
void import_operator_files(Database& db,
                           const std::string& holder,
                           const std::vector<OperatorFile>& files,
                           Date night,
                           DemoOperatorImports& imports)
{
  for (const OperatorFile& file : files) {
    if (file.night != night) {
      continue;
    }
    RunLock lock(db, holder);
    const ImportReport report = import_csv(db, import_kind_of(file.kind), file.path, now_utc());
    for (const ImportRowReject& reject : report.rejected) {
      spdlog::warn("{}:{}: rejected: {}", file.path, reject.line, reject.reason);
    }
    DemoOperatorImports::Totals& totals = imports.totals[static_cast<std::size_t>(file.kind)];
    ++totals.files;
    totals.rows += report.rows;
    totals.inserted += report.inserted;
    totals.unchanged += report.unchanged;
    totals.rejected += static_cast<long long>(report.rejected.size());
  }
}

// The data records of an export file, each as its columns by header name;
// `each` gets a lookup that returns "" for a column the file lacks.
template<class Each>
void for_each_export_row(const std::string& path, const Each& each)
{
  std::ifstream in(path, std::ios::binary);
  CsvReader reader(in);
  CsvRecord header;
  if (!reader.next(header)) {
    return;
  }
  CsvRecord record;
  while (reader.next(record)) {
    const auto cell = [&](std::string_view column) -> std::string_view {
      const auto at = std::find(header.fields.begin(), header.fields.end(), column);
      const auto i = static_cast<std::size_t>(at - header.fields.begin());
      return at == header.fields.end() || i >= record.fields.size() ? std::string_view()
                                                                    : record.fields[i];
    };
    each(cell);
  }
}

long long number_of(std::string_view text)
{
  long long value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// What the exports of the usage days show of the adjustments.
void read_adjustment_figures(const std::string& exports, DemoOperatorImports& imports)
{
  for_each_export_row(exports + "adjustments.csv", [&](const auto& cell) {
    ++imports.adjustments_applied;
    if (cell("kind") == "refund") {
      imports.refunded_credits += number_of(cell("credits"));
    }
  });
  for_each_export_row(exports + "reconciliation.csv", [&](const auto& cell) {
    imports.adjusted_credits += number_of(cell("adjusted"));
  });
}

// The provider's answer to every pending request, imported as `billing
// payments import` would.
void answer_payments(Database& db, const std::string& holder, const std::string& results_path)
{
  RunLock lock(db, holder);
  write_file_atomically(results_path,
                        simulated_payment_results(payment_request_keys(db, "pending")));
  import_payment_results(db, results_path, now_utc());
}

} // namespace

DemoResult run_demo(Database& db, const DemoRequest& request, const DemoObserver& observer)
{
  BILLING_REQUIRE(request.days >= 1 && request.days <= 366);
  WorkloadSpec spec;
  spec.seed = request.seed;
  spec.accounts = request.accounts;
  spec.days = request.days;
  spec.events_per_day = request.events_per_day;
  spec.zoned_share = request.zoned_share;
  spec.operator_files = request.operator_files;
  spec.first_date = Date{ request.today.days - request.days };
  DemoResult result;
  result.input_dir = request.out_dir + "/input/";
  result.exports_dir = request.out_dir + "/exports/";
  std::filesystem::create_directories(result.exports_dir);
  const WorkloadFiles files = generate_workload(spec, request.out_dir + "/input");
  load(db, request, files);
  result.operator_imports.counts = files.operator_counts;
  if (observer.loaded) {
    observer.loaded(files);
  }

  NightRequest night;
  night.holder = request.holder;
  night.run.today = request.today;
  // The accounts joined before the usage starts: close those quiet dates
  // first, as the nightly timer would have.
  const auto first_account = first_account_date(db);
  if (first_account && *first_account < spec.first_date) {
    night.run.from = *first_account;
    night.run.to = spec.first_date.prev();
    const NightReport quiet = run_night(db, night);
    if (observer.quiet_closed) {
      observer.quiet_closed(
        *first_account, spec.first_date.prev(), static_cast<long long>(quiet.dates.size()));
    }
  }
  for (int i = 0; i < spec.days; ++i) {
    const Date date{ spec.first_date.days + i };
    // The night after `date`: the operator's files for it go in (the date
    // before is closed), the platform delivers its log, the run closes the
    // date, the provider answers the payment requests.
    import_operator_files(db, request.holder, files.operator_files, date, result.operator_imports);
    DemoNight result_of_night;
    {
      RunLock lock(db, request.holder);
      result_of_night.ingest = ingest_usage_file(db, files.usage_by_day[i], now_utc());
    }
    night.run.from = date;
    night.run.to = date;
    result_of_night.dates = run_night(db, night).dates;
    answer_payments(
      db, request.holder, result.input_dir + "payment-results-" + format_date(date) + ".csv");
    result_of_night.failed_payments = payment_request_count(db, date, "failed");
    if (observer.night) {
      observer.night(result_of_night);
    }
  }

  const Date last = request.today.prev();
  const std::string& exports = result.exports_dir;
  write_export_file(
    db, ExportKind::reconciliation, spec.first_date, last, exports + "reconciliation.csv");
  write_export_file(db, ExportKind::charges, spec.first_date, last, exports + "charges.csv");
  write_export_file(db, ExportKind::rejects, spec.first_date, last, exports + "rejects.csv");
  write_export_file(db, ExportKind::payments, spec.first_date, last, exports + "payments.csv");
  write_export_file(
    db, ExportKind::adjustments, spec.first_date, last, exports + "adjustments.csv");
  // Every date the books hold values for (accounts start before the usage).
  write_export_file(db, ExportKind::lots, spec.first_date, last, exports + "lots.csv");
  write_export_file(db, ExportKind::revenue, spec.first_date, last, exports + "revenue.csv");
  if (!files.operator_files.empty()) {
    read_adjustment_figures(exports, result.operator_imports);
  }
  result.verify = verify_books(db);
  return result;
}

std::string describe(const DemoOperatorImports& imports)
{
  const OperatorFileCounts& c = imports.counts;
  const auto& totals = imports.totals;
  if (totals[0].files + totals[1].files + totals[2].files == 0) {
    return {};
  }
  const auto count = [](long long n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
  };
  const auto imported = [&](OperatorFileKind kind) {
    const DemoOperatorImports::Totals& t = totals[static_cast<std::size_t>(kind)];
    return count(t.rows, "row", "rows") + " in " + count(t.files, "file", "files") + ", "
           + std::to_string(t.inserted) + " inserted, " + std::to_string(t.rejected) + " rejected";
  };
  std::string text = "operator imports (before the night's log, as billing import would):\n";
  text += "  changes:      " + imported(OperatorFileKind::changes) + ": "
          + count(c.upgrades, "upgrade", "upgrades") + ", "
          + count(c.downgrades, "downgrade", "downgrades")
          + (c.downgrades_on_reset_date > 0 ? " (on its reset date)" : "") + ", "
          + count(c.cancellations, "cancellation", "cancellations") + ", "
          + count(c.reactivations, "reactivation", "reactivations") + "\n";
  text += "  adjustments:  " + imported(OperatorFileKind::adjustments) + ": "
          + count(c.grants, "grant", "grants") + " (" + std::to_string(c.late_grants) + " late), "
          + count(c.debits, "debit", "debits") + ", " + count(c.refunds, "refund", "refunds")
          + "\n";
  text += "                applied " + std::to_string(imports.adjustments_applied)
          + " (exports/adjustments.csv): adjusted " + (imports.adjusted_credits > 0 ? "+" : "")
          + std::to_string(imports.adjusted_credits) + " credits, refunds revoked "
          + std::to_string(imports.refunded_credits) + " credits\n";
  if (c.price_change) {
    const RateRule& rule = *c.price_change;
    text += "  price change: " + std::string(to_string(rule.channel)) + " from "
            + format_date(rule.effective_from) + ": "
            + count(rule.credits_per_unit, "credit", "credits") + " a unit (was "
            + std::to_string(c.price_change_was_credits_per_unit) + "), "
            + imported(OperatorFileKind::rates) + "\n";
  }
  return text;
}

} // namespace billing
