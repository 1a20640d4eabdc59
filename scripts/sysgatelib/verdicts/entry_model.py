"""The kernel-entry model of a comparison: new = (1 + drift) x base + delta x entries.

A kernel change adds nanoseconds to every entry into the kernel (a seccomp program, an
audit hook, a longer entry path): the same +12.5 ns is +10% of a 125 ns getpid and +1% of
a 1 us stat. The host's speed drifts multiplicatively and moves every path, the ones that
never enter the kernel (the controls: baselines and vDSO rows, interleaved in the same
runs) as much as the rest. So a comparison is read in two numbers:

- the drift, from the controls: the median of their log-ratios;
- delta, the nanoseconds added per kernel entry: for each path that enters the kernel,
  (new - (1 + drift) x base) / expected entries, combined by a weighted median (each path
  weighted by the inverse variance of its own estimate, no path more than
  thresholds.ENTRY_WEIGHT_CAP times the median weight, so a few precise paths lead but
  none decides alone, and paths that moved for their own reasons do not move it).

Both come with intervals from the same bootstrap replicates (coherent: every path sees the
same runs drawn, see stats.bootstrap_draws), so the interval of delta carries the
uncertainty of the drift too. The verdict is on delta relative to the cheapest syscall
round trip measured on both sides (getpid/syscall, usually), against the kernel-entry
threshold. When the controls are too few or too noisy the drift is not removed (delta
then absorbs it) and the result says so. Pure: numbers in, numbers out (no printing).
"""

import math
from dataclasses import dataclass, field

from ..core import thresholds
from . import stats


@dataclass
class PathFigures:
    """One path of a comparison as the model reads it: both sides' figures (ns) and their
    bootstrap replicates (numpy arrays, the same draws of runs for every path)."""

    name: str
    entries: float  # expected kernel entries per call; 0 for a control
    base: float
    new: float
    base_reps: object
    new_reps: object
    enough: bool = True
    n_base: int = 0  # repetitions, all runs together
    n_new: int = 0


@dataclass
class Drift:
    """The machine's speed change between the sides, from the controls (fraction)."""

    change: float
    ci_low: float
    ci_high: float
    controls: int
    removed: bool  # taken out of delta and of the per-path changes
    note: str = ""  # why it was not removed


@dataclass
class Misfit:
    """A kernel path whose change the model does not explain: it moved for its own reasons."""

    name: str
    residual_ns: float  # new - (1 + drift) x base - delta x entries
    ci_low: float
    ci_high: float
    relative: float  # residual over the drift-corrected base figure


@dataclass
class EntryCost:
    """The kernel-entry verdict: nanoseconds added per entry, with its evidence.

    change, ci_low and ci_high are delta relative to the reference round trip (fractions),
    so that the verdict, the threshold and the charts read like a path's shift."""

    delta_ns: float
    low_ns: float
    high_ns: float
    reference_ns: float  # the cheapest single-entry round trip, mean of both sides
    reference_path: str
    change: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: str
    threshold: float  # fraction of the reference
    drift: Drift
    paths: int
    misfits: list = field(default_factory=list)
    enough: bool = True
    settle_factor: float | None = None
    runs_base: int = 1
    runs_new: int = 1
    n_base: int = 0  # the fewest repetitions of a kernel path, all runs together
    n_new: int = 0

    @property
    def threshold_ns(self):
        return self.threshold * self.reference_ns


def drift(controls, confidence=thresholds.CONFIDENCE):
    """The drift from the controls (a list of PathFigures), and its replicates (a numpy
    array; zeros when the drift is not removed)."""
    import numpy as np

    usable = [c for c in controls if c.base > 0 and c.new > 0]
    if not usable:
        return Drift(0.0, 0.0, 0.0, 0, False, "no control measured on both sides"), 0.0
    common = min(len(c.base_reps) for c in usable)
    point = float(np.expm1(np.median([math.log(c.new / c.base) for c in usable])))
    logs = np.log(np.vstack([c.new_reps[:common] / c.base_reps[:common] for c in usable]))
    reps = np.expm1(np.median(logs, axis=0))
    low, high = stats.interval(reps, confidence)
    if len(usable) < thresholds.MIN_CONTROLS:
        return Drift(point, low, high, len(usable), False,
                     f"{len(usable)} control(s) measured on both sides, {thresholds.MIN_CONTROLS} "
                     "needed"), np.zeros(common)
    if (high - low) / 2 > thresholds.DRIFT_NOISE_LIMIT:
        return Drift(point, low, high, len(usable), False,
                     f"the controls are too noisy (interval ±{(high - low) / 2 * 100:.1f}%, "
                     f"limit ±{thresholds.DRIFT_NOISE_LIMIT * 100:g}%)"), np.zeros(common)
    return Drift(point, low, high, len(usable), True), reps


def weighted_median(values, weights):
    """The weighted median along axis 0 of values (paths x replicates, or paths), weights
    per path: the smallest value at which the cumulative weight reaches half the total."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    order = np.argsort(values, axis=0)
    ordered = np.take_along_axis(values, order, axis=0)
    cumulative = np.cumsum(weights[order], axis=0)
    index = np.argmax(cumulative >= cumulative[-1] / 2.0, axis=0)
    return np.take_along_axis(ordered, np.expand_dims(index, 0), axis=0)[0]


def _weights(per_entry_reps):
    """Inverse-variance weights of the paths' own delta estimates, capped."""
    import numpy as np

    variance = np.var(per_entry_reps, axis=1)
    positive = variance[variance > 0]
    floor = float(np.min(positive)) if positive.size else 1.0
    weights = 1.0 / np.maximum(variance, floor)
    return np.minimum(weights, thresholds.ENTRY_WEIGHT_CAP * float(np.median(weights)))


def _reference(kernel):
    """The cheapest round trip that enters the kernel once (mean of both sides' figures)."""
    single = [p for p in kernel if p.entries == 1] or kernel
    cheapest = min(single, key=lambda p: p.base + p.new)
    return (cheapest.base + cheapest.new) / 2, cheapest.name


def entry_cost(kernel, controls, alpha=thresholds.ALPHA,
               threshold=thresholds.ENTRY_THRESHOLD_PCT / 100,
               path_threshold=thresholds.THRESHOLD_PCT / 100, confidence=thresholds.CONFIDENCE,
               runs=(1, 1), min_paths=thresholds.MIN_FAMILY_PATHS):
    """The EntryCost of a comparison from its kernel paths and controls (PathFigures), and
    the drift's replicates (for the paths' drift-corrected changes); None for fewer than
    min_paths kernel paths."""
    import numpy as np

    kernel = [p for p in kernel if p.base > 0 and p.new > 0 and p.entries > 0]
    shift, drift_reps = drift(controls, confidence)
    if len(kernel) < max(1, min_paths):
        return None, shift, drift_reps
    common = min(len(p.base_reps) for p in kernel + [c for c in controls if c.base > 0])
    factor = 1.0 + (shift.change if shift.removed else 0.0)
    factor_reps = 1.0 + (np.asarray(drift_reps)[:common] if shift.removed
                         else np.zeros(common))
    entries = np.array([p.entries for p in kernel])[:, None]
    base = np.array([p.base for p in kernel])
    new = np.array([p.new for p in kernel])
    base_reps = np.vstack([p.base_reps[:common] for p in kernel])
    new_reps = np.vstack([p.new_reps[:common] for p in kernel])
    per_entry = (new - factor * base) / entries[:, 0]
    per_entry_reps = (new_reps - factor_reps * base_reps) / entries
    weights = _weights(per_entry_reps)
    delta = float(weighted_median(per_entry, weights))
    delta_reps = weighted_median(per_entry_reps, weights)
    low, high = stats.interval(delta_reps, confidence)
    reference, reference_path = _reference(kernel)
    change, rel_low, rel_high = delta / reference, low / reference, high / reference
    p_value = stats.bootstrap_p(delta_reps)
    enough = all(p.enough for p in kernel)
    verdict = stats.verdict(change, rel_low, rel_high, p_value, alpha, threshold, enough)
    misfits = _misfits(kernel, per_entry, per_entry_reps, delta, delta_reps, factor, base,
                       entries[:, 0], path_threshold, confidence)
    result = EntryCost(
        delta_ns=delta, low_ns=low, high_ns=high, reference_ns=reference,
        reference_path=reference_path, change=change, ci_low=rel_low, ci_high=rel_high,
        p_value=p_value, verdict=verdict, threshold=threshold, drift=shift,
        paths=len(kernel), misfits=misfits, enough=enough,
        settle_factor=(stats.settle_factor(change, rel_low, rel_high, threshold)
                       if verdict == stats.INCONCLUSIVE else None),
        runs_base=runs[0], runs_new=runs[1], n_base=min(p.n_base for p in kernel),
        n_new=min(p.n_new for p in kernel),
    )
    return result, shift, drift_reps


def _misfits(kernel, per_entry, per_entry_reps, delta, delta_reps, factor, base, entries,
             path_threshold, confidence):
    """Kernel paths whose residual (what the drift and delta do not explain) is clear of
    zero and beyond the per-path threshold of their drift-corrected figure."""
    residual = (per_entry - delta) * entries
    residual_reps = (per_entry_reps - delta_reps) * entries[:, None]
    found = []
    for index, path in enumerate(kernel):
        low, high = stats.interval(residual_reps[index], confidence)
        relative = residual[index] / (factor * base[index])
        if (low > 0 or high < 0) and abs(relative) > path_threshold:
            found.append(Misfit(path.name, float(residual[index]), low, high, relative))
    found.sort(key=lambda m: -abs(m.relative))
    return found


def corrected(path, shift, drift_reps, confidence=thresholds.CONFIDENCE):
    """A path's change with the drift taken out: new / ((1 + drift) x base) - 1, and its
    interval over the same replicates; the raw change when the drift is not removed."""
    import numpy as np

    if not shift.removed or not path.base > 0:
        return None
    common = min(len(path.base_reps), len(drift_reps))
    reps = (path.new_reps[:common]
            / ((1.0 + np.asarray(drift_reps)[:common]) * path.base_reps[:common]) - 1.0)
    low, high = stats.interval(reps, confidence)
    return path.new / ((1.0 + shift.change) * path.base) - 1.0, low, high
