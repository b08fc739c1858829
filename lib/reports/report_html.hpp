// `billing report`: the close pack of a range of business dates as one
// self-contained HTML page (docs/finance.md). Per closed date the credits
// roll-forward (the reconciliation summed over the accounts, SPEC 10) and the
// revenue roll-forward per currency (SPEC 17), as tables and inline SVG
// charts, and the range's tie-outs:
//   credits:  first opening + granted + purchased + adjusted
//             - used - expired - revoked = last closing
//   revenue:  first opening deferred + sold - usage - breakage - revoked
//             = last closing deferred (per currency)
// The page fetches nothing (inline CSS, a Content-Security-Policy of
// default-src 'none', no script), every text in it is escaped, and all its
// arithmetic is integer (chart coordinates in hundredths of a pixel). The
// same books and range give the same bytes.
#pragma once

#include "domain/types.hpp"
#include "storage/report_store.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace billing {

// The range's totals of the credits columns: opening of the first closed
// date, sums of the movements, closing and overdraft of the last.
struct CreditsRollForward
{
  long long opening = 0;
  long long granted = 0;
  long long purchased = 0;
  long long adjusted = 0;
  long long used = 0;
  long long expired = 0;
  long long revoked = 0;
  long long rolled_over = 0; // shown, not added
  long long closing = 0;
  long long overdraft = 0;
  // opening + granted + purchased + adjusted - used - expired - revoked
  long long expected_closing() const;
};

// One currency's totals over its revenue rows of the range.
struct RevenueRollForward
{
  std::string currency;
  std::string first_date;
  std::string last_date;
  long long opening_deferred_cents = 0;
  long long sold_cents = 0;
  long long usage_cents = 0;
  long long breakage_cents = 0;
  long long revoked_cents = 0;
  long long closing_deferred_cents = 0;
  // opening + sold - usage - breakage - revoked
  long long expected_closing_cents() const;
};

// REQUIRES: books.credits is not empty. Throws std::overflow_error when a
// sum does not fit 64 bits.
CreditsRollForward credits_roll_forward(const ReportBooks& books);
// One per currency of books.revenue, by currency code.
std::vector<RevenueRollForward> revenue_roll_forward(const ReportBooks& books);

// The page for the closed dates of from..to that `books` holds (a page that
// says so when none is closed).
std::string report_html(const ReportBooks& books, Date from, Date to);

// Text as HTML character data or attribute value: & < > " ' escaped, bytes
// that are not UTF-8 replaced by U+FFFD.
std::string html_escaped(std::string_view text);
// 1234567 -> "1,234,567"; -1234 -> "-1,234".
std::string grouped_number(long long n);
// Cents as money: 123456 -> "1,234.56"; -5 -> "-0.05".
std::string money_text(long long cents);

} // namespace billing
