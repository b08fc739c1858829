# shellcheck shell=bash
# Helpers for the end-to-end test scripts; sourced by run_e2e.sh, which sets
# BILLING_BIN, BILLING_DB_URL, E2E_TMP, E2E_BACKEND (sqlite|mysql) and, for
# mysql, E2E_DB_NAME. Test scripts run under `set -euo pipefail`: any failing
# command fails the test, so the helpers below are for what that cannot say.
#
# Every helper that fails a test prints why on stderr and exits 1. Called in a
# command substitution it exits only the subshell, which still fails the test
# as long as the result is assigned on its own line: `out=$(expect_exit 0 ...)`,
# not `local out=$(...)` (the `local` would hide the status).

# Runs the program under test.
billing() {
  "$BILLING_BIN" "$@"
}

# fail MSG: fails the test, naming the test script line that called the helper.
fail() {
  local i=1
  # Walk out of lib.sh so the location is the test script's line.
  while [[ ${BASH_SOURCE[i]:-} == "${BASH_SOURCE[0]}" ]]; do ((i++)); done
  echo "FAIL (${BASH_SOURCE[i]:-?}:${BASH_LINENO[i - 1]:-?}): $*" >&2
  exit 1
}

# skip MSG: ends the test as skipped (CTest's SKIP_RETURN_CODE).
skip() {
  echo "skipped: $*" >&2
  exit 77
}

# expect_exit CODE CMD...: runs CMD and fails the test, showing its output, if
# its exit status is not CODE. Otherwise passes CMD's stdout and stderr
# through, so `out=$(expect_exit 0 billing status)` captures stdout. Both are
# also left in "$E2E_TMP/last.out" and "$E2E_TMP/last.err".
expect_exit() {
  (($# >= 2)) || fail "usage: expect_exit CODE CMD..."
  local expected=$1 rc=0
  shift
  "$@" >"$E2E_TMP/last.out" 2>"$E2E_TMP/last.err" || rc=$?
  if [[ $rc != "$expected" ]]; then
    {
      echo "command: $*"
      echo "exit status $rc, expected $expected"
      echo "----- stdout (last 40 lines) -----"
      tail -n 40 "$E2E_TMP/last.out"
      echo "----- stderr (last 40 lines) -----"
      tail -n 40 "$E2E_TMP/last.err"
      echo "-----"
    } >&2
    fail "exit status $rc, expected $expected: $*"
  fi
  cat "$E2E_TMP/last.out"
  cat "$E2E_TMP/last.err" >&2
}

# quiet_ok CMD...: runs CMD with its output kept in $E2E_TMP/quiet.out and
# quiet.err; fails the test, showing the end of stderr, unless it exits 0.
# (`expect_exit 0 ... >/dev/null 2>&1` would hide the failure message too.)
quiet_ok() {
  local rc=0
  "$@" >"$E2E_TMP/quiet.out" 2>"$E2E_TMP/quiet.err" || rc=$?
  [[ $rc == 0 ]] || fail "exit status $rc, expected 0: $*: $(tail -n 5 "$E2E_TMP/quiet.err")"
}

# assert_eq EXPECTED ACTUAL MSG
assert_eq() {
  [[ $1 == "$2" ]] || fail "${3:-values differ}: expected '$1', got '$2'"
}

# assert_contains HAYSTACK NEEDLE MSG
assert_contains() {
  [[ $1 == *"$2"* ]] || fail "${3:-text not found}: '$2' not in: $1"
}

# Runs the mariadb client against the test server, without a defaults file,
# over the socket when there is one, with the password from the environment
# (MYSQL_PWD) rather than the command line.
_e2e_mariadb() {
  local rest=${BILLING_TEST_MYSQL_URL#mysql://} user host port
  rest=${rest%%/*}
  user=${rest%%@*}
  host=${rest#*@}
  port=${host##*:}
  host=${host%:*}
  [[ $port != "$host" && -n $port ]] || port=3306
  local -a conn
  if [[ -n ${BILLING_TEST_MYSQL_SOCKET:-} ]]; then
    conn=(--socket="$BILLING_TEST_MYSQL_SOCKET")
  else
    conn=(--protocol=tcp --host="$host" --port="$port")
  fi
  MYSQL_PWD=${BILLING_TEST_MYSQL_PASSWORD:-} \
    mariadb --no-defaults "${conn[@]}" --user="${user:-billing}" "$@"
}

# new_db NAME: another, empty database of this backend, removed when the test
# ends; sets NEW_DB_URL (not echoed: a subshell could not register it).
# shellcheck disable=SC2034 # NEW_DB_URL is read by the test scripts
new_db() {
  case $E2E_BACKEND in
    sqlite) NEW_DB_URL="sqlite:$E2E_TMP/$1.db" ;;
    mysql)
      local name="${E2E_DB_NAME}_$1"
      _e2e_mariadb --execute="CREATE DATABASE \`$name\`"
      E2E_EXTRA_DBS+=("$name")
      NEW_DB_URL="$BILLING_TEST_MYSQL_URL$name"
      ;;
  esac
}

# sql QUERY: runs QUERY on the test's database and prints the rows without a
# header, fields separated by tabs, NULL as NULL, on both backends.
sql() {
  (($# == 1)) || fail "usage: sql QUERY"
  case $E2E_BACKEND in
    sqlite)
      sqlite3 -batch -bail -noheader -separator $'\t' -nullvalue NULL \
        "${BILLING_DB_URL#sqlite:}" "$1"
      ;;
    mysql)
      _e2e_mariadb --batch --skip-column-names --raw --database="$E2E_DB_NAME" \
        --execute="$1"
      ;;
    *) fail "unknown backend $E2E_BACKEND" ;;
  esac
}

# csv_rows FILE: the number of data rows (records after the header, blank lines
# ignored) of a CSV file, parsed as RFC 4180 (quoted fields may hold newlines).
csv_rows() {
  (($# == 1)) || fail "usage: csv_rows FILE"
  [[ -f $1 ]] || fail "csv_rows: no such file: $1"
  python3 - "$1" <<'EOF'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = [row for row in csv.reader(f) if row]
print(max(len(rows) - 1, 0))
EOF
}

# verify_ok URL LABEL: `billing verify` passes on URL, or the test fails.
verify_ok() {
  local rc=0
  "$BILLING_BIN" --db "$1" verify >verify.out 2>verify.err || rc=$?
  if [[ $rc != 0 ]] || grep -q BREACH verify.out; then
    fail "$2: billing verify exited $rc: $(cat verify.out verify.err)"
  fi
}

# export_set URL PREFIX FROM TO: every export of URL to PREFIX.KIND.csv, one
# file per kind of E2E_EXPORT_KINDS (the dated ones over FROM..TO, every reject).
# shellcheck disable=SC2034 # read by the test scripts
E2E_EXPORT_KINDS=(reconciliation charges payments adjustments totals rejects)
export_set() {
  local kind
  for kind in reconciliation charges payments adjustments totals; do
    quiet_ok billing --db "$1" export "$kind" --from "$3" --to "$4" -o "$2.$kind.csv"
  done
  quiet_ok billing --db "$1" export rejects --all -o "$2.rejects.csv"
}

# recon_values FILE DATE ACCOUNT KEY...: the KEY columns of the
# reconciliation export row of that date and account, comma-joined (or "N
# rows" when the file has not exactly one such row).
recon_values() {
  python3 - "$@" <<'EOF'
import csv, sys
path, date, account = sys.argv[1:4]
with open(path, newline="", encoding="utf-8") as f:
    rows = [r for r in csv.DictReader(f) if r["business_date"] == date and r["account_id"] == account]
if len(rows) != 1:
    print(f"{len(rows)} rows")
else:
    print(",".join(rows[0][k] for k in sys.argv[4:]))
EOF
}

# recon_row FILE DATE ACCOUNT: the row's numbers from opening_balance to
# sending_enabled, without adjusted (recon_values).
recon_row() {
  recon_values "$1" "$2" "$3" opening_balance granted purchased rolled_over used expired revoked \
    closing_balance overdraft sending_enabled
}
