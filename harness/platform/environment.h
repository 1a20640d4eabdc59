// What the machine was when it was measured: captured into the results' `context` so a
// number is never separated from the kernel, CPU, mitigations and VM it came from.
//
// Every reader takes a filesystem root so tests can point it at fixture trees; a missing
// file gives "unknown" (or an empty map), never an error.
#ifndef SYSGATE_HARNESS_PLATFORM_ENVIRONMENT_H_
#define SYSGATE_HARNESS_PLATFORM_ENVIRONMENT_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/platform/text_file.h"

namespace sysgate {

struct CpuInfo {
  std::string vendor = kUnknown, model_name = kUnknown, family = kUnknown, model = kUnknown,
              stepping = kUnknown, microcode = kUnknown;
  std::set<std::string> flags;
};

// The first processor block of /proc/cpuinfo text.
CpuInfo ParseCpuinfo(std::string_view text);

// The flags that change kernel entry cost (pcid, fred, pti, ...), in a fixed order.
std::string FlagsOfInterest(const std::set<std::string>& flags);

// One entry per file in a vulnerabilities folder: file name -> trimmed first line.
std::map<std::string, std::string> ReadVulnerabilities(const std::string& dir);

// "none" when CPUID says no hypervisor, else the vendor signature of leaf 0x40000000
// ("KVMKVMKVM", "Microsoft Hv", "VMwareVMware", ...).
std::string HypervisorVendor();

// What tracing is active system-wide: "none", or e.g. "tracer=function events=...".
std::string TracingState(const std::string& root);

// Everything above as ordered (key, value) pairs for benchmark::AddCustomContext.
// `root` prefixes every /proc and /sys path ("" for the live system).
std::vector<std::pair<std::string, std::string>> CaptureEnvironment(const std::string& root,
                                                                    int pinned_cpu);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_ENVIRONMENT_H_
