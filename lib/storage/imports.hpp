// `billing import plans|accounts|purchases FILE`: loads the spec's CSV
// formats (SPEC section 9). Idempotent by id: a row equal to what is stored
// changes nothing; a row that differs is rejected with its line and reason
// (except an account's auto-recharge settings, which may be updated), and the
// other rows go in. A file whose header is not the declared format changes
// nothing and is an InputError (exit 65).
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"

#include <string>
#include <vector>

namespace billing {

enum class ImportKind
{
  plans,
  accounts,
  purchases
};

struct ImportRowReject
{
  long long line = 0;
  std::string reason;
};

struct ImportReport
{
  long long rows = 0;
  long long inserted = 0;
  long long updated = 0;
  long long unchanged = 0;
  std::vector<ImportRowReject> rejected;
};

// Reads `path` and applies it in one transaction. Throws InputError when the
// file cannot be read or is not of the declared kind (nothing changed then).
ImportReport import_csv(Database& db, ImportKind kind, const std::string& path, Instant now);

} // namespace billing
