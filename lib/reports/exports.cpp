#include "reports/exports.hpp"

#include "domain/calendar.hpp"
#include "reports/csv_writer.hpp"
#include "util/sha256.hpp"

#include <functional>

namespace billing {

namespace {

std::string date_range(const std::string& column, const ExportRequest& r)
{
  std::string out;
  if (r.from) {
    out += " AND " + column + " >= " + sql_quote(format_date(*r.from));
  }
  if (r.to) {
    out += " AND " + column + " <= " + sql_quote(format_date(*r.to));
  }
  return out;
}

// Streams a query's rows: numeric columns as numbers, the rest as text.
long long stream_rows(Database& db,
                      const std::string& query,
                      CsvWriter& csv,
                      const std::function<void(const soci::row&, CsvWriter&)>& write_row)
{
  long long n = 0;
  soci::rowset<soci::row> rows = db.sql().prepare << query;
  for (const auto& r : rows) {
    write_row(r, csv);
    csv.end_row();
    ++n;
  }
  return n;
}

void header(CsvWriter& csv, std::initializer_list<std::string_view> names)
{
  for (auto name : names) {
    csv.cell(name);
  }
  csv.end_row();
}

} // namespace

std::optional<ExportKind> parse_export_kind(std::string_view text)
{
  if (text == "reconciliation") {
    return ExportKind::reconciliation;
  }
  if (text == "charges") {
    return ExportKind::charges;
  }
  if (text == "rejects") {
    return ExportKind::rejects;
  }
  if (text == "payments") {
    return ExportKind::payments;
  }
  if (text == "totals") {
    return ExportKind::totals;
  }
  return std::nullopt;
}

long long write_export(Database& db, const ExportRequest& request, std::ostream& out)
{
  CsvWriter csv(out);
  switch (request.kind) {
    case ExportKind::reconciliation:
      header(csv,
             { "business_date",
               "account_id",
               "opening_balance",
               "granted",
               "purchased",
               "rolled_over",
               "used",
               "expired",
               "revoked",
               "closing_balance",
               "overdraft",
               "sending_enabled" });
      return stream_rows(db,
                         "SELECT business_date, account_id, opening, granted, purchased, "
                         "rolled_over, used, expired, revoked, closing, overdraft, sending_enabled "
                         "FROM reconciliation WHERE 1 = 1"
                           + date_range("business_date", request)
                           + " ORDER BY business_date, account_id",
                         csv,
                         [](const soci::row& r, CsvWriter& w) {
                           w.cell(as_str(r, 0));
                           for (size_t i = 1; i < 12; ++i) {
                             w.cell(as_ll(r, i));
                           }
                         });
    case ExportKind::charges:
      header(csv,
             { "business_date",
               "account_id",
               "channel",
               "occurred_date",
               "events",
               "units",
               "credits",
               "platform_credits",
               "variance" });
      return stream_rows(db,
                         "SELECT business_date, account_id, channel, occurred_date, events, units, "
                         "credits, platform_credits FROM charges WHERE 1 = 1"
                           + date_range("business_date", request)
                           + " ORDER BY business_date, account_id, channel, occurred_date",
                         csv,
                         [](const soci::row& r, CsvWriter& w) {
                           w.cell(as_str(r, 0)).cell(as_ll(r, 1)).cell(as_str(r, 2));
                           w.cell(as_str(r, 3)).cell(as_ll(r, 4)).cell(as_ll(r, 5));
                           w.cell(as_ll(r, 6)).cell(as_ll(r, 7)).cell(as_ll(r, 6) - as_ll(r, 7));
                         });
    case ExportKind::rejects:
      header(csv, { "file", "line", "event_id", "reason", "raw" });
      return stream_rows(db,
                         "SELECT file, line, event_id, reason, raw_hex FROM rejects WHERE 1 = 1"
                           + std::string(request.include_resolved ? "" : " AND status = 'pending'")
                           + date_range("ingest_date", request) + " ORDER BY reject_id",
                         csv,
                         [](const soci::row& r, CsvWriter& w) {
                           w.cell(as_str(r, 0)).cell(as_ll(r, 1)).cell(as_str(r, 2));
                           w.cell(as_str(r, 3)).cell(from_hex(as_str(r, 4)));
                         });
    case ExportKind::payments:
      header(csv,
             { "idempotency_key",
               "account_id",
               "business_date",
               "credits",
               "amount_cents",
               "currency",
               "status" });
      return stream_rows(
        db,
        "SELECT idempotency_key, account_id, business_date, credits, amount_cents, currency, "
        "status FROM payment_requests WHERE 1 = 1"
          + (request.status ? " AND status = " + sql_quote(*request.status) : std::string())
          + date_range("business_date", request)
          + " ORDER BY business_date, account_id, "
            "idempotency_key",
        csv,
        [](const soci::row& r, CsvWriter& w) {
          w.cell(as_str(r, 0)).cell(as_ll(r, 1)).cell(as_str(r, 2)).cell(as_ll(r, 3));
          w.cell(as_ll(r, 4)).cell(as_str(r, 5)).cell(as_str(r, 6));
        });
    case ExportKind::totals:
      header(csv,
             { "business_date",
               "accounts",
               "opening_balance",
               "granted",
               "purchased",
               "rolled_over",
               "used",
               "expired",
               "revoked",
               "closing_balance",
               "overdraft",
               "sending_enabled",
               "charged_events",
               "charged_credits",
               "platform_credits" });
      return stream_rows(
        db,
        "SELECT r.business_date, COUNT(*), SUM(r.opening), SUM(r.granted), SUM(r.purchased), "
        "SUM(r.rolled_over), SUM(r.used), SUM(r.expired), SUM(r.revoked), SUM(r.closing), "
        "SUM(r.overdraft), SUM(r.sending_enabled), COALESCE(MAX(c.events), 0), "
        "COALESCE(MAX(c.credits), 0), COALESCE(MAX(c.platform_credits), 0) FROM reconciliation r "
        "LEFT JOIN (SELECT business_date, SUM(events) AS events, SUM(credits) AS credits, "
        "SUM(platform_credits) AS platform_credits FROM charges GROUP BY business_date) c ON "
        "c.business_date = r.business_date WHERE 1 = 1"
          + date_range("r.business_date", request)
          + " GROUP BY r.business_date ORDER BY "
            "r.business_date",
        csv,
        [](const soci::row& r, CsvWriter& w) {
          w.cell(as_str(r, 0));
          for (size_t i = 1; i < 15; ++i) {
            w.cell(as_ll(r, i));
          }
        });
  }
  return 0;
}

} // namespace billing
