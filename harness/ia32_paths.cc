#include "harness/ia32_paths.h"

#include <sched.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>

#include "harness/ia32_client.h"

namespace sysgate {
namespace {

// The helper's variant names (benchmarks/ia32/sysgate_ia32_helper.cc, kVariants).
constexpr char kCall[] = "call";
constexpr char kInt80[] = "int80";
constexpr char kSysenter[] = "sysenter";
constexpr char kVdso[] = "vdso";
constexpr char kSyscall[] = "syscall";
constexpr char kVdsoClock[] = "vdso_clock";
constexpr char kInt80Clock[] = "int80_clock";
constexpr char kVdsoGetcpu[] = "vdso_getcpu";
constexpr char kInt80Getcpu[] = "int80_getcpu";

// The 32-bit vDSO-family rows, for Ia32Context.
constexpr std::pair<const char*, const char*> kValueRows[] = {
    {"clock_gettime_monotonic/ia32_vdso", kVdsoClock},
    {"clock_gettime_monotonic/ia32_int80", kInt80Clock},
    {"getcpu/ia32_vdso", kVdsoGetcpu},
    {"getcpu/ia32_int80", kInt80Getcpu},
};

constexpr int kCheckAttempts = 3;

template <const char* kVariant>
bool Timed(uint64_t iterations, uint64_t /*arg*/, uint64_t* ticks, uint64_t* result,
           std::string* error) {
  return Ia32Client::Shared().Run(kVariant, iterations, ticks, result, error);
}

template <const char* kVariant>
bool PerCall(uint64_t max_samples, uint64_t budget_ticks, uint64_t /*arg*/,
             std::vector<uint64_t>* ticks, std::string* error) {
  return Ia32Client::Shared().PerCall(kVariant, max_samples, budget_ticks, ticks, error);
}

template <const char* kVariant>
std::optional<std::string> Probe() {
  return Ia32Client::Shared().Probe(kVariant);
}

bool ReadShared(const char* variant, int64_t* ret, int64_t* value, std::string* error) {
  return Ia32Client::Shared().Read(variant, ret, value, error);
}

// The helper's probe, then (once, cached) the row's correctness check: "failed: <why>"
// when the values are wrong.
template <const char* kVariant, bool kClock>
std::optional<std::string> ProbeValue() {
  if (auto reason = Ia32Client::Shared().Probe(kVariant)) return reason;
  static const std::optional<std::string> verdict = []() -> std::optional<std::string> {
    Ia32ReadFn read = [](int64_t* ret, int64_t* value, std::string* error) {
      return ReadShared(kVariant, ret, value, error);
    };
    std::optional<std::string> why =
        kClock ? CheckIa32Clock(kVariant, read)
               : CheckIa32Getcpu(kVariant, read, AllowedCpus(Ia32Client::Shared().helper_pid()));
    if (!why) return std::nullopt;
    return "failed: " + *why;
  }();
  return verdict;
}

uint64_t ExpectIa32Dummy() { return kSysgate32DummyId; }
uint64_t ExpectZero() { return 0; }

int64_t MonotonicNanos() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string Format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

}  // namespace

uint64_t ExpectHelperPid() {
  return static_cast<uint64_t>(Ia32Client::Shared().helper_pid());
}

std::optional<std::string> CheckIa32Clock(std::string_view what, const Ia32ReadFn& read) {
  const std::string name(what);
  std::string why;
  for (int attempt = 0; attempt < kCheckAttempts; ++attempt) {
    int64_t ret = -1, value = 0;
    std::string error;
    const int64_t before = MonotonicNanos();
    if (!read(&ret, &value, &error)) return name + ": " + error;
    const int64_t after = MonotonicNanos();
    if (ret != 0)
      return Format("%s: clock_gettime(CLOCK_MONOTONIC) returned %" PRId64, name.c_str(), ret);
    if (value >= before && value <= after) return std::nullopt;
    why = Format("%s: CLOCK_MONOTONIC read %" PRId64
                 " ns, outside the 64-bit reads around it [%" PRId64 ", %" PRId64 "]",
                 name.c_str(), value, before, after);
  }
  return why;
}

std::optional<std::string> CheckIa32Getcpu(std::string_view what, const Ia32ReadFn& read,
                                           const std::vector<int>& allowed) {
  const std::string name(what);
  int64_t ret = -1, cpu = -1;
  std::string error;
  if (!read(&ret, &cpu, &error)) return name + ": " + error;
  if (ret != 0) return Format("%s: getcpu returned %" PRId64, name.c_str(), ret);
  if (allowed.empty()) return std::nullopt;  // affinity unknown: nothing to compare with
  if (allowed.size() == 1 && cpu != allowed.front()) {
    return Format("%s: getcpu says CPU %" PRId64 ", the helper is pinned to CPU %d", name.c_str(),
                  cpu, allowed.front());
  }
  for (int c : allowed) {
    if (c == cpu) return std::nullopt;
  }
  return Format("%s: getcpu says CPU %" PRId64 ", which the helper may not run on", name.c_str(),
                cpu);
}

std::vector<int> AllowedCpus(pid_t pid) {
  std::vector<int> cpus;
  if (pid <= 0) return cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(pid, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

std::vector<std::pair<std::string, std::string>> Ia32Context() {
  Ia32Client& client = Ia32Client::Shared();
  if (!client.ok()) {
    const std::string why = "unavailable: " + client.error();
    return {{"ia32_calls", why}, {"vdso32_symbols", why}};
  }
  std::string calls;
  for (const auto& [row, variant] : kValueRows) {
    std::optional<std::string> what = client.Describe(variant);
    if (!calls.empty()) calls += "; ";
    calls += std::string(row) + ": " + what.value_or("unknown");
  }
  std::string error;
  std::optional<std::string> symbols = client.Symbols(&error);
  return {{"ia32_calls", calls},
          {"vdso32_symbols",
           symbols ? (symbols->empty() ? "none" : *symbols) : "unavailable: " + error}};
}

// clang-format off
std::vector<Path> Ia32Paths() {
  return {
    // name                                  mechanism       loop     baseline              arg      expect           probe                              timed                per_call
    {"baseline/ia32_call",                   "call",         nullptr, "baseline/call",      nullptr, ExpectIa32Dummy, Probe<kCall>,                      Timed<kCall>,        PerCall<kCall>},
    {"getpid/ia32_int80",                    "ia32_int80",   nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kInt80>,                     Timed<kInt80>,       PerCall<kInt80>},
    {"getpid/ia32_sysenter",                 "sysenter",     nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kSysenter>,                  Timed<kSysenter>,    PerCall<kSysenter>},
    {"getpid/ia32_vdso",                     "vdso32",       nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kVdso>,                      Timed<kVdso>,        PerCall<kVdso>},
    {"getpid/ia32_syscall",                  "ia32_syscall", nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kSyscall>,                   Timed<kSyscall>,     PerCall<kSyscall>},
    // The 32-bit vDSO (issue 4): mechanism `vdso` like the 64-bit rows (0 kernel entries
    // expected); the int 0x80 rows are compared with the bare ia32 int 0x80 entry.
    {"clock_gettime_monotonic/ia32_vdso",    "vdso",         nullptr, "baseline/ia32_call", nullptr, ExpectZero,      ProbeValue<kVdsoClock, true>,      Timed<kVdsoClock>,   PerCall<kVdsoClock>},
    {"clock_gettime_monotonic/ia32_int80",   "ia32_int80",   nullptr, "getpid/ia32_int80",  nullptr, ExpectZero,      ProbeValue<kInt80Clock, true>,     Timed<kInt80Clock>,  PerCall<kInt80Clock>},
    {"getcpu/ia32_vdso",                     "vdso",         nullptr, "baseline/ia32_call", nullptr, ExpectZero,      ProbeValue<kVdsoGetcpu, false>,    Timed<kVdsoGetcpu>,  PerCall<kVdsoGetcpu>},
    {"getcpu/ia32_int80",                    "ia32_int80",   nullptr, "getpid/ia32_int80",  nullptr, ExpectZero,      ProbeValue<kInt80Getcpu, false>,   Timed<kInt80Getcpu>, PerCall<kInt80Getcpu>},
  };
}
// clang-format on

}  // namespace sysgate
