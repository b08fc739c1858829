#include "domain/calendar.hpp"
#include "domain/rating.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace billing {
namespace {

struct RateCase
{
  Channel channel;
  const char* status;
  long long quantity;
  long long units;
  long long credits;
};

const std::vector<RateCase> k_default_rates = {
  // sms: max(1, ceil(chars / 160)) x 1 credit
  { Channel::sms, "sent", 0, 1, 1 },
  { Channel::sms, "sent", 1, 1, 1 },
  { Channel::sms, "sent", 160, 1, 1 },
  { Channel::sms, "delivered", 161, 2, 2 },
  { Channel::sms, "delivered", 200, 2, 2 }, // the seed example
  { Channel::sms, "sent", 320, 2, 2 },
  { Channel::sms, "sent", 321, 3, 3 },
  { Channel::sms, "sent", 100000, 625, 625 },
  { Channel::sms, "failed", 200, 0, 0 },
  { Channel::sms, "failed", 0, 0, 0 },
  // mms: max(1, ceil(chars / 1600)) x 2 credits
  { Channel::mms, "sent", 0, 1, 2 },
  { Channel::mms, "sent", 1600, 1, 2 },
  { Channel::mms, "delivered", 1601, 2, 4 },
  { Channel::mms, "sent", 3200, 2, 4 },
  { Channel::mms, "sent", 3201, 3, 6 },
  { Channel::mms, "failed", 1601, 0, 0 },
  // voice: ceil(duration_s / 60) x 1 credit, 0 s is 0 units
  { Channel::voice, "completed", 0, 0, 0 },
  { Channel::voice, "completed", 1, 1, 1 },
  { Channel::voice, "completed", 60, 1, 1 },
  { Channel::voice, "completed", 61, 2, 2 },
  { Channel::voice, "completed", 120, 2, 2 },
  { Channel::voice, "completed", 121, 3, 3 },
  { Channel::voice, "completed", 86400, 1440, 1440 },
  { Channel::voice, "no_answer", 61, 0, 0 },
  { Channel::voice, "busy", 61, 0, 0 },
  { Channel::voice, "failed", 61, 0, 0 },
  // ringless: 1 per drop x 2 credits
  { Channel::ringless, "delivered", 0, 1, 2 },
  { Channel::ringless, "failed", 0, 0, 0 },
};

TEST(RatingTest, DefaultCardRatesEveryUnitBoundary)
{
  const RateCard card = RateCard::defaults();
  for (const RateCase& c : k_default_rates) {
    SCOPED_TRACE(std::string(to_string(c.channel)) + " " + c.status + " "
                 + std::to_string(c.quantity));
    const RateRule* rule = card.rule_for(c.channel, *parse_date("2026-03-01"));
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(rate(*rule, c.status, c.quantity), (Rating{ c.units, Credits{ c.credits } }));
  }
}

TEST(RatingTest, SeedExampleHundredSmsOf200CharsCost200Credits)
{
  const RateCard card = RateCard::defaults();
  const RateRule* rule = card.rule_for(Channel::sms, Date{ 20000 });
  ASSERT_NE(rule, nullptr);
  Credits total;
  for (int i = 0; i < 100; ++i) {
    total += rate(*rule, "sent", 200).credits;
  }
  EXPECT_EQ(total, Credits{ 200 });
}

TEST(RatingTest, DefaultCardListsTheSpecStatuses)
{
  const RateCard card = RateCard::defaults();
  const Date day{ 20000 };
  const auto& sms = *card.rule_for(Channel::sms, day);
  EXPECT_TRUE(sms.charges("sent") && sms.charges("delivered") && !sms.charges("failed"));
  EXPECT_TRUE(sms.lists("failed") && !sms.lists("completed"));
  const auto& voice = *card.rule_for(Channel::voice, day);
  EXPECT_TRUE(voice.charges("completed"));
  EXPECT_TRUE(voice.lists("no_answer") && voice.lists("busy") && voice.lists("failed"));
  EXPECT_FALSE(voice.lists("sent"));
  const auto& ringless = *card.rule_for(Channel::ringless, day);
  EXPECT_TRUE(ringless.charges("delivered") && !ringless.charges("failed"));
  EXPECT_EQ(card.rule_for(Channel::mms, Date{ 0 })->effective_from, Date{ 0 });
}

TEST(RateCardTest, RuleInEffectIsTheLatestOnOrBeforeTheDate)
{
  const Date jan = *parse_date("2026-01-01");
  const Date mar = *parse_date("2026-03-01");
  // Given out of order on purpose.
  RateCard card({
    { Channel::sms, mar, UnitBasis::characters, 160, 1, 3, { "sent" }, {} },
    { Channel::voice, Date{ 0 }, UnitBasis::seconds, 60, 0, 1, { "completed" }, {} },
    { Channel::sms, jan, UnitBasis::characters, 160, 1, 2, { "sent" }, {} },
  });
  struct Lookup
  {
    Channel channel;
    const char* date;
    long long credits_per_unit; // 0: no rule
  };
  const Lookup lookups[] = {
    { Channel::sms, "2025-12-31", 0 }, { Channel::sms, "2026-01-01", 2 },
    { Channel::sms, "2026-02-28", 2 }, { Channel::sms, "2026-03-01", 3 },
    { Channel::sms, "2030-01-01", 3 }, { Channel::voice, "1970-01-01", 1 },
    { Channel::mms, "2026-03-01", 0 }, { Channel::ringless, "2026-03-01", 0 },
  };
  for (const Lookup& l : lookups) {
    SCOPED_TRACE(std::string(to_string(l.channel)) + " " + l.date);
    const RateRule* rule = card.rule_for(l.channel, *parse_date(l.date));
    if (l.credits_per_unit == 0) {
      EXPECT_EQ(rule, nullptr);
    } else {
      ASSERT_NE(rule, nullptr);
      EXPECT_EQ(rule->credits_per_unit, l.credits_per_unit);
    }
  }
}

TEST(RateCardTest, MinUnitsAppliesToChargedSecondsToo)
{
  RateCard card(
    { { Channel::voice, Date{ 0 }, UnitBasis::seconds, 60, 1, 5, { "completed" }, {} } });
  const RateRule& rule = *card.rule_for(Channel::voice, Date{ 0 });
  EXPECT_EQ(rate(rule, "completed", 0), (Rating{ 1, Credits{ 5 } }));
  EXPECT_EQ(rate(rule, "completed", 61), (Rating{ 2, Credits{ 10 } }));
}

TEST(RateCardTest, RejectsInvalidRules)
{
  const std::vector<std::vector<RateRule>> bad = {
    { { Channel::sms, Date{ 0 }, UnitBasis::seconds, 160, 1, 1, { "sent" }, {} } }, // wrong basis
    { { Channel::voice, Date{ 0 }, UnitBasis::characters, 60, 0, 1, { "completed" }, {} } },
    { { Channel::sms, Date{ 0 }, UnitBasis::characters, 0, 1, 1, { "sent" }, {} } }, // unit_size 0
    { { Channel::sms, Date{ 0 }, UnitBasis::characters, 160, -1, 1, { "sent" }, {} } }, // min_units
                                                                                        // < 0
    { { Channel::sms, Date{ 0 }, UnitBasis::characters, 160, 1, -1, { "sent" }, {} } }, // credits <
                                                                                        // 0
    { { Channel::sms, Date{ 0 }, UnitBasis::characters, 160, 1, 1, { "sent" }, { "sent" } } },
    { { Channel::sms, Date{ 5 }, UnitBasis::characters, 160, 1, 1, { "sent" }, {} },
      { Channel::sms, Date{ 5 }, UnitBasis::characters, 160, 1, 2, { "sent" }, {} } }, // same date
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_THROW(RateCard{ bad[i] }, std::invalid_argument);
  }
}

TEST(RatingTest, CreditOverflowThrows)
{
  RateCard card({ { Channel::sms,
                    Date{ 0 },
                    UnitBasis::characters,
                    1,
                    1,
                    9223372036854775807LL / 2 + 1,
                    { "sent" },
                    {} } });
  const RateRule& rule = *card.rule_for(Channel::sms, Date{ 0 });
  EXPECT_EQ(rate(rule, "sent", 1).credits, Credits{ 9223372036854775807LL / 2 + 1 });
  EXPECT_THROW(rate(rule, "sent", 2), std::overflow_error);
}

TEST(ChannelTest, NamesRoundTripAndAreExact)
{
  for (const Channel c : { Channel::sms, Channel::mms, Channel::voice, Channel::ringless }) {
    EXPECT_EQ(parse_channel(to_string(c)), c);
  }
  for (const UnitBasis b : { UnitBasis::characters, UnitBasis::seconds, UnitBasis::event }) {
    EXPECT_EQ(parse_unit_basis(to_string(b)), b);
  }
  for (const char* text : { "", "SMS", "sms ", "fax", "Voice" }) {
    EXPECT_EQ(parse_channel(text), std::nullopt) << text;
  }
  EXPECT_EQ(parse_unit_basis("minutes"), std::nullopt);
}

} // namespace
} // namespace billing
