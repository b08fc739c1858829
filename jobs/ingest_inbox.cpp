#include "jobs/ingest_inbox.hpp"

#include "util/errors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

namespace billing {

void log_ingest_report(const IngestReport& r)
{
  if (r.skipped) {
    spdlog::info("{}: skipped, {}", r.path, r.skipped_reason);
    return;
  }
  if (r.changed_since) {
    spdlog::warn("{}: this path was ingested before with other content; the new content is "
                 "ingested (events seen before count as duplicates or conflicts)",
                 r.path);
  }
  spdlog::info("{}: {} lines: {} accepted, {} duplicates, {} rejected",
               r.path,
               r.lines,
               r.accepted,
               r.duplicates,
               r.rejected);
}

InboxSummary ingest_inbox(Database& db, const std::string& dir, Instant now)
{
  InboxSummary summary;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw InputError("usage.inbox " + dir + " is not a readable directory");
  }
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".csv") {
      paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    try {
      summary.files.push_back(ingest_usage_file(db, path, now));
      log_ingest_report(summary.files.back());
    } catch (const InputError& e) {
      // A bad file never stops the night: it is reported and left in place.
      spdlog::error("{}", e.what());
      summary.failed.push_back(e.what());
    }
  }
  summary.retried = retry_rejects(db, now);
  if (summary.retried.retried > 0) {
    spdlog::info("retried {} rejected lines: {} accepted, {} duplicates, {} still rejected",
                 summary.retried.retried,
                 summary.retried.accepted,
                 summary.retried.duplicates,
                 summary.retried.still_rejected);
  }
  return summary;
}

} // namespace billing
