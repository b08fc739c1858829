// The `billing` command line (SPEC section 9): global options anywhere on
// the line, one subcommand with its own options and --help, and the one place
// where infrastructure errors become a message and an exit code.
#pragma once

namespace billing {

// Runs the command and returns the process exit code (SPEC section 9).
int run_cli(int argc, const char* const* argv);

} // namespace billing
