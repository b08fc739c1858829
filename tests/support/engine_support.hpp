// Helpers of the engine's unit tests (tests/unit/engine_*_test.cpp): dates,
// instants and credits from literals, readable gtest messages for the strong
// types (found by argument-dependent lookup in namespace billing), and the
// plans, settings and facts the tests build their dates from.
#pragma once

#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "domain/types.hpp"
#include "ops/time_zones.hpp"
#include "support/time_text.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace billing {

inline void PrintTo(const Credits& c, std::ostream* os)
{
  *os << c.n << " credits";
}
inline void PrintTo(const Instant& t, std::ostream* os)
{
  *os << format_instant(t);
}
inline void PrintTo(const Date& d, std::ostream* os)
{
  *os << format_date(d);
}

namespace testing {

inline constexpr long long k_account_id = 42;

inline Date day(const char* text)
{
  return date(text);
}

inline Instant at(const char* text)
{
  return instant(text);
}

inline Credits cr(long long n)
{
  return Credits{ n };
}

// A plan in USD; each test file names only what it varies.
struct PlanSpec
{
  std::string id = "p";
  long long included = 0;
  std::optional<long long> cap = std::nullopt;
  long long price_cents = 1000;
  long long price_per_1000 = 1500;
  Cycle cycle = Cycle::monthly;
};

inline Plan plan_of(const PlanSpec& spec)
{
  Plan plan;
  plan.plan_id = spec.id;
  plan.cycle = spec.cycle;
  plan.included_credits = cr(spec.included);
  plan.price_cents = spec.price_cents;
  plan.credit_price_cents_per_1000 = spec.price_per_1000;
  plan.currency = "USD";
  if (spec.cap) {
    plan.rollover_cap = cr(*spec.cap);
  }
  return plan;
}

// Account k_account_id anchored at `anchor`, in `zone` (UTC when null).
inline AccountSettings make_settings(const char* anchor, const char* zone = nullptr)
{
  AccountSettings s;
  s.account_id = k_account_id;
  s.cycle_anchor = day(anchor);
  if (zone != nullptr) {
    s.zone = *find_time_zone(zone);
  }
  return s;
}

// The facts of one date; default member initializers let tests name only
// the facts they use.
struct Facts
{
  std::vector<Purchase> purchases = {};
  std::vector<UsageCharge> usage = {};
  std::vector<Revocation> revocations = {};
  std::vector<PlanChange> changes = {};
  std::vector<Adjustment> adjustments = {};
};

inline UsageCharge use(const char* when, long long credits)
{
  return UsageCharge{ at(when), cr(credits) };
}

// A purchase; its amount is its credits in cents unless given.
inline Purchase buy(const char* id,
                    const char* when,
                    long long credits,
                    std::optional<long long> amount_cents = std::nullopt)
{
  return Purchase{ id, at(when), cr(credits), amount_cents.value_or(credits) };
}

} // namespace testing

} // namespace billing
