#include "storage/migrations.hpp"

#include "domain/calendar.hpp"
#include "domain/rating.hpp"
#include "ops/clock.hpp"
#include "storage/usage_store.hpp"
#include "util/errors.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace billing {

namespace {

// Splits a migration file into statements: a statement ends with a line whose
// last character is ';'. Comment lines ("--") are dropped. The files are ours
// and never put a ';' at a line end inside a literal.
std::vector<std::string> split_statements(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line.compare(first, 2, "--") == 0) {
      continue;
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    current += line;
    current += '\n';
    if (!line.empty() && line.back() == ';') {
      current.erase(current.find_last_of(';'));
      out.push_back(current);
      current.clear();
    }
  }
  if (current.find_first_not_of(" \t\r\n") != std::string::npos) {
    out.push_back(current);
  }
  return out;
}

bool table_exists(Database& db, const std::string& table)
{
  return query_ll(db, std::string(db.dialect().table_count_query()), table) > 0;
}

// Writes RateCard::defaults() into an empty rate_card table (store_rate_rule:
// the text forms load_rate_card() reads). A table that holds
// rows keeps them: databases migrated before the seed moved here hold these
// very rows, written by 001_init.sql. Every rule is effective from
// 1970-01-01, which `billing import rates` reads SPEC 18's 0001-01-01 as;
// later rows come from that import (storage/rate_import).
void seed_default_rate_card(Database& db)
{
  Transaction tx(db);
  if (query_ll(db, "SELECT COUNT(*) FROM rate_card") > 0) {
    return;
  }
  const RateCard card = RateCard::defaults();
  for (const RateRule& rule : card.rules()) {
    store_rate_rule(db, rule);
  }
  tx.commit();
}

} // namespace

std::vector<Migration> migrations_for(Backend backend)
{
  std::vector<Migration> out;
  const std::string folder = std::string(dialect_of(backend).migrations_folder()) + "/";
  for (const auto& file : embedded_sql_files()) {
    const std::string_view name = file.name;
    if (!name.starts_with(folder)) {
      continue;
    }
    const std::string base(name.substr(folder.size()));
    Migration m;
    m.version = std::atoi(base.c_str());
    m.name = base;
    m.statements = split_statements(file.text);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) {
    return a.version < b.version;
  });
  return out;
}

int latest_schema_version(Backend backend)
{
  const auto all = migrations_for(backend);
  return all.empty() ? 0 : all.back().version;
}

int current_schema_version(Database& db)
{
  if (!table_exists(db, "schema_version")) {
    return 0;
  }
  return static_cast<int>(query_ll(db, "SELECT MAX(version) FROM schema_version"));
}

namespace {

// Schema 6 gives the lots their values as they stand and starts the value
// books after the last date completed: a date that the older program closed
// for some accounts only (its run stopped) would be half without values. A
// date only marked started (no account closed for it) is not closed at all.
constexpr int k_lot_values_version = 6;
// Schema 8 sums a date's figures from the chunks that close it: the chunks
// an older program closed before it stopped mid-date have none.
constexpr int k_chunk_figures_version = 8;

// Throws when a date is closed for some accounts only; `why` says what the
// schema about to be installed needs.
void refuse_part_closed_date(Database& db, const std::string& why)
{
  if (!table_exists(db, "business_days") || !table_exists(db, "account_state")) {
    return;
  }
  soci::rowset<soci::row> rows =
    db.sql().prepare << "SELECT MIN(d.business_date) FROM business_days d WHERE d.status <> "
                        "'complete' AND EXISTS (SELECT 1 FROM account_state s WHERE "
                        "s.state_date = d.business_date)";
  for (const auto& r : rows) {
    if (const auto date = as_opt_str(r, 0)) {
      throw UsageError("the run of " + *date
                       + " has not finished: finish it with the program that started it "
                         "(`billing run`), then migrate ("
                       + why + ")");
    }
  }
}

} // namespace

MigrateResult migrate(Database& db)
{
  MigrateResult result;
  result.from_version = current_schema_version(db);
  result.to_version = result.from_version;
  if (result.from_version > latest_schema_version(db.backend())) {
    throw DatabaseUnavailable("the database schema (version " + std::to_string(result.from_version)
                              + ") is newer than this program knows ("
                              + std::to_string(latest_schema_version(db.backend()))
                              + "): upgrade billing");
  }
  for (const Migration& m : migrations_for(db.backend())) {
    if (m.version <= result.from_version) {
      continue;
    }
    if (m.version == k_lot_values_version) {
      refuse_part_closed_date(db, "schema 6 starts the value books after the last completed date");
    }
    if (m.version == k_chunk_figures_version) {
      refuse_part_closed_date(db, "schema 8 sums a date's figures from the chunks that close it");
    }
    Transaction tx(db);
    for (const std::string& statement : m.statements) {
      db.exec(statement);
    }
    const long long version = m.version;
    const long long applied_us = now_utc().us;
    db.sql() << "INSERT INTO schema_version (version, name, applied_us) VALUES (:version, :name, "
                ":applied_us)",
      soci::use(version), soci::use(m.name), soci::use(applied_us);
    tx.commit();
    result.applied.push_back(m.name);
    result.to_version = m.version;
  }
  seed_default_rate_card(db);
  return result;
}

void require_current_schema(Database& db)
{
  const int current = current_schema_version(db);
  const int latest = latest_schema_version(db.backend());
  if (current < latest) {
    throw DatabaseUnavailable("the database schema is at version " + std::to_string(current)
                              + ", this program needs " + std::to_string(latest)
                              + ": run `billing migrate` first");
  }
  if (current > latest) {
    throw DatabaseUnavailable("the database schema (version " + std::to_string(current)
                              + ") is newer than this program knows (" + std::to_string(latest)
                              + "): upgrade billing");
  }
}

} // namespace billing
