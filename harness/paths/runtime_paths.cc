#include "harness/paths/runtime_paths.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "harness/platform/cycle_clock.h"

namespace sysgate {
namespace {

// The runtime line protocol (docs/runtimes.md): the co-process verbs of
// harness/coprocess/coprocess_client.h, a hello line with tid=, unit= and runtime=.
constexpr char kGreeting[] = "sysgate-runtime";
constexpr int kProtocolVersion = 1;

constexpr char kGoHelper[] = "sysgate_go_helper";
constexpr char kJavaClassDir[] = "java";
constexpr char kJavaClass[] = "SysgateJavaHelper";
constexpr char kPythonHelper[] = "sysgate_python_helper.py";

// The helpers' variant names (benchmarks/runtimes/*: their variant tables).
constexpr char kCall[] = "call";
constexpr char kGoOs[] = "os";
constexpr char kGoSyscall[] = "syscall";
constexpr char kGoRawSyscall[] = "rawsyscall";
constexpr char kJavaProcessHandle[] = "processhandle";
constexpr char kPythonOs[] = "os";

struct Clock {
  double tsc_hz = 0;
  uint64_t pair_overhead = 0;
};

Clock& DriverClock() {
  static Clock clock;
  return clock;
}

// The driver's clock, measured here when sysgate_bench did not hand it over (tests).
const Clock& ClockForConversion() {
  Clock& clock = DriverClock();
  if (clock.tsc_hz <= 0) {
    clock.tsc_hz = CalibrateTsc().hz;
    clock.pair_overhead = MeasureTscPairOverhead();
  }
  return clock;
}

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// `name` on $PATH, or "".
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (IsExecutable(candidate)) return candidate;
  }
  return "";
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::optional<std::vector<std::string>> GoCommand(const std::string& dir, std::string* why) {
  const std::string helper = dir + "/" + kGoHelper;
  if (IsExecutable(helper)) return std::vector<std::string>{helper};
  *why = FindOnPath("go").empty()
             ? "Go toolchain not installed: apt-get install golang-go (then rebuild)"
             : "the Go helper was not built (" + helper +
                   " missing): rebuild (cmake --build build) now that Go is installed";
  return std::nullopt;
}

std::optional<std::vector<std::string>> JavaCommand(const std::string& dir, std::string* why) {
  const char* env = std::getenv(kJavaEnv);
  const std::string java = env && *env ? std::string(env) : FindOnPath("java");
  if (java.empty() || !IsExecutable(java)) {
    *why = "Java runtime not installed: apt-get install default-jdk-headless";
    return std::nullopt;
  }
  const std::string classes = dir + "/" + kJavaClassDir;
  if (!Exists(classes + "/" + kJavaClass + ".class")) {
    *why = FindOnPath("javac").empty()
               ? "Java compiler not installed: apt-get install default-jdk-headless (then "
                 "rebuild)"
               : "the Java helper was not built (" + classes + "/" + kJavaClass +
                     ".class missing): rebuild (cmake --build build)";
    return std::nullopt;
  }
  const std::string self = kJavaClass;
  return std::vector<std::string>{
      java,
      // Before the other CompileCommands: they would print a line each on stdout, which
      // is the protocol socket.
      "-XX:CompileCommand=quiet",
      // Each loop iteration stays a real call once C2 has compiled the loop (the body of
      // the callee is inlined into it), like the C rows' calls of an asm stub.
      "-XX:CompileCommand=dontinline," + self + "::dummyCall",
      "-XX:CompileCommand=dontinline," + self + "::processHandlePid",
      // The JIT compiles in the foreground: the helper's fixed warm-up (twice the C2
      // invocation threshold) then leaves compiled code, whatever the machine's load.
      "-Xbatch",
      // One GC thread and a small heap: the loops allocate nothing, and every JVM thread
      // shares the pinned CPU.
      "-XX:+UseSerialGC", "-Xmx64m",
      // No hsperfdata file in /tmp: nothing to mmap and update behind the loops.
      "-XX:-UsePerfData", "-cp", classes, self};
}

std::optional<std::vector<std::string>> PythonCommand(const std::string& dir, std::string* why) {
  const char* env = std::getenv(kPythonEnv);
  const std::string python = env && *env ? std::string(env) : kDefaultPython;
  if (!IsExecutable(python)) {
    *why = "Python not installed at " + python + ": apt-get install python3";
    return std::nullopt;
  }
  const std::string script = dir + "/" + kPythonHelper;
  if (!Exists(script)) {
    *why = "the Python helper is missing (" + script + "): rebuild (cmake --build build)";
    return std::nullopt;
  }
  // -I: isolated (no PYTHONPATH, no user site-packages): the same interpreter state on
  // every machine.
  return std::vector<std::string>{python, "-I", script};
}

template <Runtime kRuntime, const char* kVariant>
bool Timed(uint64_t iterations, uint64_t /*arg*/, uint64_t* ticks, uint64_t* result,
           std::string* error, bool* preempted) {
  return RuntimeClient::Shared(kRuntime).Run(kVariant, iterations, ticks, result, error, preempted);
}

template <Runtime kRuntime, const char* kVariant>
bool PerCall(uint64_t max_samples, uint64_t budget_ticks, uint64_t /*arg*/,
             std::vector<uint64_t>* ticks, std::string* error) {
  return RuntimeClient::Shared(kRuntime).PerCall(kVariant, max_samples, budget_ticks, ticks, error);
}

template <Runtime kRuntime, const char* kVariant>
std::optional<std::string> Probe() {
  return RuntimeClient::Shared(kRuntime).Probe(kVariant);
}

template <Runtime kRuntime>
uint64_t ExpectRuntimePid() {
  return static_cast<uint64_t>(RuntimeClient::Shared(kRuntime).pid());
}

uint64_t ExpectRuntimeDummy() { return kRuntimeDummyId; }

// The helper's loop thread: what the counting pass counts this runtime's rows on.
template <Runtime kRuntime>
pid_t RuntimeThread() {
  return RuntimeClient::Shared(kRuntime).tid();
}

}  // namespace

std::string_view RuntimeName(Runtime runtime) {
  switch (runtime) {
    case Runtime::kGo:
      return "Go";
    case Runtime::kJava:
      return "Java";
    case Runtime::kPython:
      return "Python";
  }
  return "?";
}

std::string RuntimesDir() {
  if (const char* env = std::getenv(kRuntimesDirEnv); env && *env) return env;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "runtimes";
  return (self.parent_path() / "runtimes").string();
}

std::optional<std::vector<std::string>> RuntimeCommand(Runtime runtime, const std::string& dir,
                                                       std::string* why) {
  switch (runtime) {
    case Runtime::kGo:
      return GoCommand(dir, why);
    case Runtime::kJava:
      return JavaCommand(dir, why);
    case Runtime::kPython:
      return PythonCommand(dir, why);
  }
  *why = "unknown runtime";
  return std::nullopt;
}

RuntimeClient::RuntimeClient(Runtime runtime, const std::string& dir) : runtime_(runtime) {
  std::optional<std::vector<std::string>> command = RuntimeCommand(runtime, dir, &error_);
  if (!command) return;
  const std::string name = std::string(RuntimeName(runtime)) + " helper";
  client_ = std::make_unique<CoprocessClient>(
      CoprocessSpec{name, std::move(*command), kGreeting, kProtocolVersion, nullptr});
  if (!client_->ok()) {
    error_ = client_->error();
    return;
  }
  const std::string unit = client_->HelloField("unit").value_or("");
  if (unit != "tsc" && unit != "ns") {
    error_ = name + " reports its times in '" + unit + "', not tsc or ns";
    client_.reset();
    return;
  }
  nanoseconds_ = unit == "ns";
}

RuntimeClient& RuntimeClient::Shared(Runtime runtime) {
  // Started on first use, stopped (quit, then reaped) at exit.
  static RuntimeClient go(Runtime::kGo, RuntimesDir());
  if (runtime == Runtime::kGo) return go;
  static RuntimeClient java(Runtime::kJava, RuntimesDir());
  if (runtime == Runtime::kJava) return java;
  static RuntimeClient python(Runtime::kPython, RuntimesDir());
  return python;
}

void RuntimeClient::SetClock(double tsc_hz, uint64_t pair_overhead_ticks) {
  DriverClock() = {tsc_hz, pair_overhead_ticks};
}

pid_t RuntimeClient::tid() const {
  if (!ok()) return -1;
  std::optional<std::string> tid = client_->HelloField("tid");
  return tid ? static_cast<pid_t>(std::strtol(tid->c_str(), nullptr, 10)) : client_->pid();
}

std::string RuntimeClient::version() const {
  return ok() ? client_->HelloField("runtime").value_or("unknown") : "";
}

double RuntimeClient::TicksPerUnit() const {
  return nanoseconds_ ? ClockForConversion().tsc_hz / 1e9 : 1.0;
}

std::optional<std::string> RuntimeClient::Probe(std::string_view variant) {
  if (!ok()) return error();
  return client_->Probe(variant);
}

bool RuntimeClient::Run(std::string_view variant, uint64_t iterations, uint64_t* ticks,
                        uint64_t* result, std::string* error, bool* preempted) {
  if (!ok()) {
    *error = this->error();
    return false;
  }
  uint64_t elapsed = 0;
  if (!client_->Run(variant, iterations, &elapsed, result, error, preempted)) return false;
  *ticks = static_cast<uint64_t>(std::llround(static_cast<double>(elapsed) * TicksPerUnit()));
  return true;
}

bool RuntimeClient::PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget_ticks,
                            std::vector<uint64_t>* ticks, std::string* error) {
  if (!ok()) {
    *error = this->error();
    return false;
  }
  const double per_unit = TicksPerUnit();
  const uint64_t budget = static_cast<uint64_t>(static_cast<double>(budget_ticks) / per_unit);
  std::vector<uint64_t> samples;
  if (!client_->PerCall(variant, max_samples, budget, &samples, error)) return false;
  // The helper already took its own empty clock pair off each sample; the per-call pass
  // takes the driver's TSC pair off again, so it is added back here.
  const uint64_t pair = ClockForConversion().pair_overhead;
  for (uint64_t s : samples) {
    ticks->push_back(static_cast<uint64_t>(std::llround(static_cast<double>(s) * per_unit)) + pair);
  }
  return true;
}

// clang-format off
std::vector<Path> RuntimePaths() {
  constexpr Runtime kGo = Runtime::kGo, kJava = Runtime::kJava, kPy = Runtime::kPython;
  // The getpid rows are the runtime's own way in (mechanism runtime); each runtime's
  // baseline is a plain call in that language (mechanism call, like every baseline).
  constexpr Mechanism kRt = Mechanism::kRuntime, kCallM = Mechanism::kCall;
  // Expected kernel entries: 0 for the call baselines (controls); 1 for the Go rows (the
  // syscall package executes SYSCALL on every call, whatever the Go version); unknown for
  // Java and Python, which depend on the runtime and the C library installed (a JDK may
  // cache the pid, a glibc older than 2.25 did): the counting pass says (docs/runtimes.md).
  constexpr double kUnknown = kEntriesUnknown;
  std::vector<Path> rows = {
    {.name = "baseline/go_call",          .mechanism = kCallM, .expected_entries = 0,                                        .expect = ExpectRuntimeDummy,      .probe = Probe<kGo, kCall>,                .timed = Timed<kGo, kCall>,                .per_call = PerCall<kGo, kCall>,                .baseline = kCallBaseline,          .counted_thread = RuntimeThread<kGo>},
    {.name = "getpid/go_os",              .mechanism = kRt,    .expected_entries = 1,        .peer = "getpid/go_rawsyscall", .expect = ExpectRuntimePid<kGo>,   .probe = Probe<kGo, kGoOs>,                .timed = Timed<kGo, kGoOs>,                .per_call = PerCall<kGo, kGoOs>,                .baseline = "baseline/go_call",     .counted_thread = RuntimeThread<kGo>},
    {.name = "getpid/go_syscall",         .mechanism = kRt,    .expected_entries = 1,        .peer = "getpid/go_rawsyscall", .expect = ExpectRuntimePid<kGo>,   .probe = Probe<kGo, kGoSyscall>,           .timed = Timed<kGo, kGoSyscall>,           .per_call = PerCall<kGo, kGoSyscall>,           .baseline = "baseline/go_call",     .counted_thread = RuntimeThread<kGo>},
    {.name = "getpid/go_rawsyscall",      .mechanism = kRt,    .expected_entries = 1,        .peer = "getpid/syscall",       .expect = ExpectRuntimePid<kGo>,   .probe = Probe<kGo, kGoRawSyscall>,        .timed = Timed<kGo, kGoRawSyscall>,        .per_call = PerCall<kGo, kGoRawSyscall>,        .baseline = "baseline/go_call",     .counted_thread = RuntimeThread<kGo>},
    {.name = "baseline/java_call",        .mechanism = kCallM, .expected_entries = 0,                                        .expect = ExpectRuntimeDummy,      .probe = Probe<kJava, kCall>,              .timed = Timed<kJava, kCall>,              .per_call = PerCall<kJava, kCall>,              .baseline = kCallBaseline,          .counted_thread = RuntimeThread<kJava>},
    {.name = "getpid/java_processhandle", .mechanism = kRt,    .expected_entries = kUnknown, .peer = "getpid/glibc",         .expect = ExpectRuntimePid<kJava>, .probe = Probe<kJava, kJavaProcessHandle>, .timed = Timed<kJava, kJavaProcessHandle>, .per_call = PerCall<kJava, kJavaProcessHandle>, .baseline = "baseline/java_call",   .counted_thread = RuntimeThread<kJava>},
    {.name = "baseline/python_call",      .mechanism = kCallM, .expected_entries = 0,                                        .expect = ExpectRuntimeDummy,      .probe = Probe<kPy, kCall>,                .timed = Timed<kPy, kCall>,                .per_call = PerCall<kPy, kCall>,                .baseline = kCallBaseline,          .counted_thread = RuntimeThread<kPy>},
    {.name = "getpid/python_os",          .mechanism = kRt,    .expected_entries = kUnknown, .peer = "getpid/glibc",         .expect = ExpectRuntimePid<kPy>,   .probe = Probe<kPy, kPythonOs>,            .timed = Timed<kPy, kPythonOs>,            .per_call = PerCall<kPy, kPythonOs>,            .baseline = "baseline/python_call", .counted_thread = RuntimeThread<kPy>},
  };
  // clang-format on
  for (Path& row : rows) row.batch_seconds = kRuntimeBatchSeconds;
  return rows;
}

std::vector<std::pair<std::string, std::string>> RuntimeContext() {
  // The version only: pids change from run to run and compare would flag them.
  constexpr std::pair<Runtime, const char*> kKeys[] = {{Runtime::kGo, "runtime_go"},
                                                       {Runtime::kJava, "runtime_java"},
                                                       {Runtime::kPython, "runtime_python"}};
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [runtime, key] : kKeys) {
    const RuntimeClient& client = RuntimeClient::Shared(runtime);
    out.emplace_back(key, client.ok() ? client.version() : "unavailable: " + client.error());
  }
  return out;
}

}  // namespace sysgate
