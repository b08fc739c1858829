#include "ops/config.hpp"

#include "util/errors.hpp"

#include <unistd.h>

#include <array>
#include <charconv>
#include <fstream>
#include <functional>

extern char** environ;

namespace billing {

namespace {

std::string trim(const std::string& s)
{
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    return {};
  }
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

LogFormat parse_log_format(const std::string& value, const std::string& where)
{
  if (value == "text") {
    return LogFormat::text;
  }
  if (value == "json") {
    return LogFormat::json;
  }
  throw UsageError(where + "log format must be text or json, not '" + value + "'");
}

void check_log_level(const std::string& value, const std::string& where)
{
  static constexpr std::array k_levels = { "debug", "info", "warn", "error" };
  for (const char* level : k_levels) {
    if (value == level) {
      return;
    }
  }
  throw UsageError(where + "log level must be debug, info, warn or error, not '" + value + "'");
}

int parse_seconds(const std::string& value, const std::string& where)
{
  constexpr int k_seconds_max = 86'400;
  int seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 1
      || seconds > k_seconds_max) {
    throw UsageError(where + "must be a whole number of seconds from 1 to "
                     + std::to_string(k_seconds_max) + ", not '" + value + "'");
  }
  return seconds;
}

// Reads the INI file into settings. Keys are "section.key".
void apply_config_file(const std::string& path, Settings& settings)
{
  std::ifstream in(path);
  if (!in) {
    throw UsageError("cannot read config file " + path);
  }
  using Setter = std::function<void(const std::string& value, const std::string& where)>;
  const std::map<std::string, Setter> setters = {
    { "db.url", [&](const std::string& v, const std::string&) { settings.db_url = v; } },
    { "db.password_file",
      [&](const std::string& v, const std::string&) { settings.db_password_file = v; } },
    { "db.busy_timeout_s",
      [&](const std::string& v, const std::string& where) {
        settings.db_busy_timeout_s = parse_seconds(v, where);
      } },
    { "db.io_timeout_s",
      [&](const std::string& v, const std::string& where) {
        settings.db_io_timeout_s = parse_seconds(v, where);
      } },
    { "usage.inbox", [&](const std::string& v, const std::string&) { settings.usage_inbox = v; } },
    { "metrics.path",
      [&](const std::string& v, const std::string&) { settings.metrics_path = v; } },
    { "log.level",
      [&](const std::string& v, const std::string& where) {
        check_log_level(v, where);
        settings.log_level = v;
      } },
    { "log.format",
      [&](const std::string& v, const std::string& where) {
        settings.log_format = parse_log_format(v, where);
      } },
  };
  std::string section;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') {
      continue;
    }
    if (text.front() == '[') {
      if (text.back() != ']') {
        throw UsageError(where + "malformed section header '" + text + "'");
      }
      section = trim(text.substr(1, text.size() - 2));
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string::npos) {
      throw UsageError(where + "expected key = value, got '" + text + "'");
    }
    const std::string key = (section.empty() ? "" : section + ".") + trim(text.substr(0, eq));
    const std::string value = trim(text.substr(eq + 1));
    const auto setter = setters.find(key);
    if (setter == setters.end()) {
      throw UsageError(where + "unknown key '" + key + "'");
    }
    if (value.empty()) {
      throw UsageError(where + "key '" + key + "' has an empty value");
    }
    setter->second(value, where + "key '" + key + "': ");
  }
}

} // namespace

Environment process_environment()
{
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos && entry.starts_with("BILLING_")) {
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
  }
  return env;
}

Settings resolve_settings(const CommandLineSettings& cli, const Environment& env)
{
  Settings settings;
  std::optional<std::string> config_path = cli.config_path;
  if (!config_path) {
    if (const auto it = env.find("BILLING_CONFIG"); it != env.end() && !it->second.empty()) {
      config_path = it->second;
    }
  }
  if (config_path) {
    apply_config_file(*config_path, settings);
  } else if (access(k_default_config_path, R_OK) == 0) {
    apply_config_file(k_default_config_path, settings);
  }
  if (const auto it = env.find("BILLING_DB_URL"); it != env.end() && !it->second.empty()) {
    settings.db_url = it->second;
  }
  if (cli.db_url) {
    settings.db_url = *cli.db_url;
  }
  if (cli.log_format) {
    settings.log_format = parse_log_format(*cli.log_format, "--log-format: ");
  }
  if (cli.log_level) {
    check_log_level(*cli.log_level, "--log-level: ");
    settings.log_level = *cli.log_level;
  }
  settings.quiet = cli.quiet;
  return settings;
}

std::optional<std::string> resolve_db_password(const Settings& settings, const Environment& env)
{
  if (const auto it = env.find("BILLING_DB_PASSWORD"); it != env.end()) {
    return it->second;
  }
  if (settings.db_password_file) {
    std::ifstream in(*settings.db_password_file);
    if (!in) {
      throw UsageError("cannot read db.password_file " + *settings.db_password_file);
    }
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
      line.pop_back();
    }
    return line;
  }
  return std::nullopt;
}

} // namespace billing
