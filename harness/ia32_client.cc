#include "harness/ia32_client.h"

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
#include <filesystem>

#include "harness/probe.h"

extern char** environ;

namespace sysgate {
namespace {

// Start-up (exec, static binary, first line) takes milliseconds; a batch is sized to about
// 20 us of work. These bound a helper that hangs, they never trigger in a healthy run.
constexpr int kHelloTimeoutMs = 10'000;
constexpr int kReplyTimeoutMs = 60'000;
constexpr int kExitTimeoutMs = 1'000;
// The line protocol's version (benchmarks/ia32/sysgate_ia32_helper.cc); 2 added describe,
// read, lookup, symbols and the vDSO-family variants.
constexpr int kProtocolVersion = 3;

// "err <message>" -> message; anything else unexpected -> "ia32 helper: <reply>".
std::string ReplyError(const std::string& reply) {
  return reply.rfind("err ", 0) == 0 ? reply.substr(4) : "ia32 helper: " + reply;
}

std::string& OverridePath() {
  static std::string path;
  return path;
}

// Why posix_spawn failed, in the words a user can act on.
std::string SpawnError(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return "ia32 helper not found at " + path +
             " (build with gcc-multilib/g++-multilib and SYSGATE_IA32=ON, or pass "
             "--ia32-helper=PATH)";
    case EACCES:
      return "ia32 helper " + path + " is not executable (EACCES)";
    case ENOEXEC:
      return "the kernel cannot run 32-bit programs (exec of " + path +
             " failed with ENOEXEC): no ia32 emulation (CONFIG_IA32_EMULATION=n or "
             "ia32_emulation=off)";
    default:
      return "cannot start ia32 helper " + path + ": " + std::strerror(err);
  }
}

}  // namespace

Ia32Client::Ia32Client(std::string helper_path) : helper_path_(std::move(helper_path)) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error_ = std::string("socketpair: ") + std::strerror(errno);
    return;
  }
  // The helper's stdin and stdout are its end of the socket (dup2 clears CLOEXEC on the
  // copies); its stderr stays ours, so its complaints reach the user.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, sv[1], STDOUT_FILENO);
  char* argv[] = {helper_path_.data(), nullptr};
  // glibc's posix_spawn reports exec failures (ENOENT, ENOEXEC) as its return value.
  int err = posix_spawn(&pid_, helper_path_.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(sv[1]);
  if (err != 0) {
    close(sv[0]);
    pid_ = -1;
    error_ = SpawnError(helper_path_, err);
    return;
  }
  fd_ = sv[0];

  std::string hello;
  if (!ReadLine(kHelloTimeoutMs, &hello)) {
    Fail("ia32 helper " + helper_path_ + " did not start: " + error_);
    return;
  }
  int version = 0;
  long pid = 0;
  char vendor[32] = {};
  if (std::sscanf(hello.c_str(), "sysgate-ia32 %d pid=%ld vendor=%31s", &version, &pid, vendor) !=
          3 ||
      version != kProtocolVersion || pid != pid_) {
    Fail("ia32 helper " + helper_path_ + " answered '" + hello + "', not 'sysgate-ia32 " +
         std::to_string(kProtocolVersion) + " pid=...': a helper from another sysgate version?");
    return;
  }
  vendor_ = vendor;
  if (const char* at = std::strstr(hello.c_str(), " sysinfo=")) {
    sysinfo_ = std::strtoull(at + 9, nullptr, 16);
  }
}

Ia32Client::~Ia32Client() {
  if (fd_ >= 0) {
    static const char kQuit[] = "quit\n";
    (void)!send(fd_, kQuit, sizeof kQuit - 1, MSG_NOSIGNAL);
  }
  Stop();
}

Ia32Client& Ia32Client::Shared() {
  static Ia32Client client(HelperPath());
  return client;
}

std::string Ia32Client::HelperPath() {
  if (!OverridePath().empty()) return OverridePath();
  if (const char* env = std::getenv(kIa32HelperEnv); env && *env) return env;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return kIa32HelperName;
  return (self.parent_path() / kIa32HelperName).string();
}

void Ia32Client::SetHelperPath(std::string path) { OverridePath() = std::move(path); }

std::optional<std::string> Ia32Client::Probe(std::string_view variant) {
  std::string reply, error;
  if (!Request("probe " + std::string(variant), &reply, &error)) return error;
  if (reply == "ok") return std::nullopt;
  if (reply.rfind("skip ", 0) == 0) return reply.substr(5);
  return "ia32 helper: " + reply;
}

bool Ia32Client::Run(std::string_view variant, uint64_t iterations, uint64_t* ticks,
                     uint64_t* result, std::string* error, bool* preempted) {
  std::string reply;
  if (!Request("run " + std::string(variant) + " " + std::to_string(iterations), &reply,
               error)) {
    return false;
  }
  uint64_t switches = 0;
  if (std::sscanf(reply.c_str(), "ok %" SCNu64 " %" SCNu64 " %" SCNu64, ticks, result,
                  &switches) == 3) {
    if (preempted) *preempted = switches != 0;
    return true;
  }
  *error = reply.rfind("err ", 0) == 0 ? reply.substr(4) : "ia32 helper: " + reply;
  return false;
}

bool Ia32Client::Read(std::string_view variant, int64_t* ret, int64_t* value, std::string* error) {
  std::string reply;
  if (!Request("read " + std::string(variant), &reply, error)) return false;
  if (std::sscanf(reply.c_str(), "ok %" SCNd64 " %" SCNd64, ret, value) == 2) return true;
  *error = ReplyError(reply);
  return false;
}

std::optional<std::string> Ia32Client::Describe(std::string_view variant) {
  std::string reply, error;
  if (!Request("describe " + std::string(variant), &reply, &error)) return std::nullopt;
  if (reply.rfind("ok ", 0) != 0) return std::nullopt;
  return reply.substr(3);
}

Ia32Client::LookupResult Ia32Client::Lookup(std::string_view name, std::string_view version,
                                            std::optional<uint64_t> limit) {
  LookupResult out;
  std::string reply;
  std::string request = "lookup ";
  request.append(name).append(" ").append(version.empty() ? std::string_view("-") : version);
  if (limit) request.append(" ").append(std::to_string(*limit));
  if (!Request(request, &reply, &out.error)) return out;
  unsigned long long offset = 0, address = 0;
  if (std::sscanf(reply.c_str(), "ok %llx %llx", &offset, &address) == 2) {
    out.address = address;
  } else if (reply.rfind("skip ", 0) == 0) {
    out.missing = reply.substr(5);
  } else {
    out.error = ReplyError(reply);
  }
  return out;
}

std::optional<std::string> Ia32Client::Symbols(std::string* error) {
  std::string reply;
  if (!Request("symbols", &reply, error)) return std::nullopt;
  if (reply == "ok") return "";
  if (reply.rfind("ok ", 0) == 0) return reply.substr(3);
  *error = ReplyError(reply);
  return std::nullopt;
}

bool Ia32Client::Check(std::string_view variant, uint64_t iterations, uint64_t* result,
                       std::string* error) {
  std::string reply;
  if (!Request("check " + std::string(variant) + " " + std::to_string(iterations), &reply,
               error)) {
    return false;
  }
  if (std::sscanf(reply.c_str(), "ok %" SCNu64, result) == 1) return true;
  *error = reply.rfind("err ", 0) == 0 ? reply.substr(4) : "ia32 helper: " + reply;
  return false;
}

bool Ia32Client::PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget_ticks,
                         std::vector<uint64_t>* samples, std::string* error) {
  std::string reply;
  if (!Request("percall " + std::string(variant) + " " + std::to_string(max_samples) + " " +
                   std::to_string(budget_ticks),
               &reply, error)) {
    return false;
  }
  if (reply.rfind("ok ", 0) != 0) {
    *error = reply.rfind("err ", 0) == 0 ? reply.substr(4) : "ia32 helper: " + reply;
    return false;
  }
  const char* p = reply.c_str() + 3;
  char* end = nullptr;
  uint64_t k = std::strtoull(p, &end, 10);
  for (uint64_t i = 0; i < k; ++i) {
    p = end;
    uint64_t t = std::strtoull(p, &end, 10);
    if (end == p) {
      *error = "ia32 helper: short percall reply";
      return false;
    }
    samples->push_back(t);
  }
  return true;
}

bool Ia32Client::Request(const std::string& line, std::string* reply, std::string* error) {
  if (fd_ < 0) {
    *error = error_;
    return false;
  }
  std::string out = line + "\n";
  for (size_t sent = 0; sent < out.size();) {
    ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Fail("ia32 helper stopped answering (send: " + std::string(std::strerror(errno)) + ")");
      *error = error_;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  if (!ReadLine(kReplyTimeoutMs, reply)) {
    Fail("ia32 helper stopped answering (" + error_ + ")");
    *error = error_;
    return false;
  }
  return true;
}

// Reads up to '\n'. On failure sets error_ to what went wrong (the caller wraps it).
bool Ia32Client::ReadLine(int timeout_ms, std::string* line) {
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

void Ia32Client::Fail(std::string error) {
  error_ = std::move(error);
  const std::string how = Stop();
  if (!how.empty()) error_ += "; the helper " + how;
}

// Closes our end (the helper sees EOF and exits) and reaps it, killing it if it lingers.
std::string Ia32Client::Stop() {
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
