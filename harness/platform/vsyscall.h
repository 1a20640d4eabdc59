// The legacy vsyscall page: fixed addresses that pre-vDSO binaries call for gettimeofday,
// time and getcpu. Since Linux 4.4 the default (vsyscall=xonly since 5.3) maps the page
// execute-only and every call traps into the kernel, which emulates it
// (arch/x86/entry/vsyscall/vsyscall_64.c, emulate_vsyscall): a page fault, not a
// `syscall`, so it costs hundreds of ns. vsyscall=none leaves it unmapped (SIGSEGV).
#ifndef SYSGATE_HARNESS_PLATFORM_VSYSCALL_H_
#define SYSGATE_HARNESS_PLATFORM_VSYSCALL_H_

#include <sys/time.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sysgate {

inline constexpr uintptr_t kVsyscallBase = 0xffffffffff600000;
// Entry offsets (arch/x86/entry/vsyscall/vsyscall_emu_64.S).
inline constexpr uintptr_t kVsyscallGettimeofday = 0x000;
inline constexpr uintptr_t kVsyscallTime = 0x400;
inline constexpr uintptr_t kVsyscallGetcpu = 0x800;

using VsyscallGettimeofdayFn = int (*)(timeval* tv, struct timezone* tz);
using VsyscallTimeFn = time_t (*)(time_t* tloc);
using VsyscallGetcpuFn = long (*)(unsigned* cpu, unsigned* node, void* cache);

// The entry at `offset` of a vsyscall page at `base`, as a function pointer.
template <typename Fn>
Fn VsyscallEntry(uintptr_t base, uintptr_t offset) {
  return reinterpret_cast<Fn>(base + offset);
}

// "emulate" (page readable and executable), "xonly" (execute-only, the default since 5.3),
// "none" (not mapped), from the [vsyscall] line of /proc/self/maps; when `maps` is empty
// (unreadable), from `vsyscall=` on the kernel command line, else "unknown".
std::string VsyscallModeFrom(std::string_view maps, std::string_view cmdline);

// The mode of this process (reads <root>/proc/self/maps and <root>/proc/cmdline).
std::string VsyscallMode(const std::string& root = "");

// Calls all three entries of a vsyscall page at `base` in a forked child (a page that is
// absent or refuses the call kills only the child) and checks what they return: time
// agrees with time(), gettimeofday returns 0 with a sane timeval, getcpu agrees with
// sched_getcpu(). nullopt when all three work, else why not ("SIGSEGV (...)", "wrong
// result"). The code path is the same for any base: tests probe an unmapped address.
std::optional<std::string> ProbeVsyscallPage(uintptr_t base);

// Why the vsyscall rows cannot run in this process, or nullopt. Probes once, cached.
std::optional<std::string> VsyscallUnavailable();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_VSYSCALL_H_
