#!/usr/bin/env bash
# Builds billing and runs every test, on SQLite and on a throwaway MariaDB.
# The CI entry point (.ci/run) runs this on a fresh Debian 12 machine.
#
#   BILLING_PRESET=dev scripts/test.sh     (default: release)
#
# Exit status: ctest's (0 when every test passed), or the failing phase's.
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
if ((rc == 0)); then
  heading "All tests passed"
else
  heading "Tests FAILED (ctest exit status $rc)"
fi
exit "$rc"
