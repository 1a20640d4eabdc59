// The io_uring rows: their skip reasons (the sysctl, ENOSYS, EPERM from seccomp; faked
// by injecting the failure, and once for real with a seccomp filter in a child), and the
// NOP loop's results where this machine runs io_uring. No timing is asserted.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "harness/paths/io_uring_paths.h"
#include "harness/paths/paths.h"

namespace sysgate {
namespace {

// The threads of this process (an SQPOLL ring's polling thread is one of them).
size_t ThreadCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

// Waits up to two seconds for the thread count to reach `want` (a ring's polling thread
// ends shortly after the ring is taken down).
bool ThreadsBecome(size_t want) {
  for (int i = 0; i < 200 && ThreadCount() != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ThreadCount() == want;
}

// The SQPOLL row's polling thread shares this process's file table, which makes every
// other row's read, write and fstat take the kernel's shared-table path: it must exist only
// while its own row runs (after its arg(), until its release hook).
TEST(IoUringRows, TheSqpollThreadLivesOnlyWhileItsRowRuns) {
  const Path* row = FindPath("io_uring/sqpoll_64");
  ASSERT_NE(row, nullptr);
  ASSERT_NE(row->release, nullptr);
  const size_t before = ThreadCount();
  if (std::optional<std::string> reason = row->probe()) GTEST_SKIP() << *reason;
  EXPECT_TRUE(ThreadsBecome(before)) << "the probe left the polling thread running";
  ASSERT_NE(row->arg(), 0u);
  EXPECT_TRUE(ThreadsBecome(before + 1)) << "no polling thread while the row runs";
  row->release();
  EXPECT_TRUE(ThreadsBecome(before)) << "the polling thread outlived its row";
  for (const char* plain : {"io_uring/nop_1", "io_uring/nop_64"}) {
    EXPECT_EQ(FindPath(plain)->release, nullptr) << plain << ": a plain ring has no thread";
  }
}

using ::testing::HasSubstr;
using ::testing::Not;

// Files standing in for /proc/sys/kernel/io_uring_disabled and /proc/self/status.
class FakeProc {
 public:
  FakeProc(const std::string& disabled, const std::string& seccomp) {
    dir_ = std::filesystem::temp_directory_path() /
           ("sysgate_io_uring_test." + std::to_string(getpid()) + "." + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    env_.disabled_path = (dir_ / "io_uring_disabled").string();
    env_.status_path = (dir_ / "status").string();
    if (!disabled.empty()) std::ofstream(env_.disabled_path) << disabled << "\n";
    std::ofstream(env_.status_path)
        << "Name:\ttest\nSeccomp:\t" << seccomp << "\nSeccomp_filters:\t0\n";
  }
  ~FakeProc() { std::filesystem::remove_all(dir_); }
  IoUringEnvironment& env() { return env_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  IoUringEnvironment env_;
};

int g_init_calls = 0;
int g_init_result = 0;
int FakeInit(unsigned, io_uring*, io_uring_params*) {
  ++g_init_calls;
  return g_init_result;
}

std::optional<std::string> SetUpWith(FakeProc& proc, int init_result, bool sqpoll = false) {
  g_init_calls = 0;
  g_init_result = init_result;
  proc.env().init = FakeInit;
  io_uring ring{};
  return SetUpRing(proc.env(), 8, sqpoll ? 1 : -1, &ring);
}

TEST(IoUringSkip, DisabledBySysctlIsNotEvenTried) {
  FakeProc proc("2", "0");
  auto reason = SetUpWith(proc, 0);
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("kernel.io_uring_disabled=2"));
  EXPECT_EQ(g_init_calls, 0);
}

TEST(IoUringSkip, KernelWithoutIoUring) {
  FakeProc proc("", "0");  // no sysctl: a kernel before 6.6
  auto reason = SetUpWith(proc, -ENOSYS);
  ASSERT_TRUE(reason);
  EXPECT_EQ(g_init_calls, 1);
  EXPECT_THAT(*reason, HasSubstr("ENOSYS"));
  EXPECT_THAT(*reason, HasSubstr("CONFIG_IO_URING"));
  EXPECT_THAT(*reason, Not(HasSubstr("seccomp")));
}

TEST(IoUringSkip, DeniedBySeccomp) {
  FakeProc proc("0", "2");
  auto reason = SetUpWith(proc, -EPERM);
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("EPERM"));
  EXPECT_THAT(*reason, HasSubstr("seccomp"));
}

TEST(IoUringSkip, RestrictedToAGroup) {
  FakeProc proc("1", "0");
  auto reason = SetUpWith(proc, -EPERM);
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("kernel.io_uring_disabled=1"));
}

TEST(IoUringSkip, DeniedWithoutSeccompBlamesAnLsmAndSqpollItsCapability) {
  FakeProc proc("0", "0");
  auto plain = SetUpWith(proc, -EPERM);
  ASSERT_TRUE(plain);
  EXPECT_THAT(*plain, HasSubstr("LSM"));
  auto sqpoll = SetUpWith(proc, -EPERM, /*sqpoll=*/true);
  ASSERT_TRUE(sqpoll);
  EXPECT_THAT(*sqpoll, HasSubstr("CAP_SYS_NICE"));
}

TEST(IoUringSkip, AnyOtherErrorIsNamed) {
  EXPECT_FALSE(IoUringSetupReason(0, "0", "0", false));
  auto reason = IoUringSetupReason(EMFILE, "0", "0", false);
  ASSERT_TRUE(reason);
  EXPECT_THAT(*reason, HasSubstr("EMFILE"));
}

// A real seccomp filter: in a child, io_uring_setup answers EPERM, and the probe of the
// real environment must say seccomp denied it.
TEST(IoUringSkip, RealSeccompFilterInAChild) {
  std::ifstream sysctl("/proc/sys/kernel/io_uring_disabled");
  std::string disabled;
  if (sysctl && std::getline(sysctl, disabled) && disabled == "2") {
    GTEST_SKIP() << "io_uring is disabled here (kernel.io_uring_disabled=2): that reason wins";
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
      _exit(77);
    }
    io_uring ring{};
    std::optional<std::string> reason = SetUpRing(IoUringEnvironment{}, 8, -1, &ring);
    const std::string text = reason ? *reason : "(available)";
    (void)!write(fds[1], text.data(), text.size());
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot install a seccomp filter here";
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(text, HasSubstr("seccomp"));
  EXPECT_THAT(text, HasSubstr("EPERM"));
}

// --- The loop, where io_uring runs ---------------------------------------------------------

std::optional<std::string> RowUnavailable(const char* name) {
  const Path* row = FindPath(name);
  if (row == nullptr) return std::string("no row ") + name;
  return row->probe ? row->probe() : std::nullopt;
}

TEST(IoUringLoop, EveryBatchSizeCompletesEveryOperation) {
  for (const char* name :
       {"io_uring/nop_1", "io_uring/nop_8", "io_uring/nop_64", "io_uring/sqpoll_64"}) {
    SCOPED_TRACE(name);
    if (auto why = RowUnavailable(name)) {
      std::printf("[  INFO    ] %s skipped: %s\n", name, why->c_str());
      continue;
    }
    const Path* row = FindPath(name);
    const uint64_t arg = row->arg();
    // Whole batches, a partial one, and more operations than the ring has entries.
    for (uint64_t iterations : {1u, 7u, 8u, 9u, 64u, 65u, 300u}) {
      EXPECT_EQ(row->loop(iterations, arg), 0u) << iterations << " operations";
    }
    EXPECT_EQ(row->loop(0, arg), 0u);
  }
}

TEST(IoUringLoop, PerCallPassGivesOneSamplePerSubmission) {
  if (auto why = RowUnavailable("io_uring/nop_8")) GTEST_SKIP() << *why;
  const Path* row = FindPath("io_uring/nop_8");
  ASSERT_NE(row->per_call, nullptr);
  std::vector<uint64_t> ticks;
  std::string error;
  ASSERT_TRUE(row->per_call(10, ~0ull, row->arg(), &ticks, &error)) << error;
  EXPECT_EQ(ticks.size(), 10u);
}

}  // namespace
}  // namespace sysgate
