// The lot engine: closes one business date for one account. Given the
// account's state (open lots, overdraft, cycle position), its plan and
// settings, and the facts of the date (purchases, rated usage, revocations),
// it applies them in time order (SPEC sections 3, 4, 6, 7, 8 and 13) and
// returns the new state, the ledger entries and the day's reconciliation row.
//
// Pure and deterministic: no clock, no I/O, no database. The same input gives
// the same output, so a re-run or a resume gives the same books.
//
// Invariants kept (checked by the property tests):
//  - no lot has negative remaining; overdraft >= 0 and is non-zero only when
//    no usable lot has credits left at the moment the debt was made;
//  - summary.closing == summary.opening + granted + purchased - used
//    - expired - revoked, all net of overdraft;
//  - credits are conserved: sum of granted/purchased/recharged ever ==
//    remaining + used + expired + revoked (overdraft as negative remaining).
#pragma once

#include "domain/calendar.hpp"
#include "domain/types.hpp"
#include "domain/zone.hpp"

#include <optional>
#include <string>
#include <vector>

namespace billing {

// Order matters: it is the burn-down tie order for lots expiring together.
enum class LotKind
{
  rollover = 0,
  plan = 1,
  purchased = 2
};

std::string_view to_string(LotKind k);
std::optional<LotKind> parse_lot_kind(std::string_view text);

struct Lot
{
  long long seq = 0; // per-account creation order: "the lot made first"
  LotKind kind = LotKind::plan;
  Credits granted;
  Credits remaining;
  Instant valid_from;
  Instant expires_at;
  // Where it came from: "plan:<k>", "rollover:<k>", "purchase:<purchase_id>",
  // "recharge:<YYYY-MM-DD>:<i>". Unique per account.
  std::string source;

  bool operator==(const Lot&) const = default;
};

struct Plan
{
  std::string plan_id;
  Cycle cycle = Cycle::monthly;
  Credits included_credits;
  long long price_cents = 0;
  long long credit_price_cents_per_1000 = 0;
  std::string currency;
  std::optional<Credits> rollover_cap; // nullopt: no cap
};

enum class AutoRecharge
{
  off,
  on
};

struct AccountSettings
{
  long long account_id = 0;
  Date cycle_anchor;
  // Where the account's local wall times are (SPEC 16): cycle starts, roll-over
  // and default expiries. UTC gives exactly the instants of SPEC 3, 4 and 7.
  Zone zone;
  AutoRecharge auto_recharge = AutoRecharge::off;
  Credits recharge_threshold;
  Credits recharge_credits;
  int max_recharges_per_day = 1;
};

// What the engine carries from one date to the next for an account.
struct AccountState
{
  // Lots with remaining > 0 (lots at 0 are dropped from the state; their rows
  // stay in the database). Any order on input; sorted by seq on output.
  std::vector<Lot> lots;
  Credits overdraft;
  long long next_lot_seq = 1;
  long long last_cycle_index = -1; // index k of the last plan grant; -1: none yet
  bool sending_enabled = false;

  bool operator==(const AccountState&) const = default;
};

struct Purchase
{
  std::string purchase_id;
  Instant purchased_at; // before start_of(date): a late purchase
  Credits credits;
  long long amount_cents = 0;
};

// A rated usage event (the rating happened at ingest).
struct UsageCharge
{
  Instant occurred_at; // before start_of(date): a late event
  Credits credits;     // may be 0 (failed, no_answer, ...)
};

// A failed payment: revoke what is left of the lot with this seq.
struct Revocation
{
  long long lot_seq = 0;
  std::string payment_key;
};

struct AccountDayInput
{
  Date date;
  Plan plan;
  AccountSettings settings;
  AccountState state;
  std::vector<Purchase> purchases; // unsorted; each applied once
  std::vector<UsageCharge> usage;  // unsorted
  std::vector<Revocation> revocations;
};

enum class EntryKind
{
  grant,        // plan credits for a new cycle (+)
  purchase,     // an imported purchase (+)
  recharge,     // an auto-recharge lot (+)
  rollover_out, // plan lot closed at a reset (-, moved)
  rollover_in,  // roll-over lot made at a reset (+, moved)
  usage,        // credits used by the date's usage (-), one entry per date
  expire,       // a lot's remaining credits expired (-), also above-cap at reset
  revoke,       // a failed payment revoked a lot's remaining credits (-)
};

std::string_view to_string(EntryKind k);

struct LedgerEntry
{
  // Deterministic and unique across the database:
  // "<account>:<YYYY-MM-DD>:<n>" where n counts the entries of that
  // account-date from 1 in application order.
  std::string idempotency_key;
  EntryKind kind = EntryKind::grant;
  // When it took effect: late facts and revocations at the start of the date,
  // recharges at the start of the next date (when their lot becomes valid).
  Instant at;
  Credits credits;       // signed effect on the balance (rollover_in/out: +/-)
  long long lot_seq = 0; // the lot concerned; 0 for usage
  bool late = false;
};

struct RechargeRequest
{
  std::string idempotency_key; // "recharge:<account>:<YYYY-MM-DD>:<i>", i from 1
  long long lot_seq = 0;
  Credits credits;
  Money amount; // round half up(credits * price_per_1000 / 1000), plan currency
};

// One reconciliation row (SPEC section 10). Balances net of overdraft.
struct DaySummary
{
  Credits opening;
  Credits granted;
  Credits purchased; // purchases and recharges
  Credits rolled_over;
  Credits used;
  Credits expired;
  Credits revoked;
  Credits closing;
  Credits overdraft;
  bool sending_enabled = false;
  long long usage_events = 0;
  long long late_events = 0;
  long long late_purchases = 0;

  bool operator==(const DaySummary&) const = default;
};

struct AccountDayResult
{
  AccountState state;
  std::vector<LedgerEntry> entries;
  std::vector<RechargeRequest> recharges;
  DaySummary summary;
  bool sending_changed = false;
  // Every lot the date saw (the input lots and the new ones) with its final
  // remaining, 0 included, so storage can write what changed.
  std::vector<Lot> lots_touched;
};

// The balance that counts at the end of a date (SPEC 13.2): every lot in the
// state minus overdraft.
Credits balance(const AccountState& state);

// amount_cents = (credits * price_per_1000 + 500) div 1000. Throws
// std::overflow_error on overflow.
long long recharge_amount_cents(Credits credits, long long credit_price_cents_per_1000);

// Closes input.date for one account.
// REQUIRES: input.date is on or after the day before the anchor (an account
// takes part from the UTC date that holds R_0, first_business_date(): the
// anchor, or the day before east of UTC); every usage and purchase instant <
// start_of(input.date.next()); credits of the plan, rollover_cap,
// purchases and usage >= 0; lot seqs unique and < next_lot_seq. Cycle resets
// missed before the date (state behind its anchor) are caught up at its 00:00.
AccountDayResult close_account_day(AccountDayInput input);

} // namespace billing
