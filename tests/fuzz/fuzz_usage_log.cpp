// libFuzzer target: the input is a whole usage-log file. It is read twice with
// billing::CsvReader, once with the default record limit and once with a tiny
// one (so line_too_long and the resynchronisation after it are reached with
// small inputs), and every record goes through UsageHeader::from_record (the
// first) or parse_usage_record (the rest) with RateCard::defaults().
//
// A crash, a sanitizer report, an uncaught exception or a broken invariant
// (__builtin_trap) is a finding. The invariants are the reader's and the
// validator's documented contracts:
//  - record line numbers strictly increase and never pass lines_read();
//  - raw is never empty and never longer than the record limit;
//  - a record without a CSV error re-splits to the same fields, cleanly;
//  - lines_read() ends at the number of physical lines after the BOM;
//  - every data record yields exactly one outcome, the same one twice, and a
//    CSV error maps to line_too_long / bad_quoting;
//  - an accepted event satisfies the field rules of SPEC section 5.
#include "domain/calendar.hpp"
#include "domain/rating.hpp"
#include "ingest/csv_reader.hpp"
#include "ingest/usage_line.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace billing;

// Small enough that fuzzer-sized inputs hit line_too_long; larger than the
// shortest valid data line ("e,1,ringless,1970-01-01T00:00:00Z,delivered").
constexpr std::size_t k_small_record_bytes_max = 48;

// Used for the data records when the file's own header row is rejected, so the
// validator is exercised whatever the first line holds.
constexpr std::string_view k_fallback_header =
  "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits";

void check(bool condition)
{
  if (!condition) {
    __builtin_trap();
  }
}

const RateCard& card()
{
  static const RateCard k_card = RateCard::defaults();
  return k_card;
}

const UsageHeader& fallback_header()
{
  static const UsageHeader k_header = [] {
    std::istringstream in{ std::string(k_fallback_header) };
    CsvReader reader(in);
    CsvRecord record;
    check(reader.next(record));
    auto header = UsageHeader::from_record(record);
    check(std::holds_alternative<UsageHeader>(header));
    return std::get<UsageHeader>(header);
  }();
  return k_header;
}

// Physical lines of `text` once a leading UTF-8 BOM is dropped: every '\n'
// ends one, and bytes after the last '\n' make one more.
long long physical_lines(std::string_view text)
{
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  const auto newlines = std::count(text.begin(), text.end(), '\n');
  return newlines + (text.empty() || text.back() == '\n' ? 0 : 1);
}

void check_event(const UsageEvent& e, const CsvRecord& record, const UsageHeader& header)
{
  check(is_valid_event_id(e.event_id));
  check(header.event_id_of(record) == e.event_id);
  check(e.account_id >= 1);
  check(e.units >= 0 && e.credits.n >= 0);
  check(!e.platform_credits || *e.platform_credits >= 0);
  check(is_valid_utf8(record.raw));
  // The instant is one the calendar can print and read back.
  const auto again = parse_instant(format_instant(e.occurred_at));
  check(again && *again == e.occurred_at);
  const RateRule* rule = card().rule_for(e.channel, date_of(e.occurred_at));
  check(rule != nullptr && rule->lists(e.status));
  switch (unit_basis_of(e.channel)) {
    case UnitBasis::characters:
      check(e.chars && *e.chars >= 0 && *e.chars <= k_chars_max && !e.duration_s);
      break;
    case UnitBasis::seconds:
      check(e.duration_s && *e.duration_s >= 0 && *e.duration_s <= k_duration_s_max && !e.chars);
      break;
    case UnitBasis::event:
      check(!e.chars && !e.duration_s);
      break;
  }
  check(!rule->charges(e.status) || e.units >= std::max(rule->min_units, 0LL));
  check(rule->charges(e.status) || (e.units == 0 && e.credits.n == 0));
  check(e.credits.n == e.units * rule->credits_per_unit);
}

void check_outcome(const std::variant<UsageEvent, RejectReason>& outcome,
                   const CsvRecord& record,
                   const UsageHeader& header)
{
  check(!outcome.valueless_by_exception());
  if (const auto* reason = std::get_if<RejectReason>(&outcome)) {
    // Storage decides these two; the pure validator never does.
    check(*reason != RejectReason::unknown_account
          && *reason != RejectReason::conflicting_duplicate);
    check(parse_reject_reason(to_string(*reason)) == *reason);
    if (record.error) {
      check(*reason
            == (*record.error == CsvError::line_too_long ? RejectReason::line_too_long
                                                         : RejectReason::bad_quoting));
    }
    return;
  }
  check(!record.error);
  check_event(std::get<UsageEvent>(outcome), record, header);
}

void read_file(std::string_view bytes, std::size_t record_bytes_max)
{
  std::istringstream in{ std::string(bytes) };
  CsvReader reader(in, record_bytes_max);
  CsvRecord record;
  std::vector<std::string> resplit;
  std::optional<UsageHeader> header;
  long long last_line = 0;
  long long records = 0;
  long long outcomes = 0;

  while (reader.next(record)) {
    ++records;
    check(record.line > last_line);
    check(record.line <= reader.lines_read());
    last_line = record.line;
    check(!record.raw.empty());
    check(record.raw.size() <= record_bytes_max);
    check(!record.fields.empty());
    if (record.error == CsvError::unterminated_quote) {
      // Only the first physical line of an unclosed quote is the record.
      check(record.raw.find('\n') == std::string::npos);
    }
    if (!record.error) {
      check(!split_csv_record(record.raw, resplit));
      check(resplit == record.fields);
    }

    if (records == 1) {
      auto mapped = UsageHeader::from_record(record);
      check(!mapped.valueless_by_exception());
      // A header row with a CSV error is never accepted.
      check(!record.error || std::holds_alternative<std::string>(mapped));
      if (auto* message = std::get_if<std::string>(&mapped)) {
        check(!message->empty());
        header = fallback_header();
      } else {
        header = std::get<UsageHeader>(mapped);
        check(header->column_count() == record.fields.size());
      }
      continue;
    }

    const auto outcome = parse_usage_record(*header, record, card());
    check_outcome(outcome, record, *header);
    ++outcomes;
    // Deterministic: the same record gives the same outcome.
    check(parse_usage_record(*header, record, card()) == outcome);
  }
  check(outcomes == std::max(records - 1, 0LL));
  check(reader.lines_read() == physical_lines(bytes));
  check(reader.blank_lines() <= reader.lines_read());
  check(last_line <= reader.lines_read());
  // End of input is sticky.
  check(!reader.next(record));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  read_file(bytes, k_record_bytes_max_default);
  read_file(bytes, k_small_record_bytes_max);
  return 0;
}
