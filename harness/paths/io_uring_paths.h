// The io_uring family: what batching saves (docs/io_uring.md). `io_uring/nop_N` submits
// N IORING_OP_NOP requests per io_uring_enter (N = 1, 8, 64) and `io_uring/sqpoll_N`
// hands them to a kernel polling thread with no entry at all. One iteration is one
// operation, so every row reads as nanoseconds per operation, next to its peer
// getpid/syscall (one entry per operation).
//
// Each row skips with the reason where io_uring cannot run: disabled by the
// kernel.io_uring_disabled sysctl, absent from the kernel (ENOSYS), or denied (EPERM: a
// seccomp filter, as container runtimes' default profiles install, or an LSM).
#ifndef SYSGATE_HARNESS_PATHS_IO_URING_PATHS_H_
#define SYSGATE_HARNESS_PATHS_IO_URING_PATHS_H_

#include <liburing.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/paths/path.h"

namespace sysgate {

// The rows, in report order (appended to the table by BuildTable in harness/paths/paths.cc).
std::vector<Path> IoUringPaths();

// How long the SQPOLL thread keeps polling after the last request before it sleeps
// (sq_thread_idle): long enough to stay awake through a repetition's batches, short
// enough not to burn a CPU for long after its rows are done.
inline constexpr unsigned kSqThreadIdleMs = 20;

// --- Availability ------------------------------------------------------------------------
// io_uring_queue_init's signature: 0 or a negative errno. Tests inject failures.
using RingInitFn = int (*)(unsigned entries, io_uring* ring, unsigned flags);
// Like RingInitFn with the params struct (SQPOLL needs sq_thread_cpu and sq_thread_idle).
using RingInitParamsFn = int (*)(unsigned entries, io_uring* ring, io_uring_params* params);

// Where the probe reads the machine's state; tests point these at files of their own.
struct IoUringEnvironment {
  std::string disabled_path = "/proc/sys/kernel/io_uring_disabled";
  std::string status_path = "/proc/self/status";  // its `Seccomp:` line
  RingInitParamsFn init = io_uring_queue_init_params;
};

// Why a ring cannot be set up here, from what io_uring_setup returned (`error`, a
// positive errno; 0: it worked), the sysctl's value ("" when the file is absent: kernels
// before 6.6 have no such switch) and the Seccomp mode from /proc/self/status ("" when
// unknown). nullopt when error is 0. Pure: the whole decision, for tests.
std::optional<std::string> IoUringSetupReason(int error, const std::string& disabled,
                                              const std::string& seccomp, bool sqpoll);

// Sets `ring` up (`entries` SQEs; SQPOLL with its thread on `sq_cpu` when sq_cpu >= 0)
// and checks one NOP round trip. nullopt on success (the ring is then live: the caller
// owns it), else the skip reason ("failed: ..." when io_uring runs but the NOP came back
// wrong). Reads the sysctl first: when it is 2, nothing is tried.
std::optional<std::string> SetUpRing(const IoUringEnvironment& env, unsigned entries, int sq_cpu,
                                     io_uring* ring);

// A CPU for the SQPOLL thread other than the one this thread is pinned to, or nullopt
// when this process may run on one CPU only (polling there would steal the CPU from the
// thread that waits for it).
std::optional<int> SqpollCpu();

// --- Loops (the rows' loops; arg is a pointer to the row's live ring state) ------------------
// What a loop returns when a completion was lost or came back out of order.
inline constexpr uint64_t kIoUringLostCompletion = 0xdead'c0de;

struct IoUringRing {
  io_uring ring{};
  unsigned batch = 1;                      // operations per submission
  bool sqpoll = false;                     // submit without io_uring_enter, wait by polling the CQ
  bool live = false;                       // set up now (an SQPOLL ring only while its row runs)
  std::optional<std::string> unavailable;  // set when the ring could not be set up
};

// Runs `iterations` NOPs in submissions of up to ring->batch; returns the last
// completion's result (0), a negative errno as uint64_t, or kIoUringLostCompletion.
uint64_t IoUringNopLoop(uint64_t iterations, uint64_t ring_state);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_IO_URING_PATHS_H_
