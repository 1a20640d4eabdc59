// Declarations of the NASM stubs in asm/, in the order of the .asm files.
//
// Every loop stub has the signature uint64_t stub(uint64_t iterations, uint64_t arg):
// it runs its path `iterations` times in its own loop and returns the last result.
#ifndef SYSGATE_HARNESS_STUBS_H_
#define SYSGATE_HARNESS_STUBS_H_

#include <cstdint>

namespace sysgate {

// What sysgate_dummy_id returns (asm/baseline.asm: DUMMY_ID), "SYSGATE1".
inline constexpr uint64_t kSysgateDummyId = 0x5359534741544531;

using LoopFn = uint64_t (*)(uint64_t iterations, uint64_t arg);

}  // namespace sysgate

extern "C" {
// asm/baseline.asm
uint64_t sysgate_empty_loop(uint64_t iterations, uint64_t arg);
uint64_t sysgate_dummy_id();
uint64_t sysgate_call_loop(uint64_t iterations, uint64_t arg);
// asm/getpid.asm
uint64_t sysgate_syscall_getpid_loop(uint64_t iterations, uint64_t arg);
uint64_t sysgate_getpid_fn();
uint64_t sysgate_syscall_getpid_call_loop(uint64_t iterations, uint64_t arg);
uint64_t sysgate_syscall_getppid_loop(uint64_t iterations, uint64_t arg);
uint64_t sysgate_int80_getpid_loop(uint64_t iterations, uint64_t arg);
}

#endif  // SYSGATE_HARNESS_STUBS_H_
