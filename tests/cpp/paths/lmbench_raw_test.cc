// The raw lmbench stubs (asm/lmbench.asm), checkasm-style: each returns what the system
// call returns, fills the buffer it was given as libc would, and keeps the callee-saved
// registers (sysgate_checked_call, tests/cpp/checkasm.asm).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"
#include "harness/paths/lmbench_loops.h"
#include "harness/paths/lmbench_raw_paths.h"
#include "harness/paths/paths.h"
#include "harness/paths/stubs.h"

extern "C" uint64_t sysgate_checked_call(sysgate::LoopFn fn, uint64_t iterations, uint64_t arg,
                                         uint64_t* clobbered);

namespace sysgate {
namespace {

uint64_t ArgOf(RawIoArgs* args) { return reinterpret_cast<uint64_t>(args); }

TEST(LmbenchRaw, ReadReturnsOneAndReadsAZeroByte) {
  char byte = 'x';
  RawIoArgs args{DevZeroFd(), &byte};
  uint64_t clobbered = ~0ull;
  EXPECT_EQ(sysgate_checked_call(sysgate_syscall_read_loop, 5, ArgOf(&args), &clobbered), 1u);
  EXPECT_EQ(clobbered, 0u) << "callee-saved registers changed (bit 0 rbx .. bit 5 r15)";
  EXPECT_EQ(byte, '\0');  // /dev/zero
}

TEST(LmbenchRaw, WriteReturnsOne) {
  char byte = 'x';
  RawIoArgs args{DevNullFd(), &byte};
  uint64_t clobbered = ~0ull;
  EXPECT_EQ(sysgate_checked_call(sysgate_syscall_write_loop, 5, ArgOf(&args), &clobbered), 1u);
  EXPECT_EQ(clobbered, 0u);
}

TEST(LmbenchRaw, FstatReturnsZeroAndFillsTheStructAsLibcDoes) {
  struct stat raw;
  std::memset(&raw, 0xa5, sizeof raw);
  RawIoArgs args{DevNullFd(), &raw};
  uint64_t clobbered = ~0ull;
  EXPECT_EQ(sysgate_checked_call(sysgate_syscall_fstat_loop, 3, ArgOf(&args), &clobbered), 0u);
  EXPECT_EQ(clobbered, 0u);
  struct stat libc;
  ASSERT_EQ(fstat(static_cast<int>(DevNullFd()), &libc), 0) << std::strerror(errno);
  EXPECT_EQ(raw.st_rdev, libc.st_rdev);
  EXPECT_EQ(raw.st_ino, libc.st_ino);
  EXPECT_TRUE(S_ISCHR(raw.st_mode));
}

TEST(LmbenchRaw, ZeroIterationsReturnZeroAndMakeNoCall) {
  char byte = 'x';
  RawIoArgs args{DevZeroFd(), &byte};
  EXPECT_EQ(sysgate_syscall_read_loop(0, ArgOf(&args)), 0u);
  EXPECT_EQ(byte, 'x');
  EXPECT_EQ(sysgate_syscall_write_loop(0, ArgOf(&args)), 0u);
  EXPECT_EQ(sysgate_syscall_fstat_loop(0, ArgOf(&args)), 0u);
}

TEST(LmbenchRaw, AFailingCallReturnsTheNegativeErrno) {
  char byte = 0;
  RawIoArgs closed{static_cast<uint64_t>(-1), &byte};  // never a valid descriptor
  EXPECT_EQ(static_cast<int64_t>(sysgate_syscall_read_loop(1, ArgOf(&closed))), -EBADF);
  EXPECT_EQ(static_cast<int64_t>(sysgate_syscall_fstat_loop(1, ArgOf(&closed))), -EBADF);
}

TEST(LmbenchRaw, RowsSitBesideTheirGlibcRowsWithTheirFds) {
  for (const char* name : {"lmbench/read_raw", "lmbench/write_raw", "lmbench/fstat_raw"}) {
    SCOPED_TRACE(name);
    const Path* raw = FindPath(name);
    ASSERT_NE(raw, nullptr);
    EXPECT_EQ(raw->mechanism, Mechanism::kSyscall);
    EXPECT_EQ(raw->expected_entries, 1);
    const Path* glibc = FindPath(raw->peer);
    ASSERT_NE(glibc, nullptr) << "peer " << raw->peer;
    EXPECT_EQ(glibc->mechanism, Mechanism::kGlibc);
    EXPECT_EQ(raw->baseline, glibc->baseline);
    ASSERT_NE(raw->arg, nullptr);
    ASSERT_NE(glibc->arg, nullptr);
    EXPECT_EQ(reinterpret_cast<const RawIoArgs*>(raw->arg())->fd, glibc->arg());
    EXPECT_EQ(raw->loop(2, raw->arg()), raw->expect());
  }
}

}  // namespace
}  // namespace sysgate
