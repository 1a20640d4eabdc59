// One batch of a path, and how many calls a batch should make: the one way the runner,
// the counting pass and the vDSO fallback check run a path (docs/methodology.md).
//
// A batch is `calls` calls of the path's own loop between one TSC pair, in process (the
// row's `loop`), or out of process through its `timed` runner, which reports the ticks the
// co-process measured around its loop. The sizing routine picks a power of two near a
// target time from trial batches; each caller brings its own target, trial and bounds.
#ifndef SYSGATE_HARNESS_PATHS_BATCH_H_
#define SYSGATE_HARNESS_PATHS_BATCH_H_

#include <cstdint>
#include <optional>
#include <string>

#include "harness/paths/path.h"

namespace sysgate {

// What one batch gave.
struct BatchTiming {
  uint64_t ticks = 0;   // TSC ticks around the loop
  uint64_t result = 0;  // the loop's last result
  // Out of process only: whether the co-process says it was involuntarily switched out
  // during the batch. In process it stays false: the caller reads the thread's switches
  // between batches (outside the timed region).
  bool preempted = false;
  std::optional<std::string> error;  // set when the batch failed (out of process only)

  bool ok() const { return !error; }
};

// Runs one batch of `calls` calls of `path` with `arg`.
BatchTiming TimeBatch(const Path& path, uint64_t calls, uint64_t arg);

// How a caller sizes its batches.
struct BatchSizing {
  double seconds = 0;      // each batch should take about this long
  double tsc_hz = 0;       // ticks per second
  uint64_t trial = 8;      // calls in each of the three trial batches
  uint64_t min_calls = 1;  // the smallest size the doubling starts from (a power of two)
  uint64_t max_calls = 1;  // the doubling stops here (a power of two)
  // Rows measured out of process carry a fixed cost in every batch that a short trial
  // cannot amortize: their estimate is refined with trials of the size just chosen, for
  // up to this many rounds in all, until the size stops growing. 1: no refinement.
  int timed_rounds = 1;
};

// A power of two of calls that takes about `sizing.seconds`, from the best (fewest ticks)
// of three trial batches: the largest of min_calls, 2 min_calls, ... up to max_calls whose
// estimated time is within the target; never below the row's `min_batch` (both powers of
// two, so the size is a multiple of it). nullopt and *error when a trial batch failed.
std::optional<uint64_t> ChooseBatchSize(const Path& path, uint64_t arg, const BatchSizing& sizing,
                                        std::string* error);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_BATCH_H_
