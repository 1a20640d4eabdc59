"""stats: the figure, the three answers and the detection-limit arithmetic, on synthetic
samples."""

import math
import random

import pytest

from sysgatelib.core import thresholds
from sysgatelib.results import envdiff
from sysgatelib.verdicts import stats


def test_low_mean_is_the_mean_of_the_fastest_quarter():
    assert stats.low_mean([5.0, 1.0, 2.0, 3.0]) == 1.0
    assert stats.low_mean(list(range(12, 0, -1))) == 2.0  # 1, 2, 3
    assert stats.low_mean([7.0]) == 7.0
    # rows of a (draws, n) array, NaN = absent
    rows = stats.low_mean([[4.0, 1.0, 2.0, 3.0], [9.0, math.nan, math.nan, math.nan]])
    assert list(rows) == [1.0, 9.0]


@pytest.mark.parametrize("change, low, high, p, enough, expected", [
    (0.10, 0.07, 0.13, 0.001, True, stats.REGRESSION),
    (-0.10, -0.13, -0.07, 0.001, True, stats.IMPROVEMENT),
    (0.10, 0.07, 0.13, 0.2, True, stats.INCONCLUSIVE),  # not significant
    (0.06, 0.03, 0.09, 0.001, True, stats.INCONCLUSIVE),  # interval straddles 5%
    (0.01, -0.02, 0.03, 0.5, True, stats.NO_CHANGE),  # a 5% change is ruled out
    (0.01, -0.02, 0.03, 0.5, False, stats.INCONCLUSIVE),  # too few samples
    (0.00, -0.08, 0.08, 0.9, True, stats.INCONCLUSIVE),  # too wide to rule anything out
])
def test_three_answers(change, low, high, p, enough, expected):
    assert stats.verdict(change, low, high, p, 0.05, 0.05, enough) == expected


def _samples(seed, n, level=100.0, noise=0.02):
    rng = random.Random(seed)
    return [level * rng.lognormvariate(0, noise) for _ in range(n)]


def test_a_known_shift_is_found_and_none_is_no_change():
    found = stats.shift([_samples(1, 12)], [_samples(2, 12, 115.0)])
    assert found.verdict == stats.REGRESSION and found.ci_low > 0.05
    same = stats.shift([_samples(3, 12)], [_samples(4, 12)])
    assert same.verdict == stats.NO_CHANGE and -0.05 < same.ci_low < same.ci_high < 0.05


def test_three_repetitions_are_never_enough():
    for level in (100.0, 130.0):
        result = stats.shift([_samples(5, 3)], [_samples(6, 3, level)])
        assert result.verdict == stats.INCONCLUSIVE and not result.enough


def test_the_permutation_p_value_holds_its_level():
    # A/A pairs at 15% noise: p < 0.05 about 5% of the time, not 4x that.
    small = sum(stats.permutation_p(_samples(i, 12, noise=0.15),
                                    _samples(1000 + i, 12, noise=0.15), resamples=999) < 0.05
                for i in range(60))
    assert small <= 9


def test_runs_are_the_unit_of_the_interval():
    drift = [[x * level for x in _samples(i, 12, noise=0.005)]
             for i, level in enumerate((1.0, 1.06, 0.95))]
    one = stats.shift([drift[0]], [drift[1]])
    pooled = stats.shift(drift, [[x * 1.0 for x in _samples(9 + i, 12, noise=0.005)]
                                 for i in range(3)])
    assert one.ci_high - one.ci_low < pooled.ci_high - pooled.ci_low


def test_family_shift_is_the_median_of_the_paths():
    shifts, draws = [], []
    for i, level in enumerate((110.0, 112.0, 111.0, 100.0, 160.0)):
        s, r = stats.shift([_samples(i, 12)], [_samples(50 + i, 12, level)],
                           keep_replicates=True)
        shifts.append(s)
        draws.append(r)
    family = stats.family_shift(shifts, draws)
    assert family.ci_low < family.change < family.ci_high
    assert 0.08 < family.change < 0.14  # neither the unchanged path nor the +60% one
    assert stats.family_shift(shifts[:2], draws[:2]) is None


def test_settle_factor_and_detection_limits():
    assert stats.settle_factor(0.0, -0.08, 0.08, 0.05) == pytest.approx((0.08 / 0.05) ** 2)
    assert stats.settle_factor(0.05, 0.0, 0.10, 0.05) is None  # sits on the threshold
    assert stats.mde(0.03, 3) < stats.mde(0.03, 1)
    assert stats.runs_needed(0.03, 0.05) >= 1
    assert stats.mde(stats.math.nan, 1) != stats.mde(stats.math.nan, 1)  # NaN: unknown
    needed = stats.runs_needed(0.03, 0.05)
    assert stats.mde(0.03, needed) <= 0.05 < stats.mde(0.03, max(needed - 1, 1)) or needed == 1


def test_run_conditions_come_from_the_context():
    context = {"sysgate_command": "--benchmark_repetitions=4 --benchmark_min_time=0.03 "
                                  "--benchmark_filter=^(a|b|c)/manual_time$",
               "processes": "3", "quick": "false", "load_avg": "[0.5, 0.4, 0.3]"}
    found = envdiff.run_conditions(context)
    assert found == {"repetitions per process": "4", "min_time": "0.03", "filter": "3 paths",
                     "processes": "3", "quick": "false"}
    assert envdiff.load_average(context) == 0.5
    busy = dict(context, load_avg="[2.5, 1.0, 0.5]", quick="true")
    keys = [d.key for d in envdiff.run_differences(context, busy)]
    assert keys == ["quick", "load_avg"]


def _fleet(seed, runs, level, reps=12):
    """`runs` runs of `reps` repetitions, each run with its own small offset (a process)."""
    rng = random.Random(seed)
    return [_samples(seed * 1000 + r, reps, level * rng.lognormvariate(0, 0.01))
            for r in range(runs)]


def test_many_runs_a_side_make_the_run_the_unit():
    base, slower, same = _fleet(1, 40, 100.0), _fleet(2, 40, 112.0), _fleet(3, 40, 100.0)
    found = stats.shift(base, slower)
    assert found.verdict == stats.REGRESSION
    assert found.ci_low < 0.12 < found.ci_high
    assert (found.runs_base, found.runs_new, found.n_base) == (40, 40, 480)
    # the figure of a side is the median of its runs' own figures
    per_run = sorted(stats.low_mean(run) for run in base)
    assert found.base_value == pytest.approx((per_run[19] + per_run[20]) / 2)
    assert stats.shift(base, same).verdict == stats.NO_CHANGE


def test_the_family_combines_paths_compared_by_runs_and_by_repetitions():
    by_runs = stats.shift(_fleet(4, 10, 100.0), _fleet(5, 10, 110.0), keep_replicates=True)
    by_reps = stats.shift(_fleet(6, 3, 100.0), _fleet(7, 3, 110.0), keep_replicates=True)
    assert len(by_runs[1]) == thresholds.RUN_RESAMPLES < len(by_reps[1])
    family = stats.family_shift([by_runs[0], by_reps[0], by_runs[0]],
                                [by_runs[1], by_reps[1], by_runs[1]])
    assert 0.05 < family.change < 0.15


@pytest.mark.parametrize("n", [8, 9, 250, 251])
def test_run_medians_are_the_medians_of_the_run_draws(n):
    """The counting shortcut gives exactly np.median of the figures each draw took, ties
    included, with the draws bootstrap_draws makes of n runs."""
    import numpy as np

    rng = random.Random(n)
    figures = np.array([round(rng.uniform(90, 110), 1 if n > 200 else 3) for _ in range(n)])
    picks = np.random.default_rng([thresholds.SEED, 1]).integers(
        0, n, size=(thresholds.RUN_RESAMPLES, n))
    expected = np.median(figures[picks], axis=1)
    assert np.array_equal(stats.bootstrap_run_medians(figures), expected)


def test_the_stored_run_figure_is_low_mean_bit_for_bit():
    rng = random.Random(7)
    for n in (1, 2, 3, 12, 13, 500):
        samples = [rng.lognormvariate(4.6, 0.1) for _ in range(n)]
        assert stats.run_figure(samples) == stats.low_mean(samples)
        assert stats.run_figure(samples) == float(stats.run_figures([samples])[0])
    assert stats.run_figure([]) is None


def test_a_side_of_run_figures_is_the_side_of_its_runs():
    runs = _fleet(8, 12, 100.0)
    figures = [stats.run_figure(run) for run in runs]
    assert stats.figures_point(figures) == stats.side_figure(runs)
    other = _fleet(9, 12, 108.0)
    by_samples = stats.shift(runs, other)
    by_figures = stats.shift_of_figures(figures, [stats.run_figure(r) for r in other],
                                        (by_samples.n_base, by_samples.n_new))
    assert by_figures == by_samples
