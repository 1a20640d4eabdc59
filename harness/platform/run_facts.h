// Facts about the conditions of a whole run, read at its start and its end: steal time
// (a hypervisor ran someone else on this vCPU), context switches of this process, and the
// load average. The binary records them in the results' context (`run.*` keys,
// docs/results-format.md); scripts/sysgatelib/verdicts/checks.py decides what they mean.
#ifndef SYSGATE_HARNESS_PLATFORM_RUN_FACTS_H_
#define SYSGATE_HARNESS_PLATFORM_RUN_FACTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sysgate {

struct RunSnapshot {
  std::optional<uint64_t> steal_ticks;      // the `steal` field of /proc/stat, in USER_HZ
  std::optional<uint64_t> cpu_steal_ticks;  // the same for the pinned CPU
  long voluntary_switches = 0, involuntary_switches = 0;  // getrusage(RUSAGE_SELF)
  double monotonic_seconds = 0;
};

// Reads the snapshot; `cpu` < 0: no pinned CPU.
RunSnapshot TakeRunSnapshot(int cpu, const std::string& proc_stat = "/proc/stat");

// The steal time of a line of /proc/stat ("cpu  user nice system idle iowait irq softirq
// steal ..."): its 8th number; nullopt when the line has fewer.
std::optional<uint64_t> StealOf(const std::string& line);

// The context keys for the run between `start` and `end`: run.seconds,
// run.steal_ms (all CPUs), run.cpu_steal_ms (the pinned one), run.context_switches,
// run.involuntary_switches, run.load_avg_end. A fact that cannot be read is "unknown".
std::vector<std::pair<std::string, std::string>> RunFactsContext(const RunSnapshot& start,
                                                                 const RunSnapshot& end);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_RUN_FACTS_H_
