// Lot values (SPEC 17): what each lot is worth, how its value is released by
// the credits that leave it (floor(value * left / granted), in whole cents,
// all of it with the last credit) and where it goes (usage, breakage,
// revoked, or into a roll-over lot), and the per-lot movements of a date.
// Every expected figure is worked out by hand in the comments.
#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "support/engine_support.hpp"

#include <gtest/gtest.h>

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
using testing::plan_of;
using testing::use;

// A monthly plan in USD.
Plan make_plan(long long included, long long price_cents, std::optional<long long> cap)
{
  return plan_of({ .included = included, .cap = cap, .price_cents = price_cents });
}

Adjustment adjustment(const char* id, long long seq, const char* when, AdjustmentKind kind)
{
  Adjustment a;
  a.adjustment_id = id;
  a.import_seq = seq;
  a.effective_at = at(when);
  a.kind = kind;
  return a;
}

// One UTC account anchored on 2026-03-01, run date by date (quiet dates may
// be skipped: nothing happens on them).
class Account
{
public:
  explicit Account(Plan plan)
    : m_plan(std::move(plan))
  {
    m_settings.account_id = k_account_id;
    m_settings.cycle_anchor = day("2026-03-01");
  }

  AccountSettings& settings() { return m_settings; }
  const AccountState& state() const { return m_state; }

  AccountDayResult close(const char* date, Facts facts = {})
  {
    AccountDayInput input{ day(date),
                           m_plan,
                           m_settings,
                           m_state,
                           std::move(facts.purchases),
                           std::move(facts.usage),
                           std::move(facts.revocations),
                           std::move(facts.changes),
                           std::move(facts.adjustments) };
    AccountDayResult r = close_account_day(std::move(input));
    m_state = r.state;
    return r;
  }

private:
  Plan m_plan;
  AccountSettings m_settings;
  AccountState m_state;
};

const Lot* lot_by_source(const std::vector<Lot>& lots, std::string_view source)
{
  for (const Lot& lot : lots) {
    if (lot.source == source) {
      return &lot;
    }
  }
  return nullptr;
}

const LotMovement* movement_of(const AccountDayResult& r, long long seq)
{
  for (const LotMovement& m : r.lot_movements) {
    if (m.lot_seq == seq) {
      return &m;
    }
  }
  return nullptr;
}

LotMovement movement(long long seq,
                     long long opening,
                     long long created,
                     long long used,
                     long long expired,
                     long long revoked,
                     long long rolled_out,
                     long long closing,
                     long long released_cents)
{
  LotMovement m;
  m.lot_seq = seq;
  m.opening = cr(opening);
  m.created = cr(created);
  m.used = cr(used);
  m.expired = cr(expired);
  m.revoked = cr(revoked);
  m.rolled_out = cr(rolled_out);
  m.closing = cr(closing);
  m.released_cents = released_cents;
  return m;
}

DayValues values(long long opening,
                 long long sold,
                 long long usage,
                 long long breakage,
                 long long revoked,
                 long long rolled_over,
                 long long closing)
{
  return DayValues{ .currency = "USD",
                    .opening_deferred_cents = opening,
                    .sold_cents = sold,
                    .usage_cents = usage,
                    .breakage_cents = breakage,
                    .revoked_cents = revoked,
                    .rolled_over_cents = rolled_over,
                    .closing_deferred_cents = closing };
}

// SPEC 17's example: a plan of 2,900 cents for 1,000 credits, 333 used, 300
// rolled over at the cap, 367 expired. Used: floor(2900 * 333 / 1000) = 965.
// The rolled credits leave first: floor(2900 * 633 / 1000) = 1835, so 1835 -
// 965 = 870 moves into the roll-over lot; the 367 above the cap release the
// rest, 2900 - 1835 = 1065, as breakage.
TEST(LotValueTest, WorkedExampleSplitsUsageRolloverAndBreakage)
{
  Account acct(make_plan(1000, 2900, 300));
  const AccountDayResult first =
    acct.close("2026-03-01", { .usage = { use("2026-03-01T10:00:00Z", 333) } });
  EXPECT_EQ(first.values, values(0, 2900, 965, 0, 0, 0, 1935));
  ASSERT_EQ(first.lot_movements.size(), 1u);
  EXPECT_EQ(first.lot_movements[0], movement(1, 0, 1000, 333, 0, 0, 0, 667, 965));
  EXPECT_EQ(first.state.lots[0].value_cents, 2900);
  EXPECT_EQ(first.state.lots[0].released_cents, 965);

  // A quiet date: the plan lot is not touched, no movement.
  const AccountDayResult quiet = acct.close("2026-03-15");
  EXPECT_TRUE(quiet.lot_movements.empty());
  EXPECT_EQ(quiet.values, values(1935, 0, 0, 0, 0, 0, 1935));

  // The reset at 2026-04-01 00:00: plan lot 1 closed, roll-over lot 2, plan
  // lot 3 of cycle 1 (another 2,900 sold). Deferred: 870 + 2900 = 3770.
  const AccountDayResult reset = acct.close("2026-04-01");
  EXPECT_EQ(reset.values, values(1935, 2900, 0, 1065, 0, 870, 3770));
  ASSERT_EQ(reset.lot_movements.size(), 3u);
  EXPECT_EQ(reset.lot_movements[0], movement(1, 667, 0, 0, 367, 0, 300, 0, 1935));
  EXPECT_EQ(reset.lot_movements[1], movement(2, 0, 300, 0, 0, 0, 0, 300, 0));
  EXPECT_EQ(reset.lot_movements[2], movement(3, 0, 1000, 0, 0, 0, 0, 1000, 0));
  const Lot* rolled = lot_by_source(reset.state.lots, "rollover:2026-04-01T00:00:00Z");
  ASSERT_NE(rolled, nullptr);
  EXPECT_EQ(rolled->value_cents, 870);
  EXPECT_EQ(rolled->released_cents, 0);
  const Lot* closed = lot_by_source(reset.lots_touched, "plan:2026-03-01T00:00:00Z");
  ASSERT_NE(closed, nullptr);
  EXPECT_EQ(closed->released_cents, 2900);
  // The credit columns are as they always were.
  EXPECT_EQ(reset.summary.rolled_over, cr(300));
  EXPECT_EQ(reset.summary.expired, cr(367));
}

// The roll-over lot carries its 870 cents on: 100 of its 300 credits used
// release floor(870 * 100 / 300) = 290 as usage (it burns before the plan lot:
// both expire at 2026-05-01 00:00, roll-over first). At 2026-05-01 its other
// 200 expire: 870 - 290 = 580 breakage; the plan lot of cycle 1, unused, rolls
// 300 over (floor(2900 * 300 / 1000) = 870 moves) and 700 expire (2900 - 870
// = 2030 breakage).
TEST(LotValueTest, RolloverLotReleasesTheValueItCarried)
{
  Account acct(make_plan(1000, 2900, 300));
  acct.close("2026-03-01", { .usage = { use("2026-03-01T10:00:00Z", 333) } });
  acct.close("2026-04-01");
  const AccountDayResult used =
    acct.close("2026-04-05", { .usage = { use("2026-04-05T08:00:00Z", 100) } });
  EXPECT_EQ(used.values, values(3770, 0, 290, 0, 0, 0, 3480));
  ASSERT_EQ(used.lot_movements.size(), 1u);
  EXPECT_EQ(used.lot_movements[0], movement(2, 300, 0, 100, 0, 0, 0, 200, 290));

  const AccountDayResult reset = acct.close("2026-05-01");
  // 3480 + 2900 sold - 580 - 2030 = 3770: roll-over lot 4 (870) and plan lot 5.
  EXPECT_EQ(reset.values, values(3480, 2900, 0, 2610, 0, 870, 3770));
  ASSERT_EQ(reset.lot_movements.size(), 4u);
  EXPECT_EQ(reset.lot_movements[0], movement(2, 200, 0, 0, 200, 0, 0, 0, 580));
  EXPECT_EQ(reset.lot_movements[1], movement(3, 1000, 0, 0, 700, 0, 300, 0, 2900));
  EXPECT_EQ(reset.lot_movements[2], movement(4, 0, 300, 0, 0, 0, 0, 300, 0));
  EXPECT_EQ(reset.lot_movements[3], movement(5, 0, 1000, 0, 0, 0, 0, 1000, 0));
}

// A plan change closes the plan lot as a reset does: at T_E 2026-03-10 00:00
// the 1,000 unused credits roll 300 over (floor(2900 * 300 / 1000) = 870
// moves), 700 expire (2900 - 870 = 2030 breakage); the new plan's lot of 500
// credits is sold for its 1,000 cents. A cancel closes it the same way and
// sells nothing.
TEST(LotValueTest, PlanChangeAndCancelCloseThePlanLotAsAReset)
{
  Account acct(make_plan(1000, 2900, 300));
  acct.close("2026-03-01");
  Plan next = make_plan(500, 1000, std::nullopt);
  next.plan_id = "q";
  const AccountDayResult changed = acct.close(
    "2026-03-10",
    { .changes = { PlanChange{ "c1", day("2026-03-10"), ChangeAction::change_plan, next } } });
  EXPECT_EQ(changed.values, values(2900, 1000, 0, 2030, 0, 870, 1870));
  ASSERT_EQ(changed.lot_movements.size(), 3u);
  EXPECT_EQ(changed.lot_movements[0], movement(1, 1000, 0, 0, 700, 0, 300, 0, 2900));
  EXPECT_EQ(changed.lot_movements[1], movement(2, 0, 300, 0, 0, 0, 0, 300, 0));
  EXPECT_EQ(changed.lot_movements[2], movement(3, 0, 500, 0, 0, 0, 0, 500, 0));

  // Cancelled on 2026-03-11 under plan q (no cap): lot 3 rolls all 500 over
  // with all of its 1,000 cents, and no plan lot is granted.
  Account other(make_plan(500, 1000, std::nullopt));
  other.close("2026-03-01", { .usage = { use("2026-03-01T10:00:00Z", 100) } });
  const AccountDayResult cancelled =
    other.close("2026-03-11",
                { .changes = { PlanChange{ "c2", day("2026-03-11"), ChangeAction::cancel, {} } } });
  // 100 of 500 used: floor(1000 * 100 / 500) = 200; the 400 rolled carry 800.
  EXPECT_EQ(cancelled.values, values(800, 0, 0, 0, 0, 800, 800));
  ASSERT_EQ(cancelled.lot_movements.size(), 2u);
  EXPECT_EQ(cancelled.lot_movements[0], movement(1, 400, 0, 0, 0, 0, 400, 0, 800));
  EXPECT_EQ(cancelled.lot_movements[1], movement(2, 0, 400, 0, 0, 0, 0, 400, 0));
}

// A cap of 0: nothing rolls over, the whole unreleased value is breakage.
// 1 of 3 credits used: floor(1000 / 3) = 333; at the reset 1000 - 333 = 667.
TEST(LotValueTest, BreakageAtAZeroCapIsAllThatIsLeft)
{
  Account acct(make_plan(3, 1000, 0));
  const AccountDayResult first =
    acct.close("2026-03-01", { .usage = { use("2026-03-01T10:00:00Z", 1) } });
  EXPECT_EQ(first.values, values(0, 1000, 333, 0, 0, 0, 667));
  const AccountDayResult reset = acct.close("2026-04-01");
  EXPECT_EQ(reset.values, values(667, 1000, 0, 667, 0, 0, 1000));
  EXPECT_EQ(movement_of(reset, 1)->released_cents, 667);
  EXPECT_EQ(*movement_of(reset, 1), movement(1, 2, 0, 0, 2, 0, 0, 0, 667));
}

// A lot of 3 credits for 100 cents: the first credit releases floor(100/3) =
// 33, the second floor(200/3) - 33 = 33, the last 100 - 66 = 34.
TEST(LotValueTest, LastCreditReleasesTheRest)
{
  Account acct(make_plan(0, 0, std::nullopt));
  const AccountDayResult r =
    acct.close("2026-03-01",
               { .purchases = { buy("b1", "2026-03-01T09:00:00Z", 3, 100) },
                 .usage = { use("2026-03-01T10:00:00Z", 1) } });
  EXPECT_EQ(r.values, values(0, 100, 33, 0, 0, 0, 67));
  const AccountDayResult second =
    acct.close("2026-03-02", { .usage = { use("2026-03-02T10:00:00Z", 1) } });
  EXPECT_EQ(second.values.usage_cents, 33);
  const AccountDayResult last =
    acct.close("2026-03-03", { .usage = { use("2026-03-03T10:00:00Z", 1) } });
  EXPECT_EQ(last.values, values(34, 0, 34, 0, 0, 0, 0));
  ASSERT_EQ(last.lot_movements.size(), 1u);
  EXPECT_EQ(last.lot_movements[0], movement(1, 1, 0, 1, 0, 0, 0, 0, 34));
  EXPECT_EQ(last.lots_touched[0].released_cents, 100);
  EXPECT_TRUE(last.state.lots.empty());
}

// 7 credits for 1,000 cents. 1 used: floor(1000/7) = 142. A refund of 3:
// floor(4000/7) = 571, so 571 - 142 = 429 revoked. The last 3 used release
// 1000 - 571 = 429 as usage.
TEST(LotValueTest, RefundRevokesTheValueOfItsCredits)
{
  Account acct(make_plan(0, 0, std::nullopt));
  Adjustment refund = adjustment("r1", 1, "2026-03-01T12:00:00Z", AdjustmentKind::refund);
  refund.credits = cr(3);
  refund.amount_cents = 500; // money returned: not the lot's value
  refund.refund_lot_source = "purchase:b1";
  const AccountDayResult r =
    acct.close("2026-03-01",
               { .purchases = { buy("b1", "2026-03-01T09:00:00Z", 7, 1000) },
                 .usage = { use("2026-03-01T10:00:00Z", 1), use("2026-03-01T13:00:00Z", 3) },
                 .adjustments = { refund } });
  EXPECT_EQ(r.values, values(0, 1000, 142 + 429, 0, 429, 0, 0));
  ASSERT_EQ(r.lot_movements.size(), 1u);
  EXPECT_EQ(r.lot_movements[0], movement(1, 0, 7, 4, 0, 3, 0, 0, 1000));
  EXPECT_EQ(r.summary.revoked, cr(3));
}

// A recharge of 200 credits at 1,500 per 1,000: (200 * 1500 + 500) div 1000 =
// 300 cents, sold on the date that books it. 50 used the next date: floor(300
// * 50 / 200) = 75. Its payment fails: the 150 left revoke 300 - 75 = 225.
TEST(LotValueTest, FailedPaymentRevokesWhatIsLeftOfTheRechargeValue)
{
  Account acct(make_plan(0, 0, std::nullopt));
  acct.settings().auto_recharge = AutoRecharge::on;
  acct.settings().recharge_threshold = cr(100);
  acct.settings().recharge_credits = cr(200);
  const AccountDayResult booked = acct.close("2026-03-01");
  ASSERT_EQ(booked.recharges.size(), 1u);
  EXPECT_EQ(booked.recharges[0].amount.cents, 300);
  EXPECT_EQ(booked.values, values(0, 300, 0, 0, 0, 0, 300));
  ASSERT_EQ(booked.lot_movements.size(), 1u);
  EXPECT_EQ(booked.lot_movements[0], movement(1, 0, 200, 0, 0, 0, 0, 200, 0));
  EXPECT_EQ(booked.state.lots[0].value_cents, 300);

  const AccountDayResult used =
    acct.close("2026-03-02", { .usage = { use("2026-03-02T10:00:00Z", 50) } });
  EXPECT_EQ(used.values, values(300, 0, 75, 0, 0, 0, 225));
  // The failed result's import turned auto-recharge off (SPEC 7).
  acct.settings().auto_recharge = AutoRecharge::off;
  const AccountDayResult failed =
    acct.close("2026-03-03", { .revocations = { Revocation{ 1, "k" } } });
  EXPECT_EQ(failed.values, values(225, 0, 0, 0, 225, 0, 0));
  ASSERT_EQ(failed.lot_movements.size(), 1u);
  EXPECT_EQ(failed.lot_movements[0], movement(1, 150, 0, 0, 0, 150, 0, 0, 225));
}

// A grant without amount_cents is a bonus lot worth 0: its credits release
// nothing; one with a value releases as any lot (30 of 60 for 90 cents: 45).
TEST(LotValueTest, BonusLotCarriesItsAmount)
{
  Account acct(make_plan(0, 0, std::nullopt));
  Adjustment free = adjustment("g1", 1, "2026-03-01T08:00:00Z", AdjustmentKind::grant);
  free.credits = cr(100);
  Adjustment paid = adjustment("g2", 2, "2026-03-01T09:00:00Z", AdjustmentKind::grant);
  paid.credits = cr(60);
  paid.amount_cents = 90;
  paid.expires_at = at("2026-03-20T00:00:00Z"); // sooner: burns first
  const AccountDayResult r = acct.close(
    "2026-03-01", { .usage = { use("2026-03-01T10:00:00Z", 30) }, .adjustments = { free, paid } });
  EXPECT_EQ(r.values, values(0, 90, 45, 0, 0, 0, 45));
  EXPECT_EQ(lot_by_source(r.state.lots, "bonus:g1")->value_cents, 0);
  EXPECT_EQ(lot_by_source(r.state.lots, "bonus:g2")->released_cents, 45);
  // The free lot used up: still nothing released.
  const AccountDayResult later =
    acct.close("2026-03-25", { .usage = { use("2026-03-25T10:00:00Z", 100) } });
  EXPECT_EQ(later.values.usage_cents, 0);
  // The paid lot expired at 2026-03-20 with 30 left: 90 - 45 = 45 breakage.
  EXPECT_EQ(later.values.breakage_cents, 45);
}

// A debit is charged like usage: it releases usage value.
// 10 credits for 1,000 cents, 4 debited: 400.
TEST(LotValueTest, DebitReleasesUsageValue)
{
  Account acct(make_plan(0, 0, std::nullopt));
  Adjustment d = adjustment("d1", 1, "2026-03-01T10:00:00Z", AdjustmentKind::debit);
  d.credits = cr(4);
  const AccountDayResult r = acct.close(
    "2026-03-01",
    { .purchases = { buy("b1", "2026-03-01T09:00:00Z", 10, 1000) }, .adjustments = { d } });
  EXPECT_EQ(r.values, values(0, 1000, 400, 0, 0, 0, 600));
  EXPECT_EQ(r.lot_movements[0], movement(1, 0, 10, 4, 0, 0, 0, 6, 400));
}

// 50 credits of debt on 2026-03-01; a purchase of 200 credits for 1,000 cents
// the next date pays it at once: its 50 credits leave as usage when it is
// made, floor(1000 * 50 / 200) = 250 usage, though the date used nothing.
TEST(LotValueTest, OverdraftPaidByANewLotReleasesUsageAtOnce)
{
  Account acct(make_plan(0, 0, std::nullopt));
  const AccountDayResult debt =
    acct.close("2026-03-01", { .usage = { use("2026-03-01T10:00:00Z", 50) } });
  EXPECT_EQ(debt.summary.overdraft, cr(50));
  EXPECT_EQ(debt.values, values(0, 0, 0, 0, 0, 0, 0));
  EXPECT_TRUE(debt.lot_movements.empty());

  const AccountDayResult paid =
    acct.close("2026-03-02", { .purchases = { buy("b1", "2026-03-02T12:00:00Z", 200, 1000) } });
  EXPECT_EQ(paid.summary.used, cr(0));
  EXPECT_EQ(paid.summary.overdraft, cr(0));
  EXPECT_EQ(paid.values, values(0, 1000, 250, 0, 0, 0, 750));
  ASSERT_EQ(paid.lot_movements.size(), 1u);
  EXPECT_EQ(paid.lot_movements[0], movement(1, 0, 200, 50, 0, 0, 0, 150, 250));
  EXPECT_EQ(paid.state.lots[0].released_cents, 250);
}

// The ledger names the lots credits came from (took) and the overdraft a new
// lot paid (overdraft_paid). A plan of 100 credits for 1,000 cents, anchored
// on the date; at 09:00 a purchase of 50 credits for 500 cents; at 10:00 120
// used: the plan lot (expiring first) gives 100, the purchase 20; at 11:00 a
// debit of 40: the purchase's last 30, 10 into overdraft; at 12:00 a grant of
// 25 credits worth 100 cents pays those 10 at once; at 13:00 5 used from it.
// The date's usage is one entry, booked with its last event: 100 from lot 1,
// 20 from lot 2, 5 from lot 3. Lot 3's used is 5 taken + 10 paid = 15, which
// releases floor(100 * 15 / 25) = 60 as usage; lots 1 and 2 release all of
// theirs: usage 1000 + 500 + 60 = 1560 of 1600 sold, 40 deferred.
TEST(LotValueTest, LedgerNamesTheLotsCreditsCameFromAndTheOverdraftPaid)
{
  Account acct(make_plan(100, 1000, std::nullopt));
  Adjustment d = adjustment("d1", 1, "2026-03-01T11:00:00Z", AdjustmentKind::debit);
  d.credits = cr(40);
  Adjustment g = adjustment("g1", 2, "2026-03-01T12:00:00Z", AdjustmentKind::grant);
  g.credits = cr(25);
  g.amount_cents = 100;
  const AccountDayResult r =
    acct.close("2026-03-01",
               { .purchases = { buy("b1", "2026-03-01T09:00:00Z", 50, 500) },
                 .usage = { use("2026-03-01T10:00:00Z", 120), use("2026-03-01T13:00:00Z", 5) },
                 .adjustments = { d, g } });
  ASSERT_EQ(r.entries.size(), 5u);
  const auto took = [](std::initializer_list<std::pair<long long, long long>> takes) {
    std::vector<LotTake> out;
    for (const auto& [seq, credits] : takes) {
      out.push_back(LotTake{ .lot_seq = seq, .credits = cr(credits) });
    }
    return out;
  };
  const EntryKind kinds[] = {
    EntryKind::grant, EntryKind::purchase, EntryKind::debit, EntryKind::bonus, EntryKind::usage
  };
  const long long credits[] = { 100, 50, -40, 25, -125 };
  const long long lot_seqs[] = { 1, 2, 0, 3, 0 };
  const std::vector<LotTake> takes[] = {
    {}, {}, took({ { 2, 30 } }), {}, took({ { 1, 100 }, { 2, 20 }, { 3, 5 } })
  };
  const long long paid[] = { 0, 0, 0, 10, 0 };
  for (size_t i = 0; i < r.entries.size(); ++i) {
    const LedgerEntry& e = r.entries[i];
    SCOPED_TRACE(e.idempotency_key);
    EXPECT_EQ(e.kind, kinds[i]);
    EXPECT_EQ(e.credits, cr(credits[i]));
    EXPECT_EQ(e.lot_seq, lot_seqs[i]);
    EXPECT_EQ(e.took, takes[i]);
    EXPECT_EQ(e.overdraft_paid, cr(paid[i]));
  }
  EXPECT_EQ(r.summary.used, cr(125));
  EXPECT_EQ(r.summary.overdraft, cr(0));
  EXPECT_EQ(r.values, values(0, 1600, 1560, 0, 0, 0, 40));
  ASSERT_EQ(r.lot_movements.size(), 3u);
  EXPECT_EQ(r.lot_movements[0], movement(1, 0, 100, 100, 0, 0, 0, 0, 1000));
  EXPECT_EQ(r.lot_movements[1], movement(2, 0, 50, 50, 0, 0, 0, 0, 500));
  EXPECT_EQ(r.lot_movements[2], movement(3, 0, 25, 15, 0, 0, 0, 10, 60));

  // The next date: 30 used, 10 from lot 3 and 20 into overdraft; the reset
  // is a month away, so the debt stays: the entry took 10, not 30.
  const AccountDayResult next =
    acct.close("2026-03-02", { .usage = { use("2026-03-02T10:00:00Z", 30) } });
  ASSERT_EQ(next.entries.size(), 1u);
  EXPECT_EQ(next.entries[0].took, took({ { 3, 10 } }));
  EXPECT_EQ(next.entries[0].overdraft_paid, cr(0));
  EXPECT_EQ(next.summary.overdraft, cr(20));
  // The reset at 2026-04-01 00:00: the new plan lot (seq 4) pays the 20 off
  // at once: floor(1000 * 20 / 100) = 200 usage on a date that used nothing.
  const AccountDayResult reset = acct.close("2026-04-01");
  ASSERT_EQ(reset.entries.size(), 1u);
  EXPECT_EQ(reset.entries[0].kind, EntryKind::grant);
  EXPECT_EQ(reset.entries[0].lot_seq, 4);
  EXPECT_EQ(reset.entries[0].overdraft_paid, cr(20));
  EXPECT_TRUE(reset.entries[0].took.empty());
  EXPECT_EQ(reset.values, values(0, 1000, 200, 0, 0, 0, 800));
  ASSERT_EQ(reset.lot_movements.size(), 1u);
  EXPECT_EQ(reset.lot_movements[0], movement(4, 0, 100, 20, 0, 0, 0, 80, 200));
}

// A purchase of 0 credits has nothing to carry its value: it is sold and
// released as breakage on the date it is made (a decision; SPEC 17 is silent).
TEST(LotValueTest, LotOfZeroCreditsIsBreakageAtOnce)
{
  Account acct(make_plan(0, 0, std::nullopt));
  const AccountDayResult r =
    acct.close("2026-03-01", { .purchases = { buy("b0", "2026-03-01T09:00:00Z", 0, 120) } });
  EXPECT_EQ(r.values, values(0, 120, 0, 120, 0, 0, 0));
  ASSERT_EQ(r.lot_movements.size(), 1u);
  EXPECT_EQ(r.lot_movements[0], movement(1, 0, 0, 0, 0, 0, 0, 0, 120));
  EXPECT_TRUE(r.state.lots.empty());
}

// A plan of 0 included credits makes no lot and no value.
TEST(LotValueTest, PlanWithoutCreditsSellsNothing)
{
  Account acct(make_plan(0, 2900, std::nullopt));
  const AccountDayResult r = acct.close("2026-03-01");
  EXPECT_EQ(r.values, values(0, 0, 0, 0, 0, 0, 0));
  EXPECT_TRUE(r.lot_movements.empty());
}

// Values near the top of long long: the release is exact (128-bit), the last
// credit releases all of it.
TEST(LotValueTest, LargeValuesDoNotOverflow)
{
  const long long big = 9'000'000'000'000'000'000LL;
  Account acct(make_plan(0, 0, std::nullopt));
  const AccountDayResult r =
    acct.close("2026-03-01",
               { .purchases = { buy("b1", "2026-03-01T09:00:00Z", 3, big) },
                 .usage = { use("2026-03-01T10:00:00Z", 2) } });
  EXPECT_EQ(r.values.usage_cents, 6'000'000'000'000'000'000LL);
  const AccountDayResult last =
    acct.close("2026-03-02", { .usage = { use("2026-03-02T10:00:00Z", 1) } });
  EXPECT_EQ(last.values.usage_cents, 3'000'000'000'000'000'000LL);
  EXPECT_EQ(last.lots_touched[0].released_cents, big);
}

} // namespace
} // namespace billing
