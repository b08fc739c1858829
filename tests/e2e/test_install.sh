# shellcheck shell=bash
# e2e-backends: sqlite
# `cmake --install` lays out the program, sql/, the example config and the
# units in their system places; the installed program works on a fresh
# database; CPack builds a .deb holding the same. SQLite only: the layout
# does not depend on the backend.

root=$E2E_TMP/root
DESTDIR=$root cmake --install "$BILLING_BUILD_DIR" >/dev/null
for f in usr/bin/billing etc/billing/billing.conf usr/share/billing/sql/sqlite/001_init.sql \
  usr/share/billing/sql/mysql/001_init.sql usr/lib/systemd/system/billing-nightly.service \
  usr/lib/systemd/system/billing-nightly.timer; do
  [[ -e $root/$f ]] || fail "not installed: /$f"
done

installed=$root/usr/bin/billing
out=$(expect_exit 0 "$installed" --db "sqlite:$E2E_TMP/installed.db" migrate)
assert_contains "$out" "migrated" "the installed program migrates a fresh database"
out=$(expect_exit 0 "$installed" --db "sqlite:$E2E_TMP/installed.db" status)
assert_contains "$out" "schema version:       2" "the installed program reads it"
# The example config is valid as installed (every key commented out).
expect_exit 0 "$installed" --config "$root/etc/billing/billing.conf" \
  --db "sqlite:$E2E_TMP/installed.db" status >/dev/null

(cd "$BILLING_BUILD_DIR" && cpack -G DEB -B "$E2E_TMP/pkg" >/dev/null) || fail "cpack failed"
deb=$(ls "$E2E_TMP"/pkg/*.deb)
contents=$(dpkg-deb -c "$deb")
assert_contains "$contents" "./usr/bin/billing" ".deb holds the program"
assert_contains "$contents" "./etc/billing/billing.conf" ".deb holds the config"
assert_contains "$contents" "./usr/lib/systemd/system/billing-nightly.timer" ".deb holds the timer"
