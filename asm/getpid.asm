; getpid.asm: getpid and getppid entered by hand, one instruction each.
%include "sysgate.inc"

%define NR_GETPID_64    39      ; arch/x86/entry/syscalls/syscall_64.tbl
%define NR_GETPPID_64   110
%define NR_GETPID_IA32  20      ; arch/x86/entry/syscalls/syscall_32.tbl

; sysgate_syscall_getpid_loop: getpid/syscall. The native 64-bit SYSCALL entry
; (entry_SYSCALL_64), the path glibc's getpid() takes.
;   in:  rdi = iterations, rsi = arg (unused)
;   out: rax = the pid (0 when iterations is 0)
;   clobbers: rcx and r11 (SYSCALL saves rip in rcx and rflags in r11), rdi, flags
SYSGATE_FUNC syscall_getpid_loop
    xor eax, eax
    test rdi, rdi
    jz .done
.loop:
    mov eax, NR_GETPID_64
    syscall
    dec rdi
    jnz .loop
.done:
    ret

; sysgate_getpid_fn: getpid as a function, the shape of glibc's wrapper without the PLT.
;   out: rax = the pid; clobbers rcx, r11
SYSGATE_FUNC getpid_fn
    mov eax, NR_GETPID_64
    syscall
    ret

; sysgate_syscall_getpid_call_loop: getpid/syscall_fn. Calls sysgate_getpid_fn each
; iteration. Against getpid/syscall it isolates what a call/ret around the SYSCALL costs:
; kernels that refill or clear the return stack buffer on the way out (RSB filling,
; SRSO "Safe RET") make the `ret` after SYSRET mispredict, which is a large part of why
; glibc's wrappers can cost more than the bare instruction.
;   in:  rdi = iterations, rsi = arg (unused)
;   out: rax = the pid
;   clobbers: rcx, r11, rdi, flags
SYSGATE_FUNC syscall_getpid_call_loop
    xor eax, eax
    test rdi, rdi
    jz .done
.loop:
    call sysgate_getpid_fn
    dec rdi
    jnz .loop
.done:
    ret

; sysgate_syscall_getppid_loop: getppid/syscall, what lmbench `lat_syscall null` and
; `perf bench syscall basic` time (getppid cannot be cached by any libc).
;   in:  rdi = iterations, rsi = arg (unused)
;   out: rax = the parent pid
;   clobbers: rcx, r11, rdi, flags
SYSGATE_FUNC syscall_getppid_loop
    xor eax, eax
    test rdi, rdi
    jz .done
.loop:
    mov eax, NR_GETPPID_64
    syscall
    dec rdi
    jnz .loop
.done:
    ret

; sysgate_int80_getpid_loop: getpid/int80. `int 0x80` from 64-bit code enters the ia32
; compat table (entry_INT80_compat / do_int80_emulation), so eax = 20, not 39, and any
; argument would be truncated to 32 bits. Since the CVE-2024-25744 hardening non-FRED
; kernels read the local APIC's in-service register on every int 0x80 to reject an
; external interrupt on vector 0x80 (arch/x86/entry/common.c, int80_is_external());
; inside a guest without full APIC virtualization that read exits to the hypervisor,
; which is why this path costs microseconds in many VMs.
; Faults with SIGSEGV where the kernel has no ia32 emulation (ia32_emulation=off).
;   in:  rdi = iterations, rsi = arg (unused)
;   out: rax = the pid
;   clobbers: rdi, flags (r8-r11 are preserved since Linux 4.16)
SYSGATE_FUNC int80_getpid_loop
    xor eax, eax
    test rdi, rdi
    jz .done
.loop:
    mov eax, NR_GETPID_IA32
    int 0x80
    dec rdi
    jnz .loop
.done:
    ret
