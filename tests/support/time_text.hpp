// Test data helpers shared by the unit and database tests: dates and instants
// from their text forms (SPEC 2). A bad literal in a test is a bug of the
// test, so it throws (gtest reports the test as failed).
#pragma once

#include "domain/calendar.hpp"

#include <stdexcept>
#include <string>

namespace billing::testing {

inline Instant instant(const char* text)
{
  const auto t = parse_instant(text);
  if (!t) {
    throw std::runtime_error(std::string("bad instant in test: ") + text);
  }
  return *t;
}

inline Date date(const char* text)
{
  const auto d = parse_date(text);
  if (!d) {
    throw std::runtime_error(std::string("bad date in test: ") + text);
  }
  return *d;
}

} // namespace billing::testing
