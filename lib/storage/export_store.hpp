// The reads behind the finance exports (reports/exports.hpp): each streams the
// rows of one export, in the export's fixed order, as values; the CSV is the
// reports layer's. Every value of a filter is bound.
#pragma once

#include "domain/types.hpp"
#include "storage/database.hpp"
#include "storage/day_store.hpp"

#include <functional>
#include <optional>
#include <string>

namespace billing {

// Business dates (rejects: ingest dates) from..to, both optional and inclusive.
struct DateRange
{
  std::optional<Date> from;
  std::optional<Date> to;
};

// The balance columns the reconciliation and totals exports share.
struct BalanceFigures
{
  long long opening = 0;
  long long granted = 0;
  long long purchased = 0;
  long long rolled_over = 0;
  long long used = 0;
  long long expired = 0;
  long long revoked = 0;
  long long adjusted = 0;
  long long closing = 0;
  long long overdraft = 0;
  long long sending_enabled = 0;
};

struct ReconciliationRow
{
  std::string business_date;
  long long account_id = 0;
  BalanceFigures balance;
};

// A charges row as the run wrote it (day_store.hpp), with its business date.
struct ChargesRow
{
  std::string business_date;
  ChargeRow charge;
};

struct RejectRow
{
  std::string file;
  long long line = 0;
  std::string event_id;
  std::string reason;
  std::string raw; // the line as read (bytes)
};

struct PaymentRow
{
  std::string idempotency_key;
  long long account_id = 0;
  std::string business_date;
  long long credits = 0;
  long long amount_cents = 0;
  std::string currency;
  std::string status;
};

// An applied adjustment (SPEC 15): credits is what took effect (a refund: the
// credits revoked).
struct AdjustmentExportRow
{
  std::string adjustment_id;
  long long account_id = 0;
  std::string business_date;
  std::string kind;
  long long credits = 0;
  long long amount_cents = 0;
  std::string reason;
};

// SPEC 17's lots export: a lot's movements on a date, with the lot.
struct LotExportRow
{
  std::string business_date;
  long long account_id = 0;
  std::string lot; // lot_name()
  std::string kind;
  Instant valid_from;
  Instant expires_at; // as made (a plan lot closed early keeps it)
  long long opening = 0;
  long long created = 0;
  long long used = 0;
  long long expired = 0;
  long long revoked = 0;
  long long rolled_out = 0;
  long long closing = 0;
  long long value_cents = 0;
  long long released_cents = 0;
};

// SPEC 17's revenue export: one closed date and currency.
struct RevenueRow
{
  std::string business_date;
  std::string currency;
  long long opening_deferred_cents = 0;
  long long sold_cents = 0;
  long long usage_cents = 0;
  long long breakage_cents = 0;
  long long revoked_cents = 0;
  long long closing_deferred_cents = 0;
};

// Per business date: the sums of its reconciliation rows and charges rows.
struct TotalsRow
{
  std::string business_date;
  long long accounts = 0;
  BalanceFigures sums;
  long long charged_events = 0;
  long long charged_credits = 0;
  long long platform_credits = 0;
};

template<class Row>
using RowSink = std::function<void(const Row&)>;

enum class RejectScope
{
  pending, // not retried successfully yet
  all      // those retried since too
};

// Rows of one read: a client that holds a whole result in memory (MySQL)
// holds this many at most, whatever the range of an export.
inline constexpr long long k_export_page_rows = 20'000;

// Each calls `sink` once per row, in the export's order, and returns the
// count. The large ones read date by date along the key, in pages of
// `page_rows` (tests make them small).
long long read_reconciliation(Database& db,
                              const DateRange& dates,
                              const RowSink<ReconciliationRow>& sink,
                              long long page_rows = k_export_page_rows);
long long read_charges(Database& db,
                       const DateRange& dates,
                       const RowSink<ChargesRow>& sink,
                       long long page_rows = k_export_page_rows);
long long read_rejects(Database& db,
                       const DateRange& ingest_dates,
                       RejectScope scope,
                       const RowSink<RejectRow>& sink,
                       long long page_rows = k_export_page_rows);
// `status`: pending, succeeded or failed; nullopt: every status.
long long read_payments(Database& db,
                        const DateRange& dates,
                        const std::optional<std::string>& status,
                        const RowSink<PaymentRow>& sink);
// Applied adjustments of the dates, by business date, account and id.
long long read_adjustments(Database& db,
                           const DateRange& dates,
                           const RowSink<AdjustmentExportRow>& sink);
long long read_totals(Database& db, const DateRange& dates, const RowSink<TotalsRow>& sink);
// Lot movements by business date, account and lot.
long long read_lot_movements(Database& db,
                             const DateRange& dates,
                             const RowSink<LotExportRow>& sink,
                             long long page_rows = k_export_page_rows);
// Revenue rows by business date and currency.
long long read_revenue(Database& db, const DateRange& dates, const RowSink<RevenueRow>& sink);

} // namespace billing
