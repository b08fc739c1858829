#include "domain/calendar.hpp"
#include "ingest/usage_line.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace billing {
namespace {

const std::string k_header =
  "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits";

CsvRecord record_of(const std::string& text, std::size_t limit = k_record_bytes_max_default)
{
  std::istringstream in(text);
  CsvReader reader(in, limit);
  CsvRecord record;
  EXPECT_TRUE(reader.next(record)) << text;
  return record;
}

UsageHeader header_of(const std::string& text)
{
  auto header = UsageHeader::from_record(record_of(text));
  if (auto* message = std::get_if<std::string>(&header)) {
    ADD_FAILURE() << *message;
    return std::get<UsageHeader>(UsageHeader::from_record(record_of(k_header)));
  }
  return std::get<UsageHeader>(header);
}

std::variant<UsageEvent, RejectReason> parse(const std::string& line,
                                             const std::string& header = k_header,
                                             const RateCard& card = RateCard::defaults(),
                                             std::size_t limit = k_record_bytes_max_default)
{
  return parse_usage_record(header_of(header), record_of(line, limit), card);
}

Instant at(const char* text)
{
  return *parse_instant(text);
}

struct Good
{
  const char* name;
  std::string line;
  UsageEvent want;
};

const std::vector<Good> k_good_lines = {
  { "200-char sms is two units",
    "e1,42,sms,2026-03-01T10:00:00Z,delivered,200,,2",
    { "e1", 42, Channel::sms, at("2026-03-01T10:00:00Z"), "delivered", 200, {}, 2, 2, { 2 } } },
  { "sms ignores a garbage duration_s",
    "e2,42,sms,2026-03-01T10:00:00Z,sent,0,abc,",
    { "e2", 42, Channel::sms, at("2026-03-01T10:00:00Z"), "sent", 0, {}, {}, 1, { 1 } } },
  { "failed sms costs nothing",
    "e3,42,sms,2026-03-01T10:00:00Z,failed,500,,0",
    { "e3", 42, Channel::sms, at("2026-03-01T10:00:00Z"), "failed", 500, {}, 0, 0, { 0 } } },
  { "mms over 1600 chars is two units of two credits",
    "e4,7,mms,2026-03-01T00:00:00Z,sent,1601,,",
    { "e4", 7, Channel::mms, at("2026-03-01T00:00:00Z"), "sent", 1601, {}, {}, 2, { 4 } } },
  { "voice ignores garbage chars",
    "v1,7,voice,2026-03-01T23:59:59Z,completed,x,61,",
    { "v1", 7, Channel::voice, at("2026-03-01T23:59:59Z"), "completed", {}, 61, {}, 2, { 2 } } },
  { "busy call costs nothing",
    "v2,7,voice,2026-03-01T12:00:00Z,busy,,30,",
    { "v2", 7, Channel::voice, at("2026-03-01T12:00:00Z"), "busy", {}, 30, {}, 0, { 0 } } },
  { "ringless needs neither chars nor duration",
    "r1,7,ringless,2026-03-01T12:00:00Z,delivered,,,2",
    { "r1", 7, Channel::ringless, at("2026-03-01T12:00:00Z"), "delivered", {}, {}, 2, 1, { 2 } } },
  { "failed drop costs nothing",
    "r2,7,ringless,2026-03-01T12:00:00Z,failed,9,9,",
    { "r2", 7, Channel::ringless, at("2026-03-01T12:00:00Z"), "failed", {}, {}, {}, 0, { 0 } } },
  { "fraction truncated to the microsecond",
    "f1,7,sms,2026-03-01T10:00:00.999999999Z,sent,1,,",
    { "f1",
      7,
      Channel::sms,
      Instant{ at("2026-03-01T10:00:00Z").us + 999'999 },
      "sent",
      1,
      {},
      {},
      1,
      { 1 } } },
  { "every allowed event_id character",
    "Az09._:-,7,sms,2026-03-01T10:00:00Z,sent,1,,",
    { "Az09._:-", 7, Channel::sms, at("2026-03-01T10:00:00Z"), "sent", 1, {}, {}, 1, { 1 } } },
  { "64-char event_id",
    std::string(64, 'x') + ",7,sms,2026-03-01T10:00:00Z,sent,1,,",
    { std::string(64, 'x'),
      7,
      Channel::sms,
      at("2026-03-01T10:00:00Z"),
      "sent",
      1,
      {},
      {},
      1,
      { 1 } } },
  { "quoted cells",
    "\"q1\",\"7\",\"sms\",\"2026-03-01T10:00:00Z\",\"sent\",\"1\",\"\",\"\"",
    { "q1", 7, Channel::sms, at("2026-03-01T10:00:00Z"), "sent", 1, {}, {}, 1, { 1 } } },
  { "leading zeros",
    "z1,007,voice,2026-03-01T10:00:00Z,completed,,060,0001",
    { "z1", 7, Channel::voice, at("2026-03-01T10:00:00Z"), "completed", {}, 60, 1, 1, { 1 } } },
  { "largest values in range",
    "m1,9223372036854775807,sms,2026-03-01T10:00:00Z,sent,100000,,1000000000",
    { "m1",
      9223372036854775807LL,
      Channel::sms,
      at("2026-03-01T10:00:00Z"),
      "sent",
      100000,
      {},
      k_platform_credits_max,
      625,
      { 625 } } },
  { "longest call",
    "m2,1,voice,2026-03-01T10:00:00Z,completed,,86400,",
    { "m2",
      1,
      Channel::voice,
      at("2026-03-01T10:00:00Z"),
      "completed",
      {},
      86400,
      {},
      1440,
      { 1440 } } },
  { "zero-second completed call is free",
    "m3,1,voice,2026-03-01T10:00:00Z,completed,,0,",
    { "m3", 1, Channel::voice, at("2026-03-01T10:00:00Z"), "completed", {}, 0, {}, 0, { 0 } } },
};

TEST(UsageLineTest, AcceptsAndRatesGoodLines)
{
  const UsageHeader header = header_of(k_header);
  for (const Good& g : k_good_lines) {
    SCOPED_TRACE(g.name);
    const auto got = parse_usage_record(header, record_of(g.line), RateCard::defaults());
    ASSERT_TRUE(std::holds_alternative<UsageEvent>(got)) << to_string(std::get<RejectReason>(got));
    EXPECT_EQ(std::get<UsageEvent>(got), g.want);
  }
}

struct Bad
{
  const char* name;
  std::string line;
  RejectReason want;
};

const std::string k_ok_tail = ",2026-03-01T10:00:00Z,sent,10,,"; // after event_id,account,channel

const std::vector<Bad> k_bad_lines = {
  { "line too long",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,," + std::string(k_record_bytes_max_default, ' '),
    RejectReason::line_too_long },
  { "text after a closing quote",
    "e1,1,sms,\"2026-03-01T10:00:00Z\"x,sent,10,,",
    RejectReason::bad_quoting },
  { "quote inside a cell", "e1,1,sms,2026-03-01T10:00:00Z,se\"nt,10,,", RejectReason::bad_quoting },
  { "unterminated quote", "e1,1,sms,2026-03-01T10:00:00Z,\"sent,10,,", RejectReason::bad_quoting },
  { "overlong utf-8",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,\xC0\xAF",
    RejectReason::invalid_utf8 },
  { "surrogate",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,\xED\xA0\x80",
    RejectReason::invalid_utf8 },
  { "above U+10FFFF",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,\xF4\x90\x80\x80",
    RejectReason::invalid_utf8 },
  { "latin-1 byte", "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,caf\xE9", RejectReason::invalid_utf8 },
  { "too few cells", "e1,1,sms,2026-03-01T10:00:00Z,sent,10,", RejectReason::bad_column_count },
  { "too many cells", "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,,", RejectReason::bad_column_count },
  { "one cell", "e1", RejectReason::bad_column_count },
  { "empty event_id", ",1,sms" + k_ok_tail, RejectReason::missing_field },
  { "empty account_id", "e1,,sms" + k_ok_tail, RejectReason::missing_field },
  { "empty channel", "e1,1," + k_ok_tail, RejectReason::missing_field },
  { "empty occurred_at", "e1,1,sms,,sent,10,,", RejectReason::missing_field },
  { "empty status", "e1,1,sms,2026-03-01T10:00:00Z,,10,,", RejectReason::missing_field },
  { "sms without chars", "e1,1,sms,2026-03-01T10:00:00Z,sent,,10,", RejectReason::missing_field },
  { "mms without chars", "e1,1,mms,2026-03-01T10:00:00Z,sent,,10,", RejectReason::missing_field },
  { "voice without duration_s",
    "e1,1,voice,2026-03-01T10:00:00Z,completed,10,,",
    RejectReason::missing_field },
  { "event_id of 65 chars",
    std::string(65, 'x') + ",1,sms" + k_ok_tail,
    RejectReason::bad_event_id },
  { "event_id with a space", "e 1,1,sms" + k_ok_tail, RejectReason::bad_event_id },
  { "event_id with a slash", "e/1,1,sms" + k_ok_tail, RejectReason::bad_event_id },
  { "event_id not ascii", "\xC3\xA9,1,sms" + k_ok_tail, RejectReason::bad_event_id },
  { "account_id not a number", "e1,abc,sms" + k_ok_tail, RejectReason::bad_number },
  { "account_id with a fraction", "e1,1.5,sms" + k_ok_tail, RejectReason::bad_number },
  { "account_id with a plus sign", "e1,+5,sms" + k_ok_tail, RejectReason::bad_number },
  { "account_id a lone minus", "e1,-,sms" + k_ok_tail, RejectReason::bad_number },
  { "account_id with a space", "e1, 5,sms" + k_ok_tail, RejectReason::bad_number },
  { "chars in exponent form",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,1e3,,",
    RejectReason::bad_number },
  { "duration_s with a unit",
    "e1,1,voice,2026-03-01T10:00:00Z,completed,,60s,",
    RejectReason::bad_number },
  { "platform_credits not a number",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,x",
    RejectReason::bad_number },
  { "unknown channel", "e1,1,fax" + k_ok_tail, RejectReason::bad_channel },
  { "channel in capitals", "e1,1,SMS" + k_ok_tail, RejectReason::bad_channel },
  { "channel with a trailing space", "e1,1,sms " + k_ok_tail, RejectReason::bad_channel },
  { "timestamp with a space",
    "e1,1,sms,2026-03-01 10:00:00Z,sent,10,,",
    RejectReason::bad_timestamp },
  { "timestamp without Z", "e1,1,sms,2026-03-01T10:00:00,sent,10,,", RejectReason::bad_timestamp },
  { "no such day", "e1,1,sms,2026-02-30T10:00:00Z,sent,10,,", RejectReason::bad_timestamp },
  { "before 1970", "e1,1,sms,1969-12-31T23:59:59Z,sent,10,,", RejectReason::bad_timestamp },
  { "voice status on sms",
    "e1,1,sms,2026-03-01T10:00:00Z,completed,10,,",
    RejectReason::bad_status },
  { "sms status on voice", "e1,1,voice,2026-03-01T10:00:00Z,sent,,10,", RejectReason::bad_status },
  { "status in capitals",
    "e1,1,sms,2026-03-01T10:00:00Z,Delivered,10,,",
    RejectReason::bad_status },
  { "account_id zero", "e1,0,sms" + k_ok_tail, RejectReason::out_of_range },
  { "account_id negative", "e1,-5,sms" + k_ok_tail, RejectReason::out_of_range },
  { "account_id beyond 64 bits",
    "e1,9223372036854775808,sms" + k_ok_tail,
    RejectReason::out_of_range },
  { "chars negative", "e1,1,sms,2026-03-01T10:00:00Z,sent,-5,,", RejectReason::out_of_range },
  { "chars above 100000",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,100001,,",
    RejectReason::out_of_range },
  { "chars beyond 64 bits",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,99999999999999999999,,",
    RejectReason::out_of_range },
  { "duration_s above a day",
    "e1,1,voice,2026-03-01T10:00:00Z,completed,,86401,",
    RejectReason::out_of_range },
  { "duration_s negative",
    "e1,1,voice,2026-03-01T10:00:00Z,completed,,-1,",
    RejectReason::out_of_range },
  { "platform_credits negative",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,-1",
    RejectReason::out_of_range },
  { "platform_credits beyond 64 bits",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,10,,99999999999999999999",
    RejectReason::out_of_range },
};

TEST(UsageLineTest, RejectsBadLinesWithTheirReason)
{
  const UsageHeader header = header_of(k_header);
  for (const Bad& b : k_bad_lines) {
    SCOPED_TRACE(b.name);
    const auto got = parse_usage_record(header, record_of(b.line), RateCard::defaults());
    ASSERT_TRUE(std::holds_alternative<RejectReason>(got));
    EXPECT_EQ(to_string(std::get<RejectReason>(got)), to_string(b.want));
  }
}

TEST(UsageLineTest, FirstFailingCheckGivesTheReason)
{
  const std::vector<Bad> cases = {
    { "utf-8 before column count", "e1,\xFF", RejectReason::invalid_utf8 },
    { "column count before missing field", ",1,sms", RejectReason::bad_column_count },
    { "missing field before bad event_id", "e 1,,sms" + k_ok_tail, RejectReason::missing_field },
    { "bad event_id before bad number", "e 1,x,sms" + k_ok_tail, RejectReason::bad_event_id },
    { "bad number before bad channel", "e1,x,fax" + k_ok_tail, RejectReason::bad_number },
    { "bad channel before bad timestamp", "e1,1,fax,never,sent,10,,", RejectReason::bad_channel },
    { "unknown channel never needs a quantity",
      "e1,1,fax,2026-03-01T10:00:00Z,sent,,,",
      RejectReason::bad_channel },
    { "bad timestamp before bad status", "e1,1,sms,never,nope,10,,", RejectReason::bad_timestamp },
    { "bad status before out of range",
      "e1,0,sms,2026-03-01T10:00:00Z,nope,-1,,",
      RejectReason::bad_status },
  };
  for (const Bad& b : cases) {
    SCOPED_TRACE(b.name);
    const auto got = parse(b.line);
    ASSERT_TRUE(std::holds_alternative<RejectReason>(got));
    EXPECT_EQ(to_string(std::get<RejectReason>(got)), to_string(b.want));
  }
}

TEST(UsageLineTest, StatusAndPriceFollowTheRuleInEffectAtTheEventDate)
{
  const Date change = *parse_date("2026-03-01");
  RateCard card({
    { Channel::sms, Date{ 0 }, UnitBasis::characters, 160, 1, 1, { "sent" }, { "failed" } },
    { Channel::sms, change, UnitBasis::characters, 160, 1, 3, { "sent", "queued" }, { "failed" } },
  });
  const auto before = parse("e1,1,sms,2026-02-28T23:59:59Z,sent,161,,", k_header, card);
  const auto after = parse("e1,1,sms,2026-03-01T00:00:00Z,sent,161,,", k_header, card);
  ASSERT_TRUE(std::holds_alternative<UsageEvent>(before));
  ASSERT_TRUE(std::holds_alternative<UsageEvent>(after));
  EXPECT_EQ(std::get<UsageEvent>(before).credits, Credits{ 2 });
  EXPECT_EQ(std::get<UsageEvent>(after).credits, Credits{ 6 });

  const auto old_status = parse("e1,1,sms,2026-02-28T10:00:00Z,queued,1,,", k_header, card);
  const auto new_status = parse("e1,1,sms,2026-03-01T10:00:00Z,queued,1,,", k_header, card);
  ASSERT_TRUE(std::holds_alternative<RejectReason>(old_status));
  EXPECT_EQ(std::get<RejectReason>(old_status), RejectReason::bad_status);
  EXPECT_TRUE(std::holds_alternative<UsageEvent>(new_status));
}

TEST(UsageLineTest, ChannelWithoutARuleAtTheEventDateIsBadChannel)
{
  RateCard card({
    { Channel::sms, *parse_date("2026-01-01"), UnitBasis::characters, 160, 1, 1, { "sent" }, {} },
  });
  const auto got = parse("e1,1,sms,2025-12-31T23:59:59Z,sent,1,,", k_header, card);
  ASSERT_TRUE(std::holds_alternative<RejectReason>(got));
  EXPECT_EQ(std::get<RejectReason>(got), RejectReason::bad_channel);
}

TEST(UsageLineTest, RatingOverflowIsOutOfRange)
{
  RateCard card({
    { Channel::sms, Date{ 0 }, UnitBasis::characters, 1, 1, 9223372036854775807LL, { "sent" }, {} },
  });
  const auto got = parse("e1,1,sms,2026-03-01T10:00:00Z,sent,2,,", k_header, card);
  ASSERT_TRUE(std::holds_alternative<RejectReason>(got));
  EXPECT_EQ(std::get<RejectReason>(got), RejectReason::out_of_range);
}

TEST(UsageLineTest, SeedExampleHundredSmsOf200CharsCost200Credits)
{
  std::string text = k_header + "\n";
  for (int i = 0; i < 100; ++i) {
    text += "seed-" + std::to_string(i) + ",1,sms,2026-03-01T10:00:00Z,delivered,200,,\n";
  }
  std::istringstream in(text);
  CsvReader reader(in);
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  const UsageHeader header = std::get<UsageHeader>(UsageHeader::from_record(record));
  const RateCard card = RateCard::defaults();
  Credits total;
  int events = 0;
  while (reader.next(record)) {
    const auto got = parse_usage_record(header, record, card);
    ASSERT_TRUE(std::holds_alternative<UsageEvent>(got));
    EXPECT_EQ(std::get<UsageEvent>(got).credits, Credits{ 2 });
    total += std::get<UsageEvent>(got).credits;
    ++events;
  }
  EXPECT_EQ(events, 100);
  EXPECT_EQ(total, Credits{ 200 });
}

TEST(UsageHeaderTest, AcceptsColumnsInAnyOrderWithExtrasAndBlanks)
{
  const std::string headers[] = {
    k_header,
    "status,occurred_at,channel,account_id,event_id,chars,duration_s,platform_credits",
    "campaign, event_id ,account_id,channel,occurred_at,status,\tchars,duration_s",
    "\xEF\xBB\xBF"
    "event_id,account_id,channel,occurred_at,status,chars,duration_s",
  };
  for (const std::string& text : headers) {
    SCOPED_TRACE(text);
    const auto header = UsageHeader::from_record(record_of(text));
    ASSERT_TRUE(std::holds_alternative<UsageHeader>(header)) << std::get<std::string>(header);
  }
  // A shuffled header with an extra column and no platform_credits column.
  const std::string shuffled = "note,chars,status,occurred_at,channel,account_id,event_id";
  const auto got = parse("hello,200,sent,2026-03-01T10:00:00Z,sms,5,e9", shuffled);
  ASSERT_TRUE(std::holds_alternative<UsageEvent>(got));
  const UsageEvent& event = std::get<UsageEvent>(got);
  EXPECT_EQ(event.event_id, "e9");
  EXPECT_EQ(event.account_id, 5);
  EXPECT_EQ(event.chars, 200);
  EXPECT_EQ(event.platform_credits, std::nullopt);
  EXPECT_EQ(event.credits, Credits{ 2 });
}

TEST(UsageHeaderTest, AbsentQuantityColumnIsAMissingField)
{
  const std::string no_duration = "event_id,account_id,channel,occurred_at,status,chars";
  const auto got = parse("v1,5,voice,2026-03-01T10:00:00Z,completed,", no_duration);
  ASSERT_TRUE(std::holds_alternative<RejectReason>(got));
  EXPECT_EQ(std::get<RejectReason>(got), RejectReason::missing_field);
}

TEST(UsageHeaderTest, RejectsBadHeaders)
{
  const std::string headers[] = {
    "event_id,account_id,channel,occurred_at",                    // no status
    "event_id,account_id,channel,occurred_at,status,channel",     // duplicate required
    "event_id,account_id,channel,occurred_at,status,chars,chars", // duplicate optional
    "Event_ID,account_id,channel,occurred_at,status",             // case matters
    "event_id,account_id,channel,occurred_at,\"status\"x",        // bad quoting
  };
  for (const std::string& text : headers) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(std::holds_alternative<std::string>(UsageHeader::from_record(record_of(text))));
  }
}

TEST(UsageHeaderTest, EventIdOfLabelsARejectWhenPresent)
{
  const UsageHeader header = header_of("account_id,event_id,channel,occurred_at,status");
  EXPECT_EQ(header.event_id_of(record_of("1,abc,fax,x,y")), "abc");
  EXPECT_EQ(header.event_id_of(record_of("1")), "");
}

TEST(RejectReasonTest, CodesRoundTrip)
{
  const std::pair<RejectReason, std::string_view> all[] = {
    { RejectReason::bad_column_count, "bad_column_count" },
    { RejectReason::missing_field, "missing_field" },
    { RejectReason::bad_event_id, "bad_event_id" },
    { RejectReason::unknown_account, "unknown_account" },
    { RejectReason::bad_channel, "bad_channel" },
    { RejectReason::bad_status, "bad_status" },
    { RejectReason::bad_timestamp, "bad_timestamp" },
    { RejectReason::bad_number, "bad_number" },
    { RejectReason::out_of_range, "out_of_range" },
    { RejectReason::conflicting_duplicate, "conflicting_duplicate" },
    { RejectReason::invalid_utf8, "invalid_utf8" },
    { RejectReason::line_too_long, "line_too_long" },
    { RejectReason::bad_quoting, "bad_quoting" },
  };
  for (const auto& [reason, code] : all) {
    EXPECT_EQ(to_string(reason), code);
    EXPECT_EQ(parse_reject_reason(code), reason);
  }
  EXPECT_EQ(parse_reject_reason("nonsense"), std::nullopt);
}

TEST(UsageEventTest, SameFactsIgnoresEventIdAndRatingOnly)
{
  const auto base = std::get<UsageEvent>(parse("e1,1,sms,2026-03-01T10:00:00Z,sent,200,,2"));
  UsageEvent renamed = base;
  renamed.event_id = "other";
  renamed.credits = Credits{ 99 };
  EXPECT_TRUE(same_facts(base, renamed));

  const std::string differing[] = {
    "e1,2,sms,2026-03-01T10:00:00Z,sent,200,,2",
    "e1,1,mms,2026-03-01T10:00:00Z,sent,200,,2",
    "e1,1,sms,2026-03-01T10:00:00.000001Z,sent,200,,2",
    "e1,1,sms,2026-03-01T10:00:00Z,delivered,200,,2",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,201,,2",
    "e1,1,sms,2026-03-01T10:00:00Z,sent,200,,",
  };
  for (const std::string& line : differing) {
    SCOPED_TRACE(line);
    EXPECT_FALSE(same_facts(base, std::get<UsageEvent>(parse(line))));
  }
  // The field sms does not use is not part of its facts.
  EXPECT_TRUE(same_facts(base,
                         std::get<UsageEvent>(parse("e1,1,sms,2026-03-01T10:00:00Z,sent,200,"
                                                    "junk,2"))));
}

} // namespace
} // namespace billing
