#include "ops/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace billing {

ShowProgress progress_wanted(bool quiet)
{
  return !quiet && isatty(STDERR_FILENO) ? ShowProgress::yes : ShowProgress::no;
}

Progress::Progress(std::string label, ShowProgress show)
  : m_label(std::move(label))
  , m_show(show == ShowProgress::yes)
  , m_start(std::chrono::steady_clock::now())
  , m_last_draw(m_start)
{
}

Progress::~Progress()
{
  if (m_drawn) {
    std::fputs("\r\033[K", stderr);
  }
}

void Progress::update(long long done, long long total)
{
  if (!m_show) {
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - m_last_draw < std::chrono::milliseconds(200) && done != total) {
    return;
  }
  m_last_draw = now;
  const double elapsed = std::chrono::duration<double>(now - m_start).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  if (total > 0 && rate > 0) {
    const double eta = static_cast<double>(total - done) / rate;
    std::fprintf(
      stderr, "\r\033[K%s: %lld/%lld (%.0f/s, ETA %.0fs)", m_label.c_str(), done, total, rate, eta);
  } else {
    std::fprintf(stderr, "\r\033[K%s: %lld (%.0f/s)", m_label.c_str(), done, rate);
  }
  m_drawn = true;
}

} // namespace billing
