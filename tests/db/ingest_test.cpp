// Usage-log ingest (SPEC section 5, 13.9, 13.10): a file ingested twice is
// skipped, the same events in another file are duplicates, a changed event is
// a conflicting_duplicate, a reject retried after its cause is fixed is
// accepted and charged exactly once. In every case each line ends in exactly
// one of accepted, duplicate, rejected, with one rejects row per rejected line.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "jobs/nightly.hpp"
#include "storage/imports.hpp"
#include "storage/usage_store.hpp"
#include "util/errors.hpp"
#include "util/sha256.hpp"

#include <filesystem>
#include <fstream>
#include <string>

using namespace billing;

namespace {

using billing::testing::date;
using billing::testing::dump;
using billing::testing::instant;

const Instant k_now = instant("2026-11-25T08:00:00Z");
const Instant k_later = instant("2026-11-25T09:00:00Z");
const Date k_today = date("2026-11-25");

const char* const k_header =
  "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n";

// Eight good events of account 1: 2 + 2 + 2 + 2 + 0 + 1 + 0 + 4 = 13 credits.
const std::string k_events = std::string(k_header)
                             + "e1,1,sms,2026-11-10T10:00:00.123456Z,delivered,200,,2\n"
                               "e2,1,voice,2026-11-10T11:00:00Z,completed,,61,2\n"
                               "e3,1,mms,2026-11-10T12:00:00Z,sent,100,,2\n"
                               "e4,1,ringless,2026-11-10T13:00:00Z,delivered,,,2\n"
                               "e5,1,voice,2026-11-10T14:00:00Z,busy,,0,0\n"
                               "e6,1,sms,2026-11-10T15:00:00Z,sent,1,,\n"
                               "e7,1,sms,2026-11-10T16:00:00Z,failed,20,,0\n"
                               "e8,1,mms,2026-11-10T23:59:59.999999Z,delivered,1601,,4\n";

class IngestTest : public billing::testing::BackendTest
{
protected:
  void prepare() override
  {
    migrate_schema();
    import_basic_account(k_now);
  }

  long long count(const std::string& table)
  {
    return query_ll(*db, "SELECT COUNT(*) FROM " + table);
  }

  // Ingests `content` as `name` and checks the bookkeeping that holds in
  // every case: each line ends in exactly one outcome, one rejects row per
  // rejected line, the file's row records the same counts.
  IngestReport ingest(const std::string& name, const std::string& content, Instant now = k_now)
  {
    const std::string path = file(name, content);
    const long long events_before = count("usage_events");
    const long long rejects_before = count("rejects");
    const IngestReport r = ingest_usage_file(*db, path, now);
    EXPECT_EQ(r.accepted + r.duplicates + r.rejected, r.lines) << name;
    EXPECT_EQ(count("usage_events") - events_before, r.accepted) << name;
    EXPECT_EQ(count("rejects") - rejects_before, r.rejected) << name;
    if (!r.skipped) {
      const std::string where =
        " WHERE file = :file AND file_id = (SELECT MAX(file_id) FROM usage_files)";
      EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rejects" + where, path), r.rejected) << name;
      EXPECT_EQ(query_ll(*db, "SELECT COUNT(DISTINCT line) FROM rejects" + where, path), r.rejected)
        << name;
      EXPECT_EQ(dump(*db,
                     "SELECT line_count, accepted, duplicates, rejected FROM usage_files WHERE "
                     "file_id = (SELECT MAX(file_id) FROM usage_files)"),
                "'" + std::to_string(r.lines) + "','" + std::to_string(r.accepted) + "','"
                  + std::to_string(r.duplicates) + "','" + std::to_string(r.rejected) + "'\n")
        << name;
    }
    return r;
  }

  std::string events_dump()
  {
    return dump(*db,
                "SELECT event_id, account_id, channel, occurred_us, status, chars, duration_s, "
                "platform_credits, units, credits, file_id, line, charged_date FROM usage_events "
                "ORDER BY event_id");
  }

  std::string rejects_dump()
  {
    return dump(*db,
                "SELECT file_id, line, event_id, reason, raw_hex, status FROM rejects ORDER BY "
                "file_id, line");
  }

  RunOutcome run_to(const char* from, const char* to)
  {
    RunRequest req;
    req.from = date(from);
    req.to = date(to);
    req.today = k_today;
    RunHooks hooks;
    hooks.now = [] { return k_later; };
    return run_nightly(*db, req, hooks);
  }

private:
};

TEST_P(IngestTest, SameFileTwiceIsSkippedAndAddsNothing)
{
  const IngestReport first = ingest("usage_a.csv", k_events);
  EXPECT_FALSE(first.skipped);
  EXPECT_EQ(first.lines, 8);
  EXPECT_EQ(first.accepted, 8);
  EXPECT_EQ(first.duplicates, 0);
  EXPECT_EQ(first.rejected, 0);
  EXPECT_EQ(query_ll(*db, "SELECT SUM(credits) FROM usage_events"), 13);
  const std::string events = events_dump();
  const long long files = count("usage_files");

  // Same bytes under the same name, and under another name.
  for (const char* name : { "usage_a.csv", "usage_a_copy.csv" }) {
    SCOPED_TRACE(name);
    const IngestReport again = ingest(name, k_events, k_later);
    EXPECT_TRUE(again.skipped);
    EXPECT_FALSE(again.skipped_reason.empty());
    EXPECT_EQ(again.accepted, 0);
    EXPECT_EQ(again.duplicates, 0);
    EXPECT_EQ(again.rejected, 0);
    EXPECT_EQ(events_dump(), events);
    EXPECT_EQ(count("usage_files"), files);
    EXPECT_EQ(count("rejects"), 0);
  }
}

TEST_P(IngestTest, SameEventsInAnotherFileAreAllDuplicates)
{
  ASSERT_EQ(ingest("usage_a.csv", k_events).accepted, 8);
  const std::string events = events_dump();
  // The same events in another file: columns in another order, CRLF, an
  // unknown column, a fraction past the microsecond (truncated, SPEC 2), and
  // for voice/ringless a chars/duration value the channel does not use
  // (ignored, SPEC 13.10).
  const std::string other =
    "note,occurred_at,event_id,status,channel,account_id,platform_credits,duration_s,chars\r\n"
    "x,2026-11-10T10:00:00.1234569Z,e1,delivered,sms,1,2,,200\r\n"
    "x,2026-11-10T11:00:00Z,e2,completed,voice,1,2,61,7\r\n"
    "x,2026-11-10T12:00:00Z,e3,sent,mms,1,2,,100\r\n"
    "x,2026-11-10T13:00:00Z,e4,delivered,ringless,1,2,30,\r\n"
    "x,2026-11-10T14:00:00Z,e5,busy,voice,1,0,0,\r\n"
    "x,2026-11-10T15:00:00Z,e6,sent,sms,1,,,1\r\n"
    "x,2026-11-10T16:00:00Z,e7,failed,sms,1,0,,20\r\n"
    "x,2026-11-10T23:59:59.999999Z,e8,delivered,mms,1,4,,1601\r\n";
  const IngestReport r = ingest("usage_b.csv", other, k_later);
  EXPECT_FALSE(r.skipped);
  EXPECT_EQ(r.lines, 8);
  EXPECT_EQ(r.accepted, 0);
  EXPECT_EQ(r.duplicates, 8);
  EXPECT_EQ(r.rejected, 0) << rejects_dump();
  EXPECT_EQ(events_dump(), events);

  // Charged once: the run over the date uses 13 credits, not 26.
  run_to("2026-11-10", "2026-11-10");
  EXPECT_EQ(query_ll(*db, "SELECT used FROM reconciliation WHERE account_id = 1"), 13);
  EXPECT_EQ(query_ll(*db, "SELECT SUM(events) FROM charges"), 8);
}

TEST_P(IngestTest, ChangedEventUnderAKnownIdIsRejectedAsConflictingDuplicate)
{
  ASSERT_EQ(ingest("usage_a.csv", k_events).accepted, 8);
  const std::string stored_e1 = dump(*db, "SELECT * FROM usage_events WHERE event_id = 'e1'");
  const std::string file_c = std::string(k_header)
                             + "e1,1,sms,2026-11-10T10:00:00.123456Z,delivered,300,,2\n" // 2
                               "e9,1,sms,2026-11-11T10:00:00Z,sent,10,,1\n"              // 3
                               "e2,1,voice,2026-11-10T11:00:00Z,completed,,61,\n"        // 4
                               "e10,1,ringless,2026-11-11T11:00:00Z,delivered,,,2\n"     // 5
                               "e10,1,ringless,2026-11-11T11:00:00Z,delivered,,,2\n"     // 6
                               "e11,1,voice,2026-11-11T12:00:00Z,completed,,60,1\n"      // 7
                               "e11,1,voice,2026-11-11T12:00:00Z,completed,,61,1\n"      // 8
                               "e3,1,mms,2026-11-10T12:00:00.000001Z,sent,100,,2\n";     // 9
  const IngestReport r = ingest("usage_c.csv", file_c, k_later);
  EXPECT_EQ(r.lines, 8);
  EXPECT_EQ(r.accepted, 3);   // e9, e10, e11 (first)
  EXPECT_EQ(r.duplicates, 1); // e10 again, identical
  EXPECT_EQ(r.rejected, 4);   // e1 (chars), e2 (platform_credits), e11 (duration), e3 (time)
  EXPECT_EQ(dump(*db,
                 "SELECT line, event_id, reason, status FROM rejects WHERE file = :file ORDER BY "
                 "line",
                 (scratch_dir() / "usage_c.csv").string()),
            "'2','e1','conflicting_duplicate','pending'\n"
            "'4','e2','conflicting_duplicate','pending'\n"
            "'8','e11','conflicting_duplicate','pending'\n"
            "'9','e3','conflicting_duplicate','pending'\n");
  // The stored event is untouched; the raw line is kept.
  EXPECT_EQ(dump(*db, "SELECT * FROM usage_events WHERE event_id = 'e1'"), stored_e1);
  EXPECT_EQ(query_ll(*db, "SELECT chars FROM usage_events WHERE event_id = 'e1'"), 200);
  EXPECT_EQ(query_ll(*db, "SELECT duration_s FROM usage_events WHERE event_id = 'e11'"), 60);
  EXPECT_EQ(dump(*db, "SELECT raw_hex FROM rejects WHERE event_id = 'e1'"),
            "'" + to_hex("e1,1,sms,2026-11-10T10:00:00.123456Z,delivered,300,,2") + "'\n");
  // A conflict is a fact of the line: a retry leaves it alone.
  const RetryReport retry = retry_rejects(*db, k_later);
  EXPECT_EQ(retry.retried, 0);
  EXPECT_EQ(retry.accepted, 0);
  EXPECT_EQ(retry.still_rejected, 0);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM usage_events"), 11);
}

TEST_P(IngestTest, RetriedRejectIsAcceptedOnceItsAccountExistsAndChargedExactlyOnce)
{
  const std::string file_d =
    std::string(k_header)
    + "u1,1,sms,2026-11-10T09:00:00Z,sent,10,,1\n"         // 2 accepted
      "u2,2,voice,2026-11-10T09:30:00Z,completed,,125,3\n" // 3 unknown account
      "u3,1,fax,2026-11-10T10:00:00Z,sent,10,,1\n"         // 4 bad channel
      "u4,2,sms,2026-11-12T10:00:00Z,sent,161,,2\n"        // 5 unknown account
      "u5,1,sms,2026-11-10T10:00:00Z,sent,10\n";           // 6 column count
  const IngestReport r = ingest("usage_d.csv", file_d);
  EXPECT_EQ(r.lines, 5);
  EXPECT_EQ(r.accepted, 1);
  EXPECT_EQ(r.rejected, 4);
  EXPECT_EQ(dump(*db, "SELECT line, event_id, reason, status FROM rejects ORDER BY line"),
            "'3','u2','unknown_account','pending'\n"
            "'4','u3','bad_channel','pending'\n"
            "'5','u4','unknown_account','pending'\n"
            "'6','u5','bad_column_count','pending'\n");

  // Nothing to fix yet: the retry changes nothing. Only the reasons a later
  // fact can cure are retried (not bad_column_count).
  const RetryReport early = retry_rejects(*db, k_now);
  EXPECT_EQ(early.retried, 3);
  EXPECT_EQ(early.accepted, 0);
  EXPECT_EQ(early.still_rejected, 3);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM usage_events"), 1);

  // The account is imported; the retry accepts its two lines only.
  const auto accounts = import_csv(*db,
                                   ImportKind::accounts,
                                   file("accounts2.csv",
                                        "account_id,plan_id,cycle_anchor,auto_recharge,recharge_"
                                        "threshold,recharge_credits,max_recharges_per_day\n"
                                        "2,BASIC,2026-11-01,0,0,0,1\n"),
                                   k_later);
  ASSERT_TRUE(accounts.rejected.empty());
  const RetryReport retry = retry_rejects(*db, k_later);
  EXPECT_EQ(retry.retried, 3);
  EXPECT_EQ(retry.accepted, 2);
  EXPECT_EQ(retry.duplicates, 0);
  EXPECT_EQ(retry.still_rejected, 1);
  EXPECT_EQ(dump(*db, "SELECT line, status FROM rejects ORDER BY line"),
            "'3','resolved'\n'4','pending'\n'5','resolved'\n'6','pending'\n");
  // Accepted with the rating of the line: 125 s voice = 3, 161-char sms = 2.
  EXPECT_EQ(dump(*db,
                 "SELECT event_id, account_id, units, credits, line FROM usage_events WHERE "
                 "account_id = 2 ORDER BY event_id"),
            "'u2','2','3','3','3'\n'u4','2','2','2','5'\n");
  // The pending rejects export no longer lists the resolved lines.
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rejects WHERE status = 'pending'"), 2);

  // Charged exactly once by the run: 3 credits on 11-10, 2 on 11-12.
  run_to("2026-11-01", "2026-11-12");
  EXPECT_EQ(query_ll(*db, "SELECT SUM(used) FROM reconciliation WHERE account_id = 2"), 5);
  EXPECT_EQ(query_ll(*db,
                     "SELECT used FROM reconciliation WHERE account_id = 2 AND business_date = "
                     "'2026-11-10'"),
            3);
  EXPECT_EQ(dump(*db,
                 "SELECT event_id, charged_date FROM usage_events WHERE account_id = 2 ORDER BY "
                 "event_id"),
            "'u2','2026-11-10'\n'u4','2026-11-12'\n");

  // A second retry does nothing to them, and the next date charges nothing more.
  const std::string events = dump(*db, "SELECT * FROM usage_events ORDER BY event_id");
  const RetryReport second = retry_rejects(*db, k_later);
  EXPECT_EQ(second.retried, 1);
  EXPECT_EQ(second.accepted, 0);
  EXPECT_EQ(second.duplicates, 0);
  EXPECT_EQ(second.still_rejected, 1);
  EXPECT_EQ(dump(*db, "SELECT * FROM usage_events ORDER BY event_id"), events);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rejects"), 4);
  run_to("2026-11-13", "2026-11-13");
  EXPECT_EQ(query_ll(*db, "SELECT SUM(used) FROM reconciliation WHERE account_id = 2"), 5);
  EXPECT_EQ(query_ll(*db, "SELECT SUM(credits) FROM charges WHERE account_id = 2"), 5);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM ledger WHERE account_id = 2 AND kind = 'usage'"),
            2);

  // The same line in a new file is now a duplicate of the retried event.
  const IngestReport again = ingest(
    "usage_e.csv", std::string(k_header) + "u2,2,voice,2026-11-10T09:30:00Z,completed,,125,3\n");
  EXPECT_EQ(again.duplicates, 1);
  EXPECT_EQ(again.accepted, 0);
}

TEST_P(IngestTest, RetryResolvesTheSameRejectedEventInTwoFilesOnceAndFlagsAChangedCopy)
{
  // The same unknown-account event in two files, and a changed copy of
  // another one: after the account is imported, one is accepted, its copy is
  // a duplicate, the changed copy a conflicting_duplicate (reason updated).
  const IngestReport a = ingest("usage_f.csv",
                                std::string(k_header)
                                  + "w1,2,sms,2026-11-10T09:00:00Z,sent,10,,1\n"
                                    "w2,2,sms,2026-11-10T09:05:00Z,sent,10,,1\n");
  const IngestReport b = ingest("usage_g.csv",
                                std::string(k_header)
                                  + "w1,2,sms,2026-11-10T09:00:00Z,sent,10,,1\n"
                                    "w2,2,sms,2026-11-10T09:05:00Z,sent,11,,1\n"
                                    "W1,2,sms,2026-11-10T09:00:00Z,sent,99,,1\n");
  EXPECT_EQ(a.rejected + b.rejected, 5);
  ASSERT_TRUE(import_csv(*db,
                         ImportKind::accounts,
                         file("accounts2.csv",
                              "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                              "recharge_credits,max_recharges_per_day\n2,BASIC,2026-11-01,0,0,0,"
                              "1\n"),
                         k_later)
                .rejected.empty());
  const RetryReport retry = retry_rejects(*db, k_later);
  EXPECT_EQ(retry.retried, 5);
  EXPECT_EQ(retry.accepted, 3); // w1, w2 (file f) and W1: ids are case-sensitive
  EXPECT_EQ(retry.duplicates, 1);
  EXPECT_EQ(retry.still_rejected, 1);
  EXPECT_EQ(dump(*db, "SELECT event_id, chars FROM usage_events ORDER BY event_id"),
            "'W1','99'\n'w1','10'\n'w2','10'\n");
  EXPECT_EQ(dump(*db, "SELECT event_id, reason, status FROM rejects WHERE status = 'pending'"),
            "'w2','conflicting_duplicate','pending'\n");
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rejects"), 5);
}

TEST_P(IngestTest, UsageLogWithBomCrlfAndQuotingIsReadAndItsRejectsCanBeRetried)
{
  const std::string content =
    "\xEF\xBB\xBF"
    "\"event_id\",account_id,channel,occurred_at,status,chars,duration_s,platform_credits\r\n"
    "\"q1\",\"1\",sms,2026-11-10T09:00:00Z,\"sent\",\"161\",,\"2\"\r\n"
    "q2,3,sms,2026-11-10T09:00:00Z,sent,10,,1\r\n"
    "q3,1,sms,2026-11-10T09:00:00Z,sent,\"1\"\"0\",,1\r\n";
  const IngestReport r = ingest("usage_bom.csv", content);
  EXPECT_EQ(r.lines, 3);
  EXPECT_EQ(r.accepted, 1);
  EXPECT_EQ(r.rejected, 2);
  EXPECT_EQ(dump(*db, "SELECT event_id, units, credits FROM usage_events"), "'q1','2','2'\n");
  EXPECT_EQ(dump(*db, "SELECT line, event_id, reason FROM rejects ORDER BY line"),
            "'3','q2','unknown_account'\n'4','q3','bad_number'\n");
  ASSERT_TRUE(import_csv(*db,
                         ImportKind::accounts,
                         file("accounts3.csv",
                              "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                              "recharge_credits,max_recharges_per_day\n3,BASIC,2026-11-01,0,0,0,"
                              "1\n"),
                         k_later)
                .rejected.empty());
  // Only the unknown_account line is retried (bad_number is the line's own).
  const RetryReport retry = retry_rejects(*db, k_later);
  EXPECT_EQ(retry.retried, 1);
  EXPECT_EQ(retry.accepted, 1);
  EXPECT_EQ(retry.still_rejected, 0);
  EXPECT_EQ(dump(*db, "SELECT event_id, account_id, chars FROM usage_events ORDER BY event_id"),
            "'q1','1','161'\n'q2','3','10'\n");
}

TEST_P(IngestTest, EveryBadLineIsRejectedWithItsReasonAndTheGoodLinesAroundItGoIn)
{
  const std::string bad = std::string(k_header)
                          + "g1,1,sms,2026-11-10T09:00:00Z,sent,10,,1\n"          // 2 ok
                            "bad id!,1,sms,2026-11-10T09:00:00Z,sent,10,,1\n"     // 3
                            "g2,1,sms,2026-11-10T25:00:00Z,sent,10,,1\n"          // 4
                            "g3,1,sms,2026-11-10T09:00:00Z,queued,10,,1\n"        // 5
                            "g4,1,sms,2026-11-10T09:00:00Z,sent,,,1\n"            // 6
                            "g5,1,voice,2026-11-10T09:00:00Z,completed,,86401,\n" // 7
                            "g6,1,sms,2026-11-10T09:00:00Z,sent,ten,,1\n"         // 8
                            "g7,1,sms,2026-11-10T09:00:00Z,sent,10,,-1\n"         // 9
                            "\n"                                                  // 10 blank
                            "g8,1,voice,2026-11-10T09:00:00Z,completed,,86400,\n" // 11 ok
                            "g9,1,sms,2026-11-10T09:00:00Z,sent,\"10\",,1\n"      // 12 ok
                            "g10,1,sms,2026-11-10T09:00:00Z,sent,\"10,,1\n"       // 13 stray quote
                            "g11,1,sms,2026-11-10T09:00:00Z,sent,10,,1\n"         // 14 ok
                            "g12,1,sms,2026-11-10T09:00:00Z,se\xC3\x28,10,,1\n"   // 15 bad UTF-8
                            "g13,1,sms,2026-11-10T09:00:00Z,sent,10,,1\n";        // 16 ok
  const IngestReport r = ingest("usage_bad.csv", bad);
  EXPECT_EQ(r.lines, 14);
  EXPECT_EQ(r.blank_lines, 1);
  EXPECT_EQ(r.accepted, 5);
  EXPECT_EQ(r.rejected, 9);
  EXPECT_EQ(dump(*db, "SELECT reason FROM rejects WHERE line = 13"), "'bad_quoting'\n");
  const std::string utf8 = dump(*db, "SELECT reason FROM rejects WHERE line = 15");
  EXPECT_TRUE(utf8 == "'invalid_utf8'\n" || utf8 == "'bad_status'\n") << utf8;
  EXPECT_EQ(dump(*db, "SELECT line, reason FROM rejects WHERE line < 9 ORDER BY line"),
            "'3','bad_event_id'\n'4','bad_timestamp'\n'5','bad_status'\n'6','missing_field'\n"
            "'7','out_of_range'\n'8','bad_number'\n");
  // A negative platform_credits (SPEC 13.10: >= 0): either code names it.
  const std::string negative = dump(*db, "SELECT reason FROM rejects WHERE line = 9");
  EXPECT_TRUE(negative == "'out_of_range'\n" || negative == "'bad_number'\n") << negative;
  EXPECT_EQ(dump(*db, "SELECT event_id FROM usage_events ORDER BY event_id"),
            "'g1'\n'g11'\n'g13'\n'g8'\n'g9'\n");
}

TEST_P(IngestTest, FileThatIsNotAUsageLogThrowsAndWritesNothing)
{
  const std::string path = file("not_usage.csv", "account_id,plan_id\n1,BASIC\n");
  EXPECT_THROW(ingest_usage_file(*db, path, k_now), InputError);
  EXPECT_EQ(count("usage_files"), 0);
  EXPECT_EQ(count("usage_events"), 0);
  EXPECT_EQ(count("rejects"), 0);
  // Not remembered as ingested: the fixed file with the same name goes in.
  ingest("not_usage.csv", k_events);
  EXPECT_EQ(count("usage_events"), 8);
}

BILLING_ON_BOTH_BACKENDS(IngestTest);

} // namespace
