// libFuzzer target for the import side of ingest and for the calendar's text
// forms. One input is used four ways:
//  1. as an import file (plans, accounts, purchases, rates, changes,
//     adjustments, payment results): read
//     with CsvReader, its first record mapped with ImportHeader for each
//     format and every data record parsed by that format's row parser
//     (lib/ingest/import_rows), as the importers do. A rejection has a code
//     the parsers may give (never one only storage decides) and a record
//     with a CSV error or invalid UTF-8 is always rejected; a row that is
//     accepted is within the bounds of domain/limits.hpp, and written back
//     as CSV and parsed again it gives the same row;
//  2. as one raw record for split_csv_record: fields survive a re-encode, and
//     reusing a dirty field vector changes nothing;
//  3. every line and field as a date or an instant: what parse_date accepts
//     prints back to the same text, what parse_instant accepts prints to text
//     that parses back to the same instant (format_instant(parse_instant(x)));
//  4. its first bytes as an instant in the supported range, printed and read
//     back.
// A broken invariant is __builtin_trap(): libFuzzer reports it as a crash.
#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "domain/limits.hpp"
#include "domain/rating.hpp"
#include "domain/types.hpp"
#include "ingest/csv_reader.hpp"
#include "ingest/import_rows.hpp"
#include "ingest/usage_line.hpp"
#include "support/csv_text.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace billing;
using billing::testing::csv_cell;

void check(bool condition)
{
  if (!condition) {
    __builtin_trap();
  }
}

const std::array<const ImportFormat*, 7> k_formats = {
  &k_plan_format, &k_account_format, &k_purchase_format,   &k_payment_result_format,
  &k_rate_format, &k_change_format,  &k_adjustment_format,
};

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

std::string join(const std::vector<std::string>& cells)
{
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    out += i > 0 ? "," : "";
    out += cells[i];
  }
  return out;
}

// Accepted rows written back as CSV, in their format's column order.
std::string csv_of(const PlanRow& r)
{
  return join({ csv_cell(r.plan_id),
                csv_cell(r.name),
                std::string(to_string(r.cycle)),
                std::to_string(r.included_credits.n),
                std::to_string(r.price_cents),
                std::to_string(r.credit_price_cents_per_1000),
                csv_cell(r.currency),
                r.rollover_cap ? std::to_string(r.rollover_cap->n) : std::string() });
}

std::string csv_of(const AccountRow& r)
{
  return join({ std::to_string(r.account_id),
                csv_cell(r.plan_id),
                format_date(r.cycle_anchor),
                r.auto_recharge ? "1" : "0",
                std::to_string(r.recharge_threshold.n),
                std::to_string(r.recharge_credits.n),
                std::to_string(r.max_recharges_per_day),
                csv_cell(r.time_zone) });
}

std::string csv_of(const PurchaseRow& r)
{
  return join({ csv_cell(r.purchase_id),
                std::to_string(r.account_id),
                format_instant(r.purchased_at),
                std::to_string(r.credits.n),
                std::to_string(r.amount_cents) });
}

std::string csv_of(const PaymentResultRow& r)
{
  return join({ csv_cell(r.idempotency_key),
                std::string(to_string(r.status)),
                csv_cell(r.provider_ref),
                csv_cell(r.failure_reason.value_or("")) });
}

std::string statuses_of(const std::vector<std::string>& list)
{
  std::string out;
  for (const std::string& status : list) {
    out += out.empty() ? "" : ";";
    out += status;
  }
  return csv_cell(out);
}

std::string csv_of(const RateRule& r)
{
  return join({ format_date(r.effective_from),
                std::string(to_string(r.channel)),
                r.basis == UnitBasis::event ? std::string() : std::to_string(r.unit_size),
                std::to_string(r.min_units),
                std::to_string(r.credits_per_unit),
                statuses_of(r.charged_statuses),
                statuses_of(r.free_statuses) });
}

std::string csv_of(const ChangeRow& r)
{
  return join({ csv_cell(r.change_id),
                std::to_string(r.account_id),
                format_date(r.effective_date),
                std::string(to_string(r.action)),
                csv_cell(r.plan_id) });
}

std::string csv_of(const AdjustmentRow& r)
{
  return join({ csv_cell(r.adjustment_id),
                std::to_string(r.account_id),
                format_instant(r.effective_at),
                std::string(to_string(r.kind)),
                r.credits ? std::to_string(r.credits->n) : std::string(),
                std::to_string(r.amount_cents),
                csv_cell(r.purchase_id),
                r.expires_at ? format_instant(*r.expires_at) : std::string(),
                csv_cell(r.reason) });
}

bool in_bounds(long long v, long long low, long long high)
{
  return v >= low && v <= high;
}

// What an accepted row may hold (SPEC 7, 9; domain/limits.hpp).
void check_row(const PlanRow& r)
{
  check(is_valid_event_id(r.plan_id));
  check(!r.name.empty() && r.name.size() <= k_plan_name_bytes_max);
  check(in_bounds(r.included_credits.n, 0, k_amount_max));
  check(in_bounds(r.price_cents, 0, k_amount_max));
  check(in_bounds(r.credit_price_cents_per_1000, 0, k_amount_max));
  check(r.currency.size() == 3 && std::all_of(r.currency.begin(), r.currency.end(), [](char c) {
          return c >= 'A' && c <= 'Z';
        }));
  check(!r.rollover_cap || in_bounds(r.rollover_cap->n, 0, k_amount_max));
}

void check_row(const AccountRow& r)
{
  check(r.account_id >= 1);
  check(is_valid_event_id(r.plan_id));
  check(parse_date(format_date(r.cycle_anchor)) == r.cycle_anchor);
  check(in_bounds(r.recharge_threshold.n, 0, k_amount_max));
  check(in_bounds(r.recharge_credits.n, 0, k_amount_max));
  check(in_bounds(r.max_recharges_per_day, 0, k_max_recharges_per_day_max));
  check(!r.auto_recharge || r.recharge_credits.n > 0);
  // A zone name can name no path: no '.', no leading, trailing or double '/'.
  check(!r.time_zone.empty() && r.time_zone.size() <= k_time_zone_name_max);
  check(r.time_zone.find('.') == std::string::npos && r.time_zone.front() != '/'
        && r.time_zone.back() != '/' && r.time_zone.find("//") == std::string::npos);
}

void check_row(const PurchaseRow& r)
{
  check(is_valid_event_id(r.purchase_id));
  check(r.account_id >= 1);
  check(r.purchased_at.us >= 0);
  check(in_bounds(r.credits.n, 1, k_amount_max));
  check(in_bounds(r.amount_cents, 0, k_amount_max));
}

void check_row(const PaymentResultRow& r)
{
  check(r.idempotency_key.size() <= k_idempotency_key_bytes_max);
  check(r.provider_ref.size() <= k_provider_ref_bytes_max);
  check(!r.failure_reason
        || (!r.failure_reason->empty() && r.failure_reason->size() <= k_failure_reason_bytes_max));
  check(is_valid_utf8(r.idempotency_key) && is_valid_utf8(r.provider_ref)
        && is_valid_utf8(r.failure_reason.value_or("")));
}

// A rate card row (SPEC 18): the channel's basis, bounded numbers, statuses
// that cannot break the stored ','-joined lists, none twice or in both.
void check_row(const RateRule& r)
{
  check(r.effective_from >= k_rate_card_beginning);
  check(parse_rate_effective_from(format_date(r.effective_from)) == r.effective_from);
  check(r.basis == unit_basis_of(r.channel));
  check(in_bounds(r.unit_size, 1, k_rate_unit_size_max));
  check(r.basis != UnitBasis::event || r.unit_size == 1);
  check(in_bounds(r.min_units, 0, k_rate_min_units_max));
  check(in_bounds(r.credits_per_unit, 0, k_rate_credits_per_unit_max));
  check(!r.charged_statuses.empty() || !r.free_statuses.empty());
  std::vector<std::string> all = r.charged_statuses;
  all.insert(all.end(), r.free_statuses.begin(), r.free_statuses.end());
  for (const std::string& status : all) {
    check(!status.empty() && status.size() <= k_status_chars_max && is_valid_event_id(status));
    check(std::count(all.begin(), all.end(), status) == 1);
  }
  // The most one event can cost fits the platform_credits bound.
  for (const std::string& status : r.charged_statuses) {
    check(rate(r, status, k_chars_max).credits.n <= k_platform_credits_max);
  }
}

// A plan change (SPEC 14): a cancel names no plan, a change_plan an id.
void check_row(const ChangeRow& r)
{
  check(is_valid_event_id(r.change_id));
  check(r.account_id >= 1);
  check(parse_date(format_date(r.effective_date)) == r.effective_date);
  if (r.action == ChangeAction::cancel) {
    check(r.plan_id.empty());
  } else {
    check(is_valid_event_id(r.plan_id));
  }
}

// An adjustment (SPEC 15): credits as its kind needs them, a purchase only
// for a refund, an expiry only for a grant, a reason of at most 200
// characters of UTF-8.
void check_row(const AdjustmentRow& r)
{
  check(is_valid_event_id(r.adjustment_id));
  check(r.account_id >= 1);
  check(r.effective_at.us >= 0);
  check(r.kind == AdjustmentKind::refund || r.credits.has_value());
  check(!r.credits || in_bounds(r.credits->n, 1, k_amount_max));
  check(in_bounds(r.amount_cents, 0, k_amount_max));
  check((r.kind == AdjustmentKind::refund) == !r.purchase_id.empty());
  check(r.purchase_id.empty() || is_valid_event_id(r.purchase_id));
  check(r.kind == AdjustmentKind::grant || !r.expires_at);
  check(!r.expires_at || r.expires_at->us >= 0);
  check(is_valid_utf8(r.reason));
  const auto chars = std::count_if(r.reason.begin(), r.reason.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  check(static_cast<std::size_t>(chars) <= k_adjustment_reason_chars_max);
}

// Only storage can tell these (it needs the stored rows).
bool decided_by_storage(ImportReason r)
{
  switch (r) {
    case ImportReason::unknown_plan:
    case ImportReason::unknown_account:
    case ImportReason::unknown_key:
    case ImportReason::anchor_in_closed_date:
    case ImportReason::conflicting_content:
    case ImportReason::effective_in_closed_date:
    case ImportReason::drops_status:
    case ImportReason::currency_mismatch:
    case ImportReason::before_anchor:
    case ImportReason::conflicting_change:
    case ImportReason::no_change:
    case ImportReason::bad_expiry:
    case ImportReason::unknown_purchase:
    case ImportReason::refund_before_purchase:
      return true;
    default:
      return false;
  }
}

// One data record through `parse`; an accepted row is checked and re-parsed
// from its canonical CSV under the format's own header.
template<typename Row>
void check_record(const ImportHeader& header,
                  const CsvRecord& record,
                  ImportResult<Row> (*parse)(const ImportHeader&, const CsvRecord&))
{
  const ImportResult<Row> got = parse(header, record);
  if (const auto* bad = std::get_if<ImportRejection>(&got)) {
    check(parse_import_reason(to_string(bad->reason)) == bad->reason);
    check(!decided_by_storage(bad->reason));
    check(!describe(*bad).empty());
    return;
  }
  check(!record.error);
  check(is_valid_utf8(record.raw));
  check(record.fields.size() == header.column_count());
  const Row& row = std::get<Row>(got);
  check_row(row);

  const ImportFormat& format = header.format();
  std::vector<std::string> names(format.required.begin(), format.required.end());
  names.insert(names.end(), format.optional.begin(), format.optional.end());
  std::istringstream in(join(names) + "\n" + csv_of(row) + "\n");
  CsvReader reader(in);
  CsvRecord canonical_header;
  CsvRecord canonical;
  check(reader.next(canonical_header) && reader.next(canonical) && !reader.next(canonical_header));
  const auto mapped = ImportHeader::from_record(format, canonical_header);
  check(std::holds_alternative<ImportHeader>(mapped));
  const ImportResult<Row> again = parse(std::get<ImportHeader>(mapped), canonical);
  check(std::holds_alternative<Row>(again) && std::get<Row>(again) == row);
}

void read_import(std::string_view bytes, std::size_t record_bytes_max)
{
  std::istringstream in{ std::string(bytes) };
  CsvReader reader(in, record_bytes_max);
  CsvRecord record;
  std::vector<std::string> resplit;
  std::vector<std::optional<ImportHeader>> headers; // per format, once the first record is read
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
      for (const ImportFormat* format : k_formats) {
        auto header = ImportHeader::from_record(*format, record);
        check(!header.valueless_by_exception());
        check(!record.error || std::holds_alternative<std::string>(header));
        if (auto* map = std::get_if<ImportHeader>(&header)) {
          check(map->column_count() == record.fields.size());
          check(&map->format() == format);
          headers.emplace_back(std::move(*map));
        } else {
          check(!std::get<std::string>(header).empty());
          headers.emplace_back();
        }
      }
      continue;
    }

    // A data record as the importers take it, for each format whose header
    // the first record was.
    if (headers[0]) {
      check_record<PlanRow>(*headers[0], record, parse_plan_row);
    }
    if (headers[1]) {
      check_record<AccountRow>(*headers[1], record, parse_account_row);
    }
    if (headers[2]) {
      check_record<PurchaseRow>(*headers[2], record, parse_purchase_row);
    }
    if (headers[3]) {
      check_record<PaymentResultRow>(*headers[3], record, parse_payment_result_row);
    }
    if (headers[4]) {
      check_record<RateRule>(*headers[4], record, parse_rate_row);
    }
    if (headers[5]) {
      check_record<ChangeRow>(*headers[5], record, parse_change_row);
    }
    if (headers[6]) {
      check_record<AdjustmentRow>(*headers[6], record, parse_adjustment_row);
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
