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

  DayTotals& operator+=(const DayTotals& o);
};

// Usage events are clustered by (charge date, account block, file, line)
// (sql/*/002_clustered_layout.sql): a block is a range of 4096 account ids, so
// a day's events are appended at one point per block, and a chunk of accounts
// never spans two blocks, so its events are one range of the key.
constexpr long long k_account_block_size = 4096;
constexpr long long account_block(long long account_id)
{
  return account_id / k_account_block_size;
}

// One charges row (SPEC 9.3): a chunk's events of one account, channel and
// occurred date.
struct ChargeRow
{
  long long account_id = 0;
  std::string channel;
  std::string occurred_date;
  long long events = 0;
  long long units = 0;
  long long credits = 0;
  long long platform_credits = 0;
};

// A chunk of accounts with everything the engine needs, and the charges rows
// of their events, in key order.
struct DayChunk
{
  std::vector<AccountDayInput> inputs;
  std::vector<bool> has_state; // per input: an account_state row exists
  // Per input: the plan and cycle anchor of its accounts row. The state
  // stores the plan in force only when it differs (NULL otherwise), so a
  // night without plan changes writes no plan text per account.
  std::vector<std::pair<std::string, Date>> imported_plan;
  std::vector<ChargeRow> charges;
};

// The plans by id. Throws when a stored plan is malformed (a bug).
std::map<std::string, Plan> load_plans(Database& db);

// The first account (by id, after `after_account_id`) of the shard that takes
// part in `date` and has not been closed for it yet; 0 when there is none.
long long first_pending_account(Database& db, Date date, long long after_account_id, Shard shard);

// The pending accounts of the shard from `first` on, within the account block
// of `first`, at most `rows_max`, with all their inputs for the engine.
DayChunk load_chunk_at(Database& db,
                       const std::map<std::string, Plan>& plans,
                       Date date,
                       long long first,
                       size_t rows_max,
                       Shard shard);

// load_chunk_at() from the first pending account after `after_account_id`;
// empty when the shard has none left.
DayChunk load_pending_chunk(Database& db,
                            const std::map<std::string, Plan>& plans,
                            Date date,
                            long long after_account_id,
                            size_t rows_max,
                            Shard shard);

// Writes the results of a chunk (in the order of its inputs) and its charges
// rows, and marks the accounts closed for `date`. Adds to `totals`.
void write_chunk(Database& db,
                 Date date,
                 const DayChunk& chunk,
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
