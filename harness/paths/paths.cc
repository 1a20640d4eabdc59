#include "harness/paths/paths.h"

#include <errno.h>

#include <algorithm>

#include "harness/output/json_text.h"
#include "harness/paths/ia32_paths.h"
#include "harness/paths/indirect_paths.h"
#include "harness/paths/io_uring_paths.h"
#include "harness/paths/lmbench_loops.h"
#include "harness/paths/lmbench_raw_paths.h"
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
  constexpr std::string_view kPpid = "getppid/syscall";  // lmbench's lat_syscall null
  return {
    {.name = "baseline/empty_loop",  .mechanism = M::kLoop,    .expected_entries = 0, .loop = sysgate_empty_loop,                                          .expect = ExpectZero,                         .baseline = kLoopBaseline},
    {.name = "baseline/call",        .mechanism = M::kCall,    .expected_entries = 0, .loop = sysgate_call_loop,                                           .expect = ExpectDummy,                        .baseline = kLoopBaseline},
    {.name = "getpid/glibc",         .mechanism = M::kGlibc,   .expected_entries = 1, .loop = GlibcGetpidLoop,                                             .expect = ExpectPid},
    {.name = "getpid/glibc_syscall", .mechanism = M::kGlibc,   .expected_entries = 1, .loop = GlibcSyscallGetpidLoop,                                      .expect = ExpectPid},
    {.name = "getpid/syscall",       .mechanism = M::kSyscall, .expected_entries = 1, .loop = sysgate_syscall_getpid_loop,                                 .expect = ExpectPid},
    {.name = "getpid/syscall_fn",    .mechanism = M::kSyscall, .expected_entries = 1, .loop = sysgate_syscall_getpid_call_loop, .peer = "getpid/syscall",  .expect = ExpectPid},
    {.name = "getpid/int80",         .mechanism = M::kInt80,   .expected_entries = 1, .loop = sysgate_int80_getpid_loop,        .peer = "getpid/syscall",  .expect = ExpectPid,   .probe = ProbeInt80},
    {.name = "getppid/syscall",      .mechanism = M::kSyscall, .expected_entries = 1, .loop = sysgate_syscall_getppid_loop,                                .expect = ExpectPpid},
    {.name = "lmbench/read",         .mechanism = M::kGlibc,   .expected_entries = 1, .loop = ReadZeroLoop,                     .peer = kPpid, .arg = DevZeroFd, .expect = ExpectOne,   .probe = ProbeDevFiles},
    {.name = "lmbench/write",        .mechanism = M::kGlibc,   .expected_entries = 1, .loop = WriteNullLoop,                    .peer = kPpid, .arg = DevNullFd, .expect = ExpectOne,   .probe = ProbeDevFiles},
    {.name = "lmbench/fstat",        .mechanism = M::kGlibc,   .expected_entries = 1, .loop = FstatLoop,                        .peer = kPpid, .arg = DevNullFd, .expect = ExpectZero,  .probe = ProbeDevFiles},
    {.name = "lmbench/stat",         .mechanism = M::kGlibc,   .expected_entries = 1, .loop = StatLoop,                         .peer = kPpid,                   .expect = ExpectZero},
    {.name = "lmbench/open_close",   .mechanism = M::kGlibc,   .expected_entries = 2, .loop = OpenCloseLoop,                    .peer = kPpid,                   .expect = ExpectZero},
    {.name = "lmbench/close_ebadf",  .mechanism = M::kGlibc,   .expected_entries = 1, .loop = CloseEbadfLoop,                   .peer = kPpid,                   .expect = ExpectEbadf},
  };
}
// clang-format on

std::vector<Path> BuildTable() {
  std::vector<Path> all = CorePaths();
  for (Path& path : LmbenchRawPaths()) all.push_back(path);
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
