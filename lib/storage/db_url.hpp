// Database URLs (SPEC 9): `sqlite:PATH` or `mysql://USER@HOST:PORT/DB`. The
// URL never carries a password; display() is what messages may show.
#pragma once

#include <string>
#include <string_view>

namespace billing {

enum class Backend
{
  sqlite,
  mysql
};

struct DbUrl
{
  Backend backend = Backend::sqlite;
  std::string path; // sqlite
  std::string user; // mysql
  std::string host;
  int port = 3306;
  std::string database;

  // "sqlite:PATH" or "mysql://USER@HOST:PORT/DB". Throws UsageError (the
  // text is never echoed: a mistyped URL may hold a password).
  static DbUrl parse(std::string_view url);
  // The URL without any secret, for messages.
  std::string display() const;
};

} // namespace billing
