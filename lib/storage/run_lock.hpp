// The run lock: one writer (run, ingest, import, payments) per database at a
// time, taken through the database's dialect (dialect.hpp). SQLite: flock()
// on "<db path>.lock"; MySQL: GET_LOCK() on the connection. Both are freed by the kernel or the
// server when the holder dies or its connection drops, so a killed run never leaves a lock behind.
//
// A dead holder never refuses the next command. On SQLite the kernel frees the
// flock when the process ends, before its parent even sees it gone. On MySQL
// the server keeps a killed client's lock until it has finished that client's
// statement and rolled its transaction back (seconds, more after a large
// import); the next command sees from the holder's name ("host:pid ...
// (connection N)", table lock_holder) that the holder is gone and waits for
// the server (bounded), instead of exiting 75. docs/decisions.md says how.
#pragma once

#include "storage/database.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace billing {

// How long a command waits for the server to release the lock of a holder
// that has ended. Past it the command exits 69, to be retried.
inline constexpr auto k_dead_holder_wait = std::chrono::seconds(60);

class RunLock
{
public:
  // Takes the lock, and writes `holder` where `lock_holder()` finds it.
  // Throws LockHeld (exit 75) at once, naming the holder, when a live process
  // holds it. When the holder has ended (MySQL: its process no longer exists on
  // this host, or its connection is gone), logs that and waits for the server
  // to release the lock, up to `dead_holder_wait`; throws DatabaseUnavailable
  // (exit 69) if it has not by then.
  RunLock(Database& db,
          const std::string& holder,
          const std::string& name = "billing",
          std::chrono::seconds dead_holder_wait = k_dead_holder_wait);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

private:
  std::unique_ptr<HeldLock> m_held;
};

// Who holds the lock now, or nullopt when nobody does. A MySQL holder that has
// ended while the server still holds its lock is named with " (ended; ...)".
std::optional<std::string> lock_holder(Database& db, const std::string& name = "billing");

} // namespace billing
