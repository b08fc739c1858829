#include "storage/usage_store.hpp"

#include "domain/calendar.hpp"
#include "ingest/csv_reader.hpp"
#include "ingest/usage_line.hpp"
#include "storage/day_store.hpp"
#include "util/errors.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>

namespace billing {

namespace {

constexpr size_t k_batch_events = 5000;
// The reasons a later fact can cure: an account imported since, a rate card
// that lists the channel or status since. The others are facts of the line
// itself (and a line_too_long line is stored cut), so they are not retried.
// Event ids looked up by one statement (each bound).
constexpr size_t k_lookup_ids_max = 500;

constexpr const char* k_retryable_reasons = "'unknown_account', 'bad_status', 'bad_channel'";
constexpr size_t k_hash_block_bytes = 1 << 20;

std::vector<std::string> split_list(const std::string& text)
{
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

// For each account, the first business date not yet closed for it. An
// accepted event is charged by the run of max(its occurred date, that date),
// so its charge date is known at ingest and a run never updates events.
// Exact because every writer holds the run lock.
using OpenDates = std::unordered_map<long long, int>; // account_id -> Date::days

OpenDates load_open_dates(Database& db)
{
  const std::optional<Date> last = last_completed_date(db);
  const int after_last = last ? last->next().days : 0;
  OpenDates open;
  soci::rowset<soci::row> rows =
    db.sql().prepare << "SELECT a.account_id, a.first_date, s.state_date FROM accounts a "
                        "LEFT JOIN account_state s ON s.account_id = a.account_id";
  for (const auto& r : rows) {
    const auto state_date = as_opt_str(r, 2);
    const auto first = state_date ? parse_date(*state_date).value_or(Date{}).next()
                                  : parse_date(as_str(r, 1)).value_or(Date{});
    open.emplace(as_ll(r, 0), std::max(first.days, after_last));
  }
  return open;
}

struct Candidate
{
  UsageEvent event;
  long long line = 0;
  std::string raw;
  Date charge_date;
};

struct RejectedLine
{
  long long line = 0;
  std::string event_id;
  RejectReason reason = RejectReason::bad_column_count;
  std::string raw;
};

using LineOutcome = std::variant<Candidate, RejectedLine>;

// Writes events and rejects of one file (or of the retry), deciding
// duplicates against the database and the batch.
class EventWriter
{
public:
  EventWriter(Database& db, long long file_id, std::string file, Instant now)
    : m_db(db)
    , m_file_id(file_id)
    , m_file(std::move(file))
    , m_now(now)
    , m_events(db,
               db.insert_ignore()
                 + " INTO usage_events (charged_date, account_block, file_id, line, "
                   "account_id, event_id, channel, occurred_us, occurred_date, status, chars, "
                   "duration_s, platform_credits, units, credits, ingest_us)")
    , m_rejects(db,
                "INSERT INTO rejects (file_id, file, line, event_id, reason, raw_hex, "
                "ingest_date, status)")
  {
  }

  void apply(LineOutcome outcome)
  {
    if (auto* c = std::get_if<Candidate>(&outcome)) {
      add(std::move(*c));
    } else {
      const auto& r = std::get<RejectedLine>(outcome);
      reject(r.line, r.event_id, r.reason, r.raw);
    }
  }

  // Queues a parsed event; duplicates are resolved at flush.
  void add(Candidate c)
  {
    m_batch.push_back(std::move(c));
    if (m_batch.size() >= k_batch_events) {
      flush();
    }
  }

  void reject(long long line, std::string_view event_id, RejectReason reason, std::string_view raw)
  {
    ++rejected;
    last_reason = reason;
    if (!write_rejects) {
      return;
    }
    m_rejects.row()
      .value(m_file_id)
      .value(m_file)
      .value(line)
      .value(valid_utf8(event_id.substr(0, 200)))
      .value(to_string(reason))
      .value(to_hex(raw))
      .value(format_date(date_of(m_now)))
      .value("pending");
  }

  void flush()
  {
    if (!m_batch.empty()) {
      resolve_batch();
    }
    m_events.flush();
    m_rejects.flush();
  }

  // Called for each accepted or duplicate candidate (retry uses it).
  std::function<void(const Candidate&, bool accepted)> on_outcome;

  long long accepted = 0;
  long long duplicates = 0;
  long long rejected = 0;
  RejectReason last_reason = RejectReason::bad_column_count;
  // Off when retrying: the line's reject row exists already.
  bool write_rejects = true;

private:
  // Inserts the batch skipping event ids that exist; only when some were
  // skipped (rare: a re-sent file, a duplicate line) does it look the batch
  // up to tell duplicates from conflicts.
  void resolve_batch()
  {
    // A line repeating an event id of an earlier line of the batch (a
    // duplicate line, typically the next one) is not sent: it is settled
    // against that line, or against the stored row when the database
    // already had the id. In file order, so the first line wins.
    std::vector<Candidate> repeats;
    {
      std::unordered_set<std::string_view> ids;
      ids.reserve(m_batch.size());
      std::vector<Candidate> firsts;
      firsts.reserve(m_batch.size());
      for (Candidate& c : m_batch) {
        if (ids.contains(c.event.event_id)) {
          repeats.push_back(std::move(c));
        } else {
          // The view is of the copy in `firsts`, which never reallocates.
          firsts.push_back(std::move(c));
          ids.insert(firsts.back().event.event_id);
        }
      }
      m_batch = std::move(firsts);
    }
    const size_t first_row = m_events.rows_written();
    const size_t unchanged_before = m_events.unchanged_rows().size();
    // In the table's key order (charge date, account block, file, line): each
    // block's rows are appended at its end.
    std::stable_sort(m_batch.begin(), m_batch.end(), [](const Candidate& a, const Candidate& b) {
      return std::tuple(a.charge_date, account_block(a.event.account_id))
             < std::tuple(b.charge_date, account_block(b.event.account_id));
    });
    for (const Candidate& c : m_batch) {
      const UsageEvent& e = c.event;
      m_events.row()
        .value(date_text(c.charge_date))
        .value(account_block(e.account_id))
        .value(m_file_id)
        .value(c.line)
        .value(e.account_id)
        .value(e.event_id)
        .value(to_string(e.channel))
        .value(e.occurred_at.us)
        .value(date_text(date_of(e.occurred_at)))
        .value(e.status)
        .value(e.chars)
        .value(e.duration_s)
        .value(e.platform_credits)
        .value(e.units)
        .value(e.credits.n)
        .value(m_now.us);
    }
    const long long affected_before = m_events.rows_affected();
    m_events.flush();
    // Which rows need a look-up: on SQLite exactly those it skipped; MySQL
    // only says how many it skipped, so when it skipped any the whole batch
    // is looked up.
    const bool skipped_unknown =
      !m_db.dialect().reports_skipped_rows()
      && m_events.rows_affected() - affected_before != static_cast<long long>(m_batch.size());
    std::vector<bool> look_up(m_batch.size(), skipped_unknown);
    const auto& unchanged = m_events.unchanged_rows();
    for (size_t i = unchanged_before; i < unchanged.size(); ++i) {
      look_up[unchanged[i] - first_row] = true;
    }
    std::unordered_map<std::string_view, size_t> position;
    if (!repeats.empty()) {
      for (size_t i = 0; i < m_batch.size(); ++i) {
        position.emplace(m_batch[i].event.event_id, i);
      }
    }

    struct Stored
    {
      UsageEvent event;
      long long file_id = 0;
      long long line = 0;
    };
    std::unordered_map<std::string, Stored> stored;
    std::vector<std::string> ids;
    for (size_t i = 0; i < m_batch.size(); ++i) {
      if (look_up[i]) {
        ids.push_back(m_batch[i].event.event_id);
      }
    }
    for (size_t from = 0; from < ids.size(); from += k_lookup_ids_max) {
      const size_t n = std::min(k_lookup_ids_max, ids.size() - from);
      soci::details::prepare_temp_type prepared =
        (m_db.sql().prepare << "SELECT event_id, account_id, channel, occurred_us, status, chars, "
                               "duration_s, platform_credits, file_id, line FROM usage_events "
                               "WHERE event_id IN ("
                                 + placeholders(m_db, n) + ")");
      for (size_t i = from; i < from + n; ++i) {
        prepared, soci::use(ids[i]);
      }
      soci::rowset<soci::row> rows(prepared);
      for (const auto& r : rows) {
        Stored s;
        s.event.event_id = as_str(r, 0);
        s.event.account_id = as_ll(r, 1);
        s.event.channel = parse_channel(as_str(r, 2)).value_or(Channel::sms);
        s.event.occurred_at = Instant{ as_ll(r, 3) };
        s.event.status = as_str(r, 4);
        s.event.chars = as_opt_ll(r, 5);
        s.event.duration_s = as_opt_ll(r, 6);
        s.event.platform_credits = as_opt_ll(r, 7);
        s.file_id = as_ll(r, 8);
        s.line = as_ll(r, 9);
        stored.emplace(s.event.event_id, std::move(s));
      }
    }
    // `against`: the facts a line is settled against, when it is not the
    // stored line itself.
    const auto settle = [&](const Candidate& c, const Stored* against) {
      if (!against) {
        ++accepted;
        if (on_outcome) {
          on_outcome(c, true);
        }
      } else if (same_facts(against->event, c.event)) {
        ++duplicates;
        if (on_outcome) {
          on_outcome(c, false);
        }
      } else {
        reject(c.line, c.event.event_id, RejectReason::conflicting_duplicate, c.raw);
      }
    };
    const Stored missing; // an id the look-up did not find: its facts match nothing
    const auto stored_against = [&](const Candidate& c) -> const Stored* {
      const auto it = stored.find(c.event.event_id);
      if (it == stored.end()) {
        return &missing;
      }
      const bool itself = it->second.file_id == m_file_id && it->second.line == c.line;
      return itself ? nullptr : &it->second;
    };
    for (size_t i = 0; i < m_batch.size(); ++i) {
      settle(m_batch[i], look_up[i] ? stored_against(m_batch[i]) : nullptr);
    }
    for (const Candidate& r : repeats) {
      const size_t first = position.at(r.event.event_id);
      if (look_up[first]) {
        settle(r, stored_against(r));
      } else {
        // The first line went in: the stored facts are its facts.
        const Stored first_stored{ m_batch[first].event, m_file_id, m_batch[first].line };
        settle(r, &first_stored);
      }
    }
    m_batch.clear();
  }

  // A file's events fall on a handful of dates: each is formatted once.
  const std::string& date_text(Date d)
  {
    auto it = m_date_texts.find(d.days);
    if (it == m_date_texts.end()) {
      it = m_date_texts.emplace(d.days, format_date(d)).first;
    }
    return it->second;
  }

  Database& m_db;
  std::unordered_map<int, std::string> m_date_texts;
  long long m_file_id;
  std::string m_file;
  Instant m_now;
  MultiRowInsert m_events;
  MultiRowInsert m_rejects;
  std::vector<Candidate> m_batch;
};

// Parses and classifies one record: an event to store (or a duplicate, found
// at flush), or a rejected line. Touches no database, so the parsing of one
// batch runs while the previous one is written.
LineOutcome handle_record(const UsageHeader& header,
                          const CsvRecord& record,
                          const RateCard& card,
                          const OpenDates& accounts)
{
  auto parsed = parse_usage_record(header, record, card);
  if (const auto* reason = std::get_if<RejectReason>(&parsed)) {
    return RejectedLine{
      record.line, std::string(header.event_id_of(record)), *reason, record.raw
    };
  }
  auto& event = std::get<UsageEvent>(parsed);
  const auto open = accounts.find(event.account_id);
  if (open == accounts.end()) {
    return RejectedLine{ record.line, event.event_id, RejectReason::unknown_account, record.raw };
  }
  const Date charge_date{ std::max(date_of(event.occurred_at).days, open->second) };
  return Candidate{ std::move(event), record.line, record.raw, charge_date };
}

} // namespace

RateCard load_rate_card(Database& db)
{
  std::vector<RateRule> rules;
  soci::rowset<soci::row> rows = db.sql().prepare
                                 << "SELECT channel, effective_from, basis, unit_size, min_units, "
                                    "credits_per_unit, charged_statuses, free_statuses FROM "
                                    "rate_card";
  for (const auto& r : rows) {
    RateRule rule;
    const auto channel = parse_channel(as_str(r, 0));
    const auto from = parse_date(as_str(r, 1));
    const auto basis = parse_unit_basis(as_str(r, 2));
    if (!channel || !from || !basis) {
      throw std::runtime_error("the stored rate card has a malformed rule");
    }
    rule.channel = *channel;
    rule.effective_from = *from;
    rule.basis = *basis;
    rule.unit_size = as_ll(r, 3);
    rule.min_units = as_ll(r, 4);
    rule.credits_per_unit = as_ll(r, 5);
    rule.charged_statuses = split_list(as_str(r, 6));
    rule.free_statuses = split_list(as_str(r, 7));
    rules.push_back(std::move(rule));
  }
  return RateCard(std::move(rules));
}

void store_rate_rule(Database& db, const RateRule& rule)
{
  const std::string channel(to_string(rule.channel));
  const std::string effective_from = format_date(rule.effective_from);
  const std::string basis(to_string(rule.basis));
  const std::string charged = joined(rule.charged_statuses, ",");
  const std::string free = joined(rule.free_statuses, ",");
  db.sql() << "INSERT INTO rate_card (channel, effective_from, basis, unit_size, min_units, "
              "credits_per_unit, charged_statuses, free_statuses) VALUES (:channel, :from, "
              ":basis, :unit_size, :min_units, :credits_per_unit, :charged, :free)",
    soci::use(channel), soci::use(effective_from), soci::use(basis), soci::use(rule.unit_size),
    soci::use(rule.min_units), soci::use(rule.credits_per_unit), soci::use(charged),
    soci::use(free);
}

IngestReport ingest_usage_file(Database& db,
                               const std::string& path,
                               Instant now,
                               const std::function<void(long long, long long)>& progress)
{
  IngestReport report;
  report.path = path;
  struct stat st
  {};
  if (::stat(path.c_str(), &st) != 0) {
    throw InputError("cannot read usage log " + path + ": no such file");
  }
  if (!S_ISREG(st.st_mode)) {
    throw InputError("cannot read usage log " + path + ": not a regular file");
  }
  // Pass 1: the content hash.
  std::string sha;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      throw InputError("cannot read usage log " + path);
    }
    Sha256 hash;
    std::vector<char> block(k_hash_block_bytes);
    while (in) {
      in.read(block.data(), static_cast<std::streamsize>(block.size()));
      hash.update(block.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) {
      throw InputError("cannot read usage log " + path + ": read error");
    }
    sha = hash.hex_digest();
  }
  Transaction tx(db);
  {
    soci::rowset<soci::row> rows =
      (db.sql().prepare << "SELECT path, ingested_us FROM usage_files WHERE content_sha256 = :sha",
       soci::use(sha));
    for (const auto& r : rows) {
      report.skipped = true;
      report.skipped_reason = "already ingested (same content as " + as_str(r, 0) + " at "
                              + format_instant(Instant{ as_ll(r, 1) / 1'000'000 * 1'000'000 })
                              + ")";
      return report;
    }
  }
  const std::string stored_path = valid_utf8(path);
  report.changed_since =
    query_ll(db, "SELECT COUNT(*) FROM usage_files WHERE path = :path", stored_path) > 0;

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError("cannot read usage log " + path);
  }
  CsvReader reader(in);
  CsvRecord record;
  if (!reader.next(record)) {
    throw InputError(path + ": empty file: a usage log needs a header row");
  }
  auto header_or = UsageHeader::from_record(record);
  if (const auto* message = std::get_if<std::string>(&header_or)) {
    throw InputError(path + ":" + std::to_string(record.line) + ": not a usage log: " + *message);
  }
  const UsageHeader header = std::get<UsageHeader>(header_or);
  {
    const long long bytes = st.st_size;
    const std::string ingest_date = format_date(date_of(now));
    const std::string header_hex = to_hex(record.raw);
    db.sql() << "INSERT INTO usage_files (path, content_sha256, bytes, ingested_us, ingest_date, "
                "header_hex, line_count, accepted, duplicates, rejected) VALUES (:path, :sha, "
                ":bytes, :now_us, :ingest_date, :header_hex, 0, 0, 0, 0)",
      soci::use(stored_path), soci::use(sha), soci::use(bytes), soci::use(now.us),
      soci::use(ingest_date), soci::use(header_hex);
  }
  const long long file_id =
    query_ll(db, "SELECT file_id FROM usage_files WHERE content_sha256 = :sha", sha);

  const RateCard card = load_rate_card(db);
  const auto accounts = load_open_dates(db);
  EventWriter writer(db, file_id, valid_utf8(path), now);
  // Two batches in flight at most: this thread parses one while another
  // writes the one before (in file order, on the one connection).
  std::vector<LineOutcome> batch;
  std::future<void> writing;
  const auto hand_over = [&] {
    if (writing.valid()) {
      writing.get();
    }
    writing = std::async(std::launch::async, [&writer, lines = std::move(batch)]() mutable {
      for (LineOutcome& line : lines) {
        writer.apply(std::move(line));
      }
    });
    batch = {};
    batch.reserve(k_batch_events);
  };
  batch.reserve(k_batch_events);
  long long bytes_seen = 0;
  while (reader.next(record)) {
    ++report.lines;
    bytes_seen += static_cast<long long>(record.raw.size()) + 1;
    batch.push_back(handle_record(header, record, card, accounts));
    if (batch.size() >= k_batch_events) {
      hand_over();
    }
    if (progress && report.lines % 65536 == 0) {
      progress(bytes_seen, st.st_size);
    }
  }
  hand_over();
  writing.get();
  writer.flush();
  report.blank_lines = reader.blank_lines();
  report.accepted = writer.accepted;
  report.duplicates = writer.duplicates;
  report.rejected = writer.rejected;
  db.sql() << "UPDATE usage_files SET line_count = :lines, accepted = :accepted, duplicates = "
              ":duplicates, rejected = :rejected WHERE file_id = :file_id",
    soci::use(report.lines), soci::use(report.accepted), soci::use(report.duplicates),
    soci::use(report.rejected), soci::use(file_id);
  tx.commit();
  if (progress) {
    progress(st.st_size, st.st_size);
  }
  return report;
}

RetryReport retry_rejects(Database& db, Instant now)
{
  RetryReport report;
  Transaction tx(db);
  struct Pending
  {
    long long reject_id;
    long long file_id;
    std::string file;
    long long line;
    std::string raw;
    std::string header_raw;
  };
  std::vector<Pending> pending;
  {
    soci::rowset<soci::row> rows =
      db.sql().prepare << "SELECT r.reject_id, r.file_id, r.file, r.line, r.raw_hex, "
                          "f.header_hex FROM rejects r JOIN usage_files f ON f.file_id = "
                          "r.file_id WHERE r.status = 'pending' AND r.reason IN ("
                            + std::string(k_retryable_reasons) + ") ORDER BY r.reject_id";
    for (const auto& r : rows) {
      pending.push_back({ as_ll(r, 0),
                          as_ll(r, 1),
                          as_str(r, 2),
                          as_ll(r, 3),
                          from_hex(as_str(r, 4)),
                          from_hex(as_str(r, 5)) });
    }
  }
  if (pending.empty()) {
    return report;
  }
  const RateCard card = load_rate_card(db);
  const auto accounts = load_open_dates(db);
  std::vector<long long> resolved;
  for (const Pending& p : pending) {
    ++report.retried;
    CsvRecord header_record;
    header_record.raw = p.header_raw;
    split_csv_record(header_record.raw, header_record.fields);
    auto header_or = UsageHeader::from_record(header_record);
    if (!std::holds_alternative<UsageHeader>(header_or)) {
      ++report.still_rejected;
      continue;
    }
    CsvRecord record;
    record.line = p.line;
    record.raw = p.raw;
    record.error = split_csv_record(record.raw, record.fields);
    EventWriter writer(db, p.file_id, p.file, now);
    writer.write_rejects = false;
    writer.apply(handle_record(std::get<UsageHeader>(header_or), record, card, accounts));
    writer.flush();
    if (writer.rejected == 0) {
      resolved.push_back(p.reject_id);
      report.accepted += writer.accepted;
      report.duplicates += writer.duplicates;
    } else {
      ++report.still_rejected;
      const std::string reason(to_string(writer.last_reason));
      db.sql() << "UPDATE rejects SET reason = :reason WHERE reject_id = :id", soci::use(reason),
        soci::use(p.reject_id);
    }
  }
  for (long long id : resolved) {
    db.sql() << "UPDATE rejects SET status = 'resolved', resolved_us = :now_us WHERE reject_id = "
                ":id",
      soci::use(now.us), soci::use(id);
  }
  tx.commit();
  return report;
}

} // namespace billing
