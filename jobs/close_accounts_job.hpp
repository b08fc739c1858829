// Closes the date for every taking-part account: a chunk of accounts at a
// time, each chunk one transaction holding its books and the accounts'
// completion marker. A chunk is at most one account block (by default all of
// its pending accounts), so the block's events are read once. Cycle resets, roll-over, expiry,
// purchases, usage, auto-recharge and sending status all happen here, in the lot engine.
#pragma once

#include "jobs/job.hpp"
#include "storage/day_store.hpp"

namespace billing {

class CloseAccountsJob final : public Job
{
public:
  explicit CloseAccountsJob(size_t chunk_accounts = k_account_block_size)
    : m_chunk_accounts(chunk_accounts)
  {
  }
  std::string_view name() const override { return "close-accounts"; }
  void run(JobContext& ctx) override;

private:
  size_t m_chunk_accounts;
};

} // namespace billing
