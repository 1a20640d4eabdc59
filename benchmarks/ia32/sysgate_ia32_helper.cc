// sysgate_ia32_helper: the 32-bit co-process that runs sysgate's ia32 entry paths.
//
// A 64-bit process cannot round-trip SYSENTER or compat SYSCALL: the kernel returns from
// both to the 32-bit vDSO's landing pad, which only a 32-bit process has mapped (see
// docs/ia32.md). So sysgate_bench starts this -m32 program once and drives it over a
// socket on stdin/stdout; the helper times its own loops with the TSC and sends back the
// ticks, which sysgate_bench reports as manual time (harness/ia32_client.h).
//
// Protocol: one request line, one reply line, ASCII, '\n'-terminated.
//   on start      <- "sysgate-ia32 1 pid=<pid> vendor=<CPUID vendor> sysinfo=<hex>"
//   probe V       <- "ok" | "skip <reason>"
//   run V N       <- "ok <tsc ticks> <last result>" | "err <message>"
//   percall V N T <- "ok <k> <ticks_1> ... <ticks_k>" | "err <message>": up to N single
//                    calls, each between its own TSC pair, stopping once T ticks have
//                    passed (k <= N; T = 0: no time limit)
//   check V N     <- "ok <last result>" | "err <message>": runs V with known values in
//                    ebx, esi, edi, ebp and says which ones it failed to preserve
//   quit or EOF   -> the helper exits 0
// V is a variant: call, int80, sysenter, vdso, syscall, and ud2 (a test path that always
// faults). `run` and `percall` refuse a path whose probe failed. N < 2^32.
#include <cpuid.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/cycle_clock.h"
#include "harness/probe.h"

extern "C" {
// asm/ia32/getpid32.asm
uint32_t sysgate32_call_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_int80_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_sysenter_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_syscall_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_vdso_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_ud2_loop(uint32_t iterations, uint32_t arg);
// asm/ia32/checkasm32.asm: eax = result, edx = mask of clobbered callee-saved registers
uint64_t sysgate32_checked_call(uint32_t (*stub)(uint32_t, uint32_t), uint32_t iterations,
                                uint32_t arg);
}

namespace sysgate {
namespace {

constexpr uint32_t kDummyId32 = 0x32334753;  // asm/ia32/getpid32.asm: DUMMY_ID_32

using Loop32 = uint32_t (*)(uint32_t, uint32_t);

struct Variant {
  const char* name;
  Loop32 loop;
  bool returns_pid;         // else returns kDummyId32 (or never returns)
  const char* instruction;  // what a #UD means the CPU refused, for the skip reason
};

// clang-format off
constexpr Variant kVariants[] = {
  // name       loop                             pid    instruction
  {"call",      sysgate32_call_loop,             false, "CALL"},
  {"int80",     sysgate32_int80_getpid_loop,     true,  "INT 0x80"},
  {"sysenter",  sysgate32_sysenter_getpid_loop,  true,  "SYSENTER"},
  {"vdso",      sysgate32_vdso_getpid_loop,      true,  "__kernel_vsyscall"},
  {"syscall",   sysgate32_syscall_getpid_loop,   true,  "SYSCALL"},
  {"ud2",       sysgate32_ud2_loop,              false, "UD2 (the always-faulting test path)"},
};
// clang-format on

const Variant* FindVariant(std::string_view name) {
  for (const Variant& v : kVariants) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

std::string CpuVendor() {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return "unknown";
  char id[13];
  std::memcpy(id, &ebx, 4);
  std::memcpy(id + 4, &edx, 4);
  std::memcpy(id + 8, &ecx, 4);
  id[12] = '\0';
  return id;
}

// The vendor as people say it, for reasons like "... on AMD CPUs".
std::string VendorName(const std::string& cpuid_vendor) {
  if (cpuid_vendor == "GenuineIntel") return "Intel";
  if (cpuid_vendor == "AuthenticAMD") return "AMD";
  if (cpuid_vendor == "HygonGenuine") return "Hygon";
  if (cpuid_vendor == "CentaurHauls" || cpuid_vendor == "  Shanghai  ") return "Centaur/Zhaoxin";
  return cpuid_vendor;
}

class Helper {
 public:
  Helper()
      : vendor_(CpuVendor()),
        sysinfo_(static_cast<uint32_t>(getauxval(AT_SYSINFO))) {}

  uint32_t ArgFor(const Variant& v) const {
    return std::string_view(v.name) == "vdso" ? sysinfo_ : 0;
  }

  // nullopt when `v` runs here; the reason otherwise. Decided by running it a few times
  // in a forked child, once per variant (cached).
  std::optional<std::string> Probe(const Variant& v) {
    auto it = probes_.find(v.name);
    if (it != probes_.end()) return it->second;
    std::optional<std::string> reason;
    if (std::string_view(v.name) == "vdso" && sysinfo_ == 0) {
      reason = "the kernel passed no AT_SYSINFO (__kernel_vsyscall) in the auxiliary vector";
    } else {
      const uint32_t arg = ArgFor(v);
      const bool pid = v.returns_pid;
      auto fault = ProbeInChild([&v, arg, pid] {
        uint32_t r = v.loop(4, arg);
        return pid ? r == static_cast<uint32_t>(getpid()) : r == kDummyId32;
      });
      if (fault) reason = Explain(v, *fault);
    }
    probes_.emplace(v.name, reason);
    return reason;
  }

  void Serve() {
    Reply("sysgate-ia32 1 pid=" + std::to_string(getpid()) + " vendor=" + vendor_ +
          " sysinfo=" + Hex(sysinfo_));
    char* line = nullptr;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
      std::string request(line, static_cast<size_t>(len));
      if (!request.empty() && request.back() == '\n') request.pop_back();
      if (request == "quit") break;
      Reply(Handle(request));
    }
    std::free(line);
  }

 private:
  std::string Explain(const Variant& v, const std::string& fault) const {
    if (fault.rfind("SIGILL", 0) == 0) {
      return std::string(v.instruction) + " is not valid in compat mode on " +
             VendorName(vendor_) + " CPUs (" + vendor_ + ": " + fault + ")";
    }
    return std::string(v.instruction) + " failed in a 32-bit process: " + fault;
  }

  std::string Handle(const std::string& request) {
    char verb[16] = {}, name[16] = {};
    unsigned long long n = 0, budget = 0;
    int fields = std::sscanf(request.c_str(), "%15s %15s %llu %llu", verb, name, &n, &budget);
    const Variant* v = fields >= 2 ? FindVariant(name) : nullptr;
    if (!v) return "err unknown request or variant: '" + request + "'";
    std::string_view cmd = verb;
    if (cmd == "probe") {
      std::optional<std::string> reason = Probe(*v);
      return reason ? "skip " + *reason : "ok";
    }
    if (cmd != "run" && cmd != "percall" && cmd != "check") {
      return "err unknown verb: '" + request + "'";
    }
    if (fields != (cmd == "percall" ? 4 : 3) || n > UINT32_MAX) {
      return "err bad request: '" + request + "'";
    }
    if (std::optional<std::string> reason = Probe(*v)) return "err " + *reason;
    const uint32_t arg = ArgFor(*v);
    const uint32_t count = static_cast<uint32_t>(n);
    if (cmd == "check") {
      uint64_t r = sysgate32_checked_call(v->loop, count, arg);
      uint32_t clobbered = static_cast<uint32_t>(r >> 32);
      if (clobbered == 0) return "ok " + std::to_string(static_cast<uint32_t>(r));
      std::string names;
      const char* kRegs[] = {"ebx", "esi", "edi", "ebp", "esp"};
      for (int i = 0; i < 5; ++i) {
        if (clobbered & (1u << i)) names += std::string(" ") + kRegs[i];
      }
      return "err clobbered:" + names;
    }
    if (cmd == "run") {
      uint64_t t0 = TscStart();
      uint32_t result = v->loop(count, arg);
      uint64_t ticks = TscStop() - t0;
      char reply[64];
      std::snprintf(reply, sizeof reply, "ok %" PRIu64 " %" PRIu32, ticks, result);
      return reply;
    }
    // percall: single calls, each between its own fenced TSC pair, as sysgate_bench's
    // per-call pass does in-process; the caller subtracts the pair overhead.
    std::vector<uint64_t> samples;
    samples.reserve(count);
    const uint64_t start = TscStart();
    while (samples.size() < count && (budget == 0 || TscStart() - start < budget)) {
      uint64_t t0 = TscStart();
      v->loop(1, arg);
      samples.push_back(TscStop() - t0);
    }
    std::string out = "ok";
    out += ' ';
    out += std::to_string(samples.size());
    for (uint64_t s : samples) out += ' ' + std::to_string(s);
    return out;
  }

  static std::string Hex(uint32_t x) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%#" PRIx32, x);
    return buf;
  }

  static void Reply(const std::string& line) {
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

  std::string vendor_;
  uint32_t sysinfo_;
  std::map<std::string, std::optional<std::string>> probes_;
};

}  // namespace
}  // namespace sysgate

int main(int argc, char** argv) {
  if (argc > 1) {
    std::fprintf(stderr,
                 "usage: %s\n  (no arguments: speaks the line protocol described in "
                 "benchmarks/ia32/sysgate_ia32_helper.cc on stdin/stdout)\n",
                 argv[0]);
    return 2;
  }
  sysgate::Helper helper;
  helper.Serve();
  return 0;
}
