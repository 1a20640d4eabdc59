#include "harness/platform/vdso.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sysgate {
namespace {

// include/uapi/linux/random.h (6.11+); Debian's kernel headers may predate it.
struct VgetrandomOpaqueParams {
  uint32_t size_of_opaque_state;
  uint32_t mmap_prot;
  uint32_t mmap_flags;
  uint32_t reserved[13];
};

Vdso OpenProcessVdso() {
  // The vDSO is in glibc's link map under its soname; RTLD_NOLOAD never loads anything.
  void* handle = dlopen(kVdsoSoname, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Vdso(nullptr, std::string("no vDSO in this process: ") +
                             (why ? why : "dlopen(linux-vdso.so.1, RTLD_NOLOAD) failed") +
                             " (booted with vdso=0?)");
  }
  return Vdso(handle, "");
}

}  // namespace

const Vdso& Vdso::Process() {
  static const Vdso vdso = OpenProcessVdso();
  return vdso;
}

void* Vdso::Find(std::string_view name) const {
  if (handle_ == nullptr) return nullptr;
  return dlvsym(handle_, std::string(name).c_str(), kVdsoVersion);
}

std::optional<std::string> Vdso::MissingReason(std::string_view name,
                                               std::string_view needs) const {
  if (!present()) return error_;
  if (Find(name) != nullptr) return std::nullopt;
  std::string reason = "kernel's vDSO exports no " + std::string(name);
  if (!needs.empty()) reason += " (needs " + std::string(needs) + ")";
  return reason;
}

std::vector<std::string> Vdso::Symbols() const {
  std::vector<std::string> out;
  for (std::string_view name : kKnownVdsoSymbols) {
    if (Find(name) != nullptr) out.emplace_back(name);
  }
  return out;
}

std::string VdsoSymbolsString(const Vdso& vdso) {
  if (!vdso.present()) return "none (" + vdso.error() + ")";
  std::string out;
  for (const std::string& name : vdso.Symbols()) out += (out.empty() ? "" : " ") + name;
  return out.empty() ? "none" : out;
}

std::string VdsoClockModeFor(std::string_view clocksource) {
  if (clocksource == "tsc" || clocksource == "tsc-early") return "tsc";
  if (clocksource == "kvm-clock" || clocksource == "xen") return "pvclock";
  if (clocksource == "hyperv_clocksource_tsc_page") return "hvclock";
  if (clocksource == "hpet" || clocksource == "acpi_pm" || clocksource == "jiffies" ||
      clocksource == "refined-jiffies" || clocksource == "pit") {
    return "none";
  }
  return "unknown";
}

VgetrandomState::VgetrandomState(Fn fn) : fn_(fn) {
  if (fn_ == nullptr) {
    error_ = "kernel has no vDSO getrandom (needs 6.11+)";
    return;
  }
  VgetrandomOpaqueParams params{};
  // buffer = NULL, len = 0, flags = 0, opaque_len = ~0UL: the vDSO fills in the params.
  if (fn_(nullptr, 0, 0, &params, ~0UL) != 0 || params.size_of_opaque_state == 0) {
    error_ = "__vdso_getrandom did not report its state parameters";
    return;
  }
  state_size_ = params.size_of_opaque_state;
  mmap_prot_ = params.mmap_prot;
  mmap_flags_ = params.mmap_flags;
  // One page (or more) per state: the vDSO refuses a state that crosses a page boundary
  // and then silently takes the syscall.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  mapping_len_ = (state_size_ + page - 1) / page * page;
  void* p = mmap(nullptr, mapping_len_, static_cast<int>(mmap_prot_), static_cast<int>(mmap_flags_),
                 -1, 0);
  if (p == MAP_FAILED) {
    char what[96];
    std::snprintf(what, sizeof what, "mmap(%zu, prot 0x%x, flags 0x%x) for the state", mapping_len_,
                  mmap_prot_, mmap_flags_);
    error_ = std::string(what) + " of __vdso_getrandom failed: " + std::strerror(errno);
    mapping_len_ = 0;
    return;
  }
  mapping_ = p;
  state_ = p;
}

VgetrandomState::~VgetrandomState() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_len_);
}

}  // namespace sysgate
