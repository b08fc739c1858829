// The run lock: one writer (run, ingest, import, payments) per database at a
// time. SQLite: flock() on "<db path>.lock"; MySQL: GET_LOCK() on the
// connection. Both are freed by the kernel or the server when the holder dies
// or its connection drops, so a killed run never leaves a lock behind.
#pragma once

#include "storage/database.hpp"

#include <optional>
#include <string>

namespace billing {

class RunLock
{
public:
  // Takes the lock at once or throws LockHeld (exit 75) naming the holder.
  // `holder` is written where `lock_holder()` finds it.
  RunLock(Database& db, const std::string& holder, const std::string& name = "billing");
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

private:
  Database& m_db;
  std::string m_name;
  int m_fd = -1;
};

// Who holds the lock now, or nullopt when nobody does.
std::optional<std::string> lock_holder(Database& db, const std::string& name = "billing");

} // namespace billing
