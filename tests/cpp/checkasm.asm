; checkasm.asm: calls a stub with every callee-saved register holding a known value and
; reports which ones the stub failed to preserve (in the spirit of dav1d's checkasm).
%include "sysgate.inc"

%define CANARY(i) (0x5a5a000000000000 | (i * 0x0101010101))

; uint64_t sysgate_checked_call(LoopFn fn, uint64_t iterations, uint64_t arg,
;                               uint64_t* clobbered)
; *clobbered gets bit i set when callee-saved register i changed:
;   0 rbx, 1 rbp, 2 r12, 3 r13, 4 r14, 5 r15.
SYSGATE_FUNC checked_call
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rcx                ; 7 pushes: rsp is 16-byte aligned again for the call
    mov rax, rdi
    mov rdi, rsi
    mov rsi, rdx
    mov rbx, CANARY(1)
    mov rbp, CANARY(2)
    mov r12, CANARY(3)
    mov r13, CANARY(4)
    mov r14, CANARY(5)
    mov r15, CANARY(6)
    call rax
    pop rcx
    xor edx, edx
%macro CHECK 3 ; register, canary index, bit
    mov r8, CANARY(%2)
    cmp %1, r8
    je %%ok
    or rdx, 1 << %3
%%ok:
%endmacro
    CHECK rbx, 1, 0
    CHECK rbp, 2, 1
    CHECK r12, 3, 2
    CHECK r13, 4, 3
    CHECK r14, 5, 4
    CHECK r15, 6, 5
    mov [rcx], rdx
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
