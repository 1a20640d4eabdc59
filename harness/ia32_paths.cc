#include "harness/ia32_paths.h"

#include "harness/ia32_client.h"

namespace sysgate {
namespace {

// The helper's variant names (benchmarks/ia32/sysgate_ia32_helper.cc, kVariants).
constexpr char kCall[] = "call";
constexpr char kInt80[] = "int80";
constexpr char kSysenter[] = "sysenter";
constexpr char kVdso[] = "vdso";
constexpr char kSyscall[] = "syscall";

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

uint64_t ExpectIa32Dummy() { return kSysgate32DummyId; }

}  // namespace

uint64_t ExpectHelperPid() {
  return static_cast<uint64_t>(Ia32Client::Shared().helper_pid());
}

// clang-format off
std::vector<Path> Ia32Paths() {
  return {
    // name                    mechanism       loop     baseline              arg      expect           probe             timed             per_call
    {"baseline/ia32_call",     "call",         nullptr, "baseline/call",      nullptr, ExpectIa32Dummy, Probe<kCall>,     Timed<kCall>,     PerCall<kCall>},
    {"getpid/ia32_int80",      "ia32_int80",   nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kInt80>,    Timed<kInt80>,    PerCall<kInt80>},
    {"getpid/ia32_sysenter",   "sysenter",     nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kSysenter>, Timed<kSysenter>, PerCall<kSysenter>},
    {"getpid/ia32_vdso",       "vdso32",       nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kVdso>,     Timed<kVdso>,     PerCall<kVdso>},
    {"getpid/ia32_syscall",    "ia32_syscall", nullptr, "baseline/ia32_call", nullptr, ExpectHelperPid, Probe<kSyscall>,  Timed<kSyscall>,  PerCall<kSyscall>},
  };
}
// clang-format on

}  // namespace sysgate
