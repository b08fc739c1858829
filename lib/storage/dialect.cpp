#include "storage/dialect_registry.hpp"

namespace billing {

const Dialect& dialect_of(Backend backend)
{
  switch (backend) {
    case Backend::sqlite:
      return sqlite_dialect();
    case Backend::mysql:
      return mysql_dialect();
  }
  return sqlite_dialect();
}

DbErrorKind classify_db_error(const soci::soci_error& e)
{
  if (e.get_error_category() == soci::soci_error::connection_error) {
    return DbErrorKind::unavailable;
  }
  for (const Dialect* d : { &sqlite_dialect(), &mysql_dialect() }) {
    if (const auto kind = d->classify(e)) {
      return *kind;
    }
  }
  return DbErrorKind::other;
}

} // namespace billing
