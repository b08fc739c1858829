// Completes the date once no account is left open: builds the charges rows
// (per account, channel and day the usage occurred) and marks the date
// complete, in one transaction.
#pragma once

#include "jobs/job.hpp"

namespace billing {

class CompleteDayJob final : public Job
{
public:
  std::string_view name() const override { return "complete-day"; }
  void run(JobContext& ctx) override;
};

} // namespace billing
