# shellcheck shell=bash
# `billing report` (issue 17, docs/finance.md): the close pack of a range as
# one self-contained HTML page. A small set of books through the real program
# (a capped plan that rolls 300 and expires 367 at its reset, SPEC 17's
# 2,900/1,000 example; a purchase used, then refunded; a 0-value grant; an
# overdraft paid by a purchase; a second currency whose roll-over lot
# expires), then the page: it fetches nothing and runs no script, holds
# inline SVG charts, and rendered in headless Chromium its totals and
# tie-outs equal what the reconciliation and revenue exports add up to, and
# the hand-computed cents. Also the usage errors, a range with no closed
# date, the same bytes on a second run, and escaping.

# ---------------------------------------------------------------- Chromium

chromium_bin=
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null; then
    chromium_bin=$(command -v "$candidate")
    break
  fi
done
if [[ -z $chromium_bin ]]; then
  if [[ -n ${CI:-} && ${CI:-} != false ]]; then
    fail "chromium is not installed (package chromium; run scripts/setup.sh)"
  fi
  skip "chromium is not installed (package chromium; run scripts/setup.sh)"
fi

# headless ARGS...: Chromium without a sandbox, GPU or the user's profile.
headless() {
  "$chromium_bin" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$E2E_TMP/chromium-profile" "$@" 2>>"$E2E_TMP/chromium.err"
}

# ---------------------------------------------------------------- the books

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
capped,Capped,monthly,1000,2900,1500,USD,300
payg,Pay as you go,monthly,0,0,2000,USD,
euro,Euro,monthly,500,1000,2500,EUR,
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,capped,2026-08-01,0,0,0,1
2,payg,2026-08-01,0,0,0,1
3,euro,2026-08-01,0,0,0,1
4,payg,2026-08-01,0,0,0,1
CSV
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-1,2,2026-08-10T12:00:00Z,300,600
p-2,4,2026-09-05T00:00:00Z,100,500
CSV
# voice: ceil(duration_s / 60) credits.
cat >usage.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
u1,1,voice,2026-08-05T10:00:00Z,completed,,19980,333
u2,1,voice,2026-09-10T10:00:00Z,completed,,6000,100
u3,2,voice,2026-08-12T10:00:00Z,completed,,6000,100
u4,3,voice,2026-08-20T10:00:00Z,completed,,3000,50
u5,4,voice,2026-08-25T10:00:00Z,completed,,1800,30
CSV
# The grant's reason is markup: it must never reach the page unescaped.
cat >adjustments.csv <<'CSV'
adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason
g-1,2,2026-08-20T09:00:00Z,grant,50,,,,"goodwill <script>alert(1)</script> & ""more"""
r-1,2,2026-09-15T09:00:00Z,refund,,350,p-1,,refund of p-1
CSV

expect_exit 0 billing migrate >/dev/null
quiet_ok billing import plans plans.csv
quiet_ok billing import accounts accounts.csv
quiet_ok billing import purchases purchases.csv
out=$(expect_exit 0 billing ingest usage.csv)
assert_contains "$out" "5 accepted" "usage ingested"
out=$(expect_exit 0 billing import adjustments adjustments.csv)
assert_contains "$out" "2 inserted" "adjustments imported"
quiet_ok billing run --from 2026-08-01 --to 2026-10-02
verify_ok "$BILLING_DB_URL" "the books"

# ---------------------------------------------------------------- errors

expect_exit 2 billing report --from 2026-08-01 --to 2026-10-05 >/dev/null # no -o
expect_exit 2 billing report --to 2026-10-05 -o r.html >/dev/null
expect_exit 2 billing report --from 2026-08-01 -o r.html >/dev/null
expect_exit 2 billing report --from 2026-13-01 --to 2026-10-05 -o r.html >/dev/null
expect_exit 2 billing report --from 2026-08-01 --to yesterday -o r.html >/dev/null
expect_exit 2 billing report --from 2026-10-05 --to 2026-08-01 -o r.html >/dev/null
expect_exit 2 billing report --from 2026-08-01 --to 2026-10-05 -o "$E2E_TMP" >/dev/null
expect_exit 2 billing report --from 2026-08-01 --to 2026-10-05 -o "" >/dev/null
expect_exit 2 billing report --from 2026-08-01 --to 2026-10-05 -o no-such-dir/r.html >/dev/null
expect_exit 2 billing report --from 2020-01-01 --to 2026-10-05 -o r.html >/dev/null # > 3 years
[[ ! -e r.html ]] || fail "a refused report wrote its file"

# A range with no closed date: a page that says so, exit 0.
expect_exit 0 billing report --from 2027-01-01 --to 2027-01-31 -o empty.html >/dev/null
grep -q 'id="no-closed-dates"' empty.html || fail "the empty range's page does not say so"
if grep -q '<svg' empty.html; then fail "the empty range's page has a chart"; fi

# ---------------------------------------------------------------- the page

# The range goes 3 dates past the last closed one: they are listed, not shown.
expect_exit 0 billing report --from 2026-08-01 --to 2026-10-05 -o report.html >/dev/null
[[ -s report.html ]] || fail "no report.html"
assert_eq 640 "$(stat -c %a report.html)" "the page's mode"
if compgen -G 'report.html.tmp*' >/dev/null; then fail "a temporary file is left"; fi
if grep -Eqi 'https?://' report.html; then
  fail "the page refers to the network: $(grep -Eoi 'https?://[^"<> ]*' report.html | head -3)"
fi
if grep -Eqi '<script|<link|<img|<iframe|<object|<embed|@import|url\(|src=|javascript:' report.html; then
  fail "the page loads or runs something: $(grep -Eoi '<script|<link|<img|<iframe|<object|<embed|@import|url\(|src=|javascript:' report.html | head -3)"
fi
grep -q '<svg' report.html || fail "the page has no inline SVG chart"
assert_eq 6 "$(grep -c '<svg' report.html)" "charts: 2 for credits, 2 per currency"
if grep -q 'goodwill' report.html; then fail "the page shows an adjustment's reason"; fi

# The same books and range: the same bytes.
expect_exit 0 billing report --from 2026-08-01 --to 2026-10-05 -o again.html >/dev/null
cmp -s report.html again.html || fail "a second report of the same range differs"

# Rendered by a browser: the DOM after parsing, and a screenshot.
headless --dump-dom "file://$E2E_TMP/report.html" >dom.html ||
  fail "chromium --dump-dom failed: $(tail -n 5 "$E2E_TMP/chromium.err")"
headless --screenshot="$E2E_TMP/report.png" --window-size=1200,2000 --hide-scrollbars \
  "file://$E2E_TMP/report.html" >/dev/null ||
  fail "chromium --screenshot failed: $(tail -n 5 "$E2E_TMP/chromium.err")"
[[ -s report.png ]] || fail "no screenshot"
if [[ -n ${E2E_KEEP_SCREENSHOT:-} ]]; then
  cp report.png "$E2E_KEEP_SCREENSHOT"
fi
# A 1200x2000 PNG with more than a few colours in it (not a blank page).
python3 - report.png <<'EOF' || fail "the screenshot is not a rendered page"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (1200, 2000), f"size {width}x{height}"
idat, pos = b"", 8
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + length]
    pos += 12 + length
pixels = zlib.decompress(idat)
assert len(set(pixels)) > 32, f"only {len(set(pixels))} distinct byte values"
assert len(data) > 30000, f"only {len(data)} bytes"
EOF

quiet_ok billing export reconciliation --from 2026-08-01 --to 2026-10-05 -o recon.csv
# The revenue export when it works; otherwise the revenue table itself.
if billing export revenue --from 2026-08-01 --to 2026-10-05 -o revenue.csv >/dev/null &&
  [[ $(head -n 1 revenue.csv) == business_date,currency,opening_deferred_cents,sold_cents,usage_cents,breakage_cents,revoked_cents,closing_deferred_cents ]]; then
  :
else
  {
    echo business_date,currency,opening_deferred_cents,sold_cents,usage_cents,breakage_cents,revoked_cents,closing_deferred_cents
    sql "SELECT business_date, currency, opening_deferred_cents, sold_cents, usage_cents,
           breakage_cents, revoked_cents, closing_deferred_cents FROM revenue
         WHERE business_date BETWEEN '2026-08-01' AND '2026-10-05'
         ORDER BY business_date, currency" | tr '\t' ','
  } >revenue.csv
fi

# The page's totals and tie-outs against the exports' sums, and against the
# cents worked out by hand (floor(value * credits gone / credits granted)):
# USD: sold 3 x 2,900 (plan) + 600 (p-1) + 500 (p-2) = 9,800.
#   usage: 965 (333 of 1,000 of 2,900) + 200 (100 of p-1's 300 of 600)
#   + 290 (100 of the roll-over lot's 300 of 870) + 150 (p-2 pays 30 of
#   overdraft at once: 30 of 100 of 500) = 1,605.
#   breakage: 09-01: 2,900 - 1,835 = 1,065 (367 above the cap; the 300 rolled
#   carry 1,835 - 965 = 870); 10-01: the roll-over lot's 870 - 290 = 580, and
#   the second plan lot's 700 above the cap 2,900 - 870 = 2,030: 3,675.
#   revoked: p-1's 200 left of 300: 600 - 200 = 400 (the refund's 350 is
#   money returned, not in the books). closing: 9,800 - 1,605 - 3,675 - 400 = 4,120.
# EUR: sold 3 x 1,000; usage 100 (50 of 500); breakage at 10-01 900 (the 450
#   rolled over carry 1,000 - 100); closing 3,000 - 100 - 900 = 2,000.
python3 - dom.html recon.csv revenue.csv <<'EOF' || fail "the page's figures are not the books'"
import csv, sys
from html.parser import HTMLParser

class Page(HTMLParser):
    """Text by id, table cells by row id and data-col, and tbody rows per table."""
    def __init__(self):
        super().__init__()
        self.stack, self.text, self.cells, self.rows = [], {}, {}, {}
        self.row_id = self.col = self.table = None
        self.in_tbody = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "meta", "line", "rect", "circle", "polyline"):
            return
        self.stack.append(a.get("id"))
        if tag == "table":
            self.table = a.get("id")
        if tag == "tbody":
            self.in_tbody = True
        if tag == "tr":
            self.row_id = a.get("id")
            if self.in_tbody:
                self.rows[self.table] = self.rows.get(self.table, 0) + 1
        if tag == "td":
            self.col = a.get("data-col")
    def handle_endtag(self, tag):
        if tag in ("br", "meta", "line", "rect", "circle", "polyline"):
            return
        if self.stack:
            self.stack.pop()
        if tag == "tbody":
            self.in_tbody = False
        if tag == "td":
            self.col = None
        if tag == "tr":
            self.row_id = None
    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.text[i] = self.text.get(i, "") + data
        if self.row_id and self.col:
            key = (self.row_id, self.col)
            self.cells[key] = self.cells.get(key, "") + data

page = Page()
page.feed(open(sys.argv[1], encoding="utf-8").read())
errors = []
def want(what, expected, got):
    if expected != got:
        errors.append(f"{what}: expected {expected!r}, page has {got!r}")

def number(text):
    return int(text.replace(",", ""))
def cents(text):
    whole, _, minor = text.replace(",", "").partition(".")
    assert len(minor) == 2, text
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(minor))

# Credits: the reconciliation export summed over accounts, per date.
with open(sys.argv[2], newline="", encoding="utf-8") as f:
    recon = list(csv.DictReader(f))
dates = sorted({r["business_date"] for r in recon})
want("closed dates in the credits table", len(dates), page.rows.get("credits"))
def day_sum(date, col):
    return sum(int(r[col]) for r in recon if r["business_date"] == date)
expect = {"opening": day_sum(dates[0], "opening_balance"),
          "closing": day_sum(dates[-1], "closing_balance"),
          "overdraft": day_sum(dates[-1], "overdraft")}
for col in ("granted", "purchased", "adjusted", "used", "expired", "revoked", "rolled_over"):
    expect[col] = sum(int(r[col]) for r in recon)
for col, value in expect.items():
    want(f"credits total {col}", value, number(page.cells.get(("credits-total", col), "0")))
# And by hand: 3 plan lots of 1,000 and 3 of 500; 400 bought; a grant of 50.
want("granted by hand", 4500, expect["granted"])
want("purchased by hand", 400, expect["purchased"])
want("adjusted by hand", 50, expect["adjusted"])
want("used by hand", 333 + 100 + 100 + 50 + 30, expect["used"])
want("expired by hand", 367 + 200 + 700 + 450, expect["expired"])
want("revoked by hand", 200, expect["revoked"])
want("credits tie-out", "ties out", page.cells.get(("credits-total", "check")))
tie = " ".join(page.text.get("tie-credits", "").split())
if not tie.endswith("ties out"):
    errors.append(f"credits tie-out line: {tie!r}")
closing = f"closing {expect['closing']:,}"
if closing not in tie:
    errors.append(f"credits tie-out line has no {closing!r}: {tie!r}")

# Revenue: the revenue rows per currency.
with open(sys.argv[3], newline="", encoding="utf-8") as f:
    revenue = list(csv.DictReader(f))
hand = {"USD": {"sold": 9800, "usage": 1605, "breakage": 3675, "revoked": 400,
                "opening_deferred": 0, "closing_deferred": 4120},
        "EUR": {"sold": 3000, "usage": 100, "breakage": 900, "revoked": 0,
                "opening_deferred": 0, "closing_deferred": 2000}}
for code, by_hand in hand.items():
    rows = [r for r in revenue if r["currency"] == code]
    want(f"{code} rows in its table", len(rows), page.rows.get(f"revenue-{code}"))
    books = {"opening_deferred": int(rows[0]["opening_deferred_cents"]),
             "closing_deferred": int(rows[-1]["closing_deferred_cents"])}
    for col in ("sold", "usage", "breakage", "revoked"):
        books[col] = sum(int(r[col + "_cents"]) for r in rows)
    for col, value in books.items():
        want(f"{code} {col} (books)", value,
             cents(page.cells.get((f"revenue-total-{code}", col), "0.00")))
        want(f"{code} {col} (by hand)", by_hand[col], value)
    want(f"{code} tie-out", "ties out", page.cells.get((f"revenue-total-{code}", "check")))
    tie = " ".join(page.text.get(f"tie-revenue-{code}", "").split())
    if not tie.endswith("ties out"):
        errors.append(f"{code} tie-out line: {tie!r}")
    money = f"closing deferred {by_hand['closing_deferred'] // 100:,}.{by_hand['closing_deferred'] % 100:02d} {code}"
    if money not in tie:
        errors.append(f"{code} tie-out line has no {money!r}: {tie!r}")

if "2026-10-03 to 2026-10-05" not in page.text.get("open-dates", ""):
    errors.append(f"open dates note: {page.text.get('open-dates')!r}")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# A month inside the range ties out on its own (its opening is the closing
# of the month before).
expect_exit 0 billing report --from 2026-09-01 --to 2026-09-30 -o september.html >/dev/null
assert_eq 1 "$(grep -c 'id="tie-credits".*ties out' september.html)" "September's credits tie out"
assert_eq 2 "$(grep -c 'id="tie-revenue-[A-Z]*".*ties out' september.html)" \
  "September's revenue ties out in both currencies"

# Books that do not tie out are shown as such, and whatever text a database
# holds is escaped: a revenue row of a made-up currency that is markup, whose
# closing is 1 cent off.
sql "INSERT INTO revenue (business_date, currency, opening_deferred_cents, sold_cents,
       usage_cents, breakage_cents, revoked_cents, closing_deferred_cents)
     VALUES ('2026-09-02', '<b>&\"x''', 0, 500, 100, 0, 0, 401)"
expect_exit 0 billing report --from 2026-09-01 --to 2026-09-30 -o off.html >/dev/null
grep -q '&lt;b&gt;&amp;&quot;x&#39;' off.html || fail "the currency text is not escaped"
if grep -q '<b>&"x' off.html; then fail "raw markup from the database reached the page"; fi
grep -q 'differs by 0.01' off.html || fail "a revenue row 1 cent off is not shown"
sql "DELETE FROM revenue WHERE business_date = '2026-09-02' AND currency LIKE '<b>%'"
