; checkasm32.asm: calls a 32-bit stub the way dav1d's checkasm does, with known values in
; every cdecl callee-saved register, and reports which ones the stub did not preserve.
; Linked into the test build of the helper only (sysgate_ia32_test_helper), for its
; `check` request (tests/cpp/coprocess/ia32_test.cc).
%include "sysgate32.inc"

%define MAGIC_EBX 0x1b1b1b1b
%define MAGIC_ESI 0x5e5e5e5e
%define MAGIC_EDI 0xd1d1d1d1
%define MAGIC_EBP 0xbebebebe

; uint64_t sysgate32_checked_call(stub, uint32_t iterations, uint32_t arg)
;   out: eax = the stub's result; edx = mask of registers it clobbered:
;        1 ebx, 2 esi, 4 edi, 8 ebp, 16 esp
SYSGATE32_FUNC checked_call
    push ebp
    push ebx
    push esi
    push edi
    mov eax, [esp + 20]         ; stub (esp+4 before the four pushes)
    mov ecx, [esp + 24]         ; iterations
    mov edx, [esp + 28]         ; arg
    movd xmm7, esp              ; esp kept where no stub looks (the kernel preserves it),
                                ; so this stays position independent
    mov ebx, MAGIC_EBX
    mov esi, MAGIC_ESI
    mov edi, MAGIC_EDI
    mov ebp, MAGIC_EBP
    push edx
    push ecx
    call eax
    add esp, 8
    xor edx, edx
    cmp ebx, MAGIC_EBX
    je .ebx_ok
    or edx, 1
.ebx_ok:
    cmp esi, MAGIC_ESI
    je .esi_ok
    or edx, 2
.esi_ok:
    cmp edi, MAGIC_EDI
    je .edi_ok
    or edx, 4
.edi_ok:
    cmp ebp, MAGIC_EBP
    je .ebp_ok
    or edx, 8
.ebp_ok:
    movd ecx, xmm7
    cmp esp, ecx
    je .esp_ok
    or edx, 16
    mov esp, ecx
.esp_ok:
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; sysgate32_ud2_loop: not a path. Executes ud2, so tests can check that the helper's probe
; turns a #UD into a skip reason instead of a crash.
;   out: never returns (SIGILL)
SYSGATE32_FUNC ud2_loop
    ud2
