// The language-runtime rows: getpid as Go, Java and Python programs ask for it, each
// beside its runtime's own plain-call baseline (docs/runtimes.md).
//
// Each runtime has a helper program (benchmarks/runtimes/) that sysgate_bench starts once
// as a co-process (harness/coprocess/coprocess_client.h) and asks to run a call N times in the
// helper's own timed loop: the Go helper times with the TSC, the JVM with System.nanoTime
// and CPython with time.perf_counter_ns, and RuntimeClient converts nanoseconds to TSC
// ticks so every row is measured and reported alike. The helpers report the pid they got,
// which must be the co-process's pid, and the thread their loops run on, which the
// counting pass counts kernel entries on.
#ifndef SYSGATE_HARNESS_PATHS_RUNTIME_PATHS_H_
#define SYSGATE_HARNESS_PATHS_RUNTIME_PATHS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/coprocess/coprocess_client.h"
#include "harness/paths/path.h"

namespace sysgate {

// What every runtime helper's call baseline returns ("SGTR").
inline constexpr uint64_t kRuntimeDummyId = 0x52544753;

// Every row's batch length: each batch is a round trip to a helper process, which costs
// about as much as 20 us of calls, so the batches are longer to keep the run's wall time
// near its measured time (docs/runtimes.md). An interrupt costs a batch of any length the
// same few microseconds, so the per-call figure is no more exposed.
inline constexpr double kRuntimeBatchSeconds = 200e-6;

// Where the helpers are: $SYSGATE_RUNTIMES_DIR, else runtimes/ next to /proc/self/exe
// (build/benchmarks/runtimes, where benchmarks/runtimes/CMakeLists.txt puts them).
inline constexpr const char* kRuntimesDirEnv = "SYSGATE_RUNTIMES_DIR";
// The interpreters: $SYSGATE_JAVA (else `java` on PATH), $SYSGATE_PYTHON (else
// /usr/bin/python3, Debian's CPython, the project's interpreter).
inline constexpr const char* kJavaEnv = "SYSGATE_JAVA";
inline constexpr const char* kPythonEnv = "SYSGATE_PYTHON";
inline constexpr const char* kDefaultPython = "/usr/bin/python3";

enum class Runtime { kGo, kJava, kPython };

std::string_view RuntimeName(Runtime runtime);  // "Go", "Java", "Python"
std::string RuntimesDir();

// The command line that starts `runtime`'s helper from `dir`; nullopt and *why when it
// cannot: the reason names what is missing and the install command.
std::optional<std::vector<std::string>> RuntimeCommand(Runtime runtime, const std::string& dir,
                                                       std::string* why);

// One runtime helper, with its clock converted to TSC ticks.
class RuntimeClient {
 public:
  // Starts the helper for `runtime` from `dir`. Never throws: ok() false and error() why.
  RuntimeClient(Runtime runtime, const std::string& dir);

  // The process-wide client of `runtime`, started on first use from RuntimesDir().
  static RuntimeClient& Shared(Runtime runtime);
  // The driver's TSC rate and empty-pair cost (sysgate_bench's calibration): ns become
  // ticks at this rate, and per-call samples are handed back so that subtracting this
  // pair cost leaves the helper's own overhead-corrected figure. Unset: measured on first
  // use.
  static void SetClock(double tsc_hz, uint64_t pair_overhead_ticks);

  bool ok() const { return client_ && client_->ok(); }
  const std::string& error() const { return ok() ? client_->error() : error_; }
  pid_t pid() const { return ok() ? client_->pid() : -1; }
  // The thread the helper's loops run on (the counting pass attaches to it), or -1.
  pid_t tid() const;
  // The hello line's runtime= ("go1.19.8", "java17.0.15+6-...", "python3.11.2").
  std::string version() const;

  std::optional<std::string> Probe(std::string_view variant);
  bool Run(std::string_view variant, uint64_t iterations, uint64_t* ticks, uint64_t* result,
           std::string* error, bool* preempted = nullptr);
  bool PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget_ticks,
               std::vector<uint64_t>* ticks, std::string* error);

 private:
  // Ticks per unit of the helper's clock: 1 for unit=tsc, tsc_hz/1e9 for unit=ns.
  double TicksPerUnit() const;

  Runtime runtime_;
  std::string error_;
  std::unique_ptr<CoprocessClient> client_;
  bool nanoseconds_ = false;
};

// The rows, in report order: per runtime its call baseline, then its getpid rows. Their
// runners talk to RuntimeClient::Shared, started by the first probe or run.
std::vector<Path> RuntimePaths();

// Context keys runtime_go, runtime_java, runtime_python: each helper's runtime version,
// or "unavailable: <why>". Starts the helpers.
std::vector<std::pair<std::string, std::string>> RuntimeContext();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_RUNTIME_PATHS_H_
