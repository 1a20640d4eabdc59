// The vDSO: the kernel's shared object in every process, whose functions answer some calls
// (clock_gettime, gettimeofday, time, getcpu, clock_getres, getrandom) without entering the
// kernel. Looked up through glibc, which has already loaded it: dlopen("linux-vdso.so.1",
// RTLD_NOLOAD) + dlvsym(name, "LINUX_2.6"). No ELF parsing here.
#ifndef SYSGATE_HARNESS_PLATFORM_VDSO_H_
#define SYSGATE_HARNESS_PLATFORM_VDSO_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysgate {

inline constexpr char kVdsoSoname[] = "linux-vdso.so.1";
// Every x86-64 vDSO symbol carries this version (arch/x86/entry/vdso/vdso.lds.S).
inline constexpr char kVdsoVersion[] = "LINUX_2.6";

// The x86-64 vDSO exports sysgate knows, in the order they are listed: the __vdso_*
// functions, then the weak aliases without the prefix. __vdso_getrandom since 6.11,
// __vdso_sgx_enter_enclave with CONFIG_X86_SGX.
inline constexpr std::array<std::string_view, 13> kKnownVdsoSymbols = {"__vdso_clock_gettime",
                                                                       "__vdso_gettimeofday",
                                                                       "__vdso_time",
                                                                       "__vdso_getcpu",
                                                                       "__vdso_clock_getres",
                                                                       "__vdso_getrandom",
                                                                       "__vdso_sgx_enter_enclave",
                                                                       "clock_gettime",
                                                                       "gettimeofday",
                                                                       "time",
                                                                       "getcpu",
                                                                       "clock_getres",
                                                                       "getrandom"};

// The process's vDSO as glibc sees it. Cheap to copy; the handle is never closed (the vDSO
// lives as long as the process).
class Vdso {
 public:
  // The vDSO of this process, looked up once.
  static const Vdso& Process();

  // A lookup over `handle` (a dlopen handle; nullptr: no vDSO, `error` says why). Tests
  // use it to look symbols up in another object through the same code.
  Vdso(void* handle, std::string error) : handle_(handle), error_(std::move(error)) {}

  bool present() const { return handle_ != nullptr; }
  // Why there is no vDSO ("" when there is one).
  const std::string& error() const { return error_; }

  // The address of `name`@LINUX_2.6, or nullptr.
  void* Find(std::string_view name) const;
  template <typename Fn>
  Fn FindFn(std::string_view name) const {
    return reinterpret_cast<Fn>(Find(name));
  }

  // nullopt when `name` is exported, otherwise the skip reason, e.g. "kernel's vDSO
  // exports no __vdso_getrandom (needs Linux 6.11+)". `needs` may be empty.
  std::optional<std::string> MissingReason(std::string_view name,
                                           std::string_view needs = "") const;

  // The names of kKnownVdsoSymbols this vDSO exports, in that order.
  std::vector<std::string> Symbols() const;

 private:
  void* handle_;
  std::string error_;
};

// The vDSO's exports as one space-separated string (the `vdso_symbols` context key), or
// "none (<why>)" when the process has no vDSO.
std::string VdsoSymbolsString(const Vdso& vdso);

// The vDSO clock mode the kernel gives `clocksource` (the `vdso_clock_mode` context key):
// "tsc", "pvclock", "hvclock", "none" (every vDSO clock call falls back to a syscall) or
// "unknown". Inferred from the clocksource's name (the mode itself lives in the kernel's
// vvar page, whose layout is not an ABI): tsc/tsc-early -> VDSO_CLOCKMODE_TSC
// (arch/x86/kernel/tsc.c), kvm-clock and xen -> VDSO_CLOCKMODE_PVCLOCK when the host
// marks the pvclock stable, hyperv_clocksource_tsc_page -> VDSO_CLOCKMODE_HVCLOCK;
// hpet, acpi_pm, jiffies, refined-jiffies have no vDSO mode. The measured
// `vdso_fallback` flag is the evidence; this is the expectation.
std::string VdsoClockModeFor(std::string_view clocksource);

// The opaque state __vdso_getrandom needs (lib/vdso/getrandom.c): its size and the
// mmap prot/flags (MAP_DROPPABLE on 6.11+) come from the vDSO itself, asked with
// opaque_len = ~0UL, as tools/testing/selftests/vDSO/vdso_test_getrandom.c does. One
// state, for the measuring thread only: the state is not thread safe. Owns its mapping.
class VgetrandomState {
 public:
  using Fn = ssize_t (*)(void* buffer, size_t len, unsigned int flags, void* opaque_state,
                         size_t opaque_len);

  // Empty (ok() false, error() says why) when `fn` is null, the params call fails or the
  // mmap fails.
  explicit VgetrandomState(Fn fn);
  ~VgetrandomState();
  VgetrandomState(const VgetrandomState&) = delete;
  VgetrandomState& operator=(const VgetrandomState&) = delete;

  bool ok() const { return state_ != nullptr; }
  const std::string& error() const { return error_; }
  // What __vdso_getrandom reported (for docs and tests).
  uint32_t state_size() const { return state_size_; }
  uint32_t mmap_prot() const { return mmap_prot_; }
  uint32_t mmap_flags() const { return mmap_flags_; }

  // getrandom(buffer, len, flags) through the vDSO with this state.
  ssize_t Get(void* buffer, size_t len, unsigned int flags) {
    return fn_(buffer, len, flags, state_, state_size_);
  }

 private:
  Fn fn_;
  void* mapping_ = nullptr;
  size_t mapping_len_ = 0;
  void* state_ = nullptr;
  uint32_t state_size_ = 0, mmap_prot_ = 0, mmap_flags_ = 0;
  std::string error_;
};

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_VDSO_H_
