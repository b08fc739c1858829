// `billing import plans|accounts|purchases` (SPEC section 9): idempotent by
// id, conflicting rows rejected with their line, auto-recharge settings
// updatable, RFC 4180 input, wrong headers refused whole, references checked.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "storage/imports.hpp"
#include "util/errors.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

using namespace billing;

namespace {

using billing::testing::date;
using billing::testing::dump;
using billing::testing::instant;

const Instant k_now = instant("2026-11-25T08:00:00Z");
const Instant k_later = instant("2026-11-25T09:30:00Z");

struct TableState
{
  long long rows = 0;
  std::string hash;
  bool operator==(const TableState&) const = default;
};

std::ostream& operator<<(std::ostream& os, const TableState& t)
{
  return os << t.rows << " rows, sha256 " << t.hash;
}

const std::map<std::string, std::string> k_table_queries = {
  { "plans",
    "SELECT plan_id, name, cycle, included_credits, price_cents, credit_price_cents_per_1000, "
    "currency, rollover_cap FROM plans ORDER BY plan_id" },
  { "accounts",
    "SELECT account_id, plan_id, cycle_anchor, auto_recharge, recharge_threshold, "
    "recharge_credits, max_recharges_per_day, auto_recharge_off_reason FROM accounts ORDER BY "
    "account_id" },
  { "purchases",
    "SELECT purchase_id, account_id, purchased_us, credits, amount_cents, imported_us, "
    "applied_date FROM purchases ORDER BY purchase_id" },
};

TableState table_state(Database& db, const std::string& table)
{
  TableState s;
  s.rows = query_ll(db, "SELECT COUNT(*) FROM " + table);
  const std::string text = dump(db, k_table_queries.at(table));
  Sha256 h;
  h.update(text.data(), text.size());
  s.hash = h.hex_digest();
  return s;
}

std::map<std::string, TableState> all_tables(Database& db)
{
  std::map<std::string, TableState> out;
  for (const auto& [table, query] : k_table_queries) {
    out[table] = table_state(db, table);
  }
  return out;
}

const char* const k_plans_header =
  "plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,"
  "rollover_cap\n";
const char* const k_accounts_header =
  "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,"
  "max_recharges_per_day\n";
const char* const k_purchases_header = "purchase_id,account_id,purchased_at,credits,amount_cents\n";

const std::string k_plans = std::string(k_plans_header)
                            + "BASIC,Basic,monthly,1000,2900,1500,USD,300\n"
                              "SMALL,Small plan,monthly,50,500,2000,USD,\n"
                              "ANNUAL,Annual,annual,5000,30000,1000,EUR,0\n";
const std::string k_accounts = std::string(k_accounts_header)
                               + "1,BASIC,2026-10-01,0,0,0,1\n"
                                 "2,SMALL,2026-10-28,1,40,100,2\n"
                                 "3,ANNUAL,2024-02-29,,,,\n";
const std::string k_purchases = std::string(k_purchases_header)
                                + "p-1,1,2026-10-30T00:00:00Z,100,300\n"
                                  "p-2,2,2026-11-02T12:34:56.123456Z,500,1000\n";

std::string reasons(const ImportReport& r)
{
  std::string out;
  for (const auto& rej : r.rejected) {
    out += "line " + std::to_string(rej.line) + ": " + rej.reason + "\n";
  }
  return out;
}

bool starts_with(const std::string& s, std::string_view prefix)
{
  return s.compare(0, prefix.size(), prefix) == 0;
}

class ImportTest : public billing::testing::BackendTest
{
protected:
  void prepare() override { migrate_schema(); }

  ImportReport import(ImportKind kind,
                      const std::string& name,
                      const std::string& content,
                      Instant now = k_now)
  {
    return import_csv(*db, kind, file(name, content), now);
  }

  void load_all()
  {
    const auto p = import(ImportKind::plans, "plans.csv", k_plans);
    ASSERT_TRUE(p.rejected.empty()) << reasons(p);
    const auto a = import(ImportKind::accounts, "accounts.csv", k_accounts);
    ASSERT_TRUE(a.rejected.empty()) << reasons(a);
    const auto u = import(ImportKind::purchases, "purchases.csv", k_purchases);
    ASSERT_TRUE(u.rejected.empty()) << reasons(u);
  }

private:
};

TEST_P(ImportTest, EachKindImportedTwiceChangesNothingTheSecondTime)
{
  const struct
  {
    ImportKind kind;
    const char* table;
    const std::string& content;
    long long rows;
  } kinds[] = {
    { ImportKind::plans, "plans", k_plans, 3 },
    { ImportKind::accounts, "accounts", k_accounts, 3 },
    { ImportKind::purchases, "purchases", k_purchases, 2 },
  };
  for (const auto& k : kinds) {
    SCOPED_TRACE(k.table);
    const ImportReport first = import(k.kind, std::string(k.table) + ".csv", k.content);
    EXPECT_TRUE(first.rejected.empty()) << reasons(first);
    EXPECT_EQ(first.rows, k.rows);
    EXPECT_EQ(first.inserted, k.rows);
    const auto before = all_tables(*db);
    EXPECT_EQ(before.at(k.table).rows, k.rows);

    // Same content again, later (a purchase keeps its first imported_us).
    const ImportReport second =
      import(k.kind, std::string(k.table) + "_again.csv", k.content, k_later);
    EXPECT_TRUE(second.rejected.empty()) << reasons(second);
    EXPECT_EQ(second.rows, k.rows);
    EXPECT_EQ(second.inserted, 0);
    EXPECT_EQ(second.updated, 0);
    EXPECT_EQ(second.unchanged, k.rows);
    EXPECT_EQ(all_tables(*db), before);
  }
  // Equal content written differently (flag words, CRLF, purchase instant
  // with fractional zeros) is the same row too.
  const auto before = all_tables(*db);
  const ImportReport accounts_again =
    import(ImportKind::accounts,
           "accounts_words.csv",
           std::string(k_accounts_header)
             + "1,BASIC,2026-10-01,off,0,0,1\r\n2,SMALL,2026-10-28,on,40,100,2\r\n",
           k_later);
  EXPECT_TRUE(accounts_again.rejected.empty()) << reasons(accounts_again);
  EXPECT_EQ(accounts_again.unchanged, 2);
  const ImportReport purchases_again =
    import(ImportKind::purchases,
           "purchases_frac.csv",
           std::string(k_purchases_header) + "p-1,1,2026-10-30T00:00:00.000Z,100,300\n",
           k_later);
  EXPECT_TRUE(purchases_again.rejected.empty()) << reasons(purchases_again);
  EXPECT_EQ(purchases_again.unchanged, 1);
  EXPECT_EQ(all_tables(*db), before);
}

TEST_P(ImportTest, ConflictingRowIsRejectedWithItsLineWhileOtherRowsGoIn)
{
  load_all();
  {
    SCOPED_TRACE("plans");
    const ImportReport r =
      import(ImportKind::plans,
             "plans2.csv",
             std::string(k_plans_header)
               + "PRO,Pro,monthly,10000,9900,1000,USD,\n"       // line 2: new
                 "BASIC,Basic,monthly,1000,2999,1500,USD,300\n" // line 3: price differs
                 "SMALL,Small plan,monthly,50,500,2000,USD,\n"  // line 4: same
                 "TINY,Tiny,monthly,10,100,2000,USD,\n"         // line 5: new
                 "TINY,Tiny,annual,10,100,2000,USD,\n");        // line 6: differs from line 5
    EXPECT_EQ(r.rows, 5);
    EXPECT_EQ(r.inserted, 2);
    EXPECT_EQ(r.unchanged, 1);
    ASSERT_EQ(r.rejected.size(), 2u) << reasons(r);
    EXPECT_EQ(r.rejected[0].line, 3);
    EXPECT_NE(r.rejected[0].reason.find("price_cents"), std::string::npos) << r.rejected[0].reason;
    EXPECT_EQ(r.rejected[1].line, 6);
    EXPECT_EQ(query_ll(*db, "SELECT price_cents FROM plans WHERE plan_id = 'BASIC'"), 2900);
    EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM plans WHERE plan_id IN ('PRO', 'TINY')"), 2);
    EXPECT_EQ(dump(*db, "SELECT cycle FROM plans WHERE plan_id = 'TINY'"), "'monthly'\n");
  }
  {
    SCOPED_TRACE("accounts");
    const ImportReport r = import(ImportKind::accounts,
                                  "accounts2.csv",
                                  std::string(k_accounts_header)
                                    + "1,SMALL,2026-10-01,0,0,0,1\n"     // line 2: plan differs
                                      "7,PRO,2026-11-01,0,0,0,1\n"       // line 3: new
                                      "2,SMALL,2026-10-29,1,40,100,2\n"  // line 4: anchor differs
                                      "8,BASIC,2026-11-02,1,10,20,1\n"); // line 5: new
    EXPECT_EQ(r.inserted, 2);
    ASSERT_EQ(r.rejected.size(), 2u) << reasons(r);
    EXPECT_EQ(r.rejected[0].line, 2);
    EXPECT_NE(r.rejected[0].reason.find("plan_id"), std::string::npos) << r.rejected[0].reason;
    EXPECT_EQ(r.rejected[1].line, 4);
    EXPECT_NE(r.rejected[1].reason.find("cycle_anchor"), std::string::npos) << r.rejected[1].reason;
    EXPECT_EQ(dump(*db,
                   "SELECT plan_id, cycle_anchor FROM accounts WHERE account_id IN (1, 2) "
                   "ORDER BY account_id"),
              "'BASIC','2026-10-01'\n'SMALL','2026-10-28'\n");
    EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM accounts WHERE account_id IN (7, 8)"), 2);
  }
  {
    SCOPED_TRACE("purchases");
    const ImportReport r =
      import(ImportKind::purchases,
             "purchases2.csv",
             std::string(k_purchases_header)
               + "p-3,2,2026-11-03T00:00:00Z,50,100\n"   // line 2: new
                 "p-1,1,2026-10-30T00:00:00Z,101,300\n"  // line 3: credits differ
                 "p-2,2,2026-11-02T12:34:56Z,500,1000\n" // line 4: instant differs (us)
                 "p-1,1,2026-10-30T00:00:00Z,100,300\n"  // line 5: same
                 "P-1,1,2026-10-30T00:00:00Z,7,9\n");    // line 6: new (ids are case-sensitive)
    EXPECT_EQ(r.inserted, 2);
    EXPECT_EQ(r.unchanged, 1);
    ASSERT_EQ(r.rejected.size(), 2u) << reasons(r);
    EXPECT_EQ(r.rejected[0].line, 3);
    EXPECT_EQ(r.rejected[1].line, 4);
    EXPECT_EQ(query_ll(*db, "SELECT credits FROM purchases WHERE purchase_id = 'p-1'"), 100);
    EXPECT_EQ(query_ll(*db, "SELECT credits FROM purchases WHERE purchase_id = 'P-1'"), 7);
    EXPECT_EQ(query_ll(*db, "SELECT COUNT(*) FROM purchases"), 4);
  }
}

TEST_P(ImportTest, AccountAutoRechargeSettingsAreUpdated)
{
  load_all();
  // A failed payment turned account 2's auto-recharge off with a reason.
  db->exec("UPDATE accounts SET auto_recharge = 0, auto_recharge_off_reason = 'payment "
           "recharge:2:2026-11-01:1 failed: card_declined' WHERE account_id = 2");
  const ImportReport r = import(ImportKind::accounts,
                                "accounts_update.csv",
                                std::string(k_accounts_header)
                                  + "1,BASIC,2026-10-01,1,250,500,3\n"
                                    "2,SMALL,2026-10-28,yes,60,120,1\n"
                                    "3,ANNUAL,2024-02-29,0,0,0,1\n",
                                k_later);
  EXPECT_TRUE(r.rejected.empty()) << reasons(r);
  EXPECT_EQ(r.updated, 2);
  EXPECT_EQ(r.unchanged, 1);
  EXPECT_EQ(r.inserted, 0);
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, plan_id, cycle_anchor, auto_recharge, recharge_threshold, "
                 "recharge_credits, max_recharges_per_day, auto_recharge_off_reason FROM accounts "
                 "ORDER BY account_id"),
            "'1','BASIC','2026-10-01','1','250','500','3',NULL\n"
            "'2','SMALL','2026-10-28','1','60','120','1',NULL\n"
            "'3','ANNUAL','2024-02-29','0','0','0','1',NULL\n");

  // Turning it off again is an update too; the same file once more is not.
  const std::string off = std::string(k_accounts_header) + "1,BASIC,2026-10-01,0,250,500,3\n";
  EXPECT_EQ(import(ImportKind::accounts, "accounts_off.csv", off).updated, 1);
  EXPECT_EQ(query_ll(*db, "SELECT auto_recharge FROM accounts WHERE account_id = 1"), 0);
  const ImportReport again = import(ImportKind::accounts, "accounts_off2.csv", off);
  EXPECT_EQ(again.updated, 0);
  EXPECT_EQ(again.unchanged, 1);

  // A settings change together with a fixed-field change is a conflict:
  // nothing of that row is applied.
  const ImportReport mixed =
    import(ImportKind::accounts,
           "accounts_mixed.csv",
           std::string(k_accounts_header) + "1,SMALL,2026-10-01,1,999,999,9\n");
  ASSERT_EQ(mixed.rejected.size(), 1u);
  EXPECT_EQ(mixed.rejected[0].line, 2);
  EXPECT_EQ(dump(*db,
                 "SELECT plan_id, auto_recharge, recharge_threshold FROM accounts WHERE "
                 "account_id = 1"),
            "'BASIC','0','250'\n");
}

TEST_P(ImportTest, Rfc4180QuotingBomAndCrlfAreRead)
{
  // UTF-8 BOM, CRLF line ends, quoted fields with commas, doubled quotes and
  // a line break inside, a quoted header cell, non-ASCII text.
  const std::string content =
    "\xEF\xBB\xBF"
    "\"plan_id\",name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,"
    "rollover_cap\r\n"
    "\"GOLD\",\"Gold, \"\"best\"\" plan\",monthly,\"2000\",4900,1200,USD,\"\"\r\n"
    "TWO,\"Two\r\nlines\",annual,10,20,30,EUR,5\r\n"
    "BAD,Bad,weekly,1,1,1,USD,\r\n"
    "CAFE,Caf\xC3\xA9 cr\xC3\xA8me,monthly,0,0,0,EUR,\r\n";
  const ImportReport r = import(ImportKind::plans, "plans_rfc.csv", content);
  EXPECT_EQ(r.rows, 4);
  EXPECT_EQ(r.inserted, 3);
  ASSERT_EQ(r.rejected.size(), 1u) << reasons(r);
  // The record with the embedded line break spans physical lines 3 and 4.
  EXPECT_EQ(r.rejected[0].line, 5) << r.rejected[0].reason;
  EXPECT_EQ(dump(*db,
                 "SELECT plan_id, name, cycle, included_credits, rollover_cap FROM plans ORDER "
                 "BY plan_id"),
            "'CAFE','Caf\xC3\xA9 cr\xC3\xA8me','monthly','0',NULL\n"
            "'GOLD','Gold, \"best\" plan','monthly','2000',NULL\n"
            "'TWO','Two\r\nlines','annual','10','5'\n");
  // The same rows written without quotes, BOM or CRLF are unchanged rows.
  const ImportReport again = import(ImportKind::plans,
                                    "plans_plain.csv",
                                    std::string(k_plans_header)
                                      + "CAFE,Caf\xC3\xA9 cr\xC3\xA8me,monthly,0,0,0,EUR,\n"
                                        "GOLD,\"Gold, \"\"best\"\" plan\",monthly,2000,4900,1200,"
                                        "USD,\n");
  EXPECT_TRUE(again.rejected.empty()) << reasons(again);
  EXPECT_EQ(again.unchanged, 2);
}

TEST_P(ImportTest, WrongHeaderThrowsInputErrorAndChangesNothing)
{
  load_all();
  const auto before = all_tables(*db);
  const struct
  {
    ImportKind kind;
    std::string content;
  } cases[] = {
    // An accounts file given as plans, plans as purchases, purchases as accounts.
    { ImportKind::plans, k_accounts },
    { ImportKind::purchases, k_plans },
    { ImportKind::accounts, k_purchases },
    // A required column missing; a column twice; an empty file.
    { ImportKind::plans,
      "plan_id,name,cycle,included_credits,price_cents,currency,rollover_cap\n"
      "NEW,New,monthly,1,1,USD,\n" },
    { ImportKind::purchases,
      "purchase_id,account_id,purchased_at,credits,amount_cents,credits\n"
      "p-9,1,2026-11-01T00:00:00Z,5,5,5\n" },
    { ImportKind::accounts, "" },
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE("case " + std::to_string(n));
    const std::string path = file("wrong_" + std::to_string(n++) + ".csv", c.content);
    try {
      import_csv(*db, c.kind, path, k_later);
      ADD_FAILURE() << "no InputError for a file with the wrong header";
    } catch (const InputError& e) {
      EXPECT_EQ(e.code(), ExitCode::bad_input);
    }
    EXPECT_EQ(all_tables(*db), before);
  }
  // A missing file is an InputError as well.
  EXPECT_THROW(
    import_csv(*db, ImportKind::plans, (scratch_dir() / "no_such_file.csv").string(), k_later),
    InputError);
  EXPECT_EQ(all_tables(*db), before);
}

TEST_P(ImportTest, UnknownPlanOrAccountReferencesAreRejected)
{
  load_all();
  const ImportReport accounts =
    import(ImportKind::accounts,
           "accounts_ref.csv",
           std::string(k_accounts_header)
             + "10,NOPE,2026-11-01,0,0,0,1\n" // line 2: unknown plan
               "11,SMALL,2026-11-01,0,0,0,1\n"
               "12,basic,2026-11-01,0,0,0,1\n"); // line 4: ids are case-sensitive
  EXPECT_EQ(accounts.inserted, 1);
  ASSERT_EQ(accounts.rejected.size(), 2u) << reasons(accounts);
  EXPECT_EQ(accounts.rejected[0].line, 2);
  EXPECT_TRUE(starts_with(accounts.rejected[0].reason, "unknown_plan"))
    << accounts.rejected[0].reason;
  EXPECT_EQ(accounts.rejected[1].line, 4);
  EXPECT_TRUE(starts_with(accounts.rejected[1].reason, "unknown_plan"))
    << accounts.rejected[1].reason;
  EXPECT_EQ(dump(*db, "SELECT account_id FROM accounts WHERE account_id >= 10"), "'11'\n");

  const ImportReport purchases =
    import(ImportKind::purchases,
           "purchases_ref.csv",
           std::string(k_purchases_header)
             + "p-10,999,2026-11-03T00:00:00Z,50,100\n" // line 2: unknown account
               "p-11,11,2026-11-03T00:00:00Z,50,100\n"
               "p-12,10,2026-11-03T00:00:00Z,50,100\n"); // line 4: its account was rejected
  EXPECT_EQ(purchases.inserted, 1);
  ASSERT_EQ(purchases.rejected.size(), 2u) << reasons(purchases);
  EXPECT_EQ(purchases.rejected[0].line, 2);
  EXPECT_TRUE(starts_with(purchases.rejected[0].reason, "unknown_account"))
    << purchases.rejected[0].reason;
  EXPECT_EQ(purchases.rejected[1].line, 4);
  EXPECT_TRUE(starts_with(purchases.rejected[1].reason, "unknown_account"))
    << purchases.rejected[1].reason;
  EXPECT_EQ(dump(*db,
                 "SELECT purchase_id FROM purchases WHERE purchase_id IN ('p-10', 'p-11', "
                 "'p-12') ORDER BY purchase_id"),
            "'p-11'\n");
}

TEST_P(ImportTest, SqlMetacharactersInNamesAndIdsRoundTripExactly)
{
  // Quotes, a backslash (one byte on MySQL too: the session runs with
  // NO_BACKSLASH_ESCAPES), a semicolon, a comment, a placeholder-like word,
  // a NUL byte: text, stored byte for byte; the same file again is unchanged.
  const std::string name = "it's \"odd\"; DROP TABLE plans; -- \\ \\' :name ?";
  using namespace std::string_literals;
  const std::string nul_name = "nul\0byte\\"s;
  const auto cell = [](const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
      out += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return out + "\"";
  };
  const std::string plans = std::string(k_plans_header) + "Q--1," + cell(name)
                            + ",monthly,1,2,3,USD,\nQ--2," + cell(nul_name)
                            + ",annual,4,5,6,EUR,7\n";
  const ImportReport first = import(ImportKind::plans, "plans_sql.csv", plans);
  EXPECT_TRUE(first.rejected.empty()) << reasons(first);
  EXPECT_EQ(first.inserted, 2);
  EXPECT_EQ(dump(*db, "SELECT plan_id, name FROM plans ORDER BY plan_id"),
            "'Q--1','" + name + "'\n'Q--2','" + nul_name + "'\n");
  EXPECT_EQ(query_ll(*db, "SELECT LENGTH(name) FROM plans WHERE plan_id = 'Q--1'"),
            static_cast<long long>(name.size()));
  const ImportReport again = import(ImportKind::plans, "plans_sql_again.csv", plans, k_later);
  EXPECT_TRUE(again.rejected.empty()) << reasons(again);
  EXPECT_EQ(again.unchanged, 2);

  // A purchase id may hold "--"; quotes, a backslash or a semicolon make it
  // bad_id, and the rows around it go in.
  ASSERT_TRUE(import(ImportKind::accounts,
                     "accounts_sql.csv",
                     std::string(k_accounts_header) + "5,Q--1,2026-11-01,0,0,0,1\n")
                .rejected.empty());
  const std::string purchases = std::string(k_purchases_header)
                                + "p--1,5,2026-11-02T00:00:00Z,10,20\n"
                                  "\"p'1\",5,2026-11-02T00:00:00Z,10,20\n"
                                  "p\\1,5,2026-11-02T00:00:00Z,10,20\n"
                                  "\"p\"\"1\",5,2026-11-02T00:00:00Z,10,20\n"
                                  "p;1,5,2026-11-02T00:00:00Z,10,20\n"
                                  "\"'; DELETE FROM purchases; --\",5,2026-11-02T00:00:00Z,10,20\n"
                                  "p--2,5,2026-11-02T00:00:00Z,10,20\n";
  const ImportReport bought = import(ImportKind::purchases, "purchases_sql.csv", purchases);
  EXPECT_EQ(bought.inserted, 2);
  ASSERT_EQ(bought.rejected.size(), 5u) << reasons(bought);
  for (const auto& rej : bought.rejected) {
    EXPECT_EQ(rej.code, ImportReason::bad_id) << rej.reason;
  }
  EXPECT_EQ(
    dump(*db, "SELECT purchase_id, account_id, credits FROM purchases ORDER BY purchase_id"),
    "'p--1','5','10'\n'p--2','5','10'\n");
  const ImportReport bought_again =
    import(ImportKind::purchases, "purchases_sql_again.csv", purchases, k_later);
  EXPECT_EQ(bought_again.unchanged, 2);
  EXPECT_EQ(bought_again.inserted, 0);
}

TEST_P(ImportTest, RejectionsCarryTheirReasonCode)
{
  load_all();
  const ImportReport r = import(ImportKind::accounts,
                                "accounts_codes.csv",
                                std::string(k_accounts_header)
                                  + "1,SMALL,2026-10-01,0,0,0,1\n"   // 2: plan differs
                                    "20,NOPE,2026-11-01,0,0,0,1\n"   // 3: unknown plan
                                    "21,BASIC,2026-02-30,0,0,0,1\n"  // 4: bad date
                                    "x,BASIC,2026-11-01,0,0,0,1\n"   // 5: bad number
                                    "22,BASIC,2026-11-01,1,0,0,1\n"  // 6: no recharge credits
                                    "1,BASIC,2026-10-01,0,0,0,1\n"); // 7: unchanged
  ASSERT_EQ(r.rejected.size(), 5u) << reasons(r);
  const ImportReason want[] = { ImportReason::conflicting_content,
                                ImportReason::unknown_plan,
                                ImportReason::bad_date,
                                ImportReason::bad_number,
                                ImportReason::out_of_range };
  for (std::size_t i = 0; i < r.rejected.size(); ++i) {
    EXPECT_EQ(r.rejected[i].line, static_cast<long long>(i) + 2);
    EXPECT_EQ(r.rejected[i].code, want[i]) << r.rejected[i].reason;
    EXPECT_TRUE(starts_with(r.rejected[i].reason, to_string(want[i]))) << r.rejected[i].reason;
  }
  EXPECT_EQ(r.rejected[0].reason,
            "conflicting_content: conflicts with the stored account: plan_id is BASIC, the file "
            "says SMALL");
  EXPECT_EQ(r.unchanged, 1);
}

TEST_P(ImportTest, TimeZonesAreCheckedAndFixedOnceTheAccountHasBooks)
{
  load_all();
  const std::string header = "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                             "recharge_credits,max_recharges_per_day,time_zone\n";
  const ImportReport r = import(ImportKind::accounts,
                                "zones.csv",
                                header
                                  + "10,BASIC,2026-12-01,0,0,0,1,America/New_York\n" // 2
                                    "11,BASIC,2026-12-01,0,0,0,1,Asia/Kolkata\n"     // 3
                                    "12,BASIC,2026-12-01,0,0,0,1,\n"                 // 4: UTC
                                    "13,BASIC,2026-12-01,0,0,0,1,Mars/Olympus\n"     // 5
                                    "14,BASIC,2026-12-01,0,0,0,1,../../etc/passwd\n" // 6
                                    "1,BASIC,2026-10-01,0,0,0,1,UTC\n");             // 7
  ASSERT_EQ(r.rejected.size(), 2u) << reasons(r);
  EXPECT_EQ(r.rejected[0].line, 5);
  EXPECT_EQ(r.rejected[0].code, ImportReason::bad_time_zone);
  EXPECT_EQ(r.rejected[0].reason,
            "bad_time_zone: time_zone 'Mars/Olympus' is not in the system's tzdata");
  EXPECT_EQ(r.rejected[1].line, 6);
  EXPECT_EQ(r.rejected[1].code, ImportReason::bad_time_zone);
  EXPECT_EQ(r.inserted, 3);
  EXPECT_EQ(r.unchanged, 1); // account 1 was UTC already
  // East of UTC, the first date is the UTC date before the anchor.
  EXPECT_EQ(dump(*db,
                 "SELECT account_id, cycle_anchor, time_zone, first_date FROM accounts WHERE "
                 "account_id >= 10 ORDER BY account_id"),
            "'10','2026-12-01','America/New_York','2026-12-01'\n"
            "'11','2026-12-01','Asia/Kolkata','2026-11-30'\n"
            "'12','2026-12-01','UTC','2026-12-01'\n");
  EXPECT_EQ(dump(*db, "SELECT time_zone, first_date FROM accounts WHERE account_id = 1"),
            "'UTC','2026-10-01'\n");

  // Without books the zone may change, and the first date moves with it.
  const ImportReport moved = import(
    ImportKind::accounts, "zones_moved.csv", header + "10,BASIC,2026-12-01,0,0,0,1,Asia/Tokyo\n");
  EXPECT_TRUE(moved.rejected.empty()) << reasons(moved);
  EXPECT_EQ(moved.updated, 1);
  EXPECT_EQ(dump(*db, "SELECT time_zone, first_date FROM accounts WHERE account_id = 10"),
            "'Asia/Tokyo','2026-11-30'\n");

  // With books (a state row: a closed date or one being closed) it may not.
  db->exec("INSERT INTO account_state (account_id, state_date, overdraft, next_lot_seq, "
           "last_cycle_index, sending_enabled) VALUES (10, '2026-11-30', 0, 1, 0, 0)");
  const ImportReport fixed = import(ImportKind::accounts,
                                    "zones_fixed.csv",
                                    header
                                      + "10,BASIC,2026-12-01,0,0,0,1,UTC\n"
                                        "10,BASIC,2026-12-01,1,5,50,1,Asia/Tokyo\n");
  ASSERT_EQ(fixed.rejected.size(), 1u) << reasons(fixed);
  EXPECT_EQ(fixed.rejected[0].code, ImportReason::conflicting_content);
  EXPECT_EQ(fixed.rejected[0].reason,
            "conflicting_content: conflicts with the stored account: time_zone is Asia/Tokyo, "
            "the file says UTC (the account has closed dates)");
  EXPECT_EQ(fixed.updated, 1); // its auto-recharge settings still may change
  EXPECT_EQ(dump(*db, "SELECT time_zone, auto_recharge FROM accounts WHERE account_id = 10"),
            "'Asia/Tokyo','1'\n");
}

TEST_P(ImportTest, AnAccountEastOfUtcCannotStartInAClosedDate)
{
  load_all();
  db->exec("INSERT INTO business_days (business_date, status, started_us, completed_us, "
           "accounts, usage_events, credits_used) VALUES ('2026-11-30', 'complete', 0, 0, 0, 0, "
           "0)");
  const std::string header = "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                             "recharge_credits,max_recharges_per_day,time_zone\n";
  const ImportReport r = import(ImportKind::accounts,
                                "east.csv",
                                header
                                  + "20,BASIC,2026-12-01,0,0,0,1,Asia/Kolkata\n"
                                    "21,BASIC,2026-12-01,0,0,0,1,America/New_York\n");
  ASSERT_EQ(r.rejected.size(), 1u) << reasons(r);
  EXPECT_EQ(r.rejected[0].code, ImportReason::anchor_in_closed_date);
  EXPECT_EQ(r.rejected[0].reason,
            "anchor_in_closed_date: cycle_anchor 2026-12-01 (first date 2026-11-30 in "
            "Asia/Kolkata) is not after the last closed date 2026-11-30");
  EXPECT_EQ(r.inserted, 1);
}

BILLING_ON_BOTH_BACKENDS(ImportTest);

} // namespace
