#include "harness/measure/perf_group.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace sysgate {

std::optional<GroupReading> GroupReading::Parse(std::span<const uint64_t> words, size_t expected) {
  if (words.size() < 3) return std::nullopt;
  const uint64_t nr = words[0];
  if (nr != expected || words.size() < 3 + nr) return std::nullopt;
  GroupReading reading;
  reading.time_enabled_ = words[1];
  reading.time_running_ = words[2];
  reading.values_.assign(words.begin() + 3, words.begin() + 3 + static_cast<ptrdiff_t>(nr));
  return reading;
}

double GroupReading::ScaleFactor() const {
  if (time_running_ == 0) return 0;
  return static_cast<double>(time_enabled_) / static_cast<double>(time_running_);
}

std::vector<double> GroupReading::Scaled() const {
  const double scale = ScaleFactor();
  std::vector<double> out;
  out.reserve(values_.size());
  for (uint64_t v : values_) out.push_back(static_cast<double>(v) * scale);
  return out;
}

GroupReading GroupReading::Since(const GroupReading& before) const {
  GroupReading delta = *this;
  delta.time_enabled_ -= before.time_enabled_;
  delta.time_running_ -= before.time_running_;
  for (size_t i = 0; i < delta.values_.size() && i < before.values_.size(); ++i) {
    delta.values_[i] -= before.values_[i];
  }
  return delta;
}

int RealPerfEventOpen(perf_event_attr* attr, pid_t pid, int cpu, int group_fd,
                      unsigned long flags) {
  return static_cast<int>(syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags));
}

PerfGroup::PerfGroup(PerfGroup&& other) noexcept
    : fds_(std::exchange(other.fds_, {})), events_(std::exchange(other.events_, {})) {}

PerfGroup& PerfGroup::operator=(PerfGroup&& other) noexcept {
  if (this != &other) {
    Close();
    fds_ = std::exchange(other.fds_, {});
    events_ = std::exchange(other.events_, {});
  }
  return *this;
}

PerfGroup::~PerfGroup() { Close(); }

void PerfGroup::Close() {
  // Close members before the leader: closing a leader first promotes each sibling to a
  // singleton group for a moment (kernel/events/core.c, perf_group_detach()).
  for (auto it = fds_.rbegin(); it != fds_.rend(); ++it) close(*it);
  fds_.clear();
  events_.clear();
}

PerfGroup PerfGroup::Open(const std::vector<EncodedEvent>& events, pid_t pid,
                          const PerfPermissions& perms, std::vector<EventFailure>* failures,
                          PerfOpenFn open_fn) {
  PerfGroup group;
  for (const EncodedEvent& event : events) {
    perf_event_attr attr = event.attr;
    attr.size = sizeof attr;
    attr.read_format =
        PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    // Only the leader starts disabled; siblings follow it (they are enabled with it).
    attr.disabled = group.fds_.empty() ? 1 : 0;
    attr.inherit = 0;  // this thread only: the measured loop runs on it
    const int group_fd = group.fds_.empty() ? -1 : group.fds_.front();
    int fd = open_fn(&attr, pid, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (failures) failures->push_back({event.name, OpenFailureReason(err, event, perms)});
      continue;
    }
    group.fds_.push_back(fd);
    group.events_.push_back(event);
  }
  return group;
}

bool PerfGroup::Enable() const {
  return empty() || ioctl(fds_.front(), PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) == 0;
}

bool PerfGroup::Disable() const {
  return empty() || ioctl(fds_.front(), PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP) == 0;
}

std::optional<GroupReading> PerfGroup::Read(std::string* error) const {
  if (empty()) return std::nullopt;
  std::vector<uint64_t> words(3 + fds_.size());
  const size_t bytes = words.size() * sizeof(uint64_t);
  ssize_t got;
  do {
    got = read(fds_.front(), words.data(), bytes);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (error) *error = std::string("reading the counter group: ") + std::strerror(errno);
    return std::nullopt;
  }
  words.resize(static_cast<size_t>(got) / sizeof(uint64_t));
  auto reading = GroupReading::Parse(words, fds_.size());
  if (!reading && error) {
    *error = "reading the counter group: short or malformed read (" + std::to_string(got) +
             " bytes for " + std::to_string(fds_.size()) + " events)";
  }
  return reading;
}

bool PerfMeasurement::Start(std::string* error) {
  start_.reset();
  if (group_.empty()) return true;
  if (!group_.Enable()) {
    if (error) *error = std::string("enabling the counter group: ") + std::strerror(errno);
    return false;
  }
  start_ = group_.Read(error);
  return start_.has_value();
}

std::optional<GroupReading> PerfMeasurement::Stop(std::string* error) {
  if (group_.empty() || !start_) return std::nullopt;
  std::optional<GroupReading> end = group_.Read(error);
  if (!group_.Disable()) {
    if (error) *error = std::string("disabling the counter group: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (!end) return std::nullopt;
  return end->Since(*start_);
}

}  // namespace sysgate
