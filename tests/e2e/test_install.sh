# shellcheck shell=bash
# e2e-backends: sqlite
# `cmake --install` lays out the program, sql/, the example config, the units,
# the manual page and the package documentation in their system places; the
# installed program works on a fresh database. CPack builds a .deb holding
# the same that lintian passes: config a conffile, program stripped,
# copyright, changelog, manual page. dpkg installs it into a scratch root, and
# an upgrade keeps an edited config. SQLite only: the layout does not depend
# on the backend. Needs the default target built (the manual page is part of
# `all`).

[[ -f $BILLING_BUILD_DIR/billing.1.gz ]] ||
  fail "no manual page in $BILLING_BUILD_DIR: build the default target (or billing_package_docs) first"
root=$E2E_TMP/root
DESTDIR=$root cmake --install "$BILLING_BUILD_DIR" >/dev/null
for f in usr/bin/billing etc/billing/billing.conf usr/share/billing/sql/sqlite/001_init.sql \
  usr/share/billing/sql/mysql/001_init.sql usr/lib/systemd/system/billing-nightly.service \
  usr/lib/systemd/system/billing-nightly.timer usr/share/man/man1/billing.1.gz \
  usr/share/doc/billing/copyright usr/share/doc/billing/changelog.Debian.gz; do
  [[ -e $root/$f ]] || fail "not installed: /$f"
done

installed=$root/usr/bin/billing
out=$(expect_exit 0 "$installed" --db "sqlite:$E2E_TMP/installed.db" migrate)
assert_contains "$out" "migrated" "the installed program migrates a fresh database"
out=$(expect_exit 0 "$installed" --db "sqlite:$E2E_TMP/installed.db" status)
assert_contains "$out" "schema version:       8" "the installed program reads it"
# The example config is valid as installed (every key commented out).
expect_exit 0 "$installed" --config "$root/etc/billing/billing.conf" \
  --db "sqlite:$E2E_TMP/installed.db" status >/dev/null

# pack [CPACK_ARGS...]: packs the build tree into a .deb in a new folder
# (`-D VAR=VALUE` for another version) and prints its path.
pack() {
  local out
  out=$(mktemp -d "$E2E_TMP/pkg.XXXXXX")
  (cd "$BILLING_BUILD_DIR" && cpack -G DEB -B "$out" "$@" >"$out.log" 2>&1) ||
    fail "cpack $* failed: $(tail -n 20 "$out.log")"
  ls "$out"/*.deb
}
deb=$(pack)
contents=$(dpkg-deb -c "$deb")$'\n'
for f in usr/bin/billing etc/billing/billing.conf usr/lib/systemd/system/billing-nightly.timer \
  usr/share/billing/sql/sqlite/001_init.sql usr/share/man/man1/billing.1.gz \
  usr/share/doc/billing/copyright usr/share/doc/billing/changelog.Debian.gz \
  usr/share/lintian/overrides/billing; do
  assert_contains "$contents" " ./$f"$'\n' ".deb holds /$f"
done
assert_eq "/etc/billing/billing.conf" "$(dpkg-deb -I "$deb" conffiles)" "the config is the conffile"
version=$(dpkg-deb -f "$deb" Version)
for field in Section:admin Priority:optional; do
  assert_eq "${field#*:}" "$(dpkg-deb -f "$deb" "${field%%:*}")" "control field ${field%%:*}"
done
maintainer=$(dpkg-deb -f "$deb" Maintainer)
[[ $maintainer != *@localhost* ]] || fail "maintainer at localhost: $maintainer"

# lintian: no error; warnings are printed (the ones that do not apply are
# overridden in the package, with their reason).
rc=0
lint=$(lintian "$deb" 2>&1) || rc=$?
lint=$(grep -v '^running with root privileges' <<<"$lint" || true)
if grep -q '^E:' <<<"$lint" || ((rc != 0)); then
  fail "lintian found errors (exit status $rc):"$'\n'"$lint"
fi
[[ -z $lint ]] || echo "lintian (no errors):"$'\n'"$lint" >&2

# Install into a scratch root (no chroot; the package has no maintainer
# scripts; its dependencies are those of the build machine).
droot=$E2E_TMP/dpkg-root
dpkg_root() {
  dpkg --root="$droot" --log=/dev/null --force-not-root --force-script-chrootless \
    --force-depends --force-confold "$@" </dev/null
}
quiet_ok dpkg_root -i "$deb"
conffiles=$(dpkg-query --admindir="$droot/var/lib/dpkg" -W -f='${Conffiles}' billing)
assert_contains "$conffiles" "/etc/billing/billing.conf " "dpkg records the config as a conffile"
installed=$droot/usr/bin/billing
sections=$(readelf -S --wide "$installed")
[[ $sections != *.debug_info* && $sections != *.symtab* ]] || fail "packaged program is not stripped: $sections"
out=$(expect_exit 0 "$installed" --version)
assert_eq "billing ${version%-*}" "$out" "the packaged program's version"
out=$(expect_exit 0 "$installed" --config "$droot/etc/billing/billing.conf" \
  --db "sqlite:$E2E_TMP/from-deb.db" migrate)
assert_contains "$out" "migrated" "the packaged program migrates a fresh database"
doc=$droot/usr/share/doc/billing
assert_contains "$(head -n 1 "$doc/copyright")" "copyright-format/1.0" "copyright is DEP-5"
assert_contains "$(cat "$doc/copyright")" "License: MIT" "copyright names the license"
assert_contains "$(gzip -dc "$doc/changelog.Debian.gz" | head -n 1)" "billing ($version) " \
  "the changelog's latest entry is the package version"
man_page=$(gzip -dc "$droot/usr/share/man/man1/billing.1.gz")
assert_contains "$man_page" $'.SH NAME\nbilling \\- ' "manual page has a name line"
assert_contains "$man_page" "migrate" "manual page lists the commands"

# Upgrade to a higher version: the operator's edit of the conffile stays (a
# file that is not a conffile would be overwritten without a word).
conf=$droot/etc/billing/billing.conf
echo "# edited by the operator" >>"$conf"
edited=$(cat "$conf")
deb2=$(pack -D CPACK_DEBIAN_PACKAGE_RELEASE=99)
version2=$(dpkg-deb -f "$deb2" Version)
dpkg --compare-versions "$version2" gt "$version" || fail "$version2 is not above $version"
quiet_ok dpkg_root -i "$deb2"
assert_eq "$version2" "$(dpkg-query --admindir="$droot/var/lib/dpkg" -W -f='${Version}' billing)" \
  "upgraded"
assert_eq "$edited" "$(cat "$conf")" "the upgrade keeps the edited config"

# Upgrade to a package whose config changed too: with --force-confold dpkg
# keeps the operator's file and puts the new one next to it.
unpacked=$E2E_TMP/unpacked
dpkg-deb -R "$deb2" "$unpacked"
echo "# new in the package" >>"$unpacked/etc/billing/billing.conf"
sed -i "s/^Version: .*/Version: ${version%-*}-100/" "$unpacked/DEBIAN/control"
(cd "$unpacked" && find etc usr -type f -exec md5sum {} + >DEBIAN/md5sums)
quiet_ok dpkg-deb --root-owner-group -b "$unpacked" "$E2E_TMP/changed-conf.deb"
quiet_ok dpkg_root -i "$E2E_TMP/changed-conf.deb"
assert_eq "$edited" "$(cat "$conf")" "an upgrade with a new config keeps the edited one"
assert_contains "$(cat "$conf.dpkg-dist")" "# new in the package" "the new config is left as .dpkg-dist"

# Removal keeps the conffile, purge deletes it.
quiet_ok dpkg_root -r billing
[[ ! -e $installed && -f $conf ]] || fail "remove: program still there or config gone"
quiet_ok dpkg_root -P billing
[[ ! -e $conf ]] || fail "purge left the config"
