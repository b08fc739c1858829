#include "storage/day_store.hpp"

#include "domain/calendar.hpp"
#include "ops/time_zones.hpp"
#include "storage/export_store.hpp"
#include "storage/lot_text.hpp"
#include "util/assert.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

namespace billing {

namespace {

constexpr size_t k_events_page = 20'000;

using Prepared = soci::details::prepare_temp_type;

// FROM and WHERE of the accounts taking part in a date and not closed for it
// yet, with its values (bind them first, in this order).
class PendingFilter
{
public:
  PendingFilter(Date date, Shard shard)
    : m_date(format_date(date))
    , m_shard(shard)
  {
  }

  std::string sql() const
  {
    return " FROM accounts a LEFT JOIN account_state s ON s.account_id = a.account_id WHERE "
           "a.first_date <= :date AND (s.state_date IS NULL OR s.state_date < :date_again)"
           + std::string(m_shard.count > 1 ? " AND MOD(a.account_id, :shards) = :shard" : "");
  }

  void bind(Prepared& p) const
  {
    p, soci::use(m_date), soci::use(m_date);
    if (m_shard.count > 1) {
      p, soci::use(m_shard_count), soci::use(m_shard_index);
    }
  }

private:
  std::string m_date;
  Shard m_shard;
  long long m_shard_count = m_shard.count;
  long long m_shard_index = m_shard.index;
};

Lot read_lot(const soci::row& r, size_t first)
{
  Lot lot;
  lot.seq = as_ll(r, first);
  const auto kind = parse_lot_kind(as_str(r, first + 1));
  if (!kind) {
    throw std::runtime_error("stored lot has an unknown kind");
  }
  lot.kind = *kind;
  lot.source = as_str(r, first + 2);
  lot.granted = Credits{ as_ll(r, first + 3) };
  lot.remaining = Credits{ as_ll(r, first + 4) };
  lot.valid_from = Instant{ as_ll(r, first + 5) };
  lot.expires_at = Instant{ as_ll(r, first + 6) };
  lot.value_cents = as_ll(r, first + 7);
  lot.released_cents = as_ll(r, first + 8);
  return lot;
}

std::string sending_reason(const DaySummary& s)
{
  if (s.sending_enabled) {
    return "credits available: balance " + std::to_string(s.closing.n);
  }
  return s.overdraft.n > 0 ? "no credits: overdraft " + std::to_string(s.overdraft.n)
                           : "no credits: balance " + std::to_string(s.closing.n);
}

// The zones of a chunk's accounts by name: each distinct name goes to the
// process-wide lookup (ops/time_zones) once per chunk, UTC not at all.
class ChunkZones
{
public:
  Zone of(const std::string& name)
  {
    if (name == "UTC") {
      return Zone::utc();
    }
    const auto known = m_zones.find(name);
    if (known != m_zones.end()) {
      return known->second;
    }
    const std::optional<Zone> zone = find_time_zone(name);
    if (!zone) {
      // The import checked it against this tzdata: a tzdata update removed
      // the name, or the database was edited by hand.
      throw std::runtime_error("an account's time_zone '" + name
                               + "' is not in the system's tzdata (version " + tzdata_version()
                               + ")");
    }
    return m_zones.emplace(name, *zone).first->second;
  }

private:
  std::unordered_map<std::string, Zone> m_zones;
};

} // namespace

std::map<std::string, Plan> load_plans(Database& db)
{
  std::map<std::string, Plan> out;
  soci::rowset<soci::row> rows =
    db.sql().prepare << "SELECT plan_id, cycle, included_credits, price_cents, "
                        "credit_price_cents_per_1000, currency, rollover_cap FROM plans";
  for (const auto& r : rows) {
    Plan p;
    p.plan_id = as_str(r, 0);
    const auto cycle = parse_cycle(as_str(r, 1));
    if (!cycle) {
      throw std::runtime_error("plan " + p.plan_id + " has an unknown cycle");
    }
    p.cycle = *cycle;
    p.included_credits = Credits{ as_ll(r, 2) };
    p.price_cents = as_ll(r, 3);
    p.credit_price_cents_per_1000 = as_ll(r, 4);
    p.currency = as_str(r, 5);
    if (const auto cap = as_opt_ll(r, 6)) {
      p.rollover_cap = Credits{ *cap };
    }
    out.emplace(p.plan_id, std::move(p));
  }
  return out;
}

long long first_pending_account(Database& db, Date date, long long after_account_id, Shard shard)
{
  // ORDER BY and LIMIT, not MIN, so both databases walk the key and stop at
  // the first match.
  const PendingFilter pending(date, shard);
  Prepared p = (db.sql().prepare << "SELECT a.account_id" + pending.sql()
                                      + " AND a.account_id > :after ORDER BY a.account_id LIMIT 1");
  pending.bind(p);
  p, soci::use(after_account_id);
  soci::rowset<soci::row> rows(p);
  for (const auto& r : rows) {
    return as_ll(r, 0);
  }
  return 0;
}

DayChunk load_pending_chunk(Database& db,
                            const std::map<std::string, Plan>& plans,
                            Date date,
                            long long after_account_id,
                            size_t rows_max,
                            Shard shard)
{
  const long long first = first_pending_account(db, date, after_account_id, shard);
  return first == 0 ? DayChunk{} : load_chunk_at(db, plans, date, first, rows_max, shard);
}

DayChunk load_chunk_at(Database& db,
                       const std::map<std::string, Plan>& plans,
                       Date date,
                       long long first,
                       size_t rows_max,
                       Shard shard)
{
  const PendingFilter pending(date, shard);
  ChunkZones zones;
  DayChunk chunk;
  std::vector<AccountDayInput>& inputs = chunk.inputs;
  std::unordered_map<long long, size_t> index;
  const long long block = account_block(first);
  {
    const long long block_end = (block + 1) * k_account_block_size;
    const long long limit = static_cast<long long>(rows_max);
    Prepared p =
      (db.sql().prepare << "SELECT a.account_id, a.plan_id, a.cycle_anchor, "
                           "a.auto_recharge, a.recharge_threshold, a.recharge_credits, "
                           "a.max_recharges_per_day, s.state_date, s.overdraft, "
                           "s.next_lot_seq, s.last_cycle_index, s.sending_enabled, a.time_zone, "
                           "s.plan_id, s.cycle_anchor, s.cancelled"
                             + pending.sql()
                             + " AND a.account_id >= :first AND a.account_id < "
                               ":block_end ORDER BY a.account_id LIMIT :limit");
    pending.bind(p);
    p, soci::use(first), soci::use(block_end), soci::use(limit);
    soci::rowset<soci::row> rows(p);
    for (const auto& r : rows) {
      AccountDayInput in;
      in.date = date;
      in.settings.account_id = as_ll(r, 0);
      // The plan and anchor in force: the state's once a change took effect
      // (SPEC 14), else the accounts row's.
      const std::optional<std::string> state_plan = as_opt_str(r, 13);
      const auto plan = plans.find(state_plan.value_or(as_str(r, 1)));
      if (plan == plans.end()) {
        throw std::runtime_error("account " + std::to_string(in.settings.account_id)
                                 + " refers to a missing plan");
      }
      in.plan = plan->second;
      const auto anchor = parse_date(state_plan ? as_str(r, 14) : as_str(r, 2));
      BILLING_REQUIRE(anchor.has_value());
      in.settings.cycle_anchor = *anchor;
      in.settings.zone = zones.of(as_str(r, 12));
      in.settings.auto_recharge = as_ll(r, 3) ? AutoRecharge::on : AutoRecharge::off;
      in.settings.recharge_threshold = Credits{ as_ll(r, 4) };
      in.settings.recharge_credits = Credits{ as_ll(r, 5) };
      in.settings.max_recharges_per_day = static_cast<int>(as_ll(r, 6));
      if (const auto state_date = as_opt_str(r, 7)) {
        // Every date runs every taking-part account, so the state is of the
        // day before; anything else is a bug or a hand-edited database.
        if (*state_date != format_date(date.prev())) {
          throw std::runtime_error("account " + std::to_string(in.settings.account_id)
                                   + " was last closed on " + *state_date + ", not the day before "
                                   + format_date(date));
        }
        in.state.overdraft = Credits{ as_ll(r, 8) };
        in.state.next_lot_seq = as_ll(r, 9);
        in.state.last_cycle_index = as_ll(r, 10);
        in.state.sending_enabled = as_ll(r, 11) != 0;
        in.state.cancelled = as_ll(r, 15) != 0;
      }
      index.emplace(in.settings.account_id, inputs.size());
      inputs.push_back(std::move(in));
      chunk.has_state.push_back(r.get_indicator(7) != soci::i_null);
      const auto imported_anchor = parse_date(as_str(r, 2));
      BILLING_REQUIRE(imported_anchor.has_value());
      chunk.imported_plan.emplace_back(as_str(r, 1), *imported_anchor);
    }
  }
  if (inputs.empty()) {
    return chunk;
  }
  // The chunk is a range of ids; rows of accounts in it but not of the chunk
  // (closed already, not started, of another shard) are read and skipped.
  const long long last = inputs.back().settings.account_id;
  const std::string range = " account_id BETWEEN :first AND :last";
  const auto input_of = [&](const soci::row& r) -> AccountDayInput* {
    const auto it = index.find(as_ll(r, 0));
    return it == index.end() ? nullptr : &inputs[it->second];
  };
  const long long end_us = start_of(date.next()).us;
  // Calls `read` with each row of `select` (a query ending in "WHERE" or in
  // "AND", account_id its first column) in the chunk's range, before the end
  // of the date by `until_column` when it is given, that is of an account of
  // the chunk. The lots read are the live ones: a spent lot is in spent_lots.
  const auto for_each_row =
    [&](const std::string& select, std::string_view until_column, const auto& read) {
      std::string sql = select + range;
      if (!until_column.empty()) {
        sql += " AND " + std::string(until_column) + " < :end_us";
      }
      Prepared p = (db.sql().prepare << sql);
      p, soci::use(first), soci::use(last);
      if (!until_column.empty()) {
        p, soci::use(end_us);
      }
      soci::rowset<soci::row> rows(p);
      for (const auto& r : rows) {
        if (AccountDayInput* in = input_of(r)) {
          read(*in, r);
        }
      }
    };
  for_each_row(
    "SELECT account_id, lot_seq, kind, source, granted, remaining, valid_from_us, "
    "expires_at_us, value_cents, released_cents FROM lots WHERE",
    {},
    [](AccountDayInput& in, const soci::row& r) { in.state.lots.push_back(read_lot(r, 1)); });
  for_each_row("SELECT account_id, purchase_id, purchased_us, credits, amount_cents FROM "
               "purchases WHERE applied_date IS NULL AND",
               "purchased_us",
               [](AccountDayInput& in, const soci::row& r) {
                 Purchase p;
                 p.purchase_id = as_str(r, 1);
                 p.purchased_at = Instant{ as_ll(r, 2) };
                 p.credits = Credits{ as_ll(r, 3) };
                 p.amount_cents = as_ll(r, 4);
                 in.purchases.push_back(std::move(p));
               });
  {
    // The charges rows, keyed as the table is (the business date aside).
    std::map<std::tuple<long long, std::string, std::string>, ChargeRow> charges;
    // On MySQL in pages along the key: its client library holds a whole
    // result in memory, and one block of busy accounts can hold a large share
    // of a day's events. SQLite streams a result (and would not seek to the
    // page's start by the OR below), so there it is one page.
    const bool paged = db.dialect().buffers_whole_results();
    const size_t page = paged ? k_events_page : std::numeric_limits<size_t>::max();
    const std::string day = format_date(date);
    const long long page_limit = static_cast<long long>(k_events_page);
    long long after_file = -1;
    long long after_line = -1;
    for (size_t page_rows = page; page_rows == page;) {
      page_rows = 0;
      Prepared p = (db.sql().prepare
                    << "SELECT account_id, occurred_us, credits, channel, "
                       "occurred_date, units, platform_credits, file_id, line "
                       "FROM usage_events WHERE charged_date = :day AND "
                       "account_block = :block AND (file_id > :after_file OR "
                       "(file_id = :after_file_again AND line > :after_line)) AND"
                         + range + (paged ? " ORDER BY file_id, line LIMIT :page" : std::string()));
      p, soci::use(day), soci::use(block), soci::use(after_file), soci::use(after_file),
        soci::use(after_line), soci::use(first), soci::use(last);
      if (paged) {
        p, soci::use(page_limit);
      }
      soci::rowset<soci::row> rows(p);
      for (const auto& r : rows) {
        ++page_rows;
        after_file = as_ll(r, 7);
        after_line = as_ll(r, 8);
        AccountDayInput* in = input_of(r);
        if (!in) {
          continue;
        }
        const long long credits = as_ll(r, 2);
        in->usage.push_back(UsageCharge{ Instant{ as_ll(r, 1) }, Credits{ credits } });
        ChargeRow& c = charges[{ in->settings.account_id, as_str(r, 3), as_str(r, 4) }];
        ++c.events;
        c.units += as_ll(r, 5);
        c.credits += credits;
        c.platform_credits += as_opt_ll(r, 6).value_or(0);
      }
    }
    chunk.charges.reserve(charges.size());
    for (auto& [key, row] : charges) {
      row.account_id = std::get<0>(key);
      row.channel = std::get<1>(key);
      row.occurred_date = std::get<2>(key);
      chunk.charges.push_back(std::move(row));
    }
  }
  for_each_row("SELECT account_id, lot_seq, idempotency_key FROM payment_requests WHERE status "
               "= 'failed' AND revoked_date IS NULL AND",
               {},
               [](AccountDayInput& in, const soci::row& r) {
                 in.revocations.push_back(Revocation{ as_ll(r, 1), as_str(r, 2) });
               });
  for_each_row("SELECT account_id, change_id, effective_date, action, plan_id FROM plan_changes "
               "WHERE applied_date IS NULL AND",
               "effective_us",
               [&plans](AccountDayInput& in, const soci::row& r) {
                 PlanChange c;
                 c.change_id = as_str(r, 1);
                 const auto effective = parse_date(as_str(r, 2));
                 const auto action = parse_change_action(as_str(r, 3));
                 if (!effective || !action) {
                   throw std::runtime_error("stored plan change " + c.change_id + " is malformed");
                 }
                 c.effective_date = *effective;
                 c.action = *action;
                 if (c.action == ChangeAction::change_plan) {
                   const auto plan = plans.find(as_opt_str(r, 4).value_or(""));
                   if (plan == plans.end()) {
                     throw std::runtime_error("plan change " + c.change_id
                                              + " refers to a missing plan");
                   }
                   c.plan = plan->second;
                 }
                 in.changes.push_back(std::move(c));
               });
  for_each_row("SELECT account_id, adjustment_id, import_seq, effective_us, kind, credits, "
               "amount_cents, expires_us, lot_source FROM adjustments WHERE applied_date IS NULL "
               "AND",
               "effective_us",
               [](AccountDayInput& in, const soci::row& r) {
                 Adjustment a;
                 a.adjustment_id = as_str(r, 1);
                 a.import_seq = as_ll(r, 2);
                 a.effective_at = Instant{ as_ll(r, 3) };
                 const auto kind = parse_adjustment_kind(as_str(r, 4));
                 if (!kind) {
                   throw std::runtime_error("stored adjustment " + a.adjustment_id
                                            + " is malformed");
                 }
                 a.kind = *kind;
                 if (const auto credits = as_opt_ll(r, 5)) {
                   a.credits = Credits{ *credits };
                 }
                 a.amount_cents = as_ll(r, 6);
                 if (const auto expires = as_opt_ll(r, 7)) {
                   a.expires_at = Instant{ *expires };
                 }
                 a.refund_lot_source = as_opt_str(r, 8).value_or("");
                 in.adjustments.push_back(std::move(a));
               });
  return chunk;
}

namespace {

// What a chunk adds to its date's figures in one currency (chunk_figures);
// also the date's sums when it completes.
struct Figures
{
  long long accounts = 0; // reconciliation rows
  long long usage_events = 0;
  long long credits_used = 0;
  long long credits_expired = 0;
  long long events_sms = 0;
  long long events_mms = 0;
  long long events_voice = 0;
  long long events_ringless = 0;
  long long lots_made = 0;
  long long opening_deferred_cents = 0;
  long long sold_cents = 0;
  long long usage_cents = 0;
  long long breakage_cents = 0;
  long long revoked_cents = 0;
  long long closing_deferred_cents = 0;
};

// The figures' columns of chunk_figures, each with its member.
constexpr std::pair<std::string_view, long long Figures::*> k_figure_fields[] = {
  { "accounts", &Figures::accounts },
  { "usage_events", &Figures::usage_events },
  { "credits_used", &Figures::credits_used },
  { "credits_expired", &Figures::credits_expired },
  { "events_sms", &Figures::events_sms },
  { "events_mms", &Figures::events_mms },
  { "events_voice", &Figures::events_voice },
  { "events_ringless", &Figures::events_ringless },
  { "lots_made", &Figures::lots_made },
  { "opening_deferred_cents", &Figures::opening_deferred_cents },
  { "sold_cents", &Figures::sold_cents },
  { "usage_cents", &Figures::usage_cents },
  { "breakage_cents", &Figures::breakage_cents },
  { "revoked_cents", &Figures::revoked_cents },
  { "closing_deferred_cents", &Figures::closing_deferred_cents },
};

// "c1, c2, ..." of the figures' columns, each wrapped as `before` c `after`.
std::string figure_columns(std::string_view before = {}, std::string_view after = {})
{
  std::string out;
  for (const auto& [name, member] : k_figure_fields) {
    out += (out.empty() ? "" : ", ") + std::string(before) + std::string(name) + std::string(after);
  }
  return out;
}

// Runs `p`, whose placeholders before its IN list are bound, with `ids`
// bound to the IN list in order.
void execute_with_ids(Prepared& p, const std::vector<long long>& ids)
{
  for (const long long& id : ids) {
    p, soci::use(id);
  }
  soci::statement(p).execute(true);
}

void add_channel_events(Figures& f, std::string_view channel, long long events)
{
  if (channel == "sms") {
    f.events_sms += events;
  } else if (channel == "mms") {
    f.events_mms += events;
  } else if (channel == "voice") {
    f.events_voice += events;
  } else if (channel == "ringless") {
    f.events_ringless += events;
  }
}

// Writes a chunk's figures, one row per currency, keyed by its first account.
void write_chunk_figures(Database& db,
                         const std::string& day,
                         long long first_account,
                         const std::map<std::string, Figures>& by_currency)
{
  MultiRowInsert rows(db,
                      "INSERT INTO chunk_figures (business_date, first_account_id, currency, "
                        + figure_columns() + ")");
  for (const auto& [currency, f] : by_currency) {
    rows.row().value(day).value(first_account).value(currency);
    for (const auto& [name, member] : k_figure_fields) {
      rows.value(f.*member);
    }
  }
  rows.flush();
}

// Moves the lots of `accounts` with no credits left from lots to spent_lots
// (SPEC 17's lots stay readable there; the engine takes nothing from them).
// In the chunk's transaction, so a lot is in exactly one of the two tables.
void move_spent_lots(Database& db, const std::vector<long long>& accounts)
{
  if (accounts.empty()) {
    return;
  }
  const std::string spent =
    " FROM lots WHERE remaining = 0 AND account_id IN (" + placeholders(db, accounts.size()) + ")";
  const auto run = [&](const std::string& sql) {
    Prepared p = (db.sql().prepare << sql);
    execute_with_ids(p, accounts);
  };
  const std::string columns = "account_id, lot_seq, kind, source, granted, remaining, "
                              "valid_from_us, expires_at_us, created_date, value_cents, "
                              "released_cents, start_remaining";
  run("INSERT INTO spent_lots (" + columns + ") SELECT " + columns + spent);
  run("DELETE" + spent);
}

} // namespace

void write_chunk(Database& db,
                 Date date,
                 const DayChunk& chunk,
                 const std::vector<AccountDayResult>& results,
                 DayTotals& totals)
{
  const std::vector<AccountDayInput>& inputs = chunk.inputs;
  BILLING_REQUIRE(inputs.size() == results.size() && inputs.size() == chunk.has_state.size()
                  && inputs.size() == chunk.imported_plan.size());
  if (inputs.empty()) {
    return;
  }
  const std::string day = format_date(date);
  // New rows are plain inserts (a bulk load on MySQL); rows that exist are
  // upserts, which only change what the night changed.
  const std::string lots_head =
    "INSERT INTO lots (account_id, lot_seq, kind, source, granted, remaining, valid_from_us, "
    "expires_at_us, created_date, value_cents, released_cents)";
  MultiRowInsert new_lots(db, lots_head);
  MultiRowInsert lots(
    db, lots_head, db.upsert_tail({ "account_id", "lot_seq" }, { "remaining", "released_cents" }));
  MultiRowInsert ledger(
    db,
    "INSERT INTO ledger (idempotency_key, account_id, business_date, kind, at_us, credits, "
    "lot_seq, late, took, overdraft_paid)");
  MultiRowInsert movements(db,
                           "INSERT INTO lot_movements (business_date, account_id, lot_seq, "
                           "opening, created, used, expired, revoked, rolled_out, closing, "
                           "released_cents)");
  const std::string state_head =
    "INSERT INTO account_state (account_id, state_date, overdraft, next_lot_seq, "
    "last_cycle_index, sending_enabled, plan_id, cycle_anchor, cancelled)";
  MultiRowInsert new_state(db, state_head);
  MultiRowInsert state(db,
                       state_head,
                       db.upsert_tail({ "account_id" },
                                      { "state_date",
                                        "overdraft",
                                        "next_lot_seq",
                                        "last_cycle_index",
                                        "sending_enabled",
                                        "plan_id",
                                        "cycle_anchor",
                                        "cancelled" }));
  MultiRowInsert recon(db,
                       "INSERT INTO reconciliation (business_date, account_id, opening, "
                       "granted, purchased, rolled_over, used, expired, revoked, adjusted, "
                       "closing, overdraft, sending_enabled, usage_events, late_events, "
                       "opening_deferred_cents, sold_cents, usage_cents, breakage_cents, "
                       "revoked_cents, closing_deferred_cents)");
  MultiRowInsert sending(
    db, "INSERT INTO sending_changes (account_id, business_date, enabled, reason)");
  MultiRowInsert payments(db,
                          "INSERT INTO payment_requests (idempotency_key, account_id, "
                          "business_date, lot_seq, credits, amount_cents, currency, status)");
  bool any_revocation = false;
  bool any_change = false;
  // Accounts with a lot whose last credit went this date: the lot moves to
  // spent_lots below, after it is written with remaining 0.
  std::vector<long long> spent_accounts;
  // The chunk's part of the date's figures, by the accounts' currency.
  std::map<std::string, Figures> figures;
  std::unordered_map<long long, Figures*> figures_of;                 // account -> its currency's
  std::vector<std::pair<std::string, long long>> applied_adjustments; // id, credits

  for (size_t i = 0; i < inputs.size(); ++i) {
    const AccountDayInput& in = inputs[i];
    const AccountDayResult& out = results[i];
    const long long account = in.settings.account_id;
    std::unordered_map<long long, const Lot*> before;
    for (const Lot& lot : in.state.lots) {
      before.emplace(lot.seq, &lot);
    }
    bool spent = false;
    for (const Lot& lot : out.lots_touched) {
      const auto it = before.find(lot.seq);
      if (it != before.end() && it->second->remaining == lot.remaining) {
        continue;
      }
      spent = spent || lot.remaining.n == 0;
      // The engine numbers new lots from next_lot_seq; older ones it was given.
      (lot.seq >= in.state.next_lot_seq ? new_lots : lots)
        .row()
        .value(account)
        .value(lot.seq)
        .value(to_string(lot.kind))
        .value(lot.source)
        .value(lot.granted.n)
        .value(lot.remaining.n)
        .value(lot.valid_from.us)
        .value(lot.expires_at.us)
        .value(day)
        .value(lot.value_cents)
        .value(lot.released_cents);
    }
    if (spent) {
      spent_accounts.push_back(account);
    }
    Figures& f = figures[out.values.currency];
    figures_of.emplace(account, &f);
    for (const LotMovement& m : out.lot_movements) {
      f.lots_made += m.created.n > 0 ? 1 : 0;
      movements.row()
        .value(day)
        .value(account)
        .value(m.lot_seq)
        .value(m.opening.n)
        .value(m.created.n)
        .value(m.used.n)
        .value(m.expired.n)
        .value(m.revoked.n)
        .value(m.rolled_out.n)
        .value(m.closing.n)
        .value(m.released_cents);
    }
    for (const LedgerEntry& e : out.entries) {
      ledger.row()
        .value(e.idempotency_key)
        .value(account)
        .value(day)
        .value(to_string(e.kind))
        .value(e.at.us)
        .value(e.credits.n)
        .value(e.lot_seq)
        .value(e.late ? 1LL : 0LL);
      if (e.took.empty()) {
        ledger.null();
      } else {
        ledger.value(format_lot_takes(e.took));
      }
      ledger.value(e.overdraft_paid.n);
    }
    MultiRowInsert& state_row = (chunk.has_state[i] ? state : new_state);
    state_row.row()
      .value(account)
      .value(day)
      .value(out.state.overdraft.n)
      .value(out.state.next_lot_seq)
      .value(out.state.last_cycle_index)
      .value(out.state.sending_enabled ? 1LL : 0LL);
    if (out.plan_id == chunk.imported_plan[i].first
        && out.cycle_anchor == chunk.imported_plan[i].second) {
      state_row.null().null();
    } else {
      state_row.value(out.plan_id).value(format_date(out.cycle_anchor));
    }
    state_row.value(out.state.cancelled ? 1LL : 0LL);
    const DaySummary& s = out.summary;
    // A dormant date of a cancelled account has no row (SPEC 14).
    if (!out.dormant) {
      ++f.accounts;
      f.usage_events += s.usage_events;
      f.credits_used += s.used.n;
      f.credits_expired += s.expired.n;
      f.opening_deferred_cents += out.values.opening_deferred_cents;
      f.sold_cents += out.values.sold_cents;
      f.usage_cents += out.values.usage_cents;
      f.breakage_cents += out.values.breakage_cents;
      f.revoked_cents += out.values.revoked_cents;
      f.closing_deferred_cents += out.values.closing_deferred_cents;
      recon.row()
        .value(day)
        .value(account)
        .value(s.opening.n)
        .value(s.granted.n)
        .value(s.purchased.n)
        .value(s.rolled_over.n)
        .value(s.used.n)
        .value(s.expired.n)
        .value(s.revoked.n)
        .value(s.adjusted.n)
        .value(s.closing.n)
        .value(s.overdraft.n)
        .value(s.sending_enabled ? 1LL : 0LL)
        .value(s.usage_events)
        .value(s.late_events)
        .value(out.values.opening_deferred_cents)
        .value(out.values.sold_cents)
        .value(out.values.usage_cents)
        .value(out.values.breakage_cents)
        .value(out.values.revoked_cents)
        .value(out.values.closing_deferred_cents);
    }
    // A new account's first status is recorded too, so every account's
    // sending state has a dated reason.
    const bool first_day = in.state.last_cycle_index < 0 && in.state.next_lot_seq == 1;
    if (out.sending_changed || first_day) {
      sending.row()
        .value(account)
        .value(day)
        .value(s.sending_enabled ? 1LL : 0LL)
        .value(sending_reason(s));
      if (s.sending_enabled) {
        totals.resumed += first_day ? 0 : 1;
      }
    }
    for (const RechargeRequest& r : out.recharges) {
      payments.row()
        .value(r.idempotency_key)
        .value(account)
        .value(day)
        .value(r.lot_seq)
        .value(r.credits.n)
        .value(r.amount.cents)
        .value(r.amount.currency)
        .value("pending");
    }
    any_revocation = any_revocation || !in.revocations.empty();
    any_change = any_change || !in.changes.empty();
    for (const AppliedAdjustment& a : out.applied_adjustments) {
      applied_adjustments.emplace_back(a.adjustment_id, a.credits.n);
    }
    ++totals.accounts;
    totals.usage_events += s.usage_events;
    totals.late_events += s.late_events;
    totals.credits_used += s.used.n;
    totals.credits_expired += s.expired.n;
    totals.credits_granted += s.granted.n;
    totals.credits_purchased += s.purchased.n;
    totals.recharges += static_cast<long long>(out.recharges.size());
    totals.suspended += s.sending_enabled ? 0 : 1;
  }
  new_lots.flush();
  lots.flush();
  ledger.flush();
  movements.flush();
  new_state.flush();
  state.flush();
  recon.flush();
  sending.flush();
  payments.flush();
  move_spent_lots(db, spent_accounts);

  MultiRowInsert charges(db,
                         "INSERT INTO charges (business_date, account_id, channel, "
                         "occurred_date, events, units, credits, platform_credits)");
  for (const ChargeRow& c : chunk.charges) {
    const auto of = figures_of.find(c.account_id);
    BILLING_REQUIRE(of != figures_of.end());
    add_channel_events(*of->second, c.channel, c.events);
    charges.row()
      .value(day)
      .value(c.account_id)
      .value(c.channel)
      .value(c.occurred_date)
      .value(c.events)
      .value(c.units)
      .value(c.credits)
      .value(c.platform_credits);
  }
  charges.flush();
  write_chunk_figures(db, day, inputs.front().settings.account_id, figures);

  std::vector<long long> ids;
  ids.reserve(inputs.size());
  for (const AccountDayInput& in : inputs) {
    ids.push_back(in.settings.account_id);
  }
  const long long end_us = start_of(date.next()).us;
  // The chunk's pending rows of `table` before the end of the date (by
  // `time_column`) were applied by this date.
  const auto mark_applied = [&](std::string_view table, std::string_view time_column) {
    Prepared p =
      (db.sql().prepare << "UPDATE " + std::string(table)
                             + " SET applied_date = :day WHERE applied_date IS NULL AND "
                             + std::string(time_column) + " < :end_us AND account_id IN ("
                             + placeholders(db, ids.size()) + ")");
    p, soci::use(day), soci::use(end_us);
    execute_with_ids(p, ids);
  };
  mark_applied("purchases", "purchased_us");
  if (any_change) {
    mark_applied("plan_changes", "effective_us");
  }
  // Adjustments are rare (support's corrections): one update each, with
  // what took effect.
  for (const auto& [id, credits] : applied_adjustments) {
    db.sql() << "UPDATE adjustments SET applied_date = :day, applied_credits = :credits WHERE "
                "adjustment_id = :id AND applied_date IS NULL",
      soci::use(day), soci::use(credits), soci::use(id);
  }
  if (any_revocation) {
    Prepared p = (db.sql().prepare << "UPDATE payment_requests SET revoked_date = :day WHERE "
                                      "status = 'failed' AND revoked_date IS NULL AND account_id "
                                      "IN ("
                                        + placeholders(db, ids.size()) + ")");
    p, soci::use(day);
    execute_with_ids(p, ids);
  }
}

DayTotals& DayTotals::operator+=(const DayTotals& o)
{
  accounts += o.accounts;
  usage_events += o.usage_events;
  late_events += o.late_events;
  credits_used += o.credits_used;
  credits_expired += o.credits_expired;
  credits_granted += o.credits_granted;
  credits_purchased += o.credits_purchased;
  recharges += o.recharges;
  suspended += o.suspended;
  resumed += o.resumed;
  return *this;
}

long long pending_account_count(Database& db, Date date, Shard shard)
{
  const PendingFilter pending(date, shard);
  Prepared p = (db.sql().prepare << "SELECT COUNT(*)" + pending.sql());
  pending.bind(p);
  soci::rowset<soci::row> rows(p);
  for (const auto& r : rows) {
    return as_ll(r, 0);
  }
  return 0;
}

std::optional<Date> last_completed_date(Database& db)
{
  soci::rowset<soci::row> rows = db.sql().prepare
                                 << "SELECT MAX(business_date) FROM business_days WHERE "
                                    "status = 'complete'";
  for (const auto& r : rows) {
    if (const auto text = as_opt_str(r, 0)) {
      return parse_date(*text);
    }
  }
  return std::nullopt;
}

DayStatus day_status(Database& db, Date date)
{
  const std::string day = format_date(date);
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT status FROM business_days WHERE business_date = :day",
     soci::use(day));
  for (const auto& r : rows) {
    return as_str(r, 0) == "complete" ? DayStatus::complete : DayStatus::running;
  }
  return DayStatus::none;
}

void mark_day_started(Database& db, Date date, Instant now)
{
  const std::string day = format_date(date);
  db.sql() << db.insert_ignore()
                + " INTO business_days (business_date, status, started_us, completed_us, "
                  "accounts, usage_events, credits_used) VALUES (:day, 'running', :now_us, NULL, "
                  "0, 0, 0)",
    soci::use(day), soci::use(now.us);
}

namespace {

// The date's figures by currency, from the rows its chunks wrote.
std::map<std::string, Figures> read_chunk_figures(Database& db, const std::string& day)
{
  std::map<std::string, Figures> by_currency;
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT currency, " + figure_columns("SUM(", ")")
                           + " FROM chunk_figures WHERE business_date = :d GROUP BY currency",
     soci::use(day));
  for (const auto& r : rows) {
    Figures& f = by_currency[as_str(r, 0)];
    for (size_t i = 0; i < std::size(k_figure_fields); ++i) {
      f.*k_figure_fields[i].second = as_ll(r, i + 1);
    }
  }
  return by_currency;
}

// SPEC 17's revenue rows of `day`: the reconciliation's values summed per
// currency (an account's currency is its plan's; a change cannot move it),
// from the first date that made a lot in the currency on. A currency whose
// accounts have no row on `day` (dormant) keeps its row, all 0 but the
// deferred carried. Dates the value books do not cover (closed before schema
// 6) get none.
void write_revenue(Database& db,
                   const std::string& day,
                   const std::map<std::string, Figures>& figures)
{
  if (query_ll(db, "SELECT COUNT(*) FROM value_books WHERE after_date >= :d", day) > 0) {
    return;
  }
  std::map<std::string, RevenueRow> by_currency;
  for (const auto& [currency, f] : figures) {
    if (f.accounts == 0 && f.lots_made == 0) {
      continue; // dormant accounts only: no reconciliation row in it
    }
    by_currency[currency] = RevenueRow{ .business_date = day,
                                        .currency = currency,
                                        .opening_deferred_cents = f.opening_deferred_cents,
                                        .sold_cents = f.sold_cents,
                                        .usage_cents = f.usage_cents,
                                        .breakage_cents = f.breakage_cents,
                                        .revoked_cents = f.revoked_cents,
                                        .closing_deferred_cents = f.closing_deferred_cents };
  }
  // The currencies that have rows already, with the latest closing.
  std::map<std::string, long long> before;
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT v.currency, v.closing_deferred_cents FROM revenue v WHERE "
                           "v.business_date = (SELECT MAX(w.business_date) FROM revenue w "
                           "WHERE w.currency = v.currency AND w.business_date < :d)",
       soci::use(day));
    for (const auto& r : rows) {
      before[as_str(r, 0)] = as_ll(r, 1);
    }
  }
  for (const auto& [currency, closing] : before) {
    if (!by_currency.contains(currency)) {
      by_currency[currency] = RevenueRow{ .business_date = day,
                                          .currency = currency,
                                          .opening_deferred_cents = closing,
                                          .closing_deferred_cents = closing };
    }
  }
  db.sql() << "DELETE FROM revenue WHERE business_date = :d", soci::use(day);
  MultiRowInsert revenue(db,
                         "INSERT INTO revenue (business_date, currency, opening_deferred_cents, "
                         "sold_cents, usage_cents, breakage_cents, revoked_cents, "
                         "closing_deferred_cents)");
  for (const auto& [currency, v] : by_currency) {
    // A currency seen for the first time starts on the date that made a lot
    // in it (a lot of 0 value too).
    const auto f = figures.find(currency);
    if (!before.contains(currency) && (f == figures.end() || f->second.lots_made == 0)) {
      continue;
    }
    revenue.row()
      .value(v.business_date)
      .value(v.currency)
      .value(v.opening_deferred_cents)
      .value(v.sold_cents)
      .value(v.usage_cents)
      .value(v.breakage_cents)
      .value(v.revoked_cents)
      .value(v.closing_deferred_cents);
  }
  revenue.flush();
}

} // namespace

void complete_day(Database& db, Date date, Instant now)
{
  // The date's figures, summed from what its chunks wrote in their own
  // transactions, and kept with it: the metrics add them up (status_store).
  const std::string day = format_date(date);
  const std::map<std::string, Figures> figures = read_chunk_figures(db, day);
  Figures all; // of every currency
  for (const auto& [currency, f] : figures) {
    for (const auto& [name, member] : k_figure_fields) {
      all.*member += f.*member;
    }
  }
  db.sql() << "UPDATE business_days SET status = 'complete', completed_us = :now_us, accounts = "
              ":accounts, usage_events = :usage_events, credits_used = :used, credits_expired = "
              ":expired, events_sms = :sms, events_mms = :mms, events_voice = :voice, "
              "events_ringless = :ringless WHERE business_date = :d",
    soci::use(now.us), soci::use(all.accounts), soci::use(all.usage_events),
    soci::use(all.credits_used), soci::use(all.credits_expired), soci::use(all.events_sms),
    soci::use(all.events_mms), soci::use(all.events_voice), soci::use(all.events_ringless),
    soci::use(day);
  // The chunk rows stay: shard workers that finish together may both
  // complete the date, and must both read the same figures.
  write_revenue(db, day, figures);
}

} // namespace billing
