// `billing import rates` (SPEC 18): SPEC's default rows change nothing, each
// reason code with its line, idempotency (also after the row's date closed),
// drops_status, effective_in_closed_date (a date a stopped run closed for
// some accounts too), re-rating of the stored events of open dates the new
// rows govern and never of a closed date's, and a bad_status reject that a
// retry accepts once a card lists its status.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "jobs/nightly.hpp"
#include "storage/imports.hpp"
#include "storage/usage_store.hpp"
#include "util/errors.hpp"

#include <string>

using namespace billing;

namespace {

using billing::testing::date;
using billing::testing::dump;
using billing::testing::instant;

const Instant k_now = instant("2026-11-25T08:00:00Z");
const Date k_today = date("2026-11-25");

const std::string k_rates_header =
  "effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses\n";
const std::string k_usage_header =
  "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n";

// SPEC 18's default card, as written there.
const std::string k_default_rows = "0001-01-01,sms,160,1,1,sent;delivered,failed\n"
                                   "0001-01-01,mms,1600,1,2,sent;delivered,failed\n"
                                   "0001-01-01,voice,60,0,1,completed,no_answer;busy;failed\n"
                                   "0001-01-01,ringless,,1,2,delivered,failed\n";

const char* const k_card_query = "SELECT channel, effective_from, basis, unit_size, min_units, "
                                 "credits_per_unit, charged_statuses, free_statuses FROM "
                                 "rate_card ORDER BY channel, effective_from";

class RateImportTest : public billing::testing::BackendTest
{
protected:
  void prepare() override
  {
    migrate_schema();
    import_basic_account(k_now);
  }

  ImportReport rates(const std::string& name, const std::string& rows)
  {
    return import_csv(*db, ImportKind::rates, file(name, k_rates_header + rows), k_now);
  }

  IngestReport ingest(const std::string& name, const std::string& rows)
  {
    return ingest_usage_file(*db, file(name, k_usage_header + rows), k_now);
  }

  void run_to(const char* to)
  {
    RunRequest req;
    req.to = date(to);
    req.today = k_today;
    RunHooks hooks;
    hooks.now = [] { return k_now; };
    run_nightly(*db, req, hooks);
  }

  std::string event(const char* id)
  {
    return dump(*db,
                "SELECT units, credits, charged_date FROM usage_events WHERE event_id = :id",
                std::string(id));
  }

  std::string rejected(const ImportReport& r)
  {
    std::string out;
    for (const auto& reject : r.rejected) {
      out += std::to_string(reject.line) + ": " + reject.reason + "\n";
    }
    return out;
  }
};

TEST_P(RateImportTest, TheSpecDefaultRowsChangeNothing)
{
  const std::string card = dump(*db, k_card_query);
  const ImportReport r = rates("defaults.csv", k_default_rows);
  EXPECT_EQ(r.rows, 4);
  EXPECT_EQ(r.unchanged, 4);
  EXPECT_EQ(r.inserted, 0);
  EXPECT_EQ(rejected(r), "");
  EXPECT_EQ(dump(*db, k_card_query), card);
  // Statuses in another order are the same row.
  const ImportReport again =
    rates("reordered.csv", "0001-01-01,voice,60,0,1,completed,failed;busy;no_answer\n");
  EXPECT_EQ(again.unchanged, 1);
  EXPECT_EQ(rejected(again), "");
}

TEST_P(RateImportTest, EachBadRowIsRejectedWithItsLineAndTheGoodRowsGoIn)
{
  run_to("2026-11-05");
  const ImportReport r = rates("mixed.csv",
                               "2026-12-01,sms,160,1,2,sent;delivered,failed\n"            // line 2
                               "2026-02-30,sms,160,1,2,sent;delivered,failed\n"            // 3
                               "2026-12-01,fax,160,1,2,sent,failed\n"                      // 4
                               "2026-12-01,mms,x,1,2,sent;delivered,failed\n"              // 5
                               "2026-12-01,mms,1600,1,10001,sent;delivered,failed\n"       // 6
                               "2026-12-01,mms,1600,,2,sent;delivered,failed\n"            // 7
                               "2026-12-01,mms,1600,1,2,sent;sent,failed\n"                // 8
                               "0001-01-01,sms,160,1,2,sent;delivered,failed\n"            // 9
                               "2026-12-01,mms,1600,1,2,sent,failed\n"                     // 10
                               "2026-11-05,voice,60,0,2,completed,no_answer;busy;failed\n" // 11
                               "2026-12-01,sms,160,1,3,sent;delivered,failed\n"            // 12
                               "2026-12-01,voice,60,0,2,completed,no_answer;busy;failed\n"
                               "2026-12-01,sms,160,1,2,sent;delivered,failed\n"); // 14
  EXPECT_EQ(rejected(r),
            "3: bad_date: effective_from '2026-02-30' (YYYY-MM-DD, UTC)\n"
            "4: bad_channel: channel 'fax' (sms, mms, voice or ringless)\n"
            "5: bad_number: unit_size 'x'\n"
            "6: out_of_range: credits_per_unit '10001'\n"
            "7: missing_field: min_units\n"
            "8: bad_status: charged_statuses 'sent;sent': 'sent' twice\n"
            "9: conflicting_content: conflicts with the stored rate card row: credits_per_unit "
            "is 1, the file says 2\n"
            "10: drops_status: 'delivered' of the mms row from 1970-01-01 is not listed\n"
            "11: effective_in_closed_date: effective_from 2026-11-05 is not after the last "
            "closed date 2026-11-05\n"
            "12: conflicting_content: conflicts with the stored rate card row: credits_per_unit "
            "is 2, the file says 3\n");
  for (const auto& reject : r.rejected) {
    EXPECT_EQ(to_string(reject.code), reject.reason.substr(0, reject.reason.find(':')));
  }
  EXPECT_EQ(r.inserted, 2);
  EXPECT_EQ(r.unchanged, 1);
  EXPECT_EQ(dump(*db,
                 "SELECT channel, effective_from, credits_per_unit FROM rate_card WHERE "
                 "effective_from > '2000-01-01' ORDER BY channel"),
            "'sms','2026-12-01','2'\n'voice','2026-12-01','2'\n");
  const RateCard card = load_rate_card(*db);
  EXPECT_EQ(card.rule_for(Channel::sms, date("2026-11-30"))->credits_per_unit, 1);
  EXPECT_EQ(card.rule_for(Channel::sms, date("2026-12-01"))->credits_per_unit, 2);
}

TEST_P(RateImportTest, AWrongHeaderChangesNothing)
{
  const std::string card = dump(*db, k_card_query);
  EXPECT_THROW(import_csv(*db,
                          ImportKind::rates,
                          file("bad.csv", "effective_from,channel,unit_size\n2026-12-01,sms,1\n"),
                          k_now),
               InputError);
  EXPECT_THROW(import_csv(*db, ImportKind::rates, file("empty.csv", ""), k_now), InputError);
  EXPECT_EQ(dump(*db, k_card_query), card);
}

TEST_P(RateImportTest, TheSameFileAgainChangesNothingEvenAfterItsDateClosed)
{
  const std::string rows = "2026-11-20,sms,160,1,2,sent;delivered,failed;undelivered\n"
                           "2026-11-22,sms,100,2,2,sent;delivered,failed;undelivered\n";
  const ImportReport first = rates("card.csv", rows);
  EXPECT_EQ(first.inserted, 2);
  const std::string card = dump(*db, k_card_query);
  const ImportReport second = rates("card.csv", rows);
  EXPECT_EQ(second.unchanged, 2);
  EXPECT_EQ(second.inserted, 0);
  EXPECT_EQ(dump(*db, k_card_query), card);
  run_to("2026-11-21");
  const ImportReport after_close = rates("card.csv", rows);
  EXPECT_EQ(after_close.unchanged, 2);
  EXPECT_EQ(rejected(after_close), "");
  EXPECT_EQ(dump(*db, k_card_query), card);
}

TEST_P(RateImportTest, ANewRowMustListEveryStatusOfTheRowBeforeIt)
{
  // The row before 2026-12-10 is the one of 2026-12-01 of the same file.
  const ImportReport r = rates("statuses.csv",
                               "2026-12-01,sms,160,1,1,sent;delivered,failed;undelivered\n"
                               "2026-12-10,sms,160,1,1,sent;delivered,failed\n"
                               "2026-12-10,ringless,,1,2,,delivered;failed\n"
                               "2026-11-30,sms,160,1,1,sent,delivered;failed\n");
  EXPECT_EQ(rejected(r),
            "3: drops_status: 'undelivered' of the sms row from 2026-12-01 is not listed\n");
  EXPECT_EQ(r.inserted, 3);
}

TEST_P(RateImportTest, OpenDatesAreRatedAgainAndClosedDatesNever)
{
  ASSERT_EQ(ingest("day1.csv",
                   "a,1,sms,2026-11-10T10:00:00Z,sent,200,,\n"
                   "b,1,sms,2026-11-12T10:00:00Z,sent,200,,\n"
                   "c,1,sms,2026-11-13T10:00:00Z,delivered,10,,\n"
                   "v,1,voice,2026-11-13T10:00:00Z,completed,,61,\n")
              .accepted,
            4);
  run_to("2026-11-10");
  EXPECT_EQ(event("a"), "'2','2','2026-11-10'\n");
  // Closed dates are refused; a row of an open date re-rates only its channel
  // and dates, from its effective_from to the channel's next row.
  const ImportReport r = rates("prices.csv",
                               "2026-11-10,sms,160,1,2,sent;delivered,failed\n"
                               "2026-11-12,sms,160,1,2,sent;delivered,failed\n"
                               "2026-11-13,sms,100,3,1,sent;delivered,failed\n");
  EXPECT_EQ(rejected(r),
            "2: effective_in_closed_date: effective_from 2026-11-10 is not after the last "
            "closed date 2026-11-10\n");
  EXPECT_EQ(r.inserted, 2);
  EXPECT_EQ(r.rerated, 2);
  EXPECT_EQ(event("a"), "'2','2','2026-11-10'\n"); // closed: untouched
  EXPECT_EQ(event("b"), "'2','4','2026-11-12'\n"); // 2 units x 2 credits
  EXPECT_EQ(event("c"), "'3','3','2026-11-13'\n"); // min_units 3 x 1 credit
  EXPECT_EQ(event("v"), "'2','2','2026-11-13'\n"); // voice unchanged
  // A late event of the closed date is rated by the row in force then.
  ASSERT_EQ(ingest("late.csv", "l,1,sms,2026-11-10T12:00:00Z,sent,200,,\n").accepted, 1);
  EXPECT_EQ(event("l"), "'2','2','2026-11-11'\n");
  // An event ingested after the row arrived is rated by it at ingest.
  ASSERT_EQ(ingest("day3.csv", "d,1,sms,2026-11-12T11:00:00Z,sent,10,,\n").accepted, 1);
  EXPECT_EQ(event("d"), "'1','2','2026-11-12'\n");
  run_to("2026-11-13");
  EXPECT_EQ(dump(*db,
                 "SELECT business_date, channel, occurred_date, events, units, credits FROM "
                 "charges ORDER BY business_date, channel, occurred_date"),
            "'2026-11-10','sms','2026-11-10','1','2','2'\n"
            "'2026-11-11','sms','2026-11-10','1','2','2'\n"
            "'2026-11-12','sms','2026-11-12','2','3','6'\n"
            "'2026-11-13','sms','2026-11-13','1','3','3'\n"
            "'2026-11-13','voice','2026-11-13','1','2','2'\n");
  EXPECT_EQ(query_ll(*db, "SELECT SUM(used) FROM reconciliation"), 15);
  // Closed now: a later import changes no stored event.
  const std::string events =
    dump(*db, "SELECT event_id, units, credits FROM usage_events ORDER BY event_id");
  EXPECT_EQ(rates("later.csv", "2026-11-14,sms,160,1,5,sent;delivered,failed\n").rerated, 0);
  EXPECT_EQ(dump(*db, "SELECT event_id, units, credits FROM usage_events ORDER BY event_id"),
            events);
}

TEST_P(RateImportTest, EveryOpenDateAndAccountBlockIsRatedAgain)
{
  // Account 9000 is in block 2 (ids / 4096), account 1 in block 0.
  ASSERT_TRUE(import_csv(*db,
                         ImportKind::accounts,
                         file("more.csv",
                              "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                              "recharge_credits,max_recharges_per_day\n9000,BASIC,2026-11-01,0,0,"
                              "0,1\n"),
                         k_now)
                .rejected.empty());
  ASSERT_EQ(ingest("u.csv",
                   "p,1,sms,2026-11-12T10:00:00Z,sent,200,,\n"
                   "q,9000,sms,2026-11-12T10:00:00Z,sent,200,,\n"
                   "r,1,sms,2026-11-14T10:00:00Z,sent,200,,\n"
                   "s,9000,sms,2026-11-15T10:00:00Z,sent,200,,\n"
                   "t,9000,sms,2026-11-11T10:00:00Z,sent,200,,\n"
                   "m,9000,mms,2026-11-15T10:00:00Z,sent,200,,\n")
              .accepted,
            6);
  const ImportReport r = rates("p.csv", "2026-11-12,sms,160,1,3,sent;delivered,failed\n");
  EXPECT_EQ(r.rerated, 4);
  EXPECT_EQ(dump(*db, "SELECT event_id, credits FROM usage_events ORDER BY event_id"),
            "'m','2'\n'p','6'\n'q','6'\n'r','6'\n's','6'\n't','2'\n");
}

TEST_P(RateImportTest, ADateAStoppedRunClosedForSomeAccountsCountsAsClosed)
{
  run_to("2026-11-10");
  // As a run stopped during 2026-11-11 leaves it: the account's books are of
  // that date, the date is not complete.
  db->exec("UPDATE account_state SET state_date = '2026-11-11'");
  const ImportReport r = rates("p.csv", "2026-11-11,sms,160,1,2,sent;delivered,failed\n");
  EXPECT_EQ(rejected(r),
            "2: effective_in_closed_date: effective_from 2026-11-11 is not after the last "
            "closed date 2026-11-11\n");
}

TEST_P(RateImportTest, ABadStatusRejectIsAcceptedByARetryAfterACardListsIt)
{
  const IngestReport first = ingest("u.csv",
                                    "x,1,sms,2026-11-12T10:00:00Z,undelivered,20,,\n"
                                    "y,1,sms,2026-11-08T10:00:00Z,undelivered,20,,\n");
  EXPECT_EQ(first.rejected, 2);
  EXPECT_EQ(dump(*db, "SELECT event_id, reason FROM rejects ORDER BY event_id"),
            "'x','bad_status'\n'y','bad_status'\n");
  const ImportReport r =
    rates("free.csv", "2026-11-10,sms,160,1,1,sent;delivered,failed;undelivered\n");
  EXPECT_EQ(r.inserted, 1);
  const RetryReport retry = retry_rejects(*db, k_now);
  EXPECT_EQ(retry.accepted, 1); // x; y occurred before the new row
  EXPECT_EQ(retry.still_rejected, 1);
  EXPECT_EQ(event("x"), "'0','0','2026-11-12'\n");
  EXPECT_EQ(dump(*db, "SELECT event_id, reason, status FROM rejects ORDER BY event_id"),
            "'x','bad_status','resolved'\n'y','bad_status','pending'\n");
}

} // namespace

BILLING_ON_BOTH_BACKENDS(RateImportTest);
