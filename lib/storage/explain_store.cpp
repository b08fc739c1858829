#include "storage/explain_store.hpp"

#include "domain/calendar.hpp"
#include "storage/lot_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

namespace billing {

namespace {

using Prepared = soci::details::prepare_temp_type;

constexpr std::array k_entry_kinds = {
  EntryKind::grant,       EntryKind::purchase, EntryKind::recharge, EntryKind::rollover_out,
  EntryKind::rollover_in, EntryKind::usage,    EntryKind::expire,   EntryKind::revoke,
  EntryKind::bonus,       EntryKind::debit,    EntryKind::refund,
};

EntryKind entry_kind(const std::string& text)
{
  for (const EntryKind k : k_entry_kinds) {
    if (to_string(k) == text) {
      return k;
    }
  }
  throw std::runtime_error("ledger entry of unknown kind '" + text + "'");
}

Date stored_date(const std::string& text, const char* what)
{
  const auto d = parse_date(text);
  if (!d) {
    throw std::runtime_error(std::string("stored ") + what + " '" + text + "' is not a date");
  }
  return *d;
}

// n of "<account>:<date>:<n>".
long long entry_number(const std::string& key)
{
  const size_t colon = key.rfind(':');
  long long n = 0;
  const char* end = key.data() + key.size();
  const auto r = colon == std::string::npos ? std::from_chars(end, end, n)
                                            : std::from_chars(key.data() + colon + 1, end, n);
  if (colon == std::string::npos || r.ec != std::errc{} || r.ptr != end || n <= 0) {
    throw std::runtime_error("ledger key '" + key + "' is not <account>:<date>:<n>");
  }
  return n;
}

std::optional<StoredReconciliation> read_reconciliation(Database& db,
                                                        long long account_id,
                                                        const std::string& day)
{
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT opening, granted, purchased, rolled_over, used, expired, "
                         "revoked, adjusted, closing, overdraft, sending_enabled, usage_events, "
                         "late_events, opening_deferred_cents, sold_cents, usage_cents, "
                         "breakage_cents, revoked_cents, closing_deferred_cents FROM "
                         "reconciliation WHERE business_date = :d AND account_id = :a",
     soci::use(day),
     soci::use(account_id));
  for (const auto& r : rows) {
    return StoredReconciliation{ .opening = as_ll(r, 0),
                                 .granted = as_ll(r, 1),
                                 .purchased = as_ll(r, 2),
                                 .rolled_over = as_ll(r, 3),
                                 .used = as_ll(r, 4),
                                 .expired = as_ll(r, 5),
                                 .revoked = as_ll(r, 6),
                                 .adjusted = as_ll(r, 7),
                                 .closing = as_ll(r, 8),
                                 .overdraft = as_ll(r, 9),
                                 .sending_enabled = as_ll(r, 10) != 0,
                                 .usage_events = as_ll(r, 11),
                                 .late_events = as_ll(r, 12),
                                 .opening_deferred_cents = as_ll(r, 13),
                                 .sold_cents = as_ll(r, 14),
                                 .usage_cents = as_ll(r, 15),
                                 .breakage_cents = as_ll(r, 16),
                                 .revoked_cents = as_ll(r, 17),
                                 .closing_deferred_cents = as_ll(r, 18) };
  }
  return std::nullopt;
}

void read_lots(Database& db, ExplainBooks& b)
{
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT lot_seq, kind, source, granted, remaining, valid_from_us, "
                         "expires_at_us, created_date, value_cents, released_cents, "
                         "start_remaining FROM lots WHERE account_id = :a1 UNION ALL SELECT "
                         "lot_seq, kind, source, granted, remaining, valid_from_us, "
                         "expires_at_us, created_date, value_cents, released_cents, "
                         "start_remaining FROM spent_lots WHERE account_id = :a2 ORDER BY "
                         "lot_seq",
     soci::use(b.account_id),
     soci::use(b.account_id));
  for (const auto& r : rows) {
    const std::string kind = as_str(r, 1);
    const auto k = parse_lot_kind(kind);
    if (!k) {
      throw std::runtime_error("stored lot of unknown kind '" + kind + "'");
    }
    b.lots.push_back(StoredLot{ .seq = as_ll(r, 0),
                                .kind = *k,
                                .source = as_str(r, 2),
                                .granted = as_ll(r, 3),
                                .remaining = as_ll(r, 4),
                                .valid_from = Instant{ as_ll(r, 5) },
                                .expires_at = Instant{ as_ll(r, 6) },
                                .created_date = stored_date(as_str(r, 7), "lot created_date"),
                                .value_cents = as_ll(r, 8),
                                .released_cents = as_ll(r, 9),
                                .start_remaining = as_opt_ll(r, 10) });
  }
}

// The ledger of the account's dates (after, date]: the key is (business_date,
// account_id, idempotency_key), so one seek per date (an IN list of the
// dates, from the account's first date on), never a range over every
// account's entries.
void read_entries(Database& db, ExplainBooks& b)
{
  Date from = b.first_date;
  if (b.value_books_after && b.value_books_after->next() > from) {
    from = b.value_books_after->next();
  }
  std::vector<std::string> dates;
  for (Date d = from; d <= b.date; d = d.next()) {
    dates.push_back(format_date(d));
  }
  if (dates.empty()) {
    return;
  }
  Prepared p =
    (db.sql().prepare << "SELECT business_date, idempotency_key, kind, at_us, credits, lot_seq, "
                         "late, took, overdraft_paid FROM ledger WHERE business_date IN ("
                           + placeholders(db, dates.size()) + ") AND account_id = :a");
  for (const std::string& d : dates) {
    p, soci::use(d);
  }
  p, soci::use(b.account_id);
  soci::rowset<soci::row> rows(p);
  for (const auto& r : rows) {
    StoredEntry e{ .business_date = stored_date(as_str(r, 0), "ledger business_date"),
                   .n = 0,
                   .key = as_str(r, 1),
                   .kind = entry_kind(as_str(r, 2)),
                   .at = Instant{ as_ll(r, 3) },
                   .credits = as_ll(r, 4),
                   .lot_seq = as_ll(r, 5),
                   .late = as_ll(r, 6) != 0,
                   .took = {},
                   .overdraft_paid = as_ll(r, 8) };
    e.n = entry_number(e.key);
    if (const auto took = as_opt_str(r, 7)) {
      auto parsed = parse_lot_takes(*took);
      if (!parsed) {
        throw std::runtime_error("ledger entry " + e.key + ": took '" + *took
                                 + "' is not \"seq:credits ...\"");
      }
      e.took = std::move(*parsed);
    }
    b.entries.push_back(std::move(e));
  }
  // The key is text: "...:10" sorts before "...:2"; the order applied is n's.
  std::sort(b.entries.begin(), b.entries.end(), [](const StoredEntry& x, const StoredEntry& y) {
    return std::tie(x.business_date, x.n) < std::tie(y.business_date, y.n);
  });
}

void read_day_rows(Database& db, ExplainBooks& b)
{
  const std::string day = format_date(b.date);
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT lot_seq, opening, created, used, expired, revoked, "
                           "rolled_out, closing, released_cents FROM lot_movements WHERE "
                           "business_date = :d AND account_id = :a ORDER BY lot_seq",
       soci::use(day),
       soci::use(b.account_id));
    for (const auto& r : rows) {
      b.movements.push_back(StoredMovement{ .lot_seq = as_ll(r, 0),
                                            .opening = Credits{ as_ll(r, 1) },
                                            .created = Credits{ as_ll(r, 2) },
                                            .used = Credits{ as_ll(r, 3) },
                                            .expired = Credits{ as_ll(r, 4) },
                                            .revoked = Credits{ as_ll(r, 5) },
                                            .rolled_out = Credits{ as_ll(r, 6) },
                                            .closing = Credits{ as_ll(r, 7) },
                                            .released_cents = as_ll(r, 8) });
    }
  }
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT channel, occurred_date, events, units, credits, "
                           "platform_credits FROM charges WHERE business_date = :d AND "
                           "account_id = :a ORDER BY channel, occurred_date",
       soci::use(day),
       soci::use(b.account_id));
    for (const auto& r : rows) {
      b.charges.push_back(
        StoredCharge{ .channel = as_str(r, 0),
                      .occurred_date = stored_date(as_str(r, 1), "charges occurred_date"),
                      .events = as_ll(r, 2),
                      .units = as_ll(r, 3),
                      .credits = as_ll(r, 4),
                      .platform_credits = as_ll(r, 5) });
    }
  }
  {
    // Along adjustments_applied (applied_date, account_id, adjustment_id).
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT adjustment_id, kind, effective_us, credits, amount_cents, "
                           "purchase_id, lot_source, reason, import_seq, applied_credits FROM "
                           "adjustments WHERE applied_date = :d AND account_id = :a",
       soci::use(day),
       soci::use(b.account_id));
    for (const auto& r : rows) {
      const std::string kind = as_str(r, 1);
      const auto k = parse_adjustment_kind(kind);
      if (!k) {
        throw std::runtime_error("stored adjustment of unknown kind '" + kind + "'");
      }
      b.adjustments.push_back(StoredAdjustment{ .adjustment_id = as_str(r, 0),
                                                .kind = *k,
                                                .effective_at = Instant{ as_ll(r, 2) },
                                                .credits = as_opt_ll(r, 3),
                                                .amount_cents = as_ll(r, 4),
                                                .purchase_id = as_str(r, 5),
                                                .lot_source = as_str(r, 6),
                                                .reason = as_str(r, 7),
                                                .import_seq = as_ll(r, 8),
                                                .applied_credits = as_ll(r, 9) });
    }
    std::sort(b.adjustments.begin(),
              b.adjustments.end(),
              [](const StoredAdjustment& x, const StoredAdjustment& y) {
                return std::tie(x.effective_at, x.import_seq, x.adjustment_id)
                       < std::tie(y.effective_at, y.import_seq, y.adjustment_id);
              });
  }
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare
         << "SELECT reason FROM sending_changes WHERE account_id = :a AND business_date = :d",
       soci::use(b.account_id),
       soci::use(day));
    for (const auto& r : rows) {
      b.sending_change_reason = as_str(r, 0);
    }
  }
}

// Every applied change of the account, along its unique (account_id,
// effective_date); an account has a handful.
void read_changes(Database& db, ExplainBooks& b)
{
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT change_id, effective_date, effective_us, action, plan_id, "
                         "applied_date FROM plan_changes WHERE account_id = :a ORDER BY "
                         "effective_date",
     soci::use(b.account_id));
  for (const auto& r : rows) {
    const auto applied = as_opt_str(r, 5);
    if (!applied) {
      continue;
    }
    const std::string action = as_str(r, 3);
    const auto a = parse_change_action(action);
    if (!a) {
      throw std::runtime_error("stored plan change of unknown action '" + action + "'");
    }
    b.changes.push_back(
      StoredChange{ .change_id = as_str(r, 0),
                    .effective_date = stored_date(as_str(r, 1), "change effective_date"),
                    .effective_at = Instant{ as_ll(r, 2) },
                    .action = *a,
                    .plan_id = as_str(r, 4),
                    .applied_date = stored_date(*applied, "change applied_date") });
  }
}

void read_plans(Database& db, ExplainBooks& b)
{
  std::vector<std::string> ids{ b.imported_plan_id };
  for (const StoredChange& c : b.changes) {
    if (c.action == ChangeAction::change_plan
        && std::find(ids.begin(), ids.end(), c.plan_id) == ids.end()) {
      ids.push_back(c.plan_id);
    }
  }
  for (const std::string& id : ids) {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT name, currency, rollover_cap FROM plans WHERE plan_id = :p",
       soci::use(id));
    for (const auto& r : rows) {
      b.plans.push_back(StoredPlan{ .plan_id = id,
                                    .name = as_str(r, 0),
                                    .currency = as_str(r, 1),
                                    .rollover_cap = as_opt_ll(r, 2) });
    }
  }
}

// The payment requests of the recharge lots that the date's revoke entries
// name, by their key ("recharge:<account>:<date>:<i>").
void read_revoked_payments(Database& db, ExplainBooks& b)
{
  for (const StoredEntry& e : b.entries) {
    if (e.business_date != b.date || e.kind != EntryKind::revoke) {
      continue;
    }
    const auto lot = std::find_if(
      b.lots.begin(), b.lots.end(), [&e](const StoredLot& l) { return l.seq == e.lot_seq; });
    if (lot == b.lots.end()) {
      continue;
    }
    const std::string name = lot_name(b.account_id, lot->kind, lot->source, lot->valid_from);
    constexpr std::string_view prefix = "recharge:";
    if (!name.starts_with(prefix)) {
      continue;
    }
    const std::string key = name.substr(prefix.size());
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT status, failure_reason FROM payment_requests WHERE "
                           "idempotency_key = :k",
       soci::use(key));
    for (const auto& r : rows) {
      b.revoked_payments.push_back(StoredPayment{
        .idempotency_key = key, .status = as_str(r, 0), .failure_reason = as_str(r, 1) });
    }
  }
}

} // namespace

std::variant<ExplainBooks, ExplainRefusal> read_explain_books(Database& db,
                                                              long long account_id,
                                                              Date date)
{
  ExplainBooks b;
  b.account_id = account_id;
  b.date = date;
  const std::string day = format_date(date);
  bool known = false;
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare
         << "SELECT plan_id, time_zone, first_date FROM accounts WHERE account_id = :a",
       soci::use(account_id));
    for (const auto& r : rows) {
      known = true;
      b.imported_plan_id = as_str(r, 0);
      b.time_zone = as_str(r, 1);
      b.first_date = stored_date(as_str(r, 2), "account first_date");
    }
  }
  if (!known) {
    return ExplainRefusal{ .reason = ExplainRefusalReason::unknown_account, .date = {} };
  }
  bool closed = false;
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT status FROM business_days WHERE business_date = :d",
       soci::use(day));
    for (const auto& r : rows) {
      closed = as_str(r, 0) == "complete";
    }
  }
  if (!closed) {
    return ExplainRefusal{ .reason = ExplainRefusalReason::date_not_closed, .date = {} };
  }
  {
    // One row at most (absent on a database made at schema 6).
    soci::rowset<soci::row> rows = db.sql().prepare << "SELECT MAX(after_date) FROM value_books";
    for (const auto& r : rows) {
      if (const auto after = as_opt_str(r, 0)) {
        b.value_books_after = stored_date(*after, "value_books after_date");
      }
    }
  }
  if (b.value_books_after && date <= *b.value_books_after) {
    return ExplainRefusal{ .reason = ExplainRefusalReason::before_value_books,
                           .date = b.value_books_after };
  }
  if (date < b.first_date) {
    return ExplainRefusal{ .reason = ExplainRefusalReason::before_first_date,
                           .date = b.first_date };
  }
  if (b.value_books_after) {
    if (const auto base = read_reconciliation(db, account_id, format_date(*b.value_books_after))) {
      b.base_overdraft = base->overdraft;
    }
  }
  read_lots(db, b);
  read_entries(db, b);
  b.day = read_reconciliation(db, account_id, day);
  b.previous_day = read_reconciliation(db, account_id, format_date(date.prev()));
  read_day_rows(db, b);
  read_changes(db, b);
  read_plans(db, b);
  read_revoked_payments(db, b);
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT state_date FROM account_state WHERE account_id = :a",
       soci::use(account_id));
    for (const auto& r : rows) {
      b.state_date = stored_date(as_str(r, 0), "account_state state_date");
    }
  }
  return b;
}

} // namespace billing
