# shellcheck shell=bash
# Auto-recharge, payments and the sending stop (SPEC 6, 7, 13.2, 13.3, 13.6):
# recharges when the balance falls below the threshold (count, amount, key),
# no second request on a re-run, payment results (failed: the lot is revoked
# on the next date, auto-recharge off, sending stops), idempotent results
# import, unknown keys, and sending back on when a purchase brings credits.
# Expected values are worked out by hand below.

payments() { # [OPTIONS]: the payments export
  billing export payments "$@"
}
payments_header="idempotency_key,account_id,business_date,credits,amount_cents,currency,status"

# 250 credits at 1234 cents per 1000: 308.5 cents, rounded half up to 309.
cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
starter,Starter,monthly,100,1000,1234,USD,
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,starter,2026-09-01,1,50,250,2
2,starter,2026-09-01,1,100,250,1
3,starter,2026-09-01,1,100,50,2
CSV
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-2,2,2026-09-06T09:00:00Z,500,900
CSV
# voice: ceil(duration_s / 60) credits.
cat >usage.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
a1-1,1,voice,2026-09-02T10:00:00Z,completed,,4800,
a2-1,2,voice,2026-09-02T10:00:00Z,completed,,7800,
a2-2,2,voice,2026-09-03T10:00:00Z,completed,,600,
a1-2,1,voice,2026-09-04T10:00:00Z,completed,,36000,
a3-1,3,voice,2026-09-02T10:00:00Z,completed,,24000,
CSV
expect_exit 0 billing migrate >/dev/null
expect_exit 0 billing import plans plans.csv >/dev/null
expect_exit 0 billing import accounts accounts.csv >/dev/null
expect_exit 0 billing import purchases purchases.csv >/dev/null
out=$(expect_exit 0 billing ingest usage.csv)
assert_contains "$out" "5 accepted" "usage ingested"

out=$(expect_exit 0 billing run --from 2026-09-01 --to 2026-09-02)
line=$(grep '^2026-09-02' <<<"$out") || fail "no summary line for 2026-09-02: $out"
read -r -a f <<<"$line"
assert_eq "closed 3 3 0 610 4 1" "${f[1]} ${f[2]} ${f[3]} ${f[4]} ${f[5]} ${f[6]} ${f[7]}" \
  "summary of 09-02: status accounts events late credits recharges suspended"
expect_exit 0 billing export reconciliation --from 2026-09-01 --to 2026-09-02 -o r1.csv >/dev/null
#                                 open,grant,purch,roll,used,exp,rev,close,overdr,send
assert_eq "0,100,0,0,0,0,0,100,0,1" "$(recon_row r1.csv 2026-09-01 1)" "09-01 account 1: at the threshold's safe side"
assert_eq "0,100,0,0,0,0,0,100,0,1" "$(recon_row r1.csv 2026-09-01 2)" "09-01 account 2: balance = threshold, no recharge"
# Account 1: 100 - 80 = 20 < 50: one recharge of 250, booked on 09-02.
assert_eq "100,0,250,0,80,0,0,270,0,1" "$(recon_row r1.csv 2026-09-02 1)" "09-02 account 1 recharged"
# Account 2 runs dry: 100 - 130 = -30; one recharge pays the 30 off first.
assert_eq "100,0,250,0,130,0,0,220,0,1" "$(recon_row r1.csv 2026-09-02 2)" "09-02 account 2 ran dry and was recharged"
# Account 3: 100 - 400 = -300, below 100 by 400: ceil(400/50) = 8 recharges
# wanted, max 2 a day: 100 credits pay 100 of the 300 owed; still suspended.
assert_eq "100,0,100,0,400,0,0,-200,200,0" "$(recon_row r1.csv 2026-09-02 3)" "09-02 account 3: max_recharges_per_day"

pending=$(expect_exit 0 payments --status pending)
# amount_cents = (250 x 1234 + 500) div 1000 = 309; (50 x 1234 + 500) div 1000 = 62.
python3 - "$pending" <<'EOF' || fail "payment requests of 09-02 are not as expected: $pending"
import csv, io, sys
rows = list(csv.reader(io.StringIO(sys.argv[1])))
assert rows[0] == "idempotency_key,account_id,business_date,credits,amount_cents,currency,status".split(","), rows[0]
body = rows[1:]
assert [r[1:] for r in body] == [["1", "2026-09-02", "250", "309", "USD", "pending"],
                                 ["2", "2026-09-02", "250", "309", "USD", "pending"],
                                 ["3", "2026-09-02", "50", "62", "USD", "pending"],
                                 ["3", "2026-09-02", "50", "62", "USD", "pending"]], body
keys = [r[0] for r in body]
assert all(keys) and len(set(keys)) == 4, keys
EOF
key1=$(sed -n 2p <<<"$pending" | cut -d, -f1)
key2=$(sed -n 3p <<<"$pending" | cut -d, -f1)
assert_eq "1" "$(sql "SELECT COUNT(*) FROM payment_requests WHERE idempotency_key = '$key1' AND account_id = 1")" "key of account 1 stored"

# A re-run of the date: already complete, no second request, same keys.
out=$(expect_exit 0 billing run --date 2026-09-02)
assert_contains "$out" "2026-09-02  already complete" "re-run of 09-02"
assert_eq "$pending" "$(payments --status pending)" "a re-run makes no second request"
out=$(expect_exit 0 billing run --from 2026-09-01 --to 2026-09-02)
assert_eq "$pending" "$(payments)" "a re-run of the range makes no second request"

# Payment results: account 1 paid, account 2's card declined, one unknown key.
cat >results.csv <<CSV
idempotency_key,status,provider_ref,failure_reason
$key1,succeeded,ch_1,
$key2,failed,ch_2,card_declined
recharge:9:2026-09-02:1,succeeded,ch_9,
CSV
out=$(expect_exit 0 billing payments import results.csv)
assert_contains "$out" "3 rows, 2 applied, 0 unchanged, 1 rejected" "results applied"
assert_contains "$(cat "$E2E_TMP/last.err")" "results.csv:4" "the unknown key is rejected with its line"
assert_eq "0" "$(sql "SELECT auto_recharge FROM accounts WHERE account_id = 2")" "a failed payment turns auto-recharge off"
assert_contains "$(sql "SELECT auto_recharge_off_reason FROM accounts WHERE account_id = 2")" "card_declined" "with the reason"
assert_eq "1" "$(sql "SELECT auto_recharge FROM accounts WHERE account_id = 1")" "a paid recharge leaves auto-recharge on"
assert_eq "$payments_header
$key1,1,2026-09-02,250,309,USD,succeeded" "$(payments --status succeeded)" "succeeded"
assert_eq "$payments_header
$key2,2,2026-09-02,250,309,USD,failed" "$(payments --status failed)" "failed"
# The same results again change nothing; a contradicting result is rejected.
before=$(payments)
accounts_before=$(sql "SELECT account_id, auto_recharge, auto_recharge_off_reason FROM accounts ORDER BY account_id")
out=$(expect_exit 0 billing payments import results.csv)
assert_contains "$out" "3 rows, 0 applied, 2 unchanged, 1 rejected" "results imported twice"
printf 'idempotency_key,status,provider_ref,failure_reason\n%s,failed,ch_1,insufficient_funds\n' "$key1" >contra.csv
out=$(expect_exit 0 billing payments import contra.csv)
assert_contains "$out" "1 rows, 0 applied, 0 unchanged, 1 rejected" "a contradicting result is rejected"
assert_eq "$before" "$(payments)" "payments unchanged by the repeated and contradicting imports"
assert_eq "$accounts_before" "$(sql "SELECT account_id, auto_recharge, auto_recharge_off_reason FROM accounts ORDER BY account_id")" \
  "accounts unchanged by the repeated and contradicting imports"

# A dry run of the catch-up writes no payment request.
dry=$(expect_exit 0 billing run --date 2026-09-06 --dry-run)
assert_eq "$before" "$(payments)" "a dry run requests no payment"

out=$(expect_exit 0 billing run --date 2026-09-06)
assert_eq 4 "$(grep -c ' closed ' <<<"$out")" "catch-up 09-03..09-06"
assert_eq "$(grep '^2026' <<<"$out")" "$(grep '^2026' <<<"$dry" | sed 's/would close/closed     /')" \
  "the dry run announced what the run did"
expect_exit 0 billing export reconciliation --from 2026-09-01 --to 2026-09-06 -o r2.csv >/dev/null
# 09-03: what is left of the failed recharge (220) is revoked first; then 10
# used: overdraft 10, sending stops; auto-recharge is off: no new recharge.
assert_eq "220,0,0,0,10,0,220,-10,10,0" "$(recon_row r2.csv 2026-09-03 2)" "09-03 account 2: revoked and suspended"
assert_eq "-10,0,0,0,0,0,0,-10,10,0" "$(recon_row r2.csv 2026-09-04 2)" "09-04 account 2: no recharge any more"
assert_eq "-10,0,0,0,0,0,0,-10,10,0" "$(recon_row r2.csv 2026-09-05 2)" "09-05 account 2: still suspended"
# 09-06: the purchase pays the 10 off and sending restarts.
assert_eq "-10,0,500,0,0,0,0,490,0,1" "$(recon_row r2.csv 2026-09-06 2)" "09-06 account 2: purchase re-enables sending"
# Account 1 on 09-04: 270 - 600 = -330, below 50 by 380: ceil(380/250) = 2
# recharges (max 2); they pay the 330 off: 500 - 330 = 170.
assert_eq "270,0,0,0,0,0,0,270,0,1" "$(recon_row r2.csv 2026-09-03 1)" "09-03 account 1"
assert_eq "270,0,500,0,600,0,0,170,0,1" "$(recon_row r2.csv 2026-09-04 1)" "09-04 account 1: two recharges"
assert_eq "170,0,0,0,0,0,0,170,0,1" "$(recon_row r2.csv 2026-09-06 1)" "09-06 account 1"
# Account 3 climbs back two recharges (100) a day; sending restarts on 09-05.
assert_eq "-200,0,100,0,0,0,0,-100,100,0" "$(recon_row r2.csv 2026-09-03 3)" "09-03 account 3"
assert_eq "-100,0,100,0,0,0,0,0,0,0" "$(recon_row r2.csv 2026-09-04 3)" "09-04 account 3: balance 0 is not above 0"
assert_eq "0,0,100,0,0,0,0,100,0,1" "$(recon_row r2.csv 2026-09-05 3)" "09-05 account 3: credits back"
assert_eq "100,0,0,0,0,0,0,100,0,1" "$(recon_row r2.csv 2026-09-06 3)" "09-06 account 3: at the threshold, no recharge"
assert_eq $'2026-09-01\t1\n2026-09-02\t0\n2026-09-05\t1' \
  "$(sql "SELECT business_date, enabled FROM sending_changes WHERE account_id = 3 ORDER BY business_date")" \
  "sending changes of account 3"

pending=$(payments --status pending)
python3 - "$pending" "$key1" <<'EOF' || fail "payment requests after 09-02 are not as expected: $pending"
import csv, io, sys
rows = list(csv.reader(io.StringIO(sys.argv[1])))[1:]
assert [r[1:] for r in rows if r[1] == "3"] == (
    [["3", d, "50", "62", "USD", "pending"] for d in ("2026-09-02", "2026-09-03", "2026-09-04", "2026-09-05")
     for _ in range(2)]), rows
rows = [r for r in rows if r[1] != "3"]
assert [r[1:] for r in rows] == [["1", "2026-09-04", "250", "309", "USD", "pending"]] * 2, rows
keys = [r[0] for r in rows]
assert len(set(keys)) == 2 and sys.argv[2] not in keys, keys
EOF
assert_eq 12 "$(($(payments | wc -l) - 1))" "12 requests in all: 3 for account 1, 1 for account 2, 8 for account 3"
assert_eq 0 "$(sql "SELECT COUNT(*) FROM payment_requests WHERE account_id = 2 AND business_date > '2026-09-02'")" "no request for account 2 after the failure"
assert_eq $'2026-09-01\t1\n2026-09-03\t0\n2026-09-06\t1' \
  "$(sql "SELECT business_date, enabled FROM sending_changes WHERE account_id = 2 ORDER BY business_date")" \
  "sending changes of account 2"
[[ -n $(sql "SELECT reason FROM sending_changes WHERE account_id = 2 AND business_date = '2026-09-03'") ]] \
  || fail "the sending stop has no reason"
status=$(expect_exit 0 billing status)
assert_contains "$status" "payments pending:     10" "status counts pending payments"
assert_contains "$status" "accounts suspended:   0" "no account suspended at the end"

# The revocation happened once: re-running the dates changes nothing.
expect_exit 0 billing run --date 2026-09-06 >/dev/null
expect_exit 0 billing export reconciliation --from 2026-09-01 --to 2026-09-06 -o r3.csv >/dev/null
cmp -s r2.csv r3.csv || fail "re-running closed dates changed the reconciliation"

# Re-importing the unchanged accounts file keeps the switch-off (a nightly
# dump must not undo it; docs/decisions.md). The card is fixed: an import that
# changes the settings (threshold 120) turns auto-recharge on again, and the
# next date that needs one recharges again.
out=$(expect_exit 0 billing import accounts accounts.csv)
assert_contains "$out" "3 unchanged" "unchanged accounts file"
assert_eq "0" "$(sql "SELECT auto_recharge FROM accounts WHERE account_id = 2")" "the switch-off stays"
printf 'account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day\n2,starter,2026-09-01,1,120,250,1\n' >account2.csv
out=$(expect_exit 0 billing import accounts account2.csv)
assert_contains "$out" "1 updated" "auto-recharge settings updated"
assert_eq "1" "$(sql "SELECT auto_recharge FROM accounts WHERE account_id = 2")" "auto-recharge on again"
printf 'event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\na2-3,2,voice,2026-09-07T10:00:00Z,completed,,27000,\n' >usage7.csv
expect_exit 0 billing ingest usage7.csv >/dev/null
expect_exit 0 billing run --date 2026-09-07 >/dev/null
expect_exit 0 billing export reconciliation --from 2026-09-07 --to 2026-09-07 -o r4.csv >/dev/null
# 490 - 450 = 40 < 120: one recharge of 250.
assert_eq "490,0,250,0,450,0,0,290,0,1" "$(recon_row r4.csv 2026-09-07 2)" "09-07 account 2 recharged again"
assert_eq "1" "$(sql "SELECT COUNT(*) FROM payment_requests WHERE account_id = 2 AND business_date = '2026-09-07' AND status = 'pending'")" \
  "one new request for account 2"

# A failed payment imported dates after its lot became valid (SPEC 7): account
# 1's two recharges of 09-04 (valid from 09-05) paid its overdraft of 330 when
# they were made: the first is used up (250), the second has 170 left. Both
# fail, answered after 09-07 closed: the next date run (09-08) revokes what is
# left at its 00:00Z (170; the 250 paid stay used); auto-recharge is off, so
# the empty account is not recharged.
read -r key4a key4b < <(payments --status pending | awk -F, '$2 == 1 && $3 == "2026-09-04" { printf "%s ", $1 } END { print "" }')
[[ $key4a == recharge:1:2026-09-04:1 && $key4b == recharge:1:2026-09-04:2 ]] ||
  fail "account 1's recharges of 09-04 are not pending: $key4a $key4b"
printf 'idempotency_key,status,provider_ref,failure_reason\n%s,failed,ch_4a,card_expired\n%s,failed,ch_4b,card_expired\n' \
  "$key4a" "$key4b" >late-results.csv
expect_exit 0 billing payments import late-results.csv >/dev/null
expect_exit 0 billing run --date 2026-09-08 >/dev/null
expect_exit 0 billing export reconciliation --from 2026-09-07 --to 2026-09-08 -o r5.csv >/dev/null
assert_eq "170,0,0,0,0,0,0,170,0,1" "$(recon_row r5.csv 2026-09-07 1)" "09-07 account 1: before the results"
assert_eq "170,0,0,0,0,0,170,0,0,0" "$(recon_row r5.csv 2026-09-08 1)" \
  "09-08 account 1: what is left of the failed recharges is revoked at 00:00Z"
assert_eq "0" "$(sql "SELECT COUNT(*) FROM payment_requests WHERE account_id = 1 AND business_date = '2026-09-08'")" \
  "no recharge after the failures"
out=$(expect_exit 0 billing verify)
[[ $out != *BREACH* ]] || fail "verify: $out"

# verify is not a rubber stamp: a tampered reconciliation row is a breach.
sql "UPDATE reconciliation SET closing = closing + 1 WHERE business_date = '2026-09-03' AND account_id = 1"
out=$(expect_exit 1 billing verify)
assert_contains "$out" "BREACH  reconciliation rows tie out" "tampered row found"
assert_contains "$out" "BREACH  closing of D = opening of the account's next row" "broken chain found"
