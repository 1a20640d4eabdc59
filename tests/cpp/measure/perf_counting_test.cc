// The counting pass: the default plan under injected permissions, --counters LIST
// parsing, the mechanism checks, and one live pass on this machine.
#include <unistd.h>

#include <algorithm>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/coprocess/ia32_client.h"
#include "harness/measure/counting_pass.h"

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
  for (const char* column :
       {"cycles_user", "cycles_kernel", "instructions_user", "instructions_kernel",
        "syscall_entries", "context_switches", "page_faults", "task_clock_ns"}) {
    EXPECT_TRUE(Find(plan, column)) << column;
  }
  EXPECT_EQ(Find(plan, "cycles_kernel")->event, "cycles:k");
  EXPECT_EQ(Find(plan, "syscall_entries")->event, "raw_syscalls:sys_enter");
  EXPECT_FALSE(Find(plan, "kernel_entries")) << "derived, not counted";
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
  EXPECT_FALSE(Find(plan, "syscall_entries"));
  EXPECT_FALSE(Find(plan, "context_switches"));
  EXPECT_THAT(ReasonFor(plan, "cycles_kernel"), HasSubstr("perf_event_paranoid <= 1 (it is 2)"));
  EXPECT_THAT(ReasonFor(plan, "cycles_kernel"), HasSubstr("sysctl kernel.perf_event_paranoid=1"));
  EXPECT_THAT(ReasonFor(plan, "syscall_entries"), HasSubstr("not root"));
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
  EXPECT_TRUE(Find(plan, "syscall_entries"));
}

TEST(CountingPlan, ParsesAList) {
  EventEncoder encoder;
  std::string error;
  auto plan = ParseCounterList("cycles:k,kernel_entries,perf::page-faults", encoder, Perms(2, true),
                               &error);
  ASSERT_TRUE(plan) << error;
  // kernel_entries is derived: it selects the columns it is the sum of.
  ASSERT_EQ(plan->counters.size(), 4u);
  EXPECT_EQ(plan->counters[0].column, "cycles_k");
  EXPECT_EQ(plan->counters[1].column, "syscall_entries");
  EXPECT_EQ(plan->counters[1].event, "raw_syscalls:sys_enter");
  EXPECT_EQ(plan->counters[2].column, "page_faults");
  EXPECT_EQ(plan->counters[3].column, "perf_page_faults");
  EXPECT_FALSE(ParseCounterList("cycles,,instructions", encoder, Perms(2, true), &error));
  EXPECT_THAT(error, HasSubstr("empty event name"));
  EXPECT_FALSE(ParseCounterList("cycles,", encoder, Perms(2, true), &error));
}

TEST(CountingChecks, CountsAgainstTheRowsExpectedEntries) {
  auto row = [](Mechanism m, double entries, Abi abi = Abi::kX86_64) {
    Path p{"test/row", m, entries, nullptr, ""};
    p.abi = abi;
    return p;
  };
  EXPECT_FALSE(CheckKernelEntries(row(Mechanism::kSyscall, 1), 1.0));
  EXPECT_FALSE(CheckKernelEntries(row(Mechanism::kCall, 0), 0.0));
  EXPECT_FALSE(CheckKernelEntries(row(Mechanism::kVdso, 0), 0.001));
  EXPECT_FALSE(CheckKernelEntries(row(Mechanism::kGlibc, kEntriesUnknown), 0.0))
      << "a row that does not know what to expect is not checked";
  EXPECT_FALSE(CheckKernelEntries(row(Mechanism::kInt80, 1, Abi::kIa32), 1.0));
  EXPECT_THAT(*CheckKernelEntries(row(Mechanism::kSyscall, 1, Abi::kIa32), 0.0),
              HasSubstr("expected 1"));
  EXPECT_THAT(*CheckKernelEntries(row(Mechanism::kVdso, 1, Abi::kIa32), 0.0),
              HasSubstr("expected 1"))
      << "getpid/ia32_vdso is __kernel_vsyscall: it enters the kernel";
  EXPECT_THAT(*CheckKernelEntries(row(Mechanism::kVdso, 0), 1.0),
              HasSubstr("fell back to a syscall"));
  EXPECT_THAT(*CheckKernelEntries(row(Mechanism::kSyscall, 1), 0.2), HasSubstr("expected 1"));
  EXPECT_THAT(*CheckKernelEntries(row(Mechanism::kCall, 0), 1.0), HasSubstr("expected 0"));
  EXPECT_THAT(*CheckKernelEntries(row(Mechanism::kGlibc, 2), 1.0), HasSubstr("expected 2"));
  EXPECT_FALSE(CheckKernelEntries(row(Mechanism::kVsyscallPage, 1), 1.0));
}

TEST(CountingChecks, KernelEntriesAreSyscallsPlusPageFaults) {
  PathCounts counts;
  counts.per_call = {{"syscall_entries", 0.0}, {"page_faults", 1.0}};
  EXPECT_EQ(KernelEntries(counts), 1.0) << "the vsyscall page: one fault, no syscall";
  counts.per_call = {{"mode_switches", 4.0}};
  EXPECT_EQ(KernelEntries(counts), 2.0) << "2 transitions per entry";
  counts.per_call = {{"page_faults", 1.0}};
  EXPECT_EQ(KernelEntries(counts), std::nullopt) << "no syscall count: no total";
}

TEST(CountingChecks, TheCalibrationRowIsTheFirstPlainSyscall) {
  std::vector<const Path*> all;
  for (const Path& p : AllPaths()) all.push_back(&p);
  const Path* row = CalibrationRow(all);
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->mechanism, Mechanism::kSyscall);
  EXPECT_EQ(row->expected_entries, 1);
  EXPECT_NE(row->loop, nullptr);
}

TEST(CountingPassLive, CountsPathsAndClosesEveryFd) {
  PerfPermissions perms = ReadPerfPermissions();
  EventEncoder encoder;
  std::string error;
  auto plan =
      ParseCounterList("kernel_entries,context_switches,task_clock_ns", encoder, perms, &error);
  ASSERT_TRUE(plan) << error;
  // Three paths: as siblings in one software group, task-clock and the tracepoint read
  // 0 from the second interval on (6.18), hence one group per software event.
  std::vector<const Path*> paths = {FindPath("baseline/call"), FindPath("getpid/glibc"),
                                    FindPath("getpid/syscall")};
  // The vsyscall page enters the kernel by a page fault: kernel_entries counts it.
  const Path* page = FindPath("time/vsyscall_page");
  ASSERT_NE(page, nullptr);
  const bool have_page = !page->probe();
  if (have_page) paths.push_back(page);
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
    if (have_page && result.by_path.count("time/vsyscall_page")) {
      std::map<std::string, double> v(result.by_path["time/vsyscall_page"].per_call.begin(),
                                      result.by_path["time/vsyscall_page"].per_call.end());
      if (v.count("page_faults")) {
        EXPECT_GE(v["kernel_entries"], 0.9) << "one page fault per call";
        EXPECT_FALSE(result.by_path["time/vsyscall_page"].mismatch);
      }
    }
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

std::string ContextValue(const CountingResult& result, const std::string& key) {
  for (const auto& [k, v] : result.context) {
    if (k == key) return v;
  }
  return "";
}

// The helper's rows, counted on its pid with its own request subtracted: the entry paths
// enter the kernel once per call, the plain call never. No timing is asserted.
TEST(CountingPassLive, CountsTheIa32HelpersRowsOnItsPid) {
  Ia32Client& helper = Ia32Client::Shared();  // the built helper (tests/cpp/coprocess/ia32_test.cc)
  if (!helper.ok()) GTEST_SKIP() << "no ia32 helper here: " << helper.error();
  PerfPermissions perms = ReadPerfPermissions();
  EventEncoder encoder;
  std::string error;
  auto plan = ParseCounterList("kernel_entries,task_clock_ns", encoder, perms, &error);
  ASSERT_TRUE(plan) << error;
  if (!Find(*plan, "syscall_entries")) {
    GTEST_SKIP() << "syscall_entries cannot be counted here: "
                 << ReasonFor(*plan, "syscall_entries");
  }
  std::vector<const Path*> paths;
  for (const char* name : {"baseline/ia32_call", "getpid/ia32_int80", "getpid/ia32_syscall",
                           "getpid/ia32_vdso", "getpid/ia32_sysenter"}) {
    const Path* path = FindPath(name);
    ASSERT_NE(path, nullptr) << name;
    if (!path->probe()) paths.push_back(path);  // refused by this CPU: not counted
  }
  CountingResult result =
      RunCountingPass(paths, *plan, encoder, perms, 2.0e9, 0.002, helper.helper_pid());
  EXPECT_EQ(CountPerfEventFds("/proc", getpid()), 0) << "every perf fd closed";
  EXPECT_EQ(ContextValue(result, "counters.skipped_paths"), "");
  EXPECT_NE(ContextValue(result, "counters.ia32_helper"), "");

  auto entries = [&](const std::string& name) -> std::optional<double> {
    auto it = result.by_path.find(name);
    if (it == result.by_path.end()) return std::nullopt;
    for (const auto& [column, value] : it->second.per_call) {
      if (column == "kernel_entries") return value;
    }
    return std::nullopt;
  };
  if (!entries("getpid/ia32_int80")) {
    GTEST_SKIP() << "the tracepoint did not open on the helper: "
                 << ContextValue(result, "counters.unavailable");
  }
  for (const Path* path : paths) {
    SCOPED_TRACE(std::string(path->name));
    std::optional<double> e = entries(std::string(path->name));
    ASSERT_TRUE(e.has_value());
    if (path->name == "baseline/ia32_call") {
      EXPECT_LT(*e, 0.05);
    } else {
      EXPECT_GE(*e, 0.9);
      EXPECT_LE(*e, 1.5);
    }
    EXPECT_FALSE(result.by_path[std::string(path->name)].mismatch);
  }
}

TEST(CountingPassLive, TimedPathsWithoutAHelperPidAreListedAsSkipped) {
  PerfPermissions perms = ReadPerfPermissions();
  EventEncoder encoder;
  std::string error;
  auto plan = ParseCounterList("task_clock_ns", encoder, perms, &error);
  ASSERT_TRUE(plan) << error;
  CountingResult result =
      RunCountingPass({FindPath("getpid/ia32_int80")}, *plan, encoder, perms, 2.0e9, 0.002, -1);
  if (result.context.empty() || ContextValue(result, "counters.task_clock_ns.source").empty()) {
    GTEST_SKIP() << "nothing can be counted here";
  }
  EXPECT_THAT(ContextValue(result, "counters.skipped_paths"),
              HasSubstr("getpid/ia32_int80 (the ia32 helper is not running)"));
  EXPECT_TRUE(result.by_path.empty());
}

TEST(CountingPassLive, OwnPerfFdsAreSeenByTheScan) {
  EventEncoder encoder;
  std::vector<EventFailure> failures;
  PerfGroup group =
      PerfGroup::Open({*encoder.Encode("task-clock").event}, 0, ReadPerfPermissions(), &failures);
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
