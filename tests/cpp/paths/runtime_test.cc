// The language-runtime helpers (benchmarks/runtimes/) through RuntimeClient: each getpid
// variant returns the helper's own pid, each call baseline its constant, and a missing
// toolchain is a reason naming the install command. A helper whose toolchain is not
// installed here skips its tests. No timing is asserted.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/measure/counting_pass.h"
#include "harness/paths/paths.h"
#include "harness/paths/runtime_paths.h"

namespace sysgate {
namespace {

using ::testing::HasSubstr;

#ifdef SYSGATE_RUNTIMES_DIR_PATH
const std::string kDir = SYSGATE_RUNTIMES_DIR_PATH;
#else
const std::string kDir = "/nonexistent";
#endif

struct Case {
  Runtime runtime;
  std::vector<const char*> getpid_variants;
};
void PrintTo(const Case& c, std::ostream* os) { *os << RuntimeName(c.runtime); }

const Case kCases[] = {
    {Runtime::kGo, {"os", "syscall", "rawsyscall"}},
    {Runtime::kJava, {"processhandle"}},
    {Runtime::kPython, {"os"}},
};

// Sets an environment variable for the scope of a test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class RuntimeHelper : public ::testing::TestWithParam<Case> {};

TEST_P(RuntimeHelper, EveryGetpidVariantReturnsTheHelpersPidNotOurs) {
  RuntimeClient client(GetParam().runtime, kDir);
  if (!client.ok()) GTEST_SKIP() << client.error();
  ASSERT_GT(client.pid(), 0);
  ASSERT_NE(client.pid(), getpid());
  for (const char* variant : GetParam().getpid_variants) {
    EXPECT_EQ(client.Probe(variant), std::nullopt) << variant;
    for (uint64_t n : {1, 3, 1000}) {
      uint64_t ticks = 0, result = 0;
      std::string error;
      ASSERT_TRUE(client.Run(variant, n, &ticks, &result, &error)) << variant << ": " << error;
      EXPECT_EQ(result, static_cast<uint64_t>(client.pid())) << variant << " n=" << n;
    }
  }
}

TEST_P(RuntimeHelper, TheCallBaselineReturnsItsConstantAndZeroCallsReturnZero) {
  RuntimeClient client(GetParam().runtime, kDir);
  if (!client.ok()) GTEST_SKIP() << client.error();
  uint64_t ticks = 0, result = 0;
  std::string error;
  ASSERT_TRUE(client.Run("call", 10, &ticks, &result, &error)) << error;
  EXPECT_EQ(result, kRuntimeDummyId);
  ASSERT_TRUE(client.Run("call", 0, &ticks, &result, &error)) << error;
  EXPECT_EQ(result, 0u);
}

// The counting pass attaches to this thread: it must be one of the helper's.
TEST_P(RuntimeHelper, TheCountedThreadBelongsToTheHelper) {
  RuntimeClient client(GetParam().runtime, kDir);
  if (!client.ok()) GTEST_SKIP() << client.error();
  ASSERT_GT(client.tid(), 0);
  const std::string task =
      "/proc/" + std::to_string(client.pid()) + "/task/" + std::to_string(client.tid());
  EXPECT_TRUE(std::filesystem::exists(task)) << task;
  EXPECT_FALSE(client.version().empty());
}

TEST_P(RuntimeHelper, PerCallGivesAtMostTheSamplesAskedFor) {
  RuntimeClient client(GetParam().runtime, kDir);
  if (!client.ok()) GTEST_SKIP() << client.error();
  std::vector<uint64_t> samples;
  std::string error;
  ASSERT_TRUE(client.PerCall(GetParam().getpid_variants.front(), 20, 0, &samples, &error)) << error;
  EXPECT_EQ(samples.size(), 20u);
}

TEST_P(RuntimeHelper, AnUnknownVariantIsAnErrorAndTheHelperLivesOn) {
  RuntimeClient client(GetParam().runtime, kDir);
  if (!client.ok()) GTEST_SKIP() << client.error();
  uint64_t ticks = 0, result = 0;
  std::string error;
  EXPECT_FALSE(client.Run("no_such_variant", 1, &ticks, &result, &error));
  EXPECT_THAT(error, HasSubstr("unknown variant"));
  EXPECT_TRUE(client.Probe("no_such_variant").has_value());
  ASSERT_TRUE(client.Run("call", 1, &ticks, &result, &error)) << error;
  EXPECT_EQ(result, kRuntimeDummyId);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, RuntimeHelper, ::testing::ValuesIn(kCases),
                         [](const auto& info) {
                           return std::string(RuntimeName(info.param.runtime));
                         });

// A machine without the toolchains: the reason names the package to install.
TEST(RuntimeCommand, WithoutGoTheReasonIsTheInstallCommand) {
  ScopedEnv path("PATH", "/nonexistent");
  std::string why;
  EXPECT_EQ(RuntimeCommand(Runtime::kGo, "/nonexistent", &why), std::nullopt);
  EXPECT_EQ(why, "Go toolchain not installed: apt-get install golang-go (then rebuild)");
}

TEST(RuntimeCommand, WithoutJavaTheReasonIsTheInstallCommand) {
  ScopedEnv path("PATH", "/nonexistent");
  ScopedEnv java(kJavaEnv, nullptr);
  std::string why;
  EXPECT_EQ(RuntimeCommand(Runtime::kJava, kDir, &why), std::nullopt);
  EXPECT_EQ(why, "Java runtime not installed: apt-get install default-jdk-headless");
}

TEST(RuntimeCommand, WithoutPythonTheReasonIsTheInstallCommand) {
  ScopedEnv python(kPythonEnv, "/nonexistent/python3");
  std::string why;
  EXPECT_EQ(RuntimeCommand(Runtime::kPython, kDir, &why), std::nullopt);
  EXPECT_THAT(why, HasSubstr("apt-get install python3"));
}

TEST(RuntimeCommand, AHelperThatWasNotBuiltSaysSo) {
  const char* go = "/usr/bin/go";
  if (access(go, X_OK) != 0) GTEST_SKIP() << "no Go toolchain here";
  ScopedEnv path("PATH", "/usr/bin");
  std::string why;
  EXPECT_EQ(RuntimeCommand(Runtime::kGo, "/nonexistent", &why), std::nullopt);
  EXPECT_THAT(why, HasSubstr("the Go helper was not built"));
}

TEST(RuntimeClient, AMissingToolchainIsAReasonAndEveryCallFailsWithIt) {
  ScopedEnv path("PATH", "/nonexistent");
  RuntimeClient client(Runtime::kGo, "/nonexistent");
  EXPECT_FALSE(client.ok());
  EXPECT_EQ(client.pid(), -1);
  EXPECT_EQ(client.Probe("os"), client.error());
  uint64_t ticks = 0, result = 0;
  std::string error;
  EXPECT_FALSE(client.Run("os", 1, &ticks, &result, &error));
  EXPECT_EQ(error, client.error());
}

// Each getpid row of a runtime is divided by that runtime's own call baseline.
TEST(RuntimePaths, EachGetpidRowIsComparedWithItsRuntimesCallBaseline) {
  const std::pair<const char*, const char*> kRows[] = {
      {"getpid/go_os", "baseline/go_call"},
      {"getpid/go_syscall", "baseline/go_call"},
      {"getpid/go_rawsyscall", "baseline/go_call"},
      {"getpid/java_processhandle", "baseline/java_call"},
      {"getpid/python_os", "baseline/python_call"},
  };
  for (const auto& [name, baseline] : kRows) {
    const Path* path = FindPath(name);
    ASSERT_NE(path, nullptr) << name;
    EXPECT_EQ(path->baseline, baseline) << name;
    EXPECT_EQ(path->mechanism, Mechanism::kRuntime) << name;
    EXPECT_NE(path->timed, nullptr) << name;
    EXPECT_NE(FindPath(baseline), nullptr) << baseline;
  }
}

// The counting pass counts a runtime's rows on its helper's loop thread, the helper's own
// request subtracted: the Go rows enter the kernel once per call (syscall.Getpid,
// Syscall and RawSyscall all execute SYSCALL), the plain Go call never. No timing.
TEST(RuntimeCounting, CountsTheGoRowsOnTheHelpersThread) {
  setenv(kRuntimesDirEnv, kDir.c_str(), 1);  // before the first RuntimeClient::Shared
  RuntimeClient& go = RuntimeClient::Shared(Runtime::kGo);
  if (!go.ok()) GTEST_SKIP() << go.error();
  PerfPermissions perms = ReadPerfPermissions();
  EventEncoder encoder;
  std::string error;
  auto plan = ParseCounterList("kernel_entries", encoder, perms, &error);
  ASSERT_TRUE(plan) << error;
  if (plan->counters.empty()) GTEST_SKIP() << "kernel_entries cannot be counted here";
  std::vector<const Path*> paths;
  for (const char* name :
       {"baseline/go_call", "getpid/go_os", "getpid/go_syscall", "getpid/go_rawsyscall"}) {
    paths.push_back(FindPath(name));
    ASSERT_NE(paths.back(), nullptr) << name;
  }
  // No ia32 helper pid: the runtime rows must not need it.
  CountingResult result = RunCountingPass(paths, *plan, encoder, perms, 2.0e9, 0.002, -1);
  EXPECT_EQ(CountPerfEventFds("/proc", getpid()), 0) << "every perf fd closed";
  for (const Path* path : paths) {
    SCOPED_TRACE(std::string(path->name));
    auto it = result.by_path.find(path->name);
    if (it == result.by_path.end()) {
      GTEST_SKIP() << "not counted here: " << testing::PrintToString(result.context);
    }
    std::optional<double> entries;
    for (const auto& [column, value] : it->second.per_call) {
      if (column == "kernel_entries") entries = value;
    }
    // Without tracefs the plan opens but the pass records no kernel_entries column.
    if (!entries) {
      GTEST_SKIP() << "kernel_entries not counted here: " << testing::PrintToString(result.context);
    }
    if (path->family() == "baseline") {
      EXPECT_LT(*entries, 0.05);
    } else {
      EXPECT_GE(*entries, 0.9);
      EXPECT_LE(*entries, 1.5);
    }
  }
}

}  // namespace
}  // namespace sysgate
