#include "harness/paths.h"

#include <errno.h>
#include <unistd.h>

#include "harness/ia32_paths.h"
#include "harness/lmbench_loops.h"
#include "harness/probe.h"
#include "harness/runtime_paths.h"
#include "harness/vdso_paths.h"

namespace sysgate {
namespace {

uint64_t ExpectZero() { return 0; }
uint64_t ExpectOne() { return 1; }
uint64_t ExpectDummy() { return kSysgateDummyId; }
uint64_t ExpectEbadf() { return EBADF; }

// int 0x80 from 64-bit code faults (SIGSEGV) when the kernel has no ia32 emulation
// (CONFIG_IA32_EMULATION=n, or ia32_emulation=off on 6.7+): try it in a child first.
std::optional<std::string> ProbeInt80() {
  auto reason = ProbeInChild([] { return sysgate_int80_getpid_loop(1, 0) == ExpectPid(); });
  if (!reason) return std::nullopt;
  return "int 0x80 from 64-bit code failed (" + *reason +
         "): kernel without ia32 emulation (CONFIG_IA32_EMULATION, ia32_emulation=off)?";
}

// clang-format off
std::vector<Path> CorePaths() {
  return {
    // name                  mechanism  loop                              baseline               arg        expect       probe
    {"baseline/empty_loop",  "loop",    sysgate_empty_loop,               "baseline/empty_loop", nullptr,   ExpectZero},
    {"baseline/call",        "call",    sysgate_call_loop,                "baseline/empty_loop", nullptr,   ExpectDummy},
    {"getpid/glibc",         "glibc",   GlibcGetpidLoop,                  "baseline/call",       nullptr,   ExpectPid},
    {"getpid/glibc_syscall", "glibc",   GlibcSyscallGetpidLoop,           "baseline/call",       nullptr,   ExpectPid},
    {"getpid/syscall",       "syscall", sysgate_syscall_getpid_loop,      "baseline/call",       nullptr,   ExpectPid},
    {"getpid/syscall_fn",    "syscall", sysgate_syscall_getpid_call_loop, "getpid/syscall",      nullptr,   ExpectPid},
    {"getpid/int80",         "int80",   sysgate_int80_getpid_loop,        "getpid/syscall",      nullptr,   ExpectPid,   ProbeInt80},
    {"getppid/syscall",      "syscall", sysgate_syscall_getppid_loop,     "baseline/call",       nullptr,   ExpectPpid},
    {"lmbench/read",         "glibc",   ReadZeroLoop,                     "getppid/syscall",     DevZeroFd, ExpectOne},
    {"lmbench/write",        "glibc",   WriteNullLoop,                    "getppid/syscall",     DevNullFd, ExpectOne},
    {"lmbench/fstat",        "glibc",   FstatLoop,                        "getppid/syscall",     DevNullFd, ExpectZero},
    {"lmbench/stat",         "glibc",   StatLoop,                         "getppid/syscall",     nullptr,   ExpectZero},
    {"lmbench/open_close",   "glibc",   OpenCloseLoop,                    "getppid/syscall",     nullptr,   ExpectZero},
    {"lmbench/close_ebadf",  "glibc",   CloseEbadfLoop,                   "getppid/syscall",     nullptr,   ExpectEbadf},
  };
}
// clang-format on

std::vector<Path> BuildTable() {
  std::vector<Path> all = CorePaths();
  for (Path& path : VdsoPaths()) all.push_back(path);
  for (Path& path : Ia32Paths()) all.push_back(path);
  for (Path& path : RuntimePaths()) all.push_back(path);
  return all;
}

}  // namespace

uint64_t ExpectPid() { return static_cast<uint64_t>(getpid()); }
uint64_t ExpectPpid() { return static_cast<uint64_t>(getppid()); }

const std::vector<Path>& AllPaths() {
  static const std::vector<Path> table = BuildTable();
  return table;
}

const Path* FindPath(std::string_view name) {
  for (const Path& path : AllPaths()) {
    if (path.name == name) return &path;
  }
  return nullptr;
}

}  // namespace sysgate
