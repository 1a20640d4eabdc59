; baseline.asm: the two baselines every report subtracts or divides by.
%include "sysgate.inc"

; The constant sysgate_dummy_id returns (harness/stubs.h: kSysgateDummyId).
%define DUMMY_ID 0x5359534741544531

; sysgate_empty_loop: measures the loop overhead alone (decrement, branch).
;   in:  rdi = iterations, rsi = arg
;   out: rax = arg (so the loop has a result the caller can check)
;   clobbers: rdi, flags
SYSGATE_FUNC empty_loop
    mov rax, rsi
    test rdi, rdi
    jz .done
.loop:
    dec rdi
    jnz .loop
.done:
    ret

; sysgate_dummy_id: the seed article's getdummyid(): a function that does nothing but
; return a constant. What a call costs when it never leaves user mode.
;   out: rax = DUMMY_ID; clobbers nothing else
SYSGATE_FUNC dummy_id
    mov rax, DUMMY_ID
    ret

; sysgate_call_loop: baseline/call. One near call + ret to sysgate_dummy_id per iteration.
;   in:  rdi = iterations, rsi = arg (unused)
;   out: rax = DUMMY_ID (0 when iterations is 0)
;   clobbers: rdi, flags
SYSGATE_FUNC call_loop
    xor eax, eax
    test rdi, rdi
    jz .done
.loop:
    call sysgate_dummy_id
    dec rdi
    jnz .loop
.done:
    ret
