// `billing status`: what an operator asks first. Schema version, counts, the
// last completed date, the last runs with outcome and duration, the lock
// holder, rejects waiting and accounts whose sending is stopped.
#pragma once

#include "storage/status_store.hpp"

#include <string>

namespace billing {

std::string status_text(const StatusReport& r);
std::string status_json(const StatusReport& r);

} // namespace billing
