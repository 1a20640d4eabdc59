// The batch sizes the runner and the counting pass choose: each caller's parameters for
// the one sizing routine (harness/paths/batch.h), against a fake `timed` row whose cost
// the test sets. No timing is asserted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "harness/measure/counting_pass.h"
#include "harness/measure/runner.h"
#include "harness/paths/batch.h"

namespace sysgate {
namespace {

using ::testing::ElementsAre;

std::vector<uint64_t> trials;  // the fake helper's batch sizes, in order
uint64_t fixed_ticks = 0;      // per batch
uint64_t ticks_per_call = 0;

bool FakeTimed(uint64_t iterations, uint64_t, uint64_t* ticks, uint64_t* result, std::string*,
               bool*) {
  trials.push_back(iterations);
  *ticks = fixed_ticks + iterations * ticks_per_call;
  *result = 0;
  return true;
}

Path TimedRow() {
  return Path{.name = "fake/timed",
              .mechanism = Mechanism::kRuntime,
              .expected_entries = 1,
              .timed = FakeTimed};
}

class BatchSizingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    trials.clear();
    fixed_ticks = 0;
    ticks_per_call = 100;
  }
};

constexpr double kHz = 1e9;  // 1 tick = 1 ns

TEST_F(BatchSizingTest, TheRunnerTargetsItsBatchTimeWithTrialsOfEight) {
  // kBatchSeconds (20 µs) at 100 ns a call: 200 calls fit, 256 do not.
  const Path row = TimedRow();
  std::string error;
  EXPECT_EQ(ChooseBatchSize(row, 0, RunnerBatchSizing(row, kHz), &error), 128u);
  // Refined once with 128-call trials; the size did not grow, so it stopped there.
  EXPECT_THAT(trials, ElementsAre(8u, 8u, 8u, 128u, 128u, 128u));
}

TEST_F(BatchSizingTest, TheRunnerHonoursARowsBatchSeconds) {
  Path row = TimedRow();
  row.batch_seconds = 1e-3;  // 10000 calls at 100 ns
  std::string error;
  EXPECT_EQ(ChooseBatchSize(row, 0, RunnerBatchSizing(row, kHz), &error), 8192u);
}

TEST_F(BatchSizingTest, TheRunnerRefinesATimedRowForUpToFourRounds) {
  fixed_ticks = 20000;  // a helper round trip of 20 µs per batch
  ticks_per_call = 1;
  Path row = TimedRow();
  row.batch_seconds = 1e-3;
  std::string error;
  const std::optional<uint64_t> batch =
      ChooseBatchSize(row, 0, RunnerBatchSizing(row, kHz), &error);
  ASSERT_TRUE(batch);
  EXPECT_EQ(trials.size(), 12u);  // 4 rounds of 3 trials: it was still growing
  EXPECT_EQ(*batch, 524288u);     // trials of 8, 256, 8192 and 262144 calls
}

TEST_F(BatchSizingTest, TheRunnerStopsAtKMaxBatch) {
  ticks_per_call = 0;  // counted as 1 tick a call: the cheapest the estimate allows
  Path row = TimedRow();
  row.batch_seconds = 10;
  std::string error;
  EXPECT_EQ(ChooseBatchSize(row, 0, RunnerBatchSizing(row, kHz), &error), kMaxBatch);
}

TEST_F(BatchSizingTest, TheCountingPassUsesTrialsOfSixteenAndNoRefinement) {
  fixed_ticks = 20000;
  std::string error;
  // 10 ms at 100 ns a call would be 100000 calls; the 16-call trials see 1350 ns a call.
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, CountingBatchSizing(kHz, 0.01), &error), 4096u);
  EXPECT_THAT(trials, ElementsAre(16u, 16u, 16u));
}

TEST_F(BatchSizingTest, TheCountingPassCountsAtLeast64AndAtMost2To26Calls) {
  std::string error;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, CountingBatchSizing(kHz, 1e-9), &error), 64u);
  ticks_per_call = 1;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, CountingBatchSizing(kHz, 100), &error),
            uint64_t{1} << 26);
}

}  // namespace
}  // namespace sysgate
