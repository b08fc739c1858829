// Runs each database test once per backend (SOCI's own test suite is the
// model): a fresh SQLite file, and a fresh database on the MariaDB server
// named by BILLING_TEST_MYSQL_URL (scripts/test.sh starts one). Without that
// server the MySQL cases are skipped locally, and fail when
// BILLING_REQUIRE_MYSQL=1 (as in CI): never silently skipped there.
#pragma once

#include "domain/calendar.hpp"
#include "storage/database.hpp"
#include "storage/imports.hpp"
#include "storage/migrations.hpp"
#include "support/time_text.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace billing::testing {

// Every column of every row of `query`, NULLs distinct from text; `values`
// are bound in order to its :placeholders.
template<class... Values>
std::string dump(Database& db, const std::string& query, const Values&... values)
{
  std::string out;
  soci::details::prepare_temp_type prepared = (db.sql().prepare << query);
  (void)(prepared, ..., soci::use(values));
  soci::rowset<soci::row> rows(prepared);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      const auto v = as_opt_str(r, i);
      out += v ? "'" + *v + "'" : std::string("NULL");
      out += i + 1 < r.size() ? "," : "\n";
    }
  }
  return out;
}

inline std::string env_or(const char* name, const std::string& fallback = {})
{
  const char* v = std::getenv(name);
  return v ? std::string(v) : fallback;
}

class BackendTest : public ::testing::TestWithParam<Backend>
{
protected:
  void SetUp() override
  {
    if (GetParam() == Backend::mysql && env_or("BILLING_TEST_MYSQL_URL").empty()) {
      if (env_or("BILLING_REQUIRE_MYSQL") == "1") {
        FAIL() << "BILLING_REQUIRE_MYSQL=1 but BILLING_TEST_MYSQL_URL is not set: MariaDB "
                  "is required for this test (run scripts/test.sh)";
      }
      GTEST_SKIP() << "no MariaDB (BILLING_TEST_MYSQL_URL unset)";
    }
    m_password = env_or("BILLING_TEST_MYSQL_PASSWORD");
    m_url_text = new_database_url("main");
    m_url = DbUrl::parse(m_url_text);
    db = std::make_unique<Database>(m_url, m_password);
    prepare();
  }

  // Fills the fresh database `db` for each test of the suite; not called when
  // the test is skipped (no MariaDB) or failed to open it.
  virtual void prepare() {}

  void TearDown() override
  {
    db.reset();
    for (const std::string& name : m_databases) {
      try {
        admin().exec("DROP DATABASE IF EXISTS " + name);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot drop " << name << ": " << e.what();
      }
    }
    if (!m_scratch.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(m_scratch, ec);
    }
  }

  // The URL of a new, empty database of this test's backend, removed when the
  // test ends: a file in the scratch folder, or a database on the server.
  std::string new_database_url(const std::string& tag)
  {
    if (GetParam() == Backend::sqlite) {
      return "sqlite:" + (scratch_dir() / (tag + ".db")).string();
    }
    std::mt19937_64 rng(std::random_device{}());
    const std::string name =
      "billing_t_" + std::to_string(rng() % 1'000'000'000'000ULL) + "_" + tag;
    admin().exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
    m_databases.push_back(name);
    return env_or("BILLING_TEST_MYSQL_URL") + name;
  }

  // A new connection to the database at `url`.
  std::unique_ptr<Database> open(const std::string& url) const
  {
    return std::make_unique<Database>(DbUrl::parse(url), m_password);
  }

  // Imports plan BASIC (1,000 credits a month, 2,900 cents; extra credits
  // at 1,500 cents per 1,000) and account 1 on it, anchored 2026-11-01.
  void import_basic_account(Instant now)
  {
    const auto plans =
      import_csv(*db,
                 ImportKind::plans,
                 file("plans.csv",
                      "plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_"
                      "1000,currency,rollover_cap\nBASIC,Basic,monthly,1000,2900,1500,USD,\n"),
                 now);
    ASSERT_TRUE(plans.rejected.empty());
    const auto accounts = import_csv(*db,
                                     ImportKind::accounts,
                                     file("accounts.csv",
                                          "account_id,plan_id,cycle_anchor,auto_recharge,recharge_"
                                          "threshold,recharge_credits,max_recharges_per_day\n"
                                          "1,BASIC,2026-11-01,0,0,0,1\n"),
                                     now);
    ASSERT_TRUE(accounts.rejected.empty());
  }

  // A second, independent connection to the test's database.
  std::unique_ptr<Database> connect() const { return open(m_url_text); }

  void migrate_schema() { billing::migrate(*db); }

  const std::string& url_text() const { return m_url_text; }
  const std::optional<std::string>& password() const { return m_password; }
  std::filesystem::path scratch_dir()
  {
    if (m_scratch.empty()) {
      std::mt19937_64 rng(std::random_device{}());
      m_scratch = std::filesystem::temp_directory_path()
                  / ("billing_s_" + std::to_string(rng() % 1'000'000'000'000ULL));
      std::filesystem::create_directories(m_scratch);
    }
    return m_scratch;
  }

  // Writes `content` to `name` in this test's scratch folder (removed when
  // the test ends) and returns its path.
  std::string file(const std::string& name, const std::string& content)
  {
    const auto path = scratch_dir() / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    return path.string();
  }

  std::unique_ptr<Database> db;

private:
  Database admin() const
  {
    return Database(DbUrl::parse(env_or("BILLING_TEST_MYSQL_URL") + "mysql"), m_password);
  }

  std::filesystem::path m_scratch;
  std::vector<std::string> m_databases; // created on the MariaDB server
  std::string m_url_text;
  DbUrl m_url;
  std::optional<std::string> m_password;
};

inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info)
{
  return info.param == Backend::sqlite ? "sqlite" : "mysql";
}

} // namespace billing::testing

// Instantiates a TEST_P suite derived from BackendTest on both backends.
#define BILLING_ON_BOTH_BACKENDS(Suite)                                                            \
  INSTANTIATE_TEST_SUITE_P(                                                                        \
    Backends,                                                                                      \
    Suite,                                                                                         \
    ::testing::Values(::billing::Backend::sqlite, ::billing::Backend::mysql),                      \
    ::billing::testing::backend_name)
