#!/usr/bin/env bash
# Benchmarks of the nightly work on SQLite and MariaDB in one invocation.
# Figures, not assertions; not part of the test suite.
#
# Mode `night` (default): for each event count E, generate a seeded workload
# (BENCH_ACCOUNTS accounts, E usage lines for one day), load the same usage CSV
# into a keyed bare table with the database's own loader (event_id the PRIMARY
# KEY, as SPEC 5's duplicate rule needs; sqlite3 .import in one transaction;
# LOAD DATA LOCAL INFILE), then do the night's work on a fresh database
# (`billing ingest` of the log, then `billing run`) and print events, seconds,
# events/s, the (ingest+run)/bare-load ratio, the peak RSS of the ingest and of
# the run, the time to re-run the date, µs per event, the time of
# `billing verify`, and the ingest and run of a second night (the next day's
# log of E events). Then 1, 2 and 4 shard workers on MariaDB, with their
# exports compared byte for byte.
#
#   scripts/bench.sh                          # E = 1M and 5M, 200k accounts
#   BENCH_EVENTS="100000" BENCH_ACCOUNTS=20000 scripts/bench.sh   # quick
#   BENCH_ZONED=1 scripts/bench.sh            # every account in a time zone
#
# BENCH_ZONED (both modes; default 0) is the share of accounts with a time
# zone (SPEC 16, spread over New York, London, Kolkata and Sydney): 1 zones
# every account, to compare with the UTC figures of the same workload.
#
# Mode `horizon`: BENCH_ACCOUNTS accounts (default 20,000), BENCH_NIGHTS nights
# (default 45) of BENCH_EVENTS events each (default 40,000), one night after
# the other as the timer runs them (ingest of the night's log, then run of the
# date). Prints every night's ingest and run time, the ratio
# median(last 5 nights) / median(nights 2-6), and at the end the time of
# verify, status and every export over all the dates.
#
#   BENCH_MODE=horizon scripts/bench.sh
#   BENCH_MODE=horizon BENCH_NIGHTS=365 BENCH_EVENTS=20000 BENCH_BACKENDS=sqlite scripts/bench.sh
#
# BENCH_BACKENDS (default "sqlite mysql") picks the backends.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
mode=${BENCH_MODE:-night}
backends=${BENCH_BACKENDS:-"sqlite mysql"}
if [[ $mode == horizon ]]; then
  events_list=${BENCH_EVENTS:-40000}
  accounts=${BENCH_ACCOUNTS:-20000}
  nights=${BENCH_NIGHTS:-45}
elif [[ $mode == night ]]; then
  events_list=${BENCH_EVENTS:-"1000000 5000000"}
  accounts=${BENCH_ACCOUNTS:-200000}
else
  echo "bench.sh: BENCH_MODE must be night or horizon, not '$mode'" >&2
  exit 2
fi
shards_list=${BENCH_SHARDS-"1 2 4"} # BENCH_SHARDS= (empty): no shard runs
date=2026-11-01
work=$(mktemp -d "${TMPDIR:-/tmp}/billing-bench.XXXXXX")

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel 2 >/dev/null
# A copy, so a rebuild while the benchmark runs does not change the program.
bin=$work/billing
cp "$root/build/release/lib/cli/billing" "$bin"

mdb=$work/mariadb
cleanup() {
  bash "$root/scripts/mariadb.sh" stop "$mdb" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
MARIADB_BUFFER_POOL=${MARIADB_BUFFER_POOL:-2G} bash scripts/mariadb.sh start "$mdb" >/dev/null
# shellcheck source=/dev/null
source "$mdb/env"
export BILLING_DB_PASSWORD=$BILLING_TEST_MYSQL_PASSWORD
mysql_cli() {
  MYSQL_PWD=$BILLING_TEST_MYSQL_PASSWORD mariadb --no-defaults --local-infile=1 \
    --socket="$BILLING_TEST_MYSQL_SOCKET" -ubilling "$@"
}

# seconds of a command's wall time, and its peak RSS in MiB, from time -v
timed() { # OUTFILE CMD...
  local out=$1
  shift
  /usr/bin/time -v "$@" >"$out.stdout" 2>"$out.time" || {
    tail -20 "$out.time" >&2
    return 1
  }
  awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out.time" >"$out.secs"
  awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$out.time" >"$out.rss"
}

bare_sqlite() { # CSV -> seconds
  local db=$work/bare.db
  rm -f "$db"
  sqlite3 "$db" "CREATE TABLE usage_bare (occurred_at TEXT, event_id TEXT PRIMARY KEY, account_id TEXT, channel TEXT, status TEXT, chars TEXT, duration_s TEXT, platform_credits TEXT, campaign TEXT);"
  local t0 t1
  t0=$(date +%s.%N)
  sqlite3 "$db" <<SQL
BEGIN;
.mode csv
.import --skip 1 $1 usage_bare
COMMIT;
SQL
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

bare_mysql() { # CSV -> seconds
  mysql_cli -e "DROP DATABASE IF EXISTS bench_bare; CREATE DATABASE bench_bare CHARACTER SET utf8mb4;"
  mysql_cli bench_bare -e "CREATE TABLE usage_bare (occurred_at VARCHAR(40), event_id VARCHAR(80) PRIMARY KEY, account_id VARCHAR(30), channel VARCHAR(16), status VARCHAR(16), chars VARCHAR(20), duration_s VARCHAR(20), platform_credits VARCHAR(20), campaign VARCHAR(40)) ENGINE=InnoDB"
  local t0 t1
  t0=$(date +%s.%N)
  mysql_cli bench_bare -e "LOAD DATA LOCAL INFILE '$1' INTO TABLE usage_bare FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\n' IGNORE 1 LINES"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

fresh_db() { # BACKEND NAME -> URL (migrated, reference data imported)
  local url
  if [[ $1 == sqlite ]]; then
    rm -f "$work/$2.db"*
    url=sqlite:$work/$2.db
  else
    mysql_cli -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2 CHARACTER SET utf8mb4"
    url=${BILLING_TEST_MYSQL_URL}$2
  fi
  "$bin" --db "$url" --quiet migrate >/dev/null
  "$bin" --db "$url" --quiet import plans "$gen/plans.csv" >/dev/null
  "$bin" --db "$url" --quiet import accounts "$gen/accounts.csv" >/dev/null
  "$bin" --db "$url" --quiet import purchases "$gen/purchases.csv" >/dev/null
  echo "$url"
}

# median of the numbers on stdin
median() {
  sort -g | awk '{a[NR]=$1} END {if (NR == 0) {print 0} else if (NR % 2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'
}

horizon() {
  local gen=$work/gen-horizon backend url first d night t_in t_run range
  first=$date
  # The program's clock (BILLING_FAKE_NOW, lib/ops/clock.hpp) stands the day
  # after the last night, so a long horizon never reaches a date not over.
  BILLING_FAKE_NOW=$(date -u -d "$first + $nights days" +%FT12:00:00Z)
  export BILLING_FAKE_NOW
  "$bin" generate --out "$gen" --accounts "$accounts" --first-date "$first" --days "$nights" \
    --events-per-day "$events_list" --zoned-share "${BENCH_ZONED:-0}" >/dev/null 2>&1
  echo "horizon: $accounts accounts, $nights nights of $events_list events, zoned share ${BENCH_ZONED:-0}"
  for backend in $backends; do
    url=$(fresh_db "$backend" bench_horizon)
    printf '\n%-8s %6s %-10s %9s %8s %8s\n' backend night date ingest_s run_s rss_mib
    : >"$work/nights"
    for ((night = 1; night <= nights; night++)); do
      d=$(date -u -d "$first + $((night - 1)) days" +%F)
      timed "$work/ingest" "$bin" --db "$url" --quiet ingest "$gen/usage-$d.csv"
      timed "$work/run" "$bin" --db "$url" --quiet run --date "$d"
      t_in=$(cat "$work/ingest.secs")
      t_run=$(cat "$work/run.secs")
      echo "$night $(echo "$t_in + $t_run" | bc -l)" >>"$work/nights"
      printf '%-8s %6d %-10s %9.2f %8.2f %8s\n' "$backend" "$night" "$d" "$t_in" "$t_run" \
        "$(cat "$work/run.rss")"
    done
    local early late
    early=$(awk '$1 >= 2 && $1 <= 6 {print $2}' "$work/nights" | median)
    late=$(awk -v n="$nights" '$1 > n - 5 {print $2}' "$work/nights" | median)
    printf '%s: median night 2-6 %.2f s, last 5 %.2f s, ratio %.2f\n' "$backend" "$early" "$late" \
      "$(echo "$late / $early" | bc -l)"
    # What a year of books needs stays usable: over every date at the end.
    printf '%-8s %-36s %8s %8s\n' backend command seconds rss_mib
    timed "$work/verify" "$bin" --db "$url" verify
    printf '%-8s %-36s %8.2f %8s\n' "$backend" verify "$(cat "$work/verify.secs")" "$(cat "$work/verify.rss")"
    timed "$work/status" "$bin" --db "$url" status
    printf '%-8s %-36s %8.2f %8s\n' "$backend" status "$(cat "$work/status.secs")" "$(cat "$work/status.rss")"
    for kind in reconciliation charges payments rejects adjustments lots revenue; do
      range=(--from "$first" --to "$d")
      [[ $kind != rejects ]] || range=() # a rejects range is of ingest dates
      timed "$work/export" "$bin" --db "$url" --quiet export "$kind" "${range[@]}" -o "$work/export.csv"
      printf '%-8s %-36s %8.2f %8s\n' "$backend" "export $kind ($(($(wc -l <"$work/export.csv") - 1)) rows)" \
        "$(cat "$work/export.secs")" "$(cat "$work/export.rss")"
    done
    # `billing explain` of one busy account (the most usage events on the
    # last date), on the last date and on the middle one: it reads along
    # keys, so its time should not grow with the accounts (a figure only).
    local busy mid day q
    q="SELECT account_id FROM reconciliation WHERE business_date = '$d' ORDER BY usage_events DESC, account_id LIMIT 1"
    if [[ $backend == sqlite ]]; then
      busy=$(sqlite3 "${url#sqlite:}" "$q")
    else
      busy=$(mysql_cli -N bench_horizon -e "$q")
    fi
    mid=$(date -u -d "$first + $(((nights - 1) / 2)) days" +%F)
    for day in "$d" "$mid"; do
      timed "$work/explain" "$bin" --db "$url" --quiet explain "$busy" --date "$day"
      printf '%-8s %-36s %8.2f %8s\n' "$backend" "explain $busy --date $day" \
        "$(cat "$work/explain.secs")" "$(cat "$work/explain.rss")"
    done
  done
}

if [[ $mode == horizon ]]; then
  horizon
  exit 0
fi

printf '\n%-8s %9s %8s %9s %8s %8s %10s %7s %8s %8s %8s %9s %8s %8s %8s %8s\n' backend events bare_s ingest_s run_s total_s events/s ratio rss_in rss_run rerun_s us/event verify_s ingest2_s run2_s total2_s
date2=$(date -u -d "$date + 1 day" +%F)
for events in $events_list; do
  gen=$work/gen-$events
  "$bin" generate --out "$gen" --accounts "$accounts" --first-date "$date" --days 2 \
    --events-per-day "$events" --zoned-share "${BENCH_ZONED:-0}" >/dev/null 2>&1
  csv=$gen/usage-$date.csv
  for backend in $backends; do
    if [[ $backend == sqlite ]]; then bare=$(bare_sqlite "$csv"); else bare=$(bare_mysql "$csv"); fi
    url=$(fresh_db "$backend" "bench_$events")
    # The nightly work: ingest the day's log, then close the date.
    timed "$work/ingest" "$bin" --db "$url" --quiet ingest "$csv"
    timed "$work/run" "$bin" --db "$url" --quiet run --date "$date"
    timed "$work/rerun" "$bin" --db "$url" --quiet run --date "$date"
    timed "$work/verify" "$bin" --db "$url" verify
    # The second night: the next day's log of as many events.
    timed "$work/ingest2" "$bin" --db "$url" --quiet ingest "$gen/usage-$date2.csv"
    timed "$work/run2" "$bin" --db "$url" --quiet run --date "$date2"
    ingest_s=$(cat "$work/ingest.secs")
    run_s=$(cat "$work/run.secs")
    total_s=$(echo "$ingest_s + $run_s" | bc -l)
    printf '%-8s %9d %8.2f %9.2f %8.2f %8.2f %10.0f %7.2f %8s %8s %8.2f %9.2f %8.2f %8.2f %8.2f %8.2f\n' "$backend" "$events" \
      "$bare" "$ingest_s" "$run_s" "$total_s" "$(echo "$events / $total_s" | bc -l)" \
      "$(echo "$total_s / $bare" | bc -l)" "$(cat "$work/ingest.rss")" "$(cat "$work/run.rss")" \
      "$(cat "$work/rerun.secs")" \
      "$(echo "$total_s * 1000000 / $events" | bc -l)" "$(cat "$work/verify.secs")" \
      "$(cat "$work/ingest2.secs")" "$(cat "$work/run2.secs")" \
      "$(echo "$(cat "$work/ingest2.secs") + $(cat "$work/run2.secs")" | bc -l)"
  done
done

[[ " $backends " == *" mysql "* && -n $shards_list ]] || exit 0

# Shard workers on MariaDB, on the first event count.
events=${events_list%% *}
gen=$work/gen-$events
printf '\n%-8s %8s %8s\n' shards run_s identical
ref=""
for n in $shards_list; do
  url=$(fresh_db mysql "bench_shard$n")
  "$bin" --db "$url" --quiet ingest "$gen/usage-$date.csv" >/dev/null
  t0=$(date +%s.%N)
  pids=()
  for ((k = 0; k < n; k++)); do
    "$bin" --db "$url" --quiet run --shard "$k/$n" --date "$date" >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  t1=$(date +%s.%N)
  "$bin" --db "$url" export reconciliation --from "$date" --to "$date" -o "$work/recon$n.csv"
  "$bin" --db "$url" export charges --from "$date" --to "$date" -o "$work/charges$n.csv"
  same=yes
  if [[ -n $ref ]]; then
    cmp -s "$work/recon$ref.csv" "$work/recon$n.csv" && cmp -s "$work/charges$ref.csv" "$work/charges$n.csv" || same=NO
  else
    ref=$n
  fi
  printf '%-8s %8.2f %8s\n' "$n" "$(echo "$t1 - $t0" | bc)" "$same"
done
