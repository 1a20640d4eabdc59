// The counting pass: every path run once more with perf counter groups open (on this
// thread, or on the ia32 helper's pid for its rows), before (never during) the timing pass.
//
// Why a separate pass: an open tracepoint counter puts every syscall of every task on the
// slow path, even while the counter is disabled (+16-20 ns here; +60-90 ns enabled on the
// measured thread), and hardware counters cost a little on each context switch. So the
// timing pass must run with no perf fd open, and the counting pass reports how much its
// own counters changed the latency (`observer_effect`). RunCountingPass closes every fd it
// opened before it returns.
#ifndef SYSGATE_HARNESS_MEASURE_COUNTING_PASS_H_
#define SYSGATE_HARNESS_MEASURE_COUNTING_PASS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/measure/perf_events.h"
#include "harness/measure/perf_group.h"
#include "harness/paths/batch.h"
#include "harness/paths/paths.h"

namespace sysgate {

// One counter column of the results: `column` is the JSON counter name, `event` what the
// encoder gets, `multiplier` turns the event's count into the column's unit.
struct CounterSpec {
  std::string column;
  std::string event;
  double multiplier = 1;
  std::string calibration;  // how the multiplier was chosen, for the context
};

struct CounterPlan {
  std::vector<CounterSpec> counters;
  // Columns decided unavailable before anything was opened (permissions, no known
  // event), each with its reason and remedy.
  std::vector<EventFailure> unavailable;
};

// --counters=auto: cycles and instructions split user/kernel, the mode-switch event of the
// detected core PMU, raw_syscalls:sys_enter as syscall_entries, context switches, page
// faults and task-clock (kernel_entries is derived from them, see kKernelEntriesColumn); what
// `perms` forbids goes to `unavailable` with the remedy.
CounterPlan DefaultCounterPlan(const EventEncoder& encoder, const PerfPermissions& perms);

// --counters=LIST: comma-separated event names (anything EventEncoder takes); each
// becomes the column ColumnName(name), except the names of the default set's columns
// (`cycles_kernel`, `kernel_entries`, ...), which select that default counter. nullopt
// and *error for an empty list or an empty item.
std::optional<CounterPlan> ParseCounterList(std::string_view list, const EventEncoder& encoder,
                                            const PerfPermissions& perms, std::string* error);

// The reason `per_call` kernel entries (syscalls plus page faults) contradict the row's
// expected_entries, or nullopt (also when the row does not know what to expect).
std::optional<std::string> CheckKernelEntries(const Path& path, double per_call);

// The row the mode-switch event is calibrated on: the first in-process x86-64 row that
// makes exactly one raw SYSCALL per call; nullptr when the table has none.
const Path* CalibrationRow(const std::vector<const Path*>& paths);

struct PathCounts {
  std::vector<std::pair<std::string, double>> per_call;  // column -> value per call
  uint64_t calls = 0;
  double ticks_per_call = 0;  // TSC ticks per call with the counters open and enabled
  double scale = 1;           // enabled / running of the group for this path
  std::optional<std::string> mismatch;
};

// The derived column: kernel entries per call, every way the pass can see them: syscalls
// (`syscall_entries`, the raw_syscalls:sys_enter tracepoint; else `mode_switches` / 2)
// plus page faults (`page_faults`: the vsyscall page enters by one). In a --counters
// list, `kernel_entries` selects the columns it is the sum of.
inline constexpr char kKernelEntriesColumn[] = "kernel_entries";

// kernel_entries of one path's counts; nullopt when no syscall count was taken.
std::optional<double> KernelEntries(const PathCounts& counts);

struct CountingResult {
  std::map<std::string, PathCounts, std::less<>> by_path;
  std::vector<std::pair<std::string, std::string>> context;  // `counters.*` keys
  std::vector<std::string> warnings;                         // one line each
};

// How the counting pass sizes a path's one counted batch (ChooseBatchSize,
// harness/paths/batch.h): a power of two from 64 to 2^26 calls near `seconds`, from trials
// of 16 calls, not refined (one batch per path, and counts need no amortized clock).
BatchSizing CountingBatchSizing(double tsc_hz, double seconds);

// Counts each path of `paths` for about `seconds_per_path`. In-process paths are counted
// on the calling thread. `timed` paths run in a co-process and are counted with the same
// groups opened on its thread (cpu -1: it runs on the measuring CPU) around each batch
// request: the thread the row's `counted_thread` names (a runtime helper's loop thread),
// else `timed_pid` (the ia32 helper). Those counts also hold the co-process's side of the
// request (a few syscalls and context switches), so a batch of 0 calls is counted before
// and after and the mean of the two is subtracted. A timed path with no thread to count
// on (-1) is listed in `counters.skipped_paths`. Every fd is closed before returning.
// Never throws: a machine with nothing to count gives empty results and the reasons in
// `context`.
CountingResult RunCountingPass(const std::vector<const Path*>& paths, const CounterPlan& plan,
                               const EventEncoder& encoder, const PerfPermissions& perms,
                               double tsc_hz, double seconds_per_path = 0.01, pid_t timed_pid = -1);

// perf_event file descriptors held by processes under `proc_root` ("/proc"), except
// `self`: one "pid (comm): N" entry per process. Needs root to see other users' fds.
std::vector<std::string> OtherPerfEventHolders(const std::string& proc_root, pid_t self);

// perf_event file descriptors process `pid` holds.
int CountPerfEventFds(const std::string& proc_root, pid_t pid);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_MEASURE_COUNTING_PASS_H_
