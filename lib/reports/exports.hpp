// The finance exports of SPEC section 10, as CSV: reconciliation, charges,
// rejects, payments, adjustments (SPEC 15), lots and revenue (SPEC 17), plus `totals`: per business
// date, the control totals of the reconciliation and charges rows (they tie out with the sums of
// those exports). Rows come in a fixed order (date, account, ...), so an export of a closed range
// is byte-identical every time it is made.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"

#include <optional>
#include <ostream>
#include <string>

namespace billing {

enum class ExportKind
{
  reconciliation,
  charges,
  rejects,
  payments,
  adjustments, // SPEC 15
  lots,        // SPEC 17
  revenue,     // SPEC 17
  totals
};

std::optional<ExportKind> parse_export_kind(std::string_view text);

struct ExportRequest
{
  ExportKind kind = ExportKind::reconciliation;
  std::optional<Date> from; // business dates (rejects: ingest dates)
  std::optional<Date> to;
  std::optional<std::string> status; // payments: pending|succeeded|failed
  bool include_resolved = false;     // rejects: also those retried since
};

// Writes the header and rows to `out`; returns the number of data rows.
long long write_export(Database& db, const ExportRequest& request, std::ostream& out);

} // namespace billing
