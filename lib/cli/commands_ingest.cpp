// ingest and payments: the commands that bring outside facts in.
#include "cli/command_support.hpp"
#include "jobs/ingest_inbox.hpp"
#include "ops/clock.hpp"
#include "ops/progress.hpp"
#include "storage/payments.hpp"
#include "storage/run_lock.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

namespace billing {

int cmd_ingest(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("files", po::value<std::vector<std::string>>(), "usage log CSV files")(
    "retry-rejects", "retry the pending rejected lines (after fixing their cause)");
  po::positional_options_description positional;
  positional.add("files", -1);
  const auto vm =
    parse_command(ctx, args, "billing ingest [--retry-rejects] FILE...", options, positional);
  if (!vm) {
    return 0;
  }
  const auto files =
    vm->count("files") ? (*vm)["files"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (files.empty() && !vm->count("retry-rejects")) {
    throw UsageError("ingest: name at least one usage log file (or --retry-rejects)");
  }
  auto db = ctx.open_database(SchemaCheck::require_current);
  RunLock lock(*db, process_identity() + " ingest");
  int exit_code = 0;
  for (const auto& path : files) {
    try {
      Progress progress("ingest " + path + " (bytes)", progress_wanted(ctx.settings.quiet));
      const IngestReport r =
        ingest_usage_file(*db, path, now_utc(), [&](long long done, long long total) {
          progress.update(done, total);
        });
      log_ingest_report(r);
      if (r.skipped) {
        *ctx.out << path << ": skipped, " << r.skipped_reason << "\n";
      } else {
        *ctx.out << path << ": " << r.lines << " lines: " << r.accepted << " accepted, "
                 << r.duplicates << " duplicates, " << r.rejected << " rejected\n";
      }
    } catch (const InputError& e) {
      // One bad file does not stop the others; the exit code tells.
      spdlog::error("{}", e.what());
      exit_code = static_cast<int>(ExitCode::bad_input);
    }
  }
  if (vm->count("retry-rejects")) {
    const RetryReport r = retry_rejects(*db, now_utc());
    *ctx.out << "retried " << r.retried << " rejected lines: " << r.accepted << " accepted, "
             << r.duplicates << " duplicates, " << r.still_rejected << " still rejected\n";
  }
  return exit_code;
}

int cmd_payments(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("action", po::value<std::string>()->required(), "import")(
    "file", po::value<std::string>()->required(), "payment results CSV");
  po::positional_options_description positional;
  positional.add("action", 1).add("file", 1);
  const auto vm = parse_command(ctx, args, "billing payments import FILE", options, positional);
  if (!vm) {
    return 0;
  }
  if ((*vm)["action"].as<std::string>() != "import") {
    throw UsageError("payments: the only action is 'import'");
  }
  const std::string file = (*vm)["file"].as<std::string>();
  auto db = ctx.open_database(SchemaCheck::require_current);
  RunLock lock(*db, process_identity() + " payments import");
  const ImportReport r = import_payment_results(*db, file, now_utc());
  for (const auto& reject : r.rejected) {
    spdlog::warn("{}:{}: rejected: {}", file, reject.line, reject.reason);
  }
  *ctx.out << "payments import " << file << ": " << r.rows << " rows, " << r.updated << " applied, "
           << r.unchanged << " unchanged, " << r.rejected.size() << " rejected\n";
  return 0;
}

} // namespace billing
