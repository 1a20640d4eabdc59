#include "harness/measure/per_call.h"

#include <vector>

#include "gtest/gtest.h"

namespace sysgate {
namespace {

TEST(PerCall, NearestRankPercentilesAfterOverhead) {
  std::vector<uint64_t> ticks;
  for (uint64_t i = 1; i <= 1000; ++i) ticks.push_back(100 + i);  // 101..1100
  // 1 GHz: one tick is one ns. Overhead 100 leaves 1..1000.
  Percentiles p = ComputePercentiles(ticks, 100, 1e9);
  EXPECT_EQ(p.samples, 1000u);
  EXPECT_EQ(p.outliers, 0u);
  EXPECT_DOUBLE_EQ(p.p50_ns, 500);
  EXPECT_DOUBLE_EQ(p.p90_ns, 900);
  EXPECT_DOUBLE_EQ(p.p99_ns, 990);
  EXPECT_DOUBLE_EQ(p.p999_ns, 999);
}

TEST(PerCall, DropsDeschedulingSpikesButNotSlowCalls) {
  std::vector<uint64_t> ticks(999, 1000);  // 1 us calls at 1 GHz
  ticks.push_back(4'000'000);              // a 4 ms spike: the vCPU was descheduled
  Percentiles p = ComputePercentiles(ticks, 0, 1e9);
  EXPECT_EQ(p.outliers, 1u);
  EXPECT_EQ(p.samples, 999u);
  EXPECT_DOUBLE_EQ(p.p999_ns, 1000);

  // A 2 ns path with two 300 ns cache misses: far above 50x the median but below the
  // 20 us floor, so kept.
  std::vector<uint64_t> small(998, 2);
  small.push_back(300);
  small.push_back(300);
  p = ComputePercentiles(small, 0, 1e9);
  EXPECT_EQ(p.outliers, 0u);
  EXPECT_DOUBLE_EQ(p.p999_ns, 300);
}

TEST(PerCall, OverheadLargerThanASampleClampsToZeroAndEmptyInputIsEmpty) {
  Percentiles p = ComputePercentiles({10, 20, 30}, 25, 1e9);
  EXPECT_DOUBLE_EQ(p.p50_ns, 0);
  EXPECT_DOUBLE_EQ(p.p99_ns, 5);
  EXPECT_EQ(ComputePercentiles({}, 0, 1e9).samples, 0u);
}

}  // namespace
}  // namespace sysgate
