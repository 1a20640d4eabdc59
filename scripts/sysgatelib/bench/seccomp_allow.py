"""Run a command under an allow-all seccomp filter: a real, reproducible kernel-entry
slowdown that needs no root and no reboot.

    /usr/bin/python3 scripts/sysgatelib/bench/seccomp_allow.py [--filters N] [--loads L]
        COMMAND [ARG...]

--loads L makes the filter a graded slowdown: a program of L loads of the first syscall
argument before it allows, so every syscall runs L more BPF instructions. Because it reads
an argument, the kernel's constant-action cache (seccomp_cache_prepare_bitmap in
kernel/seccomp.c emulates each filter per syscall number and skips the filter when the
action cannot depend on anything else) cannot skip it: without --loads the program is a
bare RET ALLOW, which that cache turns into almost nothing.

A process with a seccomp filter takes the kernel's syscall-work path on every system call
(the filter runs before the syscall is dispatched; kernel/seccomp.c), so every path that
enters the kernel gets slower and nothing in user mode (the vDSO, a plain call) does. The
filter returns SECCOMP_RET_ALLOW for everything, so the command behaves as before. Filters
are inherited across fork and execve: `sysgate run` under this wrapper measures every
worker process under the filter, and the results record it (context `seccomp` = 2).
PR_SET_NO_NEW_PRIVS is what lets an unprivileged process install a filter
(Documentation/userspace-api/seccomp_filter.rst). Only ctypes: no third-party module.
"""

import ctypes
import os
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
BPF_RET_K = 0x06  # BPF_RET | BPF_K: return the constant
SECCOMP_RET_ALLOW = 0x7FFF0000
BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS: load a 32-bit word of struct seccomp_data
SECCOMP_DATA_ARGS = 16  # offsetof(struct seccomp_data, args): nr, arch (4 + 4), ip (8)
MAX_LOADS = 4095  # BPF_MAXINSNS is 4096, the RET included


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def program(loads=0):
    """The filter: `loads` loads of the first argument, then RET ALLOW."""
    if not 0 <= loads <= MAX_LOADS:
        raise ValueError(f"loads {loads}: must be 0 to {MAX_LOADS}")
    code = [SockFilter(BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARGS) for _ in range(loads)]
    code.append(SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    return (SockFilter * len(code))(*code)


def install_allow_all(filters=1, loads=0):
    """Install `filters` allow-all filters of `loads` argument loads each on the calling
    thread (and its future children). Raises OSError when the kernel refuses (no
    CONFIG_SECCOMP_FILTER)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(error)}")
    code = program(loads)
    fprog = SockFprog(len(code), code)
    for _ in range(filters):
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_SECCOMP): {os.strerror(error)}")


def main(argv):
    options = {"--filters": 1, "--loads": 0}
    while argv[:1] and argv[0] in options and len(argv) > 1:
        if not argv[1].isdigit() or (argv[0] == "--loads" and int(argv[1]) > MAX_LOADS):
            print(f"error: {argv[0]} {argv[1]}: must be a whole number"
                  + (f" up to {MAX_LOADS}" if argv[0] == "--loads" else ""), file=sys.stderr)
            return 2
        options[argv[0]], argv = int(argv[1]), argv[2:]
    if not argv:
        print("usage: seccomp_allow.py [--filters N] [--loads L] COMMAND [ARG...]",
              file=sys.stderr)
        return 2
    try:
        install_allow_all(options["--filters"], options["--loads"])
    except OSError as exc:
        print(f"error: seccomp filter: {exc.strerror}", file=sys.stderr)
        return 3
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        print(f"error: {argv[0]}: {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
