# shellcheck shell=bash
# The runbook's "Changing accounts" (docs/operations.md) as written: its
# example files of docs/examples/, imported with the commands it shows, give
# the output lines and the books it says (every figure there is checked
# here). Then each file imported again changes nothing, and the books verify.

ex=$BILLING_SOURCE_DIR/docs/examples
[[ -d $ex ]] || fail "no docs/examples in $BILLING_SOURCE_DIR"
runbook=$BILLING_SOURCE_DIR/docs/operations.md

# The documented line of `import KIND FILE`: the "# import ..." comment under
# the command in the runbook, with the path as written there.
documented_line() {
  local kind=$1 file=$2 line
  line=$(grep -F "# import $kind docs/examples/$file:" "$runbook" | head -n 1)
  [[ -n $line ]] || fail "the runbook shows no output of: billing import $kind docs/examples/$file"
  echo "${line#\# }"
}

# import_as_documented KIND FILE: imports docs/examples/FILE (from the source
# tree, as the runbook's relative path says) and compares the summary line
# with the runbook's when it shows one.
import_as_documented() {
  local kind=$1 file=$2 out expected
  out=$(cd "$BILLING_SOURCE_DIR" && expect_exit 0 billing import "$kind" "docs/examples/$file")
  if grep -qF "# import $kind docs/examples/$file:" "$runbook"; then
    expected=$(documented_line "$kind" "$file")
    assert_eq "$expected" "$out" "output of billing import $kind docs/examples/$file"
  else
    assert_contains "$out" " 0 rejected" "import $kind $file"
  fi
}

# row FILE DATE ACCOUNT: the reconciliation row's numbers as name=value pairs
# for the columns that are not 0 (sending_enabled when it is not 1), or
# "N rows" when there is not exactly one.
row() {
  local keys=(opening_balance granted purchased rolled_over used expired revoked adjusted
    closing_balance overdraft sending_enabled)
  local values i out= v
  values=$(recon_values "$1" "$2" "$3" "${keys[@]}")
  if [[ $values == *rows ]]; then
    echo "$values"
    return
  fi
  IFS=, read -r -a v <<<"$values"
  for i in "${!keys[@]}"; do
    if [[ ${keys[i]} == sending_enabled && ${v[i]} == 1 || ${keys[i]} != sending_enabled && ${v[i]} == 0 ]]; then
      continue
    fi
    out+="${out:+ }${keys[i]%_balance}=${v[i]}"
  done
  echo "$out"
}

expect_exit 0 billing migrate >/dev/null
for kind_file in plans:plans.csv accounts:accounts.csv purchases:purchases.csv; do
  quiet_ok billing import "${kind_file%%:*}" "$ex/${kind_file#*:}"
done
quiet_ok billing ingest "$ex/usage-2026-11-02.csv"
quiet_ok billing run --from 2026-10-15 --to 2026-11-09

# The late grant first (2026-11-09 is the last closed date), then the rest.
import_as_documented adjustments late-goodwill.csv
import_as_documented changes upgrade.csv
import_as_documented changes downgrade.csv
import_as_documented changes cancel.csv
import_as_documented changes reactivate.csv
import_as_documented adjustments goodwill.csv
import_as_documented adjustments correction.csv
import_as_documented adjustments refund.csv
import_as_documented rates price-change.csv
quiet_ok billing ingest "$ex/usage-2026-11-13.csv" "$ex/usage-2026-11-16.csv"
quiet_ok billing run --date 2026-11-24
quiet_ok billing export reconciliation --from 2026-10-15 --to 2026-11-24 -o recon.csv

# Upgrade: 600 basic credits left, 500 roll (old cap), 100 expire, pro grants.
assert_eq "opening=600 granted=5000 rolled_over=500 expired=100 closing=5500" \
  "$(row recon.csv 2026-11-10 1001)" "upgrade 1001"
# Downgrade on its reset date: one close (cap 2000 of pro), one basic grant.
assert_eq "opening=4000 granted=1000 rolled_over=2000 expired=2000 closing=3000" \
  "$(row recon.csv 2026-11-15 1002)" "downgrade 1002 on its reset date"
# Cancel: 500 roll, 500 expire; the call into overdraft books no recharge.
assert_eq "opening=1000 rolled_over=500 expired=500 closing=500" \
  "$(row recon.csv 2026-11-12 1003)" "cancel 1003"
assert_eq "opening=500 used=600 closing=-100 overdraft=100 sending_enabled=0" \
  "$(row recon.csv 2026-11-13 1003)" "cancelled 1003 below its threshold: no recharge"
# Reactivate: the grant pays the overdraft first.
assert_eq "opening=-100 granted=1000 closing=900" \
  "$(row recon.csv 2026-11-20 1003)" "reactivate 1003"
# Late grant at 11-10's 00:00Z, then the two goodwill grants of 11-11.
assert_eq "opening=1000 adjusted=100 closing=1100" "$(row recon.csv 2026-11-10 1004)" "late grant 1004"
assert_eq "opening=1100 adjusted=700 closing=1800" "$(row recon.csv 2026-11-11 1004)" "goodwill 1004"
# Correction into overdraft.
assert_eq "opening=1000 adjusted=-1500 closing=-500 overdraft=500 sending_enabled=0" \
  "$(row recon.csv 2026-11-11 1005)" "debit 1005"
# Refund of the whole purchase.
assert_eq "opening=3000 revoked=2000 closing=1000" "$(row recon.csv 2026-11-12 1006)" "refund 1006"
# The price change: 2 credits before 2026-11-14, 4 from it.
assert_eq "opening=1800 used=2 closing=1798" "$(row recon.csv 2026-11-13 1004)" "sms at the old price"
assert_eq "opening=1798 used=4 closing=1794" "$(row recon.csv 2026-11-16 1004)" "sms at the new price"

# The exports the runbook shows, line for line.
quiet_ok billing export adjustments --from 2026-11-11 --to 2026-11-11 -o adj-11.csv
assert_eq "adjustment_id,account_id,business_date,kind,credits,amount_cents,reason
gw-1004-1,1004,2026-11-11,grant,500,0,goodwill: delivery outage of 2026-11-10
gw-1004-2,1004,2026-11-11,grant,200,0,\"bonus for the November campaign, until December\"
fix-1005-1,1005,2026-11-11,debit,1500,0,correction: campaign of 2026-11-01 sent outside the platform" \
  "$(tr -d '\r' <adj-11.csv)" "adjustments export of 2026-11-11"
for line in "gw-1004-1,1004,2026-11-11,grant,500,0,goodwill: delivery outage of 2026-11-10" \
  "gw-1004-2,1004,2026-11-11,grant,200,0,\"bonus for the November campaign, until December\"" \
  "fix-1005-1,1005,2026-11-11,debit,1500,0," \
  "ref-ord-7731,1006,2026-11-12,refund,2000,3000,customer asked for a refund" \
  "gw-1004-late,1004,2026-11-10,grant,"; do
  grep -qF -- "$line" "$runbook" || fail "the runbook does not show the export line $line"
done
quiet_ok billing export adjustments --from 2026-11-10 --to 2026-11-12 -o adj.csv
adj=$(tr -d '\r' <adj.csv)
assert_contains "$adj" "ref-ord-7731,1006,2026-11-12,refund,2000,3000,customer asked for a refund" "refund export"
assert_contains "$adj" "gw-1004-late,1004,2026-11-10,grant,100,0,goodwill promised by support on 2026-11-05" \
  "late grant exported with the date that applied it"
quiet_ok billing export charges --from 2026-11-13 --to 2026-11-16 -o charges.csv
charges=$(tr -d '\r' <charges.csv | grep -E '^(business_date|[0-9-]+,1004,sms,)')
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-11-13,1004,sms,2026-11-13,1,2,2,2,0
2026-11-16,1004,sms,2026-11-16,1,2,4,4,0" "$charges" "charges export around the price change"
grep -qF "2026-11-16,1004,sms,2026-11-16,1,2,4,4,0" "$runbook" || fail "the runbook's charges lines differ"

verify_ok "$BILLING_DB_URL" "runbook examples"

# Every import again: nothing changes, also for rows whose dates have closed.
tables="reconciliation plan_changes adjustments rate_card lots"
before=$(for t in $tables; do sql "SELECT COUNT(*) FROM $t"; done)
for kind_file in adjustments:late-goodwill.csv changes:upgrade.csv changes:downgrade.csv \
  changes:cancel.csv changes:reactivate.csv adjustments:goodwill.csv adjustments:correction.csv \
  adjustments:refund.csv rates:price-change.csv; do
  out=$(expect_exit 0 billing import "${kind_file%%:*}" "$ex/${kind_file#*:}")
  assert_contains "$out" " 0 inserted, 0 updated, " "again: ${kind_file#*:}"
  assert_contains "$out" " unchanged, 0 rejected" "again: ${kind_file#*:}"
done
assert_eq "$before" "$(for t in $tables; do sql "SELECT COUNT(*) FROM $t"; done)" "a second import changed rows"
quiet_ok billing export reconciliation --from 2026-10-15 --to 2026-11-24 -o recon-again.csv
cmp -s recon.csv recon-again.csv || fail "the reconciliation changed after importing the files again"

# A row the runbook's table names: the same change_id with other content.
cat >changed.csv <<'CSV'
change_id,account_id,effective_date,action,plan_id
chg-1001-pro,1001,2026-11-26,change_plan,pro
CSV
out=$(expect_exit 0 billing import changes changed.csv 2>"$E2E_TMP/changed.err")
assert_contains "$out" "1 rejected" "changed row"
assert_contains "$(cat "$E2E_TMP/changed.err")" "changed.csv:2: rejected: conflicting_content" "changed row"
