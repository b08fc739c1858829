// migrate, import, status: the commands of setting up and looking.
#include "cli/command_support.hpp"
#include "ops/clock.hpp"
#include "reports/status.hpp"
#include "storage/imports.hpp"
#include "storage/migrations.hpp"
#include "storage/run_lock.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

namespace billing {

int cmd_migrate(const CommandContext& ctx, const CommandArgs& args)
{
  const auto vm = parse_command(ctx, args, "billing migrate", po::options_description("Options"));
  if (!vm) {
    return 0;
  }
  auto db = ctx.open_database(SchemaCheck::none, CreateIfMissing::yes);
  RunLock lock(*db, process_identity() + " migrate");
  const MigrateResult r = migrate(*db);
  if (r.applied.empty()) {
    *ctx.out << "schema is current (version " << r.to_version << "), nothing to do\n";
  } else {
    for (const auto& name : r.applied) {
      spdlog::info("applied migration {}", name);
    }
    *ctx.out << "schema migrated from version " << r.from_version << " to " << r.to_version << "\n";
  }
  return 0;
}

int cmd_import(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()(
    "kind", po::value<std::string>()->required(), "plans|accounts|purchases|rates")(
    "file", po::value<std::string>()->required(), "CSV file");
  po::positional_options_description positional;
  positional.add("kind", 1).add("file", 1);
  const auto vm = parse_command(
    ctx, args, "billing import plans|accounts|purchases|rates FILE", options, positional);
  if (!vm) {
    return 0;
  }
  const std::string kind_text = (*vm)["kind"].as<std::string>();
  ImportKind kind = ImportKind::plans;
  if (kind_text == "plans") {
    kind = ImportKind::plans;
  } else if (kind_text == "accounts") {
    kind = ImportKind::accounts;
  } else if (kind_text == "purchases") {
    kind = ImportKind::purchases;
  } else if (kind_text == "rates") {
    kind = ImportKind::rates;
  } else {
    throw UsageError("import: unknown kind '" + kind_text
                     + "' (plans, accounts, purchases or rates)");
  }
  const std::string file = (*vm)["file"].as<std::string>();
  auto db = ctx.open_database(SchemaCheck::require_current);
  RunLock lock(*db, process_identity() + " import " + kind_text);
  const ImportReport r = import_csv(*db, kind, file, now_utc());
  for (const auto& reject : r.rejected) {
    spdlog::warn("{}:{}: rejected: {}", file, reject.line, reject.reason);
  }
  *ctx.out << "import " << kind_text << " " << file << ": " << r.rows << " rows, " << r.inserted
           << " inserted, " << r.updated << " updated, " << r.unchanged << " unchanged, "
           << r.rejected.size() << " rejected";
  if (kind == ImportKind::rates) {
    *ctx.out << ", " << r.rerated << " events re-rated";
  }
  *ctx.out << "\n";
  return 0;
}

int cmd_status(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("json", "print JSON");
  const auto vm = parse_command(ctx, args, "billing status [--json]", options);
  if (!vm) {
    return 0;
  }
  auto db = ctx.open_database(SchemaCheck::require_current);
  const StatusReport report = read_status(*db);
  *ctx.out << (vm->count("json") ? status_json(report) : status_text(report));
  return 0;
}

} // namespace billing
