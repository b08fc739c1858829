#!/usr/bin/env bash
# Builds the release preset and runs `billing demo`: a demo database with
# generated data, run through its dates, with the exports in DEMO_DIR.
#
#   DEMO_DIR=/tmp/demo scripts/demo.sh [extra arguments for `billing demo`]
#
# DEMO_DIR defaults to demo-out, relative to the repository root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
demo_dir=${DEMO_DIR:-demo-out}

printf '\n==== Installing packages (scripts/setup.sh) ====\n'
bash scripts/setup.sh

printf '\n==== Building (release preset) ====\n'
cmake --preset release
cmake --build --preset release --parallel 2

printf '\n==== Running billing demo into %s ====\n' "$demo_dir"
mkdir -p "$demo_dir"
# The demo makes its database from scratch each time.
rm -f "$demo_dir/billing.db" "$demo_dir/billing.db-wal" "$demo_dir/billing.db-shm"
build/release/lib/cli/billing --db "sqlite:$demo_dir/billing.db" demo --out "$demo_dir" "$@"
printf '\n==== billing status ====\n'
exec build/release/lib/cli/billing --db "sqlite:$demo_dir/billing.db" status
