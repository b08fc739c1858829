// Strong value types of the billing domain: credits, money, instants and
// business dates. Integer arithmetic only; nothing here touches a clock, a
// file or a database. Credits and cents are 64-bit signed; external inputs are
// added with checked_add so an overflow is an error, never a wrap.
#pragma once

#include <compare>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace billing {

// Throws std::overflow_error when a + b does not fit in 64 bits.
inline long long checked_add(long long a, long long b)
{
  long long out = 0;
  if (__builtin_add_overflow(a, b, &out)) {
    throw std::overflow_error("credit arithmetic overflow");
  }
  return out;
}

// Throws std::overflow_error when a * b does not fit in 64 bits.
inline long long checked_mul(long long a, long long b)
{
  long long out = 0;
  if (__builtin_mul_overflow(a, b, &out)) {
    throw std::overflow_error("credit arithmetic overflow");
  }
  return out;
}

// A whole number of credits (may be negative only as a balance net of debt).
struct Credits
{
  long long n = 0;

  constexpr auto operator<=>(const Credits&) const = default;
  Credits& operator+=(Credits o)
  {
    n = checked_add(n, o.n);
    return *this;
  }
  Credits& operator-=(Credits o)
  {
    n = checked_add(n, -o.n);
    return *this;
  }
  friend Credits operator+(Credits a, Credits b) { return a += b; }
  friend Credits operator-(Credits a, Credits b) { return a -= b; }
};

// Money in minor units (cents) of an ISO 4217 currency.
struct Money
{
  long long cents = 0;
  std::string currency;

  bool operator==(const Money&) const = default;
};

// A UTC instant, microseconds since 1970-01-01T00:00:00Z.
struct Instant
{
  long long us = 0;

  constexpr auto operator<=>(const Instant&) const = default;
};

inline constexpr long long k_us_per_second = 1'000'000;
inline constexpr long long k_us_per_day = 86'400LL * k_us_per_second;

// A business date: days since 1970-01-01. Date D is the half-open window
// [D 00:00:00Z, D+1 00:00:00Z).
struct Date
{
  int days = 0;

  constexpr auto operator<=>(const Date&) const = default;
  constexpr Date next() const { return Date{ days + 1 }; }
  constexpr Date prev() const { return Date{ days - 1 }; }
};

constexpr Instant start_of(Date d)
{
  return Instant{ static_cast<long long>(d.days) * k_us_per_day };
}

constexpr Date date_of(Instant t)
{
  // Floor division: instants before 1970 belong to the earlier day.
  long long q = t.us / k_us_per_day;
  if (t.us % k_us_per_day < 0) {
    --q;
  }
  return Date{ static_cast<int>(q) };
}

} // namespace billing
