// Run-time settings and where they come from (SPEC section 9): the command
// line, then the environment (BILLING_DB_URL, BILLING_DB_PASSWORD,
// BILLING_CONFIG), then the INI config file, then defaults. An unknown key or
// a bad value in the file is a UsageError naming the file, line and key.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace billing {

enum class LogFormat
{
  text,
  json
};

struct Settings
{
  std::string db_url = "sqlite:billing.db";
  std::optional<std::string> db_password_file;
  // db.busy_timeout_s (SQLite) and db.io_timeout_s (MySQL read/write), in
  // seconds, 1..86400; unset: the defaults of DbTimeouts (storage/database.hpp).
  std::optional<int> db_busy_timeout_s;
  std::optional<int> db_io_timeout_s;
  std::optional<std::string> usage_inbox;
  std::optional<std::string> metrics_path;
  std::string log_level = "info";
  LogFormat log_format = LogFormat::text;
  bool quiet = false;
};

// What the command line said; unset fields fall through to the next source.
struct CommandLineSettings
{
  std::optional<std::string> db_url;
  std::optional<std::string> config_path;
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
  bool quiet = false;
};

using Environment = std::map<std::string, std::string>;

// The BILLING_* variables of this process.
Environment process_environment();

inline constexpr const char* k_default_config_path = "/etc/billing/billing.conf";

// Merges the sources. Reads the config file named by the command line or
// BILLING_CONFIG (it must exist), else /etc/billing/billing.conf if it exists.
// Throws UsageError on a bad file, key or value.
Settings resolve_settings(const CommandLineSettings& cli, const Environment& env);

// The database password: BILLING_DB_PASSWORD, else the password file's first
// line. Throws UsageError when the file cannot be read. Never logged.
std::optional<std::string> resolve_db_password(const Settings& settings, const Environment& env);

} // namespace billing
