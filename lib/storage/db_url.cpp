#include "storage/db_url.hpp"

#include "util/errors.hpp"

#include <cctype>
#include <charconv>

namespace billing {

DbUrl DbUrl::parse(std::string_view url)
{
  DbUrl out;
  if (url.starts_with("sqlite:")) {
    out.backend = Backend::sqlite;
    out.path = std::string(url.substr(7));
    if (out.path.empty()) {
      throw UsageError("database URL 'sqlite:' needs a path, as in sqlite:billing.db");
    }
    return out;
  }
  constexpr std::string_view k_mysql = "mysql://";
  if (url.starts_with(k_mysql)) {
    const std::string_view rest = url.substr(k_mysql.size());
    const auto at = rest.find('@');
    const auto slash = rest.find('/');
    if (at == std::string_view::npos || slash == std::string_view::npos || slash < at) {
      throw UsageError("database URL must be mysql://USER@HOST:PORT/DB (no password in it)");
    }
    out.backend = Backend::mysql;
    out.user = std::string(rest.substr(0, at));
    if (out.user.find(':') != std::string::npos) {
      throw UsageError("a password in the database URL is refused: use BILLING_DB_PASSWORD or "
                       "db.password_file");
    }
    const std::string_view hostport = rest.substr(at + 1, slash - at - 1);
    out.database = std::string(rest.substr(slash + 1));
    const auto colon = hostport.rfind(':');
    out.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      const std::string_view port = hostport.substr(colon + 1);
      const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
      if (ec != std::errc{} || p != port.data() + port.size() || out.port <= 0
          || out.port > 65535) {
        throw UsageError("bad port in database URL: '" + std::string(port) + "'");
      }
    }
    if (out.user.empty() || out.host.empty() || out.database.empty()) {
      throw UsageError("database URL must be mysql://USER@HOST:PORT/DB");
    }
    for (char c : out.database) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$')) {
        throw UsageError("database name may hold only letters, digits, '_' and '$'");
      }
    }
    return out;
  }
  // The text is not echoed: a mistyped URL may hold a password.
  throw UsageError("unknown database URL: expected sqlite:PATH or mysql://USER@HOST:PORT/DB");
}

std::string DbUrl::display() const
{
  if (backend == Backend::sqlite) {
    return "sqlite:" + path;
  }
  return "mysql://" + user + "@" + host + ":" + std::to_string(port) + "/" + database;
}

} // namespace billing
