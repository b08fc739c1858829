// The runs table: one row per writing command (run, ingest, import,
// payments), opened when it starts and closed with its outcome, so `status`
// can show the last runs. A row still 'running' whose process died is marked
// 'interrupted' by the next holder of the lock.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"

#include <string>

namespace billing {

// REQUIRES: the caller holds the run lock (so any 'running' row is dead).
long long open_run(Database& db,
                   const std::string& command,
                   const std::string& holder,
                   Instant now);
void close_run(Database& db,
               long long run_id,
               const std::string& outcome,
               int exit_code,
               const std::string& detail,
               Instant now);

} // namespace billing
