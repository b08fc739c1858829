#include "jobs/close_accounts_job.hpp"

#include "jobs/tx_scope.hpp"

namespace billing {

void CloseAccountsJob::run(JobContext& ctx)
{
  const auto plans = load_plans(ctx.db);
  long long after = 0;
  long long done = 0;
  const long long total = ctx.progress ? pending_account_count(ctx.db, ctx.date, ctx.shard) : 0;
  for (;;) {
    TxScope tx(ctx.db, ctx.dry_run);
    auto inputs = load_pending_chunk(ctx.db, plans, ctx.date, after, m_chunk_accounts, ctx.shard);
    if (inputs.empty()) {
      break;
    }
    std::vector<AccountDayResult> results;
    results.reserve(inputs.size());
    for (const AccountDayInput& in : inputs) {
      results.push_back(close_account_day(in));
    }
    write_chunk(ctx.db, ctx.date, inputs, results, ctx.totals);
    tx.commit();
    after = inputs.back().settings.account_id;
    done += static_cast<long long>(inputs.size());
    if (ctx.progress) {
      ctx.progress(done, total);
    }
  }
}

} // namespace billing
