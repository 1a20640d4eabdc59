// The TSC as a clock: fenced reads, and its frequency calibrated against
// CLOCK_MONOTONIC_RAW.
//
// TSC ticks are not core cycles: the TSC counts at a constant reference rate (2.3 GHz on
// one of our VMs whose cores run near 2.9 GHz). sysgate calls these figures `tsc_ticks`
// and keeps the word "cycles" for the PMU's core cycles.
#ifndef SYSGATE_HARNESS_PLATFORM_CYCLE_CLOCK_H_
#define SYSGATE_HARNESS_PLATFORM_CYCLE_CLOCK_H_

#include <x86intrin.h>

#include <cstdint>
#include <string>

namespace sysgate {

// Read the TSC before the measured code. The lfence before rdtsc waits for earlier
// instructions to complete (so they are not counted), the lfence after keeps the measured
// code from starting before the read. LFENCE is dispatch-serializing on Intel and on AMD
// once the kernel sets MSR C001_1029[1] (X86_FEATURE_LFENCE_RDTSC), which Linux does.
inline uint64_t TscStart() {
  _mm_lfence();
  uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

// Read the TSC after the measured code. rdtscp waits for all earlier instructions to
// execute; the lfence after it keeps later instructions from starting before the read.
inline uint64_t TscStop() {
  unsigned int aux;
  uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

struct TscInfo {
  double hz = 0;           // ticks per second, measured
  bool invariant = false;  // constant_tsc and nonstop_tsc (or CPUID 0x80000007 EDX[8])
  std::string how;         // how hz was found, for the context
};

// Measures the TSC against CLOCK_MONOTONIC_RAW over a few short windows and keeps the
// median. CPUID leaves 0x15/0x16 are zero in many VMs, so they are not trusted.
TscInfo CalibrateTsc();

// The median ticks of an empty TscStart()/TscStop() pair: what the per-call pass
// subtracts from every sample.
uint64_t MeasureTscPairOverhead();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_CYCLE_CLOCK_H_
