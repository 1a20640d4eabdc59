#include "harness/measure/per_call.h"

#include <algorithm>
#include <cmath>

namespace sysgate {
namespace {

// Nearest-rank percentile of a sorted, non-empty vector.
uint64_t Rank(const std::vector<uint64_t>& sorted, double p) {
  // The epsilon keeps 99.9% of 1000 at rank 999 despite 99.9/100*1000 = 999.0000000000001.
  size_t rank = static_cast<size_t>(std::ceil(p * sorted.size() / 100.0 - 1e-9));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

Percentiles ComputePercentiles(std::vector<uint64_t> ticks, uint64_t pair_overhead, double tsc_hz) {
  Percentiles out;
  if (ticks.empty() || tsc_hz <= 0) return out;
  for (uint64_t& t : ticks) t = t > pair_overhead ? t - pair_overhead : 0;
  std::sort(ticks.begin(), ticks.end());
  const double limit = std::max(Rank(ticks, 50) * kOutlierFactor, kOutlierFloorSeconds * tsc_hz);
  auto keep_end = std::upper_bound(ticks.begin(), ticks.end(), static_cast<uint64_t>(limit));
  out.outliers = static_cast<uint64_t>(ticks.end() - keep_end);
  ticks.erase(keep_end, ticks.end());
  out.samples = ticks.size();
  const double ns_per_tick = 1e9 / tsc_hz;
  out.p50_ns = Rank(ticks, 50) * ns_per_tick;
  out.p90_ns = Rank(ticks, 90) * ns_per_tick;
  out.p99_ns = Rank(ticks, 99) * ns_per_tick;
  out.p999_ns = Rank(ticks, 99.9) * ns_per_tick;
  return out;
}

}  // namespace sysgate
