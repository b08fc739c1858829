#include "storage/books_dates.hpp"

#include "domain/calendar.hpp"
#include "storage/day_store.hpp"
#include "storage/rows.hpp"

#include <stdexcept>
#include <string>

namespace billing {

std::optional<Date> latest_date_with_books(Database& db)
{
  std::optional<Date> out = last_completed_date(db);
  soci::rowset<soci::row> rows = db.sql().prepare << "SELECT MAX(state_date) FROM account_state";
  for (const auto& r : rows) {
    if (const auto text = as_opt_str(r, 0)) {
      const std::optional<Date> d = parse_date(*text);
      if (!d) {
        throw std::runtime_error("stored account state has the date '" + *text + "'");
      }
      if (!out || *d > *out) {
        out = d;
      }
    }
  }
  return out;
}

} // namespace billing
