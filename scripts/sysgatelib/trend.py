"""`sysgate trend`: each path's cost over kernel versions, per host, from the history store.

A series is one host (its fingerprint: name, CPU, hypervisor) and one kind of timing
(hardware or emulated: they never share a chart unless --allow-emulated). In a series the
kernels are ordered by version (kversion), and each kernel is represented by its runs
that share the newest one's setup (boot options, conditions), pooled so that run-to-run
variation counts. For each path: the median of the repetitions with its 95% bootstrap
interval per kernel, and between consecutive kernels the same test `sysgate compare`
applies (Mann-Whitney U, a minimum effect, the interval on one side of zero), so a marked
step means what a failing compare would mean. Beside the steps: what else changed
(mitigations, boot options, microcode).
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import atomic, envdiff, names, stats, store, units, validate
from .compare import (
    DEFAULT_ALPHA, DEFAULT_THRESHOLD_PCT, IMPROVEMENT, REGRESSION, compare_groups,
    format_p, format_pct, median_ci_runs, p_relation, template_environment,
)
from .errors import UserError

TEMPLATE = "trend_page.html.j2"
DEFAULT_OUT = store.REPO_ROOT / "reports" / "trend"


@dataclass
class Point:
    kernel: str
    run_id: int
    median: float
    ci: tuple
    n: int  # repetitions, all pooled runs together
    runs: int = 1


@dataclass
class Step:
    before: str  # kernel releases
    after: str
    path: str
    change: object  # compare.Change


@dataclass
class PathTrend:
    name: str
    mechanism: str
    points: dict = field(default_factory=dict)  # kernel -> Point
    steps: list = field(default_factory=list)  # Step, consecutive measured kernels
    skipped: dict = field(default_factory=dict)  # kernel -> reason

    def marked(self):
        return [s for s in self.steps if s.change.verdict in (REGRESSION, IMPROVEMENT)]


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

    @property
    def title(self):
        return f"{self.host_name}" + (" (emulated)" if self.emulated else "")

    @property
    def slug(self):
        text = f"{self.host_name}-{self.fingerprint[:6]}" + ("-emulated" if self.emulated else "")
        return _slug(text)


def _slug(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "x"


def build_series(conn, host=None, alpha=DEFAULT_ALPHA, threshold_pct=DEFAULT_THRESHOLD_PCT,
                 allow_emulated=False):
    runs = store.list_runs(conn, host=host)
    if not runs:
        raise UserError(
            ("no runs of host " + host if host else "no runs") + " in the history store; "
            "add some with `sysgate history add RESULTS.json`"
        )
    groups = {}
    for run in runs:
        key = (run.host_fingerprint,) if allow_emulated else (run.host_fingerprint, run.emulated)
        groups.setdefault(key, []).append(run)
    series = []
    for group in groups.values():
        by_kernel = {}
        for run in group:
            by_kernel.setdefault(run.kernel_release, []).append(run)
        kernels = sorted(by_kernel, key=lambda k: by_kernel[k][0].kernel_key)
        pooled = {}
        for kernel in kernels:
            runs = sorted(by_kernel[kernel], key=lambda r: (r.date, r.id), reverse=True)
            pooled[kernel] = [r for r in runs if store.same_setup(runs[0].context, r.context)]
        loaded = {k: store.load_runs(conn, [r.id for r in pooled[k]], counters=False)
                  for k in kernels}
        series.append(_series(group[0], kernels, pooled, by_kernel, loaded, alpha,
                              threshold_pct / 100.0))
    series.sort(key=lambda s: (s.host_name, s.emulated))
    return series


def _series(first, kernels, pooled, by_kernel, loaded, alpha, threshold):
    names = []
    for kernel in kernels:
        for run in loaded[kernel]:
            names += [n for n in run.paths if n not in names]
    trends = []
    for name in names:
        trend = PathTrend(name=name, mechanism="")
        previous = None
        for kernel in kernels:
            found = [run.paths[name] for run in loaded[kernel] if name in run.paths]
            if not found:
                continue
            trend.mechanism = trend.mechanism or found[0].mechanism
            groups = [path.samples_ns for path in found if path.samples_ns]
            if not groups:
                trend.skipped[kernel] = found[0].skipped or "not measured"
                continue
            pooled_samples = [x for g in groups for x in g]
            trend.points[kernel] = Point(kernel, pooled[kernel][0].id,
                                         stats.median(pooled_samples), median_ci_runs(groups),
                                         len(pooled_samples), len(groups))
            if previous is not None:
                before_kernel, before_groups = previous
                change = compare_groups(before_groups, groups, alpha, threshold)
                trend.steps.append(Step(before_kernel, kernel, name, change))
            previous = (kernel, groups)
        trends.append(trend)
    env_changes = []
    for before, after in zip(kernels, kernels[1:]):
        diffs = envdiff.differences(loaded[before][0].context, loaded[after][0].context)
        env_changes.append((before, after, [d for d in diffs if d.key != "kernel_release"]))
    return Series(
        host_name=first.host_name, fingerprint=first.host_fingerprint, emulated=first.emulated,
        kernels=kernels, run_ids={k: pooled[k][0].id for k in kernels},
        pooled_ids={k: [r.id for r in pooled[k]] for k in kernels},
        other_runs={k: len(by_kernel[k]) - len(pooled[k]) for k in kernels}, paths=trends,
        env_changes=env_changes,
    )


# --- presentation ----------------------------------------------------------------------


def _cell(trend, kernel):
    point = trend.points.get(kernel)
    if point is None:
        return "skipped" if kernel in trend.skipped else "-"
    text = units.ns(point.median)
    step = next((s for s in trend.steps if s.after == kernel), None)
    if step and step.change.verdict == REGRESSION:
        text += f" {format_pct(step.change.change)} REG"
    elif step and step.change.verdict == IMPROVEMENT:
        text += f" {format_pct(step.change.change)} IMP"
    return text


def table(series):
    header = ("path",) + tuple(series.kernels)
    rows = [(t.name,) + tuple(_cell(t, k) for k in series.kernels) for t in series.paths]
    return header, rows


def step_lines(series):
    """Per pair of consecutive kernels: the marked steps and the environment changes."""
    blocks = []
    for before, after, diffs in series.env_changes:
        steps = [s for t in series.paths for s in t.marked() if s.after == after]
        # A path absent from `before` steps from an older kernel: attribute it to `after`.
        steps = [s for s in steps if s.before == before] + [
            s for s in steps if s.before != before
        ]
        blocks.append({"before": before, "after": after, "steps": steps, "diffs": diffs})
    return blocks


def render_terminal(all_series, alpha, threshold_pct):
    lines = [
        f"a step is marked when p < {alpha:g} (Mann-Whitney U) and the median moved by at "
        f"least {threshold_pct:g}%; REG = slower, IMP = faster; figures are ns per call"
    ]
    for series in all_series:
        lines += ["", f"== {series.title}, {len(series.kernels)} kernel(s), host "
                      f"{series.fingerprint} =="]
        header, rows = table(series)
        lines.append(store.format_table(header, rows, right=set(range(1, len(header)))))
        for block in step_lines(series):
            if not block["steps"] and not block["diffs"]:
                continue
            lines.append(f"{block['before']} -> {block['after']}:")
            for s in block["steps"]:
                c = s.change
                lines.append(
                    f"  {c.verdict}: {s.path} {format_pct(c.change)} "
                    f"[{format_pct(c.ci_low)}, {format_pct(c.ci_high)}] p{p_relation(c.p_value)}"
                    + (f" (since {s.before})" if s.before != block["before"] else "")
                )
            for d in block["diffs"]:
                lines.append(f"  changed ({d.kind}): {d}")
        if len(series.kernels) == 1:
            lines.append("note: one kernel only; add runs of other kernels to see a trend "
                         "(`sysgate compare` compares runs of one kernel)")
        pooled = {k: len(ids) for k, ids in series.pooled_ids.items() if len(ids) > 1}
        if pooled:
            lines.append("note: runs pooled per kernel: " + ", ".join(
                f"{k} ({n} runs)" for k, n in pooled.items()))
        extra = {k: n for k, n in series.other_runs.items() if n}
        if extra:
            lines.append(
                "note: runs with other boot options or conditions than the newest left out: "
                + ", ".join(
                    f"{k} ({n})" for k, n in extra.items()
                )
            )
    return "\n".join(lines)


def plot_path(series, trend):
    """One path over the kernels: median with its interval, steps marked; a Figure."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(4.5, 1.1 * len(series.kernels) + 2), 3.4), layout="constrained")
    ax = fig.add_subplot()
    xs = {k: i for i, k in enumerate(series.kernels)}
    points = [trend.points[k] for k in series.kernels if k in trend.points]
    x = [xs[p.kernel] for p in points]
    y = [p.median for p in points]
    err = [[max(p.median - p.ci[0], 0) for p in points],
           [max(p.ci[1] - p.median, 0) for p in points]]
    ax.errorbar(x, y, yerr=err, fmt="o-", color="#2c6fbb", capsize=3, linewidth=1.2,
                label="median, 95% CI")
    for step in trend.marked():
        c = step.change
        regression = c.verdict == REGRESSION
        color = "#c0392b" if regression else "#1e8449"
        ax.plot(xs[step.after], c.new_median, marker="^" if regression else "v",
                markersize=11, zorder=3, color=color, linestyle="none")
        ax.annotate(format_pct(c.change), (xs[step.after], c.new_median),
                    textcoords="offset points", xytext=(8, 6), fontsize=8, color=color)
    for before, after, diffs in series.env_changes:
        if any(d.kind in (envdiff.BOOT, envdiff.MACHINE) for d in diffs):
            ax.axvline((xs[before] + xs[after]) / 2, color="#999999", linestyle=":",
                       linewidth=1)
    for kernel in trend.skipped:
        ax.annotate("skipped", (xs[kernel], 0), xycoords=("data", "axes fraction"),
                    xytext=(0, 4), textcoords="offset points", ha="center", fontsize=7,
                    color="#777777")
    ax.set_xticks(range(len(series.kernels)), [names.text(k) for k in series.kernels],
                  rotation=30, ha="right", fontsize=8)
    ax.set_xlim(-0.5, len(series.kernels) - 0.5)
    ax.set_ylabel("ns per call")
    ax.set_title(names.text(f"{trend.name} on {series.title}"), fontsize=10)
    if y:
        low = min(p.ci[0] for p in points)
        high = max(p.ci[1] for p in points)
        pad = (high - low) * 0.15 or high * 0.05 or 1
        ax.set_ylim(max(0, low - pad), high + pad)
    ax.grid(alpha=0.3)
    return fig


def write_outputs(all_series, out_dir, alpha, threshold_pct):
    out = Path(out_dir)
    try:
        atomic.retire(out / "trend.html")  # no stale page after a failure
        pages = []
        for series in all_series:
            charts = []
            for trend in series.paths:
                if not trend.points:
                    continue
                name = f"trend_{series.slug}_{names.slug(trend.name)}.png"
                atomic.save_figure(plot_path(series, trend), out / name, dpi=100)
                charts.append({"file": name, "path": trend.name, "marked": bool(trend.marked())})
            header, rows = table(series)
            pages.append({"series": series, "header": header, "rows": rows,
                          "blocks": step_lines(series), "charts": charts})
        html = template_environment().get_template(TEMPLATE).render(
            pages=pages, alpha=alpha, threshold=threshold_pct, format_pct=format_pct,
            format_p=format_p, p_relation=p_relation,
        )
        atomic.write_text(out / "trend.html", html)
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
    return out / "trend.html"


# --- CLI -------------------------------------------------------------------------------


def _cmd_trend(args):
    if args.threshold < 0 or not 0 < args.alpha < 1:
        raise UserError("--threshold must be >= 0 and --alpha between 0 and 1")
    conn = store.open_store(args.db)
    try:
        all_series = build_series(conn, args.host, args.alpha, args.threshold,
                                  args.allow_emulated)
    finally:
        conn.close()
    print(render_terminal(all_series, args.alpha, args.threshold))
    page = write_outputs(all_series, args.output, args.alpha, args.threshold)
    print(f"report: {page}", file=sys.stderr)
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "trend", help="each path over kernel versions, from the history store",
        description="Draw each path's median over kernel versions (per host) from the "
                    "history store, mark significant steps and list what else changed.",
    )
    parser.add_argument("--host", help="only this host (name or fingerprint); default all")
    parser.add_argument("-o", "--output", metavar="DIR", type=Path, default=DEFAULT_OUT,
                        help="write trend.html and its PNG charts here "
                             f"(default {DEFAULT_OUT.relative_to(store.REPO_ROOT)})")
    parser.add_argument("--threshold", type=validate.non_negative, metavar="PCT",
                        default=DEFAULT_THRESHOLD_PCT,
                        help="smallest step of the median to mark, in percent "
                             f"(default {DEFAULT_THRESHOLD_PCT:g})")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help=f"significance level of the U test (default {DEFAULT_ALPHA:g})")
    parser.add_argument("--allow-emulated", action="store_true",
                        help="put emulated (TCG) and hardware runs of a host in one series")
    store.add_db_argument(parser)
    parser.set_defaults(func=_cmd_trend)


