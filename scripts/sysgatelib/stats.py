"""Statistics over repetition samples. Formulas come from scipy, not by hand.

The figure sysgate leads with is the k-best mean: the mean of the k fastest repetitions
(LEBench's choice). On a VM the host moves syscall costs by 15-20% in phases of a few
seconds; repetitions are interleaved across paths, so the fastest few of a path come from
the quiet phases and the k-best mean is far steadier run to run than the median. The
median and its bootstrap confidence interval are reported beside it.
"""

import math
import statistics

KBEST_DEFAULT = 3


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


def bootstrap_median_ci(samples, confidence=0.95, resamples=2000, seed=0):
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


def bootstrap_kbest_ci(samples, confidence=0.95, resamples=2000, seed=0, k=KBEST_DEFAULT):
    """(low, high) percentile-bootstrap interval of the k-best mean (the leading figure);
    (value, value) when the samples cannot vary."""
    if len(samples) < 2 or len(set(samples)) < 2:
        value = kbest_mean(samples, k)
        return (value, value)
    import numpy  # imported late: `sysgate run` must start without scipy
    from scipy import stats

    take = kbest_k(len(samples), k)

    def statistic(data, axis=-1):
        return numpy.sort(data, axis=axis)[..., :take].mean(axis=-1)

    result = stats.bootstrap(
        (list(samples),), statistic, confidence_level=confidence, n_resamples=resamples,
        method="percentile", random_state=seed, vectorized=True,
    )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))
