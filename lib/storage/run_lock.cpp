#include "storage/run_lock.hpp"

#include "ops/clock.hpp"
#include "util/errors.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

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

// A new holder writes its name just after it takes the lock, so a reader
// that finds the lock taken may see no name, or the name of a holder that
// died: it looks again for a short while.
constexpr int k_holder_reads_max = 40;
constexpr auto k_holder_read_pause = std::chrono::milliseconds(25);

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

// Whether the "host:pid ..." text names a live process of this host.
bool names_live_process(const std::string& text)
{
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    return false;
  }
  const int pid = std::atoi(text.c_str() + colon + 1);
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

std::string read_holder_file(int fd)
{
  std::string text;
  for (int i = 0; i < k_holder_reads_max; ++i) {
    text = read_holder_text(fd);
    if (names_live_process(text)) {
      return text;
    }
    std::this_thread::sleep_for(k_holder_read_pause);
  }
  // The holder may have ended since it refused us (its name stays behind).
  return text.empty() ? "unknown (it has not named itself yet)" : text + " (ended since)";
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
            + ", CONCAT(" + sql_quote(holder) + ", ' (connection ', CONNECTION_ID(), ')'), "
            + std::to_string(now_utc().us) + ")");
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
  const std::string suffix = "(connection " + std::to_string(used) + ")";
  for (int i = 0; i < k_holder_reads_max; ++i) {
    soci::rowset<soci::row> rows =
      db.sql().prepare << "SELECT holder FROM lock_holder WHERE lock_name = " + sql_quote(name);
    for (const auto& r : rows) {
      const std::string holder = as_str(r, 0);
      if (holder.ends_with(suffix)) {
        return holder;
      }
    }
    std::this_thread::sleep_for(k_holder_read_pause);
  }
  return "connection " + std::to_string(used);
}

} // namespace billing
