// The one batch API (harness/paths/batch.h): one batch of a fake path, in process and out
// of process, and the trial sizing against a fake `timed` row whose cost per batch the
// test sets (fixed ticks plus ticks per call). No timing is asserted: the in-process
// tests look only at what the loop was asked to do and what it returned.
#include "harness/paths/batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sysgate {
namespace {

using ::testing::ElementsAre;

// What the fake rows were asked to do, and how the fake helper answers.
struct Fake {
  std::vector<uint64_t> calls;  // each batch's size, in order
  std::vector<uint64_t> args;
  uint64_t fixed_ticks = 0;  // per batch: the helper's round trip
  uint64_t ticks_per_call = 100;
  bool fail = false;
  bool preempted = false;
};
Fake fake;

uint64_t FakeLoop(uint64_t iterations, uint64_t arg) {
  fake.calls.push_back(iterations);
  fake.args.push_back(arg);
  return arg + iterations;
}

bool FakeTimed(uint64_t iterations, uint64_t arg, uint64_t* ticks, uint64_t* result,
               std::string* error, bool* preempted) {
  fake.calls.push_back(iterations);
  fake.args.push_back(arg);
  if (fake.fail) {
    *error = "the fake helper stopped answering";
    return false;
  }
  *ticks = fake.fixed_ticks + iterations * fake.ticks_per_call;
  *result = 7;
  if (preempted) *preempted = fake.preempted;
  return true;
}

Path InProcessRow() {
  return Path{
      .name = "fake/loop", .mechanism = Mechanism::kCall, .expected_entries = 0, .loop = FakeLoop};
}

Path TimedRow() {
  return Path{.name = "fake/timed",
              .mechanism = Mechanism::kSyscall,
              .expected_entries = 1,
              .timed = FakeTimed};
}

bool PowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override { fake = Fake(); }
};

// 1 GHz and a target in ticks: `target` ticks worth of calls.
BatchSizing Sizing(double target_ticks) {
  return {.seconds = target_ticks / 1e9,
          .tsc_hz = 1e9,
          .trial = 8,
          .min_calls = 1,
          .max_calls = uint64_t{1} << 20,
          .timed_rounds = 1};
}

TEST_F(BatchTest, AnInProcessBatchRunsTheLoopOnceWithTheCallsAndArg) {
  const BatchTiming batch = TimeBatch(InProcessRow(), 32, 5);
  EXPECT_THAT(fake.calls, ElementsAre(32u));
  EXPECT_THAT(fake.args, ElementsAre(5u));
  EXPECT_EQ(batch.result, 37u);  // the loop's last result
  EXPECT_FALSE(batch.preempted);
  EXPECT_TRUE(batch.ok());
}

TEST_F(BatchTest, ATimedBatchReportsTheHelpersTicksResultAndPreemption) {
  fake.fixed_ticks = 50;
  fake.preempted = true;
  const BatchTiming batch = TimeBatch(TimedRow(), 16, 3);
  EXPECT_THAT(fake.calls, ElementsAre(16u));
  EXPECT_EQ(batch.ticks, 50u + 16 * 100);
  EXPECT_EQ(batch.result, 7u);
  EXPECT_TRUE(batch.preempted);
  EXPECT_TRUE(batch.ok());
}

TEST_F(BatchTest, AFailingTimedBatchYieldsItsError) {
  fake.fail = true;
  const BatchTiming batch = TimeBatch(TimedRow(), 16, 0);
  EXPECT_FALSE(batch.ok());
  EXPECT_EQ(batch.error.value_or(""), "the fake helper stopped answering");
}

TEST_F(BatchTest, SizingPicksThePowerOfTwoWithinTheTarget) {
  // 100 ticks a call, 100000 ticks: 1000 calls fit, 1024 do not.
  std::string error;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, Sizing(100000), &error), 512u);
  // Three trials of the trial size, best of them.
  EXPECT_THAT(fake.calls, ElementsAre(8u, 8u, 8u));
}

TEST_F(BatchTest, SizingIsAlwaysAPowerOfTwoWithinItsBounds) {
  std::string error;
  for (uint64_t cost : {1u, 3u, 7u, 100u, 999u, 123457u}) {
    fake.ticks_per_call = cost;
    for (double target : {1.0, 1e3, 2e4, 1e6, 1e9, 1e12}) {
      BatchSizing sizing = Sizing(target);
      sizing.min_calls = 4;
      sizing.max_calls = 4096;
      const std::optional<uint64_t> calls = ChooseBatchSize(TimedRow(), 0, sizing, &error);
      ASSERT_TRUE(calls);
      EXPECT_TRUE(PowerOfTwo(*calls)) << *calls;
      EXPECT_GE(*calls, 4u);
      EXPECT_LE(*calls, 4096u);
    }
  }
}

TEST_F(BatchTest, SizingStopsAtTheBounds) {
  std::string error;
  BatchSizing sizing = Sizing(1e12);  // far more than max_calls would take
  sizing.min_calls = 64;
  sizing.max_calls = 1024;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, sizing, &error), 1024u);
  sizing = Sizing(1);  // less than one call
  sizing.min_calls = 64;
  sizing.max_calls = 1024;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, sizing, &error), 64u);
}

TEST_F(BatchTest, SizingHonoursTheRowsMinBatch) {
  Path row = TimedRow();
  row.min_batch = 64;  // io_uring/nop_64's unit of work
  std::string error;
  EXPECT_EQ(ChooseBatchSize(row, 0, Sizing(1000), &error), 64u);     // 10 calls would do
  EXPECT_EQ(ChooseBatchSize(row, 0, Sizing(100000), &error), 512u);  // above it: unchanged
}

TEST_F(BatchTest, InProcessSizingHonoursBoundsAndMinBatch) {
  // The loop's cost is whatever this machine makes of it: only the bounds are asserted.
  Path row = InProcessRow();
  row.min_batch = 32;
  std::string error;
  BatchSizing sizing = Sizing(1);
  sizing.max_calls = 256;
  EXPECT_EQ(ChooseBatchSize(row, 9, sizing, &error), 32u);
  sizing = Sizing(1e15);
  sizing.max_calls = 256;
  EXPECT_EQ(ChooseBatchSize(row, 9, sizing, &error), 256u);
  EXPECT_THAT(fake.args, ::testing::Each(9u));
  EXPECT_THAT(fake.calls, ::testing::Each(8u));  // trials only: no refinement in process
}

TEST_F(BatchTest, TimedRowsAreRefinedWhileTheSizeGrows) {
  // A fixed 8000 ticks a batch: an 8-call trial sees 1010 ticks a call, so the first
  // round picks 64; trials of 64, 512 and 2048 see the fixed cost amortized better.
  fake.fixed_ticks = 8000;
  fake.ticks_per_call = 10;
  BatchSizing sizing = Sizing(100000);
  sizing.timed_rounds = 4;
  std::string error;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, sizing, &error), 4096u);
  EXPECT_THAT(fake.calls,
              ElementsAre(8u, 8u, 8u, 64u, 64u, 64u, 512u, 512u, 512u, 2048u, 2048u, 2048u));
}

TEST_F(BatchTest, RefinementStopsWhenTheSizeStopsGrowing) {
  BatchSizing sizing = Sizing(100000);  // 512 calls at 100 ticks, with no fixed cost
  sizing.timed_rounds = 4;
  std::string error;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, sizing, &error), 512u);
  EXPECT_THAT(fake.calls, ElementsAre(8u, 8u, 8u, 512u, 512u, 512u));
}

TEST_F(BatchTest, OneRoundIsNoRefinement) {
  fake.fixed_ticks = 8000;
  fake.ticks_per_call = 10;
  std::string error;
  EXPECT_EQ(ChooseBatchSize(TimedRow(), 0, Sizing(100000), &error), 64u);
  EXPECT_EQ(fake.calls.size(), 3u);
}

TEST_F(BatchTest, AFailingTrialBatchFailsTheSizingWithItsError) {
  fake.fail = true;
  std::string error;
  EXPECT_FALSE(ChooseBatchSize(TimedRow(), 0, Sizing(100000), &error));
  EXPECT_EQ(error, "the fake helper stopped answering");
  EXPECT_EQ(fake.calls.size(), 1u);  // the first failure ends it
}

TEST_F(BatchTest, BoundsThatAreNotPowersOfTwoAreABrokenInvariant) {
  BatchSizing sizing = Sizing(1000);
  sizing.min_calls = 3;
  std::string error;
  EXPECT_DEATH(ChooseBatchSize(TimedRow(), 0, sizing, &error), "check failed");
}

}  // namespace
}  // namespace sysgate
