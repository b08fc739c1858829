// The wall clock, kept out of the domain core: only commands and jobs ask it,
// and pass instants down.
#pragma once

#include "domain/types.hpp"

#include <string>

namespace billing {

// Now, UTC, to the microsecond.
Instant now_utc();

// "host:pid", naming this process as a lock holder or run owner.
std::string process_identity();

} // namespace billing
