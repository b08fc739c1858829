// Payment results from the provider (SPEC section 7): a CSV of
// idempotency_key,status,provider_ref,failure_reason. `succeeded` marks the
// request paid; `failed` marks it failed and turns the account's auto-recharge
// off with the reason (so a failing card is not charged night after night);
// the next run revokes what is left of the recharge lot, at the start of its
// date. Importing the same results again changes nothing; an unknown key or
// a result contradicting the stored one is rejected with a reason. Rows are
// parsed and validated by lib/ingest/import_rows; this unit does the database
// work, every value bound.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"
#include "storage/imports.hpp"

#include <string>

namespace billing {

// Throws InputError when the file cannot be read or has the wrong header.
ImportReport import_payment_results(Database& db, const std::string& path, Instant now);

} // namespace billing
