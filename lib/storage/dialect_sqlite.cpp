// The SQLite dialect: an embedded file, one writer at a time, WAL so readers
// never block the nightly writer; bulk inserts bind each row to one prepared
// statement through the session's own connection.
#include "ops/clock.hpp"
#include "storage/database.hpp"
#include "storage/dialect_registry.hpp"
#include "storage/lock_support.hpp"
#include "util/assert.hpp"
#include "util/errors.hpp"

#include <fcntl.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace billing {

namespace {

// SQLITE_TRANSIENT (soci-sqlite3.h undefines it): SQLite copies the bytes.
const sqlite_api::sqlite3_destructor_type k_sqlite_transient =
  reinterpret_cast<sqlite_api::sqlite3_destructor_type>(-1);

// The columns of "INSERT ... INTO t (a, b, c)": one bind parameter each.
int column_count(const std::string& head)
{
  const size_t open = head.find('(');
  const size_t close = head.find(')', open);
  BILLING_REQUIRE(open != std::string::npos && close != std::string::npos);
  return 1 + static_cast<int>(std::count(head.begin() + open, head.begin() + close, ','));
}

class SqliteBulkWriter final : public BulkWriter
{
public:
  SqliteBulkWriter(soci::session& session, const std::string& head, const std::string& tail)
    : m_columns(column_count(head))
  {
    auto* backend = static_cast<soci::sqlite3_session_backend*>(session.get_backend());
    m_conn = backend->conn_;
    std::string text = head + " VALUES (";
    for (int i = 0; i < m_columns; ++i) {
      text += i ? ",?" : "?";
    }
    text += ")" + tail;
    check(sqlite_api::sqlite3_prepare_v2(
            m_conn, text.c_str(), static_cast<int>(text.size()), &m_stmt, nullptr),
          "prepare bulk insert");
  }
  ~SqliteBulkWriter() override
  {
    if (m_stmt) {
      sqlite_api::sqlite3_finalize(m_stmt);
    }
  }
  SqliteBulkWriter(const SqliteBulkWriter&) = delete;
  SqliteBulkWriter& operator=(const SqliteBulkWriter&) = delete;

  void row() override
  {
    end_row_if_open();
    m_row_open = true;
    m_column = 0;
  }
  void value(long long v) override
  {
    check(sqlite_api::sqlite3_bind_int64(m_stmt, next_column(), v), "bind");
  }
  void value(std::string_view text) override
  {
    check(sqlite_api::sqlite3_bind_text(
            m_stmt, next_column(), text.data(), static_cast<int>(text.size()), k_sqlite_transient),
          "bind");
  }
  void null() override { check(sqlite_api::sqlite3_bind_null(m_stmt, next_column()), "bind"); }
  void flush() override { end_row_if_open(); }
  size_t rows_written() const override { return m_rows_written; }
  long long rows_affected() const override { return m_rows_affected; }
  const std::vector<size_t>& unchanged_rows() const override { return m_unchanged_rows; }

private:
  int next_column()
  {
    BILLING_REQUIRE(m_row_open && m_column < m_columns);
    return ++m_column;
  }

  void end_row_if_open()
  {
    if (!m_row_open) {
      return;
    }
    m_row_open = false;
    BILLING_REQUIRE(m_column == m_columns);
    check(sqlite_api::sqlite3_step(m_stmt), "bulk insert");
    const int changed = sqlite_api::sqlite3_changes(m_conn);
    if (changed == 0) {
      m_unchanged_rows.push_back(m_rows_written);
    }
    m_rows_affected += changed;
    sqlite_api::sqlite3_reset(m_stmt);
    ++m_rows_written;
  }

  void check(int rc, const char* what) const
  {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
      throw soci::sqlite3_soci_error(std::string(what) + ": " + sqlite_api::sqlite3_errmsg(m_conn),
                                     rc);
    }
  }

  int m_columns;
  sqlite_api::sqlite3* m_conn = nullptr;
  sqlite_api::sqlite3_stmt* m_stmt = nullptr;
  bool m_row_open = false;
  int m_column = 0;
  size_t m_rows_written = 0;
  long long m_rows_affected = 0;
  std::vector<size_t> m_unchanged_rows;
};

std::string lock_path(const DbUrl& url, const std::string& name)
{
  return url.path + (name == "billing" ? "" : "." + name) + ".lock";
}

// An open lock file; closing it releases the flock.
struct FileLock final : HeldLock
{
  explicit FileLock(int fd_)
    : fd(fd_)
  {
  }
  ~FileLock() override
  {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  int fd;
};

std::string read_holder_text(int fd)
{
  char buf[256] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string text = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

std::string read_holder_file(int fd)
{
  std::string text;
  for (int i = 0; i < k_holder_reads_max; ++i) {
    text = read_holder_text(fd);
    if (process_state(text) == ProcessState::alive) {
      return text;
    }
    std::this_thread::sleep_for(k_holder_read_pause);
  }
  // The holder may have ended since it refused us (its name stays behind).
  return text.empty() ? "unknown (it has not named itself yet)" : text + " (ended since)";
}

class SqliteDialect final : public Dialect
{
public:
  Backend backend() const override { return Backend::sqlite; }
  std::string_view migrations_folder() const override { return "sqlite"; }

  void require_existing(const DbUrl& url) const override
  {
    struct stat st
    {};
    if (::stat(url.path.c_str(), &st) != 0) {
      throw DatabaseUnavailable("database file " + url.path
                                + " does not exist: run `billing migrate` to create it");
    }
  }

  // Before the library's first connection: multi-thread mode (no mutex per
  // connection: each of ours is used by one thread at a time, handed over
  // through futures and joins) and no memory statistics (a global mutex per
  // allocation). Each bound value of a bulk insert took and released the
  // connection's mutex: a tenth of a night's CPU (issue 18). Calls made after
  // the library started return an error and change nothing.
  static void configure_library_once()
  {
    static const bool configured = [] {
      sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
      sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
      return true;
    }();
    (void)configured;
  }

  void open(soci::session& session,
            const DbUrl& url,
            const std::optional<std::string>& /*password*/,
            const DbTimeouts& timeouts) const override
  {
    // SOCI's connection string: the path in double quotes (it may hold
    // spaces; SOCI's parser has no escape for a double quote).
    if (url.path.find('"') != std::string::npos) {
      throw UsageError("a SQLite database path may not hold a double quote");
    }
    configure_library_once();
    session.open(*soci::factory_sqlite3(),
                 "db=\"" + url.path + "\" timeout=" + std::to_string(timeouts.sqlite_busy_s));
    // WAL: readers never block the nightly writer; NORMAL sync is durable
    // across process crashes, which is what resume-after-kill needs.
    session << "PRAGMA journal_mode=WAL";
    session << "PRAGMA synchronous=NORMAL";
    session << "PRAGMA foreign_keys=ON";
    // A page cache large enough for a night's working set (128 MiB): the
    // default 2 MiB makes the kernel re-read pages all night.
    session << "PRAGMA cache_size=-131072";
    session << "PRAGMA temp_store=MEMORY";
  }

  void configure_reader(soci::session& session) const override
  {
    // Its reads stream through ranges once: a small page cache (8 MiB)
    // instead of a second large one.
    session << "PRAGMA cache_size=-8192";
  }

  std::string_view begin_transaction() const override
  {
    // Takes the write lock up front and waits for it through the busy
    // timeout, so a read-then-write never fails half-way.
    return "BEGIN IMMEDIATE";
  }

  std::string upsert_tail(const std::vector<std::string>& key_columns,
                          const std::vector<std::string>& update_columns) const override
  {
    std::string out = " ON CONFLICT(";
    for (size_t i = 0; i < key_columns.size(); ++i) {
      out += (i ? ", " : "") + key_columns[i];
    }
    out += ") DO UPDATE SET ";
    for (size_t i = 0; i < update_columns.size(); ++i) {
      out += (i ? ", " : "") + update_columns[i] + " = excluded." + update_columns[i];
    }
    return out;
  }

  std::string_view insert_ignore() const override { return "INSERT OR IGNORE"; }

  std::string_view table_count_query() const override
  {
    return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :name";
  }

  std::string text_slot(std::string_view name) const override { return ":" + std::string(name); }
  std::string text_value(std::string_view text) const override { return std::string(text); }

  std::unique_ptr<BulkWriter> bulk_writer(soci::session& session,
                                          std::string head,
                                          std::string tail,
                                          size_t /*rows_max*/,
                                          size_t /*bytes_max*/) const override
  {
    return std::make_unique<SqliteBulkWriter>(session, head, tail);
  }

  bool reports_skipped_rows() const override { return true; }
  bool buffers_whole_results() const override { return false; }
  // "?, ?, ...": SQLite's parser looks each :name up among the names before
  // it, so an IN list of 4,096 named values took n^2/2 comparisons to
  // prepare (a tenth of a first night's run); anonymous ones take none.
  std::string list_placeholders(size_t n) const override
  {
    std::string out;
    out.reserve(n * 3);
    for (size_t i = 0; i < n; ++i) {
      out += i ? ", ?" : "?";
    }
    return out;
  }
  int writer_lanes() const override { return 1; }

  std::optional<DbErrorKind> classify(const soci::soci_error& e) const override
  {
    const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e);
    if (s == nullptr) {
      return std::nullopt;
    }
    switch (s->result() & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return DbErrorKind::locked;
      case SQLITE_IOERR:
      case SQLITE_CORRUPT:
      case SQLITE_CANTOPEN:
      case SQLITE_NOTADB:
      case SQLITE_READONLY:
      case SQLITE_FULL:
        return DbErrorKind::unavailable;
      default:
        return DbErrorKind::other;
    }
  }

  // flock() on "<db path>.lock" (".<name>.lock" for a shard's lock). The
  // kernel drops a process's flock when it ends: a held flock always belongs
  // to a live process, so a resume never waits.
  std::unique_ptr<HeldLock> acquire_lock(Database& db,
                                         const std::string& holder,
                                         const std::string& name,
                                         std::chrono::seconds /*dead_holder_wait*/) const override
  {
    const std::string path = lock_path(db.url(), name);
    auto lock =
      std::make_unique<FileLock>(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
    if (lock->fd < 0) {
      throw DatabaseUnavailable("cannot open lock file " + path);
    }
    if (flock(lock->fd, LOCK_EX | LOCK_NB) != 0) {
      const std::string other = read_holder_file(lock->fd);
      throw LockHeld("another billing process holds the lock on " + db.url().display() + ": "
                     + other);
    }
    const std::string text = holder + " since " + std::to_string(now_utc().us / 1'000'000) + "\n";
    if (ftruncate(lock->fd, 0) != 0 || pwrite(lock->fd, text.data(), text.size(), 0) < 0) {
      // The holder text is informational only; the flock is the lock.
    }
    return lock;
  }

  std::optional<std::string> lock_holder(Database& db, const std::string& name) const override
  {
    const std::string path = lock_path(db.url(), name);
    const FileLock probe(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (probe.fd < 0) {
      return std::nullopt;
    }
    if (flock(probe.fd, LOCK_SH | LOCK_NB) != 0) {
      return read_holder_file(probe.fd);
    }
    return std::nullopt;
  }
};

} // namespace

const Dialect& sqlite_dialect()
{
  static const SqliteDialect k_dialect;
  return k_dialect;
}

} // namespace billing
