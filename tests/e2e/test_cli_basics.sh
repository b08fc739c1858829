# shellcheck shell=bash
# The command line itself (SPEC section 9): help and usage errors.

out=$(expect_exit 0 billing --help)
assert_contains "$out" "migrate" "billing --help lists the subcommands"

expect_exit 2 billing no-such-subcommand >/dev/null
