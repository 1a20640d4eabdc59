"""Statistics over repetition samples, read with the thresholds of core/thresholds.py.

Formulas come from scipy and numpy, not by hand. docs/regressions.md explains the
choices; core/thresholds.py is the only place a threshold's value is written.

The leading figure of a run is the k-best mean: the mean of the k fastest repetitions
(LEBench's choice). On a VM the host moves syscall costs by 15-20% in phases of a few
seconds; repetitions are interleaved across paths, so the fastest few of a path come from
the quiet phases and the k-best mean is far steadier run to run than the median.

compare tests the same kind of figure: the mean of the fastest quarter of a side's
repetitions (the "low-quarter mean"; with the default 12 repetitions it is the k-best mean
of 3). Its interval comes from a bootstrap in which the unit of independence is the run:
with several runs on a side, runs are drawn with replacement and then repetitions within
each drawn run (repetitions of one process share its address-space layout and the host's
phase, so they are not independent draws). Its p-value comes from a permutation test of
the repetitions (permutation_p), which holds its level for any statistic.
"""

import functools
import math
import statistics
from dataclasses import dataclass

from ..core.thresholds import (
    ALPHA, CONFIDENCE, INTERVAL_RESAMPLES, KBEST_DEFAULT, LOW_FRACTION, MIN_FAMILY_PATHS,
    MIN_PROCESSES, MIN_REPETITIONS, RESAMPLES, RUN_RESAMPLES, RUN_UNIT_MIN, SEED, THRESHOLD_PCT)

REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE = (
    "regression", "improvement", "no change", "inconclusive")


def kbest_k(n, k=KBEST_DEFAULT):
    """How many of n repetitions the k-best mean averages: k, but never more than a third
    of them (so 3 repetitions give the minimum, not the plain mean)."""
    return max(1, min(k, n // 3))


def kbest_mean(samples, k=KBEST_DEFAULT):
    """Mean of the kbest_k(len(samples), k) smallest samples."""
    if not samples:
        return math.nan
    best = sorted(samples)[: kbest_k(len(samples), k)]
    return statistics.fmean(best)


def median(samples):
    return statistics.median(samples) if samples else math.nan


def cv(samples):
    """Coefficient of variation (stdev / mean); 0 for fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    mean = statistics.fmean(samples)
    return statistics.stdev(samples) / mean if mean else 0.0


def bootstrap_median_ci(samples, confidence=CONFIDENCE, resamples=INTERVAL_RESAMPLES, seed=0):
    """(low, high) bootstrap confidence interval of the median; (nan, nan) if < 2 samples."""
    if len(samples) < 2 or len(set(samples)) < 2:
        value = median(samples)
        return (value, value)
    import numpy  # imported late: `sysgate run` must start without scipy
    from scipy import stats

    result = stats.bootstrap(
        (list(samples),), numpy.median, confidence_level=confidence,
        n_resamples=resamples, method="percentile", random_state=seed, vectorized=True,
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


# --- the compare figure and its bootstrap ------------------------------------------------


def low_mean(values, fraction=LOW_FRACTION):
    """Mean of the fastest `fraction` of the values along the last axis (NaN = absent),
    at least one value. Works on one sample list or on a (draws, n) array at once."""
    import numpy as np

    array = np.sort(np.asarray(values, dtype=float), axis=-1)  # NaN sorts last
    counts = np.sum(~np.isnan(array), axis=-1)
    k = np.maximum(1, np.floor(counts * fraction + 0.5)).astype(int)
    sums = np.take_along_axis(np.nancumsum(array, axis=-1), (k - 1)[..., None], axis=-1)
    result = sums[..., 0] / k
    return float(result) if result.ndim == 0 else result


def run_figure(samples, fraction=LOW_FRACTION):
    """low_mean of one run's repetitions, in plain Python (the store computes it when a
    run is imported, where numpy need not be installed): the same order of additions as
    low_mean, so both give the same float. None for no samples."""
    values = sorted(float(x) for x in samples)
    if not values:
        return None
    k = max(1, math.floor(len(values) * fraction + 0.5))
    total = 0.0
    for value in values[:k]:
        total += value
    return total / k


def bootstrap_draws(runs, resamples=RESAMPLES, seed=SEED):
    """A (resamples, repetitions) array of bootstrap draws of one side's runs pooled.

    One run: its repetitions drawn with replacement. Several: runs drawn with replacement
    (the unit of independence), then the repetitions of each drawn run; NaN pads runs of
    unequal length. The run draws depend only on the seed and the number of runs, so every
    path of one comparison sees the same draws of runs, which keeps the kernel-entry
    family's replicates coherent."""
    import numpy as np

    runs = [np.asarray(run, dtype=float) for run in runs if len(run)]
    run_rng = np.random.default_rng([seed, 1])
    rep_rng = np.random.default_rng([seed, 2])
    if len(runs) == 1:
        picks = np.zeros((resamples, 1), dtype=int)
    else:
        picks = run_rng.integers(0, len(runs), size=(resamples, len(runs)))
    longest = max(len(run) for run in runs)
    drawn = np.full((resamples, len(runs), longest), np.nan)
    for index, run in enumerate(runs):
        rows, slots = np.nonzero(picks == index)
        if rows.size:
            drawn[rows, slots, : len(run)] = run[
                rep_rng.integers(0, len(run), size=(rows.size, len(run)))]
    return drawn.reshape(resamples, -1)


def bootstrap_figures(runs, resamples=RESAMPLES, seed=SEED):
    """Bootstrap replicates of low_mean over one side's runs pooled (bootstrap_draws)."""
    return low_mean(bootstrap_draws(runs, resamples, seed))


def bootstrap_medians(runs, resamples=INTERVAL_RESAMPLES, seed=SEED):
    """Bootstrap replicates of the pooled median of one side's runs (bootstrap_draws)."""
    import numpy as np

    return np.nanmedian(bootstrap_draws(runs, resamples, seed), axis=1)


@dataclass
class Shift:
    """The change of one path's figure from base to new, with its evidence."""

    base_value: float  # low_mean of the base side's repetitions, ns
    new_value: float
    change: float  # fraction: 0.05 = 5% slower
    ci_low: float
    ci_high: float
    p_value: float  # Holm-adjusted over the paths of a comparison when there are several
    verdict: str
    p_raw: float = math.nan  # the p-value of this path alone (permutation test; the
    # kernel-entry family's is a bootstrap p-value, a single test)
    n_base: int = 0  # repetitions, all runs together
    n_new: int = 0
    runs_base: int = 1
    runs_new: int = 1
    enough: bool = True  # enough repetitions/processes for any verdict but "inconclusive"
    settle_factor: float | None = None  # x the samples that would settle an inconclusive one
    # With the machine's drift taken out (entry_model.corrected), change and its interval
    # are the drift-corrected ones and this is the change as measured.
    raw_change: float = math.nan

    # Names trend.py and older callers read.
    @property
    def base_median(self):
        return self.base_value

    @property
    def new_median(self):
        return self.new_value


@dataclass(frozen=True)
class Replicates:
    """Bootstrap replicates of one path's two side figures (numpy arrays, ns): every path
    of a comparison sees the same runs drawn, so they combine across paths."""

    base: object
    new: object

    @property
    def change(self):
        return self.new / self.base - 1.0

    def __len__(self):
        return len(self.base)


def _change_replicates(replicates):
    """The change replicates of a Replicates, or an array of them as given."""
    return replicates.change if isinstance(replicates, Replicates) else replicates


def bootstrap_p(replicates):
    """Two-sided bootstrap p-value of "no change" (ratio 0): twice the smaller tail."""
    import numpy as np

    count = len(replicates)
    below = (np.sum(replicates <= 0) + 1) / (count + 1)
    above = (np.sum(replicates >= 0) + 1) / (count + 1)
    return float(min(1.0, 2 * min(below, above)))


def permutation_p(base, new, resamples=RESAMPLES, seed=SEED):
    """Two-sided permutation p-value of "both sides' repetitions come from one
    distribution", on the log-ratio of their low_mean figures (scipy.stats.permutation_test).

    Unlike a bootstrap p-value, it holds its level whatever the statistic: with 12
    repetitions a side the percentile bootstrap of a low-quarter mean puts 2% of A/A pairs
    below p = 0.005 (4x too many), which Holm over 40 paths would turn into false
    regressions."""
    import numpy as np
    from scipy import stats as sps

    def statistic(x, y, axis=-1):
        return np.log(low_mean(np.moveaxis(y, axis, -1)) / low_mean(np.moveaxis(x, axis, -1)))

    result = sps.permutation_test(
        (np.asarray(base, dtype=float), np.asarray(new, dtype=float)), statistic,
        permutation_type="independent", vectorized=True, n_resamples=resamples,
        alternative="two-sided", random_state=np.random.default_rng(seed))
    return float(min(1.0, result.pvalue))


def interval(replicates, confidence=CONFIDENCE):
    import numpy as np

    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def verdict(change, low, high, p_value, alpha=ALPHA, threshold=THRESHOLD_PCT / 100,
            enough=True):
    """Three answers (Pinpoint's different / same / unknown):

    - regression / improvement: significant, and the whole interval beyond the threshold;
    - no change: the whole interval within +-threshold, so a change of the threshold or
      more is ruled out;
    - inconclusive: anything else, and always when the samples are too few."""
    if not enough or any(math.isnan(v) for v in (change, low, high)):
        return INCONCLUSIVE
    if p_value < alpha and low > threshold:
        return REGRESSION
    if p_value < alpha and high < -threshold:
        return IMPROVEMENT
    if -threshold < low and high < threshold:
        return NO_CHANGE
    return INCONCLUSIVE


def settle_factor(change, low, high, threshold=THRESHOLD_PCT / 100):
    """By how much the samples would have to grow (x) for the interval to clear the
    threshold on one side or the other, assuming it narrows as 1/sqrt(n) around the same
    change; None when the change sits on the threshold (no sample size settles it)."""
    half = (high - low) / 2
    centre = (high + low) / 2
    target = abs(abs(centre) - threshold)
    if half <= 0:
        return 1.0
    if target < half * 0.1:
        return None
    return max(1.0, (half / target) ** 2)


def enough_samples(n, processes=None):
    """Whether a side has enough repetitions (and processes, when recorded) for a verdict."""
    return n >= MIN_REPETITIONS and (processes is None or processes >= MIN_PROCESSES)


def shift(base_runs, new_runs, alpha=ALPHA, threshold=THRESHOLD_PCT / 100,
          confidence=CONFIDENCE, seed=SEED, processes=(None, None), keep_replicates=False):
    """Compare one path's repetitions, base runs against new runs (lists of sample lists).

    Returns a Shift, and with keep_replicates also the bootstrap replicates of the change
    (numpy array) so that a family of paths can be combined."""
    base_runs = [[float(x) for x in run] for run in base_runs if len(run)]
    new_runs = [[float(x) for x in run] for run in new_runs if len(run)]
    if not base_runs or not new_runs:
        raise ValueError("shift needs samples on both sides")
    if min(len(base_runs), len(new_runs)) >= RUN_UNIT_MIN:
        return _shift_by_runs(base_runs, new_runs, alpha, threshold, confidence, seed,
                              keep_replicates)
    base = [x for run in base_runs for x in run]
    new = [x for run in new_runs for x in run]
    enough = (enough_samples(len(base), processes[0])
              and enough_samples(len(new), processes[1]))
    return _decide(
        low_mean(base), low_mean(new), len(set(base) | set(new)) < 2, RESAMPLES,
        lambda: Replicates(bootstrap_figures(base_runs, seed=seed),
                           bootstrap_figures(new_runs, seed=seed + 1)),
        lambda: permutation_p(base, new, seed=seed),
        (len(base), len(new), len(base_runs), len(new_runs), enough),
        alpha, threshold, confidence, keep_replicates)


def _decide(base_value, new_value, constant, resamples, draw, test, counts, alpha,
            threshold, confidence, keep_replicates):
    """The Shift of two side figures: the change, its interval from draw() (bootstrap
    Replicates of both side figures), its p-value from test(), and the verdict.
    `constant`: the samples cannot vary, so there is nothing to resample. counts =
    (n_base, n_new, runs_base, runs_new, enough)."""
    import numpy as np

    change = new_value / base_value - 1.0 if base_value > 0 else math.nan
    if constant or math.isnan(change):
        replicates = Replicates(np.full(resamples, float(base_value)),
                                np.full(resamples, float(new_value)))
        low = high = change
        p_raw = 1.0
    else:
        replicates = draw()
        low, high = interval(replicates.change, confidence)
        p_raw = test()
    decided = verdict(change, low, high, p_raw, alpha, threshold, counts[4])
    result = Shift(
        base_value, new_value, change, low, high, p_raw, decided, p_raw, *counts,
        settle_factor(change, low, high, threshold) if decided == INCONCLUSIVE else None,
    )
    return (result, replicates) if keep_replicates else result


def run_figures(runs):
    """One figure per run: low_mean of each run's repetitions (runs of unequal length)."""
    import numpy as np

    longest = max(len(run) for run in runs)
    padded = np.full((len(runs), longest), np.nan)
    for index, run in enumerate(runs):
        padded[index, : len(run)] = run
    return np.atleast_1d(low_mean(padded))


def bootstrap_run_medians(figures, resamples=RUN_RESAMPLES, seed=SEED):
    """Replicates of the median of the run figures, runs drawn with replacement. The
    draws use bootstrap_draws' run generator, so every path of a comparison sees the same
    runs drawn and the kernel-entry family's replicates stay coherent."""
    import numpy as np

    figures = np.asarray(figures, dtype=float)
    return _run_medians(figures.tobytes(), resamples, seed)


@functools.lru_cache(maxsize=256)
def _run_medians(figures_bytes, resamples, seed):
    """bootstrap_run_medians, cached: trend draws each kernel's runs for its point and
    again for the step on either side of it (the array is read-only: shared)."""
    import numpy as np

    figures = np.frombuffer(figures_bytes, dtype=float)
    n = len(figures)
    # The median of a draw is found from how many times the draw took each run, counted
    # in the order of the figures: the draw's middle order statistics are where the
    # running count crosses half of n. The same value np.median(figures[picks]) gives,
    # at a seventh of the cost (no partition of resamples x n floats per path).
    order = np.argsort(figures, kind="stable")
    ordered = figures[order]
    running = _pick_counts(n, resamples, seed)[order]  # a copy, summed in place
    for row in range(1, n):  # row by row: numpy's cumsum down the columns is 2x slower
        np.add(running[row], running[row - 1], out=running[row])
    low = np.sum(running < (n + 1) // 2, axis=0)
    high = np.sum(running < n // 2 + 1, axis=0)
    medians = (ordered[low] + ordered[high]) / 2
    medians.flags.writeable = False
    return medians


@functools.lru_cache(maxsize=32)
def _pick_counts(n, resamples, seed):
    """(n, resamples): how many times each draw of n runs out of n took each run, the
    draws of bootstrap_draws' run generator (so every path of a comparison sees the same
    runs drawn)."""
    import numpy as np

    picks = np.random.default_rng([seed, 1]).integers(0, n, size=(resamples, n))
    counts = np.bincount((picks + n * np.arange(resamples)[:, None]).ravel(),
                         minlength=resamples * n).reshape(resamples, n)
    counts = np.ascontiguousarray(counts.T, dtype=np.int16 if n < 2**15 else np.int64)
    counts.flags.writeable = False
    return counts


def side_figure(runs, confidence=CONFIDENCE, seed=SEED):
    """A side's figure and its interval, ns, the way shift() compares it: the low-quarter
    mean of the pooled repetitions, or with RUN_UNIT_MIN runs or more the median of the
    runs' own figures (trend's points, compare's whiskers)."""
    runs = [[float(x) for x in run] for run in runs if len(run)]
    if len(runs) >= RUN_UNIT_MIN:
        return figures_point(run_figures(runs), confidence, seed)
    pooled = [x for run in runs for x in run]
    value = low_mean(pooled)
    if len(pooled) < 2:
        return value, (value, value)
    draws = bootstrap_figures(runs, resamples=INTERVAL_RESAMPLES, seed=seed)
    return value, interval(draws, confidence)


def figures_point(figures, confidence=CONFIDENCE, seed=SEED):
    """side_figure of a side given as its runs' own figures (RUN_UNIT_MIN runs or more):
    their median and its interval over runs drawn with replacement. Trend reads the
    figures from the store, which keeps each run's, without decoding a sample."""
    import numpy as np

    figures = np.asarray(figures, dtype=float)
    return float(np.median(figures)), interval(bootstrap_run_medians(figures, seed=seed),
                                               confidence)


def _shift_by_runs(base_runs, new_runs, alpha, threshold, confidence, seed, keep_replicates):
    """shift() with the run as the unit (RUN_UNIT_MIN runs or more a side)."""
    counts = (sum(len(run) for run in base_runs), sum(len(run) for run in new_runs))
    return shift_of_figures(run_figures(base_runs), run_figures(new_runs), counts, alpha,
                            threshold, confidence, seed, keep_replicates)


def shift_of_figures(base, new, repetitions, alpha=ALPHA, threshold=THRESHOLD_PCT / 100,
                     confidence=CONFIDENCE, seed=SEED, keep_replicates=False):
    """shift() by runs, each side given as its runs' figures (low_mean of each run's
    repetitions; RUN_UNIT_MIN runs or more a side); repetitions = (base, new), all runs
    together, for the record."""
    import numpy as np
    from scipy import stats as sps

    base, new = np.asarray(base, dtype=float), np.asarray(new, dtype=float)
    counts = (*repetitions, len(base), len(new), True)
    return _decide(
        float(np.median(base)), float(np.median(new)),
        len(set(base.tolist()) | set(new.tolist())) < 2, RUN_RESAMPLES,
        lambda: Replicates(bootstrap_run_medians(base, seed=seed),
                           bootstrap_run_medians(new, seed=seed + 1)),
        lambda: float(sps.mannwhitneyu(base, new, alternative="two-sided").pvalue),
        counts, alpha, threshold, confidence, keep_replicates)


def family_shift(shifts, replicates, alpha=ALPHA, threshold=THRESHOLD_PCT / 100,
                 confidence=CONFIDENCE, min_paths=MIN_FAMILY_PATHS):
    """The common shift of a family of paths: the median over the paths of their
    log-ratios, with the interval of that median over the same bootstrap replicates (the
    runs drawn are the same for every path, see bootstrap_figures). The median lets a few
    paths that moved for their own reasons not move the family. Returns a Shift whose
    base/new values are NaN (it is a ratio, not a time), or None for too few paths."""
    import numpy as np

    if len(shifts) < max(1, min_paths):
        return None
    points = np.log1p([s.change for s in shifts])
    # Paths compared by runs carry fewer draws than paths compared by repetitions; the
    # first draws of both come from the same run generator, so keep the common length.
    replicates = [_change_replicates(r) for r in replicates]
    common = min(len(r) for r in replicates)
    draws = np.log1p(np.vstack([r[:common] for r in replicates]))
    change = float(np.expm1(np.median(points)))
    combined = np.expm1(np.median(draws, axis=0))
    low, high = interval(combined, confidence)
    p_value = bootstrap_p(combined)
    enough = all(s.enough for s in shifts)
    decided = verdict(change, low, high, p_value, alpha, threshold, enough)
    return Shift(
        math.nan, math.nan, change, low, high, p_value, decided, p_value,
        min(s.n_base for s in shifts), min(s.n_new for s in shifts),
        shifts[0].runs_base, shifts[0].runs_new, enough,
        settle_factor(change, low, high, threshold) if decided == INCONCLUSIVE else None,
    )


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


def mde(sd_log, runs, z_alpha=1.96, z_power=0.84):
    """Minimum detectable effect (fraction) of a two-sided test at 95% with 80% power,
    two sides of `runs` runs each, from the run-to-run standard deviation of a path's log
    figure: (z_a + z_b) * sd * sqrt(2 / runs)."""
    if runs <= 0 or math.isnan(sd_log):
        return math.nan
    return math.expm1((z_alpha + z_power) * sd_log * math.sqrt(2.0 / runs))


def runs_needed(sd_log, target, z_alpha=1.96, z_power=0.84):
    """Runs per side for mde(sd_log, runs) <= target (fraction)."""
    if target <= 0 or math.isnan(sd_log):
        return None
    return max(1, math.ceil(2.0 * ((z_alpha + z_power) * sd_log / math.log1p(target)) ** 2))


def percentile_bootstrap(samples, statistic, confidence=CONFIDENCE,
                         resamples=INTERVAL_RESAMPLES, seed=0):
    """(low, high) percentile-bootstrap interval of statistic(*drawn), each sample list
    drawn with replacement on its own (independent samples), `statistic` vectorized over
    the last axis. The same percentile bootstrap as scipy.stats.bootstrap(method=
    "percentile"), written with numpy alone: importing scipy.stats costs the report a
    third of a second, more than all of its intervals together."""
    import numpy as np

    rng = np.random.default_rng(seed)
    drawn = []
    for sample in samples:
        values = np.asarray(sample, dtype=float)
        drawn.append(values[rng.integers(0, len(values), size=(resamples, len(values)))])
    return interval(statistic(*drawn), confidence)


def bootstrap_kbest_ci(samples, confidence=CONFIDENCE, resamples=INTERVAL_RESAMPLES, seed=0,
                       k=KBEST_DEFAULT):
    """(low, high) percentile-bootstrap interval of the k-best mean (the report's leading
    figure, on its bars and table rows); (value, value) when the samples cannot vary."""
    if len(samples) < 2 or len(set(samples)) < 2:
        value = kbest_mean(samples, k)
        return (value, value)
    import numpy as np

    take = kbest_k(len(samples), k)

    def statistic(data):
        return np.sort(data, axis=-1)[..., :take].mean(axis=-1)

    return percentile_bootstrap([list(samples)], statistic, confidence, resamples, seed)
