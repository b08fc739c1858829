# shellcheck shell=bash
# Accounts that live (SPEC 14, 15, 16) through `billing`, every figure worked
# out by hand below. Plans: basic 1000 credits (cap 300, 1500 cents a 1000),
# pro 5000 (no cap, 1200), mini 100 (cap 50, 2000), euro (EUR). Anchors
# 2026-10-01. Voice events cost 1 credit a minute (60 s).
#
#  1 basic -> pro on 10-10 (mid-cycle): the basic lot's 800 left roll 300
#    (old cap) until 11-09, 500 expire, pro grants 5000; pro's cycle resets
#    on 11-10 (anchor 10-10).
#  2 pro -> basic on 11-01, a reset date: one close (1000 roll, no cap), one
#    grant (basic 1000).
#  3 mini cancelled 10-05: 70 left roll 50 (to 11-04), 20 expire; no grant on
#    11-01; dormant dates 11-05..11-07, 11-09, 11-10 have no row; a 0-credit
#    event brings 11-08 back; a late event (occurred 11-07) brings 11-11 back.
#  4 basic cancelled 10-03, reactivated on basic 10-20 (new anchor).
#  5 a grant of 80 pays a 50 overdraft.   6 a debit of 130 into overdraft.
#  7 a refund of a partly used purchase.  8 a refund of 150 of a recharge.
#  9 late grant and debit (effective in closed dates) applied at 10-04 00:00.
# 10 a recharge after basic -> pro is priced by pro (1200 cents a 1000).
# 11 cancelled: no recharge.
# 12 America/New_York: basic -> pro at local midnight of 11-10 (05:00Z, EST).

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,300
pro,Pro,monthly,5000,9900,1200,USD,
mini,Mini,monthly,100,500,2000,USD,50
euro,Euro,monthly,1000,2900,1500,EUR,
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day,time_zone
1,basic,2026-10-01,0,0,0,1,
2,pro,2026-10-01,0,0,0,1,
3,mini,2026-10-01,0,0,0,1,
4,basic,2026-10-01,0,0,0,1,
5,mini,2026-10-01,0,0,0,1,
6,mini,2026-10-01,0,0,0,1,
7,mini,2026-10-01,0,0,0,1,
8,mini,2026-10-01,1,50,200,1,
9,mini,2026-10-01,0,0,0,1,
10,basic,2026-10-01,1,100,1000,1,
11,mini,2026-10-01,1,50,100,1,
12,basic,2026-10-01,0,0,0,1,America/New_York
CSV
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p7,7,2026-10-02T10:00:00Z,500,1000
CSV
cat >changes.csv <<'CSV'
change_id,account_id,effective_date,action,plan_id
c1,1,2026-10-10,change_plan,pro
c2,2,2026-11-01,change_plan,basic
c3,3,2026-10-05,cancel,
c4,4,2026-10-03,cancel,
c4r,4,2026-10-20,change_plan,basic
c10,10,2026-10-05,change_plan,pro
c11,11,2026-10-03,cancel,
c12,12,2026-11-10,change_plan,pro
x1,99,2026-10-10,change_plan,pro
x2,1,2026-10-12,change_plan,gold
x3,1,2026-10-14,change_plan,euro
x4,1,2026-09-15,change_plan,mini
x5,1,2026-10-10,change_plan,mini
x6,1,2026-10-16,upgrade,pro
c4x,4,2026-10-10,cancel,
c4y,4,2026-11-22,change_plan,basic
CSV
cat >adjustments-a.csv <<'CSV'
adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason
g5,5,2026-10-03T12:00:00Z,grant,80,,,,"+goodwill, outage"
d6,6,2026-10-04T08:00:00Z,debit,130,,,,correction
r7,7,2026-10-06T00:00:00Z,refund,,900,p7,,card dispute
CSV
{
  echo "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits"
  echo "e1a,1,voice,2026-10-05T10:00:00Z,completed,,12000,"
  echo "e1b,1,voice,2026-10-20T10:00:00Z,completed,,6000,"
  echo "e2a,2,voice,2026-10-15T10:00:00Z,completed,,86400,"
  echo "e2b,2,voice,2026-10-15T11:00:00Z,completed,,86400,"
  echo "e2c,2,voice,2026-10-15T12:00:00Z,completed,,67200,"
  echo "e3a,3,voice,2026-10-02T10:00:00Z,completed,,1800,"
  echo "e3b,3,voice,2026-11-08T10:00:00Z,no_answer,,30,"
  echo "e5a,5,voice,2026-10-02T10:00:00Z,completed,,9000,"
  echo "e7a,7,voice,2026-10-05T10:00:00Z,completed,,9000,"
  echo "e8a,8,voice,2026-10-02T10:00:00Z,completed,,4800,"
  echo "e9a,9,voice,2026-10-02T10:00:00Z,completed,,1200,"
  echo "e10a,10,voice,2026-10-05T10:00:00Z,completed,,86400,"
  echo "e10b,10,voice,2026-10-05T11:00:00Z,completed,,86400,"
  echo "e10c,10,voice,2026-10-05T12:00:00Z,completed,,86400,"
  echo "e10d,10,voice,2026-10-05T13:00:00Z,completed,,55800,"
  echo "e11a,11,voice,2026-10-03T10:00:00Z,completed,,1800,"
  echo "e12a,12,voice,2026-11-10T04:30:00Z,completed,,3000,"
  echo "e12b,12,voice,2026-11-10T06:00:00Z,completed,,6000,"
} >u1.csv

expect_exit 0 billing migrate >/dev/null
for kind in plans accounts purchases; do
  expect_exit 0 billing import "$kind" "$kind.csv" >/dev/null
done
out=$(expect_exit 0 billing import changes changes.csv 2>"$E2E_TMP/changes.err")
assert_contains "$out" "16 rows, 8 inserted, 0 updated, 0 unchanged, 8 rejected"
err=$(cat "$E2E_TMP/changes.err")
for expected in "changes.csv:10: rejected: unknown_account" "changes.csv:11: rejected: unknown_plan" \
  "changes.csv:12: rejected: currency_mismatch" "changes.csv:13: rejected: before_anchor" \
  "changes.csv:14: rejected: conflicting_change" "changes.csv:15: rejected: bad_action" \
  "changes.csv:16: rejected: no_change" "changes.csv:17: rejected: no_change"; do
  assert_contains "$err" "$expected"
done
out=$(expect_exit 0 billing import adjustments adjustments-a.csv)
assert_contains "$out" "3 rows, 3 inserted, 0 updated, 0 unchanged, 0 rejected"
expect_exit 0 billing ingest u1.csv >/dev/null 2>&1
expect_exit 0 billing run --from 2026-10-01 --to 2026-10-03 >/dev/null 2>&1

# After 10-03 closed: a refund of account 8's recharge (booked on 10-02), and
# late adjustments of account 9; rejected: a refund before the recharge lot is
# valid, another account's purchase, an expiry not after the first open date.
cat >adjustments-b.csv <<'CSV'
adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason
r8,8,2026-10-04T00:00:00Z,refund,150,300,recharge:8:2026-10-02:1,,customer asked
g9,9,2026-10-01T06:00:00Z,grant,25,,,2026-10-05T00:00:00Z,late goodwill
d9,9,2026-10-02T12:00:00Z,debit,10,,,,late correction
r8x,8,2026-10-02T12:00:00Z,refund,,,recharge:8:2026-10-02:1,,too early
r8y,8,2026-10-04T00:00:00Z,refund,,,p7,,not theirs
g9x,9,2026-10-02T00:00:00Z,grant,5,,,2026-10-04T00:00:00Z,expired already
CSV
out=$(expect_exit 0 billing import adjustments adjustments-b.csv 2>"$E2E_TMP/adj.err")
assert_contains "$out" "6 rows, 3 inserted, 0 updated, 0 unchanged, 3 rejected"
err=$(cat "$E2E_TMP/adj.err")
assert_contains "$err" "adjustments-b.csv:5: rejected: refund_before_purchase"
assert_contains "$err" "adjustments-b.csv:6: rejected: unknown_purchase"
assert_contains "$err" "adjustments-b.csv:7: rejected: bad_expiry"

expect_exit 0 billing run --from 2026-10-04 --to 2026-11-10 >/dev/null 2>&1
# A late event of the cancelled account 3 (occurred on dormant 11-07).
printf 'event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\ne3c,3,sms,2026-11-07T10:00:00Z,sent,10,,\n' >u2.csv
expect_exit 0 billing ingest u2.csv >/dev/null 2>&1
expect_exit 0 billing run --from 2026-11-11 --to 2026-11-24 >/dev/null 2>&1
verify_ok "$BILLING_DB_URL" "after the changes and adjustments"

expect_exit 0 billing export reconciliation --from 2026-10-01 --to 2026-11-24 -o recon.csv
# books DATE ACCOUNT: opening,granted,purchased,rolled_over,used,expired,
# revoked,adjusted,closing,overdraft,sending_enabled ("N rows" unless one).
books() {
  recon_values recon.csv "$1" "$2" opening_balance granted purchased rolled_over used expired \
    revoked adjusted closing_balance overdraft sending_enabled
}
check() { # DATE ACCOUNT EXPECTED WHAT
  assert_eq "$3" "$(books "$1" "$2")" "$4 (account $2 on $1)"
}
#                          open,gr,pur,roll,used,exp,rev,adj,close,od,send
check 2026-10-01 1 "0,1000,0,0,0,0,0,0,1000,0,1"             "basic grant"
check 2026-10-05 1 "1000,0,0,0,200,0,0,0,800,0,1"            "usage"
check 2026-10-10 1 "800,5000,0,300,0,500,0,0,5300,0,1"       "upgrade: old cap rolls, pro granted"
check 2026-10-20 1 "5300,0,0,0,100,0,0,0,5200,0,1"           "usage from the roll-over first"
check 2026-11-09 1 "5200,0,0,0,0,200,0,0,5000,0,1"           "roll-over of 10-10 expires"
check 2026-11-10 1 "5000,5000,0,5000,0,0,0,0,10000,0,1"      "pro reset from its own anchor"
check 2026-10-15 2 "5000,0,0,0,4000,0,0,0,1000,0,1"          "pro usage"
check 2026-11-01 2 "1000,1000,0,1000,0,0,0,0,2000,0,1"       "downgrade on the reset date"
assert_eq $'rollover_out\t-1000\nrollover_in\t1000\ngrant\t1000' \
  "$(sql "SELECT kind, credits FROM ledger WHERE account_id = 2 AND business_date = '2026-11-01' ORDER BY idempotency_key")" \
  "the change replaces the reset: one close, one grant"
check 2026-10-05 3 "70,0,0,50,0,20,0,0,50,0,1"               "cancel: 50 roll, 20 expire"
check 2026-11-01 3 "50,0,0,0,0,0,0,0,50,0,1"                 "cancelled: no grant"
check 2026-11-04 3 "50,0,0,0,0,50,0,0,0,0,0"                 "cancelled: roll-over expires"
for dormant in 2026-11-05 2026-11-06 2026-11-07 2026-11-09 2026-11-10; do
  check "$dormant" 3 "0 rows" "dormant date"
done
check 2026-11-08 3 "0,0,0,0,0,0,0,0,0,0,0"                   "a 0-credit event brings the row back"
check 2026-11-11 3 "0,0,0,0,1,0,0,0,-1,1,0"                  "a late event brings the row back"
check 2026-11-12 3 "-1,0,0,0,0,0,0,0,-1,1,0"                 "overdraft: not dormant"
check 2026-10-03 4 "1000,0,0,300,0,700,0,0,300,0,1"          "cancel"
check 2026-10-20 4 "300,1000,0,0,0,0,0,0,1300,0,1"           "reactivation grants"
check 2026-11-02 4 "1300,0,0,0,0,300,0,0,1000,0,1"           "roll-over of 10-03 expires"
check 2026-11-20 4 "1000,1000,0,300,0,700,0,0,1300,0,1"      "reset from the new anchor"
check 2026-11-01 4 "1300,0,0,0,0,0,0,0,1300,0,1"             "no reset on the old anchor"
check 2026-10-02 5 "100,0,0,0,150,0,0,0,-50,50,0"            "into overdraft"
check 2026-10-03 5 "-50,0,0,0,0,0,0,80,30,0,1"               "a grant pays the overdraft"
check 2026-10-04 6 "100,0,0,0,0,0,0,-130,-30,30,0"           "a debit into overdraft"
check 2026-11-01 6 "-30,100,0,0,0,0,0,0,70,0,1"              "the grant pays the debit's overdraft"
check 2026-10-05 7 "600,0,0,0,150,0,0,0,450,0,1"             "plan lot first, then the purchase"
check 2026-10-06 7 "450,0,0,0,0,0,450,0,0,0,0"               "refund of what is left"
check 2026-10-02 8 "100,0,200,0,80,0,0,0,220,0,1"            "recharge"
check 2026-10-04 8 "220,0,0,0,0,0,150,0,70,0,1"              "refund of 150 of the recharge"
check 2026-11-01 8 "70,100,0,20,0,0,0,0,170,0,1"             "reset after the refund"
check 2026-10-04 9 "80,0,0,0,0,0,0,15,95,0,1"                "late grant and debit at 00:00"
check 2026-10-05 9 "95,0,0,0,0,15,0,0,80,0,1"                "the late bonus lot expires"
check 2026-10-05 10 "1000,5000,1000,300,5250,700,0,0,1050,0,1" "recharge after the upgrade"
check 2026-10-03 11 "100,0,0,50,30,50,0,0,20,0,1"            "cancelled: no recharge"
check 2026-11-10 12 "1300,5000,0,300,150,700,0,0,5450,0,1"   "New York: change at local midnight"

expect_exit 0 billing export payments --from 2026-10-01 --to 2026-11-24 -o payments.csv
assert_eq "idempotency_key,account_id,business_date,credits,amount_cents,currency,status
recharge:8:2026-10-02:1,8,2026-10-02,200,400,USD,pending
recharge:10:2026-10-05:1,10,2026-10-05,1000,1200,USD,pending" "$(cat payments.csv)" \
  "recharges: priced by the plan at the end of the date; none for a cancelled account"

expect_exit 0 billing export adjustments --from 2026-10-01 --to 2026-11-24 -o adjustments.csv
assert_eq "adjustment_id,account_id,business_date,kind,credits,amount_cents,reason
g5,5,2026-10-03,grant,80,0,\"'+goodwill, outage\"
d6,6,2026-10-04,debit,130,0,correction
r8,8,2026-10-04,refund,150,300,customer asked
d9,9,2026-10-04,debit,10,0,late correction
g9,9,2026-10-04,grant,25,0,late goodwill
r7,7,2026-10-06,refund,450,900,card dispute" "$(cat adjustments.csv)" "adjustments export"

# New York: the change's instants (T_E = 2026-11-10T05:00:00Z; local
# midnight of 12-10 is 05:00Z too).
us() { echo "$(($(date -u -d "$1" +%s) * 1000000))"; }
assert_eq "$(us 2026-11-10T05:00:00Z)" \
  "$(sql "SELECT at_us FROM ledger WHERE account_id = 12 AND business_date = '2026-11-10' AND kind = 'grant'")" \
  "the grant is at local midnight"
assert_eq "$(us 2026-11-10T05:00:00Z)	$(us 2026-12-10T05:00:00Z)
$(us 2026-11-10T05:00:00Z)	$(us 2026-12-10T05:00:00Z)" \
  "$(sql "SELECT valid_from_us, expires_at_us FROM all_lots WHERE account_id = 12 AND created_date = '2026-11-10' ORDER BY lot_seq")" \
  "the roll-over and the pro lot of the change"

# The accounts import may repeat a plan and anchor of an accepted change; any
# other plan is conflicting_content.
cat >accounts-2.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,pro,2026-10-10,0,0,0,1
2,basic,2026-11-01,0,0,0,1
4,mini,2026-10-01,0,0,0,1
CSV
out=$(expect_exit 0 billing import accounts accounts-2.csv 2>"$E2E_TMP/acc.err")
assert_contains "$out" "3 rows, 0 inserted, 0 updated, 2 unchanged, 1 rejected"
assert_contains "$(cat "$E2E_TMP/acc.err")" "accounts-2.csv:4: rejected: conflicting_content"

# Closed dates: a change into one is refused; an id with other content too.
cat >changes-2.csv <<'CSV'
change_id,account_id,effective_date,action,plan_id
x7,2,2026-10-20,cancel,
c1,1,2026-10-11,change_plan,pro
CSV
out=$(expect_exit 0 billing import changes changes-2.csv 2>"$E2E_TMP/changes-2.err")
assert_contains "$out" "2 rows, 0 inserted, 0 updated, 0 unchanged, 2 rejected"
assert_contains "$(cat "$E2E_TMP/changes-2.err")" "changes-2.csv:2: rejected: effective_in_closed_date"
assert_contains "$(cat "$E2E_TMP/changes-2.err")" "changes-2.csv:3: rejected: conflicting_content"

# Idempotent: the same files again change nothing; a re-run of the closed
# dates changes no byte of any export.
export_set "$BILLING_DB_URL" before 2026-10-01 2026-11-24
out=$(expect_exit 0 billing import changes changes.csv 2>/dev/null)
assert_contains "$out" "16 rows, 0 inserted, 0 updated, 8 unchanged, 8 rejected"
for file in adjustments-a.csv adjustments-b.csv; do
  out=$(expect_exit 0 billing import adjustments "$file" 2>/dev/null)
  assert_contains "$out" "0 inserted, 0 updated, 3 unchanged"
done
expect_exit 0 billing run --from 2026-10-01 --to 2026-11-24 >/dev/null 2>&1
export_set "$BILLING_DB_URL" after 2026-10-01 2026-11-24
for kind in "${E2E_EXPORT_KINDS[@]}"; do
  cmp -s "before.$kind.csv" "after.$kind.csv" || fail "a re-run changed the $kind export"
done

# Bad files: exit 65, nothing changed.
printf 'change_id,account_id,when\nz,1,2026-12-01\n' >wrong.csv
expect_exit 65 billing import changes wrong.csv >/dev/null 2>&1
expect_exit 65 billing import adjustments wrong.csv >/dev/null 2>&1
assert_eq "8" "$(sql "SELECT COUNT(*) FROM plan_changes")" "a bad file changed the changes"
assert_eq "6" "$(sql "SELECT COUNT(*) FROM adjustments")" "a bad file changed the adjustments"
verify_ok "$BILLING_DB_URL" "at the end"
