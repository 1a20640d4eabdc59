#include "harness/platform/environment.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace sysgate {
namespace {

const std::string kHost = std::string(SYSGATE_FIXTURES) + "/intel_host";
const std::string kEmpty = std::string(SYSGATE_FIXTURES) + "/empty_root";

std::map<std::string, std::string> Capture(const std::string& root, int cpu) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : CaptureEnvironment(root, cpu)) m[k] = v;
  return m;
}

TEST(Environment, ParsesTheFirstCpuinfoBlockOnly) {
  CpuInfo cpu = ParseCpuinfo(ReadTrimmed(kHost + "/proc/cpuinfo"));
  EXPECT_EQ(cpu.vendor, "GenuineIntel");
  EXPECT_EQ(cpu.model_name, "Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz");
  EXPECT_EQ(cpu.family, "6");
  EXPECT_EQ(cpu.model, "85");
  EXPECT_EQ(cpu.stepping, "4");
  EXPECT_EQ(cpu.microcode, "0x2007006");
  EXPECT_TRUE(cpu.flags.count("pcid"));
  EXPECT_FALSE(cpu.flags.count("fred")) << "flags of the second CPU leaked in";
}

TEST(Environment, FlagsOfInterestInFixedOrder) {
  EXPECT_EQ(FlagsOfInterest({"lm", "pcid", "fred", "sse2"}), "fred pcid lm");
  EXPECT_EQ(FlagsOfInterest({}), "");
}

TEST(Environment, CapturesAFixtureHost) {
  auto m = Capture(kHost, 3);
  EXPECT_EQ(m["kernel_release"], "6.1.0-47-cloud-amd64");
  EXPECT_EQ(m["boot_cmdline"],
            "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro mitigations=off <script>alert(1)</script>");
  EXPECT_EQ(m["vuln.meltdown"], "Mitigation: PTI");
  EXPECT_EQ(m["vuln.spectre_v2"],
            "Mitigation: IBRS; IBPB: conditional; STIBP: disabled; RSB filling");
  EXPECT_EQ(m["cpu_vendor"], "GenuineIntel");
  EXPECT_EQ(m["hypervisor"], "unnamed hypervisor");
  EXPECT_EQ(m["clocksource"], "tsc");
  EXPECT_EQ(m["perf_event_paranoid"], "1");
  EXPECT_EQ(m["cpufreq_governor"], "performance");
  EXPECT_EQ(m["turbo"], "off");
  EXPECT_EQ(m["smt"], "on");
  EXPECT_EQ(m["seccomp"], "2");
  EXPECT_EQ(m["seccomp_filters"], "1");
  EXPECT_EQ(m["tracer_pid"], "0");
  EXPECT_EQ(m["tracing_active"],
            "tracer=function events=raw_syscalls:sys_enter raw_syscalls:sys_exit");
  EXPECT_EQ(m["pinned_cpu"], "3");
  EXPECT_NE(m["cpu_flags"].find("pcid"), std::string::npos);
}

TEST(Environment, MissingFilesSayUnknownNeverFail) {
  auto m = Capture(kEmpty, -1);
  EXPECT_EQ(m["kernel_release"], kUnknown);
  EXPECT_EQ(m["boot_cmdline"], kUnknown);
  EXPECT_EQ(m["cpu_vendor"], kUnknown);
  EXPECT_EQ(m["clocksource"], kUnknown);
  EXPECT_EQ(m["turbo"], kUnknown);
  EXPECT_EQ(m["seccomp"], kUnknown);
  EXPECT_EQ(m["tracing_active"], kUnknown);
  EXPECT_EQ(m["pinned_cpu"], "none");
  for (const auto& [key, value] : m) EXPECT_NE(key.rfind("vuln.", 0), 0u) << key;
  EXPECT_TRUE(ReadVulnerabilities(kEmpty + "/no/such/dir").empty());
}

TEST(Environment, KeyValueLines) {
  auto m = ParseKeyValueLines("Seccomp:\t2\nTracerPid:  17 \nno colon here\n");
  EXPECT_EQ(m["Seccomp"], "2");
  EXPECT_EQ(m["TracerPid"], "17");
  EXPECT_EQ(m.size(), 2u);
}

}  // namespace
}  // namespace sysgate
