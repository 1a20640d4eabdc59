"""`sysgate compare BASE NEW`: did the kernel make a path slower, with a verdict CI can use.

Per path, over the repetition samples (one ns-per-call figure per repetition):

- change: median(NEW) / median(BASE) - 1;
- its 95% bootstrap confidence interval (scipy.stats.bootstrap, both samples resampled
  independently, percentile method, fixed seed so a rerun prints the same interval);
- the two-sided Mann-Whitney U p-value (scipy.stats.mannwhitneyu): no assumption of
  normality, robust to the odd slow repetition a VM produces;
- the p-values of all paths compared are Holm-Bonferroni adjusted, so alpha bounds the
  chance of *any* false verdict in the comparison, not of each of 50-odd paths (at 0.01
  per path, an A/A comparison of 52 paths would flag one about every second time);
- the verdict: "regression" or "improvement" only when the adjusted p < alpha (default
  0.01) AND the change is at least the threshold (default 2%) in size. Significant but
  smaller changes are "no change": a 0.5% shift that 100 repetitions can resolve is not a
  CI failure.

Exit status: 0 no regression, 1 at least one regression, 2 bad input (UserError).
docs/regressions.md explains the choices.
"""

import dataclasses
import json
import math
import os
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import atomic, envdiff, names, stats, store, units, validate
from .errors import UserError

REGRESSION, IMPROVEMENT, NO_CHANGE = "regression", "improvement", "no change"
DEFAULT_ALPHA = 0.01
DEFAULT_THRESHOLD_PCT = 2.0
CONFIDENCE = 0.95
_RESAMPLES = 4000
_SEED = 20240511
TEMPLATE = "compare_page.html.j2"
# Not kernel entry paths: shown, but kept out of the geometric mean.
_CONTROL_FAMILIES = ("baseline",)
# Above this coefficient of variation of the repetitions, a run is too noisy to trust.
_CV_WARN = 0.05


@dataclass
class Change:
    """The comparison of two sample sets."""

    base_median: float
    new_median: float
    change: float  # fraction: 0.05 = 5% slower
    ci_low: float
    ci_high: float
    p_value: float  # Holm-adjusted over the paths of a comparison (compare_runs)
    verdict: str
    p_raw: float = math.nan  # the path's own U-test p-value, before the adjustment


@dataclass
class PathRow:
    name: str
    mechanism: str
    base: list = field(default_factory=list)
    new: list = field(default_factory=list)
    result: Change | None = None
    base_ci: tuple = (math.nan, math.nan)
    new_ci: tuple = (math.nan, math.nan)
    note: str = ""  # why there is no result: skipped, missing on one side


@dataclass
class Comparison:
    base_label: str
    new_label: str
    base_source: str
    new_source: str
    alpha: float
    threshold: float  # fraction
    rows: list
    geomean_change: float
    geomean_paths: int
    warnings: list
    differences: list
    notes: list = field(default_factory=list)

    def with_verdict(self, verdict):
        return [r for r in self.rows if r.result and r.result.verdict == verdict]

    @property
    def regressions(self):
        return self.with_verdict(REGRESSION)

    @property
    def improvements(self):
        return self.with_verdict(IMPROVEMENT)


def min_p_value(n_base, n_new):
    """The smallest two-sided p-value Mann-Whitney U can give for these sample sizes."""
    return min(1.0, 2.0 / math.comb(n_base + n_new, n_base)) if n_base and n_new else 1.0


def median_ci(samples, confidence=CONFIDENCE, seed=_SEED):
    """Bootstrap CI of the median: stats.bootstrap_median_ci's method (percentile, 2000
    resamples), vectorized with numpy, about 20x faster; compare and trend call it per
    path and per run."""
    import numpy as np
    from scipy import stats as sps

    if len(samples) < 2 or len(set(samples)) < 2:
        value = stats.median(samples)
        return (value, value)
    result = sps.bootstrap(
        (np.asarray(samples, dtype=float),), np.median, vectorized=True,
        confidence_level=confidence, n_resamples=2000, method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def compare_samples(base, new, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD_PCT / 100,
                    confidence=CONFIDENCE, seed=_SEED):
    """Change of the median from base to new, its bootstrap CI, the U test and the verdict.

    base and new are the repetition samples of one run each."""
    return compare_groups([base], [new], alpha, threshold, confidence, seed)


def compare_groups(base_runs, new_runs, alpha=DEFAULT_ALPHA,
                   threshold=DEFAULT_THRESHOLD_PCT / 100, confidence=CONFIDENCE, seed=_SEED):
    """Like compare_samples, over several runs per side (a list of sample lists per side).

    The median and the U test use the repetitions of all runs pooled. The interval is a
    bootstrap of the change; with several runs on a side it is hierarchical (resample the
    runs, then the repetitions of each), so it widens by the run-to-run variation that no
    single run can show. The verdict needs p < alpha, a change of at least the threshold,
    and the interval on the same side of zero.
    """
    import numpy as np
    from scipy import stats as sps

    base_runs = [[float(x) for x in run] for run in base_runs if len(run)]
    new_runs = [[float(x) for x in run] for run in new_runs if len(run)]
    base = [x for run in base_runs for x in run]
    new = [x for run in new_runs for x in run]
    if not base or not new:
        raise ValueError("compare_groups needs samples on both sides")
    base_median, new_median = statistics.median(base), statistics.median(new)
    change = new_median / base_median - 1.0 if base_median > 0 else math.nan
    if len(base) < 2 or len(new) < 2 or len(set(base) | set(new)) < 2:
        low = high = change
        p_value = 1.0
    elif len(base_runs) == 1 and len(new_runs) == 1:
        def ratio(b, n, axis=-1):
            return np.median(n, axis=axis) / np.median(b, axis=axis) - 1.0

        boot = sps.bootstrap(
            (np.asarray(base), np.asarray(new)), ratio, paired=False, vectorized=True,
            n_resamples=_RESAMPLES, confidence_level=confidence, method="percentile",
            random_state=np.random.default_rng(seed),
        )
        low, high = float(boot.confidence_interval.low), float(boot.confidence_interval.high)
        p_value = float(sps.mannwhitneyu(base, new, alternative="two-sided").pvalue)
    else:
        rng = np.random.default_rng(seed)
        ratios = (_resampled_medians(new_runs, _RESAMPLES, rng)
                  / _resampled_medians(base_runs, _RESAMPLES, rng) - 1.0)
        tail = (1.0 - confidence) / 2 * 100
        low, high = (float(v) for v in np.percentile(ratios, [tail, 100 - tail]))
        p_value = float(sps.mannwhitneyu(base, new, alternative="two-sided").pvalue)
    verdict = _verdict(change, low, high, p_value, alpha, threshold)
    return Change(base_median, new_median, change, low, high, p_value, verdict, p_value)


def _verdict(change, low, high, p_value, alpha, threshold):
    """Significance, a large enough change, and the interval on the same side of zero."""
    significant = p_value < alpha
    if significant and change >= threshold and low > 0:
        return REGRESSION
    if significant and change <= -threshold and high < 0:
        return IMPROVEMENT
    return NO_CHANGE


def holm_adjust(p_values):
    """Holm-Bonferroni step-down adjusted p-values (Holm 1979, Scand. J. Statist. 6:65),
    in the order given: the k-th smallest of m is multiplied by m-k+1, then made
    non-decreasing. Written out because Debian bookworm's scipy (1.10) has no
    multiple-testing helper (scipy.stats.false_discovery_control came in 1.11)."""
    m = len(p_values)
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _resampled_medians(runs, resamples, rng):
    """Medians of a two-level bootstrap: runs drawn with replacement, then the repetitions
    of each drawn run. scipy.stats.bootstrap has no hierarchical mode, hence numpy."""
    import numpy as np

    count, longest = len(runs), max(len(run) for run in runs)
    picks = rng.integers(0, count, size=(resamples, count))
    drawn = np.full((resamples, count, longest), np.nan)
    for slot in range(count):
        for index, run in enumerate(runs):
            rows = np.nonzero(picks[:, slot] == index)[0]
            if rows.size:
                values = np.asarray(run)
                drawn[rows, slot, : len(run)] = values[
                    rng.integers(0, len(run), size=(rows.size, len(run)))
                ]
    return np.nanmedian(drawn.reshape(resamples, -1), axis=1)


def median_ci_runs(runs, confidence=CONFIDENCE, seed=_SEED):
    """Interval of the pooled median of one or several runs (hierarchical with several)."""
    import numpy as np

    runs = [list(run) for run in runs if len(run)]
    if len(runs) == 1:
        return median_ci(runs[0], confidence, seed)
    medians = _resampled_medians(runs, 2000, np.random.default_rng(seed))
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(medians, [tail, 100 - tail])
    return (float(low), float(high))


def compare_runs(base, new, alpha=DEFAULT_ALPHA, threshold_pct=DEFAULT_THRESHOLD_PCT,
                 allow_emulated=False):
    """Compare two sides path by path; raise UserError when they must not be compared.

    Each side is a load.Run or a list of them (several runs of one kernel, the first is
    the side's representative for its environment)."""
    base_runs = list(base) if isinstance(base, (list, tuple)) else [base]
    new_runs = list(new) if isinstance(new, (list, tuple)) else [new]
    if not base_runs or not new_runs:
        raise UserError("compare needs at least one run on each side")
    everything = base_runs + new_runs
    if len({run.emulated for run in everything}) > 1 and not allow_emulated:
        which = next(run.source for run in everything if run.emulated)
        raise UserError(
            f"{which}: an emulated (TCG) run cannot be compared with a hardware run; "
            "emulated timings are not hardware timings (--allow-emulated to do it anyway)"
        )
    base, new = base_runs[0], new_runs[0]
    warnings, notes = [], []
    if any(run.emulated for run in everything):
        warnings.append(
            "emulated run: timings come from a software-emulated CPU (TCG), not hardware; "
            "use them to see that paths work, not for their cost"
        )
    for run in everything:
        if not run.is_sysgate:
            warnings.append(
                f"{run.source}: not a sysgate results file; its environment is unknown, "
                "so nothing says the two runs differ only in the kernel"
            )
    diffs = envdiff.differences(base.context, new.context)
    warnings += envdiff.warnings(diffs)
    for side, runs in (("base", base_runs), ("new", new_runs)):
        inner = [d for other in runs[1:] for d in envdiff.differences(runs[0].context,
                                                                      other.context)
                 if d.kind in (envdiff.MACHINE, envdiff.BOOT) or d.key == "kernel_release"]
        if inner:
            warnings.append(
                f"the {side} runs differ among themselves ("
                + "; ".join(sorted({str(d) for d in inner})) + "): pool runs of one kernel "
                "on one machine with one command line"
            )
    if len(base_runs) == 1 and len(new_runs) == 1:
        notes.append(
            "one run per side: the interval and the U test see the variation within a run "
            "only; between runs (another boot, another load phase of a VM host) it can be "
            "larger. Give several runs per side (a.json,b.json or a kernel release with "
            "several runs in the store), or check the threshold with an A/A pair"
        )

    threshold = threshold_pct / 100.0
    rows, names = [], []
    for run in everything:
        names += [n for n in run.paths if n not in names]
    for name in names:
        b = next((r.paths[name] for r in base_runs if name in r.paths), None)
        n = next((r.paths[name] for r in new_runs if name in r.paths), None)
        row = PathRow(name=name, mechanism=(b or n).mechanism or (n or b).mechanism)
        base_groups = [r.paths[name].samples_ns for r in base_runs
                       if name in r.paths and r.paths[name].samples_ns]
        new_groups = [r.paths[name].samples_ns for r in new_runs
                      if name in r.paths and r.paths[name].samples_ns]
        row.base = [x for g in base_groups for x in g]
        row.new = [x for g in new_groups for x in g]
        if row.base and row.new:
            row.result = compare_groups(base_groups, new_groups, alpha, threshold)
            row.base_ci = median_ci_runs(base_groups)
            row.new_ci = median_ci_runs(new_groups)
        else:
            row.note = _why_missing(b, n)
        rows.append(row)

    compared = [r for r in rows if r.result]
    if not compared:
        raise UserError(
            f"{base.source} and {new.source}: no path is measured in both runs"
        )
    adjusted = holm_adjust([r.result.p_value for r in compared])
    for row, p_value in zip(compared, adjusted):
        c = row.result
        row.result = dataclasses.replace(
            c, p_value=p_value,
            verdict=_verdict(c.change, c.ci_low, c.ci_high, p_value, alpha, threshold))
    smallest = min(min(len(r.base), len(r.new)) for r in compared)
    floor = min(min_p_value(len(r.base), len(r.new)) for r in compared) * len(compared)
    if floor >= alpha:
        warnings.append(
            f"with {smallest} repetitions and {len(compared)} paths no adjusted p-value can "
            f"fall below alpha {alpha:g} (the smallest possible is {min(floor, 1):.3g}), so "
            "nothing can be flagged; run more repetitions (10 or more) or fewer paths "
            "(--filter when running)"
        )
    warnings += _stability_warnings(compared)
    lost = [r for r in rows if r.base and not r.new]
    if lost:
        warnings.append(
            "measured in the base run but not in the new one: "
            + ", ".join(f"{r.name} ({r.note})" for r in lost)
        )
    ratios = [
        1.0 + r.result.change for r in compared
        if r.name.split("/", 1)[0] not in _CONTROL_FAMILIES and r.result.change > -1.0
    ]
    if ratios:
        from scipy.stats import gmean

        geomean = float(gmean(ratios)) - 1.0
    else:
        geomean = math.nan
    base_label, new_label = _label(base_runs), _label(new_runs)
    if base_label == new_label:  # runs of one kernel: tell them apart on the chart
        base_label = f"{base_label} ({os.path.basename(base.source)})"
        new_label = f"{new_label} ({os.path.basename(new.source)})"
    return Comparison(
        base_label=base_label, new_label=new_label, base_source=_sources(base_runs),
        new_source=_sources(new_runs), alpha=alpha, threshold=threshold, rows=rows,
        geomean_change=geomean, geomean_paths=len(ratios), warnings=warnings,
        differences=diffs, notes=notes,
    )


def _stability_warnings(compared):
    """Signs that the machine, not the kernel, moved the numbers (pyperf-style remedies)."""
    lines = []
    controls = [r for r in compared if r.name.split("/", 1)[0] in _CONTROL_FAMILIES
                and r.result.verdict != NO_CHANGE]
    if controls:
        lines.append(
            "the control paths moved ("
            + ", ".join(f"{r.name} {format_pct(r.result.change)}" for r in controls)
            + "): no kernel change moves a plain call, so the machine was not in the same "
            "state in both runs (load, frequency, host contention) and the verdicts are not "
            "trustworthy; rerun both on a quiet machine with the CPU pinned"
        )
    unstable = []
    for r in compared:
        worst = max(stats.cv(r.base), stats.cv(r.new))
        if worst > _CV_WARN:
            unstable.append((worst, r.name))
    if unstable:
        unstable.sort(reverse=True)
        shown = ", ".join(f"{name} {value * 100:.0f}%" for value, name in unstable[:4])
        lines.append(
            f"unstable results: CV above {_CV_WARN * 100:g}% in {len(unstable)} path(s) "
            f"({shown}); pin the CPU (--cpu), stop other load, or raise the repetitions"
        )
    return lines


def _label(runs):
    run = runs[0]
    label = run.kernel if run.is_sysgate else os.path.basename(run.source)
    return label + (f" ({len(runs)} runs)" if len(runs) > 1 else "")


def _sources(runs):
    return ", ".join(run.source for run in runs)


def _why_missing(b, n):
    if b is None:
        return "only in the new run" + (f"; skipped: {n.skipped}" if n.skipped else "")
    if n is None:
        return "only in the base run" + (f"; skipped: {b.skipped}" if b.skipped else "")
    if b.skipped and n.skipped:
        return f"skipped: {n.skipped}"
    if n.skipped:
        return f"skipped in the new run: {n.skipped}"
    return f"skipped in the base run: {b.skipped}"


# --- presentation ----------------------------------------------------------------------


def format_pct(fraction):
    return "-" if fraction is None or math.isnan(fraction) else f"{fraction * 100:+.1f}%"


def format_p(p):
    return "-" if p is None or math.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def table_rows(comparison):
    """(cells) per path plus the geomean row, the same for the terminal and the page."""
    rows = []
    for r in comparison.rows:
        c = r.result
        if c is None:
            rows.append((r.name, units.ns(_median(r.base)), units.ns(_median(r.new)),
                         "-", "-", "-", r.note))
            continue
        rows.append((
            r.name, units.ns(c.base_median), units.ns(c.new_median), format_pct(c.change),
            f"[{format_pct(c.ci_low)}, {format_pct(c.ci_high)}]", format_p(c.p_value),
            c.verdict.upper() if c.verdict != NO_CHANGE else c.verdict,
        ))
    rows.append((f"geomean ({comparison.geomean_paths} paths)", "", "",
                 format_pct(comparison.geomean_change), "", "", ""))
    return rows


TABLE_HEADER = ("path", "base ns", "new ns", "change", "95% CI", "p (U, Holm)", "verdict")


def _median(samples):
    return statistics.median(samples) if samples else math.nan


def summary_line(comparison):
    regs, imps = comparison.regressions, comparison.improvements
    text = f"{len(regs)} regression{'s' if len(regs) != 1 else ''}"
    if regs:
        text += " (" + ", ".join(
            f"{r.name} {format_pct(r.result.change)} p{p_relation(r.result.p_value)}"
            for r in regs
        ) + ")"
    text += f", {len(imps)} improvement{'s' if len(imps) != 1 else ''}"
    if imps:
        text += " (" + ", ".join(f"{r.name} {format_pct(r.result.change)}" for r in imps) + ")"
    return text


def p_relation(p):
    text = format_p(p)
    return text if text.startswith("<") else f"={text}"


def render_terminal(comparison):
    lines = [
        f"base: {comparison.base_source}",
        f"new:  {comparison.new_source}",
        f"verdict needs p < {comparison.alpha:g} (Mann-Whitney U, Holm-adjusted over "
        f"{len([r for r in comparison.rows if r.result])} paths) and a change of at least "
        f"{comparison.threshold * 100:g}% in the median",
        "",
        store.format_table(TABLE_HEADER, table_rows(comparison), right={1, 2, 3, 5}),
        "",
    ]
    mitigations = [d for d in comparison.differences if d.kind == envdiff.MITIGATIONS]
    if mitigations:
        lines.append("mitigations that changed with the kernel:")
        lines += [f"  {d}" for d in mitigations]
    lines += [f"warning: {w}" for w in comparison.warnings]
    lines += [f"note: {n}" for n in comparison.notes]
    lines.append(f"result: {summary_line(comparison)}")
    return "\n".join(lines)


def plot_medians(comparison):
    """Grouped horizontal bars: base and new median per path, 95% CI whiskers, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = [r for r in comparison.rows if r.result]
    fig = Figure(figsize=(9, 0.42 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    height = 0.38
    for offset, side, label, color in (
        (-height / 2, "base", comparison.base_label, "#7f8c9a"),
        (height / 2, "new", comparison.new_label, "#2c6fbb"),
    ):
        values = [getattr(r.result, f"{side}_median") for r in rows]
        cis = [getattr(r, f"{side}_ci") for r in rows]
        err = [[max(v - lo, 0) for v, (lo, _) in zip(values, cis)],
               [max(hi - v, 0) for v, (_, hi) in zip(values, cis)]]
        ax.barh([i + offset for i in range(len(rows))], values, height=height, xerr=err,
                color=color, label=names.text(label), error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(range(len(rows)), [names.text(r.name) for r in rows])
    colors = {REGRESSION: "#c0392b", IMPROVEMENT: "#1e8449"}
    for tick, r in zip(ax.get_yticklabels(), rows):
        tick.set_color(colors.get(r.result.verdict, "black"))
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per call (median of repetitions, 95% CI; log scale)")
    fig.suptitle("median latency per path: regressions in red, improvements in green")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    ax.grid(axis="x", which="both", alpha=0.3)
    return fig


def plot_changes(comparison):
    """The change of each path's median with its 95% CI; the threshold band shaded."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = [r for r in comparison.rows if r.result]
    fig = Figure(figsize=(9, 0.32 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    t = comparison.threshold * 100
    ax.axvspan(-t, t, color="#dddddd", alpha=0.6, label=f"within ±{t:g}%")
    ax.axvline(0, color="black", linewidth=0.8)
    colors = {REGRESSION: "#c0392b", IMPROVEMENT: "#1e8449", NO_CHANGE: "#555555"}
    for i, r in enumerate(rows):
        c = r.result
        ax.errorbar(c.change * 100, i, xerr=[[max(c.change - c.ci_low, 0) * 100],
                                             [max(c.ci_high - c.change, 0) * 100]],
                    fmt="o", color=colors[c.verdict], capsize=3)
    ax.set_yticks(range(len(rows)), [names.text(r.name) for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(names.text(f"change of the median, % ({comparison.new_label} vs "
                             f"{comparison.base_label})", limit=300))
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def template_environment():
    import jinja2

    folder = Path(__file__).resolve().parent / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render_html(comparison, charts):
    return template_environment().get_template(TEMPLATE).render(
        c=comparison, header=TABLE_HEADER, rows=table_rows(comparison),
        verdicts=[r.result.verdict if r.result else "" for r in comparison.rows] + [""],
        summary=summary_line(comparison), charts=charts,
        mitigations=[d for d in comparison.differences if d.kind == envdiff.MITIGATIONS],
    )


def to_json(comparison):
    """A machine-readable summary for CI (compare.json beside the page)."""
    data = asdict(comparison)
    data["differences"] = [asdict(d) for d in comparison.differences]
    for row in data["rows"]:
        row.pop("base"), row.pop("new")
    data["regressions"] = [r.name for r in comparison.regressions]
    data["improvements"] = [r.name for r in comparison.improvements]
    return json.dumps(_no_nan(data), indent=2, allow_nan=False)


def _no_nan(value):
    """NaN is not JSON: null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def write_outputs(comparison, out_dir):
    out = Path(out_dir)
    try:
        atomic.retire(out / "compare.html", out / "compare.json")  # none stale after a failure
        charts = []
        for name, plot, alt in (
            ("compare_medians.png", plot_medians, "median per path, base and new"),
            ("compare_changes.png", plot_changes, "change per path with its interval"),
        ):
            fig = plot(comparison)
            atomic.save_figure(fig, out / name, dpi=110)
            charts.append({"file": name, "alt": alt})
        atomic.write_text(out / "compare.json", to_json(comparison))
        atomic.write_text(out / "compare.html", render_html(comparison, charts))
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
    return out / "compare.html"


# --- CLI -------------------------------------------------------------------------------


def _cmd_compare(args):
    if args.threshold < 0:
        raise UserError(f"--threshold {args.threshold}: must be 0 or more (percent)")
    if not 0 < args.alpha < 1:
        raise UserError(f"--alpha {args.alpha}: must be between 0 and 1")
    base = store.resolve_side(args.base, args.db, args.host)
    new = store.resolve_side(args.new, args.db, args.host)
    comparison = compare_runs(base, new, args.alpha, args.threshold, args.allow_emulated)
    print(render_terminal(comparison))
    if args.output:
        page = write_outputs(comparison, args.output)
        print(f"report: {page}", file=sys.stderr)
    return 1 if comparison.regressions else 0


def register(subparsers):
    parser = subparsers.add_parser(
        "compare", help="compare two runs path by path; exit 1 on a regression",
        description="Compare two runs path by path. BASE and NEW are results files, run "
                    "ids (#3 or 3) or kernel releases from the history store (all runs of "
                    "the release with the newest one's boot options), or several of these "
                    "separated by commas, pooled. Exit status: 0 no regression, "
                    "1 regression, 2 bad input.",
    )
    parser.add_argument("base", metavar="BASE")
    parser.add_argument("new", metavar="NEW")
    parser.add_argument("-o", "--output", metavar="DIR", type=Path,
                        help="write compare.html, its PNG charts and compare.json here")
    parser.add_argument("--threshold", type=validate.non_negative, default=DEFAULT_THRESHOLD_PCT,
                        metavar="PCT", help="smallest change of the median that counts, "
                        f"in percent (default {DEFAULT_THRESHOLD_PCT:g})")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help=f"significance level of the U test (default {DEFAULT_ALPHA:g})")
    parser.add_argument("--host", help="with kernel releases: the host whose runs to use")
    parser.add_argument("--allow-emulated", action="store_true",
                        help="compare an emulated (TCG) run with a hardware run anyway")
    store.add_db_argument(parser)
    parser.set_defaults(func=_cmd_compare)
