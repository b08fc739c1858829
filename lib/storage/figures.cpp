#include "storage/figures.hpp"

#include "domain/calendar.hpp"

#include <stdexcept>

namespace billing {

long long account_count(Database& db)
{
  return query_ll(db, "SELECT COUNT(*) FROM accounts");
}

std::optional<Date> first_account_date(Database& db)
{
  std::string anchor;
  soci::indicator ind = soci::i_null;
  db.sql() << "SELECT MIN(first_date) FROM accounts", soci::into(anchor, ind);
  if (!db.sql().got_data() || ind != soci::i_ok) {
    return std::nullopt;
  }
  const auto parsed = parse_date(anchor);
  if (!parsed) {
    throw std::runtime_error("a stored first_date is not a date: '" + anchor + "'");
  }
  return parsed;
}

long long payment_request_count(Database& db, Date business_date, const std::string& status)
{
  const std::string date = format_date(business_date);
  long long count = 0;
  db.sql() << "SELECT COUNT(*) FROM payment_requests WHERE status = :status AND business_date = "
              ":business_date",
    soci::use(status), soci::use(date), soci::into(count);
  return count;
}

std::vector<std::string> payment_request_keys(Database& db, const std::string& status)
{
  std::vector<std::string> keys;
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT idempotency_key FROM payment_requests WHERE status = :status "
                         "ORDER BY business_date, account_id, idempotency_key",
     soci::use(status));
  for (const auto& r : rows) {
    keys.push_back(as_str(r, 0));
  }
  return keys;
}

} // namespace billing
