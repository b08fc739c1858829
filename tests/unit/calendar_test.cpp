// Calendar arithmetic: text forms of dates and instants, and the clamped month
// rule of SPEC section 3 that cycle starts and purchase expiries rely on.
#include "domain/calendar.hpp"
#include "support/time_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace billing {
namespace {

using testing::date;
using testing::instant;

TEST(CalendarTest, LeapYearsFollowTheGregorianRule)
{
  const struct
  {
    int year;
    bool leap;
  } cases[] = { { 1900, false }, { 2000, true }, { 2023, false }, { 2024, true },
                { 2026, false }, { 2028, true }, { 2100, false }, { 2400, true } };
  for (const auto& c : cases) {
    EXPECT_EQ(is_leap_year(c.year), c.leap) << c.year;
  }
  EXPECT_EQ(days_in_month(2024, 2), 29u);
  EXPECT_EQ(days_in_month(2026, 2), 28u);
  EXPECT_EQ(days_in_month(2026, 4), 30u);
  EXPECT_EQ(days_in_month(2026, 12), 31u);
}

TEST(CalendarTest, GoodDatesParseAndFormatBack)
{
  const struct
  {
    const char* text;
    int days_since_epoch;
  } cases[] = {
    { "1970-01-01", 0 },     { "1970-01-02", 1 },     { "2000-03-01", 11017 },
    { "2024-02-29", 19782 }, { "2026-01-31", 20484 }, { "9999-12-31", 2932896 },
  };
  for (const auto& c : cases) {
    const auto d = parse_date(c.text);
    ASSERT_TRUE(d.has_value()) << c.text;
    EXPECT_EQ(d->days, c.days_since_epoch) << c.text;
    EXPECT_EQ(format_date(*d), c.text);
  }
}

TEST(CalendarTest, BadDatesAreRejected)
{
  const char* cases[] = {
    "",           "2026-02-30",  "2025-02-29",           "2026-04-31",  "2026-13-01",
    "2026-00-10", "2026-01-00",  "2026-01-32",           "2026-1-01",   "26-01-01",
    "2026/01/01", "2026-01-01x", " 2026-01-01",          "2026-01-01 ", "1969-12-31",
    "2026-0a-01", "+026-01-01",  "2026-01-01T00:00:00Z",
  };
  for (const char* text : cases) {
    EXPECT_FALSE(parse_date(text).has_value()) << '"' << text << '"';
  }
}

TEST(CalendarTest, GoodInstantsParseToTheMicrosecond)
{
  const long long day_2026_03_01 = 20513LL * k_us_per_day;
  const struct
  {
    const char* text;
    long long us;
  } cases[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-03-01T00:00:00Z", day_2026_03_01 },
    { "2026-03-01T00:00:01Z", day_2026_03_01 + 1'000'000 },
    { "2026-03-01T12:34:56Z", day_2026_03_01 + (12 * 3600 + 34 * 60 + 56) * 1'000'000LL },
    { "2026-03-01T00:00:00.5Z", day_2026_03_01 + 500'000 },
    { "2026-03-01T00:00:00.000001Z", day_2026_03_01 + 1 },
    { "2026-03-01T00:00:00.123456Z", day_2026_03_01 + 123'456 },
    // Beyond the microsecond digits are truncated, never rounded up.
    { "2026-03-01T00:00:00.1234569Z", day_2026_03_01 + 123'456 },
    { "2026-03-01T00:00:00.000000999Z", day_2026_03_01 },
    { "2026-03-01T23:59:59.9999999Z", day_2026_03_01 + k_us_per_day - 1 },
    { "2026-03-01T23:59:59.999999999Z", day_2026_03_01 + k_us_per_day - 1 },
  };
  for (const auto& c : cases) {
    const auto t = parse_instant(c.text);
    ASSERT_TRUE(t.has_value()) << c.text;
    EXPECT_EQ(t->us, c.us) << c.text;
  }
}

TEST(CalendarTest, FractionNeverRollsIntoTheNextSecondOrDate)
{
  const Instant t = instant("2026-03-01T23:59:59.9999999Z");
  EXPECT_EQ(date_of(t), date("2026-03-01"));
  EXPECT_EQ(format_instant(t), "2026-03-01T23:59:59.999999Z");
}

TEST(CalendarTest, BadInstantsAreRejected)
{
  const char* cases[] = {
    "",
    "2026-03-01",
    "2026-03-01T00:00:00",
    "2026-03-01T00:00:00z",
    "2026-03-01 00:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T00:60:00Z",
    "2026-03-01T00:00:60Z",
    "2026-03-01T0:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-03-01T00:00:00.Z",
    "2026-03-01T00:00:00.1234567890Z",
    "2026-03-01T00:00:00,5Z",
    "2026-03-01T00:00:00.5aZ",
    "2026-03-01T00:00:00+00:00",
    "2026-03-01T00:00:00ZZ",
    "2026-03-01T00-00-00Z",
  };
  for (const char* text : cases) {
    EXPECT_FALSE(parse_instant(text).has_value()) << '"' << text << '"';
  }
}

TEST(CalendarTest, InstantsFormatBackToTheirText)
{
  const char* cases[] = {
    "1970-01-01T00:00:00Z",        "2026-03-01T00:00:00Z",        "2026-12-31T23:59:59Z",
    "2024-02-29T12:00:00.000001Z", "2024-02-29T12:00:00.500000Z",
  };
  for (const char* text : cases) {
    EXPECT_EQ(format_instant(instant(text)), text);
  }
}

TEST(CalendarTest, DateOfIsTheHalfOpenDayWindow)
{
  const Date d = date("2026-03-01");
  EXPECT_EQ(date_of(start_of(d)), d);
  EXPECT_EQ(date_of(Instant{ start_of(d.next()).us - 1 }), d);
  EXPECT_EQ(date_of(start_of(d.next())), d.next());
  EXPECT_EQ(date_of(Instant{ -1 }), Date{ -1 });
}

TEST(CalendarTest, AddMonthsClampsTheDayToShorterMonths)
{
  const struct
  {
    const char* from;
    long long months;
    const char* to;
  } cases[] = {
    { "2026-01-31", 1, "2026-02-28" },  { "2026-01-31", 2, "2026-03-31" },
    { "2026-01-31", 3, "2026-04-30" },  { "2026-04-30", 1, "2026-05-30" },
    { "2026-01-30", 1, "2026-02-28" },  { "2026-01-29", 1, "2026-02-28" },
    { "2028-01-29", 1, "2028-02-29" },  { "2024-02-29", 12, "2025-02-28" },
    { "2024-02-29", 48, "2028-02-29" }, { "2026-12-15", 1, "2027-01-15" },
    { "2026-11-30", 3, "2027-02-28" },  { "2026-05-31", 0, "2026-05-31" },
    { "2026-03-31", 12, "2027-03-31" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_date(add_months_clamped(date(c.from), c.months)), c.to)
      << c.from << " + " << c.months;
  }
}

TEST(CalendarTest, AddMonthsAcrossCenturiesAndBackwards)
{
  const struct
  {
    const char* from;
    long long months;
    const char* to;
  } cases[] = {
    { "2096-02-29", 48, "2100-02-28" },   { "1996-02-29", 48, "2000-02-29" },
    { "2000-02-29", 1200, "2100-02-28" }, { "2026-03-31", -1, "2026-02-28" },
    { "2026-01-15", -1, "2025-12-15" },   { "2026-01-31", -13, "2024-12-31" },
    { "2028-03-30", -1, "2028-02-29" },   { "9999-12-31", 1, "10000-01-31" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_date(add_months_clamped(date(c.from), c.months)), c.to)
      << c.from << " + " << c.months;
  }
}

TEST(CalendarTest, DaysAndCivilDatesConvertBothWays)
{
  unsigned year_days = 0;
  for (unsigned month = 1; month <= 12; ++month) {
    year_days += days_in_month(2024, month);
  }
  EXPECT_EQ(year_days, 366u);
  Ymd previous = to_ymd(Date{ -800 });
  for (int days = -799; days <= 2'933'000; days += 1) {
    const Ymd ymd = to_ymd(Date{ days });
    ASSERT_EQ(to_date(ymd), Date{ days }) << days;
    const bool next_day =
      ymd.year == previous.year && ymd.month == previous.month && ymd.day == previous.day + 1;
    const bool next_month = ymd.day == 1
                            && previous.day == days_in_month(previous.year, previous.month)
                            && (ymd.month == previous.month % 12 + 1)
                            && ymd.year == previous.year + (previous.month == 12 ? 1 : 0);
    ASSERT_TRUE(next_day || next_month) << days;
    previous = ymd;
  }
}

TEST(CalendarTest, InstantsBeforeTheEpochFormatOnTheirOwnDay)
{
  EXPECT_EQ(format_instant(Instant{ -1 }), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_instant(Instant{ -k_us_per_day }), "1969-12-31T00:00:00Z");
  EXPECT_EQ(format_instant(Instant{ -k_us_per_day - 1 }), "1969-12-30T23:59:59.999999Z");
}

TEST(CalendarTest, AddMonthsToAnInstantKeepsTheTimeOfDay)
{
  const struct
  {
    const char* from;
    long long months;
    const char* to;
  } cases[] = {
    { "2025-03-10T14:30:15Z", 12, "2026-03-10T14:30:15Z" },
    { "2024-02-29T23:59:59Z", 12, "2025-02-28T23:59:59Z" },
    { "2026-01-31T00:00:00.000001Z", 1, "2026-02-28T00:00:00.000001Z" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_instant(add_months_clamped(instant(c.from), c.months)), c.to) << c.from;
  }
}

TEST(CycleTest, CycleStartsAreComputedFromTheAnchorNotThePreviousStart)
{
  const struct
  {
    const char* anchor;
    Cycle cycle;
    long long k;
    const char* start;
  } cases[] = {
    { "2026-01-31", Cycle::monthly, 0, "2026-01-31" },
    { "2026-01-31", Cycle::monthly, 1, "2026-02-28" },
    { "2026-01-31", Cycle::monthly, 2, "2026-03-31" },
    { "2026-01-31", Cycle::monthly, 3, "2026-04-30" },
    { "2026-01-31", Cycle::monthly, 4, "2026-05-31" },
    { "2026-01-30", Cycle::monthly, 1, "2026-02-28" },
    { "2026-01-30", Cycle::monthly, 2, "2026-03-30" },
    { "2026-01-29", Cycle::monthly, 1, "2026-02-28" },
    { "2026-01-29", Cycle::monthly, 2, "2026-03-29" },
    { "2026-04-30", Cycle::monthly, 1, "2026-05-30" },
    { "2026-11-30", Cycle::monthly, 2, "2027-01-30" },
    { "2024-02-29", Cycle::annual, 1, "2025-02-28" },
    { "2024-02-29", Cycle::annual, 2, "2026-02-28" },
    { "2024-02-29", Cycle::annual, 4, "2028-02-29" },
    { "2024-02-29", Cycle::annual, 76, "2100-02-28" },
    { "2026-01-31", Cycle::monthly, 13, "2027-02-28" },
    { "2026-01-31", Cycle::monthly, 25, "2028-02-29" },
    { "2026-03-15", Cycle::annual, 1, "2027-03-15" },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(cycle_start(date(c.anchor), c.cycle, c.k), start_of(date(c.start)))
      << c.anchor << " " << to_string(c.cycle) << " k=" << c.k;
  }
}

TEST(CycleTest, CycleNamesParse)
{
  EXPECT_EQ(parse_cycle("monthly"), Cycle::monthly);
  EXPECT_EQ(parse_cycle("annual"), Cycle::annual);
  EXPECT_FALSE(parse_cycle("Monthly").has_value());
  EXPECT_FALSE(parse_cycle("yearly").has_value());
  EXPECT_FALSE(parse_cycle("").has_value());
  EXPECT_EQ(to_string(Cycle::monthly), "monthly");
  EXPECT_EQ(to_string(Cycle::annual), "annual");
}

} // namespace
} // namespace billing
