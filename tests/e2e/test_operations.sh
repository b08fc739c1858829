# shellcheck shell=bash
# Operations (issue 6): the metrics textfile parses as Prometheus text and is
# replaced atomically with mode 0640; progress shows on a terminal only;
# -o exports are 0640 and tie out with the totals export; the demo runs.

billing generate --out "$E2E_TMP/w" --accounts 150 --first-date 2026-10-10 --days 2 \
  --events-per-day 1500 >/dev/null 2>&1
billing migrate >/dev/null
for kind in plans accounts purchases; do
  billing --quiet import "$kind" "$E2E_TMP/w/$kind.csv" >/dev/null
done
mkdir -p "$E2E_TMP/inbox"
cp "$E2E_TMP"/w/usage-*.csv "$E2E_TMP/inbox/"
printf '[usage]\ninbox = %s\n[metrics]\npath = %s/billing.prom\n' "$E2E_TMP/inbox" "$E2E_TMP" >ops.conf

# Progress: none off a terminal...
expect_exit 0 billing --config ops.conf run --from 2026-08-01 --to 2026-10-10 >/dev/null
if grep -q "closing accounts:" "$E2E_TMP/last.err"; then
  fail "progress was printed although stderr is not a terminal"
fi
# ...and some on one (script gives the program a pseudo-terminal).
script -qec "$BILLING_BIN --db '$BILLING_DB_URL' --config ops.conf run --date 2026-10-11" \
  "$E2E_TMP/tty.log" >/dev/null
grep -q "closing accounts:" "$E2E_TMP/tty.log" || fail "no progress on a terminal"
script -qec "$BILLING_BIN --db '$BILLING_DB_URL' --quiet run --date 2026-10-12" "$E2E_TMP/tty2.log" >/dev/null
if grep -q "closing accounts:" "$E2E_TMP/tty2.log"; then
  fail "progress was printed with --quiet"
fi

# Metrics: valid Prometheus text, not world-readable, with the figures.
metrics=$E2E_TMP/billing.prom
[[ -f $metrics ]] || fail "no metrics file after a run"
promtool check metrics <"$metrics" || fail "promtool rejects the metrics file"
assert_eq 640 "$(stat -c %a "$metrics")" "metrics file mode"
m=$(cat "$metrics")
assert_contains "$m" "billing_last_completed_business_date_seconds $(date -u -d 2026-10-11 +%s)" \
  "metrics name the last completed date"
assert_contains "$m" 'billing_usage_events_charged_total{channel="sms"}' "events per channel"
charged=$(sql "SELECT COUNT(*) FROM usage_events WHERE charged_date <= '2026-10-11'")
sum=$(awk '/^billing_usage_events_charged_total/ {s += $2} END {print s}' "$metrics")
assert_eq "$charged" "$sum" "charged events in the metrics = charged events in the books"
ls "$E2E_TMP"/billing.prom.tmp.* >/dev/null 2>&1 && fail "a temporary metrics file was left behind"
# A run refused before it starts (a date not over: exit 2) writes no metrics:
# the file is the last run's, byte for byte.
cp "$metrics" before.prom
expect_exit 2 billing --config ops.conf run --date 2099-01-01 >/dev/null
cmp -s before.prom "$metrics" || fail "a refused run rewrote the metrics"
# A run that fails once it has started (here its inbox is missing: exit 65)
# writes the metrics with its exit code, and keeps the last success time.
printf '[usage]\ninbox = %s/no-inbox\n[metrics]\npath = %s/billing.prom\n' "$E2E_TMP" "$E2E_TMP" >bad-inbox.conf
# An hour later on the fixed clock, so a failure counted as a success would show.
expect_exit 65 env BILLING_FAKE_NOW=2026-11-25T13:00:00Z "$BILLING_BIN" --config bad-inbox.conf \
  run --date 2026-10-11 >/dev/null
m=$(cat "$metrics")
assert_contains "$m" "billing_run_exit_code 65" "a failed run's metrics carry its exit code"
assert_eq "$(grep '^billing_last_success_timestamp_seconds' before.prom)" \
  "$(grep '^billing_last_success_timestamp_seconds' "$metrics")" "a failed run keeps the last success time"
promtool check metrics <"$metrics" || fail "promtool rejects the metrics of a failed run"
expect_exit 0 billing --config ops.conf run --date 2026-10-11 >/dev/null
assert_contains "$(cat "$metrics")" "billing_run_exit_code 0" "the next good run clears the exit code"

# Exports: -o is 0640; reconciliation sums tie out with the totals export.
expect_exit 0 billing export reconciliation --from 2026-08-01 --to 2026-10-11 -o recon.csv >/dev/null
expect_exit 0 billing export totals --from 2026-08-01 --to 2026-10-11 -o totals.csv >/dev/null
expect_exit 0 billing export charges --from 2026-08-01 --to 2026-10-11 -o charges.csv >/dev/null
assert_eq 640 "$(stat -c %a recon.csv)" "export file mode"
# Streamed into a temporary file beside it and renamed: the same bytes as to
# stdout, and a failed export (no such folder) leaves nothing behind.
expect_exit 0 billing export reconciliation --from 2026-08-01 --to 2026-10-11 >recon-stdout.csv
cmp -s recon.csv recon-stdout.csv || fail "export -o differs from the export to stdout"
expect_exit 1 billing export reconciliation --from 2026-08-01 --to 2026-10-11 -o no-such-dir/recon.csv >/dev/null
[[ ! -e no-such-dir ]] || fail "a failed export created a folder"
leftover=$(find . -maxdepth 1 -name 'recon.csv.tmp.*' | wc -l)
assert_eq 0 "$leftover" "temporary export files left behind"
python3 - <<'PY' || fail "the totals export does not tie out with the reconciliation and charges exports"
import csv
from collections import defaultdict
sums = defaultdict(lambda: defaultdict(int))
for r in csv.DictReader(open("recon.csv")):
    s = sums[r["business_date"]]
    s["accounts"] += 1
    for k in ("opening_balance", "granted", "purchased", "rolled_over", "used", "expired",
              "revoked", "closing_balance", "overdraft", "sending_enabled"):
        s[k] += int(r[k])
for r in csv.DictReader(open("charges.csv")):
    s = sums[r["business_date"]]
    s["charged_events"] += int(r["events"])
    s["charged_credits"] += int(r["credits"])
    s["platform_credits"] += int(r["platform_credits"])
rows = list(csv.DictReader(open("totals.csv")))
assert len(rows) == len(sums) and rows, (len(rows), len(sums))
for t in rows:
    s = sums[t["business_date"]]
    for k, v in t.items():
        if k != "business_date":
            assert int(v) == s[k], (t["business_date"], k, v, s[k])
PY

# The demo, small, on its own SQLite file.
if [[ $E2E_BACKEND == sqlite ]]; then
  out=$(expect_exit 0 billing --db "sqlite:$E2E_TMP/demo.db" demo --out "$E2E_TMP/demo" \
    --accounts 200 --days 2 --events-per-day 2000)
  assert_contains "$out" "breaches" "demo prints the verify result"
  assert_contains "$out" "0 breaches" "demo books verify"
  [[ -s $E2E_TMP/demo/exports/reconciliation.csv ]] || fail "demo wrote no reconciliation export"
fi
