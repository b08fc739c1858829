#include "storage/rate_import.hpp"

#include "domain/calendar.hpp"
#include "domain/rating.hpp"
#include "ingest/csv_reader.hpp"
#include "ingest/import_rows.hpp"
#include "storage/books_dates.hpp"
#include "storage/day_store.hpp"
#include "storage/imports.hpp"
#include "storage/rows.hpp"
#include "storage/usage_store.hpp"
#include "util/errors.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace billing {

namespace {

std::vector<std::string> sorted(std::vector<std::string> list)
{
  std::sort(list.begin(), list.end());
  return list;
}

// The first column in which `row` differs from `stored` (same channel and
// effective_from), as the detail of a conflicting_content; nullopt: equal.
std::optional<std::string> first_difference(const RateRule& stored, const RateRule& row)
{
  const auto differs = [](std::string_view column, const std::string& was, const std::string& is) {
    return "conflicts with the stored rate card row: " + std::string(column) + " is " + was
           + ", the file says " + is;
  };
  if (stored.unit_size != row.unit_size) {
    return differs("unit_size", std::to_string(stored.unit_size), std::to_string(row.unit_size));
  }
  if (stored.min_units != row.min_units) {
    return differs("min_units", std::to_string(stored.min_units), std::to_string(row.min_units));
  }
  if (stored.credits_per_unit != row.credits_per_unit) {
    return differs("credits_per_unit",
                   std::to_string(stored.credits_per_unit),
                   std::to_string(row.credits_per_unit));
  }
  if (sorted(stored.charged_statuses) != sorted(row.charged_statuses)) {
    return differs("charged_statuses",
                   "'" + joined(stored.charged_statuses, ";") + "'",
                   "'" + joined(row.charged_statuses, ";") + "'");
  }
  if (sorted(stored.free_statuses) != sorted(row.free_statuses)) {
    return differs("free_statuses",
                   "'" + joined(stored.free_statuses, ";") + "'",
                   "'" + joined(row.free_statuses, ";") + "'");
  }
  return std::nullopt;
}

// The next key value after `after` of a column of usage_events, by an index
// seek along its key (ORDER BY and LIMIT: both databases walk the key and
// stop); nullopt past the last. `query` binds :after.
std::optional<std::string> next_text(Database& db, const char* query, const std::string& after)
{
  soci::rowset<soci::row> rows = (db.sql().prepare << query, soci::use(after));
  for (const auto& r : rows) {
    return as_str(r, 0);
  }
  return std::nullopt;
}

std::optional<long long> next_block(Database& db, const std::string& day, long long after)
{
  soci::rowset<soci::row> rows =
    (db.sql().prepare << "SELECT account_block FROM usage_events WHERE charged_date = :day AND "
                         "account_block > :after ORDER BY account_block LIMIT 1",
     soci::use(day),
     soci::use(after));
  for (const auto& r : rows) {
    return as_ll(r, 0);
  }
  return std::nullopt;
}

// Rates again the events of open dates (charged after `latest`) of each
// channel from the earliest new row's effective_from on, with `card`, and
// writes the units and credits that changed. Reads one charge date and
// account block at a time (the run's unit; MySQL's client holds a whole
// result). Returns how many events changed.
long long rerate_open_events(Database& db,
                             const RateCard& card,
                             const std::map<Channel, Date>& from_by_channel,
                             const std::optional<Date>& latest)
{
  struct Change
  {
    std::string event_id;
    long long units = 0;
    long long credits = 0;
  };
  Change bound;
  soci::statement update(db.sql());
  update.exchange(soci::use(bound.units, "units"));
  update.exchange(soci::use(bound.credits, "credits"));
  update.exchange(soci::use(bound.event_id, "event_id"));
  update.alloc();
  update.prepare(
    "UPDATE usage_events SET units = :units, credits = :credits WHERE event_id = :event_id");
  update.define_and_bind();

  long long changed = 0;
  std::vector<Change> changes;
  // Every date text is after "" (dates are YYYY-MM-DD): no closed date, all events.
  std::optional<std::string> day = latest ? format_date(*latest) : std::string();
  while ((day = next_text(db,
                          "SELECT charged_date FROM usage_events WHERE charged_date > :after "
                          "ORDER BY charged_date LIMIT 1",
                          *day))) {
    for (std::optional<long long> block = next_block(db, *day, -1); block;
         block = next_block(db, *day, *block)) {
      changes.clear();
      soci::rowset<soci::row> rows =
        (db.sql().prepare << "SELECT event_id, channel, occurred_date, status, chars, duration_s, "
                             "units, credits FROM usage_events WHERE charged_date = :day AND "
                             "account_block = :block",
         soci::use(*day),
         soci::use(*block));
      for (const auto& r : rows) {
        const std::optional<Channel> channel = parse_channel(as_str(r, 1));
        const auto from = channel ? from_by_channel.find(*channel) : from_by_channel.end();
        const std::string occurred_text = as_str(r, 2);
        const std::optional<Date> occurred = parse_date(occurred_text);
        if (from == from_by_channel.end() || !occurred || *occurred < from->second) {
          continue;
        }
        const std::string event_id = as_str(r, 0);
        const std::string status = as_str(r, 3);
        const RateRule* rule = card.rule_for(*channel, *occurred);
        if (!rule || !rule->lists(status)) {
          // drops_status keeps every accepted status listed: a broken invariant.
          throw std::logic_error("re-rating event " + event_id
                                 + ": no rate card row lists its status '" + status + "'");
        }
        long long quantity = 0;
        if (rule->basis == UnitBasis::characters) {
          quantity = as_opt_ll(r, 4).value_or(0);
        } else if (rule->basis == UnitBasis::seconds) {
          quantity = as_opt_ll(r, 5).value_or(0);
        }
        const Rating rating = rate(*rule, status, quantity);
        if (rating.units != as_ll(r, 6) || rating.credits.n != as_ll(r, 7)) {
          changes.push_back({ event_id, rating.units, rating.credits.n });
        }
      }
      for (const Change& c : changes) {
        bound = c;
        update.execute(true);
      }
      changed += static_cast<long long>(changes.size());
    }
  }
  return changed;
}

} // namespace

ImportReport import_rates(Database& db, const std::string& path, Instant /*now*/)
{
  struct Parsed
  {
    long long line;
    ImportResult<RateRule> row;
  };
  std::vector<Parsed> parsed;
  read_import_file(path, k_rate_format, [&](const ImportHeader& header, const CsvRecord& record) {
    parsed.push_back({ record.line, parse_rate_row(header, record) });
  });

  ImportReport report;
  report.rows = static_cast<long long>(parsed.size());
  Transaction tx(db);
  std::vector<RateRule> rules = load_rate_card(db).rules();
  const std::optional<Date> latest = latest_date_with_books(db);
  std::map<Channel, Date> from_by_channel;
  for (const Parsed& p : parsed) {
    if (const auto* bad = std::get_if<ImportRejection>(&p.row)) {
      report.rejected.push_back(make_row_reject(p.line, *bad));
      continue;
    }
    const RateRule& row = std::get<RateRule>(p.row);
    const auto same_key = std::find_if(rules.begin(), rules.end(), [&](const RateRule& r) {
      return r.channel == row.channel && r.effective_from == row.effective_from;
    });
    if (same_key != rules.end()) {
      if (const auto conflict = first_difference(*same_key, row)) {
        report.rejected.push_back(
          make_row_reject(p.line, { ImportReason::conflicting_content, *conflict }));
      } else {
        ++report.unchanged;
      }
      continue;
    }
    if (latest && row.effective_from <= *latest) {
      report.rejected.push_back(
        make_row_reject(p.line,
                        { ImportReason::effective_in_closed_date,
                          "effective_from " + format_date(row.effective_from)
                            + " is not after the last closed date " + format_date(*latest) }));
      continue;
    }
    const RateCard card(rules);
    if (const RateRule* before = card.rule_for(row.channel, row.effective_from.prev())) {
      std::vector<std::string> dropped;
      for (const auto* list : { &before->charged_statuses, &before->free_statuses }) {
        for (const std::string& status : *list) {
          if (!row.lists(status)) {
            dropped.push_back(status);
          }
        }
      }
      if (!dropped.empty()) {
        report.rejected.push_back(make_row_reject(
          p.line,
          { ImportReason::drops_status,
            "'" + joined(dropped, ";") + "' of the " + std::string(to_string(row.channel))
              + " row from " + format_date(before->effective_from) + " is not listed" }));
        continue;
      }
    }
    store_rate_rule(db, row);
    rules.push_back(row);
    const auto [it, fresh] = from_by_channel.emplace(row.channel, row.effective_from);
    if (!fresh) {
      it->second = std::min(it->second, row.effective_from);
    }
    ++report.inserted;
  }
  if (!from_by_channel.empty()) {
    report.rerated = rerate_open_events(db, RateCard(rules), from_by_channel, latest);
  }
  tx.commit();
  return report;
}

} // namespace billing
