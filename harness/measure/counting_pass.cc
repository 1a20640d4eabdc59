#include "harness/measure/counting_pass.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "harness/paths/batch.h"
#include "harness/platform/check.h"
#include "harness/platform/text_file.h"

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
  {"syscall_entries",       "raw_syscalls:sys_enter", true,   ""},
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

// The counting pass's batch size; 0 when a trial batch fails.
uint64_t CallsFor(const Path& path, uint64_t arg, double tsc_hz, double seconds) {
  std::string error;
  return ChooseBatchSize(path, arg, CountingBatchSizing(tsc_hz, seconds), &error).value_or(0);
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

BatchSizing CountingBatchSizing(double tsc_hz, double seconds) {
  return {.seconds = seconds,
          .tsc_hz = tsc_hz,
          .trial = 16,
          .min_calls = 64,
          .max_calls = uint64_t{1} << 26,
          .timed_rounds = 1};
}

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
    if (item == kKernelEntriesColumn) {
      // The derived column: what it is the sum of.
      for (const DefaultColumn& c : kDefaultColumns) {
        if (std::string_view(c.column) == "syscall_entries" ||
            std::string_view(c.column) == "page_faults") {
          AddDefaultColumn(c, encoder, perms, &plan);
        }
      }
    } else if (it != std::end(kDefaultColumns)) {
      AddDefaultColumn(*it, encoder, perms, &plan);
    } else {
      plan.counters.push_back({ColumnName(item), std::string(item), 1, ""});
    }
    start = comma + 1;
  }
  return plan;
}

std::optional<std::string> CheckKernelEntries(const Path& path, double per_call) {
  if (!path.expected_entries_known()) return std::nullopt;
  const double expected = path.expected_entries;
  const std::string_view mechanism = MechanismName(path.mechanism);
  char text[240];
  if (expected == 0 && per_call > 0.5) {
    std::snprintf(text, sizeof text, "%.2f kernel entries per call on a %.*s path (expected 0)%s",
                  per_call, static_cast<int>(mechanism.size()), mechanism.data(),
                  path.mechanism == Mechanism::kVdso
                      ? ": the vDSO fell back to a syscall (clocksource not vDSO-capable?)"
                      : "");
    return text;
  }
  if (expected >= 1 && per_call < 0.9 * expected) {
    std::snprintf(text, sizeof text, "%.2f kernel entries per call on a %.*s path (expected %g)",
                  per_call, static_cast<int>(mechanism.size()), mechanism.data(), expected);
    return text;
  }
  return std::nullopt;
}

const Path* CalibrationRow(const std::vector<const Path*>& paths) {
  for (const Path* p : paths) {
    if (p->mechanism == Mechanism::kSyscall && p->abi == Abi::kX86_64 && p->loop != nullptr &&
        p->expected_entries == 1 && p->peer.empty()) {
      return p;
    }
  }
  return nullptr;
}

namespace {

// The counters of one path: each group's counts over one batch, per call.
using GroupPlan = std::pair<std::vector<EncodedEvent>, std::vector<const CounterSpec*>>;

// Step 1: encode the plan. PMU events form one group (counted together, scaled
// together). Software and tracepoint events are never multiplexed, so each is its own
// single-event group: as siblings in a software group, task-clock and the tracepoint read
// 0 for some intervals on 6.18 (only the leader's value was brought up to date); and a
// hardware group the PMU cannot schedule does not take the software counts down with it.
std::vector<GroupPlan> PlanGroups(const CounterPlan& plan, const EventEncoder& encoder,
                                  std::vector<std::string>* unavailable) {
  std::vector<EncodedEvent> pmu_events, other_events;
  std::vector<const CounterSpec*> pmu_specs, other_specs;
  for (const CounterSpec& spec : plan.counters) {
    EncodeResult enc = encoder.Encode(spec.event);
    if (!enc.event) {
      unavailable->push_back(spec.column + ": " + enc.error);
      continue;
    }
    enc.event->name = spec.column;  // failures are reported by column
    const bool pmu = enc.event->source == CounterSource::kPmu;
    (pmu ? pmu_events : other_events).push_back(*enc.event);
    (pmu ? pmu_specs : other_specs).push_back(&spec);
  }
  std::vector<GroupPlan> groups;
  if (!pmu_events.empty()) groups.emplace_back(pmu_events, pmu_specs);
  for (size_t i = 0; i < other_events.size(); ++i) {
    groups.push_back({{other_events[i]}, {other_specs[i]}});
  }
  return groups;
}

// Step 2: open every planned group on `pid` (0: this thread). With `context`, adds each
// column's source keys (once, for this thread's groups).
std::vector<OpenedGroup> OpenGroups(const std::vector<GroupPlan>& plans, pid_t pid,
                                    const PerfPermissions& perms, CountingResult* context,
                                    std::vector<std::string>* failed) {
  std::vector<OpenedGroup> opened_groups;
  for (const auto& [events, specs] : plans) {
    std::vector<EventFailure> failures;
    OpenedGroup opened;
    opened.group = PerfGroup::Open(events, pid, perms, &failures);
    for (const EventFailure& f : failures) failed->push_back(f.event + ": " + f.reason);
    for (const EncodedEvent& e : opened.group.events()) {
      auto it = std::find_if(specs.begin(), specs.end(),
                             [&](const CounterSpec* s) { return s->column == e.name; });
      SYSGATE_CHECK(it != specs.end());
      opened.specs.push_back(*it);
      if (!context) continue;
      context->context.emplace_back("counters." + e.name + ".source", SourceName(e.source));
      context->context.emplace_back("counters." + e.name + ".event", e.canonical);
      if (!(*it)->calibration.empty()) {
        context->context.emplace_back("counters." + e.name + ".calibration", (*it)->calibration);
      }
    }
    if (!opened.group.empty()) opened_groups.push_back(std::move(opened));
  }
  return opened_groups;
}

// What happened to one path in the counting pass.
struct PathOutcome {
  std::optional<PathCounts> counts;   // nullopt: not counted
  std::string skipped;                // why not, when not
  std::vector<std::string> warnings;  // groups that did not count
  bool multiplexed = false;
};

// One batch of `n` calls counted inside every group, and for a path run by a helper an
// empty batch counted before and after it (the helper's side of the request).
struct CountedBatch {
  std::vector<std::optional<GroupReading>> readings, empty_before, empty_after;
  uint64_t ticks = 0;  // around the batch of `n`
  bool ran = false;    // every batch ran
  std::string error;   // what failed: a batch, or a group's start or stop
};

// Step 3a: warm the path, then count its batch (and the empty ones around it).
CountedBatch CountBatch(const Path& path, const std::vector<OpenedGroup>& groups, uint64_t arg,
                        uint64_t n) {
  CountedBatch out;
  const bool timed = path.timed != nullptr;
  uint64_t ticks = 0;
  // Runs `calls` calls of the path, in process or in the helper; `ticks` gets the TSC
  // ticks around the loop.
  auto batch = [&](uint64_t calls) {
    BatchTiming timing = TimeBatch(path, calls, arg);
    ticks = timing.ticks;
    if (!timing.ok()) {
      out.error = std::move(*timing.error);
      return false;
    }
    return true;
  };
  batch(std::max<uint64_t>(n / 16, 1));  // warm caches and predictors

  bool ran = true, ran_empty = true;
  if (timed)
    out.empty_before = CountAround(
        groups, [&] { return batch(0); }, &ran_empty, &out.error);
  out.readings = CountAround(
      groups, [&] { return batch(n); }, &ran, &out.error);
  out.ticks = ticks;
  if (timed && ran) {
    bool ran_after = true;
    out.empty_after = CountAround(
        groups, [&] { return batch(0); }, &ran_after, &out.error);
    ran_empty = ran_empty && ran_after;
  }
  out.ran = ran && ran_empty;
  return out;
}

// Step 3b: the counted batch per call, group by group (less the empty batches' mean for
// a path run by a helper); a group that did not count is a warning.
PathOutcome PerCallCounts(const Path& path, const std::vector<OpenedGroup>& groups,
                          const CountedBatch& batch, uint64_t n) {
  PathOutcome out;
  const bool timed = path.timed != nullptr;
  PathCounts counts;
  counts.calls = n;
  counts.ticks_per_call = static_cast<double>(batch.ticks) / static_cast<double>(n);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto& reading = batch.readings[gi];
    const bool empties_counted =
        !timed || (batch.empty_before[gi] && batch.empty_before[gi]->Counted() &&
                   batch.empty_after[gi] && batch.empty_after[gi]->Counted());
    if (!reading || !reading->Counted() || !empties_counted) {
      out.warnings.push_back(std::string(path.name) + ": counter group did not count" +
                             (batch.error.empty() ? " (never scheduled on the PMU: too many "
                                                    "events, or the NMI watchdog holds a "
                                                    "counter: sysctl kernel.nmi_watchdog=0)"
                                                  : ": " + batch.error));
      continue;
    }
    counts.scale = std::max(counts.scale, reading->ScaleFactor());
    std::vector<double> scaled = reading->Scaled();
    if (timed) {
      const std::vector<double> before = batch.empty_before[gi]->Scaled();
      const std::vector<double> after = batch.empty_after[gi]->Scaled();
      for (size_t i = 0; i < scaled.size(); ++i) {
        // Clamped at 0: the request's own counts vary by one or two between intervals
        // (whether the helper re-entered read() before the group was disabled).
        scaled[i] = std::max(0.0, scaled[i] - (before[i] + after[i]) / 2);
      }
    }
    for (size_t i = 0; i < scaled.size(); ++i) {
      const CounterSpec* spec = groups[gi].specs[i];
      counts.per_call.emplace_back(spec->column,
                                   scaled[i] * spec->multiplier / static_cast<double>(n));
    }
    if (reading->LargelyScaled()) out.multiplexed = true;
  }
  out.counts = std::move(counts);
  return out;
}

// Step 3: count one path: its batch size, its counted batch, its counts per call.
PathOutcome CountPath(const Path& path, const std::vector<OpenedGroup>& groups, double tsc_hz,
                      double seconds) {
  PathOutcome out;
  const uint64_t arg = path.arg ? path.arg() : 0;
  const uint64_t n = CallsFor(path, arg, tsc_hz, seconds);
  if (n == 0) {
    out.skipped = std::string(path.name) + " (its trial batch failed)";
    return out;
  }
  const CountedBatch batch = CountBatch(path, groups, arg, n);
  if (!batch.ran) {
    out.skipped = std::string(path.name) + " (a batch failed: " + batch.error + ")";
    return out;
  }
  return PerCallCounts(path, groups, batch, n);
}

std::optional<double> Column(const PathCounts& counts, std::string_view column) {
  for (const auto& [name, value] : counts.per_call) {
    if (name == column) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> KernelEntries(const PathCounts& counts) {
  // The tracepoint's count first; else the PMU's transitions, 2 per entry.
  std::optional<double> syscalls = Column(counts, "syscall_entries");
  if (!syscalls) {
    if (auto transitions = Column(counts, "mode_switches")) syscalls = *transitions / 2;
  }
  if (!syscalls) return std::nullopt;
  // The vsyscall page enters by a page fault, which no syscall counter sees.
  return *syscalls + Column(counts, "page_faults").value_or(0);
}

namespace {

// Step 4: the derived column and the check against the row: kernel_entries = syscalls +
// page faults, compared with the row's expected_entries.
void AddKernelEntries(const Path& path, PathCounts* counts) {
  std::optional<double> entries = KernelEntries(*counts);
  if (!entries) return;
  counts->per_call.emplace_back(kKernelEntriesColumn, *entries);
  counts->mismatch = CheckKernelEntries(path, *entries);
}

// Step 5: the mode-switch event's calibration, against the tracepoint on a plain syscall.
void CheckModeSwitchCalibration(const std::vector<const Path*>& paths, CountingResult* result) {
  const Path* row = CalibrationRow(paths);
  if (row == nullptr) return;
  auto it = result->by_path.find(row->name);
  if (it == result->by_path.end()) return;
  const double e = Column(it->second, "syscall_entries").value_or(0);
  const double t = Column(it->second, "mode_switches").value_or(0);
  if (e <= 0 || t <= 0) return;
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", t / e);
  result->context.emplace_back("counters.mode_switches.per_kernel_entry", text);
  if (t / e < 1.8 || t / e > 2.5) {
    result->warnings.push_back(std::string("mode-switch event counts ") + text +
                               " transitions per kernel entry on " + std::string(row->name) +
                               " (expected 2): its calibration is wrong on this CPU");
  }
}

// Where the derived column comes from, for the context.
void DescribeKernelEntries(const std::vector<OpenedGroup>& groups,
                           std::vector<std::string>* unavailable, CountingResult* result) {
  bool syscalls = false, transitions = false, faults = false;
  for (const OpenedGroup& g : groups) {
    for (const CounterSpec* spec : g.specs) {
      syscalls |= spec->column == "syscall_entries";
      transitions |= spec->column == "mode_switches";
      faults |= spec->column == "page_faults";
    }
  }
  if (!syscalls && !transitions) {
    unavailable->push_back(std::string(kKernelEntriesColumn) +
                           ": needs syscall_entries or mode_switches, neither counted here");
    return;
  }
  std::string sum = syscalls ? "syscall_entries" : "mode_switches / 2";
  sum += faults ? " + page_faults" : " (page faults not counted)";
  result->context.emplace_back("counters.kernel_entries.source", "derived");
  result->context.emplace_back("counters.kernel_entries.event", sum);
}

// What the pass keeps as it goes, for what it says about itself at the end.
struct PassTally {
  std::vector<std::string> unavailable;  // columns (or threads) that count nothing, and why
  std::vector<std::string> skipped, multiplexed, mismatches;
  bool counted_ia32 = false, counted_runtime = false;
};

// Timed rows run in a co-process: the ia32 helper's on `timed_pid`, a runtime helper's on
// the thread its row names (counted_thread). The same groups are opened on each such
// thread once (it runs on the measuring CPU, inherited) and counted around each batch
// request.
class CoprocessTargets {
 public:
  struct Target {
    std::vector<OpenedGroup> groups;
    std::string problem;  // why nothing counts there; "" when groups opened
  };

  CoprocessTargets(const std::vector<GroupPlan>& plans, const PerfPermissions& perms,
                   pid_t timed_pid)
      : plans_(plans), perms_(perms), timed_pid_(timed_pid) {}

  // The groups on the thread that runs `path`, opened the first time that thread is
  // asked for; what fails to open there goes to *unavailable.
  const Target& For(const Path& path, std::vector<std::string>* unavailable) {
    const pid_t pid = path.counted_thread ? path.counted_thread() : timed_pid_;
    const std::string who = path.counted_thread ? "its co-process" : "the ia32 helper";
    auto [it, inserted] = targets_.try_emplace(pid);
    if (!inserted) return it->second;
    if (pid <= 0) {
      it->second.problem = who + " is not running";
      return it->second;
    }
    std::vector<std::string> failed;
    it->second.groups = OpenGroups(plans_, pid, perms_, nullptr, &failed);
    if (it->second.groups.empty()) {
      it->second.problem = "no counter opens on " + who + " (thread " + std::to_string(pid) +
                           "): " + Join(failed, "; ");
    } else if (!failed.empty()) {
      unavailable->push_back("on " + who + " (thread " + std::to_string(pid) +
                             "): " + Join(failed, "; "));
    }
    return it->second;
  }

 private:
  const std::vector<GroupPlan>& plans_;
  const PerfPermissions& perms_;
  const pid_t timed_pid_;
  std::map<pid_t, Target> targets_;
};

// The columns the plan already gave up on, as "column: reason".
std::vector<std::string> PlannedUnavailable(const CounterPlan& plan) {
  std::vector<std::string> unavailable;
  for (const EventFailure& f : plan.unavailable) unavailable.push_back(f.event + ": " + f.reason);
  return unavailable;
}

// No group opened on this thread: the rows carry TSC ticks only, and the context says why.
void ReportNothingCounted(const std::vector<std::string>& unavailable, CountingResult* result) {
  if (!unavailable.empty()) {
    result->context.emplace_back("counters.unavailable", Join(unavailable, "; "));
  }
  result->warnings.push_back("no perf counter could be opened; rows carry TSC ticks only (" +
                             Join(unavailable, "; ") + ")");
}

// Counts one row, on this thread's groups or on its co-process's, and files its counts
// (with the derived column and its check) or why it was not counted.
void CountRow(const Path& path, const std::vector<OpenedGroup>& groups, CoprocessTargets* targets,
              double tsc_hz, double seconds, PassTally* tally, CountingResult* result) {
  const bool timed = path.timed != nullptr;
  const CoprocessTargets::Target* target =
      timed ? &targets->For(path, &tally->unavailable) : nullptr;
  if (target && !target->problem.empty()) {
    tally->skipped.push_back(std::string(path.name) + " (" + target->problem + ")");
    return;
  }
  tally->counted_ia32 = tally->counted_ia32 || (timed && !path.counted_thread);
  tally->counted_runtime = tally->counted_runtime || path.counted_thread;
  PathOutcome outcome = CountPath(path, timed ? target->groups : groups, tsc_hz, seconds);
  if (path.release) path.release();  // what its arg() set up ends with its count
  for (std::string& w : outcome.warnings) result->warnings.push_back(std::move(w));
  if (!outcome.counts) {
    tally->skipped.push_back(outcome.skipped);
    return;
  }
  if (outcome.multiplexed) tally->multiplexed.push_back(std::string(path.name));
  AddKernelEntries(path, &*outcome.counts);
  if (outcome.counts->mismatch) {
    tally->mismatches.push_back(std::string(path.name) + ": " + *outcome.counts->mismatch);
  }
  result->by_path.emplace(std::string(path.name), std::move(*outcome.counts));
}

// Step 6: what the pass says about itself, in the context and as warnings.
void ReportPass(const std::vector<const Path*>& paths, const PassTally& tally,
                CountingResult* result) {
  if (tally.counted_ia32) {
    result->context.emplace_back("counters.ia32_helper",
                                 "counted on the helper's pid around each batch; the mean of "
                                 "two empty batches (its request and reply) subtracted");
  }
  if (tally.counted_runtime) {
    result->context.emplace_back("counters.runtime_helpers",
                                 "counted on the thread each helper runs its loops on, around "
                                 "each batch; the mean of two empty batches (its request and "
                                 "reply) subtracted");
  }
  if (!tally.unavailable.empty()) {
    result->context.emplace_back("counters.unavailable", Join(tally.unavailable, "; "));
  }
  CheckModeSwitchCalibration(paths, result);
  if (!tally.skipped.empty()) {
    result->context.emplace_back("counters.skipped_paths", Join(tally.skipped, "; "));
  }
  if (!tally.multiplexed.empty()) {
    result->context.emplace_back("counters.multiplexed", Join(tally.multiplexed, " "));
    result->warnings.push_back("perf counters were multiplexed (scaled by more than " +
                               std::to_string(GroupReading::kLargeScale) + ") on: " +
                               Join(tally.multiplexed, " ") + "; their counts are estimates");
  }
  for (const std::string& m : tally.mismatches) {
    result->warnings.push_back("counts contradict the row's expected kernel entries: " + m);
  }
}

}  // namespace

CountingResult RunCountingPass(const std::vector<const Path*>& paths, const CounterPlan& plan,
                               const EventEncoder& encoder, const PerfPermissions& perms,
                               double tsc_hz, double seconds_per_path, pid_t timed_pid) {
  CountingResult result;
  PassTally tally;
  tally.unavailable = PlannedUnavailable(plan);
  const std::vector<GroupPlan> plans = PlanGroups(plan, encoder, &tally.unavailable);
  const std::vector<OpenedGroup> groups = OpenGroups(plans, 0, perms, &result, &tally.unavailable);
  result.context.emplace_back("counters.pmu",
                              encoder.CorePmu().empty() ? "none" : encoder.CorePmu());
  if (groups.empty()) {
    ReportNothingCounted(tally.unavailable, &result);
    return result;
  }
  DescribeKernelEntries(groups, &tally.unavailable, &result);
  CoprocessTargets targets(plans, perms, timed_pid);
  for (const Path* path : paths) {
    CountRow(*path, groups, &targets, tsc_hz, seconds_per_path, &tally, &result);
  }
  ReportPass(paths, tally, &result);
  return result;  // `targets` and `groups` close every fd here
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
