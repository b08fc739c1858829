// The infrastructure tier of errors (STYLE: two tiers). Expected, per-row
// failures are values with a reason code where they happen; these exceptions
// are for what stops a command, and each carries the documented exit code
// (SPEC section 9). They are caught once, in the command line, and turned into
// one clear message and that code.
#pragma once

#include <stdexcept>
#include <string>

namespace billing {

enum class ExitCode : int
{
  ok = 0,
  internal = 1,
  usage = 2,
  bad_input = 65,
  db_unavailable = 69,
  lock_held = 75,
};

class BillingError : public std::runtime_error
{
public:
  BillingError(ExitCode code, const std::string& message)
    : std::runtime_error(message)
    , m_code(code)
  {
  }
  ExitCode code() const { return m_code; }

private:
  ExitCode m_code;
};

// Bad flags, bad config keys or values: exit 2.
struct UsageError : BillingError
{
  explicit UsageError(const std::string& m)
    : BillingError(ExitCode::usage, m)
  {
  }
};

// An input file that is not what it claims to be: exit 65.
struct InputError : BillingError
{
  explicit InputError(const std::string& m)
    : BillingError(ExitCode::bad_input, m)
  {
  }
};

// The database cannot be reached or used: exit 69.
struct DatabaseUnavailable : BillingError
{
  explicit DatabaseUnavailable(const std::string& m)
    : BillingError(ExitCode::db_unavailable, m)
  {
  }
};

// Another process holds the run lock: exit 75.
struct LockHeld : BillingError
{
  explicit LockHeld(const std::string& m)
    : BillingError(ExitCode::lock_held, m)
  {
  }
};

} // namespace billing
