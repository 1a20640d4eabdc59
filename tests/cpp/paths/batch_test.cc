// The one batch API: what a batch runs and reports, and how its size is chosen, on fake
// rows whose cost per call (and per batch) the test sets, so that no timing is asserted.
#include "harness/paths/batch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sysgate {
namespace {

// A fake out-of-process row: each batch "takes" kFixedTicks + n * per_call ticks.
uint64_t fixed_ticks = 0, per_call_ticks = 100;
bool fail_batches = false, report_preempted = false;
std::vector<uint64_t> batch_sizes;  // the sizes asked for, in order

bool FakeTimed(uint64_t n, uint64_t arg, uint64_t* ticks, uint64_t* result, std::string* error,
               bool* preempted) {
  batch_sizes.push_back(n);
  if (fail_batches) {
    *error = "the helper went away";
    return false;
  }
  *ticks = fixed_ticks + n * per_call_ticks;
  *result = n + arg;
  if (preempted) *preempted = report_preempted;
  return true;
}

uint64_t AddLoop(uint64_t n, uint64_t arg) { return n + arg; }

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixed_ticks = 0;
    per_call_ticks = 100;
    fail_batches = report_preempted = false;
    batch_sizes.clear();
  }
  Path timed_row{.name = "fake/timed",
                 .mechanism = Mechanism::kSyscall,
                 .expected_entries = 1,
                 .timed = FakeTimed};
};

// 1 GHz and 20 µs: 20,000 ticks per batch.
constexpr double kHz = 1e9, kSeconds = 20e-6;

TEST_F(BatchTest, AnInProcessBatchRunsTheLoopAndReportsItsResult) {
  const Path row{
      .name = "fake/loop", .mechanism = Mechanism::kCall, .expected_entries = 0, .loop = AddLoop};
  BatchRun run{.preempted = true};
  std::string error;
  ASSERT_TRUE(RunBatch(row, 40, 2, &run, &error));
  EXPECT_EQ(run.result, 42u);
  EXPECT_FALSE(run.preempted);  // in process: the caller reads the switches itself
  EXPECT_TRUE(error.empty());
}

TEST_F(BatchTest, AnOutOfProcessBatchPassesOnTicksResultAndPreemption) {
  report_preempted = true;
  BatchRun run;
  std::string error;
  ASSERT_TRUE(RunBatch(timed_row, 10, 1, &run, &error));
  EXPECT_EQ(run.ticks, 1000u);
  EXPECT_EQ(run.result, 11u);
  EXPECT_TRUE(run.preempted);
}

TEST_F(BatchTest, TheSizeIsTheLargestPowerOfTwoThatFitsTheTime) {
  uint64_t calls = 0;
  std::string error;
  // 100 ticks a call: 200 calls fit in 20,000 ticks; the largest power of two is 128.
  ASSERT_TRUE(SizeBatch(timed_row, 0, kHz, kSeconds, BatchSizing{}, &calls, &error));
  EXPECT_EQ(calls, 128u);
  EXPECT_EQ(batch_sizes, (std::vector<uint64_t>{8, 8, 8}));  // best of three trials
}

TEST_F(BatchTest, TheSizeStaysWithinItsBounds) {
  uint64_t calls = 0;
  std::string error;
  per_call_ticks = 1'000'000;  // not one call fits: the smallest size
  ASSERT_TRUE(
      SizeBatch(timed_row, 0, kHz, kSeconds, {.trial = 16, .smallest = 64}, &calls, &error));
  EXPECT_EQ(calls, 64u);
  per_call_ticks = 1;  // 20,000 calls fit: capped at the largest
  ASSERT_TRUE(SizeBatch(timed_row, 0, kHz, kSeconds, {.largest = 1024}, &calls, &error));
  EXPECT_EQ(calls, 1024u);
}

TEST_F(BatchTest, ARowsMinimumBatchIsAFloor) {
  timed_row.min_batch = 512;
  uint64_t calls = 0;
  std::string error;
  ASSERT_TRUE(SizeBatch(timed_row, 0, kHz, kSeconds, BatchSizing{}, &calls, &error));
  EXPECT_EQ(calls, 512u);
}

TEST_F(BatchTest, RefiningRoundsAmortizeAFixedCostPerBatch) {
  // 1000 ticks a batch + 10 a call: an 8-call trial reads 135 a call (128 calls); trials
  // of 128 read 17.8 (1024 calls); trials of 1024 read 11 and the size stops growing.
  fixed_ticks = 1000;
  per_call_ticks = 10;
  uint64_t once = 0, refined = 0;
  std::string error;
  ASSERT_TRUE(SizeBatch(timed_row, 0, kHz, kSeconds, BatchSizing{}, &once, &error));
  batch_sizes.clear();
  ASSERT_TRUE(SizeBatch(timed_row, 0, kHz, kSeconds, {.rounds = 4}, &refined, &error));
  EXPECT_EQ(once, 128u);
  EXPECT_EQ(refined, 1024u);
  EXPECT_EQ(batch_sizes, (std::vector<uint64_t>{8, 8, 8, 128, 128, 128, 1024, 1024, 1024}));
}

TEST_F(BatchTest, AFailedTrialBatchIsAnErrorNotASize) {
  fail_batches = true;
  uint64_t calls = 7;
  std::string error;
  EXPECT_FALSE(SizeBatch(timed_row, 0, kHz, kSeconds, BatchSizing{}, &calls, &error));
  EXPECT_EQ(error, "the helper went away");
  EXPECT_EQ(calls, 7u);
}

}  // namespace
}  // namespace sysgate
