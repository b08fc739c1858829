#include "storage/imports.hpp"

#include "domain/calendar.hpp"
#include "domain/zone.hpp"
#include "ingest/csv_reader.hpp"
#include "ops/time_zones.hpp"
#include "storage/day_store.hpp"
#include "storage/lifecycle_import.hpp"
#include "storage/rate_import.hpp"
#include "util/assert.hpp"
#include "util/errors.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <variant>

// Every statement here is fixed text; values are bound (soci::use) or go
// through MultiRowInsert. The table of a kind is chosen by its store class.

namespace billing {

namespace {

// Keys per lookup of stored rows: one prepared statement with this many slots.
constexpr std::size_t k_key_chunk_rows = 500;

// A column of a kind, for comparing a file's row with the stored one.
struct ColumnInfo
{
  std::string_view name;
  bool updatable = false; // may change on re-import (auto-recharge settings)
};

// A row's columns as text, to compare and to show; nullopt for NULL.
template<std::size_t N>
using Cells = std::array<std::optional<std::string>, N>;

std::string show(const std::optional<std::string>& v)
{
  return v ? *v : std::string("(empty)");
}

// Reads stored rows by key. `select` is "SELECT <columns> FROM <table> WHERE
// <key column>"; it gets " IN (:k0, ..., :kN)", prepared once, and each
// chunk of `keys` fills the slots (a short last chunk repeats its last key).
// `bind` adds the statement's intos; `take` runs after each fetched row.
template<typename Key, typename Bind, typename Take>
void select_by_keys(Database& db,
                    std::string_view select,
                    const std::vector<Key>& keys,
                    Bind bind,
                    Take take)
{
  if (keys.empty()) {
    return;
  }
  std::vector<Key> slots(std::min(keys.size(), k_key_chunk_rows));
  soci::statement st(db.sql());
  bind(st);
  std::string text(select);
  text += " IN (";
  for (std::size_t i = 0; i < slots.size(); ++i) {
    st.exchange(soci::use(slots[i]));
    text += (i ? ", :k" : ":k") + std::to_string(i);
  }
  text += ")";
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  for (std::size_t begin = 0; begin < keys.size(); begin += slots.size()) {
    const std::size_t end = std::min(keys.size(), begin + slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) {
      slots[i] = keys[std::min(begin + i, end - 1)];
    }
    st.execute();
    while (st.fetch()) {
      take();
    }
  }
}

// Whether a referenced row exists: `query` is "SELECT COUNT(*) FROM <table>
// WHERE <column> = :key", prepared once; answers are remembered.
template<typename Key>
class ExistsQuery
{
public:
  ExistsQuery(Database& db, const std::string& query)
    : m_statement(db.sql())
  {
    m_statement.exchange(soci::into(m_count));
    m_statement.exchange(soci::use(m_key, "key"));
    m_statement.alloc();
    m_statement.prepare(query);
    m_statement.define_and_bind();
  }
  ExistsQuery(const ExistsQuery&) = delete;
  ExistsQuery& operator=(const ExistsQuery&) = delete;

  bool operator()(const Key& key)
  {
    const auto known = m_known.find(key);
    if (known != m_known.end()) {
      return known->second;
    }
    m_key = key;
    m_count = 0;
    m_statement.execute(true);
    return m_known.emplace(key, m_count > 0).first->second;
  }

private:
  Key m_key{};
  long long m_count = 0;
  std::map<Key, bool> m_known;
  soci::statement m_statement;
};

// The stores: what each kind reads and writes. Each has Row, Key, format(),
// parse(), key_of(), load(), check_references(), check_new(), insert(),
// flush(), columns() and cells(); a store with updatable columns has
// check_update() and update().

class PlanStore
{
public:
  using Row = PlanRow;
  using Key = std::string;

  PlanStore(Database& db, Instant /*now*/)
    : m_db(db)
    , m_insert(db,
               "INSERT INTO plans (plan_id, name, cycle, included_credits, price_cents, "
               "credit_price_cents_per_1000, currency, rollover_cap)")
  {
  }

  static const ImportFormat& format() { return k_plan_format; }
  static ImportResult<Row> parse(const ImportHeader& h, const CsvRecord& r)
  {
    return parse_plan_row(h, r);
  }
  static const Key& key_of(const Row& r) { return r.plan_id; }

  std::unordered_map<Key, Row> load(const std::vector<Key>& keys)
  {
    std::unordered_map<Key, Row> out;
    std::string plan_id, name, cycle, currency;
    long long included = 0, price = 0, per_1000 = 0, cap = 0;
    soci::indicator cap_ind = soci::i_ok;
    select_by_keys(
      m_db,
      "SELECT plan_id, name, cycle, included_credits, price_cents, credit_price_cents_per_1000, "
      "currency, rollover_cap FROM plans WHERE plan_id",
      keys,
      [&](soci::statement& st) {
        st.exchange(soci::into(plan_id));
        st.exchange(soci::into(name));
        st.exchange(soci::into(cycle));
        st.exchange(soci::into(included));
        st.exchange(soci::into(price));
        st.exchange(soci::into(per_1000));
        st.exchange(soci::into(currency));
        st.exchange(soci::into(cap, cap_ind));
      },
      [&] {
        Row row;
        row.plan_id = plan_id;
        row.name = name;
        const auto parsed_cycle = parse_cycle(cycle);
        if (!parsed_cycle) {
          throw std::runtime_error("stored plan " + plan_id + " has the cycle '" + cycle + "'");
        }
        row.cycle = *parsed_cycle;
        row.included_credits = Credits{ included };
        row.price_cents = price;
        row.credit_price_cents_per_1000 = per_1000;
        row.currency = currency;
        if (cap_ind != soci::i_null) {
          row.rollover_cap = Credits{ cap };
        }
        out.emplace(row.plan_id, std::move(row));
      });
    return out;
  }

  std::optional<ImportRejection> check_references(const Row&) { return std::nullopt; }
  std::optional<ImportRejection> check_new(const Row&) { return std::nullopt; }

  void insert(const Row& r)
  {
    m_insert.row()
      .value(r.plan_id)
      .value(r.name)
      .value(to_string(r.cycle))
      .value(r.included_credits.n)
      .value(r.price_cents)
      .value(r.credit_price_cents_per_1000)
      .value(r.currency);
    if (r.rollover_cap) {
      m_insert.value(r.rollover_cap->n);
    } else {
      m_insert.null();
    }
  }
  void flush() { m_insert.flush(); }

  static constexpr std::array<ColumnInfo, 8> columns()
  {
    return { { { "plan_id" },
               { "name" },
               { "cycle" },
               { "included_credits" },
               { "price_cents" },
               { "credit_price_cents_per_1000" },
               { "currency" },
               { "rollover_cap" } } };
  }
  static Cells<8> cells(const Row& r)
  {
    return { r.plan_id,
             r.name,
             std::string(to_string(r.cycle)),
             std::to_string(r.included_credits.n),
             std::to_string(r.price_cents),
             std::to_string(r.credit_price_cents_per_1000),
             r.currency,
             r.rollover_cap ? std::optional(std::to_string(r.rollover_cap->n)) : std::nullopt };
  }

private:
  Database& m_db;
  MultiRowInsert m_insert;
};

class AccountStore
{
public:
  using Row = AccountRow;
  using Key = long long;

  AccountStore(Database& db, Instant /*now*/)
    : m_db(db)
    , m_last_closed(last_completed_date(db))
    , m_insert(db,
               "INSERT INTO accounts (account_id, plan_id, cycle_anchor, auto_recharge, "
               "recharge_threshold, recharge_credits, max_recharges_per_day, time_zone, "
               "first_date)")
    , m_plan_exists(db, "SELECT COUNT(*) FROM plans WHERE plan_id = :key")
    , m_update(db.sql())
    , m_update_zone(db.sql())
  {
    // New settings replace all of them and lift a switch-off by a failed
    // payment (an unchanged row, a nightly re-import of the same dump, does
    // not come here).
    m_update.exchange(soci::use(m_set.auto_recharge, "auto_recharge"));
    m_update.exchange(soci::use(m_set.recharge_threshold, "recharge_threshold"));
    m_update.exchange(soci::use(m_set.recharge_credits, "recharge_credits"));
    m_update.exchange(soci::use(m_set.max_recharges_per_day, "max_recharges_per_day"));
    m_update.exchange(soci::use(m_set.account_id, "account_id"));
    m_update.alloc();
    m_update.prepare(
      "UPDATE accounts SET auto_recharge = :auto_recharge, recharge_threshold = "
      ":recharge_threshold, recharge_credits = :recharge_credits, max_recharges_per_day = "
      ":max_recharges_per_day, auto_recharge_off_reason = NULL WHERE account_id = :account_id");
    m_update.define_and_bind();
    // A new zone (of an account without books) moves its first date with it;
    // it leaves the auto-recharge settings and their switch-off alone.
    m_update_zone.exchange(soci::use(m_zone_set.time_zone, "time_zone"));
    m_update_zone.exchange(soci::use(m_zone_set.first_date, "first_date"));
    m_update_zone.exchange(soci::use(m_zone_set.account_id, "account_id"));
    m_update_zone.alloc();
    m_update_zone.prepare("UPDATE accounts SET time_zone = :time_zone, first_date = :first_date "
                          "WHERE account_id = :account_id");
    m_update_zone.define_and_bind();
  }

  static const ImportFormat& format() { return k_account_format; }
  static ImportResult<Row> parse(const ImportHeader& h, const CsvRecord& r)
  {
    return parse_account_row(h, r);
  }
  static Key key_of(const Row& r) { return r.account_id; }

  std::unordered_map<Key, Row> load(const std::vector<Key>& keys)
  {
    std::unordered_map<Key, Row> out;
    long long account_id = 0, auto_recharge = 0, threshold = 0, credits = 0, per_day = 0;
    long long has_books = 0;
    std::string plan_id, anchor, time_zone;
    select_by_keys(
      m_db,
      // Switched off by a failed payment: what was imported was on, so an
      // unchanged row does not switch it on again. An account with a state
      // row has books (of a closed date, or of the date a run is closing).
      "SELECT a.account_id, a.plan_id, a.cycle_anchor, CASE WHEN a.auto_recharge_off_reason IS "
      "NULL THEN a.auto_recharge ELSE 1 END, a.recharge_threshold, a.recharge_credits, "
      "a.max_recharges_per_day, a.time_zone, CASE WHEN s.account_id IS NULL THEN 0 ELSE 1 END "
      "FROM accounts a LEFT JOIN account_state s ON s.account_id = a.account_id WHERE "
      "a.account_id",
      keys,
      [&](soci::statement& st) {
        st.exchange(soci::into(account_id));
        st.exchange(soci::into(plan_id));
        st.exchange(soci::into(anchor));
        st.exchange(soci::into(auto_recharge));
        st.exchange(soci::into(threshold));
        st.exchange(soci::into(credits));
        st.exchange(soci::into(per_day));
        st.exchange(soci::into(time_zone));
        st.exchange(soci::into(has_books));
      },
      [&] {
        Row row;
        row.account_id = account_id;
        row.plan_id = plan_id;
        const auto parsed_anchor = parse_date(anchor);
        if (!parsed_anchor) {
          throw std::runtime_error("stored account " + std::to_string(account_id)
                                   + " has the cycle_anchor '" + anchor + "'");
        }
        row.cycle_anchor = *parsed_anchor;
        row.auto_recharge = auto_recharge != 0;
        row.recharge_threshold = Credits{ threshold };
        row.recharge_credits = Credits{ credits };
        row.max_recharges_per_day = per_day;
        row.time_zone = time_zone;
        if (has_books != 0) {
          m_with_books.insert(row.account_id);
        }
        out.emplace(row.account_id, std::move(row));
      });
    // The accepted plan changes of the same accounts (SPEC 14): a dump of the
    // platform's accounts carries the plan in force, which may be theirs.
    std::string action, change_plan, effective_date;
    soci::indicator plan_ind = soci::i_ok;
    select_by_keys(
      m_db,
      "SELECT account_id, action, plan_id, effective_date FROM plan_changes WHERE account_id",
      keys,
      [&](soci::statement& st) {
        st.exchange(soci::into(account_id));
        st.exchange(soci::into(action));
        st.exchange(soci::into(change_plan, plan_ind));
        st.exchange(soci::into(effective_date));
      },
      [&] {
        m_with_changes.insert(account_id);
        if (action != to_string(ChangeAction::change_plan) || plan_ind == soci::i_null) {
          return;
        }
        const auto parsed_date = parse_date(effective_date);
        if (!parsed_date) {
          throw std::runtime_error("stored plan change of account " + std::to_string(account_id)
                                   + " has the effective_date '" + effective_date + "'");
        }
        m_change_plans[account_id].push_back({ change_plan, *parsed_date });
      });
    return out;
  }

  // `r` as it compares with the stored row: a plan_id and cycle_anchor of an
  // accepted change_plan of the account (its plan_id and effective_date) are
  // the stored ones, so they change nothing and conflict with nothing.
  Row comparable(const Row& stored, const Row& r) const
  {
    const auto changes = m_change_plans.find(r.account_id);
    if (changes == m_change_plans.end()) {
      return r;
    }
    const bool of_a_change =
      std::any_of(changes->second.begin(), changes->second.end(), [&](const ChangedPlan& c) {
        return c.plan_id == r.plan_id && c.cycle_anchor == r.cycle_anchor;
      });
    if (!of_a_change) {
      return r;
    }
    Row out = r;
    out.plan_id = stored.plan_id;
    out.cycle_anchor = stored.cycle_anchor;
    return out;
  }

  // An account needs a zone the system's tzdata knows, and its plan.
  std::optional<ImportRejection> check_references(const Row& r)
  {
    if (!find_time_zone(r.time_zone)) {
      return ImportRejection{ ImportReason::bad_time_zone,
                              "time_zone '" + r.time_zone + "' is not in the system's tzdata" };
    }
    if (!m_plan_exists(r.plan_id)) {
      return ImportRejection{ ImportReason::unknown_plan, r.plan_id };
    }
    return std::nullopt;
  }

  // Closed dates never change, so an account cannot join in one: its first
  // date (the UTC date of its R_0, SPEC 16) must be after the last closed one.
  std::optional<ImportRejection> check_new(const Row& r)
  {
    const Date first = first_date_of(r);
    if (m_last_closed && first <= *m_last_closed) {
      std::string detail = "cycle_anchor " + format_date(r.cycle_anchor);
      if (first != r.cycle_anchor) {
        detail += " (first date " + format_date(first) + " in " + r.time_zone + ")";
      }
      return ImportRejection{ ImportReason::anchor_in_closed_date,
                              detail + " is not after the last closed date "
                                + format_date(*m_last_closed) };
    }
    return std::nullopt;
  }

  // Only updatable columns differ: the zone may change while the account has
  // no books, and not into a closed date.
  std::optional<ImportRejection> check_update(const Row& stored, const Row& r)
  {
    if (stored.time_zone == r.time_zone) {
      return std::nullopt;
    }
    if (m_with_books.contains(r.account_id)) {
      return ImportRejection{ ImportReason::conflicting_content,
                              "conflicts with the stored account: time_zone is " + stored.time_zone
                                + ", the file says " + r.time_zone
                                + " (the account has closed dates)" };
    }
    // Its changes took their T_E (local midnight) in the stored zone.
    if (m_with_changes.contains(r.account_id)) {
      return ImportRejection{ ImportReason::conflicting_content,
                              "conflicts with the stored account: time_zone is " + stored.time_zone
                                + ", the file says " + r.time_zone
                                + " (the account has plan changes)" };
    }
    return check_new(r);
  }

  void insert(const Row& r)
  {
    m_insert.row()
      .value(r.account_id)
      .value(r.plan_id)
      .value(format_date(r.cycle_anchor))
      .value(r.auto_recharge ? 1LL : 0LL)
      .value(r.recharge_threshold.n)
      .value(r.recharge_credits.n)
      .value(r.max_recharges_per_day)
      .value(r.time_zone)
      .value(format_date(first_date_of(r)));
  }
  void flush() { m_insert.flush(); }

  // REQUIRES: check_update(stored, r) passed.
  void update(const Row& stored, const Row& r)
  {
    if (stored.auto_recharge != r.auto_recharge || stored.recharge_threshold != r.recharge_threshold
        || stored.recharge_credits != r.recharge_credits
        || stored.max_recharges_per_day != r.max_recharges_per_day) {
      m_set = { r.account_id,
                r.auto_recharge ? 1LL : 0LL,
                r.recharge_threshold.n,
                r.recharge_credits.n,
                r.max_recharges_per_day };
      m_update.execute(true);
    }
    if (stored.time_zone != r.time_zone) {
      m_zone_set = { r.account_id, r.time_zone, format_date(first_date_of(r)) };
      m_update_zone.execute(true);
    }
  }

  static constexpr std::array<ColumnInfo, 8> columns()
  {
    return { { { "account_id" },
               { "plan_id" },
               { "cycle_anchor" },
               { "auto_recharge", true },
               { "recharge_threshold", true },
               { "recharge_credits", true },
               { "max_recharges_per_day", true },
               { "time_zone", true } } };
  }
  static Cells<8> cells(const Row& r)
  {
    return { std::to_string(r.account_id),
             r.plan_id,
             format_date(r.cycle_anchor),
             std::string(r.auto_recharge ? "1" : "0"),
             std::to_string(r.recharge_threshold.n),
             std::to_string(r.recharge_credits.n),
             std::to_string(r.max_recharges_per_day),
             r.time_zone };
  }

private:
  // The values the update statements are bound to.
  struct Settings
  {
    long long account_id = 0;
    long long auto_recharge = 0;
    long long recharge_threshold = 0;
    long long recharge_credits = 0;
    long long max_recharges_per_day = 0;
  };
  struct ZoneSettings
  {
    long long account_id = 0;
    std::string time_zone;
    std::string first_date;
  };
  struct ChangedPlan
  {
    std::string plan_id;
    Date cycle_anchor; // the change's effective_date
  };

  // REQUIRES: check_references(r) passed (the zone is known).
  static Date first_date_of(const Row& r)
  {
    const std::optional<Zone> zone = find_time_zone(r.time_zone);
    BILLING_REQUIRE(zone.has_value());
    return first_business_date(r.cycle_anchor, *zone);
  }

  Database& m_db;
  std::optional<Date> m_last_closed;
  MultiRowInsert m_insert;
  ExistsQuery<std::string> m_plan_exists;
  std::unordered_set<long long> m_with_books;
  std::unordered_set<long long> m_with_changes;
  std::unordered_map<long long, std::vector<ChangedPlan>> m_change_plans;
  Settings m_set;
  ZoneSettings m_zone_set;
  soci::statement m_update;
  soci::statement m_update_zone;
};

class PurchaseStore
{
public:
  using Row = PurchaseRow;
  using Key = std::string;

  PurchaseStore(Database& db, Instant now)
    : m_db(db)
    , m_now(now)
    , m_insert(db,
               "INSERT INTO purchases (purchase_id, account_id, purchased_us, credits, "
               "amount_cents, imported_us)")
    , m_account_exists(db, "SELECT COUNT(*) FROM accounts WHERE account_id = :key")
  {
  }

  static const ImportFormat& format() { return k_purchase_format; }
  static ImportResult<Row> parse(const ImportHeader& h, const CsvRecord& r)
  {
    return parse_purchase_row(h, r);
  }
  static const Key& key_of(const Row& r) { return r.purchase_id; }

  std::unordered_map<Key, Row> load(const std::vector<Key>& keys)
  {
    std::unordered_map<Key, Row> out;
    std::string purchase_id;
    long long account_id = 0, purchased_us = 0, credits = 0, amount = 0;
    select_by_keys(
      m_db,
      "SELECT purchase_id, account_id, purchased_us, credits, amount_cents FROM purchases "
      "WHERE purchase_id",
      keys,
      [&](soci::statement& st) {
        st.exchange(soci::into(purchase_id));
        st.exchange(soci::into(account_id));
        st.exchange(soci::into(purchased_us));
        st.exchange(soci::into(credits));
        st.exchange(soci::into(amount));
      },
      [&] {
        out.emplace(
          purchase_id,
          Row{ purchase_id, account_id, Instant{ purchased_us }, Credits{ credits }, amount });
      });
    return out;
  }

  // A purchase needs its account.
  std::optional<ImportRejection> check_references(const Row& r)
  {
    if (!m_account_exists(r.account_id)) {
      return ImportRejection{ ImportReason::unknown_account, std::to_string(r.account_id) };
    }
    return std::nullopt;
  }
  std::optional<ImportRejection> check_new(const Row&) { return std::nullopt; }

  void insert(const Row& r)
  {
    m_insert.row()
      .value(r.purchase_id)
      .value(r.account_id)
      .value(r.purchased_at.us)
      .value(r.credits.n)
      .value(r.amount_cents)
      .value(m_now.us);
  }
  void flush() { m_insert.flush(); }

  static constexpr std::array<ColumnInfo, 5> columns()
  {
    return {
      { { "purchase_id" }, { "account_id" }, { "purchased_at" }, { "credits" }, { "amount_cents" } }
    };
  }
  static Cells<5> cells(const Row& r)
  {
    return { r.purchase_id,
             std::to_string(r.account_id),
             std::to_string(r.purchased_at.us),
             std::to_string(r.credits.n),
             std::to_string(r.amount_cents) };
  }

private:
  Database& m_db;
  Instant m_now;
  MultiRowInsert m_insert;
  ExistsQuery<long long> m_account_exists;
};

// How a file's row compares with the stored one.
struct Comparison
{
  std::optional<ImportRejection> conflict; // a column that may not change differs
  bool settings_differ = false;            // only updatable columns differ
};

template<typename Store>
Comparison compare(const typename Store::Row& stored, const typename Store::Row& row)
{
  constexpr auto columns = Store::columns();
  const auto before = Store::cells(stored);
  const auto after = Store::cells(row);
  Comparison out;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (before[c] == after[c]) {
      continue;
    }
    if (columns[c].updatable) {
      out.settings_differ = true;
    } else if (!out.conflict) {
      out.conflict =
        ImportRejection{ ImportReason::conflicting_content,
                         "conflicts with the stored " + std::string(Store::format().what) + ": "
                           + std::string(columns[c].name) + " is " + show(before[c])
                           + ", the file says " + show(after[c]) };
    }
  }
  return out;
}

} // namespace

void read_import_file(const std::string& path,
                      const ImportFormat& format,
                      const std::function<void(const ImportHeader&, const CsvRecord&)>& each)
{
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError("cannot read " + path);
  }
  CsvReader reader(in);
  CsvRecord record;
  if (!reader.next(record)) {
    throw InputError(path + ": empty file, expected a " + std::string(format.what) + " CSV header");
  }
  const auto header_or = ImportHeader::from_record(format, record);
  if (const auto* message = std::get_if<std::string>(&header_or)) {
    throw InputError(path + ":" + std::to_string(record.line) + ": not a "
                     + std::string(format.what) + " file: " + *message);
  }
  const ImportHeader& header = std::get<ImportHeader>(header_or);
  while (reader.next(record)) {
    each(header, record);
  }
}

namespace {

template<typename Store>
ImportReport import_with(Database& db, const std::string& path, Instant now)
{
  using Row = typename Store::Row;
  using Key = typename Store::Key;
  struct Parsed
  {
    long long line;
    ImportResult<Row> row;
  };
  std::vector<Parsed> parsed;
  std::vector<Key> keys;
  read_import_file(path, Store::format(), [&](const ImportHeader& header, const CsvRecord& record) {
    parsed.push_back({ record.line, Store::parse(header, record) });
    if (const Row* row = std::get_if<Row>(&parsed.back().row)) {
      keys.push_back(Store::key_of(*row));
    }
  });

  ImportReport report;
  report.rows = static_cast<long long>(parsed.size());
  Transaction tx(db);
  {
    Store store(db, now);
    std::unordered_map<Key, Row> stored = store.load(keys);
    for (const Parsed& p : parsed) {
      if (const auto* bad = std::get_if<ImportRejection>(&p.row)) {
        report.rejected.push_back(make_row_reject(p.line, *bad));
        continue;
      }
      const Row& parsed_row = std::get<Row>(p.row);
      if (const auto bad = store.check_references(parsed_row)) {
        report.rejected.push_back(make_row_reject(p.line, *bad));
        continue;
      }
      const auto existing = stored.find(Store::key_of(parsed_row));
      if (existing == stored.end()) {
        const Row& row = parsed_row;
        if (const auto bad = store.check_new(row)) {
          report.rejected.push_back(make_row_reject(p.line, *bad));
          continue;
        }
        store.insert(row);
        stored.emplace(Store::key_of(row), row);
        ++report.inserted;
        continue;
      }
      Row row = parsed_row;
      if constexpr (requires { store.comparable(existing->second, parsed_row); }) {
        row = store.comparable(existing->second, parsed_row);
      }
      const Comparison c = compare<Store>(existing->second, row);
      if (c.conflict) {
        report.rejected.push_back(make_row_reject(p.line, *c.conflict));
      } else if (c.settings_differ) {
        if constexpr (requires { store.update(existing->second, row); }) {
          if (const auto bad = store.check_update(existing->second, row)) {
            report.rejected.push_back(make_row_reject(p.line, *bad));
            continue;
          }
          store.flush(); // the row may have been inserted earlier in this file
          store.update(existing->second, row);
          existing->second = row;
          ++report.updated;
        } else {
          BILLING_REQUIRE(!c.settings_differ); // the kind has no updatable column
        }
      } else {
        ++report.unchanged;
      }
    }
    store.flush();
  }
  tx.commit();
  return report;
}

} // namespace

ImportReport import_csv(Database& db, ImportKind kind, const std::string& path, Instant now)
{
  switch (kind) {
    case ImportKind::plans:
      return import_with<PlanStore>(db, path, now);
    case ImportKind::accounts:
      return import_with<AccountStore>(db, path, now);
    case ImportKind::purchases:
      return import_with<PurchaseStore>(db, path, now);
    case ImportKind::rates:
      return import_rates(db, path, now);
    case ImportKind::changes:
      return import_changes(db, path, now);
    case ImportKind::adjustments:
      return import_adjustments(db, path, now);
  }
  throw std::logic_error("unknown import kind");
}

} // namespace billing
