// SYSGATE_CHECK(cond): a broken invariant of sysgate itself (not of the machine or the
// user's input) stops the program at once with the file and line, instead of producing
// figures from a state the code does not expect.
#ifndef SYSGATE_HARNESS_PLATFORM_CHECK_H_
#define SYSGATE_HARNESS_PLATFORM_CHECK_H_

#include <cstdio>
#include <cstdlib>

namespace sysgate {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: internal error: check failed: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sysgate

#define SYSGATE_CHECK(cond)                                         \
  do {                                                              \
    if (!(cond)) ::sysgate::CheckFailed(__FILE__, __LINE__, #cond); \
  } while (0)

#endif  // SYSGATE_HARNESS_PLATFORM_CHECK_H_
