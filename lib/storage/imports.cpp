#include "storage/imports.hpp"

#include "domain/calendar.hpp"
#include "ingest/csv_reader.hpp"
#include "storage/day_store.hpp"
#include "util/errors.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <variant>

namespace billing {

namespace {

constexpr size_t k_key_chunk_rows = 500;
constexpr long long k_max_recharges_per_day_max = 100;

enum class ColumnType
{
  text,
  integer
};

struct Column
{
  std::string_view name;
  ColumnType type;
  bool updatable = false; // may change on re-import (auto-recharge settings)
};

// One row as stored: canonical text per column, nullopt for NULL.
using Values = std::vector<std::optional<std::string>>;

struct RowResult
{
  Values values;
  std::string error; // empty when the row is good
};

bool is_id(std::string_view s)
{
  if (s.empty() || s.size() > 64) {
    return false;
  }
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Parses an integer field with bounds; on failure sets err (first error wins).
std::optional<std::string> int_field(std::string_view text,
                                     std::string_view column,
                                     long long min,
                                     long long max,
                                     std::string& err,
                                     bool allow_empty = false)
{
  if (text.empty()) {
    if (!allow_empty && err.empty()) {
      err = "missing_field: " + std::string(column);
    }
    return std::nullopt;
  }
  long long v = 0;
  const IntParse p = parse_int64(text, v);
  if (p != IntParse::ok || v < min || v > max) {
    if (err.empty()) {
      err = (p == IntParse::bad_number ? "bad_number: " : "out_of_range: ") + std::string(column)
            + " '" + std::string(text) + "'";
    }
    return std::nullopt;
  }
  return std::to_string(v);
}

constexpr long long k_ll_max = std::numeric_limits<long long>::max();
// Credits and cents of one row: a trillion is far beyond any real plan or
// purchase, and keeps every sum of a night's books far from 64-bit overflow.
constexpr long long k_amount_max = 1'000'000'000'000LL;

struct KindSpec
{
  std::string_view what; // "plan"
  std::string_view table;
  std::vector<Column> columns; // first column is the key
  std::function<RowResult(const std::vector<std::string_view>& fields)> parse;
};

RowResult parse_plan(const std::vector<std::string_view>& f)
{
  RowResult r;
  std::string& err = r.error;
  if (!is_id(f[0])) {
    err = "bad_id: plan_id '" + std::string(f[0]) + "'";
  }
  if (f[1].empty() && err.empty()) {
    err = "missing_field: name";
  }
  if (f[1].size() > 200 && err.empty()) {
    err = "out_of_range: name longer than 200 characters";
  }
  if (!parse_cycle(f[2]) && err.empty()) {
    err = "bad_cycle: '" + std::string(f[2]) + "' (monthly or annual)";
  }
  auto included = int_field(f[3], "included_credits", 0, k_amount_max, err);
  auto price = int_field(f[4], "price_cents", 0, k_amount_max, err);
  auto per_1000 = int_field(f[5], "credit_price_cents_per_1000", 0, k_amount_max, err);
  const bool currency_ok = f[6].size() == 3 && std::all_of(f[6].begin(), f[6].end(), [](char c) {
                             return c >= 'A' && c <= 'Z';
                           });
  if (!currency_ok && err.empty()) {
    err = "bad_currency: '" + std::string(f[6]) + "' (three capital letters, ISO 4217)";
  }
  auto cap = int_field(f[7], "rollover_cap", 0, k_amount_max, err, true);
  r.values = { std::string(f[0]),
               std::string(f[1]),
               std::string(f[2]),
               included,
               price,
               per_1000,
               std::string(f[6]),
               cap };
  return r;
}

std::optional<std::string> parse_flag(std::string_view text)
{
  static const std::array<std::pair<std::string_view, std::string_view>, 10> k_flags = { {
    { "1", "1" },
    { "0", "0" },
    { "true", "1" },
    { "false", "0" },
    { "on", "1" },
    { "off", "0" },
    { "yes", "1" },
    { "no", "0" },
    { "TRUE", "1" },
    { "FALSE", "0" },
  } };
  for (const auto& [in, out] : k_flags) {
    if (text == in) {
      return std::string(out);
    }
  }
  return std::nullopt;
}

RowResult parse_account(const std::vector<std::string_view>& f)
{
  RowResult r;
  std::string& err = r.error;
  auto id = int_field(f[0], "account_id", 1, k_ll_max, err);
  if (!is_id(f[1]) && err.empty()) {
    err = "bad_id: plan_id '" + std::string(f[1]) + "'";
  }
  const auto anchor = parse_date(f[2]);
  if (!anchor && err.empty()) {
    err = "bad_date: cycle_anchor '" + std::string(f[2]) + "' (YYYY-MM-DD)";
  }
  const auto flag = f[3].empty() ? std::optional<std::string>("0") : parse_flag(f[3]);
  if (!flag && err.empty()) {
    err = "bad_flag: auto_recharge '" + std::string(f[3]) + "' (1/0, true/false, on/off)";
  }
  auto threshold = int_field(f[4].empty() ? "0" : f[4], "recharge_threshold", 0, k_amount_max, err);
  auto credits = int_field(f[5].empty() ? "0" : f[5], "recharge_credits", 0, k_amount_max, err);
  auto per_day = int_field(
    f[6].empty() ? "1" : f[6], "max_recharges_per_day", 0, k_max_recharges_per_day_max, err);
  if (err.empty() && flag == "1" && credits == "0") {
    err = "out_of_range: recharge_credits must be above 0 when auto_recharge is on";
  }
  r.values = {
    id,     std::string(f[1]), anchor ? std::optional(format_date(*anchor)) : std::nullopt,
    flag,   threshold,         credits,
    per_day
  };
  return r;
}

RowResult parse_purchase(const std::vector<std::string_view>& f)
{
  RowResult r;
  std::string& err = r.error;
  if (!is_id(f[0])) {
    err = "bad_id: purchase_id '" + std::string(f[0]) + "'";
  }
  auto account = int_field(f[1], "account_id", 1, k_ll_max, err);
  const auto at = parse_instant(f[2]);
  if (!at && err.empty()) {
    err = "bad_timestamp: purchased_at '" + std::string(f[2]) + "' (YYYY-MM-DDTHH:MM:SSZ)";
  }
  auto credits = int_field(f[3], "credits", 1, k_amount_max, err);
  auto amount = int_field(f[4], "amount_cents", 0, k_amount_max, err);
  r.values = { std::string(f[0]),
               account,
               at ? std::optional(std::to_string(at->us)) : std::nullopt,
               credits,
               amount };
  return r;
}

const KindSpec& spec_for(ImportKind kind)
{
  static const KindSpec k_plans{ "plan",
                                 "plans",
                                 { { "plan_id", ColumnType::text },
                                   { "name", ColumnType::text },
                                   { "cycle", ColumnType::text },
                                   { "included_credits", ColumnType::integer },
                                   { "price_cents", ColumnType::integer },
                                   { "credit_price_cents_per_1000", ColumnType::integer },
                                   { "currency", ColumnType::text },
                                   { "rollover_cap", ColumnType::integer } },
                                 parse_plan };
  static const KindSpec k_accounts{ "account",
                                    "accounts",
                                    { { "account_id", ColumnType::integer },
                                      { "plan_id", ColumnType::text },
                                      { "cycle_anchor", ColumnType::text },
                                      { "auto_recharge", ColumnType::integer, true },
                                      { "recharge_threshold", ColumnType::integer, true },
                                      { "recharge_credits", ColumnType::integer, true },
                                      { "max_recharges_per_day", ColumnType::integer, true } },
                                    parse_account };
  static const KindSpec k_purchases{ "purchase",
                                     "purchases",
                                     { { "purchase_id", ColumnType::text },
                                       { "account_id", ColumnType::integer },
                                       { "purchased_at", ColumnType::integer },
                                       { "credits", ColumnType::integer },
                                       { "amount_cents", ColumnType::integer } },
                                     parse_purchase };
  switch (kind) {
    case ImportKind::plans:
      return k_plans;
    case ImportKind::accounts:
      return k_accounts;
    case ImportKind::purchases:
      return k_purchases;
  }
  return k_plans;
}

// The database column behind a file column (purchased_at is stored in us).
std::string db_column(std::string_view file_column)
{
  return file_column == "purchased_at" ? "purchased_us" : std::string(file_column);
}

std::string key_literal(const KindSpec& spec, const std::string& key)
{
  return spec.columns[0].type == ColumnType::integer ? key : sql_quote(key);
}

// Loads the stored rows whose keys are in `keys`.
std::unordered_map<std::string, Values> load_stored(Database& db,
                                                    const KindSpec& spec,
                                                    const std::vector<std::string>& keys)
{
  std::string select = "SELECT ";
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    std::string column = db_column(spec.columns[i].name);
    if (column == "auto_recharge") {
      // Switched off by a failed payment: what was imported was on, so an
      // unchanged row does not switch it on again.
      column = "CASE WHEN auto_recharge_off_reason IS NULL THEN auto_recharge ELSE 1 END";
    }
    select += (i ? ", " : "") + column;
  }
  select +=
    " FROM " + std::string(spec.table) + " WHERE " + db_column(spec.columns[0].name) + " IN (";
  std::unordered_map<std::string, Values> out;
  for (size_t begin = 0; begin < keys.size(); begin += k_key_chunk_rows) {
    std::string query = select;
    const size_t end = std::min(keys.size(), begin + k_key_chunk_rows);
    for (size_t i = begin; i < end; ++i) {
      query += (i > begin ? "," : "") + key_literal(spec, keys[i]);
    }
    query += ")";
    soci::rowset<soci::row> rows = db.sql().prepare << query;
    for (const auto& row : rows) {
      Values v;
      for (size_t c = 0; c < spec.columns.size(); ++c) {
        v.push_back(as_opt_str(row, c));
      }
      out.emplace(*v[0], std::move(v));
    }
  }
  return out;
}

bool exists(Database& db,
            std::string_view table,
            std::string_view column,
            const std::string& literal)
{
  return query_ll(db,
                  "SELECT COUNT(*) FROM " + std::string(table) + " WHERE " + std::string(column)
                    + " = " + literal)
         > 0;
}

std::string show(const std::optional<std::string>& v)
{
  return v ? *v : std::string("(empty)");
}

} // namespace

ImportReport import_csv(Database& db, ImportKind kind, const std::string& path, Instant now)
{
  const KindSpec& spec = spec_for(kind);
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError("cannot read " + path);
  }
  CsvReader reader(in);
  CsvRecord record;
  if (!reader.next(record)) {
    throw InputError(path + ": empty file, expected a " + std::string(spec.what) + " CSV header");
  }
  std::vector<std::string_view> names;
  for (const Column& c : spec.columns) {
    names.push_back(c.name);
  }
  const auto header = CsvHeader::from_record(record, names);
  if (const auto* message = std::get_if<std::string>(&header)) {
    throw InputError(path + ":" + std::to_string(record.line) + ": not a " + std::string(spec.what)
                     + " file: " + *message);
  }
  const auto& map = std::get<CsvHeader>(header);

  struct Parsed
  {
    long long line;
    RowResult row;
  };
  std::vector<Parsed> parsed;
  std::vector<std::string> keys;
  std::vector<std::string_view> fields(spec.columns.size());
  while (reader.next(record)) {
    Parsed p{ record.line, {} };
    if (record.error) {
      p.row.error = std::string("bad_csv: ") + std::string(to_string(*record.error));
    } else if (!is_valid_utf8(record.raw)) {
      p.row.error = "invalid_utf8";
    } else if (record.fields.size() != map.column_count()) {
      p.row.error = "bad_column_count: " + std::to_string(record.fields.size())
                    + " fields, header has " + std::to_string(map.column_count());
    } else {
      for (size_t c = 0; c < spec.columns.size(); ++c) {
        fields[c] = record.fields[*map.index_of(spec.columns[c].name)];
      }
      p.row = spec.parse(fields);
      if (p.row.error.empty()) {
        keys.push_back(*p.row.values[0]);
      }
    }
    parsed.push_back(std::move(p));
  }

  ImportReport report;
  report.rows = static_cast<long long>(parsed.size());
  Transaction tx(db);
  auto stored = load_stored(db, spec, keys);
  std::string head = "INSERT INTO " + std::string(spec.table) + " (";
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    head += (i ? ", " : "") + db_column(spec.columns[i].name);
  }
  head += kind == ImportKind::purchases ? ", imported_us)" : ")";
  MultiRowInsert insert(db, head);
  std::map<std::string, bool> known_refs; // plan ids / account ids seen to exist
  const std::optional<Date> last_closed = last_completed_date(db);

  for (Parsed& p : parsed) {
    if (!p.row.error.empty()) {
      report.rejected.push_back({ p.line, p.row.error });
      continue;
    }
    Values& v = p.row.values;
    // References: an account needs its plan, a purchase its account.
    if (kind != ImportKind::plans) {
      const std::string& ref = *v[1];
      auto it = known_refs.find(ref);
      if (it == known_refs.end()) {
        const bool ok = kind == ImportKind::accounts
                          ? exists(db, "plans", "plan_id", sql_quote(ref))
                          : exists(db, "accounts", "account_id", ref);
        it = known_refs.emplace(ref, ok).first;
      }
      if (!it->second) {
        report.rejected.push_back(
          { p.line,
            kind == ImportKind::accounts ? "unknown_plan: " + ref : "unknown_account: " + ref });
        continue;
      }
    }
    const auto existing = stored.find(*v[0]);
    if (existing == stored.end() && kind == ImportKind::accounts && last_closed
        && *v[2] <= format_date(*last_closed)) {
      // Closed dates never change, so an account cannot join in one.
      report.rejected.push_back({ p.line,
                                  "anchor_in_closed_date: cycle_anchor " + *v[2]
                                    + " is not after the last closed date "
                                    + format_date(*last_closed) });
      continue;
    }
    if (existing == stored.end()) {
      insert.row();
      for (size_t c = 0; c < spec.columns.size(); ++c) {
        if (!v[c]) {
          insert.null();
        } else if (spec.columns[c].type == ColumnType::integer) {
          insert.value(std::stoll(*v[c]));
        } else {
          insert.value(*v[c]);
        }
      }
      if (kind == ImportKind::purchases) {
        insert.value(now.us);
      }
      stored.emplace(*v[0], v);
      ++report.inserted;
      continue;
    }
    std::string conflict;
    std::string updates;
    for (size_t c = 0; c < spec.columns.size(); ++c) {
      if (existing->second[c] == v[c]) {
        continue;
      }
      if (spec.columns[c].updatable) {
        updates += (updates.empty() ? "" : ", ") + std::string(spec.columns[c].name) + " = "
                   + (v[c] ? *v[c] : std::string("NULL"));
      } else if (conflict.empty()) {
        conflict = "conflicts with the stored " + std::string(spec.what) + ": "
                   + std::string(spec.columns[c].name) + " is " + show(existing->second[c])
                   + ", the file says " + show(v[c]);
      }
    }
    if (!conflict.empty()) {
      report.rejected.push_back({ p.line, "conflict: " + conflict });
    } else if (!updates.empty()) {
      insert.flush(); // the row may have been inserted earlier in this file
      if (kind == ImportKind::accounts) {
        // New settings replace all of them and lift a switch-off by a failed
        // payment; an unchanged row (a nightly re-import of the same dump)
        // does not.
        updates.clear();
        for (size_t c = 0; c < spec.columns.size(); ++c) {
          if (spec.columns[c].updatable) {
            updates += std::string(spec.columns[c].name) + " = " + v[c].value_or("NULL") + ", ";
          }
        }
        updates += "auto_recharge_off_reason = NULL";
      }
      db.exec("UPDATE " + std::string(spec.table) + " SET " + updates + " WHERE "
              + std::string(spec.columns[0].name) + " = " + key_literal(spec, *v[0]));
      existing->second = v;
      ++report.updated;
    } else {
      ++report.unchanged;
    }
  }
  insert.flush();
  tx.commit();
  return report;
}

} // namespace billing
