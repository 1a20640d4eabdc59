#include "harness/paths/lmbench_raw_paths.h"

#include <sys/stat.h>

#include "harness/paths/lmbench_loops.h"
#include "harness/paths/stubs.h"

namespace sysgate {
namespace {

uint64_t ExpectZero() { return 0; }
uint64_t ExpectOne() { return 1; }

uint64_t ArgOf(RawIoArgs* args) { return reinterpret_cast<uint64_t>(args); }

}  // namespace

uint64_t RawReadZeroArg() {
  static char byte;
  static RawIoArgs args{DevZeroFd(), &byte};
  return ArgOf(&args);
}

uint64_t RawWriteNullArg() {
  static char byte = 'x';
  static RawIoArgs args{DevNullFd(), &byte};
  return ArgOf(&args);
}

uint64_t RawFstatNullArg() {
  static struct stat st;
  static RawIoArgs args{DevNullFd(), &st};
  return ArgOf(&args);
}

// clang-format off
std::vector<Path> LmbenchRawPaths() {
  using M = Mechanism;
  return {
    {.name = "lmbench/read_raw",  .mechanism = M::kSyscall, .expected_entries = 1, .loop = sysgate_syscall_read_loop,  .peer = "lmbench/read",  .arg = RawReadZeroArg,  .expect = ExpectOne,  .probe = ProbeDevFiles},
    {.name = "lmbench/write_raw", .mechanism = M::kSyscall, .expected_entries = 1, .loop = sysgate_syscall_write_loop, .peer = "lmbench/write", .arg = RawWriteNullArg, .expect = ExpectOne,  .probe = ProbeDevFiles},
    {.name = "lmbench/fstat_raw", .mechanism = M::kSyscall, .expected_entries = 1, .loop = sysgate_syscall_fstat_loop, .peer = "lmbench/fstat", .arg = RawFstatNullArg, .expect = ExpectZero, .probe = ProbeDevFiles},
  };
}
// clang-format on

}  // namespace sysgate
