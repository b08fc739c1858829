#include "cli/context.hpp"
#include "util/errors.hpp"

namespace billing {

int cmd_explain(const CommandContext&, const CommandArgs&)
{
  throw UsageError("explain: not built yet");
}

} // namespace billing
