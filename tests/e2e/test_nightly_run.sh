# shellcheck shell=bash
# Credit engine and the nightly run (SPEC 3, 4, 6, 8, 10, 11, 13): cycle
# resets, roll-over and its 30-day expiry, an anchor on the 31st, purchased
# lots, overdraft, sending status, catch-up, re-runs of closed dates, refusal
# of dates not over, --dry-run, the run lock, and kill -9 at random points.
# Expected reconciliation rows are worked out by hand from the SPEC below.

# ---------------------------------------------------------------- helpers


# check_recon FILE LAST_DATE ACCOUNT=ANCHOR...: every row ties out, closing of
# D = opening of D+1, sending_enabled = (closing > 0), and each account has one
# row on every date from its anchor to LAST_DATE (SPEC 10, 13.1, 13.2).
check_recon() {
  python3 - "$@" <<'EOF'
import csv, sys, datetime
path, last = sys.argv[1], datetime.date.fromisoformat(sys.argv[2])
anchors = {a: datetime.date.fromisoformat(d) for a, d in (x.split("=") for x in sys.argv[3:])}
header = ("business_date,account_id,opening_balance,granted,purchased,rolled_over,used,"
          "expired,revoked,adjusted,closing_balance,overdraft,sending_enabled").split(",")
errors = []
with open(path, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    got_header = next(reader)
    if got_header != header:
        errors.append(f"header is {got_header}")
    rows = [dict(zip(header, r)) for r in reader if r]
by_account = {}
for r in rows:
    n = {k: int(r[k]) for k in header[2:]}
    if n["closing_balance"] != (n["opening_balance"] + n["granted"] + n["purchased"]
                                + n["adjusted"] - n["used"] - n["expired"] - n["revoked"]):
        errors.append(f"row does not tie out: {r}")
    if n["sending_enabled"] != (1 if n["closing_balance"] > 0 else 0):
        errors.append(f"sending_enabled is not (closing > 0): {r}")
    if n["overdraft"] < 0 or (n["overdraft"] > 0 and n["closing_balance"] > 0):
        errors.append(f"overdraft with a positive balance: {r}")
    by_account.setdefault(r["account_id"], []).append((datetime.date.fromisoformat(r["business_date"]), n))
if anchors and set(by_account) != set(anchors):
    errors.append(f"accounts {sorted(by_account)} != {sorted(anchors)}")
for account, days in by_account.items():
    days.sort(key=lambda x: x[0])
    if account in anchors:
        want = (last - anchors[account]).days + 1
        if days[0][0] != anchors[account] or days[-1][0] != last or len(days) != want:
            errors.append(f"account {account}: rows {days[0][0]}..{days[-1][0]} ({len(days)}), "
                          f"want {anchors[account]}..{last} ({want})")
        if days[0][1]["opening_balance"] != 0:
            errors.append(f"account {account}: first opening is not 0")
    for (d0, a), (d1, b) in zip(days, days[1:]):
        if (d1 - d0).days != 1:
            errors.append(f"account {account}: gap {d0} -> {d1}")
        if a["closing_balance"] != b["opening_balance"]:
            errors.append(f"account {account}: closing {d0} {a['closing_balance']} != opening {d1} {b['opening_balance']}")
for e in errors[:30]:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
}

export_all() { # URL PREFIX FROM TO: reconciliation, charges, payments to PREFIX.*.csv
  local kind
  for kind in reconciliation charges payments; do
    expect_exit 0 billing --db "$1" export "$kind" --from "$3" --to "$4" -o "$2.$kind.csv" >/dev/null
  done
}

# -------------------------------------------------------- the hand-made books

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,
payg,Pay as you go,monthly,0,0,2000,USD,
capped,Capped,monthly,1000,2900,1500,USD,300
CSV
# 1: the seed example. 2: anchor on the 31st. 3: pay-as-you-go with purchases
# and an overdraft paid by a purchase. 4: overdraft paid by the next grant.
# 5: burn-down order at an expiry tie. 6: roll-over cap.
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,basic,2026-08-01,0,0,0,1
2,basic,2026-08-31,0,0,0,1
3,payg,2026-08-01,0,0,0,1
4,basic,2026-08-01,0,0,0,1
5,basic,2026-08-01,0,0,0,1
6,capped,2026-08-01,0,0,0,1
CSV
cat >purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-1,3,2026-08-10T12:00:00Z,300,600
p-2,3,2026-08-15T08:00:00Z,250,500
CSV
# voice: ceil(duration_s / 60) credits. sms: ceil(chars / 160) credits.
cat >usage.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
u1,1,voice,2026-08-05T10:00:00Z,completed,,18000,300
u2,1,voice,2026-08-20T15:30:00Z,completed,,12000,200
u3,3,voice,2026-08-10T13:00:00Z,completed,,6000,100
u4,3,voice,2026-08-12T09:00:00Z,completed,,18000,300
u5,4,voice,2026-08-25T10:00:00Z,completed,,72000,1200
u6,1,sms,2026-11-02T08:00:00Z,delivered,200,,2
u8,5,voice,2026-08-06T09:00:00Z,completed,,30000,
u9,5,voice,2026-09-10T09:00:00Z,completed,,18000,
CSV

expect_exit 0 billing migrate >/dev/null
expect_exit 0 billing import plans plans.csv >/dev/null
expect_exit 0 billing import accounts accounts.csv >/dev/null
out=$(expect_exit 0 billing import purchases purchases.csv)
assert_contains "$out" "2 inserted" "purchases imported"
out=$(expect_exit 0 billing ingest usage.csv)
assert_contains "$out" "8 accepted" "usage ingested"

# Two months, then a catch-up with --date up to 2026-11-01.
out=$(expect_exit 0 billing run --from 2026-08-01 --to 2026-09-30)
assert_eq 61 "$(grep -cE '^2026-(08|09)-[0-9]{2} +closed ' <<<"$out")" "61 dates closed by --from/--to"
assert_eq "2026-09-30" "$(sql "SELECT MAX(business_date) FROM business_days WHERE status = 'complete'")" "last completed"
# Late facts, arriving after their date closed: applied at the start of the
# next date that runs (10-01), before its own reset (SPEC 8, 13.4).
cat >late-purchases.csv <<'CSV'
purchase_id,account_id,purchased_at,credits,amount_cents
p-late,3,2026-09-20T10:00:00Z,100,200
CSV
expect_exit 0 billing import purchases late-purchases.csv >/dev/null
printf 'event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\nu7,4,voice,2026-09-25T12:00:00Z,completed,,6000,\n' >late.csv
expect_exit 0 billing ingest late.csv >/dev/null
out=$(expect_exit 0 billing run --date 2026-11-01)
assert_eq 32 "$(grep -cE '^2026-1[01]-[0-9]{2} +closed ' <<<"$out")" "catch-up closes 2026-10-01..2026-11-01"
assert_contains "$out" "2026-10-01  closed" "catch-up starts the day after the last completed date"
read -r -a f <<<"$(grep '^2026-10-01' <<<"$out")"
assert_eq "6 1 1 100" "${f[2]} ${f[3]} ${f[4]} ${f[5]}" "10-01 summary: accounts events late credits"
status=$(expect_exit 0 billing status)
assert_contains "$status" "last completed date:  2026-11-01" "status after catch-up"

expect_exit 0 billing export reconciliation --from 2026-08-01 --to 2026-11-30 -o recon.csv >/dev/null
assert_eq 528 "$(csv_rows recon.csv)" "5 accounts x 93 dates + 63 dates of account 2"
check_recon recon.csv 2026-11-01 1=2026-08-01 2=2026-08-31 3=2026-08-01 4=2026-08-01 5=2026-08-01 6=2026-08-01 \
  || fail "reconciliation does not tie out (see above)"

#                                   open,grant,purch,roll,used,exp,rev,close,overdr,send
# Seed: 1000 credits a month, 500 used in the cycle.
assert_eq "0,1000,0,0,0,0,0,1000,0,1" "$(recon_row recon.csv 2026-08-01 1)" "seed: first grant"
assert_eq "1000,0,0,0,300,0,0,700,0,1" "$(recon_row recon.csv 2026-08-05 1)" "seed: 300 used"
assert_eq "700,0,0,0,200,0,0,500,0,1" "$(recon_row recon.csv 2026-08-20 1)" "seed: 200 used"
# At the reset 500 roll over (30 days) and 1000 are granted.
assert_eq "500,1000,0,500,0,0,0,1500,0,1" "$(recon_row recon.csv 2026-09-01 1)" "seed: reset with roll-over"
assert_eq "1500,0,0,0,0,0,0,1500,0,1" "$(recon_row recon.csv 2026-09-30 1)" "seed: quiet day"
# 2026-10-01 = 2026-09-01 + 30 days: the unused roll-over lot expires (500),
# and the unused September plan credits roll over in turn.
assert_eq "1500,1000,0,1000,0,500,0,2000,0,1" "$(recon_row recon.csv 2026-10-01 1)" "seed: roll-over expires 30 days after its reset"
# The October roll-over lot expires 2026-10-31 (30 days), before the next reset.
assert_eq "2000,0,0,0,0,1000,0,1000,0,1" "$(recon_row recon.csv 2026-10-31 1)" "roll-over lives 30 days, not a cycle"
assert_eq "1000,1000,0,1000,0,0,0,2000,0,1" "$(recon_row recon.csv 2026-11-01 1)" "November reset"

# Anchor 2026-08-31: cycles start 2026-09-30 (clamped) and 2026-10-31 (from the
# anchor, not from 2026-09-30); no row before the anchor.
assert_eq "0 rows" "$(recon_row recon.csv 2026-08-30 2)" "no row before the anchor"
assert_eq "0,1000,0,0,0,0,0,1000,0,1" "$(recon_row recon.csv 2026-08-31 2)" "anchor 31st: first grant"
assert_eq "1000,0,0,0,0,0,0,1000,0,1" "$(recon_row recon.csv 2026-09-29 2)" "anchor 31st: no reset on 09-29"
assert_eq "1000,1000,0,1000,0,0,0,2000,0,1" "$(recon_row recon.csv 2026-09-30 2)" "anchor 31st: reset on 09-30"
assert_eq "2000,0,0,0,0,0,0,2000,0,1" "$(recon_row recon.csv 2026-10-01 2)" "anchor 31st: no reset on 10-01"
assert_eq "2000,0,0,0,0,1000,0,1000,0,1" "$(recon_row recon.csv 2026-10-30 2)" "anchor 31st: roll-over of 09-30 expires 10-30"
assert_eq "1000,1000,0,1000,0,0,0,2000,0,1" "$(recon_row recon.csv 2026-10-31 2)" "anchor 31st: reset on 10-31, not 10-30"
assert_eq "2000,0,0,0,0,0,0,2000,0,1" "$(recon_row recon.csv 2026-11-01 2)" "anchor 31st: quiet 11-01"

# Pay-as-you-go: no credits (sending off), a purchase (on), an overdraft (off),
# a purchase that pays the overdraft off first (on).
assert_eq "0,0,0,0,0,0,0,0,0,0" "$(recon_row recon.csv 2026-08-01 3)" "no credits: sending off"
assert_eq "0,0,300,0,100,0,0,200,0,1" "$(recon_row recon.csv 2026-08-10 3)" "purchased lot, then usage"
assert_eq "200,0,0,0,300,0,0,-100,100,0" "$(recon_row recon.csv 2026-08-12 3)" "overdraft: sending stops"
assert_eq "-100,0,0,0,0,0,0,-100,100,0" "$(recon_row recon.csv 2026-08-14 3)" "overdraft carried"
assert_eq "-100,0,250,0,0,0,0,150,0,1" "$(recon_row recon.csv 2026-08-15 3)" "purchase pays the overdraft: sending again"
assert_eq "150,0,0,0,0,0,0,150,0,1" "$(recon_row recon.csv 2026-09-01 3)" "plan without credits: nothing granted"
assert_eq "150,0,0,0,0,0,0,150,0,1" "$(recon_row recon.csv 2026-09-30 3)" "before the late purchase"
assert_eq "150,0,100,0,0,0,0,250,0,1" "$(recon_row recon.csv 2026-10-01 3)" "a late purchase counts on the date that applies it"
assert_eq "250,0,0,0,0,0,0,250,0,1" "$(recon_row recon.csv 2026-11-01 3)" "purchased lots live 12 months"

# Overdraft settled by the next grant; no roll-over of an emptied plan lot.
assert_eq "1000,0,0,0,1200,0,0,-200,200,0" "$(recon_row recon.csv 2026-08-25 4)" "used past the balance"
assert_eq "-200,0,0,0,0,0,0,-200,200,0" "$(recon_row recon.csv 2026-08-31 4)" "still in debt"
assert_eq "-200,1000,0,0,0,0,0,800,0,1" "$(recon_row recon.csv 2026-09-01 4)" "the grant pays the overdraft"
# The late event of 09-25 (100) is charged at 10-01 00:00Z, before the reset,
# against the lots usable then: the September plan lot expires at that instant
# (half-open), so it becomes overdraft, which the new grant pays; the 800 left
# in the September lot roll over.
assert_eq "800,1000,0,800,100,0,0,1700,0,1" "$(recon_row recon.csv 2026-10-01 4)" "late usage at a reset date"
assert_eq "1700,0,0,0,0,800,0,900,0,1" "$(recon_row recon.csv 2026-10-31 4)" "the October roll-over of account 4 expires"
assert_eq "900,1000,0,900,0,0,0,1900,0,1" "$(recon_row recon.csv 2026-11-01 4)" "account 4 in November"

# Burn-down order: the roll-over lot and the plan lot both expire 10-01; the
# roll-over lot is used first, so 200 of it expire and the plan's 1000 roll over.
assert_eq "1000,0,0,0,500,0,0,500,0,1" "$(recon_row recon.csv 2026-08-06 5)" "account 5 uses 500"
assert_eq "500,1000,0,500,0,0,0,1500,0,1" "$(recon_row recon.csv 2026-09-01 5)" "account 5 reset"
assert_eq "1500,0,0,0,300,0,0,1200,0,1" "$(recon_row recon.csv 2026-09-10 5)" "account 5 uses 300"
assert_eq "1200,1000,0,1000,0,200,0,2000,0,1" "$(recon_row recon.csv 2026-10-01 5)" "roll-over burns before plan at an expiry tie"

# Roll-over cap 300: the unused 1000 give 300 rolled over and 700 expired.
assert_eq "1000,1000,0,300,0,700,0,1300,0,1" "$(recon_row recon.csv 2026-09-01 6)" "cap at the first reset"
assert_eq "1300,1000,0,300,0,1000,0,1300,0,1" "$(recon_row recon.csv 2026-10-01 6)" "cap, and the capped roll-over expires"
assert_eq "1300,0,0,0,0,300,0,1000,0,1" "$(recon_row recon.csv 2026-10-31 6)" "capped roll-over lives 30 days"
assert_eq "1000,1000,0,300,0,700,0,1300,0,1" "$(recon_row recon.csv 2026-11-01 6)" "cap in November"
expect_exit 0 billing export charges --from 2026-10-01 --to 2026-10-01 -o charges-1001.csv >/dev/null
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-10-01,4,voice,2026-09-25,1,100,100,0,100" "$(cat charges-1001.csv)" "the late event in the charges of 10-01"

# The sending platform's record: account 3 goes 0 (08-01), 1, 0, 1.
assert_eq $'2026-08-01\t0\n2026-08-10\t1\n2026-08-12\t0\n2026-08-15\t1' \
  "$(sql "SELECT business_date, enabled FROM sending_changes WHERE account_id = 3 ORDER BY business_date")" \
  "sending changes of account 3"

out=$(expect_exit 0 billing verify)
assert_contains "$out" "all" "verify passes"
[[ $out != *BREACH* ]] || fail "verify reports a breach: $out"

# ------------------------------------------------- re-runs of closed dates

export_all "$BILLING_DB_URL" before 2026-08-01 2026-11-30
out=$(expect_exit 0 billing run --date 2026-09-15)
assert_contains "$out" "2026-09-15  already complete" "a closed date is reported"
[[ $out != *closed* ]] || fail "re-running a closed date closed something: $out"
out=$(expect_exit 0 billing run --from 2026-10-30 --to 2026-11-01)
assert_eq 3 "$(grep -c 'already complete' <<<"$out")" "a closed range is reported"
# A date before the first closed date was never run: not "already complete".
out=$(expect_exit 0 billing run --date 2026-07-15)
[[ $out != *2026-07-15* ]] || fail "a never-run date is reported: $out"
export_all "$BILLING_DB_URL" after 2026-08-01 2026-11-30
for kind in reconciliation charges payments; do
  cmp -s "before.$kind.csv" "after.$kind.csv" || fail "re-running closed dates changed the $kind export"
done

# Dates not over yet are refused. Today is the UTC date of the program's clock,
# fixed by run_e2e.sh at E2E_NOW (2026-11-25T12:00:00Z).
today=$E2E_TODAY
tomorrow=2026-11-26
yesterday=2026-11-24
expect_exit 2 billing run --date "$today" >/dev/null
assert_contains "$(cat "$E2E_TMP/last.err")" "not over" "today is refused"
expect_exit 2 billing run --date "$tomorrow" >/dev/null
expect_exit 2 billing run --from 2026-11-02 --to "$today" >/dev/null
assert_eq "2026-11-01" "$(sql "SELECT MAX(business_date) FROM business_days")" "a refused run starts nothing"

# --dry-run of the next date: a summary, nothing written.
status_before=$(expect_exit 0 billing status)
out=$(expect_exit 0 billing run --date 2026-11-02 --dry-run)
assert_contains "$out" "dry run" "dry run says so"
line=$(grep '^2026-11-02' <<<"$out") || fail "dry run prints no line for 2026-11-02: $out"
read -r -a f <<<"${line/would close/would_close}"
assert_eq "would_close 6 1 0 2" "${f[1]} ${f[2]} ${f[3]} ${f[4]} ${f[5]}" "dry-run summary: status accounts events late credits"
status_after=$(expect_exit 0 billing status)
assert_eq "$status_before" "$status_after" "dry run leaves status unchanged"
assert_contains "$status_after" "last completed date:  2026-11-01" "dry run completes nothing"
assert_eq "0" "$(sql "SELECT COUNT(*) FROM business_days WHERE business_date = '2026-11-02'")" "no business_days row"
export_all "$BILLING_DB_URL" dry 2026-08-01 2026-11-30
for kind in reconciliation charges payments; do
  cmp -s "before.$kind.csv" "dry.$kind.csv" || fail "--dry-run changed the $kind export"
done
# The date really closes afterwards, with what the dry run announced.
out=$(expect_exit 0 billing run --date 2026-11-02)
assert_contains "$out" "2026-11-02  closed" "the date closes after the dry run"
expect_exit 0 billing export reconciliation --from 2026-11-02 --to 2026-11-02 -o nov2.csv >/dev/null
assert_eq "2000,0,0,0,2,0,0,1998,0,1" "$(recon_row nov2.csv 2026-11-02 1)" "the sms of 11-02 charged"

# Dates are UTC whatever the local time zone: in UTC+14 the local date may be
# tomorrow already, in UTC-12 still yesterday (POSIX TZ strings, no tzdata).
expect_exit 2 env TZ=XXX-14 "$BILLING_BIN" run --date "$today" >/dev/null
out=$(expect_exit 0 env TZ=YYY+12 "$BILLING_BIN" run --date "$yesterday" --dry-run)
assert_contains "$out" "$yesterday  would close" "yesterday (UTC) can be closed from UTC-12"
# Without a date, `billing run` closes up to yesterday (UTC).
out=$(expect_exit 0 billing run --dry-run)
assert_eq "$yesterday" "$(grep -E '^[0-9]{4}-' <<<"$out" | tail -n 1 | cut -d' ' -f1)" "the default date is yesterday"
assert_eq "2026-11-03" "$(grep -E '^[0-9]{4}-' <<<"$out" | head -n 1 | cut -d' ' -f1)" "catch-up from the last completed date"
# The real clock (no BILLING_FAKE_NOW), set by libfaketime to 23:59:30 UTC of
# 2026-11-20: yesterday is 2026-11-19, and 11-20 is not over yet.
if ! command -v faketime >/dev/null; then
  fail "faketime is missing (package faketime; run scripts/setup.sh)"
fi
# (When the suite itself runs under libfaketime, its variables go first.)
real_clock=(env -u BILLING_FAKE_NOW -u LD_PRELOAD -u FAKETIME TZ=UTC faketime '2026-11-20 23:59:30')
out=$(expect_exit 0 "${real_clock[@]}" "$BILLING_BIN" run --dry-run)
assert_eq "2026-11-19" "$(grep -E '^[0-9]{4}-' <<<"$out" | tail -n 1 | cut -d' ' -f1)" "the real clock's yesterday"
expect_exit 2 "${real_clock[@]}" "$BILLING_BIN" run --date 2026-11-20 --dry-run >/dev/null
# A fixed clock that does not parse is an error, never the real clock.
expect_exit 2 env BILLING_FAKE_NOW=2026-11-25 "$BILLING_BIN" run --dry-run >/dev/null
assert_contains "$(cat "$E2E_TMP/last.err")" "BILLING_FAKE_NOW" "a bad fixed clock is named"

# ------------------------------------------ a long workload: lock and kill -9

mkdir -p wl
python3 - wl <<'EOF'
import datetime, random, sys
out = sys.argv[1]
rnd = random.Random(20261125)
with open(f"{out}/plans.csv", "w") as f:
    f.write("plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap\n")
    f.write("small,Small,monthly,300,900,1500,USD,200\n")
    f.write("big,Big,monthly,5000,9900,1200,USD,\n")
    f.write("tiny,Tiny,monthly,20,100,1999,EUR,10\n")
start = datetime.date(2026, 9, 1)
anchors = {}
with open(f"{out}/accounts.csv", "w") as f:
    f.write("account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day\n")
    for i in range(1, 2001):
        plan = ("small", "big", "tiny")[i % 3]
        anchor = start + datetime.timedelta(days=i % 28)
        anchors[i] = anchor
        if plan == "tiny" and i % 2 == 0:
            f.write(f"{i},{plan},{anchor},1,50,100,2\n")
        else:
            f.write(f"{i},{plan},{anchor},0,0,0,1\n")
with open(f"{out}/purchases.csv", "w") as f:
    f.write("purchase_id,account_id,purchased_at,credits,amount_cents\n")
    for n in range(300):
        a = rnd.randint(1, 2000)
        d = anchors[a] + datetime.timedelta(days=rnd.randint(0, 30))
        f.write(f"wp-{n},{a},{d}T{rnd.randint(0,23):02d}:{rnd.randint(0,59):02d}:00Z,{rnd.randint(1,500)},{rnd.randint(1,900)}\n")
with open(f"{out}/usage.csv", "w") as f:
    f.write("event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n")
    n = 0
    for day in range(60):
        d = start + datetime.timedelta(days=day)
        for _ in range(400):
            a = rnd.randint(1, 2000)
            if anchors[a] > d:
                continue
            n += 1
            t = f"{d}T{rnd.randint(0,23):02d}:{rnd.randint(0,59):02d}:{rnd.randint(0,59):02d}Z"
            ch = rnd.choice(["sms", "voice", "mms", "ringless"])
            if ch in ("sms", "mms"):
                f.write(f"w{n},{a},{ch},{t},delivered,{rnd.randint(1,2000)},,\n")
            elif ch == "voice":
                f.write(f"w{n},{a},{ch},{t},completed,,{rnd.randint(0,1500)},{rnd.randint(0,30)}\n")
            else:
                f.write(f"w{n},{a},{ch},{t},delivered,,,2\n")
EOF

setup_workload() { # URL
  expect_exit 0 billing --db "$1" migrate >/dev/null
  expect_exit 0 billing --db "$1" import plans wl/plans.csv >/dev/null
  expect_exit 0 billing --db "$1" import accounts wl/accounts.csv >/dev/null
  expect_exit 0 billing --db "$1" import purchases wl/purchases.csv >/dev/null
  expect_exit 0 billing --db "$1" ingest wl/usage.csv >/dev/null
}
wl_from=2026-09-01
wl_to=2026-10-30

# start_run TAG URL [TO]: `billing run` over the workload (up to TO) in the
# background; its pid in TAG.pid, output in TAG.out/.err, exit status in TAG.rc.
start_run() {
  rm -f "$1.pid" "$1.rc"
  (
    rc=0
    sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$1.pid" \
      "$BILLING_BIN" --db "$2" run --from "$wl_from" --to "${3:-$wl_to}" >"$1.out" 2>"$1.err" || rc=$?
    echo "$rc" >"$1.rc"
  ) &
  E2E_BG_PIDS+=($!)
}
wait_rc() { # TAG: waits for start_run TAG to end, prints its exit status
  local i
  for ((i = 0; i < 1200; i++)); do
    [[ -s $1.rc ]] && break
    sleep 0.1
  done
  [[ -s $1.rc ]] || fail "run $1 did not finish in 120 s"
  cat "$1.rc"
}

# Two runs started together: exactly one works, the other exits 75 at once
# and names the holder. The winner's books are the reference below.
new_db ref
ref_url=$NEW_DB_URL
setup_workload "$ref_url"
start_run p1 "$ref_url"
start_run p2 "$ref_url"
rc1=$(wait_rc p1)
rc2=$(wait_rc p2)
case "$rc1,$rc2" in
  0,75) winner=p1 loser=p2 ;;
  75,0) winner=p2 loser=p1 ;;
  *) fail "two concurrent runs exited $rc1 and $rc2 (want 0 and 75); stderr: $(tail -n 3 p1.err p2.err)" ;;
esac
assert_contains "$(cat "$loser.err")" "holds the lock" "the refused run says why"
# (whether it names the holder is checked at the end, so that a failure there
# does not hide the kill -9 checks below)
pair_holder="$(hostname):$(cat "$winner.pid") run"
pair_loser_err=$(cat "$loser.err")
assert_eq 60 "$(grep -c ' closed ' "$winner.out")" "the winner closed the 60 dates"
! grep -q closed "$loser.out" || fail "the refused run closed something: $(cat "$loser.out")"
# A run started while one holds the lock: 75 at once; status shows the holder.
new_db lock
lock_url=$NEW_DB_URL
setup_workload "$lock_url"
# More pairs started together, on short catch-ups (3 dates each), to see
# whether the refused one names the holder (checked at the end).
pairs_misnamed=
for to in 2026-09-03 2026-09-06 2026-09-09 2026-09-12; do
  start_run q1 "$lock_url" "$to"
  start_run q2 "$lock_url" "$to"
  rc1=$(wait_rc q1)
  rc2=$(wait_rc q2)
  case "$rc1,$rc2" in
    0,75) winner=q1 loser=q2 ;;
    75,0) winner=q2 loser=q1 ;;
    0,0) continue ;; # one ended before the other began: no overlap
    *) fail "two concurrent runs exited $rc1 and $rc2 (want 0 and 75); stderr: $(tail -n 3 q1.err q2.err)" ;;
  esac
  if [[ $(cat "$loser.err") != *"$(hostname):$(cat "$winner.pid") run"* ]]; then
    pairs_misnamed+="winner pid $(cat "$winner.pid"), refused run said: $(grep -o 'holds the lock.*' "$loser.err"); "
  fi
done
assert_contains "$(expect_exit 0 billing --db "$lock_url" status)" "last completed date:  2026-09-12" "the pairs closed 09-01..09-12"
start_run p3 "$lock_url"
for ((i = 0; i < 100; i++)); do
  st=$(billing --db "$lock_url" status 2>/dev/null) || true
  # (the holder text follows the lock by a moment)
  [[ -s p3.pid && $st == *"lock:                 held by $(hostname):$(cat p3.pid) run"* ]] && break
  [[ ! -s p3.rc ]] || break
  sleep 0.05
done
if [[ $st == *"held by"* && ! -s p3.rc ]]; then
  t0=$(date +%s%N)
  expect_exit 75 billing --db "$lock_url" run --from "$wl_from" --to "$wl_to" >/dev/null
  (( ($(date +%s%N) - t0) / 1000000 < 5000 )) || fail "the refused run did not exit at once"
  assert_contains "$(cat "$E2E_TMP/last.err")" "$(hostname):$(cat p3.pid) run" "second run names the holder"
else
  echo "note: the background run finished before the lock was seen; lock check skipped" >&2
fi
assert_eq 0 "$(wait_rc p3)" "the background run finished"

# kill -9 at random points, each run started right after the last was killed,
# then a re-run at once (no retry: a killed run's lock never refuses the next
# one): the same books as the reference.
new_db kill
kill_url=$NEW_DB_URL
setup_workload "$kill_url"
killed=0
for ((round = 0; round < 6; round++)); do
  "$BILLING_BIN" --db "$kill_url" --quiet run --from "$wl_from" --to "$wl_to" >/dev/null 2>"kill$round.err" &
  pid=$!
  E2E_BG_PIDS+=("$pid")
  sleep "$(printf '0.%02d' $((5 + RANDOM % 45)))"
  if kill -9 "$pid" 2>/dev/null; then
    killed=$((killed + 1))
  fi
  rc=0
  wait "$pid" || rc=$?
  [[ $rc == 137 || $rc == 0 ]] || fail "run before kill exited $rc (right after a killed run): $(cat "kill$round.err")"
done
((killed > 0)) || fail "no run was killed while working"
echo "killed $killed runs" >&2
# Finish it, at once.
rc=0
"$BILLING_BIN" --db "$kill_url" run --from "$wl_from" --to "$wl_to" >resume.out 2>resume.err || rc=$?
assert_eq 0 "$rc" "the run after kill -9 finishes: $(tail -n 5 resume.err)"
export_all "$ref_url" ref "$wl_from" "$wl_to"
export_all "$kill_url" kill "$wl_from" "$wl_to"
for kind in reconciliation charges payments; do
  (($(csv_rows "ref.$kind.csv") > 0)) || fail "the reference $kind export is empty"
  cmp -s "ref.$kind.csv" "kill.$kind.csv" \
    || fail "after kill -9 and a re-run the $kind export differs: $(diff "ref.$kind.csv" "kill.$kind.csv" | head -n 6)"
done
out=$(expect_exit 0 billing --db "$kill_url" verify)
[[ $out != *BREACH* ]] || fail "verify after kill -9: $out"
out=$(expect_exit 0 billing --db "$ref_url" verify)
[[ $out != *BREACH* ]] || fail "verify of the reference: $out"
check_recon ref.reconciliation.csv "$wl_to" || fail "the workload's reconciliation does not tie out"

# The refused one of the two runs started together named the winner.
assert_contains "$pair_loser_err" "$pair_holder" "the run refused when both started together names the holder"
assert_eq "" "$pairs_misnamed" "runs refused when both started together name the holder"
