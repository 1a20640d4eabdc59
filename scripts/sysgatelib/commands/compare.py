"""`sysgate compare BASE NEW`: did the kernel make entering it slower, with a verdict CI
can use.

The answer comes in this order (docs/regressions.md explains every choice):

1. the machine: the paths that do not enter the kernel (baselines, vDSO: the controls)
   give the machine's drift between the runs (entry_model.drift); when it is beyond the
   threshold, or the machine was not equally quiet while measuring (results/busy.py; the
   load average for older files), the machine changed, and the verdicts are withheld
   (exit 3) unless --force;
2. the kernel entry: the nanoseconds a kernel entry gained, with the drift taken out
   (entry_model: new = (1 + drift) x base + delta x entries), as
   "kernel entry: +12.5 ns per entry [+11.8, +13.2] (+9.8% of getpid/syscall) REGRESSION",
   judged relative to the cheapest syscall round trip against the kernel-entry threshold;
3. per path: the change of its figure (the mean of the fastest quarter of its
   repetitions, stats.low_mean) with the drift taken out, beside the raw change, its
   interval, a Holm-adjusted permutation p-value, and one of three answers:
   regression/improvement (significant, interval beyond the threshold), no change
   (interval within +-threshold), inconclusive (anything else, and always with fewer than
   thresholds.MIN_REPETITIONS repetitions a side).

Exit status (EXIT_RULES): 0 no regression, 1 regression (kernel entry or a path), 2 bad
input, 3 not comparable (withheld) or the kernel entry inconclusive; a path's inconclusive
answer alone exits 3 only with --strict (or when there is no kernel-entry verdict).
"""

import json
import math
import os
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core import atomic, units
from ..core import thresholds
from ..core.errors import UserError
from ..render import formats
from ..render.table import format_table
from ..render.verdict_text import format_ns, format_p, format_pct
from ..render.verdict_text import shown as _shown
from ..results import envdiff, legacy, validate
from ..store import resolve
from ..verdicts import checks, entry_model, stats
from ..verdicts.stats import (  # noqa: F401
    IMPROVEMENT, INCONCLUSIVE, NO_CHANGE, REGRESSION, holm_adjust)
from . import arguments

# Names trend.py imports; the values live in stats.
DEFAULT_ALPHA = thresholds.ALPHA
DEFAULT_THRESHOLD_PCT = thresholds.THRESHOLD_PCT
CONFIDENCE = thresholds.CONFIDENCE
TEMPLATE = "compare_page.html.j2"
CONTROL = "control"
WITHHELD = "withheld"
EXIT_OK, EXIT_REGRESSION, EXIT_INCONCLUSIVE = 0, 1, 3
# How compare's (and gate's) exit status follows from the answers, first match wins; the
# README and docs/regressions.md show this table.
EXIT_RULES = (
    ("the machine changed between the runs (verdicts withheld)", EXIT_INCONCLUSIVE),
    ("kernel entry REGRESSION, or any path REGRESSION", EXIT_REGRESSION),
    ("kernel entry inconclusive", EXIT_INCONCLUSIVE),
    ("no kernel-entry verdict (too few kernel paths) and a path inconclusive",
     EXIT_INCONCLUSIVE),
    ("--strict and a path inconclusive", EXIT_INCONCLUSIVE),
    ("anything else: kernel entry no change or improvement, no path regressed", EXIT_OK),
)

# A path's figure and change as one dataclass (trend.py and older callers say Change).
Change = stats.Shift


@dataclass
class PathRow:
    name: str
    mechanism: str
    enters_kernel: bool | None = None  # None: the files do not say
    expected_entries: float | None = None  # kernel entries one call makes (the path table)
    base: list = field(default_factory=list)
    new: list = field(default_factory=list)
    result: stats.Shift | None = None
    base_ci: tuple = (math.nan, math.nan)  # interval of the base figure, ns
    new_ci: tuple = (math.nan, math.nan)
    note: str = ""  # why there is no result: skipped on a side

    @property
    def is_control(self):
        return self.enters_kernel is False

    @property
    def shown_verdict(self):
        return self.result.verdict if self.result else ""


@dataclass
class Comparison:
    base_label: str
    new_label: str
    base_source: str
    new_source: str
    base_sides: list  # one description per run: host, kernel, date, run id
    new_sides: list
    alpha: float
    threshold: float  # fraction
    rows: list
    kernel_entry: entry_model.EntryCost | None  # the kernel-entry verdict, ns per entry
    kernel_paths: int
    controls: stats.Shift | None  # the common shift of the controls (no verdict)
    control_paths: int
    machine_changed: list  # reasons; non-empty = verdicts withheld unless forced
    withheld: bool
    warnings: list
    differences: list
    notes: list = field(default_factory=list)
    one_side_only: list = field(default_factory=list)  # paths a filtered run did not run
    settle: str = ""
    detection: dict | None = None  # calibrate's limits for this host, when known
    drift: entry_model.Drift | None = None  # the machine's speed change, from the controls
    kernel_shift: stats.Shift | None = None  # median relative shift of the kernel paths
    strict: bool = False  # a path's inconclusive answer alone exits 3
    # Each side's host and kernel (its first run's), for the CI formats' labels.
    base_host: str = ""
    base_kernel: str = ""
    new_host: str = ""
    new_kernel: str = ""

    def with_verdict(self, verdict):
        return [r for r in self.rows if r.result and r.result.verdict == verdict]

    @property
    def regressions(self):
        return self.with_verdict(REGRESSION)

    @property
    def improvements(self):
        return self.with_verdict(IMPROVEMENT)

    @property
    def inconclusive(self):
        return self.with_verdict(INCONCLUSIVE)

    @property
    def exit_code(self):
        """EXIT_RULES, in order."""
        if self.withheld:
            return EXIT_INCONCLUSIVE
        family = self.kernel_entry.verdict if self.kernel_entry else None
        if family == REGRESSION or self.regressions:
            return EXIT_REGRESSION
        if family == INCONCLUSIVE:
            return EXIT_INCONCLUSIVE
        if self.inconclusive and (family is None or self.strict):
            return EXIT_INCONCLUSIVE
        return EXIT_OK


# --- statistics kept under the names trend.py imports --------------------------------


def compare_samples(base, new, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD_PCT / 100,
                    confidence=CONFIDENCE, seed=thresholds.SEED):
    """One run a side: see stats.shift."""
    return stats.shift([base], [new], alpha, threshold, confidence, seed)


def compare_groups(base_runs, new_runs, alpha=DEFAULT_ALPHA,
                   threshold=DEFAULT_THRESHOLD_PCT / 100, confidence=CONFIDENCE,
                   seed=thresholds.SEED, processes=(None, None)):
    """Several runs a side (a list of sample lists per side): see stats.shift."""
    return stats.shift(base_runs, new_runs, alpha, threshold, confidence, seed, processes)


def figure_ci(runs, confidence=CONFIDENCE):
    """Interval of a side's low-quarter figure, ns (the whiskers of the figure chart)."""
    return stats.side_figure(runs, confidence)[1]


# --- the comparison ----------------------------------------------------------------------


def _processes(runs):
    """Worker processes of a side in all, or None when a file does not record them."""
    counts = [run.context.get("processes") for run in runs]
    if any(not str(c or "").isdigit() for c in counts):
        return None
    return sum(int(c) for c in counts)


def _paths_of(runs, name):
    return [run.paths[name] for run in runs if name in run.paths]


def compare_runs(base, new, alpha=DEFAULT_ALPHA, threshold_pct=DEFAULT_THRESHOLD_PCT,
                 allow_emulated=False, force=False, detection=None, entry_threshold_pct=None,
                 strict=False):
    """Compare two sides path by path; raise UserError when they must not be compared.

    Each side is a load.Run or a list of them (several runs of one setup, pooled; the
    first is the side's representative for its environment). entry_threshold_pct: the
    kernel-entry threshold (percent of the cheapest round trip); None: half of
    threshold_pct (thresholds.ENTRY_THRESHOLD_PCT by default)."""
    base_runs = list(base) if isinstance(base, (list, tuple)) else [base]
    new_runs = list(new) if isinstance(new, (list, tuple)) else [new]
    if not base_runs or not new_runs:
        raise UserError("compare needs at least one run on each side")
    everything = base_runs + new_runs
    for run in everything:
        legacy.fill_in(run.paths.values())  # runs from the store may lack the facts
    if len({run.emulated for run in everything}) > 1 and not allow_emulated:
        which = next(run.source for run in everything if run.emulated)
        raise UserError(
            f"{which}: an emulated (TCG) run cannot be compared with a hardware run; "
            "emulated timings are not hardware timings (--allow-emulated to do it anyway)"
        )
    refuse_same_runs(base_runs, new_runs)
    base, new = base_runs[0], new_runs[0]
    threshold = threshold_pct / 100.0
    if entry_threshold_pct is None:
        entry_threshold_pct = (threshold_pct * thresholds.ENTRY_THRESHOLD_PCT
                               / thresholds.THRESHOLD_PCT)
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
    # Conditions are listed on their own line (condition_lines), not as a warning.
    warnings += envdiff.warnings([d for d in diffs if d.kind != envdiff.CONDITIONS])
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
            "one run per side: the intervals see the variation within a run only; between "
            "runs (another boot, another phase of a VM host) it can be larger. Give several "
            "runs per side (a.json,b.json or a kernel release with several runs in the "
            "store), and see `sysgate calibrate` for this machine's detection limit"
        )

    processes = (_processes(base_runs), _processes(new_runs))
    rows, names, one_side = [], [], []
    for run in everything:
        names += [n for n in run.paths if n not in names]
    replicates = {}
    for name in names:
        b, n = _paths_of(base_runs, name), _paths_of(new_runs, name)
        if not b or not n:
            one_side.append(name)  # a filtered run: not run on one side, not "missing"
            continue
        first = (b + n)[0]
        known = [p.enters_kernel for p in b + n if p.enters_kernel is not None]
        row = PathRow(name=name, mechanism=first.mechanism,
                      enters_kernel=known[0] if known else None,
                      expected_entries=next((p.expected_entries for p in b + n
                                             if p.expected_entries is not None), None))
        base_groups = [p.samples_ns for p in b if p.samples_ns]
        new_groups = [p.samples_ns for p in n if p.samples_ns]
        row.base = [x for g in base_groups for x in g]
        row.new = [x for g in new_groups for x in g]
        if row.base and row.new:
            row.result, replicates[name] = stats.shift(
                base_groups, new_groups, alpha, threshold, processes=processes,
                keep_replicates=True)
            row.base_ci, row.new_ci = figure_ci(base_groups), figure_ci(new_groups)
        else:
            row.note = _why_missing(b[0], n[0], bool(row.base), bool(row.new))
        rows.append(row)

    compared = [r for r in rows if r.result]
    if not compared:
        raise UserError(
            f"{base.source} and {new.source}: no path is measured in both runs"
        )
    figures = {r.name: _figures(r, replicates[r.name]) for r in compared}
    kernel = [r for r in compared if r.enters_kernel]
    controls = [r for r in compared if r.is_control]
    kernel_entry, drift, drift_reps = entry_model.entry_cost(
        [figures[r.name] for r in kernel], [figures[r.name] for r in controls], alpha,
        entry_threshold_pct / 100, threshold,
        runs=(len(base_runs), len(new_runs)))
    tested = [r for r in compared if not r.is_control]
    for row, p_value in zip(tested, holm_adjust([r.result.p_raw for r in tested])):
        c = row.result
        c.p_value = p_value
        c.raw_change = c.change
        fixed = entry_model.corrected(figures[row.name], drift, drift_reps)
        if fixed:
            c.change, c.ci_low, c.ci_high = fixed
        c.verdict = stats.verdict(c.change, c.ci_low, c.ci_high, p_value, alpha, threshold,
                                  c.enough)
        c.settle_factor = (stats.settle_factor(c.change, c.ci_low, c.ci_high, threshold)
                           if c.verdict == INCONCLUSIVE else None)
    for row in controls:
        row.result.verdict = CONTROL
        row.result.settle_factor = None
        row.result.raw_change = row.result.change
    kernel_shift = stats.family_shift([r.result for r in kernel],
                                      [replicates[r.name] for r in kernel], alpha, threshold)
    control_shift = _control_shift(controls, replicates, alpha, threshold)

    machine = _machine_changed(controls, control_shift, diffs, threshold)
    withheld = bool(machine) and not force
    if withheld:
        for row in tested:
            row.result.verdict = WITHHELD
        if kernel_entry:
            kernel_entry.verdict = WITHHELD
    elif machine:
        warnings.insert(0, "verdicts given anyway (--force)")

    warnings += _stability_warnings(compared)
    lost = [r for r in rows if r.base and not r.new]
    if lost:
        warnings.append(
            "measured in the base run but not in the new one: "
            + ", ".join(f"{r.name} ({r.note})" for r in lost)
        )
    notes += _mode_notes(base_runs, new_runs)
    if one_side:
        notes.append(
            f"compared the {len(rows)} paths both sides ran; {len(one_side)} ran on one "
            "side only (a filtered run) and are left out: " + ", ".join(one_side[:8])
            + (", ..." if len(one_side) > 8 else "")
        )
    base_label, new_label = _label(base_runs), _label(new_runs)
    if base_label == new_label:  # runs of one kernel: tell them apart by run id or file
        base_label = f"{base_label} ({_run_id(base)})"
        new_label = f"{new_label} ({_run_id(new)})"
    comparison = Comparison(
        base_label=base_label, new_label=new_label, base_source=_sources(base_runs),
        new_source=_sources(new_runs), base_sides=_describe_side(base_runs),
        new_sides=_describe_side(new_runs), alpha=alpha, threshold=threshold,
        rows=rows, kernel_entry=kernel_entry, kernel_paths=len(kernel),
        controls=control_shift, control_paths=len(controls), machine_changed=machine,
        withheld=withheld, warnings=warnings, differences=diffs, notes=notes,
        one_side_only=one_side, detection=detection, drift=drift,
        kernel_shift=kernel_shift, strict=strict, base_host=base.host,
        base_kernel=base.kernel, new_host=new.host, new_kernel=new.kernel,
    )
    comparison.settle = _settle_text(comparison, processes)
    return comparison


def measurement_key(run):
    """What makes two runs one measurement: every path's repetition samples, in order.
    Two real runs never repeat each other's samples; a file, its copy, and the same run
    read back from the store (or by another name) do."""
    return hash(tuple(sorted((name, tuple(path.samples_ns))
                             for name, path in run.paths.items())))


def refuse_same_runs(base_runs, new_runs):
    """UserError when a run is on both sides, or twice on one side: compared with itself
    a run shows nothing but resampling noise, and a run pooled twice counts double."""
    seen = {}
    for side, runs in (("BASE", base_runs), ("NEW", new_runs)):
        for run in runs:
            key = measurement_key(run)
            if key in seen and seen[key][0] == side:
                raise UserError(
                    f"{side} names the same run twice ({seen[key][1]} and {run.source}): "
                    "pool different runs, each once")
            if key in seen:
                shared = sum(measurement_key(r) in {measurement_key(b) for b in base_runs}
                             for r in new_runs)
                if len(base_runs) == len(new_runs) == 1:
                    raise UserError(
                        f"BASE and NEW are the same run ({seen[key][1]} and {run.source}): "
                        "a run compared with itself shows only resampling noise; compare "
                        "two different runs")
                raise UserError(
                    f"BASE and NEW share {shared} run(s) ({seen[key][1]} and {run.source}): "
                    "a run on both sides is compared with itself; give each side its own "
                    "runs")
            seen[key] = (side, run.source)


def _mode_notes(base_runs, new_runs):
    """A note per side and row whose processes fell into two modes (verdicts/modes.py):
    a change of figure may be a change of how many processes were in which mode."""
    notes = []
    for side, runs in (("base", base_runs), ("new", new_runs)):
        for run in runs:
            where = side if len(runs) == 1 else f"{side} {_run_id(run)}"
            notes += [f"{where}: {path.name}: {checks.mode_note(found)}"
                      for path, found in checks.process_modes(run)]
    return notes


def _figures(row, replicates):
    """A compared row as the kernel-entry model reads it."""
    c = row.result
    return entry_model.PathFigures(
        name=row.name, entries=row.expected_entries or 0.0, base=c.base_value,
        new=c.new_value, base_reps=replicates.base, new_reps=replicates.new, enough=c.enough,
        n_base=c.n_base, n_new=c.n_new)


def _control_shift(controls, replicates, alpha, threshold):
    """The controls' common shift, computed as the kernel-entry family's, from any number."""
    if not controls:
        return None
    shift = stats.family_shift([r.result for r in controls],
                               [replicates[r.name] for r in controls], alpha, threshold,
                               min_paths=1)
    shift.verdict = CONTROL
    shift.settle_factor = None
    return shift


def _machine_changed(controls, control_shift, diffs, threshold):
    """Reasons to believe the machine, not the kernel, changed between the runs. By effect
    size, not by p-value: a plain call cannot get slower with the kernel."""
    reasons = []
    if control_shift and abs(control_shift.change) > threshold:
        moved = [r for r in controls if abs(r.result.change) > threshold]
        reasons.append(
            f"the paths that do not enter the kernel moved {format_pct(control_shift.change)} "
            f"together (beyond the ±{threshold * 100:g}% threshold; "
            + ", ".join(f"{r.name} {format_pct(r.result.change)}" for r in moved[:6])
            + "): no kernel change moves a plain call or the vDSO"
        )
    busier = next((d for d in diffs if d.key == envdiff.BUSY), None)
    if busier:
        reasons.append(f"the machine was not equally quiet while measuring ({busier}): "
                       "other work shared the CPUs")
    load = next((d for d in diffs if d.key == "load_avg"), None)
    if load:
        reasons.append(f"the load differed ({load}): other work shared the CPUs")
    return reasons


def _settle_text(c, processes):
    """How many runs or repetitions would settle what is inconclusive."""
    undecided = [r for r in c.rows if r.result and r.result.verdict == INCONCLUSIVE]
    family = c.kernel_entry
    if family and family.verdict == INCONCLUSIVE:
        undecided.insert(0, None)
    if not undecided:
        return ""
    shifts = [family if r is None else r.result for r in undecided]
    if not all(s.enough for s in shifts):
        fewest = min(min(s.n_base, s.n_new) for s in shifts)
        counts = f"{fewest} repetitions"
        if None not in processes:
            counts += f", {min(processes)} process(es)"
        return (f"too few samples for any verdict ({counts} on a side; at least "
                f"{thresholds.MIN_REPETITIONS} repetitions in {thresholds.MIN_PROCESSES} or more "
                "processes per side): run the default settings (no --quick), or pool "
                "several runs per side")
    factors = [s.settle_factor for s in shifts if s.settle_factor]
    stuck = len(shifts) - len(factors)
    parts = []
    if factors:
        factor = statistics.median(factors)
        runs = max(c.kernel_entry.runs_base if c.kernel_entry else 1, 1)
        needed = math.ceil(runs * factor)
        what = (f"{needed} runs per side" if needed > runs
                else "one more run per side")
        parts.append(
            f"{len(factors)} inconclusive result(s) would settle with about "
            f"{factor:.1f}x the samples ({what} of the same settings, pooled)")
    if stuck:
        parts.append(f"{stuck} sit on the threshold itself: no sample size settles them")
    return "; ".join(parts)


def _stability_warnings(compared):
    unstable = []
    for r in compared:
        worst = max(stats.cv(r.base), stats.cv(r.new))
        if worst > thresholds.CV_LIMIT:
            unstable.append((worst, r.name))
    if not unstable:
        return []
    unstable.sort(reverse=True)
    shown = ", ".join(f"{name} {value * 100:.0f}%" for value, name in unstable[:4])
    return [
        f"unstable results: CV above {thresholds.CV_LIMIT * 100:g}% in {len(unstable)} path(s) "
        f"({shown}); pin the CPU (--cpu), stop other load, or raise the repetitions"
    ]


def _run_id(run):
    source = run.source
    if source.startswith("run #"):
        return "run " + source.split()[1]
    return os.path.basename(source)


def _describe(run):
    """host · kernel · date · run id (or file name): how a side is named to a reader."""
    date = run.context.get("date", "")[:16].replace("T", " ")
    return " · ".join(x for x in (run.host, run.kernel, date, _run_id(run)) if x)


# A side of more runs than this is named by its newest runs and a count (a fleet's store
# pools hundreds of runs of a kernel).
SIDE_RUNS_NAMED = 3


def _describe_side(runs):
    """One line per run of a side, newest first, or for a side of many runs the newest
    few and how many more, oldest date to newest."""
    if len(runs) <= SIDE_RUNS_NAMED:
        return [_describe(run) for run in runs]
    dates = sorted(d[:10] for d in (run.context.get("date", "") for run in runs) if d)
    span = f", {dates[0]} to {dates[-1]}" if dates else ""
    return ([_describe(run) for run in runs[:SIDE_RUNS_NAMED - 1]]
            + [f"and {len(runs) - SIDE_RUNS_NAMED + 1} more runs of the same setup{span}"])


def _label(runs):
    run = runs[0]
    label = run.kernel if run.is_sysgate else os.path.basename(run.source)
    return label + (f" ({len(runs)} runs)" if len(runs) > 1 else "")


def _sources(runs):
    return ", ".join(run.source for run in runs)


def _why_missing(b, n, base_measured, new_measured):
    if not base_measured and not new_measured:
        return f"skipped: {n.skipped or b.skipped or 'no samples'}"
    if not new_measured:
        return f"skipped in the new run: {n.skipped or 'no samples'}"
    return f"skipped in the base run: {b.skipped or 'no samples'}"


# --- presentation ----------------------------------------------------------------------


def p_relation(p):
    text = format_p(p)
    return text if text.startswith("<") else f"={text}"


def format_interval(shift):
    return f"[{format_pct(shift.ci_low)}, {format_pct(shift.ci_high)}]"


def kernel_entry_line(c):
    """The headline: "kernel entry: +12.5 ns per entry [+11.8, +13.2] (+9.8% of
    getpid/syscall) REGRESSION; machine drift -0.4%"."""
    family = c.kernel_entry
    if family is None:
        return (f"kernel entry: no verdict ({c.kernel_paths} path(s) that enter the kernel "
                f"measured on both sides; {thresholds.MIN_FAMILY_PATHS} needed)")
    drift = family.drift
    drift_text = (f"machine drift {format_pct(drift.change)} (taken out)" if drift.removed
                  else f"machine drift {format_pct(drift.change)} NOT taken out: "
                  f"{drift.note}")
    return (f"kernel entry: {format_ns(family.delta_ns)} ns per entry "
            f"[{format_ns(family.low_ns)}, {format_ns(family.high_ns)}] "
            f"({format_pct(family.change)} of {family.reference_path}) "
            f"{_shown(family.verdict)}; {drift_text}")


def entry_rule_line(c):
    """How the kernel-entry verdict is decided, with this comparison's figures."""
    family = c.kernel_entry
    if family is None:
        return ""
    return (f"kernel entry = new - (1 + drift) x base per expected entry, weighted median "
            f"of {family.paths} paths; threshold ±{family.threshold * 100:g}% of "
            f"{family.reference_path} ({family.reference_ns:.1f} ns, both sides' mean) = "
            f"±{family.threshold_ns:.1f} ns per entry")


def misfit_line(c):
    family = c.kernel_entry
    if family is None or not family.misfits:
        return ""
    shown = [f"{m.name} {format_ns(m.residual_ns)} ns ({format_pct(m.relative)})"
             for m in family.misfits]
    return ("paths that moved for their own reasons (beyond what the drift and the kernel "
            "entry explain): " + units.some(shown))


def controls_line(c):
    if c.controls is None:
        return "controls: none measured on both sides (no check that the machine held still)"
    return (f"controls: {format_pct(c.controls.change)} {format_interval(c.controls)} "
            f"over {c.control_paths} path(s) that do not enter the kernel (the machine's "
            "drift: taken out of the kernel entry and of each path's change)")


def machine_lines(c):
    if not c.machine_changed:
        return []
    lines = ["the machine changed between runs: " + "; ".join(c.machine_changed)]
    if c.withheld:
        lines.append("verdicts withheld (exit 3): rerun both sides on a quiet machine, or "
                     "--force to give them anyway")
    return lines


def detection_line(c):
    d = c.detection
    if not d:
        return ""
    curve = d.get("curve") or {}
    if curve.get("limit_ns_1run") is not None:
        return (f"detection limit on this machine (sysgate calibrate, {d.get('date', '')[:10]})"
                f": kernel entry {curve['limit_ns_1run']:.1f} ns per entry "
                f"({_pct_plain(curve.get('limit_pct_1run'))} of the cheapest round trip) "
                f"with one run per side; A/A false alarms {curve.get('aa_false_alarms')} of "
                f"{curve.get('aa_pairs')}")
    family = d.get("kernel_entry", {})
    return (f"detection limit on this machine (sysgate calibrate, {d.get('date', '')[:10]}): "
            f"kernel entry {_pct_plain(family.get('mde_1run'))} with one run per side, "
            f"{_pct_plain(family.get('mde_3runs'))} with three")


def _pct_plain(value):
    return "unknown" if value is None else f"{value * 100:.1f}%"


def table_rows(comparison):
    """(cells) per path plus the kernel-entry row, the same for the terminal and the page."""
    rows = []
    for r in comparison.rows:
        c = r.result
        if c is None:
            rows.append((r.name, units.ns(stats.low_mean(r.base) if r.base else math.nan),
                         units.ns(stats.low_mean(r.new) if r.new else math.nan),
                         "-", "-", "-", "-", r.note))
            continue
        rows.append((
            r.name, units.ns(c.base_value), units.ns(c.new_value), format_pct(c.change),
            format_interval(c), format_pct(c.raw_change),
            "-" if r.is_control else format_p(c.p_value), _shown(c.verdict),
        ))
    family = comparison.kernel_entry
    if family:
        rows.append((f"kernel entry ({family.paths} paths)", "", "",
                     f"{format_ns(family.delta_ns)} ns",
                     f"[{format_ns(family.low_ns)}, {format_ns(family.high_ns)}] ns",
                     format_pct(family.change), format_p(family.p_value),
                     _shown(family.verdict)))
    return rows


# "change" is drift-corrected where the drift is taken out; "raw" is as measured (for the
# kernel entry: ns per entry, and raw is its share of the reference round trip).
TABLE_HEADER = ("path", "base ns", "new ns", "change", "95% CI", "raw", "p (Holm)",
                "verdict")


def summary_line(comparison):
    regs, imps = comparison.regressions, comparison.improvements
    family = comparison.kernel_entry
    parts = []
    if comparison.withheld:
        parts.append("verdicts withheld: the machine changed between runs")
    elif family:
        parts.append(f"kernel entry {_shown(family.verdict)} "
                     f"{format_ns(family.delta_ns)} ns per entry")
    text = f"{len(regs)} regression{'s' if len(regs) != 1 else ''}"
    if regs:
        text += " (" + units.some(
            [f"{r.name} {format_pct(r.result.change)} p{p_relation(r.result.p_value)}"
             for r in regs]) + ")"
    text += f", {len(imps)} improvement{'s' if len(imps) != 1 else ''}"
    if imps:
        text += " (" + units.some([f"{r.name} {format_pct(r.result.change)}" for r in imps]) + ")"
    undecided = len(comparison.inconclusive)
    same = len(comparison.with_verdict(NO_CHANGE))
    text += f", {undecided} inconclusive, {same} no change"
    parts.append(text)
    return "; ".join(parts) + f" (exit {comparison.exit_code})"


def condition_lines(comparison):
    """The recorded conditions that differ, one line each, by kind."""
    shown = [d for d in comparison.differences if d.kind in (envdiff.CONDITIONS, envdiff.RUN)]
    return [f"{d}" for d in shown]


def render_terminal(comparison):
    c = comparison
    lines = [f"base: {s}" for s in c.base_sides] + [f"new:  {s}" for s in c.new_sides]
    lines += machine_lines(c)
    lines += [kernel_entry_line(c), controls_line(c)]
    lines += [line for line in (entry_rule_line(c), misfit_line(c)) if line]
    conditions = condition_lines(c)
    if conditions:
        lines.append("conditions that differ: " + "; ".join(conditions))
    lines += [
        f"verdict: regression/improvement needs the {CONFIDENCE:.0%} interval beyond "
        f"±{c.threshold * 100:g}% and p < {c.alpha:g} (permutation test, Holm over "
        f"{len([r for r in c.rows if r.result and not r.is_control])} paths); no change "
        f"needs it within ±{c.threshold * 100:g}%; figure: mean of the fastest "
        f"{thresholds.LOW_FRACTION:.0%} of the repetitions; change: with the machine's drift "
        "taken out, raw: as measured",
        "",
        format_table(TABLE_HEADER, table_rows(c), right={1, 2, 3, 5, 6}),
        "",
    ]
    explaining = envdiff.explaining_lines(c.differences)
    if explaining:
        lines.append("what else changed with the kernel (mitigations, entry-path facts):")
        lines += [f"  {d}" for d in explaining]
    lines += [f"warning: {w}" for w in c.warnings]
    lines += [f"note: {n}" for n in c.notes]
    if c.settle:
        lines.append(f"to settle: {c.settle}")
    if c.detection:
        lines.append(detection_line(c))
    lines.append(f"result: {summary_line(c)}")
    return "\n".join(lines)


def template_environment():
    import jinja2

    folder = Path(__file__).resolve().parents[1] / "render" / "templates"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render_html(comparison, charts):
    c = comparison
    rows = table_rows(c)
    classes = [r.shown_verdict.replace(" ", "-") for r in c.rows]
    classes += ["family"] * (len(rows) - len(classes))
    return template_environment().get_template(TEMPLATE).render(
        c=c, header=TABLE_HEADER, rows=rows, classes=classes,
        summary=summary_line(c), charts=charts, headline=kernel_entry_line(c),
        controls=controls_line(c), entry_rule=entry_rule_line(c), misfits=misfit_line(c),
        machine=machine_lines(c), conditions=condition_lines(c),
        detection=detection_line(c), confidence=f"{CONFIDENCE:.0%}",
        low_fraction=f"{thresholds.LOW_FRACTION:.0%}", min_repetitions=thresholds.MIN_REPETITIONS,
        mitigations=[d for d in c.differences
                     if d.kind in (envdiff.MITIGATIONS, envdiff.KERNEL)],
    )


def to_json(comparison):
    """A machine-readable summary for CI (compare.json beside the page)."""
    data = asdict(comparison)
    data["differences"] = [asdict(d) for d in comparison.differences]
    for row, kept in zip(data["rows"], comparison.rows):
        row.pop("base"), row.pop("new")
        # The repetitions' spread a side (stdev / mean, all runs pooled): LKP's %stddev.
        row["base_cv"] = stats.cv(kept.base) if kept.base else None
        row["new_cv"] = stats.cv(kept.new) if kept.new else None
    data["regressions"] = [r.name for r in comparison.regressions]
    data["improvements"] = [r.name for r in comparison.improvements]
    data["inconclusive"] = [r.name for r in comparison.inconclusive]
    data["exit_code"] = comparison.exit_code
    # The lines the terminal leads with, so that a CI format says what the terminal says.
    data["text"] = {"headline": kernel_entry_line(comparison),
                    "controls": controls_line(comparison),
                    "machine": machine_lines(comparison),
                    "summary": summary_line(comparison)}
    return json.dumps(_no_nan(data), indent=2, allow_nan=False)


def _no_nan(value):
    """NaN is not JSON: null instead."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value


def write_outputs(comparison, out_dir):
    from ..render import compare_plot

    out = Path(out_dir)
    try:
        atomic.retire(out / "compare.html", out / "compare.json")  # none stale after a failure
        charts = []
        for name, plot, alt in (
            ("compare_changes.png", compare_plot.plot_changes,
             "change per path with its interval, threshold band shaded"),
            ("compare_medians.png", compare_plot.plot_figures,
             "figure per path, base and new"),
        ):
            fig, caption = plot(comparison)
            atomic.save_figure(fig, out / name, dpi=110)
            charts.append({"file": name, "alt": alt, "caption": caption})
        atomic.write_text(out / "compare.json", to_json(comparison))
        atomic.write_text(out / "compare.html", render_html(comparison, charts))
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
    return out / "compare.html"


# --- CLI -------------------------------------------------------------------------------


def _cmd_compare(args):
    if args.threshold < 0:
        raise UserError(f"--threshold {args.threshold}: must be 0 or more (percent)")
    targets = formats.parse(args.formats, formats.COMPARE_FORMATS)  # before any work
    if args.output:
        atomic.check_writable_folder(args.output, "-o")
    base = resolve.resolve_side(args.base, args.db, args.host)
    new = resolve.resolve_side(args.new, args.db, args.host)
    from ..store import calibration

    detection = calibration.limits_for(new[0].context, args.calibration)
    comparison = compare_runs(base, new, args.alpha, args.threshold, args.allow_emulated,
                              args.force, detection, args.entry_threshold, args.strict)
    print(render_terminal(comparison))
    page = None
    if args.output:
        page = write_outputs(comparison, args.output)
        print(f"report: {page}", file=sys.stderr)
    write_formats(comparison, targets, page)
    return comparison.exit_code


def write_formats(comparison, targets, page=None):
    """The --format targets (render/formats), from the JSON compare.json holds."""
    if not targets:
        return
    data = json.loads(to_json(comparison))
    page = str(page) if page else None
    sys.stdout.flush()
    formats.write(targets, lambda target: formats.render_comparison(target, data, page))


def register(subparsers):
    parser = subparsers.add_parser(
        "compare", help="compare two runs: kernel entry and path verdicts; exit 1 on a "
        "regression, 3 when inconclusive",
        description="Compare two runs path by path and the kernel entry as a whole. BASE "
                    "and NEW are results files, run ids (#3 or 3) or kernel releases from "
                    "the history store (all runs of the release with the newest one's boot "
                    "options), or several of these separated by commas, pooled. Exit "
                    "status: 0 no regression, 1 regression, 2 bad input, 3 inconclusive "
                    "or not comparable (the machine changed between runs).",
    )
    parser.add_argument("base", metavar="BASE")
    parser.add_argument("new", metavar="NEW")
    parser.add_argument("-o", "--output", metavar="DIR", type=Path,
                        help="write compare.html, its PNG charts and compare.json here")
    formats.add_argument(parser, formats.COMPARE_FORMATS)
    add_verdict_arguments(parser)
    parser.add_argument("--host", help="with kernel releases: the host whose runs to use")
    parser.add_argument("--force", action="store_true",
                        help="give verdicts even when the controls say the machine changed")
    parser.add_argument("--allow-emulated", action="store_true",
                        help="compare an emulated (TCG) run with a hardware run anyway")
    parser.add_argument("--calibration", type=Path, metavar="FILE",
                        help="sysgate calibrate's result to show the detection limit from "
                        "(default reports/calibration.json when it is for this host)")
    arguments.add_db_argument(parser)
    parser.set_defaults(func=_cmd_compare)


def add_verdict_arguments(parser):
    """The options of the verdict, the same for compare and gate."""
    parser.add_argument("--threshold", type=validate.non_negative, metavar="PCT",
                        default=DEFAULT_THRESHOLD_PCT,
                        help="smallest change of a path's figure that counts, "
                        f"in percent (default {DEFAULT_THRESHOLD_PCT:g})")
    parser.add_argument("--entry-threshold", type=validate.non_negative, metavar="PCT",
                        help="smallest kernel-entry change that counts: the nanoseconds "
                        "added per entry, in percent of the cheapest syscall round trip "
                        "measured on both sides (getpid/syscall, as a rule); default half "
                        f"of --threshold ({thresholds.ENTRY_THRESHOLD_PCT:g}%%)")
    parser.add_argument("--alpha", type=validate.probability, default=DEFAULT_ALPHA,
                        help="family-wise significance level over the paths (default "
                        f"{DEFAULT_ALPHA:g})")
    parser.add_argument("--strict", action="store_true",
                        help="exit 3 when any path is inconclusive, even with the kernel "
                        "entry settled")
