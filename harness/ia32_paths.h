// The ia32 rows of the path table: getpid entered from a 32-bit process (the helper, see
// harness/ia32_client.h and docs/ia32.md), plus their 32-bit plain-call baseline.
#ifndef SYSGATE_HARNESS_IA32_PATHS_H_
#define SYSGATE_HARNESS_IA32_PATHS_H_

#include <cstdint>
#include <vector>

#include "harness/paths.h"

namespace sysgate {

// The rows, in report order. Their `timed` runners talk to Ia32Client::Shared(), which is
// started by the first probe or run, not by this call.
std::vector<Path> Ia32Paths();

// What every ia32 getpid path must return: the helper's pid, not ours.
uint64_t ExpectHelperPid();

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_IA32_PATHS_H_
