#include "harness/platform/cycle_clock.h"

#include <cpuid.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <string>
#include <vector>

namespace sysgate {
namespace {

uint64_t MonotonicRawNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

bool CpuinfoHasFlags(const std::string& a, const std::string& b) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      line += ' ';
      return line.find(" " + a + " ") != std::string::npos &&
             line.find(" " + b + " ") != std::string::npos;
    }
  }
  return false;
}

}  // namespace

TscInfo CalibrateTsc() {
  constexpr int kWindows = 5;
  constexpr uint64_t kWindowNs = 10'000'000;  // 10 ms each: 50 ms in all
  std::array<double, kWindows> hz{};
  for (double& h : hz) {
    // Bracket the TSC reads tightly with clock reads so a preemption between them shows
    // up as a longer window on both clocks rather than as a skew.
    uint64_t ns0 = MonotonicRawNs();
    uint64_t t0 = TscStart();
    uint64_t ns1;
    do {
      ns1 = MonotonicRawNs();
    } while (ns1 - ns0 < kWindowNs);
    uint64_t t1 = TscStop();
    h = static_cast<double>(t1 - t0) * 1e9 / static_cast<double>(ns1 - ns0);
  }
  std::sort(hz.begin(), hz.end());
  TscInfo info;
  info.hz = hz[kWindows / 2];
  info.how = "median of 5 x 10 ms windows against CLOCK_MONOTONIC_RAW";
  unsigned int eax, ebx, ecx, edx;
  bool cpuid_invariant = __get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) && (edx & (1u << 8));
  info.invariant = cpuid_invariant || CpuinfoHasFlags("constant_tsc", "nonstop_tsc");
  return info;
}

uint64_t MeasureTscPairOverhead() {
  constexpr int kPairs = 1001;
  std::vector<uint64_t> ticks(kPairs);
  for (uint64_t& t : ticks) {
    uint64_t t0 = TscStart();
    t = TscStop() - t0;
  }
  std::nth_element(ticks.begin(), ticks.begin() + kPairs / 2, ticks.end());
  return ticks[kPairs / 2];
}

}  // namespace sysgate
