// sysgate_bench: every path of the table as a Google Benchmark row, timed with the TSC.
//
// Google Benchmark's flags work as usual (--benchmark_filter, --benchmark_repetitions,
// --benchmark_out=FILE --benchmark_out_format=json, ...). sysgate's own:
//   --cpu=N        pin the measuring thread to CPU N (default: the last allowed CPU)
//   --cpu=none     do not pin
//   --list-paths   print the path table with each path's availability and exit
//   --ia32-helper=PATH  the 32-bit helper behind the getpid/ia32_* rows (default:
//                  $SYSGATE_IA32_HELPER, else sysgate_ia32_helper next to this binary)
//   --counters=auto|none|LIST
//                  the counting pass before timing (docs/perf_counters.md): auto (default)
//                  counts what this machine allows; none skips it; LIST is comma-separated
//                  event names (cycles:k,raw_syscalls:sys_enter) or default column names
//   --list-events  print the perf events this machine's PMUs offer and the default set
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "harness/counting_pass.h"
#include "harness/cycle_clock.h"
#include "harness/environment.h"
#include "harness/ia32_client.h"
#include "harness/ia32_paths.h"
#include "harness/paths.h"
#include "harness/per_call.h"
#include "harness/pinning.h"
#include "harness/runtime_paths.h"
#include "harness/vdso.h"
#include "harness/vdso_paths.h"
#include "harness/vsyscall.h"

namespace sysgate {
namespace {

// Each batch should take about this long: long enough that the rdtscp pair and Google
// Benchmark's loop bookkeeping (tens of ns) vanish in it, short enough that a batch rarely
// contains a timer interrupt.
constexpr double kBatchSeconds = 20e-6;
// The language-runtime rows (mechanism runtime): each batch is a round trip to a helper
// process, which costs about as much as 20 us of calls, so their batches are longer to
// keep the run's wall time near its measured time (docs/runtimes.md). An interrupt costs a
// batch of any length the same few microseconds, so the mean per call is no more exposed.
constexpr double kRuntimeBatchSeconds = 200e-6;
constexpr uint64_t kMaxBatch = 1u << 20;
// The per-call pass: at most this many single calls, or this long, per repetition.
constexpr size_t kPerCallSamples = 2000;
constexpr double kPerCallSeconds = 0.005;

struct Options {
  std::optional<int> cpu;  // nullopt: the default CPU
  bool pin = true;
  bool list_paths = false;
  std::string counters = "auto";  // auto | none | comma-separated events
  bool list_events = false;
};

// What every row needs from start-up: the clock and the baseline.
struct Calibration {
  double tsc_hz = 0;
  uint64_t pair_overhead = 0;     // ticks of an empty TscStart/TscStop pair
  double call_ticks = 0;          // ticks per baseline/call
};

Calibration g_calibration;
// Per-path results of the counting pass, added to each row by RunPath.
CountingResult g_counts;

[[noreturn]] void Usage(const std::string& problem) {
  std::fprintf(stderr, "error: %s\nusage: sysgate_bench [--cpu=N|none] [--list-paths] "
               "[--ia32-helper=PATH] [--counters=auto|none|LIST] [--list-events] "
               "[google benchmark flags; --help lists them]\n", problem.c_str());
  std::exit(2);
}

// Takes sysgate's flags out of argv so Google Benchmark sees only its own.
Options ParseOptions(int* argc, char** argv) {
  Options opt;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--list-paths") {
      opt.list_paths = true;
    } else if (arg.rfind("--ia32-helper=", 0) == 0) {
      Ia32Client::SetHelperPath(std::string(arg.substr(14)));
    } else if (arg == "--list-events") {
      opt.list_events = true;
    } else if (arg == "--counters" || arg.rfind("--counters=", 0) == 0) {
      if (arg == "--counters") {
        if (i + 1 >= *argc) Usage("--counters needs auto, none or a list of events");
        opt.counters = argv[++i];
      } else {
        opt.counters = std::string(arg.substr(11));
      }
      if (opt.counters.empty()) Usage("--counters needs auto, none or a list of events");
    } else if (arg == "--cpu" || arg.rfind("--cpu=", 0) == 0) {
      std::string value;
      if (arg == "--cpu") {
        if (i + 1 >= *argc) Usage("--cpu needs a CPU number or 'none'");
        value = argv[++i];
      } else {
        value = std::string(arg.substr(6));
      }
      if (value == "none") {
        opt.pin = false;
        continue;
      }
      char* end = nullptr;
      long cpu = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || cpu < 0) {
        Usage("--cpu: '" + value + "' is not a CPU number");
      }
      opt.cpu = static_cast<int>(cpu);
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return opt;
}

// Runs one batch of `path` and returns the TSC ticks it took.
bool MeasureBatch(const Path& path, uint64_t n, uint64_t arg, uint64_t* ticks,
                  uint64_t* result, std::string* error) {
  if (path.timed) return path.timed(n, arg, ticks, result, error);
  uint64_t t0 = TscStart();
  *result = path.loop(n, arg);
  *ticks = TscStop() - t0;
  return true;
}

// A power of two near kBatchSeconds worth of calls, from the best of three short trials.
// Chosen once per path and kept: Google Benchmark requires every repetition of a row to
// run the same number of iterations (statistics.cc checks it), and KeepRunningBatch
// rounds the count to a multiple of the batch.
//
// A path measured out of process carries a fixed cost in every batch that an 8-call trial
// cannot amortize (its clock pair, which costs tens of ns where the clock is
// System.nanoTime or perf_counter_ns, and the caches the request handling evicted), so its
// estimate is refined with trials of the size just chosen until the size stops growing.
bool ChooseBatch(const Path& path, uint64_t arg, uint64_t* batch, std::string* error) {
  static std::map<const Path*, uint64_t> chosen;
  if (auto it = chosen.find(&path); it != chosen.end()) {
    *batch = it->second;
    return true;
  }
  constexpr int kRefinements = 4;
  uint64_t trial = 8, b = 1;
  for (int round = 0; round < (path.timed ? kRefinements : 1); ++round) {
    uint64_t best = UINT64_MAX, ticks = 0, result = 0;
    for (int i = 0; i < 3; ++i) {
      if (!MeasureBatch(path, trial, arg, &ticks, &result, error)) return false;
      best = std::min(best, ticks);
    }
    const double per_call = std::max(1.0, static_cast<double>(best) / trial);
    const double seconds = path.mechanism == "runtime" ? kRuntimeBatchSeconds : kBatchSeconds;
    const double want = seconds * g_calibration.tsc_hz / per_call;
    b = 1;
    while (b * 2 <= want && b < kMaxBatch) b *= 2;
    if (b <= trial) break;
    trial = b;
  }
  *batch = chosen[&path] = b;
  return true;
}

Percentiles PerCallPass(const Path& path, uint64_t arg, std::string* error) {
  std::vector<uint64_t> samples;
  samples.reserve(kPerCallSamples);
  const uint64_t budget = static_cast<uint64_t>(kPerCallSeconds * g_calibration.tsc_hz);
  if (path.per_call) {
    path.per_call(kPerCallSamples, budget, arg, &samples, error);
    return ComputePercentiles(std::move(samples), g_calibration.pair_overhead,
                              g_calibration.tsc_hz);
  }
  const uint64_t start = TscStart();
  uint64_t ticks = 0, result = 0;
  while (samples.size() < kPerCallSamples && TscStart() - start < budget) {
    if (!MeasureBatch(path, 1, arg, &ticks, &result, error)) break;
    samples.push_back(ticks);
  }
  return ComputePercentiles(std::move(samples), g_calibration.pair_overhead,
                            g_calibration.tsc_hz);
}

// The row's message for a probe's reason: "failed: ..." (a correctness check) as it is,
// anything else as "skipped: <reason>".
std::string RowMessage(const std::string& reason) {
  return reason.rfind("failed: ", 0) == 0 ? reason : "skipped: " + reason;
}

void RunPath(benchmark::State& state, const Path* path, const std::string& skip_reason) {
  state.SetLabel(std::string(path->mechanism));
  if (!skip_reason.empty()) {
    state.SkipWithError(RowMessage(skip_reason).c_str());
    return;
  }
  const uint64_t arg = path->arg ? path->arg() : 0;
  std::string error;
  uint64_t batch = 1;
  if (!ChooseBatch(*path, arg, &batch, &error)) {
    state.SkipWithError(("skipped: " + error).c_str());
    return;
  }
  uint64_t total_ticks = 0, result = 0;
  while (state.KeepRunningBatch(static_cast<benchmark::IterationCount>(batch))) {
    uint64_t ticks = 0;
    if (!MeasureBatch(*path, batch, arg, &ticks, &result, &error)) {
      state.SkipWithError(("skipped: " + error).c_str());
      break;
    }
    total_ticks += ticks;
    state.SetIterationTime(static_cast<double>(ticks) / g_calibration.tsc_hz);
  }
  if (state.error_occurred()) return;
  if (path->expect && result != path->expect()) {
    char message[160];
    std::snprintf(message, sizeof message,
                  "failed: last call returned %" PRIu64 ", expected %" PRIu64, result,
                  path->expect());
    state.SkipWithError(message);
    return;
  }
  using benchmark::Counter;
  state.counters["tsc_ticks"] = Counter(static_cast<double>(total_ticks), Counter::kAvgIterations);
  state.counters["ratio_to_call"] =
      Counter(static_cast<double>(total_ticks) / g_calibration.call_ticks, Counter::kAvgIterations);
  state.counters["batch"] = static_cast<double>(batch);

  Percentiles pc = PerCallPass(*path, arg, &error);
  state.counters["p50_ns"] = pc.p50_ns;
  state.counters["p90_ns"] = pc.p90_ns;
  state.counters["p99_ns"] = pc.p99_ns;
  state.counters["p999_ns"] = pc.p999_ns;
  state.counters["percall_samples"] = static_cast<double>(pc.samples);
  state.counters["percall_outliers"] = static_cast<double>(pc.outliers);

  // vDSO rows: did the call stay in user mode? (docs/vdso.md, "Fallback detection")
  if (std::optional<FallbackVerdict> verdict = CheckVdsoFallback(*path)) {
    state.counters["vdso_fallback"] = verdict->fallback ? 1 : 0;
    state.counters["vdso_to_syscall_ratio"] = verdict->ratio;
  }

  // The counting pass's figures (already per call; absent when not counted here).
  auto counted = g_counts.by_path.find(path->name);
  if (counted == g_counts.by_path.end()) return;
  for (const auto& [column, value] : counted->second.per_call) state.counters[column] = value;
  const double ticks_per_call =
      static_cast<double>(total_ticks) / static_cast<double>(state.iterations());
  if (ticks_per_call > 0) {
    state.counters["observer_effect"] = counted->second.ticks_per_call / ticks_per_call;
  }
  if (counted->second.scale > GroupReading::kLargeScale) {
    state.counters["counters_scale"] = counted->second.scale;
  }
  if (ExpectedKernelEntries(path->mechanism)) {
    state.counters["counts_mismatch"] = counted->second.mismatch ? 1 : 0;
    // The counting pass saw this vDSO row enter the kernel: that is a fallback whatever
    // the paired timing check concluded.
    if (path->mechanism == "vdso" && counted->second.mismatch) {
      state.counters["vdso_fallback"] = 1;
    }
  }
}

// The probe's reason, or "" when the path can run here.
std::string SkipReason(const Path& path) {
  if (!path.probe) return "";
  std::optional<std::string> reason = path.probe();
  return reason ? *reason : "";
}

void ListPaths() {
  std::printf("%-40s %-12s %-22s %s\n", "path", "mechanism", "baseline", "status");
  for (const Path& path : AllPaths()) {
    std::string reason = SkipReason(path);
    std::printf("%-40.*s %-12.*s %-22.*s %s\n", static_cast<int>(path.name.size()),
                path.name.data(), static_cast<int>(path.mechanism.size()),
                path.mechanism.data(), static_cast<int>(path.baseline.size()),
                path.baseline.data(),
                reason.empty() ? "available" : RowMessage(reason).c_str());
  }
  std::printf("\nvDSO (%s, version %s) exports: %s\n", kVdsoSoname, kVdsoVersion,
              VdsoSymbolsString(Vdso::Process()).c_str());
  const std::string clocksource =
      ReadTrimmed("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::printf("vDSO clock mode: %s (clocksource %s; inferred, see docs/vdso.md)\n",
              VdsoClockModeFor(clocksource).c_str(), clocksource.c_str());
  std::printf("vsyscall page: %s\n", VsyscallMode().c_str());
  for (const auto& [key, value] : Ia32Context()) {
    std::printf("%s: %s\n", key.c_str(), value.c_str());
  }
  for (const auto& [key, value] : RuntimeContext()) {
    std::printf("%s: %s\n", key.c_str(), value.c_str());
  }
}

void ListEvents() {
  EventEncoder encoder;
  PerfPermissions perms = ReadPerfPermissions();
  std::printf("core PMU (libpfm4): %s\n",
              encoder.CorePmu().empty() ? "none" : encoder.CorePmu().c_str());
  if (!encoder.HaveLibpfm()) std::printf("note: %s\n", encoder.init_error().c_str());
  std::printf("\ndefault counters (--counters=auto):\n");
  CounterPlan plan = DefaultCounterPlan(encoder, perms);
  for (const CounterSpec& spec : plan.counters) {
    EncodeResult enc = encoder.Encode(spec.event);
    std::string status = "available";
    if (!enc.event) {
      status = enc.error;
    } else {
      std::vector<EventFailure> failures;
      PerfGroup probe = PerfGroup::Open({*enc.event}, 0, perms, &failures);
      if (!failures.empty()) status = failures.front().reason;
      status = std::string(SourceName(enc.event->source)) + ", " + status;
    }
    std::printf("  %-20s %-45s %s\n", spec.column.c_str(), spec.event.c_str(), status.c_str());
  }
  for (const EventFailure& f : plan.unavailable) {
    std::printf("  %-20s %-45s %s\n", f.event.c_str(), "-", f.reason.c_str());
  }
  std::printf("\nevents libpfm4 knows for the PMUs it detects (any can go in --counters=LIST; PMU events still need the kernel to expose the PMU, see above):\n");
  for (const std::string& line : ListSupportedEvents(encoder)) std::printf("  %s\n", line.c_str());
}

// Whether Google Benchmark's --benchmark_filter selects `path` (same regex dialect, and a
// leading '-' negates), so the counting pass counts only the rows that will run.
bool FilterSelects(const std::string& filter, const Path& path) {
  if (filter.empty() || filter == "all" || filter == ".") return true;
  const bool negate = filter[0] == '-';
  try {
    std::regex re(negate ? filter.substr(1) : filter, std::regex::extended);
    bool match = std::regex_search(std::string(path.name) + "/manual_time", re);
    return match != negate;
  } catch (const std::regex_error&) {
    return true;  // Google Benchmark reports the bad filter itself
  }
}

// The counting pass (before any timing), its context keys and warnings. Every perf fd it
// opens is closed when it returns.
void CountPaths(const std::string& counters, const std::vector<std::string>& skip_reasons,
                std::vector<std::pair<std::string, std::string>>* ctx) {
  ctx->emplace_back("counters", counters);
  if (counters == "none") return;
  EventEncoder encoder;
  PerfPermissions perms = ReadPerfPermissions();
  CounterPlan plan;
  if (counters == "auto") {
    plan = DefaultCounterPlan(encoder, perms);
  } else {
    std::string error;
    auto parsed = ParseCounterList(counters, encoder, perms, &error);
    if (!parsed) Usage(error);
    plan = std::move(*parsed);
  }
  std::vector<const Path*> selected;
  const std::string filter = benchmark::GetBenchmarkFilter();
  for (size_t i = 0; i < AllPaths().size(); ++i) {
    const Path& path = AllPaths()[i];
    if (skip_reasons[i].empty() && FilterSelects(filter, path)) selected.push_back(&path);
  }
  // The ia32 helper's rows are counted on its pid (it is already running: the probes
  // started it).
  g_counts = RunCountingPass(selected, plan, encoder, perms, g_calibration.tsc_hz, 0.01,
                             Ia32Client::Shared().helper_pid());
  for (const auto& kv : g_counts.context) ctx->push_back(kv);
  for (const std::string& w : g_counts.warnings) {
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
}

Calibration Calibrate(const TscInfo& tsc) {
  Calibration c;
  c.tsc_hz = tsc.hz;
  c.pair_overhead = MeasureTscPairOverhead();
  // Best of several long batches: the divisor of every ratio must not carry a spike.
  constexpr uint64_t kCalls = 1u << 16;
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 7; ++i) {
    uint64_t t0 = TscStart();
    sysgate_call_loop(kCalls, 0);
    best = std::min(best, TscStop() - t0);
  }
  c.call_ticks = static_cast<double>(best) / kCalls;
  return c;
}

void Warn(const std::string& message) { std::fprintf(stderr, "warning: %s\n", message.c_str()); }

// Warnings about things that make every number of this run wrong, with the remedy.
void WarnAboutEnvironment(const std::vector<std::pair<std::string, std::string>>& ctx) {
  for (const auto& [key, value] : ctx) {
    if (key == "tracing_active" && value != "none" && value != kUnknown) {
      Warn("tracing is active (" + value + "): every syscall takes the slow path; "
           "echo nop > /sys/kernel/tracing/current_tracer and clear set_event");
    } else if (key == "seccomp" && value != "0" && value != kUnknown) {
      Warn("a seccomp filter is attached to this process (Seccomp: " + value +
           "): each syscall runs it; run outside the container or sandbox");
    } else if (key == "tracer_pid" && value != "0" && value != kUnknown) {
      Warn("this process is being ptraced (TracerPid " + value + "): syscalls are slowed");
    }
  }
}

}  // namespace
}  // namespace sysgate

int main(int argc, char** argv) {
  using namespace sysgate;
  Options opt = ParseOptions(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (opt.list_paths) {
    ListPaths();
    return 0;
  }
  if (opt.list_events) {
    ListEvents();
    return 0;
  }

  int cpu = -1;
  if (opt.pin) {
    cpu = opt.cpu.value_or(DefaultCpu());
    std::string error;
    if (!PinToCpu(cpu, &error)) {
      if (opt.cpu) {
        std::fprintf(stderr, "error: --cpu=%d: %s\n", cpu, error.c_str());
        return 2;
      }
      Warn(error + "; running unpinned");
      cpu = -1;
    }
  }

  TscInfo tsc = CalibrateTsc();
  if (!tsc.invariant) {
    Warn("the TSC is not invariant (no constant_tsc/nonstop_tsc): ns figures may drift "
         "with frequency changes");
  }
  g_calibration = Calibrate(tsc);
  // The runtime helpers time in ns (Java, Python): converted at this run's TSC rate.
  RuntimeClient::SetClock(tsc.hz, g_calibration.pair_overhead);

  auto ctx = CaptureEnvironment("", cpu);
  ctx.emplace_back("tsc_hz", std::to_string(static_cast<uint64_t>(tsc.hz)));
  ctx.emplace_back("tsc_invariant", tsc.invariant ? "true" : "false");
  ctx.emplace_back("tsc_calibration", tsc.how);
  ctx.emplace_back("tsc_pair_overhead_ticks", std::to_string(g_calibration.pair_overhead));
  ctx.emplace_back("baseline_call_tsc_ticks", std::to_string(g_calibration.call_ticks));
  ctx.emplace_back("sysgate_version", SYSGATE_VERSION);
  {
    // Starts the ia32 helper (it inherits this thread's pinning); its rows say why if not.
    const Ia32Client& ia32 = Ia32Client::Shared();
    ctx.emplace_back("ia32_helper",
                     ia32.ok() ? ia32.helper_path() : "unavailable: " + ia32.error());
    for (auto& kv : Ia32Context()) ctx.push_back(std::move(kv));
  }
  // Starts the language-runtime helpers (pinned like the ia32 helper).
  for (auto& kv : RuntimeContext()) ctx.push_back(std::move(kv));
  WarnAboutEnvironment(ctx);

  std::vector<std::string> skip_reasons;
  for (const Path& path : AllPaths()) skip_reasons.push_back(SkipReason(path));
  CountPaths(opt.counters, skip_reasons, &ctx);
  // Broken invariant if the counting pass left a perf fd open: it would slow every
  // syscall of the timing pass (an open tracepoint counter does even while disabled).
  if (int left = CountPerfEventFds("/proc", getpid()); left != 0) {
    std::fprintf(stderr, "%s:%d: the counting pass left %d perf_event fds open\n", __FILE__,
                 __LINE__, left);
    std::abort();
  }
  // Someone else's counters (a system-wide `perf stat -e raw_syscalls:*`) slow every
  // syscall on the machine.
  std::vector<std::string> holders = OtherPerfEventHolders("/proc", getpid());
  std::string holders_text;
  for (const std::string& h : holders) holders_text += (holders_text.empty() ? "" : "; ") + h;
  ctx.emplace_back("perf_fds_other", !holders.empty() ? holders_text
                                     : geteuid() == 0 ? "none"
                                                      : "unknown (not root: other users' "
                                                        "fds are not visible)");
  if (!holders.empty()) {
    Warn("other processes hold perf_event file descriptors (" + holders_text +
         "): an open tracepoint or counter slows every syscall on the machine; stop them "
         "(perf, bpftrace, profilers) before timing");
  }
  for (const auto& [key, value] : ctx) benchmark::AddCustomContext(key, value);

  for (size_t i = 0; i < AllPaths().size(); ++i) {
    const Path& path = AllPaths()[i];
    benchmark::RegisterBenchmark(std::string(path.name).c_str(), RunPath, &path,
                                 skip_reasons[i])
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
  // Rows are named <path>/manual_time, and --benchmark_filter matches that full name.
  size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ran == 0) {
    std::fprintf(stderr, "error: no path matches --benchmark_filter (rows are named "
                 "<path>/manual_time; see --list-paths)\n");
    return 2;
  }
  return 0;
}
