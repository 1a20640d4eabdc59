"""What differs between the environments of two runs, beyond the kernel itself.

A comparison of two runs is "kernel vs kernel" only when the machine, the hypervisor and
the boot options are the same. This module names the differences, in three kinds:

- machine: another host, CPU or hypervisor; the numbers are not comparable as a kernel
  change at all;
- boot: boot options that differ (other than the kernel image itself), e.g. mitigations=off;
- conditions: how the run was taken (sysgate version, clocksource, tracing, pinning, ...);
- mitigations: `vuln.*` states. These usually follow from the kernel, so they are listed as
  an explanation, not a warning.

All context keys are optional: a key missing on both sides is no difference.
"""

from dataclasses import dataclass

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

MACHINE, BOOT, CONDITIONS, MITIGATIONS = "machine", "boot", "conditions", "mitigations"


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
    vulns = sorted(k for k in before.keys() | after.keys() if k.startswith("vuln."))
    for key in vulns:
        a, b = before.get(key, ""), after.get(key, "")
        if a != b:
            found.append(Difference(MITIGATIONS, key, a, b))
    found.sort(key=lambda d: (MACHINE, BOOT, CONDITIONS, MITIGATIONS).index(d.kind))
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
