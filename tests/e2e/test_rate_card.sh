# shellcheck shell=bash
# Rate card imports (SPEC 18) through `billing`: a price change from a date
# (sms 2 credits a unit from 2026-11-05) re-rates the events of open dates
# already ingested and rates the ones ingested after it; a new free status
# (undelivered) is accepted by `billing ingest --retry-rejects` once the card
# lists it; rejected rows name FILE:LINE and the reason; the same file again
# changes nothing, also after its date closed; a wrong header is exit 65.
# Hand-computed: sms 200 chars = 2 units, 10 chars = 1 unit; mms 100 chars =
# 1 unit x 2 credits; undelivered and failed cost 0.

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,basic,2026-11-01,0,0,0,1
2,basic,2026-11-01,0,0,0,1
CSV
expect_exit 0 billing migrate >/dev/null
expect_exit 0 billing import plans plans.csv >/dev/null
expect_exit 0 billing import accounts accounts.csv >/dev/null

# SPEC 18's default card, as written there, changes nothing.
cat >defaults.csv <<'CSV'
effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses
0001-01-01,sms,160,1,1,sent;delivered,failed
0001-01-01,mms,1600,1,2,sent;delivered,failed
0001-01-01,voice,60,0,1,completed,no_answer;busy;failed
0001-01-01,ringless,,1,2,delivered,failed
CSV
card_before=$(sql "SELECT * FROM rate_card ORDER BY channel, effective_from")
out=$(expect_exit 0 billing import rates defaults.csv)
assert_contains "$out" "4 rows, 0 inserted, 0 updated, 4 unchanged, 0 rejected, 0 events re-rated"
assert_eq "$card_before" "$(sql "SELECT * FROM rate_card ORDER BY channel, effective_from")" \
  "the default rows changed the card"

# Before the card: events before and after 2026-11-05, one with a status the
# default card does not know.
cat >u1.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
a1,1,sms,2026-11-03T10:00:00Z,sent,200,,2
a2,1,sms,2026-11-06T10:00:00Z,delivered,200,,2
a3,1,sms,2026-11-06T11:00:00Z,undelivered,50,,0
b1,2,sms,2026-11-04T23:59:59Z,sent,200,,2
b2,2,sms,2026-11-05T00:00:00Z,sent,200,,2
CSV
out=$(expect_exit 0 billing ingest u1.csv 2>&1)
assert_eq "1" "$(sql "SELECT COUNT(*) FROM rejects WHERE reason = 'bad_status' AND status = 'pending'")" \
  "undelivered rejected before the card lists it"

# The price change, with one bad row.
cat >rates.csv <<'CSV'
effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses
2026-11-05,sms,160,1,2,sent;delivered,failed;undelivered
2026-11-05,mms,1600,1,3,sent,failed
2026-11-05,fax,1,1,1,sent,failed
CSV
out=$(expect_exit 0 billing import rates rates.csv 2>"$E2E_TMP/rates.err")
assert_contains "$out" "3 rows, 1 inserted, 0 updated, 0 unchanged, 2 rejected, 2 events re-rated"
err=$(cat "$E2E_TMP/rates.err")
assert_contains "$err" "rates.csv:3: rejected: drops_status: 'delivered' of the mms row from 1970-01-01 is not listed"
assert_contains "$err" "rates.csv:4: rejected: bad_channel"
# a2 (2026-11-06) and b2 (2026-11-05 00:00:00Z) now cost 4; a1, b1 stay 2.
assert_eq $'a1\t2\na2\t4\nb1\t2\nb2\t4' \
  "$(sql "SELECT event_id, credits FROM usage_events ORDER BY event_id")" "re-rated credits"

# The retry accepts the undelivered line, free.
out=$(expect_exit 0 billing ingest --retry-rejects)
assert_eq "0" "$(sql "SELECT COUNT(*) FROM rejects WHERE status = 'pending'")" "reject still pending"
assert_eq $'0\t0' "$(sql "SELECT units, credits FROM usage_events WHERE event_id = 'a3'")" \
  "undelivered is free"

# After the card: rated by it at ingest.
cat >u2.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
a4,1,sms,2026-11-07T09:00:00Z,sent,10,,1
a5,1,mms,2026-11-07T09:30:00Z,sent,100,,2
CSV
expect_exit 0 billing ingest u2.csv >/dev/null 2>&1

expect_exit 0 billing run --from 2026-11-01 --to 2026-11-07 >/dev/null 2>&1
charges=$(expect_exit 0 billing export charges --from 2026-11-01 --to 2026-11-07)
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-11-03,1,sms,2026-11-03,1,2,2,2,0
2026-11-04,2,sms,2026-11-04,1,2,2,2,0
2026-11-05,2,sms,2026-11-05,1,2,4,2,2
2026-11-06,1,sms,2026-11-06,2,2,4,2,2
2026-11-07,1,mms,2026-11-07,1,1,2,2,0
2026-11-07,1,sms,2026-11-07,1,1,2,1,1" "$charges" "charges export"
recon=$(expect_exit 0 billing export reconciliation --from 2026-11-01 --to 2026-11-07)
# business_date,account_id,opening,granted,purchased,rolled_over,used,...,closing,...
used_closing() { # DATE ACCOUNT: "used,closing" of its reconciliation row
  python3 - "$1" "$2" "$recon" <<'PY'
import csv, io, sys
rows = list(csv.DictReader(io.StringIO(sys.argv[3])))
r = [r for r in rows if r["business_date"] == sys.argv[1] and r["account_id"] == sys.argv[2]]
print(f'{r[0]["used"]},{r[0]["closing_balance"]}' if len(r) == 1 else f"{len(r)} rows")
PY
}
assert_eq "2,998" "$(used_closing 2026-11-03 1)" "account 1 on 11-03"
assert_eq "4,994" "$(used_closing 2026-11-06 1)" "account 1 on 11-06"
assert_eq "4,990" "$(used_closing 2026-11-07 1)" "account 1 on 11-07"
assert_eq "2,998" "$(used_closing 2026-11-04 2)" "account 2 on 11-04"
assert_eq "4,994" "$(used_closing 2026-11-05 2)" "account 2 on 11-05"
assert_eq "0,994" "$(used_closing 2026-11-07 2)" "account 2 on 11-07"

# Closed dates: a row for one is refused; the same file again changes nothing.
cat >closed.csv <<'CSV'
effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses
2026-11-07,voice,60,0,2,completed,no_answer;busy;failed
CSV
out=$(expect_exit 0 billing import rates closed.csv 2>"$E2E_TMP/closed.err")
assert_contains "$out" "0 inserted, 0 updated, 0 unchanged, 1 rejected"
assert_contains "$(cat "$E2E_TMP/closed.err")" \
  "closed.csv:2: rejected: effective_in_closed_date: effective_from 2026-11-07 is not after the last closed date 2026-11-07"
out=$(expect_exit 0 billing import rates rates.csv 2>/dev/null)
assert_contains "$out" "3 rows, 0 inserted, 0 updated, 1 unchanged, 2 rejected, 0 events re-rated"

# A file that is not a rate card: exit 65, nothing changed.
card_before=$(sql "SELECT * FROM rate_card ORDER BY channel, effective_from")
printf 'effective_from,channel,credits\n2026-12-01,sms,2\n' >wrong.csv
expect_exit 65 billing import rates wrong.csv >/dev/null 2>&1
: >empty.csv
expect_exit 65 billing import rates empty.csv >/dev/null 2>&1
assert_eq "$card_before" "$(sql "SELECT * FROM rate_card ORDER BY channel, effective_from")" \
  "a bad file changed the card"
verify_ok "$BILLING_DB_URL" "after the rate card changes"
