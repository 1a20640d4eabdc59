#include "harness/paths/ia32_paths.h"

#include <sched.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>

#include "harness/coprocess/ia32_client.h"
#include "harness/coprocess/ia32_variants.h"

namespace sysgate {
namespace {

using V = Ia32Variant;

// The 32-bit vDSO-family rows, for Ia32Context.
constexpr std::pair<const char*, Ia32Variant> kValueRows[] = {
    {"clock_gettime_monotonic/ia32_vdso", V::kVdsoClock},
    {"clock_gettime_monotonic/ia32_int80", V::kInt80Clock},
    {"getcpu/ia32_vdso", V::kVdsoGetcpu},
    {"getcpu/ia32_int80", V::kInt80Getcpu},
};

constexpr int kCheckAttempts = 3;

template <Ia32Variant kVariant>
bool Timed(uint64_t iterations, uint64_t /*arg*/, uint64_t* ticks, uint64_t* result,
           std::string* error, bool* preempted) {
  return Ia32Client::Shared().Run(Ia32VariantName(kVariant), iterations, ticks, result, error,
                                  preempted);
}

template <Ia32Variant kVariant>
bool PerCall(uint64_t max_samples, uint64_t budget_ticks, uint64_t /*arg*/,
             std::vector<uint64_t>* ticks, std::string* error) {
  return Ia32Client::Shared().PerCall(Ia32VariantName(kVariant), max_samples, budget_ticks, ticks,
                                      error);
}

template <Ia32Variant kVariant>
std::optional<std::string> Probe() {
  return Ia32Client::Shared().Probe(Ia32VariantName(kVariant));
}

bool ReadShared(const char* variant, int64_t* ret, int64_t* value, std::string* error) {
  return Ia32Client::Shared().Read(variant, ret, value, error);
}

// The helper's probe, then (once, cached) the row's correctness check: "failed: <why>"
// when the values are wrong.
template <Ia32Variant kVariant, bool kClock>
std::optional<std::string> ProbeValue() {
  if (auto reason = Ia32Client::Shared().Probe(Ia32VariantName(kVariant))) return reason;
  static const std::optional<std::string> verdict = []() -> std::optional<std::string> {
    Ia32ReadFn read = [](int64_t* ret, int64_t* value, std::string* error) {
      return ReadShared(Ia32VariantName(kVariant), ret, value, error);
    };
    std::optional<std::string> why =
        kClock ? CheckIa32Clock(Ia32VariantName(kVariant), read)
               : CheckIa32Getcpu(Ia32VariantName(kVariant), read,
                                 AllowedCpus(Ia32Client::Shared().helper_pid()));
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

uint64_t ExpectHelperPid() { return static_cast<uint64_t>(Ia32Client::Shared().helper_pid()); }

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
    std::optional<std::string> what = client.Describe(Ia32VariantName(variant));
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
  using M = Mechanism;
  constexpr Abi k32 = Abi::kIa32;
  return {
    {.name = "baseline/ia32_call",                 .mechanism = M::kCall,     .expected_entries = 0, .peer = "baseline/call",     .expect = ExpectIa32Dummy, .probe = Probe<V::kCall>,                    .timed = Timed<V::kCall>,        .per_call = PerCall<V::kCall>,        .abi = k32, .baseline = kLoopBaseline},
    {.name = "getpid/ia32_int80",                  .mechanism = M::kInt80,    .expected_entries = 1,                              .expect = ExpectHelperPid, .probe = Probe<V::kInt80>,                   .timed = Timed<V::kInt80>,       .per_call = PerCall<V::kInt80>,       .abi = k32},
    {.name = "getpid/ia32_sysenter",               .mechanism = M::kSysenter, .expected_entries = 1,                              .expect = ExpectHelperPid, .probe = Probe<V::kSysenter>,                .timed = Timed<V::kSysenter>,    .per_call = PerCall<V::kSysenter>,    .abi = k32},
    // __kernel_vsyscall: called through the vDSO, enters the kernel (SYSENTER or SYSCALL).
    {.name = "getpid/ia32_vdso",                   .mechanism = M::kVdso,     .expected_entries = 1,                              .expect = ExpectHelperPid, .probe = Probe<V::kVdso>,                    .timed = Timed<V::kVdso>,        .per_call = PerCall<V::kVdso>,        .abi = k32},
    {.name = "getpid/ia32_syscall",                .mechanism = M::kSyscall,  .expected_entries = 1,                              .expect = ExpectHelperPid, .probe = Probe<V::kSyscall>,                 .timed = Timed<V::kSyscall>,     .per_call = PerCall<V::kSyscall>,     .abi = k32},
    // The 32-bit vDSO (issue 4): 0 kernel entries expected, like the 64-bit vDSO rows;
    // the int 0x80 rows are best read next to the bare ia32 int 0x80 entry.
    {.name = "clock_gettime_monotonic/ia32_vdso",  .mechanism = M::kVdso,     .expected_entries = 0,                              .expect = ExpectZero,      .probe = ProbeValue<V::kVdsoClock, true>,    .timed = Timed<V::kVdsoClock>,   .per_call = PerCall<V::kVdsoClock>,   .abi = k32},
    {.name = "clock_gettime_monotonic/ia32_int80", .mechanism = M::kInt80,    .expected_entries = 1, .peer = "getpid/ia32_int80", .expect = ExpectZero,      .probe = ProbeValue<V::kInt80Clock, true>,   .timed = Timed<V::kInt80Clock>,  .per_call = PerCall<V::kInt80Clock>,  .abi = k32},
    {.name = "getcpu/ia32_vdso",                   .mechanism = M::kVdso,     .expected_entries = 0,                              .expect = ExpectZero,      .probe = ProbeValue<V::kVdsoGetcpu, false>,  .timed = Timed<V::kVdsoGetcpu>,  .per_call = PerCall<V::kVdsoGetcpu>,  .abi = k32},
    {.name = "getcpu/ia32_int80",                  .mechanism = M::kInt80,    .expected_entries = 1, .peer = "getpid/ia32_int80", .expect = ExpectZero,      .probe = ProbeValue<V::kInt80Getcpu, false>, .timed = Timed<V::kInt80Getcpu>, .per_call = PerCall<V::kInt80Getcpu>, .abi = k32},
  };
}
// clang-format on

}  // namespace sysgate
