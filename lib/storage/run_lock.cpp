#include "storage/run_lock.hpp"

#include "ops/clock.hpp"
#include "util/errors.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <thread>

namespace billing {

namespace {

using Clock = std::chrono::steady_clock; // never now_utc(): tests freeze it

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
// While a dead holder's lock is being released, GET_LOCK waits this long at a
// time (it returns as soon as the lock is free), then looks who holds it. Short,
// so that a waiter killed meanwhile leaves the server at once too.
constexpr auto k_dead_holder_poll = std::chrono::milliseconds(250);

enum class ProcessState
{
  alive,
  gone,
  unknown // another host's, or no "host:pid" in the text
};

// Whether the "host:pid ..." text names a process of this host that still
// runs. kill(pid, 0) answers through any /proc hiding (ProtectProc=) and user
// namespace (EPERM: it exists); a zombie has closed its files and sockets
// already, so it counts as gone.
ProcessState process_state(const std::string& text)
{
  const auto colon = text.find(':');
  const auto end = text.find(' ', colon);
  const std::string me = process_identity();
  if (colon == std::string::npos || text.compare(0, colon, me, 0, me.rfind(':')) != 0) {
    return ProcessState::unknown;
  }
  const char* first = text.data() + colon + 1;
  const char* last = end == std::string::npos ? text.data() + text.size() : text.data() + end;
  pid_t pid = 0;
  const auto [ptr, ec] = std::from_chars(first, last, pid);
  if (ec != std::errc() || ptr != last || pid <= 0) {
    return ProcessState::unknown;
  }
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return ProcessState::gone;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    const auto paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') {
      return ProcessState::gone;
    }
  }
  return ProcessState::alive;
}

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
  const std::string lock = mysql_lock_name(db, name);
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
  const auto until = Clock::now() + wait;
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

} // namespace

RunLock::RunLock(Database& db,
                 const std::string& holder,
                 const std::string& name,
                 std::chrono::seconds dead_holder_wait)
  : m_db(db)
  , m_name(name)
{
  if (db.backend() == Backend::sqlite) {
    // The kernel drops a process's flock when it ends: a held flock always
    // belongs to a live process.
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
  const std::string lock = mysql_lock_name(db, name);
  const auto started = Clock::now();
  std::optional<MysqlHolder> dead;
  auto wait = std::chrono::milliseconds(0);
  while (!get_mysql_lock(db, lock, wait)) {
    const std::optional<MysqlHolder> other = mysql_holder(db, name);
    if (other && other->gone_why.empty()) {
      throw LockHeld("another billing process holds the lock on " + db.url().display() + ": "
                     + other->text);
    }
    if (Clock::now() - started >= dead_holder_wait) {
      const std::string waited = std::to_string(dead_holder_wait.count()) + " s";
      throw DatabaseUnavailable(
        other ? "the server has not released the lock on " + db.url().display() + " of "
                  + other->text + ", which has ended (" + other->gone_why + "), within " + waited
                  + " (the server may still be rolling that holder's work back, or keep its "
                    "connection after losing its client; `billing status` names it); run again "
                    "later"
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
                 std::chrono::duration<double>(Clock::now() - started).count());
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
}

RunLock::~RunLock()
{
  if (m_fd >= 0) {
    ::close(m_fd); // releases the flock
    return;
  }
  try {
    const std::string lock = mysql_lock_name(m_db, m_name);
    long long released = 0;
    soci::indicator ind = soci::i_null;
    m_db.sql() << "SELECT RELEASE_LOCK(:lock)", soci::use(lock), soci::into(released, ind);
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
  const std::optional<MysqlHolder> h = mysql_holder(db, name);
  if (!h) {
    return std::nullopt;
  }
  if (!h->gone_why.empty()) {
    return h->text + " (ended: " + h->gone_why + "; the server is releasing its lock)";
  }
  return h->text;
}

} // namespace billing
