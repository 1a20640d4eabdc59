#include "harness/measure/runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>

#include "harness/paths/batch.h"
#include "harness/paths/stubs.h"
#include "harness/platform/check.h"

namespace sysgate {

Calibration Calibrate(const TscInfo& tsc) {
  Calibration c;
  c.tsc_hz = tsc.hz;
  c.pair_overhead = MeasureTscPairOverhead();
  // Best of several long batches: the divisor of every ratio must not carry a spike.
  constexpr uint64_t kCalls = 1u << 16;
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 7; ++i) {
    uint64_t t0 = TscStart();
    sysgate_call_loop(kCalls, 0);
    best = std::min(best, TscStop() - t0);
  }
  c.call_ticks = static_cast<double>(best) / kCalls;
  SYSGATE_CHECK(c.tsc_hz > 0 && c.call_ticks > 0);
  return c;
}

RepetitionFigure SummarizeBatches(const std::vector<Batch>& batches, uint64_t calls_per_batch) {
  SYSGATE_CHECK(calls_per_batch > 0);
  RepetitionFigure figure;
  std::vector<uint64_t> kept;
  kept.reserve(batches.size());
  for (const Batch& b : batches) {
    if (b.preempted) {
      ++figure.rejected;
    } else {
      kept.push_back(b.ticks);
    }
  }
  figure.kept = kept.size();
  if (kept.empty()) {
    for (const Batch& b : batches) kept.push_back(b.ticks);
  }
  if (kept.empty()) return figure;
  std::sort(kept.begin(), kept.end());
  const size_t mid = kept.size() / 2;
  const double median = kept.size() % 2 ? static_cast<double>(kept[mid])
                                        : (static_cast<double>(kept[mid - 1]) + kept[mid]) / 2;
  figure.ticks_per_call = median / static_cast<double>(calls_per_batch);
  return figure;
}

long InvoluntarySwitches() {
  rusage usage{};
  if (getrusage(RUSAGE_THREAD, &usage) != 0) return 0;
  return usage.ru_nivcsw;
}

std::string RowMessage(const std::string& reason) {
  return reason.rfind("failed: ", 0) == 0 ? reason : "skipped: " + reason;
}

BatchSizing RunnerBatchSizing(const Path& path, double tsc_hz) {
  return {.seconds = path.batch_seconds > 0 ? path.batch_seconds : kBatchSeconds,
          .tsc_hz = tsc_hz,
          .trial = 8,
          .min_calls = 1,
          .max_calls = kMaxBatch,
          .timed_rounds = 4};
}

bool Runner::ChooseBatch(const Path& path, uint64_t arg, uint64_t* batch, std::string* error) {
  if (auto it = batches_.find(&path); it != batches_.end()) {
    *batch = it->second;
    return true;
  }
  const BatchSizing sizing = RunnerBatchSizing(path, calibration_.tsc_hz);
  const std::optional<uint64_t> calls = ChooseBatchSize(path, arg, sizing, error);
  if (!calls) return false;
  *batch = batches_[&path] = *calls;
  return true;
}

Percentiles Runner::PerCallPass(const Path& path, uint64_t arg, std::string* error) const {
  std::vector<uint64_t> samples;
  samples.reserve(kPerCallSamples);
  const uint64_t budget = static_cast<uint64_t>(kPerCallSeconds * calibration_.tsc_hz);
  if (path.per_call) {
    path.per_call(kPerCallSamples, budget, arg, &samples, error);
    return ComputePercentiles(std::move(samples), calibration_.pair_overhead, calibration_.tsc_hz);
  }
  const uint64_t start = TscStart();
  while (samples.size() < kPerCallSamples && TscStart() - start < budget) {
    BatchTiming call = TimeBatch(path, 1, arg);
    if (!call.ok()) {
      *error = std::move(*call.error);
      break;
    }
    samples.push_back(call.ticks);
  }
  return ComputePercentiles(std::move(samples), calibration_.pair_overhead, calibration_.tsc_hz);
}

// The timed loop: each batch between its own TSC pair, and the thread's involuntary
// switches read between batches (outside the timed region) to find the preempted ones.
// A path run out of process is timed there, and its co-process reports its own. A batch
// that fails makes the row a skip (the state says so); *result is the last call's result.
std::vector<Batch> Runner::TimedBatches(benchmark::State& state, const Path& path, uint64_t arg,
                                        uint64_t batch, uint64_t* result) const {
  std::vector<Batch> batches;
  long switches = path.timed ? 0 : InvoluntarySwitches();
  while (state.KeepRunningBatch(static_cast<benchmark::IterationCount>(batch))) {
    BatchTiming timing = TimeBatch(path, batch, arg);
    if (!timing.ok()) {
      state.SkipWithError(("skipped: " + *timing.error).c_str());
      break;
    }
    *result = timing.result;
    Batch b{.ticks = timing.ticks, .preempted = timing.preempted};
    if (!path.timed) {
      const long now = InvoluntarySwitches();
      b.preempted = now != switches;
      switches = now;
    }
    batches.push_back(b);
  }
  return batches;
}

namespace {

// Why the last call's result makes the row a failure, or nullopt when it is what the row
// expects (or the row checks nothing).
std::optional<std::string> WrongResult(const Path& path, uint64_t result) {
  if (!path.expect || result == path.expect()) return std::nullopt;
  char message[160];
  std::snprintf(message, sizeof message,
                "failed: last call returned %" PRIu64 ", expected %" PRIu64, result, path.expect());
  return message;
}

// The repetition's real_time is the robust figure: manual time for all its iterations at
// the figure's rate (Google Benchmark divides by the iterations again).
void ReportFigure(benchmark::State& state, const Calibration& calibration,
                  const RepetitionFigure& figure, uint64_t batch, size_t batches) {
  const double iterations = static_cast<double>(batches * batch);
  state.SetIterationTime(figure.ticks_per_call * iterations / calibration.tsc_hz);
  state.counters["tsc_ticks"] = figure.ticks_per_call;
  state.counters["ratio_to_call"] = figure.ticks_per_call / calibration.call_ticks;
  state.counters["batch"] = static_cast<double>(batch);
  state.counters["batches_kept"] = static_cast<double>(figure.kept);
  state.counters["batches_rejected"] = static_cast<double>(figure.rejected);
}

void ReportPerCall(benchmark::State& state, const Percentiles& pc) {
  state.counters["p50_ns"] = pc.p50_ns;
  state.counters["p90_ns"] = pc.p90_ns;
  state.counters["p99_ns"] = pc.p99_ns;
  state.counters["p999_ns"] = pc.p999_ns;
  state.counters["percall_samples"] = static_cast<double>(pc.samples);
  state.counters["percall_outliers"] = static_cast<double>(pc.outliers);
}

// The row's own figures (the vDSO rows: did the call stay in user mode?).
void AddRowFigures(benchmark::State& state, const Path& path) {
  if (!path.after_timing) return;
  for (const auto& [column, value] : path.after_timing(path)) state.counters[column] = value;
}

}  // namespace

void Runner::MeasureRow(benchmark::State& state, const Path& path) {
  const uint64_t arg = path.arg ? path.arg() : 0;
  std::string error;
  uint64_t batch = 1;
  if (!ChooseBatch(path, arg, &batch, &error)) {
    state.SkipWithError(("skipped: " + error).c_str());
    return;
  }
  uint64_t result = 0;
  const std::vector<Batch> batches = TimedBatches(state, path, arg, batch, &result);
  if (state.error_occurred()) return;
  SYSGATE_CHECK(!batches.empty());
  if (std::optional<std::string> wrong = WrongResult(path, result)) {
    state.SkipWithError(wrong->c_str());
    return;
  }
  const RepetitionFigure figure = SummarizeBatches(batches, batch);
  ReportFigure(state, calibration_, figure, batch, batches.size());
  ReportPerCall(state, PerCallPass(path, arg, &error));
  AddRowFigures(state, path);
  AddCountingFigures(state, path, figure.ticks_per_call);
}

void Runner::Run(benchmark::State& state, const Path& path, const std::string& skip_reason) {
  state.SetLabel(PathLabel(path));
  if (!skip_reason.empty()) {
    state.SkipWithError(RowMessage(skip_reason).c_str());
    return;
  }
  MeasureRow(state, path);
  if (path.release) path.release();
}

// The counting pass's figures (already per call; absent when not counted here).
void Runner::AddCountingFigures(benchmark::State& state, const Path& path,
                                double ticks_per_call) const {
  auto counted = counts_.by_path.find(path.name);
  if (counted == counts_.by_path.end()) return;
  const PathCounts& c = counted->second;
  for (const auto& [column, value] : c.per_call) state.counters[column] = value;
  if (ticks_per_call > 0) state.counters["observer_effect"] = c.ticks_per_call / ticks_per_call;
  if (c.scale > GroupReading::kLargeScale) state.counters["counters_scale"] = c.scale;
  if (path.expected_entries_known()) {
    state.counters["counts_mismatch"] = c.mismatch ? 1 : 0;
    // The counting pass saw this vDSO row enter the kernel: that is a fallback whatever
    // the paired timing check concluded.
    if (path.mechanism == Mechanism::kVdso && path.expected_entries == 0 && c.mismatch) {
      state.counters["vdso_fallback"] = 1;
    }
  }
}

}  // namespace sysgate
