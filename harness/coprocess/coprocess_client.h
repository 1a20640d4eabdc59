// The client side of a co-process path: a program sysgate_bench starts once and asks to
// run a path N times in that program's own timed loop. The 32-bit helper
// (harness/coprocess/ia32_client.h) and the language-runtime helpers
// (harness/paths/runtime_paths.h) are both driven through it.
//
// The protocol is one ASCII request line, one reply line, over a socket that is the
// co-process's stdin and stdout (its stderr stays ours, so its complaints reach the user):
//   on start      <- "<greeting> <version> pid=<pid> [key=value ...]"
//   probe V       <- "ok" | "skip <reason>" | "err <message>"
//   run V N       <- "ok <elapsed> <last result> [<involuntary switches>]" | "err <message>"
//   percall V N T <- "ok <k> <elapsed_1> ... <elapsed_k>" | "err <message>"
//   quit or EOF   -> the co-process exits
// Elapsed times are in the co-process's clock unit (TSC ticks for the ia32 and Go helpers,
// nanoseconds for Java and Python: the hello line's unit=); the caller converts. The
// co-process times its own loop, so the round trip never enters a measurement. It
// inherits the CPU affinity of the thread that starts it: start it after pinning and both
// processes share the measuring CPU.
#ifndef SYSGATE_HARNESS_COPROCESS_COPROCESS_CLIENT_H_
#define SYSGATE_HARNESS_COPROCESS_COPROCESS_CLIENT_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysgate {

struct CoprocessSpec {
  std::string name;               // in messages: "ia32 helper", "Go helper"
  std::vector<std::string> argv;  // argv[0] is the executable's path (no PATH search)
  std::string greeting;           // the hello line's first word: "sysgate-ia32"
  int version = 0;                // the protocol version the hello line must carry
  // Explains a posix_spawn error (ENOENT, ENOEXEC, ...) in words a user can act on;
  // null: "cannot start <name> <path>: <strerror>".
  std::function<std::string(int err)> spawn_error;
};

class CoprocessClient {
 public:
  // Starts the co-process and reads its hello line. Never throws: when it cannot start,
  // ok() is false and error() says why.
  explicit CoprocessClient(CoprocessSpec spec);
  ~CoprocessClient();
  CoprocessClient(const CoprocessClient&) = delete;
  CoprocessClient& operator=(const CoprocessClient&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  const CoprocessSpec& spec() const { return spec_; }
  // The co-process's pid, or -1 when it is not running.
  pid_t pid() const { return ok() ? pid_ : -1; }
  // A `key=value` field of the hello line ("vendor", "tid", "unit"), or nullopt.
  std::optional<std::string> HelloField(std::string_view key) const;

  // nullopt when `variant` runs there, otherwise why not.
  std::optional<std::string> Probe(std::string_view variant);
  // Runs `variant` `iterations` times there: *elapsed is what it measured around its
  // loop, *result the loop's last result, *preempted (when given) whether it says its
  // thread was involuntarily switched out during the loop (false when it does not say).
  bool Run(std::string_view variant, uint64_t iterations, uint64_t* elapsed, uint64_t* result,
           std::string* error, bool* preempted = nullptr);
  // Up to `max_samples` single calls, each timed there, stopping after `budget` (its
  // unit; 0: no limit). Appends the samples to *samples.
  bool PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget,
               std::vector<uint64_t>* samples, std::string* error);

  // Sends one request line and reads one reply line. On any failure the co-process is
  // considered dead: it is stopped and every later call fails with the same error.
  bool Request(const std::string& line, std::string* reply, std::string* error);
  // "err <message>" -> message; anything else -> "<name>: <reply>".
  std::string ReplyError(const std::string& reply) const;

 private:
  bool ReadLine(int timeout_ms, std::string* line);
  void Fail(std::string error);
  // Closes the socket and reaps the co-process; how it ended when it did not exit 0
  // (killed by a signal: which, and what that usually means), else "".
  std::string Stop();

  CoprocessSpec spec_;
  std::string error_;
  std::string hello_;
  std::string buffer_;  // bytes received after the last complete line
  pid_t pid_ = -1;
  int fd_ = -1;
};

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_COPROCESS_COPROCESS_CLIENT_H_
