// The measurement runner's pure parts: the repetition figure from its batches, the
// console row, the results file writer, and the run facts.
#include "harness/measure/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>

#include "harness/output/reporters.h"
#include "harness/platform/check.h"
#include "harness/platform/run_facts.h"

namespace sysgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SummarizeBatches, PreemptedBatchesAreLeftOutAndCounted) {
  // 100 calls per batch: 1000 ticks is 10 per call; the preempted batch took a
  // millisecond of someone else's time and must not move the figure.
  std::vector<Batch> batches = {
      {1000, false}, {1010, false}, {990, false}, {900000, true}, {1020, false}};
  RepetitionFigure f = SummarizeBatches(batches, 100);
  EXPECT_EQ(f.kept, 4u);
  EXPECT_EQ(f.rejected, 1u);
  EXPECT_DOUBLE_EQ(f.ticks_per_call, 10.05);  // median of 990, 1000, 1010, 1020
}

TEST(SummarizeBatches, AnInterruptedBatchDoesNotMoveTheMedian) {
  // An interrupt is not a context switch: the batch stays, the median ignores it.
  std::vector<Batch> batches = {{1000, false}, {1000, false}, {50000, false}};
  EXPECT_DOUBLE_EQ(SummarizeBatches(batches, 10).ticks_per_call, 100);
}

TEST(SummarizeBatches, AllPreemptedFallsBackToAllBatches) {
  std::vector<Batch> batches = {{300, true}, {100, true}, {200, true}};
  RepetitionFigure f = SummarizeBatches(batches, 1);
  EXPECT_EQ(f.kept, 0u);
  EXPECT_EQ(f.rejected, 3u);
  EXPECT_DOUBLE_EQ(f.ticks_per_call, 200);
}

TEST(SummarizeBatches, ZeroCallsPerBatchIsABrokenInvariant) {
  EXPECT_DEATH(SummarizeBatches({{1, false}}, 0), "check failed: calls_per_batch > 0");
}

TEST(Check, NamesTheFileAndLine) {
  EXPECT_DEATH(SYSGATE_CHECK(1 + 1 == 3), "runner_test.cc:[0-9]+: internal error: check failed");
}

benchmark::BenchmarkReporter::Run Row(const std::string& name) {
  benchmark::BenchmarkReporter::Run run;
  run.run_name.function_name = name;
  run.iterations = 123456789;
  run.real_accumulated_time = 1.5;
  run.cpu_accumulated_time = 1.6;
  run.time_unit = benchmark::kNanosecond;
  return run;
}

TEST(CompactConsoleReporter, RowsFitIn120ColumnsAndNeverPrintNan) {
  auto run = Row("clock_gettime_monotonic_coarse/syscall/manual_time");
  run.counters["batches_kept"] = 1500;
  run.counters["batches_rejected"] = 3;
  run.counters["p99_ns"] = 250.5;
  std::string line = CompactConsoleReporter::FormatRow(run);
  EXPECT_LE(line.size(), kConsoleWidth);
  EXPECT_THAT(line, HasSubstr("1500/3"));
  EXPECT_LE(CompactConsoleReporter::Header().size(), kConsoleWidth);

  auto skipped = Row("getpid/ia32_sysenter/manual_time");
  skipped.error_occurred = true;
  skipped.error_message = "skipped: " + std::string(300, 'x');
  EXPECT_EQ(CompactConsoleReporter::FormatRow(skipped).size(), kConsoleWidth);

  auto cv = Row("getpid/syscall/manual_time");
  cv.run_type = benchmark::BenchmarkReporter::Run::RT_Aggregate;
  cv.aggregate_name = "cv";
  cv.aggregate_unit = benchmark::kPercentage;
  cv.real_accumulated_time = NAN;
  line = CompactConsoleReporter::FormatRow(cv);
  EXPECT_THAT(line, Not(HasSubstr("nan")));
  cv.real_accumulated_time = 0.058;
  EXPECT_THAT(CompactConsoleReporter::FormatRow(cv), HasSubstr("5.8%"));
}

TEST(AddContextKeys, AppendsToTheContextObjectOnly) {
  const std::string json =
      "{\n  \"context\": {\n    \"a\": \"1\"\n  },\n  \"benchmarks\": [\n  ]\n}\n";
  EXPECT_EQ(AddContextKeys(json, {{"run.steal_ms", "4"}, {"q", "say \"hi\""}}),
            "{\n  \"context\": {\n    \"a\": \"1\",\n    \"run.steal_ms\": \"4\",\n"
            "    \"q\": \"say \\\"hi\\\"\"\n  },\n  \"benchmarks\": [\n  ]\n}\n");
  EXPECT_EQ(AddContextKeys("not json", {{"k", "v"}}), "not json");
}

TEST(WriteFileCompletely, AFullDiskIsAnError) {
  std::string error;
  EXPECT_FALSE(WriteFileCompletely("/dev/full", std::string(1 << 16, 'x'), &error));
  EXPECT_THAT(error, HasSubstr("/dev/full"));
  const std::string path = ::testing::TempDir() + "/sysgate_write_test.json";
  ASSERT_TRUE(WriteFileCompletely(path, "{}\n", &error)) << error;
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{}\n");
}

TEST(RunFacts, StealIsTheEighthFieldOfTheCpuLine) {
  EXPECT_EQ(StealOf("cpu  10 0 20 400 5 1 2 77 0 0"), 77u);
  EXPECT_EQ(StealOf("cpu1 1 2 3"), std::nullopt);
  const std::string path = ::testing::TempDir() + "/sysgate_stat";
  {
    std::ofstream out(path);
    out << "cpu  10 0 20 400 5 1 2 100 0 0\ncpu0 5 0 10 200 2 0 1 60 0 0\n"
           "cpu1 5 0 10 200 3 1 1 40 0 0\nintr 1\n";
  }
  RunSnapshot a = TakeRunSnapshot(1, path);
  EXPECT_EQ(a.steal_ticks, 100u);
  EXPECT_EQ(a.cpu_steal_ticks, 40u);
  RunSnapshot b = a;
  *b.steal_ticks += 10;
  b.involuntary_switches += 2;
  auto ctx = RunFactsContext(a, b);
  std::map<std::string, std::string> keys(ctx.begin(), ctx.end());
  EXPECT_EQ(keys["run.steal_ms"], std::to_string(10 * 1000 / sysconf(_SC_CLK_TCK)));
  EXPECT_EQ(keys["run.cpu_steal_ms"], "0");
  EXPECT_EQ(keys["run.involuntary_switches"], "2");
  EXPECT_TRUE(keys.count("run.load_avg_end"));
}

}  // namespace
}  // namespace sysgate
