// A deterministic workload for demos, benchmarks and end-to-end tests: plans,
// accounts and purchases to import (SPEC section 9) and one usage log per day
// (SPEC section 5) with realistic traffic, late events and deliberately bad lines.
// Part of billing_demo (`billing demo`, `billing generate`), not of the
// production library.
//
// Invariants:
//  - Deterministic: the output is a function of the WorkloadSpec alone. The only
//    randomness is util/random.hpp's Random seeded from spec.seed (one stream for
//    the import files, one per usage day, so day d does not depend on spec.days),
//    whose mapping to ranges is the same with every standard library. No clock,
//    no environment.
//  - Streaming: a usage file is written through one fixed block buffer, so memory
//    is constant whatever events_per_day.
//  - Every file is written beside its target and renamed into place, so a reader
//    watching `dir` never sees half a file.
//  - Every good usage line is valid under RateCard::defaults(), references an
//    account of accounts.csv and has its own event_id; its occurred_at lies in
//    the file's day, or (a late event, files after the first only) in the day
//    before. All cycle anchors are <= first_date, so no event precedes its
//    account's anchor (a zoned account west of UTC starts later in that
//    date: its events before R_0 are charged as overdraft, which R_0 pays). Its platform_credits,
//    when present, are what rate() gives under workload_rate_card(spec) (RateCard::defaults(),
//    and the price change of the operator files), but for one line in a hundred, off by one.
//  - Operator files (OperatorFiles::demo only; the default writes none, and then every other file
//    is byte for byte what it was before they existed): plan changes, adjustments and one sms
//    price change over the usage days (SPEC 14, 15, 18), each row valid when imported in the
//    night its OperatorFile names. They come from their own random stream and read the accounts
//    and purchases as generated, so they draw nothing from the other streams.
//  - Each usage file has exactly events_per_day data lines; bad_lines_per_day()
//    of them are bad, cycling through the BadLineKind values in order, so every
//    kind occurs once there are at least k_bad_line_kind_count bad lines a day.
#pragma once

#include "domain/rating.hpp"
#include "domain/types.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billing {

// What a deliberately bad usage line is and what ingest makes of it: every kind
// but exact_duplicate is rejected with the reject reason of the same name;
// exact_duplicate is counted as a duplicate, not rejected. All kinds but
// unknown_account and the two duplicates already fail parse_usage_record.
enum class BadLineKind
{
  unknown_account,       // a well-formed line whose account_id is in no accounts row
  bad_channel,           // "fax", "SMS", "email"
  bad_status,            // a status the channel's rate rule does not list
  bad_timestamp,         // not YYYY-MM-DDTHH:MM:SS[.f]Z or not a real time
  bad_number,            // a non-decimal account_id, chars, duration_s or platform_credits
  out_of_range,          // account_id 0, chars > 100000, duration_s > 86400, platform_credits < 0
  missing_field,         // an empty event_id, account_id, status or the channel's quantity
  bad_event_id,          // a disallowed character or 65 characters
  bad_column_count,      // one column short or one too many
  conflicting_duplicate, // the previous good line's event_id with another occurred_at
  exact_duplicate,       // the previous good line again, byte for byte
};

inline constexpr std::size_t k_bad_line_kind_count = 11;

// The snake_case name ("unknown_account", ...).
std::string_view to_string(BadLineKind kind);

// Whether a workload also holds the files an operator imports between nights:
// none (benchmarks, `billing generate`, tests) or the demo's set.
enum class OperatorFiles
{
  none,
  demo,
};

struct WorkloadSpec
{
  unsigned long long seed = 42;
  long long accounts = 2000;
  // The first business date with usage.
  Date first_date;
  // Usage files: one per day, first_date .. first_date + days - 1.
  int days = 5;
  // Data lines per usage file, bad ones included (at most 100,000,000).
  long long events_per_day = 20000;
  // Share of a file's data lines that are bad (see bad_lines_per_day).
  double bad_line_share = 0.001;
  // Share of the good lines of each file but the first dated the day before.
  double late_share = 0.0005;
  // Share of the accounts with a time zone (SPEC 16), spread over
  // k_workload_zones; at 0 (the default) accounts.csv has no time_zone column
  // and is byte for byte what it was before zones existed. Which accounts
  // are zoned depends on their index alone, never on the random streams, so
  // every other cell is the same whatever the share.
  double zoned_share = 0.0;
  // `billing demo` only: also write the operator's files (see OperatorFile).
  OperatorFiles operator_files = OperatorFiles::none;
};

// The zones a workload's zoned accounts are spread over, in turn: both sides
// of UTC, daylight saving time in both hemispheres, a half-hour offset.
inline constexpr std::array<std::string_view, 4> k_workload_zones = { "America/New_York",
                                                                      "Europe/London",
                                                                      "Asia/Kolkata",
                                                                      "Australia/Sydney" };

// The `billing import` kind of an operator file.
enum class OperatorFileKind
{
  rates,       // SPEC 18
  changes,     // SPEC 14
  adjustments, // SPEC 15
};

// "rates", "changes", "adjustments": the word of `billing import KIND FILE`.
std::string_view to_string(OperatorFileKind kind);

// One operator file, named <kind>-<night>.csv. Imported in the night of
// `night` (the date before it closed, its log not yet ingested), every row is
// valid: no effective date lies in a closed date, but a late adjustment's
// instant, which lies in the date before `night` on purpose.
struct OperatorFile
{
  OperatorFileKind kind = OperatorFileKind::changes;
  Date night;
  std::string path;
  long long rows = 0;
};

// What the operator files hold. An account that fits a role is picked at
// random among those anchored two days or more before first_date, on UTC and
// not among the heaviest users; a role that no account fits is left out.
struct OperatorFileCounts
{
  long long upgrades = 0;                 // starter to growth, on first_date
  long long downgrades = 0;               // pro to starter
  long long downgrades_on_reset_date = 0; // of those, on the account's own reset date
  long long cancellations = 0;            // on first_date
  long long reactivations = 0;            // of the cancelled account, two days on (days >= 2)
  long long grants = 0;                   // goodwill, free
  long long late_grants = 0;              // of those, dated in the closed date before first_date
  long long debits = 0;                   // a correction
  long long refunds = 0;                  // of a purchase of purchases.csv, all that is left
  // The new sms row, from a date in the middle of the usage days, and the
  // credits per unit of the row it follows.
  std::optional<RateRule> price_change;
  long long price_change_was_credits_per_unit = 0;

  long long changes() const { return upgrades + downgrades + cancellations + reactivations; }
  long long adjustments() const { return grants + debits + refunds; }
};

struct WorkloadFiles
{
  std::string plans, accounts, purchases;
  std::vector<std::string> usage_by_day; // paths, day first_date + i at index i
  long long usage_lines = 0;             // data lines of all usage files = events_per_day x days
  long long bad_lines = 0;               // of those, deliberately bad (every kind)
  std::array<long long, k_bad_line_kind_count> bad_by_kind{}; // indexed by BadLineKind
  long long late_lines = 0; // good lines dated the day before their file's day
  // OperatorFiles::demo: in import order (by night; rates, changes, adjustments).
  std::vector<OperatorFile> operator_files;
  OperatorFileCounts operator_counts;
};

// The card the usage files' platform_credits follow: RateCard::defaults(),
// with the price change of the operator files when the spec has them.
RateCard workload_rate_card(const WorkloadSpec& spec);

// Bad data lines in each usage file: round(events_per_day x bad_line_share),
// raised to k_bad_line_kind_count when the share is above 0 (so every kind
// occurs), and at most events_per_day / 2 (so good lines keep a majority). 0
// when the share is 0.
long long bad_lines_per_day(const WorkloadSpec& spec);

// Writes plans.csv, accounts.csv, purchases.csv and usage-YYYY-MM-DD.csv (one
// per day) into `dir`, creating it when missing, and returns their paths and
// line counts; with OperatorFiles::demo also the operator files. The same spec
// gives byte-identical files.
// REQUIRES (else std::invalid_argument): accounts >= 1, days >= 0,
// 0 <= events_per_day <= 100,000,000, the shares in [0, 1], and
// first_date >= 1970-03-02 (so every anchor is a representable date).
// Throws std::runtime_error naming the path when a file or `dir` cannot be written.
WorkloadFiles generate_workload(const WorkloadSpec& spec, const std::string& dir);

} // namespace billing
