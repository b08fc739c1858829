// Rows of the import files (SPEC section 9: plans, accounts, purchases; SPEC
// 14: changes; SPEC 15: adjustments; SPEC 18: rates) and of the payment
// provider's results (SPEC section 7): maps a header row to the columns of
// its format, and validates one record into a typed row or says why it is
// rejected. Pure: no database. The reasons that need stored facts
// (unknown_plan, unknown_account, unknown_key, anchor_in_closed_date,
// effective_in_closed_date, drops_status, conflicting_content,
// currency_mismatch, before_anchor, conflicting_change, no_change,
// unknown_purchase, refund_before_purchase, bad_expiry, and bad_time_zone for
// a well-formed name the system's tzdata does not know) are defined here and
// decided by storage (lib/storage/imports.cpp, rate_import.cpp,
// lifecycle_import.cpp, payments.cpp).
//
// Checks run in a fixed order and the first failure is the reason:
//  - import files: a CSV error (bad_csv), invalid_utf8, bad_column_count, then
//    the columns in file-format order, each fully (missing_field, bad_id,
//    bad_number, out_of_range, bad_cycle, bad_currency, bad_date, bad_flag,
//    bad_timestamp, bad_time_zone, bad_channel, bad_status, bad_action,
//    bad_kind; a column whose meaning depends on an earlier one, such as a
//    change's plan_id on its action, is checked in its own place), then the
//    rules across columns;
//  - payment results: a CSV error or a wrong number of fields
//    (bad_column_count), invalid_utf8, a field too long (out_of_range), then
//    bad_status.
// Cells are taken as written (no trimming). Numbers are plain decimal with an
// optional leading '-': anything else is bad_number; a value outside its
// bounds (domain/limits.hpp) or 64 bits is out_of_range.
//
// A new format (SPEC 14, 15, 18: changes, adjustments, rates) is an
// ImportFormat with its columns, a row struct and a parse function here, new
// ImportReason values if it needs them, and its writer in lib/storage.
#pragma once

#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "domain/rating.hpp"
#include "domain/types.hpp"
#include "ingest/csv_reader.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace billing {

enum class ImportReason
{
  bad_csv, // a CSV error of the record (its detail: bad_quote, ...)
  invalid_utf8,
  bad_column_count,
  missing_field,
  bad_id,
  bad_number,
  out_of_range,
  bad_cycle,
  bad_currency,
  bad_date,
  bad_flag,
  bad_timestamp,
  bad_status,
  bad_time_zone, // not a zone name; storage also rejects a name tzdata lacks
  bad_channel,
  // Decided by storage:
  unknown_plan,
  unknown_account,
  unknown_key,
  anchor_in_closed_date,
  conflicting_content,
  effective_in_closed_date,
  drops_status,
  // Changes (SPEC 14):
  bad_action,
  currency_mismatch,
  before_anchor,
  conflicting_change,
  no_change,
  // Adjustments (SPEC 15):
  bad_kind,
  bad_expiry,
  unknown_purchase,
  refund_before_purchase,
};

// The snake_case reason code ("bad_number", ...).
std::string_view to_string(ImportReason r);
// The reverse of to_string; nullopt for an unknown code.
std::optional<ImportReason> parse_import_reason(std::string_view text);

// Why a row is rejected: the code, and for the operator which column and
// value it was (may be empty). Nothing decides on the detail.
struct ImportRejection
{
  ImportReason reason = ImportReason::bad_csv;
  std::string detail;

  bool operator==(const ImportRejection&) const = default;
};

// The text printed for a rejection: "code", or "code: detail".
std::string describe(const ImportRejection& r);

template<typename Row>
using ImportResult = std::variant<Row, ImportRejection>;

// The header of one format: its columns, required and optional. Other
// columns of a file are ignored; the columns may come in any order.
struct ImportFormat
{
  std::string_view what; // "plan", for messages
  std::span<const std::string_view> required;
  std::span<const std::string_view> optional;
};

inline constexpr std::array<std::string_view, 8> k_plan_columns = {
  "plan_id",          "name",         "cycle",
  "included_credits", "price_cents",  "credit_price_cents_per_1000",
  "currency",         "rollover_cap",
};
inline constexpr std::array<std::string_view, 7> k_account_columns = {
  "account_id",         "plan_id",          "cycle_anchor",          "auto_recharge",
  "recharge_threshold", "recharge_credits", "max_recharges_per_day",
};
inline constexpr std::array<std::string_view, 1> k_account_optional = { "time_zone" };
inline constexpr std::array<std::string_view, 5> k_purchase_columns = {
  "purchase_id", "account_id", "purchased_at", "credits", "amount_cents",
};
inline constexpr std::array<std::string_view, 7> k_rate_columns = {
  "effective_from",   "channel",          "unit_size",     "min_units",
  "credits_per_unit", "charged_statuses", "free_statuses",
};
inline constexpr std::array<std::string_view, 5> k_change_columns = {
  "change_id", "account_id", "effective_date", "action", "plan_id",
};
inline constexpr std::array<std::string_view, 9> k_adjustment_columns = {
  "adjustment_id", "account_id",  "effective_at", "kind",   "credits",
  "amount_cents",  "purchase_id", "expires_at",   "reason",
};
inline constexpr std::array<std::string_view, 2> k_payment_result_required = { "idempotency_key",
                                                                               "status" };
inline constexpr std::array<std::string_view, 2> k_payment_result_optional = { "provider_ref",
                                                                               "failure_reason" };

inline constexpr ImportFormat k_plan_format{ "plan", k_plan_columns, {} };
inline constexpr ImportFormat k_account_format{ "account", k_account_columns, k_account_optional };
inline constexpr ImportFormat k_purchase_format{ "purchase", k_purchase_columns, {} };
inline constexpr ImportFormat k_rate_format{ "rate card", k_rate_columns, {} };
inline constexpr ImportFormat k_change_format{ "change", k_change_columns, {} };
inline constexpr ImportFormat k_adjustment_format{ "adjustment", k_adjustment_columns, {} };
inline constexpr ImportFormat k_payment_result_format{ "payment results",
                                                       k_payment_result_required,
                                                       k_payment_result_optional };

class ImportHeader
{
public:
  // The column map of `header` for `format`, or a one-line message: the row
  // has a CSV error, a required column is missing, or a column of the format
  // appears twice (CsvHeader::from_record).
  static std::variant<ImportHeader, std::string> from_record(const ImportFormat& format,
                                                             const CsvRecord& header);

  const ImportFormat& format() const { return *m_format; }
  // The number of columns of the header row (every data row must have as many).
  std::size_t column_count() const { return m_column_count; }

  // The cell of `column` in `record`, empty for an optional column the header
  // does not have. REQUIRES: `column` is a column of the format; the record
  // has column_count() fields.
  std::string_view cell(const CsvRecord& record, std::string_view column) const;

private:
  ImportHeader() = default;

  const ImportFormat* m_format = nullptr;
  std::size_t m_column_count = 0;
  // Per column of the format (required, then optional): its position.
  std::vector<std::optional<std::size_t>> m_positions;
};

struct PlanRow
{
  std::string plan_id;
  std::string name;
  Cycle cycle = Cycle::monthly;
  Credits included_credits;
  long long price_cents = 0;
  long long credit_price_cents_per_1000 = 0;
  std::string currency;                // three capital letters
  std::optional<Credits> rollover_cap; // nullopt: no cap (the cell is empty)

  bool operator==(const PlanRow&) const = default;
};

struct AccountRow
{
  long long account_id = 0;
  std::string plan_id;
  Date cycle_anchor;
  // Empty recharge cells mean off, 0, 0 and 1 recharge a day.
  bool auto_recharge = false;
  Credits recharge_threshold;
  Credits recharge_credits; // above 0 when auto_recharge is on
  long long max_recharges_per_day = 1;
  // An IANA name as written ("America/New_York"); "UTC" for an empty cell or
  // a file without the column. Its shape is checked here, its existence in
  // the tzdata by storage.
  std::string time_zone = "UTC";

  bool operator==(const AccountRow&) const = default;
};

struct PurchaseRow
{
  std::string purchase_id;
  long long account_id = 0;
  Instant purchased_at;
  Credits credits; // above 0
  long long amount_cents = 0;

  bool operator==(const PurchaseRow&) const = default;
};

// A plan change or cancellation (SPEC 14).
struct ChangeRow
{
  std::string change_id; // an id as purchase_id is
  long long account_id = 0;
  Date effective_date;
  ChangeAction action = ChangeAction::change_plan;
  std::string plan_id; // change_plan: the plan; cancel: empty

  bool operator==(const ChangeRow&) const = default;
};

// An adjustment (SPEC 15).
struct AdjustmentRow
{
  std::string adjustment_id; // an id as purchase_id is
  long long account_id = 0;
  Instant effective_at;
  AdjustmentKind kind = AdjustmentKind::grant;
  // grant, debit: given and > 0. refund: nullopt (all of it) or > 0.
  std::optional<Credits> credits;
  long long amount_cents = 0;        // empty: 0
  std::string purchase_id;           // refund: the purchase or recharge key; else ignored
  std::optional<Instant> expires_at; // grant: given or nullopt; else ignored
  std::string reason;                // at most 200 characters

  bool operator==(const AdjustmentRow&) const = default;
};

enum class PaymentOutcome
{
  succeeded,
  failed
};

// "succeeded" or "failed", as stored in payment_requests.status.
std::string_view to_string(PaymentOutcome o);

struct PaymentResultRow
{
  std::string idempotency_key;
  PaymentOutcome status = PaymentOutcome::succeeded;
  std::string provider_ref;                  // may be empty
  std::optional<std::string> failure_reason; // nullopt when the cell is empty

  bool operator==(const PaymentResultRow&) const = default;
};

// The effective_from of a rate card row (SPEC 18): a date of 1970..9999, or
// 0001-01-01, SPEC 18's "from the beginning", read as k_rate_card_beginning
// (no instant before 1970 can be read, so both rule exactly the same
// events; docs/decisions.md). nullopt for anything else.
std::optional<Date> parse_rate_effective_from(std::string_view text);

// Validate one data record of a file whose header was mapped by `header`.
// Return the row, or the first reason (in the order above) it is rejected.
// REQUIRES: `header` was made for the function's format (k_plan_format, ...).
ImportResult<PlanRow> parse_plan_row(const ImportHeader& header, const CsvRecord& record);
ImportResult<AccountRow> parse_account_row(const ImportHeader& header, const CsvRecord& record);
ImportResult<PurchaseRow> parse_purchase_row(const ImportHeader& header, const CsvRecord& record);
// A rate card row: one RateRule, its basis the channel's. unit_size is
// 1..k_rate_unit_size_max, and empty for ringless (stored as 1); min_units
// and credits_per_unit 0..their bounds; statuses 1-32 characters of
// A-Za-z0-9._:- separated by ';', none twice, none in both lists, at least
// one in all (missing_field), each list at most 200 bytes.
ImportResult<RateRule> parse_rate_row(const ImportHeader& header, const CsvRecord& record);
// A plan change (SPEC 14): change_id an id (bad_id), account_id as in
// purchases, effective_date a date (bad_date), action change_plan or cancel
// (bad_action); plan_id required for change_plan (missing_field, then
// bad_id) and empty for cancel (bad_action: "cancel takes no plan_id").
ImportResult<ChangeRow> parse_change_row(const ImportHeader& header, const CsvRecord& record);
// An adjustment (SPEC 15): adjustment_id an id, account_id, effective_at an
// instant (bad_timestamp), kind grant, debit or refund (bad_kind); credits
// 1..k_amount_max, required for grant and debit (missing_field), optional
// for refund (empty: all of it); amount_cents 0..k_amount_max, empty 0;
// purchase_id required for refund (missing_field, bad_id) and ignored (kept
// empty) otherwise; expires_at an optional instant for grant, ignored
// (nullopt) otherwise; reason at most k_adjustment_reason_chars_max
// characters (out_of_range), any text. Ignored cells are not checked.
ImportResult<AdjustmentRow> parse_adjustment_row(const ImportHeader& header,
                                                 const CsvRecord& record);
ImportResult<PaymentResultRow> parse_payment_result_row(const ImportHeader& header,
                                                        const CsvRecord& record);

} // namespace billing
