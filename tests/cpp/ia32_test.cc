// The 32-bit helper and its client: every ia32 path returns the helper's own pid, a path
// the CPU refuses becomes a reason naming the signal and the vendor, and a missing or
// unrunnable helper becomes a reason, never a crash. No timing is asserted.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "harness/ia32_client.h"
#include "harness/ia32_paths.h"
#include "harness/paths.h"

namespace sysgate {
namespace {

#ifdef SYSGATE_IA32_HELPER_PATH
constexpr const char* kHelper = SYSGATE_IA32_HELPER_PATH;
#else
constexpr const char* kHelper = nullptr;
#endif

#define SYSGATE_REQUIRE_HELPER()                                                     \
  do {                                                                              \
    if (!kHelper) GTEST_SKIP() << "the ia32 helper is not built (SYSGATE_IA32)";     \
  } while (0)

// The helper may be built and still unable to run (a kernel without ia32 emulation).
#define SYSGATE_REQUIRE_RUNNING(client)                                              \
  do {                                                                              \
    if (!(client).ok()) GTEST_SKIP() << "the ia32 helper cannot run here: " << (client).error(); \
  } while (0)

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
  const char junk[] = "\x7f" "ELF but not really\n";
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
    if (path->family() == "getpid") {
      EXPECT_EQ(path->baseline, "baseline/ia32_call");
      EXPECT_EQ(path->expect, ExpectHelperPid);
    }
  }
}

}  // namespace
}  // namespace sysgate
