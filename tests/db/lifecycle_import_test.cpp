// `billing import changes` (SPEC 14) and `billing import adjustments` (SPEC
// 15): every storage reason with its line and in its order, T_E stored in
// the account's zone, the state at T_E that decides no_change (rows of the
// same file included), the same id again (unchanged, even once applied) and
// with other content (conflicting_content), refunds of purchases and of a
// recharge a real run booked, free text kept byte for byte on both backends,
// import order, a bad header that changes nothing; and the accounts import
// that accepts the plan and anchor of an accepted change_plan and keeps the
// zone of an account with changes.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "domain/zone.hpp"
#include "jobs/nightly.hpp"
#include "ops/time_zones.hpp"
#include "storage/imports.hpp"
#include "support/csv_text.hpp"
#include "util/errors.hpp"

#include <string>

using namespace billing;

namespace {

using namespace std::string_literals;
using billing::testing::csv_cell;
using billing::testing::date;
using billing::testing::dump;
using billing::testing::instant;

const Instant k_now = instant("2026-11-25T08:00:00Z");
const Date k_today = date("2026-11-25");

const std::string k_plans_header =
  "plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,"
  "rollover_cap\n";
const std::string k_accounts_header =
  "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,"
  "max_recharges_per_day,time_zone\n";
const std::string k_changes_header = "change_id,account_id,effective_date,action,plan_id\n";
const std::string k_adjustments_header = "adjustment_id,account_id,effective_at,kind,credits,"
                                         "amount_cents,purchase_id,expires_at,reason\n";

const char* const k_changes_query = "SELECT change_id, account_id, effective_date, effective_us, "
                                    "action, plan_id, imported_us, applied_date FROM "
                                    "plan_changes ORDER BY change_id";
const char* const k_adjustments_query =
  "SELECT adjustment_id, account_id, effective_us, kind, credits, amount_cents, purchase_id, "
  "lot_source, expires_us, HEX(reason), import_seq, imported_us, applied_date, applied_credits "
  "FROM adjustments ORDER BY import_seq";

std::string us(const char* text)
{
  return std::to_string(instant(text).us);
}

// Plans BASIC and PRO in USD, EURO in EUR; account 1 (UTC) and 2 (Kolkata,
// UTC+05:30) on BASIC anchored 2026-11-01; account 3 (UTC) on BASIC with
// auto-recharge (balance 1,000 below its threshold 2,000: one recharge of
// 500 on its first date); account 4 (New York) on PRO anchored 2026-11-03;
// account 5 (UTC) on BASIC anchored 2026-12-01.
class LifecycleImportTest : public billing::testing::BackendTest
{
protected:
  void prepare() override
  {
    migrate_schema();
    ASSERT_EQ(rejected(import_csv(*db,
                                  ImportKind::plans,
                                  file("plans.csv",
                                       k_plans_header
                                         + "BASIC,Basic,monthly,1000,2900,1500,USD,\n"
                                           "PRO,Pro,monthly,5000,9900,1000,USD,500\n"
                                           "EURO,Euro,monthly,1000,2500,1500,EUR,\n"),
                                  k_now)),
              "");
    ASSERT_EQ(rejected(accounts("accounts.csv",
                                "1,BASIC,2026-11-01,0,0,0,1,\n"
                                "2,BASIC,2026-11-01,0,0,0,1,Asia/Kolkata\n"
                                "3,BASIC,2026-11-01,1,2000,500,1,\n"
                                "4,PRO,2026-11-03,0,0,0,1,America/New_York\n"
                                "5,BASIC,2026-12-01,0,0,0,1,\n")),
              "");
  }

  ImportReport accounts(const std::string& name, const std::string& rows)
  {
    return import_csv(*db, ImportKind::accounts, file(name, k_accounts_header + rows), k_now);
  }

  ImportReport changes(const std::string& name, const std::string& rows, Instant now = k_now)
  {
    return import_csv(*db, ImportKind::changes, file(name, k_changes_header + rows), now);
  }

  ImportReport adjustments(const std::string& name, const std::string& rows, Instant now = k_now)
  {
    return import_csv(*db, ImportKind::adjustments, file(name, k_adjustments_header + rows), now);
  }

  void run_to(const char* to)
  {
    RunRequest req;
    req.from = date("2026-11-01");
    req.to = date(to);
    req.today = k_today;
    RunHooks hooks;
    hooks.now = [] { return k_now; };
    run_nightly(*db, req, hooks);
  }

  static std::string rejected(const ImportReport& r)
  {
    std::string out;
    for (const auto& reject : r.rejected) {
      EXPECT_EQ(to_string(reject.code), reject.reason.substr(0, reject.reason.find(':')));
      out += std::to_string(reject.line) + ": " + reject.reason + "\n";
    }
    return out;
  }

  static std::string counts(const ImportReport& r)
  {
    return std::to_string(r.rows) + " rows, " + std::to_string(r.inserted) + " inserted, "
           + std::to_string(r.updated) + " updated, " + std::to_string(r.unchanged) + " unchanged, "
           + std::to_string(r.rejected.size()) + " rejected";
  }
};

// ---------------------------------------------------------------- changes

TEST_P(LifecycleImportTest, ChangesAreStoredWithTheirLocalMidnight)
{
  const ImportReport r = changes("c.csv",
                                 "up,1,2026-12-01,change_plan,PRO\n"
                                 "stop,2,2026-12-01,cancel,\n"
                                 "ny,4,2026-11-03,cancel,\n");
  EXPECT_EQ(rejected(r), "");
  EXPECT_EQ(counts(r), "3 rows, 3 inserted, 0 updated, 0 unchanged, 0 rejected");
  const std::string now = std::to_string(k_now.us);
  // Kolkata's midnight is 18:30Z the day before; New York's 05:00Z (EST
  // from 11-01); applied_date NULL until a run applies them.
  EXPECT_EQ(dump(*db, k_changes_query),
            "'ny','4','2026-11-03','" + us("2026-11-03T05:00:00Z") + "','cancel',NULL,'" + now
              + "',NULL\n"
                "'stop','2','2026-12-01','"
              + us("2026-11-30T18:30:00Z") + "','cancel',NULL,'" + now
              + "',NULL\n"
                "'up','1','2026-12-01','"
              + us("2026-12-01T00:00:00Z") + "','change_plan','PRO','" + now + "',NULL\n");
  // The zone module says the same.
  EXPECT_EQ(local_midnight(*find_time_zone("America/New_York"), date("2026-11-03")),
            instant("2026-11-03T05:00:00Z"));
}

TEST_P(LifecycleImportTest, EachStorageReasonOfAChangeInItsOrder)
{
  run_to("2026-11-05");
  const ImportReport r = changes("c.csv",
                                 "ok,1,2026-11-10,change_plan,PRO\n"  // 2
                                 "u1,9,2026-11-10,cancel,\n"          // 3 unknown account
                                 "u2,1,2026-11-04,change_plan,NOPE\n" // 4 plan before date
                                 "u3,1,2026-11-04,change_plan,EURO\n" // 5 currency before date
                                 "u4,1,2026-11-05,cancel,\n"          // 6 closed
                                 "u5,1,2026-10-31,cancel,\n"          // 7 closed before anchor
                                 "u6,2,2026-11-06,cancel,\n"          // 8 closed in Kolkata
                                 "u7,5,2026-11-30,change_plan,PRO\n"  // 9 before anchor
                                 "u8,1,2026-11-10,cancel,\n"          // 10 same date
                                 "u9,1,2026-11-11,change_plan,PRO\n"  // 11 on PRO already
                                 "ok2,2,2026-11-07,cancel,\n"         // 12 Kolkata, open
                                 "u10,2,2026-11-08,cancel,\n");       // 13 cancelled already
  EXPECT_EQ(rejected(r),
            "3: unknown_account: 9\n"
            "4: unknown_plan: NOPE\n"
            "5: currency_mismatch: plan EURO is in EUR, account 1's plan BASIC in USD\n"
            "6: effective_in_closed_date: effective_date 2026-11-05 is not after the last "
            "closed date 2026-11-05\n"
            "7: effective_in_closed_date: effective_date 2026-10-31 is not after the last "
            "closed date 2026-11-05\n"
            "8: effective_in_closed_date: effective_date 2026-11-06 (2026-11-05T18:30:00Z in "
            "Asia/Kolkata) is not after the last closed date 2026-11-05\n"
            "9: before_anchor: effective_date 2026-11-30 is before the account's first cycle "
            "start (cycle_anchor 2026-12-01)\n"
            "10: conflicting_change: account 1 has change ok on 2026-11-10\n"
            "11: no_change: account 1 on 2026-11-11 is on plan PRO already\n"
            "13: no_change: account 2 on 2026-11-08 is cancelled already\n");
  EXPECT_EQ(counts(r), "12 rows, 2 inserted, 0 updated, 0 unchanged, 10 rejected");
  EXPECT_EQ(dump(*db, "SELECT change_id FROM plan_changes ORDER BY change_id"), "'ok'\n'ok2'\n");
}

TEST_P(LifecycleImportTest, ADateAStoppedRunClosedForSomeAccountsCountsAsClosed)
{
  run_to("2026-11-05");
  db->exec("UPDATE account_state SET state_date = '2026-11-06' WHERE account_id = 3");
  EXPECT_EQ(rejected(changes("c.csv", "c,1,2026-11-06,cancel,\n")),
            "2: effective_in_closed_date: effective_date 2026-11-06 is not after the last "
            "closed date 2026-11-06\n");
}

TEST_P(LifecycleImportTest, NoChangeIsJudgedByTheStateAtTheEffectiveDate)
{
  // Stored first: on PRO from 11-10, cancelled from 11-20.
  ASSERT_EQ(rejected(changes("first.csv",
                             "pro,1,2026-11-10,change_plan,PRO\n"
                             "stop,1,2026-11-20,cancel,\n")),
            "");
  const ImportReport r = changes("second.csv",
                                 "a,1,2026-11-08,change_plan,BASIC\n" // 2 the imported plan
                                 "b,1,2026-11-15,change_plan,PRO\n"   // 3 PRO since 11-10
                                 "c,1,2026-11-25,cancel,\n"           // 4 cancelled since 11-20
                                 "d,1,2026-11-15,change_plan,BASIC\n" // 5 a real change
                                 "e,1,2026-11-17,change_plan,BASIC\n" // 6 BASIC from d, same file
                                 "f,1,2026-11-22,change_plan,PRO\n"   // 7 reactivation, same plan
                                 "g,1,2026-11-23,change_plan,PRO\n"   // 8 active on PRO from f
                                 "h,1,2026-11-05,cancel,\n"           // 9 active then
                                 "i,1,2026-11-07,cancel,\n"           // 10 cancelled by h
                                 "j,1,2026-11-09,change_plan,BASIC\n" // 11 reactivation
                                 "k,1,2026-11-26,cancel,\n");         // 12 active from f
  EXPECT_EQ(rejected(r),
            "2: no_change: account 1 on 2026-11-08 is on plan BASIC already\n"
            "3: no_change: account 1 on 2026-11-15 is on plan PRO already\n"
            "4: no_change: account 1 on 2026-11-25 is cancelled already\n"
            "6: no_change: account 1 on 2026-11-17 is on plan BASIC already\n"
            "8: no_change: account 1 on 2026-11-23 is on plan PRO already\n"
            "10: no_change: account 1 on 2026-11-07 is cancelled already\n");
  EXPECT_EQ(dump(*db,
                 "SELECT effective_date, action, plan_id FROM plan_changes ORDER BY "
                 "effective_date"),
            "'2026-11-05','cancel',NULL\n"
            "'2026-11-09','change_plan','BASIC'\n"
            "'2026-11-10','change_plan','PRO'\n"
            "'2026-11-15','change_plan','BASIC'\n"
            "'2026-11-20','cancel',NULL\n"
            "'2026-11-22','change_plan','PRO'\n"
            "'2026-11-26','cancel',NULL\n");
}

TEST_P(LifecycleImportTest, TheSameChangeAgainChangesNothingEvenAfterItWasApplied)
{
  const std::string rows = "up,1,2026-11-10,change_plan,PRO\n"
                           "stop,2,2026-11-12,cancel,\n"
                           "up,1,2026-11-10,change_plan,PRO\n"; // again in the same file
  const ImportReport first = changes("c.csv", rows);
  EXPECT_EQ(counts(first), "3 rows, 2 inserted, 0 updated, 1 unchanged, 0 rejected");
  const std::string stored = dump(*db, k_changes_query);
  EXPECT_EQ(counts(changes("c.csv", rows, instant("2026-11-26T08:00:00Z"))),
            "3 rows, 0 inserted, 0 updated, 3 unchanged, 0 rejected");
  EXPECT_EQ(dump(*db, k_changes_query), stored);
  // Once applied and its date closed (as a run leaves it), still the same.
  run_to("2026-11-12");
  db->exec("UPDATE plan_changes SET applied_date = effective_date WHERE applied_date IS NULL");
  const std::string applied = dump(*db, k_changes_query);
  EXPECT_EQ(counts(changes("c.csv", rows)),
            "3 rows, 0 inserted, 0 updated, 3 unchanged, 0 rejected");
  EXPECT_EQ(dump(*db, k_changes_query), applied);
}

TEST_P(LifecycleImportTest, TheSameChangeIdWithOtherContentIsConflictingContent)
{
  ASSERT_EQ(rejected(changes("c.csv", "up,1,2026-11-10,change_plan,PRO\n")), "");
  const ImportReport r = changes("other.csv",
                                 "up,1,2026-11-11,change_plan,PRO\n"
                                 "up,1,2026-11-10,cancel,\n"
                                 "up,2,2026-11-10,change_plan,PRO\n"
                                 "up,1,2026-11-10,change_plan,BASIC\n"
                                 "new,1,2026-11-20,cancel,\n"
                                 "new,1,2026-11-21,cancel,\n"); // other content, same file
  EXPECT_EQ(rejected(r),
            "2: conflicting_content: conflicts with the stored change: effective_date is "
            "'2026-11-10', the file says '2026-11-11'\n"
            "3: conflicting_content: conflicts with the stored change: action is "
            "'change_plan', the file says 'cancel'\n"
            "4: conflicting_content: conflicts with the stored change: account_id is '1', the "
            "file says '2'\n"
            "5: conflicting_content: conflicts with the stored change: plan_id is 'PRO', the "
            "file says 'BASIC'\n"
            "7: conflicting_content: conflicts with the stored change: effective_date is "
            "'2026-11-20', the file says '2026-11-21'\n");
  EXPECT_EQ(r.inserted, 1);
  // The id comes before every other rule: the stored row stays unchanged
  // even where it would now be refused (its date is closed).
  run_to("2026-11-12");
  EXPECT_EQ(counts(changes("c.csv", "up,1,2026-11-10,change_plan,PRO\n")),
            "1 rows, 0 inserted, 0 updated, 1 unchanged, 0 rejected");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM plan_changes"), 2);
}

TEST_P(LifecycleImportTest, AWrongHeaderChangesNothing)
{
  const std::string before = dump(*db, k_changes_query) + dump(*db, k_adjustments_query);
  EXPECT_THROW(import_csv(*db,
                          ImportKind::changes,
                          file("bad.csv",
                               "change_id,account_id,effective_date,action\nc,1,"
                               "2026-12-01,cancel\n"),
                          k_now),
               InputError);
  EXPECT_THROW(import_csv(*db,
                          ImportKind::adjustments,
                          file("bad2.csv", k_changes_header + "c,1,2026-12-01,cancel,\n"),
                          k_now),
               InputError);
  EXPECT_THROW(import_csv(*db, ImportKind::changes, file("empty.csv", ""), k_now), InputError);
  EXPECT_THROW(
    import_csv(*db, ImportKind::adjustments, (scratch_dir() / "missing.csv").string(), k_now),
    InputError);
  EXPECT_EQ(dump(*db, k_changes_query) + dump(*db, k_adjustments_query), before);
}

TEST_P(LifecycleImportTest, RowsRejectedByTheParserKeepTheirLines)
{
  const ImportReport c = changes("c.csv",
                                 "a,1,2026-11-10,stop,\n"
                                 "b,1,2026-11-10,cancel,PRO\n"
                                 "c,1,2026-11-10,change_plan,\n"
                                 "d;1,1,2026-11-10,cancel,\n"
                                 "e,1,2026-11-10\n"
                                 "f,1,2026-11-10,cancel,\n");
  EXPECT_EQ(rejected(c),
            "2: bad_action: action 'stop' (change_plan or cancel)\n"
            "3: bad_action: cancel takes no plan_id\n"
            "4: missing_field: plan_id (change_plan needs one)\n"
            "5: bad_id: change_id 'd;1'\n"
            "6: bad_column_count: 3 fields, header has 5\n");
  EXPECT_EQ(c.inserted, 1);
  const ImportReport a = adjustments("a.csv",
                                     "a,1,2026-11-10T00:00:00Z,bonus,1,,,,\n"
                                     "b,1,2026-11-10T00:00:00Z,grant,,,,,\n"
                                     "c,1,2026-11-10T00:00:00Z,refund,,,,,\n"
                                     "d,1,2026-11-10T00:00:00Z,grant,5,,,,"
                                       + std::string(201, 'r') + "\n");
  EXPECT_EQ(rejected(a),
            "2: bad_kind: kind 'bonus' (grant, debit or refund)\n"
            "3: missing_field: credits\n"
            "4: missing_field: purchase_id (a refund needs one)\n"
            "5: out_of_range: reason longer than 200 characters\n");
  EXPECT_EQ(counts(a), "4 rows, 0 inserted, 0 updated, 0 unchanged, 4 rejected");
}

// ---------------------------------------------------------------- adjustments

TEST_P(LifecycleImportTest, AdjustmentsAreStoredInImportOrder)
{
  ASSERT_EQ(rejected(import_csv(*db,
                                ImportKind::purchases,
                                file("purchases.csv",
                                     "purchase_id,account_id,purchased_at,credits,amount_cents\n"
                                     "p1,1,2026-11-02T08:00:00Z,100,150\n"),
                                k_now)),
            "");
  const ImportReport r =
    adjustments("a.csv",
                "g1,1,2026-11-03T10:00:00Z,grant,50,700,ignored,2027-01-01T00:00:00Z,goodwill\n"
                "g2,1,2026-11-03T10:00:00Z,grant,5,,,,\n"
                "d1,1,2026-11-04T00:00:00Z,debit,20,9,,2020-01-01T00:00:00Z,manual fix\n"
                "r1,1,2026-11-05T00:00:00Z,refund,,1500,p1,garbage,customer left\n"
                "r2,1,2026-11-05T00:00:00Z,refund,30,0,p1,,partial\n");
  EXPECT_EQ(rejected(r), "");
  EXPECT_EQ(counts(r), "5 rows, 5 inserted, 0 updated, 0 unchanged, 0 rejected");
  const std::string now = std::to_string(k_now.us);
  // The purchase_id of a grant or debit and the expires_at of a debit or
  // refund are ignored; an empty expiry is NULL (the run computes the
  // default); a refund of everything has no credits.
  EXPECT_EQ(dump(*db, k_adjustments_query),
            "'g1','1','" + us("2026-11-03T10:00:00Z") + "','grant','50','700',NULL,NULL,'"
              + us("2027-01-01T00:00:00Z") + "','676F6F6477696C6C','1','" + now
              + "',NULL,NULL\n"
                "'g2','1','"
              + us("2026-11-03T10:00:00Z") + "','grant','5','0',NULL,NULL,NULL,'','2','" + now
              + "',NULL,NULL\n"
                "'d1','1','"
              + us("2026-11-04T00:00:00Z") + "','debit','20','9',NULL,NULL,NULL,'"
              + "6D616E75616C20666978" + "','3','" + now
              + "',NULL,NULL\n"
                "'r1','1','"
              + us("2026-11-05T00:00:00Z") + "','refund',NULL,'1500','p1','purchase:p1',NULL,'"
              + "637573746F6D6572206C656674" + "','4','" + now
              + "',NULL,NULL\n"
                "'r2','1','"
              + us("2026-11-05T00:00:00Z") + "','refund','30','0','p1','purchase:p1',NULL,'"
              + "7061727469616C" + "','5','" + now + "',NULL,NULL\n");
  // A later file continues the order.
  ASSERT_EQ(rejected(adjustments("b.csv", "g3,2,2026-11-06T00:00:00Z,grant,1,,,,\n")), "");
  EXPECT_EQ(query_ll(*db, "SELECT import_seq FROM adjustments WHERE adjustment_id = 'g3'"), 6);
}

TEST_P(LifecycleImportTest, EachStorageReasonOfAnAdjustmentInItsOrder)
{
  ASSERT_EQ(rejected(import_csv(*db,
                                ImportKind::purchases,
                                file("purchases.csv",
                                     "purchase_id,account_id,purchased_at,credits,amount_cents\n"
                                     "p1,1,2026-11-02T08:00:00Z,100,150\n"
                                     "p2,2,2026-11-02T08:00:00Z,100,150\n"),
                                k_now)),
            "");
  run_to("2026-11-05");
  const ImportReport r = adjustments(
    "a.csv",
    "ok,1,2026-11-02T08:00:00Z,refund,,,p1,,\n"                     // 2 at purchased_at: fine
    "a,9,2026-11-06T00:00:00Z,refund,,,nope,,\n"                    // 3 unknown account first
    "b,1,2026-11-06T00:00:00Z,refund,,,nope,,\n"                    // 4 no such purchase
    "c,1,2026-11-06T00:00:00Z,refund,,,p2,,\n"                      // 5 another account's
    "d,1,2026-11-06T00:00:00Z,refund,,,recharge:3:2026-11-01:1,,\n" // 6 another account's key
    "e,1,2026-11-02T07:59:59.999999Z,refund,5,,p1,,\n"              // 7 before the purchase
    "f,1,2026-11-06T00:00:00Z,grant,5,,,2026-11-06T00:00:00Z,\n"    // 8 not after effective_at
    "g,1,2026-11-01T00:00:00Z,grant,5,,,2026-11-06T00:00:00Z,\n"    // 9 not after 11-06 00:00
    "h,1,2025-11-06T00:00:00Z,grant,5,,,,\n"                        // 10 default expiry 11-06
    "i,1,2025-11-06T00:00:01Z,grant,5,,,,\n"                        // 11 default expiry after
    "j,1,2026-11-01T00:00:00Z,grant,5,,,2026-11-06T00:00:01Z,\n"    // 12 late grant, fine
    "k,1,2026-11-01T00:00:00Z,debit,5,,,,\n");                      // 13 late debit, fine
  EXPECT_EQ(rejected(r),
            "3: unknown_account: 9\n"
            "4: unknown_purchase: nope is no purchase or recharge of account 1\n"
            "5: unknown_purchase: p2 is no purchase or recharge of account 1\n"
            "6: unknown_purchase: recharge:3:2026-11-01:1 is no purchase or recharge of "
            "account 1\n"
            "7: refund_before_purchase: effective_at 2026-11-02T07:59:59.999999Z is before p1's "
            "lot is valid (2026-11-02T08:00:00Z)\n"
            "8: bad_expiry: expires_at 2026-11-06T00:00:00Z is not after effective_at "
            "2026-11-06T00:00:00Z\n"
            "9: bad_expiry: expires_at 2026-11-06T00:00:00Z is not after the start of the "
            "first open date 2026-11-06\n"
            "10: bad_expiry: the default expiry 2026-11-06T00:00:00Z is not after the start of "
            "the first open date 2026-11-06\n");
  EXPECT_EQ(dump(*db, "SELECT adjustment_id FROM adjustments ORDER BY import_seq"),
            "'ok'\n'i'\n'j'\n'k'\n");
}

TEST_P(LifecycleImportTest, ARefundOfARechargeNamesItsLot)
{
  run_to("2026-11-01");
  ASSERT_EQ(dump(*db,
                 "SELECT p.idempotency_key, l.source, l.valid_from_us FROM payment_requests p "
                 "JOIN all_lots l ON l.account_id = p.account_id AND l.lot_seq = p.lot_seq"),
            "'recharge:3:2026-11-01:1','recharge:2026-11-01:1','" + us("2026-11-02T00:00:00Z")
              + "'\n");
  const ImportReport r =
    adjustments("a.csv",
                "early,3,2026-11-01T23:59:59Z,refund,,,recharge:3:2026-11-01:1,,\n"
                "r,3,2026-11-02T00:00:00Z,refund,,309,recharge:3:2026-11-01:1,,card dispute\n"
                "other,1,2026-11-03T00:00:00Z,refund,,,recharge:3:2026-11-01:1,,\n");
  EXPECT_EQ(rejected(r),
            "2: refund_before_purchase: effective_at 2026-11-01T23:59:59Z is before "
            "recharge:3:2026-11-01:1's lot is valid (2026-11-02T00:00:00Z)\n"
            "4: unknown_purchase: recharge:3:2026-11-01:1 is no purchase or recharge of "
            "account 1\n");
  EXPECT_EQ(dump(*db,
                 "SELECT adjustment_id, credits, amount_cents, purchase_id, lot_source FROM "
                 "adjustments"),
            "'r',NULL,'309','recharge:3:2026-11-01:1','recharge:2026-11-01:1'\n");
}

TEST_P(LifecycleImportTest, FreeTextIsKeptByteForByteAndComparedExactly)
{
  const std::string nul = "a\0b"s;
  const std::string hostile = "it's \"x\"; DROP TABLE adjustments; -- \\ \\' :reason ?";
  const std::string emoji = [] {
    std::string s;
    for (int i = 0; i < 200; ++i) {
      s += "\xF0\x9F\x98\x80";
    }
    return s;
  }();
  const std::string rows = "n,1,2026-11-03T00:00:00Z,grant,1,,,," + nul
                           + "\n"
                             "h,1,2026-11-03T00:00:00Z,grant,1,,,,"
                           + csv_cell(hostile)
                           + "\n"
                             "e,1,2026-11-03T00:00:00Z,grant,1,,,,"
                           + emoji
                           + "\n"
                             "f,1,2026-11-03T00:00:00Z,grant,1,,,,"
                           + csv_cell("=HYPERLINK(\"x\")")
                           + "\n"
                             "s,1,2026-11-03T00:00:00Z,grant,1,,,,trailing \n"
                             "l,1,2026-11-03T00:00:00Z,grant,1,,,,\"two\r\nlines\"\n";
  const ImportReport r = adjustments("a.csv", rows);
  EXPECT_EQ(rejected(r), "");
  EXPECT_EQ(r.inserted, 6);
  EXPECT_EQ(dump(*db, "SELECT reason FROM adjustments ORDER BY import_seq"),
            "'" + nul + "'\n'" + hostile + "'\n'" + emoji
              + "'\n'=HYPERLINK(\"x\")'\n'trailing '\n'two\r\nlines'\n");
  // The same file again: each row unchanged, the NUL included.
  EXPECT_EQ(counts(adjustments("a.csv", rows)),
            "6 rows, 0 inserted, 0 updated, 6 unchanged, 0 rejected");
  // A reason that differs by a trailing space or after a NUL is other content.
  const ImportReport other = adjustments("b.csv",
                                         "s,1,2026-11-03T00:00:00Z,grant,1,,,,trailing\n"
                                         "n,1,2026-11-03T00:00:00Z,grant,1,,,,a\0c\n"s);
  EXPECT_EQ(other.rejected.size(), 2u);
  for (const auto& reject : other.rejected) {
    EXPECT_EQ(reject.code, ImportReason::conflicting_content) << reject.reason;
  }
}

TEST_P(LifecycleImportTest, TheSameAdjustmentAgainChangesNothingOtherContentIsRejected)
{
  const std::string rows = "g,1,2026-11-03T10:00:00Z,grant,50,700,,2027-01-01T00:00:00Z,x\n"
                           "d,2,2026-11-03T10:00:00Z,debit,5,,,,y\n"
                           "g,1,2026-11-03T10:00:00Z,grant,50,700,,2027-01-01T00:00:00Z,x\n";
  EXPECT_EQ(counts(adjustments("a.csv", rows)),
            "3 rows, 2 inserted, 0 updated, 1 unchanged, 0 rejected");
  const std::string stored = dump(*db, k_adjustments_query);
  // Again, after the dates closed and as if a run applied them.
  run_to("2026-11-05");
  db->exec("UPDATE adjustments SET applied_date = '2026-11-03', applied_credits = credits");
  const std::string applied = dump(*db, k_adjustments_query);
  EXPECT_EQ(counts(adjustments("a.csv", rows, instant("2026-11-26T00:00:00Z"))),
            "3 rows, 0 inserted, 0 updated, 3 unchanged, 0 rejected");
  EXPECT_EQ(dump(*db, k_adjustments_query), applied);
  EXPECT_NE(applied, stored);
  const ImportReport r =
    adjustments("b.csv",
                "g,1,2026-11-03T10:00:00Z,grant,51,700,,2027-01-01T00:00:00Z,x\n"
                "g,1,2026-11-03T10:00:00Z,grant,50,700,,,x\n"
                "g,1,2026-11-03T10:00:00Z,debit,50,700,,,x\n"
                "d,2,2026-11-03T10:00:00.5Z,debit,5,,,,y\n"
                "d,2,2026-11-03T10:00:00Z,debit,5,1,,,y\n");
  EXPECT_EQ(rejected(r),
            "2: conflicting_content: conflicts with the stored adjustment: credits is '50', the "
            "file says '51'\n"
            "3: conflicting_content: conflicts with the stored adjustment: expires_at is "
            "'2027-01-01T00:00:00Z', the file says (empty)\n"
            "4: conflicting_content: conflicts with the stored adjustment: kind is 'grant', the "
            "file says 'debit'\n"
            "5: conflicting_content: conflicts with the stored adjustment: effective_at is "
            "'2026-11-03T10:00:00Z', the file says '2026-11-03T10:00:00.500000Z'\n"
            "6: conflicting_content: conflicts with the stored adjustment: amount_cents is '0', "
            "the file says '1'\n");
  EXPECT_EQ(dump(*db, k_adjustments_query), applied);
}

// ---------------------------------------------------------------- accounts

TEST_P(LifecycleImportTest, AnAccountRowMayCarryThePlanOfAnAcceptedChange)
{
  ASSERT_EQ(rejected(changes("c.csv",
                             "up,1,2026-11-10,change_plan,PRO\n"
                             "stop,1,2026-11-20,cancel,\n"
                             "back,1,2026-11-25,change_plan,BASIC\n")),
            "");
  const char* const account_query =
    "SELECT plan_id, cycle_anchor, auto_recharge, recharge_threshold, recharge_credits, "
    "max_recharges_per_day, time_zone FROM accounts WHERE account_id = 1";
  const ImportReport r = accounts("a.csv",
                                  "1,BASIC,2026-11-01,0,0,0,1,\n"     // 2 imported
                                  "1,PRO,2026-11-10,0,0,0,1,\n"       // 3 the change's
                                  "1,BASIC,2026-11-25,0,0,0,1,\n"     // 4 the reactivation's
                                  "1,PRO,2026-11-01,0,0,0,1,\n"       // 5 plan of one, anchor
                                  "1,PRO,2026-11-20,0,0,0,1,\n"       //   of another: no
                                  "1,BASIC,2026-11-10,0,0,0,1,\n"     // 7
                                  "1,PRO,2026-11-10,1,100,50,2,\n"    // 8 settings update
                                  "1,PRO,2026-11-10,1,100,50,2,UTC\n" // 9 unchanged now
                                  "2,PRO,2026-11-10,0,0,0,1,Asia/Kolkata\n"); // 10 not 2's
  EXPECT_EQ(rejected(r),
            "5: conflicting_content: conflicts with the stored account: plan_id is BASIC, the "
            "file says PRO\n"
            "6: conflicting_content: conflicts with the stored account: plan_id is BASIC, the "
            "file says PRO\n"
            "7: conflicting_content: conflicts with the stored account: cycle_anchor is "
            "2026-11-01, the file says 2026-11-10\n"
            "10: conflicting_content: conflicts with the stored account: plan_id is BASIC, the "
            "file says PRO\n");
  EXPECT_EQ(counts(r), "9 rows, 0 inserted, 1 updated, 4 unchanged, 4 rejected");
  // The accounts row keeps the imported plan and anchor (changes move the
  // account's state, not its imported row).
  EXPECT_EQ(dump(*db, account_query), "'BASIC','2026-11-01','1','100','50','2','UTC'\n");
}

TEST_P(LifecycleImportTest, TheZoneOfAnAccountWithChangesCannotChange)
{
  // Neither account has books; account 1 has a change, account 4 none.
  ASSERT_EQ(rejected(changes("c.csv", "stop,1,2026-11-20,cancel,\n")), "");
  const ImportReport r = accounts("a.csv",
                                  "1,BASIC,2026-11-01,0,0,0,1,Europe/Paris\n"
                                  "4,PRO,2026-11-03,0,0,0,1,Europe/Paris\n");
  EXPECT_EQ(rejected(r),
            "2: conflicting_content: conflicts with the stored account: time_zone is UTC, the "
            "file says Europe/Paris (the account has plan changes)\n");
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, time_zone FROM accounts WHERE account_id IN (1, 4) "
                 "ORDER BY account_id"),
            "'1','UTC'\n'4','Europe/Paris'\n");
}

} // namespace

BILLING_ON_BOTH_BACKENDS(LifecycleImportTest);
