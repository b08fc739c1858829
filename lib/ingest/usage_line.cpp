#include "ingest/usage_line.hpp"

#include "domain/calendar.hpp"
#include "domain/limits.hpp"

#include <array>
#include <limits>
#include <stdexcept>
#include <utility>

namespace billing {

namespace {

constexpr std::array k_reasons = {
  std::pair{ RejectReason::bad_column_count, std::string_view("bad_column_count") },
  std::pair{ RejectReason::missing_field, std::string_view("missing_field") },
  std::pair{ RejectReason::bad_event_id, std::string_view("bad_event_id") },
  std::pair{ RejectReason::unknown_account, std::string_view("unknown_account") },
  std::pair{ RejectReason::bad_channel, std::string_view("bad_channel") },
  std::pair{ RejectReason::bad_status, std::string_view("bad_status") },
  std::pair{ RejectReason::bad_timestamp, std::string_view("bad_timestamp") },
  std::pair{ RejectReason::bad_number, std::string_view("bad_number") },
  std::pair{ RejectReason::out_of_range, std::string_view("out_of_range") },
  std::pair{ RejectReason::conflicting_duplicate, std::string_view("conflicting_duplicate") },
  std::pair{ RejectReason::invalid_utf8, std::string_view("invalid_utf8") },
  std::pair{ RejectReason::line_too_long, std::string_view("line_too_long") },
  std::pair{ RejectReason::bad_quoting, std::string_view("bad_quoting") },
};

constexpr std::string_view k_required[] = { "event_id",
                                            "account_id",
                                            "channel",
                                            "occurred_at",
                                            "status" };
constexpr std::string_view k_optional[] = { "chars", "duration_s", "platform_credits" };

// A decimal cell: '-'? [0-9]+. Too large for 64 bits is `overflow`, which the
// caller reports as out_of_range rather than bad_number.
struct Number
{
  enum class Kind
  {
    ok,
    bad,
    overflow
  };
  Kind kind = Kind::bad;
  long long value = 0;
};

Number parse_number(std::string_view text)
{
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty()) {
    return {};
  }
  long long magnitude = 0;
  bool overflow = false;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return {};
    }
    overflow = overflow || __builtin_mul_overflow(magnitude, 10, &magnitude)
               || __builtin_add_overflow(magnitude, c - '0', &magnitude);
  }
  if (overflow) {
    return { Number::Kind::overflow, 0 };
  }
  return { Number::Kind::ok, negative ? -magnitude : magnitude };
}

bool in_range(const Number& n, long long low, long long high)
{
  return n.kind == Number::Kind::ok && n.value >= low && n.value <= high;
}

} // namespace

std::string_view to_string(RejectReason r)
{
  for (const auto& [reason, code] : k_reasons) {
    if (reason == r) {
      return code;
    }
  }
  return "unknown";
}

std::optional<RejectReason> parse_reject_reason(std::string_view text)
{
  for (const auto& [reason, code] : k_reasons) {
    if (code == text) {
      return reason;
    }
  }
  return std::nullopt;
}

bool same_facts(const UsageEvent& a, const UsageEvent& b)
{
  return a.account_id == b.account_id && a.channel == b.channel && a.occurred_at == b.occurred_at
         && a.status == b.status && a.chars == b.chars && a.duration_s == b.duration_s
         && a.platform_credits == b.platform_credits;
}

bool is_valid_event_id(std::string_view text)
{
  if (text.empty() || text.size() > k_event_id_chars_max) {
    return false;
  }
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::variant<UsageHeader, std::string> UsageHeader::from_record(const CsvRecord& header)
{
  auto mapped = CsvHeader::from_record(header, k_required, k_optional);
  if (auto* message = std::get_if<std::string>(&mapped)) {
    return std::move(*message);
  }
  const CsvHeader& columns = std::get<CsvHeader>(mapped);
  UsageHeader out;
  out.m_column_count = columns.column_count();
  out.m_event_id = *columns.index_of("event_id");
  out.m_account_id = *columns.index_of("account_id");
  out.m_channel = *columns.index_of("channel");
  out.m_occurred_at = *columns.index_of("occurred_at");
  out.m_status = *columns.index_of("status");
  out.m_chars = columns.index_of("chars");
  out.m_duration_s = columns.index_of("duration_s");
  out.m_platform_credits = columns.index_of("platform_credits");
  return out;
}

std::string_view UsageHeader::event_id_of(const CsvRecord& record) const
{
  return m_event_id < record.fields.size() ? std::string_view(record.fields[m_event_id])
                                           : std::string_view();
}

std::variant<UsageEvent, RejectReason> parse_usage_record(const UsageHeader& header,
                                                          const CsvRecord& record,
                                                          const RateCard& card)
{
  using R = RejectReason;
  if (record.error) {
    return *record.error == CsvError::line_too_long ? R::line_too_long : R::bad_quoting;
  }
  if (!is_valid_utf8(record.raw)) {
    return R::invalid_utf8;
  }
  const auto& fields = record.fields;
  if (fields.size() != header.column_count()) {
    return R::bad_column_count;
  }
  const auto cell = [&fields](std::optional<std::size_t> index) {
    return index ? std::string_view(fields[*index]) : std::string_view();
  };
  const std::string_view event_id = fields[header.m_event_id];
  const std::string_view account_text = fields[header.m_account_id];
  const std::string_view channel_text = fields[header.m_channel];
  const std::string_view occurred_text = fields[header.m_occurred_at];
  const std::string_view status = fields[header.m_status];
  const std::string_view credits_text = cell(header.m_platform_credits);

  if (event_id.empty() || account_text.empty() || channel_text.empty() || occurred_text.empty()
      || status.empty()) {
    return R::missing_field;
  }
  // The quantity a known channel is rated by; an unknown channel is judged
  // bad_channel below, so its quantity is never looked at.
  const std::optional<Channel> channel = parse_channel(channel_text);
  const std::optional<UnitBasis> basis =
    channel ? std::optional(unit_basis_of(*channel)) : std::nullopt;
  std::string_view quantity_text;
  if (basis == UnitBasis::characters) {
    quantity_text = cell(header.m_chars);
  } else if (basis == UnitBasis::seconds) {
    quantity_text = cell(header.m_duration_s);
  }
  const bool needs_quantity = basis && *basis != UnitBasis::event;
  if (needs_quantity && quantity_text.empty()) {
    return R::missing_field;
  }
  if (!is_valid_event_id(event_id)) {
    return R::bad_event_id;
  }

  const Number account_id = parse_number(account_text);
  const Number quantity = needs_quantity ? parse_number(quantity_text) : Number{};
  const Number platform_credits = credits_text.empty() ? Number{} : parse_number(credits_text);
  if (account_id.kind == Number::Kind::bad || (needs_quantity && quantity.kind == Number::Kind::bad)
      || (!credits_text.empty() && platform_credits.kind == Number::Kind::bad)) {
    return R::bad_number;
  }
  if (!channel) {
    return R::bad_channel;
  }
  const std::optional<Instant> occurred_at = parse_instant(occurred_text);
  if (!occurred_at) {
    return R::bad_timestamp;
  }
  const RateRule* rule = card.rule_for(*channel, date_of(*occurred_at));
  if (rule == nullptr) {
    return R::bad_channel;
  }
  if (!rule->lists(status)) {
    return R::bad_status;
  }

  const long long quantity_max = basis == UnitBasis::characters ? k_chars_max : k_duration_s_max;
  if (!in_range(account_id, 1, std::numeric_limits<long long>::max())
      || (needs_quantity && !in_range(quantity, 0, quantity_max))
      || (!credits_text.empty() && !in_range(platform_credits, 0, k_platform_credits_max))) {
    return R::out_of_range;
  }

  UsageEvent out;
  try {
    const Rating rating = rate(*rule, status, needs_quantity ? quantity.value : 0);
    out.units = rating.units;
    out.credits = rating.credits;
  } catch (const std::overflow_error&) {
    return R::out_of_range;
  }
  out.event_id = event_id;
  out.account_id = account_id.value;
  out.channel = *channel;
  out.occurred_at = *occurred_at;
  out.status = status;
  if (basis == UnitBasis::characters) {
    out.chars = quantity.value;
  } else if (basis == UnitBasis::seconds) {
    out.duration_s = quantity.value;
  }
  if (!credits_text.empty()) {
    out.platform_credits = platform_credits.value;
  }
  return out;
}

} // namespace billing
