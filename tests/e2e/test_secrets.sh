# shellcheck shell=bash
# Secrets and file modes (SPEC 9: the MySQL password comes from
# BILLING_DB_PASSWORD or db.password_file, "never from the command line, never
# logged"; docs/decisions.md: -o writes mode 0640; SPEC 12: metrics file).
#
# mysql: a private, throwaway MariaDB (scripts/mariadb.sh; the shared test
# server's user cannot grant a new user anything) whose `billing` user gets a
# distinctive password. Every command (migrate, import, ingest, run, export,
# status, verify, payments import), with --log-level debug in text and JSON,
# and failing ones (a wrong password, a refused and an unreachable URL, a run
# refused by the lock, a missing password file) must show the password in no
# stdout, stderr, export file, metrics file or database table; while a run
# works, `ps -ef` must not show it (its environment holds it by design, so
# /proc/PID/environ is not checked). The db.password_file variant too.
# Both backends: exports written with -o and the metrics file are mode 0640,
# whatever the umask, also when they replace a world-readable file.

pm_dir=$E2E_TMP/pm
# shellcheck disable=SC2317 # called by run_e2e's cleanup
e2e_test_cleanup() {
  if [[ -s $pm_dir/mysqld.pid ]]; then
    "$BILLING_SOURCE_DIR/scripts/mariadb.sh" stop "$pm_dir" >/dev/null 2>&1 || true
  fi
}

t_start=$(date +%s)
deferred=()
defer() { deferred+=("$*"); echo "FAILED CHECK: $*" >&2; }

rand=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
# The distinctive core is searched for too, in case quoting or JSON escaping
# changed the rest. The password holds every character SOCI's connection
# string or SQL could trip on: quotes, a backslash, spaces, '=' and ';'.
secret_core="Kq9s3cr3tZ$rand"
secret="$secret_core-\"x\" 'q' \\b=c %s{}\$;#"
bad_core="Wr0ngPw$rand"
bad_password="$bad_core-%n"

# sql_text TEXT: TEXT as the inside of a '...' literal of the mariadb client
# (backslash escapes on): each backslash and quote doubled.
sql_text() {
  local t=${1//\\/\\\\}
  printf '%s' "${t//\'/\'\'}"
}

# leak_check LABEL FILE...: no file holds the secret (or the wrong password).
checked_files=0
leak_check() {
  local label=$1 f
  shift
  for f in "$@"; do
    [[ -e $f ]] || continue
    checked_files=$((checked_files + 1))
    if grep -aqF -e "$secret_core" -e "$bad_core" "$f"; then
      defer "$label: $f shows the password: $(grep -aoF -e "$secret_core" -e "$bad_core" "$f" | head -n 1) in: $(grep -aF -e "$secret_core" -e "$bad_core" "$f" | head -n 2 | cut -c1-300)"
    fi
  done
}
n_cmd=0
# cmd TAG EXPECTED_RC CMD...: runs CMD, output in TAG.out / TAG.err, checks the
# exit status (deferred) and that neither output shows the password.
cmd() {
  local tag=$1 want=$2 rc=0
  shift 2
  n_cmd=$((n_cmd + 1))
  "$@" >"$tag.out" 2>"$tag.err" || rc=$?
  [[ $rc == "$want" ]] || defer "$tag: exit $rc, want $want: $* :: $(tail -n 3 "$tag.err" | cut -c1-300)"
  leak_check "$tag" "$tag.out" "$tag.err"
}

quiet_ok billing generate --out wl --accounts 400 --first-date 2026-11-20 --days 3 --events-per-day 4000 --seed 5
first_date=$(tail -n +2 wl/accounts.csv | cut -d, -f3 | sort | awk 'NR == 1')
last_date=2026-11-22
cat >payments.csv <<'CSV'
idempotency_key,status,provider_ref,failure_reason
no-such-key,succeeded,ref-1,
CSV

# --------------------------------------------------------------- database

if [[ $E2E_BACKEND == mysql ]]; then
  : "${BILLING_SOURCE_DIR:?BILLING_SOURCE_DIR must name the source tree (for scripts/mariadb.sh)}"
  t0=$(date +%s)
  "$BILLING_SOURCE_DIR/scripts/mariadb.sh" start "$pm_dir" >pm.start.out 2>&1 ||
    fail "cannot start a private MariaDB: $(cat pm.start.out)"
  echo "private MariaDB started in $(($(date +%s) - t0)) s"
  pm_url=$(
    # shellcheck disable=SC1091
    source "$pm_dir/env"
    echo "$BILLING_TEST_MYSQL_URL"
  )
  # The admin is root over the socket (mariadb.sh); the secret goes in on
  # stdin, not on a command line.
  mariadb --no-defaults --socket="$pm_dir/mysqld.sock" --user="$(id -un)" <<SQL
ALTER USER 'billing'@'127.0.0.1' IDENTIFIED BY '$(sql_text "$secret")';
ALTER USER 'billing'@'localhost' IDENTIFIED BY '$(sql_text "$secret")';
CREATE DATABASE books;
SQL
  db_url="${pm_url}books"
  pm_port=${pm_url##*:}
  pm_port=${pm_port%%/*}
  export BILLING_DB_PASSWORD=$secret
  # The client accepts the secret (so the commands below really use it).
  MYSQL_PWD=$secret mariadb --no-defaults --protocol=tcp --host=127.0.0.1 --port="$pm_port" --user=billing \
    --execute='SELECT 1' >/dev/null || fail "the private server does not accept the new password"
else
  db_url=$BILLING_DB_URL
  # SQLite ignores a password; it must not show it either.
  export BILLING_DB_PASSWORD=$secret
fi
export BILLING_DB_URL=$db_url

# ------------------------------------------- every command, debug, text + json

mkdir -p out
cat >secrets.conf <<EOF
[metrics]
path = $E2E_TMP/out/billing.prom
[log]
level = debug
EOF
export BILLING_CONFIG=$E2E_TMP/secrets.conf

for fmt in text json; do
  g=(--log-level debug --log-format "$fmt")
  cmd "$fmt-migrate" 0 "$BILLING_BIN" "${g[@]}" migrate
  for kind in plans accounts purchases; do
    cmd "$fmt-import-$kind" 0 "$BILLING_BIN" "${g[@]}" import "$kind" "wl/$kind.csv"
  done
  cmd "$fmt-ingest" 0 "$BILLING_BIN" "${g[@]}" ingest wl/usage-2026-11-20.csv wl/usage-2026-11-21.csv
  if [[ $fmt == text ]]; then
    cmd "$fmt-run" 0 "$BILLING_BIN" "${g[@]}" run --from "$first_date" --to 2026-11-20
  else
    cmd "$fmt-run" 0 "$BILLING_BIN" "${g[@]}" run --date 2026-11-21
  fi
  cmd "$fmt-payments" 0 "$BILLING_BIN" "${g[@]}" payments import payments.csv
  for kind in reconciliation charges payments totals rejects; do
    cmd "$fmt-export-$kind" 0 "$BILLING_BIN" "${g[@]}" export "$kind" --from "$first_date" --to "$last_date" \
      -o "out/$fmt-$kind.csv"
    cmd "$fmt-export-$kind-stdout" 0 "$BILLING_BIN" "${g[@]}" export "$kind" --from "$first_date" --to "$last_date"
  done
  cmd "$fmt-status" 0 "$BILLING_BIN" "${g[@]}" status
  cmd "$fmt-status-json" 0 "$BILLING_BIN" "${g[@]}" status --json
  cmd "$fmt-verify" 0 "$BILLING_BIN" "${g[@]}" verify
  cmd "$fmt-help" 0 "$BILLING_BIN" "${g[@]}" run --help
done
[[ -s out/billing.prom ]] || defer "no metrics file after the runs"
leak_check "exports and metrics" out/*

# ---------------------------------------------------------- failing commands

g=(--log-level debug --log-format json)
if [[ $E2E_BACKEND == mysql ]]; then
  # A wrong password (itself distinctive: an attempted password is a secret too).
  BILLING_DB_PASSWORD=$bad_password cmd bad-password 69 "$BILLING_BIN" "${g[@]}" status
  BILLING_DB_PASSWORD=$bad_password cmd bad-password-text 69 "$BILLING_BIN" --log-level debug run --date 2026-11-22
  # An unreachable server and an unknown database, with the secret set.
  cmd bad-port 69 "$BILLING_BIN" "${g[@]}" --db "mysql://billing@127.0.0.1:1/books" status
  cmd bad-db 69 "$BILLING_BIN" "${g[@]}" --db "${pm_url}nosuchdb" status
  cmd bad-user 69 "$BILLING_BIN" "${g[@]}" --db "${pm_url/billing@/nobody@}books" status
  # A password in the URL is refused (exit 2) without being repeated.
  cmd url-password 2 "$BILLING_BIN" "${g[@]}" --db "mysql://billing:$secret_core@127.0.0.1:$pm_port/books" status
  cmd url-password-text 2 "$BILLING_BIN" --db "mysql://billing:$secret_core@127.0.0.1:$pm_port/books" status
  cmd url-malformed 2 "$BILLING_BIN" "${g[@]}" --db "mysql:/billing:$secret_core@127.0.0.1/books" status
  # A password file that is missing.
  printf '[db]\npassword_file = %s\n' "$E2E_TMP/no-such-password-file" >missing-pw.conf
  BILLING_CONFIG=$E2E_TMP/missing-pw.conf cmd missing-pw-file 2 env -u BILLING_DB_PASSWORD "$BILLING_BIN" "${g[@]}" status
fi
cmd bad-date 2 "$BILLING_BIN" "${g[@]}" run --date 2026-13-45
cmd bad-config 2 "$BILLING_BIN" "${g[@]}" --config /nonexistent/billing.conf status

# A run in progress: `ps -ef` must not show the password; a second run is
# refused by the lock (75) without showing it either.
start_run() { # TAG: `billing run` of the last usage date in the background
  rm -f "$1.pid" "$1.rc"
  (
    rc=0
    sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$1.pid" \
      "$BILLING_BIN" "${g[@]}" run --date "$last_date" >"$1.out" 2>"$1.err" || rc=$?
    echo "$rc" >"$1.rc"
  ) &
  E2E_BG_PIDS+=($!)
}
# Make the last date heavy (50,000 more events), so the run lasts a while.
python3 - wl/accounts.csv heavy.csv <<'EOF'
import csv, sys
ids = [r["account_id"] for r in csv.DictReader(open(sys.argv[1])) if r["cycle_anchor"] <= "2026-11-22"]
with open(sys.argv[2], "w") as f:
    f.write("event_id,account_id,channel,occurred_at,status,chars,duration_s,platform_credits\n")
    for n in range(50000):
        f.write(f"heavy-{n},{ids[n % len(ids)]},sms,2026-11-22T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z,delivered,{n % 500},,1\n")
EOF
cmd late-ingest 0 "$BILLING_BIN" "${g[@]}" ingest wl/usage-2026-11-22.csv heavy.csv
start_run long
ps_seen=0
lock_seen=0
for ((i = 0; i < 400; i++)); do
  if [[ -s long.pid ]] && kill -0 "$(cat long.pid)" 2>/dev/null; then
    ps -ef >ps.txt
    ps -eo pid,args >>ps.txt
    if grep -q "$(cat long.pid)" ps.txt; then
      ps_seen=$((ps_seen + 1))
      leak_check "ps -ef during a run" ps.txt
      tr "\0" " " 2>/dev/null <"/proc/$(cat long.pid)/cmdline" >cmdline.txt || true
      leak_check "/proc/PID/cmdline during a run" cmdline.txt
      if ((lock_seen == 0)); then
        rc=0
        "$BILLING_BIN" "${g[@]}" run --date "$last_date" >locked.out 2>locked.err || rc=$?
        leak_check "a run refused by the lock" locked.out locked.err
        if [[ $rc == 75 ]]; then
          lock_seen=1
        elif [[ $rc != 0 ]]; then
          defer "a second run during a run exited $rc: $(cat locked.err)"
        fi
      fi
    fi
  fi
  [[ -s long.rc ]] && break
  sleep 0.01
done
for ((i = 0; i < 600; i++)); do
  [[ -s long.rc ]] && break
  sleep 0.1
done
assert_eq 0 "$(cat long.rc)" "the long run: $(tail -n 3 long.err)"
leak_check "the long run" long.out long.err
((ps_seen > 0)) || defer "the run ended before ps could see it (nothing checked)"
echo "ps -ef checked $ps_seen times during a run; a run refused by the lock seen: $lock_seen"

# ---------------------------------------------------- the password file variant

if [[ $E2E_BACKEND == mysql ]]; then
  printf '%s\n' "$secret" >pw.txt
  chmod 600 pw.txt
  printf '[db]\npassword_file = %s\n[metrics]\npath = %s\n' "$E2E_TMP/pw.txt" "$E2E_TMP/out/pwfile.prom" >pwfile.conf
  for what in status verify "export reconciliation --from $first_date --to $last_date -o out/pwfile-recon.csv" \
    "run --date $last_date"; do
    # shellcheck disable=SC2086 # $what is split on purpose
    BILLING_CONFIG=$E2E_TMP/pwfile.conf cmd "pwfile-${what%% *}" 0 \
      env -u BILLING_DB_PASSWORD "$BILLING_BIN" --log-level debug --log-format json $what
  done
  # A wrong password in the file.
  printf '%s\n' "$bad_password" >badpw.txt
  printf '[db]\npassword_file = %s\n' "$E2E_TMP/badpw.txt" >badpw.conf
  BILLING_CONFIG=$E2E_TMP/badpw.conf cmd pwfile-wrong 69 env -u BILLING_DB_PASSWORD "$BILLING_BIN" "${g[@]}" status
  leak_check "password file variant" out/*
fi

# The database itself: the runs log, the lock holder and everything else.
case $E2E_BACKEND in
  sqlite) sqlite3 "${db_url#sqlite:}" .dump >db-dump.sql ;;
  mysql)
    MYSQL_PWD=$secret mariadb-dump --no-defaults --protocol=tcp --host=127.0.0.1 --port="$pm_port" \
      --user=billing books >db-dump.sql
    ;;
esac
(($(wc -c <db-dump.sql) > 10000)) || fail "the database dump is empty"
leak_check "the database" db-dump.sql

# A password that ends in a backslash, SOCI's escape character: it works.
if [[ $E2E_BACKEND == mysql ]]; then
  bs_password="Bk${rand}'sl\\"
  mariadb --no-defaults --socket="$pm_dir/mysqld.sock" --user="$(id -un)" <<SQL
ALTER USER 'billing'@'127.0.0.1' IDENTIFIED BY '$(sql_text "$bs_password")';
SQL
  MYSQL_PWD=$bs_password mariadb --no-defaults --protocol=tcp --host=127.0.0.1 --port="$pm_port" --user=billing \
    --execute='SELECT 1' >/dev/null || fail "the private server does not accept the backslash password"
  rc=0
  BILLING_DB_PASSWORD=$bs_password "$BILLING_BIN" status >bs.out 2>bs.err || rc=$?
  if [[ $rc != 0 ]]; then
    defer "a MySQL password ending in a backslash: billing status exit $rc (the mariadb client logs in with it): $(cat bs.err)"
  fi
  if grep -aqF "Bk${rand}" bs.out bs.err; then
    defer "a MySQL password with a backslash is shown: $(cat bs.err)"
  fi
  mariadb --no-defaults --socket="$pm_dir/mysqld.sock" --user="$(id -un)" <<SQL
ALTER USER 'billing'@'127.0.0.1' IDENTIFIED BY '$(sql_text "$secret")';
SQL
fi

# ----------------------------------------------------------------- file modes

# -o exports and the metrics file are 0640 whatever the umask, also when they
# replace a world-readable file.
mode_of() { stat -c '%a' "$1"; }
modes_checked=0
check_mode() { # FILE LABEL
  modes_checked=$((modes_checked + 1))
  local m
  m=$(mode_of "$1")
  [[ $m == 640 ]] || defer "$2: $1 has mode $m, want 640"
}
for kind in reconciliation charges payments totals rejects; do
  check_mode "out/text-$kind.csv" "export $kind -o (umask $(umask))"
done
check_mode out/billing.prom "metrics file (umask $(umask))"
(
  umask 000
  : >out/replaced.csv
  chmod 666 out/replaced.csv
  "$BILLING_BIN" export reconciliation --from "$first_date" --to "$last_date" -o out/umask0.csv 2>/dev/null
  "$BILLING_BIN" export charges --from "$first_date" --to "$last_date" -o out/replaced.csv 2>/dev/null
  rm -f out/billing.prom
  printf '[metrics]\npath = %s\n' "$E2E_TMP/out/umask0.prom" >umask0.conf
  BILLING_CONFIG=$E2E_TMP/umask0.conf "$BILLING_BIN" --quiet run --date "$last_date" >/dev/null 2>&1
) || fail "the umask 000 exports failed"
check_mode out/umask0.csv "export -o under umask 000"
check_mode out/replaced.csv "export -o over a mode 666 file"
if [[ -e out/umask0.prom ]]; then
  check_mode out/umask0.prom "metrics file under umask 000"
else
  defer "no metrics file written by a run (umask 000)"
fi

echo "secret checked in $checked_files outputs of $n_cmd commands; $modes_checked file modes checked"
echo "secrets test took $(($(date +%s) - t_start)) s"
if ((${#deferred[@]} > 0)); then
  printf 'BUG: %s\n' "${deferred[@]}" >&2
  fail "${#deferred[@]} failed check(s) above"
fi
