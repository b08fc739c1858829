// Placeholder until the changes and adjustments imports land (issue 15).
#include "storage/lifecycle_import.hpp"

#include <stdexcept>

namespace billing {

ImportReport import_changes(Database&, const std::string&, Instant)
{
  throw std::logic_error("import changes: not built yet");
}

ImportReport import_adjustments(Database&, const std::string&, Instant)
{
  throw std::logic_error("import adjustments: not built yet");
}

} // namespace billing
