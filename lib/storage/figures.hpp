// Small read-only figures for summaries (the demo's report, for one): counts
// and single values read with every value bound, never spliced into the SQL.
// Each reads the committed state of the caller's connection and writes nothing.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace billing {

// How many accounts the database holds.
long long account_count(Database& db);

// The earliest first business date of any account (the UTC date of its first
// cycle start, SPEC 16); nullopt when there is none. Throws
// std::runtime_error when the stored date is malformed (a bug).
std::optional<Date> first_account_date(Database& db);

// How many payment requests of `business_date` have `status` ("pending",
// "succeeded" or "failed").
long long payment_request_count(Database& db, Date business_date, const std::string& status);

// The idempotency keys of the payment requests with `status`, in the order of
// the payments export (business date, account, key).
std::vector<std::string> payment_request_keys(Database& db, const std::string& status);

} // namespace billing
