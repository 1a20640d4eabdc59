#include "harness/paths/lmbench_loops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "benchmark/benchmark.h"
#include "harness/platform/check.h"

namespace sysgate {
namespace {

constexpr char kStatPath[] = "/dev/null";

// The lmbench rows' files; their probe (ProbeDevFiles) opens them before anything runs.
int OpenDevice(const char* path, int flags) {
  int fd = open(path, flags | O_CLOEXEC);
  SYSGATE_CHECK(fd >= 0);
  return fd;
}

}  // namespace

uint64_t GlibcGetpidLoop(uint64_t iterations, uint64_t) {
  pid_t pid = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    pid = getpid();
    benchmark::DoNotOptimize(pid);
  }
  return static_cast<uint64_t>(pid);
}

uint64_t GlibcSyscallGetpidLoop(uint64_t iterations, uint64_t) {
  long pid = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    pid = syscall(SYS_getpid);
    benchmark::DoNotOptimize(pid);
  }
  return static_cast<uint64_t>(pid);
}

uint64_t ReadZeroLoop(uint64_t iterations, uint64_t fd) {
  char byte;
  ssize_t n = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    n = read(static_cast<int>(fd), &byte, 1);
    benchmark::DoNotOptimize(byte);
  }
  return static_cast<uint64_t>(n);
}

uint64_t WriteNullLoop(uint64_t iterations, uint64_t fd) {
  const char byte = 'x';
  ssize_t n = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    n = write(static_cast<int>(fd), &byte, 1);
    benchmark::DoNotOptimize(n);
  }
  return static_cast<uint64_t>(n);
}

uint64_t FstatLoop(uint64_t iterations, uint64_t fd) {
  struct stat st;
  int r = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    r = fstat(static_cast<int>(fd), &st);
    benchmark::DoNotOptimize(st);
  }
  return static_cast<uint64_t>(r);
}

uint64_t StatLoop(uint64_t iterations, uint64_t) {
  struct stat st;
  int r = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    r = stat(kStatPath, &st);
    benchmark::DoNotOptimize(st);
  }
  return static_cast<uint64_t>(r);
}

uint64_t OpenCloseLoop(uint64_t iterations, uint64_t) {
  int r = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    int fd = open(kStatPath, O_RDONLY);
    r = fd < 0 ? -errno : close(fd);
  }
  return static_cast<uint64_t>(r);
}

uint64_t CloseEbadfLoop(uint64_t iterations, uint64_t) {
  int err = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    // -1 is never a valid descriptor: the kernel's close() fails fast with EBADF after a
    // full entry and exit, the cheapest "real" syscall with a file-table lookup.
    err = close(-1) < 0 ? errno : 0;
  }
  return static_cast<uint64_t>(err);
}

std::optional<std::string> ProbeDevFiles() {
  for (auto [path, flags] : {std::pair{"/dev/zero", O_RDONLY}, std::pair{"/dev/null", O_WRONLY}}) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) return "cannot open " + std::string(path) + ": " + std::strerror(errno);
    close(fd);
  }
  return std::nullopt;
}

uint64_t DevZeroFd() {
  static const int fd = OpenDevice("/dev/zero", O_RDONLY);
  return static_cast<uint64_t>(fd);
}

uint64_t DevNullFd() {
  static const int fd = OpenDevice("/dev/null", O_WRONLY);
  return static_cast<uint64_t>(fd);
}

}  // namespace sysgate
