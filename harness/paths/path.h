// One row of the path table (harness/paths/paths.h): what a path is, what it calls, what
// it is compared with. Every family builds its rows from this type alone.
//
// Names are `family/variant` and are an API: reports, the history store and comparisons
// key on them. Adding a path is one stub (or loop) plus one row.
#ifndef SYSGATE_HARNESS_PATHS_PATH_H_
#define SYSGATE_HARNESS_PATHS_PATH_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/paths/stubs.h"

namespace sysgate {

// Prepares the loop's `arg` (an fd, a pointer); called once per benchmark run, outside
// the timed region.
using ArgFn = uint64_t (*)();
// What the loop's last result must be; compared before the figures are trusted.
using ExpectFn = uint64_t (*)();
// nullopt when the path can run here, otherwise why not (becomes "skipped: <reason>"). A
// reason that starts with "failed: " is a path that runs but returned a wrong value (a
// correctness check before timing): the row says so as it is, not as a skip.
using ProbeFn = std::optional<std::string> (*)();
// A path whose loop runs elsewhere (the 32-bit helper) and reports the TSC ticks it
// measured around its own loop. Returns false and sets *error when the batch failed.
// *preempted: whether the process running the loop was involuntarily switched out.
using TimedFn = bool (*)(uint64_t iterations, uint64_t arg, uint64_t* ticks, uint64_t* result,
                         std::string* error, bool* preempted);
// The per-call pass of a path measured out of process: up to `max_samples` single calls,
// each timed there between its own TSC pair, for at most `budget_ticks`; appends the raw
// ticks to *ticks. Saves a round trip per sample.
using PerCallFn = bool (*)(uint64_t max_samples, uint64_t budget_ticks, uint64_t arg,
                           std::vector<uint64_t>* ticks, std::string* error);

// The way into the kernel a path takes; one vocabulary with load.MECHANISMS in
// scripts/sysgatelib/results/load.py (docs/results-format.md). The ABI says which side of it:
// `int80` with abi ia32 is the 32-bit helper's int 0x80.
enum class Mechanism {
  kLoop,          // the empty loop: what the harness itself costs
  kCall,          // a plain call and return: the baselines
  kGlibc,         // the libc function (which may or may not enter the kernel)
  kSyscall,       // the SYSCALL instruction (compat SYSCALL from the 32-bit helper)
  kInt80,         // int 0x80
  kSysenter,      // SYSENTER, or __kernel_vsyscall that uses it
  kVdso,          // a __vdso_* function: stays in user mode
  kVsyscallPage,  // the legacy fixed-address page: one page fault per call
  kIoUring,       // a request through an io_uring ring
  kRuntime,       // a language runtime's own wrapper (Go, Java, Python)
};

enum class Abi { kX86_64, kIa32 };

// "vsyscall_page", "x86_64", ...: the names the results file and --list-paths use.
std::string_view MechanismName(Mechanism mechanism);
std::string_view AbiName(Abi abi);

// NaN: how many times one call enters the kernel is not known in advance (a libc
// function that may use the vDSO or a syscall).
inline constexpr double kEntriesUnknown = __builtin_nan("");

// The plain-call rows every ratio divides by (`baseline`), one per ABI.
inline constexpr std::string_view kCallBaseline = "baseline/call";
inline constexpr std::string_view kIa32CallBaseline = "baseline/ia32_call";
inline constexpr std::string_view kLoopBaseline = "baseline/empty_loop";
// The thread a timed path's calls run on, for the counting pass (a runtime helper's loop
// thread); -1 when its co-process is not running.
using ThreadFn = pid_t (*)();

struct Path;
// Figures a row adds to its results row after its timed repetition, as (counter, value)
// pairs, measured outside the timed region; the generic runner knows no family, the row
// brings its own (the vDSO rows' fallback check: harness/paths/vdso_paths.h).
using AfterTimingFn = std::vector<std::pair<std::string, double>> (*)(const Path& path);
using ReleaseFn = void (*)();

struct Path {
  std::string_view name;  // "getpid/syscall": `family/variant`
  Mechanism mechanism;
  // Kernel entries one call makes when it works as designed: syscalls plus faults (the
  // vsyscall page: 1 fault; open+close: 2; baselines and vDSO paths: 0, the controls).
  double expected_entries;
  LoopFn loop = nullptr;         // runs the path N times in-process; null when `timed` is set
  std::string_view peer = {};    // "" or the row this one is best read next to
                                 // (getpid/int80 next to getpid/syscall)
  ArgFn arg = nullptr;           // null: arg is 0
  ExpectFn expect = nullptr;     // null: result not checked
  ProbeFn probe = nullptr;       // null: always available
  TimedFn timed = nullptr;       // set for paths measured out of process
  PerCallFn per_call = nullptr;  // out of process: the per-call pass (null: `timed` with n=1)
  Abi abi = Abi::kX86_64;
  // The plain-call row this one's ratio divides by; "" in a row means the call baseline
  // of its ABI (filled in when the table is built).
  std::string_view baseline = {};
  // Timed paths: where the counting pass counts them; null: the pid RunCountingPass is
  // given (the ia32 helper's).
  ThreadFn counted_thread = nullptr;
  // The loop's unit of work, a power of two: every batch is a multiple of it
  // (io_uring/nop_64 submits 64 operations at a time; a batch of 32 would time nop_32).
  uint64_t min_batch = 1;
  // How long each batch should take; 0: the runner's default (kBatchSeconds,
  // harness/measure/runner.h). Longer for rows whose batch carries a fixed cost.
  double batch_seconds = 0;
  AfterTimingFn after_timing = nullptr;  // null: no figures of its own
  // Called when the row is done with what its arg() set up (after its timing, after its
  // count): state that must not outlive the row. io_uring/sqpoll_64's polling thread is a
  // thread of this process sharing its file table, which sends every other row's read,
  // write and fstat down the kernel's shared-table path (docs/methodology.md, lmbench).
  ReleaseFn release = nullptr;
  // The row can run where its peer can: the table gives it the peer's probe (an
  // indirect_* row wraps its peer's call in other work).
  bool probe_from_peer = false;

  std::string_view family() const { return name.substr(0, name.find('/')); }
  std::string_view variant() const {
    const size_t slash = name.find('/');
    return slash == std::string_view::npos ? std::string_view() : name.substr(slash + 1);
  }
  bool expected_entries_known() const { return expected_entries == expected_entries; }
};

// A row's facts as `key=value` pairs separated by spaces: the label of its results row
// (Google Benchmark rows carry one string), read back by scripts/sysgatelib/results/load.py.
std::string PathLabel(const Path& path);

// Expected kernel entries as the results file and the label write them: integers without
// a fraction.
std::string EntriesText(double entries);

// The values paths' results are checked against.
uint64_t ExpectPid();
uint64_t ExpectPpid();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_PATH_H_
