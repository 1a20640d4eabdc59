// One batch of a row, and the one routine that sizes batches. The runner's timed loop
// and per-call pass (harness/measure/runner.h), the counting pass
// (harness/measure/counting_pass.h) and the vDSO fallback check (vdso_paths.h) all run a
// row through these, so that "a batch" means one thing everywhere: `n` calls of the
// row's loop between one TSC pair in this process, or the row's `timed` runner out of it.
#ifndef SYSGATE_HARNESS_PATHS_BATCH_H_
#define SYSGATE_HARNESS_PATHS_BATCH_H_

#include <cstdint>
#include <string>

#include "harness/paths/path.h"

namespace sysgate {

// What one batch gave: its TSC ticks, the last call's result, and whether the process
// that ran it was involuntarily switched out (said only by an out-of-process runner;
// in-process callers read the switches themselves, outside the timed region).
struct BatchRun {
  uint64_t ticks = 0;
  uint64_t result = 0;
  bool preempted = false;
};

// Runs `n` calls of `path` with `arg`. False, with *error, when an out-of-process batch
// failed (an in-process loop cannot fail).
bool RunBatch(const Path& path, uint64_t n, uint64_t arg, BatchRun* run, std::string* error);

// How a caller sizes its batches: the calls of each trial batch, the bounds of the size
// (powers of two) and how many rounds of trials may refine it.
struct BatchSizing {
  uint64_t trial = 8;
  uint64_t smallest = 1;
  uint64_t largest = uint64_t{1} << 20;
  // Rounds of three trials: after the first, each round's trials are of the size just
  // chosen, until the size stops growing. A row measured out of process carries a fixed
  // cost in every batch that a short trial cannot amortize, so its callers refine.
  int rounds = 1;
};

// The largest power of two in [sizing.smallest, sizing.largest] whose calls take at most
// `seconds` at `tsc_hz`, from the best of three trial batches (a row's min_batch is a
// floor: every batch is a multiple of it). False, with *error, when a trial batch failed.
bool SizeBatch(const Path& path, uint64_t arg, double tsc_hz, double seconds,
               const BatchSizing& sizing, uint64_t* calls, std::string* error);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_BATCH_H_
