// The measurement method, in one place: calibration, batch sizing, the timed loop of one
// repetition and its robust figure, the per-call pass and the row's own figures. The
// benchmark binary only parses flags and registers one Google Benchmark row per path,
// whose body is Runner::Run (docs/methodology.md).
#ifndef SYSGATE_HARNESS_MEASURE_RUNNER_H_
#define SYSGATE_HARNESS_MEASURE_RUNNER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "harness/measure/counting_pass.h"
#include "harness/measure/per_call.h"
#include "harness/paths/batch.h"
#include "harness/paths/paths.h"
#include "harness/platform/cycle_clock.h"

namespace sysgate {

// Each batch should take about this long: long enough that the rdtscp pair and Google
// Benchmark's loop bookkeeping (tens of ns) vanish in it, short enough that most batches
// contain no timer interrupt and a preempted one can be dropped without losing much.
// A row may ask for longer batches (Path::batch_seconds: the language-runtime helpers').
inline constexpr double kBatchSeconds = 20e-6;
inline constexpr uint64_t kMaxBatch = 1u << 20;
// How the runner sizes a row's batches (ChooseBatchSize, harness/paths/batch.h): a power
// of two up to kMaxBatch near the row's batch time, from trials of 8 calls, refined over
// up to 4 rounds for rows measured out of process.
BatchSizing RunnerBatchSizing(const Path& path, double tsc_hz);
// The per-call pass: at most this many single calls, or this long, per repetition.
inline constexpr size_t kPerCallSamples = 2000;
inline constexpr double kPerCallSeconds = 0.005;

// What every row needs from start-up: the clock and the 64-bit call baseline.
struct Calibration {
  double tsc_hz = 0;
  uint64_t pair_overhead = 0;  // ticks of an empty TscStart/TscStop pair
  double call_ticks = 0;       // ticks per baseline/call
};

Calibration Calibrate(const TscInfo& tsc);

// One timed batch of a repetition: its TSC ticks and whether the measuring thread was
// involuntarily switched out while it ran (then the ticks hold another task's time).
struct Batch {
  uint64_t ticks = 0;
  bool preempted = false;
};

// A repetition's figure from its batches (docs/methodology.md, "The estimator"): the
// median ticks per call over the batches that were not preempted. A preempted batch, or
// one that took an interrupt, is slow by microseconds; the median ignores the few that
// are while the batches of one repetition are otherwise alike. When every batch was
// preempted the median of all of them is the figure (kept is then 0).
struct RepetitionFigure {
  double ticks_per_call = 0;
  uint64_t kept = 0;
  uint64_t rejected = 0;
};
RepetitionFigure SummarizeBatches(const std::vector<Batch>& batches, uint64_t calls_per_batch);

// Involuntary context switches of the calling thread so far (getrusage RUSAGE_THREAD).
long InvoluntarySwitches();

// The row's message for a probe's reason: "failed: ..." (a correctness check) as it is,
// anything else as "skipped: <reason>".
std::string RowMessage(const std::string& reason);

class Runner {
 public:
  // `counts` (the counting pass's results, may be empty) must outlive the runner.
  Runner(const Calibration& calibration, const CountingResult& counts)
      : calibration_(calibration), counts_(counts) {}

  // One repetition of `path` as a Google Benchmark row: the timed batches, the figure,
  // the per-call pass, the row's own figures (after_timing) and the counting pass's figures.
  // A non-empty `skip_reason` makes the row a skip (or a failure) with that reason. The
  // row's release hook runs after it, so that what the row set up does not outlive it.
  void Run(benchmark::State& state, const Path& path, const std::string& skip_reason);

  const Calibration& calibration() const { return calibration_; }

 private:
  // The measured row (it can run here): batch size, timed batches, figures.
  void MeasureRow(benchmark::State& state, const Path& path);
  // The batch size, chosen once per path (ChooseBatchSize, harness/paths/batch.h).
  bool ChooseBatch(const Path& path, uint64_t arg, uint64_t* batch, std::string* error);
  std::vector<Batch> TimedBatches(benchmark::State& state, const Path& path, uint64_t arg,
                                  uint64_t batch, uint64_t* result) const;
  Percentiles PerCallPass(const Path& path, uint64_t arg, std::string* error) const;
  void AddCountingFigures(benchmark::State& state, const Path& path, double ticks_per_call) const;

  Calibration calibration_;
  const CountingResult& counts_;
  // Chosen once per path and kept: Google Benchmark requires every repetition of a row
  // to run the same number of iterations (statistics.cc checks it).
  std::map<const Path*, uint64_t> batches_;
};

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_MEASURE_RUNNER_H_
