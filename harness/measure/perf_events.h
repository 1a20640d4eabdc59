// Event names -> perf_event_attr, and the reasons an event cannot be counted here.
//
// Names are encoded by libpfm4 (`pfm_get_os_event_encoding` with PFM_OS_PERF_EVENT_EXT)
// when sysgate is built with it, so any name `perf list`/`showevtinfo` knows works:
// `cycles:u`, `perf::context-switches`, `BR_INST_RETIRED:FAR_BRANCH:k`. Tracepoints
// (`raw_syscalls:sys_enter`) are resolved from tracefs, which libpfm4 does not read.
// Without libpfm4 a small table of perf-native names still works (cycles, instructions,
// task-clock, context-switches, page-faults, with :u / :k).
//
// Nothing here opens a file descriptor: perf_group.h does that. Everything that depends on
// the machine (permissions, tracefs location) is a parameter so tests can inject it.
#ifndef SYSGATE_HARNESS_MEASURE_PERF_EVENTS_H_
#define SYSGATE_HARNESS_MEASURE_PERF_EVENTS_H_

#include <linux/perf_event.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysgate {

// Where a counter's number comes from; the JSON says so for every counter.
enum class CounterSource { kPmu, kSoftware, kTracepoint };
const char* SourceName(CounterSource source);  // "pmu", "software", "tracepoint"

// Which privilege levels to count when the name does not say (`:u`, `:k` win).
enum class Levels { kUserAndKernel, kUser, kKernel };

// What the kernel will let this process count. Read from the live system by
// ReadPerfPermissions(); tests build their own.
struct PerfPermissions {
  int paranoid = 2;         // /proc/sys/kernel/perf_event_paranoid
  bool privileged = false;  // root, CAP_PERFMON or CAP_SYS_ADMIN in the effective set
  bool tracefs_readable = true;
};

// `root` prefixes /proc paths (fixtures in tests, "" for the live system).
PerfPermissions ReadPerfPermissions(const std::string& root = "");

// Kernel-mode counting (exclude_kernel = 0) needs perf_event_paranoid <= 1 or
// CAP_PERFMON (kernel/events/core.c, perf_allow_kernel()).
bool KernelCountingAllowed(const PerfPermissions& perms);
// Any per-thread counting at all: Debian's paranoid level 3 forbids it unprivileged.
bool CountingAllowed(const PerfPermissions& perms);
// Why kernel-mode counting is refused, with the remedy; "" when it is allowed.
std::string KernelCountingRefusal(const PerfPermissions& perms);

struct EncodedEvent {
  std::string name;        // as requested: "cycles:k"
  std::string canonical;   // libpfm4's fully qualified string, or the tracepoint path
  perf_event_attr attr{};  // type, config, exclude_* set; read_format etc. left 0
  CounterSource source = CounterSource::kSoftware;
};

// An encoded event or the reason (one line) why the name is not usable here.
struct EncodeResult {
  std::optional<EncodedEvent> event;
  std::string error;
};

// Where tracepoint ids live. The first of these that holds `events/` is used.
std::vector<std::string> DefaultTracefsRoots();

class EventEncoder {
 public:
  // `tracefs_roots` are searched in order for events/<subsys>/<event>/id.
  explicit EventEncoder(std::vector<std::string> tracefs_roots = DefaultTracefsRoots());

  EncodeResult Encode(std::string_view name, Levels levels = Levels::kUserAndKernel) const;

  // libpfm4 initialized and usable.
  bool HaveLibpfm() const { return libpfm_ok_; }
  // libpfm4's name of the core PMU it detected on this CPU ("skl", "amd64_fam19h_zen4"),
  // or "" when none (or libpfm4 is absent).
  const std::string& CorePmu() const { return core_pmu_; }
  // Why libpfm4 is not usable ("" when it is): not built in, or pfm_initialize failed.
  const std::string& init_error() const { return init_error_; }

 private:
  EncodeResult EncodeTracepoint(std::string_view name) const;
  EncodeResult EncodeCounter(std::string_view name, Levels levels) const;
  std::vector<std::string> tracefs_roots_;
  bool libpfm_ok_ = false;
  std::string core_pmu_;
  std::string init_error_;
};

// The mode-switch event of a core PMU, as libpfm4 names the PMU; nullopt when sysgate
// knows none for it. `transitions_per_count` turns the event's count into user<->kernel
// transitions: a far-branch event counts both the `syscall` and the `sysret` (2 per
// kernel entry, so 1), a ring-0 transition event counts entries only (so 2).
struct ModeSwitchEvent {
  std::string event;
  double transitions_per_count;
};
std::optional<ModeSwitchEvent> ModeSwitchEventFor(std::string_view core_pmu);

// Why perf_event_open failed with `err` for `event`, with the remedy. Tests inject errno
// values; the live code passes errno.
std::string OpenFailureReason(int err, const EncodedEvent& event, const PerfPermissions& perms);

// A counter name a JSON column can carry: lower case, [a-z0-9_] ("cycles:u" -> "cycles_u").
std::string ColumnName(std::string_view event_name);

// Every event of every PMU libpfm4 detects here, one "pmu::EVENT  description" per line,
// plus the tracepoint syntax; for --list-events.
std::vector<std::string> ListSupportedEvents(const EventEncoder& encoder);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_MEASURE_PERF_EVENTS_H_
