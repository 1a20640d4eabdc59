"""What differs between the environments of two runs, beyond the kernel itself.

A comparison of two runs is "kernel vs kernel" only when the machine, the hypervisor and
the boot options are the same. This module names the differences, in three kinds:

- machine: another host, CPU or hypervisor; the numbers are not comparable as a kernel
  change at all;
- boot: boot options that differ (other than the kernel image itself), e.g. mitigations=off;
- conditions: how the run was taken (sysgate version, clocksource, tracing, pinning, ...);
- mitigations: `vuln.*` states. These usually follow from the kernel, so they are listed as
  an explanation, not a warning;
- kernel: the facts on the entry path the kernel reports about itself (kernel_facts.py:
  entry-cost config options, FRED, entry-point alignment, audit rules,
  randomize_kstack_offset); an explanation of a step like the mitigations;
- run: how the run itself was taken (load, steal, repetitions, processes, min_time, quick
  vs default, filter). These do not stop runs being pooled as one setup, but compare lists
  them, and a difference in how busy the machine was while measuring (results/busy.py;
  for files that lack it, the load average: thresholds.LOAD_DIFF_LIMIT) withholds its verdicts.

All context keys are optional: a key missing on both sides is no difference.
"""

import json
from dataclasses import dataclass

from ..core import thresholds
from . import busy

_MACHINE_KEYS = (
    "host_name", "cpu_vendor", "cpu_model_name", "cpu_family", "cpu_model",
    "cpu_stepping", "microcode", "hypervisor", "num_cpus",
)
_CONDITION_KEYS = (
    "sysgate_version", "glibc_version", "clocksource", "perf_event_paranoid",
    "cpufreq_governor", "turbo", "smt", "seccomp", "seccomp_filters", "tracer_pid",
    "tracing_active", "pinned_cpu",
    "tsc_invariant", "emulated",
)
# Boot options that name the kernel image or initrd: they change with every kernel.
_PER_KERNEL_OPTIONS = ("BOOT_IMAGE", "initrd")

MACHINE, BOOT, CONDITIONS, MITIGATIONS, RUN, KERNEL = (
    "machine", "boot", "conditions", "mitigations", "run", "kernel")
_KINDS = (MACHINE, BOOT, CONDITIONS, RUN, MITIGATIONS, KERNEL)
BUSY = "busy while measuring"  # the key of the RUN difference in how busy the machine was
# The keys kernel_facts.py writes (by prefix, or whole).
_KERNEL_PREFIXES = ("kconfig.", "entry_align.")
_KERNEL_KEYS = ("fred_active", "audit_rules", "randomize_kstack_offset")
# Google Benchmark flags in `sysgate_command` that say how a run was taken.
_COMMAND_FLAGS = {"benchmark_repetitions": "repetitions per process",
                  "benchmark_min_time": "min_time"}


@dataclass(frozen=True)
class Difference:
    kind: str  # MACHINE, BOOT, CONDITIONS or MITIGATIONS
    key: str
    before: str
    after: str

    def __str__(self):
        return f"{self.key}: {self.before or '(none)'} -> {self.after or '(none)'}"


def boot_options(cmdline):
    """The boot command line without the per-kernel options, as a sorted tuple of words."""
    words = (cmdline or "").split()
    kept = (w for w in words if w.split("=", 1)[0] not in _PER_KERNEL_OPTIONS)
    return tuple(sorted(set(kept)))


def boot_options_text(cmdline):
    return " ".join(boot_options(cmdline))


def _keyed_options(options):
    """{option name: whole word}, so that `mitigations=auto` -> `=off` reads as one change."""
    return {word.split("=", 1)[0]: word for word in options}


def differences(before, after):
    """Differences between two context dicts, machine first."""
    found = setup_differences(before, after) + run_differences(before, after)
    vulns = sorted(k for k in before.keys() | after.keys() if k.startswith("vuln."))
    for key in vulns:
        a, b = before.get(key, ""), after.get(key, "")
        if a != b:
            found.append(Difference(MITIGATIONS, key, a, b))
    found += kernel_differences(before, after)
    found.sort(key=lambda d: _KINDS.index(d.kind))
    return found


def _known(value):
    return value is not None and not str(value).startswith("unknown")


def kernel_differences(before, after):
    """The kernel facts that differ (kind KERNEL). A fact missing or unknown on a side is no
    difference: an older results file, a run without root, an option this kernel version
    names otherwise (6.1's RETPOLINE is 6.9's MITIGATION_RETPOLINE)."""
    keys = sorted(k for k in before.keys() & after.keys()
                  if k.startswith(_KERNEL_PREFIXES) or k in _KERNEL_KEYS)
    return [Difference(KERNEL, key, str(before[key]), str(after[key])) for key in keys
            if _known(before[key]) and _known(after[key]) and before[key] != after[key]]


def explaining_lines(diffs):
    """"what else changed" with the kernel: mitigations and kernel facts, one line each."""
    return [str(d) for d in diffs if d.kind in (MITIGATIONS, KERNEL)]


def setup_differences(before, after):
    """The differences that make two runs two setups (machine, boot options, conditions):
    runs that have none may be pooled."""
    found = []
    for kind, keys in ((MACHINE, _MACHINE_KEYS), (CONDITIONS, _CONDITION_KEYS)):
        for key in keys:
            a, b = before.get(key), after.get(key)
            if a is not None and b is not None and a != b:
                found.append(Difference(kind, key, a, b))
            elif (a is None) != (b is None) and kind == MACHINE:
                found.append(Difference(kind, key, a or "", b or ""))
    old = _keyed_options(boot_options(before.get("boot_cmdline")))
    new = _keyed_options(boot_options(after.get("boot_cmdline")))
    if "boot_cmdline" in before and "boot_cmdline" in after:
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                found.append(Difference(BOOT, name, old.get(name, ""), new.get(name, "")))
    found.sort(key=lambda d: _KINDS.index(d.kind))
    return found


def load_average(context):
    """The 1-minute load average the run recorded, or None."""
    value = context.get("load_avg")
    try:
        value = json.loads(value) if isinstance(value, str) else value
        return float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError, IndexError):
        return None


def busy_text(facts):
    return ("busy" if busy.is_busy(facts) else "quiet") + f" ({busy.describe(facts)})"


def run_conditions(context):
    """{name: text} of how a run was taken, from what its context records."""
    found = {}
    command = context.get("sysgate_command")
    if command:
        for word in command.split():
            name, _, value = word.lstrip("-").partition("=")
            if name in _COMMAND_FLAGS and value:
                found[_COMMAND_FLAGS[name]] = value
        filtered = next((w for w in command.split() if w.startswith("--benchmark_filter=")),
                        None)
        found["filter"] = (f"{filtered.count('|') + 1} paths" if filtered else "all paths")
    for key in ("processes", "quick", "repetitions", "min_time"):
        if context.get(key):
            found[{"repetitions": "repetitions", "min_time": "min_time"}.get(key, key)] = \
                str(context[key])
    if context.get("filter"):
        found["filter"] = context["filter"]
    return found


def _numeric(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def run_differences(before, after):
    """Differences in how the two runs were taken (kind RUN). Load and steal are numbers
    that never match exactly: they differ when further apart than a limit."""
    found = []
    a, b = run_conditions(before), run_conditions(after)
    for key in sorted(a.keys() & b.keys()):
        if a[key] != b[key]:
            found.append(Difference(RUN, key, a[key], b[key]))
    busy_a, busy_b = busy.from_context(before), busy.from_context(after)
    load_a, load_b = load_average(before), load_average(after)
    if busy_a is not None and busy_b is not None:
        # What was sampled while measuring; the load averages are context only.
        if busy.differ(busy_a, busy_b):
            found.append(Difference(RUN, BUSY, busy_text(busy_a), busy_text(busy_b)))
    elif load_a is not None and load_b is not None and abs(load_a - load_b) >= \
            thresholds.LOAD_DIFF_LIMIT:
        found.append(Difference(RUN, "load_avg", f"{load_a:.1f}", f"{load_b:.1f}"))
    for key in sorted(k for k in before.keys() & after.keys() if "steal" in k):
        x, y = _numeric(before[key]), _numeric(after[key])
        if x is not None and y is not None and abs(x - y) >= thresholds.STEAL_DIFF_LIMIT:
            found.append(Difference(RUN, key, before[key], after[key]))
    return found


def warnings(diffs):
    """One warning line per kind of difference that makes a comparison not kernel vs kernel."""
    lines = []
    machine = [d for d in diffs if d.kind == MACHINE]
    boot = [d for d in diffs if d.kind == BOOT]
    conditions = [d for d in diffs if d.kind == CONDITIONS]
    if machine:
        lines.append(
            "the runs come from different machines ("
            + "; ".join(map(str, machine))
            + "): the comparison is not kernel vs kernel; compare runs of one host"
        )
    if boot:
        lines.append(
            "boot options differ (" + "; ".join(map(str, boot)) + "): a change may come from "
            "the boot options, not the kernel; boot both kernels with the same command line"
        )
    if conditions:
        lines.append(
            "measurement conditions differ (" + "; ".join(map(str, conditions)) + "): "
            "rerun both under the same conditions to attribute a change to the kernel"
        )
    return lines
