// The local wall times of SPEC section 16 on the time line, on real tzdata
// transitions (the system's zoneinfo, through ops/time_zones): RFC 5545's
// gap rule (later by the gap's length) and repeated-time rule (the first
// occurrence), cycle starts at local midnight, roll-over expiry at the local
// midnight 30 days on, default 12-month expiries at the same wall time, and
// the first business date of an account east of UTC.
#include "domain/zone.hpp"
#include "ops/time_zones.hpp"
#include "support/time_text.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <string>

namespace billing {
namespace {

using testing::date;
using testing::instant;

// A wall time in the text form of an instant, without the 'Z'.
LocalTime wall(const std::string& text)
{
  return LocalTime{ instant((text + "Z").c_str()).us };
}

Zone zone(const char* name)
{
  const auto z = find_time_zone(name);
  EXPECT_TRUE(z.has_value()) << name;
  return z.value_or(Zone::utc());
}

TEST(ZoneTest, LocalMidnightsOnRealTransitions)
{
  const struct
  {
    const char* zone;
    const char* local_date;
    const char* expected;
    const char* why;
  } cases[] = {
    { "America/New_York", "2026-03-08", "2026-03-08T05:00:00Z", "EST, the day clocks spring" },
    { "America/New_York", "2026-03-09", "2026-03-09T04:00:00Z", "EDT from then on" },
    { "America/New_York", "2026-11-01", "2026-11-01T04:00:00Z", "EDT, the day clocks fall" },
    { "America/New_York", "2026-11-02", "2026-11-02T05:00:00Z", "EST again" },
    // Clocks jump from 00:00 to 01:00: midnight is in the gap, moved 1 h later.
    { "America/Havana", "2026-03-08", "2026-03-08T05:00:00Z", "gap: 01:00 CDT" },
    { "America/Havana", "2026-03-07", "2026-03-07T05:00:00Z", "CST" },
    // Clocks fall from 01:00 CDT to 00:00 CST: midnight occurs twice, the first counts.
    { "America/Havana", "2026-11-01", "2026-11-01T04:00:00Z", "repeated: first, CDT" },
    { "America/Havana", "2026-11-02", "2026-11-02T05:00:00Z", "CST" },
    { "America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z", "gap: 01:00 -03" },
    { "America/Santiago", "2026-04-04", "2026-04-04T03:00:00Z", "-03" },
    { "America/Santiago", "2026-04-05", "2026-04-05T04:00:00Z", "-04, after 23:00 repeated" },
    { "Asia/Beirut", "2026-03-29", "2026-03-28T22:00:00Z", "gap: reset at 01:00 EEST" },
    { "Asia/Beirut", "2026-10-25", "2026-10-24T22:00:00Z", "EET, after 23:00 repeated" },
    { "Australia/Lord_Howe", "2026-10-04", "2026-10-03T13:30:00Z", "+10:30" },
    { "Australia/Lord_Howe", "2026-10-05", "2026-10-04T13:00:00Z", "+11" },
    { "Pacific/Chatham", "2026-01-15", "2026-01-14T10:15:00Z", "+13:45" },
    { "Pacific/Chatham", "2026-06-15", "2026-06-14T11:15:00Z", "+12:45" },
    { "Asia/Kolkata", "2026-03-08", "2026-03-07T18:30:00Z", "+05:30, no DST" },
    { "Asia/Kolkata", "2026-11-01", "2026-10-31T18:30:00Z", "+05:30, no DST" },
    { "Europe/London", "2026-03-29", "2026-03-29T00:00:00Z", "GMT" },
    { "Europe/London", "2026-03-30", "2026-03-29T23:00:00Z", "BST: same UTC date" },
    { "UTC", "2026-03-08", "2026-03-08T00:00:00Z", "UTC" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_instant(local_midnight(zone(c.zone), date(c.local_date))), c.expected)
      << c.zone << " " << c.local_date << " (" << c.why << ")";
  }
}

TEST(ZoneTest, WallTimesInGapsMoveLaterByTheGapAndRepeatedOnesTakeTheFirst)
{
  const struct
  {
    const char* zone;
    const char* wall;
    const char* expected;
  } cases[] = {
    // New York springs 02:00 -> 03:00 EDT: 02:30 is 03:30 EDT.
    { "America/New_York", "2026-03-08T02:30:00", "2026-03-08T07:30:00Z" },
    { "America/New_York", "2026-03-08T02:00:00", "2026-03-08T07:00:00Z" },
    { "America/New_York", "2026-03-08T01:59:59", "2026-03-08T06:59:59Z" },
    { "America/New_York", "2026-03-08T03:00:00", "2026-03-08T07:00:00Z" },
    // Falls 02:00 EDT -> 01:00 EST: 01:30 occurs twice, the first is EDT.
    { "America/New_York", "2026-11-01T01:30:00", "2026-11-01T05:30:00Z" },
    { "America/New_York", "2026-11-01T02:00:00", "2026-11-01T07:00:00Z" },
    // A 30-minute gap and a 30-minute repeat.
    { "Australia/Lord_Howe", "2026-10-04T02:15:00", "2026-10-03T15:45:00Z" },
    { "Australia/Lord_Howe", "2026-04-05T01:45:00", "2026-04-04T14:45:00Z" },
    // Chatham springs 02:45 -> 03:45 (+13:45).
    { "Pacific/Chatham", "2026-09-27T03:00:00", "2026-09-26T14:15:00Z" },
    { "Asia/Beirut", "2026-03-29T00:30:00", "2026-03-28T22:30:00Z" },
    { "Asia/Beirut", "2026-10-24T23:30:00", "2026-10-24T20:30:00Z" },
    // Microseconds are kept.
    { "America/New_York", "2026-03-08T02:30:00.250000", "2026-03-08T07:30:00.250000Z" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_instant(resolve_local(zone(c.zone), wall(c.wall))), c.expected)
      << c.zone << " " << c.wall;
  }
}

// date::zoned_time with choose::earliest puts a gap time at the transition,
// which is not RFC 5545's answer; this is why the rule is ours.
TEST(ZoneTest, ChooseEarliestIsNotTheGapRule)
{
  using namespace std::chrono_literals;
  const Zone ny = zone("America/New_York");
  const date::local_seconds gap_time{ date::local_days{ date::year{ 2026 } / 3 / 8 } + 2h + 30min };
  const date::zoned_seconds earliest{ ny.tz(), gap_time, date::choose::earliest };
  EXPECT_EQ(
    format_instant(Instant{ earliest.get_sys_time().time_since_epoch().count() * k_us_per_second }),
    "2026-03-08T07:00:00Z");
  EXPECT_EQ(format_instant(resolve_local(ny, wall("2026-03-08T02:30:00"))), "2026-03-08T07:30:00Z");
}

TEST(ZoneTest, LocalDatesAndTimesOfInstants)
{
  const struct
  {
    const char* zone;
    const char* at;
    const char* local_date;
  } cases[] = {
    { "America/New_York", "2026-03-08T04:59:59Z", "2026-03-07" },
    { "America/New_York", "2026-03-08T05:00:00Z", "2026-03-08" },
    { "Asia/Kolkata", "2026-03-07T18:30:00Z", "2026-03-08" },
    { "Pacific/Chatham", "2026-01-14T10:15:00Z", "2026-01-15" },
    { "Europe/London", "2026-03-29T23:00:00Z", "2026-03-30" },
    { "UTC", "2026-03-29T23:00:00Z", "2026-03-29" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_date(local_date_of(zone(c.zone), instant(c.at))), c.local_date)
      << c.zone << " " << c.at;
  }
  EXPECT_EQ(local_time_of(zone("America/New_York"), instant("2026-03-08T07:30:00Z")),
            wall("2026-03-08T03:30:00"));
}

TEST(ZoneTest, CycleStartsAreLocalMidnightsOfTheClampedAnchor)
{
  const struct
  {
    const char* zone;
    const char* anchor;
    Cycle cycle;
    long long k;
    const char* expected;
  } cases[] = {
    { "America/New_York", "2026-02-01", Cycle::monthly, 0, "2026-02-01T05:00:00Z" },
    { "America/New_York", "2026-02-01", Cycle::monthly, 1, "2026-03-01T05:00:00Z" },
    { "America/New_York", "2026-02-01", Cycle::monthly, 2, "2026-04-01T04:00:00Z" },
    { "America/New_York", "2026-02-01", Cycle::monthly, 10, "2026-12-01T05:00:00Z" },
    // An anchor on the 31st east of UTC: the day before in UTC, every month.
    { "Asia/Kolkata", "2026-01-31", Cycle::monthly, 0, "2026-01-30T18:30:00Z" },
    { "Asia/Kolkata", "2026-01-31", Cycle::monthly, 1, "2026-02-27T18:30:00Z" },
    { "Asia/Kolkata", "2026-01-31", Cycle::monthly, 2, "2026-03-30T18:30:00Z" },
    { "Asia/Kolkata", "2026-01-31", Cycle::monthly, 3, "2026-04-29T18:30:00Z" },
    { "America/Havana", "2025-03-08", Cycle::annual, 1, "2026-03-08T05:00:00Z" },
    { "Asia/Beirut", "2025-03-29", Cycle::annual, 1, "2026-03-28T22:00:00Z" },
    { "Pacific/Chatham", "2024-02-29", Cycle::annual, 2, "2026-02-27T10:15:00Z" },
    { "UTC", "2026-01-31", Cycle::monthly, 1, "2026-02-28T00:00:00Z" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_instant(cycle_start(date(c.anchor), c.cycle, c.k, zone(c.zone))), c.expected)
      << c.zone << " " << c.anchor << " k=" << c.k;
  }
}

TEST(ZoneTest, UtcGivesExactlyTheInstantsOfSections3And4)
{
  const Zone utc = Zone::utc();
  for (const char* anchor : { "2026-01-31", "2024-02-29", "2026-04-30", "1970-01-01" }) {
    for (long long k = 0; k < 30; ++k) {
      for (const Cycle cycle : { Cycle::monthly, Cycle::annual }) {
        EXPECT_EQ(cycle_start(date(anchor), cycle, k, utc), cycle_start(date(anchor), cycle, k));
      }
      const Instant reset = cycle_start(date(anchor), Cycle::monthly, k);
      EXPECT_EQ(rollover_expiry(utc, reset), Instant{ reset.us + 30 * k_us_per_day });
    }
  }
  for (const char* at :
       { "2026-03-31T13:45:10.5Z", "2024-02-29T00:00:00Z", "2026-11-01T06:30:00Z" }) {
    EXPECT_EQ(add_months_local(utc, instant(at), 12), add_months_clamped(instant(at), 12)) << at;
  }
  // The tzdata UTC zone agrees with the arithmetic one.
  const auto etc_utc = find_time_zone("Etc/UTC");
  ASSERT_TRUE(etc_utc.has_value());
  EXPECT_FALSE(etc_utc->is_utc());
  EXPECT_EQ(local_midnight(*etc_utc, date("2026-03-08")), local_midnight(utc, date("2026-03-08")));
}

TEST(ZoneTest, RolloverLotsExpireAtTheLocalMidnightThirtyDaysOn)
{
  const struct
  {
    const char* zone;
    const char* made_at;
    const char* expected;
  } cases[] = {
    // Made at 00:00 EST on 03-01; 03-31 00:00 is EDT: 29 days 23 hours later.
    { "America/New_York", "2026-03-01T05:00:00Z", "2026-03-31T04:00:00Z" },
    { "America/New_York", "2026-10-15T04:00:00Z", "2026-11-14T05:00:00Z" },
    // Made at the gap's 01:00 CDT of 03-08: local date 03-08, expires 04-07 00:00 CDT.
    { "America/Havana", "2026-03-08T05:00:00Z", "2026-04-07T04:00:00Z" },
    // Expiry lands in Havana's gap: 00:00 of 03-08 is 01:00 CDT.
    { "America/Havana", "2026-02-06T05:00:00Z", "2026-03-08T05:00:00Z" },
    // 00:00 EET of 02-28, then 00:00 EEST of 03-30.
    { "Asia/Beirut", "2026-02-27T22:00:00Z", "2026-03-29T21:00:00Z" },
    { "Australia/Lord_Howe", "2026-09-14T13:30:00Z", "2026-10-14T13:00:00Z" },
    { "Asia/Kolkata", "2026-02-27T18:30:00Z", "2026-03-29T18:30:00Z" },
    { "Europe/London", "2026-03-01T00:00:00Z", "2026-03-30T23:00:00Z" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_instant(rollover_expiry(zone(c.zone), instant(c.made_at))), c.expected)
      << c.zone << " " << c.made_at;
  }
}

TEST(ZoneTest, TwelveMonthExpiriesKeepTheLocalWallTime)
{
  const struct
  {
    const char* zone;
    const char* from;
    const char* expected;
  } cases[] = {
    // 08:00 EDT on 2026-03-10; 2027-03-10 is before that year's change: 08:00 EST.
    { "America/New_York", "2026-03-10T12:00:00Z", "2027-03-10T13:00:00Z" },
    // A recharge valid from 00:00Z of 03-11, i.e. 20:00 EDT of 03-10.
    { "America/New_York", "2026-03-11T00:00:00Z", "2027-03-11T01:00:00Z" },
    // 02:30 EDT of 2026-03-14 lands in 2027's gap (03-14 02:00 -> 03:00): 03:30 EDT.
    { "America/New_York", "2026-03-14T06:30:00Z", "2027-03-14T07:30:00Z" },
    // 01:30 EDT of 2025-11-01 gives 01:30 of 2026-11-01, which occurs twice:
    // the first, EDT (the second would be 06:30Z).
    { "America/New_York", "2025-11-01T05:30:00Z", "2026-11-01T05:30:00Z" },
    // 01:30 EST, the second 01:30 of 2025-11-02, gives 2026-11-02 01:30 EST.
    { "America/New_York", "2025-11-02T06:30:00Z", "2026-11-02T06:30:00Z" },
    { "Asia/Kolkata", "2026-01-31T20:00:00Z", "2027-01-31T20:00:00Z" },
    // 2026-03-31 10:00 IST + 12 months; the day clamps in February only.
    { "Asia/Kolkata", "2026-03-31T04:30:00Z", "2027-03-31T04:30:00Z" },
    // 02:15 (+10:30) of 2025-10-04 lands in 2026-10-04's 30-minute gap: 02:45 (+11).
    { "Australia/Lord_Howe", "2025-10-03T15:45:00Z", "2026-10-03T15:45:00Z" },
    { "Pacific/Chatham", "2026-02-28T12:00:00Z", "2027-02-28T12:00:00Z" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_instant(add_months_local(zone(c.zone), instant(c.from), 12)), c.expected)
      << c.zone << " " << c.from;
  }
}

TEST(ZoneTest, AnAccountTakesPartFromTheUtcDateThatHoldsItsFirstCycleStart)
{
  const struct
  {
    const char* zone;
    const char* anchor;
    const char* first_date;
  } cases[] = {
    { "UTC", "2026-01-31", "2026-01-31" },
    { "America/New_York", "2026-02-01", "2026-02-01" },
    { "Asia/Kolkata", "2026-01-31", "2026-01-30" },
    { "Australia/Sydney", "2026-03-01", "2026-02-28" },
    { "Pacific/Chatham", "2026-06-15", "2026-06-14" },
    { "Europe/London", "2026-03-30", "2026-03-29" },
    { "Europe/London", "2026-03-29", "2026-03-29" },
    { "Pacific/Honolulu", "2026-03-01", "2026-03-01" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_date(first_business_date(date(c.anchor), zone(c.zone))), c.first_date)
      << c.zone << " " << c.anchor;
  }
}

// SPEC 14 and 16: a plan change or cancellation takes effect at T_E, the
// local midnight of its effective_date (00:00Z for UTC), by the same rule as
// a cycle start; `billing import changes` (issue 15) will place it so.
TEST(ZoneTest, PlanChangeEffectiveDateStartsAtItsLocalMidnight)
{
  const struct
  {
    const char* zone;
    const char* effective_date;
    const char* t_e;
  } cases[] = {
    { "UTC", "2026-03-08", "2026-03-08T00:00:00Z" },
    { "America/New_York", "2026-03-08", "2026-03-08T05:00:00Z" },
    { "America/New_York", "2026-03-09", "2026-03-09T04:00:00Z" },
    // In a gap: 00:00 does not exist, T_E is 01:00 local.
    { "America/Havana", "2026-03-08", "2026-03-08T05:00:00Z" },
    { "America/Santiago", "2026-09-06", "2026-09-06T04:00:00Z" },
    { "Asia/Beirut", "2026-03-29", "2026-03-28T22:00:00Z" },
    // Repeated: the first 00:00.
    { "America/Havana", "2026-11-01", "2026-11-01T04:00:00Z" },
    { "Asia/Kolkata", "2026-04-01", "2026-03-31T18:30:00Z" },
    { "Pacific/Chatham", "2026-04-05", "2026-04-04T10:15:00Z" },
  };
  for (const auto& c : cases) {
    const Zone z = zone(c.zone);
    const Instant t_e = local_midnight(z, date(c.effective_date));
    EXPECT_EQ(format_instant(t_e), c.t_e) << c.zone << " " << c.effective_date;
    // The change's new cycle starts there: R_0 of the effective date.
    EXPECT_EQ(cycle_start(date(c.effective_date), Cycle::monthly, 0, z), t_e) << c.zone;
    // Its roll-over lot lives to the local midnight 30 days on.
    EXPECT_EQ(rollover_expiry(z, t_e), local_midnight(z, Date{ date(c.effective_date).days + 30 }))
      << c.zone;
  }
}

TEST(ZoneTest, NamesTzdataDoesNotKnowAreNotZones)
{
  for (const char* name : { "America/Nowhere",
                            "Mars/Olympus",
                            "../etc/passwd",
                            "right/UTC",
                            "america/new_york",
                            " UTC",
                            "EST5EDT/x" }) {
    EXPECT_FALSE(find_time_zone(name).has_value()) << name;
  }
  for (const char* name : { "UTC", "", "Etc/UTC", "America/New_York", "Asia/Kolkata" }) {
    EXPECT_TRUE(find_time_zone(name).has_value()) << name;
  }
  EXPECT_EQ(find_time_zone("America/New_York")->name(), "America/New_York");
  EXPECT_TRUE(find_time_zone("")->is_utc());
  EXPECT_NE(tzdata_version(), "unknown");
}

} // namespace
} // namespace billing
