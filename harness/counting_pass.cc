#include "harness/counting_pass.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "harness/cycle_clock.h"
#include "harness/environment.h"

namespace sysgate {
namespace {

// The default set. `kernel` marks columns that need kernel-mode counting; `user_fallback`
// is the event to count instead when only user mode is allowed ("" = none: a user-only
// count would be misleading, e.g. context switches happen in the kernel).
struct DefaultColumn {
  const char* column;
  const char* event;  // nullptr: chosen per CPU (the mode-switch event)
  bool kernel;
  const char* user_fallback;
};
// clang-format off
constexpr DefaultColumn kDefaultColumns[] = {
  // column                 event                     kernel  user-only fallback
  {"cycles_user",           "cycles:u",               false,  ""},
  {"cycles_kernel",         "cycles:k",               true,   ""},
  {"instructions_user",     "instructions:u",         false,  ""},
  {"instructions_kernel",   "instructions:k",         true,   ""},
  {"mode_switches",         nullptr,                  true,   ""},
  {"kernel_entries",        "raw_syscalls:sys_enter", true,   ""},
  {"context_switches",      "context-switches",       true,   ""},
  {"page_faults",           "page-faults",            true,   "page-faults:u"},
  {"task_clock_ns",         "task-clock",             true,   "task-clock:u"},
};
// clang-format on

// Adds the default column `col` to `plan`, or its reason to `plan->unavailable`.
void AddDefaultColumn(const DefaultColumn& col, const EventEncoder& encoder,
                      const PerfPermissions& perms, CounterPlan* plan) {
  if (!CountingAllowed(perms)) {
    plan->unavailable.push_back({col.column, KernelCountingRefusal(perms)});
    return;
  }
  CounterSpec spec{col.column, col.event ? col.event : "", 1, ""};
  if (!col.event) {
    if (encoder.CorePmu().empty()) {
      plan->unavailable.push_back(
          {col.column, encoder.HaveLibpfm()
                           ? "libpfm4 detects no core PMU on this CPU"
                           : "needs libpfm4 to pick this CPU's mode-switch event (" +
                                 encoder.init_error() + ")"});
      return;
    }
    auto mode = ModeSwitchEventFor(encoder.CorePmu());
    if (!mode) {
      plan->unavailable.push_back(
          {col.column, "no mode-switch event known for PMU " + encoder.CorePmu()});
      return;
    }
    spec.event = mode->event;
    spec.multiplier = mode->transitions_per_count;
    char note[200];
    std::snprintf(note, sizeof note,
                  "%s x %.0f = user<->kernel transitions (2 per syscall: entry and return)",
                  mode->event.c_str(), mode->transitions_per_count);
    spec.calibration = note;
  }
  if (col.kernel && !KernelCountingAllowed(perms)) {
    if (*col.user_fallback == '\0') {
      plan->unavailable.push_back({col.column, KernelCountingRefusal(perms)});
      return;
    }
    spec.event = col.user_fallback;
    spec.calibration = "user mode only: " + KernelCountingRefusal(perms);
  }
  plan->counters.push_back(std::move(spec));
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// A power-of-two call count that takes about `seconds`, from the best of three trials.
uint64_t CallsFor(const Path& path, uint64_t arg, double tsc_hz, double seconds) {
  constexpr uint64_t kTrial = 16;
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    uint64_t t0 = TscStart();
    path.loop(kTrial, arg);
    best = std::min(best, TscStop() - t0);
  }
  const double per_call = std::max(1.0, static_cast<double>(best) / kTrial);
  const double want = seconds * tsc_hz / per_call;
  uint64_t n = 64;
  while (n * 2 <= want && n < (uint64_t{1} << 26)) n *= 2;
  return n;
}

// The same for a path measured out of process (the ia32 helper), through its `timed`
// runner; 0 when a trial batch fails.
uint64_t TimedCallsFor(const Path& path, uint64_t arg, double tsc_hz, double seconds) {
  constexpr uint64_t kTrial = 16;
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    uint64_t ticks = 0, result = 0;
    std::string error;
    if (!path.timed(kTrial, arg, &ticks, &result, &error)) return 0;
    best = std::min(best, ticks);
  }
  const double per_call = std::max(1.0, static_cast<double>(best) / kTrial);
  const double want = seconds * tsc_hz / per_call;
  uint64_t n = 64;
  while (n * 2 <= want && n < (uint64_t{1} << 26)) n *= 2;
  return n;
}

struct OpenedGroup {
  PerfGroup group;
  std::vector<const CounterSpec*> specs;  // parallel to group.events()
};

// One counting interval of every group around `run` (which returns false when the batch
// failed). The readings are in `groups` order; nullopt where a group did not count.
std::vector<std::optional<GroupReading>> CountAround(const std::vector<OpenedGroup>& groups,
                                                     const std::function<bool()>& run, bool* ran,
                                                     std::string* error) {
  std::vector<PerfMeasurement> measurements;
  for (const OpenedGroup& g : groups) measurements.emplace_back(g.group);
  for (PerfMeasurement& m : measurements) m.Start(error);
  *ran = run();
  std::vector<std::optional<GroupReading>> readings;
  for (PerfMeasurement& m : measurements) readings.push_back(m.Stop(error));
  return readings;
}

}  // namespace

CounterPlan DefaultCounterPlan(const EventEncoder& encoder, const PerfPermissions& perms) {
  CounterPlan plan;
  for (const DefaultColumn& col : kDefaultColumns) AddDefaultColumn(col, encoder, perms, &plan);
  return plan;
}

std::optional<CounterPlan> ParseCounterList(std::string_view list, const EventEncoder& encoder,
                                            const PerfPermissions& perms, std::string* error) {
  CounterPlan plan;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(start, comma - start);
    if (item.empty()) {
      *error = "--counters: empty event name in '" + std::string(list) + "'";
      return std::nullopt;
    }
    auto it = std::find_if(std::begin(kDefaultColumns), std::end(kDefaultColumns),
                           [&](const DefaultColumn& c) { return item == c.column; });
    if (it != std::end(kDefaultColumns)) {
      AddDefaultColumn(*it, encoder, perms, &plan);
    } else {
      plan.counters.push_back({ColumnName(item), std::string(item), 1, ""});
    }
    start = comma + 1;
  }
  return plan;
}

std::optional<double> ExpectedKernelEntries(std::string_view mechanism) {
  if (mechanism == "loop" || mechanism == "call" || mechanism == "vdso") return 0.0;
  if (mechanism == "syscall" || mechanism == "int80" || mechanism == "sysenter" ||
      mechanism == "ia32_int80" || mechanism == "ia32_syscall" || mechanism == "vdso32") {
    return 1.0;  // vdso32: __kernel_vsyscall, a real syscall entered through the vDSO
  }
  return std::nullopt;
}

std::optional<std::string> CheckKernelEntries(std::string_view mechanism, double per_call) {
  auto expected = ExpectedKernelEntries(mechanism);
  if (!expected) return std::nullopt;
  char text[240];
  if (*expected == 0 && per_call > 0.5) {
    std::snprintf(text, sizeof text,
                  "%.2f kernel entries per call on a %.*s path (expected 0)%s", per_call,
                  static_cast<int>(mechanism.size()), mechanism.data(),
                  mechanism == "vdso" ? ": the vDSO fell back to a syscall (clocksource "
                                        "not vDSO-capable?)"
                                      : "");
    return text;
  }
  if (*expected >= 1 && per_call < 0.9 * *expected) {
    std::snprintf(text, sizeof text,
                  "%.2f kernel entries per call on a %.*s path (expected %.0f)", per_call,
                  static_cast<int>(mechanism.size()), mechanism.data(), *expected);
    return text;
  }
  return std::nullopt;
}

CountingResult RunCountingPass(const std::vector<const Path*>& paths, const CounterPlan& plan,
                               const EventEncoder& encoder, const PerfPermissions& perms,
                               double tsc_hz, double seconds_per_path, pid_t timed_pid) {
  CountingResult result;
  std::vector<std::string> unavailable;
  for (const EventFailure& f : plan.unavailable) unavailable.push_back(f.event + ": " + f.reason);

  // Encode; PMU events in one group, software and tracepoint events in another, so a
  // hardware group the PMU cannot schedule (too many events, the NMI watchdog holding a
  // counter) does not take the software counts down with it.
  std::vector<EncodedEvent> pmu_events, other_events;
  std::vector<const CounterSpec*> pmu_specs, other_specs;
  for (const CounterSpec& spec : plan.counters) {
    EncodeResult enc = encoder.Encode(spec.event);
    if (!enc.event) {
      unavailable.push_back(spec.column + ": " + enc.error);
      continue;
    }
    enc.event->name = spec.column;  // failures are reported by column
    const bool pmu = enc.event->source == CounterSource::kPmu;
    (pmu ? pmu_events : other_events).push_back(*enc.event);
    (pmu ? pmu_specs : other_specs).push_back(&spec);
  }

  // The PMU events form one group (counted together, scaled together). Software and
  // tracepoint events are never multiplexed, so each is its own single-event group: as
  // siblings in a software group, task-clock and the tracepoint read 0 for some
  // intervals on 6.18 (only the leader's value was brought up to date).
  std::vector<std::pair<std::vector<EncodedEvent>, std::vector<const CounterSpec*>>> plans;
  if (!pmu_events.empty()) plans.emplace_back(pmu_events, pmu_specs);
  for (size_t i = 0; i < other_events.size(); ++i) {
    plans.push_back({{other_events[i]}, {other_specs[i]}});
  }
  // Opens every planned group on `pid` (0: this thread); `context` adds each column's
  // source keys (once, for this thread's groups).
  auto open_groups = [&](pid_t pid, bool context, std::vector<std::string>* failed) {
    std::vector<OpenedGroup> opened_groups;
    for (const auto& [events, specs] : plans) {
      std::vector<EventFailure> failures;
      OpenedGroup opened;
      opened.group = PerfGroup::Open(events, pid, perms, &failures);
      for (const EventFailure& f : failures) failed->push_back(f.event + ": " + f.reason);
      for (const EncodedEvent& e : opened.group.events()) {
        auto it = std::find_if(specs.begin(), specs.end(),
                               [&](const CounterSpec* s) { return s->column == e.name; });
        opened.specs.push_back(*it);
        if (!context) continue;
        result.context.emplace_back("counters." + e.name + ".source", SourceName(e.source));
        result.context.emplace_back("counters." + e.name + ".event", e.canonical);
        if (!(*it)->calibration.empty()) {
          result.context.emplace_back("counters." + e.name + ".calibration", (*it)->calibration);
        }
      }
      if (!opened.group.empty()) opened_groups.push_back(std::move(opened));
    }
    return opened_groups;
  };
  std::vector<OpenedGroup> groups = open_groups(0, true, &unavailable);
  result.context.emplace_back("counters.pmu",
                              encoder.CorePmu().empty() ? "none" : encoder.CorePmu());
  if (groups.empty()) {
    if (!unavailable.empty()) {
      result.context.emplace_back("counters.unavailable", Join(unavailable, "; "));
    }
    result.warnings.push_back("no perf counter could be opened; rows carry TSC ticks only (" +
                              Join(unavailable, "; ") + ")");
    return result;
  }

  // Timed rows run in a co-process: the ia32 helper's on `timed_pid`, a runtime helper's
  // on the thread its row names (counted_thread). The same groups are opened on each such
  // thread once (it runs on the measuring CPU, inherited) and counted around each batch
  // request.
  struct Target {
    std::vector<OpenedGroup> groups;
    std::string problem;  // why nothing counts there; "" when groups opened
  };
  std::map<pid_t, Target> targets;
  auto target_for = [&](const Path& path) -> const Target& {
    const pid_t pid = path.counted_thread ? path.counted_thread() : timed_pid;
    const std::string who = path.counted_thread ? "its co-process" : "the ia32 helper";
    auto [it, inserted] = targets.try_emplace(pid);
    if (!inserted) return it->second;
    if (pid <= 0) {
      it->second.problem = who + " is not running";
      return it->second;
    }
    std::vector<std::string> failed;
    it->second.groups = open_groups(pid, false, &failed);
    if (it->second.groups.empty()) {
      it->second.problem = "no counter opens on " + who + " (thread " + std::to_string(pid) +
                           "): " + Join(failed, "; ");
    } else if (!failed.empty()) {
      unavailable.push_back("on " + who + " (thread " + std::to_string(pid) +
                            "): " + Join(failed, "; "));
    }
    return it->second;
  };
  std::vector<std::string> skipped, multiplexed, mismatches;
  bool counted_ia32 = false, counted_runtime = false;

  for (const Path* path : paths) {
    const uint64_t arg = path->arg ? path->arg() : 0;
    const bool timed = path->timed != nullptr;
    const Target* target = timed ? &target_for(*path) : nullptr;
    if (target && !target->problem.empty()) {
      skipped.push_back(std::string(path->name) + " (" + target->problem + ")");
      continue;
    }
    counted_ia32 = counted_ia32 || (timed && !path->counted_thread);
    counted_runtime = counted_runtime || path->counted_thread;
    const std::vector<OpenedGroup>& path_groups = timed ? target->groups : groups;
    const uint64_t n = timed ? TimedCallsFor(*path, arg, tsc_hz, seconds_per_path)
                             : CallsFor(*path, arg, tsc_hz, seconds_per_path);
    if (n == 0) {
      skipped.push_back(std::string(path->name) + " (its trial batch failed)");
      continue;
    }
    std::string error;
    uint64_t ticks = 0;
    // Runs `calls` calls of the path, in process or in the helper; `ticks` gets the TSC
    // ticks around the loop.
    auto batch = [&](uint64_t calls) {
      if (!timed) {
        const uint64_t t0 = TscStart();
        path->loop(calls, arg);
        ticks = TscStop() - t0;
        return true;
      }
      uint64_t result = 0;
      return path->timed(calls, arg, &ticks, &result, &error);
    };
    batch(std::max<uint64_t>(n / 16, 1));  // warm caches and predictors

    // In process the counts are the loop's. In the helper they also hold its side of the
    // request (reading the request line, writing the reply: a few syscalls and context
    // switches), so an empty batch (n = 0) is counted before and after the real one and
    // the mean of the two is subtracted.
    bool ran = true, ran_empty = true;
    std::vector<std::optional<GroupReading>> empty_before, empty_after;
    if (timed)
      empty_before = CountAround(
          path_groups, [&] { return batch(0); }, &ran_empty, &error);
    std::vector<std::optional<GroupReading>> readings = CountAround(
        path_groups, [&] { return batch(n); }, &ran, &error);
    const uint64_t batch_ticks = ticks;
    if (timed && ran) {
      bool ran_after = true;
      empty_after = CountAround(
          path_groups, [&] { return batch(0); }, &ran_after, &error);
      ran_empty = ran_empty && ran_after;
    }
    if (!ran || !ran_empty) {
      skipped.push_back(std::string(path->name) + " (a batch failed: " + error + ")");
      continue;
    }

    PathCounts counts;
    counts.calls = n;
    counts.ticks_per_call = static_cast<double>(batch_ticks) / static_cast<double>(n);
    std::optional<double> entries, transitions;
    for (size_t gi = 0; gi < path_groups.size(); ++gi) {
      const auto& reading = readings[gi];
      const bool empties_counted = !timed || (empty_before[gi] && empty_before[gi]->Counted() &&
                                              empty_after[gi] && empty_after[gi]->Counted());
      if (!reading || !reading->Counted() || !empties_counted) {
        result.warnings.push_back(std::string(path->name) + ": counter group did not count" +
                                  (error.empty() ? " (never scheduled on the PMU: too many "
                                                   "events, or the NMI watchdog holds a "
                                                   "counter: sysctl kernel.nmi_watchdog=0)"
                                                 : ": " + error));
        continue;
      }
      counts.scale = std::max(counts.scale, reading->ScaleFactor());
      std::vector<double> scaled = reading->Scaled();
      if (timed) {
        const std::vector<double> before = empty_before[gi]->Scaled();
        const std::vector<double> after = empty_after[gi]->Scaled();
        for (size_t i = 0; i < scaled.size(); ++i) {
          // Clamped at 0: the request's own counts vary by one or two between intervals
          // (whether the helper re-entered read() before the group was disabled).
          scaled[i] = std::max(0.0, scaled[i] - (before[i] + after[i]) / 2);
        }
      }
      for (size_t i = 0; i < scaled.size(); ++i) {
        const CounterSpec* spec = path_groups[gi].specs[i];
        double per_call = scaled[i] * spec->multiplier / static_cast<double>(n);
        counts.per_call.emplace_back(spec->column, per_call);
        if (spec->column == "kernel_entries") entries = per_call;
        if (spec->column == "mode_switches") transitions = per_call;
      }
      if (reading->LargelyScaled()) multiplexed.push_back(std::string(path->name));
    }
    // Tracepoint count first; else the PMU's transitions, 2 per entry.
    if (!entries && transitions) entries = *transitions / 2;
    if (entries) counts.mismatch = CheckKernelEntries(path->mechanism, *entries);
    if (counts.mismatch) mismatches.push_back(std::string(path->name) + ": " + *counts.mismatch);
    result.by_path.emplace(std::string(path->name), std::move(counts));
  }
  if (counted_ia32) {
    result.context.emplace_back("counters.ia32_helper",
                                "counted on the helper's pid around each batch; the mean of "
                                "two empty batches (its request and reply) subtracted");
  }
  if (counted_runtime) {
    result.context.emplace_back("counters.runtime_helpers",
                                "counted on the thread each helper runs its loops on, around "
                                "each batch; the mean of two empty batches (its request and "
                                "reply) subtracted");
  }
  if (!unavailable.empty()) {
    result.context.emplace_back("counters.unavailable", Join(unavailable, "; "));
  }
  // Calibration of the mode-switch event against the tracepoint on a plain syscall.
  if (auto it = result.by_path.find("getpid/syscall"); it != result.by_path.end()) {
    double e = 0, t = 0;
    for (const auto& [column, value] : it->second.per_call) {
      if (column == "kernel_entries") e = value;
      if (column == "mode_switches") t = value;
    }
    if (e > 0 && t > 0) {
      char text[32];
      std::snprintf(text, sizeof text, "%.3f", t / e);
      result.context.emplace_back("counters.mode_switches.per_kernel_entry", text);
      if (t / e < 1.8 || t / e > 2.5) {
        result.warnings.push_back(std::string("mode-switch event counts ") + text +
                                  " transitions per kernel entry on getpid/syscall "
                                  "(expected 2): its calibration is wrong on this CPU");
      }
    }
  }
  if (!skipped.empty()) {
    result.context.emplace_back("counters.skipped_paths", Join(skipped, "; "));
  }
  if (!multiplexed.empty()) {
    result.context.emplace_back("counters.multiplexed", Join(multiplexed, " "));
    result.warnings.push_back("perf counters were multiplexed (scaled by more than " +
                              std::to_string(GroupReading::kLargeScale) +
                              ") on: " + Join(multiplexed, " ") + "; their counts are estimates");
  }
  for (const std::string& m : mismatches) {
    result.warnings.push_back("counts contradict the mechanism: " + m);
  }
  return result;  // `groups` closes every fd here
}

int CountPerfEventFds(const std::string& proc_root, pid_t pid) {
  const std::string dir = proc_root + "/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (!d) return 0;
  int count = 0;
  while (dirent* entry = readdir(d)) {
    if (entry->d_name[0] == '.') continue;
    char target[64];
    ssize_t len = readlink((dir + "/" + entry->d_name).c_str(), target, sizeof target - 1);
    if (len <= 0) continue;
    target[len] = '\0';
    if (std::string_view(target) == "anon_inode:[perf_event]") ++count;
  }
  closedir(d);
  return count;
}

std::vector<std::string> OtherPerfEventHolders(const std::string& proc_root, pid_t self) {
  std::vector<std::string> holders;
  DIR* d = opendir(proc_root.c_str());
  if (!d) return holders;
  while (dirent* entry = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    int n = CountPerfEventFds(proc_root, static_cast<pid_t>(pid));
    if (n == 0) continue;
    std::string comm = ReadTrimmed(proc_root + "/" + entry->d_name + "/comm");
    holders.push_back(std::string(entry->d_name) + " (" + comm + "): " + std::to_string(n));
  }
  closedir(d);
  std::sort(holders.begin(), holders.end());
  return holders;
}

}  // namespace sysgate
