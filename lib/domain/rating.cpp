#include "domain/rating.hpp"

#include "domain/calendar.hpp"
#include "util/assert.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace billing {

namespace {

bool contains(const std::vector<std::string>& list, std::string_view value)
{
  return std::find(list.begin(), list.end(), value) != list.end();
}

void validate(const RateRule& rule)
{
  const std::string where = "rate rule " + std::string(to_string(rule.channel)) + " from "
                            + format_date(rule.effective_from) + ": ";
  if (rule.basis != unit_basis_of(rule.channel)) {
    throw std::invalid_argument(where + "unit basis must be "
                                + std::string(to_string(unit_basis_of(rule.channel))));
  }
  if (rule.unit_size < 1 || rule.min_units < 0 || rule.credits_per_unit < 0) {
    throw std::invalid_argument(where
                                + "needs unit_size >= 1, min_units >= 0, credits_per_unit >= 0");
  }
  for (const std::string& status : rule.charged_statuses) {
    if (contains(rule.free_statuses, status)) {
      throw std::invalid_argument(where + "status '" + status + "' is both charged and free");
    }
  }
}

} // namespace

std::optional<Channel> parse_channel(std::string_view text)
{
  if (text == "sms") {
    return Channel::sms;
  }
  if (text == "mms") {
    return Channel::mms;
  }
  if (text == "voice") {
    return Channel::voice;
  }
  if (text == "ringless") {
    return Channel::ringless;
  }
  return std::nullopt;
}

std::string_view to_string(Channel c)
{
  switch (c) {
    case Channel::sms:
      return "sms";
    case Channel::mms:
      return "mms";
    case Channel::voice:
      return "voice";
    case Channel::ringless:
      return "ringless";
  }
  return "unknown";
}

std::optional<UnitBasis> parse_unit_basis(std::string_view text)
{
  if (text == "characters") {
    return UnitBasis::characters;
  }
  if (text == "seconds") {
    return UnitBasis::seconds;
  }
  if (text == "event") {
    return UnitBasis::event;
  }
  return std::nullopt;
}

std::string_view to_string(UnitBasis b)
{
  switch (b) {
    case UnitBasis::characters:
      return "characters";
    case UnitBasis::seconds:
      return "seconds";
    case UnitBasis::event:
      return "event";
  }
  return "unknown";
}

UnitBasis unit_basis_of(Channel c)
{
  switch (c) {
    case Channel::sms:
    case Channel::mms:
      return UnitBasis::characters;
    case Channel::voice:
      return UnitBasis::seconds;
    case Channel::ringless:
      return UnitBasis::event;
  }
  return UnitBasis::event;
}

bool RateRule::charges(std::string_view status) const
{
  return contains(charged_statuses, status);
}

bool RateRule::lists(std::string_view status) const
{
  return contains(charged_statuses, status) || contains(free_statuses, status);
}

RateCard::RateCard(std::vector<RateRule> rules)
  : m_rules(std::move(rules))
{
  for (const RateRule& rule : m_rules) {
    validate(rule);
  }
  const auto key = [](const RateRule& r) { return std::tuple(r.channel, r.effective_from); };
  std::sort(m_rules.begin(), m_rules.end(), [&](const RateRule& a, const RateRule& b) {
    return key(a) < key(b);
  });
  const auto dup =
    std::adjacent_find(m_rules.begin(), m_rules.end(), [&](const RateRule& a, const RateRule& b) {
      return key(a) == key(b);
    });
  if (dup != m_rules.end()) {
    throw std::invalid_argument("rate card: two " + std::string(to_string(dup->channel))
                                + " rules share effective_from "
                                + format_date(dup->effective_from));
  }
}

const RateRule* RateCard::rule_for(Channel channel, Date occurred_date) const
{
  const RateRule* found = nullptr;
  for (const RateRule& rule : m_rules) {
    if (rule.channel == channel && rule.effective_from <= occurred_date) {
      found = &rule; // sorted: a later match has a later effective_from
    }
  }
  return found;
}

RateCard RateCard::defaults()
{
  // 1970-01-01, as every database holds it; SPEC 18's 0001-01-01 rules the
  // same events (no instant is before 1970) and the rates import reads it so.
  const Date epoch = k_rate_card_beginning;
  return RateCard({
    { Channel::sms,
      epoch,
      UnitBasis::characters,
      160,
      1,
      1,
      { "sent", "delivered" },
      { "failed" } },
    { Channel::mms,
      epoch,
      UnitBasis::characters,
      1600,
      1,
      2,
      { "sent", "delivered" },
      { "failed" } },
    { Channel::voice,
      epoch,
      UnitBasis::seconds,
      60,
      0,
      1,
      { "completed" },
      { "no_answer", "busy", "failed" } },
    { Channel::ringless, epoch, UnitBasis::event, 1, 1, 2, { "delivered" }, { "failed" } },
  });
}

Rating rate(const RateRule& rule, std::string_view status, long long quantity)
{
  BILLING_REQUIRE(rule.lists(status));
  BILLING_REQUIRE(quantity >= 0);
  if (!rule.charges(status)) {
    return Rating{};
  }
  long long whole = 1;
  if (rule.basis != UnitBasis::event) {
    whole = quantity / rule.unit_size + (quantity % rule.unit_size != 0 ? 1 : 0);
  }
  const long long units = std::max(rule.min_units, whole);
  return Rating{ units, Credits{ checked_mul(units, rule.credits_per_unit) } };
}

} // namespace billing
