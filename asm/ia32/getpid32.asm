; getpid32.asm: the ia32 entry paths, run from a 32-bit process (the helper).
;
; Signature and conventions: sysgate32.inc. getpid is 20 in the ia32 table
; (arch/x86/entry/syscalls/syscall_32.tbl).
%include "sysgate32.inc"

%define NR_GETPID_IA32  20
; The constant sysgate32_dummy_id returns (harness/ia32_client.h: kSysgate32DummyId), "SG32".
%define DUMMY_ID_32     0x32334753

; Loads the loop count into esi (saved), eax = 0, and skips to .done when it is 0.
%macro LOOP_PROLOGUE 0
    push esi
    mov esi, [esp + 8]          ; iterations (esp+4 before the push)
    xor eax, eax
    test esi, esi
    jz .done
%endmacro

%macro LOOP_EPILOGUE 0
.done:
    pop esi
    ret
%endmacro

; sysgate32_dummy_id: returns a constant; what a 32-bit call costs when it never leaves
; user mode.   out: eax = DUMMY_ID_32; clobbers nothing else
SYSGATE32_FUNC dummy_id
    mov eax, DUMMY_ID_32
    ret

; sysgate32_call_loop: baseline/ia32_call. One near call + ret per iteration.
;   in: iterations, arg (unused)   out: eax = DUMMY_ID_32   clobbers: flags
SYSGATE32_FUNC call_loop
    LOOP_PROLOGUE
.loop:
    call sysgate32_dummy_id
    dec esi
    jnz .loop
    LOOP_EPILOGUE

; sysgate32_int80_getpid_loop: getpid/ia32_int80. The legacy software interrupt
; (entry_INT80_compat before 6.7; the int80_emulation IDT entry, do_int80_emulation() in
; arch/x86/entry/syscall_32.c, since), returning with IRET. The kernel preserves every
; register but eax. Like the 64-bit int80 row it pays the CVE-2024-25744 check on non-FRED
; kernels (int80_is_external() reads the APIC in-service register).
;   in: iterations, arg (unused)   out: eax = the pid   clobbers: flags
SYSGATE32_FUNC int80_getpid_loop
    LOOP_PROLOGUE
.loop:
    mov eax, NR_GETPID_IA32
    int 0x80
    dec esi
    jnz .loop
    LOOP_EPILOGUE

; sysgate32_sysenter_getpid_loop: getpid/ia32_sysenter. A raw SYSENTER, entered the way
; __kernel_vsyscall enters it (arch/x86/entry/vdso/vdso32/system_call.S).
;
; SYSENTER saves neither the return address nor the user stack pointer. The kernel
; (entry_SYSENTER_compat in arch/x86/entry/entry_64_compat.S, then do_fast_syscall_32 in
; arch/x86/entry/syscall_32.c) therefore returns to a fixed place: the vDSO's
; int80_landing_pad, which pops ebp, edx, ecx and executes `ret`. It takes the user esp from
; ebp and reloads the caller's ebp (syscall arg 6) from [esp]. So the stub calls a small
; routine that pushes ecx, edx, ebp, sets ebp = esp and executes SYSENTER: the landing pad
; pops what the routine pushed and its `ret` returns into this loop, as if the routine had
; returned. This only works in a process that has the 32-bit vDSO mapped, which is why the
; path lives in a 32-bit helper and not in the 64-bit benchmark.
;
; #UD (SIGILL) where SYSENTER is not valid in compat mode: AMD CPUs in long mode.
;   in: iterations, arg (unused)   out: eax = the pid   clobbers: flags
SYSGATE32_FUNC sysenter_getpid_loop
    LOOP_PROLOGUE
.loop:
    mov eax, NR_GETPID_IA32
    call sysgate32_sysenter_enter
    dec esi
    jnz .loop
    LOOP_EPILOGUE

; Never returns through its own code: the kernel resumes at the vDSO landing pad, which
; undoes the three pushes and returns to our caller.
SYSGATE32_FUNC sysenter_enter
    push ecx
    push edx
    push ebp
    mov ebp, esp
    sysenter
    ud2                         ; unreachable: the kernel never returns here

; sysgate32_syscall_getpid_loop: getpid/ia32_syscall. The SYSCALL instruction in
; compatibility mode (entry_SYSCALL_compat in arch/x86/entry/entry_64_compat.S), entered the
; way __kernel_vsyscall enters it when the kernel set X86_FEATURE_SYSCALL32: SYSCALL
; overwrites ecx with the return address, so arg 2 travels in ebp (and the caller's ebp is
; on the stack). do_fast_syscall_32 returns to the vDSO landing pad here too.
;
; #UD (SIGILL) where SYSCALL is not valid outside 64-bit mode: Intel CPUs.
;   in: iterations, arg (unused)   out: eax = the pid   clobbers: flags
SYSGATE32_FUNC syscall_getpid_loop
    LOOP_PROLOGUE
.loop:
    mov eax, NR_GETPID_IA32
    call sysgate32_syscall_enter
    dec esi
    jnz .loop
    LOOP_EPILOGUE

SYSGATE32_FUNC syscall_enter
    push ecx
    push edx
    push ebp
    mov ebp, ecx
    syscall
    ud2                         ; unreachable: the kernel returns to the landing pad

; sysgate32_vdso_getpid_loop: getpid/ia32_vdso. An indirect call to __kernel_vsyscall, the
; address the kernel passes in the auxiliary vector (AT_SYSINFO): the documented fast
; 32-bit entry. The kernel patches it to SYSENTER (X86_FEATURE_SYSENTER32: Intel, Centaur,
; Zhaoxin), compat SYSCALL (X86_FEATURE_SYSCALL32: AMD, Hygon) or plain int 0x80.
;   in: iterations, arg = the address of __kernel_vsyscall   out: eax = the pid
;   clobbers: flags (__kernel_vsyscall preserves ecx, edx, ebp)
SYSGATE32_FUNC vdso_getpid_loop
    LOOP_PROLOGUE
    push edi
    mov edi, [esp + 16]         ; arg (esp+8 before the two pushes)
.loop:
    mov eax, NR_GETPID_IA32
    call edi
    dec esi
    jnz .loop
    pop edi
    LOOP_EPILOGUE
