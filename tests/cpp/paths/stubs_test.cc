// checkasm-style tests: every in-process path returns what libc says, and keeps the
// callee-saved registers the System V ABI promises its caller.
#include "harness/paths/stubs.h"

#include <unistd.h>

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "harness/paths/paths.h"

extern "C" uint64_t sysgate_checked_call(sysgate::LoopFn fn, uint64_t iterations, uint64_t arg,
                                         uint64_t* clobbered);

namespace sysgate {
namespace {

TEST(Stubs, BaselinesReturnTheirConstants) {
  EXPECT_EQ(sysgate_empty_loop(5, 1234), 1234u);
  EXPECT_EQ(sysgate_empty_loop(0, 77), 77u);
  EXPECT_EQ(sysgate_dummy_id(), kSysgateDummyId);
  EXPECT_EQ(sysgate_call_loop(5, 0), kSysgateDummyId);
  EXPECT_EQ(sysgate_call_loop(0, 0), 0u);
}

TEST(Stubs, SyscallStubsAgreeWithLibc) {
  EXPECT_EQ(sysgate_syscall_getpid_loop(3, 0), static_cast<uint64_t>(getpid()));
  EXPECT_EQ(sysgate_syscall_getppid_loop(3, 0), static_cast<uint64_t>(getppid()));
  EXPECT_EQ(sysgate_syscall_getpid_loop(0, 0), 0u);
}

// Every row of the table, run a few times, returns what its expect() says, and keeps
// rbx, rbp, r12-r15. Rows the machine cannot run are skipped by their probe, as in a run.
TEST(Stubs, EveryPathReturnsTheExpectedResultAndKeepsCalleeSavedRegisters) {
  for (const Path& path : AllPaths()) {
    SCOPED_TRACE(std::string(path.name));
    if (path.probe) {
      auto reason = path.probe();
      if (reason) {
        std::printf("[  INFO    ] %s skipped: %s\n", std::string(path.name).c_str(),
                    reason->c_str());
        continue;
      }
    }
    if (!path.loop) continue;  // measured out of process: tested with its helper
    const uint64_t arg = path.arg ? path.arg() : 0;
    uint64_t clobbered = ~0ull;
    uint64_t result = sysgate_checked_call(path.loop, 4, arg, &clobbered);
    EXPECT_EQ(clobbered, 0u) << "callee-saved registers changed (bit 0 rbx .. bit 5 r15)";
    if (path.expect) EXPECT_EQ(result, path.expect());
  }
}

TEST(Stubs, CheckedCallDetectsAClobber) {
  // A loop that clobbers rbx on purpose must be caught, or the test above proves nothing.
  uint64_t clobbered = 0;
  auto bad = [](uint64_t, uint64_t) -> uint64_t {
    asm volatile("xor %%ebx, %%ebx" ::: "memory");  // no clobber declared: deliberate
    return 0;
  };
  sysgate_checked_call(+bad, 1, 0, &clobbered);
  EXPECT_EQ(clobbered & 1u, 1u);
}

}  // namespace
}  // namespace sysgate
