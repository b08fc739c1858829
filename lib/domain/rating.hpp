// The rate card and rating (SPEC section 5): how many billable units and
// credits one usage event costs. Pure: no database, no clock.
//
// A rate card holds, per channel, rules with an effective_from date; the rule
// in effect for an event is the one with the latest effective_from on or before
// the event's date. Invariants checked when a card is built: unit_size >= 1,
// min_units >= 0, credits_per_unit >= 0, each channel uses its own unit basis
// (sms/mms characters, voice seconds, ringless event), a status is never both
// charged and free, and no two rules share a channel and effective_from.
#pragma once

#include "domain/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

enum class Channel
{
  sms,
  mms,
  voice,
  ringless
};

// "sms", "mms", "voice", "ringless" (exact, lowercase); nullopt otherwise.
std::optional<Channel> parse_channel(std::string_view text);
std::string_view to_string(Channel c);

enum class UnitBasis
{
  characters,
  seconds,
  event
};

// "characters", "seconds", "event"; nullopt otherwise.
std::optional<UnitBasis> parse_unit_basis(std::string_view text);
std::string_view to_string(UnitBasis b);

// The unit basis a channel is rated by (and so the usage field it needs).
UnitBasis unit_basis_of(Channel c);

struct RateRule
{
  Channel channel = Channel::sms;
  Date effective_from;
  UnitBasis basis = UnitBasis::characters;
  long long unit_size = 1; // characters or seconds per unit; unused for event
  long long min_units = 0; // floor on units of a charged event (characters, seconds)
  long long credits_per_unit = 0;
  std::vector<std::string> charged_statuses;
  std::vector<std::string> free_statuses;

  bool operator==(const RateRule&) const = default;

  bool charges(std::string_view status) const;
  // True when the status is charged or free under this rule.
  bool lists(std::string_view status) const;
};

// The date the default card is effective from: 1970-01-01, the first date
// an instant can have. SPEC 18 writes it 0001-01-01; `billing import rates`
// reads that text as this date (docs/decisions.md, "Rate card").
inline constexpr Date k_rate_card_beginning{ 0 };

class RateCard
{
public:
  // Throws std::invalid_argument when a rule breaks an invariant above.
  explicit RateCard(std::vector<RateRule> rules);

  // The rule in effect for `channel` on `occurred_date`: the latest
  // effective_from <= occurred_date; nullptr when there is none.
  const RateRule* rule_for(Channel channel, Date occurred_date) const;

  // The SPEC's default card (sections 5 and 18), every rule effective from
  // k_rate_card_beginning. The one definition of it: `migrate` seeds the rate_card table
  // of a new database from it, and the workload generator rates with it.
  static RateCard defaults();

  // Sorted by channel, then effective_from.
  const std::vector<RateRule>& rules() const { return m_rules; }

private:
  std::vector<RateRule> m_rules;
};

struct Rating
{
  long long units = 0;
  Credits credits;

  bool operator==(const Rating&) const = default;
};

// Rates one event. `quantity` is its chars (characters basis) or duration_s
// (seconds basis), ignored for event basis. Charged: characters and seconds
// give max(min_units, ceil(quantity / unit_size)), event gives
// max(min_units, 1) (SPEC 18: 1 before min_units applies); a free status
// gives 0 units and 0 credits.
// REQUIRES: rule.lists(status); quantity >= 0.
// Throws std::overflow_error when units x credits_per_unit overflows.
Rating rate(const RateRule& rule, std::string_view status, long long quantity);

} // namespace billing
