// Logging to stderr through spdlog (journald keeps it under systemd): plain
// text lines, or JSON lines with --log-format json. --quiet keeps warnings and
// errors only. Secrets are never passed to the logger.
#pragma once

#include "ops/config.hpp"

#include <string>

namespace billing {

void init_logging(LogFormat format, const std::string& level, bool quiet);

// A JSON string literal (with quotes) for text, escaping what JSON requires;
// bytes that are not valid UTF-8 become U+FFFD.
std::string json_quote(std::string_view text);

// Text with control characters shown as \xNN (and invalid UTF-8 replaced).
std::string escape_controls(std::string_view text);

} // namespace billing
