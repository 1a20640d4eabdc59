#include "harness/coprocess/coprocess_client.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "harness/platform/probe.h"

extern char** environ;

namespace sysgate {
namespace {

// Start-up (exec, a static binary or a JVM, the first line) takes milliseconds to a
// second; a batch is sized to about 20 us of work, and a JIT warm-up takes seconds at
// most. These bound a co-process that hangs, they never trigger in a healthy run.
constexpr int kHelloTimeoutMs = 10'000;
constexpr int kReplyTimeoutMs = 60'000;
constexpr int kExitTimeoutMs = 1'000;

}  // namespace

CoprocessClient::CoprocessClient(CoprocessSpec spec) : spec_(std::move(spec)) {
  if (spec_.argv.empty()) {
    error_ = spec_.name + ": no command line";
    return;
  }
  const std::string& path = spec_.argv.front();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error_ = std::string("socketpair: ") + std::strerror(errno);
    return;
  }
  // Its stdin and stdout are its end of the socket (dup2 clears CLOEXEC on the copies);
  // its stderr stays ours.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, sv[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (std::string& arg : spec_.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // glibc's posix_spawn reports exec failures (ENOENT, ENOEXEC) as its return value.
  int err = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    pid_ = -1;
    error_ = spec_.spawn_error
                 ? spec_.spawn_error(err)
                 : "cannot start " + spec_.name + " " + path + ": " + std::strerror(err);
    return;
  }
  fd_ = sv[0];

  if (!ReadLine(kHelloTimeoutMs, &hello_)) {
    Fail(spec_.name + " " + path + " did not start: " + error_);
    return;
  }
  // The pid check catches a wrapper script between us and the program: every getpid path
  // must return the pid we count on.
  char greeting[32] = {};
  int version = 0;
  long pid = 0;
  if (std::sscanf(hello_.c_str(), "%31s %d pid=%ld", greeting, &version, &pid) != 3 ||
      spec_.greeting != greeting || version != spec_.version || pid != pid_) {
    Fail(spec_.name + " " + path + " answered '" + hello_ + "', not '" + spec_.greeting + " " +
         std::to_string(spec_.version) + " pid=" + std::to_string(pid_) +
         "...': a helper from another sysgate version?");
  }
}

CoprocessClient::~CoprocessClient() {
  if (fd_ >= 0) {
    static const char kQuit[] = "quit\n";
    (void)!send(fd_, kQuit, sizeof kQuit - 1, MSG_NOSIGNAL);
  }
  (void)Stop();
}

std::optional<std::string> CoprocessClient::HelloField(std::string_view key) const {
  std::string needle(1, ' ');  // appended, not operator+: GCC 12 -Wrestrict false positive
  needle.append(key).append("=");
  size_t at = hello_.find(needle);
  if (at == std::string::npos) return std::nullopt;
  at += needle.size();
  return hello_.substr(at, hello_.find(' ', at) - at);
}

std::string CoprocessClient::ReplyError(const std::string& reply) const {
  return reply.rfind("err ", 0) == 0 ? reply.substr(4) : spec_.name + ": " + reply;
}

std::optional<std::string> CoprocessClient::Probe(std::string_view variant) {
  std::string reply, error;
  if (!Request("probe " + std::string(variant), &reply, &error)) return error;
  if (reply == "ok") return std::nullopt;
  if (reply.rfind("skip ", 0) == 0) return reply.substr(5);
  return ReplyError(reply);
}

bool CoprocessClient::Run(std::string_view variant, uint64_t iterations, uint64_t* elapsed,
                          uint64_t* result, std::string* error, bool* preempted) {
  std::string reply;
  if (!Request("run " + std::string(variant) + " " + std::to_string(iterations), &reply, error)) {
    return false;
  }
  uint64_t switches = 0;
  const int fields =
      std::sscanf(reply.c_str(), "ok %" SCNu64 " %" SCNu64 " %" SCNu64, elapsed, result, &switches);
  if (fields >= 2) {
    if (preempted) *preempted = fields == 3 && switches != 0;
    return true;
  }
  *error = ReplyError(reply);
  return false;
}

bool CoprocessClient::PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget,
                              std::vector<uint64_t>* samples, std::string* error) {
  std::string reply;
  if (!Request("percall " + std::string(variant) + " " + std::to_string(max_samples) + " " +
                   std::to_string(budget),
               &reply, error)) {
    return false;
  }
  if (reply.rfind("ok ", 0) != 0) {
    *error = ReplyError(reply);
    return false;
  }
  const char* p = reply.c_str() + 3;
  char* end = nullptr;
  uint64_t k = std::strtoull(p, &end, 10);
  for (uint64_t i = 0; i < k; ++i) {
    p = end;
    uint64_t t = std::strtoull(p, &end, 10);
    if (end == p) {
      *error = spec_.name + ": short percall reply";
      return false;
    }
    samples->push_back(t);
  }
  return true;
}

bool CoprocessClient::Request(const std::string& line, std::string* reply, std::string* error) {
  if (fd_ < 0) {
    *error = error_;
    return false;
  }
  std::string out = line + "\n";
  for (size_t sent = 0; sent < out.size();) {
    ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Fail(spec_.name + " stopped answering (send: " + std::string(std::strerror(errno)) + ")");
      *error = error_;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  if (!ReadLine(kReplyTimeoutMs, reply)) {
    Fail(spec_.name + " stopped answering (" + error_ + ")");
    *error = error_;
    return false;
  }
  return true;
}

// Reads up to '\n'. On failure sets error_ to what went wrong (the caller wraps it).
bool CoprocessClient::ReadLine(int timeout_ms, std::string* line) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      *line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    pollfd pfd{fd_, POLLIN, 0};
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      error_ = "no reply within " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    char chunk[4096];
    ssize_t n = r < 0 ? -1 : recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error_ = n == 0 ? "it exited" : std::string("recv: ") + std::strerror(errno);
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void CoprocessClient::Fail(std::string error) {
  error_ = std::move(error);
  const std::string how = Stop();
  if (!how.empty()) error_ += "; the " + spec_.name + " " + how;
}

// Closes our end (the co-process sees EOF and exits) and reaps it, killing it if it
// lingers.
std::string CoprocessClient::Stop() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (pid_ <= 0) return "";
  int status = 0;
  bool reaped = false, killed = false;
  for (int waited_ms = 0;; ++waited_ms) {
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) reaped = true;
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (waited_ms >= kExitTimeoutMs) {
      kill(pid_, SIGKILL);
      killed = true;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      reaped = true;
      break;
    }
    timespec ms{0, 1'000'000};
    nanosleep(&ms, nullptr);
  }
  pid_ = -1;
  if (!reaped || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) return "";
  return DescribeExit(status, killed);
}

}  // namespace sysgate
