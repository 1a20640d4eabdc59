"""Change points in a long series: E-Divisive means with a significance test.

The method the perf-CI systems use on long histories (MongoDB's signal processing, Daly
et al., ICPE 2020; Apache Otava, formerly Hunter, Fleming et al., ICPE 2023): find the
split of a series that maximises the energy statistic between its two sides (Matteson &
James 2014, E-Divisive with alpha = 1), accept it when a test says the sides differ, and
split each side again until no split is significant. Hunter replaced E-Divisive's
permutation test with Student's t-test between the two sides (deterministic and cheap);
both are here: `test="t"` (Student's t-test from scipy, Bonferroni-corrected for the
number of splits the best one was chosen from, which keeps noise from being split) and
`test="permutation"` (the share of shuffled series whose best split is as strong).

In a trend, the series is every repetition of every kernel in version order and splits
are allowed only between kernels (`candidates`), so a change point names the first
kernel of a new level, on top of the pairwise verdict between neighbours.
"""

import warnings
from dataclasses import dataclass

from ..core import thresholds



@dataclass(frozen=True)
class ChangePoint:
    index: int  # the first sample of the new level
    p_value: float
    before_mean: float  # mean of the segment before, up to the previous change point
    after_mean: float  # mean of the segment after, up to the next change point
    statistic: float  # the energy statistic of the split

    @property
    def change(self):
        """Relative change of the mean: +0.10 is 10% slower."""
        return self.after_mean / self.before_mean - 1 if self.before_mean else float("nan")


def _pair_sum(ordered):
    """The sum of |x_i - x_j| over the unordered pairs of sorted values: the k-th smallest
    of m is the larger of a pair k times and the smaller m - 1 - k times."""
    import numpy

    m = len(ordered)
    return float(numpy.dot(ordered, 2 * numpy.arange(m) - (m - 1))) if m > 1 else 0.0


def _energy(values, splits=None):
    """q(tau) for the splits of `values` asked (all by default; index = tau, the first
    sample of the right side, -inf where not asked): (m n / (m + n)) times the energy
    distance between the sides. In one dimension the sums of pairwise distances come from
    sorted values (_pair_sum), and the sum between the sides is the whole's minus each
    side's own: O(n log n) a split and no n x n matrix, so a trend's series need not be
    cut short for memory."""
    import numpy

    x = numpy.asarray(values, dtype=float)
    n = len(x)
    whole = _pair_sum(numpy.sort(x))
    q = numpy.full(n + 1, -numpy.inf)
    for tau in range(1, n) if splits is None else splits:
        m, k = tau, n - tau
        left = _pair_sum(numpy.sort(x[:tau]))
        right = _pair_sum(numpy.sort(x[tau:]))
        between = (whole - left - right) / (m * k)
        # Within each side: the mean over unordered pairs.
        within_left = 2 * left / (m * (m - 1)) if m > 1 else 0.0
        within_right = 2 * right / (k * (k - 1)) if k > 1 else 0.0
        q[tau] = m * k / (m + k) * (2 * between - within_left - within_right)
    return q


def _best_split(values, allowed, min_size):
    splits = [t for t in allowed if min_size <= t <= len(values) - min_size]
    if not splits:
        return None, None
    q = _energy(values, splits)
    best = max(splits, key=lambda t: q[t])
    return best, float(q[best])


def _p_value(values, tau, allowed, min_size, test, permutations, rng):
    if test == "t":
        from scipy import stats  # imported late: the CLI starts without scipy

        left, right = values[:tau], values[tau:]
        if len(set(left)) < 2 and len(set(right)) < 2:
            return 0.0 if left[0] != right[0] else 1.0  # no variance: the means decide
        # Student's t-test (pooled variance: a two-sample side cannot claim a tiny
        # variance of its own), Bonferroni-corrected for the splits the maximum was taken
        # over, since the split tested is the one that looked most different.
        tried = sum(1 for t in allowed if min_size <= t <= len(values) - min_size)
        with warnings.catch_warnings():
            # Sides of nearly equal values (a run figure stored many times over) make scipy
            # warn of precision loss; the pooled variance keeps the p-value sound.
            warnings.simplefilter("ignore", RuntimeWarning)
            p = float(stats.ttest_ind(left, right, equal_var=True).pvalue)
        return min(1.0, p * tried)
    _, observed = _best_split(values, allowed, min_size)
    exceed = 0
    shuffled = list(values)
    for _ in range(permutations):
        rng.shuffle(shuffled)
        _, q = _best_split(shuffled, allowed, min_size)
        exceed += q >= observed
    return (exceed + 1) / (permutations + 1)


def e_divisive(series, alpha=thresholds.CHANGEPOINT_ALPHA, candidates=None,
               min_size=thresholds.CHANGEPOINT_MIN_SIZE, test="t",
               permutations=thresholds.CHANGEPOINT_PERMUTATIONS, seed=0):
    """Change points of `series`, in order: [ChangePoint].

    candidates: the indices a new level may start at (all by default); min_size: the
    fewest samples each side of a split keeps. Splitting stops when the best split of
    every segment has p >= alpha. Each split tried costs a sort of the segment.
    """
    import random

    if test not in ("t", "permutation"):
        raise ValueError(f"unknown test {test!r}: 't' or 'permutation'")
    values = [float(v) for v in series]
    allowed = set(range(1, len(values))) if candidates is None else set(candidates)
    rng = random.Random(seed)
    found = []  # (index, p, statistic)
    segments = [(0, len(values))]
    while segments:
        start, end = segments.pop()
        part = values[start:end]
        local = sorted(t - start for t in allowed if start < t < end)
        tau, statistic = _best_split(part, local, min_size)
        if tau is None:
            continue
        p = _p_value(part, tau, local, min_size, test, permutations, rng)
        if p >= alpha:
            continue
        found.append((start + tau, p, statistic))
        segments += [(start, start + tau), (start + tau, end)]
    found.sort()
    bounds = [0] + [index for index, _, _ in found] + [len(values)]
    points = []
    for i, (index, p, statistic) in enumerate(found):
        before = values[bounds[i]:index]
        after = values[index:bounds[i + 2]]
        points.append(ChangePoint(index, p, sum(before) / len(before),
                                  sum(after) / len(after), statistic))
    return points
