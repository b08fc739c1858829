#include "domain/calendar.hpp"

#include "util/assert.hpp"

#include <date/date.h>

#include <chrono>
#include <cstdio>

namespace billing {

namespace {

constexpr int k_year_min = 1970;
constexpr int k_year_max = 9999;

// The years date::year holds, and the Dates between their first and last
// days: the range in which the conversions below are exact (days are an
// `int` and years a `short` inside the library).
constexpr int k_civil_year_min = static_cast<int>(date::year::min());
constexpr int k_civil_year_max = static_cast<int>(date::year::max());
constexpr int k_civil_days_min =
  date::sys_days{ date::year::min() / date::January / 1 }.time_since_epoch().count();
constexpr int k_civil_days_max =
  date::sys_days{ date::year::max() / date::December / 31 }.time_since_epoch().count();

bool in_civil_range(long long year)
{
  return year >= k_civil_year_min && year <= k_civil_year_max;
}

date::year_month_day civil_of(Date d)
{
  BILLING_REQUIRE(d.days >= k_civil_days_min && d.days <= k_civil_days_max);
  return date::year_month_day{ date::sys_days{ date::days{ d.days } } };
}

// REQUIRES: ymd.ok().
Date date_of_civil(date::year_month_day ymd)
{
  BILLING_REQUIRE(ymd.ok());
  return Date{ date::sys_days{ ymd }.time_since_epoch().count() };
}

bool read_digits(std::string_view text, size_t pos, size_t count, int& out)
{
  if (pos + count > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

// The text forms are read by hand rather than with date::parse: its %Y, %m
// and %d take fewer digits than the spec's fixed widths ("2026-1-01"), and it
// goes through an istream, while this runs for every usage line.
std::optional<date::year_month_day> parse_ymd(std::string_view text)
{
  int y = 0;
  int m = 0;
  int d = 0;
  if (text.size() < 10 || !read_digits(text, 0, 4, y) || text[4] != '-'
      || !read_digits(text, 5, 2, m) || text[7] != '-' || !read_digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  const date::year_month_day ymd{ date::year{ y },
                                  date::month{ static_cast<unsigned>(m) },
                                  date::day{ static_cast<unsigned>(d) } };
  if (y < k_year_min || y > k_year_max || !ymd.ok()) {
    return std::nullopt;
  }
  return ymd;
}

} // namespace

bool is_leap_year(int year)
{
  BILLING_REQUIRE(in_civil_range(year));
  return date::year{ year }.is_leap();
}

unsigned days_in_month(int year, unsigned month)
{
  BILLING_REQUIRE(in_civil_range(year) && month >= 1 && month <= 12);
  return static_cast<unsigned>((date::year{ year } / date::month{ month } / date::last).day());
}

Date to_date(Ymd ymd)
{
  BILLING_REQUIRE(in_civil_range(ymd.year));
  return date_of_civil(
    date::year_month_day{ date::year{ ymd.year }, date::month{ ymd.month }, date::day{ ymd.day } });
}

Ymd to_ymd(Date d)
{
  const date::year_month_day ymd = civil_of(d);
  return Ymd{ static_cast<int>(ymd.year()),
              static_cast<unsigned>(ymd.month()),
              static_cast<unsigned>(ymd.day()) };
}

std::optional<Date> parse_date(std::string_view text)
{
  if (text.size() != 10) {
    return std::nullopt;
  }
  const auto ymd = parse_ymd(text);
  if (!ymd) {
    return std::nullopt;
  }
  return date_of_civil(*ymd);
}

namespace {

// Writes `value` (0 <= value < 10^width) as `width` digits at `out`.
char* put_digits(char* out, long long value, int width)
{
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// "YYYY-MM-DD" at `out` (10 characters; a year outside 0..9999, which no
// input can hold, as snprintf's "%04d" writes it, at most 16). The nightly
// run formats a date for every account and an instant for every plan lot:
// digits are written by hand, not through snprintf.
char* put_date(char* out, Date d)
{
  const Ymd ymd = to_ymd(d);
  if (ymd.year < 0 || ymd.year > 9999) {
    const int n = std::snprintf(out, 17, "%04d-%02u-%02u", ymd.year, ymd.month, ymd.day);
    return out + n;
  }
  out = put_digits(out, ymd.year, 4);
  *out++ = '-';
  out = put_digits(out, ymd.month, 2);
  *out++ = '-';
  return put_digits(out, ymd.day, 2);
}

} // namespace

std::string format_date(Date d)
{
  char buf[17];
  return std::string(buf, put_date(buf, d));
}

std::optional<Instant> parse_instant(std::string_view text)
{
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  if (text.size() < 20 || text[10] != 'T' || text.back() != 'Z') {
    return std::nullopt;
  }
  const auto ymd = parse_ymd(text.substr(0, 10));
  int hh = 0;
  int mm = 0;
  int ss = 0;
  if (!ymd || !read_digits(text, 11, 2, hh) || text[13] != ':' || !read_digits(text, 14, 2, mm)
      || text[16] != ':' || !read_digits(text, 17, 2, ss) || hh > 23 || mm > 59 || ss > 59) {
    return std::nullopt;
  }
  long long micros = 0;
  const size_t frac_begin = 19;
  const size_t end = text.size() - 1; // the 'Z'
  if (frac_begin != end) {
    if (text[frac_begin] != '.' || end - frac_begin < 2 || end - frac_begin > 10) {
      return std::nullopt;
    }
    long long scale = 100'000;
    for (size_t i = frac_begin + 1; i < end; ++i) {
      const char c = text[i];
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      micros += (c - '0') * scale; // digits past the microsecond add 0: truncated
      scale /= 10;
    }
  }
  const long long seconds = static_cast<long long>(hh) * 3600 + mm * 60 + ss;
  return Instant{ start_of(date_of_civil(*ymd)).us + seconds * k_us_per_second + micros };
}

std::string format_instant(Instant t)
{
  using std::chrono::microseconds;
  const date::sys_time<microseconds> at{ microseconds{ t.us } };
  const date::sys_days day = date::floor<date::days>(at);
  const date::hh_mm_ss<microseconds> time{ at - day }; // within the day: fields in range
  const long long us = time.subseconds().count();
  char buf[40];
  char* out = put_date(buf, Date{ static_cast<int>(day.time_since_epoch().count()) });
  *out++ = 'T';
  out = put_digits(out, time.hours().count(), 2);
  *out++ = ':';
  out = put_digits(out, time.minutes().count(), 2);
  *out++ = ':';
  out = put_digits(out, time.seconds().count(), 2);
  if (us != 0) {
    *out++ = '.';
    out = put_digits(out, us, 6);
  }
  *out++ = 'Z';
  return std::string(buf, out);
}

Date add_months_clamped(Date d, long long months)
{
  const date::year_month_day from = civil_of(d);
  // A year between d's and the result's: in range, the library's year cannot
  // wrap and `months` fits its int.
  const long long year_near = static_cast<int>(from.year()) + months / 12;
  BILLING_REQUIRE(year_near > k_civil_year_min && year_near < k_civil_year_max);
  const date::year_month_day to = from + date::months{ static_cast<int>(months) };
  // Day 29..31 past the end of a shorter month: that month's last day. This
  // is not date's (or boost's) month-end snapping: 04-30 + 1 month is 05-30.
  return date_of_civil(to.ok() ? to : date::year_month_day{ to.year() / to.month() / date::last });
}

Instant add_months_clamped(Instant t, long long months)
{
  const Date d = date_of(t);
  const long long time_of_day = t.us - start_of(d).us;
  return Instant{ start_of(add_months_clamped(d, months)).us + time_of_day };
}

std::optional<Cycle> parse_cycle(std::string_view text)
{
  if (text == "monthly") {
    return Cycle::monthly;
  }
  if (text == "annual") {
    return Cycle::annual;
  }
  return std::nullopt;
}

std::string_view to_string(Cycle c)
{
  return c == Cycle::monthly ? "monthly" : "annual";
}

Instant cycle_start(Date anchor, Cycle cycle, long long k)
{
  BILLING_REQUIRE(k >= 0);
  const long long months = cycle == Cycle::monthly ? k : k * 12;
  return start_of(add_months_clamped(anchor, months));
}

} // namespace billing
