// Completes the date once no account of any shard is left open: marks it
// complete with its totals (the books and charges rows were written chunk
// by chunk with the accounts), and sets JobContext::date_complete then.
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
