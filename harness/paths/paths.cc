#include "harness/paths.h"

#include <errno.h>
#include <unistd.h>

#include <cstdio>
#include <iterator>

#include "harness/ia32_paths.h"
#include "harness/indirect_paths.h"
#include "harness/io_uring_paths.h"
#include "harness/json_text.h"
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
  }
  return all;
}

// A number as the results file writes it: integers without a fraction.
std::string FormatEntries(double entries) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", entries);
  return text;
}

std::string JsonString(std::string_view text) { return '"' + JsonEscape(text) + '"'; }

}  // namespace

// In the order of the enum (harness/paths.h), one vocabulary with load.MECHANISMS.
constexpr std::string_view kMechanismNames[] = {
    "loop",     "call", "glibc",         "syscall",  "int80",
    "sysenter", "vdso", "vsyscall_page", "io_uring", "runtime",
};
static_assert(std::size(kMechanismNames) == static_cast<size_t>(Mechanism::kRuntime) + 1,
              "a name for every Mechanism");

std::string_view MechanismName(Mechanism mechanism) {
  const auto i = static_cast<size_t>(mechanism);
  return i < std::size(kMechanismNames) ? kMechanismNames[i] : "unknown";
}

std::string_view AbiName(Abi abi) { return abi == Abi::kIa32 ? "ia32" : "x86_64"; }

// Weak: a test build links a strong definition that adds a throwaway row.
__attribute__((weak)) std::vector<Path> ExtraPaths() { return {}; }

std::string PathLabel(const Path& path) {
  std::string label = "mechanism=" + std::string(MechanismName(path.mechanism));
  label += " abi=" + std::string(AbiName(path.abi));
  label += " family=" + std::string(path.family());
  label += " variant=" + std::string(path.variant());
  label += " baseline=" + std::string(path.baseline);
  if (!path.peer.empty()) label += " peer=" + std::string(path.peer);
  if (path.expected_entries_known()) {
    label += " expected_entries=" + FormatEntries(path.expected_entries);
  }
  return label;
}

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
           (p.expected_entries_known() ? FormatEntries(p.expected_entries) : "null");
    out += ", \"status\": " + JsonString(i < statuses.size() ? statuses[i] : "unknown");
    out += "}";
  }
  return out + "\n]\n";
}

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
