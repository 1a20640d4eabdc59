"""The rows every build of sysgate_bench has, whatever the machine (harness/paths/paths.cc:
CorePaths, and paths/lmbench_raw_paths.cc): the bench and run tests expect each of them in
the list and the results."""

CORE_PATHS = {
    "baseline/empty_loop", "baseline/call", "getpid/glibc", "getpid/glibc_syscall",
    "getpid/syscall", "getpid/syscall_fn", "getpid/int80", "getppid/syscall",
    "lmbench/read", "lmbench/write", "lmbench/fstat", "lmbench/stat", "lmbench/open_close",
    "lmbench/close_ebadf", "lmbench/read_raw", "lmbench/write_raw", "lmbench/fstat_raw",
}
