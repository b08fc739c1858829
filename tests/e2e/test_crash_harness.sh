# shellcheck shell=bash
# Crash harness (SPEC 1, 8: "a run that crashed or was killed resumes where it
# stopped, and the result is the same as an uninterrupted run"; "a killed run
# never leaves a lock that needs hand cleaning").
#
# A generated workload (400 accounts, 62 business dates of which the last 3
# carry usage; plan changes, cancellations, grants, debits and refunds of
# SPEC 14 and 15 inside the dates) is worked through once without
# interruption; its exports
# (reconciliation, charges, rejects, payments, totals, and SPEC 17's lots and
# revenue), the lots' values (value_cents, released_cents), the ledger's lot
# takes (took, overdraft_paid) and a fingerprint of the tables are the
# reference: lot names and values must come out the same after a resume. Then, in chains, each on a fresh database, the
# same work is done with commands killed by SIGKILL at points of their work,
# each one followed AT ONCE by the next command: no pause, no retry. A resume
# that exits 75 (lock held) fails the test: a dead holder must never refuse
# the next command (on MySQL the server still holds a killed client's lock
# while it finishes its statement and rolls back; the command waits for it).
# Every export must equal the reference byte for byte and `billing verify`
# must pass. Two kinds of chain:
#
# - run chains: `billing run` over all dates, reading the usage logs from an
#   inbox (a config file), killed several times in a row, then run to the end.
#   Kills spread over the inbox ingest, the quiet dates, the charging of the
#   usage dates (the chunks), the completion of a date (CompleteDayJob, just
#   after its `complete-day` debug line) and the end of the run.
# - command chains: the other writers, each killed once and resumed at once:
#   `billing import accounts`, `import purchases`, `import changes` and
#   `import adjustments` of large files (20,000 more accounts, 8,000 more
#   purchases, 5,000 more changes and grants, all in December, after the
#   dates run, so the run's work stays the same), `billing ingest` of the three logs and
#   `billing payments import` of a large results file (every answer of the
#   night sent 150 times, as a cumulative provider file). Between them, a run
#   (not killed: the run chains do that) and, last, a run over two more
#   dates, on which the failed payments' recharge lots are revoked.
#
# Each kill that hit a live command counts as a kill point; the script prints
# "kill points survived: N", where they landed, how often a resume waited for
# a dead holder's lock and for how long, and "crash harness took N s".
#
# The kill delays are a deterministic sequence (RANDOM seeded below) of
# fractions of the remaining work, measured on the reference's log timeline.

crash_seed=${CRASH_SEED:-20261125}
crash_target=${CRASH_KILL_POINTS:-36}          # kill points wanted per backend, both kinds
crash_command_chains=${CRASH_COMMAND_CHAINS:-2} # 6 kill points each
crash_kills_per_chain=4 # in a run chain
crash_time_cap_s=70 # stop adding chains after this (the CI budget is ~90 s)

t_start=$(date +%s)

# ------------------------------------------------------------ the workload

quiet_ok billing generate --out wl --accounts 400 --first-date 2026-11-20 --days 3 \
  --events-per-day 4000 --seed 7
mkdir inbox
cp wl/usage-*.csv inbox/
usage_files=(wl/usage-2026-11-20.csv wl/usage-2026-11-21.csv wl/usage-2026-11-22.csv)
first_date=$(tail -n +2 wl/accounts.csv | cut -d, -f3 | sort | awk 'NR == 1')
last_date=2026-11-22
after_date=2026-11-24 # command chains: the last run closes 11-23 and 11-24 too
[[ $first_date =~ ^2026-[0-9]{2}-[0-9]{2}$ ]] || fail "no first anchor date in the generated accounts"
# Large import files for the command chains: the generated rows, then
# accounts anchored in December (after every date run here) and purchases of
# theirs, so the import is long but the books of the dates run are the same.
python3 - wl <<'EOF'
import sys
wl = sys.argv[1]
plans = [line.split(",")[0] for line in open(f"{wl}/plans.csv").read().splitlines()[1:]]
with open(f"{wl}/accounts-big.csv", "w") as f:
    f.write(open(f"{wl}/accounts.csv").read())
    for i in range(20000):
        on = i % 2
        f.write(f"{200000 + i},{plans[i % len(plans)]},2026-12-{1 + i % 28:02d},{on},{100 * on},{500 * on},1\n")
with open(f"{wl}/purchases-big.csv", "w") as f:
    f.write(open(f"{wl}/purchases.csv").read())
    for i in range(8000):
        f.write(f"pf-{i},{200000 + i},2026-12-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,{100 + i % 900},{10 + i % 500}\n")
# Plan changes, cancellations and adjustments (SPEC 14, 15) of the workload's
# accounts, inside the dates run (so the runs apply them), and, for the
# command chains' large files, of the December accounts.
import datetime
day = datetime.date.fromisoformat
last = day("2026-11-21")
accounts = [line.split(",") for line in open(f"{wl}/accounts.csv").read().splitlines()[1:]]
changes, adjustments = [], []
for i, (account, plan, anchor, *_rest) in enumerate(sorted(accounts, key=lambda a: int(a[0]))):
    a = day(anchor)
    if i % 10 == 0 and a + datetime.timedelta(days=5 + i % 20) <= last:
        other = plans[(plans.index(plan) + 1) % len(plans)]
        changes.append(f"ch-{account},{account},{a + datetime.timedelta(days=5 + i % 20)},change_plan,{other}")
    elif i % 25 == 1 and a + datetime.timedelta(days=3) <= last:
        changes.append(f"ch-{account},{account},{a + datetime.timedelta(days=3)},cancel,")
    if i % 7 == 0:
        adjustments.append(f"g-{account},{account},{a + datetime.timedelta(days=2)}T12:00:00Z,grant,50,100,,,goodwill")
    if i % 11 == 0:
        adjustments.append(f"d-{account},{account},{a + datetime.timedelta(days=3)}T08:00:00Z,debit,30,,,,correction")
purchases = [line.split(",") for line in open(f"{wl}/purchases.csv").read().splitlines()[1:]]
for k, (pid, account, at, *_rest) in enumerate(purchases):
    if k % 3 == 0 and at < "2026-11-22T12":
        t = datetime.datetime.fromisoformat(at.replace("Z", "")) + datetime.timedelta(hours=1)
        adjustments.append(f"r-{pid},{account},{t.isoformat()}Z,refund,100,50,{pid},,refund")
change_head = "change_id,account_id,effective_date,action,plan_id\n"
adjustment_head = "adjustment_id,account_id,effective_at,kind,credits,amount_cents,purchase_id,expires_at,reason\n"
with open(f"{wl}/changes.csv", "w") as f:
    f.write(change_head + "".join(c + "\n" for c in changes))
with open(f"{wl}/adjustments.csv", "w") as f:
    f.write(adjustment_head + "".join(a + "\n" for a in adjustments))
with open(f"{wl}/changes-big.csv", "w") as f:
    f.write(change_head + "".join(c + "\n" for c in changes))
    for i in range(5000):
        f.write(f"chf-{i},{200000 + i},2026-12-29,change_plan,{plans[(i + 1) % len(plans)]}\n")
with open(f"{wl}/adjustments-big.csv", "w") as f:
    f.write(adjustment_head + "".join(a + "\n" for a in adjustments))
    for i in range(5000):
        f.write(f"gf-{i},{200000 + i},2026-12-{1 + i % 28:02d}T12:00:00Z,grant,10,,,,welcome\n")
EOF
[[ $(wc -l <wl/changes.csv) -gt 10 && $(wc -l <wl/adjustments.csv) -gt 20 ]] ||
  fail "too few generated changes or adjustments"
# The inbox comes from the config file; the same path for every database, so
# the rejects export (which names the file) is comparable byte for byte. The
# command chains ingest the same files by name from wl/ instead.
printf '[usage]\ninbox = %s\n' "$E2E_TMP/inbox" >crash.conf
printf '' >plain.conf

load_db() { # URL [plans]: migrate and import the reference data (no usage: the run ingests it)
  quiet_ok billing --db "$1" migrate
  local kind kinds=(plans accounts purchases changes adjustments)
  [[ ${2:-} != plans ]] || kinds=(plans)
  for kind in "${kinds[@]}"; do
    quiet_ok billing --db "$1" import "$kind" "wl/$kind.csv"
  done
}

# fresh_db NAME [plans]: a loaded database (with plans only: the command
# chains import the rest) that no run touched yet; sets FRESH_URL (and
# FRESH_NAME for mysql). SQLite copies a loaded template file.
if [[ $E2E_BACKEND == sqlite ]]; then
  load_db "sqlite:$E2E_TMP/template.db"
  load_db "sqlite:$E2E_TMP/template-plans.db" plans
  [[ ! -s $E2E_TMP/template.db-wal ]] || fail "the template database left a WAL file behind"
fi
fresh_db() {
  case $E2E_BACKEND in
    sqlite)
      rm -f "$E2E_TMP/$1.db" "$E2E_TMP/$1.db-wal" "$E2E_TMP/$1.db-shm" "$E2E_TMP/$1.db.lock"
      cp "$E2E_TMP/template${2:+-$2}.db" "$E2E_TMP/$1.db"
      FRESH_URL="sqlite:$E2E_TMP/$1.db"
      FRESH_NAME=
      ;;
    mysql)
      new_db "$1"
      FRESH_NAME="${E2E_DB_NAME}_$1"
      FRESH_URL=$NEW_DB_URL
      load_db "$FRESH_URL" "${2:-}"
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
    UNION ALL SELECT 'accounts', COUNT(*), COALESCE(SUM(auto_recharge), 0) FROM accounts
    UNION ALL SELECT 'purchases', COUNT(*), COALESCE(SUM(credits), 0) FROM purchases
    UNION ALL SELECT 'lots', COUNT(*), COALESCE(SUM(remaining), 0) FROM all_lots
    UNION ALL SELECT 'ledger', COUNT(*), 0 FROM ledger
    UNION ALL SELECT 'charges', COUNT(*), COALESCE(SUM(credits), 0) FROM charges
    UNION ALL SELECT 'sending', COUNT(*), COALESCE(SUM(enabled), 0) FROM sending_changes
    UNION ALL SELECT 'payments', COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payment_requests
    UNION ALL SELECT 'payments failed', COUNT(*), 0 FROM payment_requests WHERE status = 'failed'
    UNION ALL SELECT 'changes', COUNT(*), COUNT(applied_date) FROM plan_changes
    UNION ALL SELECT 'adjustments', COUNT(*), COALESCE(SUM(applied_credits), 0) FROM adjustments
    UNION ALL SELECT 'days', COUNT(*), 0 FROM business_days WHERE status = 'complete'"
}

# value_set URL NAME PREFIX TO: SPEC 17's books beyond export_set: the lots
# and revenue exports (lot names, movements, values released per date), every
# lot's value and release, and every ledger entry's lot takes and overdraft
# paid, to PREFIX.<one of value_files>.
value_files=(lots.csv revenue.csv lot-values.tsv takes.tsv)
value_set() {
  quiet_ok billing --db "$1" export lots --from "$first_date" --to "$4" -o "$3.lots.csv"
  quiet_ok billing --db "$1" export revenue --from "$first_date" --to "$4" -o "$3.revenue.csv"
  sql_on "$1" "$2" "SELECT account_id, lot_seq, value_cents, released_cents FROM all_lots
    ORDER BY account_id, lot_seq" >"$3.lot-values.tsv"
  sql_on "$1" "$2" "SELECT idempotency_key, took, overdraft_paid FROM ledger
    ORDER BY idempotency_key" >"$3.takes.tsv"
}

# The kill driver: runs the command, reads its log lines as they come, and
# either runs it to the end recording when each progress line (an inbox or
# usage file, the retry of rejects, a date's completion, a closed date)
# appeared (mode ref), or kills it with SIGKILL (mode kill) at WHEN: PERMILLE
# of the remaining work, estimated from that timeline and the progress the
# chain made so far (STATE), or "after:KEY:JITTER_MS", that long after the
# progress line KEY. The time a command spends waiting for a dead holder's
# lock (its "waiting up to" line until "lock released") is not work: the
# delay counts from the lock. Prints one line: "OUTCOME PHASE DELAY_MS
# LOCK_WAIT_MS" (OUTCOME killed|exit:RC; PHASE is LABEL unless LABEL is "-").
cat >killer.py <<'EOF'
import os, re, signal, subprocess, sys, threading, time

mode, timeline_path, state_path, when, label = sys.argv[1:6]
cmd = sys.argv[sys.argv.index("--") + 1:]
marker = re.compile(r"^\S+ (?:info|warn) (?:(\d{4}-\d{2}-\d{2}): \d+ accounts|(.*\.csv): (?:\d+ lines|skipped)|(retried) )")
completion = re.compile(r"^\S+ debug (\d{4}-\d{2}-\d{2}): complete-day$")
lock_wait = re.compile(r"which has ended .*; waiting up to")
lock_released = re.compile(r" lock released by the server after ")

def key_of(line):
    m = completion.match(line)
    if m:
        return "complete@" + m.group(1)
    m = marker.match(line)
    if not m:
        return None
    return m.group(1) or os.path.basename(m.group(2) or "") or "retry"

wanted = when.split(":")[1] if when.startswith("after:") else None
if mode == "kill":
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
    if wanted and wanted.startswith("complete@") and index.get(wanted, -1) <= done:
        # A completion the chain is past already: the next one still to come.
        later = [k for t, k in timeline[done + 1:] if k.startswith("complete@")]
        wanted = later[0] if later else None

lines, stamps = [], []
lock = threading.Lock()
base = {"t": 0.0, "waiting": False, "wait": 0.0}  # when the command got the lock
t0 = time.monotonic()
proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        text=True, errors="replace")
seen = threading.Event()
def reader():
    for line in proc.stderr:
        now = time.monotonic() - t0
        with lock:
            lines.append(line.rstrip("\n"))
            stamps.append(now)
            if lock_wait.search(line):
                base["waiting"] = True
            elif lock_released.search(line):
                base.update(t=now, waiting=False, wait=now)
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
    print(f"exit:{rc} ref 0 0")
    sys.exit(0)

if wanted and index[wanted] > done:
    # "after:KEY:JITTER_MS": JITTER_MS after the command logs the progress line KEY.
    seen.wait()
    time.sleep(int(when.split(":")[2]) / 1000.0)
else:
    # PERMILLE (or a marker the chain is past already): that share of the
    # remaining work, by the reference timeline, counted from the lock.
    permille = int(when.split(":")[2]) * 10 if when.startswith("after:") else int(when)
    delay = permille / 1000.0 * remaining
    while proc.poll() is None:
        with lock:
            waiting, b = base["waiting"], base["t"]
        left = b + delay - (time.monotonic() - t0)
        if not waiting and left <= 0:
            break
        time.sleep(0.005 if waiting else min(left, 0.005))
with lock:
    died_waiting = base["waiting"]
    delay = time.monotonic() - t0 - base["t"]
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
# Where the command was when it died: the last progress line it wrote.
last_key = None
for line in lines:
    k = key_of(line)
    if k:
        last_key = k
if died_waiting:
    phase = "lock-wait"
elif label != "-":
    phase = label
elif last_key is None or not re.match(r"\d{4}-|complete@", last_key):
    phase = "ingest" # before the first date: the inbox
elif last_key.startswith("complete@"):
    phase = "completion"
elif index[last_key] == len(timeline) - 2:
    phase = "end"
elif index[last_key] >= min(i for i, (t, k) in enumerate(timeline) if k.startswith("2026-11-19")):
    phase = "charging-usage"
else:
    phase = "quiet-dates"
outcome = "killed" if killed and rc == -signal.SIGKILL else f"exit:{rc}"
print(f"{outcome} {phase} {int(delay * 1000)} {int(base['wait'] * 1000)}")
if not killed or rc != -signal.SIGKILL:
    sys.stderr.write("\n".join(lines[-5:]) + "\n")
EOF

survived=0
attempts=0
declare -A phases=()
lock_waits=0
lock_wait_max_ms=0
note_lock_wait() { # MS: a command waited MS for a dead holder's lock
  (($1 > 0)) || return 0
  lock_waits=$((lock_waits + 1))
  ((lock_wait_max_ms >= $1)) || lock_wait_max_ms=$1
}

# kill_cmd STATE WHEN LABEL CMD...: one kill attempt through killer.py; sets
# KILL_OUTCOME (killed, or exit:0 when the command ended first) and counts it.
# Any other exit fails the test, 75 included: the command ran right after a
# killed one and must not be refused by the dead one's lock.
kill_cmd() {
  local state=$1 when=$2 label=$3 phase delay wait_ms
  shift 3
  attempts=$((attempts + 1))
  python3 killer.py kill "$timeline" "$state" "$when" "$label" -- "$@" >kill.out 2>kill.err ||
    fail "the kill driver failed: $(tail -n 20 kill.err)"
  read -r KILL_OUTCOME phase delay wait_ms <kill.out
  echo "  kill at $when (${delay} ms after the lock): $KILL_OUTCOME $phase"
  note_lock_wait "$wait_ms"
  case $KILL_OUTCOME in
    killed)
      if [[ $phase == lock-wait ]]; then
        phases[lock-wait]=$((${phases[lock-wait]:-0} + 1)) # not a kill point of the work
      else
        survived=$((survived + 1)) # provisionally; the chain's checks confirm it
        phases[$phase]=$((${phases[$phase]:-0} + 1))
      fi
      ;;
    exit:0) ;;
    *) fail "a command to be killed exited ${KILL_OUTCOME#exit:} (right after a kill: $*): $(cat kill.err)" ;;
  esac
}

# resume [TIMELINE] -- CMD...: the command right after a kill, once: it must
# succeed. TIMELINE (of a command that starts over when resumed, and logs no
# progress: an import) is replaced by this run's time when that is shorter:
# the kills of the next chains aim at a share of the fastest time seen, not of
# a reference slowed down by a busy machine.
resume() {
  local tl=$1 rc=0 t0_us took_us waited
  shift 2
  t0_us=${EPOCHREALTIME/./}
  "$@" >resume.out 2>resume.err || rc=$?
  took_us=$((${EPOCHREALTIME/./} - t0_us))
  assert_eq 0 "$rc" "the command right after kill -9 ($*): $(tail -n 5 resume.err)"
  waited=$(sed -n 's/.* lock released by the server after \([0-9.]*\) s$/\1/p' resume.err | tail -n 1)
  if [[ -n $waited ]]; then
    note_lock_wait "$(awk -v s="$waited" 'BEGIN { printf "%d", s * 1000 }')"
  elif [[ -n $tl ]] && ((took_us < $(awk '{ printf "%d", $1 * 1000000 }' "$tl"))); then
    awk -v us="$took_us" 'BEGIN { printf "%.6f END\n", us / 1e6 }' >"$tl"
  fi
}

# check_chain URL NAME PREFIX LABEL TO: the chain's books equal the reference PREFIX's.
check_chain() {
  local kind
  export_set "$1" "$3.$4" "$first_date" "$5"
  for kind in "${E2E_EXPORT_KINDS[@]}"; do
    cmp -s "$3.$kind.csv" "$3.$4.$kind.csv" ||
      fail "$4: the $kind export differs from the reference:
$(diff "$3.$kind.csv" "$3.$4.$kind.csv" | head -n 8)"
  done
  value_set "$1" "$2" "$3.$4" "$5"
  for kind in "${value_files[@]}"; do
    cmp -s "$3.$kind" "$3.$4.$kind" ||
      fail "$4: the $kind differ from the reference:
$(diff "$3.$kind" "$3.$4.$kind" | head -n 8)"
  done
  assert_eq "$(cat "$3.fp")" "$(fingerprint "$1" "$2")" "$4: the tables differ from the reference"
  assert_eq 0 "$(sql_on "$1" "$2" "SELECT COUNT(*) FROM runs WHERE outcome = 'running'")" \
    "$4: a killed run is still shown running"
  verify_ok "$1" "$4"
}

# ref_of PREFIX URL NAME TO: the reference's exports and fingerprint.
ref_of() {
  local kind
  export_set "$2" "$1" "$first_date" "$4"
  for kind in "${E2E_EXPORT_KINDS[@]}"; do
    [[ -n $(sed -n 2p "$1.$kind.csv") ]] || fail "the reference $1 $kind export is empty"
  done
  value_set "$2" "$3" "$1" "$4"
  for kind in "${value_files[@]}"; do
    [[ -n $(sed -n 2p "$1.$kind") ]] || fail "the reference $1 $kind is empty"
  done
  # The workload moves value: the lots export releases some, and some of
  # the ledger's entries took credits from lots.
  awk -F, 'NR > 1 && $15 > 0 { n++ } END { exit !(n > 0) }' "$1.lots.csv" ||
    fail "the reference $1 released no value"
  grep -q $'\t[0-9]*:[0-9]' "$1.takes.tsv" || fail "the reference $1 has no lot takes"
  fingerprint "$2" "$3" >"$1.fp"
  verify_ok "$2" "the reference $1"
}

# ref_step TIMELINE CMD...: a command of a reference, uninterrupted, its timeline recorded.
ref_step() {
  local tl=$1 outcome
  shift
  python3 killer.py ref "$tl" /dev/null 0 - -- "$@" >ref.out 2>ref.err ||
    fail "the kill driver failed: $(tail -n 20 ref.err)"
  read -r outcome _ <ref.out
  assert_eq "exit:0" "$outcome" "the reference's $*: $(tail -n 3 ref.err)"
  grep -q ' END$' "$tl" || fail "no timeline from the reference's $*"
}

# ============================================ the run chains' reference

export BILLING_CONFIG=$E2E_TMP/crash.conf
run_args=(--log-level debug run --from "$first_date" --to "$last_date")
fresh_db ref
ref_step timeline.txt "$BILLING_BIN" --db "$FRESH_URL" "${run_args[@]}"
assert_eq 62 "$(grep -c ' 20[0-9-]*$' timeline.txt)" "the reference closed 62 dates"
assert_eq 62 "$(grep -c ' complete@' timeline.txt)" "the reference logged 62 completions"
ref_of ref "$FRESH_URL" "$FRESH_NAME" "$last_date"
echo "reference run: $(tail -n 1 timeline.txt | cut -d' ' -f1) s, $(csv_rows ref.reconciliation.csv) reconciliation rows," \
  "$(csv_rows ref.charges.csv) charges rows, $(csv_rows ref.rejects.csv) rejects"
mapfile -t ref_dates < <(grep -o ' 20[0-9-]*$' timeline.txt | tr -d ' ')
drop_db "$FRESH_NAME"

RANDOM=$crash_seed

# ======================================================== command chains

# First, so that the time cap of the run chains never leaves them out. No
# inbox here: the chains ingest the logs by name.
export BILLING_CONFIG=$E2E_TMP/plain.conf
# The steps of a command chain, in order: NAME, then the command's arguments.
steps=(
  "import-accounts|import accounts wl/accounts-big.csv"
  "import-purchases|import purchases wl/purchases-big.csv"
  "import-changes|import changes wl/changes-big.csv"
  "import-adjustments|import adjustments wl/adjustments-big.csv"
  "ingest-command|ingest ${usage_files[*]}"
  "run|run --from $first_date --to $last_date"
  "payments-import|payments import results.csv"
  "last-run|run --date $after_date"
)
step_cmd() { # STEP: the step's arguments into STEP_ARGS
  read -r -a STEP_ARGS <<<"${1#*|}"
}
fresh_db cref plans
for step in "${steps[@]}"; do
  if [[ ${step%%|*} == payments-import ]]; then
    # The payment provider's answers to the night's requests: one in four
    # declined; each answer sent 150 times (a cumulative results file).
    quiet_ok billing --db "$FRESH_URL" export payments --status pending -o pending.csv
    python3 - pending.csv results.csv <<'EOF'
import csv, sys
keys = [row["idempotency_key"] for row in csv.DictReader(open(sys.argv[1], newline=""))]
with open(sys.argv[2], "w") as f:
    f.write("idempotency_key,status,provider_ref,failure_reason\n")
    for _ in range(150):
        for i, key in enumerate(keys):
            f.write(f"{key},failed,ref-{i},card_declined\n" if i % 4 == 0 else f"{key},succeeded,ref-{i},\n")
EOF
    [[ -n $(sed -n 2p results.csv) ]] || fail "no payment requests to answer"
  fi
  step_cmd "$step"
  ref_step "cmd.${step%%|*}.timeline" "$BILLING_BIN" --db "$FRESH_URL" "${STEP_ARGS[@]}"
done
ref_of cref "$FRESH_URL" "$FRESH_NAME" "$after_date"
echo "reference commands:$(for step in "${steps[@]}"; do
  printf ' %s %s s,' "${step%%|*}" "$(tail -n 1 "cmd.${step%%|*}.timeline" | cut -d' ' -f1)"
done) $(($(wc -l <results.csv) - 1)) payment results, $(csv_rows cref.payments.csv) payments"
drop_db "$FRESH_NAME"

for ((c = 1; c <= crash_command_chains; c++)); do
  fresh_db "cc$c" plans
  echo "command chain $c:"
  for step in "${steps[@]}"; do
    name=${step%%|*}
    step_cmd "$step"
    timeline=cmd.$name.timeline
    if [[ $name == run || $name == last-run ]]; then
      resume "" -- "$BILLING_BIN" --db "$FRESH_URL" "${STEP_ARGS[@]}" # right after a kill too
      continue
    fi
    rm -f "cc$c.$name.state"
    # A share of the fastest time seen (the steps are short; see resume).
    kill_cmd "cc$c.$name.state" $((RANDOM % 700 + 20)) "$name" "$BILLING_BIN" --db "$FRESH_URL" "${STEP_ARGS[@]}"
    # An import starts over when resumed (one transaction); an ingest keeps
    # the files it finished.
    resume "$([[ $name == ingest-command ]] || echo "$timeline")" -- \
      "$BILLING_BIN" --db "$FRESH_URL" "${STEP_ARGS[@]}"
  done
  check_chain "$FRESH_URL" "$FRESH_NAME" cref "cc$c" "$after_date"
  drop_db "$FRESH_NAME"
done

# ============================================================ run chains

# Until the kill points wanted (the command chains made theirs already).
command_kills=$survived
export BILLING_CONFIG=$E2E_TMP/crash.conf
chains=0
timeline=timeline.txt
while ((survived < crash_target)); do
  if (($(date +%s) - t_start > crash_time_cap_s)); then
    echo "note: time cap of ${crash_time_cap_s}s reached after $chains run chains" >&2
    break
  fi
  chains=$((chains + 1))
  fresh_db "c$chains"
  rm -f "chain$chains.state"
  echo "run chain $chains:"
  for ((k = 0; k < crash_kills_per_chain; k++)); do
    # Mostly a share of the remaining work (0..1.0; a few land after the end);
    # some just after a date's completion begins, a few ms after the start of
    # the usage charging, or after the last date's progress line (the end of
    # the run: run log, metrics, summary).
    # The first kill of every other chain lands just after 2026-11-19's
    # line, so that some kill falls in the usage charging on every timing
    # (the shares of work alone missed it on a fast run).
    r=$((RANDOM % 10))
    if ((k == 0 && chains % 2 == 1)); then
      when="after:2026-11-19:$((RANDOM % 3))"
    elif ((r == 6 || r == 7)); then
      when="after:complete@${ref_dates[RANDOM % ${#ref_dates[@]}]}:$((RANDOM % 3))"
    elif ((r == 8)); then
      when="after:2026-11-19:$((RANDOM % 60))"
    elif ((r == 9)); then
      when="after:$last_date:$((RANDOM % 4))"
    else
      when=$((RANDOM % 1000 + 1))
    fi
    kill_cmd "chain$chains.state" "$when" - "$BILLING_BIN" --db "$FRESH_URL" "${run_args[@]}"
    [[ $KILL_OUTCOME == killed ]] || break # the run finished before the kill: the chain is done
  done
  # Run to completion, at once: the killed run's lock is no obstacle.
  resume "" -- "$BILLING_BIN" --db "$FRESH_URL" "${run_args[@]}"
  check_chain "$FRESH_URL" "$FRESH_NAME" ref "chain$chains" "$last_date"
  drop_db "$FRESH_NAME"
done

echo "kill attempts: $attempts in $chains run chains and $crash_command_chains command chains (seed $crash_seed)"
for phase in ingest quiet-dates charging-usage completion end import-accounts import-purchases \
  import-changes import-adjustments ingest-command payments-import lock-wait; do
  echo "  killed during $phase: ${phases[$phase]:-0}"
done
echo "commands that waited for a killed holder's lock: $lock_waits (longest $lock_wait_max_ms ms)"
echo "kill points survived: $survived ($((survived - command_kills)) in run chains, $command_kills in command chains)"
echo "crash harness took $(($(date +%s) - t_start)) s"
((survived >= 30)) || fail "only $survived kill points (want at least 30)"
for phase in ingest quiet-dates charging-usage import-accounts import-purchases import-changes \
  import-adjustments ingest-command payments-import; do
  ((${phases[$phase]:-0} > 0)) || fail "no kill landed during $phase"
done
