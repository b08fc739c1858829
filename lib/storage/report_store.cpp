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
  // The range's rows grouped by date along the key; a date being closed
  // right now (rows of some chunks only) is left out below.
  std::map<std::string, CreditDaySums> by_date;
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT business_date, COUNT(*), SUM(opening), SUM(granted), "
                           "SUM(purchased), SUM(rolled_over), SUM(used), SUM(expired), "
                           "SUM(revoked), SUM(adjusted), SUM(closing), SUM(overdraft) FROM "
                           "reconciliation WHERE business_date >= :from AND business_date <= "
                           ":to GROUP BY business_date",
       soci::use(books.closed_dates.front()),
       soci::use(books.closed_dates.back()));
    for (const auto& r : rows) {
      std::string date = as_str(r, 0);
      by_date[date] = CreditDaySums{ .business_date = date,
                                     .accounts = as_ll(r, 1),
                                     .opening = as_ll(r, 2),
                                     .granted = as_ll(r, 3),
                                     .purchased = as_ll(r, 4),
                                     .rolled_over = as_ll(r, 5),
                                     .used = as_ll(r, 6),
                                     .expired = as_ll(r, 7),
                                     .revoked = as_ll(r, 8),
                                     .adjusted = as_ll(r, 9),
                                     .closing = as_ll(r, 10),
                                     .overdraft = as_ll(r, 11) };
    }
  }
  for (const std::string& date : books.closed_dates) {
    const auto found = by_date.find(date);
    books.credits.push_back(found != by_date.end() ? found->second
                                                   : CreditDaySums{ .business_date = date });
  }
  {
    const std::set<std::string> closed(books.closed_dates.begin(), books.closed_dates.end());
    const DateRange range{ parse_date(books.closed_dates.front()),
                           parse_date(books.closed_dates.back()) };
    read_revenue(db, range, [&](const RevenueRow& row) {
      if (closed.contains(row.business_date)) {
        books.revenue.push_back(row);
      }
    });
  }
  return books;
}

} // namespace billing
