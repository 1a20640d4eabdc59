#include "harness/paths/paths.h"

#include <errno.h>

#include <algorithm>

#include "harness/output/json_text.h"
#include "harness/paths/ia32_paths.h"
#include "harness/paths/indirect_paths.h"
#include "harness/paths/io_uring_paths.h"
#include "harness/paths/lmbench_loops.h"
#include "harness/paths/runtime_paths.h"
#include "harness/paths/vdso_paths.h"
#include "harness/platform/check.h"
#include "harness/platform/probe.h"

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
  using M = Mechanism;
  return {
    // name                  mechanism    entries loop                              peer               arg        expect       probe
    {"baseline/empty_loop",  M::kLoop,    0,      sysgate_empty_loop,               "",                nullptr,   ExpectZero,  nullptr, nullptr, nullptr, Abi::kX86_64, kLoopBaseline},
    {"baseline/call",        M::kCall,    0,      sysgate_call_loop,                "",                nullptr,   ExpectDummy, nullptr, nullptr, nullptr, Abi::kX86_64, kLoopBaseline},
    {"getpid/glibc",         M::kGlibc,   1,      GlibcGetpidLoop,                  "",                nullptr,   ExpectPid},
    {"getpid/glibc_syscall", M::kGlibc,   1,      GlibcSyscallGetpidLoop,           "",                nullptr,   ExpectPid},
    {"getpid/syscall",       M::kSyscall, 1,      sysgate_syscall_getpid_loop,      "",                nullptr,   ExpectPid},
    {"getpid/syscall_fn",    M::kSyscall, 1,      sysgate_syscall_getpid_call_loop, "getpid/syscall",  nullptr,   ExpectPid},
    {"getpid/int80",         M::kInt80,   1,      sysgate_int80_getpid_loop,        "getpid/syscall",  nullptr,   ExpectPid,   ProbeInt80},
    {"getppid/syscall",      M::kSyscall, 1,      sysgate_syscall_getppid_loop,     "",                nullptr,   ExpectPpid},
    {"lmbench/read",         M::kGlibc,   1,      ReadZeroLoop,                     "getppid/syscall", DevZeroFd, ExpectOne},
    {"lmbench/write",        M::kGlibc,   1,      WriteNullLoop,                    "getppid/syscall", DevNullFd, ExpectOne},
    {"lmbench/fstat",        M::kGlibc,   1,      FstatLoop,                        "getppid/syscall", DevNullFd, ExpectZero},
    {"lmbench/stat",         M::kGlibc,   1,      StatLoop,                         "getppid/syscall", nullptr,   ExpectZero},
    {"lmbench/open_close",   M::kGlibc,   2,      OpenCloseLoop,                    "getppid/syscall", nullptr,   ExpectZero},
    {"lmbench/close_ebadf",  M::kGlibc,   1,      CloseEbadfLoop,                   "getppid/syscall", nullptr,   ExpectEbadf},
  };
}
// clang-format on

std::vector<Path> BuildTable() {
  std::vector<Path> all = CorePaths();
  for (Path& path : VdsoPaths()) all.push_back(path);
  for (Path& path : Ia32Paths()) all.push_back(path);
  for (Path& path : IoUringPaths()) all.push_back(path);
  for (Path& path : IndirectPaths()) all.push_back(path);
  for (Path& path : RuntimePaths()) all.push_back(path);
  for (Path& path : ExtraPaths()) all.push_back(path);
  for (Path& path : all) {
    if (path.baseline.empty()) {
      path.baseline = path.abi == Abi::kIa32 ? kIa32CallBaseline : kCallBaseline;
    }
    if (path.probe_from_peer) {
      auto peer =
          std::find_if(all.begin(), all.end(), [&](const Path& p) { return p.name == path.peer; });
      SYSGATE_CHECK(peer != all.end() && !peer->probe_from_peer);
      path.probe = peer->probe;
    }
  }
  return all;
}

std::string JsonString(std::string_view text) { return '"' + JsonEscape(text) + '"'; }

}  // namespace

// Weak: a test build links a strong definition that adds a throwaway row.
__attribute__((weak)) std::vector<Path> ExtraPaths() { return {}; }

std::string PathsJson(const std::vector<std::string>& statuses) {
  std::string out = "[";
  const std::vector<Path>& all = AllPaths();
  for (size_t i = 0; i < all.size(); ++i) {
    const Path& p = all[i];
    out += i ? ",\n  {" : "\n  {";
    out += "\"name\": " + JsonString(p.name);
    out += ", \"family\": " + JsonString(p.family());
    out += ", \"variant\": " + JsonString(p.variant());
    out += ", \"mechanism\": " + JsonString(MechanismName(p.mechanism));
    out += ", \"abi\": " + JsonString(AbiName(p.abi));
    out += ", \"baseline\": " + JsonString(p.baseline);
    out += ", \"peer\": " + (p.peer.empty() ? std::string("null") : JsonString(p.peer));
    out += ", \"expected_entries\": " +
           (p.expected_entries_known() ? EntriesText(p.expected_entries) : "null");
    out += ", \"status\": " + JsonString(i < statuses.size() ? statuses[i] : "unknown");
    out += "}";
  }
  return out + "\n]\n";
}

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
