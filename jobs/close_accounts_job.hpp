// Closes the date for every taking-part account: a chunk of accounts at a
// time, each chunk one transaction holding its books and the accounts'
// completion marker. Cycle resets, roll-over, expiry, purchases, usage,
// auto-recharge and sending status all happen here, in the lot engine.
#pragma once

#include "jobs/job.hpp"

namespace billing {

class CloseAccountsJob final : public Job
{
public:
  explicit CloseAccountsJob(size_t chunk_accounts = 1000)
    : m_chunk_accounts(chunk_accounts)
  {
  }
  std::string_view name() const override { return "close-accounts"; }
  void run(JobContext& ctx) override;

private:
  size_t m_chunk_accounts;
};

} // namespace billing
