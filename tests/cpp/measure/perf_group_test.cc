// The counter group: read/scale math on synthetic buffers, the fd owner with a fake
// perf_event_open, and live software and tracepoint counts on this machine (skipped with
// the reason where the kernel refuses them). No test asserts a timing.
#include "harness/measure/perf_group.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/measure/counting_pass.h"
#include "harness/paths/lmbench_loops.h"
#include "harness/paths/stubs.h"
#include "harness/platform/environment.h"

namespace sysgate {
namespace {

using ::testing::HasSubstr;

TEST(GroupReading, ParsesAndScales) {
  const std::vector<uint64_t> buffer = {2, 1000, 500, 10, 20};
  auto reading = GroupReading::Parse(buffer, 2);
  ASSERT_TRUE(reading);
  EXPECT_EQ(reading->time_enabled(), 1000u);
  EXPECT_EQ(reading->time_running(), 500u);
  EXPECT_DOUBLE_EQ(reading->ScaleFactor(), 2.0);
  EXPECT_TRUE(reading->LargelyScaled());
  EXPECT_EQ(reading->Scaled(), (std::vector<double>{20, 40}));
  EXPECT_EQ(reading->raw(), (std::vector<uint64_t>{10, 20}));
}

TEST(GroupReading, UnscaledWhenNotMultiplexed) {
  const std::vector<uint64_t> buffer = {1, 700, 700, 123};
  auto reading = GroupReading::Parse(buffer, 1);
  ASSERT_TRUE(reading);
  EXPECT_DOUBLE_EQ(reading->ScaleFactor(), 1.0);
  EXPECT_FALSE(reading->LargelyScaled());
  EXPECT_EQ(reading->Scaled(), (std::vector<double>{123}));
}

TEST(GroupReading, NeverRanMeansNotCounted) {
  const std::vector<uint64_t> buffer = {1, 700, 0, 0};
  auto reading = GroupReading::Parse(buffer, 1);
  ASSERT_TRUE(reading);
  EXPECT_FALSE(reading->Counted());
  EXPECT_EQ(reading->ScaleFactor(), 0);
}

TEST(GroupReading, IntervalIsTheDifferenceOfTwoReads) {
  auto before = GroupReading::Parse(std::vector<uint64_t>{2, 100, 100, 5, 7}, 2);
  auto after = GroupReading::Parse(std::vector<uint64_t>{2, 1100, 600, 25, 47}, 2);
  ASSERT_TRUE(before && after);
  GroupReading interval = after->Since(*before);
  EXPECT_EQ(interval.time_enabled(), 1000u);
  EXPECT_EQ(interval.time_running(), 500u);
  EXPECT_EQ(interval.raw(), (std::vector<uint64_t>{20, 40}));
  EXPECT_EQ(interval.Scaled(), (std::vector<double>{40, 80}));
}

TEST(GroupReading, RejectsMalformedBuffers) {
  EXPECT_FALSE(GroupReading::Parse(std::vector<uint64_t>{2, 1, 1, 5}, 2)) << "short";
  EXPECT_FALSE(GroupReading::Parse(std::vector<uint64_t>{1, 1, 1, 5}, 2)) << "nr mismatch";
  EXPECT_FALSE(GroupReading::Parse(std::vector<uint64_t>{}, 0));
}

// A fake perf_event_open: PMU events fail with ENOENT (as in a VM), the rest get a real
// (harmless) fd so the owner has something to close. Records what it was asked.
struct FakeCall {
  uint32_t type;
  int group_fd;
  bool disabled;
  uint64_t read_format;
};
std::vector<FakeCall> g_fake_calls;

int FakeOpen(perf_event_attr* attr, pid_t, int, int group_fd, unsigned long) {
  g_fake_calls.push_back({attr->type, group_fd, attr->disabled != 0, attr->read_format});
  if (attr->type == PERF_TYPE_HARDWARE || attr->type == PERF_TYPE_RAW) {
    errno = ENOENT;
    return -1;
  }
  return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

TEST(PerfGroup, LeavesOutRefusedEventsAndGroupsTheRest) {
  EventEncoder encoder({std::string(SYSGATE_FIXTURES) + "/tracefs"});
  std::vector<EncodedEvent> events = {*encoder.Encode("cycles:k").event,
                                      *encoder.Encode("context-switches").event,
                                      *encoder.Encode("raw_syscalls:sys_enter").event};
  g_fake_calls.clear();
  std::vector<EventFailure> failures;
  PerfPermissions perms;
  PerfGroup group = PerfGroup::Open(events, 0, perms, &failures, FakeOpen);
  ASSERT_EQ(g_fake_calls.size(), 3u);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].event, "cycles:k");
  EXPECT_THAT(failures[0].reason, HasSubstr("no hardware PMU exposed"));
  ASSERT_EQ(group.events().size(), 2u);
  EXPECT_EQ(group.events()[0].name, "context-switches");
  // The first event that opened leads; only the leader starts disabled.
  EXPECT_EQ(g_fake_calls[1].group_fd, -1);
  EXPECT_TRUE(g_fake_calls[1].disabled);
  EXPECT_EQ(g_fake_calls[2].group_fd, group.leader_fd());
  EXPECT_FALSE(g_fake_calls[2].disabled);
  EXPECT_EQ(g_fake_calls[2].read_format,
            PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING);
  const int leader = group.leader_fd();
  PerfGroup moved = std::move(group);
  EXPECT_TRUE(group.empty());
  EXPECT_EQ(moved.leader_fd(), leader);
  moved.Close();
  EXPECT_EQ(fcntl(leader, F_GETFD), -1) << "Close() closes the fds";
}

TEST(PerfGroup, EmptyGroupIsValidAndInert) {
  PerfGroup group;
  EXPECT_TRUE(group.empty());
  PerfMeasurement m(group);
  EXPECT_TRUE(m.Start());
  std::string error;
  EXPECT_FALSE(m.Stop(&error));
  EXPECT_EQ(error, "");
}

// Opens `names` live on this thread, or skips the test with the reason.
#define SYSGATE_OPEN_OR_SKIP(group, names)                                        \
  EventEncoder encoder;                                                           \
  std::vector<EncodedEvent> events;                                               \
  for (const char* name : names) {                                                \
    EncodeResult r = encoder.Encode(name);                                        \
    if (!r.event) GTEST_SKIP() << r.error;                                        \
    events.push_back(*r.event);                                                   \
  }                                                                               \
  std::vector<EventFailure> failures;                                             \
  PerfGroup group = PerfGroup::Open(events, 0, ReadPerfPermissions(), &failures); \
  if (!failures.empty()) GTEST_SKIP() << failures[0].event << ": " << failures[0].reason

TEST(PerfGroupLive, SoftwareCountersCount) {
  const std::vector<const char*> names = {"task-clock", "context-switches"};
  SYSGATE_OPEN_OR_SKIP(group, names);
  PerfMeasurement m(group);
  ASSERT_TRUE(m.Start());
  volatile uint64_t sink = 0;
  for (int i = 0; i < 2000000; ++i) sink = sink + static_cast<uint64_t>(i);
  sched_yield();
  std::string error;
  auto reading = m.Stop(&error);
  ASSERT_TRUE(reading) << error;
  ASSERT_TRUE(reading->Counted());
  EXPECT_GT(reading->Scaled()[0], 0) << "task-clock";
  EXPECT_GE(reading->Scaled()[1], 0) << "context switches";
  EXPECT_EQ(CountPerfEventFds("/proc", getpid()), 2);
  group.Close();
  EXPECT_EQ(CountPerfEventFds("/proc", getpid()), 0);
}

// Kernel entries per call from raw_syscalls:sys_enter over `calls` calls of `loop`.
double EntriesPerCall(const PerfGroup& group, LoopFn loop, uint64_t calls) {
  PerfMeasurement m(group);
  EXPECT_TRUE(m.Start());
  loop(calls, 0);
  std::string error;
  auto reading = m.Stop(&error);
  EXPECT_TRUE(reading) << error;
  if (!reading) return -1;
  return reading->Scaled()[0] / static_cast<double>(calls);
}

TEST(PerfGroupLive, OneKernelEntryPerGetpid) {
  const std::vector<const char*> names = {"raw_syscalls:sys_enter"};
  SYSGATE_OPEN_OR_SKIP(group, names);
  constexpr uint64_t kCalls = 20000;
  double asm_entries = EntriesPerCall(group, sysgate_syscall_getpid_loop, kCalls);
  EXPECT_GE(asm_entries, 0.9);
  EXPECT_LE(asm_entries, 1.5);
  double glibc_entries = EntriesPerCall(group, GlibcGetpidLoop, kCalls);
  EXPECT_GE(glibc_entries, 0.9);
  EXPECT_LE(glibc_entries, 1.5);
  EXPECT_LT(EntriesPerCall(group, sysgate_call_loop, kCalls), 0.01) << "a plain call";
}

uint64_t ClockGettimeLoop(uint64_t n, uint64_t) {
  timespec ts{};
  for (uint64_t i = 0; i < n; ++i) clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_nsec);
}

TEST(PerfGroupLive, VdsoClockGettimeEntersTheKernelZeroTimes) {
  const std::string clocksource =
      ReadTrimmed("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  if (clocksource != "tsc" && clocksource != "kvm-clock" &&
      clocksource != "hyperv_clocksource_tsc_page") {
    GTEST_SKIP() << "clocksource " << clocksource << " may not be vDSO-capable";
  }
  const std::vector<const char*> names = {"raw_syscalls:sys_enter"};
  SYSGATE_OPEN_OR_SKIP(group, names);
  EXPECT_LT(EntriesPerCall(group, ClockGettimeLoop, 20000), 0.01);
}

}  // namespace
}  // namespace sysgate
