#include "ingest/import_rows.hpp"

#include "domain/limits.hpp"
#include "ingest/usage_line.hpp"
#include "util/assert.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace billing {

namespace {

using R = ImportReason;

constexpr std::array k_reasons = {
  std::pair{ R::bad_csv, std::string_view("bad_csv") },
  std::pair{ R::invalid_utf8, std::string_view("invalid_utf8") },
  std::pair{ R::bad_column_count, std::string_view("bad_column_count") },
  std::pair{ R::missing_field, std::string_view("missing_field") },
  std::pair{ R::bad_id, std::string_view("bad_id") },
  std::pair{ R::bad_number, std::string_view("bad_number") },
  std::pair{ R::out_of_range, std::string_view("out_of_range") },
  std::pair{ R::bad_cycle, std::string_view("bad_cycle") },
  std::pair{ R::bad_currency, std::string_view("bad_currency") },
  std::pair{ R::bad_date, std::string_view("bad_date") },
  std::pair{ R::bad_flag, std::string_view("bad_flag") },
  std::pair{ R::bad_timestamp, std::string_view("bad_timestamp") },
  std::pair{ R::bad_status, std::string_view("bad_status") },
  std::pair{ R::bad_time_zone, std::string_view("bad_time_zone") },
  std::pair{ R::bad_channel, std::string_view("bad_channel") },
  std::pair{ R::unknown_plan, std::string_view("unknown_plan") },
  std::pair{ R::unknown_account, std::string_view("unknown_account") },
  std::pair{ R::unknown_key, std::string_view("unknown_key") },
  std::pair{ R::anchor_in_closed_date, std::string_view("anchor_in_closed_date") },
  std::pair{ R::conflicting_content, std::string_view("conflicting_content") },
  std::pair{ R::effective_in_closed_date, std::string_view("effective_in_closed_date") },
  std::pair{ R::drops_status, std::string_view("drops_status") },
  std::pair{ R::bad_action, std::string_view("bad_action") },
  std::pair{ R::currency_mismatch, std::string_view("currency_mismatch") },
  std::pair{ R::before_anchor, std::string_view("before_anchor") },
  std::pair{ R::conflicting_change, std::string_view("conflicting_change") },
  std::pair{ R::no_change, std::string_view("no_change") },
  std::pair{ R::bad_kind, std::string_view("bad_kind") },
  std::pair{ R::bad_expiry, std::string_view("bad_expiry") },
  std::pair{ R::unknown_purchase, std::string_view("unknown_purchase") },
  std::pair{ R::refund_before_purchase, std::string_view("refund_before_purchase") },
};

constexpr long long k_ll_max = std::numeric_limits<long long>::max();

ImportRejection reject(ImportReason reason, std::string detail = {})
{
  return { reason, std::move(detail) };
}

// "column 'text'", the usual detail of a bad cell.
std::string quoted(std::string_view column, std::string_view text)
{
  std::string out(column);
  out += " '";
  out += text;
  out += '\'';
  return out;
}

// The shape of a tzdata zone name: 1-64 characters of A-Za-z0-9/_+-, no
// empty, "." or ".." part (so it can never name a path outside the zoneinfo
// folder). Whether tzdata has it is storage's question.
bool is_zone_name(std::string_view text)
{
  if (text.empty() || text.size() > k_time_zone_name_max) {
    return false;
  }
  std::size_t part = 0;
  for (const char c : text) {
    if (c == '/') {
      if (part == 0) {
        return false;
      }
      part = 0;
      continue;
    }
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '_' || c == '+' || c == '-';
    if (!ok) {
      return false;
    }
    ++part;
  }
  return part > 0;
}

// The checks every import record goes through before its cells are read.
std::optional<ImportRejection> check_import_record(const ImportHeader& header,
                                                   const CsvRecord& record)
{
  if (record.error) {
    return reject(R::bad_csv, std::string(to_string(*record.error)));
  }
  if (!is_valid_utf8(record.raw)) {
    return reject(R::invalid_utf8);
  }
  if (record.fields.size() != header.column_count()) {
    return reject(R::bad_column_count,
                  std::to_string(record.fields.size()) + " fields, header has "
                    + std::to_string(header.column_count()));
  }
  return std::nullopt;
}

// Reads an integer cell within [min, max] into `out`. An empty cell is
// missing_field; text that is not plain decimal is bad_number; a value
// outside the bounds or 64 bits is out_of_range.
std::optional<ImportRejection> read_integer(std::string_view text,
                                            std::string_view column,
                                            long long min,
                                            long long max,
                                            long long& out)
{
  if (text.empty()) {
    return reject(R::missing_field, std::string(column));
  }
  long long value = 0;
  const IntParse parsed = parse_int64(text, value);
  if (parsed == IntParse::bad_number) {
    return reject(R::bad_number, quoted(column, text));
  }
  if (parsed != IntParse::ok || value < min || value > max) {
    return reject(R::out_of_range, quoted(column, text));
  }
  out = value;
  return std::nullopt;
}

// The same for an amount of credits, at most k_amount_max.
std::optional<ImportRejection> read_credits(std::string_view text,
                                            std::string_view column,
                                            long long min,
                                            Credits& out)
{
  return read_integer(text, column, min, k_amount_max, out.n);
}

// An id: 1-64 characters of A-Za-z0-9._:- (the rule of event ids, SPEC 5).
std::optional<ImportRejection> check_id(std::string_view text, std::string_view column)
{
  if (!is_valid_event_id(text)) {
    return reject(R::bad_id, quoted(column, text));
  }
  return std::nullopt;
}

bool is_currency(std::string_view text)
{
  return text.size() == 3
         && std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// auto_recharge: 1/0, true/false, on/off, yes/no, TRUE/FALSE.
std::optional<bool> parse_flag(std::string_view text)
{
  static constexpr std::array<std::pair<std::string_view, bool>, 10> k_flags = { {
    { "1", true },
    { "0", false },
    { "true", true },
    { "false", false },
    { "on", true },
    { "off", false },
    { "yes", true },
    { "no", false },
    { "TRUE", true },
    { "FALSE", false },
  } };
  for (const auto& [word, value] : k_flags) {
    if (text == word) {
      return value;
    }
  }
  return std::nullopt;
}

// An empty cell stands for `fallback`.
std::string_view or_default(std::string_view text, std::string_view fallback)
{
  return text.empty() ? fallback : text;
}

bool is_status_name(std::string_view text)
{
  return !text.empty() && text.size() <= k_status_chars_max && is_valid_event_id(text);
}

// A ';'-separated list of statuses (an empty cell is an empty list).
std::optional<ImportRejection> read_statuses(std::string_view text,
                                             std::string_view column,
                                             std::vector<std::string>& out)
{
  if (text.size() > k_status_list_bytes_max) {
    return reject(R::out_of_range,
                  std::string(column) + " longer than " + std::to_string(k_status_list_bytes_max)
                    + " characters");
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::size_t begin = 0;
  while (true) {
    const std::size_t end = std::min(text.find(';', begin), text.size());
    const std::string_view status = text.substr(begin, end - begin);
    if (!is_status_name(status)) {
      return reject(R::bad_status,
                    quoted(column, text) + ": '" + std::string(status)
                      + "' is not a status (1-32 characters of A-Za-z0-9._:-)");
    }
    if (std::find(out.begin(), out.end(), status) != out.end()) {
      return reject(R::bad_status, quoted(column, text) + ": '" + std::string(status) + "' twice");
    }
    out.emplace_back(status);
    if (end == text.size()) {
      return std::nullopt;
    }
    begin = end + 1;
  }
}

// The characters (code points) of well-formed UTF-8: every byte that does
// not continue a sequence starts one.
std::size_t utf8_chars(std::string_view text)
{
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

} // namespace

std::optional<Date> parse_rate_effective_from(std::string_view text)
{
  if (text == "0001-01-01") {
    return k_rate_card_beginning;
  }
  return parse_date(text);
}

std::string_view to_string(ImportReason r)
{
  for (const auto& [reason, code] : k_reasons) {
    if (reason == r) {
      return code;
    }
  }
  return "unknown";
}

std::optional<ImportReason> parse_import_reason(std::string_view text)
{
  for (const auto& [reason, code] : k_reasons) {
    if (code == text) {
      return reason;
    }
  }
  return std::nullopt;
}

std::string describe(const ImportRejection& r)
{
  std::string out(to_string(r.reason));
  if (!r.detail.empty()) {
    out += ": ";
    out += r.detail;
  }
  return out;
}

std::string_view to_string(PaymentOutcome o)
{
  return o == PaymentOutcome::succeeded ? "succeeded" : "failed";
}

std::variant<ImportHeader, std::string> ImportHeader::from_record(const ImportFormat& format,
                                                                  const CsvRecord& header)
{
  auto mapped = CsvHeader::from_record(header, format.required, format.optional);
  if (auto* message = std::get_if<std::string>(&mapped)) {
    return std::move(*message);
  }
  const CsvHeader& columns = std::get<CsvHeader>(mapped);
  ImportHeader out;
  out.m_format = &format;
  out.m_column_count = columns.column_count();
  for (const auto name : format.required) {
    out.m_positions.push_back(columns.index_of(name));
  }
  for (const auto name : format.optional) {
    out.m_positions.push_back(columns.index_of(name));
  }
  return out;
}

std::string_view ImportHeader::cell(const CsvRecord& record, std::string_view column) const
{
  BILLING_REQUIRE(record.fields.size() == m_column_count);
  std::size_t i = 0;
  const auto is_column = [&](std::string_view name) { return name == column; };
  const auto required =
    std::find_if(m_format->required.begin(), m_format->required.end(), is_column);
  if (required != m_format->required.end()) {
    i = static_cast<std::size_t>(required - m_format->required.begin());
  } else {
    const auto optional =
      std::find_if(m_format->optional.begin(), m_format->optional.end(), is_column);
    BILLING_REQUIRE(optional != m_format->optional.end());
    i = m_format->required.size() + static_cast<std::size_t>(optional - m_format->optional.begin());
  }
  return m_positions[i] ? std::string_view(record.fields[*m_positions[i]]) : std::string_view();
}

ImportResult<PlanRow> parse_plan_row(const ImportHeader& header, const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_plan_format);
  if (auto bad = check_import_record(header, record)) {
    return std::move(*bad);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  PlanRow row;
  row.plan_id = cell("plan_id");
  if (auto bad = check_id(row.plan_id, "plan_id")) {
    return std::move(*bad);
  }
  row.name = cell("name");
  if (row.name.empty()) {
    return reject(R::missing_field, "name");
  }
  if (row.name.size() > k_plan_name_bytes_max) {
    return reject(R::out_of_range,
                  "name longer than " + std::to_string(k_plan_name_bytes_max) + " characters");
  }
  const std::string_view cycle = cell("cycle");
  const std::optional<Cycle> parsed_cycle = parse_cycle(cycle);
  if (!parsed_cycle) {
    return reject(R::bad_cycle, "'" + std::string(cycle) + "' (monthly or annual)");
  }
  row.cycle = *parsed_cycle;
  if (auto bad =
        read_credits(cell("included_credits"), "included_credits", 0, row.included_credits)) {
    return std::move(*bad);
  }
  if (auto bad =
        read_integer(cell("price_cents"), "price_cents", 0, k_amount_max, row.price_cents)) {
    return std::move(*bad);
  }
  if (auto bad = read_integer(cell("credit_price_cents_per_1000"),
                              "credit_price_cents_per_1000",
                              0,
                              k_amount_max,
                              row.credit_price_cents_per_1000)) {
    return std::move(*bad);
  }
  row.currency = cell("currency");
  if (!is_currency(row.currency)) {
    return reject(R::bad_currency, "'" + row.currency + "' (three capital letters, ISO 4217)");
  }
  if (const std::string_view cap = cell("rollover_cap"); !cap.empty()) {
    Credits value;
    if (auto bad = read_credits(cap, "rollover_cap", 0, value)) {
      return std::move(*bad);
    }
    row.rollover_cap = value;
  }
  return row;
}

ImportResult<AccountRow> parse_account_row(const ImportHeader& header, const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_account_format);
  if (auto bad = check_import_record(header, record)) {
    return std::move(*bad);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  AccountRow row;
  if (auto bad = read_integer(cell("account_id"), "account_id", 1, k_ll_max, row.account_id)) {
    return std::move(*bad);
  }
  row.plan_id = cell("plan_id");
  if (auto bad = check_id(row.plan_id, "plan_id")) {
    return std::move(*bad);
  }
  const std::string_view anchor = cell("cycle_anchor");
  const std::optional<Date> parsed_anchor = parse_date(anchor);
  if (!parsed_anchor) {
    return reject(R::bad_date, quoted("cycle_anchor", anchor) + " (YYYY-MM-DD)");
  }
  row.cycle_anchor = *parsed_anchor;
  const std::string_view flag = cell("auto_recharge");
  const std::optional<bool> parsed_flag = flag.empty() ? false : parse_flag(flag);
  if (!parsed_flag) {
    return reject(R::bad_flag, quoted("auto_recharge", flag) + " (1/0, true/false, on/off)");
  }
  row.auto_recharge = *parsed_flag;
  if (auto bad = read_credits(or_default(cell("recharge_threshold"), "0"),
                              "recharge_threshold",
                              0,
                              row.recharge_threshold)) {
    return std::move(*bad);
  }
  if (auto bad = read_credits(
        or_default(cell("recharge_credits"), "0"), "recharge_credits", 0, row.recharge_credits)) {
    return std::move(*bad);
  }
  if (auto bad = read_integer(or_default(cell("max_recharges_per_day"), "1"),
                              "max_recharges_per_day",
                              0,
                              k_max_recharges_per_day_max,
                              row.max_recharges_per_day)) {
    return std::move(*bad);
  }
  if (const std::string_view zone = cell("time_zone"); !zone.empty()) {
    if (!is_zone_name(zone)) {
      return reject(R::bad_time_zone, quoted("time_zone", zone));
    }
    row.time_zone = zone;
  }
  if (row.auto_recharge && row.recharge_credits.n == 0) {
    return reject(R::out_of_range, "recharge_credits must be above 0 when auto_recharge is on");
  }
  return row;
}

ImportResult<PurchaseRow> parse_purchase_row(const ImportHeader& header, const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_purchase_format);
  if (auto bad = check_import_record(header, record)) {
    return std::move(*bad);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  PurchaseRow row;
  row.purchase_id = cell("purchase_id");
  if (auto bad = check_id(row.purchase_id, "purchase_id")) {
    return std::move(*bad);
  }
  if (auto bad = read_integer(cell("account_id"), "account_id", 1, k_ll_max, row.account_id)) {
    return std::move(*bad);
  }
  const std::string_view at = cell("purchased_at");
  const std::optional<Instant> parsed_at = parse_instant(at);
  if (!parsed_at) {
    return reject(R::bad_timestamp, quoted("purchased_at", at) + " (YYYY-MM-DDTHH:MM:SSZ)");
  }
  row.purchased_at = *parsed_at;
  if (auto bad = read_credits(cell("credits"), "credits", 1, row.credits)) {
    return std::move(*bad);
  }
  if (auto bad =
        read_integer(cell("amount_cents"), "amount_cents", 0, k_amount_max, row.amount_cents)) {
    return std::move(*bad);
  }
  return row;
}

ImportResult<RateRule> parse_rate_row(const ImportHeader& header, const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_rate_format);
  if (auto bad = check_import_record(header, record)) {
    return std::move(*bad);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  RateRule row;
  const std::string_view from = cell("effective_from");
  const std::optional<Date> parsed_from = parse_rate_effective_from(from);
  if (!parsed_from) {
    return reject(R::bad_date, quoted("effective_from", from) + " (YYYY-MM-DD, UTC)");
  }
  row.effective_from = *parsed_from;
  const std::string_view channel = cell("channel");
  const std::optional<Channel> parsed_channel = parse_channel(channel);
  if (!parsed_channel) {
    return reject(R::bad_channel, quoted("channel", channel) + " (sms, mms, voice or ringless)");
  }
  row.channel = *parsed_channel;
  row.basis = unit_basis_of(row.channel);
  const std::string_view unit_size = cell("unit_size");
  if (row.basis == UnitBasis::event) {
    if (!unit_size.empty()) {
      return reject(R::out_of_range,
                    quoted("unit_size", unit_size) + " must be empty for ringless");
    }
    row.unit_size = 1;
  } else if (auto bad =
               read_integer(unit_size, "unit_size", 1, k_rate_unit_size_max, row.unit_size)) {
    return std::move(*bad);
  }
  if (auto bad =
        read_integer(cell("min_units"), "min_units", 0, k_rate_min_units_max, row.min_units)) {
    return std::move(*bad);
  }
  if (auto bad = read_integer(cell("credits_per_unit"),
                              "credits_per_unit",
                              0,
                              k_rate_credits_per_unit_max,
                              row.credits_per_unit)) {
    return std::move(*bad);
  }
  if (auto bad =
        read_statuses(cell("charged_statuses"), "charged_statuses", row.charged_statuses)) {
    return std::move(*bad);
  }
  if (auto bad = read_statuses(cell("free_statuses"), "free_statuses", row.free_statuses)) {
    return std::move(*bad);
  }
  if (row.charged_statuses.empty() && row.free_statuses.empty()) {
    return reject(R::missing_field, "charged_statuses and free_statuses are both empty");
  }
  for (const std::string& status : row.charged_statuses) {
    if (std::find(row.free_statuses.begin(), row.free_statuses.end(), status)
        != row.free_statuses.end()) {
      return reject(R::bad_status, "'" + status + "' is both charged and free");
    }
  }
  return row;
}

ImportResult<ChangeRow> parse_change_row(const ImportHeader& header, const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_change_format);
  if (auto bad = check_import_record(header, record)) {
    return std::move(*bad);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  ChangeRow row;
  row.change_id = cell("change_id");
  if (auto bad = check_id(row.change_id, "change_id")) {
    return std::move(*bad);
  }
  if (auto bad = read_integer(cell("account_id"), "account_id", 1, k_ll_max, row.account_id)) {
    return std::move(*bad);
  }
  const std::string_view effective = cell("effective_date");
  const std::optional<Date> parsed_date = parse_date(effective);
  if (!parsed_date) {
    return reject(R::bad_date, quoted("effective_date", effective) + " (YYYY-MM-DD)");
  }
  row.effective_date = *parsed_date;
  const std::string_view action = cell("action");
  const std::optional<ChangeAction> parsed_action = parse_change_action(action);
  if (!parsed_action) {
    return reject(R::bad_action, quoted("action", action) + " (change_plan or cancel)");
  }
  row.action = *parsed_action;
  const std::string_view plan_id = cell("plan_id");
  if (row.action == ChangeAction::cancel) {
    if (!plan_id.empty()) {
      return reject(R::bad_action, "cancel takes no plan_id");
    }
    return row;
  }
  if (plan_id.empty()) {
    return reject(R::missing_field, "plan_id (change_plan needs one)");
  }
  if (auto bad = check_id(plan_id, "plan_id")) {
    return std::move(*bad);
  }
  row.plan_id = plan_id;
  return row;
}

ImportResult<AdjustmentRow> parse_adjustment_row(const ImportHeader& header,
                                                 const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_adjustment_format);
  if (auto bad = check_import_record(header, record)) {
    return std::move(*bad);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  AdjustmentRow row;
  row.adjustment_id = cell("adjustment_id");
  if (auto bad = check_id(row.adjustment_id, "adjustment_id")) {
    return std::move(*bad);
  }
  if (auto bad = read_integer(cell("account_id"), "account_id", 1, k_ll_max, row.account_id)) {
    return std::move(*bad);
  }
  const std::string_view at = cell("effective_at");
  const std::optional<Instant> parsed_at = parse_instant(at);
  if (!parsed_at) {
    return reject(R::bad_timestamp, quoted("effective_at", at) + " (YYYY-MM-DDTHH:MM:SSZ)");
  }
  row.effective_at = *parsed_at;
  const std::string_view kind = cell("kind");
  const std::optional<AdjustmentKind> parsed_kind = parse_adjustment_kind(kind);
  if (!parsed_kind) {
    return reject(R::bad_kind, quoted("kind", kind) + " (grant, debit or refund)");
  }
  row.kind = *parsed_kind;
  const bool refund = row.kind == AdjustmentKind::refund;
  if (const std::string_view credits = cell("credits"); !credits.empty() || !refund) {
    Credits value;
    if (auto bad = read_credits(credits, "credits", 1, value)) {
      return std::move(*bad);
    }
    row.credits = value;
  }
  if (auto bad = read_integer(
        or_default(cell("amount_cents"), "0"), "amount_cents", 0, k_amount_max, row.amount_cents)) {
    return std::move(*bad);
  }
  if (refund) {
    const std::string_view purchase_id = cell("purchase_id");
    if (purchase_id.empty()) {
      return reject(R::missing_field, "purchase_id (a refund needs one)");
    }
    if (auto bad = check_id(purchase_id, "purchase_id")) {
      return std::move(*bad);
    }
    row.purchase_id = purchase_id;
  }
  if (row.kind == AdjustmentKind::grant) {
    if (const std::string_view expires = cell("expires_at"); !expires.empty()) {
      const std::optional<Instant> parsed_expiry = parse_instant(expires);
      if (!parsed_expiry) {
        return reject(R::bad_timestamp,
                      quoted("expires_at", expires) + " (YYYY-MM-DDTHH:MM:SSZ, or empty)");
      }
      row.expires_at = *parsed_expiry;
    }
  }
  row.reason = cell("reason");
  if (utf8_chars(row.reason) > k_adjustment_reason_chars_max) {
    return reject(R::out_of_range,
                  "reason longer than " + std::to_string(k_adjustment_reason_chars_max)
                    + " characters");
  }
  return row;
}

ImportResult<PaymentResultRow> parse_payment_result_row(const ImportHeader& header,
                                                        const CsvRecord& record)
{
  BILLING_REQUIRE(&header.format() == &k_payment_result_format);
  // A CSV error counts as a wrong number of fields here (what the provider
  // sent cannot be split into its columns).
  if (record.error || record.fields.size() != header.column_count()) {
    return reject(R::bad_column_count);
  }
  if (!is_valid_utf8(record.raw)) {
    return reject(R::invalid_utf8);
  }
  const auto cell = [&](std::string_view column) { return header.cell(record, column); };
  const std::string_view key = cell("idempotency_key");
  const std::string_view status = cell("status");
  const std::string_view ref = cell("provider_ref");
  const std::string_view failure = cell("failure_reason");
  if (ref.size() > k_provider_ref_bytes_max || failure.size() > k_failure_reason_bytes_max
      || key.size() > k_idempotency_key_bytes_max) {
    return reject(R::out_of_range, "a field is too long");
  }
  PaymentResultRow row;
  if (status == to_string(PaymentOutcome::succeeded)) {
    row.status = PaymentOutcome::succeeded;
  } else if (status == to_string(PaymentOutcome::failed)) {
    row.status = PaymentOutcome::failed;
  } else {
    return reject(R::bad_status, "'" + std::string(status) + "'");
  }
  row.idempotency_key = key;
  row.provider_ref = ref;
  if (!failure.empty()) {
    row.failure_reason = std::string(failure);
  }
  return row;
}

} // namespace billing
