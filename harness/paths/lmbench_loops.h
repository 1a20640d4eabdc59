// Paths measured with C++ loops: glibc's wrappers and the lmbench `lat_syscall` set.
// Same signature as the NASM stubs: uint64_t loop(uint64_t iterations, uint64_t arg).
#ifndef SYSGATE_HARNESS_PATHS_LMBENCH_LOOPS_H_
#define SYSGATE_HARNESS_PATHS_LMBENCH_LOOPS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace sysgate {

// getpid/glibc: getpid() (glibc >= 2.25 no longer caches the pid, so this enters the kernel).
uint64_t GlibcGetpidLoop(uint64_t iterations, uint64_t arg);
// getpid/glibc_syscall: syscall(SYS_getpid), the generic wrapper.
uint64_t GlibcSyscallGetpidLoop(uint64_t iterations, uint64_t arg);

// The lmbench set. `arg` is an open file descriptor where the path needs one
// (see LmbenchFd), and these return what the last call returned.
uint64_t ReadZeroLoop(uint64_t iterations, uint64_t fd);     // read 1 byte, returns 1
uint64_t WriteNullLoop(uint64_t iterations, uint64_t fd);    // write 1 byte, returns 1
uint64_t FstatLoop(uint64_t iterations, uint64_t fd);        // returns 0
uint64_t StatLoop(uint64_t iterations, uint64_t arg);        // stat("/dev/null"), returns 0
uint64_t OpenCloseLoop(uint64_t iterations, uint64_t arg);   // returns close()'s 0
uint64_t CloseEbadfLoop(uint64_t iterations, uint64_t arg);  // returns errno (EBADF)

// File descriptors opened once per process and kept open: /dev/zero for reading,
// /dev/null for writing. The rows that use them probe them first (ProbeDevFiles).
uint64_t DevZeroFd();
uint64_t DevNullFd();

// Why /dev/zero or /dev/null cannot be opened here ("cannot open /dev/zero: ..."), or
// nullopt: the read, write and fstat rows skip with that reason.
std::optional<std::string> ProbeDevFiles();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_LMBENCH_LOOPS_H_
