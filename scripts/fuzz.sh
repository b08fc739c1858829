#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (preset `fuzz`: clang-14, ASan +
# UBSan) and runs each for a bounded time, both at once (one per core), on a
# copy of its committed seed corpus, which is left as it is.
#
#   FUZZ_SECONDS=60 scripts/fuzz.sh      (default: 20 seconds per target)
#
# Prints the executions per target. Exit status: 0 when no target found
# anything; 1 on a crash, sanitizer report, leak, timeout or out-of-memory, in
# which case the target's report is printed and the input that did it is kept
# under build/fuzz/artifacts/<target>/ (and printed in base64). Reproduce with
#   build/fuzz/tests/fuzz/<target> build/fuzz/artifacts/<target>/crash-...
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${FUZZ_SECONDS:-20}
if [[ ! $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: FUZZ_SECONDS must be a positive whole number of seconds, not '$seconds'" >&2
  exit 2
fi
targets=(fuzz_usage_log fuzz_import_csv)

command -v clang++-14 >/dev/null || {
  echo "fuzz: clang++-14 is missing (scripts/setup.sh installs clang-14 and libclang-rt-14-dev)" >&2
  exit 1
}

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --parallel 2

work=$(mktemp -d "${TMPDIR:-/tmp}/billing-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs one target; its whole libFuzzer output goes to $work/<target>.log.
run_target() {
  local target=$1
  local artifacts=build/fuzz/artifacts/$target
  cp -r "tests/fuzz/corpus/$target" "$work/corpus-$target"
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  # halt_on_error makes the first UBSan report a failing crash, with a stack.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "build/fuzz/tests/fuzz/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -dict="tests/fuzz/$target.dict" -artifact_prefix="$artifacts/" \
    "$work/corpus-$target" >"$work/$target.log" 2>&1
}

echo "fuzz: running ${targets[*]} for ${seconds}s each"
declare -A pids
for target in "${targets[@]}"; do
  run_target "$target" &
  pids[$target]=$!
done

failed=0
for target in "${targets[@]}"; do
  rc=0
  wait "${pids[$target]}" || rc=$?
  log=$work/$target.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  corpus=$(find "$work/corpus-$target" -type f | wc -l)
  if ((rc == 0)); then
    printf 'fuzz: %-16s ok      %s executions, corpus %s inputs\n' "$target" "${execs:-?}" "$corpus"
    continue
  fi
  failed=1
  printf 'fuzz: %-16s FAILED  exit status %s after %s executions\n' "$target" "$rc" "${execs:-?}"
  # The report: from the first sanitizer/libFuzzer error line on.
  sed -n '/^==[0-9]*==\|runtime error:\|^ERROR: libFuzzer\|deadly signal/,$p' "$log" | head -n 80 >&2
  for input in "build/fuzz/artifacts/$target"/*; do
    [[ -f $input ]] || continue
    echo "fuzz: $target input $input (base64):" >&2
    base64 -w 76 "$input" >&2
  done
done
exit "$failed"
