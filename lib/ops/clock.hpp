// The wall clock, kept out of the domain core: only commands and jobs ask it,
// and pass instants down. It is the program's one clock source: tests fix it
// with BILLING_FAKE_NOW (see now_utc), so no test depends on the day it runs.
#pragma once

#include "domain/types.hpp"

#include <string>

namespace billing {

// The environment variable that fixes the clock, for tests only.
inline constexpr const char* k_fake_now_env = "BILLING_FAKE_NOW";

// Now, UTC, to the microsecond. When BILLING_FAKE_NOW holds an instant in the
// text form of SPEC section 2 (for example 2026-11-25T12:00:00Z), the clock
// stands still at that instant: "today", the default date of `billing run`,
// ingest dates and run records all follow it. A value that does not parse
// throws UsageError (exit 2), so a typo never silently falls back to the real
// clock.
Instant now_utc();

// "host:pid", naming this process as a lock holder or run owner.
std::string process_identity();

} // namespace billing
