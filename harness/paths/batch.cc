#include "harness/paths/batch.h"

#include <algorithm>

#include "harness/platform/check.h"
#include "harness/platform/cycle_clock.h"

namespace sysgate {

bool RunBatch(const Path& path, uint64_t n, uint64_t arg, BatchRun* run, std::string* error) {
  if (path.timed) return path.timed(n, arg, &run->ticks, &run->result, error, &run->preempted);
  SYSGATE_CHECK(path.loop != nullptr);
  const uint64_t t0 = TscStart();
  run->result = path.loop(n, arg);
  run->ticks = TscStop() - t0;
  run->preempted = false;
  return true;
}

bool SizeBatch(const Path& path, uint64_t arg, double tsc_hz, double seconds,
               const BatchSizing& sizing, uint64_t* calls, std::string* error) {
  SYSGATE_CHECK(sizing.trial > 0 && sizing.smallest > 0 && sizing.smallest <= sizing.largest);
  uint64_t trial = sizing.trial, size = sizing.smallest;
  for (int round = 0; round < sizing.rounds; ++round) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 3; ++i) {
      BatchRun run;
      if (!RunBatch(path, trial, arg, &run, error)) return false;
      best = std::min(best, run.ticks);
    }
    const double per_call = std::max(1.0, static_cast<double>(best) / trial);
    const double want = seconds * tsc_hz / per_call;
    size = sizing.smallest;
    while (size * 2 <= want && size < sizing.largest) size *= 2;
    if (size <= trial) break;
    trial = size;
  }
  *calls = std::max(size, path.min_batch);  // both powers of two: a multiple of min_batch
  return true;
}

}  // namespace sysgate
