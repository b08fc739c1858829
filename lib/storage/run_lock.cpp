#include "storage/run_lock.hpp"

#include "ops/clock.hpp"
#include "util/errors.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace billing {

namespace {

std::string lock_path(const Database& db, const std::string& name)
{
  return db.url().path + (name == "billing" ? "" : "." + name) + ".lock";
}

std::string mysql_lock_name(const Database& db, const std::string& name)
{
  return name + ":" + db.url().database;
}

std::string read_holder_file(int fd)
{
  char buf[256] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string text = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("unknown");
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

} // namespace

RunLock::RunLock(Database& db, const std::string& holder, const std::string& name)
  : m_db(db)
  , m_name(name)
{
  if (db.backend() == Backend::sqlite) {
    const std::string path = lock_path(db, name);
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (m_fd < 0) {
      throw DatabaseUnavailable("cannot open lock file " + path);
    }
    if (flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
      const std::string other = read_holder_file(m_fd);
      ::close(m_fd);
      m_fd = -1;
      throw LockHeld("another billing process holds the lock on " + db.url().display() + ": "
                     + other);
    }
    const std::string text = holder + " since " + std::to_string(now_utc().us / 1'000'000) + "\n";
    if (ftruncate(m_fd, 0) != 0 || pwrite(m_fd, text.data(), text.size(), 0) < 0) {
      // The holder text is informational only; the flock is the lock.
    }
    return;
  }
  long long got = 0;
  const std::string lock = mysql_lock_name(db, name);
  db.sql() << "SELECT GET_LOCK(" + sql_quote(lock) + ", 0)", soci::into(got);
  if (got != 1) {
    throw LockHeld("another billing process holds the lock on " + db.url().display() + ": "
                   + lock_holder(db, name).value_or("unknown"));
  }
  try {
    db.exec("DELETE FROM lock_holder WHERE lock_name = " + sql_quote(name));
    db.exec("INSERT INTO lock_holder (lock_name, holder, acquired_us) VALUES (" + sql_quote(name)
            + ", " + sql_quote(holder) + ", " + std::to_string(now_utc().us) + ")");
  } catch (const soci::soci_error&) {
    // Informational only; the table does not exist before the first migrate.
  }
}

RunLock::~RunLock()
{
  if (m_fd >= 0) {
    ::close(m_fd); // releases the flock
    return;
  }
  try {
    m_db.exec("SELECT RELEASE_LOCK(" + sql_quote(mysql_lock_name(m_db, m_name)) + ")");
  } catch (...) {
    // A lost connection has released the lock already.
  }
}

std::optional<std::string> lock_holder(Database& db, const std::string& name)
{
  if (db.backend() == Backend::sqlite) {
    const std::string path = lock_path(db, name);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return std::nullopt;
    }
    std::optional<std::string> out;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
      out = read_holder_file(fd);
    }
    ::close(fd);
    return out;
  }
  const long long used =
    query_ll(db, "SELECT COALESCE(IS_USED_LOCK(" + sql_quote(mysql_lock_name(db, name)) + "), 0)");
  if (used == 0) {
    return std::nullopt;
  }
  soci::rowset<soci::row> rows =
    db.sql().prepare << "SELECT holder FROM lock_holder WHERE lock_name = " + sql_quote(name);
  for (const auto& r : rows) {
    return as_str(r, 0) + " (connection " + std::to_string(used) + ")";
  }
  return "connection " + std::to_string(used);
}

} // namespace billing
