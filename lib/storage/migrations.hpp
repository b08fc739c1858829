// Schema migrations: numbered files sql/<backend>/NNN_name.sql, compiled into
// the program. `migrate` applies the ones not yet recorded in schema_version,
// each in order; every other command calls require_current_schema() first and
// refuses a database whose schema is behind (or ahead of) the program.
#pragma once

#include "storage/database.hpp"

#include <string>
#include <vector>

namespace billing {

struct EmbeddedSqlFile
{
  const char* name; // "sqlite/001_init.sql"
  const char* text;
};

const std::vector<EmbeddedSqlFile>& embedded_sql_files();

struct Migration
{
  int version = 0;
  std::string name;
  std::vector<std::string> statements;
};

// The migrations of a backend, in version order.
std::vector<Migration> migrations_for(Backend backend);

// The newest version this program knows.
int latest_schema_version(Backend backend);

// The version recorded in the database; 0 for an empty database.
int current_schema_version(Database& db);

struct MigrateResult
{
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;
};

// Applies every pending migration. Idempotent: on a current schema it changes
// nothing. Each migration commits together with its schema_version row on
// SQLite; MySQL DDL commits implicitly, so each statement there is written to
// be safe to run again (CREATE ... IF NOT EXISTS).
MigrateResult migrate(Database& db);

// Throws BillingError(usage) telling the operator to run `billing migrate`
// when the schema is behind, and an error when it is newer than the program.
void require_current_schema(Database& db);

} // namespace billing
