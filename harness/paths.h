// The path table: every way into the kernel that sysgate measures, one row each.
//
// Names are `family/variant` and are an API: reports, the history store and comparisons
// key on them. Adding a path is one stub (or loop) plus one row.
#ifndef SYSGATE_HARNESS_PATHS_H_
#define SYSGATE_HARNESS_PATHS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/stubs.h"

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
using TimedFn = bool (*)(uint64_t iterations, uint64_t arg, uint64_t* ticks,
                         uint64_t* result, std::string* error);
// The per-call pass of a path measured out of process: up to `max_samples` single calls,
// each timed there between its own TSC pair, for at most `budget_ticks`; appends the raw
// ticks to *ticks. Saves a round trip per sample.
using PerCallFn = bool (*)(uint64_t max_samples, uint64_t budget_ticks, uint64_t arg,
                           std::vector<uint64_t>* ticks, std::string* error);

// The thread a timed path's calls run on, for the counting pass (a runtime helper's loop
// thread); -1 when its co-process is not running.
using ThreadFn = pid_t (*)();

struct Path {
  std::string_view name;       // "getpid/syscall"
  std::string_view mechanism;  // "syscall", "int80", "glibc", "call", "loop", ...
  LoopFn loop;                 // runs the path N times in-process; null when `timed` is set
  std::string_view baseline;   // the row this one is compared with
  ArgFn arg = nullptr;         // null: arg is 0
  ExpectFn expect = nullptr;   // null: result not checked
  ProbeFn probe = nullptr;     // null: always available
  TimedFn timed = nullptr;     // set for paths measured out of process
  PerCallFn per_call = nullptr;  // out of process: the per-call pass (null: `timed` with n=1)
  // Timed paths: where the counting pass counts them; null: the pid RunCountingPass is
  // given (the ia32 helper's).
  ThreadFn counted_thread = nullptr;

  std::string_view family() const { return name.substr(0, name.find('/')); }
};

// Every path, in report order.
const std::vector<Path>& AllPaths();

// The row named `name`, or nullptr.
const Path* FindPath(std::string_view name);

// The values paths' results are checked against.
uint64_t ExpectPid();
uint64_t ExpectPpid();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_H_
