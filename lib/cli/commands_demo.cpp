// demo: placeholder until the demo generator lands in this session.
#include "cli/command_support.hpp"
#include "util/errors.hpp"

namespace billing {

int cmd_demo(const CommandContext&, const CommandArgs&)
{
  throw BillingError(ExitCode::internal, "demo: not built yet");
}

} // namespace billing
