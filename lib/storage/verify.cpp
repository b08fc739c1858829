#include "storage/verify.hpp"

#include "domain/calendar.hpp"
#include "storage/day_store.hpp"
#include "storage/export_store.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

namespace billing {

namespace {

constexpr int k_breaches_per_check_max = 20;

// One check's findings: up to k_breaches_per_check_max breaches are listed.
class Check
{
public:
  Check(VerifyReport& report, std::string name)
    : m_report(report)
    , m_name(std::move(name))
  {
  }
  Check(const Check&) = delete;
  Check& operator=(const Check&) = delete;
  // Records the check as passed when it found nothing.
  ~Check() { finish(); }

  // Records the check as passed when it found nothing; once.
  void finish()
  {
    if (m_found == 0 && !m_finished) {
      m_report.checks_passed.push_back(m_name);
    }
    m_finished = true;
  }

  // A breach, described by its "column=value" fields.
  void breach(const std::vector<std::pair<std::string, std::string>>& fields)
  {
    if (m_found++ >= k_breaches_per_check_max) {
      return;
    }
    std::string line = m_name + ":";
    for (const auto& [column, value] : fields) {
      line += " " + column + "=" + value;
    }
    m_report.breaches.push_back(line);
  }

  // Every row of `rows` is a breach, described by its columns.
  void breach_per_row(soci::rowset<soci::row>& rows)
  {
    for (const auto& r : rows) {
      std::vector<std::pair<std::string, std::string>> fields;
      for (size_t i = 0; i < r.size(); ++i) {
        fields.emplace_back(r.get_properties(i).get_name(), as_opt_str(r, i).value_or("NULL"));
      }
      breach(fields);
    }
  }

private:
  VerifyReport& m_report;
  std::string m_name;
  long long m_found = 0;
  bool m_finished = false;
};

// Runs `query` (no parameters); every row it returns is a breach.
void check_rows(Database& db,
                VerifyReport& report,
                const std::string& name,
                const std::string& query)
{
  Check check(report, name);
  soci::rowset<soci::row> rows = db.sql().prepare
                                 << query + " LIMIT " + std::to_string(k_breaches_per_check_max);
  check.breach_per_row(rows);
}

std::string str(long long v)
{
  return std::to_string(v);
}

// Credits conserved per account: the ledger's signed sum is what the lots hold
// net of overdraft. Each table is read once, grouped along its key (the
// ledger's by date, then account), and they are matched here, not in a join.
void check_conservation(Database& db, VerifyReport& report)
{
  struct Totals
  {
    long long ledger = 0;
    long long remaining = 0;
    long long overdraft = 0;
    bool has_state = false;
  };
  std::map<long long, Totals> accounts;
  {
    soci::rowset<soci::row> rows = db.sql().prepare
                                   << "SELECT account_id, overdraft FROM account_state";
    for (const auto& r : rows) {
      Totals& t = accounts[as_ll(r, 0)];
      t.overdraft = as_ll(r, 1);
      t.has_state = true;
    }
  }
  // The ledger date by date, each along its key (date, account, key): one
  // GROUP BY over the whole ledger would sort a year of entries (in memory on
  // SQLite, whose temp store is memory).
  for (const std::string& date : leading_key_values(db, "ledger", "business_date")) {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT account_id, SUM(credits) FROM ledger WHERE business_date = "
                           ":d GROUP BY account_id",
       soci::use(date));
    for (const auto& r : rows) {
      accounts[as_ll(r, 0)].ledger += as_ll(r, 1);
    }
  }
  for (const std::string table : { "lots", "spent_lots" }) {
    soci::rowset<soci::row> rows = db.sql().prepare << "SELECT account_id, SUM(remaining) FROM "
                                                         + table + " GROUP BY account_id";
    for (const auto& r : rows) {
      accounts[as_ll(r, 0)].remaining += as_ll(r, 1);
    }
  }
  Check check(report, "credits conserved (ledger = remaining - overdraft)");
  for (const auto& [account_id, t] : accounts) {
    // An account with no state row has had no date closed: nothing to hold.
    if (t.has_state && t.ledger != t.remaining - t.overdraft) {
      check.breach({ { "account_id", str(account_id) },
                     { "ledger_total", str(t.ledger) },
                     { "lots_remaining", str(t.remaining) },
                     { "overdraft", str(t.overdraft) } });
    }
  }
}

// The per-date checks, one business date at a time along the keys of
// reconciliation, usage_events and charges: usage charged once, every event of
// a closed date charged, charges = used, adjusted = the adjustments applied,
// and closing of D = opening of the account's next row (D+1, or a later date
// after dormant dates, SPEC 14). Memory: one date's accounts plus each account's last
// closing.
// SPEC 17's values as the reconciliation holds them: per account its
// deferred value at the end of its last row (rows of dates the value books
// cover), and per date and currency the sums the revenue row must equal.
struct ValueWalk
{
  std::optional<std::string> books_after; // value_books.after_date
  std::unordered_map<long long, std::string> currency_of;
  std::unordered_map<long long, long long> last_deferred;
  std::map<std::pair<std::string, std::string>, std::array<long long, 6>> sums; // date, currency

  bool covers(const std::string& date) const { return !books_after || date > *books_after; }
};

// The figures a completed date keeps in business_days against `sums` of its
// rows (by column name; a name missing from `sums` sums to 0).
void check_day_figures(Database& db,
                       Check& check,
                       const std::string& date,
                       std::map<std::string, long long>& sums)
{
  static const char* const columns[] = { "accounts",        "usage_events",   "credits_used",
                                         "credits_expired", "events_sms",     "events_mms",
                                         "events_voice",    "events_ringless" };
  std::string select;
  for (const char* column : columns) {
    select += (select.empty() ? "SELECT " : ", ") + std::string(column);
  }
  soci::rowset<soci::row> rows =
    (db.sql().prepare << select + " FROM business_days WHERE business_date = :d", soci::use(date));
  for (const auto& r : rows) {
    for (size_t i = 0; i < std::size(columns); ++i) {
      const long long kept = as_opt_ll(r, i).value_or(0);
      if (kept != sums[columns[i]]) {
        check.breach({ { "business_date", date },
                       { "figure", columns[i] },
                       { "kept", str(kept) },
                       { "rows", str(sums[columns[i]]) } });
      }
    }
  }
}

void check_dates(Database& db,
                 VerifyReport& report,
                 const std::optional<Date>& last,
                 ValueWalk& values)
{
  std::set<std::string> dates;
  for (const auto& d : leading_key_values(db, "reconciliation", "business_date")) {
    dates.insert(d);
  }
  for (const auto& d : leading_key_values(db, "usage_events", "charged_date")) {
    dates.insert(d);
  }
  std::set<std::string> complete;
  {
    soci::rowset<soci::row> rows = db.sql().prepare
                                   << "SELECT business_date FROM business_days WHERE status = "
                                      "'complete'";
    for (const auto& r : rows) {
      complete.insert(as_str(r, 0));
    }
  }
  const std::string last_text = last ? format_date(*last) : std::string();

  Check charged_once(report, "usage charged once: events = reconciliation used");
  Check all_charged(report, "every accepted event of a closed date is charged");
  Check charges_used(report, "charges = reconciliation used");
  Check continuity(report, "closing of D = opening of the account's next row");
  Check adjusted_applied(report, "adjusted = the grants minus debits applied that date");
  Check value_continuity(report, "closing deferred value of D = opening of the account's next row");
  Check figures(report, "a completed date's figures = the sums of its reconciliation and charges");
  std::unordered_map<long long, long long> last_closing;
  for (const std::string& date : dates) {
    struct Credits
    {
      long long credits = 0;
      long long events = 0;
    };
    std::unordered_map<long long, Credits> event_credits;
    {
      soci::rowset<soci::row> rows =
        (db.sql().prepare << "SELECT account_id, SUM(credits), COUNT(*) FROM usage_events WHERE "
                             "charged_date = :d GROUP BY account_id",
         soci::use(date));
      for (const auto& r : rows) {
        event_credits[as_ll(r, 0)] = Credits{ as_ll(r, 1), as_ll(r, 2) };
      }
    }
    const bool is_complete = complete.contains(date);
    std::unordered_map<long long, long long> charged;
    // What the date's rows add up to, against the figures kept when it
    // completed (summed from its chunks' rows, schema 8).
    std::map<std::string, long long> sums;
    if (is_complete) {
      soci::rowset<soci::row> rows =
        (db.sql().prepare << "SELECT account_id, channel, SUM(credits), SUM(events) FROM charges "
                             "WHERE business_date = :d GROUP BY account_id, channel",
         soci::use(date));
      for (const auto& r : rows) {
        charged[as_ll(r, 0)] += as_ll(r, 2);
        sums["events_" + as_str(r, 1)] += as_ll(r, 3);
      }
    }
    // Grants count +, debits - (refunds are in revoked); along the index
    // adjustments_applied.
    std::unordered_map<long long, long long> adjustments;
    {
      soci::rowset<soci::row> rows =
        (db.sql().prepare << "SELECT account_id, kind, SUM(applied_credits) FROM adjustments "
                             "WHERE applied_date = :d AND kind <> 'refund' GROUP BY account_id, "
                             "kind",
         soci::use(date));
      for (const auto& r : rows) {
        adjustments[as_ll(r, 0)] += as_str(r, 1) == "debit" ? -as_ll(r, 2) : as_ll(r, 2);
      }
    }
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT account_id, opening, closing, used, adjusted, "
                           "opening_deferred_cents, sold_cents, usage_cents, breakage_cents, "
                           "revoked_cents, closing_deferred_cents, usage_events, expired FROM "
                           "reconciliation WHERE "
                           "business_date = :d ORDER BY account_id",
       soci::use(date));
    const bool valued = values.covers(date);
    for (const auto& r : rows) {
      const long long account_id = as_ll(r, 0);
      const long long opening = as_ll(r, 1);
      const long long closing = as_ll(r, 2);
      const long long used = as_ll(r, 3);
      const long long adjusted = as_ll(r, 4);
      sums["accounts"] += 1;
      sums["credits_used"] += used;
      sums["usage_events"] += as_ll(r, 11);
      sums["credits_expired"] += as_ll(r, 12);
      if (valued) {
        const long long opening_deferred = as_ll(r, 5);
        const auto [prev, first] = values.last_deferred.try_emplace(account_id, opening_deferred);
        if (!first && prev->second != opening_deferred) {
          value_continuity.breach({ { "business_date", date },
                                    { "account_id", str(account_id) },
                                    { "opening_deferred_cents", str(opening_deferred) },
                                    { "prev_closing_deferred_cents", str(prev->second) } });
        }
        prev->second = as_ll(r, 10);
        auto& sum = values.sums[{ date, values.currency_of[account_id] }];
        for (size_t i = 0; i < sum.size(); ++i) {
          sum[i] += as_ll(r, 5 + i);
        }
      }
      const auto adjustment = adjustments.find(account_id);
      const long long applied = adjustment == adjustments.end() ? 0 : adjustment->second;
      if (adjustment != adjustments.end()) {
        adjustments.erase(adjustment);
      }
      if (adjusted != applied) {
        adjusted_applied.breach({ { "business_date", date },
                                  { "account_id", str(account_id) },
                                  { "adjusted", str(adjusted) },
                                  { "applied", str(applied) } });
      }
      const auto events = event_credits.find(account_id);
      const long long event_used = events == event_credits.end() ? 0 : events->second.credits;
      if (events != event_credits.end()) {
        events->second.events = -1; // matched by a reconciliation row
      }
      if (used != event_used) {
        charged_once.breach({ { "business_date", date },
                              { "account_id", str(account_id) },
                              { "used", str(used) },
                              { "event_credits", str(event_used) } });
      }
      if (is_complete) {
        const auto c = charged.find(account_id);
        const long long charged_credits = c == charged.end() ? 0 : c->second;
        if (used != charged_credits) {
          charges_used.breach({ { "business_date", date },
                                { "account_id", str(account_id) },
                                { "used", str(used) },
                                { "charged", str(charged_credits) } });
        }
      }
      const auto [prev, first] = last_closing.try_emplace(account_id, closing);
      if (!first) {
        if (prev->second != opening) {
          continuity.breach({ { "business_date", date },
                              { "account_id", str(account_id) },
                              { "opening", str(opening) },
                              { "prev_closing", str(prev->second) } });
        }
        prev->second = closing;
      }
    }
    if (is_complete) {
      check_day_figures(db, figures, date, sums);
    }
    for (const auto& [account_id, applied] : adjustments) {
      adjusted_applied.breach({ { "business_date", date },
                                { "account_id", str(account_id) },
                                { "adjusted", "no row" },
                                { "applied", str(applied) } });
    }
    if (last && date <= last_text) {
      for (const auto& [account_id, c] : event_credits) {
        if (c.events >= 0) {
          all_charged.breach({ { "charged_date", date },
                               { "account_id", str(account_id) },
                               { "events", str(c.events) } });
        }
      }
    }
  }
  charged_once.finish();
  all_charged.finish();
  charges_used.finish();
  continuity.finish();
  adjusted_applied.finish();
  value_continuity.finish();
  figures.finish();
}

// SPEC 11, 17: every lot's released value follows the floor rule; per
// account the lots' deferred value is what its last row closed with; every
// revenue row ties out, carries to the next date and equals the
// reconciliation's values of its date and currency; per currency, all value
// sold = released (usage + breakage + revoked) + deferred.
void check_values(Database& db, VerifyReport& report, const ValueWalk& values, bool books_settled)
{
  std::unordered_map<long long, long long> deferred_of; // account -> lots' deferred
  {
    Check floor_rule(report,
                     "lot values follow the floor rule (released = value x left / granted)");
    for (const std::string table : { "lots", "spent_lots" }) {
      soci::rowset<soci::row> rows = db.sql().prepare
                                     << "SELECT account_id, lot_seq, granted, remaining, "
                                        "value_cents, released_cents FROM "
                                          + table;
      for (const auto& r : rows) {
        const long long account_id = as_ll(r, 0);
        const long long granted = as_ll(r, 2);
        const long long remaining = as_ll(r, 3);
        const long long value = as_ll(r, 4);
        const long long released = as_ll(r, 5);
        const long long expected =
          released_cents_at(value, Credits{ granted }, Credits{ remaining });
        if (released != expected || value < 0) {
          floor_rule.breach({ { "account_id", str(account_id) },
                              { "lot_seq", str(as_ll(r, 1)) },
                              { "value_cents", str(value) },
                              { "released_cents", str(released) },
                              { "expected", str(expected) } });
        }
        deferred_of[account_id] += value - released;
      }
    }
  }
  if (books_settled) {
    Check account_deferred(report, "an account's lots hold the deferred value of its last row");
    for (const auto& [account_id, deferred] : values.last_deferred) {
      const auto it = deferred_of.find(account_id);
      const long long held = it == deferred_of.end() ? 0 : it->second;
      if (held != deferred) {
        account_deferred.breach({ { "account_id", str(account_id) },
                                  { "closing_deferred_cents", str(deferred) },
                                  { "lots_deferred_cents", str(held) } });
      }
    }
  }
  Check ties(report, "revenue rows tie out, and closing of D = opening of the next date");
  Check sums(report, "revenue = the reconciliation's values per date and currency");
  Check conserved(report, "value conserved per currency: sold = released + deferred");
  std::map<std::string, long long> last_closing;  // currency -> closing of its last row
  std::map<std::string, long long> first_opening; // currency -> opening of its first row
  std::map<std::string, long long> net;           // sold - released over the rows
  std::set<std::pair<std::string, std::string>> rows_seen;
  read_revenue(db, DateRange{}, [&](const RevenueRow& row) {
    const std::string& date = row.business_date;
    const std::string& currency = row.currency;
    const std::array<long long, 6> v{
      row.opening_deferred_cents, row.sold_cents,    row.usage_cents,
      row.breakage_cents,         row.revoked_cents, row.closing_deferred_cents
    };
    const auto [opening, sold, usage, breakage, revoked, closing] = v;
    if (closing != opening + sold - usage - breakage - revoked) {
      ties.breach({ { "business_date", date },
                    { "currency", currency },
                    { "opening_deferred_cents", str(opening) },
                    { "closing_deferred_cents", str(closing) } });
    }
    const auto [prev, first] = last_closing.try_emplace(currency, closing);
    if (first) {
      first_opening[currency] = opening;
    } else {
      if (prev->second != opening) {
        ties.breach({ { "business_date", date },
                      { "currency", currency },
                      { "opening_deferred_cents", str(opening) },
                      { "prev_closing_deferred_cents", str(prev->second) } });
      }
      prev->second = closing;
    }
    net[currency] += sold - usage - breakage - revoked;
    const auto it = values.sums.find({ date, currency });
    const std::array<long long, 6> zero_but_carried{ opening, 0, 0, 0, 0, closing };
    if ((it == values.sums.end() ? zero_but_carried : it->second) != v) {
      sums.breach({ { "business_date", date }, { "currency", currency } });
    }
    rows_seen.insert({ date, currency });
  });
  for (const auto& [key, sum] : values.sums) {
    if (!rows_seen.contains(key)
        && std::any_of(sum.begin(), sum.end(), [](long long x) { return x != 0; })) {
      sums.breach(
        { { "business_date", key.first }, { "currency", key.second }, { "row", "none" } });
    }
  }
  if (books_settled) {
    std::map<std::string, long long> deferred; // currency -> lots' deferred
    for (const auto& [account_id, cents] : deferred_of) {
      if (cents != 0) {
        const auto c = values.currency_of.find(account_id);
        deferred[c == values.currency_of.end() ? std::string("?") : c->second] += cents;
      }
    }
    for (const auto& [currency, closing] : last_closing) {
      deferred.try_emplace(currency, 0);
    }
    for (const auto& [currency, held] : deferred) {
      const long long booked = first_opening[currency] + net[currency];
      if (held != booked) {
        conserved.breach({ { "currency", currency },
                           { "opening_plus_sold_minus_released_cents", str(booked) },
                           { "lots_deferred_cents", str(held) } });
      }
    }
  }
}

} // namespace

VerifyReport verify_books(Database& db)
{
  VerifyReport report;
  check_conservation(db, report);
  check_rows(db,
             report,
             "no negative lot or overdraft",
             "SELECT account_id, lot_seq, remaining FROM lots WHERE remaining < 0 UNION ALL "
             "SELECT account_id, -1, overdraft FROM account_state WHERE overdraft < 0");
  // A night moves a lot to spent_lots in the transaction that takes its last
  // credit: lots holds the lots with credits, once each.
  check_rows(db,
             report,
             "a lot is live while it holds credits and spent once it holds none",
             "SELECT account_id, lot_seq, remaining FROM lots WHERE remaining <= 0 UNION ALL "
             "SELECT account_id, lot_seq, remaining FROM spent_lots WHERE remaining <> 0 UNION "
             "ALL SELECT l.account_id, l.lot_seq, l.remaining FROM lots l JOIN spent_lots s ON "
             "s.account_id = l.account_id AND s.lot_seq = l.lot_seq");
  const auto last = last_completed_date(db);
  if (last) {
    // A lot past its expiry in a closed date has nothing left. A lot expiring
    // exactly at the next 00:00Z belongs to the next date (SPEC 13.2). Each
    // lot with credits is matched to its account's state along the key.
    Check check(report, "no expired lot holds credits");
    const long long end_us = start_of(last->next()).us;
    const std::string last_text = format_date(*last);
    soci::rowset<soci::row> rows =
      (db.sql().prepare
         << "SELECT l.account_id, l.lot_seq, l.remaining, l.expires_at_us FROM lots l "
            "JOIN account_state s ON s.account_id = l.account_id WHERE l.remaining "
            "> 0 AND l.expires_at_us < :end_us AND s.state_date >= :last LIMIT "
              + std::to_string(k_breaches_per_check_max),
       soci::use(end_us),
       soci::use(last_text));
    check.breach_per_row(rows);
  }
  check_rows(db,
             report,
             "no event is charged before it occurred",
             "SELECT event_id, occurred_date, charged_date FROM usage_events WHERE charged_date IS "
             "NULL OR charged_date < occurred_date");
  check_rows(
    db,
    report,
    "reconciliation rows tie out",
    "SELECT business_date, account_id, opening, closing FROM reconciliation WHERE closing <> "
    "opening + granted + purchased + adjusted - used - expired - revoked");
  check_rows(db,
             report,
             "reconciliation values tie out",
             "SELECT business_date, account_id, opening_deferred_cents, closing_deferred_cents "
             "FROM reconciliation WHERE closing_deferred_cents <> opening_deferred_cents + "
             "sold_cents - usage_cents - breakage_cents - revoked_cents");
  ValueWalk values;
  {
    soci::rowset<soci::row> rows = db.sql().prepare << "SELECT MAX(after_date) FROM value_books";
    for (const auto& r : rows) {
      values.books_after = as_opt_str(r, 0);
    }
    soci::rowset<soci::row> accounts =
      db.sql().prepare
      << "SELECT a.account_id, p.currency FROM accounts a JOIN plans p ON p.plan_id = a.plan_id";
    for (const auto& r : accounts) {
      values.currency_of[as_ll(r, 0)] = as_str(r, 1);
    }
  }
  check_dates(db, report, last, values);
  // The lots hold the state after the last row of every account only when
  // no date is part-closed and the revenue has reached the last closed date.
  const bool running =
    query_ll(db, "SELECT COUNT(*) FROM business_days WHERE status <> 'complete'") > 0;
  check_values(db, report, values, !running);
  return report;
}

} // namespace billing
