#include "ops/clock.hpp"

#include "domain/calendar.hpp"
#include "util/errors.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>

namespace billing {

namespace {

// Read once: the environment does not change while the program runs.
std::optional<Instant> fake_now()
{
  static const std::optional<Instant> fixed = []() -> std::optional<Instant> {
    const char* text = std::getenv(k_fake_now_env);
    if (text == nullptr || *text == '\0') {
      return std::nullopt;
    }
    const auto t = parse_instant(text);
    if (!t) {
      throw UsageError(std::string(k_fake_now_env)
                       + " is not an instant (YYYY-MM-DDTHH:MM:SSZ): " + text);
    }
    return t;
  }();
  static std::once_flag announced;
  if (fixed) {
    std::call_once(announced, [] {
      spdlog::debug(
        "the clock stands at {} ({}; for tests only)", format_instant(*fixed), k_fake_now_env);
    });
  }
  return fixed;
}

} // namespace

Instant now_utc()
{
  if (const auto fixed = fake_now()) {
    return *fixed;
  }
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
