# shellcheck shell=bash
# e2e-backends: sqlite
# The systemd units in systemd/ (SPEC section 12) pass `systemd-analyze verify`.
# They do not touch the database, so this runs once, on the sqlite backend.

if ! command -v systemd-analyze >/dev/null; then
  [[ -z ${CI:-} ]] || fail "systemd-analyze is missing (package systemd; run scripts/setup.sh)"
  skip "systemd-analyze is missing (package systemd)"
fi

units_dir=$BILLING_SOURCE_DIR/systemd
mkdir "$E2E_TMP/units"
for unit in billing-nightly.service billing-nightly.timer billing-shard@.service; do
  [[ -f $units_dir/$unit ]] || fail "missing $units_dir/$unit"
  # The installed program is /usr/bin/billing; verify needs a program that
  # exists, so point ExecStart at the one under test.
  sed "s|^ExecStart=/usr/bin/billing |ExecStart=$BILLING_BIN |" \
    "$units_dir/$unit" >"$E2E_TMP/units/$unit"
done
grep -q "^ExecStart=$BILLING_BIN " "$E2E_TMP/units/billing-nightly.service" ||
  fail "billing-nightly.service: ExecStart does not run /usr/bin/billing"

# verify prints warnings without failing on them; treat any output as failure.
# It also checks that man pages named in Documentation= exist: not here.
report=$(systemd-analyze verify --man=no \
  "$E2E_TMP/units/billing-nightly.service" "$E2E_TMP/units/billing-nightly.timer" 2>&1) ||
  fail "systemd-analyze verify failed: $report"
assert_eq "" "$report" "systemd-analyze verify reports problems"
# The shard worker template, as instance 2.
report=$(systemd-analyze verify --man=no "$E2E_TMP/units/billing-shard@2.service" 2>&1) ||
  fail "systemd-analyze verify failed on the shard template: $report"
assert_eq "" "$report" "systemd-analyze verify reports problems in the shard template"

# What the units must say, beyond being valid.
service=$(<"$units_dir/billing-nightly.service")
timer=$(<"$units_dir/billing-nightly.timer")
assert_contains "$service" "Type=oneshot" "the service is a oneshot"
assert_contains "$service" "SuccessExitStatus=75" "a held lock (exit 75) is not a failure"
assert_contains "$service" "NoNewPrivileges=yes" "the service is hardened"
assert_contains "$service" "ProtectSystem=strict" "the service sees a read-only system"
assert_contains "$service" "StateDirectory=billing" "the service has its own state directory"
assert_contains "$timer" "Persistent=true" "a missed run is caught up"
assert_contains "$timer" "OnCalendar=*-*-* 00:30:00 UTC" "the timer runs daily on a UTC calendar"

# The calendar expression itself is valid and daily.
next=$(systemd-analyze calendar --iterations=2 "*-*-* 00:30:00 UTC")
assert_contains "$next" "00:30:00 UTC" "systemd-analyze calendar"
