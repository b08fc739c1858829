#include "storage/lock_support.hpp"

#include "ops/clock.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>

namespace billing {

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

} // namespace billing
