# shellcheck shell=bash
# `billing demo` with its operator files (SPEC 14, 15, 18): a small demo on
# the test's database prints what the operator imported (changes by kind,
# adjustments by kind, the price change), its books verify, the adjustments
# export has the rows, the reconciliation and charges show each change, the
# operator files imported again change nothing, and the same demo again
# writes the same exports.

first=$(date -u -d "$E2E_TODAY - 4 days" +%F)  # 4 usage days, up to yesterday
priced_from=$(date -u -d "$first + 2 days" +%F) # the middle of them
last=$(date -u -d "$E2E_TODAY - 1 day" +%F)

out=$(expect_exit 0 billing demo --out "$E2E_TMP/demo" --accounts 200 --days 4 --events-per-day 2000)
assert_contains "$out" "0 breaches" "demo books verify"
assert_contains "$out" "operator imports (before the night's log, as billing import would):"
changes_line=$(grep '^  changes: ' <<<"$out") || fail "no changes line: $out"
assert_contains "$changes_line" "  changes:      4 rows in " "changes line"
assert_contains "$changes_line" " files, 4 inserted, 0 rejected: 1 upgrade, 1 downgrade" "changes line"
assert_contains "$changes_line" ", 1 cancellation, 1 reactivation" "changes line"
adjustments_line=$(grep '^  adjustments: ' <<<"$out") || fail "no adjustments line: $out"
assert_contains "$adjustments_line" "  adjustments:  4 rows in " "adjustments line"
assert_contains "$adjustments_line" " files, 4 inserted, 0 rejected: 2 grants (1 late), 1 debit, 1 refund" \
  "adjustments line"
assert_contains "$out" "applied 4 (exports/adjustments.csv): adjusted +400 credits, refunds revoked " \
  "adjustments applied"
assert_contains "$out" "  price change: sms from $priced_from: 2 credits a unit (was 1), 1 row in 1 file, 1 inserted, 0 rejected" \
  "price change line"
assert_contains "$out" "exports:  $E2E_TMP/demo/exports/{reconciliation,charges,rejects,payments,adjustments,lots,revenue}.csv"
verify_ok "$BILLING_DB_URL" "demo"

input=$E2E_TMP/demo/input
exports=$E2E_TMP/demo/exports
ls "$input"/changes-*.csv "$input"/adjustments-*.csv "$input"/rates-*.csv >/dev/null

# The adjustments export: the demo's own and `billing export`, the same 4 rows.
quiet_ok billing export adjustments --from "$first" --to "$last" -o adjustments.csv
assert_eq "4" "$(csv_rows adjustments.csv)" "adjustments export rows"
cmp -s adjustments.csv "$exports/adjustments.csv" || fail "the demo's adjustments export differs"
quiet_ok billing export reconciliation --from "$first" --to "$last" -o recon.csv
quiet_ok billing export charges --from "$first" --to "$last" -o charges.csv

# What the books show of each operator row.
python3 - "$input" recon.csv adjustments.csv charges.csv "$first" "$priced_from" \
  "$exports/payments.csv" <<'EOF'
import csv, glob, sys
from collections import Counter, defaultdict
input_dir, recon_path, adj_path, charges_path, first, priced_from, payments_path = sys.argv[1:8]

def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

plans = {p["plan_id"]: p for p in rows(f"{input_dir}/plans.csv")}
accounts = {a["account_id"]: a for a in rows(f"{input_dir}/accounts.csv")}
recon = {(r["business_date"], r["account_id"]): r for r in rows(recon_path)}
def col(date, account, name):
    r = recon.get((date, account))
    assert r is not None, f"no reconciliation row for {account} on {date}"
    return int(r[name])

assert sum(int(r["adjusted"]) for r in recon.values()) == 400, "adjusted does not add up to +400"

changes = [c for path in sorted(glob.glob(f"{input_dir}/changes-*.csv")) for c in rows(path)]
by_account = defaultdict(list)
for c in changes:
    by_account[c["account_id"]].append(c)
kinds = Counter()
for account, cs in by_account.items():
    old = plans[accounts[account]["plan_id"]]
    c = cs[0]
    if c["action"] == "cancel":
        kinds["cancel"] += 1
        back = cs[1]
        assert back["action"] == "change_plan", back
        # No grant and no recharge until the reactivation grants.
        dates = sorted(d for (d, a) in recon if a == account and c["effective_date"] <= d < back["effective_date"])
        assert dates and all(col(d, account, "granted") == 0 for d in dates), dates
        assert not [p for p in rows(payments_path) if p["account_id"] == account
                    and c["effective_date"] <= p["business_date"] < back["effective_date"]], account
        assert col(back["effective_date"], account, "granted") == int(plans[back["plan_id"]]["included_credits"]), back
    else:
        new = plans[c["plan_id"]]
        kinds["upgrade" if int(new["included_credits"]) > int(old["included_credits"]) else "downgrade"] += 1
        # The new plan's grant on the date, the old lot closed (roll-over under the old cap).
        assert col(c["effective_date"], account, "granted") == int(new["included_credits"]), c
        cap = old["rollover_cap"]
        if cap:
            assert col(c["effective_date"], account, "rolled_over") <= int(cap), c
assert kinds == Counter({"cancel": 1, "upgrade": 1, "downgrade": 1}), kinds

adjustments = [a for path in sorted(glob.glob(f"{input_dir}/adjustments-*.csv")) for a in rows(path)]
applied = {a["adjustment_id"]: a for a in rows(adj_path)}
assert set(applied) == {a["adjustment_id"] for a in adjustments}, (applied.keys(), adjustments)
assert Counter(a["kind"] for a in applied.values()) == Counter({"grant": 2, "debit": 1, "refund": 1})
for a in applied.values():
    date, account, credits = a["business_date"], a["account_id"], int(a["credits"])
    if a["kind"] == "grant":
        assert col(date, account, "adjusted") == credits, a
    elif a["kind"] == "debit":
        assert col(date, account, "adjusted") == -credits, a
    else:
        assert credits > 0 and col(date, account, "revoked") >= credits, a
late = [a for a in adjustments if a["effective_at"][:10] < first]
assert len(late) == 1 and applied[late[0]["adjustment_id"]]["business_date"] == first, late

# sms: 1 credit a unit before the price change, 2 from it.
for c in rows(charges_path):
    if c["channel"] != "sms":
        continue
    factor = 2 if c["occurred_date"] >= priced_from else 1
    assert int(c["credits"]) == factor * int(c["units"]), c
EOF

# Every operator file imported again, as `billing import` would: nothing changes.
before=$(sql "SELECT COUNT(*) FROM plan_changes")$(sql "SELECT COUNT(*) FROM adjustments")$(sql "SELECT COUNT(*) FROM rate_card")
for file in "$input"/rates-*.csv "$input"/changes-*.csv "$input"/adjustments-*.csv; do
  kind=$(basename "$file")
  kind=${kind%%-*}
  again=$(expect_exit 0 billing import "$kind" "$file")
  assert_contains "$again" " 0 inserted, 0 updated, " "again: $file"
  assert_contains "$again" " unchanged, 0 rejected" "again: $file"
done
after=$(sql "SELECT COUNT(*) FROM plan_changes")$(sql "SELECT COUNT(*) FROM adjustments")$(sql "SELECT COUNT(*) FROM rate_card")
assert_eq "$before" "$after" "importing the operator files again changed rows"
quiet_ok billing export reconciliation --from "$first" --to "$last" -o recon-again.csv
cmp -s recon.csv recon-again.csv || fail "the reconciliation changed after importing the files again"

# Deterministic: the same demo on a new database writes the same exports.
new_db again
cp -r "$exports" first-exports
out2=$(expect_exit 0 billing --db "$NEW_DB_URL" demo --out "$E2E_TMP/demo" --accounts 200 --days 4 \
  --events-per-day 2000)
for f in reconciliation charges rejects payments adjustments; do
  cmp -s "first-exports/$f.csv" "$exports/$f.csv" || fail "the second demo wrote another $f.csv"
done
assert_eq "$(grep -A5 '^operator imports' <<<"$out")" "$(grep -A5 '^operator imports' <<<"$out2")" \
  "the second demo's summary"
