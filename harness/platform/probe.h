// Run a piece of code that may fault (SIGILL, SIGSEGV) in a forked child, so a path the
// CPU or kernel refuses becomes a skip reason instead of a crash of the whole run.
#ifndef SYSGATE_HARNESS_PLATFORM_PROBE_H_
#define SYSGATE_HARNESS_PLATFORM_PROBE_H_

#include <functional>
#include <optional>
#include <string>

namespace sysgate {

// Forks; the child runs `body`, which returns true when the path worked, and exits. The
// parent waits (bounded by `timeout_ms`) and returns nullopt on success or the reason:
// "SIGILL (illegal instruction)", "SIGSEGV ...", "wrong result", "timed out".
std::optional<std::string> ProbeInChild(const std::function<bool()>& body, int timeout_ms = 2000);

// How a child process ended, from its wait status, for a skip reason: "exited with
// status 3", or the signal with its name and what it usually means here ("killed by
// SIGSYS (Bad system call): a seccomp filter refused one of its system calls ...").
// `we_killed`: the SIGKILL was ours (it did not exit when asked).
std::string DescribeExit(int status, bool we_killed = false);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_PROBE_H_
