// The counting pass: the default plan under injected permissions, --counters LIST
// parsing, the mechanism checks, and one live pass on this machine.
#include <unistd.h>

#include <algorithm>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/counting_pass.h"

namespace sysgate {
namespace {

using ::testing::HasSubstr;

PerfPermissions Perms(int paranoid, bool privileged) {
  PerfPermissions p;
  p.paranoid = paranoid;
  p.privileged = privileged;
  return p;
}

const CounterSpec* Find(const CounterPlan& plan, const std::string& column) {
  for (const CounterSpec& spec : plan.counters) {
    if (spec.column == column) return &spec;
  }
  return nullptr;
}

std::string ReasonFor(const CounterPlan& plan, const std::string& column) {
  for (const EventFailure& f : plan.unavailable) {
    if (f.event == column) return f.reason;
  }
  return "";
}

TEST(CountingPlan, PrivilegedGetsTheWholeDefaultSet) {
  EventEncoder encoder;
  CounterPlan plan = DefaultCounterPlan(encoder, Perms(2, true));
  for (const char* column : {"cycles_user", "cycles_kernel", "instructions_user",
                             "instructions_kernel", "kernel_entries", "context_switches",
                             "page_faults", "task_clock_ns"}) {
    EXPECT_TRUE(Find(plan, column)) << column;
  }
  EXPECT_EQ(Find(plan, "cycles_kernel")->event, "cycles:k");
  EXPECT_EQ(Find(plan, "kernel_entries")->event, "raw_syscalls:sys_enter");
  // mode_switches is planned where libpfm4 knows the core PMU (it does here: Zen 4).
  if (auto mode = ModeSwitchEventFor(encoder.CorePmu())) {
    ASSERT_TRUE(Find(plan, "mode_switches"));
    EXPECT_EQ(Find(plan, "mode_switches")->event, mode->event);
    EXPECT_THAT(Find(plan, "mode_switches")->calibration, HasSubstr("2 per syscall"));
  } else {
    EXPECT_NE(ReasonFor(plan, "mode_switches"), "");
  }
}

TEST(CountingPlan, ParanoidTwoWithoutRootKeepsUserCountsAndSaysWhy) {
  EventEncoder encoder;
  CounterPlan plan = DefaultCounterPlan(encoder, Perms(2, false));
  EXPECT_TRUE(Find(plan, "cycles_user"));
  EXPECT_FALSE(Find(plan, "cycles_kernel"));
  EXPECT_FALSE(Find(plan, "kernel_entries"));
  EXPECT_FALSE(Find(plan, "context_switches"));
  EXPECT_THAT(ReasonFor(plan, "cycles_kernel"), HasSubstr("perf_event_paranoid <= 1 (it is 2)"));
  EXPECT_THAT(ReasonFor(plan, "cycles_kernel"), HasSubstr("sysctl kernel.perf_event_paranoid=1"));
  EXPECT_THAT(ReasonFor(plan, "kernel_entries"), HasSubstr("not root"));
  ASSERT_TRUE(Find(plan, "page_faults"));
  EXPECT_EQ(Find(plan, "page_faults")->event, "page-faults:u");
  EXPECT_THAT(Find(plan, "page_faults")->calibration, HasSubstr("user mode only"));
}

TEST(CountingPlan, ParanoidThreeForbidsEverything) {
  EventEncoder encoder;
  CounterPlan plan = DefaultCounterPlan(encoder, Perms(3, false));
  EXPECT_TRUE(plan.counters.empty());
  EXPECT_THAT(ReasonFor(plan, "task_clock_ns"), HasSubstr("forbids all counting"));
}

TEST(CountingPlan, ParanoidOneAllowsKernelWithoutRoot) {
  EventEncoder encoder;
  CounterPlan plan = DefaultCounterPlan(encoder, Perms(1, false));
  EXPECT_TRUE(Find(plan, "cycles_kernel"));
  EXPECT_TRUE(Find(plan, "kernel_entries"));
}

TEST(CountingPlan, ParsesAList) {
  EventEncoder encoder;
  std::string error;
  auto plan = ParseCounterList("cycles:k,kernel_entries,perf::page-faults", encoder,
                               Perms(2, true), &error);
  ASSERT_TRUE(plan) << error;
  ASSERT_EQ(plan->counters.size(), 3u);
  EXPECT_EQ(plan->counters[0].column, "cycles_k");
  EXPECT_EQ(plan->counters[1].column, "kernel_entries");
  EXPECT_EQ(plan->counters[1].event, "raw_syscalls:sys_enter");
  EXPECT_EQ(plan->counters[2].column, "perf_page_faults");
  EXPECT_FALSE(ParseCounterList("cycles,,instructions", encoder, Perms(2, true), &error));
  EXPECT_THAT(error, HasSubstr("empty event name"));
  EXPECT_FALSE(ParseCounterList("cycles,", encoder, Perms(2, true), &error));
}

TEST(CountingChecks, CountsAgainstMechanism) {
  EXPECT_FALSE(CheckKernelEntries("syscall", 1.0));
  EXPECT_FALSE(CheckKernelEntries("call", 0.0));
  EXPECT_FALSE(CheckKernelEntries("vdso", 0.001));
  EXPECT_FALSE(CheckKernelEntries("glibc", 0.0)) << "a glibc wrapper may not enter";
  EXPECT_THAT(*CheckKernelEntries("vdso", 1.0), HasSubstr("fell back to a syscall"));
  EXPECT_THAT(*CheckKernelEntries("syscall", 0.2), HasSubstr("expected 1"));
  EXPECT_THAT(*CheckKernelEntries("call", 1.0), HasSubstr("expected 0"));
}

TEST(CountingPassLive, CountsPathsAndClosesEveryFd) {
  PerfPermissions perms = ReadPerfPermissions();
  EventEncoder encoder;
  std::string error;
  auto plan = ParseCounterList("kernel_entries,context_switches,task_clock_ns", encoder,
                               perms, &error);
  ASSERT_TRUE(plan) << error;
  // Three paths: as siblings in one software group, task-clock and the tracepoint read
  // 0 from the second interval on (6.18), hence one group per software event.
  std::vector<const Path*> paths = {FindPath("baseline/call"), FindPath("getpid/glibc"),
                                    FindPath("getpid/syscall")};
  CountingResult result = RunCountingPass(paths, *plan, encoder, perms, 2.0e9, 0.002);
  EXPECT_EQ(CountPerfEventFds("/proc", getpid()), 0) << "every perf fd closed";

  auto it = result.by_path.find("getpid/syscall");
  if (it == result.by_path.end()) {
    GTEST_SKIP() << "nothing counted here: "
                 << (result.warnings.empty() ? "" : result.warnings.front());
  }
  std::map<std::string, double> values(it->second.per_call.begin(), it->second.per_call.end());
  EXPECT_GT(it->second.calls, 0u);
  EXPECT_GT(it->second.ticks_per_call, 0);
  EXPECT_GE(values["context_switches"], 0);
  EXPECT_GT(values["task_clock_ns"], 0) << ::testing::PrintToString(it->second.per_call);
  if (values.count("kernel_entries")) {
    EXPECT_GE(values["kernel_entries"], 0.9);
    EXPECT_LE(values["kernel_entries"], 1.5);
    EXPECT_FALSE(it->second.mismatch);
    std::map<std::string, double> call(result.by_path["baseline/call"].per_call.begin(),
                                       result.by_path["baseline/call"].per_call.end());
    EXPECT_LT(call["kernel_entries"], 0.01);
  }
  for (const auto& [name, counts] : result.by_path) {
    std::map<std::string, double> v(counts.per_call.begin(), counts.per_call.end());
    EXPECT_GT(v["task_clock_ns"], 0) << name;
  }
  bool has_source = std::any_of(result.context.begin(), result.context.end(), [](auto& kv) {
    return kv.first == "counters.task_clock_ns.source" && kv.second == "software";
  });
  EXPECT_TRUE(has_source);
}

TEST(CountingPassLive, OwnPerfFdsAreSeenByTheScan) {
  EventEncoder encoder;
  std::vector<EventFailure> failures;
  PerfGroup group = PerfGroup::Open({*encoder.Encode("task-clock").event}, 0,
                                    ReadPerfPermissions(), &failures);
  if (group.empty()) GTEST_SKIP() << failures.front().reason;
  auto holders = OtherPerfEventHolders("/proc", 0);  // 0: exclude no one
  const std::string me = std::to_string(getpid()) + " (";
  EXPECT_TRUE(std::any_of(holders.begin(), holders.end(),
                          [&](const std::string& h) { return h.rfind(me, 0) == 0; }));
  auto others = OtherPerfEventHolders("/proc", getpid());
  EXPECT_FALSE(std::any_of(others.begin(), others.end(),
                           [&](const std::string& h) { return h.rfind(me, 0) == 0; }));
}

}  // namespace
}  // namespace sysgate
