// What the run lock's two implementations (dialect_sqlite.cpp: flock;
// dialect_mysql.cpp: GET_LOCK) share: how a holder names itself and how a
// reader tells a live holder from one that has ended. run_lock.hpp is the API.
#pragma once

#include <chrono>
#include <string>

namespace billing {

using LockClock = std::chrono::steady_clock; // never now_utc(): tests freeze it

// A new holder writes its name just after it takes the lock, so a reader that
// finds the lock taken may see no name, or the name of a holder that died: it
// looks again for a short while.
inline constexpr int k_holder_reads_max = 40;
inline constexpr auto k_holder_read_pause = std::chrono::milliseconds(25);

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
ProcessState process_state(const std::string& text);

} // namespace billing
