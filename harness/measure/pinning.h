// Pin the measuring thread to one CPU so its caches, TLB and branch predictors stay warm
// and the scheduler cannot migrate it between batches.
#ifndef SYSGATE_HARNESS_MEASURE_PINNING_H_
#define SYSGATE_HARNESS_MEASURE_PINNING_H_

#include <string>

namespace sysgate {

// The highest-numbered CPU in this thread's allowed set (CPU 0 takes most interrupts and
// housekeeping), or -1 when the set cannot be read.
int DefaultCpu();

// Pins the calling thread to `cpu`. On failure returns false and says why in *error.
bool PinToCpu(int cpu, std::string* error);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_MEASURE_PINNING_H_
