// `billing import changes FILE` (SPEC 14) and `billing import adjustments
// FILE` (SPEC 15): plan changes, cancellations and reactivations; grants,
// debits and refunds. Each row is judged in file order against what is stored
// and the rows of the file accepted before it, with the reasons of SPEC 14
// and 15 in their order; an id seen before with the same content changes
// nothing, with other content it is conflicting_content. Accepted rows are
// pending until the run of the date that holds their instant (or, late, the
// next date run) applies them (storage/day_store). One transaction per file;
// every value bound, free text through the dialect's text slot.
//
// What the rows store for the run:
//  - plan_changes.effective_us is T_E, the local midnight of effective_date
//    in the account's zone at import (the zone of an account with changes
//    cannot change afterwards: storage/imports);
//  - adjustments: credits NULL for a refund of all; purchase_id only for a
//    refund, with lot_source the lot it names ("purchase:<id>", or the lots
//    row's source of a recharge key); expires_us NULL when the file gave
//    none (the engine computes the 12-month default); import_seq one above
//    the stored maximum, in file order.
// A change or grant is judged against the latest date with books
// (storage/books_dates): nothing may land in, or a grant expire by, a
// closed date.
#pragma once

#include "storage/imports.hpp"

namespace billing {

// Reads `path` and applies it in one transaction. Throws InputError when the
// file cannot be read or is not a changes file (nothing changed then).
ImportReport import_changes(Database& db, const std::string& path, Instant now);

// The same for an adjustments file.
ImportReport import_adjustments(Database& db, const std::string& path, Instant now);

} // namespace billing
