// An account's time zone and the local wall times of SPEC section 16 placed
// on the UTC time line: cycle starts at local midnight, roll-over expiry at
// the local midnight 30 days on, default 12-month expiries at the same local
// wall time, and the local midnight of a plan change's effective date.
//
// A wall time is resolved as RFC 5545 does: one in a gap (clocks jump
// forward) moves later by the gap's length, one that occurs twice (clocks
// fall back) takes its first occurrence. date::zoned_time with
// choose::earliest would map a gap time to the transition instant instead,
// which is not that rule; so the rule is ours, on the zone's local_info.
//
// Pure: a Zone is a pointer to a date::time_zone whose transitions were read
// before it reached the domain (ops/time_zones.hpp loads them once, at the
// zone's first lookup), so no function here touches a file. The UTC zone
// holds no pointer and is plain arithmetic: for it every function gives
// exactly the instants of sections 3, 4 and 7 (start_of, add_months_clamped).
#pragma once

#include "domain/calendar.hpp"
#include "domain/types.hpp"

#include <string_view>

namespace date {
class time_zone;
}

namespace billing {

class Zone
{
public:
  // UTC.
  Zone() = default;
  // REQUIRES: tz is not null and its transitions are loaded (TimeZones::find
  // gives such zones).
  explicit Zone(const date::time_zone* tz);

  static Zone utc() { return Zone(); }
  bool is_utc() const { return m_tz == nullptr; }
  // "UTC", or the tzdata name.
  std::string_view name() const;
  const date::time_zone* tz() const { return m_tz; }

  bool operator==(const Zone&) const = default;

private:
  const date::time_zone* m_tz = nullptr;
};

// A local wall time: microseconds since 1970-01-01T00:00 of the zone's clocks.
struct LocalTime
{
  long long us = 0;

  constexpr auto operator<=>(const LocalTime&) const = default;
};

constexpr LocalTime local_start_of(Date d)
{
  return LocalTime{ start_of(d).us };
}

// The instant of a wall time, by RFC 5545's rule (see above).
Instant resolve_local(const Zone& zone, LocalTime t);

// The wall time the zone's clocks show at instant t.
LocalTime local_time_of(const Zone& zone, Instant t);

// The local date that holds instant t.
Date local_date_of(const Zone& zone, Instant t);

// 00:00 of local date d on the time line (01:00 local when clocks jump from
// 00:00 to 01:00 that night).
Instant local_midnight(const Zone& zone, Date d);

// The local wall time of t moved `months` months, day clamped (SPEC 4: the
// default expiry of a purchased, recharge or bonus lot at 12 months).
Instant add_months_local(const Zone& zone, Instant t, long long months);

// R_k of SPEC 3 and 16: local midnight of the anchor moved k months or years.
Instant cycle_start(Date anchor, Cycle cycle, long long k, const Zone& zone);

// The expiry of a roll-over lot made at `made_at` (a local midnight, or the
// instant a gap moved it to): the local midnight 30 days after its local date.
Instant rollover_expiry(const Zone& zone, Instant made_at);

// The first business date (UTC) an account anchored at `anchor` takes part
// in: the one that holds its R_0 (SPEC 13.1, 16).
Date first_business_date(Date anchor, const Zone& zone);

} // namespace billing
