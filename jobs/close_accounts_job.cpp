#include "jobs/close_accounts_job.hpp"

#include "domain/calendar.hpp"
#include "jobs/tx_scope.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

namespace billing {

void CloseAccountsJob::run(JobContext& ctx)
{
  const auto plans = load_plans(ctx.db);
  const long long total = ctx.progress ? pending_account_count(ctx.db, ctx.date, ctx.shard) : 0;
  // A real run reads the next chunk on a second connection while this one
  // writes the current one: the chunks are disjoint sets of accounts, so the
  // read sees exactly what it would see after the write. A dry run keeps
  // everything on one connection, inside its one rolled-back transaction
  // (where the earlier dates of a catch-up are visible only to it).
  std::unique_ptr<Database> reader;
  if (ctx.dry_run == DryRun::no) {
    reader = ctx.db.open_reader();
  }
  Database& read_db = reader ? *reader : ctx.db;
  const auto load = [&](long long after) {
    return load_pending_chunk(read_db, plans, ctx.date, after, m_chunk_accounts, ctx.shard);
  };
  // Where the time goes (logged at debug level): waiting for a read, the
  // engine, writing.
  using Clock = std::chrono::steady_clock;
  Clock::duration load_time{}, engine_time{}, write_time{};
  long long done = 0;
  auto t0 = Clock::now();
  DayChunk chunk = load(0);
  while (!chunk.inputs.empty()) {
    const std::vector<AccountDayInput>& inputs = chunk.inputs;
    const long long last = inputs.back().settings.account_id;
    std::future<DayChunk> next;
    if (reader) {
      next = std::async(std::launch::async, load, last);
    }
    const auto t1 = Clock::now();
    std::vector<AccountDayResult> results;
    results.reserve(inputs.size());
    for (const AccountDayInput& in : inputs) {
      results.push_back(close_account_day(in));
    }
    const auto t2 = Clock::now();
    {
      TxScope tx(ctx.db, ctx.dry_run);
      write_chunk(ctx.db, ctx.date, chunk, results, ctx.totals);
      tx.commit();
    }
    const auto t3 = Clock::now();
    load_time += t1 - t0;
    engine_time += t2 - t1;
    write_time += t3 - t2;
    done += static_cast<long long>(inputs.size());
    if (ctx.progress) {
      ctx.progress(done, total);
    }
    t0 = Clock::now();
    chunk = reader ? next.get() : load(last);
  }
  load_time += Clock::now() - t0;
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  spdlog::debug("{}: close-accounts: read {} ms (not overlapped), engine {} ms, write+commit {} ms",
                format_date(ctx.date),
                ms(load_time),
                ms(engine_time),
                ms(write_time));
}

} // namespace billing
