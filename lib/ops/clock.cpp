#include "ops/clock.hpp"

#include <unistd.h>

#include <chrono>

namespace billing {

Instant now_utc()
{
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Instant{ std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count() };
}

std::string process_identity()
{
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) {
    host[0] = '?';
  }
  return std::string(host) + ":" + std::to_string(getpid());
}

} // namespace billing
