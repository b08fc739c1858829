#include "jobs/close_accounts_job.hpp"

#include "domain/calendar.hpp"
#include "jobs/tx_scope.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace billing {

void CloseAccountsJob::run(JobContext& ctx)
{
  const auto plans = load_plans(ctx.db);
  long long after = 0;
  long long done = 0;
  const long long total = ctx.progress ? pending_account_count(ctx.db, ctx.date, ctx.shard) : 0;
  // Where the time goes (logged at debug level): reading, the engine, writing.
  using Clock = std::chrono::steady_clock;
  Clock::duration load_time{}, engine_time{}, write_time{};
  for (;;) {
    const auto t0 = Clock::now();
    TxScope tx(ctx.db, ctx.dry_run);
    auto inputs = load_pending_chunk(ctx.db, plans, ctx.date, after, m_chunk_accounts, ctx.shard);
    if (inputs.empty()) {
      break;
    }
    const auto t1 = Clock::now();
    std::vector<AccountDayResult> results;
    results.reserve(inputs.size());
    for (const AccountDayInput& in : inputs) {
      results.push_back(close_account_day(in));
    }
    const auto t2 = Clock::now();
    write_chunk(ctx.db, ctx.date, inputs, results, ctx.totals);
    tx.commit();
    load_time += t1 - t0;
    engine_time += t2 - t1;
    write_time += Clock::now() - t2;
    after = inputs.back().settings.account_id;
    done += static_cast<long long>(inputs.size());
    if (ctx.progress) {
      ctx.progress(done, total);
    }
  }
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  spdlog::debug("{}: close-accounts: read {} ms, engine {} ms, write+commit {} ms",
                format_date(ctx.date),
                ms(load_time),
                ms(engine_time),
                ms(write_time));
}

} // namespace billing
