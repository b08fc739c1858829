// `billing import rates FILE` (SPEC 18): new rows of the versioned rate card.
// A row is one channel's rule from its effective_from date until that
// channel's next row. Each row is judged in file order against the stored
// card and the rows of the file accepted before it:
//  - the same channel and effective_from as a stored row: unchanged when its
//    content is equal (statuses in any order; even for a closed date), else
//    conflicting_content;
//  - effective_from on or before the latest date with books (the last closed
//    date, or a date a stopped run has closed for some accounts):
//    effective_in_closed_date;
//  - a status of the channel's row in force before effective_from missing
//    from the new row: drops_status (so every accepted event stays rated).
// In the same transaction the stored events of open dates that the new rows
// govern (charged after that latest date, same channel, occurred on or after
// effective_from) are rated again with the new card, so a run charges every
// event by the row in force at its occurred_at among the rows imported
// before it. Closed dates are never touched. Every value bound.
#pragma once

#include "storage/imports.hpp"

namespace billing {

// Reads `path` and applies it in one transaction; the report's `rerated`
// counts the events whose units or credits changed. Throws InputError when
// the file cannot be read or is not a rates file (nothing changed then).
ImportReport import_rates(Database& db, const std::string& path, Instant now);

} // namespace billing
