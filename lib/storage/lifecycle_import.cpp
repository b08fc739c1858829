#include "storage/lifecycle_import.hpp"

#include "domain/calendar.hpp"
#include "domain/engine.hpp"
#include "domain/zone.hpp"
#include "ingest/csv_reader.hpp"
#include "ingest/import_rows.hpp"
#include "ops/time_zones.hpp"
#include "storage/books_dates.hpp"
#include "storage/rows.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

// Every statement here is fixed text; values are bound (soci::use, or the
// dialect's text slot for free text) or go through MultiRowInsert.

namespace billing {

namespace {

template<typename Row>
struct Parsed
{
  long long line = 0;
  ImportResult<Row> row;
};

// Every data record of the file, parsed, in file order. Throws InputError as
// read_import_file does (nothing read, nothing changed).
template<typename Row>
std::vector<Parsed<Row>> read_rows(const std::string& path,
                                   const ImportFormat& format,
                                   ImportResult<Row> (*parse)(const ImportHeader&,
                                                              const CsvRecord&))
{
  std::vector<Parsed<Row>> out;
  read_import_file(path, format, [&](const ImportHeader& header, const CsvRecord& record) {
    out.push_back({ record.line, parse(header, record) });
  });
  return out;
}

// A row's columns as text, to compare a file's row with the stored one and
// to show the first difference; nullopt for NULL.
template<std::size_t N>
using Cells = std::array<std::optional<std::string>, N>;

template<std::size_t N>
std::optional<ImportRejection> first_difference(std::string_view what,
                                                const std::array<std::string_view, N>& columns,
                                                const Cells<N>& stored,
                                                const Cells<N>& row)
{
  const auto show = [](const std::optional<std::string>& v) {
    return v ? "'" + *v + "'" : std::string("(empty)");
  };
  for (std::size_t c = 0; c < N; ++c) {
    if (stored[c] != row[c]) {
      return ImportRejection{ ImportReason::conflicting_content,
                              "conflicts with the stored " + std::string(what) + ": "
                                + std::string(columns[c]) + " is " + show(stored[c])
                                + ", the file says " + show(row[c]) };
    }
  }
  return std::nullopt;
}

// An account as imported (the accounts row, not what changes made of it):
// the facts its changes and adjustments are judged by.
struct ImportedAccount
{
  std::string plan_id;
  Date cycle_anchor;
  Zone zone;
  std::string currency; // of plan_id
};

// The accounts of a file's rows, each read once.
class AccountLookup
{
public:
  explicit AccountLookup(Database& db)
    : m_db(db)
  {
  }

  // nullptr for an account that was never imported. Throws
  // std::runtime_error when its stored zone or anchor cannot be read.
  const ImportedAccount* find(long long account_id)
  {
    const auto known = m_known.find(account_id);
    if (known != m_known.end()) {
      return known->second ? &*known->second : nullptr;
    }
    std::optional<ImportedAccount> found;
    soci::rowset<soci::row> rows =
      (m_db.sql().prepare << "SELECT a.plan_id, a.cycle_anchor, a.time_zone, p.currency FROM "
                             "accounts a LEFT JOIN plans p ON p.plan_id = a.plan_id WHERE "
                             "a.account_id = :account_id",
       soci::use(account_id));
    for (const auto& r : rows) {
      const std::string anchor = as_str(r, 1);
      const std::string zone_name = as_str(r, 2);
      const std::optional<Date> parsed_anchor = parse_date(anchor);
      if (!parsed_anchor) {
        throw std::runtime_error("stored account " + std::to_string(account_id)
                                 + " has the cycle_anchor '" + anchor + "'");
      }
      const std::optional<Zone> zone = find_time_zone(zone_name);
      if (!zone) {
        throw std::runtime_error("account " + std::to_string(account_id) + " has the time zone '"
                                 + zone_name + "', which the system's tzdata does not know");
      }
      found = ImportedAccount{ as_str(r, 0), *parsed_anchor, *zone, as_str(r, 3) };
    }
    const auto& slot = m_known.emplace(account_id, std::move(found)).first->second;
    return slot ? &*slot : nullptr;
  }

private:
  Database& m_db;
  std::map<long long, std::optional<ImportedAccount>> m_known;
};

std::string utc_note(const Zone& zone, Date local_date, Instant t)
{
  if (date_of(t) == local_date) {
    return {};
  }
  return " (" + format_instant(t) + " in " + std::string(zone.name()) + ")";
}

// ---------------------------------------------------------------- changes

constexpr std::array<std::string_view, 4> k_change_compared = {
  "account_id",
  "effective_date",
  "action",
  "plan_id",
};

Cells<4> change_cells(const ChangeRow& r)
{
  return { std::to_string(r.account_id),
           format_date(r.effective_date),
           std::string(to_string(r.action)),
           r.plan_id.empty() ? std::nullopt : std::optional(r.plan_id) };
}

// The stored plan changes and the rows of the file accepted so far, and the
// rules of SPEC 14 that judge a new one.
class ChangeImport
{
public:
  ChangeImport(Database& db, Instant now)
    : m_db(db)
    , m_now(now)
    , m_latest(latest_date_with_books(db))
    , m_accounts(db)
    , m_insert(db,
               "INSERT INTO plan_changes (change_id, account_id, effective_date, effective_us, "
               "action, plan_id, imported_us, applied_date)")
  {
  }

  enum class Effect
  {
    inserted,
    unchanged
  };

  std::variant<Effect, ImportRejection> apply(const ChangeRow& row)
  {
    if (const ChangeRow* stored = by_id(row.change_id)) {
      if (auto conflict = first_difference(
            "change", k_change_compared, change_cells(*stored), change_cells(row))) {
        return std::move(*conflict);
      }
      return Effect::unchanged;
    }
    const ImportedAccount* account = m_accounts.find(row.account_id);
    if (!account) {
      return ImportRejection{ ImportReason::unknown_account, std::to_string(row.account_id) };
    }
    if (row.action == ChangeAction::change_plan) {
      const std::optional<std::string>& currency = plan_currency(row.plan_id);
      if (!currency) {
        return ImportRejection{ ImportReason::unknown_plan, row.plan_id };
      }
      if (*currency != account->currency) {
        return ImportRejection{ ImportReason::currency_mismatch,
                                "plan " + row.plan_id + " is in " + *currency + ", account "
                                  + std::to_string(row.account_id) + "'s plan " + account->plan_id
                                  + " in " + account->currency };
      }
    }
    const Instant effective = local_midnight(account->zone, row.effective_date);
    if (m_latest && date_of(effective) <= *m_latest) {
      return ImportRejection{ ImportReason::effective_in_closed_date,
                              "effective_date " + format_date(row.effective_date)
                                + utc_note(account->zone, row.effective_date, effective)
                                + " is not after the last closed date " + format_date(*m_latest) };
    }
    if (effective < local_midnight(account->zone, account->cycle_anchor)) {
      return ImportRejection{ ImportReason::before_anchor,
                              "effective_date " + format_date(row.effective_date)
                                + " is before the account's first cycle start (cycle_anchor "
                                + format_date(account->cycle_anchor) + ")" };
    }
    std::vector<ChangeRow>& changes = of_account(row.account_id);
    const auto same_date = std::find_if(changes.begin(), changes.end(), [&](const ChangeRow& c) {
      return c.effective_date == row.effective_date;
    });
    if (same_date != changes.end()) {
      return ImportRejection{ ImportReason::conflicting_change,
                              "account " + std::to_string(row.account_id) + " has change "
                                + same_date->change_id + " on " + format_date(row.effective_date) };
    }
    if (const auto no_change = no_change_at(*account, changes, row)) {
      return *no_change;
    }

    m_insert.row()
      .value(row.change_id)
      .value(row.account_id)
      .value(format_date(row.effective_date))
      .value(effective.us)
      .value(to_string(row.action));
    if (row.action == ChangeAction::change_plan) {
      m_insert.value(row.plan_id);
    } else {
      m_insert.null();
    }
    m_insert.value(m_now.us).null();
    changes.push_back(row);
    m_by_id.insert_or_assign(row.change_id, row);
    return Effect::inserted;
  }

  void flush() { m_insert.flush(); }

private:
  // The state at T_E: the imported plan, then the account's changes of
  // earlier effective dates in date order.
  static std::optional<ImportRejection> no_change_at(const ImportedAccount& account,
                                                     std::vector<ChangeRow> changes,
                                                     const ChangeRow& row)
  {
    std::sort(changes.begin(), changes.end(), [](const ChangeRow& a, const ChangeRow& b) {
      return a.effective_date < b.effective_date;
    });
    bool cancelled = false;
    std::string plan_id = account.plan_id;
    for (const ChangeRow& c : changes) {
      if (c.effective_date >= row.effective_date) {
        break;
      }
      cancelled = c.action == ChangeAction::cancel;
      if (!cancelled) {
        plan_id = c.plan_id;
      }
    }
    const std::string on =
      "account " + std::to_string(row.account_id) + " on " + format_date(row.effective_date);
    if (row.action == ChangeAction::cancel && cancelled) {
      return ImportRejection{ ImportReason::no_change, on + " is cancelled already" };
    }
    if (row.action == ChangeAction::change_plan && !cancelled && row.plan_id == plan_id) {
      return ImportRejection{ ImportReason::no_change, on + " is on plan " + plan_id + " already" };
    }
    return std::nullopt;
  }

  // The change stored or accepted with this id, or nullptr.
  const ChangeRow* by_id(const std::string& change_id)
  {
    const auto known = m_by_id.find(change_id);
    if (known != m_by_id.end()) {
      return known->second ? &*known->second : nullptr;
    }
    std::optional<ChangeRow> found;
    soci::rowset<soci::row> rows =
      (m_db.sql().prepare << "SELECT account_id, effective_date, action, plan_id FROM "
                             "plan_changes WHERE change_id = :change_id",
       soci::use(change_id));
    for (const auto& r : rows) {
      found = stored_change(change_id, as_ll(r, 0), as_str(r, 1), as_str(r, 2), as_str(r, 3));
    }
    const auto& slot = m_by_id.emplace(change_id, std::move(found)).first->second;
    return slot ? &*slot : nullptr;
  }

  // The account's stored changes and those accepted from the file so far.
  std::vector<ChangeRow>& of_account(long long account_id)
  {
    const auto known = m_by_account.find(account_id);
    if (known != m_by_account.end()) {
      return known->second;
    }
    std::vector<ChangeRow> changes;
    soci::rowset<soci::row> rows =
      (m_db.sql().prepare << "SELECT change_id, effective_date, action, plan_id FROM "
                             "plan_changes WHERE account_id = :account_id",
       soci::use(account_id));
    for (const auto& r : rows) {
      changes.push_back(
        stored_change(as_str(r, 0), account_id, as_str(r, 1), as_str(r, 2), as_str(r, 3)));
    }
    return m_by_account.emplace(account_id, std::move(changes)).first->second;
  }

  static ChangeRow stored_change(const std::string& change_id,
                                 long long account_id,
                                 const std::string& effective_date,
                                 const std::string& action,
                                 const std::string& plan_id)
  {
    const std::optional<Date> date = parse_date(effective_date);
    const std::optional<ChangeAction> parsed_action = parse_change_action(action);
    if (!date || !parsed_action) {
      throw std::runtime_error("stored plan change " + change_id + " has the effective_date '"
                               + effective_date + "' and action '" + action + "'");
    }
    return { change_id, account_id, *date, *parsed_action, plan_id };
  }

  // The currency of a plan; nullopt for an unknown plan.
  const std::optional<std::string>& plan_currency(const std::string& plan_id)
  {
    const auto known = m_currencies.find(plan_id);
    if (known != m_currencies.end()) {
      return known->second;
    }
    std::optional<std::string> found;
    soci::rowset<soci::row> rows =
      (m_db.sql().prepare << "SELECT currency FROM plans WHERE plan_id = :plan_id",
       soci::use(plan_id));
    for (const auto& r : rows) {
      found = as_str(r, 0);
    }
    return m_currencies.emplace(plan_id, std::move(found)).first->second;
  }

  Database& m_db;
  Instant m_now;
  std::optional<Date> m_latest;
  AccountLookup m_accounts;
  std::unordered_map<std::string, std::optional<ChangeRow>> m_by_id;
  std::map<long long, std::vector<ChangeRow>> m_by_account;
  std::unordered_map<std::string, std::optional<std::string>> m_currencies;
  MultiRowInsert m_insert;
};

// ---------------------------------------------------------------- adjustments

constexpr std::array<std::string_view, 8> k_adjustment_compared = {
  "account_id",   "effective_at", "kind",       "credits",
  "amount_cents", "purchase_id",  "expires_at", "reason",
};

Cells<8> adjustment_cells(const AdjustmentRow& r)
{
  return { std::to_string(r.account_id),
           format_instant(r.effective_at),
           std::string(to_string(r.kind)),
           r.credits ? std::optional(std::to_string(r.credits->n)) : std::nullopt,
           std::to_string(r.amount_cents),
           r.purchase_id.empty() ? std::nullopt : std::optional(r.purchase_id),
           r.expires_at ? std::optional(format_instant(*r.expires_at)) : std::nullopt,
           r.reason };
}

// The stored adjustments and the rows of the file accepted so far, and the
// rules of SPEC 15 that judge a new one.
class AdjustmentImport
{
public:
  AdjustmentImport(Database& db, Instant now)
    : m_db(db)
    , m_dialect(db.dialect())
    , m_latest(latest_date_with_books(db))
    , m_accounts(db)
    , m_next_seq(query_ll(db, "SELECT MAX(import_seq) FROM adjustments") + 1)
    , m_insert(db.sql())
  {
    m_bound.imported_us = now.us;
    m_insert.exchange(soci::use(m_bound.adjustment_id, "adjustment_id"));
    m_insert.exchange(soci::use(m_bound.account_id, "account_id"));
    m_insert.exchange(soci::use(m_bound.effective_us, "effective_us"));
    m_insert.exchange(soci::use(m_bound.kind, "kind"));
    m_insert.exchange(soci::use(m_bound.credits, m_bound.credits_ind, "credits"));
    m_insert.exchange(soci::use(m_bound.amount_cents, "amount_cents"));
    m_insert.exchange(soci::use(m_bound.purchase_id, m_bound.purchase_id_ind, "purchase_id"));
    m_insert.exchange(soci::use(m_bound.lot_source, m_bound.lot_source_ind, "lot_source"));
    m_insert.exchange(soci::use(m_bound.expires_us, m_bound.expires_ind, "expires_us"));
    m_insert.exchange(soci::use(m_bound.reason, "reason"));
    m_insert.exchange(soci::use(m_bound.import_seq, "import_seq"));
    m_insert.exchange(soci::use(m_bound.imported_us, "imported_us"));
    m_insert.alloc();
    m_insert.prepare("INSERT INTO adjustments (adjustment_id, account_id, effective_us, kind, "
                     "credits, amount_cents, purchase_id, lot_source, expires_us, reason, "
                     "import_seq, imported_us, applied_date, applied_credits) VALUES "
                     "(:adjustment_id, :account_id, :effective_us, :kind, :credits, "
                     ":amount_cents, :purchase_id, :lot_source, :expires_us, "
                     + m_dialect.text_slot("reason") + ", :import_seq, :imported_us, NULL, NULL)");
    m_insert.define_and_bind();
  }
  AdjustmentImport(const AdjustmentImport&) = delete;
  AdjustmentImport& operator=(const AdjustmentImport&) = delete;

  enum class Effect
  {
    inserted,
    unchanged
  };

  std::variant<Effect, ImportRejection> apply(const AdjustmentRow& row)
  {
    if (const AdjustmentRow* stored = by_id(row.adjustment_id)) {
      if (auto conflict = first_difference("adjustment",
                                           k_adjustment_compared,
                                           adjustment_cells(*stored),
                                           adjustment_cells(row))) {
        return std::move(*conflict);
      }
      return Effect::unchanged;
    }
    const ImportedAccount* account = m_accounts.find(row.account_id);
    if (!account) {
      return ImportRejection{ ImportReason::unknown_account, std::to_string(row.account_id) };
    }
    std::optional<std::string> lot_source;
    if (row.kind == AdjustmentKind::refund) {
      const std::optional<RefundedLot> lot = refunded_lot(row.account_id, row.purchase_id);
      if (!lot) {
        return ImportRejection{ ImportReason::unknown_purchase,
                                row.purchase_id + " is no purchase or recharge of account "
                                  + std::to_string(row.account_id) };
      }
      if (row.effective_at < lot->valid_from) {
        return ImportRejection{ ImportReason::refund_before_purchase,
                                "effective_at " + format_instant(row.effective_at) + " is before "
                                  + row.purchase_id + "'s lot is valid ("
                                  + format_instant(lot->valid_from) + ")" };
      }
      lot_source = lot->source;
    }
    if (row.kind == AdjustmentKind::grant) {
      if (auto bad = check_expiry(*account, row)) {
        return std::move(*bad);
      }
    }

    m_bound.adjustment_id = row.adjustment_id;
    m_bound.account_id = row.account_id;
    m_bound.effective_us = row.effective_at.us;
    m_bound.kind = to_string(row.kind);
    m_bound.credits = row.credits ? row.credits->n : 0;
    m_bound.credits_ind = row.credits ? soci::i_ok : soci::i_null;
    m_bound.amount_cents = row.amount_cents;
    m_bound.purchase_id = row.purchase_id;
    m_bound.purchase_id_ind = row.purchase_id.empty() ? soci::i_null : soci::i_ok;
    m_bound.lot_source = lot_source.value_or("");
    m_bound.lot_source_ind = lot_source ? soci::i_ok : soci::i_null;
    m_bound.expires_us = row.expires_at ? row.expires_at->us : 0;
    m_bound.expires_ind = row.expires_at ? soci::i_ok : soci::i_null;
    m_bound.reason = m_dialect.text_value(row.reason);
    m_bound.import_seq = m_next_seq++;
    m_insert.execute(true);
    m_by_id.insert_or_assign(row.adjustment_id, row);
    return Effect::inserted;
  }

private:
  struct RefundedLot
  {
    std::string source;
    Instant valid_from;
  };

  // The lot a refund names: a purchase of the account ("purchase:<id>",
  // valid from purchased_at, whether or not a run has made the lot yet), or
  // the lot of one of the account's recharge requests; nullopt for neither.
  std::optional<RefundedLot> refunded_lot(long long account_id, const std::string& purchase_id)
  {
    // Purchase ids and recharge keys are ids (no NUL, nothing to quote).
    {
      soci::rowset<soci::row> rows =
        (m_db.sql().prepare << "SELECT purchased_us FROM purchases WHERE purchase_id = "
                               ":purchase_id AND account_id = :account_id",
         soci::use(purchase_id),
         soci::use(account_id));
      for (const auto& r : rows) {
        return RefundedLot{ "purchase:" + purchase_id, Instant{ as_ll(r, 0) } };
      }
    }
    // The request's lot has credits left (lots) or none (spent_lots).
    for (const std::string table : { "lots", "spent_lots" }) {
      soci::rowset<soci::row> rows =
        (m_db.sql().prepare << "SELECT l.source, l.valid_from_us FROM payment_requests p JOIN "
                                 + table
                                 + " l ON l.account_id = p.account_id AND l.lot_seq = p.lot_seq "
                                   "WHERE p.idempotency_key = :purchase_id AND p.account_id = "
                                   ":account_id",
         soci::use(purchase_id),
         soci::use(account_id));
      for (const auto& r : rows) {
        return RefundedLot{ as_str(r, 0), Instant{ as_ll(r, 1) } };
      }
    }
    return std::nullopt;
  }

  // A grant's lot must expire after effective_at and after the start of the
  // first open date (a lot that expired in a closed date could never be used
  // nor expire in the books).
  std::optional<ImportRejection> check_expiry(const ImportedAccount& account,
                                              const AdjustmentRow& row) const
  {
    const Instant expires =
      row.expires_at ? *row.expires_at : add_months_local(account.zone, row.effective_at, 12);
    const std::string what = row.expires_at ? "expires_at " + format_instant(expires)
                                            : "the default expiry " + format_instant(expires);
    if (expires <= row.effective_at) {
      return ImportRejection{ ImportReason::bad_expiry,
                              what + " is not after effective_at "
                                + format_instant(row.effective_at) };
    }
    if (m_latest && expires <= start_of(m_latest->next())) {
      return ImportRejection{ ImportReason::bad_expiry,
                              what + " is not after the start of the first open date "
                                + format_date(m_latest->next()) };
    }
    return std::nullopt;
  }

  // The adjustment stored or accepted with this id, or nullptr.
  const AdjustmentRow* by_id(const std::string& adjustment_id)
  {
    const auto known = m_by_id.find(adjustment_id);
    if (known != m_by_id.end()) {
      return known->second ? &*known->second : nullptr;
    }
    std::optional<AdjustmentRow> found;
    soci::rowset<soci::row> rows =
      (m_db.sql().prepare << "SELECT account_id, effective_us, kind, credits, amount_cents, "
                             "purchase_id, expires_us, reason FROM adjustments WHERE "
                             "adjustment_id = :adjustment_id",
       soci::use(adjustment_id));
    for (const auto& r : rows) {
      const std::string kind = as_str(r, 2);
      const std::optional<AdjustmentKind> parsed_kind = parse_adjustment_kind(kind);
      if (!parsed_kind) {
        throw std::runtime_error("stored adjustment " + adjustment_id + " has the kind '" + kind
                                 + "'");
      }
      AdjustmentRow row;
      row.adjustment_id = adjustment_id;
      row.account_id = as_ll(r, 0);
      row.effective_at = Instant{ as_ll(r, 1) };
      row.kind = *parsed_kind;
      if (const auto credits = as_opt_ll(r, 3)) {
        row.credits = Credits{ *credits };
      }
      row.amount_cents = as_ll(r, 4);
      row.purchase_id = as_str(r, 5);
      if (const auto expires = as_opt_ll(r, 6)) {
        row.expires_at = Instant{ *expires };
      }
      row.reason = as_str(r, 7);
      found = std::move(row);
    }
    const auto& slot = m_by_id.emplace(adjustment_id, std::move(found)).first->second;
    return slot ? &*slot : nullptr;
  }

  // The values the insert is bound to.
  struct Bound
  {
    std::string adjustment_id;
    long long account_id = 0;
    long long effective_us = 0;
    std::string kind;
    long long credits = 0;
    soci::indicator credits_ind = soci::i_null;
    long long amount_cents = 0;
    std::string purchase_id;
    soci::indicator purchase_id_ind = soci::i_null;
    std::string lot_source;
    soci::indicator lot_source_ind = soci::i_null;
    long long expires_us = 0;
    soci::indicator expires_ind = soci::i_null;
    std::string reason;
    long long import_seq = 0;
    long long imported_us = 0;
  };

  Database& m_db;
  const Dialect& m_dialect;
  std::optional<Date> m_latest;
  AccountLookup m_accounts;
  long long m_next_seq = 1;
  std::unordered_map<std::string, std::optional<AdjustmentRow>> m_by_id;
  Bound m_bound;
  soci::statement m_insert;
};

template<typename Row, typename Importer>
ImportReport import_rows(Database& db,
                         const std::string& path,
                         Instant now,
                         const ImportFormat& format,
                         ImportResult<Row> (*parse)(const ImportHeader&, const CsvRecord&))
{
  const std::vector<Parsed<Row>> parsed = read_rows<Row>(path, format, parse);
  ImportReport report;
  report.rows = static_cast<long long>(parsed.size());
  Transaction tx(db);
  {
    Importer importer(db, now);
    for (const Parsed<Row>& p : parsed) {
      if (const auto* bad = std::get_if<ImportRejection>(&p.row)) {
        report.rejected.push_back(make_row_reject(p.line, *bad));
        continue;
      }
      const auto effect = importer.apply(std::get<Row>(p.row));
      if (const auto* bad = std::get_if<ImportRejection>(&effect)) {
        report.rejected.push_back(make_row_reject(p.line, *bad));
      } else if (std::get<typename Importer::Effect>(effect) == Importer::Effect::inserted) {
        ++report.inserted;
      } else {
        ++report.unchanged;
      }
    }
    if constexpr (requires { importer.flush(); }) {
      importer.flush();
    }
  }
  tx.commit();
  return report;
}

} // namespace

ImportReport import_changes(Database& db, const std::string& path, Instant now)
{
  return import_rows<ChangeRow, ChangeImport>(db, path, now, k_change_format, parse_change_row);
}

ImportReport import_adjustments(Database& db, const std::string& path, Instant now)
{
  return import_rows<AdjustmentRow, AdjustmentImport>(
    db, path, now, k_adjustment_format, parse_adjustment_row);
}

} // namespace billing
