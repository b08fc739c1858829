# shellcheck shell=bash
# Crash harness (SPEC 1, 8: "a run that crashed or was killed resumes where it
# stopped, and the result is the same as an uninterrupted run").
#
# A generated workload (400 accounts, 62 business dates of which the last 3
# carry usage, read from an inbox configured in a config file) is closed once
# without interruption: its exports (reconciliation, charges, rejects,
# payments, totals) and a fingerprint of the tables are the reference. Then,
# in chains, each on a fresh database: `billing run` is started and killed with
# SIGKILL at a point of the remaining work, several times in a row, and finally
# run to completion; every export must equal the reference byte for byte and
# `billing verify` must pass. Each kill that hit a live run counts as a kill
# point; the script prints "kill points survived: N" and where they landed.
#
# The kill delays are a deterministic sequence (RANDOM seeded below) of
# fractions of the remaining work, measured on the reference run's log
# timeline, so kills spread over the inbox ingest, the quiet dates, the
# charging of the usage dates and the end of the run.

crash_seed=${CRASH_SEED:-20261125}
crash_target=${CRASH_KILL_POINTS:-36} # kill points wanted per backend
crash_kills_per_chain=3
crash_time_cap_s=70 # stop adding chains after this (the CI budget is ~90 s)

t_start=$(date +%s)

# ------------------------------------------------------------ the workload

quiet_ok billing generate --out wl --accounts 400 --first-date 2026-11-20 --days 3 \
  --events-per-day 4000 --seed 7
mkdir inbox
cp wl/usage-*.csv inbox/
first_date=$(tail -n +2 wl/accounts.csv | cut -d, -f3 | sort | awk 'NR == 1')
last_date=2026-11-22
[[ $first_date =~ ^2026-[0-9]{2}-[0-9]{2}$ ]] || fail "no first anchor date in the generated accounts"
# The inbox comes from the config file; the same path for every database, so
# the rejects export (which names the file) is comparable byte for byte.
printf '[usage]\ninbox = %s\n' "$E2E_TMP/inbox" >crash.conf
export BILLING_CONFIG=$E2E_TMP/crash.conf

load_db() { # URL: migrate and import the reference data (no usage: the run ingests the inbox)
  quiet_ok billing --db "$1" migrate
  local kind
  for kind in plans accounts purchases; do
    quiet_ok billing --db "$1" import "$kind" "wl/$kind.csv"
  done
}

# fresh_db NAME: a loaded database that no run touched yet; sets FRESH_URL (and
# FRESH_NAME for mysql). SQLite copies a loaded template file.
if [[ $E2E_BACKEND == sqlite ]]; then
  load_db "sqlite:$E2E_TMP/template.db"
  [[ ! -s $E2E_TMP/template.db-wal ]] || fail "the template database left a WAL file behind"
fi
fresh_db() {
  case $E2E_BACKEND in
    sqlite)
      rm -f "$E2E_TMP/$1.db" "$E2E_TMP/$1.db-wal" "$E2E_TMP/$1.db-shm" "$E2E_TMP/$1.db.lock"
      cp "$E2E_TMP/template.db" "$E2E_TMP/$1.db"
      FRESH_URL="sqlite:$E2E_TMP/$1.db"
      FRESH_NAME=
      ;;
    mysql)
      new_db "$1"
      FRESH_NAME="${E2E_DB_NAME}_$1"
      FRESH_URL=$NEW_DB_URL
      load_db "$FRESH_URL"
      ;;
  esac
}
drop_db() { # NAME (mysql): drop a chain's database once it is checked
  [[ $E2E_BACKEND == mysql && -n $1 ]] || return 0
  _e2e_mariadb --execute="DROP DATABASE IF EXISTS \`$1\`"
}

# sql_on URL NAME QUERY: sql() against another database of this backend.
sql_on() {
  BILLING_DB_URL=$1 E2E_DB_NAME=$2 sql "$3"
}
# fingerprint URL NAME: what the books hold beyond the exports (row counts
# and sums of the business tables; the runs log is left out on purpose).
fingerprint() {
  sql_on "$1" "$2" "SELECT 'events', COUNT(*), COALESCE(SUM(credits), 0) FROM usage_events
    UNION ALL SELECT 'files', COUNT(*), COALESCE(SUM(accepted + duplicates + rejected), 0) FROM usage_files
    UNION ALL SELECT 'rejects', COUNT(*), 0 FROM rejects
    UNION ALL SELECT 'lots', COUNT(*), COALESCE(SUM(remaining), 0) FROM lots
    UNION ALL SELECT 'ledger', COUNT(*), 0 FROM ledger
    UNION ALL SELECT 'charges', COUNT(*), COALESCE(SUM(credits), 0) FROM charges
    UNION ALL SELECT 'sending', COUNT(*), COALESCE(SUM(enabled), 0) FROM sending_changes
    UNION ALL SELECT 'payments', COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payment_requests
    UNION ALL SELECT 'days', COUNT(*), 0 FROM business_days WHERE status = 'complete'"
}



# The kill driver: runs the command, reads its log lines as they come, and
# either runs it to the end recording when each progress line (an inbox file,
# the retry of rejects, a closed date) appeared (mode ref), or kills it with
# SIGKILL after FRACTION of the remaining work, estimated from that timeline
# and the progress the chain made so far (mode kill). Prints one line:
# "OUTCOME PHASE DELAY_MS" (OUTCOME killed|exit:RC).
cat >killer.py <<'EOF'
import os, re, signal, subprocess, sys, threading, time

mode, timeline_path, state_path, when = sys.argv[1:5]
cmd = sys.argv[sys.argv.index("--") + 1:]
marker = re.compile(r"^\S+ (?:info|warn) (?:(\d{4}-\d{2}-\d{2}): \d+ accounts|(.*\.csv): (?:\d+ lines|skipped)|(retried) )")

def key_of(line):
    m = marker.match(line)
    if not m:
        return None
    return m.group(1) or os.path.basename(m.group(2) or "") or "retry"

lines, stamps = [], []
lock = threading.Lock()
t0 = time.monotonic()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        text=True, errors="replace")
seen = threading.Event()
wanted = when.split(":")[1] if when.startswith("after:") else None
def reader():
    for line in proc.stderr:
        with lock:
            lines.append(line.rstrip("\n"))
            stamps.append(time.monotonic() - t0)
        if wanted and key_of(line) == wanted:
            seen.set()
    seen.set()
thread = threading.Thread(target=reader, daemon=True)
thread.start()

if mode == "ref":
    rc = proc.wait()
    thread.join()
    with open(timeline_path, "w") as f:
        for line, t in zip(lines, stamps):
            k = key_of(line)
            if k:
                f.write(f"{t:.6f} {k}\n")
        f.write(f"{time.monotonic() - t0:.6f} END\n")
    sys.stderr.write("\n".join(lines) + "\n")
    print(f"exit:{rc} ref 0")
    sys.exit(0)

timeline = []
with open(timeline_path) as f:
    for row in f:
        t, k = row.split()
        timeline.append((float(t), k))
index = {k: i for i, (t, k) in enumerate(timeline)}
total = timeline[-1][0]
done = -1
if os.path.exists(state_path):
    done = int(open(state_path).read().strip() or -1)
already = timeline[done][0] if done >= 0 else 0.0
remaining = max(total - already, 0.02)
if wanted and index[wanted] > done:
    # "after:KEY:JITTER_MS": JITTER_MS after the run logs the progress line KEY.
    seen.wait()
    time.sleep(int(when.split(":")[2]) / 1000.0)
    delay = time.monotonic() - t0
else:
    # PERMILLE (or a marker the chain is past already): that share of the
    # remaining work, by the reference timeline.
    permille = int(when.split(":")[2]) * 10 if wanted else int(when)
    delay = permille / 1000.0 * remaining
    time.sleep(max(delay - (time.monotonic() - t0), 0))
killed = False
if proc.poll() is None:
    os.kill(proc.pid, signal.SIGKILL)
    killed = True
rc = proc.wait()
thread.join()
last = done
for line in lines:
    k = key_of(line)
    if k in index:
        last = max(last, index[k])
with open(state_path, "w") as f:
    f.write(f"{last}\n")
# Where the run was when it died: the last progress line it wrote.
first_usage = min(i for i, (t, k) in enumerate(timeline) if k.startswith("2026-11-19"))
n_dates = sum(1 for t, k in timeline if re.match(r"\d{4}-", k))
last_key = None
for line in lines:
    k = key_of(line)
    if k:
        last_key = k
if last_key is None or not re.match(r"\d{4}-", last_key):
    phase = "ingest"
elif index[last_key] == len(timeline) - 2:
    phase = "end"
elif index[last_key] >= first_usage:
    phase = "charging-usage"
else:
    phase = "quiet-dates"
outcome = "killed" if killed and rc == -signal.SIGKILL else f"exit:{rc}"
print(f"{outcome} {phase} {int(delay * 1000)}")
if not killed or rc != -signal.SIGKILL:
    sys.stderr.write("\n".join(lines[-5:]) + "\n")
EOF

# --------------------------------------------------------- the reference

fresh_db ref
ref_url=$FRESH_URL
ref_name=$FRESH_NAME
python3 killer.py ref timeline.txt /dev/null 0 -- \
  "$BILLING_BIN" --db "$ref_url" run --from "$first_date" --to "$last_date" >ref.out 2>ref.err ||
  fail "the kill driver failed: $(tail -n 20 ref.err)"
read -r outcome _ _ <ref.out
assert_eq "exit:0" "$outcome" "the reference run: $(tail -n 3 ref.err)"
grep -q ' END$' timeline.txt || fail "no timeline from the reference run"
assert_eq 62 "$(grep -c ' 20[0-9-]*$' timeline.txt)" "the reference closed 62 dates"
export_set "$ref_url" ref "$first_date" "$last_date"
for kind in "${E2E_EXPORT_KINDS[@]}"; do
  (($(csv_rows "ref.$kind.csv") > 0)) || fail "the reference $kind export is empty"
done
ref_fp=$(fingerprint "$ref_url" "$ref_name")
verify_ok "$ref_url" "the reference"
echo "reference run: $(tail -n 1 timeline.txt | cut -d' ' -f1) s, $(csv_rows ref.reconciliation.csv) reconciliation rows," \
  "$(csv_rows ref.charges.csv) charges rows, $(csv_rows ref.rejects.csv) rejects, $(csv_rows ref.payments.csv) payments"

# ------------------------------------------------------- the kill chains

RANDOM=$crash_seed
survived=0
attempts=0
chains=0
declare -A phases=()
while ((survived < crash_target)); do
  if (($(date +%s) - t_start > crash_time_cap_s)); then
    echo "note: time cap of ${crash_time_cap_s}s reached after $chains chains" >&2
    break
  fi
  chains=$((chains + 1))
  fresh_db "c$chains"
  url=$FRESH_URL
  name=$FRESH_NAME
  rm -f "chain$chains.state"
  chain_kills=0
  for ((k = 0; k < crash_kills_per_chain; k++)); do
    # Mostly a share of the remaining work (0..1.0; a few land after the end);
    # some a few ms after the start of the usage charging, or after the last
    # date's progress line (the end of the run: run log, metrics, summary).
    r=$((RANDOM % 10))
    if ((r == 8)); then
      when="after:2026-11-19:$((RANDOM % 60))"
    elif ((r == 9)); then
      when="after:$last_date:$((RANDOM % 4))"
    else
      when=$((RANDOM % 1000 + 1))
    fi
    attempts=$((attempts + 1))
    python3 killer.py kill timeline.txt "chain$chains.state" "$when" -- \
      "$BILLING_BIN" --db "$url" run --from "$first_date" --to "$last_date" >kill.out 2>kill.err ||
      fail "the kill driver failed: $(tail -n 20 kill.err)"
    read -r outcome phase delay <kill.out
    echo "chain $chains: kill at $when (${delay} ms): $outcome $phase"
    case $outcome in
      killed)
        survived=$((survived + 1)) # provisionally; the chain's checks below confirm it
        chain_kills=$((chain_kills + 1))
        phases[$phase]=$((${phases[$phase]:-0} + 1))
        ;;
      exit:0) break ;; # the run finished before the kill: the chain is done
      exit:75) ;;      # a killed run's lock not yet released by the server: try again
      *) fail "a run to be killed exited ${outcome#exit:}: $(cat kill.err)" ;;
    esac
  done
  # Run to completion; a killed run never leaves a lock that needs cleaning
  # (MySQL may take a moment to see the dead connection).
  for ((i = 0; i < 50; i++)); do
    rc=0
    billing --db "$url" run --from "$first_date" --to "$last_date" >resume.out 2>resume.err || rc=$?
    [[ $rc == 75 ]] || break
    sleep 0.1
  done
  assert_eq 0 "$rc" "chain $chains: the run after kill -9 finishes: $(tail -n 5 resume.err)"
  export_set "$url" "chain$chains" "$first_date" "$last_date"
  for kind in "${E2E_EXPORT_KINDS[@]}"; do
    cmp -s "ref.$kind.csv" "chain$chains.$kind.csv" ||
      fail "chain $chains ($chain_kills kills): the $kind export differs from the reference:
$(diff "ref.$kind.csv" "chain$chains.$kind.csv" | head -n 8)"
  done
  assert_eq "$ref_fp" "$(fingerprint "$url" "$name")" "chain $chains: the tables differ from the reference"
  assert_eq 0 "$(sql_on "$url" "$name" "SELECT COUNT(*) FROM runs WHERE outcome = 'running'")" \
    "chain $chains: a killed run is still shown running"
  verify_ok "$url" "chain $chains ($chain_kills kills)"
  drop_db "$name"
done

echo "kill attempts: $attempts in $chains chains (seed $crash_seed)"
for phase in ingest quiet-dates charging-usage end; do
  echo "  killed during $phase: ${phases[$phase]:-0}"
done
echo "kill points survived: $survived"
((survived >= 30)) || fail "only $survived kill points (want at least 30)"
((${phases[ingest]:-0} > 0 && ${phases[charging-usage]:-0} > 0 && ${phases[quiet-dates]:-0} > 0)) ||
  fail "the kills did not spread over ingest, quiet dates and usage charging"
echo "crash harness took $(($(date +%s) - t_start)) s"
