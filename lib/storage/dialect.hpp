// One object per backend that holds every difference between SQLite and
// MySQL/MariaDB: how a session is opened and configured, how a transaction
// begins, the upsert and insert-ignore forms, the bulk writer, how an error is
// classified, the run lock, and the folder of its migrations. It is chosen
// once, when a Database opens (dialect_of); no code outside the dialect files
// (dialect_sqlite.cpp, dialect_mysql.cpp) asks which backend it runs on.
//
// Adding a backend: a new dialect_<name>.cpp implementing Dialect, its entry
// in dialect_of() and in Backend (db_url.hpp/.cpp), and sql/<name>/.
#pragma once

#include "storage/db_url.hpp"

#include <soci/soci.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

class Database;

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

// What a database error means for the command that met it.
enum class DbErrorKind
{
  unavailable, // the server or file cannot be used: exit 69
  locked,      // another process holds the database longer than the timeout: exit 69
  other        // a bug or a statement the database refused: exit 1
};

// The backend half of a MultiRowInsert (database.hpp): buffers or binds the
// values of one row after the other and sends them in bulk.
class BulkWriter
{
public:
  virtual ~BulkWriter() = default;

  virtual void row() = 0;
  virtual void value(long long v) = 0;
  virtual void value(std::string_view text) = 0;
  virtual void null() = 0;
  // Sends what is buffered.
  virtual void flush() = 0;
  virtual size_t rows_written() const = 0;
  virtual long long rows_affected() const = 0;
  // Rows (0-based, in the order written) that changed nothing, when the
  // backend can tell (reports_skipped_rows()).
  virtual const std::vector<size_t>& unchanged_rows() const = 0;
};

// A run lock held by this process (run_lock.hpp); released when destroyed
// and, whatever happens, when the process dies.
class HeldLock
{
public:
  virtual ~HeldLock() = default;
};

class Dialect
{
public:
  virtual ~Dialect() = default;

  virtual Backend backend() const = 0;
  // The folder of sql/ that holds this backend's migrations.
  virtual std::string_view migrations_folder() const = 0;

  // Throws DatabaseUnavailable when a database that must exist does not
  // (SQLite: the file; a server is asked when the session opens).
  virtual void require_existing(const DbUrl& url) const = 0;
  // Opens `session` on the database of `url` and configures it. Throws
  // soci::soci_error; the message may hold the password (the caller redacts).
  virtual void open(soci::session& session,
                    const DbUrl& url,
                    const std::optional<std::string>& password,
                    const DbTimeouts& timeouts) const = 0;
  // A connection that streams through ranges once while another writes.
  virtual void configure_reader(soci::session& session) const = 0;

  // "BEGIN IMMEDIATE" / "START TRANSACTION".
  virtual std::string_view begin_transaction() const = 0;
  // The tail of a multi-row upsert: on a conflict over the key, overwrite
  // `update_columns` with the new values.
  virtual std::string upsert_tail(const std::vector<std::string>& key_columns,
                                  const std::vector<std::string>& update_columns) const = 0;
  // "INSERT OR IGNORE" / "INSERT IGNORE".
  virtual std::string_view insert_ignore() const = 0;
  // A query of one bound value (:name) counting the tables of that name.
  virtual std::string_view table_count_query() const = 0;

  // Free text bound with soci::use that may hold any byte: the SQL for its
  // placeholder :name, and the value to bind to it. SOCI 4.0.3's MySQL
  // backend pastes a bound std::string into the statement as a C string, so a
  // NUL byte would cut the value and leave its quote open; there such text is
  // bound as hex and decoded by the server. Ids and codes that validation
  // keeps to printable characters need neither.
  virtual std::string text_slot(std::string_view name) const = 0;
  virtual std::string text_value(std::string_view text) const = 0;

  // head: "INSERT INTO t (a, b, c)" or "<insert_ignore()> INTO t (...)";
  // tail: "" or an upsert_tail().
  virtual std::unique_ptr<BulkWriter> bulk_writer(soci::session& session,
                                                  std::string head,
                                                  std::string tail,
                                                  size_t rows_max,
                                                  size_t bytes_max) const = 0;
  // Whether a bulk insert that skips duplicates tells which rows it skipped.
  virtual bool reports_skipped_rows() const = 0;
  // Whether the client holds a whole result in memory (large reads go in pages).
  virtual bool buffers_whole_results() const = 0;
  // The placeholders of an IN list of n values, bound in order after the
  // statement's earlier placeholders (which must each appear once).
  virtual std::string list_placeholders(size_t n) const = 0;
  // Connections that close account blocks of a date at once (SQLite has one
  // writer at a time; MySQL runs each connection on its own server thread).
  virtual int writer_lanes() const = 0;

  // The kind of `e`, or nullopt when it is not this backend's error.
  virtual std::optional<DbErrorKind> classify(const soci::soci_error& e) const = 0;

  // The run lock `name` of `db` (run_lock.hpp): held by this process, or
  // LockHeld (exit 75) naming a live holder at once; a holder that has ended
  // is waited for up to `dead_holder_wait`, then DatabaseUnavailable (69).
  virtual std::unique_ptr<HeldLock> acquire_lock(Database& db,
                                                 const std::string& holder,
                                                 const std::string& name,
                                                 std::chrono::seconds dead_holder_wait) const = 0;
  // Who holds lock `name`, or nullopt when nobody does.
  virtual std::optional<std::string> lock_holder(Database& db, const std::string& name) const = 0;
};

// The dialect of a backend; the objects live as long as the program.
const Dialect& dialect_of(Backend backend);

// What a database error means, asked of every dialect.
DbErrorKind classify_db_error(const soci::soci_error& e);

} // namespace billing
