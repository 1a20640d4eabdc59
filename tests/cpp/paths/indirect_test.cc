// checkasm-style tests of asm/indirect.asm: every stub (every workload with every entry)
// returns its entry's result, keeps the callee-saved registers, and its workload does
// what it says (the chase walks exactly iterations x steps lines). No timing is asserted.
#include <unistd.h>

#include <cstdint>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "harness/paths/indirect_paths.h"
#include "harness/paths/paths.h"
#include "harness/paths/stubs.h"
#include "harness/paths/vdso_paths.h"

extern "C" uint64_t sysgate_checked_call(sysgate::LoopFn fn, uint64_t iterations, uint64_t arg,
                                         uint64_t* clobbered);

namespace sysgate {
namespace {

// What a stub with this entry must return, or nullopt (and why) when the entry cannot
// run here.
std::optional<uint64_t> ExpectedResult(std::string_view entry, const IndirectState& state,
                                       std::string* why) {
  if (entry == "call") return kSysgateDummyId;
  if (entry == "syscall" || entry == "glibc") return static_cast<uint64_t>(getpid());
  if (entry == "int80") {
    const Path* direct = FindPath("getpid/int80");
    if (direct && direct->probe) {
      if (auto reason = direct->probe()) {
        *why = *reason;
        return std::nullopt;
      }
    }
    return static_cast<uint64_t>(getpid());
  }
  if (entry == "vdso") {
    if (state.vdso_getcpu == nullptr) {
      *why = "no __vdso_getcpu";
      return std::nullopt;
    }
    return 0;
  }
  *why = "unknown entry " + std::string(entry);
  return std::nullopt;
}

TEST(IndirectStubs, EveryStubReturnsItsEntrysResultAndKeepsCalleeSavedRegisters) {
  ASSERT_EQ(IndirectStubs().size(), 30u);  // 6 workloads x 5 entries
  for (const IndirectStub& stub : IndirectStubs()) {
    SCOPED_TRACE(std::string(stub.workload) + "/" + std::string(stub.entry));
    ChaseBuffer buffer(4096, 1);
    IndirectState state = *IndirectStateFor(0);
    state.cursor = buffer.start();
    state.steps = 3;
    std::string why;
    std::optional<uint64_t> expected = ExpectedResult(stub.entry, state, &why);
    if (!expected) {
      std::printf("[  INFO    ] skipped: %s\n", why.c_str());
      continue;
    }
    for (uint64_t iterations : {1u, 5u}) {
      uint64_t clobbered = ~0ull;
      const uint64_t result =
          sysgate_checked_call(stub.fn, iterations, reinterpret_cast<uint64_t>(&state), &clobbered);
      EXPECT_EQ(clobbered, 0u) << "callee-saved registers changed (bit 0 rbx .. bit 5 r15)";
      EXPECT_EQ(result, *expected);
    }
    // No iterations: no entry, result 0, the cursor where it was.
    void* before = state.cursor;
    EXPECT_EQ(stub.fn(0, reinterpret_cast<uint64_t>(&state)), 0u);
    EXPECT_EQ(state.cursor, before);
  }
}

TEST(IndirectStubs, ChaseWalksExactlyIterationsTimesStepsLines) {
  for (const IndirectStub& stub : IndirectStubs()) {
    if (stub.workload != "chase" || stub.entry == "int80" || stub.entry == "vdso") continue;
    SCOPED_TRACE(std::string(stub.entry));
    ChaseBuffer buffer(32 << 10, 7);
    IndirectState state = *IndirectStateFor(0);
    state.cursor = buffer.start();
    state.steps = 5;
    stub.fn(7, reinterpret_cast<uint64_t>(&state));
    EXPECT_EQ(state.cursor, ChaseBuffer::Walk(buffer.start(), 35));
    stub.fn(1, reinterpret_cast<uint64_t>(&state));  // continues from where it stopped
    EXPECT_EQ(state.cursor, ChaseBuffer::Walk(buffer.start(), 40));
  }
}

TEST(IndirectStubs, VdsoEntryReportsThisCpu) {
  IndirectState state = *IndirectStateFor(0);
  if (state.vdso_getcpu == nullptr) GTEST_SKIP() << "no __vdso_getcpu";
  for (int attempt = 0; attempt < 100; ++attempt) {
    state.cpu = ~0u;
    const int before = sched_getcpu();
    sysgate_indirect_branches_vdso(1, reinterpret_cast<uint64_t>(&state));
    if (sched_getcpu() != before) continue;  // migrated: either answer may be right
    EXPECT_EQ(static_cast<int>(state.cpu), before);
    return;
  }
  GTEST_SKIP() << "the thread kept migrating";
}

TEST(ChaseBuffer, IsOneCycleThroughEveryLine) {
  for (size_t bytes : {size_t{4096}, size_t{256} << 10}) {
    ChaseBuffer buffer(bytes, 42);
    std::set<void*> seen;
    void* p = buffer.start();
    for (size_t i = 0; i < buffer.lines(); ++i) {
      auto offset = static_cast<unsigned char*>(p) - static_cast<unsigned char*>(buffer.start());
      ASSERT_GE(offset, 0);
      ASSERT_LT(static_cast<size_t>(offset), bytes);
      ASSERT_EQ(offset % kCacheLine, 0);
      ASSERT_TRUE(seen.insert(p).second) << "line visited twice before the cycle closed";
      p = ChaseBuffer::Walk(p, 1);
    }
    EXPECT_EQ(p, buffer.start()) << "the walk does not come back after every line";
    EXPECT_EQ(seen.size(), buffer.lines());
  }
}

TEST(ChaseBuffer, SameSeedSameOrderOtherSeedAnother) {
  ChaseBuffer a(4096, 3), b(4096, 3), c(4096, 4);
  auto offset = [](const ChaseBuffer& buf, uint64_t steps) {
    return static_cast<unsigned char*>(ChaseBuffer::Walk(buf.start(), steps)) -
           static_cast<unsigned char*>(buf.start());
  };
  bool differs = false;
  for (uint64_t s = 1; s < 64; ++s) {
    EXPECT_EQ(offset(a, s), offset(b, s));
    differs |= offset(a, s) != offset(c, s);
  }
  EXPECT_TRUE(differs);
}

// The Python report derives workload, size and entry from the names and pairs every row
// with its workload's `call` row: each workload that has rows must have one.
TEST(IndirectRows, NamesFollowThePatternAndEveryWorkloadHasACallRow) {
  const std::regex pattern(
      "indirect_(chase_[0-9]+[km]|calls_[0-9]+|branches)/"
      "(call|syscall|glibc|int80|vdso)");
  std::set<std::string> families, with_call;
  size_t rows = 0;
  for (const Path& path : AllPaths()) {
    if (path.family().rfind("indirect_", 0) != 0) continue;
    ++rows;
    SCOPED_TRACE(std::string(path.name));
    EXPECT_TRUE(std::regex_match(std::string(path.name), pattern));
    families.insert(std::string(path.family()));
    if (path.name.substr(path.name.find('/') + 1) == "call") {
      with_call.insert(std::string(path.family()));
    }
  }
  EXPECT_GT(rows, 0u);
  EXPECT_EQ(families, with_call);
}

// A vdso row that wraps its peer's call in a workload is no vDSO path of its family: the
// fallback check (vdso against the family's syscall row) must leave it alone, or a slow
// workload would read as "the vDSO fell back to a syscall".
TEST(IndirectRows, VdsoRowsWithAPeerAreNotCheckedForFallback) {
  size_t checked = 0;
  for (const Path& path : AllPaths()) {
    if (path.mechanism != Mechanism::kVdso || path.peer.empty()) continue;
    SCOPED_TRACE(std::string(path.name));
    ++checked;
    EXPECT_FALSE(CheckVdsoFallback(path));
  }
  EXPECT_GT(checked, 0u);
}

// Every row's batches are whole multiples of its unit of work.
TEST(PathRows, MinBatchIsAPowerOfTwo) {
  for (const Path& path : AllPaths()) {
    SCOPED_TRACE(std::string(path.name));
    EXPECT_GE(path.min_batch, 1u);
    EXPECT_EQ(path.min_batch & (path.min_batch - 1), 0u);
  }
}

}  // namespace
}  // namespace sysgate
