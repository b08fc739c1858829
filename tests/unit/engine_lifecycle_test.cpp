// The lot engine's subscription life (SPEC 14) and adjustments (SPEC 15):
// plan changes (the old plan lot closed under the old cap, a new cycle from
// the effective date), cancellations, dormant dates, reactivations, grants,
// debits and refunds, late ones too, the order of facts at one instant, and
// recharges priced by the plan in force. Every expected figure is worked out
// by hand in the comments.
#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "ops/time_zones.hpp"
#include "support/engine_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace billing {

namespace {

using testing::at;
using testing::buy;
using testing::cr;
using testing::day;
using testing::Facts;
using testing::k_account_id;
using testing::make_settings;
using testing::plan_of;
using testing::use;

Plan make_plan(const char* id,
               long long included,
               std::optional<long long> cap = std::nullopt,
               long long price_per_1000 = 1500)
{
  return plan_of({ .id = id, .included = included, .cap = cap, .price_per_1000 = price_per_1000 });
}

PlanChange change_to(const char* id, const char* effective, Plan plan)
{
  return PlanChange{ id, day(effective), ChangeAction::change_plan, std::move(plan) };
}

PlanChange cancel(const char* id, const char* effective)
{
  return PlanChange{ id, day(effective), ChangeAction::cancel, Plan{} };
}

Adjustment grant(const char* id,
                 long long import_seq,
                 const char* when,
                 long long credits,
                 const char* expires_at = nullptr)
{
  Adjustment a;
  a.adjustment_id = id;
  a.import_seq = import_seq;
  a.effective_at = at(when);
  a.kind = AdjustmentKind::grant;
  a.credits = cr(credits);
  if (expires_at != nullptr) {
    a.expires_at = at(expires_at);
  }
  return a;
}

Adjustment debit(const char* id, long long import_seq, const char* when, long long credits)
{
  Adjustment a;
  a.adjustment_id = id;
  a.import_seq = import_seq;
  a.effective_at = at(when);
  a.kind = AdjustmentKind::debit;
  a.credits = cr(credits);
  return a;
}

Adjustment refund(const char* id,
                  long long import_seq,
                  const char* when,
                  const char* lot_source,
                  std::optional<long long> credits = std::nullopt)
{
  Adjustment a;
  a.adjustment_id = id;
  a.import_seq = import_seq;
  a.effective_at = at(when);
  a.kind = AdjustmentKind::refund;
  if (credits) {
    a.credits = cr(*credits);
  }
  a.refund_lot_source = lot_source;
  return a;
}

const Lot* find_lot(const AccountState& state, std::string_view source)
{
  for (const Lot& lot : state.lots) {
    if (lot.source == source) {
      return &lot;
    }
  }
  return nullptr;
}

std::vector<EntryKind> kinds_of(const AccountDayResult& r)
{
  std::vector<EntryKind> out;
  for (const LedgerEntry& e : r.entries) {
    out.push_back(e.kind);
  }
  return out;
}

std::vector<LedgerEntry> entries_of(const AccountDayResult& r, EntryKind kind)
{
  std::vector<LedgerEntry> out;
  for (const LedgerEntry& e : r.entries) {
    if (e.kind == kind) {
      out.push_back(e);
    }
  }
  return out;
}

void expect_entry(const LedgerEntry& e, EntryKind kind, long long credits, long long lot_seq)
{
  EXPECT_EQ(e.kind, kind) << to_string(e.kind);
  EXPECT_EQ(e.credits, cr(credits)) << to_string(e.kind);
  EXPECT_EQ(e.lot_seq, lot_seq) << to_string(e.kind);
}

// Closes an account's dates one after the other, as the nightly run and
// storage do: the plan and anchor of each date are the previous result's.
class Life
{
public:
  Life(Plan plan, AccountSettings settings)
    : m_plan_id(plan.plan_id)
    , m_settings(std::move(settings))
    , m_next(first_business_date(m_settings.cycle_anchor, m_settings.zone))
  {
    m_plans.emplace(plan.plan_id, std::move(plan));
  }

  const AccountDayResult& close_on(const char* d, Facts facts = {})
  {
    const Date date = day(d);
    EXPECT_GE(date, m_next);
    while (m_next < date) {
      close_next({});
    }
    return close_next(std::move(facts));
  }
  void close_through(const char* d) { close_on(d); }

  const AccountDayResult& on(const char* d) const { return m_results.at(day(d).days); }
  const AccountState& state() const { return m_state; }
  AccountSettings& settings() { return m_settings; }

private:
  const AccountDayResult& close_next(Facts facts)
  {
    for (const PlanChange& c : facts.changes) {
      if (c.action == ChangeAction::change_plan) {
        m_plans.insert_or_assign(c.plan.plan_id, c.plan);
      }
    }
    AccountDayInput input{ m_next,
                           m_plans.at(m_plan_id),
                           m_settings,
                           m_state,
                           std::move(facts.purchases),
                           std::move(facts.usage),
                           std::move(facts.revocations),
                           std::move(facts.changes),
                           std::move(facts.adjustments) };
    AccountDayResult result = close_account_day(std::move(input));
    m_state = result.state;
    m_plan_id = result.plan_id;
    m_settings.cycle_anchor = result.cycle_anchor;
    const auto [it, inserted] = m_results.emplace(m_next.days, std::move(result));
    m_next = m_next.next();
    return it->second;
  }

  std::map<std::string, Plan> m_plans;
  std::string m_plan_id;
  AccountSettings m_settings;
  AccountState m_state;
  Date m_next;
  std::map<int, AccountDayResult> m_results;
};

// A state built by hand for one date: plan of 0 credits anchored 2026-01-01,
// cycle 5 (2026-06-01 .. 2026-07-01) already granted, so no reset interferes.
struct Hand
{
  Plan plan = make_plan("p", 0);
  AccountSettings settings = make_settings("2026-01-01");
  AccountState state;

  Hand()
  {
    state.last_cycle_index = 5;
    state.sending_enabled = true;
  }

  long long add(LotKind kind,
                long long granted,
                long long remaining,
                const char* valid_from,
                const char* expires_at,
                std::string source)
  {
    Lot lot;
    lot.seq = state.next_lot_seq++;
    lot.kind = kind;
    lot.granted = cr(granted);
    lot.remaining = cr(remaining);
    lot.valid_from = at(valid_from);
    lot.expires_at = at(expires_at);
    lot.source = std::move(source);
    state.lots.push_back(lot);
    return lot.seq;
  }

  AccountDayResult close(const char* date, Facts facts = {}) const
  {
    return close_account_day(AccountDayInput{ day(date),
                                              plan,
                                              settings,
                                              state,
                                              std::move(facts.purchases),
                                              std::move(facts.usage),
                                              std::move(facts.revocations),
                                              std::move(facts.changes),
                                              std::move(facts.adjustments) });
  }
};

// ---------------------------------------------------------------------------
// Plan changes

TEST(PlanChangeTest, UpgradeMidCycleRollsOverUnderTheOldPlansCapAndStartsANewCycle)
{
  // basic: 1,000 a month, cap 300. 400 used, so the plan lot holds 600 when
  // pro (5,000, no cap) takes effect at 01-15 00:00Z.
  Life life(make_plan("basic", 1000, 300), make_settings("2026-01-01"));
  life.close_on("2026-01-10", { .usage = { use("2026-01-10T09:00:00Z", 400) } });
  const auto& r =
    life.close_on("2026-01-15",
                  { .usage = { use("2026-01-15T12:00:00Z", 100) },
                    .changes = { change_to("c1", "2026-01-15", make_plan("pro", 5000)) } });

  // 300 roll over (the old cap), 300 expire, 5,000 granted; the 100 used at
  // noon burn the roll-over lot, which expires first (02-14 < 02-15).
  EXPECT_EQ(r.summary.opening, cr(600));
  EXPECT_EQ(r.summary.rolled_over, cr(300));
  EXPECT_EQ(r.summary.expired, cr(300));
  EXPECT_EQ(r.summary.granted, cr(5000));
  EXPECT_EQ(r.summary.used, cr(100));
  EXPECT_EQ(r.summary.closing, cr(5200));
  ASSERT_EQ(r.entries.size(), 5u);
  expect_entry(r.entries[0], EntryKind::rollover_out, -300, 1);
  expect_entry(r.entries[1], EntryKind::rollover_in, 300, 2);
  expect_entry(r.entries[2], EntryKind::expire, -300, 1);
  expect_entry(r.entries[3], EntryKind::grant, 5000, 3);
  expect_entry(r.entries[4], EntryKind::usage, -100, 0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(r.entries[static_cast<size_t>(i)].at, at("2026-01-15T00:00:00Z"));
  }

  const Lot* rollover = find_lot(r.state, "rollover:2026-01-15T00:00:00Z");
  ASSERT_NE(rollover, nullptr);
  EXPECT_EQ(rollover->kind, LotKind::rollover);
  EXPECT_EQ(rollover->valid_from, at("2026-01-15T00:00:00Z"));
  EXPECT_EQ(rollover->expires_at, at("2026-02-14T00:00:00Z"));
  EXPECT_EQ(rollover->remaining, cr(200));
  const Lot* plan = find_lot(r.state, "plan:2026-01-15T00:00:00Z");
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(plan->granted, cr(5000));
  EXPECT_EQ(plan->expires_at, at("2026-02-15T00:00:00Z")); // R_1 of the new anchor
  EXPECT_EQ(find_lot(r.state, "plan:2026-01-01T00:00:00Z"), nullptr);
  EXPECT_EQ(r.plan_id, "pro");
  EXPECT_EQ(r.cycle_anchor, day("2026-01-15"));
  EXPECT_EQ(r.applied_changes, std::vector<std::string>{ "c1" });
  EXPECT_EQ(r.state.last_cycle_index, 0);
  EXPECT_FALSE(r.state.cancelled);
  EXPECT_FALSE(r.dormant);

  // The old cycle's reset at 02-01 is gone; the new anchor's R_1 is 02-15.
  life.close_through("2026-02-15");
  EXPECT_EQ(life.on("2026-02-01").summary.granted, cr(0));
  EXPECT_TRUE(life.on("2026-02-01").entries.empty());
  EXPECT_EQ(life.on("2026-02-01").plan_id, "pro");
  EXPECT_EQ(life.on("2026-02-14").summary.expired, cr(200));
  const auto& reset = life.on("2026-02-15");
  EXPECT_EQ(reset.summary.rolled_over, cr(5000)); // pro has no cap
  EXPECT_EQ(reset.summary.granted, cr(5000));
  EXPECT_EQ(reset.summary.closing, cr(10000));
  EXPECT_NE(find_lot(reset.state, "rollover:2026-02-15T00:00:00Z"), nullptr);
  EXPECT_EQ(find_lot(reset.state, "plan:2026-02-15T00:00:00Z")->expires_at,
            at("2026-03-15T00:00:00Z"));
  EXPECT_EQ(reset.state.last_cycle_index, 1);
  EXPECT_TRUE(reset.applied_changes.empty());
}

TEST(PlanChangeTest, DowngradeOnAResetDateReplacesTheReset)
{
  // pro: 1,000, cap 200; 500 used. lite (100, no cap) from 02-01, which is
  // also R_1 of the old anchor: one close under pro's cap, one grant (lite's).
  Life life(make_plan("pro", 1000, 200), make_settings("2026-01-01"));
  life.close_on("2026-01-10", { .usage = { use("2026-01-10T09:00:00Z", 500) } });
  const auto& r = life.close_on(
    "2026-02-01", { .changes = { change_to("c1", "2026-02-01", make_plan("lite", 100)) } });
  ASSERT_EQ(r.entries.size(), 4u);
  expect_entry(r.entries[0], EntryKind::rollover_out, -200, 1);
  expect_entry(r.entries[1], EntryKind::rollover_in, 200, 2);
  expect_entry(r.entries[2], EntryKind::expire, -300, 1);
  expect_entry(r.entries[3], EntryKind::grant, 100, 3);
  EXPECT_EQ(r.summary.granted, cr(100));
  EXPECT_EQ(r.summary.rolled_over, cr(200));
  EXPECT_EQ(r.summary.expired, cr(300));
  EXPECT_EQ(r.summary.closing, cr(300));
  EXPECT_EQ(find_lot(r.state, "rollover:2026-02-01T00:00:00Z")->expires_at,
            at("2026-03-03T00:00:00Z"));
  const Lot* plan = find_lot(r.state, "plan:2026-02-01T00:00:00Z");
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(plan->granted, cr(100));
  EXPECT_EQ(plan->expires_at, at("2026-03-01T00:00:00Z"));
  EXPECT_EQ(r.plan_id, "lite");
  EXPECT_EQ(r.cycle_anchor, day("2026-02-01"));
  EXPECT_EQ(r.state.last_cycle_index, 0);

  // lite's own R_1: its 100 roll over (no cap) and 100 more are granted.
  const auto& next = life.close_on("2026-03-01");
  EXPECT_EQ(next.summary.rolled_over, cr(100));
  EXPECT_EQ(next.summary.granted, cr(100));
  EXPECT_NE(find_lot(next.state, "rollover:2026-03-01T00:00:00Z"), nullptr);
  EXPECT_NE(find_lot(next.state, "plan:2026-03-01T00:00:00Z"), nullptr);
  EXPECT_EQ(next.state.last_cycle_index, 1);
}

TEST(PlanChangeTest, OldLotSourcesAreClosedByKind)
{
  // A database from before schema 5: the live plan lot is named "plan:5".
  Hand hand;
  hand.plan = make_plan("p", 100, 30);
  hand.add(LotKind::plan, 100, 80, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z", "plan:5");
  const auto r = hand.close("2026-07-01");
  EXPECT_EQ(r.summary.rolled_over, cr(30));
  EXPECT_EQ(r.summary.expired, cr(50));
  EXPECT_NE(find_lot(r.state, "rollover:2026-07-01T00:00:00Z"), nullptr);
  EXPECT_NE(find_lot(r.state, "plan:2026-07-01T00:00:00Z"), nullptr);
  EXPECT_EQ(find_lot(r.state, "plan:5"), nullptr);
}

TEST(PlanChangeTest, NewYorkChangeTakesEffectAtLocalMidnight)
{
  // 00:00 EST of 01-20 is 05:00Z of the UTC date 01-20.
  Life life(make_plan("a", 1000), make_settings("2026-01-01", "America/New_York"));
  const auto& r =
    life.close_on("2026-01-20",
                  { .usage = { use("2026-01-20T04:59:59Z", 100), use("2026-01-20T06:00:00Z", 50) },
                    .changes = { change_to("c1", "2026-01-20", make_plan("b", 2000)) } });
  // 100 used before T_E from the old plan lot; its 900 roll over at 05:00Z;
  // the 50 after burn the roll-over lot (local midnight of 02-19 < 02-20).
  ASSERT_EQ(r.entries.size(), 4u);
  expect_entry(r.entries[0], EntryKind::rollover_out, -900, 1);
  expect_entry(r.entries[1], EntryKind::rollover_in, 900, 2);
  expect_entry(r.entries[2], EntryKind::grant, 2000, 3);
  expect_entry(r.entries[3], EntryKind::usage, -150, 0);
  EXPECT_EQ(r.entries[0].at, at("2026-01-20T05:00:00Z"));
  EXPECT_EQ(r.entries[2].at, at("2026-01-20T05:00:00Z"));
  EXPECT_EQ(r.entries[3].at, at("2026-01-20T06:00:00Z"));
  const Lot* rollover = find_lot(r.state, "rollover:2026-01-20T05:00:00Z");
  ASSERT_NE(rollover, nullptr);
  EXPECT_EQ(rollover->expires_at, at("2026-02-19T05:00:00Z"));
  EXPECT_EQ(rollover->remaining, cr(850));
  const Lot* plan = find_lot(r.state, "plan:2026-01-20T05:00:00Z");
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(plan->valid_from, at("2026-01-20T05:00:00Z"));
  EXPECT_EQ(plan->expires_at, at("2026-02-20T05:00:00Z"));
  EXPECT_EQ(r.summary.closing, cr(2850));

  const auto& reset = life.close_on("2026-02-20");
  ASSERT_EQ(entries_of(reset, EntryKind::grant).size(), 1u);
  EXPECT_EQ(entries_of(reset, EntryKind::grant)[0].at, at("2026-02-20T05:00:00Z"));
  EXPECT_TRUE(entries_of(life.on("2026-02-01"), EntryKind::grant).empty());
}

TEST(PlanChangeTest, EastOfUtcTheChangeFallsOnTheUtcDateBefore)
{
  // 00:00 IST of 01-20 is 18:30Z of 01-19: the change belongs to the UTC date
  // 01-19, and the next date (01-20) is the new anchor's.
  Life life(make_plan("a", 100), make_settings("2026-01-01", "Asia/Kolkata"));
  const auto& r = life.close_on(
    "2026-01-19", { .changes = { change_to("c1", "2026-01-20", make_plan("b", 300)) } });
  ASSERT_EQ(entries_of(r, EntryKind::grant).size(), 1u);
  EXPECT_EQ(entries_of(r, EntryKind::grant)[0].at, at("2026-01-19T18:30:00Z"));
  EXPECT_EQ(r.cycle_anchor, day("2026-01-20"));
  EXPECT_NE(find_lot(r.state, "plan:2026-01-19T18:30:00Z"), nullptr);
  life.close_through("2026-02-19");
  const auto grants = entries_of(life.on("2026-02-19"), EntryKind::grant);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].at, at("2026-02-19T18:30:00Z"));
  EXPECT_TRUE(entries_of(life.on("2026-01-31"), EntryKind::grant).empty());
}

// ---------------------------------------------------------------------------
// Cancellation, dormant dates, reactivation

TEST(CancellationTest, CancelThenDormantDatesThenFactsBringTheRowBack)
{
  Life life(make_plan("p", 100), make_settings("2026-01-01"));
  // The unused 100 roll over at the cancel and live 30 days.
  const auto& cancelled =
    life.close_on("2026-01-20", { .changes = { cancel("c1", "2026-01-20") } });
  ASSERT_EQ(cancelled.entries.size(), 2u);
  expect_entry(cancelled.entries[0], EntryKind::rollover_out, -100, 1);
  expect_entry(cancelled.entries[1], EntryKind::rollover_in, 100, 2);
  EXPECT_EQ(find_lot(cancelled.state, "rollover:2026-01-20T00:00:00Z")->expires_at,
            at("2026-02-19T00:00:00Z"));
  EXPECT_TRUE(cancelled.state.cancelled);
  EXPECT_EQ(cancelled.plan_id, "p");
  EXPECT_EQ(cancelled.cycle_anchor, day("2026-01-01"));
  EXPECT_EQ(cancelled.applied_changes, std::vector<std::string>{ "c1" });
  EXPECT_EQ(cancelled.summary.closing, cr(100));
  EXPECT_FALSE(cancelled.dormant);

  life.close_through("2026-02-20");
  EXPECT_FALSE(life.on("2026-01-21").dormant);             // credits left
  EXPECT_EQ(life.on("2026-02-01").summary.granted, cr(0)); // no reset while cancelled
  EXPECT_FALSE(life.on("2026-02-01").dormant);
  const auto& expiry = life.on("2026-02-19");
  EXPECT_EQ(expiry.summary.expired, cr(100));
  EXPECT_EQ(expiry.summary.closing, cr(0));
  EXPECT_FALSE(expiry.summary.sending_enabled);
  EXPECT_FALSE(expiry.dormant);
  EXPECT_TRUE(life.on("2026-02-20").dormant);
  EXPECT_TRUE(life.on("2026-02-20").entries.empty());

  // A usage event of 0 credits is a fact.
  const auto& zero = life.close_on("2026-02-21", { .usage = { use("2026-02-21T09:00:00Z", 0) } });
  EXPECT_FALSE(zero.dormant);
  EXPECT_EQ(zero.summary.usage_events, 1);
  EXPECT_TRUE(life.close_on("2026-02-22").dormant);
  // So is a refund that revokes nothing.
  const auto& nothing = life.close_on(
    "2026-02-23", { .adjustments = { refund("r1", 1, "2026-02-23T10:00:00Z", "purchase:gone") } });
  EXPECT_FALSE(nothing.dormant);
  EXPECT_EQ(nothing.applied_adjustments,
            (std::vector<AppliedAdjustment>{ { "r1", AdjustmentKind::refund, cr(0) } }));
  EXPECT_TRUE(nothing.entries.empty());
  EXPECT_EQ(nothing.summary.revoked, cr(0));

  life.close_through("2026-03-01");
  EXPECT_TRUE(life.on("2026-03-01").dormant); // not a reset date any more
  EXPECT_EQ(life.on("2026-03-01").summary.granted, cr(0));

  // A late event from 03-01 brings the row back, with the debt it makes.
  const auto& late = life.close_on("2026-03-02", { .usage = { use("2026-03-01T10:00:00Z", 5) } });
  EXPECT_FALSE(late.dormant);
  EXPECT_EQ(late.summary.late_events, 1);
  EXPECT_EQ(late.summary.used, cr(5));
  EXPECT_EQ(late.summary.overdraft, cr(5));
  EXPECT_EQ(late.summary.closing, cr(-5));
  EXPECT_FALSE(life.close_on("2026-03-03").dormant); // owes 5
}

TEST(CancellationTest, CancelOnAResetDateClosesWithoutAGrant)
{
  Life life(make_plan("p", 1000), make_settings("2026-01-01"));
  life.close_on("2026-01-10", { .usage = { use("2026-01-10T09:00:00Z", 400) } });
  const auto& r = life.close_on("2026-02-01", { .changes = { cancel("c1", "2026-02-01") } });
  ASSERT_EQ(r.entries.size(), 2u);
  expect_entry(r.entries[0], EntryKind::rollover_out, -600, 1);
  expect_entry(r.entries[1], EntryKind::rollover_in, 600, 2);
  EXPECT_EQ(r.summary.granted, cr(0));
  EXPECT_EQ(r.summary.closing, cr(600));
  EXPECT_TRUE(r.state.cancelled);
  life.close_through("2026-03-04");
  EXPECT_EQ(life.on("2026-03-01").summary.granted, cr(0));
  EXPECT_EQ(life.on("2026-03-03").summary.expired, cr(600)); // keeps its 30 days
  EXPECT_FALSE(life.on("2026-03-03").dormant);
  EXPECT_TRUE(life.on("2026-03-04").dormant);
}

TEST(CancellationTest, PurchasedLotsKeepTheirExpiryAndUsageIsChargedAsAlways)
{
  Life life(make_plan("p", 0), make_settings("2026-01-01"));
  life.close_on("2026-01-05", { .purchases = { buy("P1", "2026-01-05T10:00:00Z", 100) } });
  life.close_on("2026-01-10", { .changes = { cancel("c1", "2026-01-10") } });
  const auto& used = life.close_on("2026-02-01", { .usage = { use("2026-02-01T08:00:00Z", 30) } });
  EXPECT_EQ(used.summary.used, cr(30));
  EXPECT_EQ(find_lot(used.state, "purchase:P1")->remaining, cr(70));
  EXPECT_EQ(find_lot(used.state, "purchase:P1")->expires_at, at("2027-01-05T10:00:00Z"));
  EXPECT_TRUE(used.summary.sending_enabled);
}

TEST(ReactivationTest, ChangePlanOfACancelledAccountStartsANewCycle)
{
  Life life(make_plan("a", 100), make_settings("2026-01-01"));
  life.close_on("2026-01-10", { .changes = { cancel("c1", "2026-01-10") } });
  const auto& r = life.close_on(
    "2026-01-25", { .changes = { change_to("c2", "2026-01-25", make_plan("b", 300)) } });
  // Nothing to close: the grant is the only entry.
  ASSERT_EQ(r.entries.size(), 1u);
  expect_entry(r.entries[0], EntryKind::grant, 300, 3);
  EXPECT_EQ(r.entries[0].at, at("2026-01-25T00:00:00Z"));
  EXPECT_EQ(r.summary.rolled_over, cr(0));
  EXPECT_FALSE(r.state.cancelled);
  EXPECT_EQ(r.plan_id, "b");
  EXPECT_EQ(r.cycle_anchor, day("2026-01-25"));
  EXPECT_EQ(r.state.last_cycle_index, 0);
  EXPECT_EQ(find_lot(r.state, "plan:2026-01-25T00:00:00Z")->expires_at, at("2026-02-25T00:00:00Z"));
  // The roll-over lot of the cancel keeps its expiry.
  EXPECT_EQ(find_lot(r.state, "rollover:2026-01-10T00:00:00Z")->expires_at,
            at("2026-02-09T00:00:00Z"));
  EXPECT_EQ(r.summary.closing, cr(400));

  life.close_through("2026-02-25");
  EXPECT_EQ(life.on("2026-02-01").summary.granted, cr(0));
  EXPECT_EQ(life.on("2026-02-09").summary.expired, cr(100));
  const auto& reset = life.on("2026-02-25");
  EXPECT_EQ(reset.summary.rolled_over, cr(300));
  EXPECT_EQ(reset.summary.granted, cr(300));
  EXPECT_NE(find_lot(reset.state, "plan:2026-02-25T00:00:00Z"), nullptr);
  EXPECT_NE(find_lot(reset.state, "rollover:2026-02-25T00:00:00Z"), nullptr);
}

// ---------------------------------------------------------------------------
// Auto-recharge and the plan in force

TEST(LifecycleRechargeTest, NoRechargeWhileCancelledAndAReactivationRechargesAtTheNewPrice)
{
  AccountSettings settings = make_settings("2026-01-01");
  settings.auto_recharge = AutoRecharge::on;
  settings.recharge_threshold = cr(50);
  settings.recharge_credits = cr(100);
  settings.max_recharges_per_day = 2;
  Life life(make_plan("a", 100, std::nullopt, 1500), settings);
  EXPECT_TRUE(life.close_on("2026-01-01").recharges.empty());
  // The cancel rolls the 100 over; 150 used leave 50 of debt; cancelled at
  // the end of the date: no recharge.
  const auto& cancelled = life.close_on(
    "2026-01-10",
    { .usage = { use("2026-01-10T12:00:00Z", 150) }, .changes = { cancel("c1", "2026-01-10") } });
  EXPECT_EQ(cancelled.summary.closing, cr(-50));
  EXPECT_TRUE(cancelled.recharges.empty());
  EXPECT_TRUE(life.close_on("2026-01-11").recharges.empty());
  // Reactivated on b (0 credits, 2,000 per 1,000): -50 is below 50 by 100,
  // so one recharge of 100, priced by b: 200 cents.
  const auto& back = life.close_on(
    "2026-01-12", { .changes = { change_to("c2", "2026-01-12", make_plan("b", 0, {}, 2000)) } });
  ASSERT_EQ(back.recharges.size(), 1u);
  EXPECT_EQ(back.recharges[0].idempotency_key, "recharge:42:2026-01-12:1");
  EXPECT_EQ(back.recharges[0].amount, (Money{ 200, "USD" }));
  EXPECT_EQ(back.summary.purchased, cr(100));
  EXPECT_EQ(back.summary.closing, cr(50));
  EXPECT_EQ(back.summary.overdraft, cr(0));
}

TEST(LifecycleRechargeTest, RechargeIsPricedByThePlanInForceAtTheEndOfTheDate)
{
  AccountSettings settings = make_settings("2026-01-01");
  settings.auto_recharge = AutoRecharge::on;
  settings.recharge_threshold = cr(100);
  settings.recharge_credits = cr(100);
  // a: 1,000 credits, cap 0 (nothing rolls over), 1,500 per 1,000.
  Life life(make_plan("a", 1000, 0, 1500), settings);
  life.close_through("2026-01-14");
  const auto& r = life.close_on(
    "2026-01-15", { .changes = { change_to("c1", "2026-01-15", make_plan("b", 0, {}, 2000)) } });
  EXPECT_EQ(r.summary.expired, cr(1000));
  EXPECT_EQ(r.summary.rolled_over, cr(0));
  EXPECT_TRUE(entries_of(r, EntryKind::rollover_in).empty());
  EXPECT_TRUE(entries_of(r, EntryKind::grant).empty()); // no lot for 0 credits
  ASSERT_EQ(r.recharges.size(), 1u);
  EXPECT_EQ(r.recharges[0].amount, (Money{ 200, "USD" })); // a would give 150
}

// ---------------------------------------------------------------------------
// Adjustments

TEST(AdjustmentTest, GrantMakesABonusLotThatPaysTheOverdraftOff)
{
  Hand hand;
  hand.state.overdraft = cr(30);
  hand.state.sending_enabled = false;
  const auto r = hand.close(
    "2026-06-10",
    { .adjustments = { grant("g1", 1, "2026-06-10T10:00:00Z", 100),
                       grant("g2", 2, "2026-06-10T11:00:00Z", 10, "2026-06-20T00:00:00Z") } });
  const Lot* bonus = find_lot(r.state, "bonus:g1");
  ASSERT_NE(bonus, nullptr);
  EXPECT_EQ(bonus->kind, LotKind::bonus);
  EXPECT_EQ(bonus->granted, cr(100));
  EXPECT_EQ(bonus->remaining, cr(70));
  EXPECT_EQ(bonus->valid_from, at("2026-06-10T10:00:00Z"));
  EXPECT_EQ(bonus->expires_at, at("2027-06-10T10:00:00Z"));
  EXPECT_EQ(find_lot(r.state, "bonus:g2")->expires_at, at("2026-06-20T00:00:00Z"));
  EXPECT_EQ(r.summary.adjusted, cr(110));
  EXPECT_EQ(r.summary.granted, cr(0));
  EXPECT_EQ(r.summary.purchased, cr(0));
  EXPECT_EQ(r.summary.overdraft, cr(0));
  EXPECT_EQ(r.summary.closing, cr(80));
  EXPECT_TRUE(r.sending_changed);
  ASSERT_EQ(r.entries.size(), 2u);
  expect_entry(r.entries[0], EntryKind::bonus, 100, 1);
  EXPECT_EQ(r.entries[0].at, at("2026-06-10T10:00:00Z"));
  EXPECT_FALSE(r.entries[0].late);
  expect_entry(r.entries[1], EntryKind::bonus, 10, 2);
  EXPECT_EQ(r.applied_adjustments,
            (std::vector<AppliedAdjustment>{ { "g1", AdjustmentKind::grant, cr(100) },
                                             { "g2", AdjustmentKind::grant, cr(10) } }));
}

TEST(AdjustmentTest, BonusLotsBurnAfterPlanAndBeforePurchasedAtOneExpiry)
{
  Hand hand;
  hand.add(
    LotKind::purchased, 50, 50, "2025-07-01T00:00:00Z", "2026-07-01T00:00:00Z", "purchase:x");
  const auto r = hand.close(
    "2026-06-10",
    { .usage = { use("2026-06-10T12:00:00Z", 30) },
      .adjustments = { grant("g1", 1, "2026-06-10T10:00:00Z", 50, "2026-07-01T00:00:00Z") } });
  EXPECT_EQ(find_lot(r.state, "bonus:g1")->remaining, cr(20));
  EXPECT_EQ(find_lot(r.state, "purchase:x")->remaining, cr(50));
}

TEST(AdjustmentTest, DebitIsChargedLikeUsageAndTheRestBecomesOverdraft)
{
  Hand hand;
  hand.add(
    LotKind::purchased, 50, 50, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "purchase:x");
  const auto r =
    hand.close("2026-06-10", { .adjustments = { debit("d1", 1, "2026-06-10T12:00:00Z", 80) } });
  EXPECT_EQ(find_lot(r.state, "purchase:x"), nullptr);
  EXPECT_EQ(r.summary.adjusted, cr(-80));
  EXPECT_EQ(r.summary.used, cr(0));
  EXPECT_EQ(r.summary.usage_events, 0);
  EXPECT_EQ(r.summary.overdraft, cr(30));
  EXPECT_EQ(r.summary.closing, cr(-30));
  EXPECT_FALSE(r.summary.sending_enabled);
  ASSERT_EQ(r.entries.size(), 1u);
  expect_entry(r.entries[0], EntryKind::debit, -80, 0);
  EXPECT_EQ(r.entries[0].at, at("2026-06-10T12:00:00Z"));
  EXPECT_EQ(r.applied_adjustments,
            (std::vector<AppliedAdjustment>{ { "d1", AdjustmentKind::debit, cr(80) } }));
}

TEST(AdjustmentTest, RefundRevokesWhatIsLeftOfAPurchaseAtMostItsCredits)
{
  const struct
  {
    const char* name;
    const char* source;
    std::optional<long long> credits;
    long long revoked;
  } cases[] = {
    { "all that is left", "purchase:P1", std::nullopt, 40 },
    { "at most its credits", "purchase:P1", 25, 25 },
    { "credits above what is left", "purchase:P1", 90, 40 },
    { "a lot used up (dropped from the state)", "purchase:P0", std::nullopt, 0 },
    { "an unknown lot", "purchase:nope", 10, 0 },
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Hand hand;
    hand.state.next_lot_seq = 2; // lot 1, purchase P0, was used up
    const long long seq = hand.add(
      LotKind::purchased, 100, 40, "2026-05-01T00:00:00Z", "2027-05-01T00:00:00Z", "purchase:P1");
    const auto r = hand.close(
      "2026-06-10",
      { .adjustments = { refund("r1", 1, "2026-06-10T09:00:00Z", c.source, c.credits) } });
    EXPECT_EQ(r.summary.revoked, cr(c.revoked));
    EXPECT_EQ(r.summary.adjusted, cr(0));
    EXPECT_EQ(r.summary.closing, cr(40 - c.revoked));
    ASSERT_EQ(r.applied_adjustments.size(), 1u);
    EXPECT_EQ(r.applied_adjustments[0].credits, cr(c.revoked));
    const auto refunds = entries_of(r, EntryKind::refund);
    ASSERT_EQ(refunds.size(), c.revoked > 0 ? 1u : 0u);
    if (c.revoked > 0) {
      expect_entry(refunds[0], EntryKind::refund, -c.revoked, seq);
      EXPECT_EQ(refunds[0].at, at("2026-06-10T09:00:00Z"));
    }
  }
}

TEST(AdjustmentTest, RefundOfARechargeLot)
{
  AccountSettings settings = make_settings("2026-06-01");
  settings.auto_recharge = AutoRecharge::on;
  settings.recharge_threshold = cr(10);
  settings.recharge_credits = cr(100);
  Life life(make_plan("p", 0), settings);
  const auto& first = life.close_on("2026-06-01");
  ASSERT_EQ(first.recharges.size(), 1u);
  life.settings().auto_recharge = AutoRecharge::off;
  // 30 used at 06:00, then the rest of the recharge lot refunded at 09:00.
  const auto& r = life.close_on(
    "2026-06-02",
    { .usage = { use("2026-06-02T06:00:00Z", 30) },
      .adjustments = { refund("r1", 1, "2026-06-02T09:00:00Z", "recharge:2026-06-01:1") } });
  EXPECT_EQ(r.summary.revoked, cr(70));
  EXPECT_EQ(r.summary.closing, cr(0));
  const auto refunds = entries_of(r, EntryKind::refund);
  ASSERT_EQ(refunds.size(), 1u);
  expect_entry(refunds[0], EntryKind::refund, -70, first.recharges[0].lot_seq);
  EXPECT_EQ(r.applied_adjustments,
            (std::vector<AppliedAdjustment>{ { "r1", AdjustmentKind::refund, cr(70) } }));
}

TEST(AdjustmentTest, RefundOfALotThatExpiredRevokesNothing)
{
  Hand hand;
  hand.add(
    LotKind::purchased, 100, 100, "2025-06-10T08:00:00Z", "2026-06-10T08:00:00Z", "purchase:P1");
  // On time after the expiry, and late at 00:00 after an expiry at 00:00.
  const auto on_time = hand.close(
    "2026-06-10", { .adjustments = { refund("r1", 1, "2026-06-10T09:00:00Z", "purchase:P1") } });
  EXPECT_EQ(on_time.summary.expired, cr(100));
  EXPECT_EQ(on_time.summary.revoked, cr(0));
  EXPECT_EQ(on_time.applied_adjustments[0].credits, cr(0));
  Hand at_midnight;
  at_midnight.add(
    LotKind::purchased, 100, 100, "2025-06-10T00:00:00Z", "2026-06-10T00:00:00Z", "purchase:P1");
  const auto late = at_midnight.close(
    "2026-06-10", { .adjustments = { refund("r1", 1, "2026-06-09T09:00:00Z", "purchase:P1") } });
  EXPECT_EQ(late.summary.expired, cr(100));
  EXPECT_EQ(late.summary.revoked, cr(0));
}

TEST(LateAdjustmentTest, LateGrantDebitAndRefundApplyAtMidnightInTheirTimeOrder)
{
  Hand hand;
  hand.state.last_cycle_index = 2; // 2026-03-01 .. 2026-04-01
  hand.add(
    LotKind::purchased, 100, 100, "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z", "purchase:P1");
  // In time order, all at 03-05 00:00: usage 10 (P1 90), grant 50 (bonus lot
  // valid from 03-04 10:00), refund all of P1 (90), debit 30 (from the bonus
  // lot: 20 left). A debit before the refund would leave 50, not 20.
  const auto r =
    hand.close("2026-03-05",
               { .usage = { use("2026-03-04T09:00:00Z", 10) },
                 .adjustments = { debit("d1", 3, "2026-03-04T12:00:00Z", 30),
                                  refund("r1", 2, "2026-03-04T11:00:00Z", "purchase:P1"),
                                  grant("g1", 1, "2026-03-04T10:00:00Z", 50) } });
  EXPECT_EQ(kinds_of(r),
            (std::vector<EntryKind>{
              EntryKind::usage, EntryKind::bonus, EntryKind::refund, EntryKind::debit }));
  for (const LedgerEntry& e : r.entries) {
    EXPECT_EQ(e.at, at("2026-03-05T00:00:00Z")) << to_string(e.kind);
    EXPECT_EQ(e.late, e.kind != EntryKind::usage) << to_string(e.kind);
  }
  expect_entry(r.entries[1], EntryKind::bonus, 50, 2);
  expect_entry(r.entries[2], EntryKind::refund, -90, 1);
  expect_entry(r.entries[3], EntryKind::debit, -30, 0);
  const Lot* bonus = find_lot(r.state, "bonus:g1");
  ASSERT_NE(bonus, nullptr);
  EXPECT_EQ(bonus->valid_from, at("2026-03-04T10:00:00Z"));
  EXPECT_EQ(bonus->expires_at, at("2027-03-04T10:00:00Z"));
  EXPECT_EQ(bonus->remaining, cr(20));
  EXPECT_EQ(find_lot(r.state, "purchase:P1"), nullptr);
  EXPECT_EQ(r.summary.used, cr(10));
  EXPECT_EQ(r.summary.adjusted, cr(20));
  EXPECT_EQ(r.summary.revoked, cr(90));
  EXPECT_EQ(r.summary.late_events, 1);
  EXPECT_EQ(r.summary.closing, cr(20));
  EXPECT_EQ(r.applied_adjustments,
            (std::vector<AppliedAdjustment>{ { "g1", AdjustmentKind::grant, cr(50) },
                                             { "r1", AdjustmentKind::refund, cr(90) },
                                             { "d1", AdjustmentKind::debit, cr(30) } }));
}

TEST(LateAdjustmentTest, LateFactsAtOneInstantArePurchasesThenAdjustmentsThenUsage)
{
  Hand hand;
  hand.state.last_cycle_index = 2;
  // All at 03-04 08:00 (late): purchase 20, debit 20, usage 5. In this order
  // the purchase lot pays the debit and the usage is debt: overdraft 5.
  const auto r = hand.close("2026-03-05",
                            { .purchases = { buy("P1", "2026-03-04T08:00:00Z", 20) },
                              .usage = { use("2026-03-04T08:00:00Z", 5) },
                              .adjustments = { debit("d1", 1, "2026-03-04T08:00:00Z", 20) } });
  EXPECT_EQ(kinds_of(r),
            (std::vector<EntryKind>{ EntryKind::purchase, EntryKind::debit, EntryKind::usage }));
  EXPECT_EQ(r.summary.overdraft, cr(5));
  EXPECT_EQ(r.summary.late_purchases, 1);
  EXPECT_EQ(r.summary.late_events, 1);
}

TEST(InstantOrderTest, PurchaseThenAdjustmentsInImportOrderThenUsage)
{
  Hand hand;
  // At 09:00: purchase P 50; debit 60 (import 1): P 0, debt 10; grant 20
  // (import 2) pays the 10, keeps 10; usage 5 burns it: bonus 5, P 0. The
  // grant first (as its id would sort) would leave P 5 and the bonus 0; the
  // entry order shows the rest.
  const auto r = hand.close(
    "2026-06-10",
    { .purchases = { buy("P", "2026-06-10T09:00:00Z", 50) },
      .usage = { use("2026-06-10T09:00:00Z", 5) },
      .adjustments = { grant("a-grant", 2, "2026-06-10T09:00:00Z", 20, "2026-07-01T00:00:00Z"),
                       debit("z-debit", 1, "2026-06-10T09:00:00Z", 60) } });
  EXPECT_EQ(kinds_of(r),
            (std::vector<EntryKind>{
              EntryKind::purchase, EntryKind::debit, EntryKind::bonus, EntryKind::usage }));
  for (const LedgerEntry& e : r.entries) {
    EXPECT_EQ(e.at, at("2026-06-10T09:00:00Z"));
  }
  EXPECT_EQ(find_lot(r.state, "purchase:P"), nullptr);
  ASSERT_NE(find_lot(r.state, "bonus:a-grant"), nullptr);
  EXPECT_EQ(find_lot(r.state, "bonus:a-grant")->remaining, cr(5));
  EXPECT_EQ(r.summary.overdraft, cr(0));
  EXPECT_EQ(r.summary.adjusted, cr(-40));
  EXPECT_EQ(r.summary.closing, cr(5));
}

TEST(InstantOrderTest, AGrantAtAChangeComesAfterTheNewPlanGrant)
{
  // At 02-10 00:00: the plan lot closes (its 100 roll over), b's 50 are
  // granted, then the bonus; a usage of 0 at that instant comes last.
  Life life(make_plan("a", 100), make_settings("2026-01-01"));
  const auto& r = life.close_on("2026-02-10",
                                { .usage = { use("2026-02-10T00:00:00Z", 0) },
                                  .changes = { change_to("c1", "2026-02-10", make_plan("b", 50)) },
                                  .adjustments = { grant("g", 1, "2026-02-10T00:00:00Z", 5) } });
  EXPECT_EQ(kinds_of(r),
            (std::vector<EntryKind>{ EntryKind::rollover_out,
                                     EntryKind::rollover_in,
                                     EntryKind::grant,
                                     EntryKind::bonus,
                                     EntryKind::usage }));
  EXPECT_EQ(r.summary.closing, cr(255)); // 02-01 roll-over 100, 02-10 roll-over 100, b 50, bonus 5
}

} // namespace
} // namespace billing
