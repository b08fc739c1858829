// Reading and writing the books of one business date, a chunk of accounts at
// a time: batched reads of every account's state, lots, pending purchases,
// uncharged usage and revocations, and multi-row writes of the engine's
// results, so MySQL never sees one round trip per row. The caller wraps each
// chunk in one transaction together with the accounts' completion marker
// (account_state.state_date), which is what makes a resume exact.
#pragma once

#include "domain/engine.hpp"
#include "storage/database.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace billing {

// Which accounts a worker processes: account_id mod count == index.
struct Shard
{
  int index = 0;
  int count = 1;
};

struct DayTotals
{
  long long accounts = 0;
  long long usage_events = 0;
  long long late_events = 0;
  long long credits_used = 0;
  long long credits_expired = 0;
  long long credits_granted = 0;
  long long credits_purchased = 0;
  long long recharges = 0;
  long long suspended = 0;
  long long resumed = 0;
};

// The plans by id. Throws when a stored plan is malformed (a bug).
std::map<std::string, Plan> load_plans(Database& db);

// The next accounts (by id, after `after_account_id`) that take part in `date`
// and have not been closed for it yet, at most `rows_max`, with all their
// inputs for the engine.
std::vector<AccountDayInput> load_pending_chunk(Database& db,
                                                const std::map<std::string, Plan>& plans,
                                                Date date,
                                                long long after_account_id,
                                                size_t rows_max,
                                                Shard shard);

// Writes the results of a chunk (inputs in the same order) and marks the
// accounts closed for `date`. Adds to `totals`.
void write_chunk(Database& db,
                 Date date,
                 const std::vector<AccountDayInput>& inputs,
                 const std::vector<AccountDayResult>& results,
                 DayTotals& totals);

// How many accounts of the shard are still open for `date`.
long long pending_account_count(Database& db, Date date, Shard shard);

// The last completed business date, if any.
std::optional<Date> last_completed_date(Database& db);

enum class DayStatus
{
  none,
  running,
  complete
};
DayStatus day_status(Database& db, Date date);

// Records that `date` has started (idempotent).
void mark_day_started(Database& db, Date date, Instant now);

// Marks the date complete (its books, charges rows included, were written
// chunk by chunk). REQUIRES: no account of the date is still open.
void complete_day(Database& db, Date date, Instant now);

} // namespace billing
