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
// rule in force on the date it occurred (every good line's status is listed).
long long rated_credits(const RateCard& card, Date day, const Event& e)
{
  const RateRule* rule = card.rule_for(e.channel, e.late ? day.prev() : day);
  BILLING_REQUIRE(rule != nullptr);
  return rate(*rule, e.status, e.quantity).credits.n;
}

class UsageDay
{
public:
  UsageDay(const WorkloadSpec& spec, long long day_index)
    : m_spec(spec)
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
  const RateCard m_card = RateCard::defaults();
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

// accounts.csv and purchases.csv, from stream 0.
void write_accounts_and_purchases(const WorkloadSpec& spec,
                                  const std::string& accounts_path,
                                  const std::string& purchases_path)
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
    if (zoned) {
      const std::uint64_t spread = (static_cast<std::uint64_t>(i) * 2654435761ULL >> 7) % 10000;
      row += ",";
      if (spread < zoned_per_10000) {
        row += k_workload_zones[zoned_count++ % k_workload_zones.size()];
      }
    }
    row += "\n";
    accounts.append(row);

    if (spec.days > 0 && rng.below(10) == 0) {
      const long long seconds =
        static_cast<long long>(rng.below(static_cast<std::uint64_t>(spec.days) * 86'400));
      const Instant at{ start_of(first).us + seconds * k_us_per_second };
      const long long credits = 100 * rng.between(1, 50);
      const long long amount_cents =
        (credits * k_plans[plan].credit_price_cents_per_1000 + 500) / 1000;
      purchases.append(purchase_prefix + std::to_string(++purchase_count) + "," + std::to_string(id)
                       + "," + format_instant(at) + "," + std::to_string(credits) + ","
                       + std::to_string(amount_cents) + "\n");
    }
  }
  accounts.commit();
  purchases.commit();
}

} // namespace

std::string_view to_string(BadLineKind kind)
{
  return k_bad_kind_names[static_cast<std::size_t>(kind)];
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
  write_accounts_and_purchases(spec, files.accounts, files.purchases);
  for (int d = 0; d < spec.days; ++d) {
    const Date day{ spec.first_date.days + d };
    const std::string path = (base / ("usage-" + format_date(day) + ".csv")).string();
    BlockFile out(path);
    UsageDay(spec, d).write(out, files);
    out.commit();
    files.usage_by_day.push_back(path);
  }
  return files;
}

} // namespace billing
