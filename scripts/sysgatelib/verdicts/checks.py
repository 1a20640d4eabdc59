"""Warnings about a run, each with its remedy, in the style of pyperf's checks.

A check reads only the Run (its context and rows); it never looks at the machine it runs
on, because the report may be rendered far from where the numbers were taken. Every key
is optional: a check whose inputs are absent stays silent.
"""

import json
import re
from dataclasses import dataclass

from ..core import thresholds, units
from ..results import busy
from . import modes, stats

WARNING = "warning"
INFO = "info"

# getpid/int80 over getpid/syscall on bare metal (the compat entry does more work than
# the 64-bit one); the limit above which the page says why is thresholds.INT80_RATIO_LIMIT.
INT80_BARE_METAL_RATIO = "1.5-3x"

_FALSE = {"", "0", "false", "no", "none", "off", "disabled", "unknown"}
_PMU_COUNTERS = ("cycles", "cycles_user", "cycles_kernel", "instructions_user",
                 "instructions_kernel", "mode_switches")
# Per-row columns the counting pass writes (docs/results-format.md), PMU or not.
COUNTING_PASS_COLUMNS = _PMU_COUNTERS + ("kernel_entries", "context_switches", "page_faults",
                                         "task_clock_ns")
_VDSO_CAPABLE_CLOCKSOURCES = {"tsc", "kvm-clock", "hyperv_clocksource_tsc_page"}


@dataclass(frozen=True)
class Finding:
    """One line of advice: what was seen, why it matters, what to do."""

    key: str  # stable identifier, e.g. "int80_apic"; tests and CSS key on it
    severity: str  # WARNING or INFO
    title: str
    detail: str
    remedy: str


def _truthy(value):
    return value is not None and str(value).strip().lower() not in _FALSE


_HYPERVISORS = {
    "KVMKVMKVM": "KVM", "Microsoft Hv": "Hyper-V", "VMwareVMware": "VMware",
    "XenVMMXenVMM": "Xen", "TCGTCGTCGTCG": "QEMU TCG", "bhyve bhyve": "bhyve",
    "ACRNACRNACRN": "ACRN", "lrpepyh vr": "Parallels", "QNXQVMBSQG": "QNX",
}


def hypervisor_name(run):
    """A readable hypervisor name, "bare metal", or None when the file does not say."""
    signature = run.context.get("hypervisor")
    if signature is None:
        return None
    signature = signature.strip()
    if signature.lower() in ("", "none"):
        return "bare metal"
    return _HYPERVISORS.get(signature, signature)


def is_vm(run):
    """True, False, or None when the file does not say."""
    hypervisor = run.context.get("hypervisor")
    if hypervisor is None:
        return None
    return hypervisor.strip().lower() not in ("", "none")


def _entry_pair(run, mechanism):
    """(row of `mechanism`, the `syscall` row to judge it against), preferring the getpid
    family (the plainest system call): the row's `peer` when that is a `syscall` row, else
    the cheapest `syscall` row of its family and abi; None when absent."""
    rows = [p for p in run.measured() if p.mechanism == mechanism and p.abi == "x86_64"]
    rows.sort(key=lambda p: p.family != "getpid")
    for row in rows:
        peer = run.paths.get(getattr(row, "peer", "") or "")
        if peer is not None and peer.samples_ns and peer.mechanism == "syscall":
            return row, peer
        peers = [p for p in run.measured() if p.mechanism == "syscall" and
                 p.family == row.family and p.abi == row.abi]
        if peers:
            return row, min(peers, key=lambda p: stats.kbest_mean(p.samples_ns))
    return None


def int80_ratio(run):
    """The int 0x80 row over its family's syscall row (k-best means), or None."""
    pair = _entry_pair(run, "int80")
    if pair is None:
        return None
    int80, syscall = (stats.kbest_mean(p.samples_ns) for p in pair)
    return int80 / syscall if syscall else None


def check_emulated(run):
    if run.emulated:
        yield Finding(
            "emulated", WARNING, "Emulated CPU (TCG): timings are not hardware timings",
            "This run was inside a software-emulated guest. Ratios between paths say little "
            "and absolute nanoseconds say nothing about real hardware.",
            "Use these numbers only to check that every path works on this kernel; time on "
            "bare metal or under KVM.",
        )


def check_vm(run):
    vm = is_vm(run)
    ratio = int80_ratio(run)
    pair = _entry_pair(run, "int80")
    hypervisor = hypervisor_name(run)
    if ratio is not None and ratio > thresholds.INT80_RATIO_LIMIT:
        where = (f"in this {hypervisor} guest" if vm else
                 "on what the file says is bare metal" if vm is False else
                 "probably in a guest (the file does not record a hypervisor)")
        prefix = f"VM detected ({hypervisor}): " if vm else ""
        yield Finding(
            "int80_apic", WARNING,
            f"{prefix}int 0x80 costs {ratio:.0f}x a syscall "
            f"(bare metal: {INT80_BARE_METAL_RATIO})",
            f"{pair[0].name} is {ratio:.0f} times {pair[1].name} {where}. Since the "
            "CVE-2024-25744 hardening, kernels without FRED read the APIC in-service "
            "register on every int 0x80; in a guest without full APIC virtualization that "
            "read (rdmsr 0x814 on x2APIC: the ISR word that holds vector 0x80) exits to the "
            "hypervisor. The cost is the "
            "VM's, not the instruction's.",
            "Compare int 0x80 only on bare metal or on a host with APIC virtualization "
            "(Intel APICv, AMD AVIC/x2AVIC); in this guest use the syscall rows for the "
            "cost of entering the kernel.",
        )
    elif vm:
        yield Finding(
            "vm", INFO, f"Virtual machine detected ({hypervisor})",
            "Every number includes the hypervisor's share: exits, a virtual APIC and "
            "host scheduling move syscall costs by 15-20% in phases of a few seconds.",
            "Read ratios between paths rather than absolute nanoseconds, or run on bare "
            "metal for hardware costs.",
        )


def vdso_fallbacks(run):
    for path in run.measured():
        flagged = path.counter("vdso_fallback")
        if flagged is not None:
            if flagged >= thresholds.VDSO_FALLBACK_SHARE:
                yield path
            continue
        # Only a row expected to stay in user mode can fall back: __kernel_vsyscall is a
        # vDSO entry that makes a real system call (its row expects one entry).
        if path.mechanism != "vdso" or path.expected_entries != 0:
            continue
        entries = path.counter("kernel_entries")
        switches = path.counter("mode_switches")
        if (entries is not None and entries > thresholds.VDSO_ENTRIES_LIMIT) or (
                switches is not None and switches > 2 * thresholds.VDSO_ENTRIES_LIMIT):
            yield path


def check_vdso_fallback(run):
    paths = list(vdso_fallbacks(run))
    if not paths:
        return
    clocksource = run.context.get("clocksource")
    names = ", ".join(p.name for p in paths)
    detail = (f"{names} entered the kernel on (nearly) every call: the vDSO fell back to "
              "the system call.")
    if clocksource and clocksource not in _VDSO_CAPABLE_CLOCKSOURCES:
        detail += f" The clocksource is {clocksource}, which the vDSO cannot read."
    yield Finding(
        "vdso_fallback", WARNING, "vDSO fell back to a system call", detail,
        "Switch to a vDSO-capable clocksource when the machine offers one "
        "(cat /sys/devices/system/clocksource/clocksource0/available_clocksource; "
        "echo tsc > .../current_clocksource, or kvm-clock in a KVM guest).",
    )


def _processes(run):
    """How many worker processes the run's repetitions came from (context `processes`),
    or None when the file does not say."""
    value = str(run.context.get("processes", "")).strip()
    return int(value) if value.isdigit() else None


def process_modes(run):
    """(path, modes.RowModes) for every row whose processes fell into two modes."""
    processes = _processes(run)
    for path in run.measured():
        found = modes.row_modes(path, processes)
        if found is not None:
            yield path, found


def mode_note(row_modes):
    """The row's note: '2 modes across 12 processes: 9 at 257 ns, 3 at 330 ns; ...'."""
    return row_modes.text(units.ns)


def check_modes(run):
    found = list(process_modes(run))
    if not found:
        return
    mixed = [path.name for path, m in found if not m.figure_is_fast]
    listed = "; ".join(f"{path.name}: {mode_note(m)}" for path, m in found[:5])
    more = f"; and {len(found) - 5} more" if len(found) > 5 else ""
    detail = (f"Per-process medians in two groups: {listed}{more}. The mode is the "
              "process's (its address-space layout decides how a wrapper's return or a "
              "loop predicts) or a phase of the host that lasted one process; the "
              "leading figure, the mean of the fastest repetitions, comes from the "
              "faster mode when that mode has enough repetitions.")
    if mixed:
        detail += " Too few in the faster mode for: " + ", ".join(mixed) + "."
    yield Finding(
        "process_modes", WARNING if mixed else INFO,
        f"{len(found)} row{'s' if len(found) != 1 else ''} with two modes across processes",
        detail,
        "Compare like with like: minima, or the faster mode, on both sides; raise "
        "--processes to see how often each mode comes (docs/methodology.md, "
        "\"Like for like with lmbench\").",
    )


def _unknown(value):
    """The binary writes "unknown (why)" where it could not look (not root, no tracefs)."""
    return value is not None and str(value).strip().lower().startswith("unknown")


def check_tracing(run):
    ctx = run.context
    active, unchecked = [], []
    for key, what in (("seccomp", "a seccomp filter (Seccomp: {})"),
                      ("tracer_pid", "a ptrace tracer (TracerPid: {})"),
                      ("tracing_active", "syscall tracing ({})"),
                      ("perf_fds_other", "perf event fds held by other processes ({})"),
                      ("audit", "the audit subsystem ({})")):
        value = ctx.get(key)
        if _unknown(value):
            # Unknown is not "present": say it could not be checked, and why.
            unchecked.append(f"{what.split(' (')[0]} ({value})")
        elif _truthy(value):
            active.append(what.format(value))
    if unchecked:
        yield Finding(
            "tracing_unchecked", INFO, "Could not check for tracing or other observers",
            "Not checked during the timing pass: " + "; ".join(unchecked) + ". If one was "
            "active, system calls were on the slow path.",
            "Run as root (or with CAP_SYS_ADMIN and tracefs mounted) to have these checked.",
        )
    if not active:
        return
    yield Finding(
        "tracing", WARNING, "Tracing, seccomp or audit active during timing",
        "Active during the timing pass: " + "; ".join(active) + ". Any of these puts "
        "system calls on the slow path: a syscall tracepoint took getpid from 98 to 152 ns, "
        "ftrace to 240 ns, an allow-all seccomp filter adds about 12 ns.",
        "Run outside the sandbox or debugger (containers install seccomp filters: "
        "docker run --security-opt seccomp=unconfined), stop perf/bpftrace/ftrace "
        "(echo 0 > /sys/kernel/tracing/tracing_on) and audit rules (auditctl -e 0).",
    )


def check_variation(run):
    noisy = []
    for path in run.measured():
        value = stats.cv(path.samples_ns)
        if value > thresholds.CV_LIMIT:
            noisy.append((value, path.name))
    if not noisy:
        return
    noisy.sort(reverse=True)
    listed = ", ".join(f"{name} {value:.0%}" for value, name in noisy[:5])
    more = f" and {len(noisy) - 5} more" if len(noisy) > 5 else ""
    yield Finding(
        "high_cv", WARNING, f"Results may be unstable: CV up to {noisy[0][0]:.0%}",
        f"Coefficient of variation over repetitions above {thresholds.CV_LIMIT:.0%}: "
        f"{listed}{more}. "
        "The leading figure is the mean of the fastest repetitions, which is steadier than "
        "the median, but the confidence intervals are wide.",
        _variation_remedy(run),
    )


def _variation_remedy(run):
    """What to do about unstable results, given what the run already did."""
    pinned = run.context.get("pinned_cpu", "").strip()
    if pinned.isdigit():
        # Already pinned: what is left is the CPU's other tenants and the repetitions.
        return (f"The thread was pinned to CPU {pinned}; keep other tasks off that CPU "
                "(boot with isolcpus=, or cset shield), stop other load on the machine, "
                "and raise --repetitions.")
    return ("Pin the CPU (--cpu N, ideally an isolcpus= CPU), raise --repetitions, and stop "
            "other load on the machine.")


def check_pinning(run):
    if run.context.get("pinned_cpu", "").strip().lower() == "none":
        yield Finding(
            "not_pinned", WARNING, "CPU not pinned",
            "The benchmark thread could migrate between CPUs during timing; a migration "
            "costs microseconds and changes caches.",
            "Pin it with --cpu N (choose a CPU kept free with isolcpus= or cset shield).",
        )


def check_frequency(run):
    ctx = run.context
    seen = []
    governor = ctx.get("cpufreq_governor", "").strip()
    if governor and governor.lower() not in ("performance", "unknown"):
        seen.append(f"governor {governor}")
    if _truthy(ctx.get("turbo")):
        seen.append(f"turbo {ctx['turbo']}")
    if not seen and ctx.get("cpu_scaling_enabled") == "true":
        seen.append("Google Benchmark reports CPU scaling enabled")
    if seen:
        yield Finding(
            "frequency", WARNING, "Frequency scaling on",
            "; ".join(seen).capitalize() + ". The core clock moves with load and "
            "temperature, so nanoseconds and TSC ticks drift between repetitions.",
            "cpupower frequency-set -g performance; disable turbo "
            "(echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo, or "
            "echo 0 > /sys/devices/system/cpu/cpufreq/boost).",
        )


# The counting pass's context keys (docs/results-format.md): `counters.<column>.source`
# and `counters.unavailable` ("<column>: <reason>; ..."). Files written before that
# contract carried `counter_source.<column>` and `counter_missing.<column>`; both are read.
_SOURCE_KEY = re.compile(r"^(?:counters\.(?P<new>.+)\.source|counter_source\.(?P<old>.+))$")
_UNAVAILABLE_ITEM = re.compile(r"^(?P<column>[A-Za-z0-9_.:-]+): (?P<reason>.*)$", re.S)


def counter_sources(run):
    """{column: "pmu" | "software" | "tracepoint" | ...} as the counting pass recorded it."""
    sources = {}
    for key, value in run.context.items():
        found = _SOURCE_KEY.match(key)
        if found:
            sources.setdefault(found.group("new") or found.group("old"), value)
    return sources


def counter_unavailable(run):
    """{column: reason} for every counter the machine could not provide, in file order.

    `counters.unavailable` joins "<column>: <reason>" items with "; "; a reason may itself
    hold "; " (the ia32 helper's list), so a piece that does not start with a column name
    belongs to the item before it.
    """
    items = []
    text = run.context.get("counters.unavailable", "")
    for piece in text.split("; ") if text.strip() else ():
        found = _UNAVAILABLE_ITEM.match(piece)
        if found:
            items.append([found.group("column"), found.group("reason")])
        elif items:
            items[-1][1] += "; " + piece
        else:
            items.append(["counters", piece])
    missing = {column: reason for column, reason in items}
    for key, value in run.context.items():
        if key.startswith("counter_missing."):
            missing.setdefault(key.removeprefix("counter_missing."), value)
    return missing


def grouped_reasons(missing):
    """[(columns, reason)]: the columns that share one reason named together, in order
    (a machine without a PMU refuses five columns for one reason)."""
    groups = {}
    for column, reason in missing.items():
        groups.setdefault(reason, []).append(column)
    return [(", ".join(columns), reason) for reason, columns in groups.items()]


def has_pmu_counts(run):
    sources = counter_sources(run)
    for name in _PMU_COUNTERS:
        source = sources.get(name)
        if source is not None and source != "pmu":
            continue
        if any(p.counter(name) is not None for p in run.measured()):
            return True
    return False


def check_pmu(run):
    if not run.is_sysgate or has_pmu_counts(run):
        return
    missing = counter_unavailable(run)
    pmu_missing = [f"{columns}: {reason}" for columns, reason in grouped_reasons(
        {c: r for c, r in missing.items() if c in _PMU_COUNTERS})]
    detail = "Core cycles, instructions and mode switches were not counted"
    detail += f" ({'; '.join(pmu_missing)})." if pmu_missing else "."
    # The recorded reason is the binary's own; blame perf_event_paranoid only when it
    # recorded none (a root run with no PMU is refused for another reason).
    paranoid = run.context.get("perf_event_paranoid")
    if (not pmu_missing and paranoid and paranoid.lstrip("-").isdigit()
            and int(paranoid) > 1):
        detail += (f" perf_event_paranoid is {paranoid}: kernel-mode counts need 1 or "
                   "less, or CAP_PERFMON.")
    yield Finding(
        "no_pmu", INFO, "No hardware PMU counts", detail,
        "Run on bare metal or in a guest with a virtual PMU (e.g. KVM -cpu host,pmu=on)"
        + (" and see the reasons above" if pmu_missing else
           "; sysctl kernel.perf_event_paranoid=1 for kernel-mode counts")
        + ". TSC ticks and the software and tracepoint counts are still shown.",
    )


def check_observer(run):
    worst = None
    for path in run.measured():
        value = path.counter("observer_effect")
        if value is not None and (worst is None or value > worst[0]):
            worst = (value, path.name)
    if worst is None or worst[0] <= thresholds.OBSERVER_LIMIT:
        return
    yield Finding(
        "observer_effect", INFO,
        f"Counting slowed calls by up to {worst[0] - 1:+.0%} ({worst[1]})",
        "The counter columns come from a separate counting pass; with counters or a "
        "tracepoint open, the calls ran slower than in the timing pass. The latency "
        "columns were measured with nothing open.",
        "Read the counter columns as counts per call, not as the cost under counting; "
        "where a PMU exists, PMU events disturb far less than the raw_syscalls tracepoint.",
    )


def check_tsc(run):
    if run.context.get("tsc_invariant", "").lower() == "false":
        yield Finding(
            "tsc_not_invariant", WARNING, "TSC not invariant",
            "The TSC rate changes with the core clock or stops in idle states, so TSC "
            "ticks do not measure time.",
            "Trust the nanosecond columns only with frequency scaling off; prefer a CPU "
            "with constant_tsc and nonstop_tsc.",
        )


_BUSY_WHY = (
    "Other runnable tasks preempt the benchmark thread; a preempted batch carries their "
    "time, which inflates the batched figures (the k-best mean resists this, the median "
    "and the tail do not).")
_BUSY_REMEDY = (
    "Stop other work (builds, tests, other benchmarks) and run again; compare only runs "
    "taken on a quiet machine.")


def _load_average(run):
    try:
        return (float(json.loads(run.context.get("load_avg", "[]"))[0]),
                int(run.context.get("num_cpus", "0")))
    except (ValueError, IndexError, KeyError, TypeError):
        return None, 0


def check_load(run):
    """Busy while measuring, from what `sysgate run` sampled then (busy.py); for a file
    without those facts, the load average Google Benchmark recorded at the start."""
    facts = busy.from_context(run.context)
    load, cpus = _load_average(run)
    if facts is not None:
        found = busy.reasons(facts)
        if found:
            yield Finding("busy_machine", WARNING,
                          "The machine was busy while measuring: " + "; ".join(found),
                          _BUSY_WHY, _BUSY_REMEDY)
        elif load is not None and cpus > 0 and load > thresholds.LOAD_PER_CPU_LIMIT * cpus:
            yield Finding(
                "load_before_run", INFO,
                f"Load average {load:.1f} at the start, but quiet while measuring",
                "The 1-minute load average still carried the work of the minute before "
                "the run (a build that had just ended); while measuring, "
                f"{busy.describe(facts)}.",
                "Nothing to do: the run was taken on a quiet machine.")
        return
    if load is not None and cpus > 0 and load > thresholds.LOAD_PER_CPU_LIMIT * cpus:
        yield Finding(
            "busy_machine", WARNING,
            f"The machine was busy: load average {load:.1f} on {cpus} CPUs",
            _BUSY_WHY, _BUSY_REMEDY)


def check_plain(run):
    if not run.is_sysgate:
        yield Finding(
            "not_sysgate", INFO, "Plain Google Benchmark file",
            "This file has no sysgate context: no environment, counters or skip reasons "
            "beyond what Google Benchmark records.",
            "Produce results with scripts/sysgate run to see the whole page.",
        )


_CHECKS = (check_emulated, check_vm, check_vdso_fallback, check_tracing, check_load,
           check_variation, check_modes, check_pinning, check_frequency, check_tsc, check_pmu,
           check_observer, check_plain)


def check_run(run):
    """Every finding for one run, warnings first, in a stable order."""
    found = [finding for check in _CHECKS for finding in check(run)]
    return sorted(found, key=lambda f: f.severity != WARNING)
