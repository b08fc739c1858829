// The system's time-zone database through date/tz.h, built as Debian builds
// it (USE_OS_TZDB: tzdata's /usr/share/zoneinfo, linked with date-tz). No zone
// rule of ours is tested here (SPEC section 16 is another issue): this checks
// the build reaches the database and reads a transition right.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace {

using namespace std::chrono_literals;

TEST(TzdbTest, NewYorkSpringsForwardAt0700ZOnMarch8th2026)
{
  const date::time_zone* zone = date::locate_zone("America/New_York");
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ(zone->name(), "America/New_York");
  const date::sys_seconds change = date::sys_days{ date::year{ 2026 } / date::March / 8 } + 7h;

  const date::sys_info winter = zone->get_info(change - 1s);
  EXPECT_EQ(winter.offset, -5h);
  EXPECT_EQ(winter.abbrev, "EST");
  EXPECT_EQ(winter.end, change);

  const date::sys_info summer = zone->get_info(change);
  EXPECT_EQ(summer.begin, change);
  EXPECT_EQ(summer.offset, -4h);
  // The compiled TZif files carry a DST flag, not the rules' 60-minute save:
  // with USE_OS_TZDB, date reports any daylight time as a save of 1min.
  EXPECT_NE(summer.save, 0min);
  EXPECT_EQ(winter.save, 0min);
  EXPECT_EQ(summer.abbrev, "EDT");
}

TEST(TzdbTest, AnUnknownZoneNameThrows)
{
  EXPECT_THROW(date::locate_zone("America/Nowhere"), std::runtime_error);
}

} // namespace
