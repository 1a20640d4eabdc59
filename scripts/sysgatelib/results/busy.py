"""How busy the machine was while it measured, and whether that was too busy.

The 1-minute load average at the start of a run still carries whatever ran in the minute
before it: on a fresh machine, sysgate's own build. So `sysgate run` samples the machine
while the benchmark runs (bench/sampling.py) and records, in the results' context:

- busy.other_cpus: the CPUs' worth of time that everything except sysgate's own processes
  used while measuring (all CPUs' busy time from /proc/stat, less this process's and its
  children's CPU time);
- busy.steal_share: the share of all CPUs' time the hypervisor gave to others (steal);
- busy.involuntary_per_s: involuntary context switches of the measuring threads (each
  worker process's main thread, from /proc/PID/status) per second. Recorded, not judged:
  sysgate's own co-processes (the 32-bit and runtime helpers, pinned to the measured CPU)
  preempt the benchmark each time it hands them a batch, so a quiet machine shows a
  thousand a second in a quick run (tests/python/fixtures/real_quick.json: 2065 in
  1.2 s at a load of 0.6); the harness already rejects every batch that was switched out;
- busy.runnable_median, busy.runnable_max: other runnable tasks (procs_running less the
  benchmark and the sampler), sampled every BUSY_SAMPLE_S;
- busy.cpus, busy.seconds, busy.samples: what the figures are over.

This module turns those facts into a judgement (reasons, empty when the machine was quiet)
with the thresholds of core/thresholds.py; checks.py warns from it and envdiff/compare withhold
verdicts when two runs' machines were not equally quiet. Files without the facts (older
runs, runs in a VM guest by `sysgate kernels`) fall back to the load average.
"""

import math
from dataclasses import dataclass

from ..core import thresholds

BUSY_SAMPLE_S = 0.25  # how often the runnable tasks are sampled while measuring
PREFIX = "busy."


@dataclass(frozen=True)
class Snapshot:
    """What the sampler reads at the start and at the end of measuring."""

    time_s: float  # a monotonic clock
    busy_ticks: int  # /proc/stat "cpu": user + nice + system + irq + softirq
    idle_ticks: int  # idle + iowait
    steal_ticks: int
    cpus: int  # the cpuN lines of /proc/stat
    own_cpu_s: float  # this process's and its reaped children's user + system time
    ticks_per_s: float = 100.0  # USER_HZ


@dataclass(frozen=True)
class Busy:
    seconds: float
    cpus: int
    other_cpus: float
    steal_share: float
    involuntary_per_s: float
    runnable_median: float
    runnable_max: float
    samples: int

    @property
    def other_share(self):
        return self.other_cpus / self.cpus if self.cpus else 0.0


def summarize(start, end, runnable=(), involuntary=0):
    """Busy from the two snapshots, the samples of procs_running taken between them (each
    counts the benchmark and the sampler: two are ours) and the involuntary switches of
    the measuring threads in all; None when the window is empty."""
    seconds = end.time_s - start.time_s
    if seconds <= 0 or end.cpus <= 0:
        return None
    tick = 1.0 / (end.ticks_per_s or 100.0)
    busy_s = max(0, end.busy_ticks - start.busy_ticks) * tick
    steal_s = max(0, end.steal_ticks - start.steal_ticks) * tick
    idle_s = max(0, end.idle_ticks - start.idle_ticks) * tick
    own_s = max(0.0, end.own_cpu_s - start.own_cpu_s)
    capacity = busy_s + idle_s + steal_s or seconds * end.cpus
    others = [max(0, n - 2) for n in runnable]
    ordered = sorted(others)
    median = 0.0
    if ordered:
        mid = len(ordered) // 2
        median = float(ordered[mid] if len(ordered) % 2
                       else (ordered[mid - 1] + ordered[mid]) / 2)
    return Busy(
        seconds=seconds, cpus=end.cpus,
        other_cpus=max(0.0, busy_s - own_s) / seconds,
        steal_share=steal_s / capacity,
        involuntary_per_s=max(0, involuntary) / seconds,
        runnable_median=median, runnable_max=float(max(others, default=0)),
        samples=len(others))


def to_context(busy):
    """The facts as results-context strings (every context value is text)."""
    if busy is None:
        return {}
    return {
        f"{PREFIX}seconds": f"{busy.seconds:.1f}", f"{PREFIX}cpus": str(busy.cpus),
        f"{PREFIX}other_cpus": f"{busy.other_cpus:.3f}",
        f"{PREFIX}steal_share": f"{busy.steal_share:.4f}",
        f"{PREFIX}involuntary_per_s": f"{busy.involuntary_per_s:.1f}",
        f"{PREFIX}runnable_median": f"{busy.runnable_median:g}",
        f"{PREFIX}runnable_max": f"{busy.runnable_max:g}",
        f"{PREFIX}samples": str(busy.samples),
    }


def from_context(context):
    """The Busy a results file recorded, or None (an older file, or a field unreadable)."""
    try:
        found = Busy(
            seconds=float(context[f"{PREFIX}seconds"]), cpus=int(context[f"{PREFIX}cpus"]),
            other_cpus=float(context[f"{PREFIX}other_cpus"]),
            steal_share=float(context[f"{PREFIX}steal_share"]),
            involuntary_per_s=float(context[f"{PREFIX}involuntary_per_s"]),
            runnable_median=float(context.get(f"{PREFIX}runnable_median", 0)),
            runnable_max=float(context.get(f"{PREFIX}runnable_max", 0)),
            samples=int(context.get(f"{PREFIX}samples", 0)))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    numbers = (found.seconds, found.other_cpus, found.steal_share, found.involuntary_per_s,
               found.runnable_median, found.runnable_max)
    if found.cpus < 1 or not all(math.isfinite(x) and x >= 0 for x in numbers):
        return None
    return found


def reasons(busy):
    """Why the machine was busy while measuring, one phrase each; [] when it was quiet."""
    if busy is None:
        return []
    found = []
    if busy.other_share > thresholds.BUSY_OTHER_SHARE:
        found.append(f"other work used {busy.other_cpus:.1f} of {busy.cpus} CPUs")
    if busy.steal_share > thresholds.BUSY_STEAL_SHARE:
        found.append(f"the hypervisor stole {busy.steal_share:.0%} of the CPUs' time")
    if busy.samples and busy.runnable_median >= thresholds.BUSY_RUNNABLE_PER_CPU * busy.cpus:
        found.append(f"{busy.runnable_median:g} other tasks were waiting to run on "
                     f"{busy.cpus} CPUs")
    return found


def is_busy(busy):
    return bool(reasons(busy))


def describe(busy):
    """One phrase of the facts: "other work 0.03 of 2 CPUs, steal 0.1%, 0 other tasks
    runnable"."""
    return (f"other work {busy.other_cpus:.2f} of {busy.cpus} CPUs, steal "
            f"{busy.steal_share:.1%}, {busy.runnable_median:g} other tasks runnable")


def differ(a, b):
    """Whether two runs' machines were not equally quiet: one busy and the other not, or
    their other work BUSY_DIFF_CPUS or more apart."""
    return (is_busy(a) != is_busy(b)
            or abs(a.other_cpus - b.other_cpus) >= thresholds.BUSY_DIFF_CPUS)
