#include "jobs/complete_day_job.hpp"

#include "domain/calendar.hpp"
#include "jobs/tx_scope.hpp"

#include <stdexcept>

namespace billing {

void CompleteDayJob::run(JobContext& ctx)
{
  TxScope tx(ctx.db, ctx.dry_run);
  if (pending_account_count(ctx.db, ctx.date, Shard{}) > 0) {
    // Another shard still has accounts open: the last shard to finish
    // completes the date.
    return;
  }
  if (day_status(ctx.db, ctx.date) != DayStatus::complete) {
    complete_day(ctx.db, ctx.date, ctx.now());
  }
  tx.commit();
  ctx.date_complete = true;
}

} // namespace billing
