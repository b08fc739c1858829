// One usage-log line (SPEC sections 5 and 13.9-13.10): maps the header row to
// columns, validates a record into a rated UsageEvent or says why it is
// rejected. Pure: no database, so unknown_account and conflicting_duplicate are
// only defined here and decided by storage.
//
// Checks run in a fixed order and the first failure is the reason: CSV error
// (line_too_long, bad_quoting), invalid_utf8, bad_column_count, missing_field,
// bad_event_id, bad_number, bad_channel, bad_timestamp, bad_status,
// out_of_range. Fields are taken exactly as written (no trimming). Numbers are
// plain decimal digits with an optional leading '-': anything else is
// bad_number; a negative value, or one too large for 64 bits, is out_of_range.
// The quantity field a channel does not use (duration_s for sms, ...) is not
// checked at all and not kept.
#pragma once

#include "domain/limits.hpp"
#include "domain/rating.hpp"
#include "domain/types.hpp"
#include "ingest/csv_reader.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace billing {

enum class RejectReason
{
  bad_column_count,
  missing_field,
  bad_event_id,
  unknown_account,
  bad_channel, // also: no rate card rule for the channel at the event's date
  bad_status,
  bad_timestamp,
  bad_number,
  out_of_range,
  conflicting_duplicate,
  invalid_utf8,
  line_too_long,
  bad_quoting, // unterminated_quote or bad_quote from the CSV reader
};

// The snake_case reason code ("bad_column_count", ...).
std::string_view to_string(RejectReason r);
// The reverse of to_string; nullopt for an unknown code.
std::optional<RejectReason> parse_reject_reason(std::string_view text);

// The bounds of the cells (k_event_id_chars_max, k_chars_max,
// k_duration_s_max, k_platform_credits_max) are in domain/limits.hpp.

struct UsageEvent
{
  std::string event_id;
  long long account_id = 0;
  Channel channel = Channel::sms;
  Instant occurred_at;
  std::string status;
  std::optional<long long> chars;            // sms, mms only
  std::optional<long long> duration_s;       // voice only
  std::optional<long long> platform_credits; // nullopt when the cell is empty
  long long units = 0;
  Credits credits;

  bool operator==(const UsageEvent&) const = default;
};

// SPEC 13.9: true when a and b carry the same parsed facts (everything but
// event_id and the rating), so a repeat of a is a duplicate, not a conflict.
bool same_facts(const UsageEvent& a, const UsageEvent& b);

// True for 1-64 characters of A-Za-z0-9._:-
bool is_valid_event_id(std::string_view text);

class UsageHeader
{
public:
  // The column map of a usage log's header row, or a one-line message: a
  // required column (event_id, account_id, channel, occurred_at, status) is
  // missing, a known column appears twice, or the row has a CSV error. chars,
  // duration_s and platform_credits are optional columns (absent = empty);
  // other columns are ignored. Names are exact lowercase after trimming blanks.
  static std::variant<UsageHeader, std::string> from_record(const CsvRecord& header);

  std::size_t column_count() const { return m_column_count; }

  // The record's event_id cell as written, for labelling a reject; empty when
  // the record has too few fields.
  std::string_view event_id_of(const CsvRecord& record) const;

private:
  UsageHeader() = default;

  friend std::variant<UsageEvent, RejectReason> parse_usage_record(const UsageHeader& header,
                                                                   const CsvRecord& record,
                                                                   const RateCard& card);

  std::size_t m_column_count = 0;
  std::size_t m_event_id = 0;
  std::size_t m_account_id = 0;
  std::size_t m_channel = 0;
  std::size_t m_occurred_at = 0;
  std::size_t m_status = 0;
  std::optional<std::size_t> m_chars;
  std::optional<std::size_t> m_duration_s;
  std::optional<std::size_t> m_platform_credits;
};

// Validates one data record and rates it with the rule in effect at its date.
// Returns the event, or the first reason (in the order above) it is rejected.
std::variant<UsageEvent, RejectReason> parse_usage_record(const UsageHeader& header,
                                                          const CsvRecord& record,
                                                          const RateCard& card);

} // namespace billing
