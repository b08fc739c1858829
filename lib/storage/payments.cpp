#include "storage/payments.hpp"

#include "ingest/csv_reader.hpp"
#include "util/errors.hpp"
#include "util/files.hpp"
#include "util/text.hpp"

#include <array>
#include <fstream>

namespace billing {

ImportReport import_payment_results(Database& db, const std::string& path, Instant now)
{
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError("cannot read " + path);
  }
  CsvReader reader(in);
  CsvRecord record;
  if (!reader.next(record)) {
    throw InputError(path + ": empty file, expected a payment results header");
  }
  static constexpr std::array<std::string_view, 2> k_required = { "idempotency_key", "status" };
  static constexpr std::array<std::string_view, 2> k_optional = { "provider_ref",
                                                                  "failure_reason" };
  const auto header_or = CsvHeader::from_record(record, k_required, k_optional);
  if (const auto* message = std::get_if<std::string>(&header_or)) {
    throw InputError(path + ": not a payment results file: " + *message);
  }
  const auto& header = std::get<CsvHeader>(header_or);
  const auto cell = [&](std::string_view name) -> std::string {
    const auto i = header.index_of(name);
    return i ? record.fields[*i] : std::string();
  };

  ImportReport report;
  Transaction tx(db);
  while (reader.next(record)) {
    ++report.rows;
    if (record.error || record.fields.size() != header.column_count()) {
      report.rejected.push_back({ record.line, "bad_column_count" });
      continue;
    }
    if (!is_valid_utf8(record.raw)) {
      report.rejected.push_back({ record.line, "invalid_utf8" });
      continue;
    }
    const std::string key = cell("idempotency_key");
    const std::string status = cell("status");
    const std::string ref = cell("provider_ref");
    const std::string reason = cell("failure_reason");
    if (ref.size() > 200 || reason.size() > 500 || key.size() > 128) {
      report.rejected.push_back({ record.line, "out_of_range: a field is too long" });
      continue;
    }
    if (status != "succeeded" && status != "failed") {
      report.rejected.push_back({ record.line, "bad_status: '" + status + "'" });
      continue;
    }
    soci::rowset<soci::row> rows =
      db.sql().prepare << "SELECT status, provider_ref, account_id FROM payment_requests "
                          "WHERE idempotency_key = "
                            + db.quote(key);
    std::optional<std::string> stored_status;
    std::string stored_ref;
    long long account_id = 0;
    for (const auto& r : rows) {
      stored_status = as_str(r, 0);
      stored_ref = as_str(r, 1);
      account_id = as_ll(r, 2);
    }
    if (!stored_status) {
      report.rejected.push_back({ record.line, "unknown_key: " + key });
      continue;
    }
    if (*stored_status != "pending") {
      if (*stored_status == status && stored_ref == ref) {
        ++report.unchanged;
      } else {
        report.rejected.push_back({ record.line,
                                    "contradicts the stored result: " + key + " is "
                                      + *stored_status + " (" + stored_ref + ")" });
      }
      continue;
    }
    db.exec("UPDATE payment_requests SET status = " + db.quote(status) + ", provider_ref = "
            + db.quote(ref) + ", failure_reason = " + (reason.empty() ? "NULL" : db.quote(reason))
            + ", result_us = " + std::to_string(now.us)
            + " WHERE idempotency_key = " + db.quote(key));
    if (status == "failed") {
      db.exec("UPDATE accounts SET auto_recharge = 0, auto_recharge_off_reason = "
              + db.quote(valid_utf8(
                ("payment " + key + " failed: " + (reason.empty() ? "no reason given" : reason))
                  .substr(0, 400)))
              + " WHERE account_id = " + std::to_string(account_id));
    }
    ++report.updated;
  }
  tx.commit();
  return report;
}

} // namespace billing
