#include "cli/cli.hpp"

#include "cli/context.hpp"
#include "ops/logging.hpp"
#include "storage/migrations.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <boost/program_options.hpp>
#include <functional>
#include <iostream>
#include <map>

namespace billing {

namespace {

constexpr const char* k_usage = R"(usage: billing [GLOBAL OPTIONS] COMMAND [ARGS] [--help]

Nightly batch billing for prepaid messaging credits.

Commands:
  migrate                                 create or upgrade the database schema
  import plans|accounts|purchases|changes|adjustments|rates FILE
                                          load CSV reference data (idempotent)
  ingest FILE...                          ingest usage logs
  run [--date D | --from D1 --to D2] [--dry-run]
                                          close business dates (default: yesterday)
  export reconciliation|charges|rejects|payments|adjustments|lots|revenue --from D1 --to D2 [-o FILE]
                                          CSV reports
  explain ACCOUNT --date D [--json]       an account's closed date in words: lots, facts, closing
  report --from D1 --to D2 -o FILE.html   the close pack: credits and revenue roll-forward
  payments import FILE                    apply payment provider results
  status [--json]                         last completed date, runs, lock, rejects
  verify                                  check the books' invariants
  demo [--out DIR]                        make a demo database and run it
  generate --out DIR --first-date D       write a generated workload (plans, accounts,
                                          purchases, usage logs) for tests and benchmarks

Global options (before or after the command):
  --db URL             sqlite:PATH or mysql://USER@HOST:PORT/DB (env BILLING_DB_URL)
  --config FILE        INI config file (env BILLING_CONFIG; default /etc/billing/billing.conf)
  --log-format FORMAT  text or json
  --log-level LEVEL    debug, info, warn or error
  --quiet              warnings and errors only, no progress
  --help, --version

The MySQL password comes from BILLING_DB_PASSWORD or db.password_file, never
from the command line.

Exit codes: 0 done, 1 internal error, 2 usage or config error, 65 bad input
file, 69 database unavailable, 75 another run holds the lock.
)";

struct SplitArgs
{
  CommandLineSettings globals;
  std::vector<std::string> rest;
  bool help = false;
  bool version = false;
};

// Takes the global options out of the line wherever they stand.
SplitArgs split_global_options(int argc, const char* const* argv)
{
  SplitArgs out;
  const std::map<std::string, std::function<void(const std::string&)>> with_value = {
    { "--db", [&](const std::string& v) { out.globals.db_url = v; } },
    { "--config", [&](const std::string& v) { out.globals.config_path = v; } },
    { "--log-format", [&](const std::string& v) { out.globals.log_format = v; } },
    { "--log-level", [&](const std::string& v) { out.globals.log_level = v; } },
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) {
        out.rest.emplace_back(argv[i]);
      }
      break;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (const auto it = with_value.find(name); it != with_value.end()) {
      if (eq != std::string::npos) {
        it->second(arg.substr(eq + 1));
      } else if (i + 1 < argc) {
        it->second(argv[++i]);
      } else {
        throw UsageError("option " + name + " needs a value");
      }
    } else if (arg == "--quiet" || arg == "-q") {
      out.globals.quiet = true;
    } else if (out.rest.empty() && (arg == "--help" || arg == "-h")) {
      out.help = true;
    } else if (out.rest.empty() && arg == "--version") {
      out.version = true;
    } else {
      out.rest.push_back(arg);
    }
  }
  return out;
}

int fail(ExitCode code, const std::string& message)
{
  spdlog::error("{}", message);
  return static_cast<int>(code);
}

} // namespace

std::unique_ptr<Database> CommandContext::open_database(SchemaCheck check,
                                                        CreateIfMissing create) const
{
  const DbUrl url = DbUrl::parse(settings.db_url);
  if (create == CreateIfMissing::no) {
    dialect_of(url.backend).require_existing(url);
  }
  DbTimeouts timeouts;
  timeouts.sqlite_busy_s = settings.db_busy_timeout_s.value_or(timeouts.sqlite_busy_s);
  timeouts.mysql_io_s = settings.db_io_timeout_s.value_or(timeouts.mysql_io_s);
  auto db = std::make_unique<Database>(url, resolve_db_password(settings, env), timeouts);
  if (check == SchemaCheck::require_current) {
    require_current_schema(*db);
  }
  return db;
}

int run_cli(int argc, const char* const* argv)
{
  // Until the settings are known, messages go to stderr as plain text.
  init_logging(LogFormat::text, "info", false);
  try {
    SplitArgs split = split_global_options(argc, argv);
    if (split.version) {
      std::cout << "billing " << BILLING_VERSION << "\n";
      return 0;
    }
    if (split.help || split.rest.empty()) {
      std::cout << k_usage;
      return split.help ? 0 : static_cast<int>(ExitCode::usage);
    }
    CommandContext ctx;
    ctx.env = process_environment();
    ctx.settings = resolve_settings(split.globals, ctx.env);
    ctx.out = &std::cout;
    init_logging(ctx.settings.log_format, ctx.settings.log_level, ctx.settings.quiet);

    using Handler = int (*)(const CommandContext&, const CommandArgs&);
    const std::map<std::string, Handler> commands = {
      { "migrate", cmd_migrate },   { "import", cmd_import },   { "ingest", cmd_ingest },
      { "run", cmd_run },           { "export", cmd_export },   { "payments", cmd_payments },
      { "status", cmd_status },     { "verify", cmd_verify },   { "demo", cmd_demo },
      { "generate", cmd_generate }, { "explain", cmd_explain }, { "report", cmd_report },
    };
    const std::string name = split.rest.front();
    const auto it = commands.find(name);
    if (it == commands.end()) {
      throw UsageError("unknown command '" + name + "' (see billing --help)");
    }
    const CommandArgs args(split.rest.begin() + 1, split.rest.end());
    try {
      return it->second(ctx, args);
    } catch (const boost::program_options::error& e) {
      throw UsageError(name + ": " + e.what() + " (see billing " + name + " --help)");
    }
  } catch (const BillingError& e) {
    return fail(e.code(), e.what());
  } catch (const boost::program_options::error& e) {
    return fail(ExitCode::usage, e.what());
  } catch (const soci::soci_error& e) {
    if (classify_db_error(e) != DbErrorKind::other) {
      return fail(ExitCode::db_unavailable,
                  std::string("database unavailable: ") + e.get_error_message());
    }
    return fail(ExitCode::internal, std::string("database error: ") + e.get_error_message());
  } catch (const std::exception& e) {
    return fail(ExitCode::internal, std::string("internal error: ") + e.what());
  }
}

} // namespace billing
