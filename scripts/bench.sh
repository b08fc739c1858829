#!/usr/bin/env bash
# The nightly run against the bare bulk-load bound, on SQLite and MariaDB in
# one invocation (issue 7). For each event count E: generate a seeded
# workload (BENCH_ACCOUNTS accounts, E usage lines for one day), load the same
# usage CSV into a bare table with the database's own loader (sqlite3 .import
# in one transaction; LOAD DATA LOCAL INFILE), then run the full nightly
# nightly work for that date on a fresh database (`billing ingest` of the log,
# then `billing run`), and print events, seconds, events/s, the
# (ingest+run)/bare-load ratio, peak RSS, and the time to re-run the date. Then 1, 2 and 4 shard workers on MariaDB,
# with their exports compared byte for byte.
#
#   scripts/bench.sh                          # E = 1M and 5M, 200k accounts
#   BENCH_EVENTS="100000" BENCH_ACCOUNTS=20000 scripts/bench.sh   # quick
#
# Not part of the test suite: figures, not assertions.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
events_list=${BENCH_EVENTS:-"1000000 5000000"}
accounts=${BENCH_ACCOUNTS:-200000}
shards_list=${BENCH_SHARDS:-"1 2 4"}
date=2026-11-01
work=$(mktemp -d "${TMPDIR:-/tmp}/billing-bench.XXXXXX")

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel 2 >/dev/null
bin=$root/build/release/lib/cli/billing

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
  sqlite3 "$db" "CREATE TABLE usage_bare (occurred_at TEXT, event_id TEXT, account_id TEXT, channel TEXT, status TEXT, chars TEXT, duration_s TEXT, platform_credits TEXT, campaign TEXT);"
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
  mysql_cli bench_bare -e "CREATE TABLE usage_bare (occurred_at VARCHAR(40), event_id VARCHAR(80), account_id VARCHAR(30), channel VARCHAR(16), status VARCHAR(16), chars VARCHAR(20), duration_s VARCHAR(20), platform_credits VARCHAR(20), campaign VARCHAR(40)) ENGINE=InnoDB"
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
  "$bin" --db "$url" migrate >/dev/null
  "$bin" --db "$url" --quiet import plans "$gen/plans.csv" >/dev/null
  "$bin" --db "$url" --quiet import accounts "$gen/accounts.csv" >/dev/null
  "$bin" --db "$url" --quiet import purchases "$gen/purchases.csv" >/dev/null
  echo "$url"
}

printf '\n%-8s %9s %8s %9s %8s %8s %10s %7s %8s %8s %9s\n' backend events bare_s ingest_s run_s total_s events/s ratio rss_mib rerun_s us/event
for events in $events_list; do
  gen=$work/gen-$events
  "$bin" generate --out "$gen" --accounts "$accounts" --first-date "$date" --days 1 \
    --events-per-day "$events" >/dev/null 2>&1
  csv=$gen/usage-$date.csv
  for backend in sqlite mysql; do
    if [[ $backend == sqlite ]]; then bare=$(bare_sqlite "$csv"); else bare=$(bare_mysql "$csv"); fi
    url=$(fresh_db "$backend" "bench_$events")
    # The nightly work: ingest the day's log, then close the date.
    timed "$work/ingest" "$bin" --db "$url" --quiet ingest "$csv"
    timed "$work/run" "$bin" --db "$url" --quiet run --date "$date"
    timed "$work/rerun" "$bin" --db "$url" --quiet run --date "$date"
    ingest_s=$(cat "$work/ingest.secs")
    run_s=$(cat "$work/run.secs")
    total_s=$(echo "$ingest_s + $run_s" | bc -l)
    rss=$(cat "$work/ingest.rss")
    ((rss > $(cat "$work/run.rss"))) || rss=$(cat "$work/run.rss")
    printf '%-8s %9d %8.2f %9.2f %8.2f %8.2f %10.0f %7.2f %8s %8.2f %9.2f\n' "$backend" "$events" \
      "$bare" "$ingest_s" "$run_s" "$total_s" "$(echo "$events / $total_s" | bc -l)" \
      "$(echo "$total_s / $bare" | bc -l)" "$rss" "$(cat "$work/rerun.secs")" \
      "$(echo "$total_s * 1000000 / $events" | bc -l)"
  done
done

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
