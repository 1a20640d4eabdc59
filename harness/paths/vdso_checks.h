// The correctness checks of the vDSO families: each takes a family's variants as (name,
// function) and returns nullopt when they agree, else what disagreed. Pure apart from the
// calls they make, so tests inject a fake variant (tests/cpp/platform/vdso_test.cc); the rows that
// run them before anything is timed are in harness/paths/vdso_paths.h (FamilyCheck).
#ifndef SYSGATE_HARNESS_PATHS_VDSO_CHECKS_H_
#define SYSGATE_HARNESS_PATHS_VDSO_CHECKS_H_

#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sysgate {

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

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_VDSO_CHECKS_H_
