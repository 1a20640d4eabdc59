// The client side of the 32-bit helper (benchmarks/ia32/sysgate_ia32_helper.cc): starts it
// once as a co-process and asks it to run ia32 entry paths, which cannot round-trip from a
// 64-bit process (docs/ia32.md).
//
// The helper is a co-process (harness/coprocess/coprocess_client.h): its loops are timed by the
// helper itself with the same fenced TSC reads (harness/platform/cycle_clock.h) and the ticks come
// back over a socket, so the round trip never enters a measurement. It inherits the CPU
// affinity of the thread that starts it: start it after pinning and both processes share
// the measuring CPU. On top of the co-process verbs it speaks the ia32-only ones below.
#ifndef SYSGATE_HARNESS_COPROCESS_IA32_CLIENT_H_
#define SYSGATE_HARNESS_COPROCESS_IA32_CLIENT_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/coprocess/coprocess_client.h"

namespace sysgate {

// What the helper's baseline/ia32_call loop returns (asm/ia32/getpid32.asm: DUMMY_ID_32).
inline constexpr uint64_t kSysgate32DummyId = 0x32334753;

// The helper's file name; the default place is next to the running executable.
inline constexpr const char* kIa32HelperName = "sysgate_ia32_helper";
// Environment variable that names the helper (overrides the default place).
inline constexpr const char* kIa32HelperEnv = "SYSGATE_IA32_HELPER";

class Ia32Client {
 public:
  // Starts `helper_path`. Never throws: when it cannot start, ok() is false and error()
  // says why (not found, not executable, the kernel cannot run 32-bit programs, ...).
  explicit Ia32Client(std::string helper_path);
  ~Ia32Client();
  Ia32Client(const Ia32Client&) = delete;
  Ia32Client& operator=(const Ia32Client&) = delete;

  // The process-wide client the path table uses, started on first use at HelperPath().
  static Ia32Client& Shared();
  // Where Shared() starts the helper: the path given to SetHelperPath (--ia32-helper), else
  // $SYSGATE_IA32_HELPER, else sysgate_ia32_helper next to /proc/self/exe.
  static std::string HelperPath();
  // Overrides HelperPath(); call before the first Shared().
  static void SetHelperPath(std::string path);

  bool ok() const { return client_.ok(); }
  const std::string& error() const { return client_.error(); }
  const std::string& helper_path() const { return helper_path_; }
  // The helper's pid (what every ia32 getpid path returns; perf counters attach to it),
  // or -1 when it is not running.
  pid_t helper_pid() const { return client_.pid(); }
  // The CPUID vendor string the helper reported ("AuthenticAMD", "GenuineIntel").
  const std::string& vendor() const { return vendor_; }
  // getauxval(AT_SYSINFO) in the helper: the address of __kernel_vsyscall (0: none).
  uint64_t sysinfo() const { return sysinfo_; }

  // nullopt when `variant` ("int80", "sysenter", "vdso", "syscall", "call") runs here,
  // otherwise why not. The helper decides by running it in a forked child.
  std::optional<std::string> Probe(std::string_view variant);

  // Runs `variant` `iterations` times in the helper; *ticks is the TSC ticks the helper
  // measured around its loop, *result the loop's last result, *preempted (when given)
  // whether the helper was involuntarily switched out during the loop.
  bool Run(std::string_view variant, uint64_t iterations, uint64_t* ticks, uint64_t* result,
           std::string* error, bool* preempted = nullptr);

  // One call of a vDSO-family variant ("vdso_clock", "int80_clock", "vdso_getcpu",
  // "int80_getcpu"): *ret is what it returned, *value what it read (CLOCK_MONOTONIC in
  // ns, or the CPU number).
  bool Read(std::string_view variant, int64_t* ret, int64_t* value, std::string* error);

  // What `variant` calls, in words ("__vdso_clock_gettime64@LINUX_2.6, CLOCK_MONOTONIC",
  // "int 0x80, eax=318 (getcpu)"); nullopt when the helper cannot say.
  std::optional<std::string> Describe(std::string_view variant);

  // The helper's own ELF32 symbol lookup in its vDSO (harness/coprocess/elf32_symbols.h): `name`
  // with `version` ("" = any), reading at most the image's first `limit` bytes.
  struct LookupResult {
    std::optional<uint64_t> address;  // found: its address in the helper
    std::string missing;              // not exported: "32-bit vDSO has no <name>@<version>"
    std::string error;                // the image could not be read, or the helper failed
  };
  LookupResult Lookup(std::string_view name, std::string_view version,
                      std::optional<uint64_t> limit = std::nullopt);

  // The 32-bit vDSO's exports, "name@version" space separated; nullopt and *error when
  // the helper cannot read them.
  std::optional<std::string> Symbols(std::string* error);

  // Runs `variant` through asm/ia32/checkasm32.asm: true when it preserved every cdecl
  // callee-saved register; *result is its last result, *error names what it clobbered.
  bool Check(std::string_view variant, uint64_t iterations, uint64_t* result, std::string* error);

  // Up to `max_samples` single calls, each timed by the helper between its own TSC pair,
  // stopping after `budget_ticks` (0: no limit). Appends the raw ticks to *samples.
  bool PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget_ticks,
               std::vector<uint64_t>* samples, std::string* error);

 private:
  std::string helper_path_;
  CoprocessClient client_;
  std::string vendor_;
  uint64_t sysinfo_ = 0;
};

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_COPROCESS_IA32_CLIENT_H_
