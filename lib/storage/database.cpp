#include "storage/database.hpp"

#include "util/assert.hpp"
#include "util/errors.hpp"

#include <soci/mysql/soci-mysql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace billing {

namespace {

constexpr int k_mysql_connect_timeout_s = 10;

// A frozen or unreachable server must end the command (exit 69), not hang it:
// the I/O timeouts come from DbTimeouts.
std::string connection_string(const DbUrl& url,
                              const std::optional<std::string>& password,
                              const DbTimeouts& timeouts)
{
  if (url.backend == Backend::sqlite) {
    return "db=" + url.path + " timeout=" + std::to_string(timeouts.sqlite_busy_s);
  }
  std::string cs = "db=" + url.database + " user=" + url.user + " host=" + url.host
                   + " port=" + std::to_string(url.port) + " charset=utf8mb4 local_infile=1"
                   + " connect_timeout=" + std::to_string(k_mysql_connect_timeout_s)
                   + " read_timeout=" + std::to_string(timeouts.mysql_io_s)
                   + " write_timeout=" + std::to_string(timeouts.mysql_io_s);
  if (password && !password->empty()) {
    if (password->find_first_of("'\\") != std::string::npos) {
      throw UsageError("the MySQL password must not contain a single quote or a backslash "
                       "(SOCI's connection string cannot carry them)");
    }
    cs += " password='" + *password + "'";
  }
  return cs;
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

// Removes every occurrence of the secret from a message.
std::string redact(std::string text, const std::optional<std::string>& secret)
{
  if (!secret || secret->empty()) {
    return text;
  }
  for (size_t pos = text.find(*secret); pos != std::string::npos; pos = text.find(*secret, pos)) {
    text.replace(pos, secret->size(), "***");
  }
  return text;
}

} // namespace

DbUrl DbUrl::parse(std::string_view url)
{
  DbUrl out;
  if (url.starts_with("sqlite:")) {
    out.backend = Backend::sqlite;
    out.path = std::string(url.substr(7));
    if (out.path.empty()) {
      throw UsageError("database URL 'sqlite:' needs a path, as in sqlite:billing.db");
    }
    return out;
  }
  constexpr std::string_view k_mysql = "mysql://";
  if (url.starts_with(k_mysql)) {
    const std::string_view rest = url.substr(k_mysql.size());
    const auto at = rest.find('@');
    const auto slash = rest.find('/');
    if (at == std::string_view::npos || slash == std::string_view::npos || slash < at) {
      throw UsageError("database URL must be mysql://USER@HOST:PORT/DB (no password in it)");
    }
    out.backend = Backend::mysql;
    out.user = std::string(rest.substr(0, at));
    if (out.user.find(':') != std::string::npos) {
      throw UsageError("a password in the database URL is refused: use BILLING_DB_PASSWORD or "
                       "db.password_file");
    }
    const std::string_view hostport = rest.substr(at + 1, slash - at - 1);
    out.database = std::string(rest.substr(slash + 1));
    const auto colon = hostport.rfind(':');
    out.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      const std::string_view port = hostport.substr(colon + 1);
      const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
      if (ec != std::errc{} || p != port.data() + port.size() || out.port <= 0
          || out.port > 65535) {
        throw UsageError("bad port in database URL: '" + std::string(port) + "'");
      }
    }
    if (out.user.empty() || out.host.empty() || out.database.empty()) {
      throw UsageError("database URL must be mysql://USER@HOST:PORT/DB");
    }
    for (char c : out.database) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) {
        throw UsageError("database name may hold only letters, digits, '_' and '$'");
      }
    }
    return out;
  }
  // The text is not echoed: a mistyped URL may hold a password.
  throw UsageError("unknown database URL: expected sqlite:PATH or mysql://USER@HOST:PORT/DB");
}

std::string DbUrl::display() const
{
  if (backend == Backend::sqlite) {
    return "sqlite:" + path;
  }
  return "mysql://" + user + "@" + host + ":" + std::to_string(port) + "/" + database;
}

Database::Database(const DbUrl& url,
                   const std::optional<std::string>& password,
                   DbTimeouts timeouts)
  : m_url(url)
  , m_password(password)
  , m_timeouts(timeouts)
{
  try {
    if (url.backend == Backend::sqlite) {
      m_sql.open(*soci::factory_sqlite3(), connection_string(url, password, timeouts));
      // WAL: readers never block the nightly writer; NORMAL sync is durable
      // across process crashes, which is what resume-after-kill needs.
      m_sql << "PRAGMA journal_mode=WAL";
      m_sql << "PRAGMA synchronous=NORMAL";
      m_sql << "PRAGMA foreign_keys=ON";
      // A page cache large enough for a night's working set (128 MiB):
      // the default 2 MiB makes the kernel re-read pages all night.
      m_sql << "PRAGMA cache_size=-131072";
      m_sql << "PRAGMA temp_store=MEMORY";
    } else {
      m_sql.open(*soci::factory_mysql(), connection_string(url, password, timeouts));
      m_sql << "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,"
               "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
               "NO_ENGINE_SUBSTITUTION'";
      m_sql << "SET SESSION time_zone='+00:00'";
      m_sql << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
    }
  } catch (const soci::soci_error& e) {
    throw DatabaseUnavailable("cannot open database " + url.display() + ": "
                              + redact(e.get_error_message(), password));
  }
}

Database::~Database() = default;

std::unique_ptr<Database> Database::open_another() const
{
  return std::make_unique<Database>(m_url, m_password, m_timeouts);
}

std::unique_ptr<Database> Database::open_reader() const
{
  auto reader = open_another();
  if (m_url.backend == Backend::sqlite) {
    reader->exec("PRAGMA cache_size=-8192");
  }
  return reader;
}

void Database::exec(const std::string& statement)
{
  m_sql << statement;
}

std::string Database::upsert_tail(const std::vector<std::string>& key_columns,
                                  const std::vector<std::string>& update_columns) const
{
  std::string out;
  if (m_url.backend == Backend::sqlite) {
    out = " ON CONFLICT(";
    for (size_t i = 0; i < key_columns.size(); ++i) {
      out += (i ? ", " : "") + key_columns[i];
    }
    out += ") DO UPDATE SET ";
    for (size_t i = 0; i < update_columns.size(); ++i) {
      out += (i ? ", " : "") + update_columns[i] + " = excluded." + update_columns[i];
    }
  } else {
    out = " ON DUPLICATE KEY UPDATE ";
    for (size_t i = 0; i < update_columns.size(); ++i) {
      out += (i ? ", " : "") + update_columns[i] + " = VALUES(" + update_columns[i] + ")";
    }
  }
  return out;
}

std::string Database::quote(std::string_view text) const
{
  if (m_url.backend == Backend::mysql && text.find('\\') != std::string_view::npos) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out = "_utf8mb4 X'";
    for (char c : text) {
      out += k_digits[static_cast<unsigned char>(c) >> 4];
      out += k_digits[static_cast<unsigned char>(c) & 15];
    }
    return out + "'";
  }
  return sql_quote(text);
}

std::string Database::insert_ignore() const
{
  return m_url.backend == Backend::sqlite ? "INSERT OR IGNORE" : "INSERT IGNORE";
}

Transaction::Transaction(Database& db)
  : m_db(db)
{
  m_db.exec(m_db.backend() == Backend::sqlite ? "BEGIN IMMEDIATE" : "START TRANSACTION");
}

Transaction::~Transaction()
{
  if (m_open) {
    try {
      m_db.exec("ROLLBACK");
    } catch (...) {
      // The connection may be gone; the server rolls back on its own then.
    }
  }
}

void Transaction::commit()
{
  m_db.exec("COMMIT");
  m_open = false;
}

std::string sql_quote(std::string_view text)
{
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  out += '\'';
  return out;
}

// SQLITE_TRANSIENT (soci-sqlite3.h undefines it): SQLite copies the bytes.
const sqlite_api::sqlite3_destructor_type k_sqlite_transient =
  reinterpret_cast<sqlite_api::sqlite3_destructor_type>(-1);

// The prepared one-row statement of the SQLite path.
struct MultiRowInsert::SqliteStatement
{
  sqlite_api::sqlite3* conn = nullptr;
  sqlite_api::sqlite3_stmt* stmt = nullptr;

  ~SqliteStatement()
  {
    if (stmt) {
      sqlite_api::sqlite3_finalize(stmt);
    }
  }

  void check(int rc, const char* what) const
  {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
      throw soci::sqlite3_soci_error(std::string(what) + ": " + sqlite_api::sqlite3_errmsg(conn),
                                     rc);
    }
  }
};

MultiRowInsert::MultiRowInsert(Database& db,
                               std::string head,
                               std::string tail,
                               size_t rows_max,
                               size_t bytes_max)
  : m_db(db)
  , m_head(std::move(head))
  , m_tail(std::move(tail))
  , m_rows_max(rows_max)
  , m_bytes_max(bytes_max)
  , m_ignore(m_head.starts_with("INSERT IGNORE"))
{
  // On MySQL a plain insert (no upsert tail) is sent as LOAD DATA LOCAL
  // INFILE from memory, about 1.5 times the rows per second of a multi-row
  // INSERT; in bigger batches, since its rows are streamed, not parsed.
  if (m_db.backend() == Backend::mysql && m_tail.empty()) {
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

MultiRowInsert::~MultiRowInsert() = default;

MultiRowInsert::SqliteStatement& MultiRowInsert::sqlite_statement()
{
  if (!m_sqlite) {
    m_sqlite = std::make_unique<SqliteStatement>();
    auto* backend = static_cast<soci::sqlite3_session_backend*>(m_db.sql().get_backend());
    m_sqlite->conn = backend->conn_;
    std::string text = m_head + " VALUES (";
    for (int i = 0; i < m_column_count; ++i) {
      text += i ? ",?" : "?";
    }
    text += ")" + m_tail;
    m_sqlite->check(
      sqlite_api::sqlite3_prepare_v2(
        m_sqlite->conn, text.c_str(), static_cast<int>(text.size()), &m_sqlite->stmt, nullptr),
      "prepare bulk insert");
  }
  return *m_sqlite;
}

void MultiRowInsert::end_row_if_open()
{
  if (!m_row_open) {
    return;
  }
  m_row_open = false;
  if (m_db.backend() == Backend::sqlite) {
    if (m_column_count == 0) {
      // The first row tells the column count; it was kept as literals.
      m_column_count = static_cast<int>(m_first_row.size());
      auto& st = sqlite_statement();
      for (int i = 0; i < m_column_count; ++i) {
        const std::string& lit = m_first_row[static_cast<size_t>(i)];
        if (lit == "NULL") {
          st.check(sqlite_api::sqlite3_bind_null(st.stmt, i + 1), "bind");
        } else if (lit.front() == '\'') {
          std::string text;
          for (size_t k = 1; k + 1 < lit.size(); ++k) {
            text += lit[k];
            if (lit[k] == '\'') {
              ++k; // '' is one quote
            }
          }
          st.check(
            sqlite_api::sqlite3_bind_text(
              st.stmt, i + 1, text.data(), static_cast<int>(text.size()), k_sqlite_transient),
            "bind");
        } else {
          st.check(sqlite_api::sqlite3_bind_int64(st.stmt, i + 1, std::stoll(lit)), "bind");
        }
      }
    }
    auto& st = sqlite_statement();
    st.check(sqlite_api::sqlite3_step(st.stmt), "bulk insert");
    const int changed = sqlite_api::sqlite3_changes(st.conn);
    if (changed == 0) {
      m_unchanged_rows.push_back(m_rows_written);
    }
    m_rows_affected += changed;
    sqlite_api::sqlite3_reset(st.stmt);
    ++m_rows_written;
    return;
  }
  m_buffer += m_load.empty() ? ')' : '\n';
  ++m_rows;
  if (m_rows >= m_rows_max || m_buffer.size() >= m_bytes_max) {
    flush();
  }
}

MultiRowInsert& MultiRowInsert::row()
{
  end_row_if_open();
  m_row_open = true;
  m_first_value = true;
  m_column = 0;
  if (m_db.backend() == Backend::mysql && m_load.empty()) {
    m_buffer += m_rows == 0 ? " VALUES (" : ",(";
  }
  return *this;
}

void MultiRowInsert::separator()
{
  if (!m_first_value) {
    m_buffer += ',';
  }
  m_first_value = false;
}

MultiRowInsert& MultiRowInsert::value(long long v)
{
  if (m_db.backend() == Backend::sqlite) {
    if (m_column_count == 0) {
      m_first_row.push_back(std::to_string(v));
    } else {
      auto& st = sqlite_statement();
      st.check(sqlite_api::sqlite3_bind_int64(st.stmt, ++m_column, v), "bind");
    }
    return *this;
  }
  separator();
  char buf[24];
  const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  m_buffer.append(buf, p);
  return *this;
}

MultiRowInsert& MultiRowInsert::value(std::string_view text)
{
  if (m_db.backend() == Backend::sqlite) {
    if (m_column_count == 0) {
      m_first_row.push_back(sql_quote(text));
    } else {
      auto& st = sqlite_statement();
      st.check(
        sqlite_api::sqlite3_bind_text(
          st.stmt, ++m_column, text.data(), static_cast<int>(text.size()), k_sqlite_transient),
        "bind");
    }
    return *this;
  }
  separator();
  if (m_load.empty()) {
    m_buffer += m_db.quote(text);
    return *this;
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
  return *this;
}

MultiRowInsert& MultiRowInsert::value(const std::optional<long long>& v)
{
  return v ? value(*v) : null();
}

MultiRowInsert& MultiRowInsert::value(const std::optional<std::string>& v)
{
  return v ? value(std::string_view(*v)) : null();
}

MultiRowInsert& MultiRowInsert::null()
{
  if (m_db.backend() == Backend::sqlite) {
    if (m_column_count == 0) {
      m_first_row.push_back("NULL");
    } else {
      auto& st = sqlite_statement();
      st.check(sqlite_api::sqlite3_bind_null(st.stmt, ++m_column), "bind");
    }
    return *this;
  }
  separator();
  m_buffer += "NULL";
  return *this;
}

void MultiRowInsert::flush()
{
  end_row_if_open();
  if (m_db.backend() == Backend::sqlite || m_rows == 0) {
    return;
  }
  long long affected = 0;
  if (m_load.empty()) {
    soci::statement statement = (m_db.sql().prepare << m_head + m_buffer + m_tail);
    statement.execute(true);
    affected = statement.get_affected_rows();
  } else {
    InfileSource source{ m_buffer };
    MYSQL* conn = static_cast<soci::mysql_session_backend*>(m_db.sql().get_backend())->conn_;
    mysql_set_local_infile_handler(
      conn, infile_init, infile_read, infile_end, infile_error, &source);
    soci::statement statement = (m_db.sql().prepare << m_load);
    statement.execute(true);
    affected = statement.get_affected_rows();
  }
  const long long rows = static_cast<long long>(m_rows);
  if (!m_load.empty() || m_ignore) {
    // LOAD DATA LOCAL, like INSERT IGNORE, turns a duplicate key or a value
    // that does not fit into a warning, whatever the SQL mode. Only skipped
    // duplicates of an IGNORE insert (one warning each) are accepted.
    const long long warnings = query_ll(m_db, "SELECT @@warning_count");
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

long long as_ll(const soci::row& r, std::size_t i)
{
  const auto v = as_opt_ll(r, i);
  return v ? *v : 0;
}

std::optional<long long> as_opt_ll(const soci::row& r, std::size_t i)
{
  if (r.get_indicator(i) == soci::i_null) {
    return std::nullopt;
  }
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double:
      return std::llround(r.get<double>(i));
    case soci::dt_string: {
      const std::string s = r.get<std::string>(i);
      long long v = 0;
      std::from_chars(s.data(), s.data() + s.size(), v);
      return v;
    }
    default:
      throw std::runtime_error("column " + std::to_string(i) + " is not a number");
  }
}

std::string as_str(const soci::row& r, std::size_t i)
{
  auto v = as_opt_str(r, i);
  return v ? *v : std::string();
}

std::optional<std::string> as_opt_str(const soci::row& r, std::size_t i)
{
  if (r.get_indicator(i) == soci::i_null) {
    return std::nullopt;
  }
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string:
      return r.get<std::string>(i);
    case soci::dt_integer:
    case soci::dt_long_long:
    case soci::dt_unsigned_long_long:
    case soci::dt_double:
      return std::to_string(as_ll(r, i));
    default:
      throw std::runtime_error("column " + std::to_string(i) + " is not text");
  }
}

long long query_ll(Database& db, const std::string& query)
{
  soci::rowset<soci::row> rows = db.sql().prepare << query;
  for (const auto& r : rows) {
    return as_ll(r, 0);
  }
  return 0;
}

} // namespace billing
