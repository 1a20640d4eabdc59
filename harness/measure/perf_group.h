// A perf_event group on one thread: three small classes with one job each, after
// google/benchmark's perf_counters (a value buffer, an owner of the file descriptors, a
// start/stop measurement).
//
// Setup never throws and never aborts: an event the kernel refuses is left out of the
// group with its reason (OpenFailureReason), and a group none of whose events opened is
// an empty, valid object whose Start/Stop do nothing.
#ifndef SYSGATE_HARNESS_MEASURE_PERF_GROUP_H_
#define SYSGATE_HARNESS_MEASURE_PERF_GROUP_H_

#include <linux/perf_event.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "harness/measure/perf_events.h"

namespace sysgate {

// What one group read() returns with PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
// PERF_FORMAT_TOTAL_TIME_RUNNING (and no PERF_FORMAT_ID):
//   u64 nr; u64 time_enabled; u64 time_running; u64 value[nr];
// (include/uapi/linux/perf_event.h, "read_format").
class GroupReading {
 public:
  // Above this enabled/running ratio the group was multiplexed off the PMU for a large
  // part of the run, and its scaled values are estimates: the JSON flags them.
  static constexpr double kLargeScale = 1.25;

  // nullopt when the buffer is too short for its own `nr`, or `nr` != expected.
  static std::optional<GroupReading> Parse(std::span<const uint64_t> words, size_t expected);

  uint64_t time_enabled() const { return time_enabled_; }
  uint64_t time_running() const { return time_running_; }
  const std::vector<uint64_t>& raw() const { return values_; }

  // enabled / running: 1 when the group ran the whole time; 0 when it never ran (then
  // the values mean nothing).
  double ScaleFactor() const;
  bool Counted() const { return time_running_ > 0; }
  bool LargelyScaled() const { return ScaleFactor() > kLargeScale; }
  // Each value times ScaleFactor() (the usual linear extrapolation perf stat does).
  std::vector<double> Scaled() const;
  // This reading minus an earlier one of the same group: counts and times of the interval.
  GroupReading Since(const GroupReading& before) const;

 private:
  uint64_t time_enabled_ = 0, time_running_ = 0;
  std::vector<uint64_t> values_;
};

// The system call, replaceable in tests: returns an fd, or -1 with errno set.
using PerfOpenFn = int (*)(perf_event_attr* attr, pid_t pid, int cpu, int group_fd,
                           unsigned long flags);
int RealPerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group_fd, unsigned long flags);

struct EventFailure {
  std::string event;
  std::string reason;
};

// Owns the group's file descriptors (closed on destruction); move-only.
class PerfGroup {
 public:
  PerfGroup() = default;
  PerfGroup(PerfGroup&& other) noexcept;
  PerfGroup& operator=(PerfGroup&& other) noexcept;
  PerfGroup(const PerfGroup&) = delete;
  PerfGroup& operator=(const PerfGroup&) = delete;
  ~PerfGroup();

  // Opens `events` as one group counting thread `pid` (0: the calling thread) on any CPU,
  // created disabled. Events that fail go to `failures` with the reason; the rest form
  // the group, in order.
  static PerfGroup Open(const std::vector<EncodedEvent>& events, pid_t pid,
                        const PerfPermissions& perms, std::vector<EventFailure>* failures,
                        PerfOpenFn open_fn = RealPerfEventOpen);

  bool empty() const { return fds_.empty(); }
  const std::vector<EncodedEvent>& events() const { return events_; }
  int leader_fd() const { return fds_.empty() ? -1 : fds_.front(); }

  // ioctl on the whole group; false (errno kept) on failure; no-ops when empty.
  bool Enable() const;
  bool Disable() const;
  // One read() of the leader, retried on EINTR.
  std::optional<GroupReading> Read(std::string* error) const;

  void Close();

 private:
  std::vector<int> fds_;
  std::vector<EncodedEvent> events_;
};

// One counting interval: Start() enables the group and reads it, Stop() reads it again
// and disables it; the interval's counts are the difference. Deltas rather than
// PERF_EVENT_IOC_RESET, which zeroes the counts but not time_enabled/time_running
// (kernel/events/core.c, perf_event_reset()), so the scaling would be wrong.
class PerfMeasurement {
 public:
  explicit PerfMeasurement(const PerfGroup& group) : group_(group) {}
  bool Start(std::string* error = nullptr);
  std::optional<GroupReading> Stop(std::string* error);

 private:
  const PerfGroup& group_;
  std::optional<GroupReading> start_;
};

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_MEASURE_PERF_GROUP_H_
