// The export reads go date by date and page by page along the keys, so a
// client that holds whole results (MySQL) holds one page at most: whatever
// the page size, every row comes once, in the export's order, and the date
// range is honoured. On both backends.
#include "db/backend_fixture.hpp"
#include "domain/calendar.hpp"
#include "storage/export_store.hpp"

#include <string>
#include <vector>

using namespace billing;

namespace {

class ExportStoreTest : public billing::testing::BackendTest
{
protected:
  void prepare() override
  {
    migrate_schema();
    Transaction tx(*db);
    for (const std::string day : { "2026-03-01", "2026-03-02", "2026-03-04" }) {
      for (long long account : { 1LL, 2LL, 7LL, 4096LL, 9000LL }) {
        const long long opening = account * 10;
        db->sql() << "INSERT INTO reconciliation (business_date, account_id, opening, granted, "
                     "purchased, rolled_over, used, expired, revoked, closing, overdraft, "
                     "sending_enabled, usage_events, late_events) VALUES (:d, :a, :o, 0, 0, 0, "
                     "0, 0, 0, :c, 0, 1, 0, 0)",
          soci::use(day), soci::use(account), soci::use(opening), soci::use(opening);
      }
    }
    // Accounts with one to three charges rows a date.
    struct Charge
    {
      const char* day;
      long long account;
      const char* channel;
      const char* occurred;
    };
    const Charge charges[] = {
      { "2026-03-01", 1, "sms", "2026-03-01" },    { "2026-03-01", 1, "voice", "2026-02-28" },
      { "2026-03-01", 1, "voice", "2026-03-01" },  { "2026-03-01", 2, "mms", "2026-03-01" },
      { "2026-03-01", 7, "sms", "2026-03-01" },    { "2026-03-01", 7, "sms", "2026-02-27" },
      { "2026-03-02", 2, "sms", "2026-03-02" },    { "2026-03-02", 9000, "ringless", "2026-03-02" },
      { "2026-03-04", 4096, "sms", "2026-03-04" }, { "2026-03-04", 4096, "mms", "2026-03-03" },
    };
    long long events = 0;
    for (const Charge& c : charges) {
      ++events;
      const std::string day = c.day;
      const std::string channel = c.channel;
      const std::string occurred = c.occurred;
      db->sql() << "INSERT INTO charges (business_date, account_id, channel, occurred_date, "
                   "events, units, credits, platform_credits) VALUES (:d, :a, :ch, :o, :e, 1, 1, "
                   "0)",
        soci::use(day), soci::use(c.account), soci::use(channel), soci::use(occurred),
        soci::use(events);
    }
    for (long long line = 1; line <= 7; ++line) {
      const std::string status = line % 3 == 0 ? "resolved" : "pending";
      const std::string ingest_date = line <= 4 ? "2026-03-01" : "2026-03-05";
      const std::string event_id = "e" + std::to_string(line);
      db->sql() << "INSERT INTO rejects (file_id, file, line, event_id, reason, raw_hex, "
                   "ingest_date, status) VALUES (1, 'u.csv', :l, :e, 'bad_number', '61', :d, :s)",
        soci::use(line), soci::use(event_id), soci::use(ingest_date), soci::use(status);
    }
    tx.commit();
  }

  std::vector<std::string> reconciliation(const DateRange& range, long long page)
  {
    std::vector<std::string> out;
    read_reconciliation(
      *db,
      range,
      [&](const ReconciliationRow& r) {
        out.push_back(r.business_date + "/" + std::to_string(r.account_id) + "/"
                      + std::to_string(r.balance.opening));
      },
      page);
    return out;
  }

  std::vector<std::string> charges(const DateRange& range, long long page)
  {
    std::vector<std::string> out;
    read_charges(
      *db,
      range,
      [&](const ChargesRow& r) {
        out.push_back(r.business_date + "/" + std::to_string(r.charge.account_id) + "/"
                      + r.charge.channel + "/" + r.charge.occurred_date + "/"
                      + std::to_string(r.charge.events));
      },
      page);
    return out;
  }

  std::vector<std::string> rejects(const DateRange& range, RejectScope scope, long long page)
  {
    std::vector<std::string> out;
    read_rejects(
      *db, range, scope, [&](const RejectRow& r) { out.push_back(r.event_id); }, page);
    return out;
  }
};

const DateRange k_all{};

TEST_P(ExportStoreTest, EveryPageSizeGivesEveryRowOnceInOrder)
{
  const auto recon = reconciliation(k_all, k_export_page_rows);
  ASSERT_EQ(recon.size(), 15u);
  EXPECT_EQ(recon.front(), "2026-03-01/1/10");
  EXPECT_EQ(recon[4], "2026-03-01/9000/90000");
  EXPECT_EQ(recon.back(), "2026-03-04/9000/90000");
  const auto all_charges = charges(k_all, k_export_page_rows);
  ASSERT_EQ(all_charges.size(), 10u);
  EXPECT_EQ(all_charges[0], "2026-03-01/1/sms/2026-03-01/1");
  EXPECT_EQ(all_charges[1], "2026-03-01/1/voice/2026-02-28/2");
  EXPECT_EQ(all_charges[5], "2026-03-01/7/sms/2026-03-01/5");
  const auto all_rejects = rejects(k_all, RejectScope::all, k_export_page_rows);
  EXPECT_EQ(all_rejects, (std::vector<std::string>{ "e1", "e2", "e3", "e4", "e5", "e6", "e7" }));
  for (long long page : { 1, 2, 3, 4, 5 }) {
    SCOPED_TRACE("page of " + std::to_string(page) + " rows");
    EXPECT_EQ(reconciliation(k_all, page), recon);
    EXPECT_EQ(charges(k_all, page), all_charges);
    EXPECT_EQ(rejects(k_all, RejectScope::all, page), all_rejects);
  }
}

TEST_P(ExportStoreTest, RangesAndScopesAreHonouredInPages)
{
  const DateRange march_2_to_4{ parse_date("2026-03-02"), parse_date("2026-03-04") };
  const DateRange from_march_2{ parse_date("2026-03-02"), std::nullopt };
  const DateRange to_march_1{ std::nullopt, parse_date("2026-03-01") };
  const DateRange march_3{ parse_date("2026-03-03"), parse_date("2026-03-03") };
  for (long long page : { 1LL, 2LL, k_export_page_rows }) {
    SCOPED_TRACE("page of " + std::to_string(page) + " rows");
    EXPECT_EQ(reconciliation(march_2_to_4, page).size(), 10u);
    EXPECT_EQ(reconciliation(from_march_2, page).front(), "2026-03-02/1/10");
    EXPECT_EQ(reconciliation(to_march_1, page).size(), 5u);
    EXPECT_TRUE(reconciliation(march_3, page).empty());
    EXPECT_EQ(charges(march_2_to_4, page),
              (std::vector<std::string>{ "2026-03-02/2/sms/2026-03-02/7",
                                         "2026-03-02/9000/ringless/2026-03-02/8",
                                         "2026-03-04/4096/mms/2026-03-03/10",
                                         "2026-03-04/4096/sms/2026-03-04/9" }));
    EXPECT_EQ(rejects(k_all, RejectScope::pending, page),
              (std::vector<std::string>{ "e1", "e2", "e4", "e5", "e7" }));
    EXPECT_EQ(rejects(to_march_1, RejectScope::pending, page),
              (std::vector<std::string>{ "e1", "e2", "e4" }));
  }
}

BILLING_ON_BOTH_BACKENDS(ExportStoreTest);

} // namespace
