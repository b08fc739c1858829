// demo: a complete nightly run on generated data (lib/demo/demo.hpp);
// generate: the same data alone, for benchmarks and tests. The commands parse
// their options and print what the demo reports.
#include "cli/command_support.hpp"
#include "demo/demo.hpp"
#include "demo/workload.hpp"
#include "domain/calendar.hpp"
#include "ops/clock.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

namespace billing {

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
  DemoRequest request;
  request.out_dir = (*vm)["out"].as<std::string>();
  request.seed = (*vm)["seed"].as<unsigned long long>();
  request.accounts = (*vm)["accounts"].as<long long>();
  request.days = (*vm)["days"].as<int>();
  request.events_per_day = (*vm)["events-per-day"].as<long long>();
  if (request.days < 1 || request.days > 366 || request.accounts < 1
      || request.events_per_day < 0) {
    throw UsageError("demo: --days must be 1..366, --accounts >= 1, --events-per-day >= 0");
  }
  request.today = date_of(now_utc());
  request.holder = process_identity() + " demo";

  std::ostream& out = *ctx.out;
  DemoObserver observer;
  observer.loaded = [&](const WorkloadFiles& files) {
    out << "billing demo: " << request.accounts << " accounts, " << request.days << " days of "
        << request.events_per_day << " usage lines (" << files.bad_lines << " of them bad)\n\n";
  };
  observer.quiet_closed = [&](Date from, Date to, long long dates) {
    out << format_date(from) << " .. " << format_date(to) << ": " << dates
        << " dates before the usage starts closed\n";
  };
  bool table_started = false;
  observer.night = [&](const DemoNight& night) {
    if (!table_started) {
      out << "date        lines  accepted  dup  rejected  late  used_credits  expired  "
             "recharges  suspended  failed_payments\n";
      table_started = true;
    }
    for (const DateOutcome& d : night.dates) {
      char line[256];
      std::snprintf(
        line,
        sizeof line,
        "%-10s  %6lld  %8lld  %3lld  %8lld  %4lld  %12lld  %7lld  %9lld  %9lld  %15lld\n",
        format_date(d.date).c_str(),
        night.ingest.lines,
        night.ingest.accepted,
        night.ingest.duplicates,
        night.ingest.rejected,
        d.totals.late_events,
        d.totals.credits_used,
        d.totals.credits_expired,
        d.totals.recharges,
        d.totals.suspended,
        night.failed_payments);
      out << line;
    }
  };
  auto db = ctx.open_database(SchemaCheck::none, CreateIfMissing::yes);
  const DemoResult result = run_demo(*db, request, observer);
  if (const std::string imports = describe(result.operator_imports); !imports.empty()) {
    out << "\n" << imports;
  }

  const double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "\nverify: " << result.verify.checks_passed.size() << " checks passed, "
      << result.verify.breaches.size() << " breaches\n";
  for (const auto& breach : result.verify.breaches) {
    out << "BREACH  " << breach << "\n";
  }
  out << "database: " << db->url().display() << "\n"
      << "inputs:   " << result.input_dir << "\n"
      << "exports:  " << result.exports_dir
      << "{reconciliation,charges,rejects,payments,adjustments,lots,revenue}.csv\n";
  char took[64];
  std::snprintf(took, sizeof took, "took %.1f s\n", seconds);
  out << took;
  return result.verify.breaches.empty() ? 0 : static_cast<int>(ExitCode::internal);
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
    "zoned-share",
    po::value<double>()->default_value(0.0),
    "share of accounts with a time zone (0: no time_zone column)")(
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
  spec.zoned_share = (*vm)["zoned-share"].as<double>();
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
