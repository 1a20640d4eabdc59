"""A comparison (verdicts/comparison.py) as the terminal reads it: the headline, the
controls, the rule, the table and the result line. The page (compare_report.py) and the CI
formats take the same lines from here."""

import math

from ..core import thresholds, units
from ..core.units import format_ns, format_p, format_pct
from ..results import envdiff
from ..verdicts import stats
from ..verdicts.stats import NO_CHANGE
from .table import format_table
from .verdict_text import shown as _shown




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
        f"verdict: regression/improvement needs the {thresholds.CONFIDENCE:.0%} interval beyond "
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
