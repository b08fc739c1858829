#include "ops/time_zones.hpp"

#include <date/tz.h>

#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

namespace billing {

namespace {

// Where Debian's tzdata installs (date/tz.h with USE_OS_TZDB reads it too).
constexpr std::string_view k_zoneinfo_dir = "/usr/share/zoneinfo";

struct Cache
{
  std::mutex mutex;
  std::map<std::string, std::optional<Zone>, std::less<>> zones;
};

Cache& cache()
{
  static Cache c;
  return c;
}

// Reads the zone's transitions now (date loads them lazily at the first
// conversion), so that the domain's conversions never read a file.
std::optional<Zone> locate(std::string_view name)
{
  // tzdata's "right/" zones count leap seconds into their offsets, which our
  // instants (POSIX time) do not; and names must be plain zone names.
  if (name.starts_with("right/") || name.find("..") != std::string_view::npos) {
    return std::nullopt;
  }
  (void)date::get_tzdb(); // an unreadable database throws here, not below
  try {
    const date::time_zone* tz = date::locate_zone(name);
    (void)tz->get_info(date::sys_seconds{ std::chrono::seconds{ 0 } });
    return Zone(tz);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

} // namespace

std::optional<Zone> find_time_zone(std::string_view name)
{
  if (name.empty() || name == "UTC") {
    return Zone::utc();
  }
  Cache& c = cache();
  const std::lock_guard guard(c.mutex);
  const auto known = c.zones.find(name);
  if (known != c.zones.end()) {
    return known->second;
  }
  return c.zones.emplace(std::string(name), locate(name)).first->second;
}

std::string tzdata_version()
{
  std::string version;
  try {
    version = date::get_tzdb().version;
  } catch (const std::runtime_error&) {
    return "unknown";
  }
  if (!version.empty() && version != "unknown") {
    return version;
  }
  // date looks for <zoneinfo>/+VERSION, which Debian's tzdata does not ship;
  // its tzdata.zi (the text form of the same release) opens with the
  // release: "# version 2025b". Only that line is read.
  std::ifstream zi(std::string(k_zoneinfo_dir) + "/tzdata.zi");
  std::string line;
  constexpr std::string_view k_prefix = "# version ";
  if (zi && std::getline(zi, line) && line.starts_with(k_prefix) && line.size() > k_prefix.size()
      && line.size() < 64) {
    return line.substr(k_prefix.size());
  }
  return "unknown";
}

} // namespace billing
