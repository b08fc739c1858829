# shellcheck shell=bash
# Hostile input (SPEC 5, 9, 10; docs/decisions.md "Input"): SQL
# metacharacters, quotes, backslashes, NUL and control bytes, invalid UTF-8,
# formula text, 100 KB values, enormous and negative numbers and impossible or
# far-future dates in every CSV field of the plans, accounts, purchases,
# rates, changes, adjustments and usage files, each hostile row between good
# ones (changes and adjustments also in files of wrong column counts, stray
# quotes and CRLF line ends, every row accounted for: accepted, unchanged or
# rejected with a reason code); then hostile files (empty,
# a directory, missing, garbage, header only, hostile file names, a ~200 MB
# single line).
#
# Every one must end in a clear rejection or error with the documented exit
# code (65 for a bad file; 0 with rejected rows for bad rows), lose nothing
# else (the good rows around are imported), leave the schema intact (tables
# still there, `billing verify` passes), and what is accepted must not break
# the nightly run afterwards.
#
# The ~200 MB line is a sparse file (NUL bytes; no disk used), so the reader
# must stream it: its RSS is checked. A 2 GB sparse line was tried by hand
# once: `/usr/bin/time -v billing ingest` took 12.1 s with 11 MB maximum RSS
# (the line rejected as line_too_long, the good lines around it accepted).
# A file without read permission is not tried: the tests run as root, whom
# chmod does not stop. A file vanishing between hashing and reading cannot be
# timed reliably; a path that does not exist stands in for it.


t_start=$(date +%s)
# Failures of the program, reported together at the end so that one does not
# hide the checks after it.
deferred=()
defer() { deferred+=("$*"); echo "FAILED CHECK: $*" >&2; }

# run_rc CMD...: runs CMD, output in cmd.out / cmd.err, sets RC.
run_rc() {
  RC=0
  "$@" >cmd.out 2>cmd.err || RC=$?
}

# log_lines_ok FILE LABEL: every stderr line is one well-formed log record
# (text: "TIME LEVEL message" with no control bytes; a value with a line
# break must not forge a second record).
log_lines_ok() {
  python3 - "$1" <<'EOF' || defer "$2: the log on stderr is not one clean record per line (log injection): $(cat -v "$1.bad")"
import re, sys
path = sys.argv[1]
bad = []
for line in open(path, "rb").read().split(b"\n"):
    if not line:
        continue
    if not re.match(rb"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (debug|info|warning|warn|error|critical) ", line):
        bad.append(b"not a log record: " + line[:100])
    elif re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", line):
        bad.append(b"control bytes in: " + line[:100])
open(path + ".bad", "wb").write(b"; ".join(bad[:3]) + (b" (%d lines)" % len(bad) if bad else b""))
sys.exit(1 if bad else 0)
EOF
}

tables_now() {
  case $E2E_BACKEND in
    sqlite) sql "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name" ;;
    mysql) sql "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name" ;;
  esac
}
verify_deferred() { # LABEL [URL]: a failed `billing verify` is deferred
  local rc=0
  "$BILLING_BIN" ${2:+--db "$2"} verify >verify.out 2>verify.err || rc=$?
  if [[ $rc != 0 ]] || grep -q BREACH verify.out; then
    defer "$1: billing verify exited $rc: $(cat verify.out verify.err | head -n 12)"
  fi
}

quiet_ok billing migrate
tables_before=$(tables_now)
[[ $tables_before == *usage_events* && $tables_before == *accounts* ]] || fail "no schema after migrate: $tables_before"

# ============================================ A. hostile rows in every field

cat >base-plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
base,Base,monthly,1000,2900,1500,USD,
CSV
cat >base-accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,base,2026-11-01,0,0,0,1
CSV
quiet_ok billing import plans base-plans.csv
quiet_ok billing import accounts base-accounts.csv
# For the changes and adjustments files: a second plan to change to, and a
# purchase of account 1 to refund (the accounts each change row names are
# written by the generator below).
cat >lifecycle-plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
base2,Base 2,monthly,2000,4900,1400,USD,
CSV
cat >lifecycle-purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-adj,1,2026-11-01T00:00:00Z,1000,1500
CSV
quiet_ok billing import plans lifecycle-plans.csv
quiet_ok billing import purchases lifecycle-purchases.csv

mkdir hostile
python3 - hostile <<'EOF'
# Writes hostile/KIND-CATEGORY.csv: for every field of the kind and every
# value of the category, a row with that field replaced, followed by a good
# row; and hostile/KIND-CATEGORY.good (the good rows' ids) and, for plans,
# .names (plan_id and hex of each accepted-looking name, to check it is
# stored byte for byte).
import datetime, json, os, sys
out = sys.argv[1]
CATS = {
    "sql": [b"'; DROP TABLE accounts; --", b"\" OR 1=1", b"\" OR \"\"=\"", b"1' OR '1'='1",
            b"Robert'); DELETE FROM usage_events; --", b"\\", b"x\\", b"\\'; DROP TABLE plans; --",
            b"\\\"", b"\\0\\n\\r\\x1a", b"%_%", b"`; DROP TABLE lots; `", b":name", b"?", b"$1",
            b"'||(SELECT 1)||'", b"/*", b"*/--", b"NULL"],
    "formula": [b"=cmd|' /C calc'!A0", b"+SUM(1,2)", b"@SUM(A1)", b"-2+3", b"\tTAB", b"\rCR"],
    "bytes": [b"a\x00b", b"\x00", b"\xff\xfe\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf",
              "é漢字😀".encode(), b"line\nbreak", b"cr\ronly",
              b"\x1b[31mred\x1b[0m", b"x\n2026-11-25T00:00:00.000Z error forged record"],
    "long": [b"A" * (100 * 1024), b"B" * (60 * 1024), b"", b" "],
    "numbers": [b"99999999999999999999", b"-1", b"-9223372036854775809", b"1e3", b"0x10",
                b" 5", b"5 ", b"+5", b"1.5", b"0"],
    "dates": [b"2026-02-30", b"2026-13-01", b"0000-00-00", b"2026-11-01T25:00:00Z",
              b"2026-11-01 10:00:00", b"2026-02-30T10:00:00Z", b"2026-11-02T10:00:00+02:00",
              b"9999-12-31", b"9999-12-31T23:59:59Z"],
}

def cell(v):
    if any(c in v for c in (b",", b"\"", b"\r", b"\n")):
        return b"\"" + v.replace(b"\"", b"\"\"") + b"\""
    return v

KINDS = {
    "plans": (b"plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap",
              lambda c, n: [b"p-%s-%d" % (c, n), b"Plan %d" % n, b"monthly", b"100", b"900", b"1500", b"USD", b""]),
    "accounts": (b"account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day",
                 lambda c, n: [b"%d" % (100000 * (1 + list(CATS).index(c.decode())) + n), b"base", b"2026-11-01",
                               b"0", b"0", b"0", b"1"]),
    "purchases": (b"purchase_id,account_id,purchased_at,credits,amount_cents",
                  lambda c, n: [b"u-%s-%d" % (c, n), b"1", b"2026-11-02T08:00:00Z", b"10", b"15"]),
    # A rate card row per date from 2027-01-01 (after every date the test
    # closes), each listing the sms statuses of the row before it.
    "rates": (b"effective_from,channel,unit_size,min_units,credits_per_unit,charged_statuses,free_statuses",
              lambda c, n: [(datetime.date(2027, 1, 1) + datetime.timedelta(days=n)).isoformat().encode(),
                            b"sms", b"160", b"1", b"1", b"sent;delivered", b"failed"]),
    "usage": (b"event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits",
              lambda c, n: [b"e-%s-%d" % (c, n), b"1", b"sms",
                            b"2026-11-02T%02d:%02d:%02dZ" % (n // 3600, n // 60 % 60, n % 60),
                            b"delivered", b"100", b"", b"1"]),
    # One account per row (changes-accounts.csv), so that no row's change
    # decides another's no_change or conflicting_change: a change to base2,
    # every fourth a cancellation, after every date the test closes.
    "changes": (b"change_id,account_id,effective_date,action,plan_id",
                lambda c, n: [b"ch-%s-%d" % (c, n), b"%d" % change_account(c, n), b"2026-12-01",
                              b"cancel" if n % 4 == 0 else b"change_plan",
                              b"" if n % 4 == 0 else b"base2"]),
    # Account 1: a grant, a debit or a refund of p-adj in turn, in the dates
    # the nightly run below closes.
    "adjustments": (b"adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason",
                    lambda c, n: [b"adj-%s-%d" % (c, n), b"1", b"2026-11-02T09:00:00Z",
                                  [b"grant", b"debit", b"refund"][n % 3], b"1", b"10", b"p-adj",
                                  b"2027-06-01T00:00:00Z", b"support ticket %d" % n]),
}
CAT_INDEX = {cat: i for i, cat in enumerate(list(CATS) + ["shape"])}
def change_account(c, n):
    return 5_000_000 + 1000 * CAT_INDEX[c.decode()] + n
meta = {}
for kind, (header, good) in KINDS.items():
    for cat, values in CATS.items():
        c = cat.encode()
        rows, goods, names, n = [], [], {}, 0
        for col in range(len(good(c, 0))):
            for v in values:
                n += 1
                r = good(c, n)
                r[col] = v
                if (kind, col) in (("plans", 1), ("adjustments", 8)):
                    names[r[0].decode()] = v.hex().upper()
                rows.append(b",".join(cell(x) for x in r))
                n += 1
                g = good(c, n)
                rows.append(b",".join(cell(x) for x in g))
                goods.append(g[0].decode())
        assert kind != "changes" or n < 200, "more change rows than accounts"
        base = f"{kind}-{cat}"
        with open(os.path.join(out, base + ".csv"), "wb") as f:
            f.write(header + b"\n" + b"\n".join(rows) + b"\n")
        with open(os.path.join(out, base + ".good"), "w") as f:
            f.write("\n".join(goods) + "\n")
        if names:
            with open(os.path.join(out, base + ".names"), "w") as f:
                json.dump(names, f)
        meta[base] = len(rows)

# Every account a changes row may name, on the base plan from 2026-11-01.
with open(os.path.join(out, "changes-accounts.csv"), "wb") as f:
    f.write(KINDS["accounts"][0] + b"\n")
    for cat in CAT_INDEX:
        for n in range(1, 200):
            f.write(b"%d,base,2026-11-01,0,0,0,1\n" % change_account(cat.encode(), n))

# Files of another shape, CRLF line ends throughout: rows of too few and too
# many cells, a stray quote, an unterminated quote at the end, a row that
# repeats a good one (unchanged) or changes it (conflicting_content), each
# between good rows.
for kind in ("changes", "adjustments"):
    header, good = KINDS[kind]
    c = b"shape"
    rows, goods, n = [], [], 0
    def add_good():
        global n
        n += 1
        g = good(c, n)
        rows.append(b",".join(cell(x) for x in g))
        goods.append(g[0].decode())
        return g
    bad = [
        lambda g: b",".join(cell(x) for x in g[:-1]),
        lambda g: b",".join(cell(x) for x in g[:2]),
        lambda g: b",".join(cell(x) for x in g) + b",extra",
        lambda g: b",".join(cell(x) for x in g) + b",,,,,,,,,,",
        lambda g: b"",  # an empty line
        lambda g: b",".join(cell(x) for x in g[:-1]) + b",x\"y\"z",
        lambda g: b",".join(cell(x) for x in g),  # the good row again: unchanged
        lambda g: b",".join(cell(x) for x in g[:2]) + b",2026-12-02" + (b"T00:00:00Z" if kind == "adjustments" else b"") + b"," + b",".join(cell(x) for x in g[3:]),
    ]
    for make in bad:
        g = add_good()
        n += 1
        rows.append(make(g))
    add_good()
    n += 1
    rows.append(b",".join(cell(x) for x in good(c, n)[:-1]) + b",\"never closed")
    base = f"{kind}-shape"
    with open(os.path.join(out, base + ".csv"), "wb") as f:
        f.write(header + b"\r\n" + b"\r\n".join(rows) + b"\r\n")
    with open(os.path.join(out, base + ".good"), "w") as f:
        f.write("\n".join(goods) + "\n")
    # The empty line is no record.
    meta[base] = sum(1 for r in rows if r)
with open(os.path.join(out, "rows.txt"), "w") as f:
    for base, n in meta.items():
        f.write(f"{base} {n}\n")
print(f"hostile values: {sum(len(v) for v in CATS.values())} in {len(CATS)} categories")
EOF

# missing_good FILE.good ID_COLUMN TABLE: prints the good ids not in TABLE.
missing_good() {
  sql "SELECT $2 FROM $3" >ids.txt
  python3 - "$1" ids.txt <<'EOF'
import sys
want = [l.strip() for l in open(sys.argv[1]) if l.strip()]
have = {l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8", errors="replace")}
missing = [w for w in want if w not in have]
print(f"{len(missing)} of {len(want)} missing: {missing[:5]}" if missing else "")
EOF
}

declare -A kind_id=([plans]=plan_id [accounts]=account_id [purchases]=purchase_id [rates]=effective_from
  [changes]=change_id [adjustments]=adjustment_id [usage]=event_id)
declare -A kind_table=([plans]=plans [accounts]=accounts [purchases]=purchases [rates]=rate_card
  [changes]=plan_changes [adjustments]=adjustments [usage]=usage_events)
quiet_ok billing import accounts hostile/changes-accounts.csv
hostile_rows=0
for kind in plans accounts purchases rates changes adjustments usage; do
  cats=(sql formula bytes long numbers dates)
  [[ $kind != changes && $kind != adjustments ]] || cats+=(shape)
  for cat in "${cats[@]}"; do
    f=hostile/$kind-$cat.csv
    rows=$(awk -v b="$kind-$cat" '$1 == b {print $2}' hostile/rows.txt)
    hostile_rows=$((hostile_rows + rows / 2))
    if [[ $kind == usage ]]; then
      run_rc billing ingest "$f"
    else
      run_rc billing import "$kind" "$f"
    fi
    if [[ $RC != 0 ]]; then
      defer "$kind file with $cat values: exit $RC, want 0 (bad rows are rejected, the file is good): $(grep -a ' error ' cmd.err | head -n 2)"
      continue
    fi
    # Every row accounted for: N rows (lines), the good ones all stored.
    if [[ $kind == usage ]]; then
      read -r lines acc dup rej < <(sed -nE 's/.*: ([0-9]+) lines: ([0-9]+) accepted, ([0-9]+) duplicates, ([0-9]+) rejected.*/\1 \2 \3 \4/p' cmd.out)
      assert_eq "$rows" "${lines:-}" "$f: every line counted"
      assert_eq "$rows" "$((acc + dup + rej))" "$f: each line accepted, duplicate or rejected"
    else
      assert_contains "$(cat cmd.out)" ": $rows rows," "$f: every row counted"
      log_lines_ok cmd.err "import $kind with $cat values"
    fi
    if [[ $kind == changes || $kind == adjustments ]]; then
      # Each row ends as exactly one of inserted, unchanged or rejected, and
      # each rejected one is on stderr with its line and a reason code.
      read -r n ins upd unch rej < <(sed -nE 's/.*: ([0-9]+) rows, ([0-9]+) inserted, ([0-9]+) updated, ([0-9]+) unchanged, ([0-9]+) rejected.*/\1 \2 \3 \4 \5/p' cmd.out)
      assert_eq "$rows" "$((ins + upd + unch + rej))" "$f: each row inserted, unchanged or rejected"
      echo "$f: $rows rows: $ins inserted, $unch unchanged, $rej rejected"
      assert_eq "$rej" "$(grep -ac ': rejected: ' cmd.err || true)" "$f: every rejected row on stderr"
      grep -aoE ':[0-9]+: rejected: [a-z0-9_]+' cmd.err | sed -E 's/.*rejected: //' | sort -u >"reasons-$kind-$cat.txt"
      while read -r reason; do
        case $reason in
          bad_csv | invalid_utf8 | bad_column_count | missing_field | bad_id | bad_number | out_of_range | \
            bad_date | bad_timestamp | bad_action | bad_kind | unknown_account | unknown_plan | \
            conflicting_content | effective_in_closed_date | before_anchor | conflicting_change | \
            no_change | unknown_purchase | refund_before_purchase | bad_expiry) ;;
          *) defer "$f: unknown reject reason '$reason'" ;;
        esac
      done <"reasons-$kind-$cat.txt"
      echo "  reasons: $(tr '\n' ' ' <"reasons-$kind-$cat.txt")"
      # Imported again, the same file changes nothing: what was accepted is
      # unchanged, the rest rejected again.
      run_rc billing import "$kind" "$f"
      read -r n2 ins2 upd2 unch2 rej2 < <(sed -nE 's/.*: ([0-9]+) rows, ([0-9]+) inserted, ([0-9]+) updated, ([0-9]+) unchanged, ([0-9]+) rejected.*/\1 \2 \3 \4 \5/p' cmd.out)
      assert_eq "$rows 0 0 $((ins + unch)) $rej" "${n2:-} ${ins2:-} ${upd2:-} ${unch2:-} ${rej2:-}" "$f imported again"
    fi
    missing=$(missing_good "hostile/$kind-$cat.good" "${kind_id[$kind]}" "${kind_table[$kind]}")
    [[ -z $missing ]] || defer "$f: good rows around the hostile ones were lost: $missing"
  done
done
echo "hostile rows tried: $hostile_rows (plus as many good rows around them)"

# The same rejections as JSON log lines: each line one valid JSON object in
# UTF-8, whatever bytes the rejected values held.
for kind in plans accounts changes adjustments; do
  run_rc billing --log-format json import "$kind" "hostile/$kind-bytes.csv"
  python3 - cmd.err <<'EOF' || defer "import $kind --log-format json: stderr lines that are not JSON in UTF-8 (see above)"
import json, sys
bad = []
for line in open(sys.argv[1], "rb").read().split(b"\n"):
    if not line:
        continue
    try:
        json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        bad.append(f"{line[:90]!r}: {e}")
for b in bad[:2]:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
done

# Plan names and adjustment reasons are free text: whatever was accepted is
# stored byte for byte (a NUL too).
{
  sql "SELECT plan_id, HEX(name) FROM plans"
  sql "SELECT adjustment_id, HEX(reason) FROM adjustments"
} >names.txt
python3 - names.txt hostile/plans-*.names hostile/adjustments-*.names <<'EOF' || defer "plan names or adjustment reasons are not stored byte for byte (see above)"
import json, sys
have = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1], encoding="utf-8", errors="replace") if "\t" in l)
bad = 0
for path in sys.argv[2:]:
    for pid, hexname in json.load(open(path)).items():
        if pid in have and have[pid].upper() != hexname:
            bad += 1
            if bad <= 3:
                print(f"{pid}: stored {have[pid][:40]}, sent {hexname[:40]}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# The rejected usage lines carry a reason code of the SPEC's list.
sql "SELECT DISTINCT reason FROM rejects" >reasons.txt
while read -r reason; do
  case $reason in
    bad_column_count | missing_field | bad_event_id | unknown_account | bad_channel | bad_status | \
      bad_timestamp | bad_number | out_of_range | conflicting_duplicate | invalid_utf8 | line_too_long | bad_quoting) ;;
    *) defer "unknown reject reason '$reason'" ;;
  esac
done <reasons.txt
echo "reject reasons seen: $(sort reasons.txt | tr '\n' ' ')"

assert_eq "$tables_before" "$(tables_now)" "the schema after the hostile rows"
out=$(expect_exit 0 billing status)
assert_contains "$out" "accounts:" "status after the hostile rows"
# The books still close, verify, and export as clean CSV.
run_rc billing run --from 2026-11-01 --to 2026-11-03
[[ $RC == 0 ]] || defer "billing run after the hostile rows exited $RC: $(grep -a ' error ' cmd.err | head -n 2)"
verify_deferred "after the hostile rows"
for kind in reconciliation charges payments rejects adjustments; do
  run_rc billing export "$kind" --from 2026-11-01 --to 2026-11-30 -o "export-$kind.csv"
  [[ $RC == 0 ]] || { defer "export $kind after the hostile rows exited $RC: $(cat cmd.err)"; continue; }
  python3 - "export-$kind.csv" <<'EOF' || defer "export $kind: not clean CSV (see above)"
import csv, re, sys
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit(print(f"{sys.argv[1]}: not UTF-8: {e}", file=sys.stderr) or 1)
rows = list(csv.reader(text.splitlines(keepends=True)))
width = len(rows[0])
bad = [r for r in rows if len(r) != width]
number = re.compile(r"^[+-]?\d+(\.\d+)?$")
formula = [c for r in rows[1:] for c in r if c and c[0] in "=+-@\t\r" and not number.match(c)]
for what, items in (("rows of another width", bad), ("formula cells not neutralised", formula)):
    if items:
        print(f"{sys.argv[1]}: {len(items)} {what}: {items[:3]}", file=sys.stderr)
sys.exit(1 if bad or formula else 0)
EOF
done
(($(csv_rows export-rejects.csv) > 100)) || defer "the rejects export lists only $(csv_rows export-rejects.csv) lines"
# The adjustments the run applied (effective on 2026-11-02, the hostile
# reasons among them) are all exported, one row each.
assert_eq "$(sql "SELECT COUNT(*) FROM adjustments WHERE applied_date IS NOT NULL")" \
  "$(csv_rows export-adjustments.csv)" "the applied adjustments in the export"
(($(csv_rows export-adjustments.csv) > 100)) || defer "the adjustments export lists only $(csv_rows export-adjustments.csv) rows"

# ================================= B. accepted extremes must not break a run

# Each on a fresh database with the base plan and account: import the
# scenario's rows (rejected or accepted, exit 0), then the nightly run of
# 2026-11-01..03 must succeed and verify. (A value the program cannot book
# should be rejected at import, not stop every night's run for everybody.)
scenario_db() { # NAME: a fresh database with the base data; sets SC_URL
  case $E2E_BACKEND in
    sqlite) SC_URL="sqlite:$E2E_TMP/sc-$1.db" ;;
    mysql)
      new_db "${1//-/_}"
      SC_URL=$NEW_DB_URL
      ;;
  esac
  quiet_ok billing --db "$SC_URL" migrate
  quiet_ok billing --db "$SC_URL" import plans base-plans.csv
  quiet_ok billing --db "$SC_URL" import accounts base-accounts.csv
}
P=plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
A=account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
U=purchase_id,account_id,purchased_at,credits,amount_cents
E=event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
M=9223372036854775807
scenarios=(
  "purchase-max|||$U\nx1,1,2026-11-02T00:00:00Z,$M,100|"
  "purchase-min|||$U\nx1,1,2026-11-02T00:00:00Z,-9223372036854775808,100|"
  "amount-max|||$U\nx1,1,2026-11-02T00:00:00Z,10,$M|"
  "plan-max-and-purchase|$P\nhuge,Huge,monthly,$M,$M,$M,USD,|$A\n2,huge,2026-11-01,0,0,0,1|$U\nx1,2,2026-11-02T00:00:00Z,1,1|"
  "recharge-max||$A\n3,base,2026-11-01,1,$M,$M,100||"
  "recharge-credits-max||$A\n3,base,2026-11-01,1,2000,$M,1||"
  "credit-price-max|$P\npricey,Pricey,monthly,0,0,$M,USD,|$A\n4,pricey,2026-11-01,1,100,1000,1||"
  "platform-credits-max||||$E\nm1,1,sms,2026-11-02T10:00:00Z,delivered,100,,$M\nm2,1,sms,2026-11-02T10:00:01Z,delivered,100,,$M"
  "anchor-9999||$A\n5,base,9999-12-31,0,0,0,1||"
  "purchase-9999|||$U\nx1,1,9999-12-31T23:59:59Z,10,10|"
  "usage-9999||||$E\nf1,1,sms,9999-12-31T23:59:59Z,delivered,100,,"
  "voice-max||||$E\nv1,1,voice,2026-11-02T10:00:00Z,completed,,86400,\nv2,1,sms,2026-11-02T10:00:00Z,delivered,100000,,"
)
for sc in "${scenarios[@]}"; do
  # shellcheck disable=SC2034 # read through ${!part} below
  IFS='|' read -r name plans accounts purchases usage <<<"$sc"
  scenario_db "$name"
  ok=1
  for part in plans accounts purchases usage; do
    [[ -n ${!part} ]] || continue
    printf '%b\n' "${!part}" >"sc-$name-$part.csv"
    if [[ $part == usage ]]; then
      run_rc billing --db "$SC_URL" ingest "sc-$name-$part.csv"
    else
      run_rc billing --db "$SC_URL" import "$part" "sc-$name-$part.csv"
    fi
    [[ $RC == 0 ]] || { defer "$name: $part exited $RC, want 0: $(grep -a ' error ' cmd.err)"; ok=0; }
  done
  ((ok)) || continue
  accepted=$(grep -ahoE '[0-9]+ (inserted|accepted)' cmd.out | head -n 1)
  run_rc billing --db "$SC_URL" run --from 2026-11-01 --to 2026-11-03
  if [[ $RC != 0 ]]; then
    defer "$name (import: ${accepted:-?}): billing run exited $RC, want 0: $(grep -a ' error ' cmd.err)"
  else
    verify_deferred "$name" "$SC_URL"
  fi
  echo "extreme value $name: import ${accepted:-?}, run exit $RC"
done

# ============================================================ C. hostile files

mkdir -p files/a-directory
: >files/empty.csv
printf '%s\n' "$E" >files/header-only.csv
head -c 4096 /dev/urandom >files/garbage.bin
printf '\x00\x00\x00\n' >files/nul-header.csv
printf 'not,a,usage,log\n1,2,3,4\n' >files/wrong-header.csv
rm -f files/missing.csv
# file, expected exit of ingest, of import accounts, of payments import
file_cases=(
  "files/empty.csv 65 65 65"
  "files/a-directory 65 65 65"
  "files/missing.csv 65 65 65"
  "files/garbage.bin 65 65 65"
  "files/nul-header.csv 65 65 65"
  "files/wrong-header.csv 65 65 65"
  "files/header-only.csv 0 65 65"
)
files_tried=0
for c in "${file_cases[@]}"; do
  read -r f want_ingest want_import want_payments <<<"$c"
  for what in ingest import payments; do
    files_tried=$((files_tried + 1))
    case $what in
      ingest) run_rc billing ingest "$f"; want=$want_ingest ;;
      import) run_rc billing import accounts "$f"; want=$want_import ;;
      payments) run_rc billing payments import "$f"; want=$want_payments ;;
    esac
    if [[ $RC != "$want" ]]; then
      defer "$what $f: exit $RC, want $want: $(grep -a ' error ' cmd.err | head -n 1)"
    elif [[ $RC != 0 ]]; then
      n=$(grep -ac ' error ' cmd.err || true)
      [[ $n == 1 ]] || defer "$what $f: want one error line, got $n: $(head -c 300 cmd.err)"
      grep -aq -- "${f#files/}" cmd.err || defer "$what $f: the message does not name the file: $(cat cmd.err)"
      ! grep -aqiE 'internal error|terminate|abort' cmd.err || defer "$what $f: not a clean error: $(cat cmd.err)"
    fi
  done
done

# Hostile file names, good content (a new event each): ingested, named as given.
i=0
# shellcheck disable=SC1003,SC2016 # literal backslashes and $(...) on purpose
for name in "q'; DROP TABLE usage_files; --.csv" 'back\slash\.csv' 'x\' 'colon:00:name.csv' $'new\nline.csv' \
  '$(touch pwned).csv' '-leading-dash.csv'; do
  i=$((i + 1))
  printf '%s\nfn%d,1,sms,2026-11-02T11:00:%02dZ,delivered,10,,1\n' "$E" "$i" "$i" >"files/$name"
  files_tried=$((files_tried + 1))
  run_rc billing ingest "files/$name"
  if [[ $RC != 0 ]]; then
    defer "ingest of a file named $(printf '%q' "$name"): exit $RC: $(grep -a ' error ' cmd.err | head -n 1)"
  fi
done
[[ ! -e pwned && ! -e files/pwned ]] || fail "a file name was run as a command"
assert_eq "$i" "$(sql "SELECT COUNT(*) FROM usage_events WHERE event_id LIKE 'fn%'")" "the events of the oddly named files"

# A ~200 MB single line between two good lines (sparse: NUL bytes, no disk):
# rejected line_too_long, the good lines kept, memory flat.
{
  printf '%s\nbig1,1,sms,2026-11-02T12:00:00Z,delivered,10,,1\nbig2,1,sms,2026-11-02T12:00:01Z,delivered,10,,1,' "$E"
} >files/huge-line.csv
truncate -s +200M files/huge-line.csv
printf '\nbig3,1,sms,2026-11-02T12:00:02Z,delivered,10,,1\n' >>files/huge-line.csv
t0=$(date +%s%N)
run_rc /usr/bin/time -f '%M' "$BILLING_BIN" ingest files/huge-line.csv
rss_kb=$(tail -n 1 cmd.err)
echo "200 MB line: ingest exit $RC in $((($(date +%s%N) - t0) / 1000000)) ms, max RSS ${rss_kb} KB"
assert_eq 0 "$RC" "ingest of a file with a 200 MB line: $(head -c 300 cmd.err)"
assert_contains "$(cat cmd.out)" "3 lines: 2 accepted, 0 duplicates, 1 rejected" "the 200 MB line is one rejected line"
assert_eq "line_too_long" "$(sql "SELECT reason FROM rejects WHERE event_id = 'big2'")" "the 200 MB line's reason"
((rss_kb < 150000)) || defer "ingest of a 200 MB line used ${rss_kb} KB of memory: it buffers the line"
# The same in an import file.
{
  printf '%s\n900001,base,2026-11-20,0,0,0,1\n900002,base,2026-11-20,0,0,0,' "$A"
} >files/huge-accounts.csv
truncate -s +200M files/huge-accounts.csv
printf '1\n900003,base,2026-11-20,0,0,0,1\n' >>files/huge-accounts.csv
run_rc /usr/bin/time -f '%M' "$BILLING_BIN" import accounts files/huge-accounts.csv
rss_kb=$(tail -n 1 cmd.err)
echo "200 MB line: import exit $RC, max RSS ${rss_kb} KB"
assert_eq 0 "$RC" "import of a file with a 200 MB line: $(head -c 300 cmd.err)"
assert_contains "$(cat cmd.out)" "1 rejected" "the 200 MB account line is rejected"
assert_eq 2 "$(sql "SELECT COUNT(*) FROM accounts WHERE account_id IN (900001, 900003)")" "the accounts around the 200 MB line"
((rss_kb < 150000)) || defer "import of a 200 MB line used ${rss_kb} KB of memory: it buffers the line"
rm -f files/huge-line.csv files/huge-accounts.csv
files_tried=$((files_tried + 2))
echo "hostile files tried: $files_tried"

# The schema is intact after all of it.
assert_eq "$tables_before" "$(tables_now)" "the schema after the hostile files"
verify_deferred "after the hostile files"
quiet_ok billing status

echo "hostile input test took $(($(date +%s) - t_start)) s"
if ((${#deferred[@]} > 0)); then
  printf 'BUG: %s\n' "${deferred[@]}" >&2
  fail "${#deferred[@]} failed check(s) above"
fi
