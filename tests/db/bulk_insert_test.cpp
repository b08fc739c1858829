// The bulk writers of both dialects carry any text exactly: plain inserts
// (a prepared statement on SQLite, LOAD DATA LOCAL from memory on MySQL) and
// upserts (multi-row INSERT ... ON DUPLICATE KEY UPDATE, whose values are
// encoded by mysql_literal), and a bound read gives every byte back.
#include "db/backend_fixture.hpp"

#include <string>
#include <vector>

using namespace billing;

namespace {

// Texts a careless encoding would break: quotes of every kind, backslashes
// (NO_BACKSLASH_ESCAPES on MySQL), SOCI's ":name" placeholders, comments,
// statement ends, the LOAD DATA field and line separators, "NULL", multi-byte
// UTF-8, and the empty string.
const std::vector<std::string> k_texts = {
  "plain",
  "it's",
  "''",
  "\"quoted\"",
  "back\\slash",
  "\\",
  "trailing\\",
  "\\'",
  ":name and :other",
  "x'; DROP TABLE bulk_t; --",
  "a,b,c",
  "line\nbreak",
  "tab\there",
  "NULL",
  "\\N",
  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa8",
  "",
};

class BulkInsertTest : public billing::testing::BackendTest
{
protected:
  void prepare() override
  {
    db->exec("CREATE TABLE bulk_t (id BIGINT NOT NULL PRIMARY KEY, label VARCHAR(200) NOT NULL, "
             "note VARCHAR(200) NULL)");
  }

  // Every row, read with bound values, in id order.
  std::vector<std::pair<std::string, std::optional<std::string>>> rows()
  {
    std::vector<std::pair<std::string, std::optional<std::string>>> out;
    const long long from = 0;
    soci::rowset<soci::row> rs =
      (db->sql().prepare << "SELECT label, note FROM bulk_t WHERE id >= :from ORDER BY id",
       soci::use(from));
    for (const auto& r : rs) {
      out.emplace_back(as_str(r, 0), as_opt_str(r, 1));
    }
    return out;
  }
};

TEST_P(BulkInsertTest, PlainInsertCarriesEveryText)
{
  Transaction tx(*db);
  MultiRowInsert insert(*db, "INSERT INTO bulk_t (id, label, note)");
  for (size_t i = 0; i < k_texts.size(); ++i) {
    insert.row().value(static_cast<long long>(i)).value(k_texts[i]);
    if (i % 2 == 0) {
      insert.null();
    } else {
      insert.value(k_texts[i]);
    }
  }
  insert.flush();
  tx.commit();
  EXPECT_EQ(insert.rows_written(), k_texts.size());
  const auto got = rows();
  ASSERT_EQ(got.size(), k_texts.size());
  for (size_t i = 0; i < k_texts.size(); ++i) {
    EXPECT_EQ(got[i].first, k_texts[i]) << i;
    if (i % 2 == 0) {
      EXPECT_FALSE(got[i].second.has_value()) << i;
    } else {
      EXPECT_EQ(got[i].second, k_texts[i]) << i;
    }
  }
}

TEST_P(BulkInsertTest, UpsertCarriesEveryTextAndOverwrites)
{
  {
    Transaction tx(*db);
    MultiRowInsert insert(*db, "INSERT INTO bulk_t (id, label, note)");
    for (size_t i = 0; i < k_texts.size(); ++i) {
      insert.row().value(static_cast<long long>(i)).value("before").null();
    }
    insert.flush();
    tx.commit();
  }
  Transaction tx(*db);
  MultiRowInsert upsert(
    *db, "INSERT INTO bulk_t (id, label, note)", db->upsert_tail({ "id" }, { "label", "note" }));
  for (size_t i = 0; i < k_texts.size(); ++i) {
    upsert.row().value(static_cast<long long>(i)).value(k_texts[i]).value(k_texts[i]);
  }
  upsert.flush();
  tx.commit();
  const auto got = rows();
  ASSERT_EQ(got.size(), k_texts.size());
  for (size_t i = 0; i < k_texts.size(); ++i) {
    EXPECT_EQ(got[i].first, k_texts[i]) << i;
    EXPECT_EQ(got[i].second, k_texts[i]) << i;
  }
}

TEST_P(BulkInsertTest, BoundValuesAreNeverSql)
{
  // The same texts through soci::use and query_ll: stored and matched as text.
  for (size_t i = 0; i < k_texts.size(); ++i) {
    const long long id = static_cast<long long>(i);
    db->sql() << "INSERT INTO bulk_t (id, label) VALUES (:id, :label)", soci::use(id),
      soci::use(k_texts[i]);
  }
  for (size_t i = 0; i < k_texts.size(); ++i) {
    EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM bulk_t WHERE label = :label", k_texts[i]), 1)
      << i;
  }
  EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM bulk_t"), static_cast<long long>(k_texts.size()));
}

BILLING_ON_BOTH_BACKENDS(BulkInsertTest);

} // namespace
