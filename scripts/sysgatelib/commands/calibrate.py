"""`sysgate calibrate`: what compare can detect on this machine, measured.

Runs alternate: a plain run, then the same run under an allow-all seccomp filter
(seccomp_allow.py: every syscall takes the kernel's slow entry path, the vDSO and the
baselines do not), N times. From them:

- the run-to-run spread of each path's figure (stats.low_mean of a run's repetitions) and
  of the kernel-entry family's common level, from the plain runs (and the seccomp runs,
  pooled, when there are two or more of each);
- the minimum detectable effect (95% two-sided, 80% power) with one and with three runs a
  side, and the runs per side needed to detect a target (default 5%);
- the injected slowdown as measured, and what compare says about A/A pairs (consecutive
  plain runs: false positives) and plain-vs-seccomp pairs (detections).

The result goes to reports/calibration.json, one entry per host fingerprint; compare and
the report show the detection limit when the file has one for the host they show.
docs/methodology.md ("Validation") describes the protocol behind it.
"""

import datetime
import math
import statistics
from pathlib import Path

from .. import store
from ..bench.suite import measure_run
from ..core import atomic
from ..core.errors import UserError
from ..render.table import format_table
from ..results import load, validate
from ..store.calibration import DEFAULT_FILE, limits_for, save  # noqa: F401
from ..core import thresholds
from ..verdicts import comparison, stats

DEFAULT_RUNS = 3
DEFAULT_LOADS = (0, 64)


# --- analysis (pure: tested on synthetic runs) -----------------------------------------


def _figures(runs, name):
    values = []
    for run in runs:
        path = run.paths.get(name)
        if path is None or not path.samples_ns:
            return None
        values.append(stats.low_mean(path.samples_ns))
    return values


def _pooled_sd(*groups):
    """Pooled standard deviation of the log figures of several groups of runs."""
    parts = [(len(g) - 1, statistics.variance(g)) for g in groups if len(g) >= 2]
    dof = sum(d for d, _ in parts)
    return math.sqrt(sum(d * v for d, v in parts) / dof) if dof else math.nan


def _limits(sd_log, target, threshold):
    return {
        "sd_log": sd_log,
        "mde_1run": stats.mde(sd_log, 1),
        "mde_3runs": stats.mde(sd_log, 3),
        # compare flags a shift when its interval clears the threshold: the threshold
        # plus the noise's detectable effect.
        "flagged_from_1run": math.expm1(math.log1p(threshold) + math.log1p(stats.mde(sd_log, 1)))
        if not math.isnan(sd_log) else math.nan,
        "runs_for_target": stats.runs_needed(sd_log, target),
    }


def analyse(plain, seccomp, threshold=thresholds.THRESHOLD_PCT / 100,
            target=thresholds.CALIBRATE_TARGET_PCT / 100):
    """The detection limits from plain and seccomp runs (lists of load.Run)."""
    if len(plain) < 2:
        raise UserError("calibrate needs at least 2 plain runs to see run-to-run spread")
    first = plain[0]
    paths, kernel = {}, []
    for name, path in first.paths.items():
        base = _figures(plain, name)
        if base is None:
            continue
        logs = [math.log(v) for v in base]
        injected = _figures(seccomp, name) if seccomp else None
        slogs = [math.log(v) for v in injected] if injected else []
        sd = _pooled_sd(logs, slogs)
        entry = {"enters_kernel": path.enters_kernel, **_limits(sd, target, threshold)}
        if slogs:
            entry["seccomp_shift"] = math.expm1(statistics.fmean(slogs) - statistics.fmean(logs))
        paths[name] = entry
        if path.enters_kernel:
            kernel.append((name, logs, slogs))
    family = {}
    if len(kernel) >= thresholds.MIN_FAMILY_PATHS:
        centre = {name: statistics.fmean(logs) for name, logs, _ in kernel}

        plain_levels = [statistics.median(logs[i] - centre[name] for name, logs, _ in kernel)
                        for i in range(len(plain))]
        secc_levels = []
        if seccomp and all(slogs for _, _, slogs in kernel):
            secc_levels = [statistics.median(slogs[i] - centre[name]
                                             for name, _, slogs in kernel)
                           for i in range(len(seccomp))]
        family = _limits(_pooled_sd(plain_levels, secc_levels), target, threshold)
        family["paths"] = len(kernel)
        if secc_levels:
            family["seccomp_shift"] = math.expm1(statistics.fmean(secc_levels)
                                                 - statistics.fmean(plain_levels))
    pairs = {"aa": [], "seccomp": []}
    for a, b in zip(plain, plain[1:]):
        pairs["aa"].append(_pair(comparison.compare_runs(a, b, threshold_pct=threshold * 100)))
    for a, b in zip(plain, seccomp):
        pairs["seccomp"].append(_pair(comparison.compare_runs(a, b,
                                                           threshold_pct=threshold * 100)))
    return {
        "host_fingerprint": store.host_fingerprint(first.context),
        "host_name": first.host, "kernel": first.kernel,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "runs": {"plain": len(plain), "seccomp": len(seccomp)},
        "settings": first.context.get("sysgate_command", ""),
        "threshold": threshold, "target": target,
        "kernel_entry": family, "paths": paths, "pairs": pairs,
    }


def _pair(c):
    """What compare said about one pair, for the calibration record."""
    kernel = [r for r in c.rows if r.result and r.enters_kernel]
    family = c.kernel_entry
    return {
        "exit_code": c.exit_code,
        "kernel_entry": family.verdict if family else None,
        "kernel_entry_change": family.change if family else None,
        "delta_ns": family.delta_ns if family else None,
        "delta_interval_ns": [family.low_ns, family.high_ns] if family else None,
        "reference_ns": family.reference_ns if family else None,
        "drift": c.drift.change if c.drift else None,
        "regressions": len(c.regressions),
        "kernel_paths": len(kernel),
        "controls_flagged": len([r for r in c.rows if r.is_control and r.result
                                 and r.result.verdict in (stats.REGRESSION,
                                                          stats.IMPROVEMENT)]),
        "withheld": c.withheld,
    }


def detection_curve(plain, levels, threshold=thresholds.THRESHOLD_PCT / 100):
    """The detection limit as a curve: for each graded slowdown (levels: {loads: runs,
    alternated with the plain runs}), the delta it injected (ns per entry, the median of
    its pairs' estimates) and the fraction of pairs compare calls a kernel-entry
    REGRESSION (exit 1) with one run a side and with three; the A/A false-alarm rate from
    consecutive plain pairs; and the limit from the A/A intervals: the delta per entry
    that clears the kernel-entry threshold with its interval, in ns and in % of the
    reference round trip."""

    def judged(base, new):
        return _pair(comparison.compare_runs(base, new, threshold_pct=threshold * 100,
                                          force=True))

    aa = [judged(a, b) for a, b in zip(plain, plain[1:])]
    limits = [(p["delta_interval_ns"][1] - p["delta_interval_ns"][0]) / 2
              for p in aa if p["delta_interval_ns"]]
    reference = statistics.median([p["reference_ns"] for p in aa if p["reference_ns"]] or
                                  [math.nan])
    entry_threshold = threshold * thresholds.ENTRY_THRESHOLD_PCT / thresholds.THRESHOLD_PCT
    limit_ns = (entry_threshold * reference + statistics.median(limits)
                if limits else math.nan)
    curve = []
    for loads, runs in sorted(levels.items()):
        ones = [judged(a, b) for a, b in zip(plain, runs)]
        threes = [judged(plain[i:i + 3], runs[i:i + 3])
                  for i in range(0, min(len(plain), len(runs)) - 2, 3)]
        deltas = [p["delta_ns"] for p in ones if p["delta_ns"] is not None]
        curve.append({
            "loads": loads,
            "delta_ns": statistics.median(deltas) if deltas else None,
            "delta_pct": (statistics.median(deltas) / reference if deltas else None),
            "detected_1run": _fraction(ones), "pairs_1run": len(ones),
            "detected_3runs": _fraction(threes) if threes else None,
            "pairs_3runs": len(threes),
        })
    return {
        "aa_pairs": len(aa), "aa_false_alarms": sum(p["exit_code"] == 1 for p in aa),
        "aa_no_change": sum(p["kernel_entry"] == stats.NO_CHANGE for p in aa),
        "reference_ns": reference, "limit_ns_1run": limit_ns,
        "limit_pct_1run": limit_ns / reference if reference else math.nan,
        "levels": curve,
    }


def _fraction(pairs):
    return sum(p["kernel_entry"] == stats.REGRESSION and p["exit_code"] == 1
               for p in pairs) / len(pairs) if pairs else None


def render_curve(curve):
    lines = [f"detection limit with one run a side: {_ns(curve['limit_ns_1run'])} per "
             f"entry ({_pct(curve['limit_pct_1run'])} of the cheapest round trip, "
             f"{curve['reference_ns']:.0f} ns); A/A: {curve['aa_false_alarms']} false "
             f"alarm(s) and {curve['aa_no_change']} 'no change' in {curve['aa_pairs']} pairs"]
    for level in curve["levels"]:
        three = ("-" if level["detected_3runs"] is None
                 else f"{level['detected_3runs'] * 100:.0f}% of {level['pairs_3runs']}")
        lines.append(
            f"seccomp filter of {level['loads']} loads: {_ns(level['delta_ns'])} per entry "
            f"({_pct(level['delta_pct'])}); REGRESSION in "
            f"{level['detected_1run'] * 100:.0f}% of {level['pairs_1run']} pairs with one "
            f"run a side, {three} with three")
    return "\n".join(lines)


def _ns(value):
    return "unknown" if value is None or math.isnan(value) else f"{value:+.1f} ns"


def _pct(value):
    return "unknown" if value is None or math.isnan(value) else f"{value * 100:.1f}%"


def render(result, limit_paths=12):
    family = result["kernel_entry"]
    lines = [f"calibration of {result['host_name']} ({result['kernel']}): "
             f"{result['runs']['plain']} plain and {result['runs']['seccomp']} seccomp runs, "
             f"threshold {result['threshold'] * 100:g}%, target {result['target'] * 100:g}%"]
    if family:
        lines.append(
            f"kernel entry ({family['paths']} paths): run-to-run sd "
            f"{_pct(math.expm1(family['sd_log']) if family['sd_log'] is not None else None)}; "
            f"minimum detectable effect {_pct(family['mde_1run'])} with 1 run per side, "
            f"{_pct(family['mde_3runs'])} with 3; {family['runs_for_target']} run(s) per side "
            f"for {result['target'] * 100:g}%"
            + (f"; seccomp injected {_pct(family['seccomp_shift'])}"
               if "seccomp_shift" in family else ""))
    rows = []
    for name, p in sorted(result["paths"].items(),
                          key=lambda item: (not item[1]["enters_kernel"], item[0])):
        rows.append((name, "yes" if p["enters_kernel"] else "no (control)",
                     _pct(p["mde_1run"]), _pct(p["mde_3runs"]),
                     str(p["runs_for_target"] or "-"), _pct(p.get("seccomp_shift"))))
    lines.append(format_table(
        ("path", "enters kernel", "MDE 1 run", "MDE 3 runs",
         f"runs for {result['target'] * 100:g}%", "seccomp shift"),
        rows[:limit_paths] if limit_paths else rows, right={2, 3, 4, 5}))
    if limit_paths and len(rows) > limit_paths:
        lines.append(f"... {len(rows) - limit_paths} more paths in the calibration file")
    for kind, what in (("aa", "A/A pairs"), ("seccomp", "plain vs seccomp pairs")):
        for i, pair in enumerate(result["pairs"][kind], 1):
            lines.append(
                f"{what} #{i}: kernel entry {pair['kernel_entry']} "
                f"{_pct(pair['kernel_entry_change'])}, {pair['regressions']} of "
                f"{pair['kernel_paths']} paths flagged, controls flagged "
                f"{pair['controls_flagged']}, exit {pair['exit_code']}")
    return "\n".join(lines)


# --- CLI -----------------------------------------------------------------------------


def _loads(text):
    import argparse

    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items or not all(item.isdigit() and int(item) <= 4095 for item in items):
        raise argparse.ArgumentTypeError(f"{text!r}: whole numbers 0 to 4095, by commas")
    return sorted(set(int(item) for item in items))


def _cmd_calibrate(args):
    if args.runs < 2:
        raise UserError(f"--runs {args.runs}: at least 2 (the spread needs two runs)")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    work = Path(args.work or store.REPO_ROOT / "reports" / f"calibrate-{stamp}")
    atomic.check_writable_folder(work, "--work")  # before any minute of measuring
    atomic.check_writable_file(args.output, "-o")
    if not args.no_build:
        from ..bench import build

        build.build()
    settings = {"repetitions": args.repetitions, "processes": args.processes,
                "min_time": args.min_time, "filter": args.filter, "cpu": args.cpu,
                "quick": args.quick}
    print(f"calibrate: {args.runs} plain and {args.runs} seccomp runs, alternated, in {work}",
          flush=True)
    plain, levels = [], {loads: [] for loads in args.loads}
    for i in range(args.runs):
        plain.append(load.load(measure_run(work / f"plain-{i}", settings)))
        for loads, runs in levels.items():
            name = f"seccomp-{i}" if loads == 0 else f"seccomp{loads}-{i}"
            runs.append(load.load(measure_run(work / name, settings, seccomp=loads)))
    result = analyse(plain, levels[args.loads[0]], args.threshold / 100, args.target / 100)
    result["curve"] = detection_curve(plain, levels, args.threshold / 100)
    result["work"] = str(work)
    print(render(result, limit_paths=0 if args.all else 12))
    print(render_curve(result["curve"]))
    saved = save(result, args.output)
    print(f"calibration: {saved}")
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "calibrate", help="measure the detection limit of compare on this machine",
        description="Alternate plain runs and runs under an allow-all seccomp filter (a "
                    "real kernel-entry slowdown, no root needed) and report the minimum "
                    "detectable effect per path and for the kernel entry, and the runs "
                    "needed for a target. Results of an interrupted calibration in --work "
                    "are reused.",
    )
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                        help=f"runs of each kind (default {DEFAULT_RUNS})")
    parser.add_argument("--loads", type=_loads, default=DEFAULT_LOADS, metavar="L[,L...]",
                        help="the graded slowdowns: seccomp filters of L argument loads "
                        "each (0: the bare allow-all filter), runs of each alternated "
                        "with the plain runs (default "
                        f"{','.join(map(str, DEFAULT_LOADS))})")
    parser.add_argument("--repetitions", type=int, metavar="N", help="as for `sysgate run`")
    parser.add_argument("--processes", type=int, metavar="P", help="as for `sysgate run`")
    parser.add_argument("--min-time", type=float, metavar="S", help="as for `sysgate run`")
    parser.add_argument("--filter", metavar="REGEX", help="only these paths (faster)")
    parser.add_argument("--cpu", metavar="N|none", help="as for `sysgate run`")
    parser.add_argument("--quick", action="store_true", help="quick runs (a smoke test only)")
    parser.add_argument("--target", type=validate.non_negative,
                        default=thresholds.CALIBRATE_TARGET_PCT,
                        metavar="PCT",
                        help="the shift to plan for (default "
                        f"{thresholds.CALIBRATE_TARGET_PCT:g}%%)")
    parser.add_argument("--threshold", type=validate.non_negative, default=thresholds.THRESHOLD_PCT,
                        metavar="PCT",
                        help=f"compare's threshold (default {thresholds.THRESHOLD_PCT:g}%%)")
    parser.add_argument("--work", metavar="DIR",
                        help="folder for the runs (default reports/calibrate-<date>); "
                        "runs already in it are reused")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_FILE, metavar="FILE",
                        help="calibration file (default reports/calibration.json)")
    parser.add_argument("--all", action="store_true", help="list every path")
    parser.add_argument("--no-build", action="store_true", help="use the existing build")
    parser.set_defaults(func=_cmd_calibrate)
