; syscall_args32.asm: one generic `int 0x80` loop for the ia32 calls whose arguments are
; data (clock_gettime64, getcpu): the `*/ia32_int80` rows of the vDSO families, the 32-bit
; sibling of ../syscall_args.asm.
%include "sysgate32.inc"

; sysgate32_int80_args_loop: int 0x80 with up to three arguments read from a struct
; (benchmarks/ia32/sysgate_ia32_helper.cc: Int80Args):
;     struct { uint32_t nr, a0, a1, a2; }   offsets 0, 4, 8, 12
; loaded into eax, ebx, ecx, edx before every int 0x80 (the ia32 syscall ABI). The struct
; is re-read every iteration; the loads hit L1 and vanish next to the entry.
;   in: iterations, arg = pointer to the struct
;   out: eax = what the last call returned (a negative errno on failure; 0 when
;        iterations is 0)
;   clobbers: ecx, edx, flags (ebx, esi, edi are saved; the kernel preserves every
;        register but eax)
SYSGATE32_FUNC int80_args_loop
    push esi
    push edi
    push ebx
    mov esi, [esp + 16]         ; iterations (esp+4 before the three pushes)
    mov edi, [esp + 20]         ; arg
    xor eax, eax
    test esi, esi
    jz .done
.loop:
    mov eax, [edi]
    mov ebx, [edi + 4]
    mov ecx, [edi + 8]
    mov edx, [edi + 12]
    int 0x80
    dec esi
    jnz .loop
.done:
    pop ebx
    pop edi
    pop esi
    ret
