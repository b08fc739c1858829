#include "db/backend_fixture.hpp"
#include "util/errors.hpp"

using namespace billing;

class MigrateTest : public billing::testing::BackendTest
{};

TEST_P(MigrateTest, FreshDatabaseReachesLatestVersion)
{
  EXPECT_EQ(current_schema_version(*db), 0);
  const MigrateResult r = migrate(*db);
  EXPECT_EQ(r.from_version, 0);
  EXPECT_EQ(r.to_version, latest_schema_version(db->backend()));
  EXPECT_FALSE(r.applied.empty());
  EXPECT_EQ(current_schema_version(*db), latest_schema_version(db->backend()));
}

TEST_P(MigrateTest, SecondMigrateChangesNothing)
{
  migrate(*db);
  const long long rows = query_ll(*db, "SELECT COUNT(*) FROM schema_version");
  const MigrateResult again = migrate(*db);
  EXPECT_TRUE(again.applied.empty());
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM schema_version"), rows);
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM rate_card"), 4);
}

TEST_P(MigrateTest, CommandsRefuseASchemaThatIsBehind)
{
  try {
    require_current_schema(*db);
    FAIL() << "an empty database passed the schema check";
  } catch (const BillingError& e) {
    EXPECT_EQ(e.code(), ExitCode::db_unavailable);
    EXPECT_NE(std::string(e.what()).find("billing migrate"), std::string::npos);
  }
  migrate(*db);
  EXPECT_NO_THROW(require_current_schema(*db));
}

TEST_P(MigrateTest, DefaultRateCardIsSeeded)
{
  migrate(*db);
  EXPECT_EQ(query_ll(*db, "SELECT unit_size FROM rate_card WHERE channel = 'sms'"), 160);
  EXPECT_EQ(query_ll(*db, "SELECT credits_per_unit FROM rate_card WHERE channel = 'mms'"), 2);
  EXPECT_EQ(query_ll(*db, "SELECT unit_size FROM rate_card WHERE channel = 'voice'"), 60);
  EXPECT_EQ(query_ll(*db, "SELECT credits_per_unit FROM rate_card WHERE channel = 'ringless'"), 2);
}

BILLING_ON_BOTH_BACKENDS(MigrateTest);
