#include "reports/explain.hpp"

#include "domain/calendar.hpp"
#include "storage/lot_text.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

namespace billing {

namespace {

// What a lot has released when `remaining` of its credits are left (SPEC
// 17's floor rule).
long long released_at(const StoredLot& lot, long long remaining)
{
  return released_cents_at(lot.value_cents, Credits{ lot.granted }, Credits{ remaining });
}

bool makes_lot(EntryKind k)
{
  return k == EntryKind::grant || k == EntryKind::purchase || k == EntryKind::recharge
         || k == EntryKind::bonus || k == EntryKind::rollover_in;
}

bool takes_from_lots(EntryKind k)
{
  return k == EntryKind::usage || k == EntryKind::debit;
}

// What one date did to one lot, as the ledger tells it (lot_movements'
// columns).
struct Tally
{
  long long created = 0;
  long long used = 0;
  long long expired = 0;
  long long revoked = 0;
  long long rolled_out = 0;

  bool any() const { return created || used || expired || revoked || rolled_out; }
};

// Whether an entry is of the date explained (its movements are counted).
enum class OfDate
{
  no,
  yes
};

class Replay
{
public:
  Replay(const ExplainBooks& books, const Zone& zone)
    : m_books(books)
  {
    m_out.account_id = books.account_id;
    m_out.date = books.date;
    m_out.time_zone = books.time_zone.empty() ? "UTC" : books.time_zone;
    m_out.zone = zone;
    for (const StoredLot& lot : books.lots) {
      m_lots.emplace(lot.seq, &lot);
      m_remaining[lot.seq] = lot.start_remaining.value_or(0);
    }
    m_overdraft = books.base_overdraft;
  }

  Explanation run();

private:
  const StoredLot* lot(long long seq, const StoredEntry& e);
  std::string name_of(const StoredLot& lot) const
  {
    return lot_name(m_books.account_id, lot.kind, lot.source, lot.valid_from);
  }
  ExplainedLot at_moment(const StoredLot& lot, long long remaining) const;
  void apply(const StoredEntry& e, OfDate of_date);
  void plan_in_force();
  ExplainedFact fact_of(const StoredEntry& e);
  void match_adjustment(const StoredEntry& e, ExplainedFact& f);
  void add_facts_without_entries(std::vector<const StoredEntry*> day_entries);
  void check_between_dates(Date after);
  void check_day();
  void check_dormant();
  void note(std::string text) { m_out.discrepancies.push_back(std::move(text)); }

  const ExplainBooks& m_books;
  Explanation m_out;
  std::unordered_map<long long, const StoredLot*> m_lots;
  std::map<long long, long long> m_remaining; // seq -> credits left now
  long long m_overdraft = 0;
  std::map<long long, long long> m_opening; // at the date's 00:00Z
  long long m_opening_overdraft = 0;
  std::map<long long, Tally> m_tallies; // the date's, per lot
  std::vector<bool> m_adjustment_matched;
  std::vector<ExplainedFact> m_entry_facts;
};

const StoredLot* Replay::lot(long long seq, const StoredEntry& e)
{
  const auto it = m_lots.find(seq);
  if (it == m_lots.end()) {
    note("ledger entry " + e.key + " names lot " + std::to_string(seq)
         + ", which the account's lots do not hold");
    return nullptr;
  }
  return it->second;
}

ExplainedLot Replay::at_moment(const StoredLot& lot, long long remaining) const
{
  return ExplainedLot{ .seq = lot.seq,
                       .name = name_of(lot),
                       .kind = lot.kind,
                       .credits = remaining,
                       .granted = lot.granted,
                       .valid_from = lot.valid_from,
                       .expires_at = lot.expires_at,
                       .value_cents = lot.value_cents,
                       .deferred_cents = lot.value_cents - released_at(lot, remaining) };
}

// One entry's effect on the lots and the overdraft; for the date's own
// entries, also per lot as lot_movements counts it. Within a date the replay
// may pass through states that never were (a lot or the overdraft below 0):
// the date's usage is one entry, numbered after its last event, that may hold
// usage charged before entries numbered earlier (late events at 00:00Z, or
// events before a purchase that paid their overdraft off). Only the states
// between dates are real, and checked (check_between_dates).
void Replay::apply(const StoredEntry& e, OfDate of_date)
{
  const auto take = [&](long long seq, long long credits) {
    if (lot(seq, e) == nullptr) {
      return;
    }
    m_remaining[seq] -= credits;
  };
  Tally scratch;
  Tally& t = of_date == OfDate::yes && e.lot_seq != 0 ? m_tallies[e.lot_seq] : scratch;
  switch (e.kind) {
    case EntryKind::grant:
    case EntryKind::purchase:
    case EntryKind::recharge:
    case EntryKind::bonus:
    case EntryKind::rollover_in:
      if (lot(e.lot_seq, e) != nullptr) {
        m_remaining[e.lot_seq] += e.credits - e.overdraft_paid;
      }
      m_overdraft -= e.overdraft_paid;
      t.created += e.credits;
      t.used += e.overdraft_paid;
      break;
    case EntryKind::rollover_out:
      take(e.lot_seq, -e.credits);
      t.rolled_out -= e.credits;
      break;
    case EntryKind::expire:
      take(e.lot_seq, -e.credits);
      t.expired -= e.credits;
      break;
    case EntryKind::revoke:
    case EntryKind::refund:
      take(e.lot_seq, -e.credits);
      t.revoked -= e.credits;
      break;
    case EntryKind::usage:
    case EntryKind::debit: {
      long long covered = 0;
      for (const LotTake& x : e.took) {
        take(x.lot_seq, x.credits.n);
        covered += x.credits.n;
        if (of_date == OfDate::yes) {
          m_tallies[x.lot_seq].used += x.credits.n;
        }
      }
      const long long short_by = -e.credits - covered;
      if (short_by < 0) {
        note("ledger entry " + e.key + " took " + std::to_string(covered)
             + " credits from lots for " + std::to_string(-e.credits) + " charged");
      }
      m_overdraft += short_by;
      break;
    }
  }
}

// The plan in force at the end of the date, and whether the account is
// cancelled then (SPEC 14: the changes applied, in T_E order).
void Replay::plan_in_force()
{
  const Instant end = start_of(m_books.date.next());
  std::string plan = m_books.imported_plan_id;
  for (const StoredChange& c : m_books.changes) {
    if (c.effective_at >= end) {
      break;
    }
    if (c.action == ChangeAction::cancel) {
      m_out.cancelled = true;
      m_out.cancelled_by = c;
    } else {
      plan = c.plan_id;
      m_out.cancelled = false;
      m_out.cancelled_by.reset();
    }
  }
  m_out.plan_id = plan;
  for (const StoredPlan& p : m_books.plans) {
    if (p.plan_id == plan) {
      m_out.plan_name = p.name;
      m_out.currency = p.currency;
    }
  }
}

// The adjustment behind a bonus, debit or refund entry: a grant by its
// lot's source, a debit or refund by its instant (a late one's is the date's
// 00:00Z), kind and credits, in the order applied.
void Replay::match_adjustment(const StoredEntry& e, ExplainedFact& f)
{
  const auto& adjustments = m_books.adjustments;
  const Instant day_start = start_of(m_books.date);
  const auto found = m_lots.find(e.lot_seq);
  const StoredLot* named = found == m_lots.end() ? nullptr : found->second;
  for (std::size_t i = 0; i < adjustments.size(); ++i) {
    const StoredAdjustment& a = adjustments[i];
    if (m_adjustment_matched[i]) {
      continue;
    }
    const bool late = a.effective_at < day_start;
    const Instant applied_at = late ? day_start : a.effective_at;
    bool same = false;
    switch (e.kind) {
      case EntryKind::bonus:
        same = a.kind == AdjustmentKind::grant && named != nullptr
               && named->source == "bonus:" + a.adjustment_id;
        break;
      case EntryKind::debit:
        same =
          a.kind == AdjustmentKind::debit && applied_at == e.at && a.applied_credits == -e.credits;
        break;
      case EntryKind::refund:
        same = a.kind == AdjustmentKind::refund && applied_at == e.at
               && a.applied_credits == -e.credits && named != nullptr
               && named->source == a.lot_source;
        break;
      default:
        return;
    }
    if (same) {
      m_adjustment_matched[i] = true;
      f.adjustment_id = a.adjustment_id;
      f.reason = a.reason;
      f.amount_cents = a.amount_cents;
      if (late) {
        f.effective_at = a.effective_at;
      }
      return;
    }
  }
  note("ledger entry " + e.key + " (" + std::string(to_string(e.kind))
       + ") matches no adjustment the date applied");
}

ExplainedFact Replay::fact_of(const StoredEntry& e)
{
  ExplainedFact f;
  f.n = e.n;
  f.key = e.key;
  f.kind = std::string(to_string(e.kind));
  f.at = e.at;
  f.late = e.late;
  f.credits = e.credits;
  const StoredLot* l = e.lot_seq != 0 && m_lots.count(e.lot_seq) ? m_lots.at(e.lot_seq) : nullptr;
  if (makes_lot(e.kind)) {
    if (l != nullptr) {
      f.made = at_moment(*l, l->granted);
      if (e.late && e.kind == EntryKind::purchase) {
        f.effective_at = l->valid_from;
      }
    }
    f.overdraft_paid = e.overdraft_paid;
  } else if (takes_from_lots(e.kind)) {
    long long covered = 0;
    for (const LotTake& x : e.took) {
      const auto it = m_lots.find(x.lot_seq);
      f.took.push_back(LotCredits{ .seq = x.lot_seq,
                                   .name = it == m_lots.end() ? "lot " + std::to_string(x.lot_seq)
                                                              : name_of(*it->second),
                                   .credits = x.credits.n });
      covered += x.credits.n;
    }
    f.into_overdraft = -e.credits - covered;
  } else if (l != nullptr) {
    f.from = LotCredits{ .seq = l->seq, .name = name_of(*l), .credits = -e.credits };
  }
  if (e.kind == EntryKind::bonus || e.kind == EntryKind::debit || e.kind == EntryKind::refund) {
    match_adjustment(e, f);
  }
  if (e.kind == EntryKind::usage) {
    std::map<std::string, ChannelUsage> by_channel;
    for (const StoredCharge& c : m_books.charges) {
      ChannelUsage& u = by_channel[c.channel];
      u.channel = c.channel;
      u.events += c.events;
      u.credits += c.credits;
      if (c.occurred_date < m_books.date) {
        u.late_events += c.events;
        if (std::find(f.late_dates.begin(), f.late_dates.end(), c.occurred_date)
            == f.late_dates.end()) {
          f.late_dates.push_back(c.occurred_date);
        }
      }
    }
    std::sort(f.late_dates.begin(), f.late_dates.end());
    for (auto& [channel, u] : by_channel) {
      f.usage.push_back(u);
    }
  }
  if (e.kind == EntryKind::revoke && l != nullptr) {
    const std::string name = name_of(*l);
    for (const StoredPayment& p : m_books.revoked_payments) {
      if (name == "recharge:" + p.idempotency_key) {
        f.payment_key = p.idempotency_key;
        f.failure_reason = p.failure_reason;
      }
    }
  }
  return f;
}

// Plan changes and refunds of 0 made no entry of their own; each goes where
// it was applied among the entries: a change before the first entry at or
// after its T_E that is neither late nor a revocation (the revocations and
// late facts come first at 00:00Z, the change's closes and grant after it), a
// refund of 0 before the first later entry (at its own instant, before the
// usage), a late one after the revocations and late facts.
void Replay::add_facts_without_entries(std::vector<const StoredEntry*> day_entries)
{
  struct Placed
  {
    std::size_t before = 0; // index of the entry it precedes
    int order = 0;          // among facts placed before the same entry
    ExplainedFact fact;
  };
  std::vector<Placed> placed;
  const Instant day_start = start_of(m_books.date);
  const Instant day_end = start_of(m_books.date.next());
  const auto first_index = [&](auto&& pred) {
    const auto it = std::find_if(day_entries.begin(), day_entries.end(), pred);
    return static_cast<std::size_t>(it - day_entries.begin());
  };
  std::string plan = m_books.imported_plan_id;
  for (const StoredChange& c : m_books.changes) {
    if (c.effective_at >= day_end) {
      break;
    }
    const std::string plan_before = plan;
    if (c.action == ChangeAction::change_plan) {
      plan = c.plan_id;
    }
    if (c.effective_at < day_start) {
      continue;
    }
    ExplainedFact f;
    f.kind = std::string(to_string(c.action));
    f.at = c.effective_at;
    f.change_id = c.change_id;
    f.plan_from = plan_before;
    f.plan_to = c.action == ChangeAction::change_plan ? c.plan_id : std::string();
    const std::size_t before = first_index([&c](const StoredEntry* e) {
      return !e->late && e->kind != EntryKind::revoke && e->at >= c.effective_at;
    });
    placed.push_back(Placed{ .before = before, .order = 0, .fact = std::move(f) });
  }
  for (std::size_t i = 0; i < m_books.adjustments.size(); ++i) {
    const StoredAdjustment& a = m_books.adjustments[i];
    if (m_adjustment_matched[i]) {
      continue;
    }
    if (a.kind != AdjustmentKind::refund || a.applied_credits != 0) {
      note("adjustment " + a.adjustment_id + " (" + std::string(to_string(a.kind))
           + ") was applied on this date but no ledger entry of it was found");
      continue;
    }
    const bool late = a.effective_at < day_start;
    ExplainedFact f;
    f.kind = "refund";
    f.at = late ? day_start : a.effective_at;
    f.late = late;
    if (late) {
      f.effective_at = a.effective_at;
    }
    f.adjustment_id = a.adjustment_id;
    f.reason = a.reason;
    f.amount_cents = a.amount_cents;
    f.refund_lot = a.lot_source;
    for (const StoredLot& l : m_books.lots) {
      if (l.source == a.lot_source) {
        f.refund_lot = name_of(l);
      }
    }
    const Instant t = f.at;
    const std::size_t before =
      late
        ? first_index([](const StoredEntry* e) { return !e->late && e->kind != EntryKind::revoke; })
        : first_index([t](const StoredEntry* e) {
            return e->at > t || (e->at == t && e->kind == EntryKind::usage);
          });
    placed.push_back(Placed{ .before = before, .order = 1, .fact = std::move(f) });
  }
  std::stable_sort(placed.begin(), placed.end(), [](const Placed& x, const Placed& y) {
    return std::tie(x.before, x.fact.at, x.order) < std::tie(y.before, y.fact.at, y.order);
  });
  std::vector<ExplainedFact> facts;
  std::size_t next = 0;
  for (std::size_t i = 0; i <= m_entry_facts.size(); ++i) {
    while (next < placed.size() && placed[next].before == i) {
      facts.push_back(std::move(placed[next++].fact));
    }
    if (i < m_entry_facts.size()) {
      facts.push_back(std::move(m_entry_facts[i]));
    }
  }
  m_out.facts = std::move(facts);
}

Explanation Replay::run()
{
  plan_in_force();
  m_adjustment_matched.assign(m_books.adjustments.size(), false);
  const Date date = m_books.date;
  std::vector<const StoredEntry*> day_entries;
  bool opened = false;
  const auto open = [&] {
    m_opening = m_remaining;
    m_opening_overdraft = m_overdraft;
    opened = true;
  };
  for (std::size_t i = 0; i < m_books.entries.size(); ++i) {
    const StoredEntry& e = m_books.entries[i];
    if (e.business_date == date && !opened) {
      open();
    }
    apply(e, e.business_date == date ? OfDate::yes : OfDate::no);
    if (i + 1 == m_books.entries.size()
        || m_books.entries[i + 1].business_date != e.business_date) {
      check_between_dates(e.business_date);
    }
    if (e.business_date == date) {
      day_entries.push_back(&e);
    }
  }
  if (!opened) {
    open();
  }
  for (const StoredEntry* e : day_entries) {
    m_entry_facts.push_back(fact_of(*e));
  }
  add_facts_without_entries(day_entries);

  long long opening_credits = 0;
  long long closing_credits = 0;
  for (const StoredLot& lot : m_books.lots) {
    const long long open_left = m_opening[lot.seq];
    const long long close_left = m_remaining[lot.seq];
    if (lot.created_date < date && open_left > 0) {
      m_out.opening_lots.push_back(at_moment(lot, open_left));
    } else if (lot.created_date >= date && open_left != 0) {
      note("lot " + name_of(lot) + " was made on " + format_date(lot.created_date)
           + " but the replay has " + std::to_string(open_left) + " credits in it at the opening");
    }
    if (lot.created_date <= date && close_left > 0) {
      m_out.closing_lots.push_back(at_moment(lot, close_left));
    }
    opening_credits += open_left;
    closing_credits += close_left;
  }
  m_out.opening_overdraft = m_opening_overdraft;
  m_out.opening_balance = opening_credits - m_opening_overdraft;
  m_out.closing_overdraft = m_overdraft;
  m_out.closing_balance = closing_credits - m_overdraft;
  m_out.sending_change_reason = m_books.sending_change_reason;
  m_out.day = m_books.day;
  if (m_books.day) {
    m_out.sending_enabled = m_books.day->sending_enabled;
    check_day();
  } else {
    m_out.sending_enabled = false;
    check_dormant();
  }
  return std::move(m_out);
}

// At the end of a date no lot is below 0 and neither is the overdraft.
void Replay::check_between_dates(Date after)
{
  const std::string when = "at the end of " + format_date(after);
  for (const auto& [seq, left] : m_remaining) {
    if (left < 0) {
      note("the ledger replay leaves lot " + name_of(*m_lots.at(seq)) + " at "
           + std::to_string(left) + " credits " + when);
    }
  }
  if (m_overdraft < 0) {
    note("the ledger replay leaves the overdraft at " + std::to_string(m_overdraft) + " " + when);
  }
}

void Replay::check_day()
{
  const StoredReconciliation& r = *m_books.day;
  const Date date = m_books.date;
  const auto differ = [this](const std::string& what, long long stored, long long replayed) {
    if (stored != replayed) {
      note(what + ": the books have " + std::to_string(stored) + ", the ledger replay gives "
           + std::to_string(replayed));
    }
  };
  differ("reconciliation opening", r.opening, m_out.opening_balance);
  differ("reconciliation closing", r.closing, m_out.closing_balance);
  differ("reconciliation overdraft", r.overdraft, m_out.closing_overdraft);
  if (m_books.previous_day) {
    differ("reconciliation overdraft of the date before",
           m_books.previous_day->overdraft,
           m_out.opening_overdraft);
    differ("reconciliation closing of the date before", m_books.previous_day->closing, r.opening);
  }
  differ("sending_enabled", r.sending_enabled ? 1 : 0, m_out.closing_balance > 0 ? 1 : 0);

  // The date's columns, from its entries.
  long long granted = 0, purchased = 0, rolled = 0, used = 0, expired = 0, revoked = 0;
  long long adjusted = 0;
  for (const StoredEntry& e : m_books.entries) {
    if (e.business_date != date) {
      continue;
    }
    switch (e.kind) {
      case EntryKind::grant:
        granted += e.credits;
        break;
      case EntryKind::purchase:
      case EntryKind::recharge:
        purchased += e.credits;
        break;
      case EntryKind::rollover_in:
        rolled += e.credits;
        break;
      case EntryKind::rollover_out:
        break;
      case EntryKind::usage:
        used -= e.credits;
        break;
      case EntryKind::expire:
        expired -= e.credits;
        break;
      case EntryKind::revoke:
      case EntryKind::refund:
        revoked -= e.credits;
        break;
      case EntryKind::bonus:
      case EntryKind::debit:
        adjusted += e.credits;
        break;
    }
  }
  differ("reconciliation granted", r.granted, granted);
  differ("reconciliation purchased", r.purchased, purchased);
  differ("reconciliation rolled_over", r.rolled_over, rolled);
  differ("reconciliation used", r.used, used);
  differ("reconciliation expired", r.expired, expired);
  differ("reconciliation revoked", r.revoked, revoked);
  differ("reconciliation adjusted", r.adjusted, adjusted);
  long long events = 0, late_events = 0, charged = 0;
  for (const StoredCharge& c : m_books.charges) {
    events += c.events;
    charged += c.credits;
    if (c.occurred_date < date) {
      late_events += c.events;
    }
  }
  differ("reconciliation usage_events against the charges rows", r.usage_events, events);
  differ("reconciliation late_events against the charges rows", r.late_events, late_events);
  differ("credits of the charges rows against the usage entry", charged, used);

  // Each lot's movements, and the values (SPEC 17).
  std::map<long long, const StoredMovement*> rows;
  for (const StoredMovement& m : m_books.movements) {
    rows.emplace(m.lot_seq, &m);
  }
  long long opening_deferred = 0, closing_deferred = 0, sold = 0, rolled_value = 0;
  long long released = 0;
  for (const StoredLot& lot : m_books.lots) {
    const bool made_today = lot.created_date == date;
    const long long open_left = m_opening[lot.seq];
    const long long close_left = m_remaining[lot.seq];
    if (lot.created_date < date) {
      opening_deferred += lot.value_cents - released_at(lot, open_left);
    }
    if (lot.created_date <= date) {
      closing_deferred += lot.value_cents - released_at(lot, close_left);
    }
    const long long released_today =
      lot.created_date > date
        ? 0
        : released_at(lot, close_left) - (made_today ? 0 : released_at(lot, open_left));
    if (made_today) {
      (lot.kind == LotKind::rollover ? rolled_value : sold) += lot.value_cents;
    }
    released += released_today;
    const auto t = m_tallies.find(lot.seq);
    const Tally tally = t == m_tallies.end() ? Tally{} : t->second;
    const auto row = rows.find(lot.seq);
    const std::string name = "lot " + name_of(lot);
    if (row == rows.end()) {
      if (tally.any() || made_today) {
        note(name + ": the ledger moves it on this date but lot_movements has no row");
      }
      continue;
    }
    const StoredMovement& m = *row->second;
    rows.erase(row);
    differ(name + " lot_movements opening", m.opening.n, made_today ? 0 : open_left);
    differ(name + " lot_movements created", m.created.n, tally.created);
    differ(name + " lot_movements used", m.used.n, tally.used);
    differ(name + " lot_movements expired", m.expired.n, tally.expired);
    differ(name + " lot_movements revoked", m.revoked.n, tally.revoked);
    differ(name + " lot_movements rolled_out", m.rolled_out.n, tally.rolled_out);
    differ(name + " lot_movements closing", m.closing.n, close_left);
    differ(name + " lot_movements released_cents", m.released_cents, released_today);
  }
  for (const auto& [seq, m] : rows) {
    note("lot_movements has a row for lot " + std::to_string(seq)
         + ", which the account's lots do not hold");
  }
  differ("reconciliation opening_deferred_cents", r.opening_deferred_cents, opening_deferred);
  differ("reconciliation closing_deferred_cents", r.closing_deferred_cents, closing_deferred);
  differ("reconciliation sold_cents", r.sold_cents, sold);
  differ("released cents (usage + breakage + revoked + rolled into new lots)",
         r.usage_cents + r.breakage_cents + r.revoked_cents + rolled_value,
         released);

  // After the account's last date the lots table holds the closing.
  if (m_books.state_date == date) {
    for (const StoredLot& lot : m_books.lots) {
      differ("lot " + name_of(lot) + " remaining (the account's last date)",
             lot.remaining,
             m_remaining[lot.seq]);
    }
  }
}

// No reconciliation row: the date must be dormant (SPEC 14.4).
void Replay::check_dormant()
{
  const Instant day_start = start_of(m_books.date);
  const StoredChange* last = nullptr;
  for (const StoredChange& c : m_books.changes) {
    if (c.effective_at < day_start) {
      last = &c;
    }
  }
  const bool cancelled_before = last != nullptr && last->action == ChangeAction::cancel;
  m_out.dormant = true;
  if (!cancelled_before) {
    m_out.dormant = false;
    note("the date has no reconciliation row for the account, which is not cancelled: only a "
         "dormant date (SPEC 14.4) may have none");
  } else {
    m_out.cancelled_by = *last;
  }
  if (!m_out.facts.empty() || !m_books.charges.empty() || !m_books.movements.empty()) {
    m_out.dormant = false;
    note("the date has no reconciliation row for the account, but it has facts");
  }
  if (m_out.opening_balance != 0 || m_out.closing_balance != 0 || m_out.opening_overdraft != 0
      || !m_out.opening_lots.empty() || !m_out.closing_lots.empty()) {
    m_out.dormant = false;
    note("the date has no reconciliation row for the account, but the replay has credits or "
         "overdraft on it");
  }
}

// ---- words ----

// 1234567 -> "1,234,567".
std::string grouped(long long v)
{
  const bool negative = v < 0;
  std::string digits = std::to_string(v);
  if (negative) {
    digits.erase(0, 1);
  }
  std::string out;
  const std::size_t n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[i];
    if ((n - i - 1) % 3 == 0 && i + 1 < n) {
      out += ',';
    }
  }
  return negative ? "-" + out : out;
}

std::string signed_grouped(long long v)
{
  return v > 0 ? "+" + grouped(v) : grouped(v);
}

std::string plural(long long n, const std::string& one, const std::string& many)
{
  return grouped(n) + " " + (n == 1 || n == -1 ? one : many);
}

// The wall time of `t` in `zone` with its UTC offset: "2026-11-09T19:00:00-05:00".
std::string local_text(const Zone& zone, Instant t)
{
  const long long local_us = local_time_of(zone, t).us;
  std::string text = format_instant(Instant{ local_us });
  text.pop_back(); // the 'Z'
  long long offset_min = (local_us - t.us) / (60 * k_us_per_second);
  const char sign = offset_min < 0 ? '-' : '+';
  offset_min = offset_min < 0 ? -offset_min : offset_min;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", sign, offset_min / 60, offset_min % 60);
  return text + buf;
}

// An instant in UTC and, for an account in another zone, its local time:
// "2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00".
std::string when(const Explanation& e, Instant t)
{
  if (e.zone.is_utc()) {
    return format_instant(t);
  }
  return format_instant(t) + " / " + local_text(e.zone, t);
}

// A stored reason as one line: control characters escaped.
std::string quoted(const std::string& text)
{
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string lot_line(const Explanation& e, const ExplainedLot& l)
{
  return l.name + ": " + grouped(l.credits) + " of " + plural(l.granted, "credit", "credits")
         + " left, " + std::string(to_string(l.kind)) + " lot valid from " + when(e, l.valid_from)
         + " to " + when(e, l.expires_at) + ", value " + grouped(l.value_cents) + " cents ("
         + grouped(l.deferred_cents) + " deferred)";
}

std::string made_words(const Explanation& e, const ExplainedFact& f)
{
  if (!f.made) {
    return "";
  }
  const ExplainedLot& l = *f.made;
  std::string out = ", made " + l.name + " (" + plural(l.granted, "credit", "credits") + ", "
                    + grouped(l.value_cents) + " cents";
  if (f.kind == "recharge") {
    out += ", valid from " + when(e, l.valid_from);
  }
  out += ", expires " + when(e, l.expires_at);
  if (f.overdraft_paid != 0) {
    out += "; paid " + grouped(f.overdraft_paid) + " of overdraft";
  }
  return out + ")";
}

std::string took_words(const ExplainedFact& f)
{
  std::string out;
  for (const LotCredits& t : f.took) {
    out += out.empty() ? ", took " : ", ";
    out += grouped(t.credits) + " from " + t.name;
  }
  if (f.into_overdraft != 0) {
    out += f.took.empty() ? ", all into overdraft"
                          : "; " + grouped(f.into_overdraft) + " into overdraft";
  }
  return out;
}

std::string adjustment_words(const ExplainedFact& f)
{
  std::string out = f.adjustment_id.empty() ? "" : " " + f.adjustment_id;
  std::vector<std::string> notes;
  if (!f.reason.empty()) {
    notes.push_back(quoted(f.reason));
  }
  if (f.kind == "refund" && f.amount_cents != 0) {
    notes.push_back(grouped(f.amount_cents) + " cents returned");
  }
  if (f.effective_at) {
    notes.push_back("effective " + format_instant(*f.effective_at));
  }
  for (std::size_t i = 0; i < notes.size(); ++i) {
    out += (i == 0 ? " (" : ", ") + notes[i];
  }
  return notes.empty() ? out : out + ")";
}

std::string usage_words(const ExplainedFact& f)
{
  long long events = 0, late = 0;
  for (const ChannelUsage& u : f.usage) {
    events += u.events;
    late += u.late_events;
  }
  std::string out = "usage (" + plural(events, "event", "events");
  for (std::size_t i = 0; i < f.usage.size(); ++i) {
    const ChannelUsage& u = f.usage[i];
    out += (i == 0 ? ": " : ", ") + u.channel + " " + grouped(u.events) + " for "
           + plural(u.credits, "credit", "credits");
  }
  if (late != 0) {
    out += "; " + grouped(late) + " late, occurred ";
    for (std::size_t i = 0; i < f.late_dates.size(); ++i) {
      out += (i == 0 ? "" : ", ") + format_date(f.late_dates[i]);
    }
    out += ", charged at 00:00Z"; // SPEC 13.4
  }
  return out + ")";
}

// What the fact was, in words, and what it did to the credits and the lots.
std::string fact_words(const Explanation& e, const ExplainedFact& f)
{
  const std::string credits =
    ": " + signed_grouped(f.credits) + (f.credits == 1 || f.credits == -1 ? " credit" : " credits");
  const std::string from = f.from ? " from " + f.from->name : "";
  if (f.kind == "change_plan") {
    return "plan change " + f.change_id + " from " + f.plan_from + " to " + f.plan_to
           + " (the plan lot closes as at a reset; a new cycle starts)";
  }
  if (f.kind == "cancel") {
    return "cancellation " + f.change_id + " of plan " + f.plan_from
           + " (the plan lot closes as at a reset; no more plan grants)";
  }
  if (f.kind == "grant") {
    return "plan grant" + credits + made_words(e, f);
  }
  if (f.kind == "purchase") {
    std::string what = f.late ? "late purchase" : "purchase";
    if (f.effective_at) {
      what += " (purchased " + format_instant(*f.effective_at) + ")";
    }
    return what + credits + made_words(e, f);
  }
  if (f.kind == "recharge") {
    return "auto-recharge (booked on this date, valid from the next 00:00Z)" + credits
           + made_words(e, f);
  }
  if (f.kind == "rollover_out") {
    return "roll-over out" + credits + from;
  }
  if (f.kind == "rollover_in") {
    return "roll-over in" + credits + made_words(e, f);
  }
  if (f.kind == "usage") {
    return usage_words(f) + credits + took_words(f);
  }
  if (f.kind == "expire") {
    const bool plan_lot = f.from && f.from->name.starts_with("plan:");
    return std::string(plan_lot ? "expiry above the roll-over cap" : "expiry") + credits + from;
  }
  if (f.kind == "revoke") {
    std::string what = "revocation after a failed payment";
    if (!f.failure_reason.empty()) {
      what += " (" + quoted(f.failure_reason) + ")";
    }
    return what + credits + from;
  }
  const std::string late = f.late ? "late " : "";
  if (f.kind == "bonus") {
    return late + "grant" + adjustment_words(f) + credits + made_words(e, f);
  }
  if (f.kind == "debit") {
    return late + "debit" + adjustment_words(f) + credits + took_words(f);
  }
  if (f.kind == "refund") {
    if (!f.n) {
      return late + "refund" + adjustment_words(f) + ": revoked 0 credits, " + f.refund_lot
             + " had none left";
    }
    return late + "refund" + adjustment_words(f) + credits + from;
  }
  return f.kind + credits + from;
}

nlohmann::ordered_json lot_json(const Explanation& e, const ExplainedLot& l)
{
  return { { "seq", l.seq },
           { "lot", l.name },
           { "kind", to_string(l.kind) },
           { "credits", l.credits },
           { "granted", l.granted },
           { "valid_from", format_instant(l.valid_from) },
           { "valid_from_local", local_text(e.zone, l.valid_from) },
           { "expires_at", format_instant(l.expires_at) },
           { "expires_at_local", local_text(e.zone, l.expires_at) },
           { "value_cents", l.value_cents },
           { "deferred_cents", l.deferred_cents } };
}

nlohmann::ordered_json lots_json(const Explanation& e, const std::vector<ExplainedLot>& lots)
{
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ExplainedLot& l : lots) {
    out.push_back(lot_json(e, l));
  }
  return out;
}

nlohmann::ordered_json lot_credits_json(const LotCredits& c)
{
  return { { "seq", c.seq }, { "lot", c.name }, { "credits", c.credits } };
}

nlohmann::ordered_json fact_json(const Explanation& e, const ExplainedFact& f)
{
  nlohmann::ordered_json j;
  j["n"] = f.n ? nlohmann::ordered_json(*f.n) : nlohmann::ordered_json(nullptr);
  j["key"] = f.n ? nlohmann::ordered_json(f.key) : nlohmann::ordered_json(nullptr);
  j["kind"] = f.kind;
  j["at"] = format_instant(f.at);
  j["at_local"] = local_text(e.zone, f.at);
  j["late"] = f.late;
  j["credits"] = f.credits;
  j["text"] = fact_words(e, f);
  j["made"] = f.made ? lot_json(e, *f.made) : nlohmann::ordered_json(nullptr);
  j["from"] = f.from ? lot_credits_json(*f.from) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json took = nlohmann::ordered_json::array();
  for (const LotCredits& t : f.took) {
    took.push_back(lot_credits_json(t));
  }
  j["took"] = took;
  j["into_overdraft"] = f.into_overdraft;
  j["overdraft_paid"] = f.overdraft_paid;
  if (f.kind == "usage") {
    nlohmann::ordered_json channels = nlohmann::ordered_json::array();
    long long events = 0, late = 0;
    for (const ChannelUsage& u : f.usage) {
      channels.push_back({ { "channel", u.channel },
                           { "events", u.events },
                           { "credits", u.credits },
                           { "late_events", u.late_events } });
      events += u.events;
      late += u.late_events;
    }
    nlohmann::ordered_json late_dates = nlohmann::ordered_json::array();
    for (const Date d : f.late_dates) {
      late_dates.push_back(format_date(d));
    }
    j["usage"] = { { "events", events },
                   { "late_events", late },
                   { "late_occurred_dates", late_dates },
                   { "channels", channels } };
  }
  if (!f.adjustment_id.empty()) {
    j["adjustment"] = { { "adjustment_id", f.adjustment_id },
                        { "reason", f.reason },
                        { "amount_cents", f.amount_cents } };
    if (!f.n) {
      j["adjustment"]["lot"] = f.refund_lot;
    }
  }
  if (f.effective_at) {
    j["effective_at"] = format_instant(*f.effective_at);
  }
  if (!f.change_id.empty()) {
    j["change"] = { { "change_id", f.change_id },
                    { "plan_from", f.plan_from },
                    { "plan_to",
                      f.plan_to.empty() ? nlohmann::ordered_json(nullptr)
                                        : nlohmann::ordered_json(f.plan_to) } };
  }
  if (!f.payment_key.empty()) {
    j["payment"] = { { "idempotency_key", f.payment_key }, { "failure_reason", f.failure_reason } };
  }
  return j;
}

} // namespace

Explanation explain_account_date(const ExplainBooks& books, const Zone& zone)
{
  return Replay(books, zone).run();
}

std::string explain_text(const Explanation& e)
{
  std::ostringstream out;
  const Instant day_start = start_of(e.date);
  const Instant day_end = start_of(e.date.next());
  out << "account " << e.account_id << ", business date " << format_date(e.date)
      << (e.dormant ? " (closed, dormant)" : " (closed)") << "\n";
  out << "plan " << e.plan_id;
  if (!e.plan_name.empty()) {
    out << " (" << e.plan_name << ")";
  }
  out << ", " << e.currency;
  if (e.cancelled && e.cancelled_by) {
    out << "; cancelled from " << when(e, e.cancelled_by->effective_at) << " (change "
        << e.cancelled_by->change_id << ")";
  }
  out << "; time zone " << e.time_zone << "\n";
  if (e.dormant) {
    out << "\nA dormant date (SPEC 14.4): the account is cancelled, has no lot with credits and "
           "no overdraft,\nand nothing happened on it, so the date has no reconciliation row.\n";
  }

  out << "\nopening at " << when(e, day_start) << ": balance "
      << plural(e.opening_balance, "credit", "credits") << ", overdraft "
      << grouped(e.opening_overdraft) << "\n";
  if (e.opening_lots.empty()) {
    out << "  no lot with credits\n";
  }
  for (const ExplainedLot& l : e.opening_lots) {
    out << "  " << lot_line(e, l) << "\n";
  }

  out << "\nfacts, in the order applied:\n";
  if (e.facts.empty()) {
    out << "  none\n";
  }
  for (const ExplainedFact& f : e.facts) {
    out << "  " << (f.n ? "#" + std::to_string(*f.n) : std::string("-")) << "  " << when(e, f.at)
        << "  " << fact_words(e, f) << "\n";
  }

  out << "\nclosing at " << when(e, day_end) << ": balance "
      << plural(e.closing_balance, "credit", "credits") << ", overdraft "
      << grouped(e.closing_overdraft) << ", sending "
      << (e.sending_enabled ? "enabled" : "stopped");
  if (e.sending_change_reason) {
    out << " (changed on this date: " << quoted(*e.sending_change_reason) << ")";
  }
  out << "\n";
  if (e.closing_lots.empty()) {
    out << "  no lot with credits\n";
  }
  for (const ExplainedLot& l : e.closing_lots) {
    out << "  " << lot_line(e, l) << "\n";
  }
  if (e.day) {
    const StoredReconciliation& r = *e.day;
    out << "\nreconciliation: opening " << grouped(r.opening) << ", granted " << grouped(r.granted)
        << ", purchased " << grouped(r.purchased) << ", rolled over " << grouped(r.rolled_over)
        << ", used " << grouped(r.used) << ", expired " << grouped(r.expired) << ", revoked "
        << grouped(r.revoked) << ", adjusted " << signed_grouped(r.adjusted) << ", closing "
        << grouped(r.closing) << ", overdraft " << grouped(r.overdraft) << "\n";
    out << "values (" << e.currency << " cents): opening deferred "
        << grouped(r.opening_deferred_cents) << ", sold " << grouped(r.sold_cents)
        << ", released as usage " << grouped(r.usage_cents) << ", breakage "
        << grouped(r.breakage_cents) << ", revoked " << grouped(r.revoked_cents)
        << ", closing deferred " << grouped(r.closing_deferred_cents) << "\n";
  }
  if (!e.discrepancies.empty()) {
    out << "\nDISCREPANCIES: the stored books disagree with the ledger replay ("
        << e.discrepancies.size() << "); the figures above may be wrong:\n";
    for (const std::string& d : e.discrepancies) {
      out << "  " << d << "\n";
    }
  }
  return out.str();
}

std::string explain_json(const Explanation& e)
{
  nlohmann::ordered_json j;
  const Instant day_start = start_of(e.date);
  const Instant day_end = start_of(e.date.next());
  j["account_id"] = e.account_id;
  j["business_date"] = format_date(e.date);
  j["status"] = e.dormant ? "dormant" : "closed";
  j["plan_id"] = e.plan_id;
  j["plan_name"] = e.plan_name;
  j["currency"] = e.currency;
  j["cancelled"] = e.cancelled;
  j["cancelled_by"] = e.cancelled_by && e.cancelled
                        ? nlohmann::ordered_json(e.cancelled_by->change_id)
                        : nlohmann::ordered_json(nullptr);
  j["time_zone"] = e.time_zone;
  j["opening"] = { { "at", format_instant(day_start) },
                   { "at_local", local_text(e.zone, day_start) },
                   { "balance", e.opening_balance },
                   { "overdraft", e.opening_overdraft },
                   { "lots", lots_json(e, e.opening_lots) } };
  nlohmann::ordered_json facts = nlohmann::ordered_json::array();
  for (const ExplainedFact& f : e.facts) {
    facts.push_back(fact_json(e, f));
  }
  j["facts"] = facts;
  j["closing"] = { { "at", format_instant(day_end) },
                   { "at_local", local_text(e.zone, day_end) },
                   { "balance", e.closing_balance },
                   { "overdraft", e.closing_overdraft },
                   { "sending_enabled", e.sending_enabled },
                   { "sending_change_reason",
                     e.sending_change_reason ? nlohmann::ordered_json(*e.sending_change_reason)
                                             : nlohmann::ordered_json(nullptr) },
                   { "lots", lots_json(e, e.closing_lots) } };
  if (e.day) {
    const StoredReconciliation& r = *e.day;
    j["reconciliation"] = { { "opening", r.opening },
                            { "granted", r.granted },
                            { "purchased", r.purchased },
                            { "rolled_over", r.rolled_over },
                            { "used", r.used },
                            { "expired", r.expired },
                            { "revoked", r.revoked },
                            { "adjusted", r.adjusted },
                            { "closing", r.closing },
                            { "overdraft", r.overdraft },
                            { "sending_enabled", r.sending_enabled },
                            { "usage_events", r.usage_events },
                            { "late_events", r.late_events } };
    j["values"] = { { "currency", e.currency },
                    { "opening_deferred_cents", r.opening_deferred_cents },
                    { "sold_cents", r.sold_cents },
                    { "usage_cents", r.usage_cents },
                    { "breakage_cents", r.breakage_cents },
                    { "revoked_cents", r.revoked_cents },
                    { "closing_deferred_cents", r.closing_deferred_cents } };
  } else {
    j["reconciliation"] = nullptr;
    j["values"] = nullptr;
  }
  j["discrepancies"] = e.discrepancies;
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace billing
