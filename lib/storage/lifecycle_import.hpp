// `billing import changes FILE` (SPEC 14) and `billing import adjustments
// FILE` (SPEC 15): plan changes, cancellations and reactivations; grants,
// debits and refunds. Each row is judged in file order against what is stored
// and the rows of the file accepted before it, with the reasons of SPEC 14
// and 15 in their order; an id seen before with the same content changes
// nothing, with other content it is conflicting_content. Accepted rows are
// pending until the run of the date that holds their instant (or, late, the
// next date run) applies them (storage/day_store). One transaction per file;
// every value bound.
#pragma once

#include "storage/imports.hpp"

namespace billing {

// Reads `path` and applies it in one transaction. Throws InputError when the
// file cannot be read or is not a changes file (nothing changed then).
ImportReport import_changes(Database& db, const std::string& path, Instant now);

// The same for an adjustments file.
ImportReport import_adjustments(Database& db, const std::string& path, Instant now);

} // namespace billing
