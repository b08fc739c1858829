#include "reports/report_html.hpp"

#include "domain/calendar.hpp"
#include "util/assert.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

namespace billing {

namespace {

// ------------------------------------------------------------ arithmetic

long long difference_checked(long long a, long long b)
{
  long long out = 0;
  if (__builtin_sub_overflow(a, b, &out)) {
    throw std::overflow_error("report: a difference over the range does not fit 64 bits");
  }
  return out;
}

// The digits of `magnitude` grouped by thousands: 1234567 -> "1,234,567".
std::string grouped_digits(unsigned long long magnitude)
{
  std::string digits = std::to_string(magnitude);
  std::string out;
  const size_t lead = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i >= lead && (i - lead) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

unsigned long long magnitude_of(long long n)
{
  // -LLONG_MIN does not fit a long long; it does fit the unsigned type.
  return n < 0 ? 0ULL - static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n);
}

// ------------------------------------------------------------ charts

enum class Units
{
  credits,
  cents
};

std::string value_text(long long v, Units units)
{
  return units == Units::credits ? grouped_number(v) : money_text(v);
}

// Hundredths of a pixel as an SVG number: 12345 -> "123.45", 1200 -> "12".
std::string px(long long hundredths)
{
  const unsigned long long m = magnitude_of(hundredths);
  std::string out = hundredths < 0 ? "-" : "";
  out += std::to_string(m / 100);
  if (m % 100 != 0) {
    const unsigned long long frac = m % 100;
    out += '.';
    out += static_cast<char>('0' + frac / 10);
    if (frac % 10 != 0) {
      out += static_cast<char>('0' + frac % 10);
    }
  }
  return out;
}

enum class Direction
{
  up,  // the value as it is
  down // drawn below the axis (an outflow)
};

struct Series
{
  std::string name;
  std::string color; // a literal of the code's own, "#rrggbb"
  Direction direction = Direction::up;
  std::vector<long long> values; // one per date
};

struct Chart
{
  std::string title;
  Units units = Units::credits;
  std::vector<std::string> dates;
  std::vector<Series> bars; // stacked: drawn values > 0 up from 0, < 0 down
  std::optional<Series> line;
};

// Geometry in hundredths of a pixel.
constexpr long long k_svg_width = 110'000;
constexpr long long k_svg_height = 29'000;
constexpr long long k_plot_left = 9'000;
constexpr long long k_plot_right = 108'000;
constexpr long long k_plot_top = 1'500;
constexpr long long k_plot_bottom = 25'000;
constexpr long long k_plot_width = k_plot_right - k_plot_left;
constexpr size_t k_x_labels_max = 8;
constexpr size_t k_markers_max_dates = 62; // dots on the line up to two months

// The value as drawn (128-bit: the negation of any long long fits).
__int128 drawn(const Series& s, size_t i)
{
  const __int128 v = s.values[i];
  return s.direction == Direction::up ? v : -v;
}

// 1, 2 or 5 times a power of ten, at least `raw` (> 0).
__int128 nice_step(__int128 raw)
{
  __int128 power = 1;
  for (;;) {
    for (const int m : { 1, 2, 5 }) {
      if (power * m >= raw) {
        return power * m;
      }
    }
    power *= 10;
  }
}

__int128 floor_to(__int128 v, __int128 step)
{
  __int128 q = v / step;
  if (v % step != 0 && v < 0) {
    --q;
  }
  return q * step;
}

__int128 ceil_to(__int128 v, __int128 step)
{
  __int128 q = v / step;
  if (v % step != 0 && v > 0) {
    ++q;
  }
  return q * step;
}

class Scale
{
public:
  // REQUIRES: lo <= 0 <= hi.
  Scale(__int128 lo, __int128 hi)
  {
    BILLING_REQUIRE(lo <= 0 && hi >= 0);
    // About five steps over the range, each 1, 2 or 5 times a power of ten.
    m_step = nice_step(std::max<__int128>((hi - lo + 4) / 5, 1));
    m_lo = floor_to(lo, m_step);
    m_hi = ceil_to(hi, m_step);
    if (m_hi == m_lo) {
      m_hi = m_lo + m_step;
    }
  }

  // The y coordinate of `v`, in hundredths of a pixel.
  long long y(__int128 v) const
  {
    return static_cast<long long>(k_plot_bottom
                                  - (v - m_lo) * (k_plot_bottom - k_plot_top) / (m_hi - m_lo));
  }

  std::vector<long long> ticks() const
  {
    std::vector<long long> out;
    for (__int128 t = m_lo; t <= m_hi; t += m_step) {
      out.push_back(static_cast<long long>(t));
    }
    return out;
  }

  // Money ticks in whole units when the step allows.
  std::string tick_text(long long v, Units units) const
  {
    if (units == Units::cents && m_step % 100 == 0) {
      return grouped_number(v / 100);
    }
    return value_text(v, units);
  }

private:
  __int128 m_lo = 0;
  __int128 m_hi = 1;
  __int128 m_step = 1;
};

void append_legend(std::string& html, const Chart& chart)
{
  html += "<div class=\"legend\">";
  const auto item = [&html](const Series& s, const char* shape) {
    html += "<span class=\"item\"><span class=\"" + std::string(shape)
            + "\" style=\"background:" + s.color + "\"></span>" + html_escaped(s.name);
    if (s.direction == Direction::down) {
      html += " (drawn below 0)";
    }
    html += "</span>";
  };
  for (const Series& s : chart.bars) {
    item(s, "swatch");
  }
  if (chart.line) {
    item(*chart.line, "stroke");
  }
  html += "</div>\n";
}

void append_chart(std::string& html, const Chart& chart)
{
  const size_t n = chart.dates.size();
  BILLING_REQUIRE(n > 0);
  // Stack every date's bars, then take the range of the stacks and the line.
  struct Segment
  {
    size_t series = 0;
    __int128 from = 0;
    __int128 to = 0;
  };
  std::vector<std::vector<Segment>> stacks(n);
  __int128 lo = 0;
  __int128 hi = 0;
  for (size_t i = 0; i < n; ++i) {
    __int128 up = 0;
    __int128 down = 0;
    for (size_t s = 0; s < chart.bars.size(); ++s) {
      const __int128 v = drawn(chart.bars[s], i);
      if (v > 0) {
        stacks[i].push_back(Segment{ s, up, up + v });
        up += v;
      } else if (v < 0) {
        stacks[i].push_back(Segment{ s, down + v, down });
        down += v;
      }
    }
    lo = std::min(lo, down);
    hi = std::max(hi, up);
    if (chart.line) {
      lo = std::min(lo, drawn(*chart.line, i));
      hi = std::max(hi, drawn(*chart.line, i));
    }
  }
  const Scale scale(lo, hi);

  html += "<figure class=\"chart\"><figcaption>" + html_escaped(chart.title) + "</figcaption>\n";
  append_legend(html, chart);
  html += "<svg viewBox=\"0 0 " + px(k_svg_width) + " " + px(k_svg_height)
          + "\" role=\"img\" aria-label=\"" + html_escaped(chart.title) + "\">\n";
  // Grid and y labels.
  for (const long long t : scale.ticks()) {
    const std::string y = px(scale.y(t));
    html += "<line class=\"" + std::string(t == 0 ? "zero" : "grid") + "\" x1=\"" + px(k_plot_left)
            + "\" x2=\"" + px(k_plot_right) + "\" y1=\"" + y + "\" y2=\"" + y
            + "\"/><text class=\"ylabel\" x=\"" + px(k_plot_left - 600) + "\" y=\""
            + px(scale.y(t) + 400) + "\">" + html_escaped(scale.tick_text(t, chart.units))
            + "</text>\n";
  }
  // Bars: each segment with its figure as a tooltip.
  const long long slot = k_plot_width / static_cast<long long>(n);
  const long long bar_width = std::max<long long>(slot * 7 / 10, 10);
  const auto slot_centre = [n](size_t i) {
    return k_plot_left
           + static_cast<long long>(2 * i + 1) * k_plot_width / static_cast<long long>(2 * n);
  };
  for (size_t i = 0; i < n; ++i) {
    for (const Segment& seg : stacks[i]) {
      const Series& s = chart.bars[seg.series];
      const long long top = scale.y(seg.to);
      const long long bottom = scale.y(seg.from);
      html += "<rect x=\"" + px(slot_centre(i) - bar_width / 2) + "\" y=\"" + px(top)
              + "\" width=\"" + px(bar_width) + "\" height=\"" + px(std::max(bottom - top, 1LL))
              + "\" fill=\"" + s.color + "\"><title>" + html_escaped(chart.dates[i]) + " "
              + html_escaped(s.name) + ": " + value_text(s.values[i], chart.units)
              + "</title></rect>\n";
    }
  }
  if (chart.line) {
    const Series& s = *chart.line;
    html += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < n; ++i) {
      html += (i > 0 ? " " : "") + px(slot_centre(i)) + "," + px(scale.y(drawn(s, i)));
    }
    html += "\"/>\n";
    if (n <= k_markers_max_dates) {
      for (size_t i = 0; i < n; ++i) {
        html += "<circle cx=\"" + px(slot_centre(i)) + "\" cy=\"" + px(scale.y(drawn(s, i)))
                + "\" r=\"3\" fill=\"" + s.color + "\"><title>" + html_escaped(chart.dates[i]) + " "
                + html_escaped(s.name) + ": " + value_text(s.values[i], chart.units)
                + "</title></circle>\n";
      }
    }
  }
  // Date labels, at most k_x_labels_max of them, the first date always.
  const size_t every = (n + k_x_labels_max - 1) / k_x_labels_max;
  for (size_t i = 0; i < n; i += every) {
    html += "<line class=\"tick\" x1=\"" + px(slot_centre(i)) + "\" x2=\"" + px(slot_centre(i))
            + "\" y1=\"" + px(k_plot_bottom) + "\" y2=\"" + px(k_plot_bottom + 400)
            + "\"/><text class=\"xlabel\" x=\"" + px(slot_centre(i)) + "\" y=\""
            + px(k_plot_bottom + 1600) + "\">" + html_escaped(chart.dates[i]) + "</text>\n";
  }
  html += "<line class=\"axis\" x1=\"" + px(k_plot_left) + "\" x2=\"" + px(k_plot_left) + "\" y1=\""
          + px(k_plot_top) + "\" y2=\"" + px(k_plot_bottom) + "\"/>\n";
  html += "</svg></figure>\n";
}

// ------------------------------------------------------------ tables

std::string cell(std::string_view column, const std::string& text)
{
  return "<td data-col=\"" + std::string(column) + "\">" + text + "</td>";
}

// "ties out" or "differs by X" (X = actual - expected), as a marked span.
std::string tie_text(long long actual, long long expected, Units units)
{
  if (actual == expected) {
    return "<span class=\"ok\">ties out</span>";
  }
  return "<span class=\"off\">differs by " + value_text(difference_checked(actual, expected), units)
         + "</span>";
}

// An id made of the code's letters and digits only (currency codes are
// validated at import; this keeps the id safe whatever a database holds).
std::string id_part(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    out += plain ? c : '_';
  }
  return out;
}

// The dates of from..to that are not in `closed`, as runs: "D" or "D1 to D2
// (N dates)".
std::vector<std::string> open_runs(const std::vector<std::string>& closed, Date from, Date to)
{
  const std::set<std::string> done(closed.begin(), closed.end());
  std::vector<std::string> runs;
  std::optional<Date> start;
  const auto end_run = [&](Date last) {
    const int count = last.days - start->days + 1;
    runs.push_back(count == 1 ? format_date(*start)
                              : format_date(*start) + " to " + format_date(last) + " ("
                                  + std::to_string(count) + " dates)");
    start.reset();
  };
  for (Date d = from; d <= to; d = d.next()) {
    const bool open = !done.contains(format_date(d));
    if (open && !start) {
      start = d;
    } else if (!open && start) {
      end_run(d.prev());
    }
  }
  if (start) {
    end_run(to);
  }
  return runs;
}

constexpr std::string_view k_style = R"css(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222;
  margin: 24px auto; max-width: 1180px; padding: 0 16px; font-size: 14px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
p.meta { color: #555; margin-top: 0; }
.note { background: #fff8e1; border-left: 4px solid #f2b705; padding: 6px 10px; }
p.tie { font-variant-numeric: tabular-nums; margin: 6px 0; }
.ok { color: #1b7a2e; font-weight: bold; }
.off { color: #b3261e; font-weight: bold; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 12px 0;
  font-size: 13px; }
caption { text-align: left; color: #555; padding-bottom: 4px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f3f3f3; font-weight: 600; }
td { text-align: right; white-space: nowrap; }
td[data-col="date"], td[data-col="check"] { text-align: left; }
tfoot td { font-weight: bold; background: #f7f7f7; border-top: 2px solid #999; }
figure.chart { margin: 16px 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-size: 11px; fill: #444; }
svg text.ylabel { text-anchor: end; }
svg text.xlabel { text-anchor: middle; }
svg line.grid { stroke: #e5e5e5; stroke-width: 1; }
svg line.zero, svg line.axis, svg line.tick { stroke: #888; stroke-width: 1; }
.legend { font-size: 12px; color: #444; }
.legend .item { margin-right: 16px; white-space: nowrap; }
.legend .swatch { display: inline-block; width: 11px; height: 11px; margin-right: 4px;
  vertical-align: -1px; }
.legend .stroke { display: inline-block; width: 16px; height: 3px; margin-right: 4px;
  vertical-align: 3px; }
dl dt { font-weight: 600; margin-top: 6px; }
dl dd { margin-left: 16px; }
@media print { h2 { break-before: auto; } figure.chart, table { break-inside: avoid; } }
)css";

void append_credits(std::string& html, const ReportBooks& books, const CreditsRollForward& total)
{
  html += "<h2 id=\"credits-section\">Credits roll-forward</h2>\n"
          "<p>Each date's figures are the sums over the accounts' reconciliation rows "
          "(<code>billing export reconciliation</code>): closing = opening + granted + "
          "purchased + adjusted &minus; used &minus; expired &minus; revoked. Rolled over "
          "moves credits from a plan lot to a roll-over lot and is shown, not added. "
          "Balances are net of overdraft.</p>\n";
  std::vector<std::string> dates;
  Series granted{ "granted", "#4e79a7", Direction::up, {} };
  Series purchased{ "purchased", "#59a14f", Direction::up, {} };
  Series adjusted{ "adjusted", "#b07aa1", Direction::up, {} };
  Series used{ "used", "#e15759", Direction::down, {} };
  Series expired{ "expired", "#f28e2b", Direction::down, {} };
  Series revoked{ "revoked", "#9c755f", Direction::down, {} };
  Series closing{ "closing balance", "#333333", Direction::up, {} };
  Series overdraft{ "overdraft", "#e15759", Direction::down, {} };
  for (const CreditDaySums& d : books.credits) {
    dates.push_back(d.business_date);
    granted.values.push_back(d.granted);
    purchased.values.push_back(d.purchased);
    adjusted.values.push_back(d.adjusted);
    used.values.push_back(d.used);
    expired.values.push_back(d.expired);
    revoked.values.push_back(d.revoked);
    closing.values.push_back(d.closing);
    overdraft.values.push_back(d.overdraft);
  }
  append_chart(html,
               Chart{ "Credits in (above 0) and out (below 0) per date",
                      Units::credits,
                      dates,
                      { granted, purchased, adjusted, used, expired, revoked },
                      std::nullopt });
  append_chart(
    html,
    Chart{
      "Credits balance at the close of each date", Units::credits, dates, { overdraft }, closing });

  static constexpr std::string_view k_headers[] = {
    "Date",    "Accounts", "Opening", "Granted",   "Purchased",   "Adjusted", "Used",
    "Expired", "Revoked",  "Closing", "Overdraft", "Rolled over", "Check",
  };
  html += "<table id=\"credits\"><caption>Credits per closed business date (sums over "
          "accounts)</caption>\n<thead><tr>";
  for (const std::string_view h : k_headers) {
    html += "<th>" + std::string(h) + "</th>";
  }
  html += "</tr></thead>\n<tbody>\n";
  const CreditDaySums* previous = nullptr;
  for (const CreditDaySums& d : books.credits) {
    long long expected = d.opening;
    for (const long long v : { d.granted, d.purchased, d.adjusted }) {
      expected = checked_add(expected, v);
    }
    for (const long long v : { d.used, d.expired, d.revoked }) {
      expected = difference_checked(expected, v);
    }
    std::vector<std::string> issues;
    if (d.closing != expected) {
      issues.push_back("<span class=\"off\">closing differs by "
                       + grouped_number(difference_checked(d.closing, expected)) + "</span>");
    }
    if (previous != nullptr && previous->closing != d.opening) {
      issues.push_back("<span class=\"off\">opening differs from the closing of "
                       + html_escaped(previous->business_date) + " by "
                       + grouped_number(difference_checked(d.opening, previous->closing))
                       + "</span>");
    }
    const std::string check = issues.empty() ? "ok" : joined(issues, "; ");
    html +=
      "<tr>" + cell("date", html_escaped(d.business_date))
      + cell("accounts", grouped_number(d.accounts)) + cell("opening", grouped_number(d.opening))
      + cell("granted", grouped_number(d.granted)) + cell("purchased", grouped_number(d.purchased))
      + cell("adjusted", grouped_number(d.adjusted)) + cell("used", grouped_number(d.used))
      + cell("expired", grouped_number(d.expired)) + cell("revoked", grouped_number(d.revoked))
      + cell("closing", grouped_number(d.closing)) + cell("overdraft", grouped_number(d.overdraft))
      + cell("rolled_over", grouped_number(d.rolled_over)) + cell("check", check) + "</tr>\n";
    previous = &d;
  }
  html += "</tbody>\n<tfoot><tr id=\"credits-total\">" + cell("date", "Range")
          + cell("accounts", "") + cell("opening", grouped_number(total.opening))
          + cell("granted", grouped_number(total.granted))
          + cell("purchased", grouped_number(total.purchased))
          + cell("adjusted", grouped_number(total.adjusted))
          + cell("used", grouped_number(total.used))
          + cell("expired", grouped_number(total.expired))
          + cell("revoked", grouped_number(total.revoked))
          + cell("closing", grouped_number(total.closing))
          + cell("overdraft", grouped_number(total.overdraft))
          + cell("rolled_over", grouped_number(total.rolled_over))
          + cell("check", tie_text(total.closing, total.expected_closing(), Units::credits))
          + "</tr></tfoot>\n</table>\n"
          + "<p class=\"meta\">Range row: opening of the first date, sums of the movements "
            "(and of rolled over), closing and overdraft of the last date.</p>\n";
}

void append_revenue(std::string& html, const ReportBooks& books, const RevenueRollForward& total)
{
  const std::string code = html_escaped(total.currency);
  const std::string id = id_part(total.currency);
  html += "<h2 id=\"revenue-section-" + id + "\">Revenue roll-forward: " + code + "</h2>\n"
          + "<p>Amounts in " + code
          + " (two decimals of the minor unit). Closing deferred = opening deferred + sold "
            "&minus; usage &minus; breakage &minus; revoked (<code>billing export "
            "revenue</code>). Rows from "
          + html_escaped(total.first_date) + " to " + html_escaped(total.last_date) + ".</p>\n";
  std::vector<const RevenueDaySums*> rows;
  for (const RevenueDaySums& r : books.revenue) {
    if (r.currency == total.currency) {
      rows.push_back(&r);
    }
  }
  std::vector<std::string> dates;
  Series sold{ "sold", "#4e79a7", Direction::up, {} };
  Series deferred{ "closing deferred", "#333333", Direction::up, {} };
  Series usage{ "usage", "#59a14f", Direction::up, {} };
  Series breakage{ "breakage", "#f28e2b", Direction::up, {} };
  Series revoked{ "revoked", "#9c755f", Direction::up, {} };
  for (const RevenueDaySums* r : rows) {
    dates.push_back(r->business_date);
    sold.values.push_back(r->sold_cents);
    deferred.values.push_back(r->closing_deferred_cents);
    usage.values.push_back(r->usage_cents);
    breakage.values.push_back(r->breakage_cents);
    revoked.values.push_back(r->revoked_cents);
  }
  append_chart(
    html,
    Chart{ "Deferred revenue at the close and value sold per date (" + total.currency + ")",
           Units::cents,
           dates,
           { sold },
           deferred });
  append_chart(
    html,
    Chart{ "Value released per date: usage, breakage and revoked (" + total.currency + ")",
           Units::cents,
           dates,
           { usage, breakage, revoked },
           std::nullopt });

  html += "<table id=\"revenue-" + id + "\"><caption>Revenue per closed business date, " + code
          + "</caption>\n<thead><tr><th>Date</th><th>Opening deferred</th><th>Sold</th>"
            "<th>Usage</th><th>Breakage</th><th>Revoked</th><th>Closing deferred</th>"
            "<th>Check</th></tr></thead>\n<tbody>\n";
  const RevenueDaySums* previous = nullptr;
  for (const RevenueDaySums* r : rows) {
    long long expected = checked_add(r->opening_deferred_cents, r->sold_cents);
    for (const long long v : { r->usage_cents, r->breakage_cents, r->revoked_cents }) {
      expected = difference_checked(expected, v);
    }
    std::vector<std::string> issues;
    if (r->closing_deferred_cents != expected) {
      issues.push_back("<span class=\"off\">closing differs by "
                       + money_text(difference_checked(r->closing_deferred_cents, expected))
                       + "</span>");
    }
    if (previous != nullptr && previous->closing_deferred_cents != r->opening_deferred_cents) {
      issues.push_back("<span class=\"off\">opening differs from the closing of "
                       + html_escaped(previous->business_date) + " by "
                       + money_text(difference_checked(r->opening_deferred_cents,
                                                       previous->closing_deferred_cents))
                       + "</span>");
    }
    html += "<tr>" + cell("date", html_escaped(r->business_date))
            + cell("opening_deferred", money_text(r->opening_deferred_cents))
            + cell("sold", money_text(r->sold_cents)) + cell("usage", money_text(r->usage_cents))
            + cell("breakage", money_text(r->breakage_cents))
            + cell("revoked", money_text(r->revoked_cents))
            + cell("closing_deferred", money_text(r->closing_deferred_cents))
            + cell("check", issues.empty() ? "ok" : joined(issues, "; ")) + "</tr>\n";
    previous = r;
  }
  html +=
    "</tbody>\n<tfoot><tr id=\"revenue-total-" + id + "\">" + cell("date", "Range")
    + cell("opening_deferred", money_text(total.opening_deferred_cents))
    + cell("sold", money_text(total.sold_cents)) + cell("usage", money_text(total.usage_cents))
    + cell("breakage", money_text(total.breakage_cents))
    + cell("revoked", money_text(total.revoked_cents))
    + cell("closing_deferred", money_text(total.closing_deferred_cents))
    + cell("check",
           tie_text(total.closing_deferred_cents, total.expected_closing_cents(), Units::cents))
    + "</tr></tfoot>\n</table>\n";
}

void append_tie_outs(std::string& html,
                     const CreditsRollForward& credits,
                     const std::vector<RevenueRollForward>& revenue)
{
  html += "<h2 id=\"tie-outs\">Tie-outs over the range</h2>\n";
  const auto n = [](long long v) { return grouped_number(v); };
  html += "<p class=\"tie\" id=\"tie-credits\"><b>Credits:</b> opening " + n(credits.opening)
          + " + granted " + n(credits.granted) + " + purchased " + n(credits.purchased)
          + " + adjusted " + n(credits.adjusted) + " &minus; used " + n(credits.used)
          + " &minus; expired " + n(credits.expired) + " &minus; revoked " + n(credits.revoked)
          + " = " + n(credits.expected_closing()) + "; closing " + n(credits.closing) + ": "
          + tie_text(credits.closing, credits.expected_closing(), Units::credits) + "</p>\n";
  for (const RevenueRollForward& r : revenue) {
    const std::string code = " " + html_escaped(r.currency);
    const auto m = [&code](long long v) { return money_text(v) + code; };
    html +=
      "<p class=\"tie\" id=\"tie-revenue-" + id_part(r.currency) + "\"><b>Revenue "
      + html_escaped(r.currency) + ":</b> opening deferred " + m(r.opening_deferred_cents)
      + " + sold " + m(r.sold_cents) + " &minus; usage " + m(r.usage_cents) + " &minus; breakage "
      + m(r.breakage_cents) + " &minus; revoked " + m(r.revoked_cents) + " = "
      + m(r.expected_closing_cents()) + "; closing deferred " + m(r.closing_deferred_cents) + ": "
      + tie_text(r.closing_deferred_cents, r.expected_closing_cents(), Units::cents) + "</p>\n";
  }
  if (revenue.empty()) {
    html += "<p class=\"tie\" id=\"tie-revenue-none\"><b>Revenue:</b> no revenue rows in the "
            "range.</p>\n";
  }
}

constexpr std::string_view k_reading_notes = R"html(
<h2 id="reading">How to read this page</h2>
<dl>
<dt>Credits</dt><dd>Whole credits. <b>Granted</b>: plan credits at cycle resets;
<b>purchased</b>: purchases and auto-recharges; <b>adjusted</b>: grants minus debits;
<b>used</b>: usage, overdraft included; <b>expired</b>: roll-over and purchased lots past
their expiry, and plan credits above the roll-over cap at a reset; <b>revoked</b>: failed
payments and refunds; <b>overdraft</b>: usage the lots could not cover, paid by the next
credits.</dd>
<dt>Deferred revenue</dt><dd>The value of the credits not yet used, expired or revoked.
<b>Sold</b>: the value of the lots made that date (plan price, purchase or recharge
amount, a grant's amount); <b>usage</b>: value released by credits used;
<b>breakage</b>: value released by credits that expired; <b>revoked</b>: value reversed by
a failed payment or a refund (not revenue). A lot releases floor(value &times; credits
gone / credits granted) in total, so every cent is released exactly once.</dd>
<dt>Not covered</dt><dd>Tax, invoices, exchange rates, usage not yet billed, money
refunded. See docs/finance.md.</dd>
</dl>
)html";

} // namespace

long long CreditsRollForward::expected_closing() const
{
  long long v = opening;
  for (const long long in : { granted, purchased, adjusted }) {
    v = checked_add(v, in);
  }
  for (const long long out : { used, expired, revoked }) {
    v = difference_checked(v, out);
  }
  return v;
}

long long RevenueRollForward::expected_closing_cents() const
{
  long long v = checked_add(opening_deferred_cents, sold_cents);
  for (const long long out : { usage_cents, breakage_cents, revoked_cents }) {
    v = difference_checked(v, out);
  }
  return v;
}

CreditsRollForward credits_roll_forward(const ReportBooks& books)
{
  BILLING_REQUIRE(!books.credits.empty());
  CreditsRollForward t;
  t.opening = books.credits.front().opening;
  t.closing = books.credits.back().closing;
  t.overdraft = books.credits.back().overdraft;
  for (const CreditDaySums& d : books.credits) {
    t.granted = checked_add(t.granted, d.granted);
    t.purchased = checked_add(t.purchased, d.purchased);
    t.adjusted = checked_add(t.adjusted, d.adjusted);
    t.used = checked_add(t.used, d.used);
    t.expired = checked_add(t.expired, d.expired);
    t.revoked = checked_add(t.revoked, d.revoked);
    t.rolled_over = checked_add(t.rolled_over, d.rolled_over);
  }
  return t;
}

std::vector<RevenueRollForward> revenue_roll_forward(const ReportBooks& books)
{
  std::map<std::string, RevenueRollForward> by_currency;
  for (const RevenueDaySums& r : books.revenue) { // by date: the first row comes first
    auto [it, first] = by_currency.try_emplace(r.currency);
    RevenueRollForward& t = it->second;
    if (first) {
      t.currency = r.currency;
      t.first_date = r.business_date;
      t.opening_deferred_cents = r.opening_deferred_cents;
    }
    t.last_date = r.business_date;
    t.closing_deferred_cents = r.closing_deferred_cents;
    t.sold_cents = checked_add(t.sold_cents, r.sold_cents);
    t.usage_cents = checked_add(t.usage_cents, r.usage_cents);
    t.breakage_cents = checked_add(t.breakage_cents, r.breakage_cents);
    t.revoked_cents = checked_add(t.revoked_cents, r.revoked_cents);
  }
  std::vector<RevenueRollForward> out;
  for (auto& [currency, t] : by_currency) {
    out.push_back(std::move(t));
  }
  return out;
}

std::string html_escaped(std::string_view text)
{
  const std::string valid = valid_utf8(text);
  std::string out;
  out.reserve(valid.size());
  for (const char c : valid) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string grouped_number(long long n)
{
  return (n < 0 ? "-" : "") + grouped_digits(magnitude_of(n));
}

std::string money_text(long long cents)
{
  const unsigned long long m = magnitude_of(cents);
  const unsigned long long minor = m % 100;
  return (cents < 0 ? "-" : "") + grouped_digits(m / 100) + "."
         + static_cast<char>('0' + minor / 10) + static_cast<char>('0' + minor % 10);
}

std::string report_html(const ReportBooks& books, Date from, Date to)
{
  const std::string range = format_date(from) + " to " + format_date(to);
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Close pack "
          + range + "</title>\n<style>" + std::string(k_style) + "</style>\n</head>\n<body>\n"
          + "<h1>Close pack: " + range + "</h1>\n";
  const std::vector<std::string> open = open_runs(books.closed_dates, from, to);
  if (books.closed_dates.empty()) {
    html += "<p class=\"note\" id=\"no-closed-dates\">No business date from " + range
            + " is closed: there is nothing to report. Close dates with <code>billing "
              "run</code> first.</p>\n</body>\n</html>\n";
    return html;
  }
  html += "<p class=\"meta\">" + std::to_string(books.closed_dates.size()) + " closed business date"
          + (books.closed_dates.size() == 1 ? "" : "s") + ", "
          + html_escaped(books.closed_dates.front()) + " to "
          + html_escaped(books.closed_dates.back())
          + ". Business dates are UTC days; figures are those the nights wrote.</p>\n";
  if (!open.empty()) {
    constexpr size_t k_runs_shown = 12;
    std::vector<std::string> shown(open.begin(),
                                   open.begin() + std::min(open.size(), k_runs_shown));
    std::string list = joined(shown, ", ");
    if (open.size() > k_runs_shown) {
      list += " and " + std::to_string(open.size() - k_runs_shown) + " more";
    }
    html += "<p class=\"note\" id=\"open-dates\">Not closed, so not in this page: "
            + html_escaped(list) + ".</p>\n";
  }
  if (books.value_books_after && books.closed_dates.front() <= *books.value_books_after) {
    html += "<p class=\"note\" id=\"value-books\">Dates closed up to "
            + html_escaped(*books.value_books_after)
            + " were closed before lot values were kept (schema 6): they have no revenue "
              "rows.</p>\n";
  }
  const CreditsRollForward credits = credits_roll_forward(books);
  const std::vector<RevenueRollForward> revenue = revenue_roll_forward(books);
  append_tie_outs(html, credits, revenue);
  append_credits(html, books, credits);
  for (const RevenueRollForward& r : revenue) {
    append_revenue(html, books, r);
  }
  html += k_reading_notes;
  html += "</body>\n</html>\n";
  return html;
}

} // namespace billing
