#include "harness/platform/probe.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sysgate {

std::optional<std::string> ProbeInChild(const std::function<bool()>& body, int timeout_ms) {
  pid_t pid = fork();
  if (pid < 0) return std::string("cannot fork to probe: ") + std::strerror(errno);
  if (pid == 0) {
    // Default dispositions, so a fault kills the child with its signal even where the
    // parent installed handlers (sanitizers do): the signal is the reason we report.
    for (int sig : {SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS}) signal(sig, SIG_DFL);
    // The child must not run atexit handlers or flush the parent's stdio buffers.
    _exit(body() ? 0 : 1);
  }
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 1) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return std::string("waitpid: ") + std::strerror(errno);
    if (waited_ms >= timeout_ms) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return "timed out after " + std::to_string(timeout_ms) + " ms";
    }
    timespec ms{0, 1'000'000};
    nanosleep(&ms, nullptr);
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return std::nullopt;
    return "wrong result";
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    std::string name = sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "signal";
    return name + " (" + strsignal(sig) + ")";
  }
  return "unknown child status " + std::to_string(status);
}

std::string DescribeExit(int status, bool we_killed) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (!WIFSIGNALED(status)) return "ended with wait status " + std::to_string(status);
  const int sig = WTERMSIG(status);
  std::string text = "killed by ";
  text +=
      sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "signal " + std::to_string(sig);
  text += std::string(" (") + strsignal(sig) + ")";
  switch (sig) {
    case SIGSYS:
      return text +
             ": a seccomp filter refused one of its system calls (container runtimes "
             "often deny 32-bit ones: docker run --security-opt seccomp=unconfined)";
    case SIGKILL:
      if (we_killed) return text + ": sysgate stopped it after it did not exit";
      return text +
             ": a seccomp filter that kills (SECCOMP_RET_KILL, e.g. one denying 32-bit "
             "system calls), or the OOM killer";
    case SIGILL:
      return text + ": the CPU refused an instruction";
    case SIGSEGV:
    case SIGBUS:
      return text +
             ": it crashed (a bad address; without ia32 emulation a 32-bit "
             "entry faults)";
    default:
      return text;
  }
}

}  // namespace sysgate
