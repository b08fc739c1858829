#include "storage/report_store.hpp"

#include "domain/calendar.hpp"
#include "util/assert.hpp"

#include <map>
#include <set>

namespace billing {

ReportBooks read_report_books(Database& db, Date from, Date to)
{
  BILLING_REQUIRE(from <= to);
  const std::string first = format_date(from);
  const std::string last = format_date(to);
  ReportBooks books;
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT business_date FROM business_days WHERE status = 'complete' "
                           "AND business_date >= :from AND business_date <= :to ORDER BY "
                           "business_date",
       soci::use(first),
       soci::use(last));
    for (const auto& r : rows) {
      books.closed_dates.push_back(as_str(r, 0));
    }
  }
  {
    soci::rowset<soci::row> rows = (db.sql().prepare << "SELECT MAX(after_date) FROM value_books");
    for (const auto& r : rows) {
      books.value_books_after = as_opt_str(r, 0);
    }
  }
  if (books.closed_dates.empty()) {
    return books;
  }
  // The range's reconciliation summed per date along its key (the totals
  // export's read); a date being closed right now (rows of some chunks only)
  // is left out below.
  const DateRange range{ parse_date(books.closed_dates.front()),
                         parse_date(books.closed_dates.back()) };
  std::map<std::string, CreditDaySums> by_date;
  read_totals(db, range, [&](const TotalsRow& t) {
    const BalanceFigures& b = t.sums;
    by_date[t.business_date] = CreditDaySums{ .business_date = t.business_date,
                                              .accounts = t.accounts,
                                              .opening = b.opening,
                                              .granted = b.granted,
                                              .purchased = b.purchased,
                                              .rolled_over = b.rolled_over,
                                              .used = b.used,
                                              .expired = b.expired,
                                              .revoked = b.revoked,
                                              .adjusted = b.adjusted,
                                              .closing = b.closing,
                                              .overdraft = b.overdraft };
  });
  for (const std::string& date : books.closed_dates) {
    const auto found = by_date.find(date);
    books.credits.push_back(found != by_date.end() ? found->second
                                                   : CreditDaySums{ .business_date = date });
  }
  {
    const std::set<std::string> closed(books.closed_dates.begin(), books.closed_dates.end());
    read_revenue(db, range, [&](const RevenueRow& row) {
      if (closed.contains(row.business_date)) {
        books.revenue.push_back(row);
      }
    });
  }
  return books;
}

} // namespace billing
