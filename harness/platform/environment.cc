#include "harness/platform/environment.h"

#include <cpuid.h>
#include <gnu/libc-version.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "harness/platform/vdso.h"
#include "harness/platform/vsyscall.h"

namespace sysgate {
namespace {

// The governor of `cpu`, or of cpu0 when it has none of its own.
std::string Governor(const std::string& root, int cpu) {
  const std::string base = root + "/sys/devices/system/cpu/cpu";
  std::string g =
      ReadTrimmed(base + std::to_string(std::max(cpu, 0)) + "/cpufreq/scaling_governor");
  return g == kUnknown ? ReadTrimmed(base + "0/cpufreq/scaling_governor") : g;
}

// intel_pstate says no_turbo=1 when turbo is off; acpi-cpufreq and amd-pstate say
// boost=1 when it is on.
std::string Turbo(const std::string& root) {
  std::string no_turbo = ReadTrimmed(root + "/sys/devices/system/cpu/intel_pstate/no_turbo");
  if (no_turbo == "0") return "on";
  if (no_turbo == "1") return "off";
  std::string boost = ReadTrimmed(root + "/sys/devices/system/cpu/cpufreq/boost");
  if (boost == "1") return "on";
  if (boost == "0") return "off";
  return kUnknown;
}

std::string Smt(const std::string& root) {
  std::string active = ReadTrimmed(root + "/sys/devices/system/cpu/smt/active");
  if (active == "1") return "on";
  if (active == "0") return "off";
  return kUnknown;
}

std::string ValueOr(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? kUnknown : it->second;
}

}  // namespace

CpuInfo ParseCpuinfo(std::string_view text) {
  CpuInfo info;
  std::istringstream in{std::string(text)};
  std::string line;
  bool seen_processor = false;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      if (seen_processor && Trim(line).empty()) break;  // end of the first block
      continue;
    }
    std::string key = Trim(std::string_view(line).substr(0, colon));
    std::string value = Trim(std::string_view(line).substr(colon + 1));
    if (key == "processor") {
      if (seen_processor) break;
      seen_processor = true;
    } else if (key == "vendor_id") {
      info.vendor = value;
    } else if (key == "model name") {
      info.model_name = value;
    } else if (key == "cpu family") {
      info.family = value;
    } else if (key == "model") {
      info.model = value;
    } else if (key == "stepping") {
      info.stepping = value;
    } else if (key == "microcode") {
      info.microcode = value;
    } else if (key == "flags") {
      std::istringstream flags(value);
      for (std::string f; flags >> f;) info.flags.insert(f);
    }
  }
  return info;
}

std::string FlagsOfInterest(const std::set<std::string>& flags) {
  // clang-format off
  static constexpr const char* kInteresting[] = {
      "fred",   "pcid",               "invpcid",    "pti",          "x2apic",
      "smep",   "smap",               "umip",       "md_clear",     "ibrs_enhanced",
      "ibpb",   "stibp",              "ssbd",       "constant_tsc", "nonstop_tsc",
      "rdtscp", "tsc_deadline_timer", "hypervisor", "lm",           "syscall"};
  // clang-format on
  std::string out;
  for (const char* f : kInteresting) {
    if (flags.count(f)) out += (out.empty() ? "" : " ") + std::string(f);
  }
  return out;
}

std::map<std::string, std::string> ReadVulnerabilities(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    out[entry.path().filename().string()] = ReadTrimmed(entry.path().string());
  }
  return out;
}

std::string HypervisorVendor() {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 31))) return "none";
  // Leaf 0x40000000 is outside the range __get_cpuid checks against; query it directly.
  __cpuid(0x40000000, eax, ebx, ecx, edx);
  char sig[13] = {};
  std::memcpy(sig + 0, &ebx, 4);
  std::memcpy(sig + 4, &ecx, 4);
  std::memcpy(sig + 8, &edx, 4);
  std::string vendor = Trim(sig);
  return vendor.empty() ? "unnamed hypervisor" : vendor;
}

std::string TracingState(const std::string& root) {
  for (const char* dir : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    std::string tracer = ReadTrimmed(root + dir + "/current_tracer");
    if (tracer == kUnknown) continue;
    std::string events = ReadTrimmed(root + dir + "/set_event", "");
    std::replace(events.begin(), events.end(), '\n', ' ');
    std::string state;
    if (tracer != "nop") state = "tracer=" + tracer;
    if (!events.empty()) state += (state.empty() ? "" : " ") + ("events=" + events);
    return state.empty() ? "none" : state;
  }
  return kUnknown;
}

std::vector<std::pair<std::string, std::string>> CaptureEnvironment(const std::string& root,
                                                                    int pinned_cpu) {
  std::vector<std::pair<std::string, std::string>> ctx;
  auto add = [&ctx](std::string key, std::string value) {
    ctx.emplace_back(std::move(key), std::move(value));
  };
  utsname uts{};
  if (root.empty() && uname(&uts) == 0) {
    add("kernel_release", uts.release);
    add("kernel_version", uts.version);
  } else {
    add("kernel_release", ReadTrimmed(root + "/proc/sys/kernel/osrelease"));
    add("kernel_version", ReadTrimmed(root + "/proc/sys/kernel/version"));
  }
  add("boot_cmdline", ReadTrimmed(root + "/proc/cmdline"));
  for (const auto& [name, state] :
       ReadVulnerabilities(root + "/sys/devices/system/cpu/vulnerabilities")) {
    add("vuln." + name, state);
  }
  bool ok = false;
  CpuInfo cpu = ParseCpuinfo(ReadFile(root + "/proc/cpuinfo", &ok));
  add("cpu_vendor", cpu.vendor);
  add("cpu_model_name", cpu.model_name);
  add("cpu_family", cpu.family);
  add("cpu_model", cpu.model);
  add("cpu_stepping", cpu.stepping);
  add("microcode", cpu.microcode);
  add("cpu_flags", FlagsOfInterest(cpu.flags));
  add("hypervisor", root.empty() ? HypervisorVendor()
                                 : (cpu.flags.count("hypervisor") ? "unnamed hypervisor" : "none"));
  const std::string clocksource =
      ReadTrimmed(root + "/sys/devices/system/clocksource/clocksource0/current_clocksource");
  add("clocksource", clocksource);
  // vDSO and vsyscall page (docs/vdso.md); the vDSO's exports are this process's only.
  add("vdso_symbols", root.empty() ? VdsoSymbolsString(Vdso::Process()) : kUnknown);
  add("vdso_clock_mode", VdsoClockModeFor(clocksource));
  add("vsyscall_mode", VsyscallMode(root));
  add("glibc_version", gnu_get_libc_version());
  add("perf_event_paranoid", ReadTrimmed(root + "/proc/sys/kernel/perf_event_paranoid"));
  add("cpufreq_governor", Governor(root, pinned_cpu));
  add("turbo", Turbo(root));
  add("smt", Smt(root));
  auto status = ParseKeyValueLines(ReadTrimmed(root + "/proc/self/status", ""));
  add("seccomp", ValueOr(status, "Seccomp"));
  add("seccomp_filters", ValueOr(status, "Seccomp_filters"));
  add("tracer_pid", ValueOr(status, "TracerPid"));
  add("tracing_active", TracingState(root));
  add("pinned_cpu", pinned_cpu >= 0 ? std::to_string(pinned_cpu) : "none");
  return ctx;
}

}  // namespace sysgate
