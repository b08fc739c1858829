// The operating system's time-zone database (tzdata under
// /usr/share/zoneinfo, read by date/tz.h built with USE_OS_TZDB): account
// zone names to the domain's Zones (domain/zone.hpp). Its index of names is
// read at the first lookup of a zone other than UTC, and a zone's
// transitions at its first lookup, which is what keeps the domain free of
// I/O: a Zone leaves here with its data in memory. Each name is looked up
// once per process (the answers are cached; thread-safe), so a night costs
// one lookup per distinct zone, not one per account.
#pragma once

#include "domain/zone.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace billing {

// The zone of an account's `time_zone` column: "UTC" (and an empty name)
// without touching the database; another name through the system's tzdata;
// nullopt for a name tzdata does not know. Throws std::runtime_error when
// the tzdata cannot be read at all.
std::optional<Zone> find_time_zone(std::string_view name);

// The tzdata release in use ("2025b"), as `billing status` shows it;
// "unknown" when the database does not say.
std::string tzdata_version();

} // namespace billing
