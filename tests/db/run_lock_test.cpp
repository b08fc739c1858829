// The run lock's three answers (run_lock.hpp): a live holder is refused at
// once with 75, naming it; a holder that has ended is waited for and, when the
// database keeps its lock past the bound, the command ends with 69; a lock
// released meanwhile is taken. On both backends, through each dialect.
#include "db/backend_fixture.hpp"
#include "ops/clock.hpp"
#include "storage/run_lock.hpp"
#include "util/errors.hpp"

#include <chrono>
#include <thread>

using namespace billing;

namespace {

class RunLockTest : public billing::testing::BackendTest
{
protected:
  void prepare() override { migrate_schema(); }
};

TEST_P(RunLockTest, ALiveHolderIsRefusedAtOnceAndNamed)
{
  RunLock first(*db, process_identity() + " run");
  auto other = connect();
  const auto started = std::chrono::steady_clock::now();
  try {
    RunLock second(*other, "second", "billing", std::chrono::seconds(30));
    FAIL() << "a second lock was granted";
  } catch (const LockHeld& e) {
    EXPECT_EQ(e.code(), ExitCode::lock_held);
    EXPECT_NE(std::string(e.what()).find(process_identity()), std::string::npos) << e.what();
  }
  // "At once": far below the 30 s a dead holder would be waited for.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_TRUE(lock_holder(*other).has_value());
}

TEST_P(RunLockTest, ALockFreedMeanwhileIsTaken)
{
  {
    RunLock first(*db, process_identity() + " run");
  }
  auto other = connect();
  EXPECT_NO_THROW(RunLock(*other, "second"));
  EXPECT_FALSE(lock_holder(*other).has_value());
}

// MySQL only: a lock the server still holds for a client that has ended. Here
// the server's holder is a live connection of this test that names a process
// of this host that does not exist: the waiter takes it for dead, waits the
// bound, and ends with 69 (the service retries), never 75.
class DeadHolderTest : public RunLockTest
{
protected:
  // Takes the run lock on `db` and names as its holder a process of this
  // host that does not exist (a pid above the kernel's pid_max, 2^22).
  void hold_for_an_ended_process()
  {
    const std::string lock = lock_name();
    long long got = 0;
    db->sql() << "SELECT GET_LOCK(:lock, 0)", soci::use(lock), soci::into(got);
    ASSERT_EQ(got, 1);
    const std::string host = process_identity().substr(0, process_identity().rfind(':'));
    const std::string ended = host + ":9999999 run";
    const std::string name = "billing";
    db->sql() << "INSERT INTO lock_holder (lock_name, holder, acquired_us) VALUES (:name, "
                 "CONCAT(:holder, ' (connection ', CONNECTION_ID(), ')'), 0)",
      soci::use(name), soci::use(ended);
  }

  // The server-side name of the run lock of this test's database.
  std::string lock_name() const { return "billing:" + DbUrl::parse(url_text()).database; }
};

TEST_P(DeadHolderTest, AnEndedHolderKeptPastTheBoundIsExit69)
{
  ASSERT_NO_FATAL_FAILURE(hold_for_an_ended_process());

  auto other = connect();
  const auto started = std::chrono::steady_clock::now();
  try {
    RunLock waiter(*other, "waiter", "billing", std::chrono::seconds(1));
    FAIL() << "the lock was granted while the server holds it";
  } catch (const BillingError& e) {
    EXPECT_EQ(e.code(), ExitCode::db_unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find("9999999"), std::string::npos) << e.what();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  const auto holder = lock_holder(*other);
  ASSERT_TRUE(holder.has_value());
  EXPECT_NE(holder->find("ended"), std::string::npos) << *holder;
}

TEST_P(DeadHolderTest, AnEndedHolderReleasedWithinTheBoundIsWaitedFor)
{
  ASSERT_NO_FATAL_FAILURE(hold_for_an_ended_process());
  // The server releases it after a while, as after a rollback.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    const std::string lock = lock_name();
    long long released = 0;
    db->sql() << "SELECT RELEASE_LOCK(:lock)", soci::use(lock), soci::into(released);
  });
  auto other = connect();
  EXPECT_NO_THROW(RunLock(*other, "waiter", "billing", std::chrono::seconds(20)));
  release.join();
}

BILLING_ON_BOTH_BACKENDS(RunLockTest);
INSTANTIATE_TEST_SUITE_P(MySql,
                         DeadHolderTest,
                         ::testing::Values(::billing::Backend::mysql),
                         ::billing::testing::backend_name);

} // namespace
