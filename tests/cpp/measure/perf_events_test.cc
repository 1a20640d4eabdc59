// Encoding of event names and the reasons an event cannot be counted. None of these tests
// needs a PMU: PMU events of other CPUs are encoded by forcing libpfm4's tables.
#include "harness/measure/perf_events.h"

#include <errno.h>
#include <stdlib.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#if SYSGATE_HAVE_LIBPFM
#include <perfmon/pfmlib.h>
#endif

namespace sysgate {
namespace {

using ::testing::HasSubstr;

const std::string kFixtures = SYSGATE_FIXTURES;
const std::string kTracefs = kFixtures + "/tracefs";

PerfPermissions Perms(int paranoid, bool privileged) {
  PerfPermissions p;
  p.paranoid = paranoid;
  p.privileged = privileged;
  return p;
}

TEST(PerfEvents, EncodesGenericCyclesWithUserKernelSplit) {
  EventEncoder encoder({kTracefs});
  EncodeResult user = encoder.Encode("cycles:u");
  ASSERT_TRUE(user.event) << user.error;
  EXPECT_EQ(user.event->attr.type, PERF_TYPE_HARDWARE);
  EXPECT_EQ(user.event->attr.config, PERF_COUNT_HW_CPU_CYCLES);
  EXPECT_EQ(user.event->source, CounterSource::kPmu);
  EXPECT_FALSE(user.event->attr.exclude_user);
  EXPECT_TRUE(user.event->attr.exclude_kernel);

  EncodeResult kernel = encoder.Encode("instructions:k");
  ASSERT_TRUE(kernel.event) << kernel.error;
  EXPECT_EQ(kernel.event->attr.config, PERF_COUNT_HW_INSTRUCTIONS);
  EXPECT_TRUE(kernel.event->attr.exclude_user);
  EXPECT_FALSE(kernel.event->attr.exclude_kernel);

  EncodeResult both = encoder.Encode("perf::cycles");
  ASSERT_TRUE(both.event) << both.error;
  EXPECT_FALSE(both.event->attr.exclude_user);
  EXPECT_FALSE(both.event->attr.exclude_kernel);
}

TEST(PerfEvents, EncodesSoftwareEvents) {
  EventEncoder encoder({kTracefs});
  for (const char* name : {"context-switches", "task-clock", "page-faults:u"}) {
    EncodeResult r = encoder.Encode(name);
    ASSERT_TRUE(r.event) << name << ": " << r.error;
    EXPECT_EQ(r.event->attr.type, PERF_TYPE_SOFTWARE) << name;
    EXPECT_EQ(r.event->source, CounterSource::kSoftware) << name;
  }
  EXPECT_EQ(encoder.Encode("context-switches").event->attr.config, PERF_COUNT_SW_CONTEXT_SWITCHES);
}

TEST(PerfEvents, UnknownEventIsAReasonNotACrash) {
  EventEncoder encoder({kTracefs});
  EncodeResult r = encoder.Encode("NO_SUCH_EVENT_ANYWHERE");
  EXPECT_FALSE(r.event);
  EXPECT_THAT(r.error, HasSubstr("cannot encode NO_SUCH_EVENT_ANYWHERE"));
  EXPECT_THAT(r.error, HasSubstr("--list-events"));
  EXPECT_FALSE(encoder.Encode("").event);
}

TEST(PerfEvents, EncodesTracepointsFromTracefs) {
  EventEncoder encoder({kTracefs});
  EncodeResult r = encoder.Encode("raw_syscalls:sys_enter");
  ASSERT_TRUE(r.event) << r.error;
  EXPECT_EQ(r.event->attr.type, PERF_TYPE_TRACEPOINT);
  EXPECT_EQ(r.event->attr.config, 443u);
  EXPECT_EQ(r.event->source, CounterSource::kTracepoint);
  EXPECT_FALSE(r.event->attr.exclude_kernel) << "a tracepoint fires in kernel mode";
}

TEST(PerfEvents, TracepointErrorsSayWhy) {
  EventEncoder unmounted({kFixtures + "/empty_root/sys/kernel/tracing"});
  EncodeResult r = unmounted.Encode("raw_syscalls:sys_enter");
  EXPECT_FALSE(r.event);
  EXPECT_THAT(r.error, HasSubstr("tracefs is not mounted"));
  EXPECT_THAT(r.error, HasSubstr("mount -t tracefs"));

  EventEncoder mounted({kTracefs});
  r = mounted.Encode("raw_syscalls:no_such_event");
  EXPECT_FALSE(r.event);
  EXPECT_THAT(r.error, HasSubstr("no such tracepoint"));
}

TEST(PerfEvents, LevelSuffixIsNotMistakenForATracepoint) {
  EventEncoder encoder({kFixtures + "/empty_root"});
  EncodeResult r = encoder.Encode("cycles:k");
  ASSERT_TRUE(r.event) << r.error;
  EXPECT_EQ(r.event->attr.type, PERF_TYPE_HARDWARE);
}

TEST(PerfEvents, ModeSwitchEventPerMicroarchitecture) {
  auto skl = ModeSwitchEventFor("skl");
  ASSERT_TRUE(skl);
  EXPECT_EQ(skl->event, "skl::CPU_CLK_THREAD_UNHALTED:RING0_TRANS");
  EXPECT_EQ(skl->transitions_per_count, 2);
  EXPECT_EQ(ModeSwitchEventFor("hsw")->event, "hsw::CPL_CYCLES:RING0_TRANS");
  EXPECT_EQ(ModeSwitchEventFor("icl")->event, "icl::BR_INST_RETIRED:FAR_BRANCH");
  EXPECT_EQ(ModeSwitchEventFor("icl")->transitions_per_count, 1);
  EXPECT_EQ(ModeSwitchEventFor("amd64_fam19h_zen4")->event,
            "amd64_fam19h_zen4::RETIRED_FAR_CONTROL_TRANSFERS");
  EXPECT_FALSE(ModeSwitchEventFor(""));
  EXPECT_FALSE(ModeSwitchEventFor("amd64_k8_revg"));
}

#if SYSGATE_HAVE_LIBPFM
// libpfm4 encodes events of PMUs that are not on this CPU when LIBPFM_ENCODE_INACTIVE is
// set at initialization; this checks the per-CPU table against libpfm4's own event tables.
class ForcedPmu : public ::testing::Test {
 protected:
  void SetUp() override {
    pfm_terminate();
    setenv("LIBPFM_ENCODE_INACTIVE", "1", 1);
  }
  void TearDown() override {
    pfm_terminate();
    unsetenv("LIBPFM_ENCODE_INACTIVE");
  }
};

TEST_F(ForcedPmu, EncodesIntelFarBranchForAnIntelPmu) {
  EventEncoder encoder({kTracefs});
  EncodeResult r = encoder.Encode("skl::BR_INST_RETIRED:FAR_BRANCH:k");
  ASSERT_TRUE(r.event) << r.error;
  EXPECT_EQ(r.event->attr.type, PERF_TYPE_RAW);
  EXPECT_EQ(r.event->attr.config & 0xffff, 0x40c4u) << "event 0xc4, umask 0x40 (SDM vol. 3B)";
  EXPECT_TRUE(r.event->attr.exclude_user);
  EXPECT_FALSE(r.event->attr.exclude_kernel);
  EXPECT_EQ(r.event->source, CounterSource::kPmu);
  EXPECT_THAT(r.event->canonical, HasSubstr("skl::BR_INST_RETIRED:FAR_BRANCH"));
}

TEST_F(ForcedPmu, EveryModeSwitchEventEncodes) {
  EventEncoder encoder({kTracefs});
  for (const char* pmu :
       {"snb", "ivb", "hsw", "bdw", "hsw_ep", "skl", "skx", "icl", "icx", "spr",
        "amd64_fam17h_zen1", "amd64_fam17h_zen2", "amd64_fam19h_zen3", "amd64_fam19h_zen4"}) {
    auto mode = ModeSwitchEventFor(pmu);
    ASSERT_TRUE(mode) << pmu;
    EncodeResult r = encoder.Encode(mode->event);
    EXPECT_TRUE(r.event) << pmu << ": " << r.error;
  }
}

TEST_F(ForcedPmu, WrongUnitMaskIsAReason) {
  EventEncoder encoder({kTracefs});
  EncodeResult r = encoder.Encode("skl::BR_INST_RETIRED:NO_SUCH_UMASK");
  EXPECT_FALSE(r.event);
  EXPECT_THAT(r.error, HasSubstr("cannot encode skl::BR_INST_RETIRED:NO_SUCH_UMASK"));
}
#endif

TEST(PerfEvents, OpenFailuresBecomeReasonsWithRemedies) {
  EventEncoder encoder({kTracefs});
  EncodedEvent kernel_cycles = *encoder.Encode("cycles:k").event;
  EncodedEvent user_cycles = *encoder.Encode("cycles:u").event;
  EncodedEvent tracepoint = *encoder.Encode("raw_syscalls:sys_enter").event;
  EncodedEvent software = *encoder.Encode("context-switches").event;

  EXPECT_THAT(OpenFailureReason(ENOENT, kernel_cycles, Perms(2, true)),
              HasSubstr("no hardware PMU exposed (common in VMs"));
  EXPECT_THAT(OpenFailureReason(ENOENT, tracepoint, Perms(2, true)),
              HasSubstr("kernel does not support"));

  std::string refused = OpenFailureReason(EACCES, kernel_cycles, Perms(2, false));
  EXPECT_THAT(refused, HasSubstr("perf_event_paranoid <= 1 (it is 2)"));
  EXPECT_THAT(refused, HasSubstr("sysctl kernel.perf_event_paranoid=1"));
  EXPECT_THAT(refused, HasSubstr("not root"));
  EXPECT_THAT(OpenFailureReason(EACCES, software, Perms(3, false)),
              HasSubstr("forbids all counting"));
  EXPECT_THAT(OpenFailureReason(EACCES, user_cycles, Perms(2, false)),
              HasSubstr("security module"));
  EXPECT_THAT(OpenFailureReason(EOPNOTSUPP, kernel_cycles, Perms(1, false)),
              HasSubstr("cannot count this event"));
  EXPECT_THAT(OpenFailureReason(EINVAL, kernel_cycles, Perms(1, false)),
              HasSubstr("rejected the encoding"));
  EXPECT_THAT(OpenFailureReason(EBUSY, kernel_cycles, Perms(1, false)),
              HasSubstr("perf_event_open failed"));
}

TEST(PerfEvents, PermissionLogic) {
  EXPECT_TRUE(KernelCountingAllowed(Perms(1, false)));
  EXPECT_TRUE(KernelCountingAllowed(Perms(-1, false)));
  EXPECT_FALSE(KernelCountingAllowed(Perms(2, false)));
  EXPECT_TRUE(KernelCountingAllowed(Perms(2, true)));
  EXPECT_TRUE(KernelCountingAllowed(Perms(4, true)));
  EXPECT_TRUE(CountingAllowed(Perms(2, false)));
  EXPECT_FALSE(CountingAllowed(Perms(3, false)));
  EXPECT_EQ(KernelCountingRefusal(Perms(2, true)), "");
  EXPECT_THAT(KernelCountingRefusal(Perms(2, false)),
              HasSubstr("sysctl kernel.perf_event_paranoid=1"));
}

TEST(PerfEvents, ReadsPermissionsFromProc) {
  PerfPermissions fixture = ReadPerfPermissions(kFixtures + "/intel_host");
  EXPECT_EQ(fixture.paranoid, 1);
  EXPECT_FALSE(fixture.privileged) << "the fixture's status has no CapEff";
  PerfPermissions empty = ReadPerfPermissions(kFixtures + "/empty_root");
  EXPECT_EQ(empty.paranoid, 2) << "unreadable: assume the kernel default";
}

TEST(PerfEvents, ColumnNames) {
  EXPECT_EQ(ColumnName("cycles:u"), "cycles_u");
  EXPECT_EQ(ColumnName("raw_syscalls:sys_enter"), "raw_syscalls_sys_enter");
  EXPECT_EQ(ColumnName("skl::BR_INST_RETIRED:FAR_BRANCH:k"), "skl_br_inst_retired_far_branch_k");
}

TEST(PerfEvents, ListsSomething) {
  EventEncoder encoder;
  auto lines = ListSupportedEvents(encoder);
  ASSERT_GT(lines.size(), 1u);
  EXPECT_THAT(lines.back(), HasSubstr("raw_syscalls:sys_enter"));
}

}  // namespace
}  // namespace sysgate
