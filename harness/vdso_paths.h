// The vDSO families: clock_gettime (per clock), gettimeofday, time, getcpu, clock_getres
// and getrandom, each as `vdso` (a direct call to the __vdso_* function), `glibc` (the
// libc function), `syscall` (asm/syscall_args.asm) and, for gettimeofday, time and getcpu,
// `vsyscall_page` (the legacy fixed-address page, harness/vsyscall.h).
//
// Before anything is timed, every variant of a family is checked against the others
// (CheckClockGettime and friends): a variant that returns a wrong value fails all the
// family's rows with "failed: <why>" instead of producing a figure for a broken path.
#ifndef SYSGATE_HARNESS_VDSO_PATHS_H_
#define SYSGATE_HARNESS_VDSO_PATHS_H_

#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/paths.h"

namespace sysgate {

// The rows, in report order (appended to the table by BuildTable in harness/paths.cc).
std::vector<Path> VdsoPaths();

// --- Correctness checks -------------------------------------------------------------
// Each takes the family's variants as (name, function) and returns nullopt when they
// agree, else what disagreed. Pure apart from the calls, so tests inject a fake variant.
using ClockFn = int (*)(clockid_t clock, timespec* ts);  // clock_gettime, clock_getres
using GettimeofdayFn = int (*)(timeval* tv, void* tz);
using TimeFn = time_t (*)(time_t* tloc);
using GetcpuFn = long (*)(unsigned* cpu, unsigned* node, void* cache);
using GetrandomFn = ssize_t (*)(void* buffer, size_t len, unsigned int flags);

template <typename Fn>
struct Variant {
  std::string_view name;  // "vdso", "glibc", "syscall", "vsyscall_page"
  Fn fn;
};

// Two rounds of reads, variant after variant: every call returns 0 with a valid timespec
// and the readings never go backwards.
std::optional<std::string> CheckClockGettime(clockid_t clock,
                                             std::span<const Variant<ClockFn>> variants);
// As above, and every reading lies between two CLOCK_REALTIME reads around them.
std::optional<std::string> CheckGettimeofday(std::span<const Variant<GettimeofdayFn>> variants);
// Every reading lies between two time() calls around it, and they never go backwards.
std::optional<std::string> CheckTime(std::span<const Variant<TimeFn>> variants);
// Every variant returns 0 and names the CPU sched_getcpu() names around it (retried when
// the thread migrates), and the same NUMA node for the same CPU.
std::optional<std::string> CheckGetcpu(std::span<const Variant<GetcpuFn>> variants);
// Every variant returns 0 and the same, positive resolution.
std::optional<std::string> CheckClockGetres(clockid_t clock,
                                            std::span<const Variant<ClockFn>> variants);
// Every variant returns 16 for 16 bytes, never 16 zero bytes, never the same 16 bytes twice.
std::optional<std::string> CheckGetrandom(std::span<const Variant<GetrandomFn>> variants);

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

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_VDSO_PATHS_H_
