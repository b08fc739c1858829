#!/usr/bin/env bash
# Runs one end-to-end test script against a fresh database; CTest calls it as
#
#   bash run_e2e.sh sqlite|mysql TEST_SCRIPT
#
# with BILLING_BIN (the program), BILLING_SQL_DIR and BILLING_SOURCE_DIR set.
# sqlite: a new database file in a temporary folder. mysql: a new database
# billing_t_<random> on the server named by BILLING_TEST_MYSQL_URL (see
# scripts/mariadb.sh), dropped afterwards; without that variable the test is
# skipped (exit 77), unless BILLING_REQUIRE_MYSQL=1 or CI is set, where that
# is an error.
#
# The test script is sourced under `set -euo pipefail` from inside E2E_TMP (a
# temporary folder, removed afterwards) with tests/e2e/lib.sh loaded, and
# passes if it runs to its end. It sees BILLING_DB_URL (and, for mysql,
# BILLING_DB_PASSWORD and E2E_DB_NAME), E2E_TMP, E2E_BACKEND, and the fixed
# clock E2E_NOW / E2E_TODAY (BILLING_FAKE_NOW).
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 sqlite|mysql TEST_SCRIPT" >&2
  exit 2
fi
E2E_BACKEND=$1
test_script=$(realpath "$2")
e2e_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

: "${BILLING_BIN:?BILLING_BIN must name the billing program}"
BILLING_BIN=$(realpath "$BILLING_BIN")
[[ -x $BILLING_BIN ]] || {
  echo "run_e2e: BILLING_BIN is not executable: $BILLING_BIN" >&2
  exit 1
}
[[ -f $test_script ]] || {
  echo "run_e2e: no such test script: $test_script" >&2
  exit 1
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$e2e_dir/lib.sh"

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/billing-e2e.XXXXXX")
E2E_DB_NAME=
# What a test started or made besides its database: background processes
# (killed) and further databases (dropped, see new_db in lib.sh); a test with
# more to undo defines e2e_test_cleanup.
E2E_BG_PIDS=()
E2E_EXTRA_DBS=()
# shellcheck disable=SC2317 # called by the trap
e2e_cleanup() {
  local rc=$? pid db
  trap - ERR
  set +e
  for pid in "${E2E_BG_PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
  done
  for db in "${E2E_EXTRA_DBS[@]}"; do
    _e2e_mariadb --execute="DROP DATABASE IF EXISTS \`$db\`" ||
      echo "run_e2e: warning: could not drop database $db" >&2
  done
  if declare -F e2e_test_cleanup >/dev/null; then
    e2e_test_cleanup
  fi
  if [[ -n $E2E_DB_NAME ]]; then
    _e2e_mariadb --execute="DROP DATABASE IF EXISTS \`$E2E_DB_NAME\`" ||
      echo "run_e2e: warning: could not drop database $E2E_DB_NAME" >&2
  fi
  cd /
  rm -rf "$E2E_TMP"
  exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Settings from the environment or a machine's /etc/billing/billing.conf must
# not leak into a test: an empty config file, the test's database only.
unset BILLING_DB_PASSWORD
: >"$E2E_TMP/billing.conf"
export BILLING_CONFIG=$E2E_TMP/billing.conf

case $E2E_BACKEND in
  sqlite)
    export BILLING_DB_URL="sqlite:$E2E_TMP/billing.db"
    ;;
  mysql)
    if [[ -z ${BILLING_TEST_MYSQL_URL:-} ]]; then
      if [[ ${BILLING_REQUIRE_MYSQL:-} == 1 || ( -n ${CI:-} && ${CI:-} != false ) ]]; then
        {
          echo "************************************************************"
          echo "run_e2e: ERROR: BILLING_TEST_MYSQL_URL is not set, but MariaDB"
          echo "tests are required (BILLING_REQUIRE_MYSQL=1 or CI is set)."
          echo "Start a server with scripts/mariadb.sh start DIR and source"
          echo "DIR/env, or run everything with scripts/test.sh."
          echo "************************************************************"
        } >&2
        exit 1
      fi
      echo "skipped: no MariaDB (BILLING_TEST_MYSQL_URL is not set)"
      exit 77
    fi
    [[ $BILLING_TEST_MYSQL_URL == mysql://*/ ]] || {
      echo "run_e2e: BILLING_TEST_MYSQL_URL must look like mysql://USER@HOST:PORT/, got $BILLING_TEST_MYSQL_URL" >&2
      exit 1
    }
    name=billing_t_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    if ! _e2e_mariadb --execute="CREATE DATABASE \`$name\`"; then
      echo "run_e2e: ERROR: cannot create a database on $BILLING_TEST_MYSQL_URL" >&2
      exit 1
    fi
    E2E_DB_NAME=$name
    export BILLING_DB_URL=$BILLING_TEST_MYSQL_URL$E2E_DB_NAME
    export BILLING_DB_PASSWORD=${BILLING_TEST_MYSQL_PASSWORD:-}
    ;;
  *)
    echo "run_e2e: unknown backend '$E2E_BACKEND' (sqlite or mysql)" >&2
    exit 2
    ;;
esac

# The program's clock stands still at E2E_NOW (BILLING_FAKE_NOW, see
# lib/ops/clock.hpp), so no test depends on the day or time it runs: "today"
# is E2E_TODAY for every `billing` command. A test that needs the real clock
# unsets it for that command.
E2E_NOW=2026-11-25T12:00:00Z
E2E_TODAY=2026-11-25
export BILLING_FAKE_NOW=$E2E_NOW
export BILLING_BIN E2E_TMP E2E_BACKEND E2E_DB_NAME E2E_NOW E2E_TODAY
echo "e2e: $(basename "$test_script") on $E2E_BACKEND ($BILLING_DB_URL)"

# Name the failing command when `set -e` ends a test.
set -E
trap 'echo "e2e: command failed with status $? at ${BASH_SOURCE[0]}:${LINENO}: ${BASH_COMMAND}" >&2' ERR

cd "$E2E_TMP"
# shellcheck disable=SC1090
source "$test_script"
echo "e2e: passed"
exit 0
