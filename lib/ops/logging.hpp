// Logging to stderr through spdlog (journald keeps it under systemd): plain
// text lines, or JSON lines with --log-format json. --quiet keeps warnings and
// errors only. Secrets are never passed to the logger.
#pragma once

#include "ops/config.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace billing {

void init_logging(LogFormat format, const std::string& level, bool quiet);

// `value` as compact JSON text (nlohmann-json), in valid UTF-8 whatever bytes
// its strings hold: bytes that are not valid UTF-8 become U+FFFD, never an
// exception. Control characters are escaped (DEL too), so no value can break
// a JSON log line in two or send a terminal an escape sequence.
std::string json_text(const nlohmann::ordered_json& value);

// Text with control characters shown as \xNN (and invalid UTF-8 replaced).
std::string escape_controls(std::string_view text);

} // namespace billing
