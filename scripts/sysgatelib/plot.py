"""Charts of one or more runs. Every function returns a matplotlib Figure, or None when
the runs hold nothing to draw; only the report writes files.

Figures are built with matplotlib.figure.Figure (Agg canvas), not pyplot, so nothing
global is kept and no display is needed. With one run, bars are coloured by mechanism
(or variant); with several, each run has one colour on every chart.
"""

import math

from . import stats, units
from .names import text  # the one mathtext-safe helper (re-exported)

# Mechanisms from the cheapest to the dearest, the order the latency chart groups them in.
MECHANISM_ORDER = ("loop", "call", "asm", "vdso", "glibc", "syscall", "sysenter", "vsyscall",
                   "int80")
VDSO_VARIANTS = ("vdso", "glibc", "syscall", "vsyscall_page")
PERCENTILES = (("p50_ns", "p50", "o"), ("p90_ns", "p90", "s"), ("p99_ns", "p99", "^"),
               ("p999_ns", "p99.9", "x"))

_RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")
_KEY_COLOURS = {
    "loop": "#c7c7c7", "call": "#7f7f7f", "asm": "#7f7f7f", "vdso": "#2ca02c",
    "glibc": "#1f77b4", "syscall": "#9467bd", "sysenter": "#17becf", "vsyscall": "#ff7f0e",
    "vsyscall_page": "#ff7f0e", "int80": "#d62728",
}
_OTHER_COLOUR = "#bcbd22"
_WIDTH_IN = 10.0
_DPI = 100


def run_colour(index):
    return _RUN_COLOURS[index % len(_RUN_COLOURS)]


def run_labels(runs):
    """One legend label per run, made unique."""
    labels, seen = [], {}
    for run in runs:
        label = run.label
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return labels


def leading_ns(run, name):
    """The k-best mean of a path in a run, or None when it was not measured."""
    path = run.paths.get(name)
    if path is None or not path.samples_ns:
        return None
    return stats.kbest_mean(path.samples_ns)


def _names(runs, keep=lambda path: True):
    """Path names over all runs, in first-appearance order."""
    names = {}
    for run in runs:
        for path in run.measured():
            if keep(path):
                names.setdefault(path.name, path)
    return names


def _mechanism_groups(paths):
    groups = {}
    for name, path in paths.items():
        groups.setdefault(path.mechanism or "other", []).append(name)

    def rank(mechanism):
        order = MECHANISM_ORDER.index(mechanism) if mechanism in MECHANISM_ORDER else 99
        return (order, mechanism)

    return [(mech, groups[mech]) for mech in sorted(groups, key=rank)]


def _figure(rows, runs):
    from matplotlib.figure import Figure  # imported late: the CLI starts without matplotlib
    per_row = 0.26 * max(1.0, 0.7 * len(runs))
    fig = Figure(figsize=(_WIDTH_IN, 1.4 + per_row * max(rows, 1)), dpi=_DPI)
    return fig, fig.subplots()


def _bands(ax, groups, sizes, labelled=True):
    """Shade alternate groups and name each at the right edge."""
    top = 0
    for index, ((label, _), size) in enumerate(zip(groups, sizes)):
        if index % 2 == 0:
            ax.axhspan(top - 0.5, top + size - 0.5, color="#f0f0f0", zorder=0)
        if labelled:
            ax.text(1.0, top - 0.45, f" {text(label)}", transform=ax.get_yaxis_transform(),
                    va="top", ha="left", fontsize=8, color="#555555", clip_on=False)
        top += size


def _finish(fig, ax, title, handles):
    """Title above the legend, both above the axes, so neither hides a bar."""
    fig.suptitle(text(title), x=0.01, ha="left", fontsize=11)
    if handles:
        wide = sum(len(h.get_label()) for h in handles) > 90
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8,
                  ncol=1 if wide else len(handles), frameon=False, borderaxespad=0.2)
    fig.tight_layout()


def _hbars(runs, groups, value, *, title, xlabel, colour_key=None, log=True,
           annotate=True, band_labels=True):
    """Horizontal bars, one row per name, one bar per run; None when no value exists."""
    from matplotlib.patches import Patch  # imported late: the CLI starts without matplotlib
    rows = [name for _, names in groups for name in names]
    values = [[value(run, name) for name in rows] for run in runs]
    if not any(v is not None and (v > 0 or not log) for vs in values for v in vs):
        return None
    fig, ax = _figure(len(rows), runs)
    height = 0.8 / len(runs)
    labels = run_labels(runs)
    keys_used = {}
    for r, run in enumerate(runs):
        for i, (name, v) in enumerate(zip(rows, values[r])):
            if v is None or (log and v <= 0):
                continue
            y = i - 0.4 + height * (r + 0.5)
            if colour_key is not None and len(runs) == 1:
                key = colour_key(run, name)
                colour = _KEY_COLOURS.get(key, _OTHER_COLOUR)
                keys_used.setdefault(key, colour)
            else:
                colour = run_colour(r)
            ax.barh(y, v, height=height * 0.92, color=colour, zorder=2)
            if annotate:
                ax.text(v, y, " " + units.with_unit(v), va="center", ha="left", fontsize=7,
                        zorder=3)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    _bands(ax, groups, [len(names) for _, names in groups], band_labels)
    if log:
        ax.set_xscale("log")
        # Bars start at the left edge: put it on a whole decade below the smallest value
        # so that bar lengths compare, and leave room on the right for the value labels.
        smallest = min(v for vs in values for v in vs if v is not None and v > 0)
        ax.set_xlim(10 ** math.floor(math.log10(smallest)), ax.get_xlim()[1] * 4)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", which="major", color="#dddddd", zorder=1)
    if len(runs) > 1:
        handles = [Patch(color=run_colour(r), label=text(lab)) for r, lab in enumerate(labels)]
    else:
        handles = [Patch(color=c, label=text(k)) for k, c in keys_used.items()]
    _finish(fig, ax, title, handles)
    return fig


def _mechanism_of(run, name):
    path = run.paths.get(name)
    return (path.mechanism if path else "") or "other"


def latency_chart(runs):
    """ns per call (k-best mean) of every measured path, log scale, grouped by mechanism."""
    groups = _mechanism_groups(_names(runs))
    return _hbars(runs, groups, leading_ns, colour_key=_mechanism_of,
                  title="Latency per path (mean of the fastest repetitions), by mechanism",
                  xlabel="ns per call (log scale)")


def crossing_value(run, name):
    """A path's ns per call minus baseline/call's: the cost of the crossing itself."""
    path, call = leading_ns(run, name), leading_ns(run, "baseline/call")
    if path is None or call is None:
        return None
    return path - call


def crossing_chart(runs):
    """Path minus the plain call, log scale; paths at or below the call are left out."""
    groups = _mechanism_groups(_names(runs, lambda p: p.family != "baseline"))
    return _hbars(runs, groups, crossing_value, colour_key=_mechanism_of,
                  title="Crossing cost: path minus baseline/call",
                  xlabel="ns per call above a plain call (log scale)")


def _variant_of(run, name):
    return name.split("/", 1)[1] if "/" in name else name


def vdso_chart(runs):
    """Per family with a vDSO variant: vDSO, glibc, syscall and vsyscall page side by side."""
    paths = _names(runs)
    families = {}
    for name, path in paths.items():
        if path.variant in VDSO_VARIANTS:
            families.setdefault(path.family, {})[path.variant] = name
    groups = [(family, [variants[v] for v in VDSO_VARIANTS if v in variants])
              for family, variants in families.items()
              if "vdso" in variants and len(variants) > 1]
    if not groups:
        return None
    return _hbars(runs, groups, leading_ns, colour_key=_variant_of,
                  title="vDSO vs system call, per family",
                  xlabel="ns per call (log scale)", band_labels=False)


def distribution_chart(runs):
    """Per-call latency percentiles (p50..p99.9) per path, log scale."""
    from matplotlib.lines import Line2D  # imported late: the CLI starts without matplotlib
    from matplotlib.patches import Patch  # imported late: the CLI starts without matplotlib
    paths = _names(runs, lambda p: p.counter("p50_ns") is not None)
    if not paths:
        return None
    rows = list(paths)
    fig, ax = _figure(len(rows), runs)
    step = 0.8 / len(runs)
    for r, run in enumerate(runs):
        colour = run_colour(r)
        for i, name in enumerate(rows):
            path = run.paths.get(name)
            if path is None:
                continue
            y = i - 0.4 + step * (r + 0.5)
            points = [(path.counter(key), marker) for key, _, marker in PERCENTILES]
            points = [(x, m) for x, m in points if x is not None and x > 0]
            if not points:
                continue
            xs = [x for x, _ in points]
            ax.plot([min(xs), max(xs)], [y, y], color=colour, linewidth=1, zorder=2)
            for x, marker in points:
                ax.plot([x], [y], marker=marker, color=colour, markersize=5,
                        linestyle="none", zorder=3)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlabel("ns per single call (log scale; empty rdtscp pair subtracted)")
    ax.grid(axis="x", which="major", color="#dddddd", zorder=1)
    handles = [Line2D([], [], color="black", marker=m, linestyle="none", label=lab)
               for _, lab, m in PERCENTILES]
    if len(runs) > 1:
        handles += [Patch(color=run_colour(r), label=text(lab))
                    for r, lab in enumerate(run_labels(runs))]
    _finish(fig, ax, "Per-call latency distribution (percentiles of single calls)", handles)
    return fig


def cycles_chart(runs):
    """User and kernel core cycles per call, stacked; None without PMU counts."""
    from matplotlib.patches import Patch  # imported late: the CLI starts without matplotlib
    def counted(path):
        return any(path.counter(k) is not None for k in ("cycles_user", "cycles_kernel"))

    paths = _names(runs, counted)
    if not paths:
        return None
    rows = list(paths)
    # Only runs that counted get a slot; each keeps its colour from the whole page.
    counting = [(r, run) for r, run in enumerate(runs)
                if any(counted(p) for p in run.measured())]
    fig, ax = _figure(len(rows), counting)
    height = 0.8 / len(counting)
    for slot, (r, run) in enumerate(counting):
        colour = run_colour(r)
        for i, name in enumerate(rows):
            path = run.paths.get(name)
            if path is None or not path.samples_ns:
                continue
            user = path.counter("cycles_user") or 0.0
            kernel = path.counter("cycles_kernel") or 0.0
            y = i - 0.4 + height * (slot + 0.5)
            ax.barh(y, user, height=height * 0.92, color=colour, alpha=0.4, zorder=2)
            ax.barh(y, kernel, left=user, height=height * 0.92, color=colour, zorder=2)
            total = user + kernel
            if not math.isclose(total, 0.0):
                ax.text(total, y, f" {total:.0f}", va="center", ha="left", fontsize=7)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("core cycles per call (PMU)")
    ax.grid(axis="x", color="#dddddd", zorder=1)
    handles = [Patch(color="#555555", alpha=0.4, label="user"),
               Patch(color="#555555", label="kernel")]
    if len(runs) > 1:
        labels = run_labels(runs)
        handles += [Patch(color=run_colour(r), label=text(labels[r])) for r, _ in counting]
    _finish(fig, ax, "User vs kernel core cycles per call (stacked)", handles)
    return fig


# (file stem, builder, caption, why it can be absent); the report draws them in this order.
CHARTS = (
    ("latency", latency_chart, "Latency per path, grouped by mechanism", None),
    ("crossing", crossing_chart, "Crossing cost: each path minus the plain call",
     "no baseline/call in these results"),
    ("distribution", distribution_chart, "Per-call latency percentiles",
     "no per-call percentiles in these results"),
    ("cycles", cycles_chart, "User vs kernel core cycles", "no PMU cycle counts"),
    ("vdso", vdso_chart, "vDSO vs system call per family",
     "no family with both a vDSO and another variant"),
)
