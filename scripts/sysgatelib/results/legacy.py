"""Path facts for results files written before the binary stated them per row.

Files from sysgate 0.x carry only the mechanism (as the row's label). So that stored
history still loads and compares, the missing facts are derived here from the names of
that time, and nowhere else: every other module reads PathResult's fields. New files
state every fact in the row (docs/results-format.md); nothing here applies to them.
"""

# Old mechanism labels, renamed to one vocabulary (load.MECHANISMS).
_MECHANISM_RENAMES = {"vsyscall": "vsyscall_page", "vdso32": "vdso", "asm": "call",
                      "ia32_int80": "int80", "ia32_syscall": "syscall"}
# The families with a vDSO function: their glibc rows call the vDSO (no kernel entry),
# except getrandom's, which uses it only from glibc 2.41 on.
_VDSO_FAMILIES = {"clock_gettime_monotonic", "clock_gettime_realtime",
                  "clock_gettime_monotonic_coarse", "clock_gettime_monotonic_raw",
                  "clock_gettime_boottime", "gettimeofday", "time", "getcpu", "clock_getres"}


def _baseline(name, abi):
    if name == "baseline/empty_loop":
        return "baseline/empty_loop"
    if name in ("baseline/call", "baseline/ia32_call"):
        return "baseline/empty_loop"
    return "baseline/ia32_call" if abi == "ia32" else "baseline/call"


def _expected_entries(mechanism, name):
    if mechanism == "runtime":
        return None  # no old file has these rows; a new one leaves them out when unknown
    if name.startswith(("getpid/", "getppid/")) and mechanism != "call":
        return 1.0  # the vDSO has no getpid: getpid/ia32_vdso is __kernel_vsyscall's entry
    if mechanism in ("loop", "call", "vdso"):
        return 0.0
    if name == "lmbench/open_close":
        return 2.0
    family = name.split("/", 1)[0]
    if mechanism == "glibc" and family == "getrandom":
        return None
    if mechanism == "glibc" and family in _VDSO_FAMILIES:
        return 0.0
    if mechanism in ("glibc", "syscall", "int80", "sysenter", "vsyscall_page"):
        return 1.0
    return None


def fill_in(paths):
    """Completes, in place, the facts an old file left out; keeps those it states."""
    for path in paths:
        path.mechanism = _MECHANISM_RENAMES.get(path.mechanism, path.mechanism)
        if "/ia32_" in path.name and path.abi == "x86_64":
            path.abi = "ia32"
        if not path.baseline:
            path.baseline = _baseline(path.name, path.abi)
        if path.expected_entries is None:
            path.expected_entries = _expected_entries(path.mechanism, path.name)
