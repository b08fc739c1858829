# shellcheck shell=bash
# `billing explain ACCOUNT --date D [--json]` (SPEC 17): an account's closed
# date in words, every figure worked out by hand below. Plan basic: 1000
# credits a month for 2900 cents, roll-over cap 300, 1500 cents a 1000 extra.
# Anchors 2026-10-01. voice: 1 credit a started minute; sms: 1 a 160 chars.
#
#  1 (UTC) 10-01 plan lot 1000 (value 2900). 10-05 usage 60 (sms 1600 chars
#    10, voice 3000 s 50, a failed sms 0) -> 940. 10-10 purchase p1 500 for
#    1000 cents. 10-20 voice 30000 s 500 -> plan lot 440 (released
#    floor(2900*560/1000) = 1624, 1276 deferred).
#    11-01 reset: 300 roll (cap) into rollover:2026-11-01 (value
#    floor(2900*860/1000) - 1624 = 870), 140 expire (breakage 2900 - 2494 =
#    406), plan:2026-11-01 1000 granted. Closing 1800, deferred 4770.
#    11-03 voice 86400 s (1440) at 10:00 and 23400 s (390) at 11:00: 1830
#    taken rollover 300, plan 1000 (same expiry, roll-over first), p1 500,
#    30 into overdraft; refund r2 of p1 at 12:00 revokes 0 (used up).
#    11-04 purchase p2 700 for 1400 cents pays the 30 off (60 cents usage).
#    11-05 debit d1 50 from p2 -> 620. 11-06 purchase p3 300 for 600 cents at
#    10:00, refund r1 of 100 of it at 11:00 (200 cents revoked), usage 3: an
#    sms of 11-05 ingested after 11-05 closed (late, at 00:00) and one of 320
#    chars at 12:00, both from p2 -> 617 (released floor(1400*83/700) = 166).
#  2 America/New_York: R_1 = 11-01 00:00 EDT = 04:00Z, R_2 = 12-01 00:00 EST =
#    05:00Z. 10-15 voice 100 -> 900. 11-01 02:00Z (10-31 22:00 local) sms 1
#    from the October lot, then at 04:00Z 300 roll (to 12-01T05:00Z), 599
#    expire, 1000 granted.
#  3 cancelled 10-05: 300 roll (to 11-04), 700 expire; 11-04 the roll-over
#    expires; from 11-05 the dates are dormant (no reconciliation row).
#  4 auto-recharge (threshold 100, 200 credits, 300 cents): 10-08 voice 950
#    -> 50, recharge lot valid from 10-09. 11-01: 50 roll, 1000 granted.
#    After 11-05 closed: its payment fails (revoked at 11-06 00:00: 200), a
#    late grant g4 (effective 11-02) and a late purchase p4 (11-04), applied
#    at 11-06 00:00 in their own time order.
#  5 anchored 2026-11-08: takes part from that date.
#  6 anchored 2026-10-06: 10-20 voice 1000 -> 0, 10-21 voice 10 into
#    overdraft. 11-06: a late sms of 11-05 (charged at 00:00Z, into overdraft:
#    11), the reset's grant pays the 11 off, an sms at 09:00 takes 1 from it.
#    The usage entry, numbered after the grant, holds the late event charged
#    before it.

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,300
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day,time_zone
1,basic,2026-10-01,0,0,0,1,
2,basic,2026-10-01,0,0,0,1,America/New_York
3,basic,2026-10-01,0,0,0,1,
4,basic,2026-10-01,1,100,200,1,
5,basic,2026-11-08,0,0,0,1,
6,basic,2026-10-06,0,0,0,1,
CSV
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p1,1,2026-10-10T12:00:00Z,500,1000
p2,1,2026-11-04T08:00:00Z,700,1400
p3,1,2026-11-06T10:00:00Z,300,600
CSV
cat >changes.csv <<'CSV'
change_id,account_id,effective_date,action,plan_id
c3,3,2026-10-05,cancel,
CSV
cat >adjustments.csv <<'CSV'
adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason
d1,1,2026-11-05T09:00:00Z,debit,50,,,,correction
r1,1,2026-11-06T11:00:00Z,refund,100,200,p3,,customer asked
r2,1,2026-11-03T12:00:00Z,refund,,,p1,,goodwill
CSV
cat >u1.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
e1,1,sms,2026-10-05T09:00:00Z,delivered,1600,,10
e2,1,voice,2026-10-05T10:00:00Z,completed,,3000,50
e3,1,sms,2026-10-05T11:00:00Z,failed,100,,0
e4,1,voice,2026-10-20T14:00:00Z,completed,,30000,
e5,1,voice,2026-11-03T10:00:00Z,completed,,86400,
e6,1,voice,2026-11-03T11:00:00Z,completed,,23400,
e7,1,sms,2026-11-06T12:00:00Z,sent,320,,
n1,2,voice,2026-10-15T12:00:00Z,completed,,6000,
n2,2,sms,2026-11-01T02:00:00Z,sent,160,,
f1,4,voice,2026-10-08T10:00:00Z,completed,,57000,
o1,6,voice,2026-10-20T10:00:00Z,completed,,60000,
o2,6,voice,2026-10-21T10:00:00Z,completed,,600,
o3,6,sms,2026-11-06T09:00:00Z,sent,160,,
CSV
# What arrives after 11-05 closed.
cat >u2.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
e8,1,sms,2026-11-05T20:00:00Z,sent,160,,
o4,6,sms,2026-11-05T21:00:00Z,sent,160,,
CSV
cat >late-adjustments.csv <<'CSV'
adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason
g4,4,2026-11-02T06:00:00Z,grant,80,,,,late goodwill
CSV
cat >late-purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p4,4,2026-11-04T15:00:00Z,100,150
CSV
cat >results.csv <<'CSV'
idempotency_key,status,provider_ref,failure_reason
recharge:4:2026-10-08:1,failed,ref-4,card_declined
CSV

# load URL CUT: the scenario on URL, closing dates up to CUT first (then
# `after_cut` URL runs, when defined), then up to 11-05, the late facts, and
# the dates up to 11-10.
load() {
  local url=$1 cut=$2 kind
  quiet_ok billing --db "$url" migrate
  for kind in plans accounts purchases changes adjustments; do
    quiet_ok billing --db "$url" import "$kind" "$kind.csv"
  done
  quiet_ok billing --db "$url" ingest u1.csv
  quiet_ok billing --db "$url" run --from 2026-10-01 --to "$cut"
  if declare -F after_cut >/dev/null; then
    after_cut "$url"
  fi
  quiet_ok billing --db "$url" run --to 2026-11-05 --from "$(date -u -d "$cut + 1 day" +%F)"
  quiet_ok billing --db "$url" ingest u2.csv
  quiet_ok billing --db "$url" import adjustments late-adjustments.csv
  quiet_ok billing --db "$url" import purchases late-purchases.csv
  quiet_ok billing --db "$url" payments import results.csv
  quiet_ok billing --db "$url" run --from 2026-11-06 --to 2026-11-10
}
load "$BILLING_DB_URL" 2026-11-04
verify_ok "$BILLING_DB_URL" "the explain scenario"

# explained ACCOUNT DATE [--json]: explain's stdout; the test fails unless it exits 0.
explained() {
  expect_exit 0 billing explain "$1" --date "$2" "${@:3}" 2>/dev/null
}

# --- the text, line for line ---------------------------------------------
out=$(explained 1 2026-11-06)
assert_eq "account 1, business date 2026-11-06 (closed)
plan basic (Basic), USD; time zone UTC

opening at 2026-11-06T00:00:00Z: balance 620 credits, overdraft 0
  purchase:p2: 620 of 700 credits left, purchased lot valid from 2026-11-04T08:00:00Z to 2027-11-04T08:00:00Z, value 1,400 cents (1,240 deferred)

facts, in the order applied:
  #1  2026-11-06T10:00:00Z  purchase: +300 credits, made purchase:p3 (300 credits, 600 cents, expires 2027-11-06T10:00:00Z)
  #2  2026-11-06T11:00:00Z  refund r1 (\"customer asked\", 200 cents returned): -100 credits from purchase:p3
  #3  2026-11-06T12:00:00Z  usage (2 events: sms 2 for 3 credits; 1 late, occurred 2026-11-05, charged at 00:00Z): -3 credits, took 3 from purchase:p2

closing at 2026-11-07T00:00:00Z: balance 817 credits, overdraft 0, sending enabled
  purchase:p2: 617 of 700 credits left, purchased lot valid from 2026-11-04T08:00:00Z to 2027-11-04T08:00:00Z, value 1,400 cents (1,234 deferred)
  purchase:p3: 200 of 300 credits left, purchased lot valid from 2026-11-06T10:00:00Z to 2027-11-06T10:00:00Z, value 600 cents (400 deferred)

reconciliation: opening 620, granted 0, purchased 300, rolled over 0, used 3, expired 0, revoked 100, adjusted 0, closing 817, overdraft 0
values (USD cents): opening deferred 1,240, sold 600, released as usage 6, breakage 0, revoked 200, closing deferred 1,634" \
  "$out" "account 1 on 11-06: a purchase, a refund of part of it, usage with a late event"

out=$(explained 1 2026-11-01)
assert_eq "account 1, business date 2026-11-01 (closed)
plan basic (Basic), USD; time zone UTC

opening at 2026-11-01T00:00:00Z: balance 940 credits, overdraft 0
  plan:2026-10-01T00:00:00Z: 440 of 1,000 credits left, plan lot valid from 2026-10-01T00:00:00Z to 2026-11-01T00:00:00Z, value 2,900 cents (1,276 deferred)
  purchase:p1: 500 of 500 credits left, purchased lot valid from 2026-10-10T12:00:00Z to 2027-10-10T12:00:00Z, value 1,000 cents (1,000 deferred)

facts, in the order applied:
  #1  2026-11-01T00:00:00Z  roll-over out: -300 credits from plan:2026-10-01T00:00:00Z
  #2  2026-11-01T00:00:00Z  roll-over in: +300 credits, made rollover:2026-11-01T00:00:00Z (300 credits, 870 cents, expires 2026-12-01T00:00:00Z)
  #3  2026-11-01T00:00:00Z  expiry above the roll-over cap: -140 credits from plan:2026-10-01T00:00:00Z
  #4  2026-11-01T00:00:00Z  plan grant: +1,000 credits, made plan:2026-11-01T00:00:00Z (1,000 credits, 2,900 cents, expires 2026-12-01T00:00:00Z)

closing at 2026-11-02T00:00:00Z: balance 1,800 credits, overdraft 0, sending enabled
  purchase:p1: 500 of 500 credits left, purchased lot valid from 2026-10-10T12:00:00Z to 2027-10-10T12:00:00Z, value 1,000 cents (1,000 deferred)
  rollover:2026-11-01T00:00:00Z: 300 of 300 credits left, rollover lot valid from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z, value 870 cents (870 deferred)
  plan:2026-11-01T00:00:00Z: 1,000 of 1,000 credits left, plan lot valid from 2026-11-01T00:00:00Z to 2026-12-01T00:00:00Z, value 2,900 cents (2,900 deferred)

reconciliation: opening 940, granted 1,000, purchased 0, rolled over 300, used 0, expired 140, revoked 0, adjusted 0, closing 1,800, overdraft 0
values (USD cents): opening deferred 2,276, sold 2,900, released as usage 0, breakage 406, revoked 0, closing deferred 4,770" \
  "$out" "account 1 on 11-01: a reset with roll-over"

out=$(explained 1 2026-11-03)
assert_contains "$out" "  #1  2026-11-03T11:00:00Z  usage (2 events: voice 2 for 1,830 credits): -1,830 credits, took 300 from rollover:2026-11-01T00:00:00Z, 1,000 from plan:2026-11-01T00:00:00Z, 500 from purchase:p1; 30 into overdraft
  -  2026-11-03T12:00:00Z  refund r2 (\"goodwill\"): revoked 0 credits, purchase:p1 had none left

closing at 2026-11-04T00:00:00Z: balance -30 credits, overdraft 30, sending stopped (changed on this date: \"no credits: overdraft 30\")
  no lot with credits" "account 1 on 11-03: usage into overdraft, a refund of a used-up lot"
out=$(explained 1 2026-11-04)
assert_contains "$out" "opening at 2026-11-04T00:00:00Z: balance -30 credits, overdraft 30
  no lot with credits" "account 1 on 11-04: the opening overdraft"
assert_contains "$out" "  #1  2026-11-04T08:00:00Z  purchase: +700 credits, made purchase:p2 (700 credits, 1,400 cents, expires 2027-11-04T08:00:00Z; paid 30 of overdraft)" \
  "account 1 on 11-04: the purchase pays the overdraft off"
assert_contains "$out" "released as usage 60," "the 30 paid off release floor(1400 * 30 / 700)"
out=$(explained 1 2026-11-05)
assert_contains "$out" "  #1  2026-11-05T09:00:00Z  debit d1 (\"correction\"): -50 credits, took 50 from purchase:p2" \
  "account 1 on 11-05: the debit"
assert_contains "$out" "adjusted -50, closing 620" "the debit in adjusted"

out=$(explained 2 2026-11-01)
assert_eq "account 2, business date 2026-11-01 (closed)
plan basic (Basic), USD; time zone America/New_York

opening at 2026-11-01T00:00:00Z / 2026-10-31T20:00:00-04:00: balance 900 credits, overdraft 0
  plan:2026-10-01T04:00:00Z: 900 of 1,000 credits left, plan lot valid from 2026-10-01T04:00:00Z / 2026-10-01T00:00:00-04:00 to 2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00, value 2,900 cents (2,610 deferred)

facts, in the order applied:
  #1  2026-11-01T02:00:00Z / 2026-10-31T22:00:00-04:00  usage (1 event: sms 1 for 1 credit): -1 credit, took 1 from plan:2026-10-01T04:00:00Z
  #2  2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00  roll-over out: -300 credits from plan:2026-10-01T04:00:00Z
  #3  2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00  roll-over in: +300 credits, made rollover:2026-11-01T04:00:00Z (300 credits, 870 cents, expires 2026-12-01T05:00:00Z / 2026-12-01T00:00:00-05:00)
  #4  2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00  expiry above the roll-over cap: -599 credits from plan:2026-10-01T04:00:00Z
  #5  2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00  plan grant: +1,000 credits, made plan:2026-11-01T04:00:00Z (1,000 credits, 2,900 cents, expires 2026-12-01T05:00:00Z / 2026-12-01T00:00:00-05:00)

closing at 2026-11-02T00:00:00Z / 2026-11-01T19:00:00-05:00: balance 1,300 credits, overdraft 0, sending enabled
  rollover:2026-11-01T04:00:00Z: 300 of 300 credits left, rollover lot valid from 2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00 to 2026-12-01T05:00:00Z / 2026-12-01T00:00:00-05:00, value 870 cents (870 deferred)
  plan:2026-11-01T04:00:00Z: 1,000 of 1,000 credits left, plan lot valid from 2026-11-01T04:00:00Z / 2026-11-01T00:00:00-04:00 to 2026-12-01T05:00:00Z / 2026-12-01T00:00:00-05:00, value 2,900 cents (2,900 deferred)

reconciliation: opening 900, granted 1,000, purchased 0, rolled over 300, used 1, expired 599, revoked 0, adjusted 0, closing 1,300, overdraft 0
values (USD cents): opening deferred 2,610, sold 2,900, released as usage 2, breakage 1,738, revoked 0, closing deferred 3,770" \
  "$out" "account 2 (New York) on 11-01: instants in UTC and local time"

out=$(explained 3 2026-10-05)
assert_contains "$out" "plan basic (Basic), USD; cancelled from 2026-10-05T00:00:00Z (change c3); time zone UTC" \
  "account 3: cancelled"
assert_contains "$out" "facts, in the order applied:
  -  2026-10-05T00:00:00Z  cancellation c3 of plan basic (the plan lot closes as at a reset; no more plan grants)
  #1  2026-10-05T00:00:00Z  roll-over out: -300 credits from plan:2026-10-01T00:00:00Z" \
  "account 3 on 10-05: the cancellation, then its close"
out=$(explained 3 2026-11-05)
assert_eq "account 3, business date 2026-11-05 (closed, dormant)
plan basic (Basic), USD; cancelled from 2026-10-05T00:00:00Z (change c3); time zone UTC

A dormant date (SPEC 14.4): the account is cancelled, has no lot with credits and no overdraft,
and nothing happened on it, so the date has no reconciliation row.

opening at 2026-11-05T00:00:00Z: balance 0 credits, overdraft 0
  no lot with credits

facts, in the order applied:
  none

closing at 2026-11-06T00:00:00Z: balance 0 credits, overdraft 0, sending stopped
  no lot with credits" "$out" "account 3 on 11-05: a dormant date"

out=$(explained 4 2026-11-06)
assert_contains "$out" "facts, in the order applied:
  #1  2026-11-06T00:00:00Z  revocation after a failed payment (\"card_declined\"): -200 credits from recharge:recharge:4:2026-10-08:1
  #2  2026-11-06T00:00:00Z  late grant g4 (\"late goodwill\", effective 2026-11-02T06:00:00Z): +80 credits, made bonus:g4 (80 credits, 0 cents, expires 2027-11-02T06:00:00Z)
  #3  2026-11-06T00:00:00Z  late purchase (purchased 2026-11-04T15:00:00Z): +100 credits, made purchase:p4 (100 credits, 150 cents, expires 2027-11-04T15:00:00Z)

closing" "account 4 on 11-06: the revocation, then the late facts in their own order"
assert_contains "$out" "balance 1,230 credits" "account 4 on 11-06: 50 + 1000 + 80 + 100"
out=$(explained 4 2026-10-08)
assert_contains "$out" "  #2  2026-10-09T00:00:00Z  auto-recharge (booked on this date, valid from the next 00:00Z): +200 credits, made recharge:recharge:4:2026-10-08:1 (200 credits, 300 cents, valid from 2026-10-09T00:00:00Z, expires 2027-10-09T00:00:00Z)" \
  "account 4 on 10-08: the recharge"

out=$(explained 6 2026-11-06)
assert_contains "$out" "opening at 2026-11-06T00:00:00Z: balance -10 credits, overdraft 10
  no lot with credits

facts, in the order applied:
  #1  2026-11-06T00:00:00Z  plan grant: +1,000 credits, made plan:2026-11-06T00:00:00Z (1,000 credits, 2,900 cents, expires 2026-12-06T00:00:00Z; paid 11 of overdraft)
  #2  2026-11-06T09:00:00Z  usage (2 events: sms 2 for 2 credits; 1 late, occurred 2026-11-05, charged at 00:00Z): -2 credits, took 1 from plan:2026-11-06T00:00:00Z; 1 into overdraft

closing at 2026-11-07T00:00:00Z: balance 988 credits, overdraft 0, sending enabled" \
  "account 6 on 11-06: the grant pays off the overdraft a late event made before it"
assert_contains "$out" "released as usage 34," "account 6: floor(2900 * 12 / 1000)"

# --- JSON ----------------------------------------------------------------
json=$(explained 1 2026-11-03 --json)
python3 - "$json" <<'EOF' || fail "explain --json of account 1 on 11-03: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j["account_id"] == 1 and j["business_date"] == "2026-11-03" and j["status"] == "closed"
assert j["opening"]["balance"] == 1800 and j["opening"]["overdraft"] == 0
assert [(l["lot"], l["credits"], l["deferred_cents"]) for l in j["opening"]["lots"]] == [
    ("purchase:p1", 500, 1000), ("rollover:2026-11-01T00:00:00Z", 300, 870),
    ("plan:2026-11-01T00:00:00Z", 1000, 2900)], j["opening"]["lots"]
usage, refund = j["facts"]
assert usage["n"] == 1 and usage["key"] == "1:2026-11-03:1" and usage["kind"] == "usage"
assert usage["at"] == "2026-11-03T11:00:00Z" and usage["credits"] == -1830
assert [(t["seq"], t["lot"], t["credits"]) for t in usage["took"]] == [
    (3, "rollover:2026-11-01T00:00:00Z", 300), (4, "plan:2026-11-01T00:00:00Z", 1000),
    (2, "purchase:p1", 500)], usage["took"]
assert usage["into_overdraft"] == 30
assert usage["usage"]["events"] == 2 and usage["usage"]["late_events"] == 0
assert usage["usage"]["channels"] == [
    {"channel": "voice", "events": 2, "credits": 1830, "late_events": 0}]
assert refund["n"] is None and refund["kind"] == "refund" and refund["credits"] == 0
assert refund["adjustment"] == {"adjustment_id": "r2", "reason": "goodwill", "amount_cents": 0,
                                "lot": "purchase:p1"}, refund["adjustment"]
c = j["closing"]
assert c["balance"] == -30 and c["overdraft"] == 30 and c["sending_enabled"] is False
assert c["lots"] == [] and c["sending_change_reason"] == "no credits: overdraft 30"
assert j["reconciliation"]["used"] == 1830 and j["values"]["usage_cents"] == 4770
assert j["discrepancies"] == []
EOF
json=$(explained 1 2026-11-04 --json)
python3 - "$json" <<'EOF' || fail "explain --json of account 1 on 11-04: $json"
import json, sys
j = json.loads(sys.argv[1])
(p,) = j["facts"]
assert p["kind"] == "purchase" and p["credits"] == 700 and p["overdraft_paid"] == 30
assert p["made"]["lot"] == "purchase:p2" and p["made"]["value_cents"] == 1400
assert j["opening"]["overdraft"] == 30 and j["closing"]["overdraft"] == 0
assert j["closing"]["lots"][0]["credits"] == 670 and j["closing"]["lots"][0]["deferred_cents"] == 1340
EOF
json=$(explained 2 2026-11-01 --json)
python3 - "$json" <<'EOF' || fail "explain --json of account 2 on 11-01: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j["time_zone"] == "America/New_York"
assert [(f["kind"], f["at"], f["at_local"]) for f in j["facts"]] == [
    ("usage", "2026-11-01T02:00:00Z", "2026-10-31T22:00:00-04:00"),
    ("rollover_out", "2026-11-01T04:00:00Z", "2026-11-01T00:00:00-04:00"),
    ("rollover_in", "2026-11-01T04:00:00Z", "2026-11-01T00:00:00-04:00"),
    ("expire", "2026-11-01T04:00:00Z", "2026-11-01T00:00:00-04:00"),
    ("grant", "2026-11-01T04:00:00Z", "2026-11-01T00:00:00-04:00")], j["facts"]
assert j["closing"]["at_local"] == "2026-11-01T19:00:00-05:00"
assert j["facts"][2]["made"]["expires_at_local"] == "2026-12-01T00:00:00-05:00"
EOF
json=$(explained 3 2026-11-05 --json)
python3 - "$json" <<'EOF' || fail "explain --json of a dormant date: $json"
import json, sys
j = json.loads(sys.argv[1])
assert j["status"] == "dormant" and j["cancelled_by"] == "c3" and j["facts"] == []
assert j["reconciliation"] is None and j["opening"]["lots"] == [] and j["closing"]["balance"] == 0
EOF

# The opening lots of a date are the closing lots of the date before, for
# every account and date.
for first in 1:2026-10-01 2:2026-10-01 3:2026-10-01 4:2026-10-01 5:2026-11-08 6:2026-10-06; do
  account=${first%%:*}
  for d in $(seq 0 40); do
    day=$(date -u -d "${first#*:} + $d days" +%F)
    [[ $day < 2026-11-11 ]] || break
    explained "$account" "$day" --json >"day-$account-$day.json"
  done
done
python3 - <<'EOF' || fail "an opening differs from the closing before it"
import datetime, glob, json
days = {}
for path in glob.glob("day-*.json"):
    j = json.load(open(path))
    assert j["discrepancies"] == [], (path, j["discrepancies"])
    days[(j["account_id"], j["business_date"])] = j
checked = 0
for (account, day), j in days.items():
    before = (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat()
    if (account, before) not in days:
        continue
    prev = days[(account, before)]
    assert j["opening"]["lots"] == prev["closing"]["lots"], (account, day)
    assert j["opening"]["balance"] == prev["closing"]["balance"], (account, day)
    assert j["opening"]["overdraft"] == prev["closing"]["overdraft"], (account, day)
    checked += 1
assert checked == 4 * 40 + 2 + 35, checked
EOF

# --- what the books cannot answer ----------------------------------------
err=$(expect_exit 65 billing explain 1 --date 2026-11-20 2>&1)
assert_contains "$err" "2026-11-20 is not a closed business date" "a date not closed: 65"
err=$(expect_exit 65 billing explain 99 --date 2026-11-06 2>&1)
assert_contains "$err" "no account 99 in the books" "an unknown account: 65"
err=$(expect_exit 65 billing explain 5 --date 2026-11-06 2>&1)
assert_contains "$err" "account 5 takes part from 2026-11-08, after 2026-11-06" \
  "a date before the account's first: 65"
err=$(expect_exit 2 billing explain 1 --date 2026-11-31 2>&1)
assert_contains "$err" "--date must be a date YYYY-MM-DD, not '2026-11-31'" "a bad date: 2"
err=$(expect_exit 2 billing explain x1 --date 2026-11-06 2>&1)
assert_contains "$err" "ACCOUNT must be an account id" "a bad account: 2"
expect_exit 2 billing explain 0 --date 2026-11-06 >/dev/null 2>&1
expect_exit 2 billing explain 1 >/dev/null 2>&1

# --- a database upgraded from schema 5 -------------------------------------
# The same scenario on a database whose value books start after 11-03: what
# migration 006 leaves (value_books, start_remaining = the lots' remaining,
# no took, overdraft_paid or movements before) is made by hand at the cut.
# Its explanations of the later dates are the same to the byte: the replay
# starts from start_remaining and 11-03's overdraft of 30.
new_db upgraded
up_url=$NEW_DB_URL
up_sql() {
  BILLING_DB_URL=$up_url E2E_DB_NAME=${E2E_DB_NAME:+${E2E_DB_NAME}_upgraded} sql "$1"
}
after_cut() {
  up_sql "INSERT INTO value_books (after_date) VALUES ('2026-11-03')"
  up_sql "UPDATE lots SET start_remaining = remaining"
  up_sql "UPDATE spent_lots SET start_remaining = remaining"
  up_sql "UPDATE ledger SET took = NULL, overdraft_paid = 0 WHERE business_date <= '2026-11-03'"
  up_sql "DELETE FROM lot_movements WHERE business_date <= '2026-11-03'"
}
load "$up_url" 2026-11-03
for account in 1 2 3 4 6; do
  for day in 2026-11-04 2026-11-06 2026-11-10; do
    assert_eq "$(explained "$account" "$day")" \
      "$(expect_exit 0 billing --db "$up_url" explain "$account" --date "$day" 2>/dev/null)" \
      "account $account on $day after the upgrade"
  done
done
err=$(expect_exit 65 billing --db "$up_url" explain 1 --date 2026-11-03 2>&1)
assert_contains "$err" "2026-11-03 was closed before schema 6; the lot books start on 2026-11-04" \
  "a date before the value books: 65"

# A stored figure that disagrees with the ledger is reported, not smoothed.
up_sql "UPDATE lot_movements SET opening = opening + 1 WHERE business_date = '2026-11-06' AND account_id = 1 AND lot_seq = 5"
out=$(expect_exit 1 billing --db "$up_url" explain 1 --date 2026-11-06 2>"$E2E_TMP/bad.err")
assert_contains "$out" "DISCREPANCIES: the stored books disagree with the ledger replay (1)"
assert_contains "$out" "  lot purchase:p2 lot_movements opening: the books have 621, the ledger replay gives 620"
assert_contains "$(cat "$E2E_TMP/bad.err")" "the stored books disagree with the ledger"
