"""Sample how busy the machine is while the benchmark measures (results/busy.py says
what the figures mean and when they are too much).

At the start and at the end: /proc/stat's CPU time (busy, idle, steal) and this process's
own CPU time with its reaped children's (the benchmark processes, their helpers), so that
sysgate's own work is taken out of the machine's. In between, a thread reads
procs_running every BUSY_SAMPLE_S, on a CPU other than the measured one where there is
one, and the involuntary context switches of each measuring thread (the main thread of a
benchmark process: /proc/PID/status), read a last time before the process is reaped.
Where /proc cannot be read there are no facts, and the checks fall back to the load
average.
"""

import os
import threading
import time

from ..results import busy

_STAT = "/proc/stat"


def snapshot(stat_text=None):
    """A busy.Snapshot of now, or None when /proc/stat cannot be read or parsed."""
    try:
        if stat_text is None:
            with open(_STAT) as handle:
                stat_text = handle.read()
        fields, cpus = None, 0
        for line in stat_text.splitlines():
            if line.startswith("cpu "):
                fields = [int(v) for v in line.split()[1:]]
            elif line.startswith("cpu"):
                cpus += 1
        user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    except (OSError, ValueError, TypeError):
        return None
    times = os.times()
    return busy.Snapshot(
        time_s=time.monotonic(), busy_ticks=user + nice + system + irq + softirq,
        idle_ticks=idle + iowait, steal_ticks=steal, cpus=cpus,
        own_cpu_s=times.user + times.system + times.children_user + times.children_system,
        ticks_per_s=os.sysconf("SC_CLK_TCK"))


def involuntary_switches(pid):
    """nonvoluntary_ctxt_switches of a process's main thread, or None."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("nonvoluntary_ctxt_switches:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def procs_running():
    try:
        with open(_STAT) as handle:
            for line in handle:
                if line.startswith("procs_running "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Sampler:
    """with Sampler(avoid_cpu) as sampler: measure ...; then sampler.busy (or None)."""

    def __init__(self, avoid_cpu=None, period_s=busy.BUSY_SAMPLE_S):
        self.avoid_cpu, self.period_s = avoid_cpu, period_s
        self.runnable, self.busy = [], None
        self._switches = {}  # pid -> the last involuntary switch count read
        self._lock = threading.Lock()
        self._start = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="busy-sampler",
                                        daemon=True)

    def __enter__(self):
        self._start = snapshot()
        if self._start is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        if exc[0] is None and self._start is not None:
            end = snapshot()
            if end is not None:
                with self._lock:
                    switches = sum(self._switches.values())
                self.busy = busy.summarize(self._start, end, self.runnable, switches)
        return False

    def watch(self, pid):
        """Count the involuntary switches of this measuring process from now on."""
        with self._lock:
            self._switches[pid] = 0
        self.read_switches(pid)

    def read_switches(self, pid):
        """Read a watched process's count (call it once more before reaping it)."""
        value = involuntary_switches(pid)
        if value is not None:
            with self._lock:
                if pid in self._switches:
                    self._switches[pid] = max(self._switches[pid], value)

    def _sample(self):
        self._keep_off_the_measured_cpu()
        while not self._done.wait(self.period_s):
            value = procs_running()
            if value is not None:
                self.runnable.append(value)
            with self._lock:
                pids = list(self._switches)
            for pid in pids:
                self.read_switches(pid)

    def _keep_off_the_measured_cpu(self):
        """This thread on the other CPUs, so that sampling does not preempt what it
        measures."""
        try:
            allowed = os.sched_getaffinity(0)
            others = allowed - {self.avoid_cpu}
            if self.avoid_cpu is not None and others:
                os.sched_setaffinity(threading.get_native_id(), others)
        except (OSError, AttributeError):
            pass
