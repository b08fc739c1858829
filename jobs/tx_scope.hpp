// A chunk transaction that is real on a normal run and a no-op on a dry run,
// where one outer transaction holds everything and is rolled back at the end.
#pragma once

#include "jobs/job.hpp"

#include <optional>

namespace billing {

class TxScope
{
public:
  TxScope(Database& db, DryRun dry_run)
  {
    if (dry_run == DryRun::no) {
      m_tx.emplace(db);
    }
  }
  void commit()
  {
    if (m_tx) {
      m_tx->commit();
    }
  }

private:
  std::optional<Transaction> m_tx;
};

} // namespace billing
