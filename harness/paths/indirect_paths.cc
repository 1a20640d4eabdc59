#include "harness/paths/indirect_paths.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include "harness/platform/check.h"
#include "harness/platform/vdso.h"

namespace sysgate {
namespace {

// Fixed, so every run chases the same permutation ("SYSGATE2").
constexpr uint64_t kChaseSeed = 0x5359534741544532;

// The working sets, in report order: L1-sized, the L1 of many cores (32 KiB), L2-sized,
// beyond the L2 of most cores and beyond the L1 DTLB's reach with 4 KiB pages.
constexpr size_t k4K = 4 << 10, k32K = 32 << 10, k256K = 256 << 10, k2M = 2 << 20;

// --- Entries ------------------------------------------------------------------------------

uint64_t ExpectZero() { return 0; }
uint64_t ExpectDummy() { return kSysgateDummyId; }

enum Entry : int { kCallEntry, kSyscallEntry, kGlibcEntry, kInt80Entry, kVdsoEntry, kEntries };

struct EntryInfo {
  std::string_view name;    // the row's variant
  Mechanism mechanism;      // the entry's (the row's mechanism)
  double entries;           // kernel entries the entry makes (the row's expected entries)
  std::string_view direct;  // the row that times the entry alone (the row's peer)
  ExpectFn expect;          // what the entry returns
};

// clang-format off
constexpr EntryInfo kEntryInfo[kEntries] = {
  // name       mechanism             entries  direct             expect
  {"call",      Mechanism::kCall,     0,       "baseline/call",   ExpectDummy},
  {"syscall",   Mechanism::kSyscall,  1,       "getpid/syscall",  ExpectPid},
  {"glibc",     Mechanism::kGlibc,    1,       "getpid/glibc",    ExpectPid},
  {"int80",     Mechanism::kInt80,    1,       "getpid/int80",    ExpectPid},
  {"vdso",      Mechanism::kVdso,     0,       "getcpu/vdso",     ExpectZero},
};
// clang-format on

// --- State ----------------------------------------------------------------------------------

template <size_t kBytes>
uint64_t StateArg() {
  return reinterpret_cast<uint64_t>(IndirectStateFor(kBytes));
}

// --- Rows -----------------------------------------------------------------------------------

// One row: `indirect_<workload>/<entry>`, its facts from the entry: the entry's
// mechanism and kernel entries, and the entry's direct row as its peer.
template <Entry E>
Path Row(std::string_view name, LoopFn loop, ArgFn arg) {
  const EntryInfo& entry = kEntryInfo[E];
  // It can run where its entry's own row can (int 0x80 needs ia32 emulation, the vdso
  // entry needs __vdso_getcpu): that row's probe says so, in its words.
  return Path{.name = name,
              .mechanism = entry.mechanism,
              .expected_entries = entry.entries,
              .loop = loop,
              .peer = entry.direct,
              .arg = arg,
              .expect = entry.expect,
              .probe_from_peer = true};
}

}  // namespace

// --- ChaseBuffer ------------------------------------------------------------------------------

ChaseBuffer::ChaseBuffer(size_t bytes, uint64_t seed) : bytes_(bytes) {
  SYSGATE_CHECK(bytes >= kCacheLine && bytes % kCacheLine == 0);  // whole cache lines
  base_ = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  // At most 2 MiB of anonymous memory, mapped once per process before anything is timed.
  SYSGATE_CHECK(base_ != MAP_FAILED);
  // Ordinary 4 KiB pages: a huge page would hide what the entry does to the TLB. Only a
  // hint (fails harmlessly where THP is not built in).
  madvise(base_, bytes, MADV_NOHUGEPAGE);
  // Sattolo's algorithm: a uniformly random single cycle through every line, so the
  // chase visits all of them before it repeats.
  std::vector<size_t> order(lines());
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 random(seed);
  for (size_t i = order.size() - 1; i > 0; --i) {
    std::uniform_int_distribution<size_t> pick(0, i - 1);
    std::swap(order[i], order[pick(random)]);
  }
  auto* base = static_cast<unsigned char*>(base_);
  for (size_t i = 0; i < order.size(); ++i) {
    *reinterpret_cast<void**>(base + i * kCacheLine) = base + order[i] * kCacheLine;
  }
}

ChaseBuffer::~ChaseBuffer() {
  if (base_ != nullptr && base_ != MAP_FAILED) munmap(base_, bytes_);
}

void* ChaseBuffer::Walk(void* from, uint64_t steps) {
  for (uint64_t i = 0; i < steps; ++i) from = *static_cast<void**>(from);
  return from;
}

IndirectState* IndirectStateFor(size_t bytes) {
  // One state (and buffer) per working set for the whole process; rows of the same set
  // share it, which is how a program's data would be shared between its calls.
  struct Owned {
    std::unique_ptr<ChaseBuffer> buffer;
    IndirectState state;
  };
  static std::map<size_t, Owned>& states = *new std::map<size_t, Owned>;
  auto [it, inserted] = states.try_emplace(bytes);
  Owned& owned = it->second;
  if (inserted) {
    owned.state.vdso_getcpu = Vdso::Process().Find("__vdso_getcpu");
    if (bytes != 0) {
      owned.buffer = std::make_unique<ChaseBuffer>(bytes, kChaseSeed);
      owned.state.cursor = owned.buffer->start();
      owned.state.steps = kChaseSteps;
    }
  }
  return &owned.state;
}

const std::vector<IndirectStub>& IndirectStubs() {
#define SYSGATE_STUB_ROWS(entry)                                 \
  {"chase", #entry, sysgate_indirect_chase_##entry},             \
      {"calls_1", #entry, sysgate_indirect_calls_1_##entry},     \
      {"calls_4", #entry, sysgate_indirect_calls_4_##entry},     \
      {"calls_16", #entry, sysgate_indirect_calls_16_##entry},   \
      {"calls_32", #entry, sysgate_indirect_calls_32_##entry}, { \
    "branches", #entry, sysgate_indirect_branches_##entry        \
  }
  static const std::vector<IndirectStub> stubs = {
      SYSGATE_STUB_ROWS(call),  SYSGATE_STUB_ROWS(syscall), SYSGATE_STUB_ROWS(glibc),
      SYSGATE_STUB_ROWS(int80), SYSGATE_STUB_ROWS(vdso),
  };
#undef SYSGATE_STUB_ROWS
  return stubs;
}

// Which rows, and why not all 45 (9 workloads x 5 entries): every row adds about 0.5 s
// of measuring to the default run (12 repetitions of --benchmark_min_time, the per-call
// pass), which must stay under a minute. So: the `call` and `syscall` entries get every
// working set and depth (call is the reference each figure subtracts, syscall the entry
// the sweep is about); `vdso`, the control that must come out at zero, gets one
// representative of each workload (chase_32k: an L1-sized set, the most sensitive to
// eviction; calls_16: deep enough to empty a 16-entry RSB; branches); `int80` gets
// chase_32k only, where a VM exit's pollution would show (its own cost, microseconds in
// many VMs, makes its interval wide elsewhere). `glibc` gets none: it is the syscall
// entry plus its wrapper's `ret`, which its direct row already holds. The stubs of every
// combination exist (tests/cpp/paths/indirect_test.cc runs them all); a row is one line here.
// clang-format off
std::vector<Path> IndirectPaths() {
  return {
    Row<kCallEntry>   ("indirect_chase_4k/call",      sysgate_indirect_chase_call,        StateArg<k4K>),
    Row<kSyscallEntry>("indirect_chase_4k/syscall",   sysgate_indirect_chase_syscall,     StateArg<k4K>),
    Row<kCallEntry>   ("indirect_chase_32k/call",     sysgate_indirect_chase_call,        StateArg<k32K>),
    Row<kSyscallEntry>("indirect_chase_32k/syscall",  sysgate_indirect_chase_syscall,     StateArg<k32K>),
    Row<kInt80Entry>  ("indirect_chase_32k/int80",    sysgate_indirect_chase_int80,       StateArg<k32K>),
    Row<kVdsoEntry>   ("indirect_chase_32k/vdso",     sysgate_indirect_chase_vdso,        StateArg<k32K>),
    Row<kCallEntry>   ("indirect_chase_256k/call",    sysgate_indirect_chase_call,        StateArg<k256K>),
    Row<kSyscallEntry>("indirect_chase_256k/syscall", sysgate_indirect_chase_syscall,     StateArg<k256K>),
    Row<kCallEntry>   ("indirect_chase_2m/call",      sysgate_indirect_chase_call,        StateArg<k2M>),
    Row<kSyscallEntry>("indirect_chase_2m/syscall",   sysgate_indirect_chase_syscall,     StateArg<k2M>),
    Row<kCallEntry>   ("indirect_calls_1/call",       sysgate_indirect_calls_1_call,      StateArg<0>),
    Row<kSyscallEntry>("indirect_calls_1/syscall",    sysgate_indirect_calls_1_syscall,   StateArg<0>),
    Row<kCallEntry>   ("indirect_calls_4/call",       sysgate_indirect_calls_4_call,      StateArg<0>),
    Row<kSyscallEntry>("indirect_calls_4/syscall",    sysgate_indirect_calls_4_syscall,   StateArg<0>),
    Row<kCallEntry>   ("indirect_calls_16/call",      sysgate_indirect_calls_16_call,     StateArg<0>),
    Row<kSyscallEntry>("indirect_calls_16/syscall",   sysgate_indirect_calls_16_syscall,  StateArg<0>),
    Row<kVdsoEntry>   ("indirect_calls_16/vdso",      sysgate_indirect_calls_16_vdso,     StateArg<0>),
    Row<kCallEntry>   ("indirect_calls_32/call",      sysgate_indirect_calls_32_call,     StateArg<0>),
    Row<kSyscallEntry>("indirect_calls_32/syscall",   sysgate_indirect_calls_32_syscall,  StateArg<0>),
    Row<kCallEntry>   ("indirect_branches/call",      sysgate_indirect_branches_call,     StateArg<0>),
    Row<kSyscallEntry>("indirect_branches/syscall",   sysgate_indirect_branches_syscall,  StateArg<0>),
    Row<kVdsoEntry>   ("indirect_branches/vdso",      sysgate_indirect_branches_vdso,     StateArg<0>),
  };
}
// clang-format on

}  // namespace sysgate
