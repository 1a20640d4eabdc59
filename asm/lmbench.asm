; lmbench.asm: the lmbench `lat_syscall` read, write and fstat entered by hand, one
; `syscall` instruction per call (the `lmbench/*_raw` rows, harness/lmbench_raw_paths.cc).
;
; Beside the glibc rows (lmbench/read, write, fstat: glibc's wrapper called from a C++
; loop, what lmbench itself does) these take the wrapper out: no call and `ret` around
; the SYSCALL, no errno check, no cancellation-point test. The difference between a raw
; row and its glibc row is the wrapper's share; the raw row is the kernel's cost of the
; call plus one entry and exit.
;
; All three take `arg` as a pointer to a struct (harness/stubs.h: RawIoArgs):
;     struct { uint64_t fd; void* buffer; }   offsets 0, 8
; `buffer` is one byte for read and write and a struct stat (144 bytes) for fstat.
; The kernel preserves every register but rax, rcx and r11 across SYSCALL
; (arch/x86/entry/entry_64.S), so the arguments are loaded once and only rax is set
; again each iteration; the counter lives in r8.
%include "sysgate.inc"

%define NR_READ_64      0       ; arch/x86/entry/syscalls/syscall_64.tbl
%define NR_WRITE_64     1
%define NR_FSTAT_64     5

; SYSGATE_IO_LOOP name, nr, length: a loop of `syscall` with rax = nr, rdi = fd,
; rsi = buffer, rdx = length.
%macro SYSGATE_IO_LOOP 3
SYSGATE_FUNC %1
    xor eax, eax
    test rdi, rdi
    jz .done
    mov r8, rdi
    mov rdi, [rsi]          ; fd
    mov rsi, [rsi + 8]      ; buffer
    mov edx, %3
.loop:
    mov eax, %2
    syscall
    dec r8
    jnz .loop
.done:
    ret
%endmacro

; sysgate_syscall_read_loop: lmbench/read_raw. read(fd, buffer, 1) by SYSCALL, the row's
; fd is /dev/zero (lmbench `lat_syscall read`).
;   in:  rdi = iterations, rsi = pointer to RawIoArgs {fd, buffer of at least 1 byte}
;   out: rax = what the last read returned (1; a negative errno on failure; 0 when
;        iterations is 0)
;   clobbers: rcx and r11 (SYSCALL saves rip in rcx and rflags in r11), rdi, rsi, rdx,
;        r8, flags (all caller-saved)
SYSGATE_IO_LOOP syscall_read_loop, NR_READ_64, 1

; sysgate_syscall_write_loop: lmbench/write_raw. write(fd, buffer, 1) by SYSCALL, the
; row's fd is /dev/null (lmbench `lat_syscall write`).
;   in:  rdi = iterations, rsi = pointer to RawIoArgs {fd, buffer of at least 1 byte}
;   out: rax = what the last write returned (1; a negative errno on failure; 0 when
;        iterations is 0)
;   clobbers: rcx and r11 (SYSCALL saves rip in rcx and rflags in r11), rdi, rsi, rdx,
;        r8, flags (all caller-saved)
SYSGATE_IO_LOOP syscall_write_loop, NR_WRITE_64, 1

; sysgate_syscall_fstat_loop: lmbench/fstat_raw. fstat(fd, buffer) by SYSCALL, the row's
; fd is /dev/null (lmbench `lat_syscall fstat /dev/null`). rdx is loaded but unused by
; the kernel (fstat takes two arguments).
;   in:  rdi = iterations, rsi = pointer to RawIoArgs {fd, buffer: a struct stat}
;   out: rax = what the last fstat returned (0; a negative errno on failure; 0 when
;        iterations is 0)
;   clobbers: rcx and r11 (SYSCALL saves rip in rcx and rflags in r11), rdi, rsi, rdx,
;        r8, flags (all caller-saved)
SYSGATE_IO_LOOP syscall_fstat_loop, NR_FSTAT_64, 0
