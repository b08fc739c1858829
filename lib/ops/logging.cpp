#include "ops/logging.hpp"

#include "util/text.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace billing {

namespace {

// Formats each record as one JSON object per line.
class JsonFormatter final : public spdlog::formatter
{
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override
  {
    const auto since_epoch = msg.time.time_since_epoch();
    const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    const std::time_t secs = std::chrono::system_clock::to_time_t(msg.time);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[96];
    std::snprintf(when,
                  sizeof when,
                  "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  tm.tm_year + 1900,
                  tm.tm_mon + 1,
                  tm.tm_mday,
                  tm.tm_hour,
                  tm.tm_min,
                  tm.tm_sec,
                  static_cast<int>(ms));
    const auto level = spdlog::level::to_string_view(msg.level);
    nlohmann::ordered_json record;
    record["time"] = when;
    record["level"] = std::string_view(level.data(), level.size());
    record["msg"] = std::string_view(msg.payload.data(), msg.payload.size());
    const std::string line = json_text(record) + "\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override
  {
    return std::make_unique<JsonFormatter>();
  }
};

// Plain text lines, the message's control characters escaped.
class TextFormatter final : public spdlog::formatter
{
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override
  {
    spdlog::details::log_msg copy(msg);
    const std::string safe =
      escape_controls(std::string_view(msg.payload.data(), msg.payload.size()));
    copy.payload = spdlog::string_view_t(safe.data(), safe.size());
    m_pattern.format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override
  {
    return std::make_unique<TextFormatter>();
  }

private:
  spdlog::pattern_formatter m_pattern{ "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                                       spdlog::pattern_time_type::utc };
};

} // namespace

std::string json_text(const nlohmann::ordered_json& value)
{
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // nlohmann escapes U+0000..U+001F; DEL is left as is. A raw 0x7f byte of
  // the output can only be inside a string (it is no part of a multi-byte
  // UTF-8 sequence), where \u007f means the same.
  for (size_t pos = text.find('\x7f'); pos != std::string::npos; pos = text.find('\x7f', pos)) {
    text.replace(pos, 1, "\\u007f");
  }
  return text;
}

// Text log lines: control characters of a message (a line break in an input
// value, ESC, NUL) are shown escaped, so no input can forge a log line.
std::string escape_controls(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (char ch : valid_utf8(text)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

void init_logging(LogFormat format, const std::string& level, bool quiet)
{
  // Not registered by name, so logging can be set up again once the
  // settings are known.
  auto logger =
    std::make_shared<spdlog::logger>("billing", std::make_shared<spdlog::sinks::stderr_sink_st>());
  if (format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>());
  }
  auto lvl = spdlog::level::from_str(level);
  if (quiet && lvl < spdlog::level::warn) {
    lvl = spdlog::level::warn;
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

} // namespace billing
