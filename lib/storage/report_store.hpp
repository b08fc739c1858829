// The reads behind `billing report` (reports/report_html.hpp): for the closed
// business dates of a range, the credits summed over the accounts'
// reconciliation rows and the revenue rows per currency (SPEC 10, 17). Each
// read is one grouped or keyed pass over the range (reconciliation is keyed
// (business_date, account_id), revenue (business_date, currency)), so a year
// of books costs what it reads, and the result is one row per date (per
// currency): small whatever the number of accounts. Every value is bound.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"
#include "storage/export_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace billing {

// The sums over a closed date's reconciliation rows (SPEC 10 columns; the
// closing and overdraft of each account at the end of the date).
struct CreditDaySums
{
  std::string business_date;
  long long accounts = 0; // rows of the date (dormant accounts have none)
  long long opening = 0;
  long long granted = 0;
  long long purchased = 0;
  long long rolled_over = 0; // moved between lots: shown, not added
  long long used = 0;
  long long expired = 0;
  long long revoked = 0;
  long long adjusted = 0;
  long long closing = 0;
  long long overdraft = 0;
};

// One revenue row (SPEC 17): a closed date and currency, in cents.
using RevenueDaySums = RevenueRow;

struct ReportBooks
{
  std::vector<std::string> closed_dates; // status 'complete', in order
  // One per closed date (all 0 and no accounts when the date has no rows).
  std::vector<CreditDaySums> credits;
  // By date, then currency; closed dates only.
  std::vector<RevenueDaySums> revenue;
  // The last date closed before schema 6 (value_books): dates up to it carry
  // no values and no revenue rows. nullopt: every date has them.
  std::optional<std::string> value_books_after;
};

// The books of the closed dates from..to (inclusive).
// REQUIRES: from <= to.
// Throws soci_error when the database cannot be read.
ReportBooks read_report_books(Database& db, Date from, Date to);

} // namespace billing
