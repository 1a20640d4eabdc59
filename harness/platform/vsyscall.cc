#include "harness/platform/vsyscall.h"

#include <sched.h>

#include <sstream>

#include "harness/platform/probe.h"
#include "harness/platform/text_file.h"

namespace sysgate {

std::string VsyscallModeFrom(std::string_view maps, std::string_view cmdline) {
  if (!maps.empty()) {
    std::istringstream in{std::string(maps)};
    for (std::string line; std::getline(in, line);) {
      if (line.find("[vsyscall]") == std::string::npos) continue;
      // "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0   [vsyscall]"
      std::istringstream fields(line);
      std::string range, perms;
      fields >> range >> perms;
      if (perms.size() >= 3 && perms[0] == 'r' && perms[2] == 'x') return "emulate";
      if (perms.size() >= 3 && perms[2] == 'x') return "xonly";
      return "unknown";
    }
    return "none";
  }
  std::istringstream words{std::string(cmdline)};
  for (std::string word; words >> word;) {
    if (word == "--") break;  // what follows is init's, not the kernel's
    if (word.rfind("vsyscall=", 0) == 0) {
      std::string mode = word.substr(9);
      if (mode == "emulate" || mode == "xonly" || mode == "none") return mode;
    }
  }
  return "unknown";
}

std::string VsyscallMode(const std::string& root) {
  return VsyscallModeFrom(ReadTrimmed(root + "/proc/self/maps", ""),
                          ReadTrimmed(root + "/proc/cmdline", ""));
}

std::optional<std::string> ProbeVsyscallPage(uintptr_t base) {
  return ProbeInChild([base] {
    time_t before = time(nullptr);
    time_t t = VsyscallEntry<VsyscallTimeFn>(base, kVsyscallTime)(nullptr);
    time_t after = time(nullptr);
    if (t < before || t > after) return false;
    timeval tv{};
    if (VsyscallEntry<VsyscallGettimeofdayFn>(base, kVsyscallGettimeofday)(&tv, nullptr) != 0 ||
        tv.tv_usec < 0 || tv.tv_usec >= 1000000 || tv.tv_sec < before) {
      return false;
    }
    // The child may migrate between the calls: accept the vsyscall's answer when the CPU
    // did not change around it.
    for (int attempt = 0; attempt < 100; ++attempt) {
      unsigned cpu = ~0u, node = ~0u;
      int cpu_before = sched_getcpu();
      if (VsyscallEntry<VsyscallGetcpuFn>(base, kVsyscallGetcpu)(&cpu, &node, nullptr) != 0) {
        return false;
      }
      if (cpu_before != sched_getcpu()) continue;
      return static_cast<int>(cpu) == cpu_before;
    }
    return false;
  });
}

std::optional<std::string> VsyscallUnavailable() {
  static const std::optional<std::string> reason = []() -> std::optional<std::string> {
    const std::string mode = VsyscallMode();
    if (mode == "none") return "kernel has no vsyscall page (vsyscall=none)";
    std::optional<std::string> failure = ProbeVsyscallPage(kVsyscallBase);
    if (!failure) return std::nullopt;
    return "vsyscall page (mode " + mode + ") failed a probe call: " + *failure;
  }();
  return reason;
}

}  // namespace sysgate
