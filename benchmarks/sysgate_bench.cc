// sysgate_bench: every path of the table as a Google Benchmark row, timed with the TSC.
//
// This file is flag parsing, listing, registration and output; how a path is measured
// lives in harness/measure/runner.h. `sysgate_bench --help` lists sysgate's own flags, then
// Google Benchmark's (--benchmark_filter, --benchmark_repetitions, --benchmark_out=FILE
// --benchmark_out_format=json, ...).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "harness/coprocess/ia32_client.h"
#include "harness/measure/counting_pass.h"
#include "harness/measure/pinning.h"
#include "harness/measure/runner.h"
#include "harness/output/reporters.h"
#include "harness/paths/ia32_paths.h"
#include "harness/paths/paths.h"
#include "harness/paths/runtime_paths.h"
#include "harness/platform/check.h"
#include "harness/platform/cycle_clock.h"
#include "harness/platform/environment.h"
#include "harness/platform/run_facts.h"
#include "harness/platform/vdso.h"
#include "harness/platform/vsyscall.h"

namespace sysgate {
namespace {

// sysgate's own flags, one line each, for --help and the usage line.
constexpr const char* kHelp[][2] = {
    {"--cpu=N", "pin the measuring thread to CPU N (default: the last allowed CPU)"},
    {"--cpu=none", "do not pin"},
    {"--list-paths", "print the path table (facts, availability) and exit"},
    {"--format=text|json", "how --list-paths prints: a table (default), or JSON"},
    {"--counters=auto|none|LIST", "the counting pass before timing (docs/perf_counters.md)"},
    {"--list-events", "print the perf events this machine offers, and the default set"},
    {"--ia32-helper=PATH", "the 32-bit helper (default: $SYSGATE_IA32_HELPER, or beside this)"},
    {"--benchmark_out=FILE", "write the results JSON there; a short write exits 1"},
    {"--help", "this list, then Google Benchmark's flags"},
};

// The run's context keys, in the order the results file lists them.
using Context = std::vector<std::pair<std::string, std::string>>;

struct Options {
  std::optional<int> cpu;  // nullopt: the default CPU
  bool pin = true;
  bool list_paths = false;
  bool json = false;              // --format=json
  std::string counters = "auto";  // auto | none | comma-separated events
  bool list_events = false;
  bool help = false;
  std::string out_file;             // --benchmark_out, written by WriteResults
  std::string display = "console";  // --benchmark_format
};

void PrintHelp() {
  std::printf(
      "sysgate_bench: the latency of every way into the Linux kernel, one row per path\n"
      "(docs/methodology.md, docs/results-format.md)\n\nsysgate flags:\n");
  for (const auto& [flag, what] : kHelp) std::printf("  %-27s %s\n", flag, what);
  std::printf("\nGoogle Benchmark flags:\n");
  std::fflush(stdout);
}

[[noreturn]] void Usage(const std::string& problem) {
  std::string flags;
  for (const auto& [flag, what] : kHelp) flags += std::string(" [") + flag + "]";
  std::fprintf(stderr, "error: %s\nusage: sysgate_bench%s [google benchmark flags]\n",
               problem.c_str(), flags.c_str());
  std::exit(2);
}

// The value of `--name=value` or `--name value` (advancing *i), or nullopt when argv[*i]
// is not that flag.
std::optional<std::string> FlagValue(std::string_view name, int* i, int argc, char** argv,
                                     const char* needs = "a value") {
  std::string_view arg = argv[*i];
  if (arg.rfind(name, 0) != 0) return std::nullopt;
  std::string_view rest = arg.substr(name.size());
  if (rest.empty()) {
    if (*i + 1 >= argc) Usage(std::string(name) + " needs " + needs);
    return std::string(argv[++*i]);
  }
  if (rest[0] != '=') return std::nullopt;
  return std::string(rest.substr(1));
}

// Takes sysgate's flags (and the output flags sysgate writes itself) out of argv so
// Google Benchmark sees only the rest.
Options ParseOptions(int* argc, char** argv) {
  Options opt;
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--list-paths") {
      opt.list_paths = true;
    } else if (arg == "--list-events") {
      opt.list_events = true;
    } else if (arg == "--help" || arg == "-h") {
      opt.help = true;
      argv[out++] = argv[i];  // Google Benchmark prints its own flags after ours
    } else if (auto v = FlagValue("--format", &i, *argc, argv)) {
      if (*v != "text" && *v != "json") Usage("--format must be text or json, not '" + *v + "'");
      opt.json = *v == "json";
    } else if (auto v = FlagValue("--ia32-helper", &i, *argc, argv)) {
      Ia32Client::SetHelperPath(*v);
    } else if (auto v =
                   FlagValue("--counters", &i, *argc, argv, "auto, none or a list of events")) {
      if (v->empty()) Usage("--counters needs auto, none or a list of events");
      opt.counters = *v;
    } else if (auto v = FlagValue("--benchmark_out_format", &i, *argc, argv)) {
      if (*v != "json") Usage("--benchmark_out_format: sysgate writes json only, not '" + *v + "'");
    } else if (auto v = FlagValue("--benchmark_out", &i, *argc, argv)) {
      if (v->empty()) Usage("--benchmark_out needs a file name");
      opt.out_file = *v;
    } else if (auto v = FlagValue("--benchmark_format", &i, *argc, argv)) {
      if (*v != "console" && *v != "json") {
        Usage("--benchmark_format must be console or json, not '" + *v + "'");
      }
      opt.display = *v;
    } else if (auto v = FlagValue("--cpu", &i, *argc, argv, "a CPU number or 'none'")) {
      if (*v == "none") {
        opt.pin = false;
        continue;
      }
      char* end = nullptr;
      long cpu = std::strtol(v->c_str(), &end, 10);
      if (v->empty() || *end != '\0' || cpu < 0) Usage("--cpu: '" + *v + "' is not a CPU number");
      opt.cpu = static_cast<int>(cpu);
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
  return opt;
}

// The probe's reason, or "" when the path can run here.
std::string SkipReason(const Path& path) {
  if (!path.probe) return "";
  std::optional<std::string> reason = path.probe();
  return reason ? *reason : "";
}

// Every row's probe, in table order: "" for the rows that can run here.
std::vector<std::string> SkipReasons() {
  std::vector<std::string> reasons;
  for (const Path& path : AllPaths()) reasons.push_back(SkipReason(path));
  return reasons;
}

std::vector<std::string> Statuses() {
  std::vector<std::string> statuses;
  for (const std::string& reason : SkipReasons()) {
    statuses.push_back(reason.empty() ? "available" : RowMessage(reason));
  }
  return statuses;
}

void ListPaths(bool json) {
  const std::vector<std::string> statuses = Statuses();
  if (json) {
    std::fputs(PathsJson(statuses).c_str(), stdout);
    return;
  }
  std::printf("%-40s %-14s %-6s %-20s %-7s %s\n", "path", "mechanism", "abi", "baseline", "entries",
              "status");
  for (size_t i = 0; i < AllPaths().size(); ++i) {
    const Path& path = AllPaths()[i];
    const std::string_view mechanism = MechanismName(path.mechanism);
    const std::string_view abi = AbiName(path.abi);
    char entries[16] = "?";
    if (path.expected_entries_known()) {
      std::snprintf(entries, sizeof entries, "%g", path.expected_entries);
    }
    std::printf("%-40.*s %-14.*s %-6.*s %-20.*s %-7s %s\n", static_cast<int>(path.name.size()),
                path.name.data(), static_cast<int>(mechanism.size()), mechanism.data(),
                static_cast<int>(abi.size()), abi.data(), static_cast<int>(path.baseline.size()),
                path.baseline.data(), entries, statuses[i].c_str());
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
  std::printf(
      "\nevents libpfm4 knows for the PMUs it detects (any can go in --counters=LIST; "
      "PMU events still need the kernel to expose the PMU, see above):\n");
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

// The counting pass (before any timing) and its context keys. Every perf fd it opens is
// closed when it returns.
CountingResult CountPaths(const std::string& counters, const std::vector<std::string>& skip_reasons,
                          double tsc_hz, Context* ctx) {
  ctx->emplace_back("counters", counters);
  if (counters == "none") return {};
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
  CountingResult counts = RunCountingPass(selected, plan, encoder, perms, tsc_hz, 0.01,
                                          Ia32Client::Shared().helper_pid());
  for (const auto& kv : counts.context) ctx->push_back(kv);
  // What the counts say about the paths (mismatches, multiplexing) is for this run's
  // reader, on stderr; checks.py reads the same facts from the file.
  for (const std::string& w : counts.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return counts;
}

// Pins the measuring thread; returns the CPU, or -1 (unpinned, with the reason in ctx).
int Pin(const Options& opt, Context* ctx) {
  if (!opt.pin) return -1;
  const int cpu = opt.cpu.value_or(DefaultCpu());
  std::string error;
  if (PinToCpu(cpu, &error)) return cpu;
  if (opt.cpu) {
    std::fprintf(stderr, "error: --cpu=%d: %s\n", cpu, error.c_str());
    std::exit(2);
  }
  ctx->emplace_back("pinning_error", error);  // pinned_cpu says "none"; checks.py warns
  return -1;
}

// --list-paths or --list-events: prints the list; the exit code says whether it was
// written.
int PrintListing(const Options& opt) {
  if (opt.list_paths) {
    ListPaths(opt.json);
  } else {
    ListEvents();
  }
  return std::fflush(stdout) == 0 && !std::ferror(stdout) ? 0 : 1;
}

// The machine and the kernel (first in the context, before what pinning said).
void AddEnvironment(int cpu, Context* ctx) {
  auto env = CaptureEnvironment("", cpu);
  ctx->insert(ctx->begin(), env.begin(), env.end());
}

// The call baseline every ratio divides by, with the clock's facts in the context; the
// runtime helpers time in ns (Java, Python) and are converted at this run's TSC rate.
Calibration CalibrateBaseline(const TscInfo& tsc, Context* ctx) {
  const Calibration calibration = Calibrate(tsc);
  RuntimeClient::SetClock(tsc.hz, calibration.pair_overhead);
  ctx->emplace_back("tsc_hz", std::to_string(static_cast<uint64_t>(tsc.hz)));
  ctx->emplace_back("tsc_invariant", tsc.invariant ? "true" : "false");
  ctx->emplace_back("tsc_calibration", tsc.how);
  ctx->emplace_back("tsc_pair_overhead_ticks", std::to_string(calibration.pair_overhead));
  ctx->emplace_back("baseline_call_tsc_ticks", std::to_string(calibration.call_ticks));
  ctx->emplace_back("sysgate_version", SYSGATE_VERSION);
  ctx->emplace_back("estimator", "median_of_unpreempted_batches");
  return calibration;
}

// Starts the ia32 helper and the language-runtime helpers (they inherit this thread's
// pinning); their rows say why if one did not start.
void StartHelpers(Context* ctx) {
  const Ia32Client& ia32 = Ia32Client::Shared();
  ctx->emplace_back("ia32_helper", ia32.ok() ? ia32.helper_path() : "unavailable: " + ia32.error());
  for (auto& kv : Ia32Context()) ctx->push_back(std::move(kv));
  for (auto& kv : RuntimeContext()) ctx->push_back(std::move(kv));
}

// No perf fd of ours may be open now: one left open would slow every syscall of the
// timing pass (an open tracepoint counter does even while disabled). Someone else's
// counters (a system-wide `perf stat -e raw_syscalls:*`) slow every syscall on the
// machine: recorded here, turned into a warning by checks.py.
void CheckPerfFds(Context* ctx) {
  SYSGATE_CHECK(CountPerfEventFds("/proc", getpid()) == 0);
  std::vector<std::string> holders = OtherPerfEventHolders("/proc", getpid());
  std::string holders_text;
  for (const std::string& h : holders) holders_text += (holders_text.empty() ? "" : "; ") + h;
  ctx->emplace_back("perf_fds_other", !holders.empty() ? holders_text
                                      : geteuid() == 0 ? "none"
                                                       : "unknown (not root: other users' "
                                                         "fds are not visible)");
}

// One Google Benchmark row per path, its body the runner (a skip when its probe said so).
void RegisterRows(Runner* runner, const std::vector<std::string>& skip_reasons) {
  for (size_t i = 0; i < AllPaths().size(); ++i) {
    const Path* path = &AllPaths()[i];
    benchmark::RegisterBenchmark(std::string(path->name).c_str(),
                                 [runner, path, reason = skip_reasons[i]](benchmark::State& s) {
                                   runner->Run(s, *path, reason);
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kNanosecond);
  }
}

// The results file: Google Benchmark's JSON plus the run's facts from before and after.
int WriteResults(const std::string& file, const std::string& json, const RunSnapshot& start,
                 const RunSnapshot& end) {
  std::string error;
  const std::string text = AddContextKeys(json, RunFactsContext(start, end));
  if (!WriteFileCompletely(file, text, &error)) {
    std::fprintf(stderr, "error: results not written: %s\n", error.c_str());
    return 1;
  }
  return 0;
}

// Runs the registered rows: the console table (or JSON on stdout), and the results JSON
// buffered for the file; the exit code.
int RunRows(const Options& opt, int cpu) {
  std::unique_ptr<benchmark::BenchmarkReporter> display;
  if (opt.display == "json") {
    display = std::make_unique<benchmark::JSONReporter>();
  } else {
    display = std::make_unique<CompactConsoleReporter>();
  }
  std::ostringstream buffer;
  benchmark::JSONReporter file_json;
  file_json.SetOutputStream(&buffer);
  file_json.SetErrorStream(&buffer);
  TeeReporter tee(display.get(), &file_json);

  const RunSnapshot start = TakeRunSnapshot(cpu);
  // Rows are named <path>/manual_time, and --benchmark_filter matches that full name.
  const size_t ran = benchmark::RunSpecifiedBenchmarks(opt.out_file.empty() ? display.get() : &tee);
  const RunSnapshot end = TakeRunSnapshot(cpu);
  benchmark::Shutdown();
  if (ran == 0) {
    std::fprintf(stderr,
                 "error: no path matches --benchmark_filter (rows are named "
                 "<path>/manual_time; see --list-paths)\n");
    return 2;
  }
  if (!opt.out_file.empty() && WriteResults(opt.out_file, buffer.str(), start, end) != 0) return 1;
  std::fflush(stdout);
  if (std::ferror(stdout)) {
    std::fprintf(stderr, "error: writing to standard output failed\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace sysgate

int main(int argc, char** argv) {
  using namespace sysgate;
  Options opt = ParseOptions(&argc, argv);
  if (opt.help) PrintHelp();  // then Google Benchmark prints its flags and exits
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  if (opt.list_paths || opt.list_events) return PrintListing(opt);

  Context ctx;
  const int cpu = Pin(opt, &ctx);
  const TscInfo tsc = CalibrateTsc();
  AddEnvironment(cpu, &ctx);
  const Calibration calibration = CalibrateBaseline(tsc, &ctx);
  StartHelpers(&ctx);
  const std::vector<std::string> skip_reasons = SkipReasons();
  const CountingResult counts = CountPaths(opt.counters, skip_reasons, tsc.hz, &ctx);
  CheckPerfFds(&ctx);
  for (const auto& [key, value] : ctx) benchmark::AddCustomContext(key, value);

  Runner runner(calibration, counts);
  RegisterRows(&runner, skip_reasons);
  return RunRows(opt, cpu);
}
