// The indirect-cost family: what a kernel entry costs the user code that runs after it
// (docs/indirect.md). Rows are `indirect_<workload>/<entry>`: the stub runs, per
// iteration, one entry (call, syscall, glibc, int80, vdso) and then a fixed user-mode
// workload (asm/indirect.asm). Each row's `peer` is the row that times the entry alone
// (getpid/syscall for the syscall entry); the report's figure is
//   (row - peer) - (the same workload's call row - baseline/call)
// computed in scripts/sysgatelib/verdicts/indirect.py from the rows' facts.
#ifndef SYSGATE_HARNESS_PATHS_INDIRECT_PATHS_H_
#define SYSGATE_HARNESS_PATHS_INDIRECT_PATHS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "harness/paths/path.h"
#include "harness/paths/stubs.h"

namespace sysgate {

// The `arg` of every indirect stub. Layout mirrored in asm/indirect.asm (ST_* offsets).
struct IndirectState {
  void* vdso_getcpu = nullptr;  // __vdso_getcpu: the `vdso` entry
  void* cursor = nullptr;       // the chase's position; the stub writes it back
  uint64_t steps = 1;           // dependent loads per iteration of the chase, >= 1
  unsigned cpu = 0, node = 0;   // getcpu's outputs
};
static_assert(offsetof(IndirectState, vdso_getcpu) == 0);
static_assert(offsetof(IndirectState, cursor) == 8);
static_assert(offsetof(IndirectState, steps) == 16);
static_assert(offsetof(IndirectState, cpu) == 24);
static_assert(offsetof(IndirectState, node) == 28);

// Dependent loads per iteration of every chase row: the whole 4 KiB set (64 lines) once,
// a window of the larger sets. Fixed, so rows of different sizes differ only in where
// the lines come from (L1, L2, beyond), not in how many loads they make.
inline constexpr uint64_t kChaseSteps = 64;
inline constexpr size_t kCacheLine = 64;

// A working set for the chase: `bytes` of 4 KiB pages (transparent huge pages refused, so
// the TLB reach is that of ordinary heap data), each cache line holding the address of
// the next one in a single cycle through all lines in a fixed pseudo-random order (no
// prefetcher can follow it). Owns its mapping.
class ChaseBuffer {
 public:
  // Aborts (file and line) when the mapping fails: a few MiB are a broken invariant.
  ChaseBuffer(size_t bytes, uint64_t seed);
  ~ChaseBuffer();
  ChaseBuffer(const ChaseBuffer&) = delete;
  ChaseBuffer& operator=(const ChaseBuffer&) = delete;

  void* start() const { return base_; }
  size_t bytes() const { return bytes_; }
  size_t lines() const { return bytes_ / kCacheLine; }

  // Where the chase is after `steps` loads from `from` (the reference walk of the tests).
  static void* Walk(void* from, uint64_t steps);

 private:
  void* base_ = nullptr;
  size_t bytes_ = 0;
};

// One stub of asm/indirect.asm, for the tests: every workload with every entry.
struct IndirectStub {
  std::string_view workload;  // "chase", "calls_16", "branches"
  std::string_view entry;     // "call", "syscall", "glibc", "int80", "vdso"
  LoopFn fn;
};
const std::vector<IndirectStub>& IndirectStubs();

// The state the rows of one working set share (`bytes` 0: no chase buffer).
IndirectState* IndirectStateFor(size_t bytes);

// The rows, in report order (appended to the table by BuildTable in harness/paths/paths.cc).
std::vector<Path> IndirectPaths();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_INDIRECT_PATHS_H_
