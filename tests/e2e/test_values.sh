# shellcheck shell=bash
# Lot values, revenue and breakage (SPEC 17) through `billing` only: the lots
# and revenue exports of 59 dates (2026-02-01..2026-03-31), byte for byte,
# every figure worked out by hand below; revenue rolls forward; the deferred
# value at the end is what the live lots still hold; re-runs and repeated
# exports change no byte; `billing verify` passes and catches tampered values.
#
# The floor rule: after c of a lot's G credits have left it, floor(value * c
# / G) cents of its value have been released; each movement releases the
# difference. Usage, debits and overdraft paid at a lot's creation release as
# usage; expiry and credits above the cap at a reset as breakage; failed
# payments and refunds as revoked; rolled credits (which leave the plan lot
# before those above the cap) move their value into the roll-over lot. Sold
# is the value of the lots made that date, roll-over lots not.
#
# Plans: basic (USD, 1000 credits for 2900 cents, cap 300), euro (EUR, 500
# credits for 1250 cents, no cap), payg (USD, no plan credits, 1234 cents a
# 1000 credits). Voice costs 1 credit a minute. All accounts UTC.
#
#  1 basic, anchor 02-01 (SPEC 17's worked example).
#    02-01 plan:2026-02-01 made: 1000 credits, 2900 sold.
#    02-10 333 used: floor(2900 * 333 / 1000) = floor(965.7) = 965 usage.
#    03-01 reset: 667 left. 300 roll first: c = 633, floor(2900 * 633 / 1000)
#          = 1835, 1835 - 965 = 870 moves into rollover:2026-03-01 (value 870,
#          expires 03-31); then the 367 above the cap: c = 1000, 2900 - 1835 =
#          1065 breakage. The plan lot released 870 + 1065 = 1935 that date.
#          plan:2026-03-01 made: 2900 sold.
#    03-10 101 used, from the roll-over lot (it expires first, 03-31 < 04-01):
#          floor(870 * 101 / 300) = floor(292.9) = 292 usage; 199 left.
#    03-31 the roll-over lot expires with 199: 870 - 292 = 578 breakage
#          (292 + 578 = 870: all its value, by the floor rule).
#  2 euro, anchor 02-10: EUR's rows start on 02-10, its first lot.
#    02-10 plan:2026-02-10: 500 credits, 1250 sold (EUR).
#    02-15 7 used: floor(1250 * 7 / 500) = floor(17.5) = 17 usage.
#    03-10 reset, no cap: all 493 roll: 1250 - 17 = 1233 into
#          rollover:2026-03-10 (expires 04-09); plan:2026-03-10: 1250 sold.
#    03-20 10 used from the roll-over lot (04-09 < 04-10): floor(1233 * 10 /
#          493) = floor(25.01) = 25 usage.
#  3 payg: purchase p3 of 600 credits for 1000 cents on 02-05 (sold 1000).
#    02-06 50 used: floor(1000 * 50 / 600) = floor(83.3) = 83 usage.
#    02-07 refund r3 of 200 credits (400 cents returned: not the lot's value):
#          c = 250, floor(1000 * 250 / 600) = 416, 416 - 83 = 333 revoked.
#  4 payg, auto-recharge (threshold 100, 300 credits, 1 a day).
#    02-01 balance 0 < 100: one recharge, (300 * 1234 + 500) div 1000 = 370
#          cents, sold on 02-01 (the date that books it; valid from 02-02).
#    02-03 40 used: floor(370 * 40 / 300) = floor(49.3) = 49 usage; 260 left.
#    The payment fails (imported after 02-03 closed): 02-04 revokes the 260
#          left at 00:00: 370 - 49 = 321 revoked; auto-recharge is off.
#  5 payg: grant g5 (100 credits, amount_cents empty) on 02-02: a lot of
#    value 0, sold 0; 30 used on 02-03 release 0. Grant g5b (20 credits,
#    amount_cents 0, expiring 03-15) on 02-20: it expires unused on 03-15,
#    breakage 0.
#  6 payg: 40 used on 02-05 with no lot: overdraft 40, no value moves.
#    02-06 purchase -p6 of 500 credits for 1000 cents (sold 1000) pays the 40
#          at creation: floor(1000 * 40 / 500) = 80 usage, though 02-06 used
#          nothing.
#    02-08 debit d6 of 33: c = 73, floor(1000 * 73 / 500) = 146, 146 - 80 = 66
#          usage.
#    (A purchase id "=HYPERLINK(1)" is rejected, bad_id; ids are
#    A-Za-z0-9._:-, and every lot name starts with its kind, so no lot cell
#    can start like a formula: the check below proves the export clean.)
#
# Revenue, USD (accounts 1, 3, 4, 5, 6), dates with movements:
#   02-01 opening 0, sold 2900 + 370 = 3270, closing 3270
#   02-02 sold 0 (g5 is worth 0), closing 3270
#   02-03 usage 49 (account 4; account 5's 30 release 0), closing 3221
#   02-04 revoked 321, closing 2900
#   02-05 sold 1000 (p3), closing 3900
#   02-06 sold 1000 (-p6), usage 83 + 80 = 163, closing 4737
#   02-07 revoked 333, closing 4404
#   02-08 usage 66, closing 4338
#   02-10 usage 965, closing 3373
#   02-20 sold 0 (g5b), closing 3373
#   03-01 sold 2900, breakage 1065, closing 5208
#   03-10 usage 292, closing 4916
#   03-15 breakage 0 (g5b), closing 4916
#   03-31 breakage 578, closing 4338
#   At the end the live lots hold 2900 (plan:2026-03-01, untouched) + 1000 -
#   416 = 584 (p3) + 0 (g5) + 1000 - 146 = 854 (-p6) = 4338.
# Revenue, EUR (account 2):
#   02-10 sold 1250, closing 1250; 02-15 usage 17, closing 1233;
#   03-10 sold 1250 (the 1233 rolled are not revenue), closing 2483;
#   03-20 usage 25, closing 2458 = 1233 - 25 = 1208 (roll-over lot) + 1250.
# Every other date carries its opening to its closing with zeros.

first=2026-02-01
last=2026-03-31

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,300
euro,Euro,monthly,500,1250,2000,EUR,
payg,Pay as you go,monthly,0,0,1234,USD,
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,basic,2026-02-01,0,0,0,1
2,euro,2026-02-10,0,0,0,1
3,payg,2026-02-01,0,0,0,1
4,payg,2026-02-01,1,100,300,1
5,payg,2026-02-01,0,0,0,1
6,payg,2026-02-01,0,0,0,1
CSV
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p3,3,2026-02-05T09:00:00Z,600,1000
-p6,6,2026-02-06T10:00:00Z,500,1000
=HYPERLINK(1),6,2026-02-06T11:00:00Z,1,1
CSV
cat >adjustments.csv <<'CSV'
adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason
g5,5,2026-02-02T08:00:00Z,grant,100,,,,goodwill
g5b,5,2026-02-20T00:00:00Z,grant,20,0,,2026-03-15T00:00:00Z,trial
r3,3,2026-02-07T12:00:00Z,refund,200,400,p3,,partial refund
d6,6,2026-02-08T09:00:00Z,debit,33,,,,correction
CSV
# Voice: ceil(duration_s / 60) credits: 19980 s 333, 6060 s 101, 420 s 7,
# 600 s 10, 3000 s 50, 2400 s 40, 1800 s 30.
cat >usage.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
e1a,1,voice,2026-02-10T10:00:00Z,completed,,19980,
e1b,1,voice,2026-03-10T10:00:00Z,completed,,6060,
e2a,2,voice,2026-02-15T10:00:00Z,completed,,420,
e2b,2,voice,2026-03-20T10:00:00Z,completed,,600,
e3a,3,voice,2026-02-06T10:00:00Z,completed,,3000,
e4a,4,voice,2026-02-03T10:00:00Z,completed,,2400,
e5a,5,voice,2026-02-03T10:00:00Z,completed,,1800,
e6a,6,voice,2026-02-05T10:00:00Z,completed,,2400,
CSV

expect_exit 0 billing migrate >/dev/null
expect_exit 0 billing import plans plans.csv >/dev/null
expect_exit 0 billing import accounts accounts.csv >/dev/null
out=$(expect_exit 0 billing import purchases purchases.csv 2>"$E2E_TMP/purchases.err")
assert_contains "$out" "3 rows, 2 inserted, 0 updated, 0 unchanged, 1 rejected"
assert_contains "$(cat "$E2E_TMP/purchases.err")" "purchases.csv:4: rejected: bad_id" \
  "a formula as a purchase id"
out=$(expect_exit 0 billing import adjustments adjustments.csv)
assert_contains "$out" "4 rows, 4 inserted, 0 updated, 0 unchanged, 0 rejected"
out=$(expect_exit 0 billing ingest usage.csv)
assert_contains "$out" "8 accepted" "usage ingested"

# Account 4's recharge of 02-01 fails, answered after 02-03 closed.
expect_exit 0 billing run --from "$first" --to 2026-02-03 >/dev/null 2>&1
assert_eq "idempotency_key,account_id,business_date,credits,amount_cents,currency,status
recharge:4:2026-02-01:1,4,2026-02-01,300,370,USD,pending" \
  "$(expect_exit 0 billing export payments --from "$first" --to 2026-02-03)" "the recharge request"
printf 'idempotency_key,status,provider_ref,failure_reason\nrecharge:4:2026-02-01:1,failed,ch_4,card_declined\n' \
  >results.csv
out=$(expect_exit 0 billing payments import results.csv)
assert_contains "$out" "1 rows, 1 applied" "the failed payment"
expect_exit 0 billing run --from 2026-02-04 --to "$last" >/dev/null 2>&1
verify_ok "$BILLING_DB_URL" "after the run"

# ------------------------------------------------------------ the lots

expect_exit 0 billing export lots --from "$first" --to "$last" -o lots.csv
cat >lots.expected <<'CSV'
business_date,account_id,lot,kind,valid_from,expires_at,opening,created,used,expired,revoked,rolled_out,closing,value_cents,released_cents
2026-02-01,1,plan:2026-02-01T00:00:00Z,plan,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,0,1000,0,0,0,0,1000,2900,0
2026-02-01,4,recharge:recharge:4:2026-02-01:1,purchased,2026-02-02T00:00:00Z,2027-02-02T00:00:00Z,0,300,0,0,0,0,300,370,0
2026-02-02,5,bonus:g5,bonus,2026-02-02T08:00:00Z,2027-02-02T08:00:00Z,0,100,0,0,0,0,100,0,0
2026-02-03,4,recharge:recharge:4:2026-02-01:1,purchased,2026-02-02T00:00:00Z,2027-02-02T00:00:00Z,300,0,40,0,0,0,260,370,49
2026-02-03,5,bonus:g5,bonus,2026-02-02T08:00:00Z,2027-02-02T08:00:00Z,100,0,30,0,0,0,70,0,0
2026-02-04,4,recharge:recharge:4:2026-02-01:1,purchased,2026-02-02T00:00:00Z,2027-02-02T00:00:00Z,260,0,0,0,260,0,0,370,321
2026-02-05,3,purchase:p3,purchased,2026-02-05T09:00:00Z,2027-02-05T09:00:00Z,0,600,0,0,0,0,600,1000,0
2026-02-06,3,purchase:p3,purchased,2026-02-05T09:00:00Z,2027-02-05T09:00:00Z,600,0,50,0,0,0,550,1000,83
2026-02-06,6,purchase:-p6,purchased,2026-02-06T10:00:00Z,2027-02-06T10:00:00Z,0,500,40,0,0,0,460,1000,80
2026-02-07,3,purchase:p3,purchased,2026-02-05T09:00:00Z,2027-02-05T09:00:00Z,550,0,0,0,200,0,350,1000,333
2026-02-08,6,purchase:-p6,purchased,2026-02-06T10:00:00Z,2027-02-06T10:00:00Z,460,0,33,0,0,0,427,1000,66
2026-02-10,1,plan:2026-02-01T00:00:00Z,plan,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,1000,0,333,0,0,0,667,2900,965
2026-02-10,2,plan:2026-02-10T00:00:00Z,plan,2026-02-10T00:00:00Z,2026-03-10T00:00:00Z,0,500,0,0,0,0,500,1250,0
2026-02-15,2,plan:2026-02-10T00:00:00Z,plan,2026-02-10T00:00:00Z,2026-03-10T00:00:00Z,500,0,7,0,0,0,493,1250,17
2026-02-20,5,bonus:g5b,bonus,2026-02-20T00:00:00Z,2026-03-15T00:00:00Z,0,20,0,0,0,0,20,0,0
2026-03-01,1,plan:2026-02-01T00:00:00Z,plan,2026-02-01T00:00:00Z,2026-03-01T00:00:00Z,667,0,0,367,0,300,0,2900,1935
2026-03-01,1,rollover:2026-03-01T00:00:00Z,rollover,2026-03-01T00:00:00Z,2026-03-31T00:00:00Z,0,300,0,0,0,0,300,870,0
2026-03-01,1,plan:2026-03-01T00:00:00Z,plan,2026-03-01T00:00:00Z,2026-04-01T00:00:00Z,0,1000,0,0,0,0,1000,2900,0
2026-03-10,1,rollover:2026-03-01T00:00:00Z,rollover,2026-03-01T00:00:00Z,2026-03-31T00:00:00Z,300,0,101,0,0,0,199,870,292
2026-03-10,2,plan:2026-02-10T00:00:00Z,plan,2026-02-10T00:00:00Z,2026-03-10T00:00:00Z,493,0,0,0,0,493,0,1250,1233
2026-03-10,2,rollover:2026-03-10T00:00:00Z,rollover,2026-03-10T00:00:00Z,2026-04-09T00:00:00Z,0,493,0,0,0,0,493,1233,0
2026-03-10,2,plan:2026-03-10T00:00:00Z,plan,2026-03-10T00:00:00Z,2026-04-10T00:00:00Z,0,500,0,0,0,0,500,1250,0
2026-03-15,5,bonus:g5b,bonus,2026-02-20T00:00:00Z,2026-03-15T00:00:00Z,20,0,0,20,0,0,0,0,0
2026-03-20,2,rollover:2026-03-10T00:00:00Z,rollover,2026-03-10T00:00:00Z,2026-04-09T00:00:00Z,493,0,10,0,0,0,483,1233,25
2026-03-31,1,rollover:2026-03-01T00:00:00Z,rollover,2026-03-01T00:00:00Z,2026-03-31T00:00:00Z,199,0,0,199,0,0,0,870,578
CSV
diff lots.expected lots.csv >lots.diff || fail "the lots export differs from the hand-computed one:
$(cat lots.diff)"
# One date alone is that date's rows: the reset of 03-01 (SPEC 17's example).
expect_exit 0 billing export lots --from 2026-03-01 --to 2026-03-01 -o lots-0301.csv
{ head -n 1 lots.expected; grep '^2026-03-01,' lots.expected; } >lots-0301.expected
diff lots-0301.expected lots-0301.csv >lots.diff || fail "the lots export of 03-01:
$(cat lots.diff)"

# ---------------------------------------------------------- the revenue

# The dates with movements, worked out above (date currency opening sold
# usage breakage revoked closing); every other date from the currency's
# first row carries its closing with zeros.
cat >revenue.moves <<'EOF'
2026-02-01 USD 0 3270 0 0 0 3270
2026-02-02 USD 3270 0 0 0 0 3270
2026-02-03 USD 3270 0 49 0 0 3221
2026-02-04 USD 3221 0 0 0 321 2900
2026-02-05 USD 2900 1000 0 0 0 3900
2026-02-06 USD 3900 1000 163 0 0 4737
2026-02-07 USD 4737 0 0 0 333 4404
2026-02-08 USD 4404 0 66 0 0 4338
2026-02-10 USD 4338 0 965 0 0 3373
2026-03-01 USD 3373 2900 0 1065 0 5208
2026-03-10 USD 5208 0 292 0 0 4916
2026-03-31 USD 4916 0 0 578 0 4338
2026-02-10 EUR 0 1250 0 0 0 1250
2026-02-15 EUR 1250 0 17 0 0 1233
2026-03-10 EUR 1233 1250 0 0 0 2483
2026-03-20 EUR 2483 0 25 0 0 2458
EOF
python3 - revenue.moves "$first" "$last" >revenue.expected <<'EOF'
import datetime, sys
moves, first, last = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
starts = {}
for line in open(moves):
    date, currency, *cents = line.split()
    rows[(date, currency)] = cents
    starts[currency] = min(starts.get(currency, date), date)
print("business_date,currency,opening_deferred_cents,sold_cents,usage_cents,breakage_cents,revoked_cents,closing_deferred_cents")
closing = {}
day = datetime.date.fromisoformat(first)
while day <= datetime.date.fromisoformat(last):
    date = day.isoformat()
    for currency in sorted(starts):
        if date < starts[currency]:
            continue
        cents = rows.get((date, currency))
        if cents is None:
            cents = [closing[currency], "0", "0", "0", "0", closing[currency]]
        closing[currency] = cents[-1]
        print(",".join([date, currency] + cents))
    day += datetime.timedelta(days=1)
EOF
expect_exit 0 billing export revenue --from "$first" --to "$last" -o revenue.csv
diff revenue.expected revenue.csv >revenue.diff || fail "the revenue export differs from the hand-computed one:
$(cat revenue.diff)"
assert_eq 109 "$(csv_rows revenue.csv)" "59 USD rows from 02-01, 50 EUR rows from 02-10"
# The reset date alone (breakage above the roll-over cap: 1065), and the
# date EUR starts.
expect_exit 0 billing export revenue --from 2026-03-01 --to 2026-03-01 -o revenue-0301.csv
assert_eq "business_date,currency,opening_deferred_cents,sold_cents,usage_cents,breakage_cents,revoked_cents,closing_deferred_cents
2026-03-01,EUR,1233,0,0,0,0,1233
2026-03-01,USD,3373,2900,0,1065,0,5208" "$(cat revenue-0301.csv)" "revenue of the reset date"
expect_exit 0 billing export revenue --from 2026-02-09 --to 2026-02-10 -o revenue-0210.csv
assert_eq "business_date,currency,opening_deferred_cents,sold_cents,usage_cents,breakage_cents,revoked_cents,closing_deferred_cents
2026-02-09,USD,4338,0,0,0,0,4338
2026-02-10,EUR,0,1250,0,0,0,1250
2026-02-10,USD,4338,0,965,0,0,3373" "$(cat revenue-0210.csv)" "EUR starts with its first lot"

# Independent of the figures above: every revenue row ties out and carries
# its closing to the next date's opening, with no date missing; sold and
# released agree with the lots export date by date; the deferred value at
# the end is what the live lots still hold (value - all they released);
# lots with nothing left released all of their value.
python3 - revenue.csv lots.csv <<'EOF' || fail "the revenue and lots exports do not agree (see above)"
import csv, datetime, sys
from collections import defaultdict
currency_of = {"1": "USD", "2": "EUR", "3": "USD", "4": "USD", "5": "USD", "6": "USD"}
revenue = list(csv.DictReader(open(sys.argv[1], newline="")))
lots = list(csv.DictReader(open(sys.argv[2], newline="")))
n = lambda r, k: int(r[k])
errors = []
last = {}
for r in revenue:
    c = r["currency"]
    if n(r, "closing_deferred_cents") != n(r, "opening_deferred_cents") + n(r, "sold_cents") - n(r, "usage_cents") - n(r, "breakage_cents") - n(r, "revoked_cents"):
        errors.append(f"row does not tie out: {r}")
    if c in last:
        prev = last[c]
        if datetime.date.fromisoformat(r["business_date"]) - datetime.date.fromisoformat(prev["business_date"]) != datetime.timedelta(days=1):
            errors.append(f"{c}: a date is missing before {r['business_date']}")
        if n(prev, "closing_deferred_cents") != n(r, "opening_deferred_cents"):
            errors.append(f"{c}: closing of {prev['business_date']} != opening of {r['business_date']}")
    elif n(r, "opening_deferred_cents") != 0:
        errors.append(f"{c}: the first row opens with {r['opening_deferred_cents']}")
    last[c] = r
sold = defaultdict(int)
released = defaultdict(int)  # usage + breakage + revoked (roll-overs move value, not revenue)
value = {}
released_by_lot = defaultdict(int)
closing_of = {}
for r in lots:
    key = (r["business_date"], currency_of[r["account_id"]])
    lot = (r["account_id"], r["lot"])
    if n(r, "created") > 0:
        value[lot] = n(r, "value_cents")
        if r["kind"] == "rollover":
            released[key] -= n(r, "value_cents")
        else:
            sold[key] += n(r, "value_cents")
    released[key] += n(r, "released_cents")
    released_by_lot[lot] += n(r, "released_cents")
    closing_of[lot] = n(r, "closing")
for r in revenue:
    key = (r["business_date"], r["currency"])
    if sold[key] != n(r, "sold_cents"):
        errors.append(f"{key}: sold {r['sold_cents']}, lots made {sold[key]}")
    if released[key] != n(r, "usage_cents") + n(r, "breakage_cents") + n(r, "revoked_cents"):
        errors.append(f"{key}: released {released[key]} by the lots")
deferred = defaultdict(int)
for lot, v in value.items():
    left = v - released_by_lot[lot]
    if closing_of[lot] == 0 and left != 0:
        errors.append(f"{lot}: used up but {left} cents not released")
    deferred[currency_of[lot[0]]] += left
for c, r in last.items():
    if deferred[c] != n(r, "closing_deferred_cents"):
        errors.append(f"{c}: the live lots hold {deferred[c]}, revenue closes with {r['closing_deferred_cents']}")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF

# The credits of the worked example, as the reconciliation has them.
expect_exit 0 billing export reconciliation --from "$first" --to "$last" -o recon.csv
#                                      open,gr,pur,roll,used,exp,rev,close,od,send
assert_eq "667,1000,0,300,0,367,0,1300,0,1" "$(recon_row recon.csv 2026-03-01 1)" "the reset of account 1"
assert_eq "-40,0,500,0,0,0,0,460,0,1" "$(recon_row recon.csv 2026-02-06 6)" "the purchase pays the overdraft"
assert_eq "260,0,0,0,0,0,260,0,0,0" "$(recon_row recon.csv 2026-02-04 4)" "the failed payment"

# Formula cells: none in the lots export unneutralised (SPEC 10); the lot of
# purchase -p6 keeps its name, which starts with "purchase:".
python3 - lots.csv <<'EOF' || fail "the lots export has formula cells"
import csv, re, sys
number = re.compile(r"^[+-]?\d+(\.\d+)?$")
rows = list(csv.reader(open(sys.argv[1], newline="")))
bad = [c for r in rows[1:] for c in r if c and c[0] in "=+-@\t\r" and not number.match(c)]
sys.exit(print(f"not neutralised: {bad}", file=sys.stderr) or 1 if bad else 0)
EOF

# --------------------------------------------- re-runs, verify, tampering

# Exporting twice, and re-running the closed dates, change no byte; the lot
# names stay.
export_values() { # PREFIX
  quiet_ok billing export lots --from "$first" --to "$last" -o "$1.lots.csv"
  quiet_ok billing export revenue --from "$first" --to "$last" -o "$1.revenue.csv"
}
export_values again
cmp -s lots.csv again.lots.csv || fail "exporting the lots twice gave different files"
cmp -s revenue.csv again.revenue.csv || fail "exporting the revenue twice gave different files"
out=$(expect_exit 0 billing run --from "$first" --to "$last")
assert_contains "$out" "2026-03-31  already complete" "re-run of the closed dates"
export_values rerun
cmp -s lots.csv rerun.lots.csv || fail "a re-run changed the lots export"
cmp -s revenue.csv rerun.revenue.csv || fail "a re-run changed the revenue export"
verify_ok "$BILLING_DB_URL" "after the re-run"
out=$(expect_exit 0 billing verify)
for check in "lot values follow the floor rule" "revenue rows tie out" \
  "revenue = the reconciliation's values per date and currency" \
  "value conserved per currency: sold = released + deferred" \
  "an account's lots hold the deferred value of its last row"; do
  assert_contains "$out" "ok      $check" "verify runs the value check"
done

# A lot's released value off by one cent: the floor rule, the account's
# deferred value and the conservation per currency all break.
for table in lots spent_lots; do
  sql "UPDATE $table SET released_cents = released_cents + 1 WHERE account_id = 3 AND source = 'purchase:p3'"
done
out=$(expect_exit 1 billing verify 2>/dev/null)
assert_contains "$out" "BREACH  lot values follow the floor rule (released = value x left / granted)" \
  "a tampered lot value"
assert_contains "$out" "BREACH  an account's lots hold the deferred value of its last row" "the lot's account"
assert_contains "$out" "BREACH  value conserved per currency: sold = released + deferred" "USD conserved"
assert_contains "$out" "currency=USD" "the breach names the currency"
for table in lots spent_lots; do
  sql "UPDATE $table SET released_cents = released_cents - 1 WHERE account_id = 3 AND source = 'purchase:p3'"
done
verify_ok "$BILLING_DB_URL" "the lot restored"

# A night moves a lot to spent_lots in the transaction that takes its last
# credit (schema 7): the worked example's October plan lot, all gone at the
# March reset, is spent; a copy of it left among the live lots breaks verify.
assert_eq "1" "$(sql "SELECT COUNT(*) FROM spent_lots WHERE account_id = 1 AND kind = 'plan'
  AND source = 'plan:2026-02-01T00:00:00Z'")" "the used plan lot is spent"
assert_eq "0" "$(sql "SELECT COUNT(*) FROM lots WHERE remaining = 0")" "no live lot without credits"
lot_columns="account_id, lot_seq, kind, source, granted, remaining, valid_from_us, expires_at_us,
  created_date, value_cents, released_cents, start_remaining"
sql "INSERT INTO lots ($lot_columns) SELECT $lot_columns FROM spent_lots WHERE account_id = 1
  AND source = 'plan:2026-02-01T00:00:00Z'"
out=$(expect_exit 1 billing verify 2>/dev/null)
assert_contains "$out" "BREACH  a lot is live while it holds credits and spent once it holds none" \
  "a spent lot among the live ones"
sql "DELETE FROM lots WHERE account_id = 1 AND source = 'plan:2026-02-01T00:00:00Z'"
verify_ok "$BILLING_DB_URL" "the live lots restored"

# A completed date's figures are summed from its chunks' rows (schema 8);
# verify sums its reconciliation and charges rows again.
sql "UPDATE business_days SET events_sms = events_sms + 1, credits_used = credits_used - 2
  WHERE business_date = '2026-02-10'"
out=$(expect_exit 1 billing verify 2>/dev/null)
assert_contains "$out" "BREACH  a completed date's figures = the sums of its reconciliation and charges: business_date=2026-02-10 figure=credits_used" \
  "a tampered figure of the date"
assert_contains "$out" "figure=events_sms" "the events by channel"
sql "UPDATE business_days SET events_sms = events_sms - 1, credits_used = credits_used + 2
  WHERE business_date = '2026-02-10'"
verify_ok "$BILLING_DB_URL" "the figures restored"

# A revenue row's usage off by one cent: the row no longer ties out, nor
# equals the reconciliation's values of its date.
sql "UPDATE revenue SET usage_cents = usage_cents + 1 WHERE business_date = '2026-02-10' AND currency = 'USD'"
out=$(expect_exit 1 billing verify 2>/dev/null)
assert_contains "$out" "BREACH  revenue rows tie out, and closing of D = opening of the next date" \
  "a tampered revenue row"
assert_contains "$out" "BREACH  revenue = the reconciliation's values per date and currency" \
  "the row against the reconciliation"
assert_contains "$out" "business_date=2026-02-10" "the breach names the date"
sql "UPDATE revenue SET usage_cents = usage_cents - 1 WHERE business_date = '2026-02-10' AND currency = 'USD'"
verify_ok "$BILLING_DB_URL" "at the end"
