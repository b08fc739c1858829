// A deterministic, portable random source for generated workloads and
// property tests: the same seed gives the same numbers with every standard
// library. std::mt19937_64's output is specified by the standard, but the
// distributions (uniform_int_distribution, bernoulli_distribution) and
// std::shuffle are not, so the mapping to ranges is ours.
#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <utility>

namespace billing {

// SplitMix64's finaliser: a well-mixed 64-bit value of x.
inline std::uint64_t splitmix64(std::uint64_t x)
{
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A threshold for Random::chance: probability `share` (clamped to [0, 1]).
inline std::uint64_t threshold_of(double share)
{
  if (share <= 0.0) {
    return 0;
  }
  if (share >= 1.0) {
    return std::numeric_limits<std::uint64_t>::max();
  }
  return static_cast<std::uint64_t>(share * 18446744073709551616.0);
}

// mt19937_64 with our own, portable mapping of its output to ranges.
class Random
{
public:
  explicit Random(std::uint64_t seed)
    : m_engine(seed)
  {
  }

  // Uniform in [0, n) (multiply-shift; the bias is below 2^-40 for our n).
  // REQUIRES: n >= 1.
  std::uint64_t below(std::uint64_t n)
  {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(m_engine()) * n) >> 64);
  }
  // Uniform in [low, high]. REQUIRES: low <= high.
  long long between(long long low, long long high)
  {
    return low + static_cast<long long>(below(static_cast<std::uint64_t>(high - low) + 1));
  }
  // True with probability threshold / 2^64 (see threshold_of).
  bool chance(std::uint64_t threshold) { return m_engine() < threshold; }
  // True with probability `share`.
  bool chance(double share) { return chance(threshold_of(share)); }

  // Fisher-Yates over a random-access range, the same order everywhere.
  template<class Container>
  void shuffle(Container& items)
  {
    for (std::size_t i = items.size(); i > 1; --i) {
      using std::swap;
      swap(items[i - 1], items[below(i)]);
    }
  }

private:
  std::mt19937_64 m_engine;
};

} // namespace billing
