// Auto-recharge and payment results (SPEC section 7, 13.3): recharge
// requests with the right amount and a stable idempotency key, no second
// request on a re-run, a failed payment revokes only what is left of its lot
// at the next date and turns auto-recharge off, results import idempotently,
// unknown and contradicting results are rejected.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "jobs/nightly.hpp"
#include "reports/exports.hpp"
#include "storage/imports.hpp"
#include "storage/payments.hpp"
#include "storage/usage_store.hpp"
#include "storage/verify.hpp"
#include "util/errors.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace billing;

namespace {

using billing::testing::date;
using billing::testing::dump;
using billing::testing::instant;

const Instant k_now = instant("2026-11-25T08:00:00Z");
const Instant k_later = instant("2026-11-25T10:00:00Z");
const Date k_today = date("2026-11-25");

std::string reasons(const ImportReport& r)
{
  std::string out;
  for (const auto& rej : r.rejected) {
    out += "line " + std::to_string(rej.line) + ": " + rej.reason + "\n";
  }
  return out;
}

// 250 credits at 1234 cents per 1000: 308.5 cents, rounded half up to 309.
const char* const k_plans =
  "plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,"
  "rollover_cap\n"
  "P,Plan,monthly,100,1000,1234,USD,\n";

// 1: one recharge (balance 100 < 200); 2: capped at 3 recharges (needs 4);
// 3: below its threshold but auto-recharge off.
const char* const k_accounts_header =
  "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,"
  "max_recharges_per_day\n";
const std::string k_accounts = std::string(k_accounts_header)
                               + "1,P,2026-11-01,1,200,250,3\n"
                                 "2,P,2026-11-01,1,1000,250,3\n"
                                 "3,P,2026-11-01,0,500,250,3\n";

// Account 1 uses 150 credits on 11-02: the plan lot's 100, then 50 of the
// recharge lot (valid from 11-02 00:00).
const char* const k_usage =
  "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n"
  "v1,1,voice,2026-11-02T10:00:00Z,completed,,9000,150\n";

const char* const k_results_header = "idempotency_key,status,provider_ref,failure_reason\n";

class PaymentsTest : public billing::testing::BackendTest
{
protected:
  void prepare() override
  {
    migrate_schema();
    ASSERT_TRUE(
      import_csv(*db, ImportKind::plans, file("plans.csv", k_plans), k_now).rejected.empty());
    ASSERT_TRUE(import_csv(*db, ImportKind::accounts, file("accounts.csv", k_accounts), k_now)
                  .rejected.empty());
    ASSERT_EQ(ingest_usage_file(*db, file("usage.csv", k_usage), k_now).accepted, 1);
  }

  RunOutcome run_to(const char* to, DryRun dry = DryRun::no)
  {
    RunRequest req;
    req.from = date("2026-11-01");
    req.to = date(to);
    req.today = k_today;
    req.dry_run = dry;
    RunHooks hooks;
    hooks.now = [] { return k_now; };
    return run_nightly(*db, req, hooks);
  }

  ImportReport results(const std::string& name, const std::string& rows, Instant now = k_now)
  {
    return import_payment_results(*db, file(name, std::string(k_results_header) + rows), now);
  }

  std::string requests()
  {
    return dump(*db,
                "SELECT idempotency_key, account_id, business_date, lot_seq, credits, "
                "amount_cents, currency, status, provider_ref, failure_reason, result_us, "
                "revoked_date FROM payment_requests ORDER BY idempotency_key");
  }

  std::string recon(long long account, const char* day)
  {
    return dump(*db,
                "SELECT opening, granted, purchased, used, expired, revoked, closing, overdraft, "
                "sending_enabled FROM reconciliation WHERE account_id = :account AND "
                "business_date = :day",
                account,
                std::string(day));
  }

  std::string payments_export()
  {
    ExportRequest req;
    req.kind = ExportKind::payments;
    std::ostringstream out;
    write_export(*db, req, out);
    return out.str();
  }

private:
};

TEST_P(PaymentsTest, AccountBelowThresholdGetsRechargeRequestsWithAmountAndIdempotencyKey)
{
  run_to("2026-11-01");
  EXPECT_EQ(payments_export(),
            "idempotency_key,account_id,business_date,credits,amount_cents,currency,status\n"
            "recharge:1:2026-11-01:1,1,2026-11-01,250,309,USD,pending\n"
            "recharge:2:2026-11-01:1,2,2026-11-01,250,309,USD,pending\n"
            "recharge:2:2026-11-01:2,2,2026-11-01,250,309,USD,pending\n"
            "recharge:2:2026-11-01:3,2,2026-11-01,250,309,USD,pending\n");
  // Booked on the date that triggered them (SPEC 13.3): purchased and closing.
  //                        open grant purch used exp rev close od send
  EXPECT_EQ(recon(1, "2026-11-01"), "'0','100','250','0','0','0','350','0','1'\n");
  EXPECT_EQ(recon(2, "2026-11-01"), "'0','100','750','0','0','0','850','0','1'\n");
  EXPECT_EQ(recon(3, "2026-11-01"), "'0','100','0','0','0','0','100','0','1'\n");
  // One purchased lot per request, valid from the next 00:00 for 12 months.
  const std::string next_day = std::to_string(start_of(date("2026-11-02")).us);
  const std::string year_later = std::to_string(start_of(date("2027-11-02")).us);
  EXPECT_EQ(dump(*db,
                 "SELECT l.kind, l.source, l.granted, l.remaining, l.valid_from_us, "
                 "l.expires_at_us FROM payment_requests p JOIN all_lots l ON l.account_id = "
                 "p.account_id AND l.lot_seq = p.lot_seq WHERE p.account_id = 1"),
            "'purchased','recharge:2026-11-01:1','250','250','" + next_day + "','" + year_later
              + "'\n");
  EXPECT_EQ(
    query_ll(*db, "SELECT COUNT(DISTINCT lot_seq) FROM payment_requests WHERE account_id = 2"), 3);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM ledger WHERE kind = 'recharge' AND account_id = 2"),
            3);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM payment_requests WHERE account_id = 3"), 0);
}

TEST_P(PaymentsTest, RerunMakesNoSecondRequest)
{
  // A dry run first asks for nothing.
  run_to("2026-11-01", DryRun::yes);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM payment_requests"), 0);
  run_to("2026-11-01");
  const std::string first = requests();
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM payment_requests"), 4);
  run_to("2026-11-01");
  EXPECT_EQ(requests(), first);
  // The next date: account 1 is above its threshold, account 2 (850 < 1000)
  // gets one more with that date's key.
  run_to("2026-11-02");
  run_to("2026-11-02");
  EXPECT_EQ(dump(*db,
                 "SELECT idempotency_key, credits, amount_cents FROM payment_requests WHERE "
                 "business_date = '2026-11-02' ORDER BY idempotency_key"),
            "'recharge:2:2026-11-02:1','250','309'\n");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM payment_requests"), 5);
}

TEST_P(PaymentsTest, FailedPaymentRevokesOnlyTheUnusedPartAtTheNextDateAndTurnsAutoRechargeOff)
{
  run_to("2026-11-02");
  EXPECT_EQ(recon(1, "2026-11-02"), "'350','0','0','150','0','0','200','0','1'\n");
  const long long lot_seq = query_ll(
    *db, "SELECT lot_seq FROM payment_requests WHERE idempotency_key = 'recharge:1:2026-11-01:1'");
  const std::string lot_where =
    " FROM all_lots WHERE account_id = 1 AND lot_seq = " + std::to_string(lot_seq);
  EXPECT_EQ(query_ll(*db, "SELECT remaining" + lot_where), 200);

  const ImportReport r =
    results("results.csv", "recharge:1:2026-11-01:1,failed,ref-1,card_declined\n", k_later);
  EXPECT_TRUE(r.rejected.empty()) << reasons(r);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(dump(*db,
                 "SELECT status, provider_ref, failure_reason, result_us, revoked_date FROM "
                 "payment_requests WHERE idempotency_key = 'recharge:1:2026-11-01:1'"),
            "'failed','ref-1','card_declined','" + std::to_string(k_later.us) + "',NULL\n");
  EXPECT_EQ(query_ll(*db, "SELECT auto_recharge FROM accounts WHERE account_id = 1"), 0);
  const std::string off_reason =
    dump(*db, "SELECT auto_recharge_off_reason FROM accounts WHERE account_id = 1");
  EXPECT_NE(off_reason.find("card_declined"), std::string::npos) << off_reason;
  EXPECT_NE(off_reason.find("recharge:1:2026-11-01:1"), std::string::npos) << off_reason;
  // Nothing is revoked before the next date runs.
  EXPECT_EQ(query_ll(*db, "SELECT remaining" + lot_where), 200);

  run_to("2026-11-05");
  // Only the 200 left are revoked (the 50 used stay used), on 11-03 alone;
  // balance 0 and auto-recharge off: no recharge, sending stops.
  EXPECT_EQ(recon(1, "2026-11-03"), "'200','0','0','0','0','200','0','0','0'\n");
  EXPECT_EQ(recon(1, "2026-11-04"), "'0','0','0','0','0','0','0','0','0'\n");
  EXPECT_EQ(recon(1, "2026-11-05"), "'0','0','0','0','0','0','0','0','0'\n");
  EXPECT_EQ(dump(*db, "SELECT granted, remaining" + lot_where), "'250','0'\n");
  EXPECT_EQ(dump(*db,
                 "SELECT business_date, credits, lot_seq FROM ledger WHERE kind = 'revoke' "
                 "ORDER BY idempotency_key"),
            "'2026-11-03','-200','" + std::to_string(lot_seq) + "'\n");
  EXPECT_EQ(dump(*db,
                 "SELECT revoked_date FROM payment_requests WHERE idempotency_key = "
                 "'recharge:1:2026-11-01:1'"),
            "'2026-11-03'\n");
  EXPECT_EQ(query_ll(*db,
                     "SELECT COUNT(*) FROM payment_requests WHERE account_id = 1 AND "
                     "business_date > '2026-11-01'"),
            0);
  EXPECT_EQ(dump(*db,
                 "SELECT business_date, enabled FROM sending_changes WHERE account_id = 1 ORDER "
                 "BY business_date"),
            "'2026-11-01','1'\n'2026-11-03','0'\n");
  // Account 2's lots are untouched by account 1's failure.
  EXPECT_EQ(query_ll(*db, "SELECT SUM(revoked) FROM reconciliation WHERE account_id = 2"), 0);
  const VerifyReport v = verify_books(*db);
  EXPECT_TRUE(v.breaches.empty()) << ::testing::PrintToString(v.breaches);

  // Turned on again by the operator with new settings (a new card, a new
  // threshold), it recharges again: ceil(300 / 250) = 2 recharges.
  const std::string on = std::string(k_accounts_header) + "1,P,2026-11-01,1,300,250,3\n";
  EXPECT_EQ(import_csv(*db, ImportKind::accounts, file("accounts_on.csv", on), k_later).updated, 1);
  EXPECT_EQ(dump(*db,
                 "SELECT auto_recharge, auto_recharge_off_reason FROM accounts WHERE "
                 "account_id = 1"),
            "'1',NULL\n");
  run_to("2026-11-06");
  EXPECT_EQ(dump(*db,
                 "SELECT idempotency_key, amount_cents FROM payment_requests WHERE account_id = 1 "
                 "AND business_date = '2026-11-06' ORDER BY idempotency_key"),
            "'recharge:1:2026-11-06:1','309'\n'recharge:1:2026-11-06:2','309'\n");
}

TEST_P(PaymentsTest, ReimportingTheUnchangedAccountsFileKeepsAutoRechargeOffAfterAFailedPayment)
{
  // SPEC 9: importing a row again with the same content changes nothing;
  // SPEC 7: a failed payment turns auto-recharge off so that a failing card
  // is not charged again and again. The nightly re-import of the same
  // accounts file must not undo that.
  run_to("2026-11-02");
  ASSERT_EQ(results("fail.csv", "recharge:1:2026-11-01:1,failed,ref-1,card_declined\n").updated, 1);
  ASSERT_EQ(query_ll(*db, "SELECT auto_recharge FROM accounts WHERE account_id = 1"), 0);
  const ImportReport again =
    import_csv(*db, ImportKind::accounts, file("accounts_again.csv", k_accounts), k_later);
  EXPECT_TRUE(again.rejected.empty()) << reasons(again);
  EXPECT_EQ(again.updated, 0) << "the unchanged accounts file changed a row";
  EXPECT_EQ(query_ll(*db, "SELECT auto_recharge FROM accounts WHERE account_id = 1"), 0);
  EXPECT_NE(dump(*db, "SELECT auto_recharge_off_reason FROM accounts WHERE account_id = 1")
              .find("card_declined"),
            std::string::npos);
  run_to("2026-11-05");
  EXPECT_EQ(query_ll(*db,
                     "SELECT COUNT(*) FROM payment_requests WHERE account_id = 1 AND "
                     "business_date > '2026-11-01'"),
            0)
    << "the failing card was asked for money again";
}

TEST_P(PaymentsTest, SucceededPaymentIsMarkedAndKeepsItsCredits)
{
  run_to("2026-11-01");
  const ImportReport r = results("ok.csv",
                                 "recharge:2:2026-11-01:1,succeeded,ref-a,\n"
                                 "recharge:2:2026-11-01:2,succeeded,ref-b,\n"
                                 "recharge:1:2026-11-01:1,succeeded,ref-c,\n",
                                 k_later);
  EXPECT_TRUE(r.rejected.empty()) << reasons(r);
  EXPECT_EQ(r.updated, 3);
  EXPECT_EQ(dump(*db,
                 "SELECT idempotency_key, status, provider_ref, failure_reason FROM "
                 "payment_requests ORDER BY idempotency_key"),
            "'recharge:1:2026-11-01:1','succeeded','ref-c',NULL\n"
            "'recharge:2:2026-11-01:1','succeeded','ref-a',NULL\n"
            "'recharge:2:2026-11-01:2','succeeded','ref-b',NULL\n"
            "'recharge:2:2026-11-01:3','pending',NULL,NULL\n");
  EXPECT_EQ(dump(*db,
                 "SELECT auto_recharge, auto_recharge_off_reason FROM accounts WHERE "
                 "account_id IN (1, 2) ORDER BY account_id"),
            "'1',NULL\n'1',NULL\n");
  run_to("2026-11-03");
  EXPECT_EQ(query_ll(*db, "SELECT SUM(revoked) FROM reconciliation"), 0);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM ledger WHERE kind = 'revoke'"), 0);
  // 850 after 11-01, +250 on 11-02: account 2 keeps recharging while on.
  EXPECT_EQ(recon(2, "2026-11-02"), "'850','0','250','0','0','0','1100','0','1'\n");
  EXPECT_EQ(recon(1, "2026-11-03"), "'200','0','0','0','0','0','200','0','1'\n");
}

TEST_P(PaymentsTest, SameResultsImportedTwiceChangeNothing)
{
  run_to("2026-11-01");
  const std::string rows = "recharge:1:2026-11-01:1,failed,ref-1,card_declined\n"
                           "recharge:2:2026-11-01:1,succeeded,ref-2,\n";
  const ImportReport first = results("r1.csv", rows, k_now);
  EXPECT_EQ(first.updated, 2);
  const std::string before_requests = requests();
  const std::string before_accounts = dump(*db, "SELECT * FROM accounts ORDER BY account_id");

  for (const char* name : { "r1.csv", "r1_again.csv" }) {
    SCOPED_TRACE(name);
    const ImportReport again = results(name, rows, k_later);
    EXPECT_TRUE(again.rejected.empty()) << reasons(again);
    EXPECT_EQ(again.rows, 2);
    EXPECT_EQ(again.updated, 0);
    EXPECT_EQ(again.unchanged, 2);
    EXPECT_EQ(requests(), before_requests);
    EXPECT_EQ(dump(*db, "SELECT * FROM accounts ORDER BY account_id"), before_accounts);
  }
  // The failure revokes once, however often it was imported.
  run_to("2026-11-03");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM ledger WHERE kind = 'revoke'"), 1);
  EXPECT_EQ(query_ll(*db, "SELECT SUM(revoked) FROM reconciliation WHERE account_id = 1"), 250);
  results("r1_third.csv", rows, k_later);
  run_to("2026-11-04");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM ledger WHERE kind = 'revoke'"), 1);
}

TEST_P(PaymentsTest, UnknownKeyAndContradictingResultsAreRejected)
{
  run_to("2026-11-01");
  ASSERT_EQ(results("r1.csv",
                    "recharge:1:2026-11-01:1,failed,ref-1,card_declined\n"
                    "recharge:2:2026-11-01:1,succeeded,ref-2,\n")
              .updated,
            2);
  const ImportReport r =
    results("r2.csv",
            "recharge:9:2026-11-01:1,succeeded,x,\n"          // 2 unknown
            "recharge:1:2026-11-01:1,succeeded,ref-1,\n"      // 3 contradicts
            "recharge:2:2026-11-01:1,succeeded,ref-other,\n"  // 4 contradicts
            "recharge:2:2026-11-01:2,succeeded,ref-3,\n"      // 5 ok
            "recharge:2:2026-11-01:3,refunded,ref-4,\n"       // 6 bad status
            "recharge:2:2026-11-01:2,failed,ref-3,declined\n" // 7 contradicts 5
            "recharge:2:2026-11-01:1,succeeded,ref-2,\n",     // 8 same
            k_later);
  EXPECT_EQ(r.rows, 7);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(r.unchanged, 1);
  ASSERT_EQ(r.rejected.size(), 5u) << reasons(r);
  EXPECT_EQ(r.rejected[0].line, 2);
  EXPECT_NE(r.rejected[0].reason.find("unknown"), std::string::npos) << r.rejected[0].reason;
  EXPECT_EQ(r.rejected[1].line, 3);
  EXPECT_NE(r.rejected[1].reason.find("contradicts"), std::string::npos) << r.rejected[1].reason;
  EXPECT_EQ(r.rejected[2].line, 4);
  EXPECT_EQ(r.rejected[3].line, 6);
  EXPECT_EQ(r.rejected[4].line, 7);
  EXPECT_EQ(dump(*db,
                 "SELECT idempotency_key, status, provider_ref FROM payment_requests ORDER BY "
                 "idempotency_key"),
            "'recharge:1:2026-11-01:1','failed','ref-1'\n"
            "'recharge:2:2026-11-01:1','succeeded','ref-2'\n"
            "'recharge:2:2026-11-01:2','succeeded','ref-3'\n"
            "'recharge:2:2026-11-01:3','pending',NULL\n");
  EXPECT_EQ(dump(*db, "SELECT account_id, auto_recharge FROM accounts ORDER BY account_id"),
            "'1','0'\n'2','1'\n'3','0'\n");

  // A file that is not a payment results file changes nothing.
  const std::string before = requests();
  EXPECT_THROW(import_payment_results(
                 *db, file("wrong.csv", "key,result\nrecharge:2:2026-11-01:3,failed\n"), k_later),
               InputError);
  EXPECT_EQ(requests(), before);
}

TEST_P(PaymentsTest, ProviderTextIsStoredByteForByte)
{
  run_to("2026-11-01");
  // Quotes, backslashes (one byte on MySQL too: NO_BACKSLASH_ESCAPES), SQL,
  // a placeholder-like word, non-ASCII and a NUL byte, in the reference and
  // the reason; a key with a NUL names no request (it is not cut at the NUL).
  using namespace std::string_literals;
  const std::string ref = "ch_'\\\"; --\0x"s;
  const std::string reason =
    "it's \\ \"declined\"; DROP TABLE accounts; -- :name caf\xC3\xA9 \0end"s;
  const auto cell = [](const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
      out += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return out + "\"";
  };
  const std::string rows = "recharge:1:2026-11-01:1,failed," + cell(ref) + "," + cell(reason) + "\n"
                           + "recharge:2:2026-11-01:1\0x"s
                           + ",succeeded,r,\n"
                             "recharge:2:2026-11-01:2,succeeded,"
                           + cell(ref) + ",\n";
  const ImportReport r = results("hostile.csv", rows, k_later);
  EXPECT_EQ(r.updated, 2);
  ASSERT_EQ(r.rejected.size(), 1u) << reasons(r);
  EXPECT_EQ(r.rejected[0].line, 3);
  EXPECT_EQ(r.rejected[0].code, ImportReason::unknown_key);
  EXPECT_EQ(dump(*db,
                 "SELECT idempotency_key, status, provider_ref, failure_reason FROM "
                 "payment_requests ORDER BY idempotency_key"),
            "'recharge:1:2026-11-01:1','failed','" + ref + "','" + reason + "'\n"
              + "'recharge:2:2026-11-01:1','pending',NULL,NULL\n"
                "'recharge:2:2026-11-01:2','succeeded','"
              + ref + "',NULL\n'recharge:2:2026-11-01:3','pending',NULL,NULL\n");
  EXPECT_EQ(query_ll(*db,
                     "SELECT LENGTH(provider_ref) FROM payment_requests WHERE idempotency_key = "
                     "'recharge:2:2026-11-01:2'"),
            // SQLite's length() counts the characters before a NUL.
            static_cast<long long>(GetParam() == Backend::sqlite ? ref.find('\0') : ref.size()))
    << "a backslash is one byte";
  EXPECT_EQ(dump(*db,
                 "SELECT auto_recharge, auto_recharge_off_reason FROM accounts WHERE "
                 "account_id = 1"),
            "'0','payment recharge:1:2026-11-01:1 failed: " + reason + "'\n");

  // The same results again are unchanged rows (the stored text compares equal).
  const std::string before = requests();
  const ImportReport again = results("hostile_again.csv", rows, k_later);
  EXPECT_EQ(again.unchanged, 2);
  EXPECT_EQ(again.updated, 0);
  EXPECT_EQ(requests(), before);
}

TEST_P(PaymentsTest, RejectionsCarryTheirReasonCode)
{
  run_to("2026-11-01");
  ASSERT_EQ(results("r1.csv", "recharge:1:2026-11-01:1,failed,ref-1,card_declined\n").updated, 1);
  const ImportReport r = results("codes.csv",
                                 "recharge:9:2026-11-01:1,succeeded,x,\n"        // 2
                                 "recharge:1:2026-11-01:1,succeeded,ref-1,\n"    // 3
                                 "recharge:2:2026-11-01:1,refunded,x,\n"         // 4
                                 "recharge:2:2026-11-01:1,\"succeeded\"x,x,\n"   // 5
                                 "recharge:2:2026-11-01:1,succeeded,caf\xE9,\n", // 6
                                 k_later);
  ASSERT_EQ(r.rejected.size(), 5u) << reasons(r);
  const ImportReason want[] = { ImportReason::unknown_key,
                                ImportReason::conflicting_content,
                                ImportReason::bad_status,
                                ImportReason::bad_column_count,
                                ImportReason::invalid_utf8 };
  for (std::size_t i = 0; i < r.rejected.size(); ++i) {
    EXPECT_EQ(r.rejected[i].line, static_cast<long long>(i) + 2);
    EXPECT_EQ(r.rejected[i].code, want[i]) << r.rejected[i].reason;
  }
  EXPECT_EQ(r.rejected[0].reason, "unknown_key: recharge:9:2026-11-01:1");
  EXPECT_EQ(r.rejected[1].reason,
            "conflicting_content: contradicts the stored result: recharge:1:2026-11-01:1 is "
            "failed (ref-1)");
  EXPECT_EQ(r.rejected[2].reason, "bad_status: 'refunded'");
}

BILLING_ON_BOTH_BACKENDS(PaymentsTest);

} // namespace
