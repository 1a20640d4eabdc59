"""Per-process modes: a row whose worker processes settle at two levels.

On some machines a path's cost depends on the process: its address-space layout, where
its code and stack landed, sets whether a `ret` after SYSRET or a loop's branch predicts
well, and the mode sticks for the life of the process (lmbench's `lat_syscall read` and
sysgate's lmbench/read both read about 257 ns in some processes and 330 ns in others on
one host). sysgate spreads a row's repetitions over several processes for that reason
(commands/run.py); this module says, from the repetitions, whether the processes fell
into two modes, how many in which, and whether the row's leading figure (the k-best
mean, stats.kbest_mean) came from the faster one.

Pure functions of the figures; checks.py turns them into findings and row notes.
"""

import statistics
from dataclasses import dataclass

from ..core import thresholds
from . import stats


@dataclass(frozen=True)
class Modes:
    """Two modes of per-process figures (ns), each sorted, the faster first."""

    fast: tuple
    slow: tuple

    @property
    def processes(self):
        return len(self.fast) + len(self.slow)

    @property
    def fast_ns(self):
        return statistics.median(self.fast)

    @property
    def slow_ns(self):
        return statistics.median(self.slow)

    @property
    def gap(self):
        """How far the slower mode sits above the faster, relative (0.28: 28% above)."""
        return self.slow_ns / self.fast_ns - 1


def _spread(values):
    return values[-1] / values[0] - 1 if values[0] > 0 else float("inf")


def split_modes(figures, gap=thresholds.MODE_GAP, tightness=thresholds.MODE_TIGHTNESS,
                min_processes=thresholds.MODE_MIN_PROCESSES):
    """Modes of per-process figures, or None when they form one mode.

    The sorted figures are cut at the largest relative step between neighbours; that is
    two modes when the step is above `gap` and each side spreads (max / min - 1) less
    than `tightness` times the step, so a widely scattered row (noise, a busy host) is
    not called bimodal. Fewer than `min_processes` figures never make two modes."""
    values = sorted(float(v) for v in figures if v == v)  # NaN: no figure
    if len(values) < max(2, min_processes) or values[0] <= 0:
        return None
    steps = [(values[i + 1] / values[i] - 1, i) for i in range(len(values) - 1)]
    step, cut = max(steps)
    if step <= gap:
        return None
    fast, slow = tuple(values[: cut + 1]), tuple(values[cut + 1:])
    if max(_spread(fast), _spread(slow)) >= tightness * step:
        return None
    return Modes(fast=fast, slow=slow)


def process_of_samples(path, processes):
    """The worker process (0, 1, ...) of each of a row's samples, in order.

    From the rows' `process_index` where the file records it (sysgate run writes it when
    it merges several processes); else, for a file that records only how many processes
    there were, from the merge's order (each process's repetitions follow the previous
    one's, the first processes holding one more where they do not divide evenly); else
    None (one process, or unknown)."""
    n = len(path.samples_ns)
    recorded = list(getattr(path, "processes", None) or ())
    if len(recorded) == n and n:
        return recorded
    if not processes or processes < 2 or n < processes:
        return None
    share, extra = divmod(n, processes)
    out = []
    for i in range(processes):
        out += [i] * (share + (1 if i < extra else 0))
    return out


def per_process_medians(samples, process_of):
    """{process: median of its samples}, processes in order of first appearance."""
    groups = {}
    for value, process in zip(samples, process_of):
        groups.setdefault(process, []).append(value)
    return {process: statistics.median(values) for process, values in groups.items()}


@dataclass(frozen=True)
class RowModes:
    """A row's modes and whether its leading figure is the faster mode's."""

    modes: Modes
    figure_is_fast: bool  # every repetition in the k-best mean came from a fast process

    def text(self, fmt_ns):
        m = self.modes
        which = ("the figure is the faster mode's" if self.figure_is_fast else
                 "the figure mixes both modes (too few repetitions in the faster one)")
        return (f"2 modes across {m.processes} processes: {len(m.fast)} at "
                f"{fmt_ns(m.fast_ns)} ns, {len(m.slow)} at {fmt_ns(m.slow_ns)} ns; {which}")


def row_modes(path, processes):
    """RowModes for one row of a run whose context says `processes` (an int or None),
    or None when its processes form one mode or are not known."""
    process_of = process_of_samples(path, processes)
    if process_of is None:
        return None
    medians = per_process_medians(path.samples_ns, process_of)
    modes = split_modes(list(medians.values()))
    if modes is None:
        return None
    threshold = (modes.fast[-1] + modes.slow[0]) / 2
    fast_processes = {p for p, m in medians.items() if m < threshold}
    ranked = sorted(zip(path.samples_ns, process_of))
    best = ranked[: stats.kbest_k(len(ranked))]
    return RowModes(modes=modes, figure_is_fast=all(p in fast_processes for _, p in best))
