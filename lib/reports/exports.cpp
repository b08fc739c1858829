#include "reports/exports.hpp"

#include "domain/calendar.hpp"
#include "reports/csv_writer.hpp"
#include "storage/export_store.hpp"

namespace billing {

namespace {

// The CSV names of the balance columns the reconciliation and totals exports
// share, in BalanceFigures' order.
constexpr std::string_view k_balance_names[] = {
  "opening_balance", "granted", "purchased", "rolled_over",     "used",
  "expired",         "revoked", "adjusted",  "closing_balance", "overdraft",
  "sending_enabled",
};

void balance_header(CsvWriter& csv)
{
  for (std::string_view name : k_balance_names) {
    csv.cell(name);
  }
}

void balance_cells(CsvWriter& csv, const BalanceFigures& b)
{
  csv.cell(b.opening).cell(b.granted).cell(b.purchased).cell(b.rolled_over).cell(b.used);
  csv.cell(b.expired).cell(b.revoked).cell(b.adjusted).cell(b.closing).cell(b.overdraft);
  csv.cell(b.sending_enabled);
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
  if (text == "adjustments") {
    return ExportKind::adjustments;
  }
  if (text == "lots") {
    return ExportKind::lots;
  }
  if (text == "revenue") {
    return ExportKind::revenue;
  }
  if (text == "totals") {
    return ExportKind::totals;
  }
  return std::nullopt;
}

long long write_export(Database& db, const ExportRequest& request, std::ostream& out)
{
  CsvWriter csv(out);
  const DateRange dates{ request.from, request.to };
  switch (request.kind) {
    case ExportKind::reconciliation:
      csv.cell("business_date").cell("account_id");
      balance_header(csv);
      csv.end_row();
      return read_reconciliation(db, dates, [&](const ReconciliationRow& r) {
        csv.cell(r.business_date).cell(r.account_id);
        balance_cells(csv, r.balance);
        csv.end_row();
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
      return read_charges(db, dates, [&](const ChargesRow& r) {
        const ChargeRow& c = r.charge;
        csv.cell(r.business_date).cell(c.account_id).cell(c.channel).cell(c.occurred_date);
        csv.cell(c.events).cell(c.units).cell(c.credits).cell(c.platform_credits);
        csv.cell(c.credits - c.platform_credits).end_row();
      });
    case ExportKind::rejects:
      header(csv, { "file", "line", "event_id", "reason", "raw" });
      return read_rejects(db,
                          dates,
                          request.include_resolved ? RejectScope::all : RejectScope::pending,
                          [&](const RejectRow& r) {
                            csv.cell(r.file).cell(r.line).cell(r.event_id).cell(r.reason);
                            csv.cell(r.raw).end_row();
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
      return read_payments(db, dates, request.status, [&](const PaymentRow& r) {
        csv.cell(r.idempotency_key).cell(r.account_id).cell(r.business_date).cell(r.credits);
        csv.cell(r.amount_cents).cell(r.currency).cell(r.status).end_row();
      });
    case ExportKind::adjustments:
      header(csv,
             { "adjustment_id",
               "account_id",
               "business_date",
               "kind",
               "credits",
               "amount_cents",
               "reason" });
      return read_adjustments(db, dates, [&](const AdjustmentExportRow& r) {
        csv.cell(r.adjustment_id).cell(r.account_id).cell(r.business_date).cell(r.kind);
        csv.cell(r.credits).cell(r.amount_cents).cell(r.reason).end_row();
      });
    case ExportKind::lots:
      header(csv,
             { "business_date",
               "account_id",
               "lot",
               "kind",
               "valid_from",
               "expires_at",
               "opening",
               "created",
               "used",
               "expired",
               "revoked",
               "rolled_out",
               "closing",
               "value_cents",
               "released_cents" });
      return read_lot_movements(db, dates, [&](const LotExportRow& r) {
        csv.cell(r.business_date).cell(r.account_id).cell(r.lot).cell(r.kind);
        csv.cell(format_instant(r.valid_from)).cell(format_instant(r.expires_at));
        csv.cell(r.opening).cell(r.created).cell(r.used).cell(r.expired).cell(r.revoked);
        csv.cell(r.rolled_out).cell(r.closing).cell(r.value_cents).cell(r.released_cents);
        csv.end_row();
      });
    case ExportKind::revenue:
      header(csv,
             { "business_date",
               "currency",
               "opening_deferred_cents",
               "sold_cents",
               "usage_cents",
               "breakage_cents",
               "revoked_cents",
               "closing_deferred_cents" });
      return read_revenue(db, dates, [&](const RevenueRow& r) {
        csv.cell(r.business_date).cell(r.currency).cell(r.opening_deferred_cents);
        csv.cell(r.sold_cents).cell(r.usage_cents).cell(r.breakage_cents).cell(r.revoked_cents);
        csv.cell(r.closing_deferred_cents).end_row();
      });
    case ExportKind::totals:
      csv.cell("business_date").cell("accounts");
      balance_header(csv);
      csv.cell("charged_events").cell("charged_credits").cell("platform_credits").end_row();
      return read_totals(db, dates, [&](const TotalsRow& r) {
        csv.cell(r.business_date).cell(r.accounts);
        balance_cells(csv, r.sums);
        csv.cell(r.charged_events).cell(r.charged_credits).cell(r.platform_credits).end_row();
      });
  }
  return 0;
}

} // namespace billing
