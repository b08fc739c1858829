// The one data-access layer: a SOCI session on SQLite or MySQL/MariaDB opened
// from a database URL, with its dialect (dialect.hpp: every backend
// difference), transactions that lock the right way on each engine, and bulk
// inserts that never send one round trip per row.
//
// Credits, money and instants are BIGINT (instants as microseconds since the
// epoch, UTC); business dates are CHAR(10) 'YYYY-MM-DD'. Every value reaches
// SQL bound (soci::use) or through a bulk writer; none is spliced into text.
#pragma once

#include "storage/db_url.hpp"
#include "storage/dialect.hpp"
#include "storage/rows.hpp"

#include <soci/soci.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

class Database
{
public:
  // Opens the database. Throws DatabaseUnavailable (exit 69) when it cannot
  // be reached or opened; the message never contains the password.
  Database(const DbUrl& url, const std::optional<std::string>& password, DbTimeouts timeouts = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Another connection to the same database.
  std::unique_ptr<Database> open_another() const;
  // Another connection, for reading ahead while this one writes (the
  // dialect's reader set-up: on SQLite a small page cache).
  std::unique_ptr<Database> open_reader() const;

  soci::session& sql() { return m_sql; }
  const Dialect& dialect() const { return *m_dialect; }
  Backend backend() const { return m_url.backend; }
  const DbUrl& url() const { return m_url; }

  // Runs one statement that carries no values.
  void exec(const std::string& statement);

  // The dialect's upsert tail and INSERT-IGNORE form (dialect.hpp).
  std::string upsert_tail(const std::vector<std::string>& key_columns,
                          const std::vector<std::string>& update_columns) const;
  std::string insert_ignore() const;

private:
  DbUrl m_url;
  std::optional<std::string> m_password;
  DbTimeouts m_timeouts;
  const Dialect* m_dialect;
  soci::session m_sql;
};

// An RAII transaction with an explicit commit; the destructor rolls back.
// It begins as the dialect says (on SQLite BEGIN IMMEDIATE: the write lock up
// front, waited for through the busy timeout).
class Transaction
{
public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

private:
  Database& m_db;
  bool m_open = true;
};

// Bulk insert of rows through the dialect's bulk writer, never one network
// round trip per row: on SQLite one prepared statement stepped per row, inside
// the caller's transaction; on MySQL LOAD DATA LOCAL INFILE from memory for a
// plain insert, multi-row INSERT ... ON DUPLICATE KEY UPDATE for an upsert.
class MultiRowInsert
{
public:
  // head: "INSERT INTO t (a, b, c)" (or insert_ignore() + " INTO ..."); tail:
  // "" or an upsert_tail(). Identifiers only: the values come through value().
  MultiRowInsert(Database& db,
                 std::string head,
                 std::string tail = {},
                 size_t rows_max = 1000,
                 size_t bytes_max = 1 << 20);
  ~MultiRowInsert();
  MultiRowInsert(const MultiRowInsert&) = delete;
  MultiRowInsert& operator=(const MultiRowInsert&) = delete;

  // Starts a new row; append its values in column order.
  MultiRowInsert& row();
  MultiRowInsert& value(long long v);
  MultiRowInsert& value(std::string_view text);
  MultiRowInsert& value(const std::string& text) { return value(std::string_view(text)); }
  MultiRowInsert& value(const char* text) { return value(std::string_view(text)); }
  MultiRowInsert& value(const std::optional<long long>& v);
  MultiRowInsert& value(const std::optional<std::string>& v);
  MultiRowInsert& null();

  // Sends what is buffered. Call before the transaction commits.
  void flush();
  size_t rows_written() const;
  // Rows the database reports as inserted or changed so far (flush first).
  long long rows_affected() const;
  // When the dialect reports_skipped_rows(): the numbers (0-based, in the
  // order written) of the rows that changed nothing (skipped duplicates).
  const std::vector<size_t>& unchanged_rows() const;

private:
  std::unique_ptr<BulkWriter> m_writer;
};

// The distinct values of `column`, the leading column of `table`'s key, that
// are above `after` and at most `upto` (when given), in order: one index seek
// each, never a scan. `table` and `column` are identifiers of the code's own.
std::vector<std::string> leading_key_values(Database& db,
                                            std::string_view table,
                                            std::string_view column,
                                            std::string after = {},
                                            const std::optional<std::string>& upto = {});

// The placeholders of an IN list of n bound values, in the database's
// dialect (bound in order after the statement's earlier placeholders).
std::string placeholders(const Database& db, size_t n);

// The single integer of a one-row, one-column query (0 when NULL or no row),
// with its values bound in order to the query's :placeholders.
template<class... Values>
long long query_ll(Database& db, const std::string& query, const Values&... values)
{
  soci::details::prepare_temp_type prepared = (db.sql().prepare << query);
  (void)(prepared, ..., soci::use(values));
  soci::rowset<soci::row> rows(prepared);
  for (const auto& r : rows) {
    return as_ll(r, 0);
  }
  return 0;
}

} // namespace billing
