#include "harness/paths/paths.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/platform/probe.h"

namespace sysgate {
namespace {

TEST(Paths, NamesAreUniqueFamilySlashVariantAndBaselinesExist) {
  std::set<std::string_view> names;
  for (const Path& path : AllPaths()) {
    SCOPED_TRACE(std::string(path.name));
    EXPECT_TRUE(names.insert(path.name).second) << "duplicate name";
    size_t slash = path.name.find('/');
    ASSERT_NE(slash, std::string_view::npos);
    EXPECT_GT(slash, 0u);
    EXPECT_LT(slash + 1, path.name.size());
    EXPECT_NE(MechanismName(path.mechanism), "unknown");
    EXPECT_EQ(path.family(), path.name.substr(0, slash));
    EXPECT_EQ(path.variant(), path.name.substr(slash + 1));
    const Path* baseline = FindPath(path.baseline);
    ASSERT_NE(baseline, nullptr) << "baseline " << path.baseline;
    // Every ratio divides by a plain-call row of the same ABI (or the empty loop).
    EXPECT_TRUE(baseline->mechanism == Mechanism::kCall || baseline->mechanism == Mechanism::kLoop);
    if (baseline->mechanism == Mechanism::kCall) EXPECT_EQ(baseline->abi, path.abi);
    if (!path.peer.empty()) EXPECT_NE(FindPath(path.peer), nullptr) << "peer " << path.peer;
    if (path.expected_entries_known()) EXPECT_GE(path.expected_entries, 0);
    if (path.mechanism == Mechanism::kCall || path.mechanism == Mechanism::kLoop) {
      EXPECT_EQ(path.expected_entries, 0) << "baselines never enter the kernel";
    }
    EXPECT_TRUE(path.loop || path.timed) << "a path needs a loop or a timed runner";
  }
}

TEST(Paths, TheLabelAndTheJsonCarryEveryFact) {
  const Path* row = FindPath("lmbench/open_close");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(PathLabel(*row),
            "mechanism=glibc abi=x86_64 family=lmbench variant=open_close "
            "baseline=baseline/call peer=getppid/syscall expected_entries=2");
  const std::string json = PathsJson(std::vector<std::string>(AllPaths().size(), "available"));
  EXPECT_NE(json.find("{\"name\": \"getpid/ia32_vdso\", \"family\": \"getpid\", "
                      "\"variant\": \"ia32_vdso\", \"mechanism\": \"vdso\", \"abi\": \"ia32\", "
                      "\"baseline\": \"baseline/ia32_call\", \"peer\": null, "
                      "\"expected_entries\": 1, \"status\": \"available\"}"),
            std::string::npos)
      << json;
}

TEST(Paths, TheCoreSetIsPresent) {
  for (const char* name :
       {"baseline/empty_loop", "baseline/call", "getpid/glibc", "getpid/glibc_syscall",
        "getpid/syscall", "getpid/syscall_fn", "getpid/int80", "getppid/syscall", "lmbench/read",
        "lmbench/write", "lmbench/fstat", "lmbench/stat", "lmbench/open_close",
        "lmbench/close_ebadf"}) {
    EXPECT_NE(FindPath(name), nullptr) << name;
  }
}

TEST(Probe, ReportsTheSignalOfAFaultingPath) {
  auto reason = ProbeInChild([] {
    asm volatile("ud2");
    return true;
  });
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("SIGILL"), std::string::npos) << *reason;

  reason = ProbeInChild([] {
    volatile int* p = reinterpret_cast<int*>(16);
    return *p == 0;
  });
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("SIGSEGV"), std::string::npos) << *reason;
}

TEST(Probe, SuccessAndWrongResultAndTimeout) {
  EXPECT_FALSE(ProbeInChild([] { return true; }).has_value());
  EXPECT_EQ(ProbeInChild([] { return false; }).value_or(""), "wrong result");
  auto reason = ProbeInChild(
      [] {
        for (;;) pause();
        return true;
      },
      50);
  ASSERT_TRUE(reason.has_value());
  EXPECT_NE(reason->find("timed out"), std::string::npos) << *reason;
}

}  // namespace
}  // namespace sysgate
