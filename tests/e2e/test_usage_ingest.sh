# shellcheck shell=bash
# Usage logs (SPEC 5, 8, 13.4, 13.8-13.10): ingest of a log with every kind of
# bad line, RFC 4180 quoting, CRLF, a BOM, columns in another order and an
# unknown column; duplicates, conflicts, skipped files, rejects and their
# retry, late events, the charges export and the usage.inbox of `billing run`.
# Every expected number below is worked out by hand from the rate card:
# sms ceil(chars/160) x1, mms ceil(chars/1600) x2, voice ceil(s/60) x1,
# ringless 1 x2; failed / no_answer cost 0.

# rejects_of FILE: "line,event_id,reason" of each row of a rejects export,
# sorted by line, after checking the header.
rejects_of() {
  python3 - "$1" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
if rows[0] != ["file", "line", "event_id", "reason", "raw"]:
    sys.exit(f"rejects header is {rows[0]}")
for r in sorted(rows[1:], key=lambda r: (r[0], int(r[1]))):
    print(f"{r[0]},{r[1]},{r[2]},{r[3]}")
EOF
}
# reject_raw FILE LINE: the raw text of the reject at LINE, as Python ascii().
reject_raw() {
  python3 - "$1" "$2" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = [r for r in csv.reader(f) if r and r[1] == sys.argv[2]]
print(ascii(rows[0][4]) if len(rows) == 1 else f"{len(rows)} rows")
EOF
}
charges() { # FROM TO: the charges export
  billing export charges --from "$1" --to "$2"
}

cat >plans.csv <<'CSV'
plan_id,name,cycle,included_credits,price_cents,credit_price_cents_per_1000,currency,rollover_cap
basic,Basic,monthly,1000,2900,1500,USD,
CSV
cat >accounts.csv <<'CSV'
account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day
1,basic,2026-09-01,0,0,0,1
2,basic,2026-09-01,0,0,0,1
CSV
expect_exit 0 billing migrate >/dev/null
expect_exit 0 billing import plans plans.csv >/dev/null
expect_exit 0 billing import accounts accounts.csv >/dev/null

# ---------------------------------------------------------------- u1.csv
# BOM, CRLF, columns in another order, an unknown column (note). The comment
# after each line is its physical line number and what it must end in.
long_note=$(head -c 70000 /dev/zero | tr '\0' x)
{
  printf '\xef\xbb\xbfaccount_id,event_id,note,channel,status,occurred_at,duration_s,chars,platform_credits\r\n' # 1
  printf '1,e-001,"hello, world",sms,delivered,2026-09-02T10:00:00Z,,200,2\r\n'            # 2 ok 2u 2c
  printf '1,e-002,"multi\r\nline",sms,sent,2026-09-02T11:00:00Z,,161,1\r\n'                 # 3-4 ok 2u 2c
  printf '1,e-003,,mms,delivered,2026-09-02T12:00:00.123456Z,,1601,4\r\n'                  # 5 ok 2u 4c
  printf '1,e-004,,voice,completed,2026-09-02T13:00:00Z,61,,2\r\n'                         # 6 ok 2u 2c
  printf '1,e-005,,voice,no_answer,2026-09-02T14:00:00Z,30,,\r\n'                          # 7 ok 0u 0c
  printf '2,e-006,,ringless,delivered,2026-09-02T09:00:00Z,,,\r\n'                         # 8 ok 1u 2c
  printf '2,e-007,"say ""hi""",sms,failed,2026-09-02T09:30:00Z,,50,0\r\n'                  # 9 ok 0u 0c
  printf '2,e-008,,voice,completed,2026-09-03T23:59:59.9999999Z,3600,,\r\n'                # 10 ok 60u (09-03)
  printf '1,e-100,x,sms,sent,2026-09-02T10:00:00Z,,10\r\n'                                 # 11 bad_column_count
  printf '1,e-101,,sms,sent,2026-09-02T10:00:00Z,,,\r\n'                                   # 12 missing_field
  printf ',e-115,,sms,sent,2026-09-02T10:00:00Z,,10,\r\n'                                  # 13 missing_field
  printf '1,e 102!,,sms,sent,2026-09-02T10:00:00Z,,10,\r\n'                                # 14 bad_event_id
  printf '7,e-103,,sms,sent,2026-09-02T10:00:00Z,,10,\r\n'                                 # 15 unknown_account
  printf '1,e-104,,fax,sent,2026-09-02T10:00:00Z,,10,\r\n'                                 # 16 bad_channel
  printf '1,e-105,,sms,completed,2026-09-02T10:00:00Z,,10,\r\n'                            # 17 bad_status
  printf '1,e-106,,sms,sent,2026-09-31T10:00:00Z,,10,\r\n'                                 # 18 bad_timestamp
  printf '1,e-107,,sms,sent,2026-09-02T10:00:00Z,,ten,\r\n'                                # 19 bad_number
  printf '1,e-108,,sms,sent,2026-09-02T10:00:00Z,,100001,\r\n'                             # 20 out_of_range
  printf '1,e-109,,voice,completed,2026-09-02T10:00:00Z,86401,,\r\n'                       # 21 out_of_range
  printf '2,e-114,,ringless,delivered,2026-09-02T09:00:00Z,,,-1\r\n'                       # 22 out_of_range
  printf '1,e-110,caf\xff,sms,sent,2026-09-02T10:00:00Z,,10,\r\n'                          # 23 invalid_utf8
  printf '1,e-111,%s,sms,sent,2026-09-02T10:00:00Z,,10,\r\n' "$long_note"                  # 24 line_too_long
  printf '1,e-112,ab"c,sms,sent,2026-09-02T10:00:00Z,,10,\r\n'                             # 25 bad_quoting
  printf '1,e-001,,sms,delivered,2026-09-02T10:00:00Z,,201,2\r\n'                          # 26 conflicting_duplicate
  printf '1,e-001,"other note",sms,delivered,2026-09-02T10:00:00Z,,200,2\r\n'              # 27 duplicate
  printf '1,e-003,,mms,delivered,2026-09-02T12:00:00.1234569Z,,1601,4\r\n'                 # 28 duplicate
  printf '1,e-116,,sms,sent,2026-09-02T10:00:00+01:00,,10,\r\n'                            # 29 bad_timestamp
  printf '1,e-199,"never closed,sms,sent,2026-09-02T10:00:00Z,,10,\r\n'                    # 30 bad_quoting
} >u1.csv
expected_rejects='u1.csv,11,e-100,bad_column_count
u1.csv,12,e-101,missing_field
u1.csv,13,e-115,missing_field
u1.csv,14,e 102!,bad_event_id
u1.csv,15,e-103,unknown_account
u1.csv,16,e-104,bad_channel
u1.csv,17,e-105,bad_status
u1.csv,18,e-106,bad_timestamp
u1.csv,19,e-107,bad_number
u1.csv,20,e-108,out_of_range
u1.csv,21,e-109,out_of_range
u1.csv,22,e-114,out_of_range
u1.csv,23,e-110,invalid_utf8
u1.csv,24,e-111,line_too_long
u1.csv,25,e-112,bad_quoting
u1.csv,26,e-001,conflicting_duplicate
u1.csv,29,e-116,bad_timestamp
u1.csv,30,e-199,bad_quoting'

# 28 records: 8 accepted + 2 duplicates + 18 rejected.
out=$(expect_exit 0 billing ingest u1.csv)
assert_eq "u1.csv: 28 lines: 8 accepted, 2 duplicates, 18 rejected" "$out" "u1.csv counts"

# The seed example: a 200-character SMS sent to 100 contacts.
{
  echo "event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits"
  for i in $(seq -w 0 99); do
    echo "s-$i,2,sms,2026-09-03T08:00:00Z,sent,200,,2"
  done
} >seed.csv
out=$(expect_exit 0 billing ingest seed.csv)
assert_eq "seed.csv: 100 lines: 100 accepted, 0 duplicates, 0 rejected" "$out" "seed counts"

# The same file again, or under another name: skipped whole.
out=$(expect_exit 0 billing ingest u1.csv)
assert_contains "$out" "u1.csv: skipped" "same file skipped"
cp u1.csv u1-copy.csv
out=$(expect_exit 0 billing ingest u1-copy.csv)
assert_contains "$out" "u1-copy.csv: skipped" "same content under another name skipped"
# The same events in another file: duplicates, not charged again.
cat >u3.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
e-004,1,voice,2026-09-02T13:00:00Z,completed,,61,2
e-006,2,ringless,2026-09-02T09:00:00Z,delivered,,,
CSV
out=$(expect_exit 0 billing ingest u3.csv)
assert_eq "u3.csv: 2 lines: 0 accepted, 2 duplicates, 0 rejected" "$out" "same events in a second file"
assert_eq 108 "$(sql "SELECT COUNT(*) FROM usage_events")" "events stored once: 8 + 100"

# The rejects: each bad line with its reason, file, line number and raw text.
expect_exit 0 billing export rejects -o rejects.csv >/dev/null
assert_eq "$expected_rejects" "$(rejects_of rejects.csv)" "rejects export"
assert_eq "'1,e-105,,sms,completed,2026-09-02T10:00:00Z,,10,'" "$(reject_raw rejects.csv 17)" "raw text of a reject, without its CRLF"
assert_eq "'1,e-112,ab\"c,sms,sent,2026-09-02T10:00:00Z,,10,'" "$(reject_raw rejects.csv 25)" "raw text of a bad-quoting line"
assert_eq "'1,e-199,\"never closed,sms,sent,2026-09-02T10:00:00Z,,10,'" "$(reject_raw rejects.csv 30)" "raw text of an unterminated quote"
assert_eq "'1,e-110,caf\ufffd,sms,sent,2026-09-02T10:00:00Z,,10,'" "$(reject_raw rejects.csv 23)" "invalid UTF-8 shown repaired in the UTF-8 export"
python3 - rejects.csv <<'EOF' || fail "the raw text of the too-long line is not its head"
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    raw = [r for r in csv.reader(f) if r and r[1] == "24"][0][4]
assert raw.startswith("1,e-111,xxxxxxxx") and 1000 < len(raw) <= 65536 + 2, len(raw)
EOF
today=$E2E_TODAY # the program's fixed clock (run_e2e.sh)
expect_exit 0 billing export rejects --from "$today" --to "$today" -o rejects-today.csv >/dev/null
assert_eq 18 "$(csv_rows rejects-today.csv)" "rejects by ingest date (today)"
expect_exit 0 billing export rejects --from 2026-09-01 --to 2026-09-30 -o rejects-sep.csv >/dev/null
assert_eq 0 "$(csv_rows rejects-sep.csv)" "rejects are dated by ingest date, not by event date"
assert_contains "$(expect_exit 0 billing status)" "rejects pending:      18" "status counts pending rejects"

# The unknown account is imported: a retry accepts its line, once.
printf 'account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day\n7,basic,2026-09-01,0,0,0,1\n' >acct7.csv
expect_exit 0 billing import accounts acct7.csv >/dev/null
out=$(expect_exit 0 billing ingest --retry-rejects)
assert_eq "retried 3 rejected lines: 1 accepted, 0 duplicates, 2 still rejected" "$out" "retry after the account is imported"
out=$(expect_exit 0 billing ingest --retry-rejects)
assert_eq "retried 2 rejected lines: 0 accepted, 0 duplicates, 2 still rejected" "$out" "a second retry accepts nothing more"
# (Line 24, the line too long, is left out here and checked at the end, so
# that a wrong reason after the retry does not hide the checks in between.)
expect_exit 0 billing export rejects -o rejects2.csv >/dev/null
assert_eq "$(grep -v ',15,\|,24,' <<<"$expected_rejects")" "$(rejects_of rejects2.csv | grep -v ',24,')" \
  "after the retry: the accepted line is gone, the others keep their reasons"
expect_exit 0 billing export rejects --all -o rejects-all.csv >/dev/null
assert_eq "$(grep -v ',24,' <<<"$expected_rejects")" "$(rejects_of rejects-all.csv | grep -v ',24,')" "--all still lists the retried line"

# ------------------------------------------------------------ run and charges
out=$(expect_exit 0 billing run --from 2026-09-01 --to 2026-09-03)
expected_charges='business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-09-02,1,mms,2026-09-02,1,2,4,4,0
2026-09-02,1,sms,2026-09-02,2,4,4,3,1
2026-09-02,1,voice,2026-09-02,2,2,2,2,0
2026-09-02,2,ringless,2026-09-02,1,1,2,0,2
2026-09-02,2,sms,2026-09-02,1,0,0,0,0
2026-09-02,7,sms,2026-09-02,1,1,1,0,1
2026-09-03,2,sms,2026-09-03,100,200,200,200,0
2026-09-03,2,voice,2026-09-03,1,60,60,0,60'
assert_eq "$expected_charges" "$(charges 2026-09-01 2026-09-03)" "charges of 09-01..09-03"
expect_exit 0 billing export reconciliation --from 2026-09-01 --to 2026-09-03 -o recon1.csv >/dev/null
recon_used() { # FILE DATE ACCOUNT: used,closing
  python3 -c 'import csv,sys
rows=[r for r in csv.DictReader(open(sys.argv[1],newline="")) if r["business_date"]==sys.argv[2] and r["account_id"]==sys.argv[3]]
print(",".join(r["used"]+"/"+r["closing_balance"] for r in rows))' "$@"
}
assert_eq "10/990" "$(recon_used recon1.csv 2026-09-02 1)" "account 1 used on 09-02"
assert_eq "2/998" "$(recon_used recon1.csv 2026-09-02 2)" "account 2 used on 09-02"
assert_eq "260/738" "$(recon_used recon1.csv 2026-09-03 2)" "account 2 used on 09-03: the seed's 200 + a 60-minute call"
assert_eq "1/999" "$(recon_used recon1.csv 2026-09-02 7)" "account 7 charged its retried line"
assert_eq "0/1000" "$(recon_used recon1.csv 2026-09-01 1)" "nothing on 09-01"

# Late events: ingested after their date closed, charged by the next run,
# shown with their own occurred_date.
cat >late.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
l-1,1,sms,2026-09-02T20:00:00Z,delivered,10,,1
l-2,1,voice,2026-09-01T05:00:00Z,completed,,120,2
l-3,1,sms,2026-09-04T06:00:00Z,sent,320,,2
e-001,1,sms,2026-09-02T10:00:00Z,delivered,200,,2
CSV
out=$(expect_exit 0 billing ingest late.csv)
assert_eq "late.csv: 4 lines: 3 accepted, 1 duplicates, 0 rejected" "$out" "late file counts"
# Not charged yet, but ingested after 09-03 closed: not a breach.
out=$(expect_exit 0 billing verify)
[[ $out != *BREACH* ]] || fail "verify with late events waiting: $out"
out=$(expect_exit 0 billing run --date 2026-09-04)
line=$(grep '^2026-09-04' <<<"$out") || fail "no line for 2026-09-04: $out"
read -r -a f <<<"$line"
assert_eq "closed 3 3 2 5" "${f[1]} ${f[2]} ${f[3]} ${f[4]} ${f[5]}" "run summary: status accounts events late credits"
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-09-04,1,sms,2026-09-02,1,1,1,1,0
2026-09-04,1,sms,2026-09-04,1,2,2,2,0
2026-09-04,1,voice,2026-09-01,1,2,2,2,0" "$(charges 2026-09-04 2026-09-04)" "late events charged on the next date"
assert_eq "$expected_charges" "$(charges 2026-09-01 2026-09-03)" "closed dates' charges unchanged"
expect_exit 0 billing export reconciliation --from 2026-09-04 --to 2026-09-04 -o recon2.csv >/dev/null
assert_eq "5/985" "$(recon_used recon2.csv 2026-09-04 1)" "late usage counts on the date that applies it"

# ------------------------------------------------------------ usage.inbox
# A line for an account not imported yet is rejected; the account is then
# imported; `billing run` with an inbox ingests the inbox first and retries it.
cat >pre8.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
e-801,8,sms,2026-09-05T07:00:00Z,sent,10,,
CSV
out=$(expect_exit 0 billing ingest pre8.csv)
assert_eq "pre8.csv: 1 lines: 0 accepted, 0 duplicates, 1 rejected" "$out" "unknown account 8"
printf 'account_id,plan_id,cycle_anchor,auto_recharge,recharge_threshold,recharge_credits,max_recharges_per_day\n8,basic,2026-09-05,0,0,0,1\n' >acct8.csv
expect_exit 0 billing import accounts acct8.csv >/dev/null
mkdir inbox
cat >inbox/in1.csv <<'CSV'
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
i-1,1,sms,2026-09-05T10:00:00Z,delivered,300,,
i-2,8,voice,2026-09-05T11:00:00Z,completed,,120,
CSV
printf '[db]\nurl = %s\n[usage]\ninbox = %s/inbox\n' "$BILLING_DB_URL" "$E2E_TMP" >inbox.conf
files_before=$(sql "SELECT COUNT(*) FROM usage_files")
expect_exit 0 env -u BILLING_DB_URL BILLING_CONFIG="$E2E_TMP/inbox.conf" "$BILLING_BIN" run --date 2026-09-05 >/dev/null
assert_eq "$((files_before + 1))" "$(sql "SELECT COUNT(*) FROM usage_files")" "the inbox file was ingested"
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-09-05,1,sms,2026-09-05,1,2,2,0,2
2026-09-05,8,sms,2026-09-05,1,1,1,0,1
2026-09-05,8,voice,2026-09-05,1,2,2,0,2" "$(charges 2026-09-05 2026-09-05)" "inbox events and the retried reject charged"
expect_exit 0 billing export rejects -o rejects3.csv >/dev/null
assert_eq "$(grep -v ',15,\|,24,' <<<"$expected_rejects")" "$(rejects_of rejects3.csv | grep -v '^edge\|,24,')" "the run's retry resolved e-801"
# The next night: the inbox file is not ingested or charged again.
expect_exit 0 env -u BILLING_DB_URL BILLING_CONFIG="$E2E_TMP/inbox.conf" "$BILLING_BIN" run --date 2026-09-06 >/dev/null
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance" \
  "$(charges 2026-09-06 2026-09-06)" "nothing charged twice"

# Limits and the fields a channel does not use: a 64-character id (65 is
# bad), chars 100000 (625 units) and 0 (1 unit: max(1, 0)), duration_s 86400
# (1440 units) and 0 (0 units); chars of a voice call and duration_s of an
# mms are ignored; a formula-like id is neutralised in the export.
id64=$(printf 'a%.0s' {1..64})
id65=$(printf 'b%.0s' {1..65})
cat >edge.csv <<CSV
event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits
$id64,2,sms,2026-09-07T10:00:00Z,sent,100000,,
$id65,2,sms,2026-09-07T10:00:00Z,sent,10,,
x-1,2,sms,2026-09-07T10:00:00Z,sent,0,,
x-2,2,voice,2026-09-07T10:00:00Z,completed,junk,0,
x-3,2,voice,2026-09-07T10:00:00Z,completed,,86400,
x-4,2,ringless,2026-09-07T10:00:00Z,delivered,junk,junk,
x-5,2,mms,2026-09-07T10:00:00Z,sent,0,junk,
=cmd,2,sms,2026-09-07T10:00:00Z,sent,10,,
x-6,2,sms,2026-09-07T10:00:00Z,sent,-1,,
x-7,2,sms,2026-09-07T10:00:00Z,sent,10,,1.5
CSV
out=$(expect_exit 0 billing ingest edge.csv)
assert_eq "edge.csv: 10 lines: 6 accepted, 0 duplicates, 4 rejected" "$out" "edge.csv counts"
expect_exit 0 billing export rejects -o rejects4.csv >/dev/null
assert_eq "edge.csv,3,$id65,bad_event_id
edge.csv,9,'=cmd,bad_event_id
edge.csv,10,x-6,out_of_range
edge.csv,11,x-7,bad_number" "$(rejects_of rejects4.csv | grep '^edge.csv')" "edge.csv rejects"
assert_eq "\"'=cmd,2,sms,2026-09-07T10:00:00Z,sent,10,,\"" "$(reject_raw rejects4.csv 9)" "a formula-like raw text is neutralised"
expect_exit 0 billing run --date 2026-09-07 >/dev/null
assert_eq "business_date,account_id,channel,occurred_date,events,units,credits,platform_credits,variance
2026-09-07,2,mms,2026-09-07,1,1,2,0,2
2026-09-07,2,ringless,2026-09-07,1,1,2,0,2
2026-09-07,2,sms,2026-09-07,2,626,626,0,626
2026-09-07,2,voice,2026-09-07,2,1440,1440,0,1440" "$(charges 2026-09-07 2026-09-07)" "charges of the limits"
expect_exit 0 billing export reconciliation --from 2026-09-07 --to 2026-09-07 -o recon3.csv >/dev/null
assert_eq "2070/-1332" "$(recon_used recon3.csv 2026-09-07 2)" "account 2 on 09-07: 738 - 2070"

# Every good line charged exactly once: 8 + 100 + 1 (retried) + 3 late + 1
# (retried by the run) + 2 (inbox) + 6 (limits) = 121 events.
python3 - <(charges 2026-09-01 2026-09-30) <<'EOF' || fail "charges totals"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
events = sum(int(r["events"]) for r in rows)
credits = sum(int(r["credits"]) for r in rows)
assert events == 121, events
# 4+4+2+2+0+1+200+60 + 5 + 2+1+2 + 2070
assert credits == 2353, credits
for r in rows:
    assert int(r["variance"]) == int(r["credits"]) - int(r["platform_credits"]), r
EOF
assert_contains "$(expect_exit 0 billing status)" "usage events:         121 (0 not charged yet)" "no event left uncharged"
out=$(expect_exit 0 billing ingest u1.csv late.csv)
assert_contains "$out" "u1.csv: skipped" "u1.csv still skipped after the runs"
assert_contains "$out" "late.csv: skipped" "late.csv still skipped after the runs"
out=$(expect_exit 0 billing verify)
[[ $out != *BREACH* ]] || fail "verify: $out"

# A retried line keeps its reason: the line too long is still line_too_long
# after two retries by hand and one by the run.
expect_exit 0 billing export rejects -o rejects-end.csv >/dev/null
assert_eq "u1.csv,24,e-111,line_too_long" "$(rejects_of rejects-end.csv | grep ',24,')" "the reason of a retried line too long"
