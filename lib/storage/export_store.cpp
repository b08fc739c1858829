#include "storage/export_store.hpp"

#include "domain/calendar.hpp"
#include "util/sha256.hpp"

#include <map>

namespace billing {

namespace {

using Prepared = soci::details::prepare_temp_type;

// The reconciliation table's balance columns, in BalanceFigures' order.
constexpr std::string_view k_balance_columns[] = {
  "opening", "granted", "purchased", "rolled_over", "used",
  "expired", "revoked", "closing",   "overdraft",   "sending_enabled",
};
constexpr size_t k_balance_count = std::size(k_balance_columns);

// The balance columns as the tail of a select list, each between `open` and
// `close`: ", opening, granted, ..." or ", SUM(r.opening), SUM(r.granted), ...".
std::string balance_select(std::string_view open, std::string_view close)
{
  std::string out;
  for (std::string_view column : k_balance_columns) {
    out += ", ";
    out += open;
    out += column;
    out += close;
  }
  return out;
}

BalanceFigures read_balance(const soci::row& r, size_t first)
{
  long long v[k_balance_count];
  for (size_t i = 0; i < k_balance_count; ++i) {
    v[i] = as_ll(r, first + i);
  }
  return BalanceFigures{ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9] };
}

// " AND column >= :from AND column <= :to" for the bounds that are set, and
// their values, bound in that order.
class RangeFilter
{
public:
  RangeFilter(std::string column, const DateRange& dates)
    : m_column(std::move(column))
  {
    if (dates.from) {
      m_from = format_date(*dates.from);
    }
    if (dates.to) {
      m_to = format_date(*dates.to);
    }
  }

  std::string sql() const
  {
    std::string out;
    if (m_from) {
      out += " AND " + m_column + " >= :from";
    }
    if (m_to) {
      out += " AND " + m_column + " <= :to";
    }
    return out;
  }

  void bind(Prepared& p) const
  {
    if (m_from) {
      p, soci::use(*m_from);
    }
    if (m_to) {
      p, soci::use(*m_to);
    }
  }

private:
  std::string m_column;
  std::optional<std::string> m_from;
  std::optional<std::string> m_to;
};

// Streams the rows of a prepared query to `read`; returns their count.
long long stream(Prepared& p, const std::function<void(const soci::row&)>& read)
{
  long long n = 0;
  soci::rowset<soci::row> rows(p);
  for (const auto& r : rows) {
    read(r);
    ++n;
  }
  return n;
}

} // namespace

long long read_reconciliation(Database& db,
                              const DateRange& dates,
                              const RowSink<ReconciliationRow>& sink)
{
  const RangeFilter range("business_date", dates);
  Prepared p = (db.sql().prepare << "SELECT business_date, account_id" + balance_select("", "")
                                      + " FROM reconciliation WHERE 1 = 1" + range.sql()
                                      + " ORDER BY business_date, account_id");
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    sink(ReconciliationRow{ as_str(r, 0), as_ll(r, 1), read_balance(r, 2) });
  });
}

long long read_charges(Database& db, const DateRange& dates, const RowSink<ChargesRow>& sink)
{
  const RangeFilter range("business_date", dates);
  Prepared p = (db.sql().prepare << "SELECT business_date, account_id, channel, occurred_date, "
                                    "events, units, credits, platform_credits FROM charges WHERE "
                                    "1 = 1"
                                      + range.sql()
                                      + " ORDER BY business_date, account_id, channel, "
                                        "occurred_date");
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    sink(ChargesRow{ as_str(r, 0),
                     ChargeRow{ as_ll(r, 1),
                                as_str(r, 2),
                                as_str(r, 3),
                                as_ll(r, 4),
                                as_ll(r, 5),
                                as_ll(r, 6),
                                as_ll(r, 7) } });
  });
}

long long read_rejects(Database& db,
                       const DateRange& ingest_dates,
                       RejectScope scope,
                       const RowSink<RejectRow>& sink)
{
  const RangeFilter range("ingest_date", ingest_dates);
  Prepared p =
    (db.sql().prepare << "SELECT file, line, event_id, reason, raw_hex FROM rejects "
                         "WHERE 1 = 1"
                           + std::string(scope == RejectScope::pending ? " AND status = 'pending'"
                                                                       : "")
                           + range.sql() + " ORDER BY reject_id");
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    sink(
      RejectRow{ as_str(r, 0), as_ll(r, 1), as_str(r, 2), as_str(r, 3), from_hex(as_str(r, 4)) });
  });
}

long long read_payments(Database& db,
                        const DateRange& dates,
                        const std::optional<std::string>& status,
                        const RowSink<PaymentRow>& sink)
{
  const RangeFilter range("business_date", dates);
  Prepared p =
    (db.sql().prepare << "SELECT idempotency_key, account_id, business_date, credits, "
                         "amount_cents, currency, status FROM payment_requests WHERE "
                         "1 = 1"
                           + std::string(status ? " AND status = :status" : "") + range.sql()
                           + " ORDER BY business_date, account_id, idempotency_key");
  if (status) {
    p, soci::use(*status);
  }
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    sink(PaymentRow{ as_str(r, 0),
                     as_ll(r, 1),
                     as_str(r, 2),
                     as_ll(r, 3),
                     as_ll(r, 4),
                     as_str(r, 5),
                     as_str(r, 6) });
  });
}

long long read_totals(Database& db, const DateRange& dates, const RowSink<TotalsRow>& sink)
{
  // Two grouped reads, one per table, matched by date here: never a join of
  // a grouped derived table (evaluated per outer row on MariaDB).
  struct Charged
  {
    long long events = 0;
    long long credits = 0;
    long long platform_credits = 0;
  };
  std::map<std::string, Charged> charged;
  {
    const RangeFilter range("business_date", dates);
    Prepared p = (db.sql().prepare << "SELECT business_date, SUM(events), SUM(credits), "
                                      "SUM(platform_credits) FROM charges WHERE 1 = 1"
                                        + range.sql() + " GROUP BY business_date");
    range.bind(p);
    stream(p, [&](const soci::row& r) {
      charged[as_str(r, 0)] = Charged{ as_ll(r, 1), as_ll(r, 2), as_ll(r, 3) };
    });
  }
  const RangeFilter range("business_date", dates);
  Prepared p = (db.sql().prepare << "SELECT business_date, COUNT(*)" + balance_select("SUM(", ")")
                                      + " FROM reconciliation WHERE 1 = 1" + range.sql()
                                      + " GROUP BY business_date ORDER BY business_date");
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    const std::string date = as_str(r, 0);
    const auto c = charged.find(date);
    const Charged figures = c == charged.end() ? Charged{} : c->second;
    sink(TotalsRow{ date,
                    as_ll(r, 1),
                    read_balance(r, 2),
                    figures.events,
                    figures.credits,
                    figures.platform_credits });
  });
}

} // namespace billing
