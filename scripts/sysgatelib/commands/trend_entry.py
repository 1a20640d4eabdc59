"""Trend's lead: the kernel-entry series of a host, in nanoseconds per entry.

Each kernel against the first by compare's kernel-entry model (the machine's drift taken
out, delta per entry with its interval), and each kernel against the one before it: a
step where that verdict is a regression or an improvement. "Which release made entering
the kernel slower, and by how many ns" is the first line and the first chart of trend.
"""

from dataclasses import dataclass, field

from .. import store
from ..core import names
from ..core.errors import UserError
from ..render.table import packed
from ..core import thresholds
from ..verdicts import stats
from ..core import units
from ..verdicts import comparison

# The newest runs of each kernel the series compares (a fleet's store may pool hundreds
# of runs a kernel; eight keep the run as the unit of the test and the page fast).
ENTRY_RUNS = thresholds.RUN_UNIT_MIN


@dataclass
class EntryPoint:
    kernel: str
    delta_ns: float | None = None  # against the first kernel; None: no verdict
    low_ns: float | None = None
    high_ns: float | None = None
    drift: float | None = None
    verdict: str = ""
    why: str = ""  # why there is no figure


@dataclass
class EntryStep:
    before: str
    after: str
    delta_ns: float
    low_ns: float
    high_ns: float
    change: float  # of the cheapest round trip
    verdict: str


@dataclass
class EntrySeries:
    points: list = field(default_factory=list)  # EntryPoint per kernel, in version order
    steps: list = field(default_factory=list)  # EntryStep where the entry moved


def _compare(base, new, alpha, threshold_pct):
    """compare's kernel entry between two kernels' runs, or (None, why)."""
    try:
        c = comparison.compare_runs(base, new, alpha, threshold_pct, allow_emulated=True,
                                 force=True)
    except UserError as exc:
        return None, str(exc)
    if c.kernel_entry is None:
        return None, f"{c.kernel_paths} kernel path(s) on both sides"
    return c, ""


def entry_series(conn, kernels, pooled_ids, alpha=thresholds.ALPHA,
                 threshold_pct=thresholds.THRESHOLD_PCT):
    """The EntrySeries of one host's kernels (pooled_ids: kernel -> run ids, newest first)."""
    runs = {k: store.load_runs(conn, pooled_ids[k][:ENTRY_RUNS], counters=False)
            for k in kernels}
    done = {}  # (before, after) -> _compare's answer; the first pair is both kinds

    def compared(before, after):
        if (before, after) not in done:
            done[before, after] = _compare(runs[before], runs[after], alpha, threshold_pct)
        return done[before, after]

    series = EntrySeries([EntryPoint(kernels[0], 0.0, 0.0, 0.0, 0.0, "first")])
    for kernel in kernels[1:]:
        c, why = compared(kernels[0], kernel)
        if c is None:
            series.points.append(EntryPoint(kernel, why=why))
            continue
        e = c.kernel_entry
        series.points.append(EntryPoint(kernel, e.delta_ns, e.low_ns, e.high_ns,
                                        c.drift.change if c.drift else None, e.verdict))
    for before, after in zip(kernels, kernels[1:]):
        c, _ = compared(before, after)
        if c and c.kernel_entry.verdict in (stats.REGRESSION, stats.IMPROVEMENT):
            e = c.kernel_entry
            series.steps.append(EntryStep(before, after, e.delta_ns, e.low_ns, e.high_ns,
                                          e.change, e.verdict))
    return series


def lines(series, width):
    """The terminal's lead lines for one host, `width` columns at most."""
    if series is None or len(series.points) < 2:
        return []
    first = series.points[0].kernel
    shown = []
    for p in series.points[1:]:
        if p.delta_ns is None:
            shown.append(f"{p.kernel} no figure ({p.why})")
        else:
            shown.append(f"{p.kernel} {units.format_ns(p.delta_ns)} "
                         f"[{units.format_ns(p.low_ns)}, {units.format_ns(p.high_ns)}]"
                         f" drift {units.format_pct(p.drift)}")
    text = packed(f"kernel entry, ns per entry against {first} (drift taken out):", shown,
                  width)
    for s in series.steps:
        text.append(f"  kernel-entry step {s.before} -> {s.after}: "
                    f"{units.format_ns(s.delta_ns)} ns per entry "
                    f"[{units.format_ns(s.low_ns)}, {units.format_ns(s.high_ns)}] "
                    f"({units.format_pct(s.change)}) {s.verdict.upper()}")
    if not series.steps:
        text.append("  no kernel-entry step between consecutive kernels")
    return text


def plot(series, title=""):
    """The first chart: delta per entry of each kernel against the first, with its
    interval; steps marked. None when there is one kernel."""
    if series is None or len(series.points) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 3.2), dpi=100)
    ax = fig.subplots()
    xs = range(len(series.points))
    known = [(x, p) for x, p in zip(xs, series.points) if p.delta_ns is not None]
    ax.errorbar([x for x, _ in known], [p.delta_ns for _, p in known],
                yerr=[[p.delta_ns - p.low_ns for _, p in known],
                      [p.high_ns - p.delta_ns for _, p in known]],
                fmt="o-", color="#1f4e79", capsize=3)
    index = {p.kernel: x for x, p in zip(xs, series.points)}
    for s in series.steps:
        ax.axvspan(index[s.before] + 0.1, index[s.after] - 0.1,
                   color="#c0392b" if s.verdict == stats.REGRESSION else "#27ae60",
                   alpha=0.15)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(list(xs), [names.text(p.kernel) for p in series.points], rotation=20,
                  ha="right",
                  fontsize=8)
    ax.set_ylabel("ns per kernel entry")
    ax.set_title(names.text(f"{title}: kernel entry against {series.points[0].kernel} "
                            "(drift taken out; shaded: a step)"), fontsize=9)
    fig.tight_layout()
    return fig
