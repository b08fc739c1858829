// migrate, import, status: the commands of setting up and looking.
#include "cli/command_support.hpp"
#include "ingest/import_rows.hpp"
#include "ops/clock.hpp"
#include "reports/status.hpp"
#include "storage/imports.hpp"
#include "storage/migrations.hpp"
#include "storage/run_lock.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

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

namespace {

// The kinds of `billing import`, as the command line names them (SPEC 9),
// with the format of each.
struct ImportKindName
{
  std::string_view name;
  ImportKind kind;
  const ImportFormat* format;
};

constexpr std::array<ImportKindName, 6> k_import_kinds = { {
  { "plans", ImportKind::plans, &k_plan_format },
  { "accounts", ImportKind::accounts, &k_account_format },
  { "purchases", ImportKind::purchases, &k_purchase_format },
  { "changes", ImportKind::changes, &k_change_format },
  { "adjustments", ImportKind::adjustments, &k_adjustment_format },
  { "rates", ImportKind::rates, &k_rate_format },
} };

// The usage line and, per kind, the header its file needs.
std::string import_usage()
{
  std::string out = "billing import plans|accounts|purchases|changes|adjustments|rates FILE\n\n"
                    "CSV with a header row (columns in any order; [optional]):";
  for (const ImportKindName& k : k_import_kinds) {
    out += "\n  ";
    out += k.name;
    out += ": ";
    std::string_view separator;
    for (const std::string_view column : k.format->required) {
      out += separator;
      out += column;
      separator = ",";
    }
    for (const std::string_view column : k.format->optional) {
      out += "[,";
      out += column;
      out += "]";
    }
  }
  return out;
}

} // namespace

int cmd_import(const CommandContext& ctx, const CommandArgs& args)
{
  po::options_description options("Options");
  options.add_options()("kind",
                        po::value<std::string>()->required(),
                        "plans|accounts|purchases|changes|adjustments|rates")(
    "file", po::value<std::string>()->required(), "CSV file");
  po::positional_options_description positional;
  positional.add("kind", 1).add("file", 1);
  const auto vm = parse_command(ctx, args, import_usage(), options, positional);
  if (!vm) {
    return 0;
  }
  const std::string kind_text = (*vm)["kind"].as<std::string>();
  const auto found = std::find_if(k_import_kinds.begin(), k_import_kinds.end(), [&](const auto& k) {
    return k.name == kind_text;
  });
  if (found == k_import_kinds.end()) {
    throw UsageError("import: unknown kind '" + kind_text
                     + "' (plans, accounts, purchases, changes, adjustments or rates)");
  }
  const ImportKind kind = found->kind;
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
