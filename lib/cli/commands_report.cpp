#include "cli/context.hpp"
#include "util/errors.hpp"

namespace billing {

int cmd_report(const CommandContext&, const CommandArgs&)
{
  throw UsageError("report: not built yet");
}

} // namespace billing
