// The first step of `billing run`: ingest every usage log in the configured
// inbox (files ending in .csv, in name order; files already ingested are
// skipped by content hash), then retry the pending rejected lines, whose
// cause (an account imported since) may be fixed.
#pragma once

#include "storage/usage_store.hpp"

#include <string>
#include <vector>

namespace billing {

struct InboxSummary
{
  std::vector<IngestReport> files;
  std::vector<std::string> failed; // "path: message" for files not ingested at all
  RetryReport retried;
};

InboxSummary ingest_inbox(Database& db, const std::string& dir, Instant now);

// Logs one file's outcome (shared by `billing ingest` and the run).
void log_ingest_report(const IngestReport& r);

} // namespace billing
