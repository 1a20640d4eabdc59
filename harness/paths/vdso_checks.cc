#include "harness/paths/vdso_checks.h"

#include <sched.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

namespace sysgate {
namespace {

constexpr size_t kCheckRandomBytes = 16;
constexpr int kCheckAttempts = 3;

const char* ClockName(clockid_t clock) {
  switch (clock) {
    case CLOCK_MONOTONIC:
      return "CLOCK_MONOTONIC";
    case CLOCK_REALTIME:
      return "CLOCK_REALTIME";
    case CLOCK_MONOTONIC_COARSE:
      return "CLOCK_MONOTONIC_COARSE";
    case CLOCK_MONOTONIC_RAW:
      return "CLOCK_MONOTONIC_RAW";
    case CLOCK_BOOTTIME:
      return "CLOCK_BOOTTIME";
    default:
      return "clock";
  }
}

std::string Format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

int64_t Nanos(const timespec& ts) { return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec; }

std::string Name(std::string_view name) { return std::string(name); }

// Runs `attempt` up to kCheckAttempts times: a clock stepped by NTP, or a second that
// turned between two reads, must not fail a correct path; a wrong variant fails every time.
std::optional<std::string> Retry(const auto& attempt) {
  std::optional<std::string> why;
  for (int i = 0; i < kCheckAttempts; ++i) {
    why = attempt();
    if (!why) return std::nullopt;
  }
  return why;
}

}  // namespace

std::optional<std::string> CheckClockGettime(clockid_t clock,
                                             std::span<const Variant<ClockFn>> variants) {
  const char* clock_name = ClockName(clock);
  return Retry([&]() -> std::optional<std::string> {
    std::string_view prev_name;
    int64_t prev = INT64_MIN;
    for (int round = 0; round < 2; ++round) {
      for (const auto& v : variants) {
        timespec ts{-1, -1};
        int r = v.fn(clock, &ts);
        if (r != 0)
          return Format("clock_gettime(%s) by %s returned %d", clock_name, Name(v.name).c_str(), r);
        if (ts.tv_nsec < 0 || ts.tv_nsec >= 1'000'000'000 || ts.tv_sec < 0) {
          return Format("clock_gettime(%s) by %s gave an invalid timespec {%lld, %ld}", clock_name,
                        Name(v.name).c_str(), static_cast<long long>(ts.tv_sec), ts.tv_nsec);
        }
        int64_t now = Nanos(ts);
        if (now < prev) {
          return Format("clock_gettime(%s): %s read %" PRId64 " ns after %s read %" PRId64
                        " ns (went back %" PRId64 " ns)",
                        clock_name, Name(v.name).c_str(), now, Name(prev_name).c_str(), prev,
                        prev - now);
        }
        prev = now;
        prev_name = v.name;
      }
    }
    return std::nullopt;
  });
}

std::optional<std::string> CheckGettimeofday(std::span<const Variant<GettimeofdayFn>> variants) {
  return Retry([&]() -> std::optional<std::string> {
    timespec ref{};
    clock_gettime(CLOCK_REALTIME, &ref);
    int64_t low = Nanos(ref) / 1000;  // microseconds, as gettimeofday truncates
    std::string_view prev_name = "CLOCK_REALTIME before";
    int64_t prev = low;
    for (int round = 0; round < 2; ++round) {
      for (const auto& v : variants) {
        timeval tv{-1, -1};
        int r = v.fn(&tv, nullptr);
        if (r != 0) return Format("gettimeofday by %s returned %d", Name(v.name).c_str(), r);
        if (tv.tv_usec < 0 || tv.tv_usec >= 1'000'000) {
          return Format("gettimeofday by %s gave an invalid tv_usec %ld", Name(v.name).c_str(),
                        static_cast<long>(tv.tv_usec));
        }
        int64_t now = int64_t{tv.tv_sec} * 1'000'000 + tv.tv_usec;
        if (now < prev) {
          return Format("gettimeofday: %s read %" PRId64 " us after %s read %" PRId64 " us",
                        Name(v.name).c_str(), now, Name(prev_name).c_str(), prev);
        }
        prev = now;
        prev_name = v.name;
      }
    }
    clock_gettime(CLOCK_REALTIME, &ref);
    if (prev > Nanos(ref) / 1000) {
      return Format("gettimeofday: %s read %" PRId64
                    " us, later than CLOCK_REALTIME after it (%" PRId64 " us)",
                    Name(prev_name).c_str(), prev, Nanos(ref) / 1000);
    }
    return std::nullopt;
  });
}

std::optional<std::string> CheckTime(std::span<const Variant<TimeFn>> variants) {
  return Retry([&]() -> std::optional<std::string> {
    const time_t before = time(nullptr);
    std::string_view prev_name = "time() before";
    time_t prev = before;
    for (const auto& v : variants) {
      time_t stored = -1;
      time_t t = v.fn(&stored);
      if (t != stored) {
        return Format("time by %s returned %lld but stored %lld", Name(v.name).c_str(),
                      static_cast<long long>(t), static_cast<long long>(stored));
      }
      if (t < prev) {
        return Format("time: %s returned %lld after %s returned %lld", Name(v.name).c_str(),
                      static_cast<long long>(t), Name(prev_name).c_str(),
                      static_cast<long long>(prev));
      }
      prev = t;
      prev_name = v.name;
    }
    const time_t after = time(nullptr);
    if (prev > after) {
      return Format("time: %s returned %lld, later than time() after it (%lld)",
                    Name(prev_name).c_str(), static_cast<long long>(prev),
                    static_cast<long long>(after));
    }
    return std::nullopt;
  });
}

std::optional<std::string> CheckGetcpu(std::span<const Variant<GetcpuFn>> variants) {
  constexpr int kMigrationRetries = 100;
  std::vector<std::pair<unsigned, unsigned>> seen;  // (cpu, node), first variant to see it
  std::vector<std::string_view> seen_by;
  for (const auto& v : variants) {
    for (int attempt = 0; attempt < kMigrationRetries; ++attempt) {
      unsigned cpu = ~0u, node = ~0u;
      const int before = sched_getcpu();
      const long r = v.fn(&cpu, &node, nullptr);
      const int after = sched_getcpu();
      if (r != 0) return Format("getcpu by %s returned %ld", Name(v.name).c_str(), r);
      if (before != after) continue;  // migrated: the answer may be right for either CPU
      if (static_cast<int>(cpu) != before) {
        return Format("getcpu by %s says CPU %u, sched_getcpu() says %d", Name(v.name).c_str(), cpu,
                      before);
      }
      for (size_t i = 0; i < seen.size(); ++i) {
        if (seen[i].first == cpu && seen[i].second != node) {
          return Format("getcpu: %s says CPU %u is on node %u, %s says node %u",
                        Name(v.name).c_str(), cpu, node, Name(seen_by[i]).c_str(), seen[i].second);
        }
      }
      seen.emplace_back(cpu, node);
      seen_by.push_back(v.name);
      break;
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckClockGetres(clockid_t clock,
                                            std::span<const Variant<ClockFn>> variants) {
  const char* clock_name = ClockName(clock);
  std::string_view first_name;
  int64_t first = -1;
  for (const auto& v : variants) {
    timespec res{-1, -1};
    int r = v.fn(clock, &res);
    if (r != 0)
      return Format("clock_getres(%s) by %s returned %d", clock_name, Name(v.name).c_str(), r);
    int64_t ns = Nanos(res);
    if (ns <= 0) {
      return Format("clock_getres(%s) by %s gave %" PRId64 " ns", clock_name, Name(v.name).c_str(),
                    ns);
    }
    if (first < 0) {
      first = ns;
      first_name = v.name;
    } else if (ns != first) {
      return Format("clock_getres(%s): %s says %" PRId64 " ns, %s says %" PRId64 " ns", clock_name,
                    Name(v.name).c_str(), ns, Name(first_name).c_str(), first);
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckGetrandom(std::span<const Variant<GetrandomFn>> variants) {
  static constexpr unsigned char kZero[kCheckRandomBytes] = {};
  for (const auto& v : variants) {
    unsigned char a[kCheckRandomBytes] = {}, b[kCheckRandomBytes] = {};
    ssize_t ra = v.fn(a, sizeof a, 0);
    ssize_t rb = v.fn(b, sizeof b, 0);
    if (ra != static_cast<ssize_t>(kCheckRandomBytes) ||
        rb != static_cast<ssize_t>(kCheckRandomBytes)) {
      return Format("getrandom(16 bytes) by %s returned %zd and %zd", Name(v.name).c_str(), ra, rb);
    }
    if (std::memcmp(a, kZero, sizeof a) == 0 || std::memcmp(b, kZero, sizeof b) == 0) {
      return Format("getrandom by %s left the buffer all zero", Name(v.name).c_str());
    }
    if (std::memcmp(a, b, sizeof a) == 0) {
      return Format("getrandom by %s returned the same 16 bytes twice", Name(v.name).c_str());
    }
  }
  return std::nullopt;
}

}  // namespace sysgate
