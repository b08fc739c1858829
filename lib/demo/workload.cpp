#include "demo/workload.hpp"

#include "domain/calendar.hpp"
#include "domain/limits.hpp"
#include "domain/rating.hpp"
#include "util/assert.hpp"
#include "util/random.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <tuple>

namespace billing {

namespace {

constexpr std::array<std::string_view, k_bad_line_kind_count> k_bad_kind_names = {
  "unknown_account",  "bad_channel",           "bad_status",      "bad_timestamp",
  "bad_number",       "out_of_range",          "missing_field",   "bad_event_id",
  "bad_column_count", "conflicting_duplicate", "exact_duplicate",
};

constexpr std::string_view k_usage_header =
  "occurred_at,event_id,account_id,channel,status,chars,duration_s,platform_credits,campaign\n";
constexpr std::size_t k_usage_columns = 9;
constexpr long long k_anchor_window_days = 60;
// Keeps line x k_us_per_day (the time slot of a line) within 64 bits.
constexpr long long k_events_per_day_max = 100'000'000;
constexpr Date k_first_date_min{ 60 }; // 1970-03-02: anchors stay on or after 1970-01-01

// Account ids are 1000 + 7 * (index + 1), non-contiguous and 6 (mod 7);
// unknown_account lines take ids that are 2 (mod 7), so never an account's.
long long account_id_of(long long index)
{
  return 1000 + 7 * (index + 1);
}
long long unknown_account_id(long long k)
{
  return 1003 + 7 * k;
}

struct PlanRow
{
  std::string_view plan_id;
  std::string_view name_csv; // already CSV-quoted where it needs to be
  std::string_view cycle;
  long long included_credits;
  long long price_cents;
  long long credit_price_cents_per_1000;
  std::string_view rollover_cap; // empty: no cap
  unsigned weight;               // share of accounts on the plan, in percent
};

constexpr std::array<PlanRow, 5> k_plans = { {
  { "starter", "Starter", "monthly", 500, 1900, 2500, "250", 30 },
  { "growth", "Growth", "monthly", 1000, 4900, 2000, "", 30 },
  { "pro", "\"Pro, \"\"Priority\"\" support\"", "monthly", 5000, 19900, 1500, "2000", 15 },
  { "annual", "Annual", "annual", 12000, 49900, 1200, "", 10 },
  { "payg", "Pay as you go", "monthly", 0, 0, 3000, "", 15 },
} };
constexpr std::size_t k_plan_starter = 0;
constexpr std::size_t k_plan_growth = 1;
constexpr std::size_t k_plan_payg = 4;

// Stream 0 is the import files, stream 1 + d usage day d.
std::uint64_t stream_seed(unsigned long long seed, std::uint64_t stream)
{
  return splitmix64(seed ^ splitmix64(stream));
}

[[noreturn]] void throw_write_error(const std::string& path, int error)
{
  throw std::runtime_error("cannot write " + path + ": " + std::strerror(error));
}

// A file written through one fixed buffer into a hidden temporary beside its
// target and renamed over it by commit(); dropped without commit() (an
// exception), the temporary is removed.
class BlockFile
{
public:
  static constexpr std::size_t k_capacity = 1 << 20;
  static constexpr std::size_t k_line_bytes_max = 1024; // room() never asks for more

  explicit BlockFile(std::string path)
    : m_path(std::move(path))
    , m_buf(new char[k_capacity])
  {
    const std::filesystem::path target(m_path);
    m_tmp_path = (target.parent_path() / ("." + target.filename().string() + ".tmp")).string();
    m_file = std::fopen(m_tmp_path.c_str(), "wb");
    if (m_file == nullptr) {
      throw_write_error(m_path, errno);
    }
  }
  BlockFile(const BlockFile&) = delete;
  BlockFile& operator=(const BlockFile&) = delete;
  ~BlockFile()
  {
    if (m_file != nullptr) {
      std::fclose(m_file);
      std::remove(m_tmp_path.c_str());
    }
  }

  // A pointer to at least k_line_bytes_max free bytes; hand the end of what was
  // written to done().
  char* room()
  {
    if (m_size + k_line_bytes_max > k_capacity) {
      flush();
    }
    return m_buf.get() + m_size;
  }
  void done(char* end) { m_size = static_cast<std::size_t>(end - m_buf.get()); }

  void append(std::string_view text)
  {
    while (!text.empty()) {
      if (m_size == k_capacity) {
        flush();
      }
      const std::size_t n = std::min(text.size(), k_capacity - m_size);
      std::memcpy(m_buf.get() + m_size, text.data(), n);
      m_size += n;
      text.remove_prefix(n);
    }
  }

  // Writes what is buffered, closes and renames the file into place.
  void commit()
  {
    flush();
    std::FILE* file = m_file;
    m_file = nullptr;
    if (std::fclose(file) != 0) {
      const int error = errno;
      std::remove(m_tmp_path.c_str());
      throw_write_error(m_path, error);
    }
    if (std::rename(m_tmp_path.c_str(), m_path.c_str()) != 0) {
      const int error = errno;
      std::remove(m_tmp_path.c_str());
      throw_write_error(m_path, error);
    }
  }

private:
  void flush()
  {
    if (m_size > 0 && std::fwrite(m_buf.get(), 1, m_size, m_file) != m_size) {
      throw_write_error(m_path, errno);
    }
    m_size = 0;
  }

  std::string m_path;
  std::string m_tmp_path;
  std::unique_ptr<char[]> m_buf;
  std::size_t m_size = 0;
  std::FILE* m_file = nullptr;
};

char* put(char* p, std::string_view text)
{
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

char* put(char* p, long long value)
{
  return std::to_chars(p, p + 24, value).ptr;
}

char* put_2_digits(char* p, long long value)
{
  p[0] = static_cast<char>('0' + value / 10);
  p[1] = static_cast<char>('0' + value % 10);
  return p + 2;
}

// "HH:MM:SS[.ffffff]Z" after a "YYYY-MM-DDT" prefix.
char* put_instant(char* p, std::string_view date_prefix, long long us_of_day, bool fractional)
{
  p = put(p, date_prefix);
  const long long seconds = us_of_day / k_us_per_second;
  p = put_2_digits(p, seconds / 3600);
  *p++ = ':';
  p = put_2_digits(p, seconds / 60 % 60);
  *p++ = ':';
  p = put_2_digits(p, seconds % 60);
  if (fractional) {
    long long micros = us_of_day % k_us_per_second;
    *p++ = '.';
    for (int i = 5; i >= 0; --i) {
      p[i] = static_cast<char>('0' + micros % 10);
      micros /= 10;
    }
    p += 6;
  }
  *p++ = 'Z';
  return p;
}

std::string compact_date(Date d)
{
  std::string text = format_date(d);
  std::erase(text, '-');
  return text;
}

// One usage day's fixed texts.
struct DayContext
{
  Date day;
  std::string id_prefix;   // "e20260301-"
  std::string day_prefix;  // "2026-03-01T"
  std::string prev_prefix; // "2026-02-28T"
};

struct Event
{
  long long line = 0; // 1-based data line; the event_id is id_prefix + line
  bool late = false;  // occurred the day before the file's day
  long long us_of_day = 0;
  bool fractional = false;
  long long account_id = 0;
  Channel channel = Channel::sms;
  std::string_view status;
  long long quantity = 0;          // chars (sms, mms) or duration_s (voice)
  long long platform_credits = -1; // -1: empty cell
  std::string_view campaign_csv;   // already CSV-quoted
};

bool has_chars(Channel c)
{
  return c == Channel::sms || c == Channel::mms;
}

// A valid line: the fast path every good line takes.
char* put_event(char* p, const Event& e, const DayContext& ctx)
{
  p = put_instant(p, e.late ? ctx.prev_prefix : ctx.day_prefix, e.us_of_day, e.fractional);
  *p++ = ',';
  p = put(p, ctx.id_prefix);
  p = put(p, e.line);
  *p++ = ',';
  p = put(p, e.account_id);
  *p++ = ',';
  p = put(p, to_string(e.channel));
  *p++ = ',';
  p = put(p, e.status);
  *p++ = ',';
  if (has_chars(e.channel)) {
    p = put(p, e.quantity);
  }
  *p++ = ',';
  if (e.channel == Channel::voice) {
    p = put(p, e.quantity);
  }
  *p++ = ',';
  if (e.platform_credits >= 0) {
    p = put(p, e.platform_credits);
  }
  *p++ = ',';
  p = put(p, e.campaign_csv);
  *p++ = '\n';
  return p;
}

// The cells of an event as text, in k_usage_header's order, for corrupting one.
std::vector<std::string> cells_of(const Event& e, const DayContext& ctx)
{
  char buf[64];
  const auto text = [&buf](char* end) { return std::string(buf, end); };
  std::vector<std::string> cells(k_usage_columns);
  cells[0] =
    text(put_instant(buf, e.late ? ctx.prev_prefix : ctx.day_prefix, e.us_of_day, e.fractional));
  cells[1] = ctx.id_prefix + std::to_string(e.line);
  cells[2] = std::to_string(e.account_id);
  cells[3] = to_string(e.channel);
  cells[4] = e.status;
  if (has_chars(e.channel)) {
    cells[5] = std::to_string(e.quantity);
  }
  if (e.channel == Channel::voice) {
    cells[6] = std::to_string(e.quantity);
  }
  if (e.platform_credits >= 0) {
    cells[7] = std::to_string(e.platform_credits);
  }
  cells[8] = e.campaign_csv;
  return cells;
}

// Credits of a good event of the file of `day`, as ingest rates it: by the
// rule in force on the date it occurred (every good line's status is listed:
// a later rule lists every status of the one before, SPEC 18).
long long rated_credits(const RateCard& card, Date day, const Event& e)
{
  const RateRule* rule = card.rule_for(e.channel, e.late ? day.prev() : day);
  BILLING_REQUIRE(rule != nullptr);
  return rate(*rule, e.status, e.quantity).credits.n;
}

class UsageDay
{
public:
  UsageDay(const WorkloadSpec& spec, long long day_index, const RateCard& card)
    : m_spec(spec)
    , m_card(card)
    , m_rng(stream_seed(spec.seed, 1 + static_cast<std::uint64_t>(day_index)))
    , m_late_threshold(day_index > 0 ? threshold_of(spec.late_share) : 0)
    , m_slot_us(spec.events_per_day > 0 ? k_us_per_day / spec.events_per_day : 0)
    , m_whales(std::max(1LL, spec.accounts / 500))
    , m_heavy(std::max(1LL, spec.accounts / 50))
  {
    const Date day{ spec.first_date.days + static_cast<int>(day_index) };
    m_ctx.day = day;
    m_ctx.id_prefix = "e" + compact_date(day) + "-";
    m_ctx.day_prefix = format_date(day) + "T";
    m_ctx.prev_prefix = format_date(day.prev()) + "T";
  }

  // Writes the whole file into `out` (header included) and adds to the counts.
  void write(BlockFile& out, WorkloadFiles& counts)
  {
    out.append(k_usage_header);
    const long long n = m_spec.events_per_day;
    const long long bad = bad_lines_per_day(m_spec);
    long long next_bad = 0; // index of the next bad line among the day's bad lines
    long long next_bad_line = bad > 0 ? bad_position(0, n, bad) : -1;
    std::optional<Event> last_good;
    for (long long line = 0; line < n; ++line) {
      if (line == next_bad_line) {
        const auto kind = static_cast<BadLineKind>(next_bad % k_bad_line_kind_count);
        write_bad(out, kind, line + 1, last_good);
        ++counts.bad_by_kind[static_cast<std::size_t>(kind)];
        ++counts.bad_lines;
        ++next_bad;
        next_bad_line = next_bad < bad ? bad_position(next_bad, n, bad) : -1;
        continue;
      }
      last_good = draw_event(line + 1, std::nullopt);
      counts.late_lines += last_good->late ? 1 : 0;
      out.done(put_event(out.room(), *last_good, m_ctx));
    }
    counts.usage_lines += n;
  }

private:
  // Bad line j sits at a random place of slot j of `bad` equal slots, so bad
  // lines are spread over the day. With bad <= n / 2 every slot holds at least
  // two lines, so slot 0 holds a good line before any duplicate (kind >= 9).
  long long bad_position(long long j, long long n, long long bad)
  {
    const long long begin = j * n / bad;
    const long long end = (j + 1) * n / bad;
    return begin + static_cast<long long>(m_rng.below(static_cast<std::uint64_t>(end - begin)));
  }

  long long draw_account_id()
  {
    const std::uint64_t tier = m_rng.below(100);
    // 10% of events on ~0.2% of accounts, 20% on ~2%: heavy users run out.
    const long long pool = tier < 10 ? m_whales : tier < 30 ? m_heavy : m_spec.accounts;
    return account_id_of(static_cast<long long>(m_rng.below(static_cast<std::uint64_t>(pool))));
  }

  Event draw_event(long long line, std::optional<Channel> forced, bool may_be_late = true)
  {
    Event e;
    e.line = line;
    if (may_be_late && m_rng.chance(m_late_threshold)) {
      e.late = true;
      e.us_of_day = static_cast<long long>(m_rng.below(k_us_per_day));
    } else {
      // Line i lies in [i, i + 1) x day / n: uniform, and the file is in time order.
      e.us_of_day = (line - 1) * k_us_per_day / m_spec.events_per_day
                    + static_cast<long long>(m_rng.below(static_cast<std::uint64_t>(m_slot_us)));
    }
    e.fractional = m_rng.below(4) == 0;
    if (!e.fractional) {
      e.us_of_day -= e.us_of_day % k_us_per_second;
    }
    e.account_id = draw_account_id();

    const std::uint64_t c = m_rng.below(100);
    e.channel = forced   ? *forced
                : c < 70 ? Channel::sms
                : c < 80 ? Channel::mms
                : c < 95 ? Channel::voice
                         : Channel::ringless;
    const std::uint64_t s = m_rng.below(100);
    switch (e.channel) {
      case Channel::sms:
      case Channel::mms: {
        e.status = s < 3 ? "failed" : s < 15 ? "sent" : "delivered";
        const std::uint64_t length = m_rng.below(10);
        e.quantity = length < 6   ? m_rng.between(1, 160)
                     : length < 9 ? m_rng.between(161, 480)
                                  : m_rng.between(481, 800);
        break;
      }
      case Channel::voice:
        e.status = s < 80 ? "completed" : s < 90 ? "no_answer" : s < 95 ? "busy" : "failed";
        e.quantity = s < 80 ? m_rng.between(1, 900) : s < 95 ? 0 : m_rng.between(0, 30);
        break;
      case Channel::ringless:
        e.status = s < 90 ? "delivered" : "failed";
        break;
    }

    const long long credits = rated_credits(m_card, m_ctx.day, e);
    const std::uint64_t platform = m_rng.below(1000);
    if (platform < 10) {
      e.platform_credits = credits == 0 || platform % 2 == 0 ? credits + 1 : credits - 1;
    } else if (platform < 60) {
      e.platform_credits = -1;
    } else {
      e.platform_credits = credits;
    }
    const std::uint64_t campaign = m_rng.below(100);
    e.campaign_csv = campaign < 80   ? ""
                     : campaign < 95 ? "spring-sale"
                                     : "\"Spring, \"\"VIP\"\" list\"";
    return e;
  }

  // REQUIRES: last_good is set for the two duplicate kinds.
  void write_bad(BlockFile& out,
                 BadLineKind kind,
                 long long line,
                 const std::optional<Event>& last_good)
  {
    if (kind == BadLineKind::exact_duplicate) {
      BILLING_REQUIRE(last_good.has_value());
      out.done(put_event(out.room(), *last_good, m_ctx));
      return;
    }
    if (kind == BadLineKind::conflicting_duplicate) {
      BILLING_REQUIRE(last_good.has_value());
      Event e = *last_good; // same event_id, occurred one second apart
      e.us_of_day +=
        e.us_of_day + k_us_per_second < k_us_per_day ? k_us_per_second : -k_us_per_second;
      out.done(put_event(out.room(), e, m_ctx));
      return;
    }

    const std::uint64_t variant = m_rng.below(4);
    std::optional<Channel> forced;
    if ((kind == BadLineKind::bad_number || kind == BadLineKind::out_of_range
         || kind == BadLineKind::missing_field)
        && (variant == 1 || variant == 2)) {
      forced = variant == 1 ? Channel::sms : Channel::voice; // the quantity cell matters
    }
    const Event e = draw_event(line, forced, false);
    std::vector<std::string> cells = cells_of(e, m_ctx);
    std::string& occurred_at = cells[0];
    std::string& event_id = cells[1];
    std::string& account_id = cells[2];
    std::string& quantity = e.channel == Channel::voice ? cells[6] : cells[5];
    std::string& platform_credits = cells[7];
    switch (kind) {
      case BadLineKind::unknown_account:
        account_id = std::to_string(unknown_account_id(
          static_cast<long long>(m_rng.below(static_cast<std::uint64_t>(m_spec.accounts)))));
        break;
      case BadLineKind::bad_channel:
        cells[3] = variant == 0 ? "fax" : variant == 1 ? "SMS" : "email";
        break;
      case BadLineKind::bad_status:
        cells[4] = variant == 0                     ? "DELIVERED"
                   : e.channel == Channel::voice    ? "delivered"
                   : e.channel == Channel::ringless ? "answered"
                                                    : "completed";
        break;
      case BadLineKind::bad_timestamp:
        if (variant == 0) {
          occurred_at[10] = ' ';
        } else if (variant == 1) {
          occurred_at.replace(11, 2, "25");
        } else if (variant == 2) {
          occurred_at.replace(8, 2, "32");
        } else {
          occurred_at.pop_back(); // no 'Z'
        }
        break;
      case BadLineKind::bad_number:
        if (variant == 0) {
          account_id = "A" + account_id;
        } else if (variant == 1) {
          quantity = "12.5";
        } else if (variant == 2) {
          quantity = "90s";
        } else {
          platform_credits = "1.5";
        }
        break;
      case BadLineKind::out_of_range:
        if (variant == 0) {
          account_id = "0";
        } else if (variant == 1) {
          quantity = std::to_string(k_chars_max + 1);
        } else if (variant == 2) {
          quantity = std::to_string(k_duration_s_max + 1);
        } else {
          platform_credits = "-1";
        }
        break;
      case BadLineKind::missing_field:
        if (variant == 0) {
          event_id.clear();
        } else if (variant == 3) {
          cells[4].clear(); // status
        } else {
          quantity.clear();
        }
        break;
      case BadLineKind::bad_event_id:
        if (variant == 0) {
          event_id += "#x";
        } else if (variant == 1) {
          event_id.resize(k_event_id_chars_max + 1, 'x');
        } else {
          event_id.insert(1, " ");
        }
        break;
      case BadLineKind::bad_column_count:
        if (variant % 2 == 0) {
          cells.pop_back();
        } else {
          cells.emplace_back("extra");
        }
        break;
      case BadLineKind::conflicting_duplicate:
      case BadLineKind::exact_duplicate:
        break; // written above
    }
    std::string text;
    for (const std::string& cell : cells) {
      text += cell;
      text += ',';
    }
    text.back() = '\n';
    out.append(text);
  }

  const WorkloadSpec& m_spec;
  const RateCard& m_card;
  Random m_rng;
  std::uint64_t m_late_threshold;
  long long m_slot_us;
  long long m_whales;
  long long m_heavy;
  DayContext m_ctx;
};

void check_spec(const WorkloadSpec& spec)
{
  const auto share_ok = [](double share) { return share >= 0.0 && share <= 1.0; };
  if (spec.accounts < 1 || spec.days < 0 || spec.events_per_day < 0
      || spec.events_per_day > k_events_per_day_max || !share_ok(spec.bad_line_share)
      || !share_ok(spec.late_share) || !share_ok(spec.zoned_share)
      || spec.first_date < k_first_date_min) {
    throw std::invalid_argument("workload: need accounts >= 1, days >= 0, events_per_day in "
                                "0..100000000, shares in [0, 1] and "
                                "first_date >= 1970-03-02");
  }
}

void write_plans(const std::string& path)
{
  BlockFile out(path);
  out.append("plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,"
             "currency,rollover_cap\n");
  for (const PlanRow& plan : k_plans) {
    char buf[BlockFile::k_line_bytes_max];
    char* p = buf;
    p = put(p, plan.plan_id);
    *p++ = ',';
    p = put(p, plan.name_csv);
    *p++ = ',';
    p = put(p, plan.cycle);
    *p++ = ',';
    p = put(p, plan.included_credits);
    *p++ = ',';
    p = put(p, plan.price_cents);
    *p++ = ',';
    p = put(p, plan.credit_price_cents_per_1000);
    p = put(p, ",USD,");
    p = put(p, plan.rollover_cap);
    *p++ = '\n';
    out.append(std::string_view(buf, static_cast<std::size_t>(p - buf)));
  }
  out.commit();
}

// The latest date in (first - window, first] whose day of month is `day`.
std::optional<Date> latest_day_of_month(Date first, unsigned day)
{
  for (int back = 0; back < k_anchor_window_days; ++back) {
    const Date d{ first.days - back };
    if (to_ymd(d).day == day) {
      return d;
    }
  }
  return std::nullopt;
}

std::size_t draw_plan(Random& rng)
{
  std::uint64_t r = rng.below(100);
  for (std::size_t i = 0; i < k_plans.size(); ++i) {
    if (r < k_plans[i].weight) {
      return i;
    }
    r -= k_plans[i].weight;
  }
  return k_plans.size() - 1;
}

// What the operator files need to know of a generated account and purchase.
struct GeneratedAccount
{
  long long index = 0;
  long long id = 0;
  std::size_t plan = 0; // into k_plans
  Date anchor;
  bool zoned = false;
};

struct GeneratedPurchase
{
  std::string purchase_id;
  long long account_index = 0;
  Instant purchased_at;
  long long amount_cents = 0;
};

struct Generated
{
  std::vector<GeneratedAccount> accounts;
  std::vector<GeneratedPurchase> purchases;
};

// accounts.csv and purchases.csv, from stream 0; `generated`, when given,
// gets each account and purchase as written.
void write_accounts_and_purchases(const WorkloadSpec& spec,
                                  const std::string& accounts_path,
                                  const std::string& purchases_path,
                                  Generated* generated)
{
  Random rng(stream_seed(spec.seed, 0));
  const Date first = spec.first_date;
  const std::array<std::optional<Date>, 3> month_ends = { latest_day_of_month(first, 29),
                                                          latest_day_of_month(first, 30),
                                                          latest_day_of_month(first, 31) };

  BlockFile accounts(accounts_path);
  const bool zoned = spec.zoned_share > 0.0;
  accounts.append(zoned ? "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                          "recharge_credits,max_recharges_per_day,time_zone\n"
                        : "account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,"
                          "recharge_credits,max_recharges_per_day\n");
  // Per ten thousand; an account is zoned by a hash of its index alone.
  const auto zoned_per_10000 = static_cast<std::uint64_t>(std::llround(spec.zoned_share * 10000));
  std::size_t zoned_count = 0;
  BlockFile purchases(purchases_path);
  purchases.append("purchase_id,account_id,purchased_at,credits,amount_cents\n");
  const std::string purchase_prefix = "p" + compact_date(first) + "-";
  long long purchase_count = 0;

  for (long long i = 0; i < spec.accounts; ++i) {
    std::size_t plan = draw_plan(rng);
    Date anchor{ first.days - static_cast<int>(rng.below(k_anchor_window_days)) };
    const long long special = i % 20;
    if (special >= 3 && special <= 5 && month_ends[static_cast<std::size_t>(special - 3)]) {
      anchor = *month_ends[static_cast<std::size_t>(special - 3)]; // the 29th, 30th, 31st
    } else if (special == 6) {
      anchor = first; // starts on the first usage day
    }
    bool auto_recharge = rng.below(100) < 40;
    long long threshold = 50 * rng.between(2, 10);
    long long recharge_credits = 100 * rng.between(5, 20);
    long long per_day = rng.between(1, 3);
    // The first accounts are the heaviest users (see draw_account_id): fix
    // their set-up so a demo shows recharges, overdraft and suspension.
    if (i == 0) {
      plan = k_plan_starter;
      auto_recharge = true;
      threshold = 300;
      recharge_credits = 500;
      per_day = 1;
    } else if (i == 1) {
      plan = k_plan_growth;
      auto_recharge = false;
    } else if (i == 2) {
      plan = k_plan_payg;
      auto_recharge = true;
      threshold = 500;
      recharge_credits = 1000;
      per_day = 3;
    }

    const long long id = account_id_of(i);
    std::string row =
      std::to_string(id) + "," + std::string(k_plans[plan].plan_id) + "," + format_date(anchor);
    if (auto_recharge) {
      row += ",1," + std::to_string(threshold) + "," + std::to_string(recharge_credits) + ","
             + std::to_string(per_day);
    } else {
      row += i % 2 == 0 ? ",0,,," : ",0,0,0,1";
    }
    bool has_zone = false;
    if (zoned) {
      const std::uint64_t spread = (static_cast<std::uint64_t>(i) * 2654435761ULL >> 7) % 10000;
      row += ",";
      if (spread < zoned_per_10000) {
        row += k_workload_zones[zoned_count++ % k_workload_zones.size()];
        has_zone = true;
      }
    }
    row += "\n";
    accounts.append(row);
    if (generated != nullptr) {
      generated->accounts.push_back({ i, id, plan, anchor, has_zone });
    }

    if (spec.days > 0 && rng.below(10) == 0) {
      const long long seconds =
        static_cast<long long>(rng.below(static_cast<std::uint64_t>(spec.days) * 86'400));
      const Instant at{ start_of(first).us + seconds * k_us_per_second };
      const long long credits = 100 * rng.between(1, 50);
      const long long amount_cents =
        (credits * k_plans[plan].credit_price_cents_per_1000 + 500) / 1000;
      const std::string purchase_id = purchase_prefix + std::to_string(++purchase_count);
      purchases.append(purchase_id + "," + std::to_string(id) + "," + format_instant(at) + ","
                       + std::to_string(credits) + "," + std::to_string(amount_cents) + "\n");
      if (generated != nullptr) {
        generated->purchases.push_back({ purchase_id, i, at, amount_cents });
      }
    }
  }
  accounts.commit();
  purchases.commit();
}

// Operator files (OperatorFiles::demo) -------------------------------------

constexpr std::size_t k_plan_pro = 2;
// After stream 0 (the import files) and 1 + d (usage day d, d < 2^32).
constexpr std::uint64_t k_operator_stream = std::uint64_t{ 1 } << 32;
constexpr std::string_view k_changes_header =
  "change_id,account_id,effective_date,action,plan_id\n";
constexpr std::string_view k_adjustments_header =
  "adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,"
  "reason\n";
constexpr std::string_view k_rates_header =
  "effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses\n";

// The demo's price change: the default sms rule at twice its credits a unit,
// from the middle of the usage days. It lists every status of the default rule.
RateRule price_change_rule(const WorkloadSpec& spec, const RateCard& defaults)
{
  const RateRule* sms = defaults.rule_for(Channel::sms, spec.first_date);
  BILLING_REQUIRE(sms != nullptr);
  RateRule rule = *sms;
  rule.effective_from = Date{ spec.first_date.days + spec.days / 2 };
  rule.credits_per_unit = 2 * sms->credits_per_unit;
  return rule;
}

bool writes_operator_files(const WorkloadSpec& spec)
{
  return spec.operator_files == OperatorFiles::demo && spec.days >= 1;
}

std::string joined(const std::vector<std::string>& items, char separator)
{
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) {
      text += separator;
    }
    text += item;
  }
  return text;
}

// A rates row (SPEC 18) of `rule`.
std::string rate_row(const RateRule& rule)
{
  std::string row =
    format_date(rule.effective_from) + "," + std::string(to_string(rule.channel)) + ",";
  if (rule.basis != UnitBasis::event) {
    row += std::to_string(rule.unit_size);
  }
  row += "," + std::to_string(rule.min_units) + "," + std::to_string(rule.credits_per_unit) + ","
         + joined(rule.charged_statuses, ';') + "," + joined(rule.free_statuses, ';') + "\n";
  return row;
}

struct OperatorRow
{
  OperatorFileKind kind = OperatorFileKind::changes;
  Date night; // imported in the night of this date
  std::string csv;
};

// Picks the accounts of the roles, each at most once: at random among the
// accounts that fit, on UTC (a zone's local midnight may fall in the closed
// date before), anchored at least two days before first_date (so the date
// before first_date is closed when the first night imports its files, and
// every change is after the first cycle start), and neither the first three
// (their set-up is fixed) nor the heaviest users (UsageDay's m_heavy).
class AccountPicker
{
public:
  AccountPicker(const WorkloadSpec& spec, const Generated& generated, Random& rng)
    : m_generated(generated)
    , m_rng(rng)
    , m_taken(generated.accounts.size(), false)
    , m_first_index(std::max(3LL, std::max(1LL, spec.accounts / 50)))
    , m_latest_anchor(spec.first_date.days - 2)
  {
  }

  template<class Fits>
  std::optional<GeneratedAccount> take(const Fits& fits)
  {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < m_generated.accounts.size(); ++i) {
      if (eligible(i) && fits(m_generated.accounts[i])) {
        candidates.push_back(i);
      }
    }
    if (candidates.empty()) {
      return std::nullopt;
    }
    const std::size_t chosen = candidates[m_rng.below(candidates.size())];
    m_taken[chosen] = true;
    return m_generated.accounts[chosen];
  }

  // A purchase of an eligible account that `fits`, whose account is then taken.
  template<class Fits>
  std::optional<GeneratedPurchase> take_purchase(const Fits& fits)
  {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < m_generated.purchases.size(); ++i) {
      const GeneratedPurchase& p = m_generated.purchases[i];
      if (eligible(static_cast<std::size_t>(p.account_index)) && fits(p)) {
        candidates.push_back(i);
      }
    }
    if (candidates.empty()) {
      return std::nullopt;
    }
    const GeneratedPurchase& chosen =
      m_generated.purchases[candidates[m_rng.below(candidates.size())]];
    m_taken[static_cast<std::size_t>(chosen.account_index)] = true;
    return chosen;
  }

  const GeneratedAccount& account(long long index) const
  {
    return m_generated.accounts[static_cast<std::size_t>(index)];
  }

private:
  bool eligible(std::size_t i) const
  {
    const GeneratedAccount& a = m_generated.accounts[i];
    return !m_taken[i] && a.index >= m_first_index && !a.zoned && a.anchor.days <= m_latest_anchor;
  }

  const Generated& m_generated;
  Random& m_rng;
  std::vector<bool> m_taken;
  long long m_first_index;
  int m_latest_anchor;
};

// The first reset of a monthly account's cycle in [from, to], if any.
std::optional<Date> reset_between(const GeneratedAccount& account, Date from, Date to)
{
  const auto cycle = parse_cycle(k_plans[account.plan].cycle);
  BILLING_REQUIRE(cycle.has_value());
  for (long long k = 1;; ++k) {
    const Date reset = date_of(cycle_start(account.anchor, *cycle, k));
    if (reset > to) {
      return std::nullopt;
    }
    if (reset >= from) {
      return reset;
    }
  }
}

std::vector<OperatorRow> operator_rows(const WorkloadSpec& spec,
                                       const Generated& generated,
                                       OperatorFileCounts& counts)
{
  Random rng(stream_seed(spec.seed, k_operator_stream));
  AccountPicker picker(spec, generated, rng);
  const Date first = spec.first_date;
  const Date last{ first.days + spec.days - 1 };
  const Date second{ std::min(first.days + 1, last.days) };
  std::vector<OperatorRow> rows;

  const auto change = [&rows](const GeneratedAccount& account,
                              Date on,
                              std::string_view what,
                              std::string_view action,
                              std::string_view plan_id) {
    rows.push_back({ OperatorFileKind::changes,
                     on,
                     "demo-" + std::string(what) + "-" + std::to_string(account.id) + ","
                       + std::to_string(account.id) + "," + format_date(on) + ","
                       + std::string(action) + "," + std::string(plan_id) + "\n" });
  };
  // An adjustment imported in the night of `night`; `credits` and
  // `expires_at` empty when not given.
  const auto adjustment = [&rows](Date night,
                                  const std::string& adjustment_id,
                                  long long account_id,
                                  Instant effective_at,
                                  std::string_view kind,
                                  const std::string& credits,
                                  long long amount_cents,
                                  const std::string& purchase_id,
                                  const std::string& expires_at,
                                  std::string_view reason) {
    rows.push_back({ OperatorFileKind::adjustments,
                     night,
                     adjustment_id + "," + std::to_string(account_id) + ","
                       + format_instant(effective_at) + "," + std::string(kind) + "," + credits
                       + "," + std::to_string(amount_cents) + "," + purchase_id + "," + expires_at
                       + "," + std::string(reason) + "\n" });
  };
  const auto on_plan = [](std::size_t plan) {
    return [plan](const GeneratedAccount& a) { return a.plan == plan; };
  };
  const auto hours = [](Date d, long long h) {
    return Instant{ start_of(d).us + h * 3600 * k_us_per_second };
  };

  // The price change, announced in the first night.
  const RateCard defaults = RateCard::defaults();
  const RateRule rule = price_change_rule(spec, defaults);
  rows.push_back({ OperatorFileKind::rates, first, rate_row(rule) });
  counts.price_change = rule;
  counts.price_change_was_credits_per_unit =
    defaults.rule_for(rule.channel, first)->credits_per_unit;

  // An upgrade on the first usage day.
  if (const auto a = picker.take(on_plan(k_plan_starter))) {
    change(*a, first, "upgrade", "change_plan", k_plans[k_plan_growth].plan_id);
    ++counts.upgrades;
  }
  // A downgrade, on the account's own reset date when one falls in the usage
  // days (the change replaces that reset), else on the second day.
  if (const auto a = picker.take([&](const GeneratedAccount& g) {
        return g.plan == k_plan_pro && reset_between(g, first, last).has_value();
      })) {
    change(*a,
           *reset_between(*a, first, last),
           "downgrade",
           "change_plan",
           k_plans[k_plan_starter].plan_id);
    ++counts.downgrades;
    ++counts.downgrades_on_reset_date;
  } else if (const auto b = picker.take(on_plan(k_plan_pro))) {
    change(*b, second, "downgrade", "change_plan", k_plans[k_plan_starter].plan_id);
    ++counts.downgrades;
  }
  // A cancellation on the first day, and the account back, on starter, two
  // days on (or on the last day; none with one usage day).
  if (const auto a = picker.take(on_plan(k_plan_growth))) {
    change(*a, first, "cancel", "cancel", "");
    ++counts.cancellations;
    const Date back{ std::min(first.days + 2, last.days) };
    if (back > first) {
      change(*a, back, "reactivate", "change_plan", k_plans[k_plan_starter].plan_id);
      ++counts.reactivations;
    }
  }
  const auto any = [](const GeneratedAccount&) { return true; };
  // Goodwill: a free grant of the first day (12 months), and one promised on
  // the closed date before it, imported late (applied at the first day's
  // 00:00Z), expiring in 30 days.
  if (const auto a = picker.take(any)) {
    adjustment(first,
               "demo-goodwill-" + std::to_string(a->id),
               a->id,
               hours(first, 9),
               "grant",
               "500",
               0,
               "",
               "",
               "goodwill: delivery delays");
    ++counts.grants;
  }
  if (const auto a = picker.take(any)) {
    adjustment(first,
               "demo-late-goodwill-" + std::to_string(a->id),
               a->id,
               hours(first.prev(), 15),
               "grant",
               "200",
               0,
               "",
               format_instant(start_of(Date{ first.days + 30 })),
               "goodwill promised by support the day before");
    ++counts.grants;
    ++counts.late_grants;
  }
  // A correction on the second day.
  if (const auto a = picker.take(any)) {
    adjustment(second,
               "demo-debit-" + std::to_string(a->id),
               a->id,
               hours(second, 10),
               "debit",
               "300",
               0,
               "",
               "",
               "correction: credits booked twice");
    ++counts.debits;
  }
  // A refund of a purchase of the usage days, an hour after it: all that is
  // left of it, the money back.
  const Instant end = start_of(Date{ last.days + 1 });
  if (const auto p = picker.take_purchase([&](const GeneratedPurchase& g) {
        return g.purchased_at.us + 3600 * k_us_per_second < end.us;
      })) {
    const Instant at{ p->purchased_at.us + 3600 * k_us_per_second };
    adjustment(date_of(at),
               "demo-refund-" + p->purchase_id,
               picker.account(p->account_index).id,
               at,
               "refund",
               "",
               p->amount_cents,
               p->purchase_id,
               "",
               "refund: bought by mistake");
    ++counts.refunds;
  }
  return rows;
}

// Writes the rows as one file per night and kind, in import order.
void write_operator_files(const WorkloadSpec& spec,
                          const Generated& generated,
                          const std::filesystem::path& base,
                          WorkloadFiles& files)
{
  std::vector<OperatorRow> rows = operator_rows(spec, generated, files.operator_counts);
  std::stable_sort(rows.begin(), rows.end(), [](const OperatorRow& a, const OperatorRow& b) {
    return std::tuple(a.night, a.kind) < std::tuple(b.night, b.kind);
  });
  for (std::size_t begin = 0; begin < rows.size();) {
    std::size_t end = begin;
    while (end < rows.size() && rows[end].night == rows[begin].night
           && rows[end].kind == rows[begin].kind) {
      ++end;
    }
    const OperatorRow& head = rows[begin];
    OperatorFile file;
    file.kind = head.kind;
    file.night = head.night;
    file.path =
      (base / (std::string(to_string(head.kind)) + "-" + format_date(head.night) + ".csv"))
        .string();
    file.rows = static_cast<long long>(end - begin);
    BlockFile out(file.path);
    out.append(head.kind == OperatorFileKind::rates     ? k_rates_header
               : head.kind == OperatorFileKind::changes ? k_changes_header
                                                        : k_adjustments_header);
    for (std::size_t i = begin; i < end; ++i) {
      out.append(rows[i].csv);
    }
    out.commit();
    files.operator_files.push_back(std::move(file));
    begin = end;
  }
}

} // namespace

std::string_view to_string(BadLineKind kind)
{
  return k_bad_kind_names[static_cast<std::size_t>(kind)];
}

std::string_view to_string(OperatorFileKind kind)
{
  switch (kind) {
    case OperatorFileKind::rates:
      return "rates";
    case OperatorFileKind::changes:
      return "changes";
    case OperatorFileKind::adjustments:
      return "adjustments";
  }
  return "?";
}

RateCard workload_rate_card(const WorkloadSpec& spec)
{
  RateCard defaults = RateCard::defaults();
  if (!writes_operator_files(spec)) {
    return defaults;
  }
  std::vector<RateRule> rules = defaults.rules();
  rules.push_back(price_change_rule(spec, defaults));
  return RateCard(std::move(rules));
}

long long bad_lines_per_day(const WorkloadSpec& spec)
{
  if (spec.bad_line_share <= 0.0 || spec.events_per_day <= 0) {
    return 0;
  }
  const auto share = std::llround(static_cast<double>(spec.events_per_day) * spec.bad_line_share);
  const long long wanted = std::max(share, static_cast<long long>(k_bad_line_kind_count));
  return std::min(wanted, spec.events_per_day / 2);
}

WorkloadFiles generate_workload(const WorkloadSpec& spec, const std::string& dir)
{
  check_spec(spec);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw std::runtime_error("cannot create " + dir + ": " + error.message());
  }
  const std::filesystem::path base(dir);
  WorkloadFiles files;
  files.plans = (base / "plans.csv").string();
  files.accounts = (base / "accounts.csv").string();
  files.purchases = (base / "purchases.csv").string();

  write_plans(files.plans);
  const bool operator_files = writes_operator_files(spec);
  Generated generated;
  write_accounts_and_purchases(
    spec, files.accounts, files.purchases, operator_files ? &generated : nullptr);
  if (operator_files) {
    write_operator_files(spec, generated, base, files);
  }
  const RateCard card = workload_rate_card(spec);
  for (int d = 0; d < spec.days; ++d) {
    const Date day{ spec.first_date.days + d };
    const std::string path = (base / ("usage-" + format_date(day) + ".csv")).string();
    BlockFile out(path);
    UsageDay(spec, d, card).write(out, files);
    out.commit();
    files.usage_by_day.push_back(path);
  }
  return files;
}

} // namespace billing
