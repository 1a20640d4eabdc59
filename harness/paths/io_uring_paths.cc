#include "harness/paths/io_uring_paths.h"

#include <sched.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "harness/platform/cycle_clock.h"

namespace sysgate {
namespace {

// The deepest batch of any row: the submission queue holds one whole batch.
constexpr unsigned kRingEntries = 64;
// A NOP answer the probe can recognise.
constexpr uint64_t kProbeUserData = 0x5359534741544533;
// Empty polls of the completion queue before an SQPOLL loop gives up (seconds of
// spinning: the polling thread is gone, not late).
constexpr uint64_t kMaxEmptyPolls = uint64_t{1} << 26;

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  while (!line.empty() && (line.back() == ' ' || line.back() == '\n')) line.pop_back();
  return line;
}

// The `Seccomp:` field of a /proc/<pid>/status file: "0" none, "1" strict, "2" filter.
std::string SeccompMode(const std::string& status_path) {
  std::ifstream in(status_path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Seccomp:", 0) != 0) continue;
    std::string value = line.substr(8);
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
  }
  return "";
}

std::string ErrnoName(int error) {
  const char* name = strerrorname_np(error);
  return name ? name : "errno " + std::to_string(error);
}

// One NOP through the live ring, waited for with a timeout (an SQPOLL thread that never
// picks it up must not hang the probe).
std::optional<std::string> CheckNop(io_uring* ring) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring);
  if (sqe == nullptr) return "failed: io_uring: no free submission entry on a new ring";
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data64(sqe, kProbeUserData);
  int ret = io_uring_submit(ring);
  if (ret < 0) return "failed: io_uring_submit of one NOP: " + ErrnoName(-ret);
  io_uring_cqe* cqe = nullptr;
  __kernel_timespec timeout{1, 0};
  do {
    ret = io_uring_wait_cqe_timeout(ring, &cqe, &timeout);
  } while (ret == -EINTR);
  if (ret < 0) return "failed: waiting for one NOP's completion: " + ErrnoName(-ret);
  const int res = cqe->res;
  const uint64_t data = io_uring_cqe_get_data64(cqe);
  io_uring_cqe_seen(ring, cqe);
  if (res != 0 || data != kProbeUserData) {
    return "failed: IORING_OP_NOP completed with res " + std::to_string(res) +
           (data != kProbeUserData ? " and someone else's user_data" : "");
  }
  return std::nullopt;
}

// --- The rows' rings ----------------------------------------------------------------------

// One ring per row, set up on first use (by the probe, which the benchmark runs after
// pinning, so SqpollCpu sees the measuring CPU). A plain ring lives for the whole process
// (the kernel tears it down at exit). An SQPOLL ring lives only while its row runs: its
// polling thread is a thread of this process that shares the file table, and while it
// exists every read, write and fstat of every other row takes the kernel's shared-table
// fdget (an atomic reference per call: +35-50 ns here, docs/methodology.md). The probe
// sets it up once to learn whether it can run, then releases it; the row's arg() sets it
// up again and its release hook (after the timing and after the count) takes it down.
template <unsigned kBatch, bool kSqpoll>
IoUringRing& RingState() {
  static IoUringRing& state = *[] {
    auto* r = new IoUringRing;
    r->batch = kBatch;
    r->sqpoll = kSqpoll;
    return r;
  }();
  return state;
}

template <unsigned kBatch, bool kSqpoll>
IoUringRing& RingFor() {
  IoUringRing& r = RingState<kBatch, kSqpoll>();
  if (r.live || r.unavailable) return r;
  int sq_cpu = -1;
  if (kSqpoll) {
    std::optional<int> cpu = SqpollCpu();
    if (!cpu) {
      r.unavailable =
          "SQPOLL needs a second CPU for its polling thread; this process "
          "may run on one only";
      return r;
    }
    sq_cpu = *cpu;
  }
  r.unavailable = SetUpRing(IoUringEnvironment{}, kRingEntries, sq_cpu, &r.ring);
  r.live = !r.unavailable;
  return r;
}

template <unsigned kBatch, bool kSqpoll>
void ReleaseRing() {
  IoUringRing& r = RingState<kBatch, kSqpoll>();
  if (!r.live) return;
  io_uring_queue_exit(&r.ring);
  r.ring = io_uring{};
  r.live = false;
}

template <unsigned kBatch, bool kSqpoll>
std::optional<std::string> ProbeRing() {
  std::optional<std::string> reason = RingFor<kBatch, kSqpoll>().unavailable;
  if (kSqpoll) ReleaseRing<kBatch, kSqpoll>();
  return reason;
}

template <unsigned kBatch, bool kSqpoll>
uint64_t RingArg() {
  return reinterpret_cast<uint64_t>(&RingFor<kBatch, kSqpoll>());
}

uint64_t ExpectZero() { return 0; }

// The per-call pass: one sample per submission of a whole batch, as ticks per operation
// (the pair overhead, which the pass subtracts from each sample, is kept whole), so the
// percentiles describe the same thing as the row's mean.
bool PerOperation(uint64_t max_samples, uint64_t budget_ticks, uint64_t arg,
                  std::vector<uint64_t>* ticks, std::string* error) {
  static const uint64_t overhead = MeasureTscPairOverhead();
  const auto* ring = reinterpret_cast<const IoUringRing*>(arg);
  const uint64_t start = TscStart();
  while (ticks->size() < max_samples && TscStart() - start < budget_ticks) {
    const uint64_t t0 = TscStart();
    const uint64_t result = IoUringNopLoop(ring->batch, arg);
    const uint64_t t = TscStop() - t0;
    if (result != 0) {
      *error = "io_uring NOP batch returned " + std::to_string(static_cast<int64_t>(result));
      return false;
    }
    const uint64_t net = t > overhead ? t - overhead : 0;
    ticks->push_back(net / ring->batch + overhead);
  }
  return true;
}

// One row: `io_uring/<name>`, one iteration = one operation, `batch` per submission:
// 1/batch kernel entries per operation, none with SQPOLL. Its peer is getpid/syscall,
// one entry per operation.
Path Row(std::string_view name, unsigned batch, bool sqpoll, ArgFn arg, ProbeFn probe,
         ReleaseFn release = nullptr) {
  const double entries = sqpoll ? 0.0 : 1.0 / batch;
  return Path{.name = name,
              .mechanism = Mechanism::kIoUring,
              .expected_entries = entries,
              .loop = IoUringNopLoop,
              .peer = "getpid/syscall",
              .arg = arg,
              .expect = ExpectZero,
              .probe = probe,
              .per_call = PerOperation,
              .min_batch = batch,
              .release = release};
}

}  // namespace

std::optional<std::string> IoUringSetupReason(int error, const std::string& disabled,
                                              const std::string& seccomp, bool sqpoll) {
  constexpr const char* kAllow = "; sysctl kernel.io_uring_disabled=0 allows it";
  if (disabled == "2") {
    return std::string("io_uring is disabled on this machine (kernel.io_uring_disabled=2)") +
           kAllow;
  }
  if (error == 0) return std::nullopt;
  const bool filtered = seccomp == "2";
  switch (error) {
    case ENOSYS:
      return std::string(
                 "this kernel has no io_uring (io_uring_setup: ENOSYS; built "
                 "without CONFIG_IO_URING)") +
             (filtered ? ", or this process's seccomp filter answers ENOSYS for it" : "");
    case EPERM:
    case EACCES:
      if (disabled == "1") {
        return std::string(
                   "io_uring is limited to CAP_SYS_ADMIN and the group "
                   "kernel.io_uring_group (kernel.io_uring_disabled=1)") +
               kAllow;
      }
      if (filtered) {
        return "io_uring_setup denied (" + ErrnoName(error) +
               ") by this process's seccomp filter (container runtimes' default profiles "
               "block io_uring); run outside the sandbox";
      }
      if (sqpoll) {
        return "SQPOLL denied (" + ErrnoName(error) +
               "): kernels before 5.11 need CAP_SYS_NICE for a polling thread";
      }
      return "io_uring_setup denied (" + ErrnoName(error) +
             "): an LSM (SELinux, AppArmor) or sandbox refuses io_uring";
    case EINVAL:
      if (sqpoll) {
        return std::string(
            "SQPOLL refused (EINVAL): the polling thread's CPU is outside "
            "this process's cpuset, or the kernel predates the flags");
      }
      break;
    case ENOMEM:
      return std::string(
          "io_uring_setup: ENOMEM (before 5.12 the rings count against "
          "RLIMIT_MEMLOCK: ulimit -l)");
    default:
      break;
  }
  return "io_uring_setup failed: " + ErrnoName(error) + " (" + std::strerror(error) + ")";
}

std::optional<std::string> SetUpRing(const IoUringEnvironment& env, unsigned entries, int sq_cpu,
                                     io_uring* ring) {
  const std::string disabled = FirstLine(env.disabled_path);
  const std::string seccomp = SeccompMode(env.status_path);
  const bool sqpoll = sq_cpu >= 0;
  if (disabled == "2") return IoUringSetupReason(0, disabled, seccomp, sqpoll);
  io_uring_params params{};
  if (sqpoll) {
    params.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
    params.sq_thread_cpu = static_cast<unsigned>(sq_cpu);
    params.sq_thread_idle = kSqThreadIdleMs;
  }
  const int ret = env.init(entries, ring, &params);
  if (ret < 0) return IoUringSetupReason(-ret, disabled, seccomp, sqpoll);
  std::optional<std::string> nop = CheckNop(ring);
  if (nop) io_uring_queue_exit(ring);
  return nop;
}

std::optional<int> SqpollCpu() {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) return std::nullopt;
  // The measuring CPU: the one CPU this thread is pinned to, else where it runs now.
  int here = sched_getcpu();
  for (int cpu = 0; CPU_COUNT(&mine) == 1 && cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &mine)) here = cpu;
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  for (int cpu = 0; cpu < online && cpu < CPU_SETSIZE; ++cpu) {
    if (cpu != here) return cpu;
  }
  return std::nullopt;
}

uint64_t IoUringNopLoop(uint64_t iterations, uint64_t ring_state) {
  auto* state = reinterpret_cast<IoUringRing*>(ring_state);
  io_uring* ring = &state->ring;
  uint64_t result = 0;
  while (iterations > 0) {
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(state->batch, iterations));
    for (unsigned i = 0; i < n; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      // SQPOLL: the polling thread posts a batch's completions before it publishes the
      // new submission-queue head, so the queue can look full for a moment after every
      // completion was reaped. Wait for the head rather than enter the kernel.
      for (uint64_t polls = 0; sqe == nullptr && state->sqpoll && polls < kMaxEmptyPolls; ++polls) {
        _mm_pause();
        sqe = io_uring_get_sqe(ring);
      }
      if (sqe == nullptr) return kIoUringLostCompletion;
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, i);
    }
    int ret;
    do {
      // SQPOLL: io_uring_submit enters only to wake a polling thread that went to sleep.
      ret = state->sqpoll ? io_uring_submit(ring) : io_uring_submit_and_wait(ring, n);
    } while (ret == -EINTR);
    if (ret < 0) return static_cast<uint64_t>(static_cast<int64_t>(ret));
    // Reap exactly n completions, each of this batch once.
    uint64_t seen = 0;  // bit i: user_data i came back
    unsigned reaped = 0;
    uint64_t empty_polls = 0;
    while (reaped < n) {
      unsigned head, count = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(ring, head, cqe) {
        const uint64_t data = io_uring_cqe_get_data64(cqe);
        if (data >= n || (seen >> data & 1)) return kIoUringLostCompletion;
        seen |= uint64_t{1} << data;
        if (cqe->res < 0) return static_cast<uint64_t>(static_cast<int64_t>(cqe->res));
        result = static_cast<uint64_t>(cqe->res);
        ++count;
      }
      io_uring_cq_advance(ring, count);
      reaped += count;
      if (count == 0) {
        // NOPs complete inside io_uring_enter: without SQPOLL all n are there already.
        if (!state->sqpoll || ++empty_polls > kMaxEmptyPolls) return kIoUringLostCompletion;
        _mm_pause();
      }
    }
    iterations -= n;
  }
  return result;
}

// Four rows, about two seconds of the default run. nop_1 is one entry per operation like
// its peer getpid/syscall; nop_8 and nop_64 spread one entry over 8 and 64; sqpoll_64
// hands batches of 64 to the polling thread on another CPU, with no entry at all.
// clang-format off
std::vector<Path> IoUringPaths() {
  return {
    Row("io_uring/nop_1",     1,  false, RingArg<1, false>,  ProbeRing<1, false>),
    Row("io_uring/nop_8",     8,  false, RingArg<8, false>,  ProbeRing<8, false>),
    Row("io_uring/nop_64",    64, false, RingArg<64, false>, ProbeRing<64, false>),
    Row("io_uring/sqpoll_64", 64, true,  RingArg<64, true>,  ProbeRing<64, true>,
        ReleaseRing<64, true>),
  };
}
// clang-format on

}  // namespace sysgate
