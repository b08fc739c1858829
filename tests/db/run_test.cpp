// `billing run` (SPEC sections 1, 8, 11): a run over several dates equals the
// same dates run one by one and equals a run interrupted between accounts and
// resumed; a completed date is never changed; one run at a time; a dry run
// writes nothing; verify passes on real books and finds a corruption.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "jobs/close_accounts_job.hpp"
#include "jobs/complete_day_job.hpp"
#include "jobs/nightly.hpp"
#include "reports/exports.hpp"
#include "storage/day_store.hpp"
#include "storage/imports.hpp"
#include "storage/run_lock.hpp"
#include "storage/usage_store.hpp"
#include "storage/verify.hpp"
#include "util/errors.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>

using namespace billing;

namespace {

using billing::testing::date;
using billing::testing::dump;
using billing::testing::instant;

const Instant k_now = instant("2026-11-25T08:00:00Z");
const Date k_today = date("2026-11-25");
const Date k_first = date("2026-10-28");
const Date k_last = date("2026-11-06");

// Every table the nightly run or an import writes, in a fixed order.
const std::vector<std::pair<std::string, std::string>> k_tables = {
  { "plans", "SELECT * FROM plans ORDER BY plan_id" },
  { "accounts", "SELECT * FROM accounts ORDER BY account_id" },
  { "account_state", "SELECT * FROM account_state ORDER BY account_id" },
  { "purchases", "SELECT * FROM purchases ORDER BY purchase_id" },
  { "lots", "SELECT * FROM all_lots ORDER BY account_id, lot_seq" },
  { "ledger", "SELECT * FROM ledger ORDER BY idempotency_key" },
  { "usage_files", "SELECT * FROM usage_files ORDER BY file_id" },
  { "usage_events", "SELECT * FROM usage_events ORDER BY event_id" },
  { "rejects", "SELECT * FROM rejects ORDER BY reject_id" },
  { "charges", "SELECT * FROM charges ORDER BY business_date, account_id, channel, occurred_date" },
  { "reconciliation", "SELECT * FROM reconciliation ORDER BY business_date, account_id" },
  { "sending_changes", "SELECT * FROM sending_changes ORDER BY account_id, business_date" },
  { "payment_requests", "SELECT * FROM payment_requests ORDER BY idempotency_key" },
  { "business_days", "SELECT * FROM business_days ORDER BY business_date" },
};

std::map<std::string, std::string> snapshot(Database& db)
{
  std::map<std::string, std::string> out;
  for (const auto& [table, query] : k_tables) {
    out[table] = dump(db, query);
  }
  return out;
}

// The books that must be equal however the dates were run (no wall-clock
// columns): exports plus the lots, ledger, state and markers.
struct Books
{
  std::string reconciliation;
  std::string charges;
  std::string payments;
  std::string lots;
  std::string ledger;
  std::string state;
  std::string sending;
  std::string markers;
};

std::string export_text(Database& db, ExportKind kind)
{
  ExportRequest req;
  req.kind = kind;
  req.from = k_first;
  req.to = k_last;
  std::ostringstream out;
  write_export(db, req, out);
  return out.str();
}

Books books(Database& db)
{
  Books b;
  b.reconciliation = export_text(db, ExportKind::reconciliation);
  b.charges = export_text(db, ExportKind::charges);
  b.payments = export_text(db, ExportKind::payments);
  b.lots = dump(db,
                "SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, "
                "expires_at_us, created_date FROM all_lots ORDER BY account_id, lot_seq");
  b.ledger = dump(db,
                  "SELECT idempotency_key, account_id, business_date, kind, at_us, credits, "
                  "lot_seq, late FROM ledger ORDER BY idempotency_key");
  b.state = dump(db, "SELECT * FROM account_state ORDER BY account_id")
            + dump(db,
                   "SELECT business_date, status, accounts, usage_events, credits_used FROM "
                   "business_days ORDER BY business_date");
  b.sending = dump(db, "SELECT * FROM sending_changes ORDER BY account_id, business_date");
  b.markers = dump(db, "SELECT event_id, charged_date FROM usage_events ORDER BY event_id")
              + dump(db, "SELECT purchase_id, applied_date FROM purchases ORDER BY purchase_id")
              + dump(db,
                     "SELECT idempotency_key, status, revoked_date FROM payment_requests ORDER "
                     "BY idempotency_key");
  return b;
}

void expect_same_books(const Books& a, const Books& b)
{
  EXPECT_EQ(a.reconciliation, b.reconciliation) << "reconciliation export differs";
  EXPECT_EQ(a.charges, b.charges) << "charges export differs";
  EXPECT_EQ(a.payments, b.payments) << "payments export differs";
  EXPECT_EQ(a.lots, b.lots) << "lots differ";
  EXPECT_EQ(a.ledger, b.ledger) << "ledger differs";
  EXPECT_EQ(a.state, b.state) << "account state / business days differ";
  EXPECT_EQ(a.sending, b.sending) << "sending changes differ";
  EXPECT_EQ(a.markers, b.markers) << "charged/applied/revoked markers differ";
}

long long lines_of(const std::string& text)
{
  return static_cast<long long>(std::count(text.begin(), text.end(), '\n'));
}

const char* const k_plans =
  "plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,"
  "rollover_cap\n"
  "BASIC,Basic,monthly,1000,2900,1500,USD,300\n"
  "SMALL,Small,monthly,50,500,2000,USD,\n"
  "ANNUAL,Annual,annual,5000,30000,1000,EUR,\n";

// 1: cycle reset on 11-01 with a capped roll-over; 2: auto-recharge and
// overdraft; 3: starts mid-range; 4: overdraft paid off by a purchase;
// 5: auto-recharge from its first day, no usage.
const char* const k_accounts =
  "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,"
  "max_recharges_per_day\n"
  "1,BASIC,2026-10-01,0,0,0,1\n"
  "2,SMALL,2026-10-28,1,40,100,2\n"
  "3,ANNUAL,2026-11-03,0,,,\n"
  "4,SMALL,2026-10-15,0,0,0,1\n"
  "5,BASIC,2026-11-02,1,1100,200,1\n";

const char* const k_purchases = "purchase_id,account_id,purchased_at,credits,amount_cents\n"
                                "p-4-1,4,2026-11-02T12:00:00Z,500,1000\n"
                                "p-1-1,1,2026-10-30T00:00:00Z,100,300\n";

const char* const k_usage =
  "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n"
  "a1-1,1,sms,2026-10-28T09:00:00Z,delivered,200,,2\n"
  "a1-2,1,voice,2026-10-29T10:00:00Z,completed,,600,10\n"
  "a1-3,1,mms,2026-10-31T23:59:59.999999Z,sent,1601,,4\n"
  "a1-4,1,ringless,2026-11-01T00:00:00Z,delivered,,,2\n"
  "a1-5,1,sms,2026-11-03T12:00:00Z,failed,50,,0\n"
  "a1-6,1,voice,2026-11-04T12:00:00Z,completed,,30000,500\n"
  "a2-1,2,voice,2026-10-28T12:00:00Z,completed,,2400,40\n"
  "a2-2,2,ringless,2026-10-30T08:00:00Z,delivered,,,2\n"
  "a2-3,2,voice,2026-11-02T08:00:00Z,completed,,18000,300\n"
  "a2-4,2,sms,2026-11-04T08:00:00Z,sent,900,,6\n"
  "a3-1,3,sms,2026-11-03T00:00:00Z,delivered,10,,1\n"
  "a3-2,3,voice,2026-11-05T18:30:00Z,no_answer,,0,0\n"
  "a4-1,4,voice,2026-11-02T06:00:00Z,completed,,6000,100\n"
  "a4-2,4,sms,2026-11-02T13:00:00Z,delivered,161,,2\n"
  "a4-3,4,mms,2026-11-06T20:00:00Z,delivered,3200,,4\n"
  "a5-1,5,sms,2026-11-06T20:00:00Z,sent,10,,1\n";

// Reconciliation rows the range must produce: 10 + 10 + 4 + 10 + 5.
constexpr long long k_recon_rows = 39;

class RunTest : public billing::testing::BackendTest
{
protected:
  void prepare() override { load(*db); }

  // Migrates and loads the shared data set into `target`.
  void load(Database& target)
  {
    migrate(target);
    ASSERT_TRUE(
      import_csv(target, ImportKind::plans, file("plans.csv", k_plans), k_now).rejected.empty());
    ASSERT_TRUE(import_csv(target, ImportKind::accounts, file("accounts.csv", k_accounts), k_now)
                  .rejected.empty());
    ASSERT_TRUE(import_csv(target, ImportKind::purchases, file("purchases.csv", k_purchases), k_now)
                  .rejected.empty());
    const IngestReport r = ingest_usage_file(target, file("usage.csv", k_usage), k_now);
    ASSERT_EQ(r.accepted, 16);
  }

  static RunRequest request(std::optional<Date> from, Date to, DryRun dry = DryRun::no)
  {
    RunRequest req;
    req.from = from;
    req.to = to;
    req.today = k_today;
    req.dry_run = dry;
    return req;
  }

  // One night through the program's entry point (lock, run record, dates).
  static RunOutcome run(Database& target,
                        std::optional<Date> from,
                        Date to,
                        DryRun dry = DryRun::no)
  {
    NightRequest night;
    night.run = request(from, to, dry);
    night.holder = "run test";
    night.now = [] { return k_now; };
    return RunOutcome{ run_night(target, night).dates };
  }

  // Closes the first `k` taking-part accounts of `d` one chunk (one account)
  // at a time, each chunk committed, as CloseAccountsJob(1) would; then
  // optionally writes one more chunk that is never committed. The caller
  // then drops the connection: a crash between accounts.
  static long long close_first_accounts(Database& c, Date d, size_t k, bool chunk_in_flight)
  {
    const auto plans = load_plans(c);
    {
      Transaction tx(c);
      mark_day_started(c, d, k_now);
      tx.commit();
    }
    long long after = 0;
    long long closed = 0;
    DayTotals totals;
    const auto close_chunk = [&](bool commit) {
      Transaction tx(c);
      const DayChunk chunk = load_pending_chunk(c, plans, d, after, 1, Shard{});
      const std::vector<AccountDayInput>& inputs = chunk.inputs;
      if (inputs.empty()) {
        return false;
      }
      std::vector<AccountDayResult> results;
      for (const AccountDayInput& in : inputs) {
        results.push_back(close_account_day(in));
      }
      write_chunk(c, d, chunk, results, totals);
      if (commit) {
        tx.commit();
        after = inputs.back().settings.account_id;
        closed += static_cast<long long>(inputs.size());
      }
      return true;
    };
    for (size_t i = 0; i < k; ++i) {
      if (!close_chunk(true)) {
        break;
      }
    }
    if (chunk_in_flight) {
      close_chunk(false);
    }
    return closed;
  }
};

TEST_P(RunTest, RunOverSeveralDatesEqualsTheSameDatesRunOneByOne)
{
  const RunOutcome all = run(*db, k_first, k_last);
  ASSERT_EQ(all.dates.size(), 10u);
  for (const DateOutcome& o : all.dates) {
    EXPECT_TRUE(o.completed);
    EXPECT_FALSE(o.already_complete);
  }
  EXPECT_EQ(last_completed_date(*db), k_last);
  const Books range = books(*db);
  EXPECT_EQ(lines_of(range.reconciliation), k_recon_rows + 1);
  EXPECT_GT(lines_of(range.charges), 10);
  EXPECT_GT(lines_of(range.payments), 1); // auto-recharge happened

  auto other = open(new_database_url("one_by_one"));
  load(*other);
  for (Date d = k_first; d <= k_last; d = d.next()) {
    const RunOutcome one = run(*other, d, d);
    ASSERT_EQ(one.dates.size(), 1u) << format_date(d);
    EXPECT_TRUE(one.dates[0].completed);
  }
  expect_same_books(range, books(*other));

  // Catch-up with --date alone after the first date equals them too.
  auto catch_up = open(new_database_url("catch_up"));
  load(*catch_up);
  run(*catch_up, std::nullopt, k_first);
  EXPECT_EQ(run(*catch_up, std::nullopt, k_last).dates.size(), 9u);
  expect_same_books(range, books(*catch_up));
}

// SPEC 16: a zoned account's resets are facts at their UTC instants, and it
// takes part from the UTC date that holds its first cycle start.
TEST_P(RunTest, ZonedAccountsResetAtLocalMidnightAndTakePartFromTheirFirstUtcDate)
{
  const char* const zoned =
    "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,"
    "max_recharges_per_day,time_zone\n"
    "10,SMALL,2026-11-03,0,,,,Asia/Kolkata\n"      // R_0 2026-11-02T18:30Z
    "11,SMALL,2026-11-02,0,,,,America/New_York\n"; // R_0 2026-11-02T05:00Z (EST)
  ASSERT_TRUE(
    import_csv(*db, ImportKind::accounts, file("zoned.csv", zoned), k_now).rejected.empty());
  // 19:00Z of 11-02 is 00:30 IST of 11-03: after R_0, charged on 11-02.
  const IngestReport r = ingest_usage_file(
    *db,
    file("zoned_usage.csv",
         "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n"
         "z10-1,10,sms,2026-11-02T19:00:00Z,sent,10,,1\n"
         "z11-1,11,sms,2026-11-02T04:00:00Z,sent,10,,1\n"),
    k_now);
  ASSERT_EQ(r.accepted, 2);
  EXPECT_EQ(dump(*db,
                 "SELECT event_id, charged_date FROM usage_events WHERE account_id >= 10 ORDER BY "
                 "event_id"),
            "'z10-1','2026-11-02'\n'z11-1','2026-11-02'\n");
  run(*db, k_first, k_last);
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, MIN(business_date), COUNT(*) FROM reconciliation WHERE "
                 "account_id >= 10 GROUP BY account_id ORDER BY account_id"),
            "'10','2026-11-02','5'\n'11','2026-11-02','5'\n");
  using billing::testing::instant;
  const std::string grants = dump(*db,
                                  "SELECT account_id, at_us FROM ledger WHERE account_id >= 10 "
                                  "AND kind = 'grant' ORDER BY account_id");
  EXPECT_EQ(grants,
            "'10','" + std::to_string(instant("2026-11-02T18:30:00Z").us) + "'\n'11','"
              + std::to_string(instant("2026-11-02T05:00:00Z").us) + "'\n");
  // Account 11's 04:00Z event came before its R_0: overdraft paid by the grant.
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, used, granted, closing, overdraft FROM reconciliation "
                 "WHERE account_id >= 10 AND business_date = '2026-11-02' ORDER BY account_id"),
            "'10','1','50','49','0'\n'11','1','50','49','0'\n");
  // The plan lots end at the next local midnights: 12-03 IST, 12-02 EST.
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, expires_at_us FROM all_lots WHERE account_id >= 10 ORDER BY "
                 "account_id"),
            "'10','" + std::to_string(instant("2026-12-02T18:30:00Z").us) + "'\n'11','"
              + std::to_string(instant("2026-12-02T05:00:00Z").us) + "'\n");
}

TEST_P(RunTest, RunInterruptedBetweenAccountsEqualsUninterruptedRun)
{
  run(*db, k_first, k_last);
  const Books uninterrupted = books(*db);
  ASSERT_EQ(lines_of(uninterrupted.reconciliation), k_recon_rows + 1);
  const std::string url = new_database_url("interrupted");
  {
    auto c = open(url);
    load(*c);
  }
  // Crash on several dates after k accounts (chunk size 1), sometimes with
  // one more chunk in flight; "all" closes every account but does not
  // complete the date. Between crashes, ordinary catch-up runs.
  const struct
  {
    const char* day;
    size_t k;
    bool in_flight;
    long long taking_part;
  } crashes[] = {
    { "2026-10-28", 1, false, 3 }, { "2026-10-30", 0, true, 3 }, { "2026-11-01", 2, true, 3 },
    { "2026-11-03", 3, false, 5 }, { "2026-11-04", 1, true, 5 }, { "2026-11-05", 1000, false, 5 },
  };
  for (const auto& crash : crashes) {
    SCOPED_TRACE(crash.day);
    const Date d = date(crash.day);
    if (d > k_first) {
      auto c = open(url);
      run(*c, k_first, d.prev());
    }
    long long closed = 0;
    {
      auto c = open(url);
      closed = close_first_accounts(*c, d, crash.k, crash.in_flight);
    } // the connection is dropped mid-date
    EXPECT_EQ(closed, std::min(static_cast<long long>(crash.k), crash.taking_part));
    auto c = open(url);
    EXPECT_EQ(query_ll(*c,
                       "SELECT COUNT(*) FROM reconciliation WHERE business_date = :day",
                       std::string(crash.day)),
              closed);
    EXPECT_EQ(day_status(*c, d), DayStatus::running);
    EXPECT_EQ(last_completed_date(*c),
              std::optional<Date>(d.prev().days >= k_first.days ? std::optional<Date>(d.prev())
                                                                : std::nullopt));
  }
  {
    auto c = open(url);
    const RunOutcome rest = run(*c, k_first, k_last);
    EXPECT_EQ(rest.dates.back().date, k_last);
    EXPECT_TRUE(rest.dates.back().completed);
  }
  auto c = open(url);
  expect_same_books(uninterrupted, books(*c));
  EXPECT_TRUE(verify_books(*c).breaches.empty());
}

TEST_P(RunTest, InterruptedDateResumedByCloseAccountsJobWithChunkSizeOneEqualsUninterruptedRun)
{
  run(*db, k_first, k_last);
  const Books uninterrupted = books(*db);
  const std::string url = new_database_url("chunked");
  {
    auto c = open(url);
    load(*c);
  }
  for (Date d = k_first; d <= k_last; d = d.next()) {
    {
      auto c = open(url);
      close_first_accounts(*c, d, 1, true);
    }
    auto c = open(url);
    DayTotals totals;
    JobContext ctx{ *c, d, DryRun::no, Shard{}, totals, {}, [] { return k_now; } };
    CloseAccountsJob(1).run(ctx);
    CompleteDayJob().run(ctx);
    EXPECT_EQ(day_status(*c, d), DayStatus::complete) << format_date(d);
  }
  auto c = open(url);
  expect_same_books(uninterrupted, books(*c));
}

TEST_P(RunTest, AccountsOfManyBlocksAreClosedBlockByBlockWithTheirOwnEvents)
{
  // Ids on both sides of block edges (4,096 ids a block) and one far away;
  // the account at index i sends i + 1 one-credit SMS on 11-01.
  const std::vector<long long> ids = { 4095, 4096, 4097, 8191, 12288, 1LL << 40 };
  std::string accounts = "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                         "recharge_credits,max_recharges_per_day\n";
  std::string usage =
    "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n";
  std::string expected;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string id = std::to_string(ids[i]);
    accounts += id + ",SMALL,2026-10-30,0,0,0,1\n";
    for (size_t k = 0; k <= i; ++k) {
      usage += "b" + id + "-" + std::to_string(k) + "," + id + ",sms,2026-11-01T0"
               + std::to_string(k) + ":00:00Z,delivered,10,,1\n";
    }
    expected += "'" + id + "','" + std::to_string(i + 1) + "'\n";
  }
  const auto prepare = [&](Database& target) {
    migrate(target);
    ASSERT_TRUE(
      import_csv(target, ImportKind::plans, file("plans.csv", k_plans), k_now).rejected.empty());
    ASSERT_TRUE(import_csv(target, ImportKind::accounts, file("blocks.csv", accounts), k_now)
                  .rejected.empty());
    ASSERT_EQ(ingest_usage_file(target, file("blocks-usage.csv", usage), k_now).accepted, 21);
  };
  const Date first = date("2026-10-30");
  const Date day = date("2026-11-01");

  auto whole = open(new_database_url("blocks"));
  prepare(*whole);
  ASSERT_EQ(run(*whole, first, day).dates.size(), 3u);
  EXPECT_EQ(dump(*whole,
                 "SELECT account_id, usage_events FROM reconciliation WHERE business_date = "
                 "'2026-11-01' ORDER BY account_id"),
            expected);
  EXPECT_EQ(dump(*whole,
                 "SELECT account_id, events FROM charges WHERE business_date = '2026-11-01' "
                 "ORDER BY account_id"),
            expected);

  // One account per chunk gives the same books.
  auto by_one = open(new_database_url("blocks_by_one"));
  prepare(*by_one);
  for (Date d = first; d <= day; d = d.next()) {
    {
      Transaction tx(*by_one);
      mark_day_started(*by_one, d, k_now);
      tx.commit();
    }
    DayTotals totals;
    JobContext ctx{ *by_one, d, DryRun::no, Shard{}, totals, {}, [] { return k_now; } };
    CloseAccountsJob(1).run(ctx);
    CompleteDayJob().run(ctx);
    EXPECT_EQ(totals.accounts, static_cast<long long>(ids.size())) << format_date(d);
  }
  expect_same_books(books(*whole), books(*by_one));
}

TEST_P(RunTest, RerunningACompletedDateChangesNothing)
{
  run(*db, k_first, k_last);
  const auto before = snapshot(*db);
  ASSERT_FALSE(before.at("reconciliation").empty());

  // The whole range again, one date inside it, and the last date alone.
  const RunOutcome again = run(*db, k_first, k_last);
  ASSERT_EQ(again.dates.size(), 10u);
  for (const DateOutcome& o : again.dates) {
    EXPECT_TRUE(o.already_complete) << format_date(o.date);
    EXPECT_EQ(o.totals.accounts, 0);
  }
  const RunOutcome inside = run(*db, date("2026-11-01"), date("2026-11-01"));
  ASSERT_EQ(inside.dates.size(), 1u);
  EXPECT_TRUE(inside.dates[0].already_complete);
  run(*db, std::nullopt, k_last);
  EXPECT_EQ(snapshot(*db), before);

  // Facts that arrive for a closed date do not change it: they are late and
  // go to the next date that runs.
  const IngestReport late = ingest_usage_file(
    *db,
    file("late.csv",
         "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n"
         "late-1,1,sms,2026-11-02T10:00:00Z,sent,10,,1\n"),
    k_now);
  ASSERT_EQ(late.accepted, 1);
  const std::string closed_recon =
    dump(*db, "SELECT * FROM reconciliation ORDER BY business_date, account_id");
  const std::string closed_charges =
    dump(*db, "SELECT * FROM charges ORDER BY business_date, account_id, channel, occurred_date");
  run(*db, k_first, k_last);
  EXPECT_EQ(dump(*db, "SELECT * FROM reconciliation ORDER BY business_date, account_id"),
            closed_recon);
  EXPECT_EQ(
    dump(*db, "SELECT * FROM charges ORDER BY business_date, account_id, channel, occurred_date"),
    closed_charges);
  run(*db, std::nullopt, k_last.next());
  EXPECT_EQ(dump(*db,
                 "SELECT used, late_events FROM reconciliation WHERE account_id = 1 AND "
                 "business_date = :day",
                 format_date(k_last.next())),
            "'1','1'\n");
  EXPECT_EQ(dump(*db,
                 "SELECT business_date, occurred_date, events, credits FROM charges WHERE "
                 "account_id = 1 AND occurred_date = '2026-11-02'"),
            "'2026-11-07','2026-11-02','1','1'\n");
}

TEST_P(RunTest, DatesBeforeTheFirstClosedDateAreNotReportedAsComplete)
{
  run(*db, k_first, k_last);
  const auto before = snapshot(*db);
  // 10-20 .. 10-27 were never run and never will be (they lie before the
  // first closed date): the run succeeds, reports none of them, closes
  // nothing and changes nothing.
  const RunOutcome o = run(*db, date("2026-10-20"), date("2026-10-27"));
  EXPECT_TRUE(o.dates.empty()) << o.dates.size() << " dates reported, the first "
                               << format_date(o.dates.front().date);
  EXPECT_EQ(snapshot(*db), before);
}

TEST_P(RunTest, SecondRunLockOnAnotherConnectionIsRefusedUntilTheFirstIsReleased)
{
  auto other = connect();
  {
    RunLock first(*db, "nightly-run pid 4242");
    try {
      RunLock second(*other, "second run");
      FAIL() << "a second RunLock was granted while the first is held";
    } catch (const LockHeld& e) {
      EXPECT_EQ(e.code(), ExitCode::lock_held);
      EXPECT_EQ(static_cast<int>(e.code()), 75);
      EXPECT_NE(std::string(e.what()).find("nightly-run pid 4242"), std::string::npos) << e.what();
    }
    const auto holder = lock_holder(*other);
    ASSERT_TRUE(holder.has_value());
    EXPECT_NE(holder->find("nightly-run pid 4242"), std::string::npos) << *holder;
  }
  EXPECT_FALSE(lock_holder(*other).has_value());
  {
    RunLock second(*other, "second run");
    EXPECT_THROW(RunLock(*db, "third run"), LockHeld);
  }
  // A lock whose holder died (its file descriptor closed by the kernel, its
  // connection dropped by the server) is free without any cleaning.
  {
    auto gone = connect();
    auto lock = std::make_unique<RunLock>(*gone, "killed run");
    EXPECT_THROW(RunLock(*db, "next"), LockHeld);
    if (GetParam() == Backend::sqlite) {
      lock.reset(); // what the kernel does when the process dies
    } else {
      const long long id = query_ll(*gone, "SELECT CONNECTION_ID()");
      db->exec("KILL CONNECTION " + std::to_string(id));
    }
    bool free = false;
    for (int i = 0; i < 50 && !free; ++i) {
      try {
        RunLock next(*db, "next");
        free = true;
      } catch (const LockHeld&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    EXPECT_TRUE(free) << "the lock of a dead holder was not freed";
    lock.reset(); // on MySQL: its RELEASE_LOCK fails on the killed session
  }
  EXPECT_NO_THROW(RunLock(*db, "next"));
}

TEST_P(RunTest, DryRunWritesNothing)
{
  const auto fresh = snapshot(*db);
  const RunOutcome dry_all = run(*db, k_first, k_last, DryRun::yes);
  ASSERT_EQ(dry_all.dates.size(), 10u);
  EXPECT_GT(dry_all.dates[0].totals.accounts, 0);
  EXPECT_EQ(snapshot(*db), fresh);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM runs"), 0) << "a dry run recorded a run";

  run(*db, k_first, date("2026-11-01"));
  const auto after_first = snapshot(*db);
  const RunOutcome dry = run(*db, std::nullopt, k_last, DryRun::yes);
  EXPECT_EQ(snapshot(*db), after_first);
  EXPECT_EQ(last_completed_date(*db), date("2026-11-01"));

  // The dry run reported what the real run then does.
  const RunOutcome real = run(*db, std::nullopt, k_last);
  ASSERT_EQ(dry.dates.size(), real.dates.size());
  ASSERT_EQ(real.dates.size(), 5u);
  for (size_t i = 0; i < real.dates.size(); ++i) {
    SCOPED_TRACE(format_date(real.dates[i].date));
    EXPECT_EQ(dry.dates[i].date, real.dates[i].date);
    EXPECT_EQ(dry.dates[i].totals.accounts, real.dates[i].totals.accounts);
    EXPECT_EQ(dry.dates[i].totals.usage_events, real.dates[i].totals.usage_events);
    EXPECT_EQ(dry.dates[i].totals.credits_used, real.dates[i].totals.credits_used);
    EXPECT_EQ(dry.dates[i].totals.recharges, real.dates[i].totals.recharges);
    EXPECT_EQ(dry.dates[i].totals.suspended, real.dates[i].totals.suspended);
  }
}

TEST_P(RunTest, DatesNotOverYetAreRefusedAndCatchUpStartsAfterTheLastCompletedDate)
{
  EXPECT_THROW(run(*db, std::nullopt, k_today), UsageError);
  EXPECT_THROW(run(*db, k_first, k_today.next()), UsageError);
  EXPECT_THROW(run(*db, k_last, k_first), UsageError);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM business_days"), 0);

  RunRequest req = request(std::nullopt, date("2026-11-24"));
  EXPECT_EQ(dates_to_run(req, std::nullopt), std::vector<Date>{ date("2026-11-24") });
  const auto catch_up = dates_to_run(req, date("2026-11-20"));
  EXPECT_EQ(catch_up,
            (std::vector<Date>{
              date("2026-11-21"), date("2026-11-22"), date("2026-11-23"), date("2026-11-24") }));
  EXPECT_TRUE(dates_to_run(request(std::nullopt, date("2026-11-10")), date("2026-11-20")).empty());
}

TEST_P(RunTest, VerifyPassesAfterRunsAndReportsACorruption)
{
  run(*db, k_first, date("2026-11-02"));
  run(*db, std::nullopt, k_last);
  const VerifyReport clean = verify_books(*db);
  EXPECT_TRUE(clean.breaches.empty()) << ::testing::PrintToString(clean.breaches);
  EXPECT_GE(clean.checks_passed.size(), 6u);

  // One credit appears from nowhere in one lot.
  const long long seq =
    query_ll(*db, "SELECT MIN(lot_seq) FROM lots WHERE account_id = 4 AND remaining > 0");
  ASSERT_GT(seq, 0);
  db->exec("UPDATE lots SET remaining = remaining + 1 WHERE account_id = 4 AND lot_seq = "
           + std::to_string(seq));
  const VerifyReport lots_breach = verify_books(*db);
  ASSERT_FALSE(lots_breach.breaches.empty());
  EXPECT_NE(lots_breach.breaches[0].find("conserved"), std::string::npos)
    << lots_breach.breaches[0];
  db->exec("UPDATE lots SET remaining = remaining - 1 WHERE account_id = 4 AND lot_seq = "
           + std::to_string(seq));
  EXPECT_TRUE(verify_books(*db).breaches.empty());

  // A reconciliation row that does not tie out.
  db->exec("UPDATE reconciliation SET closing = closing + 5 WHERE account_id = 2 AND "
           "business_date = '2026-11-03'");
  const VerifyReport recon_breach = verify_books(*db);
  ASSERT_GE(recon_breach.breaches.size(), 2u);
  const std::string all = ::testing::PrintToString(recon_breach.breaches);
  EXPECT_NE(all.find("tie out"), std::string::npos) << all;
  EXPECT_NE(all.find("closing of D = opening of the account's next row"), std::string::npos) << all;

  // An accepted event moved to a date that did not charge it.
  db->exec("UPDATE reconciliation SET closing = closing - 5 WHERE account_id = 2 AND "
           "business_date = '2026-11-03'");
  db->exec("UPDATE usage_events SET charged_date = '2026-10-01' WHERE event_id = 'a4-3'");
  const VerifyReport uncharged = verify_books(*db);
  EXPECT_FALSE(uncharged.breaches.empty());
}

BILLING_ON_BOTH_BACKENDS(RunTest);

} // namespace
