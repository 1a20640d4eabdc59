#include "harness/paths/batch.h"

#include <algorithm>

#include "harness/platform/check.h"
#include "harness/platform/cycle_clock.h"

namespace sysgate {
namespace {

bool PowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The largest power of two from `sizing.min_calls` (doubling, at most max_calls) whose
// calls at `per_call` ticks fit in the target time.
uint64_t CallsWithin(const BatchSizing& sizing, double per_call) {
  const double want = sizing.seconds * sizing.tsc_hz / per_call;
  uint64_t n = sizing.min_calls;
  while (n * 2 <= want && n < sizing.max_calls) n *= 2;
  return n;
}

}  // namespace

BatchTiming TimeBatch(const Path& path, uint64_t calls, uint64_t arg) {
  BatchTiming batch;
  if (path.timed) {
    std::string error;
    if (!path.timed(calls, arg, &batch.ticks, &batch.result, &error, &batch.preempted)) {
      batch.error = std::move(error);
    }
    return batch;
  }
  const uint64_t t0 = TscStart();
  batch.result = path.loop(calls, arg);
  batch.ticks = TscStop() - t0;
  return batch;
}

std::optional<uint64_t> ChooseBatchSize(const Path& path, uint64_t arg, const BatchSizing& sizing,
                                        std::string* error) {
  SYSGATE_CHECK(sizing.seconds > 0 && sizing.tsc_hz > 0 && sizing.trial > 0);
  SYSGATE_CHECK(PowerOfTwo(sizing.min_calls) && PowerOfTwo(sizing.max_calls));
  SYSGATE_CHECK(sizing.min_calls <= sizing.max_calls && sizing.timed_rounds >= 1);
  SYSGATE_CHECK(PowerOfTwo(path.min_batch));
  const int rounds = path.timed ? sizing.timed_rounds : 1;
  uint64_t trial = sizing.trial, calls = sizing.min_calls;
  for (int round = 0; round < rounds; ++round) {
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 3; ++i) {
      BatchTiming batch = TimeBatch(path, trial, arg);
      if (!batch.ok()) {
        *error = std::move(*batch.error);
        return std::nullopt;
      }
      best = std::min(best, batch.ticks);
    }
    calls = CallsWithin(sizing, std::max(1.0, static_cast<double>(best) / trial));
    if (calls <= trial) break;
    trial = calls;
  }
  return std::max(calls, path.min_batch);  // both powers of two: a multiple of min_batch
}

}  // namespace sysgate
