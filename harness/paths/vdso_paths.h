// The vDSO families: clock_gettime (per clock), gettimeofday, time, getcpu, clock_getres
// and getrandom, each as `vdso` (a direct call to the __vdso_* function), `glibc` (the
// libc function), `syscall` (asm/syscall_args.asm) and, for gettimeofday, time and getcpu,
// `vsyscall_page` (the legacy fixed-address page, harness/platform/vsyscall.h).
//
// Before anything is timed, every variant of a family is checked against the others
// (harness/paths/vdso_checks.h): a variant that returns a wrong value fails all the
// family's rows with "failed: <why>" instead of producing a figure for a broken path.
#ifndef SYSGATE_HARNESS_PATHS_VDSO_PATHS_H_
#define SYSGATE_HARNESS_PATHS_VDSO_PATHS_H_

#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/paths/path.h"
#include "harness/paths/vdso_checks.h"

namespace sysgate {

// The rows, in report order (appended to the table by BuildTable in harness/paths/paths.cc).
std::vector<Path> VdsoPaths();

// The check of `family` over every variant this process can run, "failed: <why>" or
// nullopt; run once per family and cached.
std::optional<std::string> FamilyCheck(std::string_view family);

// --- Fallback detection ---------------------------------------------------------------
// A vDSO call that costs about as much as the syscall is one that fell back to it (the
// clocksource has no vDSO mode, the getrandom state was refused, ...). Measured in pairs
// at the same time: best of kFallbackRounds short batches of each.
inline constexpr double kVdsoFallbackRatio = 0.5;
inline constexpr int kFallbackRounds = 7;

struct FallbackVerdict {
  double ratio = 0;       // vdso ticks per call / syscall ticks per call
  bool fallback = false;  // ratio >= kVdsoFallbackRatio
};

// The verdict for a `vdso` row, from its family's `syscall` row; nullopt when the row is
// not a vdso row, has no syscall sibling, or either cannot run.
std::optional<FallbackVerdict> CheckVdsoFallback(const Path& vdso_row);

// The verdict as the row's figures (its `after_timing`): vdso_fallback (0 or 1) and
// vdso_to_syscall_ratio; none when CheckVdsoFallback has no verdict.
std::vector<std::pair<std::string, double>> VdsoFallbackFigures(const Path& vdso_row);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_VDSO_PATHS_H_
