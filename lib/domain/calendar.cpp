#include "domain/calendar.hpp"

#include "util/assert.hpp"

#include <algorithm>
#include <cstdio>

namespace billing {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days: exact for the
// proleptic Gregorian calendar.
long long days_from_civil(long long y, unsigned m, unsigned d)
{
  y -= m <= 2 ? 1 : 0;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

Ymd civil_from_days(long long z)
{
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long y = static_cast<long long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Ymd{ static_cast<int>(y + (m <= 2 ? 1 : 0)), m, d };
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

constexpr int k_year_min = 1970;
constexpr int k_year_max = 9999;

std::optional<Ymd> parse_ymd(std::string_view text)
{
  int y = 0;
  int m = 0;
  int d = 0;
  if (text.size() < 10 || !read_digits(text, 0, 4, y) || text[4] != '-'
      || !read_digits(text, 5, 2, m) || text[7] != '-' || !read_digits(text, 8, 2, d)) {
    return std::nullopt;
  }
  if (y < k_year_min || y > k_year_max || m < 1 || m > 12 || d < 1
      || d > static_cast<int>(days_in_month(y, static_cast<unsigned>(m)))) {
    return std::nullopt;
  }
  return Ymd{ y, static_cast<unsigned>(m), static_cast<unsigned>(d) };
}

} // namespace

bool is_leap_year(int year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned days_in_month(int year, unsigned month)
{
  static constexpr unsigned k_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  BILLING_REQUIRE(month >= 1 && month <= 12);
  return month == 2 && is_leap_year(year) ? 29 : k_days[month - 1];
}

Date to_date(Ymd ymd)
{
  BILLING_REQUIRE(ymd.month >= 1 && ymd.month <= 12 && ymd.day >= 1
                  && ymd.day <= days_in_month(ymd.year, ymd.month));
  return Date{ static_cast<int>(days_from_civil(ymd.year, ymd.month, ymd.day)) };
}

Ymd to_ymd(Date d)
{
  return civil_from_days(d.days);
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
  return to_date(*ymd);
}

std::string format_date(Date d)
{
  const Ymd ymd = to_ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", ymd.year, ymd.month, ymd.day);
  return buf;
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
  return Instant{ start_of(to_date(*ymd)).us + seconds * k_us_per_second + micros };
}

std::string format_instant(Instant t)
{
  const Date d = date_of(t);
  const long long in_day = t.us - start_of(d).us;
  const long long secs = in_day / k_us_per_second;
  const long long micros = in_day % k_us_per_second;
  char buf[48];
  if (micros == 0) {
    std::snprintf(buf,
                  sizeof buf,
                  "%sT%02lld:%02lld:%02lldZ",
                  format_date(d).c_str(),
                  secs / 3600,
                  secs / 60 % 60,
                  secs % 60);
  } else {
    std::snprintf(buf,
                  sizeof buf,
                  "%sT%02lld:%02lld:%02lld.%06lldZ",
                  format_date(d).c_str(),
                  secs / 3600,
                  secs / 60 % 60,
                  secs % 60,
                  micros);
  }
  return buf;
}

Date add_months_clamped(Date d, long long months)
{
  const Ymd ymd = to_ymd(d);
  const long long month_index = static_cast<long long>(ymd.year) * 12 + (ymd.month - 1) + months;
  const int year = static_cast<int>(month_index / 12);
  const unsigned month = static_cast<unsigned>(month_index % 12) + 1;
  const unsigned day = std::min(ymd.day, days_in_month(year, month));
  return to_date(Ymd{ year, month, day });
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
