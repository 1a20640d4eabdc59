#include "harness/platform/run_facts.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "harness/platform/text_file.h"

namespace sysgate {

std::optional<uint64_t> StealOf(const std::string& line) {
  std::istringstream in(line);
  std::string name;
  in >> name;
  uint64_t value = 0;
  for (int field = 1; field <= 8; ++field) {
    if (!(in >> value)) return std::nullopt;
  }
  return value;
}

RunSnapshot TakeRunSnapshot(int cpu, const std::string& proc_stat) {
  RunSnapshot snap;
  std::ifstream in(proc_stat);
  const std::string cpu_name = cpu >= 0 ? "cpu" + std::to_string(cpu) : "";
  for (std::string line; std::getline(in, line);) {
    const std::string name = line.substr(0, line.find(' '));
    if (name == "cpu") snap.steal_ticks = StealOf(line);
    if (!cpu_name.empty() && name == cpu_name) snap.cpu_steal_ticks = StealOf(line);
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    snap.voluntary_switches = usage.ru_nvcsw;
    snap.involuntary_switches = usage.ru_nivcsw;
  }
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snap.monotonic_seconds = static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
  return snap;
}

namespace {

std::string StealMs(const std::optional<uint64_t>& start, const std::optional<uint64_t>& end) {
  if (!start || !end || *end < *start) return kUnknown;
  const long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0) return kUnknown;
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", static_cast<double>(*end - *start) * 1000.0 / hz);
  return text;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> RunFactsContext(const RunSnapshot& start,
                                                                 const RunSnapshot& end) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", end.monotonic_seconds - start.monotonic_seconds);
  const long involuntary = end.involuntary_switches - start.involuntary_switches;
  const long all = involuntary + end.voluntary_switches - start.voluntary_switches;
  return {
      {"run.seconds", seconds},
      {"run.steal_ms", StealMs(start.steal_ticks, end.steal_ticks)},
      {"run.cpu_steal_ms", StealMs(start.cpu_steal_ticks, end.cpu_steal_ticks)},
      {"run.context_switches", std::to_string(all)},
      {"run.involuntary_switches", std::to_string(involuntary)},
      {"run.load_avg_end", ReadTrimmed("/proc/loadavg")},
  };
}

}  // namespace sysgate
