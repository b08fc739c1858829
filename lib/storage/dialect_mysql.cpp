// The MySQL/MariaDB dialect: a server reached through SOCI's mysql backend
// (libmariadb). Strict SQL mode, UTC session, READ COMMITTED; plain bulk
// inserts are LOAD DATA LOCAL INFILE served from memory, upserts multi-row
// INSERT ... ON DUPLICATE KEY UPDATE whose values are encoded by one function
// (mysql_literal).
#include "ops/clock.hpp"
#include "storage/database.hpp"
#include "storage/dialect_registry.hpp"
#include "storage/lock_support.hpp"
#include "util/assert.hpp"
#include "util/errors.hpp"
#include "util/sha256.hpp"

#include <soci/mysql/soci-mysql.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace billing {

namespace {

constexpr int k_mysql_connect_timeout_s = 10;
// While a dead holder's lock is being released, GET_LOCK waits this long at a
// time (it returns as soon as the lock is free), then looks who holds it. Short,
// so that a waiter killed meanwhile leaves the server at once too.
constexpr auto k_dead_holder_poll = std::chrono::milliseconds(250);

std::string mysql_lock_name(const DbUrl& url, const std::string& name)
{
  return name + ":" + url.database;
}

// A value of SOCI's connection string: quoted, with a backslash before each
// quote and backslash (SOCI's parser takes the next character as it is), so
// a password may hold any character.
std::string connection_value(std::string_view v)
{
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

// LOAD DATA LOCAL INFILE reads from this in-memory buffer, never from a file:
// the handler serves whatever the server asks for from the buffer, so a
// server cannot make the client send a file of this machine.
struct InfileSource
{
  std::string_view data;
};

int infile_init(void** state, const char* /*filename*/, void* userdata)
{
  *state = userdata;
  return 0;
}

int infile_read(void* state, char* buf, unsigned int buf_len)
{
  auto* source = static_cast<InfileSource*>(state);
  const size_t n = std::min<size_t>(buf_len, source->data.size());
  std::memcpy(buf, source->data.data(), n);
  source->data.remove_prefix(n);
  return static_cast<int>(n);
}

void infile_end(void* /*state*/) {}

int infile_error(void* /*state*/, char* message, unsigned int message_len)
{
  std::snprintf(message, message_len, "billing: bulk load buffer unavailable");
  return 2000; // CR_UNKNOWN_ERROR
}

long long session_ll(soci::session& session, const std::string& query)
{
  long long v = 0;
  soci::indicator ind = soci::i_ok;
  session << query, soci::into(v, ind);
  return ind == soci::i_ok ? v : 0;
}

class MysqlBulkWriter final : public BulkWriter
{
public:
  MysqlBulkWriter(soci::session& session,
                  std::string head,
                  std::string tail,
                  size_t rows_max,
                  size_t bytes_max)
    : m_session(session)
    , m_head(std::move(head))
    , m_tail(std::move(tail))
    , m_rows_max(rows_max)
    , m_bytes_max(bytes_max)
    , m_ignore(m_head.starts_with("INSERT IGNORE"))
  {
    // A plain insert (no upsert tail) is sent as LOAD DATA LOCAL INFILE from
    // memory, about 1.5 times the rows per second of a multi-row INSERT; in
    // bigger batches, since its rows are streamed, not parsed.
    if (m_tail.empty()) {
      const size_t into = m_head.find(" INTO ");
      BILLING_REQUIRE(into != std::string::npos);
      const std::string target = m_head.substr(into + 6); // "table (a, b, c)"
      const size_t paren = target.find('(');
      BILLING_REQUIRE(paren != std::string::npos);
      m_load = "LOAD DATA LOCAL INFILE 'billing-bulk'" + std::string(m_ignore ? " IGNORE" : "")
               + " INTO TABLE " + target.substr(0, paren)
               + "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
                 "ESCAPED BY '' "
               + target.substr(paren);
      m_rows_max = std::max<size_t>(m_rows_max, 20'000);
      m_bytes_max = std::max<size_t>(m_bytes_max, 8 << 20);
    }
  }

  void row() override
  {
    end_row_if_open();
    m_row_open = true;
    m_first_value = true;
    if (m_load.empty()) {
      m_buffer += m_rows == 0 ? " VALUES (" : ",(";
    }
  }

  void value(long long v) override
  {
    separator();
    char buf[24];
    const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    m_buffer.append(buf, p);
  }

  void value(std::string_view text) override
  {
    separator();
    if (m_load.empty()) {
      m_buffer += mysql_literal(text);
      return;
    }
    // Enclosed in double quotes, a quote doubled; nothing else is special
    // (ESCAPED BY ''), and an enclosed "NULL" is text.
    m_buffer += '"';
    for (char c : text) {
      if (c == '"') {
        m_buffer += '"';
      }
      m_buffer += c;
    }
    m_buffer += '"';
  }

  void null() override
  {
    separator();
    // LOAD DATA reads an unenclosed NULL as NULL; so does an INSERT.
    m_buffer += "NULL";
  }

  void flush() override
  {
    end_row_if_open();
    if (m_rows == 0) {
      return;
    }
    long long affected = 0;
    if (m_load.empty()) {
      soci::statement statement = (m_session.prepare << m_head + m_buffer + m_tail);
      statement.execute(true);
      affected = statement.get_affected_rows();
    } else {
      InfileSource source{ m_buffer };
      MYSQL* conn = static_cast<soci::mysql_session_backend*>(m_session.get_backend())->conn_;
      mysql_set_local_infile_handler(
        conn, infile_init, infile_read, infile_end, infile_error, &source);
      soci::statement statement = (m_session.prepare << m_load);
      statement.execute(true);
      affected = statement.get_affected_rows();
    }
    const long long rows = static_cast<long long>(m_rows);
    if (!m_load.empty() || m_ignore) {
      // LOAD DATA LOCAL, like INSERT IGNORE, turns a duplicate key or a value
      // that does not fit into a warning, whatever the SQL mode. Only skipped
      // duplicates of an IGNORE insert (one warning each) are accepted.
      const long long warnings = session_ll(m_session, "SELECT @@warning_count");
      if (warnings != rows - affected || (!m_ignore && affected != rows)) {
        throw std::runtime_error("MySQL stored " + std::to_string(affected) + " of "
                                 + std::to_string(rows) + " rows into " + m_head.substr(0, 60)
                                 + "... with " + std::to_string(warnings)
                                 + " warnings: a duplicate key or a value that does not fit");
      }
    }
    m_rows_affected += affected;
    m_rows_written += m_rows;
    m_rows = 0;
    m_buffer.clear();
  }

  size_t rows_written() const override { return m_rows_written; }
  long long rows_affected() const override { return m_rows_affected; }
  const std::vector<size_t>& unchanged_rows() const override { return m_no_rows; }

private:
  void separator()
  {
    BILLING_REQUIRE(m_row_open);
    if (!m_first_value) {
      m_buffer += ',';
    }
    m_first_value = false;
  }

  void end_row_if_open()
  {
    if (!m_row_open) {
      return;
    }
    m_row_open = false;
    m_buffer += m_load.empty() ? ')' : '\n';
    ++m_rows;
    if (m_rows >= m_rows_max || m_buffer.size() >= m_bytes_max) {
      flush();
    }
  }

  soci::session& m_session;
  std::string m_head;
  std::string m_tail;
  size_t m_rows_max;
  size_t m_bytes_max;
  bool m_ignore;      // the head is an INSERT IGNORE: skipped duplicates are expected
  std::string m_load; // the LOAD DATA statement, when rows are loaded
  std::string m_buffer;
  size_t m_rows = 0;
  size_t m_rows_written = 0;
  long long m_rows_affected = 0;
  bool m_row_open = false;
  bool m_first_value = true;
  const std::vector<size_t> m_no_rows;
};

// The MySQL lock's holder as the server and table lock_holder see it.
struct MysqlHolder
{
  std::string text;     // "host:pid command (connection N)", or "connection N"
  std::string gone_why; // empty while the holder lives
};

bool connection_exists(Database& db, long long connection_id)
{
  long long n = 0;
  db.sql() << "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = :id",
    soci::use(connection_id), soci::into(n);
  return n > 0;
}

// The name a holder wrote for its connection, if there is one yet.
std::optional<std::string> named_holder(Database& db,
                                        const std::string& name,
                                        long long connection_id)
{
  const std::string suffix = "(connection " + std::to_string(connection_id) + ")";
  std::string holder;
  soci::indicator ind = soci::i_null;
  try {
    db.sql() << "SELECT holder FROM lock_holder WHERE lock_name = :name", soci::use(name),
      soci::into(holder, ind);
  } catch (const soci::soci_error&) {
    return std::nullopt; // no table before the first migrate
  }
  if (db.sql().got_data() && ind == soci::i_ok && holder.ends_with(suffix)) {
    return holder;
  }
  return std::nullopt;
}

// Who holds the lock, and whether it lives; nullopt when the lock is free.
// Dead: a holder of this host whose process no longer exists, or any holder
// whose connection the server no longer lists. A holder of another host whose
// connection is there is alive: only its host could tell otherwise.
std::optional<MysqlHolder> mysql_holder(Database& db, const std::string& name)
{
  const std::string lock = mysql_lock_name(db.url(), name);
  long long used = 0;
  db.sql() << "SELECT COALESCE(IS_USED_LOCK(:lock), 0)", soci::use(lock), soci::into(used);
  if (used == 0) {
    return std::nullopt;
  }
  MysqlHolder h;
  std::optional<std::string> text = named_holder(db, name, used);
  bool listed = connection_exists(db, used);
  for (int i = 0; !text && listed && i < k_holder_reads_max; ++i) {
    std::this_thread::sleep_for(k_holder_read_pause);
    text = named_holder(db, name, used);
    listed = connection_exists(db, used);
  }
  h.text = text.value_or("connection " + std::to_string(used));
  if (text && process_state(*text) == ProcessState::gone) {
    const std::string pid = text->substr(0, text->find(' '));
    h.gone_why = "its process " + pid.substr(pid.find(':') + 1) + " no longer exists on this host";
  } else if (!listed) {
    h.gone_why = "its connection " + std::to_string(used) + " is gone";
  }
  return h;
}

// GET_LOCK, waiting up to `wait` for it (MariaDB takes a fraction of a second;
// a server that rounds it down returns early, and the rest is slept here).
bool get_mysql_lock(Database& db, const std::string& lock, std::chrono::milliseconds wait)
{
  const auto until = LockClock::now() + wait;
  const double wait_s = std::chrono::duration<double>(wait).count();
  long long got = 0;
  soci::indicator ind = soci::i_null;
  db.sql() << "SELECT GET_LOCK(:lock, :wait_s)", soci::use(lock), soci::use(wait_s),
    soci::into(got, ind);
  if (ind == soci::i_ok && got == 1) {
    return true;
  }
  std::this_thread::sleep_until(until);
  return false;
}

// The GET_LOCK of a connection; released when destroyed (a lost connection
// has released it already).
struct ServerLock final : HeldLock
{
  ServerLock(Database& db_, std::string lock_)
    : db(db_)
    , lock(std::move(lock_))
  {
  }
  ~ServerLock() override
  {
    try {
      long long released = 0;
      soci::indicator ind = soci::i_null;
      db.sql() << "SELECT RELEASE_LOCK(:lock)", soci::use(lock), soci::into(released, ind);
    } catch (...) {
      // A lost connection has released the lock already.
    }
  }
  ServerLock(const ServerLock&) = delete;
  ServerLock& operator=(const ServerLock&) = delete;

  Database& db;
  std::string lock;
};

class MysqlDialect final : public Dialect
{
public:
  Backend backend() const override { return Backend::mysql; }
  std::string_view migrations_folder() const override { return "mysql"; }

  void require_existing(const DbUrl& /*url*/) const override {}

  void open(soci::session& session,
            const DbUrl& url,
            const std::optional<std::string>& password,
            const DbTimeouts& timeouts) const override
  {
    // A frozen or unreachable server must end the command (exit 69), not
    // hang it: connect, read and write time out.
    std::string cs = "db=" + connection_value(url.database) + " user=" + connection_value(url.user)
                     + " host=" + connection_value(url.host) + " port=" + std::to_string(url.port)
                     + " charset=utf8mb4 local_infile=1"
                     + " connect_timeout=" + std::to_string(k_mysql_connect_timeout_s)
                     + " read_timeout=" + std::to_string(timeouts.mysql_io_s)
                     + " write_timeout=" + std::to_string(timeouts.mysql_io_s);
    if (password && !password->empty()) {
      cs += " password=" + connection_value(*password);
    }
    session.open(*soci::factory_mysql(), cs);
    session << "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,"
               "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
               "NO_ENGINE_SUBSTITUTION'";
    session << "SET SESSION time_zone='+00:00'";
    session << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
  }

  void configure_reader(soci::session& /*session*/) const override {}

  std::string_view begin_transaction() const override { return "START TRANSACTION"; }

  std::string upsert_tail(const std::vector<std::string>& /*key_columns*/,
                          const std::vector<std::string>& update_columns) const override
  {
    std::string out = " ON DUPLICATE KEY UPDATE ";
    for (size_t i = 0; i < update_columns.size(); ++i) {
      out += (i ? ", " : "") + update_columns[i] + " = VALUES(" + update_columns[i] + ")";
    }
    return out;
  }

  // MySQL's IGNORE would also turn a value that does not fit into a warning:
  // the bulk writer checks that every warning is a skipped row.
  std::string_view insert_ignore() const override { return "INSERT IGNORE"; }

  std::string_view table_count_query() const override
  {
    return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
           "table_name = :name";
  }

  std::string text_slot(std::string_view name) const override
  {
    return "CONVERT(UNHEX(:" + std::string(name) + ") USING utf8mb4)";
  }
  std::string text_value(std::string_view text) const override { return to_hex(text); }

  std::unique_ptr<BulkWriter> bulk_writer(soci::session& session,
                                          std::string head,
                                          std::string tail,
                                          size_t rows_max,
                                          size_t bytes_max) const override
  {
    return std::make_unique<MysqlBulkWriter>(
      session, std::move(head), std::move(tail), rows_max, bytes_max);
  }

  bool reports_skipped_rows() const override { return false; }
  // The client library holds a whole result (mysql_store_result).
  bool buffers_whole_results() const override { return true; }
  // SOCI's MySQL backend substitutes :name placeholders itself (it knows no
  // '?'), in one pass over the text.
  std::string list_placeholders(size_t n) const override
  {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      out += (i ? ", :v" : ":v") + std::to_string(i);
    }
    return out;
  }
  int writer_lanes() const override { return 2; }

  std::optional<DbErrorKind> classify(const soci::soci_error& e) const override
  {
    const auto* m = dynamic_cast<const soci::mysql_soci_error*>(&e);
    if (m == nullptr) {
      return std::nullopt;
    }
    switch (m->err_num_) {
      case 1205: // lock wait timeout
        return DbErrorKind::locked;
      case 1045: // access denied
      case 1049: // unknown database
      case 1053: // server shutdown
      case 2002: // cannot connect (socket)
      case 2003: // cannot connect (TCP)
      case 2006: // server gone
      case 2013: // lost connection
        return DbErrorKind::unavailable;
      default:
        return DbErrorKind::other;
    }
  }

  // GET_LOCK() on the connection: the server frees it when the connection
  // ends. It keeps a killed client's lock until it has finished that
  // client's statement and rolled its transaction back, so a holder that has
  // ended is waited for (bounded), never refused with 75.
  std::unique_ptr<HeldLock> acquire_lock(Database& db,
                                         const std::string& holder,
                                         const std::string& name,
                                         std::chrono::seconds dead_holder_wait) const override
  {
    const std::string lock = mysql_lock_name(db.url(), name);
    const auto started = LockClock::now();
    std::optional<MysqlHolder> dead;
    auto wait = std::chrono::milliseconds(0);
    while (!get_mysql_lock(db, lock, wait)) {
      const std::optional<MysqlHolder> other = mysql_holder(db, name);
      if (other && other->gone_why.empty()) {
        throw LockHeld("another billing process holds the lock on " + db.url().display() + ": "
                       + other->text);
      }
      if (LockClock::now() - started >= dead_holder_wait) {
        const std::string waited = std::to_string(dead_holder_wait.count()) + " s";
        throw DatabaseUnavailable(
          other ? "the server has not released the lock on " + db.url().display() + " of "
                    + other->text + ", which has ended (" + other->gone_why + "), within " + waited
                    + " (the server may still be rolling that holder's work back, or keep its "
                      "connection after losing its client; `billing status` names it); run "
                      "again later"
                : "the lock on " + db.url().display() + " kept changing hands for " + waited
                    + "; run again later");
      }
      if (other && !dead) {
        spdlog::warn("the lock on {} belongs to {}, which has ended ({}); waiting up to {} s for "
                     "the server to finish that holder's work and release it",
                     db.url().display(),
                     other->text,
                     other->gone_why,
                     dead_holder_wait.count());
        dead = other;
      }
      // Freed since we asked (nobody holds it now): a short pause, then ask again.
      wait = other ? k_dead_holder_poll : k_holder_read_pause;
    }
    if (dead) {
      spdlog::info("lock released by the server after {:.1f} s",
                   std::chrono::duration<double>(LockClock::now() - started).count());
    }
    try {
      const long long now_us = now_utc().us;
      db.sql() << "DELETE FROM lock_holder WHERE lock_name = :name", soci::use(name);
      db.sql() << "INSERT INTO lock_holder (lock_name, holder, acquired_us) VALUES (:name, "
                  "CONCAT(:holder, ' (connection ', CONNECTION_ID(), ')'), :now_us)",
        soci::use(name), soci::use(holder), soci::use(now_us);
    } catch (const soci::soci_error&) {
      // Informational only; the table does not exist before the first migrate.
    }
    return std::make_unique<ServerLock>(db, mysql_lock_name(db.url(), name));
  }

  std::optional<std::string> lock_holder(Database& db, const std::string& name) const override
  {
    const std::optional<MysqlHolder> h = mysql_holder(db, name);
    if (!h) {
      return std::nullopt;
    }
    if (!h->gone_why.empty()) {
      return h->text + " (ended: " + h->gone_why + "; the server is releasing its lock)";
    }
    return h->text;
  }
};

} // namespace

std::string mysql_literal(std::string_view text)
{
  // Hexadecimal with the character set introducer: no quote or backslash
  // can end the literal, and SOCI's statement parser (which scans for
  // ":name" placeholders outside quotes) sees no quote to lose track of.
  return text.empty() ? "''" : "_utf8mb4 X'" + to_hex(text) + "'";
}

const Dialect& mysql_dialect()
{
  static const MysqlDialect k_dialect;
  return k_dialect;
}

} // namespace billing
