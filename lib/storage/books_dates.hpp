// Which business dates have books, for the imports that must not reach into
// a closed date (rates, SPEC 18; changes and adjustments, SPEC 14 and 15).
// A date counts as closed from the moment any account has its books of it:
// the last completed date, or a later date a stopped run has closed for some
// accounts (their account_state is of that date), which a resume completes
// with the facts it already used.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"

#include <optional>

namespace billing {

// The latest date with books: the last completed date or a later
// account_state date, whichever is later; nullopt when nothing was closed.
// Throws std::runtime_error when a stored date is not a date.
std::optional<Date> latest_date_with_books(Database& db);

} // namespace billing
