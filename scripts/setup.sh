#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, test, run the demo and
# check the operations files of billing. Idempotent: when everything is
# installed already it returns at once, without root and without the network.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  libboost-program-options-dev
  libsoci-dev libmariadb-dev libsqlite3-dev libspdlog-dev libfmt-dev
  libhowardhinnant-date-dev tzdata nlohmann-json3-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  mariadb-server mariadb-client sqlite3 python3 time bc faketime
  # `billing report`'s page rendered headless (tests/e2e/test_report.sh), with a font
  chromium fonts-dejavu-core
  # the Debian package: manual page, lintian
  help2man lintian dpkg-dev
  # checks of the operations files: systemd-analyze, promtool; formatting
  systemd prometheus clang-format
  # fuzzing (scripts/fuzz.sh): clang and its libFuzzer/sanitizer runtimes
  clang-14 libclang-rt-14-dev
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi
echo "setup: installing ${missing[*]}"

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "setup: run as root, or install sudo" >&2
    exit 1
  }
  sudo=(sudo)
fi

log=$(mktemp "${TMPDIR:-/tmp}/billing-setup.XXXXXX")

# Package scripts must not start the system's MariaDB or Prometheus: the tests
# run their own throwaway server, and without systemd (containers) the init
# script fallback can fail the install. If no policy is in place, deny service
# starts until this script ends, as Debian's policy-rc.d interface allows.
policy=/usr/sbin/policy-rc.d
policy_marker="# billing scripts/setup.sh: temporary"
cleanup() {
  if [[ -f $policy ]] && grep -qF "$policy_marker" "$policy"; then
    "${sudo[@]}" rm -f "$policy"
  fi
  rm -f "$log"
}
trap cleanup EXIT
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n%s\nexit 101\n' "$policy_marker" | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
fi

# Runs a command with its output in the log, shown only if it fails.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: failed: $*" >&2
    return 1
  fi
}

apt_env=(env DEBIAN_FRONTEND=noninteractive)
# A fresh machine may still run unattended-upgrades: wait for the dpkg lock
# instead of failing at once.
apt_opts=(-q -y -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

for attempt in 1 2 3; do
  quietly "${sudo[@]}" "${apt_env[@]}" apt-get "${apt_opts[@]}" update && break
  ((attempt < 3)) || exit 1
  echo "setup: apt-get update failed, retrying" >&2
  sleep $((attempt * 10))
done
quietly "${sudo[@]}" "${apt_env[@]}" apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"

echo "setup: done"
