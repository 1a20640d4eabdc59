// The vDSO lookup, the vDSO families' correctness checks and the vsyscall probe.
#include "harness/platform/vdso.h"

#include <dlfcn.h>
#include <elf.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/paths/paths.h"
#include "harness/paths/vdso_paths.h"
#include "harness/platform/environment.h"
#include "harness/platform/vsyscall.h"

namespace sysgate {
namespace {

// The defined, global or weak, function symbols of the vDSO image the kernel mapped into
// this process, name -> address, read from its ELF dynamic symbol table. The test's own
// reference: production code looks symbols up through glibc (dlvsym) only.
std::map<std::string, uintptr_t> KernelVdsoExports() {
  std::map<std::string, uintptr_t> out;
  const auto base = static_cast<uintptr_t>(getauxval(AT_SYSINFO_EHDR));
  if (base == 0) return out;
  const auto* ehdr = reinterpret_cast<const Elf64_Ehdr*>(base);
  const auto* phdr = reinterpret_cast<const Elf64_Phdr*>(base + ehdr->e_phoff);
  // The load bias: where the image is minus where it was linked (its first PT_LOAD).
  uintptr_t bias = base;
  const Elf64_Dyn* dynamic = nullptr;
  bool seen_load = false;
  for (int i = 0; i < ehdr->e_phnum; ++i) {
    if (phdr[i].p_type == PT_LOAD && !seen_load) {
      bias = base + phdr[i].p_offset - phdr[i].p_vaddr;
      seen_load = true;
    } else if (phdr[i].p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const Elf64_Dyn*>(base + phdr[i].p_offset);
    }
  }
  if (dynamic == nullptr) return out;
  const Elf64_Sym* symtab = nullptr;
  const char* strtab = nullptr;
  const Elf32_Word* hash = nullptr;
  const Elf32_Word* gnu_hash = nullptr;
  for (const Elf64_Dyn* d = dynamic; d->d_tag != DT_NULL; ++d) {
    const auto at = bias + d->d_un.d_ptr;
    if (d->d_tag == DT_SYMTAB) symtab = reinterpret_cast<const Elf64_Sym*>(at);
    if (d->d_tag == DT_STRTAB) strtab = reinterpret_cast<const char*>(at);
    if (d->d_tag == DT_HASH) hash = reinterpret_cast<const Elf32_Word*>(at);
    if (d->d_tag == DT_GNU_HASH) gnu_hash = reinterpret_cast<const Elf32_Word*>(at);
  }
  if (symtab == nullptr || strtab == nullptr) return out;
  // The symbol count: nchain of DT_HASH, or the end of the last DT_GNU_HASH chain.
  size_t count = 0;
  if (hash != nullptr) {
    count = hash[1];
  } else if (gnu_hash != nullptr) {
    const uint32_t nbuckets = gnu_hash[0], symoffset = gnu_hash[1], bloom_size = gnu_hash[2];
    const auto* buckets = reinterpret_cast<const uint32_t*>(
        reinterpret_cast<const uint64_t*>(gnu_hash + 4) + bloom_size);
    const uint32_t* chains = buckets + nbuckets;
    uint32_t last = 0;
    for (uint32_t b = 0; b < nbuckets; ++b) last = std::max(last, buckets[b]);
    if (last >= symoffset) {
      while (!(chains[last - symoffset] & 1u)) ++last;
    }
    count = last + 1;
  }
  for (size_t i = 1; i < count; ++i) {
    const Elf64_Sym& sym = symtab[i];
    const int bind = ELF64_ST_BIND(sym.st_info);
    if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
    if (bind != STB_GLOBAL && bind != STB_WEAK) continue;
    out[strtab + sym.st_name] = bias + sym.st_value;
  }
  return out;
}

TEST(Vdso, LookupFindsEverySymbolTheKernelExports) {
  const auto exports = KernelVdsoExports();
  if (exports.empty()) GTEST_SKIP() << "this process has no vDSO (AT_SYSINFO_EHDR is 0)";
  const Vdso& vdso = Vdso::Process();
  ASSERT_TRUE(vdso.present()) << vdso.error();
  const std::set<std::string_view> known(kKnownVdsoSymbols.begin(), kKnownVdsoSymbols.end());
  std::vector<std::string> expected_listed;
  for (const auto& [name, address] : exports) {
    SCOPED_TRACE(name);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(vdso.Find(name)), address);
    if (known.count(name)) {
      expected_listed.push_back(name);
    } else {
      std::printf("[  INFO    ] the vDSO exports %s, which sysgate does not list yet\n",
                  name.c_str());
    }
  }
  // Symbols() lists exactly the known symbols the kernel exports (order aside).
  std::vector<std::string> listed = vdso.Symbols();
  std::sort(listed.begin(), listed.end());
  std::sort(expected_listed.begin(), expected_listed.end());
  EXPECT_EQ(listed, expected_listed);
  // Every x86-64 kernel since 2.6 has these.
  for (const char* name :
       {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu"}) {
    EXPECT_EQ(exports.count(name), 1u) << name;
  }
}

TEST(Vdso, AMissingSymbolGivesASkipReason) {
  const Vdso& vdso = Vdso::Process();
  if (!vdso.present()) GTEST_SKIP() << vdso.error();
  EXPECT_EQ(vdso.Find("__vdso_no_such_call"), nullptr);
  auto reason = vdso.MissingReason("__vdso_no_such_call", "Linux 99");
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, "kernel's vDSO exports no __vdso_no_such_call (needs Linux 99)");
  EXPECT_FALSE(vdso.MissingReason("__vdso_clock_gettime").has_value());
  // A symbol that exists under another version is not found either.
  void* handle = dlopen(kVdsoSoname, RTLD_LAZY | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  EXPECT_EQ(dlvsym(handle, "__vdso_time", "LINUX_9.9"), nullptr);
}

TEST(Vdso, NoVdsoGivesTheReasonForEverySymbol) {
  Vdso none(nullptr, "no vDSO in this process: test");
  EXPECT_FALSE(none.present());
  EXPECT_EQ(none.Find("__vdso_time"), nullptr);
  EXPECT_EQ(none.MissingReason("__vdso_time").value_or(""), "no vDSO in this process: test");
  EXPECT_TRUE(none.Symbols().empty());
  EXPECT_EQ(VdsoSymbolsString(none), "none (no vDSO in this process: test)");
}

TEST(Vdso, GetrandomRowSkipsWithTheIssueReasonWhenTheKernelLacksIt) {
  const Path* row = FindPath("getrandom/vdso");
  ASSERT_NE(row, nullptr);
  ASSERT_NE(row->probe, nullptr);
  auto reason = row->probe();
  if (Vdso::Process().Find("__vdso_getrandom") == nullptr) {
    EXPECT_EQ(reason.value_or(""), "kernel has no vDSO getrandom (needs 6.11+)");
  } else {
    EXPECT_FALSE(reason.has_value()) << *reason;
  }
  VgetrandomState empty(nullptr);
  EXPECT_FALSE(empty.ok());
  EXPECT_EQ(empty.error(), "kernel has no vDSO getrandom (needs 6.11+)");
}

TEST(Vdso, GetrandomStateFollowsWhatTheVdsoReports) {
  auto fn = Vdso::Process().FindFn<VgetrandomState::Fn>("__vdso_getrandom");
  if (fn == nullptr) GTEST_SKIP() << "kernel has no vDSO getrandom (needs 6.11+)";
  VgetrandomState state(fn);
  ASSERT_TRUE(state.ok()) << state.error();
  EXPECT_GT(state.state_size(), 0u);
  EXPECT_LE(state.state_size(), static_cast<uint32_t>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(state.mmap_prot(), static_cast<uint32_t>(PROT_READ | PROT_WRITE));
  unsigned char a[16] = {}, b[16] = {};
  EXPECT_EQ(state.Get(a, sizeof a, 0), 16);
  EXPECT_EQ(state.Get(b, sizeof b, 0), 16);
  EXPECT_NE(std::memcmp(a, b, sizeof a), 0);
}

TEST(Vdso, ClockModeFromClocksource) {
  EXPECT_EQ(VdsoClockModeFor("tsc"), "tsc");
  EXPECT_EQ(VdsoClockModeFor("kvm-clock"), "pvclock");
  EXPECT_EQ(VdsoClockModeFor("hyperv_clocksource_tsc_page"), "hvclock");
  EXPECT_EQ(VdsoClockModeFor("hpet"), "none");
  EXPECT_EQ(VdsoClockModeFor("acpi_pm"), "none");
  EXPECT_EQ(VdsoClockModeFor("something-new"), "unknown");
  EXPECT_EQ(VdsoClockModeFor(kUnknown), "unknown");
}

// --- The consistency checks catch a wrong variant -----------------------------------------

int GoodClock(clockid_t c, timespec* ts) { return clock_gettime(c, ts); }
int ClockOneSecondBehind(clockid_t c, timespec* ts) {
  int r = clock_gettime(c, ts);
  ts->tv_sec -= 1;
  return r;
}
int ClockOneSecondAhead(clockid_t c, timespec* ts) {
  int r = clock_gettime(c, ts);
  ts->tv_sec += 1;
  return r;
}
int ClockBadNanos(clockid_t c, timespec* ts) {
  int r = clock_gettime(c, ts);
  ts->tv_nsec = 1'500'000'000;
  return r;
}
int ClockFails(clockid_t, timespec*) { return -22; }

TEST(VdsoChecks, ClockGettimeAcceptsAgreeingVariants) {
  const Variant<ClockFn> good[] = {{"a", GoodClock}, {"b", GoodClock}, {"c", GoodClock}};
  for (clockid_t clock : {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_MONOTONIC_COARSE,
                          CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME}) {
    auto why = CheckClockGettime(clock, good);
    EXPECT_FALSE(why.has_value()) << *why;
  }
}

TEST(VdsoChecks, ClockGettimeCatchesAFakeVariant) {
  for (ClockFn fake : {ClockOneSecondBehind, ClockOneSecondAhead, ClockBadNanos, ClockFails}) {
    const Variant<ClockFn> variants[] = {{"glibc", GoodClock}, {"fake", fake}};
    auto why = CheckClockGettime(CLOCK_MONOTONIC, variants);
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("fake"), std::string::npos) << *why;
    EXPECT_NE(why->find("CLOCK_MONOTONIC"), std::string::npos) << *why;
  }
}

int GoodGettimeofday(timeval* tv, void*) { return gettimeofday(tv, nullptr); }
int GettimeofdayAhead(timeval* tv, void*) {
  int r = gettimeofday(tv, nullptr);
  tv->tv_sec += 5;
  return r;
}

TEST(VdsoChecks, GettimeofdayCatchesAFakeVariantEvenAlone) {
  const Variant<GettimeofdayFn> good[] = {{"glibc", GoodGettimeofday}};
  EXPECT_FALSE(CheckGettimeofday(good).has_value());
  // Alone: the CLOCK_REALTIME reads around it catch it.
  const Variant<GettimeofdayFn> fake[] = {{"fake", GettimeofdayAhead}};
  auto why = CheckGettimeofday(fake);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("fake"), std::string::npos) << *why;
}

time_t GoodTime(time_t* t) { return time(t); }
time_t TimeAhead(time_t* t) {
  time_t v = time(nullptr) + 100;
  if (t) *t = v;
  return v;
}
time_t TimeForgetsToStore(time_t*) { return time(nullptr); }

TEST(VdsoChecks, TimeCatchesAFakeVariant) {
  const Variant<TimeFn> good[] = {{"glibc", GoodTime}, {"again", GoodTime}};
  EXPECT_FALSE(CheckTime(good).has_value());
  for (TimeFn fake : {TimeAhead, TimeForgetsToStore}) {
    const Variant<TimeFn> variants[] = {{"glibc", GoodTime}, {"fake", fake}};
    auto why = CheckTime(variants);
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("fake"), std::string::npos) << *why;
  }
}

long GoodGetcpu(unsigned* cpu, unsigned* node, void*) { return getcpu(cpu, node); }
long GetcpuOffByOne(unsigned* cpu, unsigned* node, void*) {
  long r = getcpu(cpu, node);
  *cpu += 1;
  return r;
}
long GetcpuWrongNode(unsigned* cpu, unsigned* node, void*) {
  long r = getcpu(cpu, node);
  *node += 7;
  return r;
}

TEST(VdsoChecks, GetcpuCatchesAFakeVariant) {
  const Variant<GetcpuFn> good[] = {{"glibc", GoodGetcpu}, {"again", GoodGetcpu}};
  EXPECT_FALSE(CheckGetcpu(good).has_value());
  const Variant<GetcpuFn> off[] = {{"fake", GetcpuOffByOne}};
  auto why = CheckGetcpu(off);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("sched_getcpu"), std::string::npos) << *why;
}

TEST(VdsoChecks, GetcpuCatchesADisagreeingNodeOnTheSameCpu) {
  // Pin so both variants see the same CPU; without pinning a migration could hide it.
  cpu_set_t old_set, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof old_set, &old_set), 0);
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const Variant<GetcpuFn> variants[] = {{"glibc", GoodGetcpu}, {"fake", GetcpuWrongNode}};
  auto why = CheckGetcpu(variants);
  sched_setaffinity(0, sizeof old_set, &old_set);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("node"), std::string::npos) << *why;
}

int GoodGetres(clockid_t c, timespec* ts) { return clock_getres(c, ts); }
int GetresDouble(clockid_t c, timespec* ts) {
  int r = clock_getres(c, ts);
  ts->tv_nsec *= 2;
  return r;
}

TEST(VdsoChecks, ClockGetresCatchesAFakeVariant) {
  const Variant<ClockFn> good[] = {{"glibc", GoodGetres}, {"again", GoodGetres}};
  EXPECT_FALSE(CheckClockGetres(CLOCK_MONOTONIC, good).has_value());
  const Variant<ClockFn> variants[] = {{"glibc", GoodGetres}, {"fake", GetresDouble}};
  auto why = CheckClockGetres(CLOCK_MONOTONIC, variants);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("fake"), std::string::npos) << *why;
}

ssize_t GoodRandom(void* b, size_t n, unsigned f) { return getrandom(b, n, f); }
ssize_t ZeroRandom(void* b, size_t n, unsigned) {
  std::memset(b, 0, n);
  return static_cast<ssize_t>(n);
}
ssize_t ConstantRandom(void* b, size_t n, unsigned) {
  std::memset(b, 0x5a, n);
  return static_cast<ssize_t>(n);
}
ssize_t ShortRandom(void* b, size_t n, unsigned f) { return getrandom(b, n / 2, f); }

TEST(VdsoChecks, GetrandomCatchesAFakeVariant) {
  const Variant<GetrandomFn> good[] = {{"glibc", GoodRandom}};
  EXPECT_FALSE(CheckGetrandom(good).has_value());
  for (GetrandomFn fake : {ZeroRandom, ConstantRandom, ShortRandom}) {
    const Variant<GetrandomFn> variants[] = {{"glibc", GoodRandom}, {"fake", fake}};
    auto why = CheckGetrandom(variants);
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("fake"), std::string::npos) << *why;
  }
}

// Every family's real variants agree on this machine (what a run checks before timing).
TEST(VdsoChecks, EveryFamilyPassesItsCheckHere) {
  std::set<std::string_view> families;
  for (const Path& path : VdsoPaths()) families.insert(path.family());
  EXPECT_EQ(families.size(), 10u);
  for (std::string_view family : families) {
    auto why = FamilyCheck(family);
    EXPECT_FALSE(why.has_value()) << family << ": " << *why;
  }
  EXPECT_EQ(FamilyCheck("no_such_family").value_or("").rfind("failed: ", 0), 0u);
}

// --- The table's vDSO rows ------------------------------------------------------------------

TEST(VdsoPaths, EveryFamilyHasItsVariantsWithTheRightBaselines) {
  const char* families[] = {"clock_gettime_monotonic",
                            "clock_gettime_realtime",
                            "clock_gettime_monotonic_coarse",
                            "clock_gettime_monotonic_raw",
                            "clock_gettime_boottime",
                            "gettimeofday",
                            "time",
                            "getcpu",
                            "clock_getres",
                            "getrandom"};
  const std::set<std::string> with_vsyscall = {"gettimeofday", "time", "getcpu"};
  for (std::string family : families) {
    for (std::string variant : {"vdso", "glibc", "syscall", "vsyscall_page"}) {
      const std::string name = family + "/" + variant;
      const Path* row = FindPath(name);
      if (variant == "vsyscall_page" && !with_vsyscall.count(family)) {
        EXPECT_EQ(row, nullptr) << name;
        continue;
      }
      ASSERT_NE(row, nullptr) << name;
      EXPECT_EQ(row->baseline, "baseline/call") << name;
      EXPECT_EQ(MechanismName(row->mechanism), variant) << name;
      if (variant == "vdso") {
        EXPECT_EQ(row->expected_entries, 0) << name;
      } else if (variant == "syscall") {
        EXPECT_EQ(row->peer, "getpid/syscall") << name;
        EXPECT_EQ(row->expected_entries, 1) << name;
      } else if (variant == "vsyscall_page") {
        EXPECT_EQ(row->peer, family + "/syscall") << name;
        EXPECT_EQ(row->expected_entries, 1) << name << ": one page fault per call";
      }
      EXPECT_NE(row->probe, nullptr) << name << ": every row is checked before timing";
    }
  }
}

TEST(VdsoPaths, FallbackVerdictOnlyForVdsoRows) {
  const Path* sys = FindPath("clock_gettime_monotonic/syscall");
  ASSERT_NE(sys, nullptr);
  EXPECT_FALSE(CheckVdsoFallback(*sys).has_value());
  const Path* vdso = FindPath("clock_gettime_monotonic/vdso");
  ASSERT_NE(vdso, nullptr);
  if (vdso->probe()) GTEST_SKIP() << *vdso->probe();
  auto verdict = CheckVdsoFallback(*vdso);
  ASSERT_TRUE(verdict.has_value());
  EXPECT_GT(verdict->ratio, 0.0);  // never a timing assertion: only that it measured
  EXPECT_EQ(verdict->fallback, verdict->ratio >= kVdsoFallbackRatio);
}

// --- vsyscall page --------------------------------------------------------------------------

TEST(Vsyscall, ModeFromMapsAndCommandLine) {
  const std::string xonly =
      "7ffd1000-7ffd3000 r-xp 00000000 00:00 0  [vdso]\n"
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
  const std::string emulate =
      "ffffffffff600000-ffffffffff601000 r-xp 00000000 00:00 0                  [vsyscall]\n";
  const std::string none = "7ffd1000-7ffd3000 r-xp 00000000 00:00 0  [vdso]\n";
  EXPECT_EQ(VsyscallModeFrom(xonly, ""), "xonly");
  EXPECT_EQ(VsyscallModeFrom(emulate, "vsyscall=xonly"), "emulate");  // maps win
  EXPECT_EQ(VsyscallModeFrom(none, ""), "none");
  EXPECT_EQ(VsyscallModeFrom("", "quiet vsyscall=none ro"), "none");
  EXPECT_EQ(VsyscallModeFrom("", "quiet vsyscall=emulate"), "emulate");
  EXPECT_EQ(VsyscallModeFrom("", "quiet -- vsyscall=none"), "unknown");  // init's argument
  EXPECT_EQ(VsyscallModeFrom("", ""), "unknown");
}

TEST(Vsyscall, ModeOfAFixtureTreeWithoutMapsIsUnknown) {
  EXPECT_EQ(VsyscallMode(std::string(SYSGATE_FIXTURES) + "/empty_root"), "unknown");
}

TEST(Vsyscall, ProbingAnAbsentPageSurvivesAndSaysWhy) {
  // An address range that was mapped and is not any more: what vsyscall=none leaves.
  const size_t len = 3 * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  ASSERT_EQ(munmap(p, len), 0);
  auto reason = ProbeVsyscallPage(reinterpret_cast<uintptr_t>(p));
  ASSERT_TRUE(reason.has_value());
#ifndef __SANITIZE_ADDRESS__  // ASan's own SIGSEGV handler turns the fault into exit(1)
  EXPECT_NE(reason->find("SIGSEGV"), std::string::npos) << *reason;
#endif
}

TEST(Vsyscall, ProbingAPageThatReturnsNonsenseSaysWrongResult) {
  // A page that runs but answers nonsense (every entry returns -1) must be refused, not
  // timed.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  // xor eax, eax; dec rax; ret  ->  returns -1 from every entry
  const unsigned char code[] = {0x31, 0xc0, 0x48, 0xff, 0xc8, 0xc3};
  for (uintptr_t off : {kVsyscallGettimeofday, kVsyscallTime, kVsyscallGetcpu}) {
    std::memcpy(static_cast<char*>(p) + off, code, sizeof code);
  }
  ASSERT_EQ(mprotect(p, page, PROT_READ | PROT_EXEC), 0);
  auto reason = ProbeVsyscallPage(reinterpret_cast<uintptr_t>(p));
  munmap(p, page);
  EXPECT_EQ(reason.value_or(""), "wrong result");
}

TEST(Vsyscall, TheRealPageMatchesItsMode) {
  const std::string mode = VsyscallMode();
  auto unavailable = VsyscallUnavailable();
  if (mode == "none") {
    EXPECT_EQ(unavailable.value_or(""), "kernel has no vsyscall page (vsyscall=none)");
  } else if (mode == "xonly" || mode == "emulate") {
    EXPECT_FALSE(unavailable.has_value()) << *unavailable;
  }
  for (const char* name :
       {"time/vsyscall_page", "gettimeofday/vsyscall_page", "getcpu/vsyscall_page"}) {
    const Path* row = FindPath(name);
    ASSERT_NE(row, nullptr) << name;
    EXPECT_EQ(row->probe().has_value(), unavailable.has_value()) << name;
  }
}

TEST(Vsyscall, EnvironmentCarriesTheKeys) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : CaptureEnvironment("", -1)) m[k] = v;
  EXPECT_EQ(m["vsyscall_mode"], VsyscallMode());
  EXPECT_EQ(m["vdso_symbols"], VdsoSymbolsString(Vdso::Process()));
  EXPECT_EQ(m["vdso_clock_mode"], VdsoClockModeFor(m["clocksource"]));
  std::map<std::string, std::string> fixture;
  for (auto& [k, v] : CaptureEnvironment(std::string(SYSGATE_FIXTURES) + "/empty_root", -1)) {
    fixture[k] = v;
  }
  EXPECT_EQ(fixture["vdso_symbols"], kUnknown);
  EXPECT_EQ(fixture["vdso_clock_mode"], "unknown");
  EXPECT_EQ(fixture["vsyscall_mode"], "unknown");
}

}  // namespace
}  // namespace sysgate
