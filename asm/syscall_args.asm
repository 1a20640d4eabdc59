; syscall_args.asm: one generic `syscall` loop for every family whose arguments are data
; (clock_gettime, gettimeofday, time, getcpu, clock_getres, getrandom): the `*/syscall`
; variants of the vDSO families (harness/vdso_paths.cc).
%include "sysgate.inc"

; sysgate_syscall_args_loop: the raw SYSCALL entry with up to three arguments read from a
; struct (harness/stubs.h: SyscallArgs):
;     struct { uint64_t nr, a0, a1, a2; }   offsets 0, 8, 16, 24
; The struct is re-read every iteration, so a call that writes through a pointer argument
; (a timespec, a buffer) sees the same arguments each time; the loads hit L1 and cost far
; less than a cycle each next to the ~100 ns of the entry.
;   in:  rdi = iterations, rsi = pointer to the struct
;   out: rax = what the last syscall returned (a negative errno on failure; 0 when
;        iterations is 0)
;   clobbers: rcx and r11 (SYSCALL saves rip in rcx and rflags in r11), rdi, rsi, rdx,
;        r8, r9, flags (all caller-saved: the kernel preserves r8-r10 and the argument
;        registers, so the counter lives in r8 and the struct pointer in r9)
SYSGATE_FUNC syscall_args_loop
    xor eax, eax
    test rdi, rdi
    jz .done
    mov r8, rdi
    mov r9, rsi
.loop:
    mov rax, [r9]
    mov rdi, [r9 + 8]
    mov rsi, [r9 + 16]
    mov rdx, [r9 + 24]
    syscall
    dec r8
    jnz .loop
.done:
    ret
