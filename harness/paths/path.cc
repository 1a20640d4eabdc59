#include "harness/paths/path.h"

#include <unistd.h>

#include <cstdio>
#include <iterator>

namespace sysgate {

// In the order of the enum (harness/paths/path.h), one vocabulary with load.MECHANISMS.
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

std::string EntriesText(double entries) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", entries);
  return text;
}

std::string PathLabel(const Path& path) {
  std::string label = "mechanism=" + std::string(MechanismName(path.mechanism));
  label += " abi=" + std::string(AbiName(path.abi));
  label += " family=" + std::string(path.family());
  label += " variant=" + std::string(path.variant());
  label += " baseline=" + std::string(path.baseline);
  if (!path.peer.empty()) label += " peer=" + std::string(path.peer);
  if (path.expected_entries_known()) {
    label += " expected_entries=" + EntriesText(path.expected_entries);
  }
  return label;
}

uint64_t ExpectPid() { return static_cast<uint64_t>(getpid()); }
uint64_t ExpectPpid() { return static_cast<uint64_t>(getppid()); }

}  // namespace sysgate
