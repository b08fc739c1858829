#include "domain/engine.hpp"

#include "util/assert.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace billing {

namespace {

constexpr long long k_purchase_lifetime_months = 12; // purchases, recharges, bonus lots

enum class Late
{
  no,
  yes
};
// A roll-over lot only moves credits; every other new lot pays debt first
// (SPEC 13.6).
enum class PaysOverdraft
{
  no,
  yes
};

// Burn-down order (SPEC 6, 13.7, 15): soonest expiry, then kind (rollover,
// plan, bonus, purchased), then the older lot (earlier valid_from, then the
// one made first).
bool burns_before(const Lot& a, const Lot& b)
{
  return std::tie(a.expires_at, a.kind, a.valid_from, a.seq)
         < std::tie(b.expires_at, b.kind, b.valid_from, b.seq);
}

bool usable_at(const Lot& lot, Instant t)
{
  return lot.valid_from <= t && t < lot.expires_at;
}

Credits negated(Credits c)
{
  return Credits{} - c;
}

// How credits leave a lot; it says where the value they release goes (SPEC
// 17): usage, breakage, revoked, or into a roll-over lot.
enum class Leave
{
  used,
  expired,
  revoked,
  rolled_out
};

// The value a lot has released once its credits have left down to its
// remaining (SPEC 17).
long long released_target(const Lot& lot)
{
  return released_cents_at(lot.value_cents, lot.granted, lot.remaining);
}

// The value not yet released (a lot at 0 remaining has released all of it).
long long deferred_cents(const std::vector<Lot>& lots)
{
  long long total = 0;
  for (const Lot& lot : lots) {
    total = checked_add(total, lot.value_cents - lot.released_cents);
  }
  return total;
}

// One account-date being closed. The input is consumed (moved from); the
// object is used once, through run().
//
// The plan and the cycle anchor start as the input's and move at a
// change_plan's T_E (m_plan, m_anchor); resets follow them. While the account
// is cancelled there is no pending reset at all.
class DayCloser
{
public:
  explicit DayCloser(AccountDayInput& input)
    : m_in(input)
    , m_day_start(start_of(input.date))
    , m_day_end(start_of(input.date.next()))
    , m_date_text(format_date(input.date))
    , m_key_prefix(std::to_string(input.settings.account_id) + ":" + m_date_text + ":")
  {
  }

  DayCloser(const DayCloser&) = delete;
  DayCloser& operator=(const DayCloser&) = delete;

  AccountDayResult run();

private:
  void sort_inputs();
  void apply_late_facts();
  void apply_timeline();
  void apply_instant(Instant t);
  void apply_reset(long long k, Instant t);
  void apply_change(const PlanChange& c, Instant t);
  void close_plan_lot(Instant made_at, Instant t);
  void grant_plan(Instant valid_from, Instant expires_at, Instant t);
  void expire_due(Instant t);
  void apply_revocation(const Revocation& r);
  void apply_purchase(const Purchase& p, Late late);
  void apply_adjustment(const Adjustment& a, Late late);
  void apply_usage(const UsageCharge& u, Instant t);
  void charge(Credits credits, Instant t, std::vector<LotTake>& took);
  long long leave(std::size_t index, Credits credits, Leave how);
  void apply_auto_recharge();
  bool is_dormant(bool cancelled_at_start, bool lots_at_start) const;
  // value_cents is the lot's; a roll-over lot's is not counted as sold.
  std::size_t add_lot(Lot lot, PaysOverdraft pays);
  void add_entry(EntryKind kind, Instant at, Credits credits, long long lot_seq, Late late);
  bool reset_pending() const { return !m_out.state.cancelled && m_next_reset < m_day_end; }
  Instant next_reset_instant() const { return std::max(m_next_reset, m_day_start); }
  Instant next_expiry_instant() const;

  AccountDayInput& m_in;
  const Instant m_day_start;
  const Instant m_day_end;
  const std::string m_date_text;
  const std::string m_key_prefix;

  AccountDayResult m_out;
  std::vector<Lot>& m_lots = m_out.state.lots;
  // Indices into m_lots in burn-down order; kept sorted as lots are added.
  std::vector<std::size_t> m_burn_order;
  // m_moves[i]: the date's movements of m_lots[i] (SPEC 17's lots export);
  // the rows of untouched lots are dropped at the end.
  std::vector<LotMovement>& m_moves = m_out.lot_movements;
  long long m_first_new_seq = 0; // lots with seq >= it were made this date
  Plan m_plan;                   // in force now
  Date m_anchor;                 // in force now
  Instant m_next_reset;
  std::vector<Instant> m_change_at; // T_E of m_in.changes[i] (sorted)

  std::size_t m_late_purchases = 0;   // purchases[0, m_late_purchases) are late
  std::size_t m_late_adjustments = 0; // adjustments[0, m_late_adjustments) are late
  std::size_t m_late_usage = 0;       // usage[0, m_late_usage) are late
  std::size_t m_next_purchase = 0;    // next on-time purchase to apply
  std::size_t m_next_adjustment = 0;  // next on-time adjustment to apply
  std::size_t m_next_usage = 0;       // next on-time usage event to apply
  std::size_t m_next_change = 0;      // next change to apply
  std::size_t m_usage_applied = 0;
  Credits m_usage_total;
  std::vector<LotTake> m_usage_took; // the date's usage, all events
  Credits m_overdraft_paid;          // by the lot add_lot made last
  long long m_entry_count = 0;
};

AccountDayResult DayCloser::run()
{
  const AccountSettings& settings = m_in.settings;
  // The first business date is the anchor or, east of UTC, the day before
  // (first_business_date). Not computed here: the stored first date of an
  // account made under an older tzdata may be a day earlier than today's
  // rules give, and such a date is a quiet one (R_0 lies after it). The anchor
  // is the one in force at the start of the date: a change's anchor is its
  // effective_date, whose T_E lies in that date or, east of UTC, the day
  // before, so every date after the change passes too.
  BILLING_REQUIRE(m_in.date >= settings.cycle_anchor.prev());
  BILLING_REQUIRE(m_in.plan.included_credits.n >= 0);
  BILLING_REQUIRE(!m_in.plan.rollover_cap || m_in.plan.rollover_cap->n >= 0);
  BILLING_REQUIRE(m_in.state.overdraft.n >= 0);
  BILLING_REQUIRE(m_in.state.last_cycle_index >= -1);

  const bool sending_before = m_in.state.sending_enabled;
  const bool cancelled_at_start = m_in.state.cancelled;
  m_out.state = std::move(m_in.state);
  m_plan = m_in.plan;
  m_anchor = settings.cycle_anchor;
  const auto by_seq = [](const Lot& a, const Lot& b) { return a.seq < b.seq; };
  if (!std::is_sorted(m_lots.begin(), m_lots.end(), by_seq)) {
    std::sort(m_lots.begin(), m_lots.end(), by_seq);
  }
  long long prev_seq = 0;
  bool lots_at_start = false;
  for (const Lot& lot : m_lots) {
    BILLING_REQUIRE(lot.seq > prev_seq && lot.seq < m_out.state.next_lot_seq);
    BILLING_REQUIRE(lot.remaining.n >= 0);
    BILLING_REQUIRE(lot.value_cents >= 0 && lot.released_cents >= 0);
    BILLING_REQUIRE(lot.released_cents <= released_target(lot));
    prev_seq = lot.seq;
    lots_at_start = lots_at_start || lot.remaining.n > 0;
  }
  m_burn_order.reserve(m_lots.size() + 4);
  m_out.entries.reserve(m_lots.size() + 4);
  m_moves.reserve(m_lots.size() + 4);
  for (std::size_t i = 0; i < m_lots.size(); ++i) {
    m_burn_order.push_back(i);
    LotMovement& m = m_moves.emplace_back();
    m.lot_seq = m_lots[i].seq;
    m.opening = m_lots[i].remaining;
  }
  m_first_new_seq = m_out.state.next_lot_seq;
  BILLING_REQUIRE(m_in.plan.price_cents >= 0);
  std::sort(m_burn_order.begin(), m_burn_order.end(), [this](std::size_t a, std::size_t b) {
    return burns_before(m_lots[a], m_lots[b]);
  });
  m_next_reset =
    cycle_start(m_anchor, m_plan.cycle, m_out.state.last_cycle_index + 1, settings.zone);

  sort_inputs();
  m_out.summary.opening = balance(m_out.state);
  m_out.values.opening_deferred_cents = deferred_cents(m_lots);

  apply_late_facts();
  apply_timeline();
  apply_auto_recharge();

  DaySummary& s = m_out.summary;
  s.closing = balance(m_out.state);
  s.overdraft = m_out.state.overdraft;
  s.sending_enabled = s.closing.n > 0;
  BILLING_REQUIRE(
    s.closing == s.opening + s.granted + s.purchased + s.adjusted - s.used - s.expired - s.revoked);

  m_out.state.sending_enabled = s.sending_enabled;
  m_out.sending_changed = s.sending_enabled != sending_before;
  m_out.plan_id = m_plan.plan_id;
  m_out.cycle_anchor = m_anchor;
  m_out.dormant = is_dormant(cancelled_at_start, lots_at_start);

  DayValues& v = m_out.values;
  v.currency = m_plan.currency;
  v.closing_deferred_cents = deferred_cents(m_lots);
  BILLING_REQUIRE(v.closing_deferred_cents
                  == v.opening_deferred_cents + v.sold_cents - v.usage_cents - v.breakage_cents
                       - v.revoked_cents);
  for (std::size_t i = 0; i < m_lots.size(); ++i) {
    LotMovement& m = m_moves[i];
    m.closing = m_lots[i].remaining;
    BILLING_REQUIRE(m.closing
                    == m.opening + m.created - m.used - m.expired - m.revoked - m.rolled_out);
  }
  std::erase_if(m_moves, [this](const LotMovement& m) {
    return m.lot_seq < m_first_new_seq && m.opening == m.closing;
  });

  m_out.lots_touched = m_lots;
  std::erase_if(m_lots, [](const Lot& lot) { return lot.remaining.n == 0; });
  return std::move(m_out);
}

void DayCloser::sort_inputs()
{
  auto& purchases = m_in.purchases;
  auto& usage = m_in.usage;
  auto& adjustments = m_in.adjustments;
  auto& changes = m_in.changes;
  for (const Purchase& p : purchases) {
    BILLING_REQUIRE(p.purchased_at < m_day_end && p.credits.n >= 0);
  }
  for (const UsageCharge& u : usage) {
    BILLING_REQUIRE(u.occurred_at < m_day_end && u.credits.n >= 0);
    m_usage_total += u.credits;
  }
  for (const Adjustment& a : adjustments) {
    BILLING_REQUIRE(a.effective_at < m_day_end);
    BILLING_REQUIRE(!a.credits || a.credits->n > 0);
    BILLING_REQUIRE(a.kind == AdjustmentKind::refund || a.credits.has_value());
    BILLING_REQUIRE(!a.expires_at || *a.expires_at > a.effective_at);
  }
  for (const PlanChange& c : changes) {
    BILLING_REQUIRE(
      c.action == ChangeAction::cancel
      || (c.plan.included_credits.n >= 0 && (!c.plan.rollover_cap || c.plan.rollover_cap->n >= 0)));
  }
  std::sort(purchases.begin(), purchases.end(), [](const Purchase& a, const Purchase& b) {
    return std::tie(a.purchased_at, a.purchase_id) < std::tie(b.purchased_at, b.purchase_id);
  });
  // Events at one instant are charged against the same lots one after the
  // other, which equals charging their sum: their relative order is irrelevant.
  const auto by_instant = [](const UsageCharge& a, const UsageCharge& b) {
    return a.occurred_at < b.occurred_at;
  };
  if (!std::is_sorted(usage.begin(), usage.end(), by_instant)) {
    std::sort(usage.begin(), usage.end(), by_instant);
  }
  std::sort(
    m_in.revocations.begin(), m_in.revocations.end(), [](const Revocation& a, const Revocation& b) {
      return std::tie(a.lot_seq, a.payment_key) < std::tie(b.lot_seq, b.payment_key);
    });
  // At one instant adjustments apply in import order (SPEC 14); the id only
  // makes the order total.
  std::sort(adjustments.begin(), adjustments.end(), [](const Adjustment& a, const Adjustment& b) {
    return std::tie(a.effective_at, a.import_seq, a.adjustment_id)
           < std::tie(b.effective_at, b.import_seq, b.adjustment_id);
  });
  // T_E grows with the effective date (local midnights in order), so sorting
  // by date sorts by instant.
  std::sort(changes.begin(), changes.end(), [](const PlanChange& a, const PlanChange& b) {
    return std::tie(a.effective_date, a.change_id) < std::tie(b.effective_date, b.change_id);
  });
  m_change_at.reserve(changes.size());
  for (const PlanChange& c : changes) {
    const Instant t_e = local_midnight(m_in.settings.zone, c.effective_date);
    // Changes are never late, and at most one takes effect at an instant.
    BILLING_REQUIRE(m_day_start <= t_e && t_e < m_day_end);
    BILLING_REQUIRE(m_change_at.empty() || m_change_at.back() < t_e);
    m_change_at.push_back(t_e);
  }

  const auto purchase_late =
    std::partition_point(purchases.begin(), purchases.end(), [this](const Purchase& p) {
      return p.purchased_at < m_day_start;
    });
  const auto usage_late =
    std::partition_point(usage.begin(), usage.end(), [this](const UsageCharge& u) {
      return u.occurred_at < m_day_start;
    });
  const auto adjustment_late =
    std::partition_point(adjustments.begin(), adjustments.end(), [this](const Adjustment& a) {
      return a.effective_at < m_day_start;
    });
  m_late_purchases = static_cast<std::size_t>(purchase_late - purchases.begin());
  m_late_usage = static_cast<std::size_t>(usage_late - usage.begin());
  m_late_adjustments = static_cast<std::size_t>(adjustment_late - adjustments.begin());
  m_next_purchase = m_late_purchases;
  m_next_usage = m_late_usage;
  m_next_adjustment = m_late_adjustments;
}

// SPEC 13.4, 15: revocations, then late purchases, adjustments and usage in
// their own time order (at one instant: purchases, adjustments in import
// order, usage), all before the date's 00:00 facts. Each applies at the
// date's 00:00.
void DayCloser::apply_late_facts()
{
  for (const Revocation& r : m_in.revocations) {
    apply_revocation(r);
  }
  const auto& purchases = m_in.purchases;
  const auto& adjustments = m_in.adjustments;
  const auto& usage = m_in.usage;
  std::size_t pi = 0;
  std::size_t ai = 0;
  std::size_t ui = 0;
  for (;;) {
    const bool purchase_left = pi < m_late_purchases;
    const bool adjustment_left = ai < m_late_adjustments;
    const bool usage_left = ui < m_late_usage;
    if (purchase_left
        && (!adjustment_left || purchases[pi].purchased_at <= adjustments[ai].effective_at)
        && (!usage_left || purchases[pi].purchased_at <= usage[ui].occurred_at)) {
      apply_purchase(purchases[pi++], Late::yes);
      ++m_out.summary.late_purchases;
    } else if (adjustment_left
               && (!usage_left || adjustments[ai].effective_at <= usage[ui].occurred_at)) {
      apply_adjustment(adjustments[ai++], Late::yes);
    } else if (usage_left) {
      apply_usage(usage[ui++], m_day_start);
      ++m_out.summary.late_events;
    } else {
      return;
    }
  }
}

Instant DayCloser::next_expiry_instant() const
{
  Instant next = m_day_end;
  for (const Lot& lot : m_lots) {
    if (lot.remaining.n > 0 && lot.expires_at < next) {
      next = lot.expires_at;
    }
  }
  return std::max(next, m_day_start);
}

// The date's own facts, one instant at a time. 00:00 is always visited so
// that lots expiring at (or, after a late purchase, before) it are swept.
void DayCloser::apply_timeline()
{
  Instant t = m_day_start;
  for (;;) {
    apply_instant(t);
    Instant next = std::min(next_expiry_instant(), m_day_end);
    if (reset_pending()) {
      next = std::min(next, next_reset_instant());
    }
    if (m_next_change < m_change_at.size()) {
      next = std::min(next, m_change_at[m_next_change]);
    }
    if (m_next_purchase < m_in.purchases.size()) {
      next = std::min(next, m_in.purchases[m_next_purchase].purchased_at);
    }
    if (m_next_adjustment < m_in.adjustments.size()) {
      next = std::min(next, m_in.adjustments[m_next_adjustment].effective_at);
    }
    if (m_next_usage < m_in.usage.size()) {
      next = std::min(next, m_in.usage[m_next_usage].occurred_at);
    }
    if (next >= m_day_end) {
      return;
    }
    BILLING_REQUIRE(next > t);
    t = next;
  }
}

// SPEC 13.5, 14: expiries and the closing of a plan lot (by reset, change or
// cancel), then the new plan grant, then purchases, then adjustments, then
// usage.
void DayCloser::apply_instant(Instant t)
{
  const bool change_now = m_next_change < m_change_at.size() && m_change_at[m_next_change] == t;
  // More than one reset is only possible when resets before the date were
  // missed (an account run from after its anchor): they are caught up at
  // 00:00, each with its own validity instants. A reset at a change's T_E is
  // replaced by the change (SPEC 14): one close, one grant.
  bool reset_applied = false;
  while (reset_pending() && next_reset_instant() <= t && !(change_now && m_next_reset == t)) {
    apply_reset(m_out.state.last_cycle_index + 1, t);
    reset_applied = true;
  }
  if (change_now) {
    apply_change(m_in.changes[m_next_change++], t);
  } else if (!reset_applied) {
    expire_due(t);
  }
  auto& purchases = m_in.purchases;
  while (m_next_purchase < purchases.size() && purchases[m_next_purchase].purchased_at == t) {
    apply_purchase(purchases[m_next_purchase++], Late::no);
  }
  auto& adjustments = m_in.adjustments;
  while (m_next_adjustment < adjustments.size()
         && adjustments[m_next_adjustment].effective_at == t) {
    apply_adjustment(adjustments[m_next_adjustment++], Late::no);
  }
  auto& usage = m_in.usage;
  while (m_next_usage < usage.size() && usage[m_next_usage].occurred_at == t) {
    apply_usage(usage[m_next_usage++], t);
  }
}

// Cycle k of the anchor in force starts (at t: R_k, or the date's 00:00 for
// a missed one): the plan lot of cycle k-1 is closed, then cycle k's granted.
void DayCloser::apply_reset(long long k, Instant t)
{
  const Instant reset_at = m_next_reset;
  const Instant cycle_end = cycle_start(m_anchor, m_plan.cycle, k + 1, m_in.settings.zone);
  close_plan_lot(reset_at, t);
  expire_due(t);
  grant_plan(reset_at, cycle_end, t);
  m_out.state.last_cycle_index = k;
  m_next_reset = cycle_end;
}

// SPEC 14. A change_plan of an active account closes its plan lot under the
// old plan's cap and starts cycle 0 of the new plan anchored at the effective
// date; of a cancelled account it reactivates it the same way (nothing to
// close). A cancel closes the plan lot and stops every later grant.
void DayCloser::apply_change(const PlanChange& c, Instant t)
{
  close_plan_lot(t, t);
  expire_due(t);
  if (c.action == ChangeAction::cancel) {
    m_out.state.cancelled = true;
  } else {
    m_plan = c.plan;
    m_anchor = c.effective_date;
    m_out.state.cancelled = false;
    // R_0 of the new anchor is T_E itself (both the local midnight of the
    // effective date).
    const Instant cycle_end = cycle_start(m_anchor, m_plan.cycle, 1, m_in.settings.zone);
    grant_plan(t, cycle_end, t);
    m_out.state.last_cycle_index = 0;
    m_next_reset = cycle_end;
  }
  m_out.applied_changes.push_back(c.change_id);
}

// Closes the live plan lot at made_at (a reset R_k or a change's T_E): up to
// the cap of the plan in force rolls over into a new lot living to the local
// midnight 30 days on, the rest expires (SPEC 4, 13.11, 14, 16). The rolled
// credits leave first (the order SPEC 17's value rule reads). The lot is found
// by kind, not by source: lots made before schema 5 are named "plan:<k>", and
// at most one plan lot has credits (each is closed before the next grant).
void DayCloser::close_plan_lot(Instant made_at, Instant t)
{
  const auto is_live_plan = [](const Lot& lot) {
    return lot.kind == LotKind::plan && lot.remaining.n > 0;
  };
  const auto it = std::find_if(m_lots.begin(), m_lots.end(), is_live_plan);
  if (it == m_lots.end()) {
    return;
  }
  BILLING_REQUIRE(std::find_if(std::next(it), m_lots.end(), is_live_plan) == m_lots.end());
  const auto plan_index = static_cast<std::size_t>(it - m_lots.begin());
  const long long plan_seq = it->seq;
  const Credits unused = it->remaining;
  const Credits moved = m_plan.rollover_cap ? std::min(unused, *m_plan.rollover_cap) : unused;
  const Credits above_cap = unused - moved;
  // Before add_lot (`it` does not survive it); the rolled credits first, so
  // that the value they carry is read off before the breakage (SPEC 14, 17).
  const long long moved_value = leave(plan_index, moved, Leave::rolled_out);
  leave(plan_index, above_cap, Leave::expired);
  if (moved.n > 0) {
    const std::size_t index =
      add_lot(Lot{ .seq = 0,
                   .kind = LotKind::rollover,
                   .granted = moved,
                   .remaining = moved,
                   .valid_from = made_at,
                   .expires_at = rollover_expiry(m_in.settings.zone, made_at),
                   .source = "rollover:" + format_instant(made_at),
                   .value_cents = moved_value },
              PaysOverdraft::no);
    m_out.summary.rolled_over += moved;
    add_entry(EntryKind::rollover_out, t, negated(moved), plan_seq, Late::no);
    add_entry(EntryKind::rollover_in, t, moved, m_lots[index].seq, Late::no);
  }
  if (above_cap.n > 0) {
    m_out.summary.expired += above_cap;
    add_entry(EntryKind::expire, t, negated(above_cap), plan_seq, Late::no);
  }
}

// The plan in force grants its credits for a cycle (no lot for 0 credits).
// Plan lots start at distinct instants, so the source is unique.
void DayCloser::grant_plan(Instant valid_from, Instant expires_at, Instant t)
{
  const Credits credits = m_plan.included_credits;
  if (credits.n <= 0) {
    return;
  }
  const std::size_t index = add_lot(Lot{ .seq = 0,
                                         .kind = LotKind::plan,
                                         .granted = credits,
                                         .remaining = credits,
                                         .valid_from = valid_from,
                                         .expires_at = expires_at,
                                         .source = "plan:" + format_instant(valid_from),
                                         .value_cents = m_plan.price_cents },
                                    PaysOverdraft::yes);
  m_out.summary.granted += credits;
  add_entry(EntryKind::grant, t, credits, m_lots[index].seq, Late::no);
}

void DayCloser::expire_due(Instant t)
{
  for (std::size_t i = 0; i < m_lots.size(); ++i) {
    const Lot& lot = m_lots[i];
    if (lot.expires_at <= t && lot.remaining.n > 0) {
      const Credits expired = lot.remaining;
      leave(i, expired, Leave::expired);
      m_out.summary.expired += expired;
      add_entry(EntryKind::expire, t, negated(expired), lot.seq, Late::no);
    }
  }
}

void DayCloser::apply_revocation(const Revocation& r)
{
  const auto it = std::find_if(
    m_lots.begin(), m_lots.end(), [&r](const Lot& lot) { return lot.seq == r.lot_seq; });
  if (it == m_lots.end() || it->remaining.n == 0) {
    return;
  }
  const Credits revoked = it->remaining;
  leave(static_cast<std::size_t>(it - m_lots.begin()), revoked, Leave::revoked);
  m_out.summary.revoked += revoked;
  add_entry(EntryKind::revoke, m_day_start, negated(revoked), it->seq, Late::no);
}

void DayCloser::apply_purchase(const Purchase& p, Late late)
{
  const std::size_t index =
    add_lot(Lot{ .seq = 0,
                 .kind = LotKind::purchased,
                 .granted = p.credits,
                 .remaining = p.credits,
                 .valid_from = p.purchased_at,
                 .expires_at =
                   add_months_local(m_in.settings.zone, p.purchased_at, k_purchase_lifetime_months),
                 .source = "purchase:" + p.purchase_id,
                 .value_cents = p.amount_cents },
            PaysOverdraft::yes);
  m_out.summary.purchased += p.credits;
  const Instant at = late == Late::yes ? m_day_start : p.purchased_at;
  add_entry(EntryKind::purchase, at, p.credits, m_lots[index].seq, late);
}

// SPEC 15. A late adjustment takes effect at the date's 00:00 (a late grant's
// lot keeps valid_from = effective_at); its entry is marked late.
void DayCloser::apply_adjustment(const Adjustment& a, Late late)
{
  const Instant t = late == Late::yes ? m_day_start : a.effective_at;
  Credits took;
  switch (a.kind) {
    case AdjustmentKind::grant: {
      took = *a.credits;
      const Instant expires_at = a.expires_at.value_or(
        add_months_local(m_in.settings.zone, a.effective_at, k_purchase_lifetime_months));
      const std::size_t index = add_lot(Lot{ .seq = 0,
                                             .kind = LotKind::bonus,
                                             .granted = took,
                                             .remaining = took,
                                             .valid_from = a.effective_at,
                                             .expires_at = expires_at,
                                             .source = "bonus:" + a.adjustment_id,
                                             .value_cents = a.amount_cents },
                                        PaysOverdraft::yes);
      m_out.summary.adjusted += took;
      add_entry(EntryKind::bonus, t, took, m_lots[index].seq, late);
      break;
    }
    case AdjustmentKind::debit: {
      took = *a.credits;
      std::vector<LotTake> lots_took;
      charge(took, t, lots_took);
      m_out.summary.adjusted -= took;
      add_entry(EntryKind::debit, t, negated(took), 0, late);
      m_out.entries.back().took = std::move(lots_took);
      break;
    }
    case AdjustmentKind::refund: {
      // A lot used up, revoked or expired (at t: a late refund at 00:00 finds
      // a lot that expired then already gone) revokes 0 and has no entry.
      const auto it = std::find_if(m_lots.begin(), m_lots.end(), [&a, t](const Lot& lot) {
        return lot.source == a.refund_lot_source && lot.remaining.n > 0 && t < lot.expires_at;
      });
      if (it != m_lots.end()) {
        took = a.credits ? std::min(*a.credits, it->remaining) : it->remaining;
        leave(static_cast<std::size_t>(it - m_lots.begin()), took, Leave::revoked);
        m_out.summary.revoked += took;
        add_entry(EntryKind::refund, t, negated(took), it->seq, late);
      }
      break;
    }
  }
  m_out.applied_adjustments.push_back(
    AppliedAdjustment{ .adjustment_id = a.adjustment_id, .kind = a.kind, .credits = took });
}

// Charges one event against the lots usable at t (late events: the date's
// 00:00); what they cannot cover becomes overdraft (SPEC 6).
void DayCloser::apply_usage(const UsageCharge& u, Instant t)
{
  charge(u.credits, t, m_usage_took);
  m_out.summary.used += u.credits;
  ++m_out.summary.usage_events;
  // One usage entry per account-date, booked with the last event applied.
  if (++m_usage_applied == m_in.usage.size()) {
    add_entry(EntryKind::usage, t, negated(m_usage_total), 0, Late::no);
    m_out.entries.back().took = std::move(m_usage_took);
  }
}

// Takes credits from the lots usable at t in burn-down order; the rest
// becomes overdraft (usage and debits alike). Adds what it took to `took`,
// one take per lot.
void DayCloser::charge(Credits credits, Instant t, std::vector<LotTake>& took)
{
  Credits left = credits;
  for (const std::size_t index : m_burn_order) {
    if (left.n == 0) {
      break;
    }
    const Lot& lot = m_lots[index];
    if (lot.remaining.n == 0 || !usable_at(lot, t)) {
      continue;
    }
    const Credits take = std::min(left, lot.remaining);
    const long long seq = lot.seq;
    leave(index, take, Leave::used);
    left -= take;
    const auto same_lot = [seq](const LotTake& x) { return x.lot_seq == seq; };
    if (const auto it = std::find_if(took.begin(), took.end(), same_lot); it != took.end()) {
      it->credits += take;
    } else {
      took.push_back(LotTake{ .lot_seq = seq, .credits = take });
    }
  }
  m_out.state.overdraft += left;
}

// SPEC 7, 13.3, 14: after the date's usage, recharge up to the threshold, at
// most max_recharges_per_day times; the lots are valid from the next 00:00.
// None for an account cancelled at the end of the date; the price is the plan
// in force then.
void DayCloser::apply_auto_recharge()
{
  const AccountSettings& settings = m_in.settings;
  if (m_out.state.cancelled || settings.auto_recharge != AutoRecharge::on
      || settings.recharge_credits.n <= 0 || settings.max_recharges_per_day <= 0) {
    return;
  }
  const Credits bal = balance(m_out.state);
  if (bal >= settings.recharge_threshold) {
    return;
  }
  const long long deficit = (settings.recharge_threshold - bal).n;
  const long long per = settings.recharge_credits.n;
  const long long needed = deficit / per + (deficit % per != 0 ? 1 : 0);
  const long long count = std::min<long long>(settings.max_recharges_per_day, needed);
  const Instant valid_from = m_day_end;
  const Instant expires_at =
    add_months_local(settings.zone, valid_from, k_purchase_lifetime_months);
  for (long long i = 1; i <= count; ++i) {
    const std::string suffix = m_date_text + ":" + std::to_string(i);
    const long long amount_cents =
      recharge_amount_cents(settings.recharge_credits, m_plan.credit_price_cents_per_1000);
    const std::size_t index = add_lot(Lot{ .seq = 0,
                                           .kind = LotKind::purchased,
                                           .granted = settings.recharge_credits,
                                           .remaining = settings.recharge_credits,
                                           .valid_from = valid_from,
                                           .expires_at = expires_at,
                                           .source = "recharge:" + suffix,
                                           .value_cents = amount_cents },
                                      PaysOverdraft::yes);
    const long long seq = m_lots[index].seq;
    m_out.summary.purchased += settings.recharge_credits;
    add_entry(EntryKind::recharge, valid_from, settings.recharge_credits, seq, Late::no);
    m_out.recharges.push_back(RechargeRequest{
      .idempotency_key = "recharge:" + std::to_string(settings.account_id) + ":" + suffix,
      .lot_seq = seq,
      .credits = settings.recharge_credits,
      .amount = Money{ amount_cents, m_plan.currency } });
  }
}

// SPEC 14.4: cancelled before the date began, nothing on the books at either
// end, every column 0, and no fact of any kind in the input (a 0-credit event
// or a refund that revoked 0 still brings the row back).
bool DayCloser::is_dormant(bool cancelled_at_start, bool lots_at_start) const
{
  const DaySummary& s = m_out.summary;
  const bool no_facts = m_in.purchases.empty() && m_in.usage.empty() && m_in.revocations.empty()
                        && m_in.changes.empty() && m_in.adjustments.empty();
  const bool columns_zero = s.opening.n == 0 && s.closing.n == 0 && s.overdraft.n == 0
                            && s.granted.n == 0 && s.purchased.n == 0 && s.rolled_over.n == 0
                            && s.used.n == 0 && s.expired.n == 0 && s.revoked.n == 0
                            && s.adjusted.n == 0 && s.usage_events == 0 && s.late_events == 0
                            && s.late_purchases == 0;
  const bool lots_at_end =
    std::any_of(m_lots.begin(), m_lots.end(), [](const Lot& lot) { return lot.remaining.n > 0; });
  return cancelled_at_start && no_facts && columns_zero && !lots_at_start && !lots_at_end;
}

// Gives the lot the next seq, lets it pay overdraft off (SPEC 13.6) and files
// it in burn-down order. A lot left at 0 stays until the end of the date so
// that its ledger entries can name it.
std::size_t DayCloser::add_lot(Lot lot, PaysOverdraft pays)
{
  BILLING_REQUIRE(lot.value_cents >= 0 && lot.released_cents == 0);
  BILLING_REQUIRE(lot.remaining == lot.granted);
  lot.seq = m_out.state.next_lot_seq++;
  DayValues& v = m_out.values;
  if (lot.kind != LotKind::rollover) {
    v.sold_cents = checked_add(v.sold_cents, lot.value_cents);
  }
  const Credits pay =
    pays == PaysOverdraft::yes ? std::min(lot.remaining, m_out.state.overdraft) : Credits{};
  const std::size_t index = m_lots.size();
  LotMovement& moves = m_moves.emplace_back();
  moves.lot_seq = lot.seq;
  moves.created = lot.granted;
  m_lots.push_back(std::move(lot));
  // The credits that pay the debt leave the lot as usage the moment it is
  // made (SPEC 13.6, 17). A lot of 0 credits has nothing that could carry its
  // value: all of it is breakage now.
  m_out.state.overdraft -= pay;
  m_overdraft_paid = pay;
  leave(index, pay, Leave::used);
  if (m_lots[index].granted.n == 0) {
    const long long all = m_lots[index].value_cents;
    m_lots[index].released_cents = all;
    m_moves[index].released_cents = all;
    v.breakage_cents = checked_add(v.breakage_cents, all);
  }
  const auto pos = std::upper_bound(
    m_burn_order.begin(), m_burn_order.end(), index, [this](std::size_t a, std::size_t b) {
      return burns_before(m_lots[a], m_lots[b]);
    });
  m_burn_order.insert(pos, index);
  return index;
}

// Takes credits out of lot `index` (the only way remaining goes down),
// counts them in the lot's movements and releases the value they free (SPEC
// 17) into the column `how` says. Returns the value released; for
// Leave::rolled_out it is the new roll-over lot's value, not revenue.
long long DayCloser::leave(std::size_t index, Credits credits, Leave how)
{
  if (credits.n == 0) {
    return 0;
  }
  Lot& lot = m_lots[index];
  BILLING_REQUIRE(credits.n > 0 && credits <= lot.remaining);
  lot.remaining -= credits;
  const long long target = released_target(lot);
  const long long released = target - lot.released_cents;
  BILLING_REQUIRE(released >= 0);
  lot.released_cents = target;
  LotMovement& m = m_moves[index];
  m.released_cents += released;
  DayValues& v = m_out.values;
  switch (how) {
    case Leave::used:
      m.used += credits;
      v.usage_cents = checked_add(v.usage_cents, released);
      break;
    case Leave::expired:
      m.expired += credits;
      v.breakage_cents = checked_add(v.breakage_cents, released);
      break;
    case Leave::revoked:
      m.revoked += credits;
      v.revoked_cents = checked_add(v.revoked_cents, released);
      break;
    case Leave::rolled_out:
      m.rolled_out += credits;
      v.rolled_over_cents = checked_add(v.rolled_over_cents, released);
      break;
  }
  return released;
}

// A lot-making entry (grant, purchase, recharge, bonus) follows its
// add_lot() and carries the overdraft that lot paid off.
void DayCloser::add_entry(EntryKind kind, Instant at, Credits credits, long long lot_seq, Late late)
{
  const bool makes_lot = kind == EntryKind::grant || kind == EntryKind::purchase
                         || kind == EntryKind::recharge || kind == EntryKind::bonus;
  m_out.entries.push_back(
    LedgerEntry{ .idempotency_key = m_key_prefix + std::to_string(++m_entry_count),
                 .kind = kind,
                 .at = at,
                 .credits = credits,
                 .lot_seq = lot_seq,
                 .late = late == Late::yes,
                 .took = {},
                 .overdraft_paid = makes_lot ? m_overdraft_paid : Credits{} });
  if (makes_lot) {
    m_overdraft_paid = Credits{};
  }
}

} // namespace

std::string_view to_string(LotKind k)
{
  switch (k) {
    case LotKind::rollover:
      return "rollover";
    case LotKind::plan:
      return "plan";
    case LotKind::bonus:
      return "bonus";
    case LotKind::purchased:
      return "purchased";
  }
  BILLING_REQUIRE(false);
  return {};
}

std::optional<LotKind> parse_lot_kind(std::string_view text)
{
  for (const LotKind k : { LotKind::rollover, LotKind::plan, LotKind::bonus, LotKind::purchased }) {
    if (text == to_string(k)) {
      return k;
    }
  }
  return std::nullopt;
}

std::string_view to_string(EntryKind k)
{
  switch (k) {
    case EntryKind::grant:
      return "grant";
    case EntryKind::purchase:
      return "purchase";
    case EntryKind::recharge:
      return "recharge";
    case EntryKind::rollover_out:
      return "rollover_out";
    case EntryKind::rollover_in:
      return "rollover_in";
    case EntryKind::usage:
      return "usage";
    case EntryKind::expire:
      return "expire";
    case EntryKind::revoke:
      return "revoke";
    case EntryKind::bonus:
      return "bonus";
    case EntryKind::debit:
      return "debit";
    case EntryKind::refund:
      return "refund";
  }
  BILLING_REQUIRE(false);
  return {};
}

std::string_view to_string(ChangeAction a)
{
  switch (a) {
    case ChangeAction::change_plan:
      return "change_plan";
    case ChangeAction::cancel:
      return "cancel";
  }
  BILLING_REQUIRE(false);
  return {};
}

std::optional<ChangeAction> parse_change_action(std::string_view text)
{
  for (const ChangeAction a : { ChangeAction::change_plan, ChangeAction::cancel }) {
    if (text == to_string(a)) {
      return a;
    }
  }
  return std::nullopt;
}

std::string_view to_string(AdjustmentKind k)
{
  switch (k) {
    case AdjustmentKind::grant:
      return "grant";
    case AdjustmentKind::debit:
      return "debit";
    case AdjustmentKind::refund:
      return "refund";
  }
  BILLING_REQUIRE(false);
  return {};
}

std::optional<AdjustmentKind> parse_adjustment_kind(std::string_view text)
{
  for (const AdjustmentKind k :
       { AdjustmentKind::grant, AdjustmentKind::debit, AdjustmentKind::refund }) {
    if (text == to_string(k)) {
      return k;
    }
  }
  return std::nullopt;
}

Credits balance(const AccountState& state)
{
  Credits total;
  for (const Lot& lot : state.lots) {
    total += lot.remaining;
  }
  return total - state.overdraft;
}

// 128-bit: the product of two long longs cannot overflow it, and the
// quotient is at most value_cents.
long long released_cents_at(long long value_cents, Credits granted, Credits remaining)
{
  if (granted.n <= 0) {
    return value_cents;
  }
  const __int128 left = static_cast<__int128>(granted.n) - remaining.n;
  return static_cast<long long>(static_cast<__int128>(value_cents) * left / granted.n);
}

long long recharge_amount_cents(Credits credits, long long credit_price_cents_per_1000)
{
  BILLING_REQUIRE(credits.n >= 0 && credit_price_cents_per_1000 >= 0);
  return checked_add(checked_mul(credits.n, credit_price_cents_per_1000), 500) / 1000;
}

AccountDayResult close_account_day(AccountDayInput input)
{
  return DayCloser(input).run();
}

} // namespace billing
