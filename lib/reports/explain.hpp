// `billing explain ACCOUNT --date D` (SPEC 17): one account's closed date in
// words, for a support agent answering "where did my credits go", and the
// same as one JSON object for tools.
//
// explain_account_date() replays the ledger the store read: every lot starts
// at 0 (or, for a lot older than the value books, at its start_remaining at
// value_books.after_date), each entry adds the credits it made or moved in
// (less the overdraft a new lot paid off) and takes what it names (the lots of
// a usage or debit entry's `took`), in the order applied. What the replay
// gives at the start and the end of the date is the opening and closing lots.
// The stored figures of the date (lot_movements, the reconciliation row and
// its values, the current lots after the last date) are then checked against
// the replay; every disagreement is listed, never smoothed over: the books
// and the replay come from the same night, so a difference is a bug.
#pragma once

#include "domain/zone.hpp"
#include "storage/explain_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace billing {

// A lot at one moment (the opening or closing of the date, or when made).
struct ExplainedLot
{
  long long seq = 0;
  std::string name; // lot_name(): plan:<valid_from>, purchase:<id>, ...
  LotKind kind = LotKind::plan;
  long long credits = 0; // remaining at that moment
  long long granted = 0;
  Instant valid_from;
  Instant expires_at;
  long long value_cents = 0;
  long long deferred_cents = 0; // value not released at that moment
};

struct LotCredits
{
  long long seq = 0;
  std::string name;
  long long credits = 0;
};

struct ChannelUsage
{
  std::string channel;
  long long events = 0;
  long long credits = 0;
  long long late_events = 0;
};

// A fact of the date: a ledger entry, or a fact that made none (a plan change
// or cancellation, whose closes and grant are entries of their own; a refund
// that revoked 0).
struct ExplainedFact
{
  std::optional<long long> n; // the entry's n; nullopt without an entry
  std::string key;            // the entry's idempotency key
  // The ledger kind (grant, purchase, ..., refund), or change_plan / cancel.
  std::string kind;
  Instant at;
  bool late = false;
  long long credits = 0; // signed effect on the balance
  // The lot the entry made (grant, purchase, recharge, bonus, rollover_in) or
  // took its credits from (rollover_out, expire, revoke, refund).
  std::optional<ExplainedLot> made;
  std::optional<LotCredits> from;
  std::vector<LotCredits> took;    // usage, debit
  long long into_overdraft = 0;    // usage, debit: what no lot covered
  long long overdraft_paid = 0;    // a new lot: what it paid off at creation
  std::vector<ChannelUsage> usage; // usage: by channel
  std::vector<Date> late_dates;    // usage: the occurred dates of late events
  // An adjustment's (bonus, debit, refund).
  std::string adjustment_id;
  std::string reason;
  long long amount_cents = 0;
  std::optional<Instant> effective_at; // a late fact's own instant
  // A plan change's.
  std::string change_id;
  std::string plan_from;
  std::string plan_to;
  // A revocation's payment request.
  std::string payment_key;
  std::string failure_reason;
  // A refund of 0: the lot it named.
  std::string refund_lot;
};

struct Explanation
{
  long long account_id = 0;
  Date date;
  bool dormant = false; // SPEC 14.4: cancelled, nothing on the books, no facts
  std::string plan_id;  // in force at the end of the date
  std::string plan_name;
  std::string currency;
  bool cancelled = false;                   // at the end of the date
  std::optional<StoredChange> cancelled_by; // the cancellation in force
  std::string time_zone;
  Zone zone;
  std::vector<ExplainedLot> opening_lots; // with credits at the date's 00:00Z
  long long opening_balance = 0;          // net of overdraft
  long long opening_overdraft = 0;
  std::vector<ExplainedFact> facts; // in the order applied
  std::vector<ExplainedLot> closing_lots;
  long long closing_balance = 0;
  long long closing_overdraft = 0;
  bool sending_enabled = false;
  std::optional<std::string> sending_change_reason;
  std::optional<StoredReconciliation> day; // the date's row (none when dormant)
  // Each place where the stored books and the replay disagree.
  std::vector<std::string> discrepancies;
};

// Replays and checks (see above). REQUIRES: books as read_explain_books()
// gives them, and `zone` the zone of books.time_zone. Never throws on books
// that disagree: the disagreement is in `discrepancies`.
Explanation explain_account_date(const ExplainBooks& books, const Zone& zone);

// The explanation in words: the opening lots, each fact on one line (its
// instant in UTC and, for an account in another zone, its local time), the
// closing lots, balance, overdraft and sending, the date's columns and values,
// and the discrepancies, if any.
std::string explain_text(const Explanation& e);

// The same as one JSON object (numbers as integers, instants in SPEC 2's
// text form, each with its local form).
std::string explain_json(const Explanation& e);

} // namespace billing
