#include "db/backend_fixture.hpp"
#include "util/errors.hpp"

using namespace billing;

class MigrateTest : public billing::testing::BackendTest
{
protected:
  // The database as migrations 1..version left it, recorded in
  // schema_version: where an upgrade test starts. Migration version + 1 must
  // exist (it is the one under test).
  void install_version(int version)
  {
    const auto all = migrations_for(db->backend());
    ASSERT_GT(all.size(), static_cast<std::size_t>(version));
    for (int v = 1; v <= version + 1; ++v) {
      ASSERT_EQ(all[static_cast<std::size_t>(v - 1)].version, v);
    }
    for (int v = 1; v <= version; ++v) {
      const Migration& m = all[static_cast<std::size_t>(v - 1)];
      for (const std::string& statement : m.statements) {
        db->exec(statement);
      }
      const long long number = v;
      db->sql() << "INSERT INTO schema_version VALUES (:v, :n, 0)", soci::use(number),
        soci::use(m.name);
    }
  }
};

TEST_P(MigrateTest, FreshDatabaseReachesLatestVersion)
{
  EXPECT_EQ(current_schema_version(*db), 0);
  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 0);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  EXPECT_FALSE(r.applied.empty());
  EXPECT_EQ(current_schema_version(*db), latest_schema_version(db->backend()));
}

TEST_P(MigrateTest, SecondMigrateChangesNothing)
{
  migrate(*db);
  const long long rows = query_ll(*db, "SELECT COUNT(*) FROM schema_version");
  const MigrateResult again = migrate(*db);
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM schema_version"), rows);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rate_card"), 4);
}

TEST_P(MigrateTest, CommandsRefuseASchemaThatIsBehind)
{
  try {
    require_current_schema(*db);
    FAIL() << "an empty database passed the schema check";
  } catch (const BillingError& e) {
    EXPECT_EQ(e.code(), ExitCode::db_unavailable);
    EXPECT_NE(std::string(e.what()).find("billing migrate"), std::string::npos);
  }
  migrate(*db);
  EXPECT_NO_THROW(require_current_schema(*db));
}

TEST_P(MigrateTest, DefaultRateCardIsSeeded)
{
  migrate(*db);
  EXPECT_EQ(query_ll(*db, "SELECT unit_size FROM rate_card WHERE channel = 'sms'"), 160);
  EXPECT_EQ(query_ll(*db, "SELECT credits_per_unit FROM rate_card WHERE channel = 'mms'"), 2);
  EXPECT_EQ(query_ll(*db, "SELECT unit_size FROM rate_card WHERE channel = 'voice'"), 60);
  EXPECT_EQ(query_ll(*db, "SELECT credits_per_unit FROM rate_card WHERE channel = 'ringless'"), 2);
}

TEST_P(MigrateTest, Version2KeepsEveryRowOfAVersion1Database)
{
  // A version-1 database with a row in each table version 2 rebuilds.
  ASSERT_NO_FATAL_FAILURE(install_version(1));
  db->exec("INSERT INTO account_state VALUES (9000, '2026-11-01', 5, 3, 0, 1)");
  db->exec("INSERT INTO lots VALUES (9000, 1, 'plan', 'cycle:0', 50, 40, 0, 10, '2026-11-01')");
  db->exec("INSERT INTO ledger (idempotency_key, account_id, business_date, kind, at_us, "
           "credits, lot_seq, late) VALUES ('9000:2026-11-01:1', 9000, '2026-11-01', 'grant', "
           "0, 50, 1, 0)");
  db->exec("INSERT INTO usage_events (charged_date, account_id, event_id, channel, occurred_us, "
           "occurred_date, status, chars, duration_s, platform_credits, units, credits, "
           "file_id, line, ingest_us) VALUES ('2026-11-01', 9000, 'e1', 'sms', 1, "
           "'2026-11-01', 'sent', 10, NULL, NULL, 1, 1, 1, 2, 3)");
  db->exec("INSERT INTO charges VALUES ('2026-11-01', 9000, 'sms', '2026-11-01', 1, 1, 1, 0)");
  db->exec("INSERT INTO reconciliation VALUES ('2026-11-01', 9000, 0, 50, 0, 0, 1, 0, 0, 49, "
           "0, 1, 1, 0)");
  db->exec("INSERT INTO sending_changes VALUES (9000, '2026-11-01', 1, 'credits available')");

  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 1);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db,
                 "SELECT account_block, file_id, line, account_id, event_id, chars, "
                 "duration_s FROM usage_events"),
            "'2','1','2','9000','e1','10',NULL\n");
  EXPECT_EQ(dump(*db, "SELECT * FROM account_state"),
            "'9000','2026-11-01','5','3','0','1',NULL,NULL,'0'\n");
  EXPECT_EQ(dump(*db, "SELECT account_id, source, remaining FROM lots"), "'9000','cycle:0','40'\n");
  EXPECT_EQ(dump(*db, "SELECT idempotency_key, credits FROM ledger"), "'9000:2026-11-01:1','50'\n");
  EXPECT_EQ(query_ll(*db, "SELECT events FROM charges"), 1);
  EXPECT_EQ(query_ll(*db, "SELECT closing FROM reconciliation"), 49);
  EXPECT_EQ(query_ll(*db, "SELECT enabled FROM sending_changes"), 1);
  // The keys are enforced after the rebuild.
  EXPECT_THROW(db->exec("INSERT INTO lots (account_id, lot_seq, kind, source, granted, "
                        "remaining, valid_from_us, expires_at_us, created_date) VALUES (9000, 2, "
                        "'plan', 'cycle:0', 1, 1, 0, 10, '2026-11-02')"),
               std::exception);
}

TEST_P(MigrateTest, Version3KeepsEveryRowOfAVersion2Database)
{
  // A version-2 database with accounts and their books: each becomes a UTC
  // account whose first date is its anchor.
  ASSERT_NO_FATAL_FAILURE(install_version(2));
  db->exec("INSERT INTO plans VALUES ('P', 'Plan', 'monthly', 10, 100, 1000, 'USD', NULL)");
  db->exec("INSERT INTO accounts VALUES (7, 'P', '2026-10-31', 1, 5, 10, 2, 'card declined')");
  db->exec("INSERT INTO accounts VALUES (8, 'P', '2026-11-01', 0, 0, 0, 1, NULL)");
  db->exec("INSERT INTO account_state VALUES (7, '2026-11-01', 0, 2, 0, 1)");

  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 2);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, plan_id, cycle_anchor, auto_recharge, recharge_threshold, "
                 "recharge_credits, max_recharges_per_day, auto_recharge_off_reason, time_zone, "
                 "first_date FROM accounts ORDER BY account_id"),
            "'7','P','2026-10-31','1','5','10','2','card declined','UTC','2026-10-31'\n"
            "'8','P','2026-11-01','0','0','0','1',NULL,'UTC','2026-11-01'\n");
  EXPECT_EQ(dump(*db, "SELECT * FROM account_state"),
            "'7','2026-11-01','0','2','0','1',NULL,NULL,'0'\n");
  // The key and its check hold after the change.
  EXPECT_THROW(db->exec("INSERT INTO accounts (account_id, plan_id, cycle_anchor, auto_recharge, "
                        "recharge_threshold, recharge_credits, max_recharges_per_day, "
                        "first_date) VALUES (7, 'P', '2026-11-01', 0, 0, 0, 1, '2026-11-01')"),
               std::exception);
  // A new row without a zone is UTC.
  db->exec("INSERT INTO accounts (account_id, plan_id, cycle_anchor, auto_recharge, "
           "recharge_threshold, recharge_credits, max_recharges_per_day, first_date) VALUES "
           "(9, 'P', '2026-11-01', 0, 0, 0, 1, '2026-11-01')");
  EXPECT_EQ(dump(*db, "SELECT time_zone FROM accounts WHERE account_id = 9"), "'UTC'\n");
}

TEST_P(MigrateTest, Version4KeepsEveryDayAndGivesClosedDatesTheirFigures)
{
  // A version-3 database with two dates, one closed, with books.
  ASSERT_NO_FATAL_FAILURE(install_version(3));
  db->exec("INSERT INTO business_days VALUES ('2026-11-01', 'complete', 1, 2, 2, 5, 40)");
  db->exec("INSERT INTO business_days VALUES ('2026-11-02', 'running', 3, NULL, 0, 0, 0)");
  for (const char* row : { "('2026-11-01', 7, 100, 0, 0, 0, 30, 12, 0, 58, 0, 1, 4, 0)",
                           "('2026-11-01', 8, 50, 0, 0, 0, 10, 3, 0, 37, 0, 1, 1, 0)" }) {
    db->exec(std::string("INSERT INTO reconciliation VALUES ") + row);
  }
  db->exec("INSERT INTO charges VALUES ('2026-11-01', 7, 'sms', '2026-11-01', 3, 3, 3, 0)");
  db->exec("INSERT INTO charges VALUES ('2026-11-01', 7, 'voice', '2026-11-01', 1, 27, 27, 0)");
  db->exec("INSERT INTO charges VALUES ('2026-11-01', 8, 'sms', '2026-10-31', 1, 10, 10, 0)");

  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 3);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db,
                 "SELECT business_date, status, started_us, completed_us, accounts, usage_events, "
                 "credits_used, credits_expired, events_sms, events_mms, events_voice, "
                 "events_ringless FROM business_days ORDER BY business_date"),
            "'2026-11-01','complete','1','2','2','5','40','15','4','0','1','0'\n"
            "'2026-11-02','running','3',NULL,'0','0','0','0','0','0','0','0'\n");
}

TEST_P(MigrateTest, Version5KeepsEveryRowAndAddsTheLifecycleTables)
{
  // A version-4 database with an account, its state and a closed date.
  ASSERT_NO_FATAL_FAILURE(install_version(4));
  db->exec("INSERT INTO plans VALUES ('P', 'Plan', 'monthly', 10, 100, 1000, 'USD', NULL)");
  db->exec("INSERT INTO accounts VALUES (7, 'P', '2026-10-31', 1, 5, 10, 2, NULL, 'UTC', "
           "'2026-10-31')");
  db->exec("INSERT INTO account_state VALUES (7, '2026-11-01', 3, 2, 0, 1)");
  db->exec("INSERT INTO reconciliation VALUES ('2026-11-01', 7, 100, 0, 0, 0, 30, 12, 0, 58, 0, "
           "1, 4, 0)");

  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 4);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, state_date, overdraft, next_lot_seq, last_cycle_index, "
                 "sending_enabled, plan_id, cycle_anchor, cancelled FROM account_state"),
            "'7','2026-11-01','3','2','0','1',NULL,NULL,'0'\n");
  EXPECT_EQ(dump(*db,
                 "SELECT business_date, account_id, opening, used, expired, closing, adjusted "
                 "FROM reconciliation"),
            "'2026-11-01','7','100','30','12','58','0'\n");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM plan_changes"), 0);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM adjustments"), 0);
  // One change per account and date; import order unique.
  db->exec("INSERT INTO plan_changes VALUES ('c1', 7, '2026-12-01', 1, 'cancel', NULL, 0, NULL)");
  EXPECT_THROW(db->exec("INSERT INTO plan_changes VALUES ('c2', 7, '2026-12-01', 1, 'cancel', "
                        "NULL, 0, NULL)"),
               std::exception);
  db->exec("INSERT INTO adjustments VALUES ('a1', 7, 5, 'grant', 10, 0, NULL, NULL, NULL, 'x', 1, "
           "0, NULL, NULL)");
  EXPECT_THROW(db->exec("INSERT INTO adjustments VALUES ('a2', 7, 5, 'grant', 10, 0, NULL, NULL, "
                        "NULL, 'x', 1, 0, NULL, NULL)"),
               std::exception);
}

TEST_P(MigrateTest, Version6GivesEveryLotItsValueFromItsSource)
{
  // A version-5 database closed up to 2026-11-01: a plan of 2,900 cents for
  // 1,000 credits (cap 300) whose October lot had 333 used, then at the
  // reset 300 rolled and 367 expired; a November plan lot; a purchase, a
  // recharge and a bonus lot.
  ASSERT_NO_FATAL_FAILURE(install_version(5));
  db->exec("INSERT INTO plans VALUES ('P', 'Plan', 'monthly', 1000, 2900, 1500, 'USD', 300)");
  db->exec("INSERT INTO accounts VALUES (7, 'P', '2026-10-01', 0, 0, 0, 1, NULL, 'UTC', "
           "'2026-10-01')");
  db->exec("INSERT INTO business_days (business_date, status, started_us, completed_us, "
           "accounts, usage_events, credits_used) VALUES ('2026-11-01', 'complete', 1, 2, 1, 0, "
           "0)");
  const char* lots[] = {
    "(7, 1, 'plan', 'plan:2026-10-01T00:00:00Z', 1000, 0, 1, 2, '2026-10-01')",
    "(7, 2, 'rollover', 'rollover:2026-11-01T00:00:00Z', 300, 300, 2, 3, '2026-11-01')",
    "(7, 3, 'plan', 'plan:2026-11-01T00:00:00Z', 1000, 1000, 2, 3, '2026-11-01')",
    "(7, 4, 'purchased', 'purchase:p1', 500, 200, 1, 3, '2026-10-05')",
    "(7, 5, 'purchased', 'recharge:2026-10-20:1', 100, 100, 1, 3, '2026-10-20')",
    "(7, 6, 'bonus', 'bonus:a1', 10, 10, 1, 3, '2026-10-21')",
  };
  for (const char* row : lots) {
    db->exec(std::string("INSERT INTO lots (account_id, lot_seq, kind, source, granted, "
                         "remaining, valid_from_us, expires_at_us, created_date) VALUES ")
             + row);
  }
  const char* entries[] = {
    "(7, '2026-11-01', '7:2026-11-01:1', 'rollover_out', 2, -300, 1, 0)",
    "(7, '2026-11-01', '7:2026-11-01:2', 'rollover_in', 2, 300, 2, 0)",
    "(7, '2026-11-01', '7:2026-11-01:3', 'expire', 2, -367, 1, 0)",
  };
  for (const char* row : entries) {
    db->exec(std::string("INSERT INTO ledger (account_id, business_date, idempotency_key, kind, "
                         "at_us, credits, lot_seq, late) VALUES ")
             + row);
  }
  db->exec("INSERT INTO purchases (purchase_id, account_id, purchased_us, credits, amount_cents, "
           "imported_us, applied_date) VALUES ('p1', 7, 1, 500, 1000, 0, '2026-10-05')");
  db->exec("INSERT INTO payment_requests (idempotency_key, account_id, business_date, lot_seq, "
           "credits, amount_cents, currency, status) VALUES ('recharge:7:2026-10-20:1', 7, "
           "'2026-10-20', 5, 100, 150, 'USD', 'succeeded')");
  db->exec("INSERT INTO adjustments (adjustment_id, account_id, effective_us, kind, credits, "
           "amount_cents, reason, import_seq, imported_us, applied_date, applied_credits) VALUES "
           "('a1', 7, 1, 'grant', 10, 40, 'x', 1, 0, '2026-10-21', 10)");

  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 5);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  // The roll-over lot carries floor(2900 x 633 / 1000) - floor(2900 x 333 /
  // 1000) = 1835 - 965 = 870 (SPEC 17's worked example); the purchase has
  // released floor(1000 x 300 / 500) = 600.
  EXPECT_EQ(
    dump(*db,
         "SELECT lot_seq, value_cents, released_cents, start_remaining FROM all_lots ORDER BY "
         "lot_seq"),
    "'1','2900','2900','0'\n"
    "'2','870','0','300'\n"
    "'3','2900','0','1000'\n"
    "'4','1000','600','200'\n"
    "'5','150','0','100'\n"
    "'6','40','0','10'\n");
  EXPECT_EQ(dump(*db, "SELECT after_date FROM value_books"), "'2026-11-01'\n");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM lot_movements"), 0);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM revenue"), 0);
}

TEST_P(MigrateTest, Version6OnANewDatabaseCoversEveryDate)
{
  ASSERT_NO_FATAL_FAILURE(install_version(5));
  migrate(*db);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM value_books"), 0);
}

TEST_P(MigrateTest, Version6RefusesADateClosedForSomeAccountsOnly)
{
  ASSERT_NO_FATAL_FAILURE(install_version(5));
  db->exec("INSERT INTO business_days (business_date, status, started_us, completed_us, "
           "accounts, usage_events, credits_used) VALUES ('2026-11-02', 'running', 1, NULL, 0, "
           "0, 0)");
  db->exec("INSERT INTO account_state (account_id, state_date, overdraft, next_lot_seq, "
           "last_cycle_index, sending_enabled) VALUES (7, '2026-11-02', 0, 2, 0, 1)");
  EXPECT_THROW(migrate(*db), UsageError);
  EXPECT_EQ(current_schema_version(*db), 5);
  // Finished by the program that started it, the date upgrades.
  db->exec("UPDATE business_days SET status = 'complete' WHERE business_date = '2026-11-02'");
  EXPECT_EQ(migrate(*db).to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db, "SELECT after_date FROM value_books"), "'2026-11-02'\n");
}

TEST_P(MigrateTest, Version6StartsTheValueBooksBeforeADateOnlyStarted)
{
  ASSERT_NO_FATAL_FAILURE(install_version(5));
  db->exec("INSERT INTO business_days (business_date, status, started_us, completed_us, "
           "accounts, usage_events, credits_used) VALUES ('2026-11-01', 'complete', 1, 2, 0, 0, "
           "0)");
  db->exec("INSERT INTO business_days (business_date, status, started_us, completed_us, "
           "accounts, usage_events, credits_used) VALUES ('2026-11-02', 'running', 3, NULL, 0, "
           "0, 0)");
  EXPECT_EQ(migrate(*db).to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db, "SELECT after_date FROM value_books"), "'2026-11-01'\n");
}

TEST_P(MigrateTest, Version7MovesTheSpentLotsApartAndKeepsEveryLot)
{
  // A version-6 database: one lot used up, one with credits left, one that
  // expired with credits (its remaining went to 0 at the expiry).
  ASSERT_NO_FATAL_FAILURE(install_version(6));
  const char* lots[] = {
    "(7, 1, 'plan', 'plan:2026-10-01T00:00:00Z', 1000, 0, 1, 2, '2026-10-01', 2900, 2900, 0)",
    "(7, 2, 'rollover', 'rollover:2026-11-01T00:00:00Z', 300, 0, 2, 3, '2026-11-01', 870, 870, "
    "300)",
    "(7, 3, 'plan', 'plan:2026-11-01T00:00:00Z', 1000, 400, 2, 3, '2026-11-01', 2900, 1740, "
    "1000)",
  };
  for (const char* row : lots) {
    db->exec(std::string("INSERT INTO lots (account_id, lot_seq, kind, source, granted, "
                         "remaining, valid_from_us, expires_at_us, created_date, value_cents, "
                         "released_cents, start_remaining) VALUES ")
             + row);
  }
  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 6);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  using billing::testing::dump;
  EXPECT_EQ(dump(*db, "SELECT lot_seq, remaining, released_cents FROM lots"), "'3','400','1740'\n");
  EXPECT_EQ(dump(*db,
                 "SELECT lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us, "
                 "created_date, value_cents, released_cents, start_remaining FROM spent_lots "
                 "ORDER BY lot_seq"),
            "'1','plan','plan:2026-10-01T00:00:00Z','1000','0','1','2','2026-10-01','2900','2900',"
            "'0'\n"
            "'2','rollover','rollover:2026-11-01T00:00:00Z','300','0','2','3','2026-11-01','870',"
            "'870','300'\n");
  EXPECT_EQ(dump(*db, "SELECT lot_seq FROM all_lots ORDER BY lot_seq"), "'1'\n'2'\n'3'\n");
  // A spent lot holds no credits, and its key holds.
  EXPECT_THROW(db->exec("UPDATE spent_lots SET remaining = 1 WHERE lot_seq = 1"), std::exception);
  EXPECT_THROW(db->exec("INSERT INTO spent_lots (account_id, lot_seq, kind, source, granted, "
                        "remaining, valid_from_us, expires_at_us, created_date) VALUES (7, 1, "
                        "'plan', 'x', 1, 0, 0, 10, '2026-11-02')"),
               std::exception);
}

TEST_P(MigrateTest, Version8RefusesADateClosedForSomeAccountsOnly)
{
  // Schema 8 sums a date's figures from its chunks' rows: the chunks an
  // older program closed before it stopped have none.
  ASSERT_NO_FATAL_FAILURE(install_version(7));
  db->exec("INSERT INTO business_days (business_date, status, started_us, completed_us, "
           "accounts, usage_events, credits_used) VALUES ('2026-11-02', 'running', 1, NULL, 0, "
           "0, 0)");
  db->exec("INSERT INTO account_state (account_id, state_date, overdraft, next_lot_seq, "
           "last_cycle_index, sending_enabled) VALUES (7, '2026-11-02', 0, 2, 0, 1)");
  try {
    migrate(*db);
    FAIL() << "migrate installed schema 8 over a part-closed date";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("the run of 2026-11-02 has not finished"),
              std::string::npos)
      << e.what();
    EXPECT_NE(std::string(e.what()).find("schema 8"), std::string::npos) << e.what();
  }
  EXPECT_EQ(current_schema_version(*db), 7);
  db->exec("UPDATE business_days SET status = 'complete' WHERE business_date = '2026-11-02'");
  EXPECT_EQ(migrate(*db).to_version, 8);
}

BILLING_ON_BOTH_BACKENDS(MigrateTest);
