// Calendar arithmetic on business dates and instants: parsing and printing the
// spec's text forms, and the cycle rule of SPEC section 3 (a cycle start is the
// anchor moved by whole months, computed from the anchor, with the day of
// month clamped to the last day of a shorter month; never boost's month-end
// snapping). Pure functions; invalid text gives std::nullopt, never a throw.
// The civil arithmetic (days from and to year-month-day, month lengths, leap
// years, adding months) is Howard Hinnant's date library (date/date.h, the
// proposal that became C++20's <chrono> calendar); the clamp on top is ours.
// It is exact for years -32767..32767, far beyond the 1970..9999 of any
// accepted input: a Date or year outside that range breaks a REQUIRES.
#pragma once

#include "domain/types.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace billing {

struct Ymd
{
  int year = 1970;
  unsigned month = 1; // 1..12
  unsigned day = 1;   // 1..31

  bool operator==(const Ymd&) const = default;
};

bool is_leap_year(int year);
unsigned days_in_month(int year, unsigned month);

// REQUIRES: ymd is a real calendar day.
Date to_date(Ymd ymd);
// REQUIRES (here and wherever a Date is turned into text or moved by months):
// the date is in years -32767..32767.
Ymd to_ymd(Date d);

// "YYYY-MM-DD", years 1970..9999; nullopt for anything else (2026-02-30 too).
std::optional<Date> parse_date(std::string_view text);
std::string format_date(Date d);

// "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z"; fractions are kept to the microsecond and
// truncated beyond it (never rounded up into the next second).
std::optional<Instant> parse_instant(std::string_view text);
// "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" only when the microseconds are not 0.
std::string format_instant(Instant t);

// The day `months` months after `d`, day of month clamped (Jan 31 + 1 = Feb 28).
// REQUIRES: d and the result are in years -32766..32766.
Date add_months_clamped(Date d, long long months);
// The same for an instant, keeping the time of day.
Instant add_months_clamped(Instant t, long long months);

enum class Cycle
{
  monthly,
  annual
};

std::optional<Cycle> parse_cycle(std::string_view text);
std::string_view to_string(Cycle c);

// R_k: the start of cycle k of an account anchored at `anchor` (k >= 0).
Instant cycle_start(Date anchor, Cycle cycle, long long k);

} // namespace billing
