// Declarations of the NASM stubs in asm/, in the order of the .asm files.
//
// Every loop stub has the signature uint64_t stub(uint64_t iterations, uint64_t arg):
// it runs its path `iterations` times in its own loop and returns the last result.
#ifndef SYSGATE_HARNESS_PATHS_STUBS_H_
#define SYSGATE_HARNESS_PATHS_STUBS_H_

#include <cstdint>

namespace sysgate {

// What sysgate_dummy_id returns (asm/baseline.asm: DUMMY_ID), "SYSGATE1".
inline constexpr uint64_t kSysgateDummyId = 0x5359534741544531;

using LoopFn = uint64_t (*)(uint64_t iterations, uint64_t arg);

// The `arg` of sysgate_syscall_args_loop (asm/syscall_args.asm): a syscall number and up
// to three arguments, loaded into rax, rdi, rsi, rdx before every `syscall`.
struct SyscallArgs {
  uint64_t nr, a0, a1, a2;
};

// The `arg` of the lmbench raw stubs (asm/lmbench.asm): the file descriptor and the
// buffer read into, written from, or filled with a struct stat.
struct RawIoArgs {
  uint64_t fd;
  void* buffer;
};

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
// asm/lmbench.asm (arg: a const sysgate::RawIoArgs*)
uint64_t sysgate_syscall_read_loop(uint64_t iterations, uint64_t arg);
uint64_t sysgate_syscall_write_loop(uint64_t iterations, uint64_t arg);
uint64_t sysgate_syscall_fstat_loop(uint64_t iterations, uint64_t arg);
// asm/syscall_args.asm (arg: a const sysgate::SyscallArgs*)
uint64_t sysgate_syscall_args_loop(uint64_t iterations, uint64_t arg);
// asm/indirect.asm (arg: a sysgate::IndirectState*, harness/paths/indirect_paths.h), per entry
// in this order: chase, calls_1, calls_4, calls_16, calls_32, branches.
#define SYSGATE_INDIRECT_STUBS(entry)                             \
  uint64_t sysgate_indirect_chase_##entry(uint64_t, uint64_t);    \
  uint64_t sysgate_indirect_calls_1_##entry(uint64_t, uint64_t);  \
  uint64_t sysgate_indirect_calls_4_##entry(uint64_t, uint64_t);  \
  uint64_t sysgate_indirect_calls_16_##entry(uint64_t, uint64_t); \
  uint64_t sysgate_indirect_calls_32_##entry(uint64_t, uint64_t); \
  uint64_t sysgate_indirect_branches_##entry(uint64_t, uint64_t);
SYSGATE_INDIRECT_STUBS(call)
SYSGATE_INDIRECT_STUBS(syscall)
SYSGATE_INDIRECT_STUBS(glibc)
SYSGATE_INDIRECT_STUBS(int80)
SYSGATE_INDIRECT_STUBS(vdso)
#undef SYSGATE_INDIRECT_STUBS
}

#endif  // SYSGATE_HARNESS_PATHS_STUBS_H_
