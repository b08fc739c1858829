// The lot engine: cycle resets, roll-over, expiry, burn-down order, overdraft,
// late facts, revocations and auto-recharge (SPEC 3, 4, 6, 7, 8, 13), then
// property tests over thousands of generated accounts, with plan changes,
// cancellations and adjustments (SPEC 14, 15) among their facts.
#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "ops/time_zones.hpp"
#include "support/engine_support.hpp"
#include "util/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <set>
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

Plan make_plan(long long included,
               std::optional<long long> cap = std::nullopt,
               Cycle cycle = Cycle::monthly)
{
  return plan_of({ .included = included, .cap = cap, .cycle = cycle });
}

// Only the property test draws changes and adjustments; the cases of SPEC 14
// and 15 by hand are in engine_lifecycle_test.cpp (Sim keeps one plan and
// anchor).
using DayFacts = Facts;

const Lot* find_lot(const AccountState& state, std::string_view source)
{
  for (const Lot& lot : state.lots) {
    if (lot.source == source) {
      return &lot;
    }
  }
  return nullptr;
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

// Closes an account's dates one after the other from its anchor, as the
// nightly run does, keeping every date's result.
class Sim
{
public:
  Sim(Plan plan, AccountSettings settings)
    : m_plan(std::move(plan))
    , m_settings(std::move(settings))
    , m_next(first_business_date(m_settings.cycle_anchor, m_settings.zone))
  {
  }

  // Closes every date before `d` without facts, then `d` with `facts`.
  const AccountDayResult& close_on(Date d, DayFacts facts = {})
  {
    EXPECT_GE(d, m_next);
    while (m_next < d) {
      close_next({});
    }
    return close_next(std::move(facts));
  }
  const AccountDayResult& close_on(const char* d, DayFacts facts = {})
  {
    return close_on(day(d), std::move(facts));
  }
  void close_through(const char* d) { close_on(d); }

  const AccountDayResult& on(const char* d) const { return m_results.at(day(d).days); }
  const AccountState& state() const { return m_state; }
  AccountSettings& settings() { return m_settings; }

private:
  const AccountDayResult& close_next(DayFacts facts)
  {
    AccountDayInput input{ m_next,
                           m_plan,
                           m_settings,
                           m_state,
                           std::move(facts.purchases),
                           std::move(facts.usage),
                           std::move(facts.revocations),
                           {},
                           {} };
    AccountDayResult result = close_account_day(std::move(input));
    m_state = result.state;
    const auto [it, inserted] = m_results.emplace(m_next.days, std::move(result));
    m_next = m_next.next();
    return it->second;
  }

  Plan m_plan;
  AccountSettings m_settings;
  AccountState m_state;
  Date m_next;
  std::map<int, AccountDayResult> m_results;
};

// A state built by hand for one date: plan of 0 credits anchored 2026-01-01,
// cycle 5 (2026-06-01 .. 2026-07-01) already granted, so no reset interferes.
struct HandState
{
  Plan plan = make_plan(0);
  AccountSettings settings = make_settings("2026-01-01");
  AccountState state;

  HandState()
  {
    state.last_cycle_index = 5;
    state.sending_enabled = true;
  }

  Lot& add(LotKind kind, long long remaining, const char* valid_from, const char* expires_at)
  {
    Lot lot;
    lot.seq = state.next_lot_seq++;
    lot.kind = kind;
    lot.granted = cr(remaining);
    lot.remaining = cr(remaining);
    lot.valid_from = at(valid_from);
    lot.expires_at = at(expires_at);
    lot.source = "hand:" + std::to_string(lot.seq);
    state.lots.push_back(lot);
    return state.lots.back();
  }

  AccountDayResult close(const char* date, DayFacts facts = {}) const
  {
    return close_account_day(AccountDayInput{ day(date),
                                              plan,
                                              settings,
                                              state,
                                              std::move(facts.purchases),
                                              std::move(facts.usage),
                                              std::move(facts.revocations),
                                              {},
                                              {} });
  }
};

long long remaining_of(const AccountState& state, long long seq)
{
  for (const Lot& lot : state.lots) {
    if (lot.seq == seq) {
      return lot.remaining.n;
    }
  }
  return 0; // dropped from the state: nothing left
}

// ---------------------------------------------------------------------------
// Roll-over

TEST(RolloverTest, UnusedPlanCreditsLiveThirtyDays)
{
  // The seed example: 1,000 credits a month, 500 used in the cycle.
  Sim sim(make_plan(1000), make_settings("2026-01-01"));
  const auto& first = sim.close_on("2026-01-01");
  EXPECT_EQ(first.summary.granted, cr(1000));
  EXPECT_EQ(first.summary.closing, cr(1000));
  sim.close_on("2026-01-15", { .usage = { use("2026-01-15T10:00:00Z", 500) } });

  const auto& reset = sim.close_on("2026-02-01");
  EXPECT_EQ(reset.summary.opening, cr(500));
  EXPECT_EQ(reset.summary.rolled_over, cr(500));
  EXPECT_EQ(reset.summary.granted, cr(1000));
  EXPECT_EQ(reset.summary.expired, cr(0));
  EXPECT_EQ(reset.summary.closing, cr(1500));
  const Lot* rollover = find_lot(reset.state, "rollover:2026-02-01T00:00:00Z");
  ASSERT_NE(rollover, nullptr);
  EXPECT_EQ(rollover->kind, LotKind::rollover);
  EXPECT_EQ(rollover->remaining, cr(500));
  EXPECT_EQ(rollover->valid_from, at("2026-02-01T00:00:00Z"));
  EXPECT_EQ(rollover->expires_at, at("2026-03-03T00:00:00Z"));
  const Lot* plan = find_lot(reset.state, "plan:2026-02-01T00:00:00Z");
  ASSERT_NE(plan, nullptr);
  EXPECT_EQ(plan->remaining, cr(1000));
  EXPECT_EQ(plan->expires_at, at("2026-03-01T00:00:00Z"));
  EXPECT_EQ(find_lot(reset.state, "plan:2026-01-01T00:00:00Z"), nullptr);

  // Closing of the ended cycle first, then the new grant.
  ASSERT_EQ(reset.entries.size(), 3u);
  EXPECT_EQ(reset.entries[0].kind, EntryKind::rollover_out);
  EXPECT_EQ(reset.entries[0].credits, cr(-500));
  EXPECT_EQ(reset.entries[0].lot_seq, 1);
  EXPECT_EQ(reset.entries[1].kind, EntryKind::rollover_in);
  EXPECT_EQ(reset.entries[1].credits, cr(500));
  EXPECT_EQ(reset.entries[1].lot_seq, rollover->seq);
  EXPECT_EQ(reset.entries[2].kind, EntryKind::grant);
  EXPECT_EQ(reset.entries[2].credits, cr(1000));
  EXPECT_EQ(reset.entries[2].lot_seq, plan->seq);
  EXPECT_LT(rollover->seq, plan->seq);

  // Unused, the roll-over lot expires 30 days after the reset.
  sim.close_through("2026-03-02");
  EXPECT_EQ(sim.on("2026-03-02").summary.closing, cr(2500)); // still counted at 03-03 00:00
  const auto& expiry = sim.close_on("2026-03-03");
  EXPECT_EQ(expiry.summary.expired, cr(500));
  const auto expires = entries_of(expiry, EntryKind::expire);
  ASSERT_EQ(expires.size(), 1u);
  EXPECT_EQ(expires[0].at, at("2026-03-03T00:00:00Z"));
  EXPECT_EQ(expires[0].lot_seq, rollover->seq);
  EXPECT_EQ(find_lot(expiry.state, "rollover:2026-02-01T00:00:00Z"), nullptr);
  EXPECT_EQ(expiry.summary.closing, cr(2000));
}

TEST(RolloverTest, CreditsAboveTheCapExpireOnTheResetDate)
{
  const struct
  {
    std::optional<long long> cap;
    long long rolled;
    long long expired;
  } cases[] = {
    { std::nullopt, 700, 0 }, { 1000, 700, 0 }, { 700, 700, 0 }, { 300, 300, 400 }, { 0, 0, 700 },
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cap ? std::to_string(*c.cap) : "no cap");
    Sim sim(make_plan(1000, c.cap), make_settings("2026-01-10"));
    sim.close_on("2026-01-20", { .usage = { use("2026-01-20T08:00:00Z", 300) } });
    const auto& reset = sim.close_on("2026-02-10");
    EXPECT_EQ(reset.summary.rolled_over, cr(c.rolled));
    EXPECT_EQ(reset.summary.expired, cr(c.expired));
    EXPECT_EQ(reset.summary.closing, cr(1000 + c.rolled));
    const Lot* rollover = find_lot(reset.state, "rollover:2026-02-10T00:00:00Z");
    if (c.rolled == 0) {
      EXPECT_EQ(rollover, nullptr) << "no roll-over lot for 0 credits";
      EXPECT_TRUE(entries_of(reset, EntryKind::rollover_in).empty());
    } else {
      ASSERT_NE(rollover, nullptr);
      EXPECT_EQ(rollover->remaining, cr(c.rolled));
    }
    const auto expires = entries_of(reset, EntryKind::expire);
    ASSERT_EQ(expires.size(), c.expired > 0 ? 1u : 0u);
    if (c.expired > 0) {
      EXPECT_EQ(expires[0].credits, cr(-c.expired));
      EXPECT_EQ(expires[0].at, at("2026-02-10T00:00:00Z"));
      EXPECT_EQ(expires[0].lot_seq, 1);
    }
  }
}

TEST(RolloverTest, RolloverLotNeverRollsOverAgain)
{
  // February is shorter than 30 days: the roll-over lot made on 02-01 is still
  // alive at the 03-01 reset, and stays as it is.
  Sim sim(make_plan(1000), make_settings("2026-01-01"));
  sim.close_through("2026-02-01");
  const auto& reset = sim.close_on("2026-03-01");
  EXPECT_EQ(reset.summary.rolled_over, cr(1000)); // the plan lot of 02-01 only
  EXPECT_EQ(reset.summary.expired, cr(0));
  ASSERT_EQ(entries_of(reset, EntryKind::rollover_out).size(), 1u);
  const Lot* old_rollover = find_lot(reset.state, "rollover:2026-02-01T00:00:00Z");
  ASSERT_NE(old_rollover, nullptr);
  EXPECT_EQ(old_rollover->remaining, cr(1000));
  EXPECT_EQ(old_rollover->expires_at, at("2026-03-03T00:00:00Z"));
  ASSERT_NE(find_lot(reset.state, "rollover:2026-03-01T00:00:00Z"), nullptr);
  EXPECT_EQ(reset.summary.closing, cr(3000));
  const auto& expiry = sim.close_on("2026-03-03");
  EXPECT_EQ(expiry.summary.expired, cr(1000));
  EXPECT_EQ(expiry.summary.closing, cr(2000));
}

// ---------------------------------------------------------------------------
// Cycles

TEST(CycleTest, PlanIsGrantedOnEveryCycleStartOfTheAnchor)
{
  const struct
  {
    const char* anchor;
    Cycle cycle;
    const char* last;
    std::vector<const char*> grants;
  } cases[] = {
    { "2026-01-31",
      Cycle::monthly,
      "2026-05-30",
      { "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30" } },
    { "2026-01-30", Cycle::monthly, "2026-04-29", { "2026-01-30", "2026-02-28", "2026-03-30" } },
    { "2026-01-29", Cycle::monthly, "2026-04-28", { "2026-01-29", "2026-02-28", "2026-03-29" } },
    { "2028-01-29", Cycle::monthly, "2028-03-28", { "2028-01-29", "2028-02-29" } },
    { "2026-04-30", Cycle::monthly, "2026-06-29", { "2026-04-30", "2026-05-30" } },
    { "2024-02-29",
      Cycle::annual,
      "2028-03-01",
      { "2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29" } },
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.anchor) + " " + std::string(to_string(c.cycle)));
    Sim sim(make_plan(100, std::nullopt, c.cycle), make_settings(c.anchor));
    sim.close_through(c.last);
    std::vector<std::string> grant_dates;
    for (Date d = day(c.anchor); d <= day(c.last); d = d.next()) {
      const auto& r = sim.on(format_date(d).c_str());
      if (r.summary.granted.n > 0) {
        grant_dates.push_back(format_date(d));
        const auto grants = entries_of(r, EntryKind::grant);
        ASSERT_EQ(grants.size(), 1u);
        EXPECT_EQ(grants[0].at, start_of(d));
      }
    }
    EXPECT_EQ(grant_dates, std::vector<std::string>(c.grants.begin(), c.grants.end()));
    // The current plan lot expires at the next cycle start.
    const long long k = sim.state().last_cycle_index;
    EXPECT_EQ(k, static_cast<long long>(c.grants.size()) - 1);
    const Lot* plan =
      find_lot(sim.state(), "plan:" + format_instant(start_of(day(c.grants.back()))));
    ASSERT_NE(plan, nullptr);
    EXPECT_EQ(plan->valid_from, start_of(day(c.grants.back())));
    EXPECT_EQ(plan->expires_at, cycle_start(day(c.anchor), c.cycle, k + 1));
  }
}

TEST(CycleTest, ZeroCreditPlanKeepsCycleBookkeepingWithoutLots)
{
  Sim sim(make_plan(0), make_settings("2026-01-15"));
  sim.close_through("2026-03-15");
  EXPECT_EQ(sim.state().last_cycle_index, 2);
  EXPECT_TRUE(sim.state().lots.empty());
  EXPECT_EQ(sim.state().next_lot_seq, 1);
  EXPECT_TRUE(sim.on("2026-02-15").entries.empty());
  EXPECT_FALSE(sim.on("2026-02-15").summary.sending_enabled);
}

TEST(CycleTest, MissedResetsBeforeTheFirstRunAreCaughtUpAtMidnight)
{
  // An account first run after its anchor: every reset before the date is
  // applied at the date's 00:00 with its own validity instants.
  AccountDayInput input{
    day("2026-03-10"), make_plan(100), make_settings("2026-01-05"), {}, {}, {}, {}, {}, {}
  };
  const AccountDayResult r = close_account_day(input);
  EXPECT_EQ(r.state.last_cycle_index, 2);
  EXPECT_EQ(r.summary.granted, cr(300));
  EXPECT_EQ(r.summary.rolled_over, cr(200));
  EXPECT_EQ(r.summary.expired, cr(100)); // the roll-over of 02-05 lived to 03-07
  EXPECT_EQ(r.summary.closing, cr(200));
  ASSERT_EQ(r.state.lots.size(), 2u);
  EXPECT_EQ(r.state.lots[0].source, "rollover:2026-03-05T00:00:00Z");
  EXPECT_EQ(r.state.lots[0].expires_at, at("2026-04-04T00:00:00Z"));
  EXPECT_EQ(r.state.lots[1].source, "plan:2026-03-05T00:00:00Z");
  EXPECT_EQ(r.state.lots[1].valid_from, at("2026-03-05T00:00:00Z"));
  EXPECT_EQ(r.state.lots[1].expires_at, at("2026-04-05T00:00:00Z"));
}

// ---------------------------------------------------------------------------
// Expiry and charging

TEST(ExpiryTest, PurchasedLotExpiresTwelveMonthsLaterToTheSecond)
{
  Sim sim(make_plan(0), make_settings("2025-03-01"));
  sim.close_on("2025-03-10", { .purchases = { buy("p1", "2025-03-10T14:30:15Z", 100) } });
  const Lot* lot = find_lot(sim.state(), "purchase:p1");
  ASSERT_NE(lot, nullptr);
  EXPECT_EQ(lot->expires_at, at("2026-03-10T14:30:15Z"));
  const long long seq = lot->seq;

  const auto& r =
    sim.close_on("2026-03-10",
                 { .usage = { use("2026-03-10T10:00:00Z", 30),
                              use("2026-03-10T14:30:14.999999Z", 5),
                              use("2026-03-10T14:30:15Z", 20), // expired at this instant
                              use("2026-03-10T15:00:00Z", 4) } });
  EXPECT_EQ(r.summary.opening, cr(100));
  EXPECT_EQ(r.summary.used, cr(59));
  EXPECT_EQ(r.summary.expired, cr(65));
  EXPECT_EQ(r.summary.overdraft, cr(24));
  EXPECT_EQ(r.summary.closing, cr(-24));
  EXPECT_FALSE(r.summary.sending_enabled);
  EXPECT_TRUE(r.sending_changed);
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].kind, EntryKind::expire);
  EXPECT_EQ(r.entries[0].at, at("2026-03-10T14:30:15Z"));
  EXPECT_EQ(r.entries[0].lot_seq, seq);
  EXPECT_EQ(r.entries[0].credits, cr(-65));
  EXPECT_EQ(r.entries[1].kind, EntryKind::usage);
  EXPECT_EQ(r.entries[1].credits, cr(-59));
  EXPECT_EQ(r.entries[1].at, at("2026-03-10T15:00:00Z"));
  EXPECT_EQ(r.entries[1].lot_seq, 0);
  EXPECT_TRUE(r.state.lots.empty());
}

TEST(ExpiryTest, LotExpiringAtTheNextMidnightCountsInTheClosingBalance)
{
  Sim sim(make_plan(0), make_settings("2025-03-01"));
  sim.close_on("2025-03-10", { .purchases = { buy("p1", "2025-03-10T00:00:00Z", 100) } });
  const auto& before = sim.close_on("2026-03-09");
  EXPECT_EQ(before.summary.closing, cr(100));
  EXPECT_TRUE(before.summary.sending_enabled);
  const auto& r = sim.close_on("2026-03-10");
  EXPECT_EQ(r.summary.opening, cr(100));
  EXPECT_EQ(r.summary.expired, cr(100));
  EXPECT_EQ(r.summary.closing, cr(0));
  EXPECT_FALSE(r.summary.sending_enabled);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].at, at("2026-03-10T00:00:00Z"));
}

TEST(ChargingTest, UsageAtTheResetInstantSeesTheNewPlanLot)
{
  Sim sim(make_plan(1000), make_settings("2026-01-01"));
  sim.close_on("2026-01-20", { .usage = { use("2026-01-20T12:00:00Z", 800) } });
  const auto& r = sim.close_on("2026-02-01", { .usage = { use("2026-02-01T00:00:00Z", 300) } });
  // The ended plan lot is closed first (200 roll over), then cycle 1 is granted,
  // then the usage burns its lot, the lot expiring first (03-01 < 03-03).
  EXPECT_EQ(r.summary.rolled_over, cr(200));
  EXPECT_EQ(r.state.overdraft, cr(0));
  EXPECT_EQ(find_lot(r.state, "plan:2026-02-01T00:00:00Z")->remaining, cr(700));
  EXPECT_EQ(find_lot(r.state, "rollover:2026-02-01T00:00:00Z")->remaining, cr(200));
  ASSERT_EQ(r.entries.size(), 4u);
  EXPECT_EQ(r.entries[0].kind, EntryKind::rollover_out);
  EXPECT_EQ(r.entries[1].kind, EntryKind::rollover_in);
  EXPECT_EQ(r.entries[2].kind, EntryKind::grant);
  EXPECT_EQ(r.entries[3].kind, EntryKind::usage);
  EXPECT_EQ(r.entries[3].at, at("2026-02-01T00:00:00Z"));
}

TEST(ChargingTest, PurchaseAtTheUsageInstantIsChargedFirst)
{
  HandState hand;
  const auto r = hand.close("2026-06-10",
                            { .purchases = { buy("p1", "2026-06-10T09:00:00Z", 50) },
                              .usage = { use("2026-06-10T09:00:00Z", 20) } });
  EXPECT_EQ(r.state.overdraft, cr(0));
  EXPECT_EQ(find_lot(r.state, "purchase:p1")->remaining, cr(30));
}

TEST(ChargingTest, BurnOrderIsExpiryThenKindThenValidFromThenSeq)
{
  struct HandLot
  {
    LotKind kind;
    const char* valid_from;
    const char* expires_at;
  };
  const struct
  {
    const char* name;
    std::vector<HandLot> lots; // seq 1, 2, 3 ..., 100 credits each
    long long usage;
    std::vector<long long> remaining; // by seq
    long long overdraft;
  } cases[] = {
    { "kind order at one expiry: rollover, plan, purchased",
      { { LotKind::purchased, "2025-07-01T00:00:00Z", "2026-07-01T00:00:00Z" },
        { LotKind::plan, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z" },
        { LotKind::rollover, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z" } },
      150,
      { 100, 50, 0 },
      0 },
    { "sooner expiry beats kind",
      { { LotKind::rollover, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z" },
        { LotKind::purchased, "2025-06-20T00:00:00Z", "2026-06-20T00:00:00Z" } },
      120,
      { 80, 0 },
      0 },
    { "earlier valid_from beats the lot made first",
      { { LotKind::purchased, "2026-05-02T00:00:00Z", "2026-09-01T00:00:00Z" },
        { LotKind::purchased, "2026-05-01T00:00:00Z", "2026-09-01T00:00:00Z" } },
      30,
      { 100, 70 },
      0 },
    { "the lot made first at full ties",
      { { LotKind::purchased, "2025-07-01T00:00:00Z", "2026-07-01T00:00:00Z" },
        { LotKind::purchased, "2025-07-01T00:00:00Z", "2026-07-01T00:00:00Z" } },
      130,
      { 0, 70 },
      0 },
    { "a lot not yet valid is not charged",
      { { LotKind::purchased, "2026-06-11T00:00:00Z", "2027-06-11T00:00:00Z" } },
      30,
      { 100 },
      30 },
    { "what the lots cannot cover becomes overdraft",
      { { LotKind::plan, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z" },
        { LotKind::purchased, "2025-08-01T00:00:00Z", "2026-08-01T00:00:00Z" } },
      250,
      { 0, 0 },
      50 },
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HandState hand;
    for (const HandLot& l : c.lots) {
      hand.add(l.kind, 100, l.valid_from, l.expires_at);
    }
    std::reverse(hand.state.lots.begin(), hand.state.lots.end()); // input order is irrelevant
    const auto r = hand.close("2026-06-10", { .usage = { use("2026-06-10T12:00:00Z", c.usage) } });
    for (size_t i = 0; i < c.remaining.size(); ++i) {
      EXPECT_EQ(remaining_of(r.state, static_cast<long long>(i) + 1), c.remaining[i])
        << "seq " << i + 1;
    }
    EXPECT_EQ(r.state.overdraft, cr(c.overdraft));
    EXPECT_EQ(r.summary.used, cr(c.usage));
  }
}

TEST(ChargingTest, ZeroCreditEventsCountButChargeNothing)
{
  HandState hand;
  hand.add(LotKind::purchased, 10, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
  const auto r = hand.close(
    "2026-06-10", { .usage = { use("2026-06-10T01:00:00Z", 0), use("2026-06-10T02:00:00Z", 0) } });
  EXPECT_EQ(r.summary.usage_events, 2);
  EXPECT_EQ(r.summary.used, cr(0));
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].kind, EntryKind::usage);
  EXPECT_EQ(r.entries[0].credits, cr(0));
  EXPECT_EQ(remaining_of(r.state, 1), 10);
}

// ---------------------------------------------------------------------------
// Overdraft and sending status

TEST(OverdraftTest, NextGrantPaysTheDebtFirst)
{
  Sim sim(make_plan(100), make_settings("2026-01-01"));
  EXPECT_TRUE(sim.close_on("2026-01-01").sending_changed);
  const auto& debt = sim.close_on("2026-01-20", { .usage = { use("2026-01-20T12:00:00Z", 150) } });
  EXPECT_EQ(debt.summary.used, cr(150)); // the part that went into overdraft included
  EXPECT_EQ(debt.summary.overdraft, cr(50));
  EXPECT_EQ(debt.summary.closing, cr(-50));
  EXPECT_FALSE(debt.summary.sending_enabled);
  EXPECT_TRUE(debt.sending_changed);
  EXPECT_FALSE(sim.close_on("2026-01-21").sending_changed);

  const auto& reset = sim.close_on("2026-02-01");
  EXPECT_EQ(reset.summary.granted, cr(100));
  EXPECT_EQ(reset.summary.rolled_over, cr(0));
  EXPECT_EQ(reset.summary.overdraft, cr(0));
  EXPECT_EQ(reset.summary.closing, cr(50));
  EXPECT_EQ(find_lot(reset.state, "plan:2026-02-01T00:00:00Z")->remaining, cr(50));
  EXPECT_EQ(find_lot(reset.state, "plan:2026-02-01T00:00:00Z")->granted, cr(100));
  EXPECT_EQ(entries_of(reset, EntryKind::grant)[0].credits, cr(100));
  EXPECT_TRUE(reset.summary.sending_enabled);
  EXPECT_TRUE(reset.sending_changed);
}

TEST(OverdraftTest, PurchasePaysTheDebtFirst)
{
  HandState hand;
  hand.state.overdraft = cr(50);
  hand.state.sending_enabled = false;
  const auto r = hand.close("2026-06-10",
                            { .purchases = { buy("small", "2026-06-10T08:00:00Z", 30),
                                             buy("big", "2026-06-10T09:00:00Z", 100) } });
  const auto purchases = entries_of(r, EntryKind::purchase);
  ASSERT_EQ(purchases.size(), 2u);
  EXPECT_EQ(purchases[0].credits, cr(30));
  EXPECT_EQ(purchases[0].lot_seq, 1); // made, then dropped at 0
  EXPECT_EQ(purchases[1].lot_seq, 2);
  EXPECT_EQ(find_lot(r.state, "purchase:small"), nullptr);
  EXPECT_EQ(find_lot(r.state, "purchase:big")->remaining, cr(80));
  EXPECT_EQ(r.summary.purchased, cr(130));
  EXPECT_EQ(r.summary.overdraft, cr(0));
  EXPECT_EQ(r.summary.closing, cr(80));
  EXPECT_TRUE(r.sending_changed);
  EXPECT_EQ(r.state.next_lot_seq, 3);
}

TEST(PurchaseTest, PurchasesAtOneInstantApplyInPurchaseIdOrder)
{
  HandState hand;
  const auto r = hand.close("2026-06-10",
                            { .purchases = { buy("b", "2026-06-10T08:00:00Z", 10),
                                             buy("a", "2026-06-10T08:00:00Z", 20),
                                             buy("c", "2026-06-10T07:00:00Z", 30) } });
  EXPECT_EQ(find_lot(r.state, "purchase:c")->seq, 1);
  EXPECT_EQ(find_lot(r.state, "purchase:a")->seq, 2);
  EXPECT_EQ(find_lot(r.state, "purchase:b")->seq, 3);
  EXPECT_EQ(find_lot(r.state, "purchase:a")->valid_from, at("2026-06-10T08:00:00Z"));
  EXPECT_EQ(find_lot(r.state, "purchase:a")->expires_at, at("2027-06-10T08:00:00Z"));
  EXPECT_EQ(r.entries[0].at, at("2026-06-10T07:00:00Z"));
}

// ---------------------------------------------------------------------------
// Late facts

TEST(LateFactsTest, LateUsageIsChargedAgainstLotsUsableAtMidnight)
{
  HandState hand;
  // Expires exactly at the date's 00:00: counted in yesterday's closing, but
  // not usable by anything of this date.
  hand.add(LotKind::purchased, 100, "2025-03-05T00:00:00Z", "2026-03-05T00:00:00Z");
  hand.add(LotKind::purchased, 100, "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z");
  hand.state.last_cycle_index = 2; // 2026-03-01 .. 2026-04-01
  const auto r = hand.close("2026-03-05", { .usage = { use("2026-03-04T23:00:00Z", 40) } });
  EXPECT_EQ(r.summary.opening, cr(200));
  EXPECT_EQ(remaining_of(r.state, 2), 60);
  EXPECT_EQ(r.summary.expired, cr(100));
  EXPECT_EQ(r.summary.used, cr(40));
  EXPECT_EQ(r.summary.late_events, 1);
  EXPECT_EQ(r.summary.usage_events, 1);
  EXPECT_EQ(r.summary.overdraft, cr(0));
  // Late facts come before the date's own 00:00 expiry.
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].kind, EntryKind::usage);
  EXPECT_EQ(r.entries[0].at, at("2026-03-05T00:00:00Z"));
  EXPECT_FALSE(r.entries[0].late);
  EXPECT_EQ(r.entries[1].kind, EntryKind::expire);
  EXPECT_EQ(r.entries[1].lot_seq, 1);
}

TEST(LateFactsTest, LateAndOnTimeUsageMakeOneUsageEntry)
{
  HandState hand;
  hand.add(LotKind::purchased, 100, "2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z");
  hand.state.last_cycle_index = 2;
  const auto r = hand.close("2026-03-05",
                            { .usage = { use("2026-03-05T10:00:00Z", 5),
                                         use("2026-03-02T23:00:00Z", 7),
                                         use("2026-03-05T09:00:00Z", 3) } });
  EXPECT_EQ(r.summary.usage_events, 3);
  EXPECT_EQ(r.summary.late_events, 1);
  const auto usage = entries_of(r, EntryKind::usage);
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].credits, cr(-15));
  EXPECT_EQ(usage[0].at, at("2026-03-05T10:00:00Z"));
  EXPECT_EQ(remaining_of(r.state, 1), 85);
}

TEST(LateFactsTest, LatePurchaseKeepsItsValidFromAndIsBookedAtMidnight)
{
  HandState hand;
  hand.state.overdraft = cr(30);
  hand.state.sending_enabled = false;
  hand.state.last_cycle_index = 2;
  const auto r = hand.close("2026-03-05",
                            { .purchases = { buy("late", "2026-03-04T20:00:00Z", 100) },
                              .usage = { use("2026-03-05T00:00:00Z", 10) } });
  const Lot* lot = find_lot(r.state, "purchase:late");
  ASSERT_NE(lot, nullptr);
  EXPECT_EQ(lot->valid_from, at("2026-03-04T20:00:00Z"));
  EXPECT_EQ(lot->expires_at, at("2027-03-04T20:00:00Z"));
  EXPECT_EQ(lot->remaining, cr(60)); // 30 paid the overdraft, 10 used
  EXPECT_EQ(r.summary.late_purchases, 1);
  EXPECT_EQ(r.summary.purchased, cr(100));
  const auto purchases = entries_of(r, EntryKind::purchase);
  ASSERT_EQ(purchases.size(), 1u);
  EXPECT_EQ(purchases[0].at, at("2026-03-05T00:00:00Z"));
  EXPECT_TRUE(purchases[0].late);
  EXPECT_EQ(r.summary.closing, cr(60));
  EXPECT_TRUE(r.sending_changed);
}

TEST(LateFactsTest, LateFactsComeBeforeTheResetOfTheDate)
{
  // A late event on a reset date is charged against the new cycle's lots:
  // the ended plan lot expires at 00:00 and so is not usable for it.
  Sim sim(make_plan(100), make_settings("2026-01-01"));
  sim.close_through("2026-01-31");
  const auto& r = sim.close_on("2026-02-01", { .usage = { use("2026-01-31T22:00:00Z", 30) } });
  EXPECT_EQ(r.summary.late_events, 1);
  EXPECT_EQ(r.entries[0].kind, EntryKind::usage); // went into overdraft first
  EXPECT_EQ(r.summary.rolled_over, cr(100));
  EXPECT_EQ(find_lot(r.state, "plan:2026-02-01T00:00:00Z")->remaining,
            cr(70)); // the grant paid the debt
  EXPECT_EQ(find_lot(r.state, "rollover:2026-02-01T00:00:00Z")->remaining, cr(100));
  EXPECT_EQ(r.summary.closing, cr(170));
}

TEST(LateFactsTest, PurchaseLaterThanItsLifetimeExpiresAtOnce)
{
  HandState hand;
  hand.state.last_cycle_index = 2;
  const auto r =
    hand.close("2026-03-05", { .purchases = { buy("old", "2025-03-01T10:00:00Z", 40) } });
  EXPECT_EQ(r.summary.purchased, cr(40));
  EXPECT_EQ(r.summary.expired, cr(40));
  EXPECT_EQ(r.summary.closing, cr(0));
  EXPECT_TRUE(r.state.lots.empty());
}

// ---------------------------------------------------------------------------
// Revocations

TEST(RevocationTest, RevokesWhatIsLeftOfTheLot)
{
  const struct
  {
    const char* name;
    long long lot_seq;
    long long revoked;
  } cases[] = {
    { "a lot with credits", 2, 70 },
    { "an unknown lot", 9, 0 },
    { "a lot already at 0 (dropped from the state)", 3, 0 },
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HandState hand;
    hand.add(LotKind::purchased, 50, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    hand.add(LotKind::purchased, 70, "2026-06-10T00:00:00Z", "2027-06-10T00:00:00Z");
    hand.state.next_lot_seq = 4; // lot 3 was used up
    const auto r =
      hand.close("2026-06-10", { .revocations = { { c.lot_seq, "recharge:42:x:1" } } });
    EXPECT_EQ(r.summary.revoked, cr(c.revoked));
    EXPECT_EQ(r.summary.closing, cr(120 - c.revoked));
    const auto revokes = entries_of(r, EntryKind::revoke);
    ASSERT_EQ(revokes.size(), c.revoked > 0 ? 1u : 0u);
    if (c.revoked > 0) {
      EXPECT_EQ(revokes[0].lot_seq, c.lot_seq);
      EXPECT_EQ(revokes[0].credits, cr(-c.revoked));
      EXPECT_EQ(revokes[0].at, at("2026-06-10T00:00:00Z"));
      EXPECT_EQ(find_lot(r.state, "hand:2"), nullptr);
    }
    EXPECT_EQ(remaining_of(r.state, 1), 50);
  }
}

TEST(RevocationTest, RevocationComesBeforeTheDateUsage)
{
  HandState hand;
  hand.add(LotKind::purchased, 100, "2026-06-10T00:00:00Z", "2027-06-10T00:00:00Z");
  const auto r = hand.close(
    "2026-06-10", { .usage = { use("2026-06-10T00:00:00Z", 30) }, .revocations = { { 1, "k" } } });
  EXPECT_EQ(r.summary.revoked, cr(100));
  EXPECT_EQ(r.summary.overdraft, cr(30));
  EXPECT_EQ(r.entries[0].kind, EntryKind::revoke);
}

// ---------------------------------------------------------------------------
// Auto-recharge

TEST(AutoRechargeTest, RechargesUpToTheThresholdAtMostMaxPerDay)
{
  const struct
  {
    const char* name;
    long long lot_credits;
    long long overdraft;
    AutoRecharge mode;
    long long threshold;
    long long recharge_credits;
    int max_per_day;
    int expected_count;
    long long closing;
  } cases[] = {
    { "at the threshold: none", 100, 0, AutoRecharge::on, 100, 50, 3, 0, 100 },
    { "above the threshold: none", 150, 0, AutoRecharge::on, 100, 50, 3, 0, 150 },
    { "one crosses the threshold", 99, 0, AutoRecharge::on, 100, 50, 3, 1, 149 },
    { "as many as bring it to the threshold", 0, 0, AutoRecharge::on, 300, 100, 5, 3, 300 },
    { "capped by max_recharges_per_day", 0, 0, AutoRecharge::on, 300, 100, 2, 2, 200 },
    { "recharges pay the overdraft first", 0, 50, AutoRecharge::on, 100, 100, 5, 2, 150 },
    { "off: none", 0, 0, AutoRecharge::off, 300, 100, 5, 0, 0 },
    { "zero recharge credits: none", 0, 0, AutoRecharge::on, 300, 0, 5, 0, 0 },
    { "zero per day: none", 0, 0, AutoRecharge::on, 300, 100, 0, 0, 0 },
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HandState hand;
    if (c.lot_credits > 0) {
      hand.add(LotKind::purchased, c.lot_credits, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    }
    hand.state.overdraft = cr(c.overdraft);
    hand.settings.auto_recharge = c.mode;
    hand.settings.recharge_threshold = cr(c.threshold);
    hand.settings.recharge_credits = cr(c.recharge_credits);
    hand.settings.max_recharges_per_day = c.max_per_day;
    const long long first_seq = hand.state.next_lot_seq;
    const auto r = hand.close("2026-06-10");

    ASSERT_EQ(r.recharges.size(), static_cast<size_t>(c.expected_count));
    EXPECT_EQ(r.summary.purchased, cr(c.recharge_credits * c.expected_count));
    EXPECT_EQ(r.summary.closing, cr(c.closing));
    EXPECT_EQ(r.summary.overdraft, cr(0));
    const auto recharge_entries = entries_of(r, EntryKind::recharge);
    ASSERT_EQ(recharge_entries.size(), r.recharges.size());
    for (int i = 0; i < c.expected_count; ++i) {
      const RechargeRequest& req = r.recharges[static_cast<size_t>(i)];
      const std::string n = std::to_string(i + 1);
      EXPECT_EQ(req.idempotency_key, "recharge:42:2026-06-10:" + n);
      EXPECT_EQ(req.lot_seq, first_seq + i);
      EXPECT_EQ(req.credits, cr(c.recharge_credits));
      EXPECT_EQ(req.amount, (Money{ recharge_amount_cents(cr(c.recharge_credits), 1500), "USD" }));
      EXPECT_EQ(recharge_entries[static_cast<size_t>(i)].lot_seq, req.lot_seq);
      EXPECT_EQ(recharge_entries[static_cast<size_t>(i)].credits, cr(c.recharge_credits));
      EXPECT_EQ(recharge_entries[static_cast<size_t>(i)].at, at("2026-06-11T00:00:00Z"));
      const Lot* lot = find_lot(r.state, "recharge:2026-06-10:" + n);
      ASSERT_NE(lot, nullptr);
      EXPECT_EQ(lot->kind, LotKind::purchased);
      EXPECT_EQ(lot->valid_from, at("2026-06-11T00:00:00Z"));
      EXPECT_EQ(lot->expires_at, at("2027-06-11T00:00:00Z"));
      EXPECT_EQ(lot->granted, cr(c.recharge_credits));
    }
  }
}

TEST(AutoRechargeTest, RechargePaysTheDateOverdraftAndServesTheNextDate)
{
  HandState hand;
  hand.settings.auto_recharge = AutoRecharge::on;
  hand.settings.recharge_threshold = cr(10);
  hand.settings.recharge_credits = cr(100);
  const auto first = hand.close("2026-06-10", { .usage = { use("2026-06-10T23:00:00Z", 40) } });
  // The usage went into overdraft; the recharge then paid it off.
  EXPECT_EQ(first.recharges.size(), 1u);
  EXPECT_EQ(first.summary.closing, cr(60));
  EXPECT_TRUE(first.summary.sending_enabled);
  EXPECT_EQ(first.state.lots[0].remaining, cr(60));
  hand.state = first.state;
  const auto second = hand.close("2026-06-11", { .usage = { use("2026-06-11T00:00:00Z", 5) } });
  EXPECT_EQ(second.state.lots[0].remaining, cr(55));
  EXPECT_TRUE(second.recharges.empty());
}

TEST(AutoRechargeTest, AmountIsRoundedHalfUp)
{
  const struct
  {
    long long credits;
    long long price_per_1000;
    long long cents;
  } cases[] = {
    { 1000, 1499, 1499 }, { 333, 1500, 500 }, { 1, 500, 1 }, { 1, 499, 0 },  { 3, 500, 2 },
    { 0, 1500, 0 },       { 500, 1, 1 },      { 499, 1, 0 }, { 1000, 0, 0 }, { 2500, 1200, 3000 },
  };
  for (const auto& c : cases) {
    EXPECT_EQ(recharge_amount_cents(cr(c.credits), c.price_per_1000), c.cents)
      << c.credits << " credits at " << c.price_per_1000;
  }
  EXPECT_THROW(recharge_amount_cents(cr(1LL << 40), 1LL << 40), std::overflow_error);
}

// ---------------------------------------------------------------------------
// Ledger and names

TEST(LedgerTest, IdempotencyKeysCountTheEntriesOfTheAccountDate)
{
  Sim sim(make_plan(1000), make_settings("2026-01-01"));
  sim.close_on("2026-01-05", { .usage = { use("2026-01-05T01:00:00Z", 10) } });
  const auto& r = sim.close_on("2026-02-01",
                               { .purchases = { buy("p", "2026-02-01T05:00:00Z", 5) },
                                 .usage = { use("2026-02-01T06:00:00Z", 1) } });
  std::vector<std::string> keys;
  for (const auto& e : r.entries) {
    keys.push_back(e.idempotency_key);
  }
  EXPECT_EQ(keys,
            (std::vector<std::string>{ "42:2026-02-01:1",
                                       "42:2026-02-01:2",
                                       "42:2026-02-01:3",
                                       "42:2026-02-01:4",
                                       "42:2026-02-01:5" }));
}

// ---------------------------------------------------------------------------
// Time zones (SPEC 16): the engine's instants for an account in a zone.

AccountSettings zoned_settings(const char* anchor, const char* zone)
{
  AccountSettings s = make_settings(anchor);
  s.zone = *find_time_zone(zone);
  return s;
}

TEST(ZonedAccountTest, NewYorkResetsAtLocalMidnightAcrossTheMarchChange)
{
  Sim sim(make_plan(1000), zoned_settings("2026-02-01", "America/New_York"));
  // R_0 is 00:00 EST of 02-01: 05:00Z of the UTC date 02-01.
  const auto& first = sim.close_on("2026-02-01");
  ASSERT_EQ(entries_of(first, EntryKind::grant).size(), 1u);
  EXPECT_EQ(entries_of(first, EntryKind::grant)[0].at, at("2026-02-01T05:00:00Z"));
  EXPECT_EQ(find_lot(first.state, "plan:2026-02-01T05:00:00Z")->expires_at,
            at("2026-03-01T05:00:00Z"));
  sim.close_on("2026-02-10", { .usage = { use("2026-02-10T15:00:00Z", 300) } });
  // 04:30Z of 03-01 is 23:30 EST of 02-28: still cycle 0.
  const auto& reset = sim.close_on("2026-03-01", { .usage = { use("2026-03-01T04:30:00Z", 100) } });
  EXPECT_EQ(reset.summary.rolled_over, cr(600));
  const Lot* rollover = find_lot(reset.state, "rollover:2026-03-01T05:00:00Z");
  ASSERT_NE(rollover, nullptr);
  EXPECT_EQ(rollover->valid_from, at("2026-03-01T05:00:00Z"));
  // Local midnight of 03-31 is EDT: 04:00Z.
  EXPECT_EQ(rollover->expires_at, at("2026-03-31T04:00:00Z"));
  EXPECT_EQ(find_lot(reset.state, "plan:2026-03-01T05:00:00Z")->expires_at,
            at("2026-04-01T04:00:00Z"));
  const auto& expiry = sim.close_on("2026-03-31");
  const auto expires = entries_of(expiry, EntryKind::expire);
  ASSERT_EQ(expires.size(), 1u);
  EXPECT_EQ(expires[0].at, at("2026-03-31T04:00:00Z"));
  EXPECT_EQ(expiry.summary.expired, cr(600));
  const auto& april = sim.close_on("2026-04-01");
  EXPECT_EQ(entries_of(april, EntryKind::grant)[0].at, at("2026-04-01T04:00:00Z"));
}

TEST(ZonedAccountTest, AnAnchorOnThe31stEastOfUtcStartsTheUtcDateBefore)
{
  Sim sim(make_plan(1000), zoned_settings("2026-01-31", "Asia/Kolkata"));
  // The account's first business date is 01-30: R_0 is 18:30Z of it.
  const auto& first = sim.close_on("2026-01-30");
  ASSERT_EQ(entries_of(first, EntryKind::grant).size(), 1u);
  EXPECT_EQ(entries_of(first, EntryKind::grant)[0].at, at("2026-01-30T18:30:00Z"));
  EXPECT_EQ(first.summary.closing, cr(1000));
  // R_1: 00:00 IST of 02-28 (clamped), 18:30Z of 02-27.
  const auto& reset = sim.close_on("2026-02-27");
  EXPECT_EQ(entries_of(reset, EntryKind::grant)[0].at, at("2026-02-27T18:30:00Z"));
  EXPECT_EQ(find_lot(reset.state, "rollover:2026-02-27T18:30:00Z")->expires_at,
            at("2026-03-29T18:30:00Z"));
  EXPECT_EQ(find_lot(reset.state, "plan:2026-02-27T18:30:00Z")->expires_at,
            at("2026-03-30T18:30:00Z"));
}

TEST(ZonedAccountTest, ResetAtTheGapsOneOclockWhenClocksJumpAtMidnight)
{
  Sim sim(make_plan(100), zoned_settings("2026-02-08", "America/Havana"));
  const auto& reset = sim.close_on("2026-03-08");
  // 00:00 of 03-08 does not exist in Havana: 01:00 CDT, 05:00Z.
  EXPECT_EQ(entries_of(reset, EntryKind::grant)[0].at, at("2026-03-08T05:00:00Z"));
  EXPECT_EQ(find_lot(reset.state, "rollover:2026-03-08T05:00:00Z")->expires_at,
            at("2026-04-07T04:00:00Z"));
}

TEST(ZonedAccountTest, PurchasesAndRechargesExpireAtTheirLocalWallTimeTwelveMonthsOn)
{
  AccountSettings settings = zoned_settings("2026-03-10", "America/New_York");
  settings.auto_recharge = AutoRecharge::on;
  settings.recharge_threshold = cr(10);
  settings.recharge_credits = cr(50);
  Sim sim(make_plan(0), settings);
  // 5 credits bought leave the balance below 10: one recharge.
  const auto& day =
    sim.close_on("2026-03-10", { .purchases = { buy("P1", "2026-03-10T12:00:00Z", 5) } });
  // 08:00 EDT of 2026-03-10 is 08:00 EST of 2027-03-10.
  const Lot* purchase = find_lot(day.state, "purchase:P1");
  ASSERT_NE(purchase, nullptr);
  EXPECT_EQ(purchase->expires_at, at("2027-03-10T13:00:00Z"));
  // The recharge is valid from 00:00Z of 03-11, 20:00 EDT of 03-10.
  const Lot* recharge = find_lot(day.state, "recharge:2026-03-10:1");
  ASSERT_NE(recharge, nullptr);
  EXPECT_EQ(recharge->valid_from, at("2026-03-11T00:00:00Z"));
  EXPECT_EQ(recharge->expires_at, at("2027-03-11T01:00:00Z"));
}

TEST(NamesTest, KindsHaveStableNames)
{
  for (const LotKind k : { LotKind::rollover, LotKind::plan, LotKind::bonus, LotKind::purchased }) {
    EXPECT_EQ(parse_lot_kind(to_string(k)), k);
  }
  EXPECT_EQ(to_string(LotKind::purchased), "purchased");
  EXPECT_EQ(to_string(LotKind::bonus), "bonus");
  EXPECT_FALSE(parse_lot_kind("purchase").has_value());
  EXPECT_EQ(to_string(EntryKind::rollover_out), "rollover_out");
  EXPECT_EQ(to_string(EntryKind::revoke), "revoke");
  EXPECT_EQ(to_string(EntryKind::grant), "grant");
  EXPECT_EQ(to_string(EntryKind::bonus), "bonus");
  EXPECT_EQ(to_string(EntryKind::debit), "debit");
  EXPECT_EQ(to_string(EntryKind::refund), "refund");
  for (const ChangeAction a : { ChangeAction::change_plan, ChangeAction::cancel }) {
    EXPECT_EQ(parse_change_action(to_string(a)), a);
  }
  EXPECT_FALSE(parse_change_action("reactivate").has_value());
  for (const AdjustmentKind k :
       { AdjustmentKind::grant, AdjustmentKind::debit, AdjustmentKind::refund }) {
    EXPECT_EQ(parse_adjustment_kind(to_string(k)), k);
  }
  EXPECT_FALSE(parse_adjustment_kind("credit").has_value());
}

// ---------------------------------------------------------------------------
// Property tests: generated accounts, invariants after every date.

struct GeneratedAccount
{
  Plan plan;                         // in force on the first date
  std::map<std::string, Plan> plans; // every plan a change may name, plan included
  AccountSettings settings;
  std::vector<DayFacts> days; // days[i]: the facts of anchor + i
};

// Plan changes, cancellations, reactivations and adjustments (SPEC 14, 15),
// drawn from their own stream so that the other facts stay as they were
// drawn before these existed. Changes are valid as the import would accept
// them: never late, at most one a date, after R_0, no cancel of a cancelled
// account, no change to the plan in force; refunds name purchases of this
// account or its recharges, no earlier than their lot's valid_from.
void add_lifecycle_facts(GeneratedAccount& g, Random& rng)
{
  auto uniform = [&rng](long long lo, long long hi) { return rng.between(lo, hi); };
  auto chance = [&rng](double p) { return rng.chance(p); };
  if (!chance(0.6)) {
    return;
  }
  // A fifth of them only change plans: no usage, purchase, recharge or
  // adjustment, so that a cancelled account runs dry and has dormant dates
  // (with usage it mostly keeps a debt or a purchased lot for a year).
  const bool quiet = chance(0.2);
  if (quiet) {
    g.settings.auto_recharge = AutoRecharge::off;
    for (DayFacts& facts : g.days) {
      facts = DayFacts{};
    }
  }
  const long long included_choices[] = { 0, 50, 100, 500, 1000 };
  for (int j = 1; j <= 3; ++j) {
    Plan p = g.plan;
    p.plan_id = "gen" + std::to_string(j);
    p.cycle = chance(0.8) ? Cycle::monthly : Cycle::annual;
    p.included_credits = cr(included_choices[uniform(0, 4)]);
    p.credit_price_cents_per_1000 = uniform(0, 3000);
    // Values (SPEC 17) without a draw: odd prices, so that the floors bite.
    p.price_cents = p.included_credits.n * 3 + 7 * j + 1;
    p.rollover_cap = chance(0.5) ? std::optional<Credits>(cr(uniform(0, 1200))) : std::nullopt;
    g.plans.emplace(p.plan_id, p);
  }
  std::vector<std::string> plan_ids;
  for (const auto& [id, plan] : g.plans) {
    plan_ids.push_back(id);
  }
  const Zone& zone = g.settings.zone;
  const Date anchor = g.settings.cycle_anchor;
  bool cancelled = false;
  std::string plan_id = g.plan.plan_id;
  long long import_seq = 0;
  long long change_count = 0;
  std::vector<std::pair<Instant, std::string>> bought; // purchased_at, lot source
  for (size_t i = 0; i < g.days.size(); ++i) {
    DayFacts& facts = g.days[i];
    const Date date{ anchor.days + static_cast<int>(i) };
    const Instant start = start_of(date);
    // A cancelled account is mostly quiet, so that dormant dates happen.
    if (cancelled && chance(0.9)) {
      facts.usage.clear();
      facts.purchases.clear();
    }
    for (const Purchase& p : facts.purchases) {
      bought.emplace_back(p.purchased_at, "purchase:" + p.purchase_id);
    }
    if (i >= 2 && chance(quiet ? 0.06 : 0.04)) {
      for (const Date e : { date.prev(), date, date.next() }) {
        const Instant t_e = local_midnight(zone, e);
        if (t_e < start || t_e >= start_of(date.next())) {
          continue;
        }
        const std::string id = "chg" + std::to_string(++change_count);
        if (!cancelled && chance(0.35)) {
          facts.changes.push_back(PlanChange{ id, e, ChangeAction::cancel, Plan{} });
          cancelled = true;
        } else {
          // Any plan reactivates; an active account moves to another one.
          size_t to = static_cast<size_t>(uniform(0, 3));
          if (!cancelled && plan_ids[to] == plan_id) {
            to = (to + static_cast<size_t>(uniform(1, 3))) % plan_ids.size();
          }
          facts.changes.push_back(
            PlanChange{ id, e, ChangeAction::change_plan, g.plans.at(plan_ids[to]) });
          plan_id = plan_ids[to];
          cancelled = false;
        }
        break;
      }
    }
    const long long adjustments = !quiet && chance(0.08) ? uniform(1, 2) : 0;
    for (long long n = 0; n < adjustments; ++n) {
      Adjustment a;
      a.adjustment_id = "adj" + std::to_string(++import_seq);
      a.import_seq = import_seq;
      const long long back =
        i > 0 && chance(0.1) ? uniform(1, std::min<long long>(3, static_cast<long long>(i))) : 0;
      a.effective_at =
        chance(0.1)
          ? start
          : Instant{ start.us - back * k_us_per_day + uniform(0, 23) * 3600 * k_us_per_second };
      const long long kind = uniform(0, 9);
      if (kind < 4) {
        a.kind = AdjustmentKind::grant;
        a.credits = cr(uniform(1, 500));
        a.amount_cents = uniform(0, 1000);
        if (chance(0.5)) {
          a.expires_at = Instant{ std::max(a.effective_at, start).us
                                  + uniform(1, 90 * 86400) * k_us_per_second };
        }
      } else if (kind < 7) {
        a.kind = AdjustmentKind::debit;
        a.credits = cr(uniform(1, 300));
      } else {
        a.kind = AdjustmentKind::refund;
        if (chance(0.5)) {
          a.credits = cr(uniform(1, 300));
        }
        std::vector<std::string> candidates;
        for (const auto& [purchased_at, source] : bought) {
          if (purchased_at <= a.effective_at) {
            candidates.push_back(source);
          }
        }
        // A recharge of date j is valid from the start of j + 1.
        for (Date j = anchor; start_of(j.next()) <= a.effective_at; j = j.next()) {
          candidates.push_back("recharge:" + format_date(j) + ":1");
        }
        a.refund_lot_source = candidates.empty()
                                ? "purchase:none"
                                : candidates[static_cast<size_t>(
                                  uniform(0, static_cast<long long>(candidates.size()) - 1))];
      }
      facts.adjustments.push_back(std::move(a));
    }
  }
}

// Draws through the project's portable Random (util/random.hpp): the same
// scenarios with every standard library.
GeneratedAccount generate_account(Random& rng, Random& lifecycle_rng, long long account_id)
{
  auto uniform = [&rng](long long lo, long long hi) { return rng.between(lo, hi); };
  auto chance = [&rng](double p) { return rng.chance(p); };

  GeneratedAccount g;
  g.plan.plan_id = "gen";
  g.plan.cycle = chance(0.8) ? Cycle::monthly : Cycle::annual;
  const long long included_choices[] = { 0, 50, 100, 500, 1000 };
  g.plan.included_credits = cr(chance(0.7) ? included_choices[uniform(0, 4)] : uniform(1, 3000));
  g.plan.credit_price_cents_per_1000 = uniform(0, 3000);
  // Two currencies (no draw), for the value books per currency.
  g.plan.currency = account_id % 3 == 0 ? "USD" : "EUR";
  // No draw (the scenarios stay as they were): a price that does not divide.
  g.plan.price_cents = g.plan.included_credits.n * 29 / 10 + account_id % 13;
  if (chance(0.5)) {
    g.plan.rollover_cap = cr(uniform(0, 1200));
  }
  g.settings.account_id = account_id;
  g.settings.cycle_anchor =
    Date{ static_cast<int>(uniform(day("2024-01-01").days, day("2026-12-31").days)) };
  if (chance(0.5)) {
    g.settings.auto_recharge = AutoRecharge::on;
    g.settings.recharge_threshold = cr(uniform(0, 500));
    g.settings.recharge_credits = cr(chance(0.1) ? 0 : uniform(1, 300));
    g.settings.max_recharges_per_day = static_cast<int>(uniform(0, 3));
  }

  const long long day_count = g.plan.cycle == Cycle::annual && chance(0.2) ? 400 : uniform(60, 120);
  g.days.resize(static_cast<size_t>(day_count));
  const long long heavy = uniform(1, 40); // events a day at most
  long long purchase_count = 0;
  for (long long i = 0; i < day_count; ++i) {
    DayFacts& facts = g.days[static_cast<size_t>(i)];
    const Instant start = start_of(Date{ g.settings.cycle_anchor.days + static_cast<int>(i) });
    auto some_instant = [&](bool may_be_late) {
      if (chance(0.05)) {
        return start; // the date's 00:00: resets and expiries happen there too
      }
      const long long back =
        may_be_late && i > 0 && chance(0.08) ? uniform(1, std::min(3LL, i)) : 0;
      return Instant{ start.us - back * k_us_per_day
                      + (chance(0.5) ? uniform(0, 23) * 3600 * k_us_per_second
                                     : uniform(0, k_us_per_day - 1)) };
    };
    const long long events = chance(0.2) ? 0 : uniform(0, heavy);
    for (long long e = 0; e < events; ++e) {
      facts.usage.push_back(
        UsageCharge{ some_instant(true), cr(chance(0.2) ? 0 : uniform(1, 40)) });
    }
    const long long purchases = chance(0.1) ? uniform(1, 3) : 0;
    for (long long p = 0; p < purchases; ++p) {
      Purchase bought{ "p" + std::to_string(++purchase_count),
                       some_instant(true),
                       cr(chance(0.05) ? 0 : uniform(1, 800)),
                       0 };
      // A value without a draw, odd enough for the floors; a purchase of 0
      // credits has one too.
      bought.amount_cents = bought.credits.n * 17 / 10 + purchase_count % 5 + 1;
      facts.purchases.push_back(std::move(bought));
    }
    if (chance(0.03)) {
      facts.revocations.push_back(Revocation{ uniform(0, 4 + 2 * i), "pay" });
    }
  }
  // A quarter of the accounts live in a zone with daylight saving time, half
  // hours or a midnight gap (no draw: the other scenarios stay as they were).
  const char* zones[] = {
    "America/New_York", "Asia/Kolkata", "America/Havana", "Australia/Lord_Howe"
  };
  if (account_id % 4 == 3) {
    g.settings.zone = *find_time_zone(zones[(account_id / 4) % 4]);
  }
  g.plans.emplace(g.plan.plan_id, g.plan);
  add_lifecycle_facts(g, lifecycle_rng);
  return g;
}

// The instants at which plan credits must be granted on `date` (SPEC 3, 14):
// the resets of each stretch between changes, a change_plan's T_E (which
// replaces a reset there), none while cancelled; resets missed before the
// date at its 00:00. Also gives the last cycle index expected at the end.
std::vector<Instant> expected_grants(const GeneratedAccount& g,
                                     Date date,
                                     const AccountState& start_state,
                                     const Plan& start_plan,
                                     Date start_anchor,
                                     const std::vector<PlanChange>& changes,
                                     long long* last_index)
{
  const Zone& zone = g.settings.zone;
  const Instant day_start = start_of(date);
  const Instant day_end = start_of(date.next());
  std::vector<PlanChange> sorted = changes;
  std::sort(sorted.begin(), sorted.end(), [](const PlanChange& a, const PlanChange& b) {
    return a.effective_date < b.effective_date;
  });
  std::vector<Instant> out;
  const Plan* plan = &start_plan;
  Date anchor = start_anchor;
  bool cancelled = start_state.cancelled;
  long long k = start_state.last_cycle_index + 1;
  *last_index = start_state.last_cycle_index;
  for (size_t s = 0; s <= sorted.size(); ++s) {
    const Instant to = s < sorted.size() ? local_midnight(zone, sorted[s].effective_date) : day_end;
    if (!cancelled) {
      for (Instant r = cycle_start(anchor, plan->cycle, k, zone); r < to;
           r = cycle_start(anchor, plan->cycle, ++k, zone)) {
        if (plan->included_credits.n > 0) {
          out.push_back(std::max(r, day_start));
        }
        *last_index = k;
      }
    }
    if (s == sorted.size()) {
      break;
    }
    const PlanChange& c = sorted[s];
    if (c.action == ChangeAction::cancel) {
      cancelled = true;
    } else {
      cancelled = false;
      plan = &c.plan;
      anchor = c.effective_date;
      if (plan->included_credits.n > 0) {
        out.push_back(to);
      }
      *last_index = 0;
      k = 1;
    }
  }
  return out;
}

struct LifeCounts
{
  long long changes = 0;
  long long cancels = 0;
  long long reactivations = 0;
  long long dormant = 0;
  long long grants = 0;
  long long debits = 0;
  long long refunds = 0; // that revoked credits
  long long empty_refunds = 0;
};

long long floor_release(const Lot& lot)
{
  if (lot.granted.n == 0) {
    return lot.value_cents;
  }
  return static_cast<long long>(static_cast<__int128>(lot.value_cents)
                                * (lot.granted.n - lot.remaining.n) / lot.granted.n);
}

// SPEC 17 after one date: every lot's release is floor(value * left /
// granted) and never decreases; value sold == released + deferred over the
// account's life; the lot movements tie out with the lots and with the day's
// credit columns.
void check_values(const GeneratedAccount& g,
                  const AccountDayResult& r,
                  const AccountState& before,
                  const DayFacts& facts,
                  const Plan& plan,
                  long long* cum_sold,
                  long long* cum_released)
{
  const DayValues& v = r.values;
  EXPECT_EQ(v.currency, g.plan.currency);
  long long opening_deferred = 0;
  std::map<long long, const Lot*> was;
  for (const Lot& lot : before.lots) {
    opening_deferred += lot.value_cents - lot.released_cents;
    was[lot.seq] = &lot;
  }
  EXPECT_EQ(v.opening_deferred_cents, opening_deferred);
  EXPECT_GE(v.sold_cents, 0);
  EXPECT_GE(v.usage_cents, 0);
  EXPECT_GE(v.breakage_cents, 0);
  EXPECT_GE(v.revoked_cents, 0);
  EXPECT_GE(v.rolled_over_cents, 0);
  *cum_sold += v.sold_cents;
  *cum_released += v.usage_cents + v.breakage_cents + v.revoked_cents;
  long long deferred = 0;
  for (const Lot& lot : r.state.lots) {
    deferred += lot.value_cents - lot.released_cents;
  }
  EXPECT_EQ(v.closing_deferred_cents, deferred);
  EXPECT_EQ(v.closing_deferred_cents,
            v.opening_deferred_cents + v.sold_cents - v.usage_cents - v.breakage_cents
              - v.revoked_cents);
  EXPECT_EQ(*cum_sold, *cum_released + deferred);

  // Per lot: the floor rule, within its value, never less than before; the
  // new lots' values add up to sold (roll-over lots to what moved).
  long long new_value = 0;
  long long new_rollover_value = 0;
  long long released_by_lots = 0;
  for (const Lot& lot : r.lots_touched) {
    EXPECT_GE(lot.released_cents, 0) << lot.source;
    EXPECT_LE(lot.released_cents, lot.value_cents) << lot.source;
    EXPECT_EQ(lot.released_cents, floor_release(lot)) << lot.source;
    const auto it = was.find(lot.seq);
    if (it != was.end()) {
      EXPECT_GE(lot.released_cents, it->second->released_cents) << lot.source;
      EXPECT_EQ(lot.value_cents, it->second->value_cents) << lot.source;
      released_by_lots += lot.released_cents - it->second->released_cents;
    } else {
      EXPECT_GE(lot.seq, before.next_lot_seq) << lot.source;
      (lot.kind == LotKind::rollover ? new_rollover_value : new_value) += lot.value_cents;
      released_by_lots += lot.released_cents;
      if (lot.kind == LotKind::plan && facts.changes.empty()) {
        EXPECT_EQ(lot.value_cents, plan.price_cents) << lot.source;
      }
      if (lot.kind == LotKind::purchased && lot.source.starts_with("purchase:")) {
        for (const Purchase& p : facts.purchases) {
          if (lot.source == "purchase:" + p.purchase_id) {
            EXPECT_EQ(lot.value_cents, p.amount_cents) << lot.source;
          }
        }
      }
      if (lot.kind == LotKind::bonus) {
        for (const Adjustment& a : facts.adjustments) {
          if (lot.source == "bonus:" + a.adjustment_id) {
            EXPECT_EQ(lot.value_cents, a.amount_cents) << lot.source;
          }
        }
      }
    }
  }
  for (const RechargeRequest& q : r.recharges) {
    for (const Lot& lot : r.lots_touched) {
      if (lot.seq == q.lot_seq) {
        EXPECT_EQ(lot.value_cents, q.amount.cents) << lot.source;
      }
    }
  }
  EXPECT_EQ(new_value, v.sold_cents);
  EXPECT_EQ(new_rollover_value, v.rolled_over_cents);
  EXPECT_EQ(released_by_lots,
            v.usage_cents + v.breakage_cents + v.revoked_cents + v.rolled_over_cents);

  // Movements: one per lot made or left this date, in seq order; each ties
  // out; together they give the day's credit columns. Lot `used` counts
  // debits and overdraft paid at creation and not the usage that went into
  // overdraft: used + debits - (overdraft at the end - at the start).
  std::map<long long, const Lot*> touched;
  for (const Lot& lot : r.lots_touched) {
    touched[lot.seq] = &lot;
  }
  size_t expected_rows = 0;
  for (const Lot& lot : r.lots_touched) {
    const auto it = was.find(lot.seq);
    const Credits opening = it == was.end() ? Credits{} : it->second->remaining;
    expected_rows += it == was.end() || opening != lot.remaining ? 1 : 0;
  }
  EXPECT_EQ(r.lot_movements.size(), expected_rows);
  Credits created;
  Credits used;
  Credits expired;
  Credits revoked;
  Credits rolled_out;
  long long released = 0;
  long long prev_seq = 0;
  for (const LotMovement& m : r.lot_movements) {
    EXPECT_GT(m.lot_seq, prev_seq);
    prev_seq = m.lot_seq;
    EXPECT_EQ(m.closing, m.opening + m.created - m.used - m.expired - m.revoked - m.rolled_out);
    const auto lot = touched.find(m.lot_seq);
    if (lot == touched.end()) {
      ADD_FAILURE() << "movement of a lot not touched: " << m.lot_seq;
      continue;
    }
    EXPECT_EQ(m.closing, lot->second->remaining);
    const auto it = was.find(m.lot_seq);
    EXPECT_EQ(m.opening, it == was.end() ? Credits{} : it->second->remaining);
    EXPECT_EQ(m.created, it == was.end() ? lot->second->granted : Credits{});
    EXPECT_EQ(m.released_cents,
              lot->second->released_cents - (it == was.end() ? 0 : it->second->released_cents));
    created += m.created;
    used += m.used;
    expired += m.expired;
    revoked += m.revoked;
    rolled_out += m.rolled_out;
    released += m.released_cents;
  }
  const DaySummary& s = r.summary;
  Credits grants;
  Credits debits;
  for (const AppliedAdjustment& a : r.applied_adjustments) {
    grants += a.kind == AdjustmentKind::grant ? a.credits : Credits{};
    debits += a.kind == AdjustmentKind::debit ? a.credits : Credits{};
  }
  EXPECT_EQ(created, s.granted + s.purchased + grants + s.rolled_over);
  EXPECT_EQ(used, s.used + debits - (r.state.overdraft - before.overdraft));
  EXPECT_EQ(expired, s.expired);
  EXPECT_EQ(revoked, s.revoked);
  EXPECT_EQ(rolled_out, s.rolled_over);
  EXPECT_EQ(released, released_by_lots);
}

// The ledger's account of where credits came from and went (SPEC 6, 13.6,
// 17's explain): a usage or debit entry's took names each lot once, with
// what it gave; the rest of its credits went into overdraft. A lot-making
// entry's overdraft_paid is what its new lot paid off at creation. So per
// lot, its movement's used == what the entries took from it + the overdraft
// it paid when made; and the overdraft moves by exactly what the entries
// left uncovered, less what new lots paid.
void check_takes(const AccountDayResult& r, const AccountState& before)
{
  std::map<long long, Credits> took_from; // lot seq -> credits the entries took
  std::map<long long, Credits> paid_by;   // new lot seq -> overdraft it paid
  Credits uncovered;
  Credits paid;
  for (const LedgerEntry& e : r.entries) {
    const bool takes = e.kind == EntryKind::usage || e.kind == EntryKind::debit;
    const bool makes_lot = e.kind == EntryKind::grant || e.kind == EntryKind::purchase
                           || e.kind == EntryKind::recharge || e.kind == EntryKind::bonus;
    EXPECT_GE(e.overdraft_paid.n, 0) << e.idempotency_key;
    if (!makes_lot) {
      EXPECT_EQ(e.overdraft_paid, Credits{}) << e.idempotency_key;
    } else {
      EXPECT_LE(e.overdraft_paid, e.credits) << e.idempotency_key;
      EXPECT_GE(e.lot_seq, before.next_lot_seq) << e.idempotency_key << ": not a new lot";
      EXPECT_TRUE(paid_by.emplace(e.lot_seq, e.overdraft_paid).second)
        << e.idempotency_key << ": lot " << e.lot_seq << " made twice";
      paid += e.overdraft_paid;
    }
    if (!takes) {
      EXPECT_TRUE(e.took.empty()) << e.idempotency_key;
      continue;
    }
    Credits sum;
    std::set<long long> seqs;
    for (const LotTake& t : e.took) {
      EXPECT_GT(t.credits.n, 0) << e.idempotency_key;
      EXPECT_TRUE(seqs.insert(t.lot_seq).second)
        << e.idempotency_key << ": lot " << t.lot_seq << " taken twice";
      took_from[t.lot_seq] += t.credits;
      sum += t.credits;
    }
    const Credits charged = Credits{} - e.credits;
    EXPECT_LE(sum, charged) << e.idempotency_key;
    uncovered += charged - sum;
  }
  EXPECT_EQ(r.state.overdraft - before.overdraft, uncovered - paid);

  std::set<long long> moved;
  for (const LotMovement& m : r.lot_movements) {
    moved.insert(m.lot_seq);
    const auto t = took_from.find(m.lot_seq);
    const auto p = paid_by.find(m.lot_seq);
    const Credits from_entries = t == took_from.end() ? Credits{} : t->second;
    const Credits at_creation = p == paid_by.end() ? Credits{} : p->second;
    EXPECT_EQ(m.used, from_entries + at_creation) << "lot " << m.lot_seq;
  }
  for (const auto& [seq, credits] : took_from) {
    EXPECT_TRUE(moved.contains(seq))
      << "took " << credits.n << " from lot " << seq << ", which has no movement";
  }
  for (const auto& [seq, credits] : paid_by) {
    EXPECT_TRUE(moved.contains(seq)) << "lot " << seq << " made without a movement";
  }
}

// SPEC 11, 17 per currency: all value sold == released (usage + breakage +
// revoked) + deferred, over the accounts run so far and the dates of the
// account running.
struct CurrencyBooks
{
  long long sold_cents = 0;
  long long released_cents = 0;
  long long deferred_cents = 0; // of the accounts run to their end
};
using BooksByCurrency = std::map<std::string, CurrencyBooks>;

// Runs the account over all its dates, checking the invariants after each.
std::vector<AccountDayResult> run_and_check(const GeneratedAccount& g,
                                            Random* shuffle,
                                            LifeCounts* counts = nullptr,
                                            BooksByCurrency* books = nullptr)
{
  std::vector<AccountDayResult> results;
  results.reserve(g.days.size());
  AccountState state;
  std::string plan_id = g.plan.plan_id;
  Date anchor = g.settings.cycle_anchor;
  Credits cum_in;
  Credits cum_out;
  Credits cum_ledger;
  std::set<std::string> sources;
  long long cum_sold = 0;
  long long cum_released = 0; // usage + breakage + revoked
  for (size_t i = 0; i < g.days.size(); ++i) {
    const Date date{ g.settings.cycle_anchor.days + static_cast<int>(i) };
    const DayFacts& facts = g.days[i];
    const Plan& plan = g.plans.at(plan_id);
    AccountSettings settings = g.settings;
    settings.cycle_anchor = anchor;
    AccountDayInput input{ date,
                           plan,
                           settings,
                           state,
                           facts.purchases,
                           facts.usage,
                           facts.revocations,
                           facts.changes,
                           facts.adjustments };
    if (shuffle != nullptr) {
      shuffle->shuffle(input.purchases);
      shuffle->shuffle(input.usage);
      shuffle->shuffle(input.state.lots);
      shuffle->shuffle(input.changes);
      shuffle->shuffle(input.adjustments);
    }
    const Credits opening = balance(state);
    const bool sending_before = state.sending_enabled;
    AccountDayResult r = close_account_day(std::move(input));
    const DaySummary& s = r.summary;

    // Books tie out, and closing(D) == opening(D+1).
    EXPECT_EQ(s.opening, opening);
    EXPECT_EQ(s.closing,
              s.opening + s.granted + s.purchased + s.adjusted - s.used - s.expired - s.revoked);
    EXPECT_EQ(s.closing, balance(r.state));
    EXPECT_EQ(s.overdraft, r.state.overdraft);
    EXPECT_EQ(s.sending_enabled, s.closing.n > 0);
    EXPECT_EQ(r.state.sending_enabled, s.sending_enabled);
    EXPECT_EQ(r.sending_changed, s.sending_enabled != sending_before);

    // Lots: positive, within their grant, unexpired, sorted by seq; at most
    // one plan lot, none while cancelled; sources unique over the account's
    // life.
    EXPECT_GE(r.state.overdraft.n, 0);
    const Instant day_end = start_of(date.next());
    long long prev_seq = 0;
    int plan_lots = 0;
    for (const Lot& lot : r.state.lots) {
      EXPECT_GT(lot.remaining.n, 0);
      EXPECT_LE(lot.remaining, lot.granted);
      EXPECT_GE(lot.expires_at, day_end) << lot.source;
      EXPECT_GT(lot.seq, prev_seq);
      EXPECT_LT(lot.seq, r.state.next_lot_seq);
      prev_seq = lot.seq;
      plan_lots += lot.kind == LotKind::plan ? 1 : 0;
    }
    EXPECT_LE(plan_lots, r.state.cancelled ? 0 : 1);
    for (const Lot& lot : r.lots_touched) {
      EXPECT_GE(lot.remaining.n, 0);
      if (lot.seq >= state.next_lot_seq) {
        EXPECT_TRUE(sources.insert(lot.source).second) << "source made twice: " << lot.source;
      }
    }
    // Debt only when no credits are left anywhere.
    if (r.state.overdraft.n > 0) {
      EXPECT_TRUE(r.state.lots.empty());
    }

    // Ledger: matches the summary, keys count from 1.
    const std::string prefix =
      std::to_string(g.settings.account_id) + ":" + format_date(date) + ":";
    Credits by_kind[static_cast<int>(EntryKind::refund) + 1];
    Credits net;
    int usage_entries = 0;
    size_t recharge_entries = 0;
    std::vector<Instant> grant_instants;
    for (size_t n = 0; n < r.entries.size(); ++n) {
      const LedgerEntry& e = r.entries[n];
      EXPECT_EQ(e.idempotency_key, prefix + std::to_string(n + 1));
      by_kind[static_cast<int>(e.kind)] += e.credits;
      cum_ledger += e.credits;
      if (e.kind != EntryKind::rollover_in && e.kind != EntryKind::rollover_out) {
        net += e.credits;
      }
      usage_entries += e.kind == EntryKind::usage ? 1 : 0;
      recharge_entries += e.kind == EntryKind::recharge ? 1 : 0;
      if (e.kind == EntryKind::grant) {
        grant_instants.push_back(e.at);
      }
      EXPECT_GE(e.at, start_of(date));
      EXPECT_LE(e.at, day_end);
      EXPECT_EQ(e.at == day_end, e.kind == EntryKind::recharge);
    }
    EXPECT_EQ(net, s.closing - s.opening);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::grant)], s.granted);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::purchase)]
                + by_kind[static_cast<int>(EntryKind::recharge)],
              s.purchased);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::rollover_in)], s.rolled_over);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::rollover_out)], Credits{} - s.rolled_over);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::usage)], Credits{} - s.used);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::expire)], Credits{} - s.expired);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::revoke)]
                + by_kind[static_cast<int>(EntryKind::refund)],
              Credits{} - s.revoked);
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::bonus)]
                + by_kind[static_cast<int>(EntryKind::debit)],
              s.adjusted);
    EXPECT_EQ(usage_entries, facts.usage.empty() ? 0 : 1);
    EXPECT_EQ(s.usage_events, static_cast<long long>(facts.usage.size()));
    EXPECT_EQ(r.recharges.size(), recharge_entries);
    EXPECT_LE(r.recharges.size(),
              static_cast<size_t>(std::max(0, g.settings.max_recharges_per_day)));

    // Every adjustment is applied once, with the credits that took effect.
    EXPECT_EQ(r.applied_adjustments.size(), facts.adjustments.size());
    Credits refunded;
    for (const AppliedAdjustment& a : r.applied_adjustments) {
      const auto it =
        std::find_if(facts.adjustments.begin(), facts.adjustments.end(), [&a](const Adjustment& x) {
          return x.adjustment_id == a.adjustment_id;
        });
      if (it == facts.adjustments.end()) {
        ADD_FAILURE() << "applied an adjustment not in the input: " << a.adjustment_id;
        continue;
      }
      EXPECT_EQ(a.kind, it->kind);
      if (a.kind == AdjustmentKind::refund) {
        EXPECT_GE(a.credits.n, 0);
        EXPECT_LE(a.credits, it->credits.value_or(a.credits));
        refunded += a.credits;
      } else {
        EXPECT_EQ(a.credits, *it->credits);
      }
      if (counts != nullptr) {
        counts->grants += a.kind == AdjustmentKind::grant ? 1 : 0;
        counts->debits += a.kind == AdjustmentKind::debit ? 1 : 0;
        counts->refunds += a.kind == AdjustmentKind::refund && a.credits.n > 0 ? 1 : 0;
        counts->empty_refunds += a.kind == AdjustmentKind::refund && a.credits.n == 0 ? 1 : 0;
      }
    }
    EXPECT_EQ(by_kind[static_cast<int>(EntryKind::refund)], Credits{} - refunded);

    // Resets and changes: the grants at the instants the cycles say, the plan
    // and anchor in force at the end, no recharge while cancelled, recharges
    // priced by the plan in force at the end of the date.
    long long last_index = 0;
    std::vector<Instant> want_grants =
      expected_grants(g, date, state, plan, anchor, facts.changes, &last_index);
    std::sort(want_grants.begin(), want_grants.end());
    EXPECT_EQ(grant_instants, want_grants);
    std::vector<PlanChange> changes = facts.changes;
    std::sort(changes.begin(), changes.end(), [](const PlanChange& a, const PlanChange& b) {
      return a.effective_date < b.effective_date;
    });
    std::vector<std::string> change_ids;
    bool cancelled = state.cancelled;
    for (const PlanChange& c : changes) {
      change_ids.push_back(c.change_id);
      if (c.action == ChangeAction::cancel) {
        cancelled = true;
        if (counts != nullptr) {
          ++counts->cancels;
        }
      } else {
        if (counts != nullptr) {
          counts->reactivations += cancelled ? 1 : 0;
        }
        cancelled = false;
        plan_id = c.plan.plan_id;
        anchor = c.effective_date;
      }
    }
    EXPECT_EQ(r.applied_changes, change_ids);
    EXPECT_EQ(r.state.cancelled, cancelled);
    EXPECT_EQ(r.plan_id, plan_id);
    EXPECT_EQ(r.cycle_anchor, anchor);
    if (!cancelled) {
      EXPECT_EQ(r.state.last_cycle_index, last_index);
    }
    if (cancelled) {
      EXPECT_TRUE(r.recharges.empty());
    }
    const Plan& end_plan = g.plans.at(plan_id);
    for (const RechargeRequest& q : r.recharges) {
      EXPECT_EQ(q.amount,
                (Money{ recharge_amount_cents(q.credits, end_plan.credit_price_cents_per_1000),
                        end_plan.currency }));
    }
    if (counts != nullptr) {
      counts->changes += static_cast<long long>(changes.size());
    }

    // Dormant exactly as SPEC 14.4 says.
    const bool no_facts = facts.purchases.empty() && facts.usage.empty()
                          && facts.revocations.empty() && facts.changes.empty()
                          && facts.adjustments.empty();
    const bool all_zero = s.opening.n == 0 && s.closing.n == 0 && s.overdraft.n == 0
                          && s.granted.n == 0 && s.purchased.n == 0 && s.rolled_over.n == 0
                          && s.used.n == 0 && s.expired.n == 0 && s.revoked.n == 0
                          && s.adjusted.n == 0 && s.late_events == 0 && s.late_purchases == 0;
    const bool dormant =
      state.cancelled && no_facts && all_zero && state.lots.empty() && r.state.lots.empty();
    EXPECT_EQ(r.dormant, dormant);
    if (r.dormant) {
      EXPECT_TRUE(r.entries.empty());
      EXPECT_FALSE(r.sending_changed);
      if (counts != nullptr) {
        ++counts->dormant;
      }
    }

    // Conservation over the account's life: all credits ever granted,
    // bought, recharged and adjusted (a debit negative) == remaining -
    // overdraft + used + expired + revoked.
    cum_in += s.granted + s.purchased + s.adjusted;
    cum_out += s.used + s.expired + s.revoked;
    Credits remaining;
    for (const Lot& lot : r.state.lots) {
      remaining += lot.remaining;
    }
    EXPECT_EQ(cum_in, remaining - r.state.overdraft + cum_out);
    // ... and the ledger alone adds up to the balance (roll-overs cancel out).
    EXPECT_EQ(cum_ledger, remaining - r.state.overdraft);

    check_values(g, r, state, facts, plan, &cum_sold, &cum_released);
    check_takes(r, state);
    long long deferred = 0;
    for (const Lot& lot : r.state.lots) {
      deferred += lot.value_cents - lot.released_cents;
    }
    if (books != nullptr) {
      const CurrencyBooks& earlier = (*books)[r.values.currency];
      EXPECT_EQ(earlier.sold_cents + cum_sold,
                earlier.released_cents + cum_released + earlier.deferred_cents + deferred)
        << r.values.currency;
    }
    if (books != nullptr && i + 1 == g.days.size()) {
      CurrencyBooks& mine = (*books)[r.values.currency];
      mine.sold_cents += cum_sold;
      mine.released_cents += cum_released;
      mine.deferred_cents += deferred;
    }

    state = r.state;
    results.push_back(std::move(r));
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "first failure on " << format_date(date);
      break;
    }
  }
  return results;
}

void expect_same(const AccountDayResult& a, const AccountDayResult& b)
{
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_EQ(a.sending_changed, b.sending_changed);
  EXPECT_EQ(a.lots_touched, b.lots_touched);
  EXPECT_EQ(a.values, b.values);
  EXPECT_EQ(a.lot_movements, b.lot_movements);
  EXPECT_EQ(a.plan_id, b.plan_id);
  EXPECT_EQ(a.cycle_anchor, b.cycle_anchor);
  EXPECT_EQ(a.applied_changes, b.applied_changes);
  EXPECT_EQ(a.applied_adjustments, b.applied_adjustments);
  EXPECT_EQ(a.dormant, b.dormant);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    const LedgerEntry& x = a.entries[i];
    const LedgerEntry& y = b.entries[i];
    EXPECT_TRUE(x.idempotency_key == y.idempotency_key && x.kind == y.kind && x.at == y.at
                && x.credits == y.credits && x.lot_seq == y.lot_seq && x.late == y.late
                && x.took == y.took && x.overdraft_paid == y.overdraft_paid)
      << x.idempotency_key;
  }
  ASSERT_EQ(a.recharges.size(), b.recharges.size());
  for (size_t i = 0; i < a.recharges.size(); ++i) {
    const RechargeRequest& x = a.recharges[i];
    const RechargeRequest& y = b.recharges[i];
    EXPECT_TRUE(x.idempotency_key == y.idempotency_key && x.lot_seq == y.lot_seq
                && x.credits == y.credits && x.amount == y.amount)
      << x.idempotency_key;
  }
}

class EnginePropertyTest : public ::testing::TestWithParam<unsigned long long>
{};

TEST_P(EnginePropertyTest, BooksBalanceAndRerunsAreIdentical)
{
  constexpr int k_accounts = 250;
  Random rng(GetParam());
  Random lifecycle_rng(GetParam() ^ 0x11feULL);
  Random shuffle_rng(GetParam() ^ 0x5eedULL);
  long long nonzero_overdraft = 0;
  long long rollovers = 0;
  long long recharges = 0;
  long long late = 0;
  long long value_days[5] = {}; // sold, usage, breakage, revoked, rolled over
  long long overdraft_paid = 0; // entries whose new lot paid overdraft off
  long long uncovered = 0;      // usage and debit entries partly into overdraft
  LifeCounts counts;
  BooksByCurrency books;
  for (int a = 0; a < k_accounts; ++a) {
    const GeneratedAccount g = generate_account(rng, lifecycle_rng, 1000 + a);
    SCOPED_TRACE("account " + std::to_string(a) + " anchor "
                 + format_date(g.settings.cycle_anchor));
    const auto first = run_and_check(g, nullptr, &counts, &books);
    ASSERT_FALSE(HasFailure());
    // Same inputs, in another order: the same books.
    const auto second = run_and_check(g, &shuffle_rng);
    ASSERT_EQ(first.size(), second.size());
    for (size_t i = 0; i < first.size(); ++i) {
      expect_same(first[i], second[i]);
      if (HasFailure()) {
        FAIL() << "results differ on day " << i;
      }
      nonzero_overdraft += first[i].summary.overdraft.n > 0 ? 1 : 0;
      rollovers += first[i].summary.rolled_over.n > 0 ? 1 : 0;
      recharges += static_cast<long long>(first[i].recharges.size());
      late += first[i].summary.late_events + first[i].summary.late_purchases;
      const DayValues& v = first[i].values;
      value_days[0] += v.sold_cents > 0 ? 1 : 0;
      value_days[1] += v.usage_cents > 0 ? 1 : 0;
      value_days[2] += v.breakage_cents > 0 ? 1 : 0;
      value_days[3] += v.revoked_cents > 0 ? 1 : 0;
      value_days[4] += v.rolled_over_cents > 0 ? 1 : 0;
      for (const LedgerEntry& e : first[i].entries) {
        overdraft_paid += e.overdraft_paid.n > 0 ? 1 : 0;
        Credits took;
        for (const LotTake& t : e.took) {
          took += t.credits;
        }
        uncovered +=
          (e.kind == EntryKind::usage || e.kind == EntryKind::debit) && took < Credits{} - e.credits
            ? 1
            : 0;
      }
    }
    ASSERT_FALSE(HasFailure());
  }
  // The generator reaches the interesting cases.
  EXPECT_GT(nonzero_overdraft, 0);
  EXPECT_GT(rollovers, 0);
  EXPECT_GT(recharges, 0);
  EXPECT_GT(late, 0);
  EXPECT_GT(counts.changes, 0);
  EXPECT_GT(counts.cancels, 0);
  EXPECT_GT(counts.reactivations, 0);
  EXPECT_GT(counts.dormant, 0);
  EXPECT_GT(counts.grants, 0);
  EXPECT_GT(counts.debits, 0);
  EXPECT_GT(counts.refunds, 0);
  EXPECT_GT(counts.empty_refunds, 0);
  for (const long long n : value_days) {
    EXPECT_GT(n, 0);
  }
  EXPECT_GT(overdraft_paid, 0);
  EXPECT_GT(uncovered, 0);
  // Both currencies seen, each conserved over all its accounts.
  EXPECT_EQ(books.size(), 2u);
  for (const auto& [currency, b] : books) {
    EXPECT_GT(b.sold_cents, 0) << currency;
    EXPECT_EQ(b.sold_cents, b.released_cents + b.deferred_cents) << currency;
  }
  RecordProperty("changes", std::to_string(counts.changes));
  RecordProperty("dormant", std::to_string(counts.dormant));
  RecordProperty("refunds", std::to_string(counts.refunds));
}

INSTANTIATE_TEST_SUITE_P(FixedSeeds,
                         EnginePropertyTest,
                         ::testing::Values(1ULL, 20260301ULL, 0xb111ab1eULL, 987654321ULL));

} // namespace
} // namespace billing
