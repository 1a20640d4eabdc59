// sysgate_ia32_helper: the 32-bit co-process that runs sysgate's ia32 entry paths.
//
// A 64-bit process cannot round-trip SYSENTER or compat SYSCALL: the kernel returns from
// both to the 32-bit vDSO's landing pad, which only a 32-bit process has mapped (see
// docs/ia32.md). So sysgate_bench starts this -m32 program once and drives it over a
// socket on stdin/stdout; the helper times its own loops with the TSC and sends back the
// ticks, which sysgate_bench reports as manual time (harness/coprocess/ia32_client.h).
//
// Protocol: one request line, one reply line, ASCII, '\n'-terminated.
//   on start      <- "sysgate-ia32 3 pid=<pid> vendor=<CPUID vendor> sysinfo=<hex>"
//   probe V       <- "ok" | "skip <reason>"
//   describe V    <- "ok <what V calls>" (which vDSO symbol, which syscall number)
//   read V        <- "ok <return value> <value read>" | "err <message>": one call of a
//                    vDSO-family variant; the value is CLOCK_MONOTONIC in ns for the clock
//                    variants, the CPU number for the getcpu variants
//   symbols       <- "ok <name@version> ...": what the 32-bit vDSO exports
//   run V N       <- "ok <tsc ticks> <last result> <switches>" | "err <message>":
//                    <switches> is the helper's involuntary context switches during
//                    the loop (getrusage, read outside the timed region)
//   percall V N T <- "ok <k> <ticks_1> ... <ticks_k>" | "err <message>": up to N single
//                    calls, each between its own TSC pair, stopping once T ticks have
//                    passed (k <= N; T = 0: no time limit)
//   quit or EOF   -> the helper exits 0
// The test build (sysgate_ia32_test_helper) also answers:
//   lookup S VER [L] <- "ok <offset> <address>" (hex) | "skip 32-bit vDSO has no S" |
//                    "err <why the image is unreadable>": symbol S with version VER ("-":
//                    any) in the 32-bit vDSO, reading at most its first L bytes
//   check V N     <- "ok <last result>" | "err <message>": runs V with known values in
//                    ebx, esi, edi, ebp and says which ones it failed to preserve
// V is a variant: call, int80, sysenter, vdso, syscall (getpid and its baseline),
// vdso_clock, int80_clock, vdso_getcpu, int80_getcpu (clock_gettime(CLOCK_MONOTONIC) and
// getcpu through the 32-bit vDSO and through int 0x80) (harness/coprocess/ia32_variants.h), and in
// the test build ud2 (a path that always faults). `run` and `percall` refuse a path
// whose probe failed. N < 2^32.
#include <cpuid.h>
#include <errno.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <time.h>
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

#include "harness/coprocess/elf32_symbols.h"
#include "harness/coprocess/ia32_variants.h"
#include "harness/platform/cycle_clock.h"
#include "harness/platform/probe.h"

extern "C" {
// asm/ia32/getpid32.asm
uint32_t sysgate32_call_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_int80_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_sysenter_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_syscall_getpid_loop(uint32_t iterations, uint32_t arg);
uint32_t sysgate32_vdso_getpid_loop(uint32_t iterations, uint32_t arg);
// asm/ia32/syscall_args32.asm (arg: an Int80Args*)
uint32_t sysgate32_int80_args_loop(uint32_t iterations, uint32_t arg);
#ifdef SYSGATE_IA32_TEST_VERBS
// tests/cpp/checkasm32.asm: eax = result, edx = mask of clobbered callee-saved registers
uint64_t sysgate32_checked_call(uint32_t (*stub)(uint32_t, uint32_t), uint32_t iterations,
                                uint32_t arg);
// tests/cpp/checkasm32.asm: executes ud2 (the always-faulting test path)
uint32_t sysgate32_ud2_loop(uint32_t iterations, uint32_t arg);
#endif
}

namespace sysgate {
namespace {

using V = Ia32Variant;

constexpr uint32_t kDummyId32 = 0x32334753;  // asm/ia32/getpid32.asm: DUMMY_ID_32

using Loop32 = uint32_t (*)(uint32_t, uint32_t);

// ia32 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl).
constexpr uint32_t kNrClockGettime = 265;    // old_timespec32: 32-bit seconds
constexpr uint32_t kNrClockGettime64 = 403;  // __kernel_timespec, Linux 5.1+
constexpr uint32_t kNrGetcpu = 318;

// The version node of the 32-bit vDSO's functions (__kernel_vsyscall is LINUX_2.5).
constexpr char kVdsoVersion[] = "LINUX_2.6";

// The `arg` of sysgate32_int80_args_loop: eax, ebx, ecx, edx before each int 0x80.
struct Int80Args {
  uint32_t nr, a0, a1, a2;
};
struct KernelTimespec {  // struct __kernel_timespec (include/uapi/linux/time_types.h)
  int64_t tv_sec, tv_nsec;
};
struct OldTimespec32 {  // struct old_timespec32: what __vdso_clock_gettime and nr 265 fill
  int32_t tv_sec, tv_nsec;
};

// What the clock variants work on: one slot per variant, alive for the whole process;
// the loop gets its address as `arg`.
struct ClockSlot {
  Int80Args sys{};
  void* vdso = nullptr;
  bool time64 = true;  // fills ts64 (clock_gettime64), else ts32
  KernelTimespec ts64{};
  OldTimespec32 ts32{};
  std::string what;  // for `describe`

  int64_t Nanos() const {
    return time64 ? ts64.tv_sec * 1'000'000'000 + ts64.tv_nsec
                  : int64_t{ts32.tv_sec} * 1'000'000'000 + ts32.tv_nsec;
  }
};
struct CpuSlot {
  Int80Args sys{};
  void* vdso = nullptr;
  unsigned cpu = ~0u, node = ~0u;
  std::string what;
};

template <typename Slot>
Slot& SlotOf(uint32_t arg) {
  return *reinterpret_cast<Slot*>(static_cast<uintptr_t>(arg));
}

// The vDSO loops: direct calls through the pointer the symbol table gave, as the 64-bit
// `vdso` rows do (cdecl: the 32-bit vDSO is ordinary i386 code). Each returns what the
// last call returned.
uint32_t VdsoClockLoop(uint32_t n, uint32_t arg) {
  ClockSlot& s = SlotOf<ClockSlot>(arg);
  int r = 0;
  if (s.time64) {
    auto fn = reinterpret_cast<int (*)(clockid_t, KernelTimespec*)>(s.vdso);
    for (uint32_t i = 0; i < n; ++i) r = fn(CLOCK_MONOTONIC, &s.ts64);
  } else {
    auto fn = reinterpret_cast<int (*)(clockid_t, OldTimespec32*)>(s.vdso);
    for (uint32_t i = 0; i < n; ++i) r = fn(CLOCK_MONOTONIC, &s.ts32);
  }
  return static_cast<uint32_t>(r);
}
uint32_t VdsoGetcpuLoop(uint32_t n, uint32_t arg) {
  CpuSlot& s = SlotOf<CpuSlot>(arg);
  auto fn = reinterpret_cast<long (*)(unsigned*, unsigned*, void*)>(s.vdso);
  long r = 0;
  for (uint32_t i = 0; i < n; ++i) r = fn(&s.cpu, &s.node, nullptr);
  return static_cast<uint32_t>(r);
}

enum class Returns { kPid, kDummy, kZero };
enum class Reads { kNothing, kClock, kCpu };

// The test build (sysgate_ia32_test_helper, SYSGATE_IA32_TEST_VERBS) adds the `lookup`
// and `check` requests and the `ud2` path; the production helper has none of them.
#ifdef SYSGATE_IA32_TEST_VERBS
constexpr bool kTestVerbs = true;
// The test-only path (not a variant of harness/coprocess/ia32_variants.h).
constexpr int kUd2Id = -1;
#else
constexpr bool kTestVerbs = false;
#endif

struct Variant {
  int id;            // an Ia32Variant, or kUd2Id
  const char* name;  // its name on the wire (kIa32VariantNames)
  Loop32 loop;
  Returns returns;          // what a working loop returns (ud2 never returns)
  Reads reads;              // what `read` reports
  const char* instruction;  // what a #UD means the CPU refused, for the skip reason
};

// clang-format off
#define ROW(id) static_cast<int>(Ia32Variant::id), Ia32VariantName(Ia32Variant::id)
constexpr Variant kVariants[] = {
  // id / name             loop                             returns          reads            instruction
  {ROW(kCall),  sysgate32_call_loop,             Returns::kDummy, Reads::kNothing, "CALL"},
  {ROW(kInt80), sysgate32_int80_getpid_loop,     Returns::kPid,   Reads::kNothing, "INT 0x80"},
  {ROW(kSysenter), sysgate32_sysenter_getpid_loop,  Returns::kPid,   Reads::kNothing, "SYSENTER"},
  {ROW(kVdso),  sysgate32_vdso_getpid_loop,      Returns::kPid,   Reads::kNothing, "__kernel_vsyscall"},
  {ROW(kSyscall), sysgate32_syscall_getpid_loop,   Returns::kPid,   Reads::kNothing, "SYSCALL"},
  {ROW(kVdsoClock), VdsoClockLoop,                   Returns::kZero,  Reads::kClock,   "the 32-bit vDSO clock_gettime"},
  {ROW(kInt80Clock), sysgate32_int80_args_loop,       Returns::kZero,  Reads::kClock,   "INT 0x80"},
  {ROW(kVdsoGetcpu), VdsoGetcpuLoop,                  Returns::kZero,  Reads::kCpu,     "the 32-bit vDSO getcpu"},
  {ROW(kInt80Getcpu), sysgate32_int80_args_loop,       Returns::kZero,  Reads::kCpu,     "INT 0x80"},
#ifdef SYSGATE_IA32_TEST_VERBS
  {kUd2Id, "ud2",        sysgate32_ud2_loop,              Returns::kDummy, Reads::kNothing, "UD2 (the always-faulting test path)"},
#endif
};
// clang-format on
#undef ROW

// The shared variants come first, in the shared order, so a variant added to
// harness/coprocess/ia32_variants.h without a row here fails the build.
constexpr bool SharedVariantsInOrder() {
  for (int i = 0; i < kIa32VariantCount; ++i) {
    if (kVariants[i].id != i) return false;
  }
  return sizeof kVariants / sizeof kVariants[0] >= static_cast<size_t>(kIa32VariantCount);
}
static_assert(SharedVariantsInOrder(),
              "kVariants must list harness/coprocess/ia32_variants.h in order");

// This process's involuntary context switches so far (it is single-threaded).
long InvoluntarySwitches() {
  rusage usage{};
  return getrusage(RUSAGE_SELF, &usage) == 0 ? usage.ru_nivcsw : 0;
}

// Whether `v` is the shared variant `id`.
constexpr bool Is(const Variant& v, Ia32Variant id) { return v.id == static_cast<int>(id); }

const Variant* FindVariant(std::string_view name) {
  for (const Variant& v : kVariants) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

// The 32-bit vDSO image: where the kernel mapped it and how long the mapping is (from
// /proc/self/maps, so the symbol reader has a bound to check against).
struct VdsoImage {
  const unsigned char* base = nullptr;
  size_t size = 0;
  std::string error;
};

VdsoImage FindVdsoImage() {
  VdsoImage image;
  const unsigned long base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) {
    image.error = "the kernel passed no AT_SYSINFO_EHDR (vdso=0 or vdso32=0?)";
    return image;
  }
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (!maps) {
    image.error = std::string("cannot read /proc/self/maps: ") + std::strerror(errno);
    return image;
  }
  char line[512];
  while (std::fgets(line, sizeof line, maps)) {
    unsigned long start = 0, end = 0;
    if (std::sscanf(line, "%lx-%lx", &start, &end) == 2 && start == base && end > start) {
      image.base = reinterpret_cast<const unsigned char*>(base);
      image.size = end - start;
      break;
    }
  }
  std::fclose(maps);
  if (!image.base) image.error = "the vDSO at AT_SYSINFO_EHDR is not in /proc/self/maps";
  return image;
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
        sysinfo_(static_cast<uint32_t>(getauxval(AT_SYSINFO))),
        image_(FindVdsoImage()) {
    if (image_.base) {
      symbols_ = Elf32Symbols::Parse(image_.base, image_.size);
    }
    // clock_gettime: the y2038-safe call where the vDSO has it, as glibc does.
    for (const char* name : {"__vdso_clock_gettime64", "__vdso_clock_gettime"}) {
      if (void* fn = Symbol(name)) {
        clock_vdso_.vdso = fn;
        clock_vdso_.time64 = std::string_view(name) == "__vdso_clock_gettime64";
        clock_vdso_.what = std::string(name) + "@" + kVdsoVersion + ", CLOCK_MONOTONIC";
        break;
      }
    }
    clock_int80_.sys = {kNrClockGettime64, CLOCK_MONOTONIC, Addr(&clock_int80_.ts64), 0};
    clock_int80_.what = "int 0x80, eax=403 (clock_gettime64), CLOCK_MONOTONIC";
    cpu_vdso_.vdso = Symbol("__vdso_getcpu");
    cpu_vdso_.what = std::string("__vdso_getcpu@") + kVdsoVersion;
    cpu_int80_.sys = {kNrGetcpu, Addr(&cpu_int80_.cpu), Addr(&cpu_int80_.node), 0};
    cpu_int80_.what = "int 0x80, eax=318 (getcpu)";
  }

  uint32_t ArgFor(const Variant& v) const {
    if (Is(v, V::kVdso)) return sysinfo_;
    if (Is(v, V::kVdsoClock)) return Addr(&clock_vdso_);
    if (Is(v, V::kInt80Clock)) return Addr(&clock_int80_.sys);
    if (Is(v, V::kVdsoGetcpu)) return Addr(&cpu_vdso_);
    if (Is(v, V::kInt80Getcpu)) return Addr(&cpu_int80_.sys);
    return 0;
  }

  // nullopt when `v` runs here; the reason otherwise. Decided by running it a few times
  // in a forked child, once per variant (cached).
  std::optional<std::string> Probe(const Variant& v) {
    auto it = probes_.find(v.name);
    if (it != probes_.end()) return it->second;
    std::optional<std::string> reason = Unavailable(v);
    if (!reason) {
      const uint32_t arg = ArgFor(v);
      const Returns returns = v.returns;
      auto fault = ProbeInChild([&v, arg, returns] {
        uint32_t r = v.loop(4, arg);
        switch (returns) {
          case Returns::kPid:
            return r == static_cast<uint32_t>(getpid());
          case Returns::kZero:
            return r == 0;
          case Returns::kDummy:
            return r == kDummyId32;
        }
        return false;
      });
      if (fault) reason = Explain(v, *fault);
    }
    probes_.emplace(v.name, reason);
    return reason;
  }

  void Serve() {
    Reply("sysgate-ia32 3 pid=" + std::to_string(getpid()) + " vendor=" + vendor_ +
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
  template <typename T>
  static uint32_t Addr(const T* p) {
    return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p));
  }

  // The address of `name`@LINUX_2.6 in the 32-bit vDSO, or nullptr.
  void* Symbol(const char* name) const {
    if (!symbols_.ok() || !image_.base) return nullptr;
    std::optional<uint32_t> offset = symbols_.Find(name, kVdsoVersion);
    return offset ? const_cast<unsigned char*>(image_.base + *offset) : nullptr;
  }

  // Why `v` cannot even be tried here (a missing symbol, no working int 0x80), or nullopt.
  std::optional<std::string> Unavailable(const Variant& v) {
    if (Is(v, V::kVdso) && sysinfo_ == 0) {
      return "the kernel passed no AT_SYSINFO (__kernel_vsyscall) in the auxiliary vector";
    }
    if (Is(v, V::kVdsoClock) || Is(v, V::kVdsoGetcpu)) {
      if (!image_.base) return "no 32-bit vDSO: " + image_.error;
      if (!symbols_.ok()) return "cannot read the 32-bit vDSO's symbols: " + symbols_.error();
      if (Is(v, V::kVdsoClock) && !clock_vdso_.vdso) {
        return "32-bit vDSO has no __vdso_clock_gettime64 or __vdso_clock_gettime";
      }
      if (Is(v, V::kVdsoGetcpu) && !cpu_vdso_.vdso) return "32-bit vDSO has no __vdso_getcpu";
    }
    if (Is(v, V::kInt80Clock) || Is(v, V::kInt80Getcpu)) {
      // The int 0x80 getpid probe runs in a child; only once int 0x80 is known to work
      // may the helper itself execute one.
      if (auto reason = Probe(*FindVariant(Ia32VariantName(V::kInt80)))) return reason;
      if (Is(v, V::kInt80Clock) &&
          static_cast<int32_t>(sysgate32_int80_args_loop(1, Addr(&clock_int80_.sys))) == -ENOSYS) {
        // A kernel older than 5.1: only the 32-bit-seconds clock_gettime.
        clock_int80_.sys = {kNrClockGettime, CLOCK_MONOTONIC, Addr(&clock_int80_.ts32), 0};
        clock_int80_.time64 = false;
        clock_int80_.what =
            "int 0x80, eax=265 (clock_gettime; no clock_gettime64), CLOCK_MONOTONIC";
      }
    }
    return std::nullopt;
  }

  std::string Explain(const Variant& v, const std::string& fault) const {
    if (fault.rfind("SIGILL", 0) == 0) {
      return std::string(v.instruction) + " is not valid in compat mode on " + VendorName(vendor_) +
             " CPUs (" + vendor_ + ": " + fault + ")";
    }
    return std::string(v.instruction) + " failed in a 32-bit process: " + fault;
  }

  std::string Describe(const Variant& v) const {
    if (Is(v, V::kVdsoClock)) return clock_vdso_.what;
    if (Is(v, V::kInt80Clock)) return clock_int80_.what;
    if (Is(v, V::kVdsoGetcpu)) return cpu_vdso_.what;
    if (Is(v, V::kInt80Getcpu)) return cpu_int80_.what;
    if (Is(v, V::kVdso)) return "__kernel_vsyscall (AT_SYSINFO), eax=20 (getpid)";
    return std::string(v.instruction) + (v.returns == Returns::kPid ? ", eax=20 (getpid)" : "");
  }

#ifdef SYSGATE_IA32_TEST_VERBS
  // lookup S VER [L]: the symbol reader on the live image, optionally cut to L bytes.
  std::string Lookup(const std::string& request) const {
    char name[128] = {}, version[64] = {};
    unsigned long long limit = 0;
    const int fields =
        std::sscanf(request.c_str(), "lookup %127s %63s %llu", name, version, &limit);
    if (fields < 2) return "err bad request: '" + request + "'";
    if (!image_.base) return "err no 32-bit vDSO: " + image_.error;
    const size_t size =
        fields == 3 && limit < image_.size ? static_cast<size_t>(limit) : image_.size;
    Elf32Symbols symbols = Elf32Symbols::Parse(image_.base, size);
    if (!symbols.ok()) return "err cannot read the 32-bit vDSO's symbols: " + symbols.error();
    const std::string_view want_version = std::string_view(version) == "-" ? "" : version;
    std::optional<uint32_t> offset = symbols.Find(name, want_version);
    if (!offset) {
      std::string what = name;
      if (!want_version.empty()) what.append("@").append(want_version);
      return "skip 32-bit vDSO has no " + what;
    }
    return "ok " + Hex(*offset) + " " + Hex(Addr(image_.base + *offset));
  }
#endif

  std::string Handle(const std::string& request) {
#ifdef SYSGATE_IA32_TEST_VERBS
    if (request.rfind("lookup ", 0) == 0) return Lookup(request);
#endif
    if (request == "symbols") {
      if (!symbols_.ok()) return "err " + (image_.base ? symbols_.error() : image_.error);
      std::string out = "ok";
      for (const std::string& n : symbols_.Names()) out += " " + n;
      return out;
    }
    char verb[16] = {}, name[32] = {};
    unsigned long long n = 0, budget = 0;
    int fields = std::sscanf(request.c_str(), "%15s %31s %llu %llu", verb, name, &n, &budget);
    const Variant* v = fields >= 2 ? FindVariant(name) : nullptr;
    if (!v) return "err unknown request or variant: '" + request + "'";
    std::string_view cmd = verb;
    if (cmd == "probe") {
      std::optional<std::string> reason = Probe(*v);
      return reason ? "skip " + *reason : "ok";
    }
    if (cmd == "describe") return "ok " + Describe(*v);
    if (cmd != "run" && cmd != "percall" && cmd != "read" && !(kTestVerbs && cmd == "check")) {
      return "err unknown verb: '" + request + "'";
    }
    const int want_fields = cmd == "percall" ? 4 : cmd == "read" ? 2 : 3;
    if (fields != want_fields || n > UINT32_MAX) {
      return "err bad request: '" + request + "'";
    }
    if (std::optional<std::string> reason = Probe(*v)) return "err " + *reason;
    const uint32_t arg = ArgFor(*v);
    const uint32_t count = static_cast<uint32_t>(n);
    if (cmd == "read") {
      if (v->reads == Reads::kNothing) return "err " + std::string(v->name) + " reads no value";
      const int32_t r = static_cast<int32_t>(v->loop(1, arg));
      int64_t value = 0;
      if (v->reads == Reads::kClock) {
        value = (Is(*v, V::kVdsoClock) ? clock_vdso_ : clock_int80_).Nanos();
      } else {
        value = (Is(*v, V::kVdsoGetcpu) ? cpu_vdso_ : cpu_int80_).cpu;
      }
      return "ok " + std::to_string(r) + " " + std::to_string(value);
    }
#ifdef SYSGATE_IA32_TEST_VERBS
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
#endif
    if (cmd == "run") {
      const long switches_before = InvoluntarySwitches();
      uint64_t t0 = TscStart();
      uint32_t result = v->loop(count, arg);
      uint64_t ticks = TscStop() - t0;
      const long switches = InvoluntarySwitches() - switches_before;
      char reply[96];
      std::snprintf(reply, sizeof reply, "ok %" PRIu64 " %" PRIu32 " %ld", ticks, result, switches);
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
  VdsoImage image_;
  Elf32Symbols symbols_;
  ClockSlot clock_vdso_, clock_int80_;
  CpuSlot cpu_vdso_, cpu_int80_;
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
