// Usage-log ingest into the database (SPEC section 5): every line of a file
// ends as accepted, duplicate or rejected, in one transaction per file, so a
// crash mid-file leaves nothing half-ingested. A file whose content hash was
// ingested before is skipped whole. Rejected lines keep file, line, raw text
// and reason, and can be retried once their cause is fixed.
#pragma once

#include "domain/rating.hpp"
#include "domain/types.hpp"
#include "storage/database.hpp"

#include <functional>
#include <optional>
#include <string>

namespace billing {

struct IngestReport
{
  std::string path;
  bool skipped = false;       // same content ingested before
  std::string skipped_reason; // when skipped
  bool changed_since = false; // the path was ingested before with other content
  long long lines = 0;        // data records read (header and blank lines excluded)
  long long blank_lines = 0;
  long long accepted = 0;
  long long duplicates = 0;
  long long rejected = 0;
};

// The rate card stored in the database.
RateCard load_rate_card(Database& db);

// Stores one rule in the text forms load_rate_card() reads (statuses joined
// by ','). Its channel and effective_from must be new (the table's key).
void store_rate_rule(Database& db, const RateRule& rule);

// Ingests one usage log. Throws InputError (exit 65) when the file cannot be
// read or is not a usage log (no or bad header); nothing is written then.
// `progress` (may be empty) is told the bytes read so far and the file size.
IngestReport ingest_usage_file(Database& db,
                               const std::string& path,
                               Instant now,
                               const std::function<void(long long, long long)>& progress = {});

struct RetryReport
{
  long long retried = 0;
  long long accepted = 0;
  long long duplicates = 0;
  long long still_rejected = 0;
};

// Tries every pending rejected line again (its cause may be fixed, e.g. the
// account was imported since). An accepted line is charged by the next run.
RetryReport retry_rejects(Database& db, Instant now);

} // namespace billing
