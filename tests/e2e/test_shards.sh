# shellcheck shell=bash
# Sharded workers (issue 7): N `billing run --shard K/N` workers started
# together produce exports byte-identical to one worker; a date is complete
# only when every shard has closed its accounts.

billing generate --out "$E2E_TMP/w" --accounts 300 --first-date 2026-10-01 --days 3 \
  --events-per-day 3000 >/dev/null 2>&1

load() { # URL: migrate, import, ingest
  local url=$1
  billing --db "$url" migrate >/dev/null
  billing --db "$url" import plans "$E2E_TMP/w/plans.csv" >/dev/null 2>&1
  billing --db "$url" import accounts "$E2E_TMP/w/accounts.csv" >/dev/null 2>&1
  billing --db "$url" import purchases "$E2E_TMP/w/purchases.csv" >/dev/null 2>&1
  billing --db "$url" ingest "$E2E_TMP"/w/usage-*.csv >/dev/null 2>&1
}
exports() { # URL DIR
  mkdir -p "$2"
  for kind in reconciliation charges payments totals; do
    billing --db "$1" export "$kind" --from 2026-08-01 --to 2026-10-03 -o "$2/$kind.csv" 2>/dev/null
  done
}

new_db one
one=$NEW_DB_URL
load "$one"
expect_exit 0 billing --db "$one" run --from 2026-08-01 --to 2026-10-03 >/dev/null
exports "$one" "$E2E_TMP/x1"

for n in 2 3; do
  new_db "s$n"
  url=$NEW_DB_URL
  load "$url"
  pids=()
  for ((k = 0; k < n; k++)); do
    billing --db "$url" run --shard "$k/$n" --from 2026-08-01 --to 2026-10-03 \
      >"$E2E_TMP/shard$k.out" 2>"$E2E_TMP/shard$k.err" &
    pids+=($!)
  done
  for ((k = 0; k < n; k++)); do
    wait "${pids[k]}" || fail "shard $k/$n failed: $(tail -5 "$E2E_TMP/shard$k.err")"
  done
  status=$(billing --db "$url" status)
  assert_contains "$status" "last completed date:  2026-10-03" "$n shards complete every date"
  exports "$url" "$E2E_TMP/x$n"
  for kind in reconciliation charges payments totals; do
    cmp -s "$E2E_TMP/x1/$kind.csv" "$E2E_TMP/x$n/$kind.csv" \
      || fail "$kind export of $n shards differs from one worker"
  done
  expect_exit 0 billing --db "$url" verify >/dev/null
done
[[ $(wc -l <"$E2E_TMP/x1/reconciliation.csv") -gt 1000 ]] || fail "the scenario is too small to mean anything"

# One shard alone does not complete a date (a dry run does not wait).
new_db lone
url=$NEW_DB_URL
load "$url"
out=$(expect_exit 0 billing --db "$url" run --shard 0/2 --date 2026-10-01 --dry-run)
assert_contains "$out" "shard done" "one shard of two leaves the date open"
