#include "storage/verify.hpp"

#include "domain/calendar.hpp"
#include "storage/day_store.hpp"

namespace billing {

namespace {

constexpr int k_breaches_per_check_max = 20;

// Runs `query`; every row it returns is a breach, described by its columns.
void check(Database& db, VerifyReport& report, const std::string& name, const std::string& query)
{
  soci::rowset<soci::row> rows = db.sql().prepare
                                 << query + " LIMIT " + std::to_string(k_breaches_per_check_max);
  bool clean = true;
  for (const auto& r : rows) {
    clean = false;
    std::string line = name + ":";
    for (size_t i = 0; i < r.size(); ++i) {
      line += " " + r.get_properties(i).get_name() + "=" + as_opt_str(r, i).value_or("NULL");
    }
    report.breaches.push_back(line);
  }
  if (clean) {
    report.checks_passed.push_back(name);
  }
}

} // namespace

VerifyReport verify_books(Database& db)
{
  VerifyReport report;
  // Conservation: the ledger's signed sum is what the lots hold net of debt.
  check(db,
        report,
        "credits conserved (ledger = remaining - overdraft)",
        "SELECT s.account_id, COALESCE(l.total, 0) AS ledger_total, COALESCE(t.remaining, 0) AS "
        "lots_remaining, s.overdraft FROM account_state s "
        "LEFT JOIN (SELECT account_id, SUM(credits) AS total FROM ledger GROUP BY account_id) l "
        "ON l.account_id = s.account_id "
        "LEFT JOIN (SELECT account_id, SUM(remaining) AS remaining FROM lots GROUP BY "
        "account_id) t ON t.account_id = s.account_id "
        "WHERE COALESCE(l.total, 0) <> COALESCE(t.remaining, 0) - s.overdraft");
  check(db,
        report,
        "no negative lot or overdraft",
        "SELECT account_id, lot_seq, remaining FROM lots WHERE remaining < 0 UNION ALL "
        "SELECT account_id, -1, overdraft FROM account_state WHERE overdraft < 0");
  // A lot past its expiry in a closed date has nothing left. A lot expiring
  // exactly at the next 00:00Z belongs to the next date (SPEC 13.2).
  const auto last = last_completed_date(db);
  if (last) {
    const std::string end_us = std::to_string(start_of(last->next()).us);
    check(db,
          report,
          "no expired lot holds credits",
          "SELECT l.account_id, l.lot_seq, l.remaining, l.expires_at_us FROM lots l JOIN "
          "account_state s ON s.account_id = l.account_id WHERE l.remaining > 0 AND "
          "l.expires_at_us < "
            + end_us + " AND s.state_date >= " + sql_quote(format_date(*last)));
    check(db,
          report,
          "every accepted event of a closed date is charged",
          "SELECT e.event_id, e.account_id, e.charged_date FROM usage_events e LEFT JOIN "
          "reconciliation r ON r.business_date = e.charged_date AND r.account_id = e.account_id "
          "WHERE e.charged_date <= "
            + sql_quote(format_date(*last)) + " AND r.account_id IS NULL");
  }
  check(db,
        report,
        "no event is charged before it occurred",
        "SELECT event_id, occurred_date, charged_date FROM usage_events WHERE charged_date IS "
        "NULL OR charged_date < occurred_date");
  check(db,
        report,
        "usage charged once: events = reconciliation used",
        "SELECT r.business_date, r.account_id, r.used, COALESCE(e.credits, 0) AS event_credits "
        "FROM reconciliation r LEFT JOIN (SELECT charged_date, account_id, SUM(credits) AS "
        "credits FROM usage_events WHERE charged_date IS NOT NULL GROUP BY charged_date, "
        "account_id) e ON e.charged_date = r.business_date AND e.account_id = r.account_id "
        "WHERE r.used <> COALESCE(e.credits, 0)");
  check(db,
        report,
        "charges = reconciliation used",
        "SELECT r.business_date, r.account_id, r.used, COALESCE(c.credits, 0) AS charged FROM "
        "reconciliation r JOIN business_days d ON d.business_date = r.business_date AND "
        "d.status = 'complete' LEFT JOIN (SELECT business_date, account_id, SUM(credits) AS "
        "credits FROM charges GROUP BY business_date, account_id) c ON c.business_date = "
        "r.business_date AND c.account_id = r.account_id WHERE r.used <> COALESCE(c.credits, 0)");
  check(db,
        report,
        "reconciliation rows tie out",
        "SELECT business_date, account_id, opening, closing FROM reconciliation WHERE closing <> "
        "opening + granted + purchased - used - expired - revoked");
  check(db,
        report,
        "closing of D = opening of D+1",
        "SELECT business_date, account_id, opening, prev_closing FROM (SELECT business_date, "
        "account_id, opening, LAG(closing) OVER (PARTITION BY account_id ORDER BY "
        "business_date) AS prev_closing FROM reconciliation) x WHERE prev_closing IS NOT NULL "
        "AND prev_closing <> opening");
  return report;
}

} // namespace billing
