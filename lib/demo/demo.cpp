#include "demo/demo.hpp"

#include "demo/payment_provider.hpp"
#include "domain/calendar.hpp"
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

#include <filesystem>
#include <sstream>

namespace billing {

namespace {

void write_export_file(Database& db, ExportKind kind, Date from, Date to, const std::string& path)
{
  ExportRequest request;
  request.kind = kind;
  if (kind == ExportKind::reconciliation || kind == ExportKind::charges) {
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
  spec.first_date = Date{ request.today.days - request.days };
  DemoResult result;
  result.input_dir = request.out_dir + "/input/";
  result.exports_dir = request.out_dir + "/exports/";
  std::filesystem::create_directories(result.exports_dir);
  const WorkloadFiles files = generate_workload(spec, request.out_dir + "/input");
  load(db, request, files);
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
    // The night after `date`: the platform delivers its log, the run closes
    // the date, the provider answers the payment requests.
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
  result.verify = verify_books(db);
  return result;
}

} // namespace billing
