// Always-on assertions (ccache util/assertions.hpp style): a broken
// precondition is a bug, so it stops the program in release builds too.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace billing::detail {
[[noreturn]] inline void assertion_failed(const char* expr, const char* file, int line)
{
  std::fprintf(stderr, "billing: internal error: REQUIRES %s failed at %s:%d\n", expr, file, line);
  std::abort();
}
} // namespace billing::detail

#define BILLING_REQUIRE(expr)                                                                      \
  do {                                                                                             \
    if (!(expr)) {                                                                                 \
      ::billing::detail::assertion_failed(#expr, __FILE__, __LINE__);                              \
    }                                                                                              \
  } while (false)
