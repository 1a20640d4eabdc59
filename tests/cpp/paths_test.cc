#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/paths.h"
#include "harness/probe.h"

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
    EXPECT_FALSE(path.mechanism.empty());
    EXPECT_NE(FindPath(path.baseline), nullptr) << "baseline " << path.baseline;
    EXPECT_TRUE(path.loop || path.timed) << "a path needs a loop or a timed runner";
  }
}

TEST(Paths, TheCoreSetIsPresent) {
  for (const char* name :
       {"baseline/empty_loop", "baseline/call", "getpid/glibc", "getpid/glibc_syscall",
        "getpid/syscall", "getpid/syscall_fn", "getpid/int80", "getppid/syscall", "lmbench/read", "lmbench/write",
        "lmbench/fstat", "lmbench/stat", "lmbench/open_close", "lmbench/close_ebadf"}) {
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
