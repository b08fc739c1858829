// The one data-access layer: a SOCI session on SQLite or MySQL/MariaDB opened
// from a database URL, transactions that lock the right way on each engine,
// and the small SQL dialect helpers (upserts, multi-row inserts) that keep
// every SQLite/MySQL difference inside lib/storage.
//
// Credits, money and instants are BIGINT (instants as microseconds since the
// epoch, UTC); business dates are CHAR(10) 'YYYY-MM-DD'. SOCI reads DECIMAL as
// double, so no DECIMAL column exists and sums are read through as_ll().
#pragma once

#include <soci/soci.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

enum class Backend
{
  sqlite,
  mysql
};

struct DbUrl
{
  Backend backend = Backend::sqlite;
  std::string path; // sqlite
  std::string user; // mysql
  std::string host;
  int port = 3306;
  std::string database;

  // "sqlite:PATH" or "mysql://USER@HOST:PORT/DB". Throws UsageError.
  static DbUrl parse(std::string_view url);
  // The URL without any secret, for messages.
  std::string display() const;
};

// How long a connection waits before it gives up (exit 69). Settings
// db.busy_timeout_s and db.io_timeout_s (README, Configuration).
struct DbTimeouts
{
  // SQLite: how long a statement waits for another process's write lock.
  int sqlite_busy_s = 30;
  // MySQL: how long the client waits for a byte from the server (read and
  // write). It only ends a frozen or vanished server: no legitimate statement
  // of a year of books, verify and exports included, comes near it.
  int mysql_io_s = 1800;
};

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
  // Another connection, for reading ahead while this one writes. Its reads stream through ranges
  // once, so on SQLite it keeps a small page cache (8 MiB) instead of a second large one.
  std::unique_ptr<Database> open_reader() const;

  soci::session& sql() { return m_sql; }
  Backend backend() const { return m_url.backend; }
  const DbUrl& url() const { return m_url; }

  // Runs one statement; wraps SOCI failures of a lost server into
  // DatabaseUnavailable.
  void exec(const std::string& statement);

  // Returns the text for a multi-row upsert's tail: on a conflict over the
  // primary/unique key, overwrite `update_columns` with the new values.
  std::string upsert_tail(const std::vector<std::string>& key_columns,
                          const std::vector<std::string>& update_columns) const;
  // A text literal safe for this backend. On MySQL a value holding a
  // backslash is sent as _utf8mb4 X'..': SOCI's MySQL statement parser takes
  // \' for an escaped quote (the session runs with NO_BACKSLASH_ESCAPES), loses
  // track of the string and would read a later ":word" as a placeholder.
  std::string quote(std::string_view text) const;

  // "INSERT OR IGNORE" / "INSERT IGNORE". MySQL's IGNORE would also turn a
  // value that does not fit into a warning: a MultiRowInsert whose head uses
  // it checks that every warning is a skipped row, and throws otherwise.
  std::string insert_ignore() const;

private:
  DbUrl m_url;
  std::optional<std::string> m_password;
  DbTimeouts m_timeouts;
  soci::session m_sql;
};

// An RAII transaction with an explicit commit; the destructor rolls back.
// On SQLite it is BEGIN IMMEDIATE (takes the write lock up front and waits for
// it through the busy timeout), so a read-then-write never fails half-way.
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

// SQL text literal for a string: '...' with quotes doubled. The MySQL session
// runs with NO_BACKSLASH_ESCAPES, so this is the whole escaping on both.
std::string sql_quote(std::string_view text);

// Bulk insert of rows, never one network round trip per row. On MySQL it
// builds INSERT ... VALUES (...),(...) statements of at most rows_max rows or
// bytes_max bytes. On SQLite (in-process, where SQL parsing is the cost) it
// prepares the one-row statement once and binds each row through the SOCI
// session's own connection, inside the caller's transaction.
class MultiRowInsert
{
public:
  // head: "INSERT INTO t (a, b, c)"; tail: "" or an upsert_tail().
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
  size_t rows_written() const { return m_rows_written; }
  // Rows the database reports as inserted or changed so far (flush first).
  long long rows_affected() const { return m_rows_affected; }
  // SQLite only: the numbers (0-based, in the order written) of the rows that
  // changed nothing (skipped duplicates). MySQL cannot tell them apart.
  const std::vector<size_t>& unchanged_rows() const { return m_unchanged_rows; }

private:
  struct SqliteStatement;

  void end_row_if_open();
  void separator();
  SqliteStatement& sqlite_statement();

  Database& m_db;
  std::string m_head;
  std::string m_tail;
  size_t m_rows_max;
  size_t m_bytes_max;
  bool m_ignore; // the head is an INSERT IGNORE: skipped duplicates are expected
  std::string m_buffer;
  size_t m_rows = 0;
  size_t m_rows_written = 0;
  long long m_rows_affected = 0;
  std::vector<size_t> m_unchanged_rows;
  bool m_row_open = false;
  bool m_first_value = true;
  int m_column = 0;                     // next bind index of the open row (SQLite)
  int m_column_count = 0;               // known after the first row (SQLite)
  std::vector<std::string> m_first_row; // SQL literals of the first row (SQLite)
  std::unique_ptr<SqliteStatement> m_sqlite;
  std::string m_load; // MySQL: the LOAD DATA statement, when rows are loaded
};

// Column readers for soci::row that accept whatever integer/decimal/text type
// a backend reports (SUM() is DECIMAL on MySQL, INTEGER on SQLite).
long long as_ll(const soci::row& r, std::size_t i);
std::optional<long long> as_opt_ll(const soci::row& r, std::size_t i);
std::string as_str(const soci::row& r, std::size_t i);
std::optional<std::string> as_opt_str(const soci::row& r, std::size_t i);

// Reads the single integer of a one-row, one-column query (0 when NULL/none).
long long query_ll(Database& db, const std::string& query);

} // namespace billing
