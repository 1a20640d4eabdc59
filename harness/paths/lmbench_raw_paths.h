// The raw-instruction variants of the lmbench rows: `lmbench/read_raw`, `write_raw` and
// `fstat_raw` issue `syscall` from a NASM loop (asm/lmbench.asm) on the same file
// descriptors as the glibc rows (lmbench/read, write, fstat), so that the two side by
// side separate the kernel's cost from the wrapper's (docs/methodology.md, "Like for
// like with lmbench").
#ifndef SYSGATE_HARNESS_PATHS_LMBENCH_RAW_PATHS_H_
#define SYSGATE_HARNESS_PATHS_LMBENCH_RAW_PATHS_H_

#include <cstdint>
#include <vector>

#include "harness/paths/path.h"

namespace sysgate {

// The rows, in report order (added after the core table's lmbench rows by BuildTable in
// harness/paths.cc).
std::vector<Path> LmbenchRawPaths();

// The rows' `arg`s: a pointer to a RawIoArgs (harness/stubs.h) that lives as long as the
// process, holding DevZeroFd() and a byte (read), DevNullFd() and a byte (write),
// DevNullFd() and a struct stat (fstat).
uint64_t RawReadZeroArg();
uint64_t RawWriteNullArg();
uint64_t RawFstatNullArg();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_LMBENCH_RAW_PATHS_H_
