#include "storage/export_store.hpp"

#include "domain/calendar.hpp"
#include "storage/lot_text.hpp"
#include "util/sha256.hpp"

#include <map>

namespace billing {

namespace {

using Prepared = soci::details::prepare_temp_type;

// The reconciliation table's balance columns, in BalanceFigures' order.
constexpr std::string_view k_balance_columns[] = {
  "opening",  "granted", "purchased", "rolled_over",     "used", "expired", "revoked",
  "adjusted", "closing", "overdraft", "sending_enabled",
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
  return BalanceFigures{ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10] };
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

// The dates of `dates` that `table` holds (its key's leading column).
std::vector<std::string> dates_in(Database& db,
                                  std::string_view table,
                                  std::string_view column,
                                  const DateRange& dates)
{
  return leading_key_values(db,
                            table,
                            column,
                            dates.from ? format_date(dates.from->prev()) : std::string(),
                            dates.to ? std::optional<std::string>(format_date(*dates.to))
                                     : std::nullopt);
}

} // namespace

long long read_reconciliation(Database& db,
                              const DateRange& dates,
                              const RowSink<ReconciliationRow>& sink,
                              long long page_rows)
{
  long long n = 0;
  for (const std::string& date : dates_in(db, "reconciliation", "business_date", dates)) {
    // One date in pages of accounts along the key.
    for (long long after = 0, got = page_rows; got == page_rows;) {
      got = 0;
      Prepared p = (db.sql().prepare << "SELECT business_date, account_id" + balance_select("", "")
                                          + " FROM reconciliation WHERE business_date = :d AND "
                                            "account_id > :after ORDER BY account_id LIMIT :page");
      p, soci::use(date), soci::use(after), soci::use(page_rows);
      n += stream(p, [&](const soci::row& r) {
        sink(ReconciliationRow{ as_str(r, 0), as_ll(r, 1), read_balance(r, 2) });
        after = as_ll(r, 1);
        ++got;
      });
    }
  }
  return n;
}

long long read_charges(Database& db,
                       const DateRange& dates,
                       const RowSink<ChargesRow>& sink,
                       long long page_rows)
{
  static const std::string k_columns =
    "SELECT account_id, channel, occurred_date, events, units, credits, platform_credits FROM "
    "charges WHERE business_date = :d AND ";
  long long n = 0;
  std::vector<ChargesRow> page;
  const auto read_into_page = [&](Prepared& p, const std::string& date) {
    page.clear();
    return stream(p, [&](const soci::row& r) {
      page.push_back(ChargesRow{ date,
                                 ChargeRow{ as_ll(r, 0),
                                            as_str(r, 1),
                                            as_str(r, 2),
                                            as_ll(r, 3),
                                            as_ll(r, 4),
                                            as_ll(r, 5),
                                            as_ll(r, 6) } });
    });
  };
  for (const std::string& date : dates_in(db, "charges", "business_date", dates)) {
    // One date in pages of whole accounts along the key: the rows of a full
    // page's last account may go on in the next page, so they are read again
    // with it; a page that holds one account alone is followed by all of that
    // account's rows of the date (one per channel and occurred date: few).
    for (long long after = 0, got = page_rows; got == page_rows;) {
      Prepared p = (db.sql().prepare << k_columns
                                          + "account_id > :after ORDER BY account_id, channel, "
                                            "occurred_date LIMIT :page");
      p, soci::use(date), soci::use(after), soci::use(page_rows);
      got = read_into_page(p, date);
      const long long last = got > 0 ? page.back().charge.account_id : after;
      if (got == page_rows && page.front().charge.account_id == last) {
        Prepared whole = (db.sql().prepare << k_columns
                                                + "account_id = :account ORDER BY channel, "
                                                  "occurred_date");
        whole, soci::use(date), soci::use(last);
        read_into_page(whole, date);
      } else if (got == page_rows) {
        while (page.back().charge.account_id == last) {
          page.pop_back();
        }
      }
      for (const ChargesRow& row : page) {
        sink(row);
      }
      n += static_cast<long long>(page.size());
      if (!page.empty()) {
        after = page.back().charge.account_id;
      }
    }
  }
  return n;
}

long long read_rejects(Database& db,
                       const DateRange& ingest_dates,
                       RejectScope scope,
                       const RowSink<RejectRow>& sink,
                       long long page_rows)
{
  const RangeFilter range("ingest_date", ingest_dates);
  long long n = 0;
  // In pages along the key (reject_id).
  for (long long after = 0, got = page_rows; got == page_rows;) {
    got = 0;
    Prepared p = (db.sql().prepare
                  << "SELECT reject_id, file, line, event_id, reason, raw_hex FROM rejects "
                     "WHERE reject_id > :after"
                       + std::string(scope == RejectScope::pending ? " AND status = 'pending'" : "")
                       + range.sql() + " ORDER BY reject_id LIMIT :page");
    p, soci::use(after);
    range.bind(p);
    p, soci::use(page_rows);
    n += stream(p, [&](const soci::row& r) {
      after = as_ll(r, 0);
      ++got;
      sink(
        RejectRow{ as_str(r, 1), as_ll(r, 2), as_str(r, 3), as_str(r, 4), from_hex(as_str(r, 5)) });
    });
  }
  return n;
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

long long read_adjustments(Database& db,
                           const DateRange& dates,
                           const RowSink<AdjustmentExportRow>& sink)
{
  // Along the index adjustments_applied (applied_date, account_id,
  // adjustment_id); pending ones (NULL) are not applied yet. The reason is
  // free text: read as hex, so every byte comes back as stored.
  const RangeFilter range("applied_date", dates);
  Prepared p =
    (db.sql().prepare << "SELECT adjustment_id, account_id, applied_date, kind, "
                         "applied_credits, amount_cents, HEX(reason)"
                         " FROM adjustments WHERE applied_date IS NOT NULL"
                           + range.sql() + " ORDER BY applied_date, account_id, adjustment_id");
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    sink(AdjustmentExportRow{ as_str(r, 0),
                              as_ll(r, 1),
                              as_str(r, 2),
                              as_str(r, 3),
                              as_ll(r, 4),
                              as_ll(r, 5),
                              from_hex(as_str(r, 6)) });
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

long long read_lot_movements(Database& db,
                             const DateRange& dates,
                             const RowSink<LotExportRow>& sink,
                             long long page_rows)
{
  long long n = 0;
  for (const std::string& date : dates_in(db, "lot_movements", "business_date", dates)) {
    // One date in pages along the key (account, lot); each movement finds
    // its lot by the key of lots (credits left) or of spent_lots.
    long long after_account = 0;
    long long after_seq = 0;
    for (long long got = page_rows; got == page_rows;) {
      got = 0;
      Prepared p = (db.sql().prepare
                    << "SELECT m.account_id, m.lot_seq, COALESCE(l.kind, s.kind), "
                       "COALESCE(l.source, s.source), COALESCE(l.valid_from_us, "
                       "s.valid_from_us), COALESCE(l.expires_at_us, s.expires_at_us), "
                       "m.opening, m.created, m.used, m.expired, m.revoked, m.rolled_out, "
                       "m.closing, COALESCE(l.value_cents, s.value_cents), m.released_cents "
                       "FROM lot_movements m LEFT JOIN lots l ON l.account_id = m.account_id "
                       "AND l.lot_seq = m.lot_seq LEFT JOIN spent_lots s ON s.account_id = "
                       "m.account_id AND s.lot_seq = m.lot_seq WHERE m.business_date = :d AND "
                       "(m.account_id > "
                       ":a1 OR (m.account_id = :a2 AND m.lot_seq > :s)) ORDER BY m.account_id, "
                       "m.lot_seq LIMIT :page");
      p, soci::use(date), soci::use(after_account), soci::use(after_account), soci::use(after_seq),
        soci::use(page_rows);
      n += stream(p, [&](const soci::row& r) {
        const long long account = as_ll(r, 0);
        const auto stored_kind = as_opt_str(r, 2);
        if (!stored_kind) {
          throw std::runtime_error("the lot of a lot movement is missing: account "
                                   + std::to_string(account) + ", lot "
                                   + std::to_string(as_ll(r, 1)) + ", " + date);
        }
        const auto kind = parse_lot_kind(*stored_kind);
        if (!kind) {
          throw std::runtime_error("stored lot has an unknown kind");
        }
        const Instant valid_from{ as_ll(r, 4) };
        sink(LotExportRow{ .business_date = date,
                           .account_id = account,
                           .lot = lot_name(account, *kind, as_str(r, 3), valid_from),
                           .kind = std::string(to_string(*kind)),
                           .valid_from = valid_from,
                           .expires_at = Instant{ as_ll(r, 5) },
                           .opening = as_ll(r, 6),
                           .created = as_ll(r, 7),
                           .used = as_ll(r, 8),
                           .expired = as_ll(r, 9),
                           .revoked = as_ll(r, 10),
                           .rolled_out = as_ll(r, 11),
                           .closing = as_ll(r, 12),
                           .value_cents = as_ll(r, 13),
                           .released_cents = as_ll(r, 14) });
        after_account = account;
        after_seq = as_ll(r, 1);
        ++got;
      });
    }
  }
  return n;
}

long long read_revenue(Database& db, const DateRange& dates, const RowSink<RevenueRow>& sink)
{
  const RangeFilter range("business_date", dates);
  Prepared p = (db.sql().prepare << "SELECT business_date, currency, opening_deferred_cents, "
                                    "sold_cents, usage_cents, breakage_cents, revoked_cents, "
                                    "closing_deferred_cents FROM revenue WHERE 1 = 1"
                                      + range.sql() + " ORDER BY business_date, currency");
  range.bind(p);
  return stream(p, [&](const soci::row& r) {
    sink(RevenueRow{ as_str(r, 0),
                     as_str(r, 1),
                     as_ll(r, 2),
                     as_ll(r, 3),
                     as_ll(r, 4),
                     as_ll(r, 5),
                     as_ll(r, 6),
                     as_ll(r, 7) });
  });
}

} // namespace billing
