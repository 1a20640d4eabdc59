#include "harness/measure/pinning.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

namespace sysgate {

int DefaultCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return -1;
  for (int cpu = CPU_SETSIZE - 1; cpu >= 0; --cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return -1;
}

bool PinToCpu(int cpu, std::string* error) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    *error = "CPU " + std::to_string(cpu) + " is out of range";
    return false;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    *error = "cannot pin to CPU " + std::to_string(cpu) + ": " + std::strerror(errno) +
             " (is it in this process's allowed set? see taskset -p $$)";
    return false;
  }
  return true;
}

}  // namespace sysgate
