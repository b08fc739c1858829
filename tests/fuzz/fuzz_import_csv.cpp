// libFuzzer target for the import side of ingest and for the calendar's text
// forms. One input is used four ways:
//  1. as an import file (plans, accounts, purchases, payment results): read
//     with CsvReader, the header mapped with CsvHeader::from_record for each
//     format, every data record checked against the header like the importers
//     do (lib/storage/imports.cpp, lib/storage/payments.cpp);
//  2. as one raw record for split_csv_record: fields survive a re-encode, and
//     reusing a dirty field vector changes nothing;
//  3. every line and field as a date or an instant: what parse_date accepts
//     prints back to the same text, what parse_instant accepts prints to text
//     that parses back to the same instant (format_instant(parse_instant(x)));
//  4. its first bytes as an instant in the supported range, printed and read
//     back.
// A broken invariant is __builtin_trap(): libFuzzer reports it as a crash.
#include "domain/calendar.hpp"
#include "domain/types.hpp"
#include "ingest/csv_reader.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace billing;

void check(bool condition)
{
  if (!condition) {
    __builtin_trap();
  }
}

// The column names of the import formats. They mirror the column specs in
// lib/storage/imports.cpp and lib/storage/payments.cpp (kept there in an
// anonymous namespace, next to the SQL they feed).
struct ImportFormat
{
  std::span<const std::string_view> required;
  std::span<const std::string_view> optional;
};

constexpr std::array<std::string_view, 8> k_plan_columns = {
  "plan_id",          "name",         "cycle",
  "included_credits", "price_cents",  "credit_price_cents_per_1000",
  "currency",         "rollover_cap",
};
constexpr std::array<std::string_view, 7> k_account_columns = {
  "account_id",         "plan_id",          "cycle_anchor",          "auto_recharge",
  "recharge_threshold", "recharge_credits", "max_recharges_per_day",
};
constexpr std::array<std::string_view, 5> k_purchase_columns = {
  "purchase_id", "account_id", "purchased_at", "credits", "amount_cents",
};
constexpr std::array<std::string_view, 2> k_payment_required = { "idempotency_key", "status" };
constexpr std::array<std::string_view, 2> k_payment_optional = { "provider_ref", "failure_reason" };

const std::array<ImportFormat, 4> k_formats = { {
  { k_plan_columns, {} },
  { k_account_columns, {} },
  { k_purchase_columns, {} },
  { k_payment_required, k_payment_optional },
} };

constexpr std::size_t k_small_record_bytes_max = 32;

// Parses `text` as a date and as an instant and checks the round trips.
void check_calendar_text(std::string_view text)
{
  if (const auto d = parse_date(text)) {
    check(format_date(*d) == text);
    const Ymd ymd = to_ymd(*d);
    check(ymd.year >= 1970 && ymd.year <= 9999);
    check(to_date(ymd) == *d);
  }
  if (const auto t = parse_instant(text)) {
    check(t->us >= 0);
    const std::string printed = format_instant(*t);
    const auto again = parse_instant(printed);
    check(again && *again == *t);
    check(format_instant(*again) == printed);
    // The date part is the text's own, and a valid date.
    check(parse_date(text.substr(0, 10)) == date_of(*t));
    check(printed.starts_with(text.substr(0, 19)));
  }
}

void check_split(std::string_view raw)
{
  std::vector<std::string> fields;
  const auto error = split_csv_record(raw, fields);
  check(!fields.empty());
  std::size_t field_bytes = 0;
  for (const auto& f : fields) {
    field_bytes += f.size();
  }
  check(field_bytes <= raw.size());
  if (raw.find('"') == std::string_view::npos) {
    // No quotes: a plain split on commas, never an error.
    check(!error);
    check(fields.size() == static_cast<std::size_t>(std::count(raw.begin(), raw.end(), ',')) + 1);
  }

  // Reusing a vector full of stale, longer fields gives the same result.
  std::vector<std::string> reused(fields.size() + 3, std::string(40, 'x'));
  check(split_csv_record(raw, reused) == error);
  check(reused == fields);

  // Quoting every field (quotes doubled) and splitting again gives the same
  // fields, without an error, whatever the original text was.
  std::string encoded;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    encoded += i > 0 ? ",\"" : "\"";
    for (const char c : fields[i]) {
      encoded += c;
      if (c == '"') {
        encoded += '"';
      }
    }
    encoded += '"';
  }
  std::vector<std::string> decoded;
  check(!split_csv_record(encoded, decoded));
  check(decoded == fields);
}

void read_import(std::string_view bytes, std::size_t record_bytes_max)
{
  std::istringstream in{ std::string(bytes) };
  CsvReader reader(in, record_bytes_max);
  CsvRecord record;
  std::vector<std::string> resplit;
  std::vector<std::variant<CsvHeader, std::string>> headers;
  long long last_line = 0;
  while (reader.next(record)) {
    check(record.line > last_line && record.line <= reader.lines_read());
    last_line = record.line;
    check(!record.raw.empty() && record.raw.size() <= record_bytes_max);
    if (!record.error) {
      check(!split_csv_record(record.raw, resplit));
      check(resplit == record.fields);
    }
    for (const auto& field : record.fields) {
      check_calendar_text(field);
    }

    if (headers.empty()) {
      for (const ImportFormat& format : k_formats) {
        auto header = CsvHeader::from_record(record, format.required, format.optional);
        check(!header.valueless_by_exception());
        check(!record.error || std::holds_alternative<std::string>(header));
        if (const auto* map = std::get_if<CsvHeader>(&header)) {
          check(map->column_count() == record.fields.size());
          std::vector<std::size_t> seen;
          for (const auto name : format.required) {
            const auto index = map->index_of(name);
            check(index && *index < map->column_count());
            check(std::find(seen.begin(), seen.end(), *index) == seen.end());
            seen.push_back(*index);
          }
          for (const auto name : format.optional) {
            if (const auto index = map->index_of(name)) {
              check(*index < map->column_count());
              check(std::find(seen.begin(), seen.end(), *index) == seen.end());
              seen.push_back(*index);
            }
          }
          check(!map->index_of("no_such_column"));
        } else {
          check(!std::get<std::string>(header).empty());
        }
        headers.push_back(std::move(header));
      }
      continue;
    }

    // A data record as the importers take it: the cells of the known columns
    // of a matching row are there to read.
    for (const auto& header : headers) {
      const auto* map = std::get_if<CsvHeader>(&header);
      if (map == nullptr || record.error || record.fields.size() != map->column_count()) {
        continue;
      }
      for (const ImportFormat& format : k_formats) {
        for (const auto name : format.required) {
          if (const auto index = map->index_of(name)) {
            check(*index < record.fields.size());
          }
        }
      }
    }
  }
  check(!reader.next(record));
}

// The first 8 bytes as an instant within 1970-01-01..9999-12-31.
void check_instant_bytes(std::string_view bytes)
{
  if (bytes.size() < sizeof(std::uint64_t)) {
    return;
  }
  std::uint64_t raw = 0;
  std::memcpy(&raw, bytes.data(), sizeof raw);
  static const long long k_end_us = start_of(parse_date("9999-12-31")->next()).us;
  const Instant t{ static_cast<long long>(raw % static_cast<std::uint64_t>(k_end_us)) };
  const std::string printed = format_instant(t);
  const auto again = parse_instant(printed);
  check(again && *again == t);
  const auto day = parse_date(format_date(date_of(t)));
  check(day && *day == date_of(t));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  read_import(bytes, k_record_bytes_max_default);
  read_import(bytes, k_small_record_bytes_max);
  check_split(bytes);
  check_calendar_text(bytes);
  check_instant_bytes(bytes);
  return 0;
}
