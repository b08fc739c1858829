// The import and payment-result row parsers (lib/ingest/import_rows): good
// rows give their typed values exactly, bad rows the first reason in the
// documented order with the detail the operator reads, hostile cells
// (quotes, backslashes, NUL, SQL, huge and negative numbers, impossible
// dates) are either kept byte for byte or rejected.
#include "domain/calendar.hpp"
#include "domain/limits.hpp"
#include "ingest/import_rows.hpp"
#include "support/csv_text.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace billing {
namespace {

using namespace std::string_literals;
using R = ImportReason;
using testing::csv_cell;

const std::string k_plan_header =
  "plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,"
  "rollover_cap";
const std::string k_account_header =
  "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,"
  "max_recharges_per_day";
const std::string k_purchase_header = "purchase_id,account_id,purchased_at,credits,amount_cents";
const std::string k_payment_header = "idempotency_key,status,provider_ref,failure_reason";
const std::string k_rate_header =
  "effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses";
const std::string k_change_header = "change_id,account_id,effective_date,action,plan_id";
const std::string k_adjustment_header =
  "adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason";

CsvRecord record_of(const std::string& text)
{
  std::istringstream in(text);
  CsvReader reader(in);
  CsvRecord record;
  EXPECT_TRUE(reader.next(record)) << text;
  return record;
}

ImportHeader header_of(const ImportFormat& format, const std::string& text)
{
  auto header = ImportHeader::from_record(format, record_of(text));
  if (auto* message = std::get_if<std::string>(&header)) {
    ADD_FAILURE() << *message;
    std::abort();
  }
  return std::get<ImportHeader>(header);
}

Instant at(const char* text)
{
  return *parse_instant(text);
}

Date day(const char* text)
{
  return *parse_date(text);
}

template<typename Row>
struct Good
{
  const char* name;
  std::string line;
  Row want;
};

struct Bad
{
  const char* name;
  std::string line;
  ImportRejection want;
};

template<typename Row, typename Parse>
void expect_good(const ImportHeader& header, const std::vector<Good<Row>>& cases, Parse parse)
{
  for (const auto& g : cases) {
    SCOPED_TRACE(g.name);
    const auto got = parse(header, record_of(g.line));
    ASSERT_TRUE(std::holds_alternative<Row>(got)) << describe(std::get<ImportRejection>(got));
    EXPECT_TRUE(std::get<Row>(got) == g.want);
  }
}

template<typename Row, typename Parse>
void expect_bad(const ImportHeader& header, const std::vector<Bad>& cases, Parse parse)
{
  for (const auto& b : cases) {
    SCOPED_TRACE(b.name);
    const auto got = parse(header, record_of(b.line));
    ASSERT_TRUE(std::holds_alternative<ImportRejection>(got)) << "accepted: " << b.line;
    EXPECT_EQ(describe(std::get<ImportRejection>(got)), describe(b.want));
    EXPECT_EQ(std::get<ImportRejection>(got).reason, b.want.reason);
  }
}

// ---------------------------------------------------------------- reasons

TEST(ImportRowsTest, ReasonCodesRoundTripAndAreDistinct)
{
  const R all[] = { R::bad_csv,
                    R::invalid_utf8,
                    R::bad_column_count,
                    R::missing_field,
                    R::bad_id,
                    R::bad_number,
                    R::out_of_range,
                    R::bad_cycle,
                    R::bad_currency,
                    R::bad_date,
                    R::bad_flag,
                    R::bad_timestamp,
                    R::bad_status,
                    R::bad_time_zone,
                    R::unknown_plan,
                    R::unknown_account,
                    R::unknown_key,
                    R::anchor_in_closed_date,
                    R::conflicting_content,
                    R::bad_channel,
                    R::effective_in_closed_date,
                    R::drops_status,
                    R::bad_action,
                    R::currency_mismatch,
                    R::before_anchor,
                    R::conflicting_change,
                    R::no_change,
                    R::bad_kind,
                    R::bad_expiry,
                    R::unknown_purchase,
                    R::refund_before_purchase };
  std::set<std::string_view> codes;
  for (const R r : all) {
    EXPECT_EQ(parse_import_reason(to_string(r)), r) << to_string(r);
    EXPECT_TRUE(codes.insert(to_string(r)).second) << to_string(r);
  }
  EXPECT_EQ(to_string(R::conflicting_content), "conflicting_content");
  EXPECT_EQ(to_string(R::anchor_in_closed_date), "anchor_in_closed_date");
  EXPECT_EQ(to_string(R::refund_before_purchase), "refund_before_purchase");
  EXPECT_EQ(to_string(R::no_change), "no_change");
  EXPECT_FALSE(parse_import_reason("conflict"));
  EXPECT_EQ(describe({ R::invalid_utf8, "" }), "invalid_utf8");
  EXPECT_EQ(describe({ R::unknown_plan, "NOPE" }), "unknown_plan: NOPE");
}

// ---------------------------------------------------------------- headers

TEST(ImportRowsTest, HeadersTakeAnyOrderIgnoreUnknownColumnsAndNeedEveryRequiredOne)
{
  // Any order, an unknown column, a quoted name.
  const ImportHeader h = header_of(
    k_purchase_format, "credits,note,\"purchase_id\",amount_cents,purchased_at,account_id");
  EXPECT_EQ(h.column_count(), 6u);
  const auto row = parse_purchase_row(h, record_of("5,hello,p-1,7,2026-11-01T00:00:00Z,3"));
  ASSERT_TRUE(std::holds_alternative<PurchaseRow>(row));
  EXPECT_TRUE(std::get<PurchaseRow>(row)
              == (PurchaseRow{ "p-1", 3, at("2026-11-01T00:00:00Z"), Credits{ 5 }, 7 }));

  const struct
  {
    const ImportFormat& format;
    std::string header;
  } refused[] = {
    { k_plan_format, "plan_id,name,cycle,included_credits,price_cents,currency,rollover_cap" },
    { k_purchase_format, k_purchase_header + ",credits" },
    { k_account_format, k_purchase_header },
    { k_payment_result_format, "idempotency_key,provider_ref,failure_reason" },
    { k_payment_result_format, "key,result" },
    { k_plan_format, "plan_id,\"name" },
  };
  for (const auto& r : refused) {
    SCOPED_TRACE(r.header);
    const auto got = ImportHeader::from_record(r.format, record_of(r.header));
    ASSERT_TRUE(std::holds_alternative<std::string>(got));
    EXPECT_FALSE(std::get<std::string>(got).empty());
  }
}

// ---------------------------------------------------------------- plans

TEST(ImportRowsTest, PlanRowsAreReadExactly)
{
  const std::string hostile_name = "it's \"x\"; DROP TABLE plans; -- \\ \\' \\\\ :name ?";
  const std::vector<Good<PlanRow>> cases = {
    { "plain",
      "BASIC,Basic,monthly,1000,2900,1500,USD,300",
      { "BASIC", "Basic", Cycle::monthly, Credits{ 1000 }, 2900, 1500, "USD", Credits{ 300 } } },
    { "no roll-over cap, annual",
      "SMALL,Small plan,annual,0,0,0,EUR,",
      { "SMALL", "Small plan", Cycle::annual, Credits{ 0 }, 0, 0, "EUR", std::nullopt } },
    { "SQL and quotes in the name are text",
      "Q," + csv_cell(hostile_name) + ",monthly,1,2,3,USD,",
      { "Q", hostile_name, Cycle::monthly, Credits{ 1 }, 2, 3, "USD", std::nullopt } },
    { "a NUL byte in the name is kept",
      "N,a\0b,monthly,1,2,3,USD,"s,
      { "N", "a\0b"s, Cycle::monthly, Credits{ 1 }, 2, 3, "USD", std::nullopt } },
    { "a line break in the name",
      "L,\"two\r\nlines\",monthly,1,2,3,USD,",
      { "L", "two\r\nlines", Cycle::monthly, Credits{ 1 }, 2, 3, "USD", std::nullopt } },
    { "the largest amounts",
      "MAX,Max,monthly,1000000000000,1000000000000,1000000000000,USD,1000000000000",
      { "MAX",
        "Max",
        Cycle::monthly,
        Credits{ k_amount_max },
        k_amount_max,
        k_amount_max,
        "USD",
        Credits{ k_amount_max } } },
    { "leading zeros",
      "Z,Z,monthly,007,0,0,USD,00",
      { "Z", "Z", Cycle::monthly, Credits{ 7 }, 0, 0, "USD", Credits{ 0 } } },
    { "a 64-character id and a 200-byte name",
      std::string(64, 'p') + "," + std::string(200, 'n') + ",monthly,1,1,1,USD,",
      { std::string(64, 'p'),
        std::string(200, 'n'),
        Cycle::monthly,
        Credits{ 1 },
        1,
        1,
        "USD",
        std::nullopt } },
    { "every id character and non-ASCII name",
      "Az09._:-,Caf\xC3\xA9 \xF0\x9F\x98\x80,monthly,1,1,1,USD,",
      { "Az09._:-",
        "Caf\xC3\xA9 \xF0\x9F\x98\x80",
        Cycle::monthly,
        Credits{ 1 },
        1,
        1,
        "USD",
        std::nullopt } },
  };
  expect_good(header_of(k_plan_format, k_plan_header), cases, parse_plan_row);
}

TEST(ImportRowsTest, BadPlanRowsAreRejectedWithTheFirstReason)
{
  const std::string tail = ",monthly,1,2,3,USD,"; // after plan_id,name
  const std::vector<Bad> cases = {
    { "a stray quote", "P,\"Bad\"x" + tail, { R::bad_csv, "bad_quote" } },
    { "an unterminated quote", "P,\"Bad" + tail, { R::bad_csv, "unterminated_quote" } },
    { "invalid UTF-8", "P,caf\xE9" + tail, { R::invalid_utf8, "" } },
    { "a surrogate", "P,\xED\xA0\x80" + tail, { R::invalid_utf8, "" } },
    { "too few cells",
      "P,Name,monthly,1,2,3,USD",
      { R::bad_column_count, "7 fields, header has 8" } },
    { "too many cells", "P,Name" + tail + ",", { R::bad_column_count, "9 fields, header has 8" } },
    { "empty id", ",Name" + tail, { R::bad_id, "plan_id ''" } },
    { "a quote in the id", "p'1,Name" + tail, { R::bad_id, "plan_id 'p'1'" } },
    { "a backslash in the id", "p\\1,Name" + tail, { R::bad_id, "plan_id 'p\\1'" } },
    { "a semicolon in the id", "p;1,Name" + tail, { R::bad_id, "plan_id 'p;1'" } },
    { "a NUL in the id", "p\0001,Name"s + tail, { R::bad_id, "plan_id 'p\0001'"s } },
    { "a 65-character id",
      std::string(65, 'p') + ",Name" + tail,
      { R::bad_id, "plan_id '" + std::string(65, 'p') + "'" } },
    { "the id is checked first", "p 1,Name,weekly,x,2,3,usd,", { R::bad_id, "plan_id 'p 1'" } },
    { "no name", "P," + tail, { R::missing_field, "name" } },
    { "a 201-byte name",
      "P," + std::string(201, 'n') + tail,
      { R::out_of_range, "name longer than 200 characters" } },
    { "weekly", "P,Name,weekly,1,2,3,USD,", { R::bad_cycle, "'weekly' (monthly or annual)" } },
    { "Monthly", "P,Name,Monthly,1,2,3,USD,", { R::bad_cycle, "'Monthly' (monthly or annual)" } },
    { "no included_credits", "P,Name,monthly,,2,3,USD,", { R::missing_field, "included_credits" } },
    { "negative credits",
      "P,Name,monthly,-1,2,3,USD,",
      { R::out_of_range, "included_credits '-1'" } },
    { "credits above 10^12",
      "P,Name,monthly,1000000000001,2,3,USD,",
      { R::out_of_range, "included_credits '1000000000001'" } },
    { "credits beyond 64 bits",
      "P,Name,monthly,99999999999999999999,2,3,USD,",
      { R::out_of_range, "included_credits '99999999999999999999'" } },
    { "below -2^63",
      "P,Name,monthly,-9223372036854775809,2,3,USD,",
      { R::out_of_range, "included_credits '-9223372036854775809'" } },
    { "an exponent", "P,Name,monthly,1e3,2,3,USD,", { R::bad_number, "included_credits '1e3'" } },
    { "hex", "P,Name,monthly,1,0x10,3,USD,", { R::bad_number, "price_cents '0x10'" } },
    { "a plus sign", "P,Name,monthly,1,+5,3,USD,", { R::bad_number, "price_cents '+5'" } },
    { "a leading space", "P,Name,monthly,1, 5,3,USD,", { R::bad_number, "price_cents ' 5'" } },
    { "a fraction",
      "P,Name,monthly,1,2,1.5,USD,",
      { R::bad_number, "credit_price_cents_per_1000 '1.5'" } },
    { "a lone minus",
      "P,Name,monthly,1,2,-,USD,",
      { R::bad_number, "credit_price_cents_per_1000 '-'" } },
    { "SQL in a number",
      "P,Name,monthly,1,2,\"1; DROP TABLE plans; --\",USD,",
      { R::bad_number, "credit_price_cents_per_1000 '1; DROP TABLE plans; --'" } },
    { "lower-case currency",
      "P,Name,monthly,1,2,3,usd,",
      { R::bad_currency, "'usd' (three capital letters, ISO 4217)" } },
    { "four letters",
      "P,Name,monthly,1,2,3,USDX,",
      { R::bad_currency, "'USDX' (three capital letters, ISO 4217)" } },
    { "a negative cap", "P,Name,monthly,1,2,3,USD,-1", { R::out_of_range, "rollover_cap '-1'" } },
    { "a text cap", "P,Name,monthly,1,2,3,USD,NULL", { R::bad_number, "rollover_cap 'NULL'" } },
  };
  expect_bad<PlanRow>(header_of(k_plan_format, k_plan_header), cases, parse_plan_row);
}

// ---------------------------------------------------------------- accounts

TEST(ImportRowsTest, AccountRowsAreReadExactly)
{
  const std::vector<Good<AccountRow>> cases = {
    { "plain",
      "1,BASIC,2026-10-01,0,0,0,1",
      { 1, "BASIC", day("2026-10-01"), false, Credits{ 0 }, Credits{ 0 }, 1 } },
    { "empty recharge cells are off, 0, 0, 1",
      "3,ANNUAL,2024-02-29,,,,",
      { 3, "ANNUAL", day("2024-02-29"), false, Credits{ 0 }, Credits{ 0 }, 1 } },
    { "on",
      "2,SMALL,2026-10-28,on,40,100,2",
      { 2, "SMALL", day("2026-10-28"), true, Credits{ 40 }, Credits{ 100 }, 2 } },
    { "yes", "2,S,2026-10-28,yes,0,1,1", { 2, "S", day("2026-10-28"), true, {}, Credits{ 1 }, 1 } },
    { "TRUE",
      "2,S,2026-10-28,TRUE,0,1,1",
      { 2, "S", day("2026-10-28"), true, {}, Credits{ 1 }, 1 } },
    { "true",
      "2,S,2026-10-28,true,0,1,1",
      { 2, "S", day("2026-10-28"), true, {}, Credits{ 1 }, 1 } },
    { "1", "2,S,2026-10-28,1,0,1,1", { 2, "S", day("2026-10-28"), true, {}, Credits{ 1 }, 1 } },
    { "off",
      "2,S,2026-10-28,off,5,0,0",
      { 2, "S", day("2026-10-28"), false, Credits{ 5 }, {}, 0 } },
    { "no", "2,S,2026-10-28,no,,,", { 2, "S", day("2026-10-28"), false, {}, {}, 1 } },
    { "FALSE", "2,S,2026-10-28,FALSE,,,", { 2, "S", day("2026-10-28"), false, {}, {}, 1 } },
    { "the largest values",
      "9223372036854775807,S,9999-12-31,1,1000000000000,1000000000000,100",
      { 9223372036854775807LL,
        "S",
        day("9999-12-31"),
        true,
        Credits{ k_amount_max },
        Credits{ k_amount_max },
        k_max_recharges_per_day_max } },
    { "the first date", "1,S,1970-01-01,,,,", { 1, "S", day("1970-01-01"), false, {}, {}, 1 } },
  };
  expect_good(header_of(k_account_format, k_account_header), cases, parse_account_row);
}

TEST(ImportRowsTest, AccountTimeZoneIsOptionalAndUtcWhenEmpty)
{
  const std::string header = std::string(k_account_header) + ",time_zone";
  const std::vector<Good<AccountRow>> cases = {
    { "a zone",
      "1,S,2026-10-01,,,,,America/New_York",
      { 1, "S", day("2026-10-01"), false, {}, {}, 1, "America/New_York" } },
    { "empty is UTC",
      "1,S,2026-10-01,,,,,",
      { 1, "S", day("2026-10-01"), false, {}, {}, 1, "UTC" } },
    { "a sign and digits",
      "1,S,2026-10-01,,,,,Etc/GMT+5",
      { 1, "S", day("2026-10-01"), false, {}, {}, 1, "Etc/GMT+5" } },
    { "three parts",
      "1,S,2026-10-01,,,,,America/Argentina/Buenos_Aires",
      { 1, "S", day("2026-10-01"), false, {}, {}, 1, "America/Argentina/Buenos_Aires" } },
  };
  expect_good(header_of(k_account_format, header), cases, parse_account_row);
  // Without the column (every file before SPEC 16): UTC.
  const std::vector<Good<AccountRow>> without = {
    { "no column", "1,S,2026-10-01,,,,", { 1, "S", day("2026-10-01"), false, {}, {}, 1, "UTC" } },
  };
  expect_good(header_of(k_account_format, k_account_header), without, parse_account_row);

  const std::vector<Bad> bad = {
    { "a path",
      "1,S,2026-10-01,,,,,../../etc/passwd",
      { R::bad_time_zone, "time_zone '../../etc/passwd'" } },
    { "absolute",
      "1,S,2026-10-01,,,,,/etc/localtime",
      { R::bad_time_zone, "time_zone '/etc/localtime'" } },
    { "a space",
      "1,S,2026-10-01,,,,,America/New York",
      { R::bad_time_zone, "time_zone 'America/New York'" } },
    { "trailing slash",
      "1,S,2026-10-01,,,,,America/",
      { R::bad_time_zone, "time_zone 'America/'" } },
    { "SQL", "1,S,2026-10-01,,,,,\"UTC'; --\"", { R::bad_time_zone, "time_zone 'UTC'; --'" } },
    { "65 characters",
      "1,S,2026-10-01,,,,," + std::string(65, 'A'),
      { R::bad_time_zone, "time_zone '" + std::string(65, 'A') + "'" } },
    { "the zone comes after the other columns",
      "1,S,2026-10-01,maybe,,,,x y",
      { R::bad_flag, "auto_recharge 'maybe' (1/0, true/false, on/off)" } },
  };
  expect_bad<AccountRow>(header_of(k_account_format, header), bad, parse_account_row);
}

TEST(ImportRowsTest, BadAccountRowsAreRejectedWithTheFirstReason)
{
  const std::vector<Bad> cases = {
    { "no account_id", ",S,2026-10-01,0,0,0,1", { R::missing_field, "account_id" } },
    { "account_id 0", "0,S,2026-10-01,0,0,0,1", { R::out_of_range, "account_id '0'" } },
    { "negative account_id", "-5,S,2026-10-01,0,0,0,1", { R::out_of_range, "account_id '-5'" } },
    { "account_id beyond 64 bits",
      "9223372036854775808,S,2026-10-01,0,0,0,1",
      { R::out_of_range, "account_id '9223372036854775808'" } },
    { "account_id as text", "abc,S,2026-10-01,0,0,0,1", { R::bad_number, "account_id 'abc'" } },
    { "account_id with SQL",
      "\"1 OR 1=1\",S,2026-10-01,0,0,0,1",
      { R::bad_number, "account_id '1 OR 1=1'" } },
    { "a quote in plan_id", "1,\"S'\",2026-10-01,0,0,0,1", { R::bad_id, "plan_id 'S''" } },
    { "a double quote in plan_id",
      "1,\"S\"\"\",2026-10-01,0,0,0,1",
      { R::bad_id, "plan_id 'S\"'" } },
    { "2026-02-30",
      "1,S,2026-02-30,0,0,0,1",
      { R::bad_date, "cycle_anchor '2026-02-30' (YYYY-MM-DD)" } },
    { "2026-13-01",
      "1,S,2026-13-01,0,0,0,1",
      { R::bad_date, "cycle_anchor '2026-13-01' (YYYY-MM-DD)" } },
    { "0000-00-00",
      "1,S,0000-00-00,0,0,0,1",
      { R::bad_date, "cycle_anchor '0000-00-00' (YYYY-MM-DD)" } },
    { "an instant",
      "1,S,2026-10-01T00:00:00Z,0,0,0,1",
      { R::bad_date, "cycle_anchor '2026-10-01T00:00:00Z' (YYYY-MM-DD)" } },
    { "no anchor", "1,S,,0,0,0,1", { R::bad_date, "cycle_anchor '' (YYYY-MM-DD)" } },
    { "maybe",
      "1,S,2026-10-01,maybe,0,0,1",
      { R::bad_flag, "auto_recharge 'maybe' (1/0, true/false, on/off)" } },
    { "On",
      "1,S,2026-10-01,On,0,0,1",
      { R::bad_flag, "auto_recharge 'On' (1/0, true/false, on/off)" } },
    { "2",
      "1,S,2026-10-01,2,0,0,1",
      { R::bad_flag, "auto_recharge '2' (1/0, true/false, on/off)" } },
    { "negative threshold",
      "1,S,2026-10-01,0,-1,0,1",
      { R::out_of_range, "recharge_threshold '-1'" } },
    { "recharge credits above 10^12",
      "1,S,2026-10-01,0,0,1000000000001,1",
      { R::out_of_range, "recharge_credits '1000000000001'" } },
    { "101 recharges a day",
      "1,S,2026-10-01,0,0,0,101",
      { R::out_of_range, "max_recharges_per_day '101'" } },
    { "recharges a day as a fraction",
      "1,S,2026-10-01,0,0,0,1.0",
      { R::bad_number, "max_recharges_per_day '1.0'" } },
    { "on without recharge credits",
      "1,S,2026-10-01,1,10,0,1",
      { R::out_of_range, "recharge_credits must be above 0 when auto_recharge is on" } },
    { "on with empty recharge credits",
      "1,S,2026-10-01,yes,10,,1",
      { R::out_of_range, "recharge_credits must be above 0 when auto_recharge is on" } },
    { "column checks come before the rule across columns",
      "1,S,2026-10-01,1,0,0,x",
      { R::bad_number, "max_recharges_per_day 'x'" } },
  };
  expect_bad<AccountRow>(header_of(k_account_format, k_account_header), cases, parse_account_row);
}

// ---------------------------------------------------------------- purchases

TEST(ImportRowsTest, PurchaseRowsAreReadExactly)
{
  const std::vector<Good<PurchaseRow>> cases = {
    { "plain",
      "p-1,1,2026-10-30T00:00:00Z,100,300",
      { "p-1", 1, at("2026-10-30T00:00:00Z"), Credits{ 100 }, 300 } },
    { "microseconds",
      "p-2,2,2026-11-02T12:34:56.123456Z,500,1000",
      { "p-2", 2, at("2026-11-02T12:34:56.123456Z"), Credits{ 500 }, 1000 } },
    { "fractional zeros are the same instant",
      "p-1,1,2026-10-30T00:00:00.000Z,100,300",
      { "p-1", 1, at("2026-10-30T00:00:00Z"), Credits{ 100 }, 300 } },
    { "two dashes in the id",
      "p--1,1,2026-10-30T00:00:00Z,1,0",
      { "p--1", 1, at("2026-10-30T00:00:00Z"), Credits{ 1 }, 0 } },
    { "the last instant",
      "late,1,9999-12-31T23:59:59Z,1000000000000,1000000000000",
      { "late", 1, at("9999-12-31T23:59:59Z"), Credits{ k_amount_max }, k_amount_max } },
  };
  expect_good(header_of(k_purchase_format, k_purchase_header), cases, parse_purchase_row);
}

TEST(ImportRowsTest, BadPurchaseRowsAreRejectedWithTheFirstReason)
{
  const std::string tail = ",1,2026-11-02T08:00:00Z,10,15"; // after purchase_id
  const std::vector<Bad> cases = {
    { "a quote in the id", "\"p'1\"" + tail, { R::bad_id, "purchase_id 'p'1'" } },
    { "a backslash in the id", "p\\1" + tail, { R::bad_id, "purchase_id 'p\\1'" } },
    { "a double quote in the id", "\"p\"\"1\"" + tail, { R::bad_id, "purchase_id 'p\"1'" } },
    { "a semicolon in the id", "p;1" + tail, { R::bad_id, "purchase_id 'p;1'" } },
    { "SQL as the id",
      "\"'; DROP TABLE purchases; --\"" + tail,
      { R::bad_id, "purchase_id ''; DROP TABLE purchases; --'" } },
    { "a NUL as the id", "\0"s + tail, { R::bad_id, "purchase_id '\0'"s } },
    { "an unknown account as text",
      "p-1,x,2026-11-02T08:00:00Z,10,15",
      { R::bad_number, "account_id 'x'" } },
    { "2026-02-30",
      "p-1,1,2026-02-30T10:00:00Z,10,15",
      { R::bad_timestamp, "purchased_at '2026-02-30T10:00:00Z' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "hour 25",
      "p-1,1,2026-11-01T25:00:00Z,10,15",
      { R::bad_timestamp, "purchased_at '2026-11-01T25:00:00Z' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "an offset",
      "p-1,1,2026-11-02T10:00:00+02:00,10,15",
      { R::bad_timestamp, "purchased_at '2026-11-02T10:00:00+02:00' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "a space for T",
      "p-1,1,2026-11-01 10:00:00,10,15",
      { R::bad_timestamp, "purchased_at '2026-11-01 10:00:00' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "a date only",
      "p-1,1,2026-11-01,10,15",
      { R::bad_timestamp, "purchased_at '2026-11-01' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "no credits", "p-1,1,2026-11-02T08:00:00Z,0,15", { R::out_of_range, "credits '0'" } },
    { "negative credits",
      "p-1,1,2026-11-02T08:00:00Z,-10,15",
      { R::out_of_range, "credits '-10'" } },
    { "empty credits", "p-1,1,2026-11-02T08:00:00Z,,15", { R::missing_field, "credits" } },
    { "negative amount",
      "p-1,1,2026-11-02T08:00:00Z,10,-1",
      { R::out_of_range, "amount_cents '-1'" } },
    { "amount beyond 64 bits",
      "p-1,1,2026-11-02T08:00:00Z,10,18446744073709551616",
      { R::out_of_range, "amount_cents '18446744073709551616'" } },
  };
  expect_bad<PurchaseRow>(
    header_of(k_purchase_format, k_purchase_header), cases, parse_purchase_row);
}

// ---------------------------------------------------------------- payment results

TEST(ImportRowsTest, PaymentResultRowsAreReadExactly)
{
  const std::string hostile = "it's \\ \"x\"; DROP TABLE payment_requests; --";
  const std::vector<Good<PaymentResultRow>> cases = {
    { "succeeded",
      "recharge:1:2026-11-01:1,succeeded,ref-1,",
      { "recharge:1:2026-11-01:1", PaymentOutcome::succeeded, "ref-1", std::nullopt } },
    { "failed with a reason",
      "recharge:1:2026-11-01:1,failed,ch_1,card_declined",
      { "recharge:1:2026-11-01:1", PaymentOutcome::failed, "ch_1", "card_declined" } },
    { "no provider_ref", "k,failed,,", { "k", PaymentOutcome::failed, "", std::nullopt } },
    { "quotes, backslashes and SQL are text",
      "k," + std::string("failed,") + csv_cell(hostile) + "," + csv_cell(hostile),
      { "k", PaymentOutcome::failed, hostile, hostile } },
    { "a NUL byte is kept",
      "k,failed,a\0b,c\0d"s,
      { "k", PaymentOutcome::failed, "a\0b"s, "c\0d"s } },
    { "the longest fields",
      std::string(128, 'k') + ",failed," + std::string(200, 'r') + "," + std::string(500, 'w'),
      { std::string(128, 'k'),
        PaymentOutcome::failed,
        std::string(200, 'r'),
        std::string(500, 'w') } },
  };
  expect_good(
    header_of(k_payment_result_format, k_payment_header), cases, parse_payment_result_row);

  // The optional columns may be absent, the others in any order.
  const ImportHeader required_only =
    header_of(k_payment_result_format, "status,extra,idempotency_key");
  expect_good(
    required_only,
    std::vector<Good<PaymentResultRow>>{ { "only the required columns",
                                           "succeeded,x,k",
                                           { "k", PaymentOutcome::succeeded, "", std::nullopt } } },
    parse_payment_result_row);
}

TEST(ImportRowsTest, BadPaymentResultRowsAreRejectedWithTheFirstReason)
{
  const std::vector<Bad> cases = {
    { "a stray quote", "k,failed,\"r\"x,", { R::bad_column_count, "" } },
    { "too few cells", "k,failed,r", { R::bad_column_count, "" } },
    { "too many cells", "k,failed,r,w,", { R::bad_column_count, "" } },
    { "invalid UTF-8", "k,failed,r,\xC0\xAF", { R::invalid_utf8, "" } },
    { "a 129-byte key",
      std::string(129, 'k') + ",failed,,",
      { R::out_of_range, "a field is too long" } },
    { "a 201-byte ref",
      "k,failed," + std::string(201, 'r') + ",",
      { R::out_of_range, "a field is too long" } },
    { "a 501-byte reason",
      "k,failed,r," + std::string(501, 'w'),
      { R::out_of_range, "a field is too long" } },
    { "lengths come before the status",
      std::string(129, 'k') + ",refunded,,",
      { R::out_of_range, "a field is too long" } },
    { "refunded", "k,refunded,r,", { R::bad_status, "'refunded'" } },
    { "upper case", "k,SUCCEEDED,r,", { R::bad_status, "'SUCCEEDED'" } },
    { "pending", "k,pending,r,", { R::bad_status, "'pending'" } },
    { "empty", "k,,r,", { R::bad_status, "''" } },
    { "SQL", "k,\"failed'; --\",r,", { R::bad_status, "'failed'; --'" } },
  };
  expect_bad<PaymentResultRow>(
    header_of(k_payment_result_format, k_payment_header), cases, parse_payment_result_row);
}

// ---------------------------------------------------------------- rates

RateRule rule(Channel channel,
              const char* from,
              long long unit_size,
              long long min_units,
              long long per_unit,
              std::vector<std::string> charged,
              std::vector<std::string> free)
{
  return { channel,
           *parse_rate_effective_from(from),
           unit_basis_of(channel),
           unit_size,
           min_units,
           per_unit,
           std::move(charged),
           std::move(free) };
}

TEST(ImportRowsTest, RateRowsAreReadExactly)
{
  const std::vector<Good<RateRule>> cases = {
    // SPEC 18's default card, 0001-01-01 read as the card's beginning.
    { "the default sms row",
      "0001-01-01,sms,160,1,1,sent;delivered,failed",
      rule(Channel::sms, "1970-01-01", 160, 1, 1, { "sent", "delivered" }, { "failed" }) },
    { "the default mms row",
      "0001-01-01,mms,1600,1,2,sent;delivered,failed",
      rule(Channel::mms, "1970-01-01", 1600, 1, 2, { "sent", "delivered" }, { "failed" }) },
    { "the default voice row",
      "0001-01-01,voice,60,0,1,completed,no_answer;busy;failed",
      rule(Channel::voice,
           "1970-01-01",
           60,
           0,
           1,
           { "completed" },
           { "no_answer", "busy", "failed" }) },
    { "ringless: unit_size empty, stored as 1",
      "0001-01-01,ringless,,1,2,delivered,failed",
      rule(Channel::ringless, "1970-01-01", 1, 1, 2, { "delivered" }, { "failed" }) },
    { "a price change from a date",
      "2026-12-01,sms,160,1,2,sent;delivered,failed;undelivered",
      rule(Channel::sms,
           "2026-12-01",
           160,
           1,
           2,
           { "sent", "delivered" },
           { "failed", "undelivered" }) },
    { "every status free, no charged one",
      "2026-12-01,voice,60,0,1,,completed;failed",
      rule(Channel::voice, "2026-12-01", 60, 0, 1, {}, { "completed", "failed" }) },
    { "no free status",
      "2026-12-01,mms,1600,1,2,sent,",
      rule(Channel::mms, "2026-12-01", 1600, 1, 2, { "sent" }, {}) },
    { "the largest values and a 32-character status",
      "9999-12-31,voice,100000,100000,10000," + std::string(32, 's') + ",",
      rule(Channel::voice,
           "9999-12-31",
           k_rate_unit_size_max,
           k_rate_min_units_max,
           k_rate_credits_per_unit_max,
           { std::string(32, 's') },
           {}) },
    { "zero credits per unit, every status character",
      "2026-12-01,sms,1,0,0,Az09._:-,x",
      rule(Channel::sms, "2026-12-01", 1, 0, 0, { "Az09._:-" }, { "x" }) },
  };
  expect_good(header_of(k_rate_format, k_rate_header), cases, parse_rate_row);
  // Columns in another order.
  const std::vector<Good<RateRule>> reordered = {
    { "reordered",
      "failed,sent,2,1,160,sms,2026-12-01",
      rule(Channel::sms, "2026-12-01", 160, 1, 2, { "sent" }, { "failed" }) },
  };
  expect_good(header_of(k_rate_format,
                        "free_statuses,charged_statuses,credits_per_unit,min_units,unit_size,"
                        "channel,effective_from"),
              reordered,
              parse_rate_row);
}

TEST(ImportRowsTest, BadRateRowsAreRejectedWithTheFirstReason)
{
  const std::string tail = ",160,1,1,sent,failed"; // after effective_from,channel
  const std::vector<Bad> cases = {
    { "a stray quote", "2026-12-01,\"sms\"x" + tail, { R::bad_csv, "bad_quote" } },
    { "invalid UTF-8", "2026-12-01,sms,160,1,1,s\xE9nt,failed", { R::invalid_utf8, "" } },
    { "too few cells",
      "2026-12-01,sms,160,1,1,sent",
      { R::bad_column_count, "6 fields, header has 7" } },
    { "no date", ",sms" + tail, { R::bad_date, "effective_from '' (YYYY-MM-DD, UTC)" } },
    { "2026-02-30",
      "2026-02-30,sms" + tail,
      { R::bad_date, "effective_from '2026-02-30' (YYYY-MM-DD, UTC)" } },
    { "year 1 other than the beginning",
      "0001-01-02,sms" + tail,
      { R::bad_date, "effective_from '0001-01-02' (YYYY-MM-DD, UTC)" } },
    { "an instant",
      "2026-12-01T00:00:00Z,sms" + tail,
      { R::bad_date, "effective_from '2026-12-01T00:00:00Z' (YYYY-MM-DD, UTC)" } },
    { "the date is checked first",
      "x,fax,x,x,x,;,;",
      { R::bad_date, "effective_from 'x' (YYYY-MM-DD, UTC)" } },
    { "fax",
      "2026-12-01,fax" + tail,
      { R::bad_channel, "channel 'fax' (sms, mms, voice or ringless)" } },
    { "SMS",
      "2026-12-01,SMS" + tail,
      { R::bad_channel, "channel 'SMS' (sms, mms, voice or ringless)" } },
    { "no unit_size", "2026-12-01,sms,,1,1,sent,failed", { R::missing_field, "unit_size" } },
    { "unit_size 0", "2026-12-01,sms,0,1,1,sent,failed", { R::out_of_range, "unit_size '0'" } },
    { "unit_size too large",
      "2026-12-01,voice,100001,1,1,completed,failed",
      { R::out_of_range, "unit_size '100001'" } },
    { "unit_size a fraction",
      "2026-12-01,sms,1.5,1,1,sent,failed",
      { R::bad_number, "unit_size '1.5'" } },
    { "a unit_size for ringless",
      "2026-12-01,ringless,1,1,2,delivered,failed",
      { R::out_of_range, "unit_size '1' must be empty for ringless" } },
    { "no min_units", "2026-12-01,sms,160,,1,sent,failed", { R::missing_field, "min_units" } },
    { "negative min_units",
      "2026-12-01,sms,160,-1,1,sent,failed",
      { R::out_of_range, "min_units '-1'" } },
    { "min_units too large",
      "2026-12-01,sms,160,100001,1,sent,failed",
      { R::out_of_range, "min_units '100001'" } },
    { "no credits_per_unit",
      "2026-12-01,sms,160,1,,sent,failed",
      { R::missing_field, "credits_per_unit" } },
    { "credits_per_unit too large",
      "2026-12-01,sms,160,1,10001,sent,failed",
      { R::out_of_range, "credits_per_unit '10001'" } },
    { "credits_per_unit beyond 64 bits",
      "2026-12-01,sms,160,1,99999999999999999999,sent,failed",
      { R::out_of_range, "credits_per_unit '99999999999999999999'" } },
    { "SQL in a number",
      "2026-12-01,sms,160,1,\"1; DROP TABLE rate_card\",sent,failed",
      { R::bad_number, "credits_per_unit '1; DROP TABLE rate_card'" } },
    { "an empty status",
      "2026-12-01,sms,160,1,1,sent;;delivered,failed",
      { R::bad_status,
        "charged_statuses 'sent;;delivered': '' is not a status (1-32 characters of "
        "A-Za-z0-9._:-)" } },
    { "a trailing separator",
      "2026-12-01,sms,160,1,1,sent;,failed",
      { R::bad_status,
        "charged_statuses 'sent;': '' is not a status (1-32 characters of A-Za-z0-9._:-)" } },
    { "a comma in a status",
      "2026-12-01,sms,160,1,1,\"sent,delivered\",failed",
      { R::bad_status,
        "charged_statuses 'sent,delivered': 'sent,delivered' is not a status (1-32 characters of "
        "A-Za-z0-9._:-)" } },
    { "a space",
      "2026-12-01,sms,160,1,1,sent,no answer",
      { R::bad_status,
        "free_statuses 'no answer': 'no answer' is not a status (1-32 characters of "
        "A-Za-z0-9._:-)" } },
    { "SQL in a status",
      "2026-12-01,sms,160,1,1,\"sent'; --\",failed",
      { R::bad_status,
        "charged_statuses 'sent'; --': 'sent'' is not a status (1-32 characters of "
        "A-Za-z0-9._:-)" } },
    { "a 33-character status",
      "2026-12-01,sms,160,1,1," + std::string(33, 's') + ",failed",
      { R::bad_status,
        "charged_statuses '" + std::string(33, 's') + "': '" + std::string(33, 's')
          + "' is not a status (1-32 characters of A-Za-z0-9._:-)" } },
    { "a status twice",
      "2026-12-01,sms,160,1,1,sent;sent,failed",
      { R::bad_status, "charged_statuses 'sent;sent': 'sent' twice" } },
    { "a status charged and free",
      "2026-12-01,sms,160,1,1,sent;failed,failed",
      { R::bad_status, "'failed' is both charged and free" } },
    { "no status at all",
      "2026-12-01,sms,160,1,1,,",
      { R::missing_field, "charged_statuses and free_statuses are both empty" } },
    { "a list over 200 bytes",
      "2026-12-01,sms,160,1,1,sent," + std::string(201, 'f'),
      { R::out_of_range, "free_statuses longer than 200 characters" } },
  };
  expect_bad<RateRule>(header_of(k_rate_format, k_rate_header), cases, parse_rate_row);
}

// ---------------------------------------------------------------- changes

TEST(ImportRowsTest, ChangeRowsAreReadExactly)
{
  const std::vector<Good<ChangeRow>> cases = {
    { "a plan change",
      "c-1,1,2026-12-01,change_plan,PRO",
      { "c-1", 1, day("2026-12-01"), ChangeAction::change_plan, "PRO" } },
    { "a cancellation",
      "c-2,7,2026-12-31,cancel,",
      { "c-2", 7, day("2026-12-31"), ChangeAction::cancel, "" } },
    { "the largest values",
      std::string(64, 'c') + ",9223372036854775807,9999-12-31,change_plan," + std::string(64, 'p'),
      { std::string(64, 'c'),
        9223372036854775807LL,
        day("9999-12-31"),
        ChangeAction::change_plan,
        std::string(64, 'p') } },
    { "every id character",
      "Az09._:-,1,1970-01-01,change_plan,Az09._:-",
      { "Az09._:-", 1, day("1970-01-01"), ChangeAction::change_plan, "Az09._:-" } },
  };
  expect_good(header_of(k_change_format, k_change_header), cases, parse_change_row);
  // Columns in another order, an unknown column ignored.
  const std::vector<Good<ChangeRow>> reordered = {
    { "reordered",
      "cancel,,x,2026-12-01,3,c",
      { "c", 3, day("2026-12-01"), ChangeAction::cancel, "" } },
  };
  expect_good(header_of(k_change_format, "action,plan_id,note,effective_date,account_id,change_id"),
              reordered,
              parse_change_row);
}

TEST(ImportRowsTest, BadChangeRowsAreRejectedWithTheFirstReason)
{
  const std::vector<Bad> cases = {
    { "a stray quote", "c,1,2026-12-01,\"cancel\"x,", { R::bad_csv, "bad_quote" } },
    { "invalid UTF-8", "c,1,2026-12-01,change_plan,P\xE9", { R::invalid_utf8, "" } },
    { "too few cells", "c,1,2026-12-01,cancel", { R::bad_column_count, "4 fields, header has 5" } },
    { "too many cells",
      "c,1,2026-12-01,cancel,,",
      { R::bad_column_count, "6 fields, header has 5" } },
    { "empty id", ",1,2026-12-01,cancel,", { R::bad_id, "change_id ''" } },
    { "SQL as the id",
      "\"'; DROP TABLE plan_changes; --\",1,2026-12-01,cancel,",
      { R::bad_id, "change_id ''; DROP TABLE plan_changes; --'" } },
    { "a NUL in the id", "c\0,1,2026-12-01,cancel,"s, { R::bad_id, "change_id 'c\0'"s } },
    { "the id is checked first", "c 1,x,x,x,x", { R::bad_id, "change_id 'c 1'" } },
    { "no account", "c,,2026-12-01,cancel,", { R::missing_field, "account_id" } },
    { "account 0", "c,0,2026-12-01,cancel,", { R::out_of_range, "account_id '0'" } },
    { "account as text", "c,one,2026-12-01,cancel,", { R::bad_number, "account_id 'one'" } },
    { "account beyond 64 bits",
      "c,99999999999999999999,2026-12-01,cancel,",
      { R::out_of_range, "account_id '99999999999999999999'" } },
    { "no date", "c,1,,cancel,", { R::bad_date, "effective_date '' (YYYY-MM-DD)" } },
    { "2026-02-30",
      "c,1,2026-02-30,cancel,",
      { R::bad_date, "effective_date '2026-02-30' (YYYY-MM-DD)" } },
    { "an instant",
      "c,1,2026-12-01T00:00:00Z,cancel,",
      { R::bad_date, "effective_date '2026-12-01T00:00:00Z' (YYYY-MM-DD)" } },
    { "the date before the action",
      "c,1,x,stop,P",
      { R::bad_date, "effective_date 'x' (YYYY-MM-DD)" } },
    { "another action",
      "c,1,2026-12-01,stop,",
      { R::bad_action, "action 'stop' (change_plan or cancel)" } },
    { "upper case",
      "c,1,2026-12-01,CANCEL,",
      { R::bad_action, "action 'CANCEL' (change_plan or cancel)" } },
    { "no action", "c,1,2026-12-01,,P", { R::bad_action, "action '' (change_plan or cancel)" } },
    { "a cancel with a plan",
      "c,1,2026-12-01,cancel,PRO",
      { R::bad_action, "cancel takes no plan_id" } },
    { "a change without a plan",
      "c,1,2026-12-01,change_plan,",
      { R::missing_field, "plan_id (change_plan needs one)" } },
    { "a bad plan id", "c,1,2026-12-01,change_plan,P'1", { R::bad_id, "plan_id 'P'1'" } },
    { "a 65-character plan id",
      "c,1,2026-12-01,change_plan," + std::string(65, 'p'),
      { R::bad_id, "plan_id '" + std::string(65, 'p') + "'" } },
  };
  expect_bad<ChangeRow>(header_of(k_change_format, k_change_header), cases, parse_change_row);
}

// ---------------------------------------------------------------- adjustments

AdjustmentRow adjustment(const char* id,
                         long long account,
                         const char* effective,
                         AdjustmentKind kind,
                         std::optional<long long> credits,
                         long long amount,
                         std::string purchase_id,
                         std::optional<Instant> expires,
                         std::string reason)
{
  AdjustmentRow r;
  r.adjustment_id = id;
  r.account_id = account;
  r.effective_at = at(effective);
  r.kind = kind;
  if (credits) {
    r.credits = Credits{ *credits };
  }
  r.amount_cents = amount;
  r.purchase_id = std::move(purchase_id);
  r.expires_at = expires;
  r.reason = std::move(reason);
  return r;
}

TEST(ImportRowsTest, AdjustmentRowsAreReadExactly)
{
  using K = AdjustmentKind;
  const std::string hostile = "it's \"x\"; DROP TABLE adjustments; -- \\ =SUM(A1) :reason ?";
  std::string emoji;
  for (int i = 0; i < 200; ++i) {
    emoji += "\xF0\x9F\x98\x80";
  }
  const std::vector<Good<AdjustmentRow>> cases = {
    { "a grant with its expiry and value",
      "g-1,1,2026-11-03T10:00:00Z,grant,50,700,,2027-01-01T00:00:00Z,goodwill",
      adjustment("g-1",
                 1,
                 "2026-11-03T10:00:00Z",
                 K::grant,
                 50,
                 700,
                 "",
                 at("2027-01-01T00:00:00Z"),
                 "goodwill") },
    { "a grant with the default expiry and value 0",
      "g-2,1,2026-11-03T10:00:00.5Z,grant,5,,,,",
      adjustment("g-2", 1, "2026-11-03T10:00:00.5Z", K::grant, 5, 0, "", std::nullopt, "") },
    { "a grant ignores purchase_id",
      "g-3,1,2026-11-03T10:00:00Z,grant,5,0,what ever,,",
      adjustment("g-3", 1, "2026-11-03T10:00:00Z", K::grant, 5, 0, "", std::nullopt, "") },
    { "a debit ignores purchase_id and expires_at, keeps amount_cents",
      "d-1,2,2026-11-04T00:00:00Z,debit,20,9,p'1,not a time,fix",
      adjustment("d-1", 2, "2026-11-04T00:00:00Z", K::debit, 20, 9, "", std::nullopt, "fix") },
    { "a refund of everything",
      "r-1,3,2026-11-05T00:00:00Z,refund,,1500,p-1,,left",
      adjustment("r-1",
                 3,
                 "2026-11-05T00:00:00Z",
                 K::refund,
                 std::nullopt,
                 1500,
                 "p-1",
                 std::nullopt,
                 "left") },
    { "a partial refund of a recharge, expires_at ignored",
      "r-2,3,2026-11-05T00:00:00Z,refund,30,,recharge:3:2026-11-01:1,garbage,",
      adjustment("r-2",
                 3,
                 "2026-11-05T00:00:00Z",
                 K::refund,
                 30,
                 0,
                 "recharge:3:2026-11-01:1",
                 std::nullopt,
                 "") },
    { "quotes, SQL and formulas in the reason are text",
      "g,1,2026-11-03T10:00:00Z,grant,1,,,," + csv_cell(hostile),
      adjustment("g", 1, "2026-11-03T10:00:00Z", K::grant, 1, 0, "", std::nullopt, hostile) },
    { "a NUL and a line break in the reason",
      "g,1,2026-11-03T10:00:00Z,grant,1,,,,\"a\0b\r\nc\""s,
      adjustment("g", 1, "2026-11-03T10:00:00Z", K::grant, 1, 0, "", std::nullopt, "a\0b\r\nc"s) },
    { "200 characters of four bytes each",
      "g,1,2026-11-03T10:00:00Z,grant,1,,,," + emoji,
      adjustment("g", 1, "2026-11-03T10:00:00Z", K::grant, 1, 0, "", std::nullopt, emoji) },
    { "the largest values",
      std::string(64, 'a')
        + ",9223372036854775807,9999-12-31T23:59:59Z,debit,1000000000000,1000000000000,,,",
      adjustment(std::string(64, 'a').c_str(),
                 9223372036854775807LL,
                 "9999-12-31T23:59:59Z",
                 K::debit,
                 k_amount_max,
                 k_amount_max,
                 "",
                 std::nullopt,
                 "") },
  };
  expect_good(header_of(k_adjustment_format, k_adjustment_header), cases, parse_adjustment_row);
}

TEST(ImportRowsTest, BadAdjustmentRowsAreRejectedWithTheFirstReason)
{
  const std::string at = ",1,2026-11-03T10:00:00Z,"; // between adjustment_id and kind
  const std::vector<Bad> cases = {
    { "a stray quote", "a" + at + "grant,1,,,,\"r\"x", { R::bad_csv, "bad_quote" } },
    { "invalid UTF-8 in the reason", "a" + at + "grant,1,,,,caf\xE9", { R::invalid_utf8, "" } },
    { "too few cells", "a" + at + "grant,1,,,", { R::bad_column_count, "8 fields, header has 9" } },
    { "empty id", at + "grant,1,,,,", { R::bad_id, "adjustment_id ''" } },
    { "a quote in the id", "a'1" + at + "grant,1,,,,", { R::bad_id, "adjustment_id 'a'1'" } },
    { "the id is checked first", "a 1,x,x,x,x,x,x,x,x", { R::bad_id, "adjustment_id 'a 1'" } },
    { "account as text",
      "a,x,2026-11-03T10:00:00Z,grant,1,,,,",
      { R::bad_number, "account_id 'x'" } },
    { "no effective_at",
      "a,1,,grant,1,,,,",
      { R::bad_timestamp, "effective_at '' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "a date only",
      "a,1,2026-11-03,grant,1,,,,",
      { R::bad_timestamp, "effective_at '2026-11-03' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "an offset",
      "a,1,2026-11-03T10:00:00+01:00,grant,1,,,,",
      { R::bad_timestamp, "effective_at '2026-11-03T10:00:00+01:00' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "the instant before the kind",
      "a,1,x,bonus,x,,,,",
      { R::bad_timestamp, "effective_at 'x' (YYYY-MM-DDTHH:MM:SSZ)" } },
    { "another kind",
      "a" + at + "bonus,1,,,,",
      { R::bad_kind, "kind 'bonus' (grant, debit or refund)" } },
    { "upper case",
      "a" + at + "GRANT,1,,,,",
      { R::bad_kind, "kind 'GRANT' (grant, debit or refund)" } },
    { "no kind", "a" + at + ",1,,,,", { R::bad_kind, "kind '' (grant, debit or refund)" } },
    { "a grant without credits", "a" + at + "grant,,,,,", { R::missing_field, "credits" } },
    { "a debit without credits", "a" + at + "debit,,,,,", { R::missing_field, "credits" } },
    { "a grant of 0", "a" + at + "grant,0,,,,", { R::out_of_range, "credits '0'" } },
    { "a negative debit", "a" + at + "debit,-5,,,,", { R::out_of_range, "credits '-5'" } },
    { "a refund of 0", "a" + at + "refund,0,,p,,", { R::out_of_range, "credits '0'" } },
    { "credits above 10^12",
      "a" + at + "grant,1000000000001,,,,",
      { R::out_of_range, "credits '1000000000001'" } },
    { "credits beyond 64 bits",
      "a" + at + "grant,99999999999999999999,,,,",
      { R::out_of_range, "credits '99999999999999999999'" } },
    { "credits as a fraction", "a" + at + "grant,1.5,,,,", { R::bad_number, "credits '1.5'" } },
    { "credits before amount_cents", "a" + at + "grant,x,-1,,,", { R::bad_number, "credits 'x'" } },
    { "a negative amount", "a" + at + "grant,1,-1,,,", { R::out_of_range, "amount_cents '-1'" } },
    { "an amount with a unit",
      "a" + at + "refund,,10USD,p,,",
      { R::bad_number, "amount_cents '10USD'" } },
    { "a refund without purchase_id",
      "a" + at + "refund,,,,,",
      { R::missing_field, "purchase_id (a refund needs one)" } },
    { "a refund with a bad purchase_id",
      "a" + at + "refund,,,\"p'; --\",,",
      { R::bad_id, "purchase_id 'p'; --'" } },
    { "a grant with a bad expiry",
      "a" + at + "grant,1,,,2027-02-30T00:00:00Z,",
      { R::bad_timestamp, "expires_at '2027-02-30T00:00:00Z' (YYYY-MM-DDTHH:MM:SSZ, or empty)" } },
    { "a 201-character reason",
      "a" + at + "grant,1,,,," + std::string(201, 'r'),
      { R::out_of_range, "reason longer than 200 characters" } },
    { "201 characters of two bytes",
      "a" + at + "grant,1,,,," +
        [] {
          std::string s;
          for (int i = 0; i < 201; ++i) {
            s += "\xC3\xA9";
          }
          return s;
        }(),
      { R::out_of_range, "reason longer than 200 characters" } },
  };
  expect_bad<AdjustmentRow>(
    header_of(k_adjustment_format, k_adjustment_header), cases, parse_adjustment_row);
}

} // namespace
} // namespace billing
