// The per-call pass: rdtscp around single calls, the cost of an empty pair subtracted,
// to see the latency distribution that the batched mean hides.
#ifndef SYSGATE_HARNESS_MEASURE_PER_CALL_H_
#define SYSGATE_HARNESS_MEASURE_PER_CALL_H_

#include <cstdint>
#include <vector>

namespace sysgate {

struct Percentiles {
  double p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0;
  uint64_t samples = 0;   // samples kept
  uint64_t outliers = 0;  // samples dropped as interruptions (see ComputePercentiles)
};

// Nearest-rank percentiles of `ticks` (one single call each) in nanoseconds, after
// subtracting `pair_overhead` ticks (clamped at 0). Samples above both kOutlierFactor times
// the median and kOutlierFloorSeconds are dropped and counted: on a VM a fenced rdtscp pair
// now and then takes 0.1-4 ms when the vCPU is descheduled, which says nothing about the
// path. The floor keeps a cache miss on a 2 ns path from counting as an interruption.
inline constexpr double kOutlierFactor = 50.0;
inline constexpr double kOutlierFloorSeconds = 20e-6;
Percentiles ComputePercentiles(std::vector<uint64_t> ticks, uint64_t pair_overhead, double tsc_hz);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_MEASURE_PER_CALL_H_
