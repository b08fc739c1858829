// The lot engine: closes one business date for one account. Given the
// account's state (open lots, overdraft, cycle position), its plan and
// settings, and the facts of the date (purchases, rated usage, revocations,
// plan changes and cancellations, adjustments), it applies them in time order
// (SPEC sections 3, 4, 6, 7, 8, 13, 14, 15 and 16) and returns the new state,
// the ledger entries and the day's reconciliation row, with the money the
// date moved (SPEC 17: each lot's value released as usage, breakage or
// revoked, or moved into a roll-over lot) and one movement row per lot it
// touched.
//
// Pure and deterministic: no clock, no I/O, no database. The same input gives
// the same output, so a re-run or a resume gives the same books.
//
// Invariants kept (checked by the property tests):
//  - no lot has negative remaining; overdraft >= 0 and is non-zero only when
//    no usable lot has credits left at the moment the debt was made;
//  - summary.closing == summary.opening + granted + purchased + adjusted
//    - used - expired - revoked, all net of overdraft;
//  - credits are conserved: sum of granted/purchased/recharged/adjusted ever
//    == remaining + used + expired + revoked (overdraft as negative
//    remaining; a debit counts negative in adjusted);
//  - value (SPEC 17): 0 <= lot.released_cents <= lot.value_cents, and after
//    c of a lot's G granted credits have left it, released_cents ==
//    floor(value_cents * c / G) (all of it once the last credit leaves); per
//    account, the value of every lot sold == usage + breakage + revoked ever
//    + deferred (sum over live lots of value_cents - released_cents).
#pragma once

#include "domain/calendar.hpp"
#include "domain/types.hpp"
#include "domain/zone.hpp"

#include <optional>
#include <string>
#include <vector>

namespace billing {

// Order matters: it is the burn-down tie order for lots expiring together.
// (SPEC 15: rollover, plan, bonus, purchased.)
enum class LotKind
{
  rollover = 0,
  plan = 1,
  bonus = 2, // an adjustment's grant (SPEC 15)
  purchased = 3
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
  // Where it came from, unique per account: "plan:<valid_from>",
  // "rollover:<valid_from>" (instants in SPEC 2's text form; lots made before
  // schema 5 keep "plan:<k>" and "rollover:<k>"), "purchase:<purchase_id>",
  // "recharge:<YYYY-MM-DD>:<i>", "bonus:<adjustment_id>".
  std::string source;
  // SPEC 17, in the plan's currency: a plan lot the plan's price_cents, a
  // purchased lot the purchase's amount_cents, a recharge lot its payment
  // request's amount_cents, a bonus lot the adjustment's amount_cents, a
  // roll-over lot the value its credits carried out of the plan lot.
  long long value_cents = 0;
  // Value released so far: floor(value_cents * (granted - remaining) /
  // granted), so value_cents once remaining is 0 (a lot granted 0 credits
  // releases all of it when it is made, as breakage). Never decreases.
  long long released_cents = 0;

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
  // value_cents and released_cents go from date to date with the lot.
  std::vector<Lot> lots;
  Credits overdraft;
  long long next_lot_seq = 1;
  // Index k of the last plan grant of the cycle anchored at
  // settings.cycle_anchor; -1: none yet (a new account before its R_0). A
  // change_plan sets 0 at its T_E (its grant is cycle 0 of the new anchor,
  // which the result's cycle_anchor carries); while cancelled it is kept as it
  // was and means nothing.
  long long last_cycle_index = -1;
  bool sending_enabled = false;
  // Cancelled (SPEC 14): no plan grant and no recharge until a change_plan
  // reactivates the account.
  bool cancelled = false;

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

enum class ChangeAction
{
  change_plan,
  cancel
};

std::string_view to_string(ChangeAction a);
std::optional<ChangeAction> parse_change_action(std::string_view text);

// A plan change or cancellation (SPEC 14), taking effect at T_E, the local
// midnight of effective_date in the account's zone
// (local_midnight(settings.zone, effective_date)).
struct PlanChange
{
  std::string change_id;
  Date effective_date;
  ChangeAction action = ChangeAction::change_plan;
  Plan plan; // change_plan: the new plan; unused for cancel
};

enum class AdjustmentKind
{
  grant,
  debit,
  refund
};

std::string_view to_string(AdjustmentKind k);
std::optional<AdjustmentKind> parse_adjustment_kind(std::string_view text);

// An adjustment (SPEC 15). Before start_of(date): a late adjustment.
struct Adjustment
{
  std::string adjustment_id;
  long long import_seq = 0; // the order of adjustments at one instant
  Instant effective_at;
  AdjustmentKind kind = AdjustmentKind::grant;
  // grant, debit: > 0. refund: the most to revoke; nullopt: all of it.
  std::optional<Credits> credits;
  long long amount_cents = 0; // grant: the bonus lot's value (SPEC 17)
  // grant: the bonus lot's expiry; nullopt: 12 calendar months after
  // effective_at in the account's zone (as a purchase).
  std::optional<Instant> expires_at;
  // refund: the source of the lot refunded ("purchase:<id>" or the recharge
  // lot's "recharge:<date>:<i>"). A lot not in the state (used up, expired,
  // revoked) revokes 0.
  std::string refund_lot_source;
};

// What an adjustment did: the credits that took effect (a refund: those
// actually revoked, maybe 0).
struct AppliedAdjustment
{
  std::string adjustment_id;
  AdjustmentKind kind = AdjustmentKind::grant;
  Credits credits;

  bool operator==(const AppliedAdjustment&) const = default;
};

struct AccountDayInput
{
  Date date;
  // The plan and the cycle anchor in force at the start of the date (a plan
  // change moves both, SPEC 14).
  Plan plan;
  AccountSettings settings;
  AccountState state;
  std::vector<Purchase> purchases; // unsorted; each applied once
  std::vector<UsageCharge> usage;  // unsorted
  std::vector<Revocation> revocations;
  // Changes whose T_E lies in the date (they are never late: an import
  // rejects a T_E in a closed date); unsorted, at most one per
  // effective_date.
  std::vector<PlanChange> changes;
  std::vector<Adjustment> adjustments; // unsorted; late ones too
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
  bonus,        // an adjustment's grant made a bonus lot (+)
  debit,        // an adjustment's debit (-), charged like usage
  refund,       // an adjustment's refund revoked a lot's credits (-, in revoked)
};

std::string_view to_string(EntryKind k);

// Credits a usage or debit entry took from one lot (SPEC 17's explain).
struct LotTake
{
  long long lot_seq = 0;
  Credits credits;

  bool operator==(const LotTake&) const = default;
};

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
  // usage and debit: the lots the credits came from, in the order taken, one
  // take per lot (the rest went into overdraft). Empty for other kinds.
  std::vector<LotTake> took;
  // grant, purchase, recharge, bonus: the new lot's credits that paid
  // overdraft off at its creation (SPEC 13.6).
  Credits overdraft_paid;
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
  Credits adjusted; // grants minus debits (SPEC 15), signed
  Credits closing;
  Credits overdraft;
  bool sending_enabled = false;
  long long usage_events = 0;
  long long late_events = 0;
  long long late_purchases = 0;

  bool operator==(const DaySummary&) const = default;
};

// The money a date moved for one account (SPEC 17), in `currency`, the
// currency of the plan in force at the end of the date. Deferred is the value
// not yet released, summed over the state's lots (a lot at 0 has released
// all of it):
//   closing_deferred = opening_deferred + sold - usage - breakage - revoked.
// rolled_over_cents moves from plan lots into roll-over lots: it stays
// deferred and is not revenue (it is the roll-over lots' value_cents).
struct DayValues
{
  std::string currency;
  long long opening_deferred_cents = 0;
  long long sold_cents = 0; // value of the lots made this date, roll-over lots not
  // Released by credits used: usage, debits, and overdraft paid off by a new
  // lot at its creation.
  long long usage_cents = 0;
  // Released by credits expired (above the roll-over cap at a close too), and
  // the value of a lot made with 0 credits.
  long long breakage_cents = 0;
  long long revoked_cents = 0; // released by failed payments and refunds
  long long rolled_over_cents = 0;
  long long closing_deferred_cents = 0;

  bool operator==(const DayValues&) const = default;
};

// One lot's movements on a date (SPEC 17's lots export): for each lot made
// that date or that credits left that date (a lot expiring with 0 remaining
// has none). opening is the remaining at the start of the date (0 for a lot
// made that date); created its granted credits when made that date; used
// counts usage, debits and overdraft paid off at creation; closing its
// remaining at the end:
//   closing = opening + created - used - expired - revoked - rolled_out.
// released_cents is the value the lot released that date, the part that
// moved into a roll-over lot included.
struct LotMovement
{
  long long lot_seq = 0;
  Credits opening;
  Credits created;
  Credits used;
  Credits expired;
  Credits revoked;
  Credits rolled_out;
  Credits closing;
  long long released_cents = 0;

  bool operator==(const LotMovement&) const = default;
};

struct AccountDayResult
{
  AccountState state;
  std::vector<LedgerEntry> entries;
  std::vector<RechargeRequest> recharges;
  DaySummary summary;
  bool sending_changed = false;
  // Every lot the date saw (the input lots and the new ones) with its final
  // remaining, 0 included, so storage can write what changed (value_cents
  // and released_cents too).
  std::vector<Lot> lots_touched;
  DayValues values;
  // Sorted by lot_seq; only lots made this date or that credits left.
  std::vector<LotMovement> lot_movements;
  // The plan and cycle anchor in force at the end of the date (the input's
  // unless a change took effect).
  std::string plan_id;
  Date cycle_anchor;
  std::vector<std::string> applied_changes;           // change_ids, in the order applied
  std::vector<AppliedAdjustment> applied_adjustments; // in the order applied
  // SPEC 14 dormant date: the account was cancelled before the date began,
  // opening and closing 0, no overdraft, no lot with credits, every column 0
  // and no fact at all. Such a date has no reconciliation row.
  bool dormant = false;
};

// The balance that counts at the end of a date (SPEC 13.2): every lot in the
// state minus overdraft.
Credits balance(const AccountState& state);

// SPEC 17's floor rule: the value a lot of `granted` credits worth
// `value_cents` has released once only `remaining` are left,
// floor(value_cents * (granted - remaining) / granted), in 128 bits (all of
// it for a lot granted 0 credits). REQUIRES: 0 <= remaining <= granted.
long long released_cents_at(long long value_cents, Credits granted, Credits remaining);

// amount_cents = (credits * price_per_1000 + 500) div 1000. Throws
// std::overflow_error on overflow.
long long recharge_amount_cents(Credits credits, long long credit_price_cents_per_1000);

// Closes input.date for one account. Order at one instant (SPEC 14, 13.5):
// expiries and the closing of a plan lot (by reset, change or cancel), then
// the new plan grant, then purchases, then adjustments in import order, then
// usage. Late facts first (revocations, then late purchases, adjustments and
// usage in their own time order), as SPEC 13.4 and 15 say.
// REQUIRES: input.date is on or after the day before the anchor in force
// (an account takes part from the UTC date that holds R_0,
// first_business_date(): the anchor, or the day before east of UTC; a
// change's anchor is its effective_date, whose T_E lies in that date or the
// one before); every usage, purchase and adjustment instant <
// start_of(input.date.next()); every change's T_E in [start_of(input.date),
// start_of(input.date.next())), at most one per instant; credits of the plans
// (the input's and the changes'), rollover_cap, purchases and usage >= 0; an
// adjustment's credits > 0 when given, and given for a grant and a debit; a
// grant's expires_at after its effective_at; at most one plan lot with
// credits; lot seqs unique and < next_lot_seq; plans' price_cents, purchases'
// and grants' amount_cents >= 0; each lot's 0 <= released_cents <=
// floor(value_cents * (granted - remaining) / granted) (a consistent lot
// has equality). Cycle resets missed before the
// date (state behind its anchor) are caught up at its 00:00; a reset at a
// change's T_E is replaced by the change.
//
// New lots are named (Lot::source) "plan:<valid_from>" and
// "rollover:<valid_from>" (format_instant), "bonus:<adjustment_id>"; the
// current plan lot is found by kind (the plan lot with credits), never by its
// source, so lots named "plan:<k>" before schema 5 close as well. Late
// adjustments' entries are at the date's 00:00 and marked late (all three
// kinds, like a late purchase's); the usage entry is never marked late.
AccountDayResult close_account_day(AccountDayInput input);

} // namespace billing
