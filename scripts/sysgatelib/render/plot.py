"""Charts of one or more runs. Every builder returns a matplotlib Figure, or None when the
runs hold nothing to draw; only render_all writes files.

Figures are built with matplotlib.figure.Figure (Agg canvas), not pyplot, so nothing
global is kept and no display is needed. With one run, bars are coloured by the way into
the kernel (mechanism, a lighter hatched shade for the 32-bit abi); with several, each run
has one colour on every chart. Every bar carries the interval of its leading figure (the
k-best mean) and its value; what a path is divided by comes from its `baseline` fact.
"""

import math
import os

from ..core import parallel, thresholds, units
from ..core.names import text  # the one mathtext-safe helper (re-exported)
from ..verdicts import indirect, stats
from . import figure

# Ways into the kernel from the cheapest to the dearest: the order bars and legends take.
MECHANISM_ORDER = ("loop", "call", "vdso", "glibc", "syscall", "sysenter", "int80",
                   "vsyscall_page", "io_uring", "runtime")
PERCENTILES = (("p50_ns", "p50", "o"), ("p90_ns", "p90", "s"), ("p99_ns", "p99", "^"),
               ("p999_ns", "p99.9", "x"))

_RUN_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
                "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")
# One hue per mechanism (tab20's pairs): the dark shade for x86_64 rows, the light one
# (and a hatch) for ia32 rows, so no two kinds of bar share a colour.
_MECHANISM_COLOURS = {
    "loop": ("#7f7f7f", "#c7c7c7"), "call": ("#8c564b", "#c49c94"),
    "vdso": ("#2ca02c", "#98df8a"), "glibc": ("#1f77b4", "#aec7e8"),
    "syscall": ("#9467bd", "#c5b0d5"), "sysenter": ("#17becf", "#9edae5"),
    "int80": ("#d62728", "#ff9896"), "vsyscall_page": ("#ff7f0e", "#ffbb78"),
    "io_uring": ("#e377c2", "#f7b6d2"), "runtime": ("#bcbd22", "#dbdb8d"),
}
_OTHER_COLOURS = ("#333333", "#999999")
_IA32_HATCH = "////"
_WIDTH_IN = figure.PAGE_WIDTH_IN  # 1240 px at _DPI: the page's content width, unscaled
_DPI = 100
_ROW_IN = 0.24


def run_colour(index):
    return _RUN_COLOURS[index % len(_RUN_COLOURS)]


def run_labels(runs):
    """One name per run: host and kernel, then what tells equal ones apart (date, file)."""
    labels = [f"{run.host} {run.kernel}" for run in runs]
    for extra in (lambda r: (r.context.get("run_started") or r.context.get("date") or "")[:16],
                  lambda r: os.path.basename(r.source)):
        for label in set(labels):
            same = [i for i, lab in enumerate(labels) if lab == label]
            if len(same) > 1:
                for i in same:
                    more = extra(runs[i])
                    labels[i] = f"{label}, {more}" if more else label
    seen = {}
    for i, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            labels[i] = f"{label} #{seen[label]}"
    return labels


def mechanism_style(mechanism, abi):
    """(colour, hatch, legend label) of a mechanism and abi."""
    dark, light = _MECHANISM_COLOURS.get(mechanism, _OTHER_COLOURS)
    if abi == "ia32":
        return light, _IA32_HATCH, f"{mechanism or 'other'} (32-bit)"
    return dark, None, mechanism or "other"


def leading_ns(run, name):
    """The k-best mean of a path in a run, or None when it was not measured."""
    path = run.paths.get(name)
    if path is None or not path.samples_ns:
        return None
    return stats.kbest_mean(path.samples_ns)


# Intervals by samples: the report computes each once, before the chart workers fork,
# so they inherit the results and never import scipy themselves.
_CI_CACHE = {}


def leading_ci(path):
    """(low, high) 95% interval of the k-best mean, or None for fewer than 2 samples."""
    if len(path.samples_ns) < 2:
        return None
    key = tuple(path.samples_ns)
    if key not in _CI_CACHE:
        _CI_CACHE[key] = stats.bootstrap_kbest_ci(path.samples_ns)
    return _CI_CACHE[key]


def kbest_counter(path, key):
    """A counter's mean over the k-best repetitions (the k fastest by ns/call, those the
    leading figure averages), so a row's figures describe one set of repetitions; the
    median when its values are not one per repetition; None when never recorded."""
    values = path.counters.get(key)
    if not values:
        return None
    if len(values) != len(path.samples_ns):
        return path.counter(key)
    order = sorted(range(len(path.samples_ns)), key=lambda i: path.samples_ns[i])
    chosen = [values[i] for i in order[: stats.kbest_k(len(order))]
              if not math.isnan(values[i])]
    return sum(chosen) / len(chosen) if chosen else None


def ratio_to_baseline(run, path):
    """The path's k-best mean over its baseline's (its `baseline` fact), or None."""
    if not path.baseline or path.baseline == path.name:
        return None
    base = leading_ns(run, path.baseline)
    return stats.kbest_mean(path.samples_ns) / base if base else None


def crossing_value(run, name):
    """A path's ns per call minus its baseline's: the cost of the crossing itself."""
    path = run.paths.get(name)
    if path is None or not path.samples_ns or not path.baseline or path.baseline == name:
        return None
    base = leading_ns(run, path.baseline)
    return None if base is None else stats.kbest_mean(path.samples_ns) - base


def percall_resolution_ns(run):
    """The smallest single-call time the per-call pass resolves: one empty rdtscp pair
    (subtracted from every sample, so what is left below it is noise), else one tick."""
    try:
        hz = float(run.context["tsc_hz"])
    except (KeyError, ValueError):
        return None
    if hz <= 0:
        return None
    try:
        ticks = max(1.0, float(run.context.get("tsc_pair_overhead_ticks", "1")))
    except ValueError:
        ticks = 1.0
    return ticks / hz * 1e9


def _rank(mechanism):
    order = MECHANISM_ORDER.index(mechanism) if mechanism in MECHANISM_ORDER else 99
    return (order, mechanism)


def _names(runs, keep=lambda path: True):
    """{name: first PathResult} over all runs, in first-appearance order."""
    names = {}
    for run in runs:
        for path in run.measured():
            if keep(path):
                names.setdefault(path.name, path)
    return names


def _family_groups(paths):
    """[(family, [names])] in first-appearance order: each family's ways side by side."""
    groups = {}
    for name, path in paths.items():
        groups.setdefault(path.family, []).append(name)
    return list(groups.items())


# --- the headline: one system call by way into the kernel --------------------------------


def headline_families(runs):
    """The families the headline compares ways into the kernel on: getpid (the plainest
    system call) and one clock function, by the family names in the data."""
    families = [p.family for run in runs for p in run.measured()]
    chosen = [f for f in ("getpid",) if f in families]
    clocks = [f for f in dict.fromkeys(families) if f.startswith("clock_gettime")]
    clock = "clock_gettime_monotonic" if "clock_gettime_monotonic" in clocks else (
        clocks[0] if clocks else None)
    if clock:
        chosen.append(clock)
    return chosen


def headline_rows(runs, family):
    """The rows of one headline panel: the family's paths ordered by mechanism and abi,
    each preceded by the plain-call baseline(s) they are divided by."""
    paths = _names(runs, lambda p: p.family == family)
    ordered = sorted(paths.values(), key=lambda p: (p.abi != "x86_64", _rank(p.mechanism)))
    rows, seen = [], set()
    for path in ordered:
        for name in (path.baseline, path.name):
            if name and name not in seen and any(name in r.paths and r.paths[name].samples_ns
                                                 for r in runs):
                rows.append(name)
                seen.add(name)
    return rows


def syscall_peer(run, path):
    """The `syscall` row to judge `path`'s way in against: its `peer` fact when that is a
    `syscall` row, else the cheapest `syscall` row of its abi in its own family, else in
    any family (a 32-bit clock row has no 32-bit syscall beside it); None when absent."""
    peer = run.paths.get(getattr(path, "peer", "") or "")
    if peer is not None and peer.samples_ns and peer.mechanism == "syscall":
        return peer
    rows = [p for p in run.measured() if p.mechanism == "syscall" and p is not path
            and p.abi == path.abi]
    rows = [p for p in rows if p.family == path.family] or rows
    return min(rows, key=lambda p: stats.kbest_mean(p.samples_ns)) if rows else None


def headline_notes(runs, vm):
    """{(run index, path name): one-line note} for bars far from their bare-metal ratio,
    keyed on the mechanism: int 0x80 in a guest, against its peer; a row whose `peer` is
    another row of its own mechanism and abi (a called stub beside the inline one: the
    cost it adds over that peer, the RET right after SYSRET for a syscall stub)."""
    from ..verdicts import checks  # checks imports nothing from here; late to keep imports acyclic
    notes = {}
    for r, run in enumerate(runs):
        for path in run.measured():
            peer = syscall_peer(run, path) if path.mechanism == "int80" else None
            if peer is not None and vm[r]:
                ratio = stats.kbest_mean(path.samples_ns) / stats.kbest_mean(peer.samples_ns)
                if ratio > thresholds.INT80_RATIO_LIMIT:
                    notes[(r, path.name)] = (
                        f"{path.name}: {ratio:.0f}× {peer.name} (bare metal "
                        f"{checks.INT80_BARE_METAL_RATIO}): in a guest every int 0x80 reads "
                        "the APIC in-service register through a VM exit")
                continue
            # A called stub beside the inline one: its peer is a row of its own family,
            # mechanism and abi other than its baseline.
            peer = run.paths.get(getattr(path, "peer", "") or "")
            if (peer is not None and peer.samples_ns and peer.name != path.baseline
                    and (peer.family, peer.mechanism, peer.abi) ==
                    (path.family, path.mechanism, path.abi)):
                extra = stats.kbest_mean(path.samples_ns) - stats.kbest_mean(peer.samples_ns)
                why = (": the RET right after SYSRET returns" if path.mechanism == "syscall"
                       else "")
                notes[(r, path.name)] = (f"{path.name}: {units.with_unit(extra)} over "
                                         f"{peer.name}{why}")
    return notes


def headline_chart(runs, vm=None):
    """getpid (and one clock function) by way into the kernel: k-best mean with its 95%
    interval, the ratio to the plain call, numbered notes under outlier bars."""
    families = headline_families(runs)
    if not families:
        return None, []
    vm = vm or [False] * len(runs)
    notes = headline_notes(runs, vm)
    panels = [(family, headline_rows(runs, family)) for family in families]
    tallest = max(len(rows) for _, rows in panels)
    from matplotlib.figure import Figure  # imported late: the CLI starts without matplotlib
    per_row = _ROW_IN * max(1.0, 0.75 * len(runs))
    fig = Figure(dpi=_DPI)
    numbered, used, placed = [], {}, []
    for family, rows in panels:
        ax = fig.add_axes([0, 0, 1, 1])
        _bar_panel(ax, runs, rows, used, notes, numbered)
        ax.set_title(text(family), fontsize=10, loc="left", fontweight="bold")
        # Each panel as tall as its rows, so every bar has one height.
        placed.append((ax, _longest(rows), per_row * len(rows)))
    fig.suptitle("ns per call by way into the kernel (k-best mean, 95% interval); "
                 "× = ratio to the row's plain-call baseline", x=0.01, ha="left",
                 fontsize=11, va="top")
    _place(fig, placed, _handles(runs, used), per_row * tallest, panel_titles=True)
    return fig, numbered


def _bar_panel(ax, runs, rows, used, notes, numbered):
    """Horizontal log bars, one row per path, one bar per run, with interval, value and
    ratio to the baseline; a note's number beside its bar."""
    height = 0.8 / len(runs)
    values = []
    # A panel's baselines are its 1×: their own ratio (to the empty loop) would mislead.
    baselines = {run.paths[n].baseline for run in runs for n in rows if n in run.paths}
    for r, run in enumerate(runs):
        for i, name in enumerate(rows):
            path = run.paths.get(name)
            if path is None or not path.samples_ns:
                continue
            value = stats.kbest_mean(path.samples_ns)
            if value <= 0:
                continue
            y = i - 0.4 + height * (r + 0.5)
            colour, hatch = _bar_style(runs, r, path, used)
            ci = leading_ci(path)
            xerr = None
            if ci:
                xerr = [[max(value - ci[0], 0)], [max(ci[1] - value, 0)]]
                values.append(ci[0])
            ax.barh(y, value, height=height * 0.9, color=colour, hatch=hatch,
                    edgecolor="#555555" if hatch else colour, linewidth=0.4, zorder=2,
                    xerr=xerr, error_kw={"ecolor": "#222222", "elinewidth": 1,
                                          "capsize": 2})
            ratio = None if name in baselines else ratio_to_baseline(run, path)
            label = f" {units.with_unit(value)}"
            if ratio is not None:
                label += f"  {units.ratio(ratio)}"
            if (r, name) in notes:
                numbered.append(notes[(r, name)] if len(runs) == 1 else
                                f"{notes[(r, name)]} ({run.host} {run.kernel})")
                label += f"  [{len(numbered)}]"
            right = ci[1] if ci else value
            ax.text(right, y, label, va="center", ha="left", fontsize=7.5, zorder=3)
            values.append(value)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    _log_axis(ax, values, label_share=0.36)
    ax.grid(axis="x", which="major", color="#dddddd", zorder=1)
    ax.set_xlabel("ns per call (log scale)", fontsize=8)


def _bar_style(runs, r, path, used):
    if len(runs) > 1:
        return run_colour(r), None
    colour, hatch, label = mechanism_style(path.mechanism, path.abi)
    used.setdefault((_rank(path.mechanism), path.abi != "x86_64"), (colour, hatch, label))
    return colour, hatch


def _log_axis(ax, values, label_share):
    """A log axis from a whole decade below the smallest value (so every bar, even a 1 ns
    one, has a visible length), the largest value at 1 - label_share of the width so its
    label fits on the right."""
    ax.set_xscale("log")
    positive = [v for v in values if v and v > 0]
    if not positive:
        return
    low = math.floor(math.log10(min(positive)))
    high = math.log10(max(positive))
    span = max(high - low, 1.0)
    ax.set_xlim(10 ** low, 10 ** (low + span / (1 - label_share)))


def _handles(runs, used, extra=()):
    """Legend entries: one per run with several runs, else one per mechanism drawn."""
    from matplotlib.patches import Patch  # imported late: the CLI starts without matplotlib
    if len(runs) > 1:
        handles = [Patch(color=run_colour(r), label=text(lab))
                   for r, lab in enumerate(run_labels(runs))]
    else:
        handles = [Patch(facecolor=c, hatch=h, edgecolor="#555555" if h else c, label=lab)
                   for _, (c, h, lab) in sorted(used.items())]
    return handles + list(extra)


# Fixed margins in inches: cheaper than constrained layout (half of a chart's drawing
# time) and exact, since the text sizes are known. At fontsize 8 a character of a path
# name is at most about 0.068 in wide.
_CHAR_IN = 0.068
_TITLE_IN = 0.42
_LEGEND_ROW_IN = 0.19
_XLABEL_IN = 0.55
_PANEL_TITLE_IN = 0.28
_GAP_IN = 0.35


def _place(fig, panels, handles, body_in, panel_titles=False):
    """Sizes the figure and puts the title, the legend (under the title, in as many
    columns as fit) and the panels side by side, aligned at the top. panels: [(axes,
    longest tick label[, own height in inches])]; body_in: the tallest panel's height."""
    columns = rows = 0
    if handles:
        per_column_in = max(len(h.get_label()) for h in handles) * 0.075 + 0.55
        columns = max(1, min(len(handles), int((_WIDTH_IN - 0.3) / per_column_in)))
        rows = math.ceil(len(handles) / columns)
    top_in = _TITLE_IN + rows * _LEGEND_ROW_IN + (_PANEL_TITLE_IN if panel_titles else 0.1)
    height = top_in + body_in + _XLABEL_IN
    fig.set_size_inches(_WIDTH_IN, height)
    labels_in = [panel[1] * _CHAR_IN + 0.15 for panel in panels]
    free = _WIDTH_IN - sum(labels_in) - _GAP_IN * (len(panels) - 1) - 0.25
    x = 0.0
    for panel, label_in in zip(panels, labels_in):
        own = panel[2] if len(panel) > 2 else body_in
        x += label_in
        width = free / len(panels)
        bottom = _XLABEL_IN + body_in - own
        panel[0].set_position([x / _WIDTH_IN, bottom / height, width / _WIDTH_IN,
                               own / height])
        x += width + _GAP_IN
    if handles:
        fig.legend(handles=handles, loc="upper left", ncol=columns, fontsize=8,
                   frameon=False, borderaxespad=0.0, handlelength=1.6, columnspacing=1.2,
                   bbox_to_anchor=(0.1 / _WIDTH_IN, 1 - (_TITLE_IN - 0.05) / height))
    if fig._suptitle is not None:
        fig._suptitle.set_y(1 - 0.1 / height)


def _longest(rows):
    return max((len(str(r)) for r in rows), default=1)


# --- every path ------------------------------------------------------------------------


def _hbars(runs, groups, value, *, title, xlabel, interval=None, symlog=False,
           row_in=_ROW_IN):
    """Horizontal bars, one row per name, one bar per run, grouped in shaded bands; on a
    log axis, or a symlog axis (linear within ±1 ns) when a value can be zero or negative.
    Every bar is labelled with its value; None when no value exists."""
    rows = [name for _, names in groups for name in names]
    values = [[value(run, name) for name in rows] for run in runs]
    if not any(v is not None and (v > 0 or symlog) for vs in values for v in vs):
        return None
    from matplotlib.figure import Figure  # imported late: the CLI starts without matplotlib
    per_row = row_in * max(1.0, 0.7 * len(runs))
    fig = Figure(dpi=_DPI)
    ax = fig.add_axes([0, 0, 1, 1])
    height = 0.8 / len(runs)
    used, drawn = {}, []
    for r, run in enumerate(runs):
        for i, (name, v) in enumerate(zip(rows, values[r])):
            if v is None or (not symlog and v <= 0):
                continue
            path = run.paths[name]
            y = i - 0.4 + height * (r + 0.5)
            colour, hatch = _bar_style(runs, r, path, used)
            ci = interval(run, path) if interval else None
            xerr = None if ci is None else [[max(v - ci[0], 0)], [max(ci[1] - v, 0)]]
            ax.barh(y, v, height=height * 0.9, color=colour, hatch=hatch,
                    edgecolor="#555555" if hatch else colour, linewidth=0.4, zorder=2,
                    xerr=xerr, error_kw={"ecolor": "#222222", "elinewidth": 0.8,
                                          "capsize": 1.5})
            end = max(v, ci[1] if ci else v)
            ha = "left"
            if symlog and v < 0:
                end, ha = min(v, ci[0] if ci else v), "right"
            label = f" {units.with_unit(v)} " if v >= 0 else f" −{units.with_unit(-v)} "
            ax.text(end, y, label, va="center", ha=ha, fontsize=7, zorder=3)
            drawn.append(v)
            if ci:
                drawn += list(ci)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    top = 0
    for index, (label, names) in enumerate(groups):
        if index % 2 == 0:
            ax.axhspan(top - 0.5, top + len(names) - 0.5, color="#f3f3f3", zorder=0)
        top += len(names)
    if symlog:
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.6)
        low, high = min(drawn + [0.0]), max(drawn + [1.0])
        ax.set_xlim(-10 ** math.ceil(math.log10(-low)) if low < 0 else 0.0, high * 8)
        ax.axvline(0, color="#444444", linewidth=0.8, zorder=2)
        ax.axvspan(-1, 1, color="#f5d776", alpha=0.35, zorder=1)
    else:
        _log_axis(ax, drawn, label_share=0.12)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.grid(axis="x", which="major", color="#dddddd", zorder=1)
    fig.suptitle(text(title), x=0.01, ha="left", fontsize=11, va="top")
    _place(fig, [(ax, _longest(rows))], _handles(runs, used), per_row * len(rows))
    return fig


def latency_chart(runs):
    """ns per call (k-best mean, 95% interval) of every measured path, by family."""
    groups = _family_groups(_names(runs))
    return _hbars(runs, groups, leading_ns, interval=lambda run, path: leading_ci(path),
                  title="Every path: ns per call (k-best mean, 95% interval), grouped by "
                        "family",
                  xlabel="ns per call (log scale)")


def crossing_interval(run, path):
    """A conservative interval of path minus baseline: the path's low end minus the
    baseline's high end, and the other way round; None without both intervals."""
    base = run.paths.get(path.baseline)
    if base is None or not base.samples_ns:
        return None
    mine, theirs = leading_ci(path), leading_ci(base)
    if mine is None or theirs is None:
        return None
    return (mine[0] - theirs[1], mine[1] - theirs[0])


def crossing_chart(runs):
    """Path minus its baseline: symlog, so zero and negative costs are drawn too."""
    groups = _family_groups(_names(runs, lambda p: p.baseline and p.baseline != p.name
                                   and p.family != "baseline"))
    return _hbars(runs, groups, crossing_value, symlog=True, row_in=_ROW_IN * 0.8,
                  interval=crossing_interval,
                  title="Crossing cost: each path minus its plain-call baseline",
                  xlabel="ns per call above the baseline (symlog: linear within ±1 ns, "
                         "shaded; log beyond)")


def distribution_chart(runs):
    """Per-call latency percentiles (p50..p99.9) per path, log scale; values below the
    per-call resolution drawn hollow in a shaded band."""
    from matplotlib.figure import Figure  # imported late: the CLI starts without matplotlib
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    paths = _names(runs, lambda p: p.counter("p50_ns") is not None)
    if not paths:
        return None
    rows = list(paths)
    per_row = _ROW_IN * 0.8 * max(1.0, 0.7 * len(runs))
    fig = Figure(dpi=_DPI)
    ax = fig.add_axes([0, 0, 1, 1])
    step = 0.8 / len(runs)
    resolutions = [percall_resolution_ns(run) for run in runs]
    floor = max((x for x in resolutions if x), default=None)
    shown = []
    for r, run in enumerate(runs):
        colour = run_colour(r)
        resolution = resolutions[r] or 0.0
        for i, name in enumerate(rows):
            path = run.paths.get(name)
            if path is None:
                continue
            y = i - 0.4 + step * (r + 0.5)
            points = [(path.counter(key), marker) for key, _, marker in PERCENTILES]
            # Zero (an empty pair subtracted from itself) sits at the resolution floor.
            points = [(max(x, resolution * 0.6 or 0.1), m, x < resolution)
                      for x, m in points if x is not None]
            if not points:
                continue
            xs = [x for x, _, _ in points]
            shown += xs
            ax.plot([min(xs), max(xs)], [y, y], color=colour, linewidth=1, zorder=2)
            for x, marker, below in points:
                ax.plot([x], [y], marker=marker, markersize=5, linestyle="none", zorder=3,
                        color=colour, markerfacecolor="white" if below else colour)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    _log_axis(ax, shown, label_share=0.03)
    if shown:
        ax.set_xlim(min(shown) * 0.7, ax.get_xlim()[1])
    handles = [Line2D([], [], color="black", marker=m, linestyle="none", label=lab)
               for _, lab, m in PERCENTILES]
    if floor:
        ax.axvspan(ax.get_xlim()[0], floor, color="#fff3cf", zorder=0)
        handles.append(Patch(color="#fff3cf", label=f"below the per-call resolution "
                             f"({units.with_unit(floor)}: one empty rdtscp pair); hollow"))
    ax.set_xlabel("ns per single call (log scale; the empty rdtscp pair subtracted)",
                  fontsize=9)
    ax.grid(axis="x", which="major", color="#dddddd", zorder=1)
    fig.suptitle("Per-call latency percentiles (single calls timed one by one)", x=0.01,
                 ha="left", fontsize=11, va="top")
    _place(fig, [(ax, _longest(rows))],
           _handles(runs if len(runs) > 1 else [], {}, handles), per_row * len(rows))
    return fig


def cycles_chart(runs):
    """User and kernel core cycles per call, stacked; None without PMU counts."""
    from matplotlib.figure import Figure  # imported late: the CLI starts without matplotlib
    from matplotlib.patches import Patch

    def counted(path):
        return any(path.counter(k) is not None for k in ("cycles_user", "cycles_kernel"))

    paths = _names(runs, counted)
    if not paths:
        return None
    rows = list(paths)
    counting = [(r, run) for r, run in enumerate(runs)
                if any(counted(p) for p in run.measured())]
    per_row = _ROW_IN * max(1.0, 0.7 * len(counting))
    fig = Figure(dpi=_DPI)
    ax = fig.add_axes([0, 0, 1, 1])
    height = 0.8 / len(counting)
    for slot, (r, run) in enumerate(counting):
        colour = run_colour(r)
        for i, name in enumerate(rows):
            path = run.paths.get(name)
            if path is None or not path.samples_ns:
                continue
            user = kbest_counter(path, "cycles_user") or 0.0
            kernel = kbest_counter(path, "cycles_kernel") or 0.0
            y = i - 0.4 + height * (slot + 0.5)
            ax.barh(y, user, height=height * 0.9, color=colour, alpha=0.4, zorder=2)
            ax.barh(y, kernel, left=user, height=height * 0.9, color=colour, zorder=2)
            ax.text(user + kernel, y, f" {units.count(user + kernel)}", va="center",
                    ha="left", fontsize=7)
    ax.set_yticks(range(len(rows)), [text(n) for n in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("core cycles per call (PMU; mean over the k-best repetitions, as in the "
                  "table)", fontsize=9)
    ax.grid(axis="x", color="#dddddd", zorder=1)
    handles = [Patch(color="#555555", alpha=0.4, label="user"),
               Patch(color="#555555", label="kernel")]
    fig.suptitle("User vs kernel core cycles per call (stacked)", x=0.01, ha="left",
                 fontsize=11, va="top")
    _place(fig, [(ax, _longest(rows))],
           _handles([run for _, run in counting] if len(counting) > 1 else [], {}, handles),
           per_row * len(rows))
    return fig


# (file stem, builder, caption, why it can be absent); the report draws them in this
# order, after the headline. The latency chart groups by family, so each family's vDSO,
# glibc, syscall and vsyscall-page rows stand side by side (no separate vDSO chart).
CHARTS = (
    ("latency", latency_chart, "Every path, grouped by family", None),
    ("crossing", crossing_chart, "Crossing cost: each path minus its plain-call baseline",
     "no path with a measured baseline in these results"),
    ("distribution", distribution_chart, "Per-call latency percentiles",
     "no per-call percentiles in these results"),
    ("cycles", cycles_chart, "User vs kernel core cycles", "no PMU cycle counts"),
    indirect.CHART,  # docs/indirect.md; drawn from the indirect_* rows
)
HEADLINE = "headline"


# The charts in the order the workers take them: the dearest first, so that two workers
# finish together (the latency and crossing charts have a bar per path).
_COST_ORDER = ("latency", "crossing", "distribution", HEADLINE)


def _draw(job):
    """One chart to PNG bytes (in a worker process): (stem, bytes or None, notes)."""
    import io
    stem, runs, vm, intervals = job
    _CI_CACHE.update(intervals)
    notes = []
    if stem == HEADLINE:
        figure, notes = headline_chart(runs, vm)
    else:
        figure = dict((s, b) for s, b, _, _ in CHARTS)[stem](runs)
    if figure is None:
        return stem, None, notes
    buffer = io.BytesIO()
    # zlib level 1: a third of the encoding time of the default 6, files about 5% larger.
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return stem, buffer.getvalue(), notes


def _intervals(runs):
    for run in runs:
        for path in run.measured():
            leading_ci(path)
    return dict(_CI_CACHE)


def _draw_parallel(runs, vm, workers):
    """Forked workers draw the charts, the dearest first, with the intervals this process
    computed before forking (numpy only, a few ms)."""
    stems = [HEADLINE] + [stem for stem, _, _, _ in CHARTS]
    stems.sort(key=lambda stem: _COST_ORDER.index(stem) if stem in _COST_ORDER
               else len(_COST_ORDER))
    intervals = _intervals(runs)
    return parallel.map_forked(_draw, [(stem, runs, vm, intervals) for stem in stems],
                               workers)


def render_all(runs, vm, write):
    """Draws the headline and CHARTS, in parallel processes where the machine has more
    than one CPU; write(name, png bytes) stores each. Returns (headline, charts):
    headline = (file or None, notes); charts = [(file or None, caption, why absent)]."""
    import matplotlib  # imported before forking, so the workers start with it loaded
    matplotlib.use("Agg")
    import matplotlib.figure  # noqa: F401  (the expensive part of the import)
    results = _draw_parallel(runs, vm, None)
    drawn = {stem: (data, notes) for stem, data, notes in results}
    headline = (None, [])
    data, notes = drawn[HEADLINE]
    if data is not None:
        write(f"{HEADLINE}.png", data)
        headline = (f"{HEADLINE}.png", notes)
    charts = []
    for stem, _, caption, absent in CHARTS:
        data, _ = drawn[stem]
        if data is None:
            charts.append((None, caption, absent or "nothing to draw"))
            continue
        write(f"{stem}.png", data)
        charts.append((f"{stem}.png", caption, None))
    return headline, charts
