// The default rate card has one definition, RateCard::defaults(): `migrate`
// seeds an empty rate_card table from it, on both backends, and the stored
// card reads back as exactly that card.
#include "db/backend_fixture.hpp"
#include "domain/rating.hpp"
#include "storage/usage_store.hpp"

using namespace billing;
using billing::testing::dump;

namespace {

const char* const k_rate_card_rows = "SELECT channel, effective_from, basis, unit_size, min_units, "
                                     "credits_per_unit, charged_statuses, free_statuses FROM "
                                     "rate_card ORDER BY channel, effective_from";

} // namespace

class RateCardTest : public billing::testing::BackendTest
{};

TEST_P(RateCardTest, MigrateSeedsExactlyTheDefaultCard)
{
  migrate(*db);
  EXPECT_EQ(load_rate_card(*db).rules(), RateCard::defaults().rules());
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rate_card"),
            static_cast<long long>(RateCard::defaults().rules().size()));
}

TEST_P(RateCardTest, SeededRowsEqualThoseOfDatabasesMigratedBefore)
{
  // The rows 001_init.sql wrote until the seed moved into the program: a
  // database migrated then holds the same card as a new one.
  migrate(*db);
  EXPECT_EQ(dump(*db, k_rate_card_rows),
            "'mms','1970-01-01','characters','1600','1','2','sent,delivered','failed'\n"
            "'ringless','1970-01-01','event','1','1','2','delivered','failed'\n"
            "'sms','1970-01-01','characters','160','1','1','sent,delivered','failed'\n"
            "'voice','1970-01-01','seconds','60','0','1','completed','no_answer,busy,failed'\n");
}

TEST_P(RateCardTest, SecondMigrateDoesNotDuplicateTheCard)
{
  migrate(*db);
  const std::string first = dump(*db, k_rate_card_rows);
  migrate(*db);
  EXPECT_EQ(dump(*db, k_rate_card_rows), first);
  EXPECT_EQ(load_rate_card(*db).rules(), RateCard::defaults().rules());
}

TEST_P(RateCardTest, MigrateKeepsTheRowsOfACardAlreadyStored)
{
  migrate(*db);
  db->exec("UPDATE rate_card SET credits_per_unit = 3 WHERE channel = 'sms'");
  migrate(*db);
  EXPECT_EQ(query_ll(*db, "SELECT credits_per_unit FROM rate_card WHERE channel = 'sms'"), 3);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rate_card"),
            static_cast<long long>(RateCard::defaults().rules().size()));
}

BILLING_ON_BOTH_BACKENDS(RateCardTest);
