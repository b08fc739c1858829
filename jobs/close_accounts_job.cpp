#include "jobs/close_accounts_job.hpp"

#include "domain/calendar.hpp"
#include "jobs/tx_scope.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

namespace billing {

namespace {

using Clock = std::chrono::steady_clock;

struct LaneTimes
{
  Clock::duration load{}, engine{}, write{};
};

} // namespace

void CloseAccountsJob::run(JobContext& ctx)
{
  const auto plans = load_plans(ctx.db);
  const long long total = ctx.progress ? pending_account_count(ctx.db, ctx.date, ctx.shard) : 0;
  std::mutex progress_mutex;
  long long done = 0;
  std::atomic<bool> failed = false;

  // Lanes split blocks, so they need chunks of whole blocks (the default).
  const int lanes =
    ctx.dry_run == DryRun::no && m_chunk_accounts >= static_cast<size_t>(k_account_block_size)
      ? ctx.db.dialect().writer_lanes()
      : 1;
  // With several lanes, each claims the next block with pending accounts
  // when it needs work (blocks differ widely in events), under this mutex.
  std::mutex claim_mutex;
  long long claimed_up_to = 0;

  // One lane closes its chunks in order on `writer`. A real run reads the
  // lane's next chunk on a second connection while `writer` writes the
  // current one: chunks are disjoint sets of accounts, so the read sees
  // exactly what it would see after the write. A dry run keeps everything on
  // one connection, inside its one rolled-back transaction (where the earlier
  // dates of a catch-up are visible only to it).
  const auto run_lane = [&](Database& writer, DayTotals& totals) {
    LaneTimes times;
    std::unique_ptr<Database> reader;
    if (ctx.dry_run == DryRun::no) {
      reader = writer.open_reader();
    }
    Database& read_db = reader ? *reader : writer;
    const auto load = [&](long long after) {
      if (lanes == 1) {
        return load_pending_chunk(read_db, plans, ctx.date, after, m_chunk_accounts, ctx.shard);
      }
      long long first = 0;
      {
        const std::lock_guard guard(claim_mutex);
        first = first_pending_account(read_db, ctx.date, claimed_up_to, ctx.shard);
        if (first != 0) {
          claimed_up_to = (account_block(first) + 1) * k_account_block_size - 1;
        }
      }
      return first == 0
               ? DayChunk{}
               : load_chunk_at(read_db, plans, ctx.date, first, m_chunk_accounts, ctx.shard);
    };
    auto t0 = Clock::now();
    DayChunk chunk = load(0);
    while (!chunk.inputs.empty() && !failed) {
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
        TxScope tx(writer, ctx.dry_run);
        write_chunk(writer, ctx.date, chunk, results, totals);
        tx.commit();
      }
      const auto t3 = Clock::now();
      times.load += t1 - t0;
      times.engine += t2 - t1;
      times.write += t3 - t2;
      if (ctx.progress) {
        const std::lock_guard guard(progress_mutex);
        done += static_cast<long long>(inputs.size());
        ctx.progress(done, total);
      }
      t0 = Clock::now();
      chunk = reader ? next.get() : load(last);
    }
    times.load += Clock::now() - t0;
    return times;
  };

  std::vector<DayTotals> totals(static_cast<size_t>(lanes));
  std::vector<LaneTimes> times(static_cast<size_t>(lanes));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(lanes));
  {
    std::vector<std::jthread> others;
    for (int k = 1; k < lanes; ++k) {
      others.emplace_back([&, k] {
        const auto i = static_cast<size_t>(k);
        try {
          const auto writer = ctx.db.open_another();
          times[i] = run_lane(*writer, totals[i]);
        } catch (...) {
          errors[i] = std::current_exception();
          failed = true;
        }
      });
    }
    try {
      times[0] = run_lane(ctx.db, totals[0]);
    } catch (...) {
      errors[0] = std::current_exception();
      failed = true;
    }
  }
  for (const std::exception_ptr& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }
  LaneTimes sum;
  for (size_t i = 0; i < totals.size(); ++i) {
    ctx.totals += totals[i];
    sum.load += times[i].load;
    sum.engine += times[i].engine;
    sum.write += times[i].write;
  }
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  spdlog::debug("{}: close-accounts ({} lane{}): read {} ms (not overlapped), engine {} ms, "
                "write+commit {} ms",
                format_date(ctx.date),
                lanes,
                lanes == 1 ? "" : "s",
                ms(sum.load),
                ms(sum.engine),
                ms(sum.write));
}

} // namespace billing
