#include "demo/payment_provider.hpp"
#include "demo/workload.hpp"
#include "domain/calendar.hpp"
#include "domain/rating.hpp"
#include "ingest/csv_reader.hpp"
#include "ingest/import_rows.hpp"
#include "ingest/usage_line.hpp"
#include "util/sha256.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace billing {
namespace {

namespace fs = std::filesystem;

const Date k_first = *parse_date("2026-03-01");

WorkloadSpec small_spec()
{
  WorkloadSpec spec;
  spec.seed = 7;
  spec.accounts = 200;
  spec.first_date = k_first;
  spec.days = 2;
  spec.events_per_day = 3000;
  spec.bad_line_share = 0.01; // 30 a day: every kind, some twice
  spec.late_share = 0.01;
  return spec;
}

// A fresh directory per test, removed afterwards.
class WorkloadTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_root = fs::temp_directory_path()
             / ("workload_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(m_root);
  }
  void TearDown() override { fs::remove_all(m_root); }

  std::string dir(const std::string& name) const { return (m_root / name).string(); }

  fs::path m_root;
};

std::string read_all(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every record of a CSV file, header first.
std::vector<CsvRecord> records_of(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  CsvReader reader(in);
  std::vector<CsvRecord> out;
  CsvRecord record;
  while (reader.next(record)) {
    EXPECT_FALSE(record.error) << path << ":" << record.line;
    out.push_back(record);
  }
  return out;
}

std::string first_line(const std::string& path)
{
  const std::string text = read_all(path);
  return text.substr(0, text.find('\n'));
}

long long to_ll(const std::string& text)
{
  return std::stoll(text);
}

std::vector<std::string> all_paths(const WorkloadFiles& files)
{
  std::vector<std::string> paths = { files.plans, files.accounts, files.purchases };
  paths.insert(paths.end(), files.usage_by_day.begin(), files.usage_by_day.end());
  return paths;
}

TEST_F(WorkloadTest, SameSpecGivesIdenticalBytes)
{
  const WorkloadFiles a = generate_workload(small_spec(), dir("a"));
  const WorkloadFiles b = generate_workload(small_spec(), dir("b"));
  const auto paths_a = all_paths(a);
  const auto paths_b = all_paths(b);
  ASSERT_EQ(paths_a.size(), 5u);
  ASSERT_EQ(paths_a.size(), paths_b.size());
  for (std::size_t i = 0; i < paths_a.size(); ++i) {
    EXPECT_EQ(fs::path(paths_a[i]).filename(), fs::path(paths_b[i]).filename());
    EXPECT_TRUE(read_all(paths_a[i]) == read_all(paths_b[i])) << paths_a[i];
  }
  EXPECT_EQ(a.bad_by_kind, b.bad_by_kind);
  EXPECT_EQ(a.late_lines, b.late_lines);
}

TEST_F(WorkloadTest, OtherSeedGivesOtherFiles)
{
  WorkloadSpec other = small_spec();
  other.seed = 8;
  const WorkloadFiles a = generate_workload(small_spec(), dir("a"));
  const WorkloadFiles b = generate_workload(other, dir("b"));
  EXPECT_EQ(read_all(a.plans), read_all(b.plans)); // the plans are fixed
  EXPECT_NE(read_all(a.accounts), read_all(b.accounts));
  EXPECT_NE(read_all(a.usage_by_day[0]), read_all(b.usage_by_day[0]));
  EXPECT_NE(read_all(a.usage_by_day[1]), read_all(b.usage_by_day[1]));
}

TEST_F(WorkloadTest, DayFileDoesNotDependOnTheNumberOfDays)
{
  WorkloadSpec one_day = small_spec();
  one_day.days = 1;
  const WorkloadFiles a = generate_workload(small_spec(), dir("a"));
  const WorkloadFiles b = generate_workload(one_day, dir("b"));
  ASSERT_EQ(b.usage_by_day.size(), 1u);
  EXPECT_EQ(read_all(a.usage_by_day[0]), read_all(b.usage_by_day[0]));
}

TEST_F(WorkloadTest, FilesHaveTheSpecHeadersAndNames)
{
  const WorkloadFiles files = generate_workload(small_spec(), dir("w"));
  EXPECT_EQ(first_line(files.plans),
            "plan_id,name,cycle,included_credits,price_cents,"
            "credit_price_cents_per_1000,currency,rollover_cap");
  EXPECT_EQ(first_line(files.accounts),
            "account_id,plan_id,cycle_anchor,auto_recharge,"
            "recharge_threshold,recharge_credits,max_recharges_per_day");
  EXPECT_EQ(first_line(files.purchases),
            "purchase_id,account_id,purchased_at,credits,amount_cents");
  ASSERT_EQ(files.usage_by_day.size(), 2u);
  EXPECT_EQ(fs::path(files.usage_by_day[0]).filename(), "usage-2026-03-01.csv");
  EXPECT_EQ(fs::path(files.usage_by_day[1]).filename(), "usage-2026-03-02.csv");
  for (const std::string& path : files.usage_by_day) {
    EXPECT_EQ(first_line(path),
              "occurred_at,event_id,account_id,channel,status,chars,duration_s,"
              "platform_credits,campaign");
  }
  EXPECT_EQ(fs::path(files.plans).parent_path(), fs::path(dir("w")));
}

TEST_F(WorkloadTest, EachUsageFileHasEventsPerDayDataLines)
{
  const WorkloadSpec spec = small_spec();
  const WorkloadFiles files = generate_workload(spec, dir("w"));
  for (const std::string& path : files.usage_by_day) {
    const std::string text = read_all(path);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), spec.events_per_day + 1); // + header
  }
  EXPECT_EQ(files.usage_lines, spec.events_per_day * spec.days);
  EXPECT_EQ(bad_lines_per_day(spec), 30);
  EXPECT_EQ(files.bad_lines, 30 * spec.days);
  long long by_kind = 0;
  for (std::size_t k = 0; k < k_bad_line_kind_count; ++k) {
    EXPECT_GE(files.bad_by_kind[k], spec.days) << to_string(static_cast<BadLineKind>(k));
    by_kind += files.bad_by_kind[k];
  }
  EXPECT_EQ(by_kind, files.bad_lines);
}

TEST(WorkloadBadLines, PerDayCountFollowsTheShareWithAFloorAndACap)
{
  WorkloadSpec spec;
  spec.events_per_day = 20000;
  spec.bad_line_share = 0.001;
  EXPECT_EQ(bad_lines_per_day(spec), 20);
  spec.bad_line_share = 0.0001; // 2, raised so every kind occurs
  EXPECT_EQ(bad_lines_per_day(spec), 11);
  spec.bad_line_share = 0.0;
  EXPECT_EQ(bad_lines_per_day(spec), 0);
  spec.events_per_day = 10;
  spec.bad_line_share = 0.5;
  EXPECT_EQ(bad_lines_per_day(spec), 5); // at most half
}

// Replays what ingest does: parse, then the account check, then the
// duplicate check. Each line must end as its BadLineKind says.
TEST_F(WorkloadTest, GoodLinesParseAndBadLinesEndAsTheirKindSays)
{
  const WorkloadSpec spec = small_spec();
  const WorkloadFiles files = generate_workload(spec, dir("w"));
  const RateCard card = RateCard::defaults();

  std::set<long long> account_ids;
  const auto accounts = records_of(files.accounts);
  for (std::size_t i = 1; i < accounts.size(); ++i) {
    account_ids.insert(to_ll(accounts[i].fields[0]));
  }
  ASSERT_EQ(account_ids.size(), static_cast<std::size_t>(spec.accounts));

  std::map<std::string, UsageEvent> accepted;
  std::array<long long, k_bad_line_kind_count> seen{};
  const auto count_kind = [&seen](std::string_view name) {
    for (std::size_t k = 0; k < k_bad_line_kind_count; ++k) {
      if (to_string(static_cast<BadLineKind>(k)) == name) {
        ++seen[k];
        return;
      }
    }
    ADD_FAILURE() << "unexpected outcome " << name;
  };
  long long good = 0;
  long long late = 0;
  long long with_platform = 0;
  long long platform_matches = 0;
  long long fractional = 0;
  std::map<long long, long long> events_by_account;

  for (std::size_t day = 0; day < files.usage_by_day.size(); ++day) {
    const Date file_date{ k_first.days + static_cast<int>(day) };
    std::ifstream in(files.usage_by_day[day], std::ios::binary);
    CsvReader reader(in);
    CsvRecord record;
    ASSERT_TRUE(reader.next(record));
    auto mapped = UsageHeader::from_record(record);
    ASSERT_TRUE(std::holds_alternative<UsageHeader>(mapped));
    const UsageHeader& header = std::get<UsageHeader>(mapped);
    while (reader.next(record)) {
      auto parsed = parse_usage_record(header, record, card);
      if (const auto* reason = std::get_if<RejectReason>(&parsed)) {
        count_kind(to_string(*reason));
        continue;
      }
      const UsageEvent& event = std::get<UsageEvent>(parsed);
      if (!account_ids.contains(event.account_id)) {
        count_kind("unknown_account");
        continue;
      }
      const auto earlier = accepted.find(event.event_id);
      if (earlier != accepted.end()) {
        count_kind(same_facts(earlier->second, event) ? "exact_duplicate"
                                                      : "conflicting_duplicate");
        continue;
      }
      accepted.emplace(event.event_id, event);
      ++good;
      ++events_by_account[event.account_id];
      const Date occurred = date_of(event.occurred_at);
      if (occurred != file_date) {
        EXPECT_GT(day, 0u) << "no late events in the first file: " << record.raw;
        EXPECT_EQ(occurred, file_date.prev()) << record.raw;
        ++late;
      }
      fractional += record.raw.find('.') < 30 ? 1 : 0;
      if (event.platform_credits) {
        ++with_platform;
        platform_matches += *event.platform_credits == event.credits.n ? 1 : 0;
      }
    }
  }

  EXPECT_EQ(seen, files.bad_by_kind);
  EXPECT_EQ(good, files.usage_lines - files.bad_lines);
  EXPECT_EQ(late, files.late_lines);
  EXPECT_GT(late, 0);
  EXPECT_GT(fractional, 0);
  EXPECT_LT(fractional, good);
  // ~1% off by one, ~5% empty.
  EXPECT_GT(with_platform, good * 9 / 10);
  EXPECT_LT(with_platform, good);
  EXPECT_GT(platform_matches, with_platform * 97 / 100);
  EXPECT_LT(platform_matches, with_platform);
  // Skewed: the busiest account has far more than its fair share.
  long long busiest = 0;
  for (const auto& [account, count] : events_by_account) {
    busiest = std::max(busiest, count);
  }
  EXPECT_GT(busiest, 10 * good / spec.accounts);
}

TEST_F(WorkloadTest, PlansIncludeAQuotedNameAndParse)
{
  const WorkloadFiles files = generate_workload(small_spec(), dir("w"));
  const auto plans = records_of(files.plans);
  ASSERT_GE(plans.size(), 5u);
  bool quoted_name = false;
  for (std::size_t i = 1; i < plans.size(); ++i) {
    ASSERT_EQ(plans[i].fields.size(), 8u) << plans[i].raw;
    const std::string& name = plans[i].fields[1];
    quoted_name =
      quoted_name || (name.find(',') != std::string::npos && name.find('"') != std::string::npos);
    EXPECT_TRUE(parse_cycle(plans[i].fields[2])) << plans[i].raw;
    EXPECT_EQ(plans[i].fields[6], "USD");
  }
  EXPECT_TRUE(quoted_name);
}

TEST_F(WorkloadTest, AccountsAndPurchasesAreConsistent)
{
  const WorkloadSpec spec = small_spec();
  const WorkloadFiles files = generate_workload(spec, dir("w"));

  std::map<std::string, long long> price_per_1000_by_plan;
  const auto plans = records_of(files.plans);
  for (std::size_t i = 1; i < plans.size(); ++i) {
    price_per_1000_by_plan[plans[i].fields[0]] = to_ll(plans[i].fields[5]);
  }

  std::map<long long, std::string> plan_by_account;
  std::set<unsigned> anchor_days;
  long long auto_on = 0;
  const auto accounts = records_of(files.accounts);
  ASSERT_EQ(accounts.size(), static_cast<std::size_t>(spec.accounts) + 1);
  for (std::size_t i = 1; i < accounts.size(); ++i) {
    const auto& f = accounts[i].fields;
    ASSERT_EQ(f.size(), 7u) << accounts[i].raw;
    EXPECT_TRUE(price_per_1000_by_plan.contains(f[1])) << accounts[i].raw;
    plan_by_account[to_ll(f[0])] = f[1];
    const auto anchor = parse_date(f[2]);
    ASSERT_TRUE(anchor) << accounts[i].raw;
    EXPECT_LE(*anchor, k_first);
    EXPECT_GT(anchor->days, k_first.days - 60);
    anchor_days.insert(to_ymd(*anchor).day);
    if (f[3] == "1") {
      ++auto_on;
      EXPECT_GE(to_ll(f[4]), 100);
      EXPECT_LE(to_ll(f[4]), 500);
      EXPECT_GE(to_ll(f[5]), 500);
      EXPECT_LE(to_ll(f[5]), 2000);
      EXPECT_GE(to_ll(f[6]), 1);
      EXPECT_LE(to_ll(f[6]), 3);
    } else {
      EXPECT_EQ(f[3], "0");
    }
  }
  EXPECT_EQ(plan_by_account.size(), static_cast<std::size_t>(spec.accounts));
  EXPECT_FALSE(plan_by_account.contains(plan_by_account.begin()->first + 1)); // not contiguous
  EXPECT_TRUE(anchor_days.contains(29));
  EXPECT_TRUE(anchor_days.contains(30));
  EXPECT_TRUE(anchor_days.contains(31));
  EXPECT_GT(auto_on, spec.accounts / 5);
  EXPECT_LT(auto_on, spec.accounts * 3 / 5);

  const auto purchases = records_of(files.purchases);
  ASSERT_GT(purchases.size(), 1u);
  EXPECT_LT(purchases.size(), static_cast<std::size_t>(spec.accounts / 4));
  std::set<std::string> purchase_ids;
  for (std::size_t i = 1; i < purchases.size(); ++i) {
    const auto& f = purchases[i].fields;
    ASSERT_EQ(f.size(), 5u) << purchases[i].raw;
    EXPECT_TRUE(purchase_ids.insert(f[0]).second) << purchases[i].raw;
    const auto plan = plan_by_account.find(to_ll(f[1]));
    ASSERT_NE(plan, plan_by_account.end()) << purchases[i].raw;
    const auto at = parse_instant(f[2]);
    ASSERT_TRUE(at) << purchases[i].raw;
    EXPECT_GE(*at, start_of(k_first));
    EXPECT_LT(*at, start_of(Date{ k_first.days + spec.days }));
    const long long credits = to_ll(f[3]);
    EXPECT_GE(credits, 100);
    EXPECT_LE(credits, 5000);
    EXPECT_EQ(to_ll(f[4]), (credits * price_per_1000_by_plan[plan->second] + 500) / 1000);
  }
}

TEST_F(WorkloadTest, NoUsageGivesHeaderOnlyFiles)
{
  WorkloadSpec spec = small_spec();
  spec.days = 1;
  spec.events_per_day = 0;
  const WorkloadFiles files = generate_workload(spec, dir("w"));
  ASSERT_EQ(files.usage_by_day.size(), 1u);
  EXPECT_EQ(read_all(files.usage_by_day[0]),
            "occurred_at,event_id,account_id,channel,status,chars,duration_s,platform_credits,"
            "campaign\n");
  EXPECT_EQ(files.usage_lines, 0);
  EXPECT_EQ(files.bad_lines, 0);
}

TEST_F(WorkloadTest, UnwritableDirectoryThrows)
{
  fs::create_directories(m_root);
  const std::string blocker = (m_root / "file").string();
  std::ofstream(blocker) << "x";
  EXPECT_THROW(generate_workload(small_spec(), blocker + "/sub"), std::runtime_error);
}

TEST_F(WorkloadTest, ZonedShareAddsATimeZoneColumnAndChangesNothingElse)
{
  const WorkloadFiles plain = generate_workload(small_spec(), dir("plain"));
  WorkloadSpec spec = small_spec();
  spec.zoned_share = 0.25;
  const WorkloadFiles zoned = generate_workload(spec, dir("zoned"));
  std::istringstream plain_in(read_all(plain.accounts));
  std::istringstream zoned_in(read_all(zoned.accounts));
  std::string plain_line, zoned_line;
  std::map<std::string, long long> by_zone;
  long long rows = 0;
  while (std::getline(plain_in, plain_line)) {
    ASSERT_TRUE(std::getline(zoned_in, zoned_line));
    ASSERT_TRUE(zoned_line.starts_with(plain_line + ",")) << zoned_line;
    const std::string zone = zoned_line.substr(plain_line.size() + 1);
    if (rows++ == 0) {
      EXPECT_EQ(zone, "time_zone");
      continue;
    }
    ++by_zone[zone];
    EXPECT_TRUE(zone.empty()
                || std::find(k_workload_zones.begin(), k_workload_zones.end(), zone)
                     != k_workload_zones.end())
      << zone;
  }
  EXPECT_FALSE(std::getline(zoned_in, zoned_line));
  EXPECT_EQ(rows, spec.accounts + 1);
  // About a quarter zoned, every zone used; the other files are identical.
  EXPECT_GT(by_zone[""], 120);
  EXPECT_LT(by_zone[""], 180);
  for (const std::string_view zone : k_workload_zones) {
    EXPECT_GT(by_zone[std::string(zone)], 5) << zone;
  }
  EXPECT_TRUE(read_all(plain.purchases) == read_all(zoned.purchases));
  EXPECT_TRUE(read_all(plain.usage_by_day[1]) == read_all(zoned.usage_by_day[1]));

  spec.zoned_share = 1.0;
  const WorkloadFiles all = generate_workload(spec, dir("all"));
  const std::string text = read_all(all.accounts);
  EXPECT_EQ(text.find(",\n"), std::string::npos) << "every account has a zone";
}

TEST_F(WorkloadTest, BadSpecThrowsInvalidArgument)
{
  WorkloadSpec spec = small_spec();
  spec.accounts = 0;
  EXPECT_THROW(generate_workload(spec, dir("w")), std::invalid_argument);
  spec = small_spec();
  spec.late_share = 1.5;
  EXPECT_THROW(generate_workload(spec, dir("w")), std::invalid_argument);
  spec = small_spec();
  spec.zoned_share = -0.1;
  EXPECT_THROW(generate_workload(spec, dir("w")), std::invalid_argument);
  spec = small_spec();
  spec.first_date = Date{};
  EXPECT_THROW(generate_workload(spec, dir("w")), std::invalid_argument);
}

// The digest of every file of a workload, in all_paths order.
std::string digest_of(const WorkloadFiles& files)
{
  Sha256 sha;
  for (const std::string& path : all_paths(files)) {
    const std::string text = read_all(path);
    sha.update(text.data(), text.size());
  }
  return sha.hex_digest();
}

// The benchmark's workload (no operator files, `billing generate`) is byte
// for byte what the generator wrote before the demo's operator files existed,
// so benchmark figures stay comparable. An intended change of the generator
// updates these digests (and says so in its commit).
TEST_F(WorkloadTest, WithoutOperatorFilesTheBytesStayAsTheyWere)
{
  const WorkloadFiles plain = generate_workload(small_spec(), dir("plain"));
  EXPECT_TRUE(plain.operator_files.empty());
  EXPECT_EQ(plain.operator_counts.changes() + plain.operator_counts.adjustments(), 0);
  EXPECT_FALSE(plain.operator_counts.price_change.has_value());
  EXPECT_EQ(digest_of(plain), "414490fa8d587206c43ace84acd9f57bd665cecd03933e4a0d79b3ab1d9d14f8");
  WorkloadSpec zoned_spec = small_spec();
  zoned_spec.zoned_share = 0.25;
  EXPECT_EQ(digest_of(generate_workload(zoned_spec, dir("zoned"))),
            "33222fa4b800357d179bc1cdcf1308b9bc62a7d797132086c57b82089a75f83b");
}

WorkloadSpec demo_spec()
{
  WorkloadSpec spec = small_spec();
  spec.days = 4;
  spec.operator_files = OperatorFiles::demo;
  return spec;
}

// Each line of `path`.
std::vector<std::string> lines_of(const std::string& path)
{
  std::istringstream in(read_all(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

TEST_F(WorkloadTest, OperatorFilesLeaveTheOtherFilesAsTheyWereButThePricedPlatformCredits)
{
  WorkloadSpec plain_spec = demo_spec();
  plain_spec.operator_files = OperatorFiles::none;
  const WorkloadFiles plain = generate_workload(plain_spec, dir("plain"));
  const WorkloadFiles demo = generate_workload(demo_spec(), dir("demo"));
  EXPECT_TRUE(read_all(plain.plans) == read_all(demo.plans));
  EXPECT_TRUE(read_all(plain.accounts) == read_all(demo.accounts));
  EXPECT_TRUE(read_all(plain.purchases) == read_all(demo.purchases));
  ASSERT_TRUE(demo.operator_counts.price_change.has_value());
  const Date priced_from = demo.operator_counts.price_change->effective_from;
  EXPECT_EQ(priced_from, Date{ k_first.days + 2 }); // the middle of 4 days
  long long changed = 0;
  for (std::size_t day = 0; day < demo.usage_by_day.size(); ++day) {
    const auto a = lines_of(plain.usage_by_day[day]);
    const auto b = lines_of(demo.usage_by_day[day]);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] == b[i]) {
        continue;
      }
      // Only the platform_credits cell of an sms line (or of a bad line drawn
      // as one) in a file on or after the price change.
      ++changed;
      EXPECT_GE(Date{ k_first.days + static_cast<int>(day) }, priced_from) << b[i];
      std::vector<std::string> x, y;
      std::istringstream ca(a[i]), cb(b[i]);
      for (std::string cell; std::getline(ca, cell, ',');) {
        x.push_back(cell);
      }
      for (std::string cell; std::getline(cb, cell, ',');) {
        y.push_back(cell);
      }
      ASSERT_EQ(x.size(), y.size()) << b[i];
      for (std::size_t c = 0; c < x.size(); ++c) {
        if (c != 7) {
          EXPECT_EQ(x[c], y[c]) << b[i];
        }
      }
      EXPECT_TRUE(y[3] != "mms" && y[3] != "voice" && y[3] != "ringless") << b[i];
    }
  }
  EXPECT_GT(changed, 0);
  // The same spec again: the same operator files.
  const WorkloadFiles again = generate_workload(demo_spec(), dir("again"));
  ASSERT_EQ(again.operator_files.size(), demo.operator_files.size());
  for (std::size_t i = 0; i < demo.operator_files.size(); ++i) {
    EXPECT_TRUE(read_all(again.operator_files[i].path) == read_all(demo.operator_files[i].path));
  }
}

// Every good line's platform_credits follow the workload's card, price
// change included (but for the one line in a hundred that is off by one).
TEST_F(WorkloadTest, PlatformCreditsFollowThePriceChange)
{
  const WorkloadSpec spec = demo_spec();
  const WorkloadFiles files = generate_workload(spec, dir("w"));
  const RateCard card = workload_rate_card(spec);
  ASSERT_EQ(card.rules().size(), RateCard::defaults().rules().size() + 1);
  long long priced = 0, matches = 0;
  const std::string last_day = files.usage_by_day.back();
  std::ifstream in(last_day, std::ios::binary);
  CsvReader reader(in);
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  const auto mapped = UsageHeader::from_record(record);
  ASSERT_TRUE(std::holds_alternative<UsageHeader>(mapped));
  while (reader.next(record)) {
    auto parsed = parse_usage_record(std::get<UsageHeader>(mapped), record, card);
    const auto* event = std::get_if<UsageEvent>(&parsed);
    if (event == nullptr || event->channel != Channel::sms || !event->platform_credits
        || event->credits.n == 0) {
      continue;
    }
    ++priced;
    matches += *event->platform_credits == event->credits.n ? 1 : 0;
  }
  EXPECT_GT(priced, 1000);
  EXPECT_GT(matches, priced * 97 / 100);
}

struct AccountRow
{
  std::string plan_id;
  Date anchor;
};

TEST_F(WorkloadTest, OperatorFilesHoldValidRowsForTheNightThatImportsThem)
{
  const WorkloadSpec spec = demo_spec();
  const WorkloadFiles files = generate_workload(spec, dir("w"));
  const Date last{ k_first.days + spec.days - 1 };
  const OperatorFileCounts& counts = files.operator_counts;
  EXPECT_EQ(counts.upgrades, 1);
  EXPECT_EQ(counts.downgrades, 1);
  EXPECT_EQ(counts.cancellations, 1);
  EXPECT_EQ(counts.reactivations, 1);
  EXPECT_EQ(counts.grants, 2);
  EXPECT_EQ(counts.late_grants, 1);
  EXPECT_EQ(counts.debits, 1);
  EXPECT_EQ(counts.refunds, 1);
  ASSERT_TRUE(counts.price_change.has_value());
  EXPECT_EQ(counts.price_change->channel, Channel::sms);
  EXPECT_EQ(counts.price_change->credits_per_unit, 2);
  EXPECT_EQ(counts.price_change_was_credits_per_unit, 1);

  std::map<long long, AccountRow> accounts;
  for (const CsvRecord& r : records_of(files.accounts)) {
    if (r.line > 1) {
      accounts[to_ll(r.fields[0])] = { r.fields[1], *parse_date(r.fields[2]) };
    }
  }
  std::map<std::string, std::pair<long long, Instant>> purchases; // id: account, purchased_at
  std::map<std::string, long long> purchase_amounts;
  for (const CsvRecord& r : records_of(files.purchases)) {
    if (r.line > 1) {
      purchases[r.fields[0]] = { to_ll(r.fields[1]), *parse_instant(r.fields[2]) };
      purchase_amounts[r.fields[0]] = to_ll(r.fields[4]);
    }
  }

  long long changes = 0, adjustments = 0, rates = 0;
  std::map<long long, std::vector<ChangeRow>> changes_by_account;
  std::set<long long> adjusted_accounts;
  std::optional<OperatorFile> previous;
  for (const OperatorFile& file : files.operator_files) {
    EXPECT_GE(file.night, k_first);
    EXPECT_LE(file.night, last);
    EXPECT_EQ(fs::path(file.path).filename(),
              std::string(to_string(file.kind)) + "-" + format_date(file.night) + ".csv");
    if (previous) {
      EXPECT_LT(std::tuple(previous->night, previous->kind), std::tuple(file.night, file.kind));
    }
    previous = file;
    const ImportFormat& format = file.kind == OperatorFileKind::changes       ? k_change_format
                                 : file.kind == OperatorFileKind::adjustments ? k_adjustment_format
                                                                              : k_rate_format;
    const auto records = records_of(file.path);
    ASSERT_EQ(static_cast<long long>(records.size()), file.rows + 1) << file.path;
    const auto mapped = ImportHeader::from_record(format, records[0]);
    ASSERT_TRUE(std::holds_alternative<ImportHeader>(mapped)) << file.path;
    const ImportHeader& header = std::get<ImportHeader>(mapped);
    for (std::size_t i = 1; i < records.size(); ++i) {
      const std::string where = file.path + ":" + records[i].raw;
      switch (file.kind) {
        case OperatorFileKind::changes: {
          const auto row = parse_change_row(header, records[i]);
          ASSERT_TRUE(std::holds_alternative<ChangeRow>(row)) << where;
          const ChangeRow& change = std::get<ChangeRow>(row);
          ASSERT_TRUE(accounts.contains(change.account_id)) << where;
          EXPECT_EQ(change.effective_date, file.night) << where; // after the last closed date
          EXPECT_GT(change.effective_date, accounts[change.account_id].anchor) << where;
          changes_by_account[change.account_id].push_back(change);
          ++changes;
          break;
        }
        case OperatorFileKind::adjustments: {
          const auto row = parse_adjustment_row(header, records[i]);
          ASSERT_TRUE(std::holds_alternative<AdjustmentRow>(row)) << where;
          const AdjustmentRow& a = std::get<AdjustmentRow>(row);
          ASSERT_TRUE(accounts.contains(a.account_id)) << where;
          EXPECT_TRUE(adjusted_accounts.insert(a.account_id).second) << where;
          EXPECT_FALSE(changes_by_account.contains(a.account_id)) << where;
          EXPECT_LT(accounts[a.account_id].anchor, date_of(a.effective_at)) << where;
          if (date_of(a.effective_at) != file.night) {
            // The late grant: dated in the closed date before the first night.
            EXPECT_EQ(a.kind, AdjustmentKind::grant) << where;
            EXPECT_EQ(file.night, k_first) << where;
            EXPECT_EQ(date_of(a.effective_at), k_first.prev()) << where;
            ASSERT_TRUE(a.expires_at.has_value()) << where;
            EXPECT_GT(*a.expires_at, start_of(k_first)) << where;
          }
          if (a.kind == AdjustmentKind::refund) {
            EXPECT_FALSE(a.credits.has_value()) << where; // all that is left
            ASSERT_TRUE(purchases.contains(a.purchase_id)) << where;
            EXPECT_EQ(purchases[a.purchase_id].first, a.account_id) << where;
            EXPECT_GT(a.effective_at, purchases[a.purchase_id].second) << where;
            EXPECT_EQ(a.amount_cents, purchase_amounts[a.purchase_id]) << where;
          } else {
            ASSERT_TRUE(a.credits.has_value()) << where;
            EXPECT_GT(a.credits->n, 0) << where;
            EXPECT_EQ(a.amount_cents, 0) << where; // free
          }
          ++adjustments;
          break;
        }
        case OperatorFileKind::rates: {
          EXPECT_EQ(file.night, k_first);
          const auto row = parse_rate_row(header, records[i]);
          ASSERT_TRUE(std::holds_alternative<RateRule>(row)) << where;
          EXPECT_EQ(std::get<RateRule>(row), *counts.price_change) << where;
          EXPECT_EQ(records[i].raw, "2026-03-03,sms,160,1,2,sent;delivered,failed");
          ++rates;
          break;
        }
      }
    }
  }
  EXPECT_EQ(changes, counts.changes());
  EXPECT_EQ(adjustments, counts.adjustments());
  EXPECT_EQ(rates, 1);

  // The changes: one upgrade (starter to growth), one downgrade (pro to
  // starter, on its own reset date here), a cancellation and the
  // reactivation of the same account two days on.
  std::map<std::string, long long> kinds;
  for (const auto& [account_id, list] : changes_by_account) {
    const AccountRow& account = accounts[account_id];
    ASSERT_LE(list.size(), 2u);
    const ChangeRow& c = list[0];
    if (c.action == ChangeAction::cancel) {
      EXPECT_EQ(c.effective_date, k_first);
      ASSERT_EQ(list.size(), 2u);
      EXPECT_EQ(list[1].action, ChangeAction::change_plan);
      EXPECT_EQ(list[1].effective_date, Date{ k_first.days + 2 });
      ++kinds["cancel"];
    } else if (account.plan_id == "starter") {
      EXPECT_EQ(c.plan_id, "growth");
      EXPECT_EQ(c.effective_date, k_first);
      ++kinds["upgrade"];
    } else {
      EXPECT_EQ(account.plan_id, "pro");
      EXPECT_EQ(c.plan_id, "starter");
      EXPECT_EQ(counts.downgrades_on_reset_date, 1);
      EXPECT_EQ(to_ymd(c.effective_date).day, to_ymd(account.anchor).day);
      ++kinds["downgrade"];
    }
  }
  EXPECT_EQ(
    kinds,
    (std::map<std::string, long long>{ { "cancel", 1 }, { "downgrade", 1 }, { "upgrade", 1 } }));
}

TEST_F(WorkloadTest, OneUsageDayHasNoReactivation)
{
  WorkloadSpec spec = demo_spec();
  spec.days = 1;
  const WorkloadFiles files = generate_workload(spec, dir("w"));
  EXPECT_EQ(files.operator_counts.cancellations, 1);
  EXPECT_EQ(files.operator_counts.reactivations, 0);
  ASSERT_TRUE(files.operator_counts.price_change.has_value());
  EXPECT_EQ(files.operator_counts.price_change->effective_from, k_first);
  for (const OperatorFile& file : files.operator_files) {
    EXPECT_EQ(file.night, k_first) << file.path;
  }
}

TEST(DemoPaymentProvider, DeclinesEveryTenthRequestAndPaysTheOthers)
{
  std::vector<std::string> keys;
  for (int i = 1; i <= 20; ++i) {
    keys.push_back("recharge:" + std::to_string(i) + ":2026-11-01:1");
  }
  const std::string results = simulated_payment_results(keys);
  std::istringstream lines(results);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "idempotency_key,status,provider_ref,failure_reason");
  std::vector<std::string> rows;
  while (std::getline(lines, line)) {
    rows.push_back(line);
  }
  ASSERT_EQ(rows.size(), keys.size());
  EXPECT_EQ(rows[0], "recharge:1:2026-11-01:1,succeeded,ch_demo_1,");
  EXPECT_EQ(rows[9], "recharge:10:2026-11-01:1,failed,,card_declined");
  EXPECT_EQ(rows[19], "recharge:20:2026-11-01:1,failed,,card_declined");
  EXPECT_EQ(std::count_if(rows.begin(),
                          rows.end(),
                          [](const std::string& r) { return r.find(",failed,") != r.npos; }),
            2);
  EXPECT_EQ(simulated_payment_results({}), "idempotency_key,status,provider_ref,failure_reason\n");
}

} // namespace
} // namespace billing
