// demo: a complete nightly run on generated data; generate: the same data
// alone, for benchmarks and tests. Makes plans, accounts,
// purchases and several days of usage logs (with bad lines and late events),
// then, day by day as the timer would, ingests the day's log, closes the date
// and feeds back the payment provider's results (one card in ten declined),
// and finally verifies the books and writes the exports.
#include "cli/command_support.hpp"
#include "domain/calendar.hpp"
#include "jobs/ingest_inbox.hpp"
#include "jobs/nightly.hpp"
#include "ops/atomic_file.hpp"
#include "ops/clock.hpp"
#include "ops/workload.hpp"
#include "reports/exports.hpp"
#include "storage/imports.hpp"
#include "storage/migrations.hpp"
#include "storage/payments.hpp"
#include "storage/run_lock.hpp"
#include "storage/verify.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <sstream>

namespace billing {

namespace {

constexpr int k_failed_payment_every = 10;

// The payment provider of the demo: succeeds every pending request but
// every tenth, which fails as a declined card.
std::string simulated_payment_results(Database& db)
{
  std::ostringstream pending;
  ExportRequest request;
  request.kind = ExportKind::payments;
  request.status = "pending";
  write_export(db, request, pending);
  std::istringstream lines(pending.str());
  std::string line;
  std::getline(lines, line); // header
  std::string out = "idempotency_key,status,provider_ref,failure_reason\n";
  long long n = 0;
  while (std::getline(lines, line)) {
    const std::string key = line.substr(0, line.find(','));
    ++n;
    if (n % k_failed_payment_every == 0) {
      out += key + ",failed,,card_declined\n";
    } else {
      out += key + ",succeeded,ch_demo_" + std::to_string(n) + ",\n";
    }
  }
  return out;
}

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

} // namespace

int cmd_demo(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("out",
                        po::value<std::string>()->default_value("demo-out"),
                        "folder for the generated inputs and the exports")(
    "accounts", po::value<long long>()->default_value(3000), "accounts to generate")(
    "days", po::value<int>()->default_value(7), "days of usage, ending yesterday")(
    "events-per-day", po::value<long long>()->default_value(30000), "usage lines per day")(
    "seed", po::value<unsigned long long>()->default_value(42), "generator seed");
  const auto vm =
    parse_command(ctx, args, "billing demo [--out DIR] [--accounts N] [--days N]", options);
  if (!vm) {
    return 0;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string out = (*vm)["out"].as<std::string>();
  const Date today = date_of(now_utc());
  WorkloadSpec spec;
  spec.seed = (*vm)["seed"].as<unsigned long long>();
  spec.accounts = (*vm)["accounts"].as<long long>();
  spec.days = (*vm)["days"].as<int>();
  spec.events_per_day = (*vm)["events-per-day"].as<long long>();
  if (spec.days < 1 || spec.days > 366 || spec.accounts < 1 || spec.events_per_day < 0) {
    throw UsageError("demo: --days must be 1..366, --accounts >= 1, --events-per-day >= 0");
  }
  spec.first_date = Date{ today.days - spec.days };
  std::filesystem::create_directories(out + "/exports");
  const WorkloadFiles files = generate_workload(spec, out + "/input");

  auto db = ctx.open_database(SchemaCheck::none, CreateIfMissing::yes);
  RunLock lock(*db, process_identity() + " demo");
  migrate(*db);
  if (query_ll(*db, "SELECT COUNT(*) FROM accounts") > 0) {
    throw UsageError("demo: the database " + db->url().display()
                     + " already holds accounts; the demo needs an empty one");
  }
  import_csv(*db, ImportKind::plans, files.plans, now_utc());
  import_csv(*db, ImportKind::accounts, files.accounts, now_utc());
  import_csv(*db, ImportKind::purchases, files.purchases, now_utc());

  *ctx.out << "billing demo: " << spec.accounts << " accounts, " << spec.days << " days of "
           << spec.events_per_day << " usage lines (" << files.bad_lines << " of them bad)\n\n";
  RunHooks hooks;
  hooks.now = now_utc;
  // The accounts joined before the usage starts: close those quiet dates
  // first, as the nightly timer would have.
  std::string first_anchor_text;
  db->sql() << "SELECT MIN(cycle_anchor) FROM accounts", soci::into(first_anchor_text);
  const auto first_anchor = parse_date(first_anchor_text);
  if (first_anchor && *first_anchor < spec.first_date) {
    RunRequest request;
    request.from = *first_anchor;
    request.to = spec.first_date.prev();
    request.today = today;
    const RunOutcome quiet = run_nightly(*db, request, hooks);
    *ctx.out << format_date(*first_anchor) << " .. " << format_date(spec.first_date.prev()) << ": "
             << quiet.dates.size() << " dates before the usage starts closed\n";
  }
  *ctx.out << "date        lines  accepted  dup  rejected  late  used_credits  expired  "
              "recharges  suspended  failed_payments\n";
  for (int i = 0; i < spec.days; ++i) {
    const Date date{ spec.first_date.days + i };
    // The night after `date`: the platform delivers its log, the run closes
    // the date, the provider answers the payment requests.
    const IngestReport ingest = ingest_usage_file(*db, files.usage_by_day[i], now_utc());
    RunRequest request;
    request.to = date;
    request.from = date;
    request.today = today;
    const RunOutcome outcome = run_nightly(*db, request, hooks);
    const std::string results_path = out + "/input/payment-results-" + format_date(date) + ".csv";
    write_file_atomically(results_path, simulated_payment_results(*db));
    const ImportReport payments = import_payment_results(*db, results_path, now_utc());
    const long long failed =
      query_ll(*db,
               "SELECT COUNT(*) FROM payment_requests WHERE status = 'failed' AND business_date = "
                 + sql_quote(format_date(date)));
    for (const DateOutcome& d : outcome.dates) {
      char line[256];
      std::snprintf(
        line,
        sizeof line,
        "%-10s  %6lld  %8lld  %3lld  %8lld  %4lld  %12lld  %7lld  %9lld  %9lld  %15lld\n",
        format_date(d.date).c_str(),
        ingest.lines,
        ingest.accepted,
        ingest.duplicates,
        ingest.rejected,
        d.totals.late_events,
        d.totals.credits_used,
        d.totals.credits_expired,
        d.totals.recharges,
        d.totals.suspended,
        failed);
      *ctx.out << line;
    }
    (void)payments;
  }
  const Date last{ today.days - 1 };
  const std::string exports = out + "/exports/";
  write_export_file(
    *db, ExportKind::reconciliation, spec.first_date, last, exports + "reconciliation.csv");
  write_export_file(*db, ExportKind::charges, spec.first_date, last, exports + "charges.csv");
  write_export_file(*db, ExportKind::rejects, spec.first_date, last, exports + "rejects.csv");
  write_export_file(*db, ExportKind::payments, spec.first_date, last, exports + "payments.csv");
  const VerifyReport verify = verify_books(*db);
  const double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  *ctx.out << "\nverify: " << verify.checks_passed.size() << " checks passed, "
           << verify.breaches.size() << " breaches\n";
  for (const auto& breach : verify.breaches) {
    *ctx.out << "BREACH  " << breach << "\n";
  }
  *ctx.out << "database: " << db->url().display() << "\n"
           << "inputs:   " << out << "/input/\n"
           << "exports:  " << exports << "{reconciliation,charges,rejects,payments}.csv\n";
  char took[64];
  std::snprintf(took, sizeof took, "took %.1f s\n", seconds);
  *ctx.out << took;
  return verify.breaches.empty() ? 0 : static_cast<int>(ExitCode::internal);
}

int cmd_generate(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("out", po::value<std::string>()->required(), "folder to write into")(
    "accounts", po::value<long long>()->default_value(1000), "accounts")(
    "first-date", po::value<std::string>()->required(), "first date with usage (YYYY-MM-DD)")(
    "days", po::value<int>()->default_value(1), "days of usage")(
    "events-per-day", po::value<long long>()->default_value(10000), "usage lines per day")(
    "bad-share", po::value<double>()->default_value(0.001), "share of bad usage lines")(
    "late-share", po::value<double>()->default_value(0.0005), "share of late events")(
    "seed", po::value<unsigned long long>()->default_value(42), "generator seed");
  const auto vm = parse_command(
    ctx, args, "billing generate --out DIR --first-date D [--accounts N] [--days N] ...", options);
  if (!vm) {
    return 0;
  }
  WorkloadSpec spec;
  spec.seed = (*vm)["seed"].as<unsigned long long>();
  spec.accounts = (*vm)["accounts"].as<long long>();
  spec.first_date = date_option(*vm, "first-date");
  spec.days = (*vm)["days"].as<int>();
  spec.events_per_day = (*vm)["events-per-day"].as<long long>();
  spec.bad_line_share = (*vm)["bad-share"].as<double>();
  spec.late_share = (*vm)["late-share"].as<double>();
  WorkloadFiles files;
  try {
    files = generate_workload(spec, (*vm)["out"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("generate: ") + e.what());
  }
  *ctx.out << files.plans << "\n" << files.accounts << "\n" << files.purchases << "\n";
  for (const auto& f : files.usage_by_day) {
    *ctx.out << f << "\n";
  }
  spdlog::info("generated {} usage lines ({} bad) in {} files",
               files.usage_lines,
               files.bad_lines,
               files.usage_by_day.size());
  return 0;
}

} // namespace billing
