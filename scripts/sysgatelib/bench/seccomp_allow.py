"""Run a command under an allow-all seccomp filter: a real, reproducible kernel-entry
slowdown that needs no root and no reboot.

    /usr/bin/python3 scripts/sysgatelib/bench/seccomp_allow.py [--filters N] COMMAND [ARG...]

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


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def install_allow_all(filters=1):
    """Install `filters` allow-all filters on the calling thread (and its future children).
    Raises OSError when the kernel refuses (no CONFIG_SECCOMP_FILTER)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(error)}")
    program = (SockFilter * 1)(SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    fprog = SockFprog(1, program)
    for _ in range(filters):
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_SECCOMP): {os.strerror(error)}")


def main(argv):
    filters = 1
    if argv[:1] == ["--filters"] and len(argv) > 1:
        filters, argv = int(argv[1]), argv[2:]
    if not argv:
        print("usage: seccomp_allow.py [--filters N] COMMAND [ARG...]", file=sys.stderr)
        return 2
    try:
        install_allow_all(filters)
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
