# shellcheck shell=bash
# e2e-backends: sqlite
# The systemd units in systemd/ (SPEC section 12) pass `systemd-analyze verify`,
# retry a failed night a bounded number of times, and so does the alerting
# example of docs/operations.md (an OnFailure= drop-in and an alert unit).
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

# A failed night is retried, a bounded number of times, with a delay; 75 (a
# live holder does the work), 2 and 65 (would fail again) are not retried.
shard=$(<"$units_dir/billing-shard@.service")
unit_value() { # UNIT_TEXT SECTION KEY: the key's value in that section ("" if absent)
  awk -v section="[$2]" -v key="$3" '
    /^\[/ { in_section = ($0 == section) }
    in_section && index($0, key "=") == 1 { value = substr($0, length(key) + 2) }
    END { print value }' <<<"$1"
}
seconds_of() { # a systemd time span (here: Nh, Nmin, Ns or N) in seconds
  systemd-analyze timespan "$1" | awk '/μs:/ { printf "%d", $2 / 1000000 }'
}
for name in billing-nightly.service billing-shard@.service; do
  text=$service
  [[ $name == billing-nightly.service ]] || text=$shard
  assert_eq "on-failure" "$(unit_value "$text" Service Restart)" "$name: Restart="
  assert_eq "75" "$(unit_value "$text" Service SuccessExitStatus)" "$name: SuccessExitStatus="
  assert_eq "2 65" "$(unit_value "$text" Service RestartPreventExitStatus)" "$name: RestartPreventExitStatus="
  restart_s=$(seconds_of "$(unit_value "$text" Service RestartSec)")
  timeout_s=$(seconds_of "$(unit_value "$text" Service TimeoutStartSec)")
  interval_s=$(seconds_of "$(unit_value "$text" Unit StartLimitIntervalSec)")
  burst=$(unit_value "$text" Unit StartLimitBurst)
  if ! [[ $burst =~ ^[0-9]+$ ]] || ((burst < 2 || burst > 6)); then
    fail "$name: StartLimitBurst=$burst (want 2..6 in [Unit])"
  fi
  ((restart_s >= 60)) || fail "$name: RestartSec is ${restart_s} s (want a delay of at least a minute)"
  # Bounded even for runs that time out: all the starts fit in one interval;
  # and a night that failed for good never blocks the next night's timer.
  ((burst * (timeout_s + restart_s) <= interval_s)) ||
    fail "$name: $burst starts of up to $((timeout_s + restart_s)) s do not fit in StartLimitIntervalSec ($interval_s s)"
  ((interval_s < 86400)) || fail "$name: StartLimitIntervalSec ($interval_s s) is a day or more"
done

# The alerting example of docs/operations.md: its drop-in on the nightly unit
# and its alert unit, as an instance for that unit, verify cleanly.
python3 - "$BILLING_SOURCE_DIR/docs/operations.md" "$E2E_TMP/alert" <<'EOF'
import os, re, sys
text = open(sys.argv[1]).read()
section = text[text.index("\n## Alerting\n"):]
section = section[:section.find("\n## ", 1) if "\n## " in section[1:] else len(section)]
blocks = re.findall(r"```ini\n(.*?)```", section, re.S)
assert len(blocks) == 2, f"want 2 ini blocks in Alerting, got {len(blocks)}"
os.makedirs(sys.argv[2])
open(os.path.join(sys.argv[2], "dropin.conf"), "w").write(blocks[0])
open(os.path.join(sys.argv[2], "billing-alert@.service"), "w").write(blocks[1])
EOF
assert_contains "$(cat "$E2E_TMP/alert/dropin.conf")" "OnFailure=billing-alert@%n.service" "the drop-in points OnFailure= at the alert unit"
cp "$E2E_TMP/alert/billing-alert@.service" "$E2E_TMP/units/"
awk 'NR == FNR { dropin = dropin $0 "\n"; next }
  { print } /^StartLimitBurst=/ { printf "%s", dropin }' \
  <(grep -v '^\[Unit\]' "$E2E_TMP/alert/dropin.conf") "$E2E_TMP/units/billing-nightly.service" \
  >"$E2E_TMP/alert/billing-nightly.service"
grep -q '^OnFailure=billing-alert@%n.service' "$E2E_TMP/alert/billing-nightly.service" ||
  fail "the drop-in did not go into the nightly unit's [Unit]"
cp "$E2E_TMP/units/billing-alert@.service" "$E2E_TMP/alert/"
report=$(systemd-analyze verify --man=no "$E2E_TMP/alert/billing-nightly.service" \
  "$E2E_TMP/alert/billing-alert@billing-nightly.service.service" 2>&1) ||
  fail "systemd-analyze verify failed on the alerting example: $report"
assert_eq "" "$report" "systemd-analyze verify reports problems in the alerting example"

# The calendar expression itself is valid and daily.
next=$(systemd-analyze calendar --iterations=2 "*-*-* 00:30:00 UTC")
assert_contains "$next" "00:30:00 UTC" "systemd-analyze calendar"
