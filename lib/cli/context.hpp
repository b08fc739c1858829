// What every subcommand gets: the merged settings, the environment, and a way
// to open the database that checks it exists and its schema is current.
#pragma once

#include "ops/config.hpp"
#include "storage/database.hpp"

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace billing {

enum class SchemaCheck
{
  require_current,
  none
};
enum class CreateIfMissing
{
  no,
  yes
};

struct CommandContext
{
  Settings settings;
  Environment env;
  std::ostream* out = nullptr; // results (stdout)

  // Opens the configured database. Throws DatabaseUnavailable when a SQLite
  // file is missing (unless create is yes) or the server cannot be reached,
  // and when the schema is not current (unless check is none).
  std::unique_ptr<Database> open_database(SchemaCheck check,
                                          CreateIfMissing create = CreateIfMissing::no) const;
};

// Each subcommand: parses its own arguments (after the subcommand name) and
// returns the exit code.
using CommandArgs = std::vector<std::string>;
int cmd_migrate(const CommandContext& ctx, const CommandArgs& args);
int cmd_import(const CommandContext& ctx, const CommandArgs& args);
int cmd_ingest(const CommandContext& ctx, const CommandArgs& args);
int cmd_run(const CommandContext& ctx, const CommandArgs& args);
int cmd_export(const CommandContext& ctx, const CommandArgs& args);
int cmd_payments(const CommandContext& ctx, const CommandArgs& args);
int cmd_status(const CommandContext& ctx, const CommandArgs& args);
int cmd_explain(const CommandContext& ctx, const CommandArgs& args); // commands_explain.cpp
int cmd_report(const CommandContext& ctx, const CommandArgs& args);  // commands_report.cpp
int cmd_verify(const CommandContext& ctx, const CommandArgs& args);
int cmd_demo(const CommandContext& ctx, const CommandArgs& args);
int cmd_generate(const CommandContext& ctx, const CommandArgs& args);

} // namespace billing
