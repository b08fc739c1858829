// Helpers of the engine's unit tests (tests/unit/engine_*_test.cpp): dates,
// instants and credits from literals, and readable gtest messages for the
// strong types (found by argument-dependent lookup in namespace billing).
#pragma once

#include "domain/calendar.hpp"
#include "domain/types.hpp"
#include "support/time_text.hpp"

#include <ostream>

namespace billing {

inline void PrintTo(const Credits& c, std::ostream* os)
{
  *os << c.n << " credits";
}
inline void PrintTo(const Instant& t, std::ostream* os)
{
  *os << format_instant(t);
}
inline void PrintTo(const Date& d, std::ostream* os)
{
  *os << format_date(d);
}

namespace testing {

inline Date day(const char* text)
{
  return date(text);
}

inline Instant at(const char* text)
{
  return instant(text);
}

inline Credits cr(long long n)
{
  return Credits{ n };
}

} // namespace testing

} // namespace billing
