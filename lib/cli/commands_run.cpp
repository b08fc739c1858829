// run, export, verify: closing dates and reading the books.
#include "cli/command_support.hpp"
#include "domain/calendar.hpp"
#include "jobs/nightly.hpp"
#include "ops/atomic_file.hpp"
#include "ops/clock.hpp"
#include "ops/progress.hpp"
#include "reports/exports.hpp"
#include "storage/verify.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace billing {

namespace {

Shard parse_shard(const std::string& text)
{
  Shard shard;
  if (std::sscanf(text.c_str(), "%d/%d", &shard.index, &shard.count) != 2 || shard.count < 1
      || shard.index < 0 || shard.index >= shard.count || shard.count > 1024) {
    throw UsageError("--shard must be K/N with 0 <= K < N <= 1024, not '" + text + "'");
  }
  return shard;
}

void print_run_summary(std::ostream& out, const std::vector<DateOutcome>& dates, DryRun dry_run)
{
  out << (dry_run == DryRun::yes ? "dry run (nothing written)\n" : "");
  out << "date        status            accounts   events     late  used_credits  recharges  "
         "suspended\n";
  for (const DateOutcome& d : dates) {
    char line[256];
    const char* status = d.already_complete ? "already complete"
                         : d.completed      ? (dry_run == DryRun::yes ? "would close" : "closed")
                                            : "shard done";
    std::snprintf(line,
                  sizeof line,
                  "%-10s  %-16s  %8lld  %8lld  %6lld  %12lld  %9lld  %9lld\n",
                  format_date(d.date).c_str(),
                  status,
                  d.totals.accounts,
                  d.totals.usage_events,
                  d.totals.late_events,
                  d.totals.credits_used,
                  d.totals.recharges,
                  d.totals.suspended);
    out << line;
  }
}

} // namespace

int cmd_run(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()(
    "date", po::value<std::string>(), "close dates up to D (default: yesterday)")(
    "from", po::value<std::string>(), "first date of a range")(
    "to", po::value<std::string>(), "last date of a range")(
    "dry-run", "compute and report without writing anything")(
    "shard", po::value<std::string>(), "K/N: process only the accounts of shard K of N");
  const auto vm = parse_command(
    ctx, args, "billing run [--date D | --from D1 --to D2] [--dry-run] [--shard K/N]", options);
  if (!vm) {
    return 0;
  }
  NightRequest night;
  RunRequest& request = night.run;
  request.today = date_of(now_utc());
  if (vm->count("date") && (vm->count("from") || vm->count("to"))) {
    throw UsageError("run: give --date D or --from D1 --to D2, not both");
  }
  if (vm->count("from") != vm->count("to")) {
    throw UsageError("run: --from and --to go together");
  }
  if (vm->count("date")) {
    request.to = date_option(*vm, "date");
  } else if (vm->count("to")) {
    request.from = date_option(*vm, "from");
    request.to = date_option(*vm, "to");
  } else {
    request.to = request.today.prev();
  }
  request.dry_run = vm->count("dry-run") ? DryRun::yes : DryRun::no;
  if (vm->count("shard")) {
    request.shard = parse_shard((*vm)["shard"].as<std::string>());
  }
  // Refuse a date that is not over before touching the database.
  check_run_request(request);
  night.holder = process_identity() + " run";
  night.inbox = ctx.settings.usage_inbox;
  night.metrics_path = ctx.settings.metrics_path;

  auto db = ctx.open_database(SchemaCheck::require_current);
  Progress progress("closing accounts", progress_wanted(ctx.settings.quiet));
  night.progress = [&](long long done, long long total) { progress.update(done, total); };
  const NightReport report = run_night(*db, night);
  print_run_summary(*ctx.out, report.dates, request.dry_run);
  return 0;
}

int cmd_export(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("kind",
                        po::value<std::string>()->required(),
                        "reconciliation|charges|rejects|payments|adjustments|lots|revenue|totals")(
    "from", po::value<std::string>(), "first business date (rejects: ingest date)")(
    "to", po::value<std::string>(), "last business date")(
    "output,o", po::value<std::string>(), "write to FILE (atomically, mode 0640)")(
    "status", po::value<std::string>(), "payments: pending|succeeded|failed")(
    "all", "rejects: include those retried since");
  po::positional_options_description positional;
  positional.add("kind", 1);
  const auto vm =
    parse_command(ctx,
                  args,
                  "billing export reconciliation|charges|rejects|payments|adjustments|lots|revenue|"
                  "totals --from D1 --to D2 [-o FILE]",
                  options,
                  positional);
  if (!vm) {
    return 0;
  }
  ExportRequest request;
  const std::string kind = (*vm)["kind"].as<std::string>();
  const auto parsed = parse_export_kind(kind);
  if (!parsed) {
    throw UsageError(
      "export: unknown report '" + kind
      + "' (reconciliation, charges, rejects, payments, adjustments, lots, revenue or "
        "totals)");
  }
  request.kind = *parsed;
  const bool dates_optional =
    request.kind == ExportKind::rejects || request.kind == ExportKind::payments;
  if (!dates_optional && (!vm->count("from") || !vm->count("to"))) {
    throw UsageError("export " + kind + ": --from D1 and --to D2 are required");
  }
  if (vm->count("from")) {
    request.from = date_option(*vm, "from");
  }
  if (vm->count("to")) {
    request.to = date_option(*vm, "to");
  }
  if (vm->count("status")) {
    const std::string status = (*vm)["status"].as<std::string>();
    if (status != "pending" && status != "succeeded" && status != "failed") {
      throw UsageError("export: --status must be pending, succeeded or failed");
    }
    request.status = status;
  }
  request.include_resolved = vm->count("all") > 0;
  auto db = ctx.open_database(SchemaCheck::require_current);
  if (vm->count("output")) {
    const std::string path = (*vm)["output"].as<std::string>();
    // Streamed into the file: a year of books never sits in memory.
    long long rows = 0;
    write_file_atomically(path, [&](std::ostream& out) { rows = write_export(*db, request, out); });
    spdlog::info("export {}: {} rows written to {}", kind, rows, path);
  } else {
    write_export(*db, request, *ctx.out);
  }
  return 0;
}

int cmd_verify(const CommandContext& ctx, const CommandArgs& args)
{
  const auto vm = parse_command(ctx, args, "billing verify", po::options_description("Options"));
  if (!vm) {
    return 0;
  }
  auto db = ctx.open_database(SchemaCheck::require_current);
  const VerifyReport report = verify_books(*db);
  for (const auto& name : report.checks_passed) {
    *ctx.out << "ok      " << name << "\n";
  }
  for (const auto& breach : report.breaches) {
    *ctx.out << "BREACH  " << breach << "\n";
  }
  if (!report.breaches.empty()) {
    spdlog::error("verify: {} breaches of the books' invariants", report.breaches.size());
    return static_cast<int>(ExitCode::internal);
  }
  *ctx.out << "verify: all " << report.checks_passed.size() << " checks passed\n";
  return 0;
}

} // namespace billing
