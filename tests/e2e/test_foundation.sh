# shellcheck shell=bash
# Foundation (issue 2): migrate, imports, status and the exit codes, through
# the real program, on this backend.

# Before migrate: every command but migrate refuses the database.
if [[ $E2E_BACKEND == sqlite ]]; then
  expect_exit 69 billing status >/dev/null
  assert_contains "$(cat "$E2E_TMP/last.err")" "billing migrate" "a missing database says to migrate"
else
  expect_exit 69 billing status >/dev/null
  assert_contains "$(cat "$E2E_TMP/last.err")" "billing migrate" "an empty schema says to migrate"
fi

out=$(expect_exit 0 billing migrate)
assert_contains "$out" "migrated" "first migrate applies the schema"
out=$(expect_exit 0 billing migrate)
assert_contains "$out" "nothing to do" "second migrate changes nothing"

# Global options also after the subcommand, and --help on each subcommand.
for cmd in migrate import ingest run export payments status verify demo; do
  out=$(expect_exit 0 billing "$cmd" --help)
  assert_contains "$out" "usage: billing $cmd" "$cmd --help"
done
expect_exit 0 billing status --db "$BILLING_DB_URL" >/dev/null

# Imports: RFC 4180 with a BOM, CRLF, quoted fields with commas and quotes.
printf '\xef\xbb\xbfplan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap\r\n' >plans.csv
printf 'basic,"Basic, ""monthly""",monthly,1000,2900,1500,USD,\r\n' >>plans.csv
printf 'yearly,Yearly,annual,12000,29000,1200,USD,5000\r\n' >>plans.csv
out=$(expect_exit 0 billing import plans plans.csv)
assert_contains "$out" "2 inserted" "plans imported"
out=$(expect_exit 0 billing import plans plans.csv)
assert_contains "$out" "2 unchanged" "re-import changes nothing"
assert_eq "Basic, \"monthly\"" "$(sql "SELECT name FROM plans WHERE plan_id = 'basic'")" "quoted name kept"

cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,basic,2026-01-31,1,100,500,2
2,yearly,2024-02-29,0,0,0,1
3,nosuch,2026-01-01,0,0,0,1
CSV
out=$(expect_exit 0 billing import accounts accounts.csv)
assert_contains "$out" "2 inserted" "accounts imported"
assert_contains "$out" "1 rejected" "unknown plan rejected"
assert_contains "$(cat "$E2E_TMP/last.err")" "accounts.csv:4" "reject names file and line"

# A conflicting row is rejected with its line; the other rows go in.
cat >accounts2.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,yearly,2026-01-31,1,100,500,2
2,yearly,2024-02-29,1,50,1000,3
4,basic,2026-03-01,0,,,
CSV
out=$(expect_exit 0 billing import accounts accounts2.csv)
assert_contains "$out" "1 inserted" "new account in"
assert_contains "$out" "1 updated" "auto-recharge settings may be updated"
assert_contains "$out" "1 rejected" "changed plan is a conflict"
assert_contains "$(cat "$E2E_TMP/last.err")" "accounts2.csv:2" "conflict names its line"
assert_eq "basic" "$(sql "SELECT plan_id FROM accounts WHERE account_id = 1")" "conflicting row left alone"
assert_eq "3" "$(sql "SELECT max_recharges_per_day FROM accounts WHERE account_id = 2")" "settings updated"

cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-1,1,2026-02-10T12:30:00Z,500,750
p-2,99,2026-02-10T12:30:00Z,500,750
p-3,1,2026-02-30T00:00:00Z,500,750
CSV
out=$(expect_exit 0 billing import purchases purchases.csv)
assert_contains "$out" "1 inserted" "purchase in"
assert_contains "$out" "2 rejected" "unknown account and bad date rejected"
out=$(expect_exit 0 billing import purchases purchases.csv)
assert_contains "$out" "1 unchanged" "purchase re-import changes nothing"

# A file that is not the declared format: exit 65, nothing changed.
before=$(sql "SELECT COUNT(*) FROM plans")
expect_exit 65 billing import plans accounts.csv >/dev/null
assert_eq "$before" "$(sql "SELECT COUNT(*) FROM plans")" "wrong header changes nothing"
expect_exit 65 billing import plans /nonexistent/file.csv >/dev/null

# Status: counts, no completed date yet, JSON that parses.
out=$(expect_exit 0 billing status)
assert_contains "$out" "last completed date:  none yet" "status before any run"
assert_contains "$out" "accounts:             3" "status counts accounts"
json=$(expect_exit 0 billing status --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["accounts"]==3 and d["last_completed_date"] is None' "$json" \
  || fail "status --json is not the expected JSON: $json"
json=$(expect_exit 0 billing --log-format json status)
err=$(billing --log-format json import plans /nonexistent.csv 2>&1 >/dev/null || true)
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$err" || fail "JSON log line does not parse: $err"

# Usage and config errors: exit 2 with file, line and key named.
expect_exit 2 billing run --no-such-flag >/dev/null
expect_exit 2 billing run --date 2026-02-30 >/dev/null
printf '[db]\nurl = %s\n[log]\nlevel = info\nbogus = 1\n' "$BILLING_DB_URL" >bad.conf
expect_exit 2 billing --config bad.conf status >/dev/null
assert_contains "$(cat "$E2E_TMP/last.err")" "bad.conf:5" "config error names file and line"
assert_contains "$(cat "$E2E_TMP/last.err")" "log.bogus" "config error names the key"
printf '[log]\nformat = xml\n' >bad2.conf
expect_exit 2 billing --config bad2.conf status >/dev/null
# The config file is read; the command line overrides it.
printf '[db]\nurl = sqlite:%s/other.db\n' "$E2E_TMP" >good.conf
expect_exit 69 env -u BILLING_DB_URL BILLING_CONFIG="$E2E_TMP/good.conf" "$BILLING_BIN" status >/dev/null
expect_exit 0 env -u BILLING_DB_URL BILLING_CONFIG="$E2E_TMP/good.conf" "$BILLING_BIN" --db "$BILLING_DB_URL" status >/dev/null
# The environment overrides the file.
expect_exit 0 env BILLING_CONFIG="$E2E_TMP/good.conf" "$BILLING_BIN" status >/dev/null

# Database unavailable: exit 69, one clear message, no secret printed.
expect_exit 69 billing --db "sqlite:$E2E_TMP/missing/none.db" status >/dev/null
if [[ $E2E_BACKEND == mysql ]]; then
  secret="wrong-Pa55word-xyz"
  expect_exit 69 env BILLING_DB_PASSWORD="$secret" "$BILLING_BIN" status >/dev/null
  if grep -q "$secret" "$E2E_TMP/last.out" "$E2E_TMP/last.err"; then
    fail "the password appears in the output"
  fi
  expect_exit 69 billing --db "mysql://billing@127.0.0.1:1/nosuch" status >/dev/null
  expect_exit 2 billing --db "mysql://billing:pw@127.0.0.1:3306/x" status >/dev/null
fi
if grep -q "terminate called\|Aborted" "$E2E_TMP/last.err"; then
  fail "a stack trace or abort was printed"
fi
