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

// The balance columns the reconciliation and totals exports share, in their
// order: the CSV name and the reconciliation table's column.
struct BalanceColumn
{
  std::string_view csv;
  std::string_view column;
};
constexpr BalanceColumn k_balance_columns[] = {
  { "opening_balance", "opening" },
  { "granted", "granted" },
  { "purchased", "purchased" },
  { "rolled_over", "rolled_over" },
  { "used", "used" },
  { "expired", "expired" },
  { "revoked", "revoked" },
  { "closing_balance", "closing" },
  { "overdraft", "overdraft" },
  { "sending_enabled", "sending_enabled" },
};
constexpr size_t k_balance_count = std::size(k_balance_columns);

// The balance columns as the tail of a select list, each between `open` and
// `close`: ", opening, granted, ..." or ", SUM(r.opening), SUM(r.granted), ...".
std::string balance_select(std::string_view open, std::string_view close)
{
  std::string out;
  for (const BalanceColumn& c : k_balance_columns) {
    out += ", ";
    out += open;
    out += c.column;
    out += close;
  }
  return out;
}

void balance_header(CsvWriter& csv)
{
  for (const BalanceColumn& c : k_balance_columns) {
    csv.cell(c.csv);
  }
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
      csv.cell("business_date").cell("account_id");
      balance_header(csv);
      csv.end_row();
      return stream_rows(db,
                         "SELECT business_date, account_id" + balance_select("", "")
                           + " FROM reconciliation WHERE 1 = 1"
                           + date_range("business_date", request)
                           + " ORDER BY business_date, account_id",
                         csv,
                         [](const soci::row& r, CsvWriter& w) {
                           w.cell(as_str(r, 0));
                           for (size_t i = 1; i < 2 + k_balance_count; ++i) {
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
      csv.cell("business_date").cell("accounts");
      balance_header(csv);
      csv.cell("charged_events").cell("charged_credits").cell("platform_credits").end_row();
      return stream_rows(
        db,
        "SELECT r.business_date, COUNT(*)" + balance_select("SUM(r.", ")")
          + ", COALESCE(MAX(c.events), 0), "
            "COALESCE(MAX(c.credits), 0), COALESCE(MAX(c.platform_credits), 0) FROM reconciliation "
            "r "
            "LEFT JOIN (SELECT business_date, SUM(events) AS events, SUM(credits) AS credits, "
            "SUM(platform_credits) AS platform_credits FROM charges GROUP BY business_date) c ON "
            "c.business_date = r.business_date WHERE 1 = 1"
          + date_range("r.business_date", request)
          + " GROUP BY r.business_date ORDER BY "
            "r.business_date",
        csv,
        [](const soci::row& r, CsvWriter& w) {
          w.cell(as_str(r, 0));
          for (size_t i = 1; i < 5 + k_balance_count; ++i) {
            w.cell(as_ll(r, i));
          }
        });
  }
  return 0;
}

} // namespace billing
