// The ia32 rows of the path table, entered from a 32-bit process (the helper, see
// harness/coprocess/ia32_client.h and docs/ia32.md): getpid by every 32-bit entry, their 32-bit
// plain-call baseline, and clock_gettime(CLOCK_MONOTONIC) and getcpu through the 32-bit
// vDSO and through int 0x80.
#ifndef SYSGATE_HARNESS_PATHS_IA32_PATHS_H_
#define SYSGATE_HARNESS_PATHS_IA32_PATHS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/paths/path.h"

namespace sysgate {

// The rows, in report order. Their `timed` runners talk to Ia32Client::Shared(), which is
// started by the first probe or run, not by this call.
std::vector<Path> Ia32Paths();

// What every ia32 getpid path must return: the helper's pid, not ours.
uint64_t ExpectHelperPid();

// --- Correctness of the 32-bit vDSO-family rows (checked before timing) --------------
// One call in the helper: false and *error when it could not be made; else *ret is what
// the call returned and *value what it read. Ia32Client::Read in the bench; fakes in tests.
using Ia32ReadFn = std::function<bool(int64_t* ret, int64_t* value, std::string* error)>;

// The helper and this process share CLOCK_MONOTONIC: the helper's reading must lie
// between two 64-bit clock_gettime(CLOCK_MONOTONIC) calls made around the request (tried
// three times, so a preempted request does not fail a correct path), and the call must
// return 0. nullopt when it does, else why not; `what` names the row in the reason.
std::optional<std::string> CheckIa32Clock(std::string_view what, const Ia32ReadFn& read);

// The call returns 0 and a CPU the helper may run on: the one CPU of `allowed` when the
// helper is pinned (it inherits the measuring CPU), else one of them.
std::optional<std::string> CheckIa32Getcpu(std::string_view what, const Ia32ReadFn& read,
                                           const std::vector<int>& allowed);

// The CPUs `pid` may run on (sched_getaffinity); empty when it cannot be read.
std::vector<int> AllowedCpus(pid_t pid);

// Context keys for the results: which call each 32-bit vDSO-family row makes
// (`ia32_calls`) and the 32-bit vDSO's exports (`vdso32_symbols`). Asks the shared
// helper; a helper that is not running gives "unavailable: <why>".
std::vector<std::pair<std::string, std::string>> Ia32Context();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_IA32_PATHS_H_
