# shellcheck shell=bash
# Time zones (SPEC 16) through the real program: the accounts import's
# optional time_zone column (bad_time_zone, fixed once the account has books),
# a New York account across the March 2026 change (resets at 05:00Z, then
# 04:00Z; its roll-over lot expires at the local midnight 30 days on), a
# purchase whose 12-month expiry crosses a change, an anchor on the 31st east
# of UTC (the account takes part from the UTC date before it), a UTC account
# beside them with exactly the UTC instants, and the tzdata version in
# `billing status`. Expected figures are worked out by hand below.
# (A plan change at local midnight waits for `billing import changes`,
# issue 15; domain/zone's local_midnight is unit-tested for it.)

# us INSTANT: microseconds since the epoch of a UTC instant text.
us() {
  python3 -c 'import datetime, sys
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
print(int(t.timestamp()) * 1000000)' "$1"
}


cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,
payg,Pay as you go,monthly,0,0,2000,USD,
CSV
# 1: New York, anchored on the 1st, across the 03-08 change. 2: the same in
# UTC. 3: New York, pay as you go, one purchase. 4: Kolkata (+05:30),
# anchored on the 31st. 9: a zone tzdata does not know.
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day,time_zone
1,basic,2026-02-01,0,0,0,1,America/New_York
2,basic,2026-02-01,0,0,0,1,
3,payg,2026-02-01,0,0,0,1,America/New_York
4,basic,2026-03-31,0,0,0,1,Asia/Kolkata
9,basic,2026-02-01,0,0,0,1,Mars/Olympus
CSV
# 12:00 EDT of 03-10: 12 months on is 12:00 EST of 2027-03-10 (2027's change
# is on 03-14), 17:00Z, an hour later than the UTC rule would give.
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-1,3,2026-03-10T16:00:00Z,500,1000
CSV
# voice: ceil(duration_s / 60) credits; sms: ceil(chars / 160).
# u2 at 04:30Z of 03-01 is 23:30 EST of 02-28: cycle 0 of account 1, but
# cycle 1 of account 2 (reset at 00:00Z). u5 at 20:00Z of 03-30 is 01:30 IST
# of 03-31, after account 4's R_0 (18:30Z).
cat >usage.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
u1,1,voice,2026-02-10T15:00:00Z,completed,,18000,300
u2,1,voice,2026-03-01T04:30:00Z,completed,,6000,100
u3,2,voice,2026-02-10T15:00:00Z,completed,,18000,300
u4,2,voice,2026-03-01T04:30:00Z,completed,,6000,100
u5,4,sms,2026-03-30T20:00:00Z,delivered,200,,2
u6,3,sms,2026-03-11T12:00:00Z,delivered,320,,2
CSV

expect_exit 0 billing migrate >/dev/null
expect_exit 0 billing import plans plans.csv >/dev/null
out=$(expect_exit 0 billing import accounts accounts.csv)
assert_contains "$out" "4 inserted" "the zoned accounts imported"
assert_contains "$(cat "$E2E_TMP/last.err")" "accounts.csv:6: rejected: bad_time_zone" \
  "an unknown zone is bad_time_zone"
assert_eq "2026-02-01	UTC
2026-02-01	America/New_York
2026-03-30	Asia/Kolkata" \
  "$(sql "SELECT DISTINCT first_date, time_zone FROM accounts ORDER BY first_date, time_zone DESC")" \
  "first dates: the anchor, or the UTC date before it east of UTC"
expect_exit 0 billing import purchases purchases.csv >/dev/null
out=$(expect_exit 0 billing ingest usage.csv)
assert_contains "$out" "6 accepted" "usage ingested"

out=$(expect_exit 0 billing status)
tzdata=$(head -n 1 /usr/share/zoneinfo/tzdata.zi | sed -n 's/^# version //p')
[[ -n $tzdata ]] || fail "no tzdata version in /usr/share/zoneinfo/tzdata.zi"
assert_contains "$out" "tzdata version:       $tzdata" "status shows the tzdata version"
json=$(expect_exit 0 billing status --json)
python3 -c 'import json, sys; assert json.loads(sys.argv[1])["tzdata_version"] == sys.argv[2]' \
  "$json" "$tzdata" || fail "status --json has no tzdata_version $tzdata: $json"

expect_exit 0 billing run --from 2026-02-01 --to 2026-04-05 >/dev/null
expect_exit 0 billing export reconciliation --from 2026-02-01 --to 2026-04-05 -o recon.csv >/dev/null
verify_ok "$BILLING_DB_URL" "after the zoned run"

# Account 1 (New York). 02-01: R_0 at 05:00Z grants 1000. 02-10: 300 used.
# 03-01: u2 (100, at 04:30Z) still takes the plan lot of cycle 0; at R_1 (00:00 EST, 05:00Z)
# the 600 left roll over and 1000 are granted: 700 - 100 + 1000 = 1600.
# 03-31: the roll-over lot expires at 00:00 EDT of 03-31 (04:00Z): 600
# expired, 1000 left. 04-01: R_2 at 00:00 EDT (04:00Z): 1000 roll over, 1000
# granted: 2000.
assert_eq "0,1000,0,0,0,0,0,1000,0,1" "$(recon_row recon.csv 2026-02-01 1)" "NY 02-01"
assert_eq "1000,0,0,0,300,0,0,700,0,1" "$(recon_row recon.csv 2026-02-10 1)" "NY 02-10"
assert_eq "700,1000,0,600,100,0,0,1600,0,1" "$(recon_row recon.csv 2026-03-01 1)" "NY 03-01"
assert_eq "1600,0,0,0,0,0,0,1600,0,1" "$(recon_row recon.csv 2026-03-30 1)" "NY 03-30"
assert_eq "1600,0,0,0,0,600,0,1000,0,1" "$(recon_row recon.csv 2026-03-31 1)" "NY 03-31"
assert_eq "1000,1000,0,1000,0,0,0,2000,0,1" "$(recon_row recon.csv 2026-04-01 1)" "NY 04-01"
# Account 2 (UTC), the same usage. 03-01: the reset at 00:00Z rolls 700 over,
# then u4 takes 100 of the roll-over lot (soonest expiry): 700 + 1000 - 100.
# 03-31: the roll-over lot (600 left) expires at 00:00Z, 30 days on.
assert_eq "700,1000,0,700,100,0,0,1600,0,1" "$(recon_row recon.csv 2026-03-01 2)" "UTC 03-01"
assert_eq "1600,0,0,0,0,600,0,1000,0,1" "$(recon_row recon.csv 2026-03-31 2)" "UTC 03-31"
# Account 4 (Kolkata, anchor 03-31): first row on 03-30, R_0 at 18:30Z.
assert_eq "0 rows" "$(recon_row recon.csv 2026-03-29 4)" "Kolkata not before 03-30"
assert_eq "0,1000,0,0,2,0,0,998,0,1" "$(recon_row recon.csv 2026-03-30 4)" "Kolkata 03-30"
assert_eq "7" "$(sql "SELECT COUNT(*) FROM reconciliation WHERE account_id = 4")" \
  "Kolkata: a row on every date from 03-30 to 04-05"
assert_eq "64" "$(sql "SELECT COUNT(*) FROM reconciliation WHERE account_id = 1")" \
  "New York: a row on every date from 02-01 to 04-05"

# The instants on the time line.
assert_eq "$(us 2026-02-01T05:00:00Z)
$(us 2026-03-01T05:00:00Z)
$(us 2026-04-01T04:00:00Z)" \
  "$(sql "SELECT at_us FROM ledger WHERE account_id = 1 AND kind = 'grant' ORDER BY at_us")" \
  "New York resets at 05:00Z, then 04:00Z"
assert_eq "$(us 2026-02-01T00:00:00Z)
$(us 2026-03-01T00:00:00Z)
$(us 2026-04-01T00:00:00Z)" \
  "$(sql "SELECT at_us FROM ledger WHERE account_id = 2 AND kind = 'grant' ORDER BY at_us")" \
  "UTC resets at 00:00Z"
assert_eq "rollover:2026-03-01T05:00:00Z	$(us 2026-03-01T05:00:00Z)	$(us 2026-03-31T04:00:00Z)
rollover:2026-04-01T04:00:00Z	$(us 2026-04-01T04:00:00Z)	$(us 2026-05-01T04:00:00Z)" \
  "$(sql "SELECT source, valid_from_us, expires_at_us FROM all_lots WHERE account_id = 1 AND kind = 'rollover' ORDER BY lot_seq")" \
  "New York roll-over lots live to the local midnight 30 days on"
assert_eq "rollover:2026-03-01T00:00:00Z	$(us 2026-03-01T00:00:00Z)	$(us 2026-03-31T00:00:00Z)" \
  "$(sql "SELECT source, valid_from_us, expires_at_us FROM all_lots WHERE account_id = 2 AND kind = 'rollover' AND source = 'rollover:2026-03-01T00:00:00Z'")" \
  "UTC roll-over lots live 30 days"
assert_eq "$(us 2026-03-10T16:00:00Z)	$(us 2027-03-10T17:00:00Z)	498" \
  "$(sql "SELECT valid_from_us, expires_at_us, remaining FROM all_lots WHERE account_id = 3 AND source = 'purchase:p-1'")" \
  "the purchase expires at 12:00 EST twelve months on"
assert_eq "$(us 2026-03-30T18:30:00Z)	$(us 2026-04-29T18:30:00Z)" \
  "$(sql "SELECT valid_from_us, expires_at_us FROM all_lots WHERE account_id = 4 AND kind = 'plan'")" \
  "Kolkata's cycles start at 00:00 IST"

# The zone is fixed once the account has books; other settings may change.
cat >accounts-2.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day,time_zone
1,basic,2026-02-01,0,0,0,1,UTC
2,basic,2026-02-01,1,10,100,1,
CSV
out=$(expect_exit 0 billing import accounts accounts-2.csv)
assert_contains "$out" "1 updated" "auto-recharge settings still change"
assert_contains "$(cat "$E2E_TMP/last.err")" \
  "accounts-2.csv:2: rejected: conflicting_content: conflicts with the stored account: time_zone is America/New_York, the file says UTC" \
  "the zone of an account with closed dates cannot change"
# An accounts file without the column leaves the zones as they are.
cat >accounts-3.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
2,basic,2026-02-01,1,10,100,1
CSV
out=$(expect_exit 0 billing import accounts accounts-3.csv)
assert_contains "$out" "1 unchanged" "a UTC account re-imported without the column is unchanged"
assert_eq "America/New_York" "$(sql "SELECT time_zone FROM accounts WHERE account_id = 1")" \
  "the zone stays"

# A re-run of a closed date changes nothing.
expect_exit 0 billing run --date 2026-04-05 >/dev/null
expect_exit 0 billing export reconciliation --from 2026-02-01 --to 2026-04-05 -o recon-2.csv >/dev/null
cmp -s recon.csv recon-2.csv || fail "a re-run changed the reconciliation"
