"""The comparison of two sides (runs of a kernel each): did the kernel make entering it
slower, with a verdict CI can use. `sysgate compare` and `gate` print it (render/
compare_text.py, compare_report.py); bisect, calibrate and trend read its answers.

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

import math
import os
import statistics
from dataclasses import dataclass, field

from ..core import thresholds, units
from ..core.errors import UserError
from ..results import envdiff
from . import checks, entry_model, stats
from .stats import IMPROVEMENT, INCONCLUSIVE, REGRESSION

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


# --- the comparison, step by step ------------------------------------------------------


def compare_runs(base, new, alpha=thresholds.ALPHA, threshold_pct=thresholds.THRESHOLD_PCT,
                 allow_emulated=False, force=False, detection=None, entry_threshold_pct=None,
                 strict=False):
    """Compare two sides path by path; raise UserError when they must not be compared.

    Each side is a load.Run or a list of them (several runs of one setup, pooled; the
    first is the side's representative for its environment). entry_threshold_pct: the
    kernel-entry threshold (percent of the cheapest round trip); None: half of
    threshold_pct (thresholds.ENTRY_THRESHOLD_PCT by default)."""
    base_runs, new_runs = _sides(base, new, allow_emulated)
    threshold = threshold_pct / 100.0
    if entry_threshold_pct is None:
        entry_threshold_pct = (threshold_pct * thresholds.ENTRY_THRESHOLD_PCT
                               / thresholds.THRESHOLD_PCT)
    diffs, warnings, notes = _environment(base_runs, new_runs)
    processes = (_processes(base_runs), _processes(new_runs))
    rows, replicates, one_side = _path_rows(base_runs, new_runs, alpha, threshold, processes)
    compared = _compared(rows, base_runs[0], new_runs[0])
    figures = {r.name: _figures(r, replicates[r.name]) for r in compared}
    kernel = [r for r in compared if r.enters_kernel]
    controls = [r for r in compared if r.is_control]
    kernel_entry, drift, drift_reps = entry_model.entry_cost(
        [figures[r.name] for r in kernel], [figures[r.name] for r in controls], alpha,
        entry_threshold_pct / 100, threshold,
        runs=(len(base_runs), len(new_runs)))
    tested = _judge_paths(compared, figures, drift, drift_reps, alpha, threshold)
    _mark_controls(controls)
    kernel_shift = stats.family_shift([r.result for r in kernel],
                                      [replicates[r.name] for r in kernel], alpha, threshold)
    control_shift = _control_shift(controls, replicates, alpha, threshold)
    machine = _machine_changed(controls, control_shift, diffs, threshold)
    withheld = _withhold(machine, force, tested, kernel_entry, warnings)
    warnings += _stability_warnings(compared) + _lost_warnings(rows)
    notes += _mode_notes(base_runs, new_runs) + _one_side_notes(rows, one_side)
    base_label, new_label = _labels(base_runs, new_runs)
    base, new = base_runs[0], new_runs[0]
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


def _sides(base, new, allow_emulated):
    """Both sides as lists of runs, refused when they must not be compared."""
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
    refuse_same_runs(base_runs, new_runs)
    return base_runs, new_runs


def _environment(base_runs, new_runs):
    """(the differences between the sides' environments, warnings, notes)."""
    everything = base_runs + new_runs
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
    diffs = envdiff.differences(base_runs[0].context, new_runs[0].context)
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
    return diffs, warnings, notes


def _processes(runs):
    """Worker processes of a side in all, or None when a file does not record them."""
    counts = [run.context.get("processes") for run in runs]
    if any(not str(c or "").isdigit() for c in counts):
        return None
    return sum(int(c) for c in counts)


def _paths_of(runs, name):
    return [run.paths[name] for run in runs if name in run.paths]


def _path_rows(base_runs, new_runs, alpha, threshold, processes):
    """(a PathRow per path both sides ran, with its shift where both measured it; the
    shifts' bootstrap replicates by path; the paths one side only ran)."""
    rows, names, one_side = [], [], []
    for run in base_runs + new_runs:
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
            row.base_ci = stats.side_figure(base_groups)[1]
            row.new_ci = stats.side_figure(new_groups)[1]
        else:
            row.note = _why_missing(b[0], n[0], bool(row.base), bool(row.new))
        rows.append(row)
    return rows, replicates, one_side


def _compared(rows, base, new):
    """The rows measured on both sides; UserError when there is none."""
    compared = [r for r in rows if r.result]
    if not compared:
        raise UserError(
            f"{base.source} and {new.source}: no path is measured in both runs"
        )
    return compared


def _judge_paths(compared, figures, drift, drift_reps, alpha, threshold):
    """Each path that enters the kernel (or may): its Holm-adjusted p-value, its change
    with the drift taken out, its verdict. Returns those rows."""
    tested = [r for r in compared if not r.is_control]
    for row, p_value in zip(tested, stats.holm_adjust([r.result.p_raw for r in tested])):
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
    return tested


def _mark_controls(controls):
    """The controls get no verdict: they are what the machine's drift is read from."""
    for row in controls:
        row.result.verdict = CONTROL
        row.result.settle_factor = None
        row.result.raw_change = row.result.change


def _withhold(machine, force, tested, kernel_entry, warnings):
    """Withholds the verdicts when the machine changed, unless forced (then says so)."""
    withheld = bool(machine) and not force
    if withheld:
        for row in tested:
            row.result.verdict = WITHHELD
        if kernel_entry:
            kernel_entry.verdict = WITHHELD
    elif machine:
        warnings.insert(0, "verdicts given anyway (--force)")
    return withheld


def _lost_warnings(rows):
    lost = [r for r in rows if r.base and not r.new]
    if not lost:
        return []
    return ["measured in the base run but not in the new one: "
            + ", ".join(f"{r.name} ({r.note})" for r in lost)]


def _one_side_notes(rows, one_side):
    if not one_side:
        return []
    return [f"compared the {len(rows)} paths both sides ran; {len(one_side)} ran on one "
            "side only (a filtered run) and are left out: " + ", ".join(one_side[:8])
            + (", ..." if len(one_side) > 8 else "")]


def _labels(base_runs, new_runs):
    base_label, new_label = _label(base_runs), _label(new_runs)
    if base_label == new_label:  # runs of one kernel: tell them apart by run id or file
        base_label = f"{base_label} ({_run_id(base_runs[0])})"
        new_label = f"{new_label} ({_run_id(new_runs[0])})"
    return base_label, new_label




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
            "the paths that do not enter the kernel moved "
            f"{units.format_pct(control_shift.change)} together "
            f"(beyond the ±{threshold * 100:g}% threshold; "
            + ", ".join(f"{r.name} {units.format_pct(r.result.change)}" for r in moved[:6])
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
