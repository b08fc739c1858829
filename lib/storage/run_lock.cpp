#include "storage/run_lock.hpp"

namespace billing {

RunLock::RunLock(Database& db,
                 const std::string& holder,
                 const std::string& name,
                 std::chrono::seconds dead_holder_wait)
  : m_held(db.dialect().acquire_lock(db, holder, name, dead_holder_wait))
{
}

RunLock::~RunLock() = default;

std::optional<std::string> lock_holder(Database& db, const std::string& name)
{
  return db.dialect().lock_holder(db, name);
}

} // namespace billing
