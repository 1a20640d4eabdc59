"""Indirect cost: what a kernel entry costs the user code that runs after it returned.

Rows of an `indirect_<workload>` family time, per iteration, one entry (the variant) and
then a fixed user-mode workload (docs/indirect.md). For a row R the figure is

    (R - peer(R)) - (C - peer(C))

where peer(R) is the row that times R's entry alone (a fact of the row) and C is the
same workload's row whose entry is a plain call (mechanism `call`): the extra
nanoseconds per entry that the workload pays because the entry came before it. Nothing
here knows a path name: families are matched by the `indirect_` prefix, workloads are
parsed from the family name, the reference row by its mechanism, the direct cost by the
row's `peer`.

Each figure is the difference of four rows' medians, with a bootstrap interval over
their repetitions (resampled independently: repetitions are interleaved, not paired).
An interval that holds zero is reported as "within noise of zero", not as a number.
"""

import math
import re
from dataclasses import dataclass

from ..core import thresholds
from . import stats
from ..core.names import text

FAMILY_PREFIX = "indirect_"
REFERENCE_MECHANISM = "call"
CONFIDENCE = thresholds.CONFIDENCE
_FAMILY = re.compile(r"^indirect_(?P<kind>[a-z]+)(?:_(?P<param>[0-9]+)(?P<unit>[km]?))?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20}


@dataclass(frozen=True)
class Workload:
    """A family's workload: `chase` over 32 KiB, `calls` 16 deep, `branches`."""

    family: str
    kind: str
    param: int | None  # bytes for a size (32k), a plain count otherwise; None: no parameter

    @property
    def label(self):
        return self.family.removeprefix(FAMILY_PREFIX)

    def sort_key(self):
        return (self.kind, -1 if self.param is None else self.param)


def workload_of(family):
    """The Workload of an `indirect_*` family name, or None for any other family."""
    match = _FAMILY.match(family)
    if not match:
        return None
    param = match["param"]
    value = None if param is None else int(param) * _UNITS[match["unit"]]
    return Workload(family=family, kind=match["kind"], param=value)


@dataclass
class Figure:
    """One row's indirect cost. `ns` and the interval are None when it cannot be computed
    (`missing` says why) or is within noise of zero (`within_noise`)."""

    name: str
    workload: Workload
    entry: str  # the variant: the entry the workload ran after
    mechanism: str
    ns: float | None = None
    low: float | None = None
    high: float | None = None
    within_noise: bool = False
    missing: str | None = None

    @property
    def verdict(self):
        if self.missing:
            return self.missing
        if self.within_noise:
            return "within noise of zero"
        return "extra cost" if self.ns > 0 else "cheaper than after a call"


def _difference_interval(rows):
    """(estimate, low, high) of median(r0) - median(r1) - median(r2) + median(r3)."""
    import numpy  # imported late: the CLI starts without numpy

    samples = [numpy.asarray(r, dtype=float) for r in rows]
    estimate = (numpy.median(samples[0]) - numpy.median(samples[1])
                - numpy.median(samples[2]) + numpy.median(samples[3]))
    if any(len(s) < 2 for s in samples):
        return float(estimate), math.nan, math.nan
    if all(len(set(s.tolist())) < 2 for s in samples):
        return float(estimate), float(estimate), float(estimate)  # nothing to resample

    def statistic(a, b, c, d):
        return (numpy.median(a, axis=-1) - numpy.median(b, axis=-1)
                - numpy.median(c, axis=-1) + numpy.median(d, axis=-1))

    low, high = stats.percentile_bootstrap(samples, statistic, CONFIDENCE)
    return float(estimate), low, high


def _measured(run, name):
    path = run.paths.get(name) if name else None
    return path if path is not None and path.samples_ns else None


def figures(run):
    """Every indirect row of `run` but the references, in workload order then file order."""
    by_family = {}
    for path in run.paths.values():
        workload = workload_of(path.family)
        if workload is not None:
            by_family.setdefault(workload, []).append(path)
    # Kinds in the order the file has them (the table's order), sizes and depths ascending.
    kinds = list(dict.fromkeys(w.kind for w in by_family))
    out = []
    for workload in sorted(by_family, key=lambda w: (kinds.index(w.kind), w.sort_key())):
        rows = by_family[workload]
        reference = next((p for p in rows if p.mechanism == REFERENCE_MECHANISM), None)
        for path in rows:
            if path is reference:
                continue
            out.append(_figure(run, workload, path, reference))
    return out


def _figure(run, workload, path, reference):
    figure = Figure(name=path.name, workload=workload, entry=path.variant,
                    mechanism=path.mechanism)
    if path.skipped is not None:
        figure.missing = f"skipped: {path.skipped}"
        return figure
    parts = [
        (path.name, _measured(run, path.name)),
        (path.peer or f"the direct row of {path.name}", _measured(run, path.peer)),
        (reference.name if reference else f"a {REFERENCE_MECHANISM} row in {workload.family}",
         _measured(run, reference.name) if reference else None),
        (reference.peer if reference and reference.peer else "the call row's direct row",
         _measured(run, reference.peer) if reference else None),
    ]
    absent = [name for name, found in parts if found is None]
    if absent:
        figure.missing = "not computed: no measurement of " + ", ".join(absent)
        return figure
    estimate, low, high = _difference_interval([found.samples_ns for _, found in parts])
    if math.isnan(low):
        figure.ns = estimate
        figure.missing = "no interval: needs two or more repetitions of every row"
        return figure
    figure.low, figure.high = low, high
    if low <= 0 <= high:
        figure.within_noise = True
    else:
        figure.ns = estimate
    return figure


def view(run, fmt_ns):
    """Rows for the report's table: plain strings, no markup."""
    rows = []
    for f in figures(run):
        if f.missing and f.ns is None:
            value, interval = "–", f.missing
        elif f.within_noise:
            value = "≈ 0"
            interval = f"within noise of zero [{fmt_ns(f.low)} to {fmt_ns(f.high)}]"
        elif f.missing:
            value, interval = fmt_ns(f.ns), f.missing
        else:
            value, interval = fmt_ns(f.ns), f"[{fmt_ns(f.low)} to {fmt_ns(f.high)}]"
        rows.append({"name": f.name, "workload": f.workload.label, "entry": f.entry,
                     "value": value, "interval": interval})
    return rows


# --- Chart ----------------------------------------------------------------------------------

_LINEAR_NS = 10.0  # the chart's y axis is linear within ±10 ns, logarithmic beyond
_ENTRY_COLOURS = ("#9467bd", "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#8c564b",
                  "#e377c2", "#17becf")


def indirect_chart(runs):
    """Indirect cost by workload (and working set or depth) and entry: one panel per run,
    bars with their interval; a figure within noise of zero is its interval around an
    open mark at zero, without a bar. None
    when no run has an indirect figure."""
    per_run = [(run, figures(run)) for run in runs]
    per_run = [(run, figs) for run, figs in per_run if any(f.low is not None for f in figs)]
    if not per_run:
        return None
    from matplotlib.figure import Figure as MplFigure  # imported late, as in plot.py

    entries = []
    for _, figs in per_run:
        for f in figs:
            if f.entry not in entries:
                entries.append(f.entry)
    fig = MplFigure(figsize=(10.0, 3.6 * len(per_run)), dpi=100)
    axes = fig.subplots(len(per_run), 1, squeeze=False)[:, 0]
    width = 0.8 / max(len(entries), 1)
    for ax, (run, figs) in zip(axes, per_run):
        workloads = []
        for f in figs:
            if f.workload not in workloads:
                workloads.append(f.workload)
        labelled = set()
        for e_index, entry in enumerate(entries):
            colour = _ENTRY_COLOURS[e_index % len(_ENTRY_COLOURS)]
            for w_index, workload in enumerate(workloads):
                f = next((g for g in figs if g.workload == workload and g.entry == entry), None)
                if f is None or f.low is None:
                    continue
                x = w_index - 0.4 + width * (e_index + 0.5)
                label = text(entry) if entry not in labelled else None
                labelled.add(entry)
                if f.within_noise:
                    # No bar: the interval alone, around an open mark at zero.
                    ax.errorbar(x, 0.0, yerr=[[-f.low], [f.high]], fmt="o", mfc="none",
                                color=colour, capsize=2, linewidth=0.8, label=label)
                else:
                    ax.bar(x, f.ns, width, color=colour, label=label)
                    ax.errorbar(x, f.ns, yerr=[[f.ns - f.low], [f.high - f.ns]], fmt="none",
                                ecolor="#333", capsize=2, linewidth=0.8)
        ax.axhline(0, color="#999", linewidth=0.8)
        # Symmetric log: an int 0x80 interval of microseconds next to a few ns of RSB.
        ax.set_yscale("symlog", linthresh=_LINEAR_NS)
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels([text(w.label) for w in workloads], rotation=30, ha="right",
                           fontsize=8)
        ax.set_ylabel("extra ns per entry (symlog)")
        ax.set_title(text(run.label), fontsize=9)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles, labels, fontsize=8, title="entry", title_fontsize=8)
    fig.suptitle("Indirect cost: the workload after the entry minus after a call, minus the "
                 f"entry's own cost ({CONFIDENCE:.0%} intervals; open marks: within noise of 0)",
                 fontsize=9)
    fig.tight_layout()
    return fig


CHART = ("indirect", indirect_chart,
         "Indirect cost per entry, by workload and working set (docs/indirect.md)",
         "no indirect_* rows with repetitions in these results")
