; indirect.asm: the indirect-cost family (harness/indirect_paths.h, docs/indirect.md).
;
; What a kernel entry costs the user code that runs AFTER it returned: caches and TLB
; entries the kernel evicted, return-stack-buffer entries its exit path stuffed or
; cleared (RSB filling, SRSO "Safe RET"), branch-predictor state it flushed (IBPB on
; entry). Each stub runs, per iteration, one ENTRY and then a fixed user-mode WORKLOAD;
; the same workload after a plain call is the reference (the `call` entry). The report
; subtracts the entry's own direct cost, measured by its row elsewhere in the table.
;
; Entries (one macro each; every one leaves its result in rax and may clobber every
; caller-saved register, as the call to a C function would):
;   call     call sysgate_dummy_id            rax = DUMMY_ID (harness/stubs.h)
;   syscall  mov eax, 39; syscall (getpid)    rax = the pid
;   glibc    call getpid (glibc, through the PLT: its `ret` follows SYSRET)   rax = pid
;   int80    mov eax, 20; int 0x80 (compat getpid)                            rax = pid
;   vdso     call __vdso_getcpu(&cpu, &node, NULL) through the state's pointer rax = 0
;            (the control: no kernel entry; getcpu never falls back to a syscall)
;
; Workloads (one stub per workload and entry; all take the same state struct as `arg`):
;   chase     `steps` dependent loads through a cyclic random permutation of the cache
;             lines of a buffer (the working set); the cursor persists across calls.
;   calls_D   a chain of D nested calls with the ENTRY at the bottom, then D returns:
;             the returns run after the entry and pop RSB entries pushed BEFORE it,
;             which is the only shape that sees an RSB the kernel cleared or stuffed
;             (calls made after the entry would refill the RSB themselves). D = 1 is the
;             shape of getpid/syscall_fn. Every level has its own return address.
;   branches  a block of 32 indirect jumps (`jmp rcx`), each site with one fixed target,
;             visited in a scrambled order so a jump never falls through to its target.
;
; The state struct (harness/indirect_paths.h: IndirectState; static_asserts there):
%define ST_VDSO_GETCPU  0       ; void* __vdso_getcpu
%define ST_CURSOR       8       ; void* the chase position (in and out)
%define ST_STEPS        16      ; uint64_t dependent loads per iteration, >= 1
%define ST_CPU          24      ; unsigned: getcpu's cpu output
%define ST_NODE         28      ; unsigned: getcpu's node output
;
; Common contract of every stub here:
;   in:  rdi = iterations, rsi = pointer to the state struct
;   out: rax = the last entry's result (0 when iterations is 0)
;   clobbers: every caller-saved register (rax, rcx, rdx, rsi, rdi, r8-r11), flags;
;        rbx, rbp, r12-r15 are saved and restored (tests/cpp/paths/indirect_test.cc checks it)
%include "sysgate.inc"

extern getpid
extern sysgate_dummy_id

%define NR_GETPID_64    39      ; arch/x86/entry/syscalls/syscall_64.tbl
%define NR_GETPID_IA32  20      ; arch/x86/entry/syscalls/syscall_32.tbl
%define BRANCH_BLOCKS   32      ; indirect jumps per iteration of `branches`
%define BRANCH_STRIDE   13      ; visit order i -> i+13 mod 32 (13 is odd: one cycle)
%define BRANCH_LAST     19      ; 31*13 mod 32: the block visited last

; --- Entries: rbx holds the state pointer; the stack is 16-byte aligned at each. -------
%macro ENTRY_call 0
    call sysgate_dummy_id wrt ..plt
%endmacro
%macro ENTRY_syscall 0
    mov eax, NR_GETPID_64
    syscall                         ; clobbers rcx, r11
%endmacro
%macro ENTRY_glibc 0
    call getpid wrt ..plt
%endmacro
%macro ENTRY_int80 0
    mov eax, NR_GETPID_IA32
    int 0x80
%endmacro
%macro ENTRY_vdso 0
    lea rdi, [rbx + ST_CPU]
    lea rsi, [rbx + ST_NODE]
    xor edx, edx
    call [rbx + ST_VDSO_GETCPU]
%endmacro

; Saves rbx, r12-r15 (five pushes after the return address: rsp is 16-byte aligned for
; the calls the entries make) and loads rbx = state, r14 = iterations, r15 = result.
%macro PROLOGUE5 0
    push rbx
    push r12
    push r13
    push r14
    push r15
    mov rbx, rsi
    mov r14, rdi
    xor r15d, r15d
%endmacro
%macro EPILOGUE5 0
    mov rax, r15
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    ret
%endmacro

; sysgate_indirect_chase_<entry>: ENTRY, then `steps` dependent loads. See the contract
; above; also writes the final cursor back to the state.
%macro CHASE_STUB 1
SYSGATE_FUNC indirect_chase_%1
    PROLOGUE5
    mov r12, [rbx + ST_CURSOR]
    mov r13, [rbx + ST_STEPS]
    test r14, r14
    jz .done
.loop:
    ENTRY_%1
    mov r15, rax
    mov rcx, r13
.chase:
    mov r12, [r12]                  ; each load's address is the previous load's value
    dec rcx
    jnz .chase
    dec r14
    jnz .loop
.done:
    mov [rbx + ST_CURSOR], r12
    EPILOGUE5
%endmacro

; sysgate_indirect_calls_<depth>_<entry>: a chain of <depth> nested direct calls, ENTRY
; at the bottom, then <depth> returns. rbp (saved) keeps the stack pointer while the
; bottom aligns rsp to 16 bytes for the entry, whatever the depth's parity; the same
; bottom is used for every entry, so it cancels against the `call` entry.
%macro CALLS_STUB 2 ; entry, depth
SYSGATE_FUNC indirect_calls_%2_%1
    push rbp
    PROLOGUE5
    test r14, r14
    jz .done
.loop:
    call .level%2
    mov r15, rax
    dec r14
    jnz .loop
.done:
    EPILOGUE5_RBP
%assign level %2
%rep %2 - 1
%assign below level - 1
    align 16, int3
.level%[level]:
    call .level%[below]
    ret
%assign level below
%endrep
    align 16, int3
.level1:
    mov rbp, rsp
    and rsp, -16
    ENTRY_%1
    mov rsp, rbp
    ret
%endmacro
%macro EPILOGUE5_RBP 0
    mov rax, r15
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
%endmacro

; sysgate_indirect_branches_<entry>: ENTRY, then BRANCH_BLOCKS indirect jumps. Block i
; jumps to block (i + BRANCH_STRIDE) mod BRANCH_BLOCKS; block BRANCH_LAST leaves. Each
; block is 16-byte aligned and padded with int3, so no jump's target is its fall-through
; and straight-line speculation past a jump stops at once.
%macro BRANCHES_STUB 1
SYSGATE_FUNC indirect_branches_%1
    PROLOGUE5
    test r14, r14
    jz .done
.loop:
    ENTRY_%1
    mov r15, rax
    jmp .b0
%assign i 0
%rep BRANCH_BLOCKS
    align 16, int3
.b%[i]:
%if i == BRANCH_LAST
    lea rcx, [rel .bend]
%else
%assign next (i + BRANCH_STRIDE) % BRANCH_BLOCKS
    lea rcx, [rel .b%[next]]
%endif
    jmp rcx
%assign i i + 1
%endrep
    align 16, int3
.bend:
    dec r14
    jnz .loop
.done:
    EPILOGUE5
%endmacro

; The stubs, in the order harness/indirect_paths.h declares them.
%macro ALL_FOR_ENTRY 1
    CHASE_STUB %1
    CALLS_STUB %1, 1
    CALLS_STUB %1, 4
    CALLS_STUB %1, 16
    CALLS_STUB %1, 32
    BRANCHES_STUB %1
%endmacro

ALL_FOR_ENTRY call
ALL_FOR_ENTRY syscall
ALL_FOR_ENTRY glibc
ALL_FOR_ENTRY int80
ALL_FOR_ENTRY vdso
