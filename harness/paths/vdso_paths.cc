#include "harness/paths/vdso_paths.h"

#include <sched.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <deque>
#include <string>

#include "benchmark/benchmark.h"
#include "harness/paths/batch.h"
#include "harness/paths/stubs.h"
#include "harness/platform/vdso.h"
#include "harness/platform/vsyscall.h"

namespace sysgate {
namespace {

constexpr size_t kRandomBytes = 16;

// --- The families ------------------------------------------------------------------------

enum Family : int {
  kMonotonic,
  kRealtime,
  kMonotonicCoarse,
  kMonotonicRaw,
  kBoottime,
  kGettimeofday,
  kTime,
  kGetcpu,
  kClockGetres,
  kGetrandom,
  kFamilyCount,
};

struct FamilyInfo {
  std::string_view name;         // the family part of the row names
  std::string_view vdso_symbol;  // the __vdso_* function of the `vdso` row
  clockid_t clock;               // clock families and clock_getres
  uint64_t nr;                   // the syscall of the `syscall` row
};

// clang-format off
constexpr std::array<FamilyInfo, kFamilyCount> kFamilies = {{
  {"clock_gettime_monotonic",        "__vdso_clock_gettime", CLOCK_MONOTONIC,        SYS_clock_gettime},
  {"clock_gettime_realtime",         "__vdso_clock_gettime", CLOCK_REALTIME,         SYS_clock_gettime},
  {"clock_gettime_monotonic_coarse", "__vdso_clock_gettime", CLOCK_MONOTONIC_COARSE, SYS_clock_gettime},
  {"clock_gettime_monotonic_raw",    "__vdso_clock_gettime", CLOCK_MONOTONIC_RAW,    SYS_clock_gettime},
  {"clock_gettime_boottime",         "__vdso_clock_gettime", CLOCK_BOOTTIME,         SYS_clock_gettime},
  {"gettimeofday",                   "__vdso_gettimeofday",  0,                      SYS_gettimeofday},
  {"time",                           "__vdso_time",          0,                      SYS_time},
  {"getcpu",                         "__vdso_getcpu",        0,                      SYS_getcpu},
  {"clock_getres",                   "__vdso_clock_getres",  CLOCK_MONOTONIC,        SYS_clock_getres},
  {"getrandom",                      "__vdso_getrandom",     0,                      SYS_getrandom},
}};
// clang-format on

// What one family's loops work on: the arguments and result buffers, and the __vdso_*
// function. One per family, alive for the whole process; the loops get its address as
// `arg` (the syscall loop gets &sys).
struct Slot {
  SyscallArgs sys{};
  clockid_t clock = 0;
  void* vdso = nullptr;
  timespec ts{};
  timeval tv{};
  unsigned cpu = 0, node = 0;
  alignas(16) unsigned char buf[kRandomBytes] = {};
};

std::array<Slot, kFamilyCount>& Slots() {
  static std::array<Slot, kFamilyCount> slots = [] {
    std::array<Slot, kFamilyCount> s;
    for (int f = 0; f < kFamilyCount; ++f) {
      Slot& slot = s[f];
      const FamilyInfo& info = kFamilies[f];
      slot.clock = info.clock;
      slot.vdso = Vdso::Process().Find(info.vdso_symbol);
      auto ptr = [](const void* p) { return reinterpret_cast<uint64_t>(p); };
      slot.sys.nr = info.nr;
      switch (f) {
        case kGettimeofday:
          slot.sys.a0 = ptr(&slot.tv);
          break;
        case kTime:
          break;  // time(NULL)
        case kGetcpu:
          slot.sys.a0 = ptr(&slot.cpu);
          slot.sys.a1 = ptr(&slot.node);
          break;
        case kGetrandom:
          slot.sys.a0 = ptr(slot.buf);
          slot.sys.a1 = kRandomBytes;
          break;
        default:  // the clock families and clock_getres
          slot.sys.a0 = static_cast<uint64_t>(info.clock);
          slot.sys.a1 = ptr(&slot.ts);
      }
    }
    return s;
  }();
  return slots;
}

Slot& SlotOf(uint64_t arg) { return *reinterpret_cast<Slot*>(arg); }

template <Family F>
uint64_t SlotArg() {
  return reinterpret_cast<uint64_t>(&Slots()[F]);
}
template <Family F>
uint64_t SyscallArg() {
  return reinterpret_cast<uint64_t>(&Slots()[F].sys);
}

// The vDSO getrandom state of this process (the measuring thread's; see VgetrandomState).
VgetrandomState& GetrandomState() {
  static VgetrandomState state(
      Vdso::Process().FindFn<VgetrandomState::Fn>(kFamilies[kGetrandom].vdso_symbol));
  return state;
}

// --- The variants as plain functions (what the checks call) -----------------------------

uint64_t RawSyscall(uint64_t nr, uint64_t a0, uint64_t a1 = 0, uint64_t a2 = 0) {
  SyscallArgs args{nr, a0, a1, a2};
  return sysgate_syscall_args_loop(1, reinterpret_cast<uint64_t>(&args));
}
template <typename T>
uint64_t U(T* p) {
  return reinterpret_cast<uint64_t>(p);
}

int SyscallClockGettime(clockid_t c, timespec* ts) {
  return static_cast<int>(RawSyscall(SYS_clock_gettime, static_cast<uint64_t>(c), U(ts)));
}
int SyscallClockGetres(clockid_t c, timespec* ts) {
  return static_cast<int>(RawSyscall(SYS_clock_getres, static_cast<uint64_t>(c), U(ts)));
}
int SyscallGettimeofday(timeval* tv, void* tz) {
  return static_cast<int>(RawSyscall(SYS_gettimeofday, U(tv), U(tz)));
}
time_t SyscallTime(time_t* tloc) { return static_cast<time_t>(RawSyscall(SYS_time, U(tloc))); }
long SyscallGetcpu(unsigned* cpu, unsigned* node, void* cache) {
  return static_cast<long>(RawSyscall(SYS_getcpu, U(cpu), U(node), U(cache)));
}
ssize_t SyscallGetrandom(void* buf, size_t len, unsigned flags) {
  return static_cast<ssize_t>(RawSyscall(SYS_getrandom, U(buf), len, flags));
}

int GlibcGettimeofday(timeval* tv, void* tz) {
  return gettimeofday(tv, static_cast<struct timezone*>(tz));
}
time_t GlibcTime(time_t* tloc) { return time(tloc); }
long GlibcGetcpu(unsigned* cpu, unsigned* node, void*) { return getcpu(cpu, node); }
ssize_t GlibcGetrandom(void* buf, size_t len, unsigned flags) { return getrandom(buf, len, flags); }
ssize_t VdsoGetrandom(void* buf, size_t len, unsigned flags) {
  return GetrandomState().Get(buf, len, flags);
}

// --- The loops ----------------------------------------------------------------------------
// Same signature as the NASM stubs; `arg` is the family's Slot. Each returns what the last
// call returned (0, or 16 for getrandom, or the seconds for time).

uint64_t VdsoClockGettimeLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  auto fn = reinterpret_cast<ClockFn>(s.vdso);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = fn(s.clock, &s.ts);
  return static_cast<uint64_t>(r);
}
uint64_t GlibcClockGettimeLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = clock_gettime(s.clock, &s.ts);
  return static_cast<uint64_t>(r);
}
uint64_t VdsoClockGetresLoop(uint64_t n, uint64_t arg) { return VdsoClockGettimeLoop(n, arg); }
uint64_t GlibcClockGetresLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = clock_getres(s.clock, &s.ts);
  return static_cast<uint64_t>(r);
}

uint64_t VdsoGettimeofdayLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  auto fn = reinterpret_cast<GettimeofdayFn>(s.vdso);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = fn(&s.tv, nullptr);
  return static_cast<uint64_t>(r);
}
uint64_t GlibcGettimeofdayLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = gettimeofday(&s.tv, nullptr);
  return static_cast<uint64_t>(r);
}
uint64_t VsyscallGettimeofdayLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  auto fn = VsyscallEntry<VsyscallGettimeofdayFn>(kVsyscallBase, kVsyscallGettimeofday);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = fn(&s.tv, nullptr);
  return static_cast<uint64_t>(r);
}

uint64_t VdsoTimeLoop(uint64_t n, uint64_t arg) {
  auto fn = reinterpret_cast<TimeFn>(SlotOf(arg).vdso);
  time_t t = 0;
  for (uint64_t i = 0; i < n; ++i) {
    t = fn(nullptr);
    benchmark::DoNotOptimize(t);
  }
  return static_cast<uint64_t>(t);
}
uint64_t GlibcTimeLoop(uint64_t n, uint64_t) {
  time_t t = 0;
  for (uint64_t i = 0; i < n; ++i) {
    t = time(nullptr);
    benchmark::DoNotOptimize(t);
  }
  return static_cast<uint64_t>(t);
}
uint64_t VsyscallTimeLoop(uint64_t n, uint64_t) {
  auto fn = VsyscallEntry<VsyscallTimeFn>(kVsyscallBase, kVsyscallTime);
  time_t t = 0;
  for (uint64_t i = 0; i < n; ++i) {
    t = fn(nullptr);
    benchmark::DoNotOptimize(t);
  }
  return static_cast<uint64_t>(t);
}

uint64_t VdsoGetcpuLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  auto fn = reinterpret_cast<GetcpuFn>(s.vdso);
  long r = 0;
  for (uint64_t i = 0; i < n; ++i) r = fn(&s.cpu, &s.node, nullptr);
  return static_cast<uint64_t>(r);
}
uint64_t GlibcGetcpuLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  int r = 0;
  for (uint64_t i = 0; i < n; ++i) r = getcpu(&s.cpu, &s.node);
  return static_cast<uint64_t>(r);
}
uint64_t VsyscallGetcpuLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  auto fn = VsyscallEntry<VsyscallGetcpuFn>(kVsyscallBase, kVsyscallGetcpu);
  long r = 0;
  for (uint64_t i = 0; i < n; ++i) r = fn(&s.cpu, &s.node, nullptr);
  return static_cast<uint64_t>(r);
}

uint64_t VdsoGetrandomLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  VgetrandomState& state = GetrandomState();
  ssize_t r = 0;
  for (uint64_t i = 0; i < n; ++i) r = state.Get(s.buf, kRandomBytes, 0);
  return static_cast<uint64_t>(r);
}
uint64_t GlibcGetrandomLoop(uint64_t n, uint64_t arg) {
  Slot& s = SlotOf(arg);
  ssize_t r = 0;
  for (uint64_t i = 0; i < n; ++i) r = getrandom(s.buf, kRandomBytes, 0);
  return static_cast<uint64_t>(r);
}

uint64_t ExpectZero() { return 0; }
uint64_t ExpectRandomBytes() { return kRandomBytes; }

// --- Probes: availability, then the family's check ---------------------------------------

std::optional<std::string> VdsoMissing(Family f) {
  const Vdso& vdso = Vdso::Process();
  if (f == kGetrandom) {
    if (vdso.present() && vdso.Find(kFamilies[f].vdso_symbol) == nullptr) {
      return "kernel has no vDSO getrandom (needs 6.11+)";
    }
    if (auto missing = vdso.MissingReason(kFamilies[f].vdso_symbol)) return missing;
    if (!GetrandomState().ok()) return GetrandomState().error();
    return std::nullopt;
  }
  return vdso.MissingReason(kFamilies[f].vdso_symbol);
}

template <Family F>
std::optional<std::string> ProbeVdsoRow() {
  if (auto missing = VdsoMissing(F)) return missing;
  return FamilyCheck(kFamilies[F].name);
}
template <Family F>
std::optional<std::string> ProbeRow() {
  return FamilyCheck(kFamilies[F].name);
}
template <Family F>
std::optional<std::string> ProbeVsyscallRow() {
  if (auto reason = VsyscallUnavailable()) return reason;
  return FamilyCheck(kFamilies[F].name);
}

// --- Check helpers -------------------------------------------------------------------------

std::optional<std::string> FamilyCheckUncached(Family f) {
  const Vdso& vdso = Vdso::Process();
  const bool has_vdso = !VdsoMissing(f).has_value();
  const bool has_vsyscall = !VsyscallUnavailable().has_value();
  void* vfn = vdso.Find(kFamilies[f].vdso_symbol);
  switch (f) {
    case kGettimeofday: {
      std::vector<Variant<GettimeofdayFn>> v;
      if (has_vdso) v.push_back({"vdso", reinterpret_cast<GettimeofdayFn>(vfn)});
      v.push_back({"glibc", GlibcGettimeofday});
      v.push_back({"syscall", SyscallGettimeofday});
      if (has_vsyscall) {
        v.push_back({"vsyscall_page",
                     reinterpret_cast<GettimeofdayFn>(kVsyscallBase + kVsyscallGettimeofday)});
      }
      return CheckGettimeofday(v);
    }
    case kTime: {
      std::vector<Variant<TimeFn>> v;
      if (has_vdso) v.push_back({"vdso", reinterpret_cast<TimeFn>(vfn)});
      v.push_back({"glibc", GlibcTime});
      v.push_back({"syscall", SyscallTime});
      if (has_vsyscall) {
        v.push_back({"vsyscall_page", VsyscallEntry<TimeFn>(kVsyscallBase, kVsyscallTime)});
      }
      return CheckTime(v);
    }
    case kGetcpu: {
      std::vector<Variant<GetcpuFn>> v;
      if (has_vdso) v.push_back({"vdso", reinterpret_cast<GetcpuFn>(vfn)});
      v.push_back({"glibc", GlibcGetcpu});
      v.push_back({"syscall", SyscallGetcpu});
      if (has_vsyscall) {
        v.push_back({"vsyscall_page", VsyscallEntry<GetcpuFn>(kVsyscallBase, kVsyscallGetcpu)});
      }
      return CheckGetcpu(v);
    }
    case kClockGetres: {
      std::vector<Variant<ClockFn>> v;
      if (has_vdso) v.push_back({"vdso", reinterpret_cast<ClockFn>(vfn)});
      v.push_back({"glibc", clock_getres});
      v.push_back({"syscall", SyscallClockGetres});
      return CheckClockGetres(kFamilies[f].clock, v);
    }
    case kGetrandom: {
      std::vector<Variant<GetrandomFn>> v;
      if (has_vdso) v.push_back({"vdso", VdsoGetrandom});
      v.push_back({"glibc", GlibcGetrandom});
      v.push_back({"syscall", SyscallGetrandom});
      return CheckGetrandom(v);
    }
    default: {  // the clock_gettime families
      std::vector<Variant<ClockFn>> v;
      if (has_vdso) v.push_back({"vdso", reinterpret_cast<ClockFn>(vfn)});
      v.push_back({"glibc", clock_gettime});
      v.push_back({"syscall", SyscallClockGettime});
      return CheckClockGettime(kFamilies[f].clock, v);
    }
  }
}

}  // namespace

std::optional<std::string> FamilyCheck(std::string_view family) {
  static std::array<std::optional<std::optional<std::string>>, kFamilyCount> cache;
  for (int f = 0; f < kFamilyCount; ++f) {
    if (kFamilies[f].name != family) continue;
    if (!cache[f]) {
      std::optional<std::string> why = FamilyCheckUncached(static_cast<Family>(f));
      cache[f] = why ? std::optional<std::string>("failed: " + *why) : std::nullopt;
    }
    return *cache[f];
  }
  return "failed: no vDSO family named " + std::string(family);
}

// --- Fallback detection ------------------------------------------------------------------------

std::optional<FallbackVerdict> CheckVdsoFallback(const Path& vdso_row) {
  if (vdso_row.mechanism != Mechanism::kVdso || vdso_row.loop == nullptr) return std::nullopt;
  // A row with a peer wraps that row's call in other work (indirect_*/vdso): its
  // family's syscall row is no yardstick for it, and the peer is checked on its own.
  if (!vdso_row.peer.empty()) return std::nullopt;
  // Its sibling in the same family (this file's rows) that makes the raw syscall, in the
  // same process.
  const Path* sys = nullptr;
  static const std::vector<Path> rows = VdsoPaths();
  for (const Path& p : rows) {
    if (p.family() == vdso_row.family() && p.mechanism == Mechanism::kSyscall &&
        p.abi == vdso_row.abi && p.loop != nullptr) {
      sys = &p;
      break;
    }
  }
  if (sys == nullptr) return std::nullopt;
  for (const Path* p : {&vdso_row, sys}) {
    if (p->probe && p->probe()) return std::nullopt;
  }
  // Batches short enough to be quick (a few µs) and long enough that the rdtscp pair
  // (~35 ticks) is small next to them.
  constexpr uint64_t kVdsoCalls = 256, kSyscallCalls = 32;
  const uint64_t vdso_arg = vdso_row.arg ? vdso_row.arg() : 0;
  const uint64_t sys_arg = sys->arg ? sys->arg() : 0;
  vdso_row.loop(8, vdso_arg);  // warm both paths (and the getrandom state's first key)
  sys->loop(2, sys_arg);
  double best_vdso = 1e300, best_sys = 1e300;
  for (int round = 0; round < kFallbackRounds; ++round) {
    const uint64_t vdso_ticks = TimeBatch(vdso_row, kVdsoCalls, vdso_arg).ticks;
    const uint64_t sys_ticks = TimeBatch(*sys, kSyscallCalls, sys_arg).ticks;
    best_vdso = std::min(best_vdso, static_cast<double>(vdso_ticks) / kVdsoCalls);
    best_sys = std::min(best_sys, static_cast<double>(sys_ticks) / kSyscallCalls);
  }
  FallbackVerdict verdict;
  verdict.ratio = best_sys > 0 ? best_vdso / best_sys : 0;
  verdict.fallback = verdict.ratio >= kVdsoFallbackRatio;
  return verdict;
}

std::vector<std::pair<std::string, double>> VdsoFallbackFigures(const Path& vdso_row) {
  std::optional<FallbackVerdict> verdict = CheckVdsoFallback(vdso_row);
  if (!verdict) return {};
  return {{"vdso_fallback", verdict->fallback ? 1 : 0}, {"vdso_to_syscall_ratio", verdict->ratio}};
}

// --- The rows ------------------------------------------------------------------------------------

namespace {

// What one family's rows differ in: the loops of its `vdso` and `glibc` variants (and of
// `vsyscall_page`, where the legacy page has the function), what every variant's last call
// returns, and how often its glibc variant enters the kernel.
struct FamilyLoops {
  LoopFn vdso;
  LoopFn glibc;
  LoopFn vsyscall_page = nullptr;  // gettimeofday, time and getcpu only
  ExpectFn expect = ExpectZero;    // null: not checked (time's value moves)
  double glibc_entries = 0;        // the glibc wrappers call the vDSO
};

// "family/variant", kept for the life of the process: the rows hold views of it.
std::string_view RowName(std::string_view family, std::string_view variant) {
  static std::deque<std::string> names;
  return names.emplace_back(std::string(family) + "/" + std::string(variant));
}

// One family's rows in report order: vdso, glibc, syscall (asm/syscall_args.asm, read next
// to getpid/syscall) and vsyscall_page (read next to the family's syscall row). The vdso
// row brings its fallback check (docs/vdso.md, "Fallback detection").
template <Family F>
void AddFamily(std::vector<Path>* rows, const FamilyLoops& loops) {
  const std::string_view family = kFamilies[F].name;
  rows->push_back({.name = RowName(family, "vdso"),
                   .mechanism = Mechanism::kVdso,
                   .expected_entries = 0,
                   .loop = loops.vdso,
                   .arg = SlotArg<F>,
                   .expect = loops.expect,
                   .probe = ProbeVdsoRow<F>,
                   .after_timing = VdsoFallbackFigures});
  rows->push_back({.name = RowName(family, "glibc"),
                   .mechanism = Mechanism::kGlibc,
                   .expected_entries = loops.glibc_entries,
                   .loop = loops.glibc,
                   .arg = SlotArg<F>,
                   .expect = loops.expect,
                   .probe = ProbeRow<F>});
  const std::string_view syscall = RowName(family, "syscall");
  rows->push_back({.name = syscall,
                   .mechanism = Mechanism::kSyscall,
                   .expected_entries = 1,
                   .loop = sysgate_syscall_args_loop,
                   .peer = "getpid/syscall",
                   .arg = SyscallArg<F>,
                   .expect = loops.expect,
                   .probe = ProbeRow<F>});
  if (loops.vsyscall_page == nullptr) return;
  rows->push_back({.name = RowName(family, "vsyscall_page"),
                   .mechanism = Mechanism::kVsyscallPage,
                   .expected_entries = 1,  // one page fault per call
                   .loop = loops.vsyscall_page,
                   .peer = syscall,
                   .arg = SlotArg<F>,
                   .expect = loops.expect,
                   .probe = ProbeVsyscallRow<F>});
}

}  // namespace

std::vector<Path> VdsoPaths() {
  const FamilyLoops clock = {.vdso = VdsoClockGettimeLoop, .glibc = GlibcClockGettimeLoop};
  std::vector<Path> rows;
  AddFamily<kMonotonic>(&rows, clock);
  AddFamily<kRealtime>(&rows, clock);
  AddFamily<kMonotonicCoarse>(&rows, clock);
  AddFamily<kMonotonicRaw>(&rows, clock);
  AddFamily<kBoottime>(&rows, clock);
  AddFamily<kGettimeofday>(&rows, {.vdso = VdsoGettimeofdayLoop,
                                   .glibc = GlibcGettimeofdayLoop,
                                   .vsyscall_page = VsyscallGettimeofdayLoop});
  AddFamily<kTime>(&rows, {.vdso = VdsoTimeLoop,
                           .glibc = GlibcTimeLoop,
                           .vsyscall_page = VsyscallTimeLoop,
                           .expect = nullptr});
  AddFamily<kGetcpu>(
      &rows,
      {.vdso = VdsoGetcpuLoop, .glibc = GlibcGetcpuLoop, .vsyscall_page = VsyscallGetcpuLoop});
  AddFamily<kClockGetres>(&rows, {.vdso = VdsoClockGetresLoop, .glibc = GlibcClockGetresLoop});
  // getrandom/glibc: glibc 2.41+ uses the vDSO state, older ones the syscall.
  AddFamily<kGetrandom>(&rows, {.vdso = VdsoGetrandomLoop,
                                .glibc = GlibcGetrandomLoop,
                                .expect = ExpectRandomBytes,
                                .glibc_entries = kEntriesUnknown});
  return rows;
}

}  // namespace sysgate
