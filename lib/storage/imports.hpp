// `billing import plans|accounts|purchases|changes|adjustments|rates FILE`:
// loads the spec's CSV formats (SPEC section 9; changes and adjustments: SPEC
// 14, 15, storage/lifecycle_import; rates: SPEC 18, storage/rate_import). Idempotent by id: a row
// equal to what is stored changes nothing; a row that differs is rejected with its line and reason
// (except an account's auto-recharge settings, which may be updated), and the other rows go in. A
// file whose header is not the declared format changes nothing and is an InputError (exit 65). Rows
// are parsed and validated by lib/ingest/import_rows; this unit does the database work, every value
// bound (or sent through MultiRowInsert).
#pragma once

#include "domain/types.hpp"
#include "ingest/import_rows.hpp"
#include "storage/database.hpp"

#include <functional>
#include <string>
#include <vector>

namespace billing {

enum class ImportKind
{
  plans,
  accounts,
  purchases,
  rates,       // SPEC 18; storage/rate_import
  changes,     // SPEC 14; storage/lifecycle_import
  adjustments, // SPEC 15; storage/lifecycle_import
};

// A rejected row. Decisions are taken on `code`; `reason` is its printed
// form (describe(): the code, then what the row held, as in "bad_number:
// price_cents '12x'"), composed once where the row is rejected.
struct ImportRowReject
{
  long long line = 0;
  ImportReason code = ImportReason::bad_csv;
  std::string reason;
};

inline ImportRowReject make_row_reject(long long line, const ImportRejection& r)
{
  return { line, r.reason, describe(r) };
}

struct ImportReport
{
  long long rows = 0;
  long long inserted = 0;
  long long updated = 0;
  long long unchanged = 0;
  long long rerated = 0; // rates: stored events of open dates whose charge changed
  std::vector<ImportRowReject> rejected;
};

// Reads `path` and applies it in one transaction. Throws InputError when the
// file cannot be read or is not of the declared kind (nothing changed then).
ImportReport import_csv(Database& db, ImportKind kind, const std::string& path, Instant now);

// Opens an import file, reads its header row against `format`, and calls
// `each` with the header and every data record in file order. Throws
// InputError (exit 65) when the path is not a readable regular file, the file
// is empty, or its header does not fit the format.
void read_import_file(const std::string& path,
                      const ImportFormat& format,
                      const std::function<void(const ImportHeader&, const CsvRecord&)>& each);

} // namespace billing
