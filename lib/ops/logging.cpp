#include "ops/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

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
    std::string line = std::string("{\"time\":\"") + when + "\",\"level\":\""
                       + std::string(level.data(), level.size()) + "\",\"msg\":"
                       + json_quote(std::string_view(msg.payload.data(), msg.payload.size()))
                       + "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override
  {
    return std::make_unique<JsonFormatter>();
  }
};

} // namespace

std::string json_quote(std::string_view text)
{
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      // Copy a well-formed UTF-8 sequence; replace anything else.
      const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool ok = len > 0 && c < 0xF5 && i + len <= text.size();
      for (size_t k = 1; ok && k < len; ++k) {
        ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      }
      if (ok) {
        out.append(text.substr(i, len));
        i += len;
      } else {
        out += "\xEF\xBF\xBD";
        ++i;
      }
    }
  }
  out += '"';
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
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
  }
  auto lvl = spdlog::level::from_str(level);
  if (quiet && lvl < spdlog::level::warn) {
    lvl = spdlog::level::warn;
  }
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

} // namespace billing
