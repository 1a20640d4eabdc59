// The 32-bit helper and its client: every ia32 path returns the helper's own pid, a path
// the CPU refuses becomes a reason naming the signal and the vendor, and a missing or
// unrunnable helper becomes a reason, never a crash. No timing is asserted.
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/coprocess/elf32_symbols.h"
#include "harness/coprocess/ia32_client.h"
#include "harness/paths/ia32_paths.h"
#include "harness/paths/paths.h"
#include "harness/platform/probe.h"

namespace sysgate {
namespace {

#ifdef SYSGATE_IA32_HELPER_PATH
constexpr const char* kHelper = SYSGATE_IA32_HELPER_PATH;
#else
constexpr const char* kHelper = nullptr;
#endif

#define SYSGATE_REQUIRE_HELPER()                                                 \
  do {                                                                           \
    if (!kHelper) GTEST_SKIP() << "the ia32 helper is not built (SYSGATE_IA32)"; \
  } while (0)

// The helper may be built and still unable to run (a kernel without ia32 emulation).
#define SYSGATE_REQUIRE_RUNNING(client)                                                          \
  do {                                                                                           \
    if (!(client).ok()) GTEST_SKIP() << "the ia32 helper cannot run here: " << (client).error(); \
  } while (0)

// Every test in this binary that reaches Ia32Client::Shared() (the path table's probes, the
// counting pass) uses the helper this build made, not one next to the test binary.
[[maybe_unused]] const bool kSharedHelperSet = [] {
  if (kHelper) Ia32Client::SetHelperPath(kHelper);
  return true;
}();

constexpr const char* kGetpidVariants[] = {"int80", "sysenter", "vdso", "syscall"};

TEST(Ia32Client, StartsTheHelperAsItsOwnProcess) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  EXPECT_GT(client.helper_pid(), 0);
  EXPECT_NE(client.helper_pid(), getpid());
  EXPECT_FALSE(client.vendor().empty());
}

TEST(Ia32Client, EveryAvailableGetpidPathReturnsTheHelpersPid) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  int available = 0;
  for (const char* variant : kGetpidVariants) {
    SCOPED_TRACE(variant);
    std::optional<std::string> reason = client.Probe(variant);
    if (reason) {
      // Refused by this CPU or kernel: the reason says what, and names the vendor.
      EXPECT_FALSE(reason->empty());
      std::printf("  %s: skipped: %s\n", variant, reason->c_str());
      continue;
    }
    ++available;
    for (uint64_t n : {1u, 3u, 64u}) {
      uint64_t ticks = 0, result = 0;
      std::string error;
      ASSERT_TRUE(client.Run(variant, n, &ticks, &result, &error)) << error;
      EXPECT_EQ(result, static_cast<uint64_t>(client.helper_pid())) << "n=" << n;
      EXPECT_GT(ticks, 0u);
    }
  }
  // int 0x80 and __kernel_vsyscall work on every x86-64 kernel that runs 32-bit programs.
  EXPECT_EQ(client.Probe("int80"), std::nullopt);
  EXPECT_EQ(client.Probe("vdso"), std::nullopt);
  EXPECT_GE(available, 2);
}

// checkasm in 32 bits: known values in ebx, esi, edi, ebp survive every stub.
TEST(Ia32Client, EveryAvailableStubPreservesTheCalleeSavedRegisters) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  for (const char* variant : {"call", "int80", "sysenter", "vdso", "syscall"}) {
    SCOPED_TRACE(variant);
    if (client.Probe(variant)) continue;
    for (uint64_t n : {0u, 1u, 5u}) {
      uint64_t result = 0;
      std::string error;
      EXPECT_TRUE(client.Check(variant, n, &result, &error)) << "n=" << n << ": " << error;
    }
  }
}

TEST(Ia32Client, ZeroIterationsReturnZeroAndTheCallBaselineItsConstant) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  uint64_t ticks = 0, result = 1;
  std::string error;
  ASSERT_TRUE(client.Run("int80", 0, &ticks, &result, &error)) << error;
  EXPECT_EQ(result, 0u);
  ASSERT_TRUE(client.Run("call", 1000, &ticks, &result, &error)) << error;
  EXPECT_EQ(result, kSysgate32DummyId);
}

// The probe's fault outcome, forced: the ud2 test path always raises #UD.
TEST(Ia32Client, AFaultingPathBecomesASigillReasonAndTheHelperLivesOn) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  std::optional<std::string> reason = client.Probe("ud2");
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("SIGILL"), std::string::npos) << *reason;
  EXPECT_NE(reason->find(client.vendor()), std::string::npos) << *reason;

  uint64_t ticks = 0, result = 0;
  std::string error;
  EXPECT_FALSE(client.Run("ud2", 4, &ticks, &result, &error));
  EXPECT_NE(error.find("SIGILL"), std::string::npos) << error;
  ASSERT_TRUE(client.ok()) << "a refused path must not stop the helper";
  ASSERT_TRUE(client.Run("int80", 2, &ticks, &result, &error)) << error;
  EXPECT_EQ(result, static_cast<uint64_t>(client.helper_pid()));
}

TEST(Ia32Client, UnknownVariantIsAnErrorNotACrash) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  uint64_t ticks = 0, result = 0;
  std::string error;
  EXPECT_FALSE(client.Run("no_such_path", 1, &ticks, &result, &error));
  EXPECT_NE(error.find("unknown"), std::string::npos) << error;
  EXPECT_TRUE(client.ok());
}

TEST(Ia32Client, PerCallReturnsOneSampleEachWithinTheCount) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  std::vector<uint64_t> samples;
  std::string error;
  ASSERT_TRUE(client.PerCall("vdso", 50, 0, &samples, &error)) << error;
  EXPECT_EQ(samples.size(), 50u);
  for (uint64_t t : samples) EXPECT_GT(t, 0u);
}

TEST(Ia32Client, AMissingHelperIsAReasonNamingThePath) {
  Ia32Client client("/nonexistent/sysgate_ia32_helper");
  EXPECT_FALSE(client.ok());
  EXPECT_EQ(client.helper_pid(), -1);
  EXPECT_NE(client.error().find("not found"), std::string::npos) << client.error();
  EXPECT_NE(client.error().find("/nonexistent/sysgate_ia32_helper"), std::string::npos);
  std::optional<std::string> reason = client.Probe("int80");
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason, client.error());
  uint64_t ticks = 0, result = 0;
  std::string error;
  EXPECT_FALSE(client.Run("int80", 1, &ticks, &result, &error));
  EXPECT_EQ(error, client.error());
}

// What a kernel without ia32 emulation does to a 32-bit ELF (execve fails with ENOEXEC),
// simulated with an executable file that is no program at all.
TEST(Ia32Client, AnUnrunnableHelperSaysTheKernelCannotRunIt) {
  char path[] = "/tmp/sysgate_ia32_noexec_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const char junk[] =
      "\x7f"
      "ELF but not really\n";
  ASSERT_EQ(write(fd, junk, sizeof junk), static_cast<ssize_t>(sizeof junk));
  close(fd);
  chmod(path, 0755);
  Ia32Client client(path);
  unlink(path);
  EXPECT_FALSE(client.ok());
  EXPECT_NE(client.error().find("ENOEXEC"), std::string::npos) << client.error();
}

TEST(Ia32Client, AHelperThatExitsAtOnceIsAReason) {
  Ia32Client client("/bin/true");
  EXPECT_FALSE(client.ok());
  EXPECT_NE(client.error().find("did not start"), std::string::npos) << client.error();
}

// Pins this thread to the CPU it runs on for the scope (the helper inherits it, as it
// inherits sysgate_bench's measuring CPU), and restores the old mask.
class PinHere {
 public:
  PinHere() {
    sched_getaffinity(0, sizeof old_, &old_);
    cpu_set_t one;
    CPU_ZERO(&one);
    cpu_ = sched_getcpu();
    CPU_SET(cpu_, &one);
    sched_setaffinity(0, sizeof one, &one);
  }
  ~PinHere() { sched_setaffinity(0, sizeof old_, &old_); }
  int cpu() const { return cpu_; }

 private:
  cpu_set_t old_;
  int cpu_ = -1;
};

constexpr const char* kValueVariants[] = {"vdso_clock", "int80_clock", "vdso_getcpu",
                                          "int80_getcpu"};

TEST(Ia32Vdso, EveryVdsoFamilyVariantReturnsAConsistentValue) {
  SYSGATE_REQUIRE_HELPER();
  PinHere pin;
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  ASSERT_EQ(AllowedCpus(client.helper_pid()), std::vector<int>{pin.cpu()});
  for (const char* variant : kValueVariants) {
    SCOPED_TRACE(variant);
    if (std::optional<std::string> reason = client.Probe(variant)) {
      // Only the vDSO rows may be missing (a kernel whose 32-bit vDSO lacks the symbol).
      EXPECT_EQ(reason->rfind("32-bit vDSO has no ", 0), 0u) << *reason;
      continue;
    }
    Ia32ReadFn read = [&](int64_t* ret, int64_t* value, std::string* error) {
      return client.Read(variant, ret, value, error);
    };
    const bool clock = std::string_view(variant).ends_with("_clock");
    EXPECT_EQ(clock ? CheckIa32Clock(variant, read)
                    : CheckIa32Getcpu(variant, read, AllowedCpus(client.helper_pid())),
              std::nullopt);
    int64_t ret = -1, value = -1;
    std::string error;
    ASSERT_TRUE(client.Read(variant, &ret, &value, &error)) << error;
    EXPECT_EQ(ret, 0);
    if (!clock) EXPECT_EQ(value, pin.cpu());
    uint64_t ticks = 0, result = 1;
    ASSERT_TRUE(client.Run(variant, 16, &ticks, &result, &error)) << error;
    EXPECT_EQ(result, 0u);
    EXPECT_NE(client.Describe(variant).value_or(""), "");
  }
  // int 0x80 works wherever the helper runs; this kernel (6.18) has both vDSO symbols.
  EXPECT_EQ(client.Probe("int80_clock"), std::nullopt);
  EXPECT_EQ(client.Probe("int80_getcpu"), std::nullopt);
}

TEST(Ia32Vdso, ChecksCatchWrongValues) {
  auto fake = [](int64_t ret, int64_t value) {
    return [=](int64_t* r, int64_t* v, std::string*) {
      *r = ret;
      *v = value;
      return true;
    };
  };
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t ns = int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
  auto behind = CheckIa32Clock("fake", fake(0, ns - 1'000'000'000));
  ASSERT_TRUE(behind.has_value());
  EXPECT_NE(behind->find("outside the 64-bit reads"), std::string::npos) << *behind;
  EXPECT_TRUE(CheckIa32Clock("fake", fake(0, ns + 3'600'000'000'000)).has_value()) << "ahead";
  EXPECT_NE(CheckIa32Clock("fake", fake(-22, ns)).value_or("").find("returned -22"),
            std::string::npos);
  EXPECT_NE(CheckIa32Getcpu("fake", fake(0, 3), {2}).value_or("").find("pinned to CPU 2"),
            std::string::npos);
  EXPECT_EQ(CheckIa32Getcpu("fake", fake(0, 2), {2}), std::nullopt);
  EXPECT_EQ(CheckIa32Getcpu("fake", fake(0, 1), {0, 1}), std::nullopt);
  EXPECT_TRUE(CheckIa32Getcpu("fake", fake(0, 5), {0, 1}).has_value());
  EXPECT_TRUE(CheckIa32Getcpu("fake", fake(-14, 0), {0}).has_value());
  auto broken = [](int64_t*, int64_t*, std::string* error) {
    *error = "helper gone";
    return false;
  };
  EXPECT_NE(CheckIa32Clock("fake", broken).value_or("").find("helper gone"), std::string::npos);
}

// The helper's ELF32 reader on the live 32-bit vDSO: it finds what glibc's dlvsym would,
// with versions, and a name the vDSO does not export gives the rows' skip reason.
TEST(Ia32Vdso, TheElfLookupFindsExportsAndNamesWhatIsMissing) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  Ia32Client::LookupResult vsyscall = client.Lookup("__kernel_vsyscall", "LINUX_2.5");
  ASSERT_TRUE(vsyscall.address) << vsyscall.missing << vsyscall.error;
  EXPECT_EQ(*vsyscall.address, client.sysinfo()) << "the symbol table and AT_SYSINFO agree";
  EXPECT_TRUE(client.Lookup("__vdso_clock_gettime", "LINUX_2.6").address);
  EXPECT_TRUE(client.Lookup("__vdso_getcpu", "").address) << "any version";

  Ia32Client::LookupResult none = client.Lookup("__vdso_no_such_symbol", "LINUX_2.6");
  EXPECT_FALSE(none.address);
  EXPECT_EQ(none.missing, "32-bit vDSO has no __vdso_no_such_symbol@LINUX_2.6");
  EXPECT_EQ(none.error, "");
  Ia32Client::LookupResult wrong_version = client.Lookup("__kernel_vsyscall", "LINUX_2.6");
  EXPECT_FALSE(wrong_version.address);
  EXPECT_EQ(wrong_version.missing, "32-bit vDSO has no __kernel_vsyscall@LINUX_2.6");

  std::string error;
  std::optional<std::string> symbols = client.Symbols(&error);
  ASSERT_TRUE(symbols) << error;
  EXPECT_NE(symbols->find("__kernel_vsyscall@LINUX_2.5"), std::string::npos) << *symbols;
}

// Bounds checks: the reader given only the first L bytes of the real image either finds the
// symbol or says why it cannot, for every L; the helper never crashes.
TEST(Ia32Vdso, TheElfLookupSurvivesATruncatedImage) {
  SYSGATE_REQUIRE_HELPER();
  Ia32Client client(kHelper);
  SYSGATE_REQUIRE_RUNNING(client);
  Ia32Client::LookupResult empty = client.Lookup("__vdso_getcpu", "LINUX_2.6", 0);
  EXPECT_NE(empty.error.find("not an ELF image"), std::string::npos) << empty.error;
  int found = 0;
  for (uint64_t limit = 1; limit <= 8192; limit += (limit < 256 ? 1 : 61)) {
    Ia32Client::LookupResult r = client.Lookup("__vdso_getcpu", "LINUX_2.6", limit);
    ASSERT_TRUE(client.ok()) << "the helper died at limit " << limit;
    EXPECT_TRUE(r.address || !r.error.empty() || !r.missing.empty()) << limit;
    if (r.address) ++found;
  }
  EXPECT_GT(found, 0) << "the whole image must be enough";
}

TEST(Elf32Symbols, RefusesWhatIsNotAnElf32SharedObject) {
  EXPECT_EQ(Elf32Symbols::Parse(nullptr, 0).error(), "not an ELF image");
  const unsigned char junk[64] = {0x7f, 'E', 'L', 'F'};
  EXPECT_FALSE(Elf32Symbols::Parse(junk, sizeof junk).ok());
  // This process's own vDSO is a real ELF64 image: not ELF32.
  const auto* vdso64 = reinterpret_cast<const unsigned char*>(getauxval(AT_SYSINFO_EHDR));
  if (vdso64) {
    Elf32Symbols parsed = Elf32Symbols::Parse(vdso64, 4096);
    EXPECT_NE(parsed.error().find("not an ELF32 image"), std::string::npos) << parsed.error();
    EXPECT_FALSE(parsed.Find("__vdso_getcpu", ""));
  }
}

TEST(Ia32Paths, TheRowsArePresentTimedAndComparedWithTheIa32Call) {
  for (const char* name : {"baseline/ia32_call", "getpid/ia32_int80", "getpid/ia32_sysenter",
                           "getpid/ia32_vdso", "getpid/ia32_syscall"}) {
    SCOPED_TRACE(name);
    const Path* path = FindPath(name);
    ASSERT_NE(path, nullptr);
    EXPECT_EQ(path->loop, nullptr);
    EXPECT_NE(path->timed, nullptr);
    EXPECT_NE(path->per_call, nullptr);
    EXPECT_NE(path->probe, nullptr);
    EXPECT_NE(path->expect, nullptr);
    EXPECT_EQ(path->abi, Abi::kIa32);
    if (path->family() == "getpid") {
      EXPECT_EQ(path->baseline, "baseline/ia32_call");
      EXPECT_EQ(path->expected_entries, 1) << "__kernel_vsyscall enters the kernel too";
      EXPECT_EQ(path->expect, ExpectHelperPid);
    }
  }
}

TEST(Ia32Paths, TheVdsoFamilyRowsAreComparedWithTheirIa32Baselines) {
  for (const auto& [name, peer, mechanism] :
       {std::tuple{"clock_gettime_monotonic/ia32_vdso", "", Mechanism::kVdso},
        std::tuple{"clock_gettime_monotonic/ia32_int80", "getpid/ia32_int80", Mechanism::kInt80},
        std::tuple{"getcpu/ia32_vdso", "", Mechanism::kVdso},
        std::tuple{"getcpu/ia32_int80", "getpid/ia32_int80", Mechanism::kInt80}}) {
    SCOPED_TRACE(name);
    const Path* path = FindPath(name);
    ASSERT_NE(path, nullptr);
    EXPECT_EQ(path->loop, nullptr);
    EXPECT_NE(path->timed, nullptr);
    EXPECT_NE(path->per_call, nullptr);
    EXPECT_EQ(path->baseline, "baseline/ia32_call");
    EXPECT_EQ(path->peer, peer);
    EXPECT_EQ(path->abi, Abi::kIa32);
    EXPECT_EQ(path->mechanism, mechanism);
    EXPECT_EQ(path->expected_entries, mechanism == Mechanism::kVdso ? 0 : 1);
    if (kHelper) {
      // The probe runs the helper's check: consistent values, or a skip reason.
      std::optional<std::string> reason = path->probe();
      // A kernel that cannot exec 32-bit programs skips every ia32 row with that reason.
      if (reason && reason->rfind("the kernel cannot run 32-bit programs", 0) == 0) {
        GTEST_SKIP() << *reason;
      }
      if (reason) EXPECT_EQ(reason->rfind("32-bit vDSO has no ", 0), 0u) << *reason;
    }
  }
}

}  // namespace
}  // namespace sysgate

namespace sysgate {
namespace {

using ::testing::HasSubstr;

TEST(Ia32HelperDeath, TheSignalAndWhatItMeansAreInTheReason) {
  EXPECT_THAT(DescribeExit(SIGSYS), HasSubstr("killed by SIGSYS"));
  EXPECT_THAT(DescribeExit(SIGSYS), HasSubstr("seccomp filter refused"));
  EXPECT_THAT(DescribeExit(SIGKILL), HasSubstr("SECCOMP_RET_KILL"));
  EXPECT_THAT(DescribeExit(SIGKILL, true), HasSubstr("did not exit"));
  EXPECT_EQ(DescribeExit(3 << 8), "exited with status 3");
}

// A "helper" that dies of SIGSYS at start, as a 32-bit process does under a container's
// seccomp filter that denies 32-bit system calls: every ia32 row says so.
TEST(Ia32HelperDeath, AHelperKilledBySigsysNamesTheSignal) {
  const std::string path = ::testing::TempDir() + "/sysgate_sigsys_helper.sh";
  {
    std::ofstream out(path);
    out << "#!/bin/sh\nkill -SYS $$\n";
  }
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  Ia32Client client(path);
  EXPECT_FALSE(client.ok());
  EXPECT_THAT(client.error(), HasSubstr("did not start"));
  EXPECT_THAT(client.error(), HasSubstr("killed by SIGSYS"));
  EXPECT_THAT(client.error(), HasSubstr("seccomp"));
  EXPECT_THAT(client.Probe("int80").value_or(""), HasSubstr("SIGSYS"));
}

}  // namespace
}  // namespace sysgate
