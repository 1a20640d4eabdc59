// The 32-bit helper's variants: the one list that sysgate_bench (harness/paths/ia32_paths.cc)
// and the -m32 helper (benchmarks/ia32/sysgate_ia32_helper.cc) both compile from, so the
// names on the wire cannot drift. Plain C++ with no includes: the helper is built -m32.
#ifndef SYSGATE_HARNESS_COPROCESS_IA32_VARIANTS_H_
#define SYSGATE_HARNESS_COPROCESS_IA32_VARIANTS_H_

// X(id, "wire name"): getpid by every 32-bit entry and its plain-call baseline, then
// clock_gettime(CLOCK_MONOTONIC) and getcpu through the 32-bit vDSO and through int 0x80.
#define SYSGATE_IA32_VARIANTS(X) \
  X(kCall, "call")               \
  X(kInt80, "int80")             \
  X(kSysenter, "sysenter")       \
  X(kVdso, "vdso")               \
  X(kSyscall, "syscall")         \
  X(kVdsoClock, "vdso_clock")    \
  X(kInt80Clock, "int80_clock")  \
  X(kVdsoGetcpu, "vdso_getcpu")  \
  X(kInt80Getcpu, "int80_getcpu")

namespace sysgate {

enum class Ia32Variant : int {
#define SYSGATE_IA32_ENUM(id, name) id,
  SYSGATE_IA32_VARIANTS(SYSGATE_IA32_ENUM)
#undef SYSGATE_IA32_ENUM
};

inline constexpr const char* kIa32VariantNames[] = {
#define SYSGATE_IA32_NAME(id, name) name,
    SYSGATE_IA32_VARIANTS(SYSGATE_IA32_NAME)
#undef SYSGATE_IA32_NAME
};

inline constexpr int kIa32VariantCount =
    static_cast<int>(sizeof kIa32VariantNames / sizeof kIa32VariantNames[0]);

// The name the helper's protocol uses for `v`.
constexpr const char* Ia32VariantName(Ia32Variant v) {
  return kIa32VariantNames[static_cast<int>(v)];
}

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_COPROCESS_IA32_VARIANTS_H_
