// Progress on a terminal for long work: done/total, rate and ETA on one
// stderr line, redrawn at most a few times a second. Silent when stderr is
// not a terminal or with --quiet, so logs and journald stay clean.
#pragma once

#include <chrono>
#include <string>

namespace billing {

enum class ShowProgress
{
  no,
  yes
};

// Yes when stderr is a terminal and not quiet.
ShowProgress progress_wanted(bool quiet);

class Progress
{
public:
  Progress(std::string label, ShowProgress show);
  ~Progress();

  // done so far of total (0: unknown total).
  void update(long long done, long long total);

private:
  std::string m_label;
  bool m_show;
  bool m_drawn = false;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last_draw;
};

} // namespace billing
