#!/usr/bin/env bash
# Builds billing and runs every test, on SQLite and on a throwaway MariaDB.
# The CI entry point (.ci/run) runs this on a fresh Debian 12 machine.
#
#   BILLING_PRESET=dev scripts/test.sh     (default: release)
#
# After ctest: the SQLite end-to-end tests again under libfaketime at a date
# years ahead, started two minutes before midnight UTC; a bounded fuzz run (scripts/fuzz.sh, FUZZ_SECONDS per target,
# default 15) and the unit and database tests built with ASan + UBSan (preset
# dev).
#
# Exit status: 0 when every phase passed; ctest's when it failed, else 1 when
# a later phase failed; or the status of a set-up, configure or build step.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
preset=${BILLING_PRESET:-release}
jobs=2

heading() {
  printf '\n==== %s ====\n' "$*"
}

heading "Installing packages (scripts/setup.sh)"
bash scripts/setup.sh

heading "Starting a throwaway MariaDB"
mariadb_dir=$(mktemp -d "${TMPDIR:-/tmp}/billing-mariadb.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  heading "Stopping MariaDB"
  bash scripts/mariadb.sh stop "$mariadb_dir" || true
  rm -rf "$mariadb_dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bash scripts/mariadb.sh start "$mariadb_dir"
# shellcheck source=/dev/null
source "$mariadb_dir/env"
# The MariaDB tests must fail, not skip, if the server is unreachable.
export BILLING_REQUIRE_MYSQL=1

heading "Configuring (cmake --preset $preset)"
cmake --preset "$preset"

heading "Building (cmake --build --preset $preset)"
cmake --build --preset "$preset" --parallel "$jobs"

heading "Testing (ctest --preset $preset)"
rc=0
ctest --preset "$preset" --output-on-failure --parallel "$jobs" || rc=$?
# The phases below run even when ctest failed, so one run reports everything;
# each one that fails is named at the end and makes the exit status non-zero.
failed=()
((rc == 0)) || failed+=("ctest --preset $preset (exit status $rc)")

# The SQLite end-to-end tests once more with the machine's clock years ahead
# and two minutes before midnight UTC (libfaketime, package faketime), so the
# run crosses 00:00: a test that depends on the day or time it runs fails
# here on the day it is written. The program's own clock is fixed by the tests
# (BILLING_FAKE_NOW); what this catches is a test that reads the clock itself.
faketime_at=${BILLING_FAKETIME_AT:-2031-01-15 23:58:00}
heading "SQLite end-to-end tests at $faketime_at UTC (libfaketime)"
start=$SECONDS
TZ=UTC faketime "$faketime_at" \
  ctest --preset "$preset" --output-on-failure --parallel "$jobs" -R '^e2e[.]' -E '^e2e[.]mysql[.]' \
  || failed+=("SQLite end-to-end tests under faketime $faketime_at")
echo "the faketime pass took $((SECONDS - start))s"

# Bounded fuzzing of the parsers (tests/fuzz, libFuzzer + ASan + UBSan): a
# smoke run in the suite; run scripts/fuzz.sh with a larger FUZZ_SECONDS to hunt.
fuzz_seconds=${FUZZ_SECONDS:-15}
heading "Fuzzing (scripts/fuzz.sh, ${fuzz_seconds}s per target)"
start=$SECONDS
FUZZ_SECONDS=$fuzz_seconds bash scripts/fuzz.sh || failed+=("scripts/fuzz.sh")
echo "fuzzing took $((SECONDS - start))s"

# The unit and database tests again, built with ASan + UBSan (preset dev), on
# both backends. Skipped when the preset above already was dev.
if [[ $preset != dev ]]; then
  heading "Sanitizer build (cmake --preset dev: ASan + UBSan, Debug)"
  start=$SECONDS
  if cmake --preset dev \
    && cmake --build --preset dev --parallel "$jobs" --target billing_unit_tests billing_db_tests; then
    echo "sanitizer build took $((SECONDS - start))s"
    heading "Unit and database tests under ASan + UBSan"
    start=$SECONDS
    for tests in billing_unit_tests billing_db_tests; do
      ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        BILLING_SQL_DIR="$PWD/sql" "build/dev/tests/$tests" --gtest_brief=1 \
        || failed+=("$tests under ASan + UBSan")
    done
    echo "sanitizer tests took $((SECONDS - start))s"
  else
    failed+=("sanitizer build (preset dev)")
  fi
fi

if ((${#failed[@]} == 0)); then
  heading "All tests passed"
  exit 0
fi
heading "FAILED: ${failed[*]}"
((rc != 0)) || rc=1
exit "$rc"
