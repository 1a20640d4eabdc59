"""`sysgate trend`: each path's cost over kernel versions, per host, from the history store.

A series is one host (its fingerprint: name, CPU, hypervisor) and one kind of timing
(hardware or emulated: they never share a chart unless --allow-emulated). In a series the
kernels are ordered by version (kversion), and each kernel is represented by its runs
that share the newest one's setup (boot options, conditions), pooled so that run-to-run
variation counts. For each path: compare's figure (the low-quarter mean) with its 95%
run-level bootstrap interval per kernel, and between consecutive kernels the same test
`sysgate compare` applies (permutation p-value, the interval beyond the threshold), so a
marked step means what a failing compare would mean; over three kernels or more, change
points by E-Divisive means (changepoint.py). Beside the steps: what else changed
(mitigations, boot options, microcode).
"""

import functools
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .. import store
from ..core import atomic, names, parallel, units
from ..core import thresholds
from ..core.errors import UserError
from ..render.table import format_table, packed
from ..results import envdiff, validate
from ..verdicts import changepoint, stats
from . import arguments, trend_entry
from ..core.units import format_p, format_pct
from ..render import figure, template_env
from ..render.compare_text import p_relation
from ..verdicts.stats import IMPROVEMENT, REGRESSION

TEMPLATE = "trend_page.html.j2"
DEFAULT_OUT = store.REPO_ROOT / "reports" / "trend"


@dataclass
class Point:
    kernel: str
    run_id: int
    value: float  # the low-quarter mean, ns per call (stats.low_mean)
    ci: tuple
    n: int  # repetitions, all pooled runs together
    runs: int = 1


@dataclass
class Step:
    before: str  # kernel releases
    after: str
    path: str
    change: object  # stats.Shift


@dataclass
class PathTrend:
    name: str
    mechanism: str
    points: dict = field(default_factory=dict)  # kernel -> Point
    steps: list = field(default_factory=list)  # Step, consecutive measured kernels
    skipped: dict = field(default_factory=dict)  # kernel -> reason
    # (first kernel of the new level, changepoint.ChangePoint)
    change_points: list = field(default_factory=list)
    # The first measured kernel against the last, by the same test as a step, over three
    # kernels or more: a creep of 1% a kernel is no step and no level, but 20% in all.
    overall: Step | None = None

    def marked(self):
        return [s for s in self.steps if s.change.verdict in (REGRESSION, IMPROVEMENT)]

    def marked_overall(self):
        """The whole-series change when it is a regression or an improvement, else None."""
        if self.overall and self.overall.change.verdict in (REGRESSION, IMPROVEMENT):
            return self.overall
        return None


@dataclass
class Series:
    host_name: str
    fingerprint: str
    emulated: bool
    kernels: list  # releases in version order
    run_ids: dict  # kernel -> its newest run's id
    pooled_ids: dict  # kernel -> the ids of the runs pooled for it, newest first
    other_runs: dict  # kernel -> runs of it left out (other boot options or conditions)
    paths: list  # PathTrend
    env_changes: list  # (before kernel, after kernel, [envdiff.Difference])
    excluded: list = field(default_factory=list)  # (kernel, run id, why it was left out)
    entry: object = None  # trend_entry.EntrySeries: the kernel entry over the kernels

    @property
    def title(self):
        return f"{self.host_name}" + (" (emulated)" if self.emulated else "")

    @property
    def slug(self):
        text = f"{self.host_name}-{self.fingerprint[:6]}" + ("-emulated" if self.emulated else "")
        return _slug(text)


def _slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


@dataclass
class _Plan:
    """A series before any path row is read: its runs by kernel, and which are pooled."""

    first: store.StoredRun
    kernels: list  # releases in version order
    by_kernel: dict  # kernel -> StoredRun
    pooled: dict  # kernel -> the runs pooled for it, newest first
    excluded: list  # (kernel, run id, why it was left out)


def series_keys(conn, host=None, allow_emulated=False):
    """The series of the store (or of one host): [(host fingerprint, emulated)], emulated
    None when --allow-emulated puts both kinds of timing in one series."""
    keys = store.host_keys(conn, host)
    if not keys:
        raise UserError(
            ("no runs of host " + host if host else "no runs") + " in the history store; "
            "add some with `sysgate history add RESULTS.json`"
        )
    return sorted({(fingerprint, None if allow_emulated else emulated)
                   for fingerprint, emulated in keys}, key=lambda k: (k[0], k[1] or False))


def plan_series(conn, key):
    """One series' runs by kernel and which are pooled: one indexed query on the runs
    table."""
    fingerprint, emulated = key
    series_runs = store.list_runs(conn, fingerprint=fingerprint, emulated=emulated)
    if not series_runs:  # removed since the store was asked which series it holds
        raise UserError(f"no runs of host {fingerprint} in the history store any more")
    by_kernel = {}
    for run in series_runs:
        by_kernel.setdefault(run.kernel_release, []).append(run)
    kernels = sorted(by_kernel, key=lambda k: by_kernel[k][0].kernel_key)
    pooled, excluded = {}, []
    for kernel in kernels:
        runs = sorted(by_kernel[kernel], key=lambda r: (r.date, r.id), reverse=True)
        pooled[kernel] = [r for r in runs if store.same_setup(runs[0].context, r.context)]
        kept = {r.id for r in pooled[kernel]}
        for run in runs:
            if run.id not in kept:
                excluded.append((kernel, run.id, _why_left_out(runs[0], run)))
    return _Plan(series_runs[0], kernels, by_kernel, pooled, excluded)


def _build(conn, key, alpha, threshold_pct):
    """The series `key` (series_keys) of an open store: planned, read and computed."""
    plan = plan_series(conn, key)
    pooled = plan.pooled
    figures = store.load_figures(conn, [r.id for k in plan.kernels for r in pooled[k]])
    sides = {k: _KernelRuns(conn, pooled[k], figures) for k in plan.kernels}
    one = _series(plan.first, plan.kernels, pooled, plan.by_kernel, sides, alpha,
                  threshold_pct / 100.0)
    one.excluded = plan.excluded
    if len(plan.kernels) > 1:
        one.entry = trend_entry.entry_series(conn, plan.kernels, one.pooled_ids, alpha,
                                             threshold_pct)
    return one


def _in_order(series):
    return sorted(series, key=lambda s: (s.host_name, s.emulated))


def build_series(conn, host=None, alpha=thresholds.ALPHA, threshold_pct=thresholds.THRESHOLD_PCT,
                 allow_emulated=False):
    """Every series of an open store (or of one host), built in this process."""
    return _in_order(_build(conn, key, alpha, threshold_pct)
                     for key in series_keys(conn, host, allow_emulated))


def _build_at(db, alpha, threshold_pct, key):
    with store.open_store(db) as conn:
        return _build(conn, key, alpha, threshold_pct)


def build_series_at(db, host=None, alpha=thresholds.ALPHA, threshold_pct=thresholds.THRESHOLD_PCT,
                    allow_emulated=False, jobs=None):
    """build_series of the store at `db`, each series (host) read and built in its own
    process when there are several and CPUs for them: this process only asks the store
    which series there are, and closes it before forking; each worker opens its own
    connection."""
    with store.open_store(db) as conn:
        keys = series_keys(conn, host, allow_emulated)
        if parallel.workers_for(keys, jobs) == 1:
            return _in_order(_build(conn, key, alpha, threshold_pct)
                             for key in keys)
    build = functools.partial(_build_at, db, alpha, threshold_pct)
    return _in_order(parallel.map_forked(build, keys, jobs))


class _KernelRuns:
    """The pooled runs of one kernel in a series: their figures per path, read first, and
    their samples, read only when a path of this kernel has fewer than thresholds.RUN_UNIT_MIN
    runs (then its repetitions carry the test) and kept once read."""

    def __init__(self, conn, runs, figures):
        self._conn = conn
        self.runs = runs  # StoredRun, newest first
        self.figures = [figures.get(r.id, {}) for r in runs]
        self._samples = None

    def names(self):
        return [n for per_run in self.figures for n in per_run]

    def found(self, name):
        """The path's facts (load.PathResult, no samples) in the newest run that has it,
        or None."""
        return next((per_run[name].path for per_run in self.figures if name in per_run), None)

    def side(self, name):
        """The path as one side of a comparison, or None when no run measured it."""
        measured = [m for m in (per_run.get(name) for per_run in self.figures)
                    if m is not None and m.repetitions]
        if not measured:
            return None
        return _Side(self, name, [m.figure_ns for m in measured],
                     sum(m.repetitions for m in measured))

    def samples(self, name):
        if self._samples is None:
            self._samples = store.load_runs(self._conn, [r.id for r in self.runs],
                                            counters=False)
        return [run.paths[name].samples_ns for run in self._samples
                if name in run.paths and run.paths[name].samples_ns]


@dataclass
class _Side:
    """One path on one kernel: its runs' figures, and their repetitions when needed."""

    kernel_runs: _KernelRuns
    name: str
    figures: list  # one per run that measured the path
    repetitions: int  # all those runs together

    @property
    def by_runs(self):
        return len(self.figures) >= thresholds.RUN_UNIT_MIN

    def groups(self):
        return self.kernel_runs.samples(self.name)

    def point(self):
        """side_figure: (the figure, its interval)."""
        if self.by_runs:
            return stats.figures_point(self.figures)
        return stats.side_figure(self.groups())


def _step(before, after, alpha, threshold):
    """compare's test between two kernels' sides: by run figures when both sides have
    RUN_UNIT_MIN runs (the same figures compare computes from the samples), else by
    repetitions."""
    if before.by_runs and after.by_runs:
        return stats.shift_of_figures(before.figures, after.figures,
                                      (before.repetitions, after.repetitions), alpha,
                                      threshold)
    return stats.shift(before.groups(), after.groups(), alpha, threshold)


def _why_left_out(newest, run):
    """What differs between a run and the newest run of its kernel (the one pooled by)."""
    diffs = envdiff.setup_differences(newest.context, run.context)
    return (f"differs from run #{newest.id}, the newest of its kernel: "
            + "; ".join(f"{d.kind} {d}" for d in diffs))


def _summarised(samples, count):
    """`count` evenly spaced quantiles of `samples` (all of them when there are fewer)."""
    if len(samples) <= count:
        return list(samples)
    ordered = sorted(samples)
    step = (len(ordered) - 1) / (count - 1)
    return [ordered[round(i * step)] for i in range(count)]


def change_points(trend, groups_by_kernel, alpha=thresholds.CHANGEPOINT_ALPHA, threshold=0.0):
    """E-Divisive means over the path's values in kernel order (its repetitions, or its
    runs' figures when every kernel has thresholds.RUN_UNIT_MIN runs of it), split only between
    kernels: [(first kernel of a new level, ChangePoint)]. Needs three kernels (two are
    the pairwise verdict's) and two values each side. A level that moved the mean by
    less than `threshold` (a fraction, the steps' threshold) is left out, as Otava filters
    by magnitude: with thousands of repetitions a 0.2% shift is significant and
    irrelevant."""
    kernels = [k for k in groups_by_kernel if groups_by_kernel[k]]
    if len(kernels) < 3:
        return []
    per_kernel = max(4, thresholds.CHANGEPOINT_MAX_SAMPLES // len(kernels))
    values, starts = [], {}
    for kernel in kernels:
        starts[len(values)] = kernel
        values += _summarised(groups_by_kernel[kernel], per_kernel)
    boundaries = sorted(i for i in starts if i > 0)
    found = changepoint.e_divisive(values, alpha=alpha, candidates=boundaries)
    return [(starts[point.index], point) for point in found
            if abs(point.change) >= threshold]


def _series(first, kernels, pooled, by_kernel, sides, alpha, threshold):
    names = list(dict.fromkeys(n for kernel in kernels for n in sides[kernel].names()))
    trends = []
    for name in names:
        trend = PathTrend(name=name, mechanism="")
        previous = None
        measured = {}
        for kernel in kernels:
            found = sides[kernel].found(name)
            if found is None:
                continue
            trend.mechanism = trend.mechanism or found.mechanism
            side = sides[kernel].side(name)
            if side is None:
                trend.skipped[kernel] = found.skipped or "not measured"
                continue
            # The figure compare tests (the low-quarter mean, its run-level interval), so a
            # step's marker sits on the line it is a step of.
            value, interval = side.point()
            trend.points[kernel] = Point(kernel, pooled[kernel][0].id, value, interval,
                                         side.repetitions, len(side.figures))
            if previous is not None:
                trend.steps.append(Step(previous[0], kernel, name,
                                        _step(previous[1], side, alpha, threshold)))
            previous = (kernel, side)
            measured[kernel] = side
        if len(measured) >= 3:
            (oldest, before), *_, (newest, after) = measured.items()
            trend.overall = Step(oldest, newest, name, _step(before, after, alpha, threshold))
        by_runs = all(side.by_runs for side in measured.values())
        values = {k: side.figures if by_runs else [x for g in side.groups() for x in g]
                  for k, side in measured.items()}
        trend.change_points = change_points(trend, values, threshold=threshold)
        trends.append(trend)
    env_changes = []
    for before, after in zip(kernels, kernels[1:]):
        diffs = envdiff.differences(pooled[before][0].context, pooled[after][0].context)
        env_changes.append((before, after, [d for d in diffs if d.key != "kernel_release"]))
    return Series(
        host_name=first.host_name, fingerprint=first.host_fingerprint, emulated=first.emulated,
        kernels=kernels, run_ids={k: pooled[k][0].id for k in kernels},
        pooled_ids={k: [r.id for r in pooled[k]] for k in kernels},
        other_runs={k: len(by_kernel[k]) - len(pooled[k]) for k in kernels}, paths=trends,
        env_changes=env_changes,
    )


# --- presentation ----------------------------------------------------------------------

FIRST, PREVIOUS = "first", "previous"
# The heatmap's colour scale saturates at this change of the figure (either way).
HEATMAP_LIMIT = 0.25
# Above this many kernels the heatmap's cells are colour only (no figures in them).
HEATMAP_TEXT_KERNELS = 16


def _cell(trend, kernel, reasons=True):
    point = trend.points.get(kernel)
    if point is None:
        if kernel not in trend.skipped:
            return "-"
        return f"skipped: {trend.skipped[kernel]}" if reasons else "skipped"
    text = units.ns(point.value)
    step = next((s for s in trend.steps if s.after == kernel), None)
    if step and step.change.verdict == REGRESSION:
        text += f" {format_pct(step.change.change)} REG"
    elif step and step.change.verdict == IMPROVEMENT:
        text += f" {format_pct(step.change.change)} IMP"
    if any(k == kernel for k, _ in trend.change_points):
        text += " CP"
    return text


def table(series, reasons=False):
    """Header and rows for the terminal: "skipped" in a cell, the reasons in skip_lines."""
    header = ("path",) + tuple(series.kernels)
    rows = [(t.name,) + tuple(_cell(t, k, reasons) for k in series.kernels)
            for t in series.paths]
    return header, rows


def skip_lines(series):
    """One line per path and reason: "path: reason (on kernels ...)"."""
    lines = []
    for trend in series.paths:
        by_reason = {}
        for kernel, reason in trend.skipped.items():
            by_reason.setdefault(reason, []).append(kernel)
        for reason, kernels in by_reason.items():
            where = ("every kernel" if len(kernels) == len(series.kernels) > 1 else
                     ", ".join(kernels))
            lines.append(f"{trend.name}: {reason} (on {where})")
    return lines


def page_rows(series):
    """The table for the page: a path skipped on every kernel for one reason is one cell."""
    rows = []
    for trend in series.paths:
        reasons = {trend.skipped.get(k) for k in series.kernels}
        if not trend.points and len(reasons) == 1 and None not in reasons:
            rows.append({"path": trend.name, "cells": [
                {"text": f"skipped: {reasons.pop()}", "cls": "skip",
                 "span": len(series.kernels)}]})
            continue
        cells = []
        for kernel in series.kernels:
            text = _cell(trend, kernel)
            cls = ("reg" if " REG" in text else "imp" if " IMP" in text else
                   "skip" if text.startswith("skipped") else "")
            cells.append({"text": text, "cls": cls, "span": 1})
        rows.append({"path": trend.name, "cells": cells})
    return rows


def relative_changes(series, against=FIRST):
    """{path: {kernel: change of the figure}} against the first kernel the path was
    measured on, or against the kernel before."""
    changes = {}
    for trend in series.paths:
        measured = [k for k in series.kernels if k in trend.points]
        row = {}
        for i, kernel in enumerate(measured):
            base = trend.points[measured[0] if against == FIRST else measured[max(i - 1, 0)]]
            row[kernel] = trend.points[kernel].value / base.value - 1 if base.value else 0.0
        changes[trend.name] = row
    return changes


def step_lines(series):
    """Per pair of consecutive kernels: the marked steps and the environment changes."""
    blocks = []
    for before, after, diffs in series.env_changes:
        steps = [s for t in series.paths for s in t.marked() if s.after == after]
        # A path absent from `before` steps from an older kernel: attribute it to `after`.
        steps = [s for s in steps if s.before == before] + [
            s for s in steps if s.before != before
        ]
        points = [(t.name, cp) for t in series.paths for k, cp in t.change_points
                  if k == after]
        blocks.append({"before": before, "after": after, "steps": steps, "diffs": diffs,
                       "change_points": points})
    return blocks


# The console the terminal output is written for: a table of more kernels than fit is
# printed in blocks of kernel columns, the path column in each.
WIDTH = 120
# Runs left out of a series listed in the terminal at most; the page lists them all.
EXCLUDED_SHOWN = 10


def _table_blocks(header, rows, width=WIDTH):
    """The table as blocks of kernel columns that each fit `width` columns."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    bounds, start, used = [], 1, widths[0]
    for i in range(1, len(header)):
        if i > start and used + 2 + widths[i] > width:
            bounds.append((start, i))
            start, used = i, widths[0]
        used += 2 + widths[i]
    bounds.append((start, len(header)))
    return "\n\n".join(
        format_table((header[0], *header[a:b]), [(r[0], *r[a:b]) for r in rows],
                     right=set(range(1, b - a + 1)))
        for a, b in bounds)


def _step_line(step, suffix=""):
    c = step.change
    return (f"  {c.verdict}: {step.path} {format_pct(c.change)} "
            f"[{format_pct(c.ci_low)}, {format_pct(c.ci_high)}] p{p_relation(c.p_value)}{suffix}")


def render_terminal(all_series, alpha, threshold_pct):
    lines = textwrap.wrap(
        f"a step is marked when p < {alpha:g} (permutation test) and the interval of the "
        f"change lies beyond {threshold_pct:g}%; REG = slower, IMP = faster; CP = a change "
        "point (E-Divisive means over the whole series); figures are ns per call, the mean "
        "of the fastest quarter of the repetitions", WIDTH)
    for series in all_series:
        lines += ["", f"== {series.title}, {len(series.kernels)} kernel(s), host "
                      f"{series.fingerprint} =="]
        lines += trend_entry.lines(series.entry, WIDTH)
        lines.append(_table_blocks(*table(series)))
        for block in step_lines(series):
            if not block["steps"] and not block["diffs"] and not block["change_points"]:
                continue
            lines.append(f"{block['before']} -> {block['after']}:")
            for s in block["steps"]:
                lines.append(_step_line(s, f" (since {s.before})"
                                        if s.before != block["before"] else ""))
            for name, cp in block["change_points"]:
                lines.append(f"  change point: {name} mean {format_pct(cp.change)} "
                             f"from here on (p {format_p(cp.p_value)})")
            for d in block["diffs"]:
                lines.append(f"  changed ({d.kind}): {d}")
        overall = [t.marked_overall() for t in series.paths if t.marked_overall()]
        if overall:
            lines.append(f"over the whole series ({series.kernels[0]} -> "
                         f"{series.kernels[-1]}):")
            lines += [_step_line(s, f" ({s.before} -> {s.after})"
                                 if (s.before, s.after) != (series.kernels[0],
                                                            series.kernels[-1]) else "")
                      for s in overall]
        skips = skip_lines(series)
        if skips:
            lines.append("skipped:")
            lines += [f"  {line}" for line in skips]
        if len(series.kernels) == 1:
            lines.append("note: one kernel only; add runs of other kernels to see a trend "
                         "(`sysgate compare` compares runs of one kernel)")
        pooled = {k: len(ids) for k, ids in series.pooled_ids.items() if len(ids) > 1}
        if pooled:
            lines += packed("note: runs pooled per kernel:",
                             [f"{k} ({n} runs)" for k, n in pooled.items()], WIDTH)
        if series.excluded:
            lines.append(f"note: {len(series.excluded)} run(s) with other boot options or "
                         "conditions than the newest left out:")
            lines += [f"  #{run_id} ({kernel}): {why}" for kernel, run_id, why in
                      series.excluded[:EXCLUDED_SHOWN]]
            if len(series.excluded) > EXCLUDED_SHOWN:
                lines.append(f"  and {len(series.excluded) - EXCLUDED_SHOWN} more "
                             "(the page lists them all)")
    return "\n".join(lines)


def plot_overview(series, against=FIRST):
    """Paths x kernels, each cell the change of the figure against the first (or the
    previous) kernel, in the spirit of LEBench's figure across kernel versions; marked
    steps outlined, change points a bar on the cell's left edge. None for one kernel."""
    if len(series.kernels) < 2:
        return None
    import numpy
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import PercentFormatter

    changes = relative_changes(series, against)
    paths = [t for t in series.paths if t.points]
    if not paths:
        return None
    n_rows, n_cols = len(paths), len(series.kernels)
    grid = numpy.full((n_rows, n_cols), numpy.nan)
    for i, trend in enumerate(paths):
        for j, kernel in enumerate(series.kernels):
            if kernel in changes[trend.name]:
                grid[i, j] = changes[trend.name][kernel]
    fig = figure.new()
    label_in = max(len(t.name) for t in paths) * 0.068 + 0.2
    cell_w = min(1.3, max(0.12, (figure.PAGE_WIDTH_IN - label_in - 1.0) / n_cols))
    width = max(6.5, label_in + cell_w * n_cols + 1.0)
    ticks_in = 1.1 if n_cols <= 20 else 1.3  # rotated kernel names under the cells
    height = 0.22 * n_rows + ticks_in + 0.55
    fig.set_size_inches(width, height)
    ax = fig.add_axes([label_in / width, ticks_in / height, cell_w * n_cols / width,
                       0.22 * n_rows / height])
    bar = fig.add_axes([(label_in + cell_w * n_cols + 0.15) / width, ticks_in / height,
                        0.15 / width, 0.22 * n_rows / height])
    norm = TwoSlopeNorm(vmin=-HEATMAP_LIMIT, vcenter=0.0, vmax=HEATMAP_LIMIT)
    image = ax.imshow(numpy.clip(grid, -HEATMAP_LIMIT, HEATMAP_LIMIT), cmap="RdBu_r",
                      norm=norm, aspect="auto", interpolation="nearest")
    ax.set_facecolor("#e6e6e6")  # not measured or skipped
    show_text = n_cols <= HEATMAP_TEXT_KERNELS
    for i, trend in enumerate(paths):
        verdicts = {s.after: s.change.verdict for s in trend.marked()}
        points = {k for k, _ in trend.change_points}
        for j, kernel in enumerate(series.kernels):
            value = grid[i, j]
            if numpy.isnan(value):
                if show_text and kernel in trend.skipped:
                    ax.text(j, i, "skipped", ha="center", va="center", fontsize=6,
                            color="#666666")
                continue
            if show_text:
                first = kernel == next(k for k in series.kernels if k in trend.points)
                label = (units.with_unit(trend.points[kernel].value) if first and
                         against == FIRST else format_pct(value))
                ax.text(j, i, label, ha="center", va="center", fontsize=6.5,
                        color="white" if abs(value) > HEATMAP_LIMIT * 0.6 else "#222222")
            if kernel in verdicts:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, linewidth=1.8,
                                       edgecolor="#7a0000" if verdicts[kernel] == REGRESSION
                                       else "#00451f"))
            if kernel in points:
                ax.plot([j - 0.47, j - 0.47], [i - 0.45, i + 0.45], color="black",
                        linewidth=2.5, solid_capstyle="butt")
    ax.set_xticks(range(n_cols), [names.text(k) for k in series.kernels],
                  rotation=30 if n_cols <= 20 else 90,
                  ha="right" if n_cols <= 20 else "center", fontsize=7)
    ax.set_yticks(range(n_rows), [names.text(t.name) for t in paths], fontsize=7.5)
    ax.tick_params(length=0)
    colourbar = fig.colorbar(image, cax=bar)
    colourbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    colourbar.ax.tick_params(labelsize=7)
    what = "the first kernel" if against == FIRST else "the kernel before"
    fig.suptitle(f"Change of the low-quarter mean against {what}: red slower, blue faster "
                 f"(saturated at ±{HEATMAP_LIMIT:.0%})\noutlined: a marked step; black bar on "
                 "a cell's left edge: a change point", x=0.01, ha="left", fontsize=9,
                 y=1 - 0.06 / height, va="top")
    return fig


def plot_multiples(series):
    """Small multiples: one panel per path measured on at least two kernels (figure with
    its interval, marked steps, change points); None when no path has two."""
    trends = [t for t in series.paths if len(t.points) >= 2]
    if not trends:
        return None
    columns = 4
    rows = -(-len(trends) // columns)
    fig = figure.new()
    fig.set_size_inches(figure.PAGE_WIDTH_IN, 2.3 * rows + 0.3)
    axes = fig.subplots(rows, columns, squeeze=False)
    fig.subplots_adjust(left=0.05, right=0.99, top=1 - 0.35 / (2.3 * rows + 0.3),
                        bottom=0.9 / (2.3 * rows + 0.3),
                        hspace=0.5 if len(series.kernels) > 8 else 0.9, wspace=0.3)
    xs = {k: i for i, k in enumerate(series.kernels)}
    for ax, trend in zip(axes.flat, trends):
        _plot_one(ax, series, trend, xs)
    for ax in list(axes.flat)[len(trends):]:
        ax.set_axis_off()
    return fig


def _plot_one(ax, series, trend, xs):
    points = [trend.points[k] for k in series.kernels if k in trend.points]
    x = [xs[p.kernel] for p in points]
    y = [p.value for p in points]
    err = [[max(p.value - p.ci[0], 0) for p in points],
           [max(p.ci[1] - p.value, 0) for p in points]]
    ax.errorbar(x, y, yerr=err, fmt="o-", color="#2c6fbb", capsize=2, linewidth=1,
                markersize=3)
    for step in trend.marked():
        c = step.change
        regression = c.verdict == REGRESSION
        colour = "#c0392b" if regression else "#1e8449"
        ax.plot(xs[step.after], c.new_value, marker="^" if regression else "v",
                markersize=8, zorder=3, color=colour, linestyle="none")
        ax.annotate(format_pct(c.change), (xs[step.after], c.new_value),
                    textcoords="offset points", xytext=(5, 4), fontsize=7, color=colour)
    for kernel, _ in trend.change_points:
        ax.axvline(xs[kernel] - 0.5, color="black", linestyle="--", linewidth=1)
    for before, after, diffs in series.env_changes:
        if any(d.kind in (envdiff.BOOT, envdiff.MACHINE) for d in diffs):
            ax.axvline((xs[before] + xs[after]) / 2, color="#999999", linestyle=":",
                       linewidth=1)
    if len(series.kernels) > 8:
        # Too many to name in a panel: name the first and the last (the overview names
        # them all); a tick per kernel would also cost the page a second to draw.
        last = len(series.kernels) - 1
        ax.set_xticks([0, last], [names.text(series.kernels[0]),
                                  names.text(series.kernels[last])], fontsize=6)
        for label, align in zip(ax.get_xticklabels(), ("left", "right")):
            label.set_horizontalalignment(align)
    else:
        ax.set_xticks(range(len(series.kernels)), [names.text(k) for k in series.kernels],
                      rotation=30, ha="right", fontsize=6)
    ax.set_xlim(-0.5, len(series.kernels) - 0.5)
    ax.set_title(names.text(trend.name), fontsize=8, loc="left")
    ax.tick_params(axis="y", labelsize=6)
    low = min(p.ci[0] for p in points)
    high = max(p.ci[1] for p in points)
    pad = (high - low) * 0.15 or high * 0.05 or 1
    ax.set_ylim(max(0, low - pad), high + pad)
    ax.grid(alpha=0.3)


_CHARTS = {"entry": lambda series, against: trend_entry.plot(series.entry, series.title),
           "overview": plot_overview, "paths": lambda series, against: plot_multiples(series)}


def _draw(job):
    """Draws one chart of one series into the folder: its file name, or None when there
    is nothing to draw."""
    series, which, out, against = job
    figure = _CHARTS[which](series, against)
    if figure is None:
        return None
    name = f"trend_{series.slug}_{which}.png"
    atomic.save_figure(figure, out / name, pil_kwargs={"compress_level": 1})
    return name


def write_outputs(all_series, out_dir, alpha, threshold_pct, against=FIRST, jobs=None):
    """trend.html and its charts, each chart drawn in its own process where there are
    CPUs for them."""
    out = Path(out_dir)
    try:
        atomic.retire(out / "trend.html")  # no stale page after a failure
        charts = [(s, which, out, against) for s in all_series for which in _CHARTS]
        if parallel.workers_for(charts, jobs) > 1:
            import matplotlib  # imported before forking, so the workers start with it
            matplotlib.use("Agg")
            import matplotlib.figure  # noqa: F401
        names = iter(parallel.map_forked(_draw, charts, jobs))
        drawn = [(next(names), next(names), next(names)) for _ in all_series]
        pages = []
        for series, (entry, overview, multiples) in zip(all_series, drawn):
            header, _ = table(series)
            pages.append({"series": series, "header": header, "rows": page_rows(series),
                          "blocks": step_lines(series), "overview": overview,
                          "entry": entry,
                          "entry_lines": trend_entry.lines(series.entry, WIDTH),
                          "overall": [t.marked_overall() for t in series.paths
                                      if t.marked_overall()],
                          "multiples": multiples,
                          "single": [t.name for t in series.paths if len(t.points) == 1]})
        html = template_env.environment().get_template(TEMPLATE).render(
            pages=pages, alpha=alpha, threshold=threshold_pct, format_pct=format_pct,
            format_p=format_p, p_relation=p_relation, against=against,
            cp_alpha=thresholds.CHANGEPOINT_ALPHA,
        )
        atomic.write_text(out / "trend.html", html)
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
    return out / "trend.html"


# --- CLI -------------------------------------------------------------------------------


def _cmd_trend(args):
    atomic.check_writable_folder(args.output, "-o")
    all_series = build_series_at(args.db, args.host, args.alpha, args.threshold,
                                 args.allow_emulated, args.jobs)
    print(render_terminal(all_series, args.alpha, args.threshold))
    page = write_outputs(all_series, args.output, args.alpha, args.threshold, args.against,
                         args.jobs)
    print(f"report: {page}", file=sys.stderr)
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "trend", help="each path over kernel versions, from the history store",
        description="Draw each path's cost over kernel versions (per host) from the "
                    "history store, mark significant steps and list what else changed.",
    )
    parser.add_argument("--host", help="only this host (name or fingerprint); default all")
    parser.add_argument("-o", "--output", metavar="DIR", type=Path, default=DEFAULT_OUT,
                        help="write trend.html and its PNG charts here "
                             f"(default {DEFAULT_OUT.relative_to(store.REPO_ROOT)})")
    parser.add_argument("--threshold", type=validate.non_negative, metavar="PCT",
                        default=thresholds.THRESHOLD_PCT,
                        help="smallest step of the figure to mark, in percent "
                             f"(default {thresholds.THRESHOLD_PCT:g})")
    parser.add_argument("--alpha", type=arguments.probability, default=thresholds.ALPHA,
                        help=f"significance level of a step (default {thresholds.ALPHA:g})")
    parser.add_argument("--against", choices=(FIRST, PREVIOUS), default=FIRST,
                        help="colour the overview by the change against the first kernel "
                             "(default) or the kernel before")
    parser.add_argument("-j", "--jobs", type=validate.positive_int, metavar="N",
                        help="processes for the series, one host each (default: the CPUs)")
    parser.add_argument("--allow-emulated", action="store_true",
                        help="put emulated (TCG) and hardware runs of a host in one series")
    arguments.add_db_argument(parser)
    parser.set_defaults(func=_cmd_trend)


