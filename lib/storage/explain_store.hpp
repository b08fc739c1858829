// The reads behind `billing explain ACCOUNT --date D` (SPEC 17): what the
// books hold about one account around one closed date, as values, for the
// reports layer (reports/explain.hpp) to replay and put into words.
//
// Every read follows a key, so the answer costs the same on a year of books
// for 200,000 accounts as on a day's: the account's lots by (account_id,
// lot_seq), its ledger entries by (account_id, business_date, ...) over the
// dates the replay needs, and the date's reconciliation, lot movements,
// charges, adjustments, plan changes and sending change by their keys. No
// table is scanned.
#pragma once

#include "domain/engine.hpp"
#include "domain/types.hpp"
#include "storage/database.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace billing {

// A lot as stored (lots table), every lot the account ever had.
struct StoredLot
{
  long long seq = 0;
  LotKind kind = LotKind::plan;
  std::string source;
  long long granted = 0;
  long long remaining = 0; // now, after the last date closed
  Instant valid_from;
  Instant expires_at;
  Date created_date;
  long long value_cents = 0;
  long long released_cents = 0;
  // Its remaining when schema 6 was installed (lots older than the value
  // books); nullopt for lots made later.
  std::optional<long long> start_remaining;
};

// A ledger entry as stored; n is the last field of its idempotency key
// ("<account>:<date>:<n>", the order applied within the date).
struct StoredEntry
{
  Date business_date;
  long long n = 0;
  std::string key;
  EntryKind kind = EntryKind::grant;
  Instant at;
  long long credits = 0;
  long long lot_seq = 0;
  bool late = false;
  // usage and debit: the lots the credits came from (empty: none, all of it
  // went into overdraft).
  std::vector<LotTake> took;
  long long overdraft_paid = 0;
};

// One lot_movements row of the date, as the engine made it.
using StoredMovement = LotMovement;

// One reconciliation row (balances net of overdraft, SPEC 10 and 17).
struct StoredReconciliation
{
  long long opening = 0;
  long long granted = 0;
  long long purchased = 0;
  long long rolled_over = 0;
  long long used = 0;
  long long expired = 0;
  long long revoked = 0;
  long long adjusted = 0;
  long long closing = 0;
  long long overdraft = 0;
  bool sending_enabled = false;
  long long usage_events = 0;
  long long late_events = 0;
  long long opening_deferred_cents = 0;
  long long sold_cents = 0;
  long long usage_cents = 0;
  long long breakage_cents = 0;
  long long revoked_cents = 0;
  long long closing_deferred_cents = 0;
};

// One charges row of the date: the usage of one channel and occurred date.
struct StoredCharge
{
  std::string channel;
  Date occurred_date;
  long long events = 0;
  long long units = 0;
  long long credits = 0;
  long long platform_credits = 0;
};

// An adjustment the date applied (SPEC 15).
struct StoredAdjustment
{
  std::string adjustment_id;
  AdjustmentKind kind = AdjustmentKind::grant;
  Instant effective_at;
  std::optional<long long> credits;
  long long amount_cents = 0;
  std::string purchase_id;
  std::string lot_source; // a refund: the source of the lot it revokes
  std::string reason;
  long long import_seq = 0;
  long long applied_credits = 0; // what took effect (a refund: what it revoked)
};

// A plan change or cancellation of the account that a closed date applied.
struct StoredChange
{
  std::string change_id;
  Date effective_date;
  Instant effective_at; // T_E
  ChangeAction action = ChangeAction::change_plan;
  std::string plan_id; // change_plan: the new plan
  Date applied_date;
};

struct StoredPlan
{
  std::string plan_id;
  std::string name;
  std::string currency;
  std::optional<long long> rollover_cap;
};

// The payment request behind a recharge lot the date revoked.
struct StoredPayment
{
  std::string idempotency_key;
  std::string status;
  std::string failure_reason;
};

// Everything explain reads for account `account_id` and date `date`.
struct ExplainBooks
{
  long long account_id = 0;
  Date date;
  std::string imported_plan_id; // the accounts row's plan
  std::string time_zone;        // "UTC" or an IANA name
  Date first_date;              // the first business date it takes part in
  // The last date closed before schema 6 (value_books); the replay starts
  // after it, from the lots' start_remaining.
  std::optional<Date> value_books_after;
  std::vector<StoredLot> lots; // every lot of the account, by seq
  // Entries of the dates after value_books_after up to `date`, in the order
  // applied: by business date, then n.
  std::vector<StoredEntry> entries;
  // The overdraft at the end of value_books_after (its reconciliation row's;
  // 0 without a row or without value books).
  long long base_overdraft = 0;
  std::vector<StoredMovement> movements;            // of `date`, by lot_seq
  std::optional<StoredReconciliation> day;          // of `date` (none: dormant)
  std::optional<StoredReconciliation> previous_day; // of the date before
  std::vector<StoredCharge> charges;                // of `date`
  std::vector<StoredAdjustment> adjustments;        // applied by `date`
  std::vector<StoredChange> changes;                // every applied change of the account, by T_E
  std::vector<StoredPlan> plans;                    // the imported plan and the changes' plans
  std::vector<StoredPayment> revoked_payments;      // of the recharge lots revoked on `date`
  std::optional<std::string> sending_change_reason; // the date's sending change
  std::optional<Date> state_date;                   // account_state: the last date applied to it
};

// Why a question cannot be answered from the books (exit 65 in the CLI).
enum class ExplainRefusalReason
{
  unknown_account,
  date_not_closed,    // no business_days row of status 'complete'
  before_value_books, // closed before schema 6: no took, no movements
  before_first_date,  // the account takes part from a later date
};

struct ExplainRefusal
{
  ExplainRefusalReason reason = ExplainRefusalReason::unknown_account;
  std::optional<Date> date; // before_value_books: the last date without them;
                            // before_first_date: the account's first date
};

// Reads the books for explaining `account_id` on `date`, or why they cannot
// say. Throws std::runtime_error when a stored value is not what the schema
// promises (an unknown kind, a key or took text of another form), and soci
// errors when the database fails.
std::variant<ExplainBooks, ExplainRefusal> read_explain_books(Database& db,
                                                              long long account_id,
                                                              Date date);

} // namespace billing
