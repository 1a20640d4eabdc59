"""changepoint: E-Divisive means finds known steps in synthetic series and nothing in
series without one."""

import random

import pytest

from sysgatelib.core import thresholds
from sysgatelib.verdicts import changepoint


def _noise(n, mean, spread, seed):
    rng = random.Random(seed)
    return [rng.gauss(mean, spread) for _ in range(n)]


@pytest.mark.parametrize("test", ["t", "permutation"])
def test_one_step_is_found_where_it_is(test):
    series = _noise(40, 100.0, 2.0, 1) + _noise(40, 110.0, 2.0, 2)
    points = changepoint.e_divisive(series, test=test)
    assert [p.index for p in points] == [40]
    assert points[0].p_value < thresholds.CHANGEPOINT_ALPHA
    assert points[0].change == pytest.approx(0.10, abs=0.02)


def test_two_steps_up_and_down():
    series = _noise(30, 50.0, 1.0, 3) + _noise(30, 60.0, 1.0, 4) + _noise(30, 52.0, 1.0, 5)
    points = changepoint.e_divisive(series)
    assert [p.index for p in points] == [30, 60]
    assert points[0].change > 0 > points[1].change


@pytest.mark.parametrize("seed", range(5))
def test_no_step_no_change_point(seed):
    assert changepoint.e_divisive(_noise(80, 100.0, 3.0, seed)) == []


def test_splits_only_at_candidates():
    # Ten kernels of eight repetitions; the level moves at kernel 6 (sample 48). A split
    # is allowed only between kernels, so the point lands on the boundary exactly.
    series = []
    for kernel in range(10):
        series += _noise(8, 100.0 if kernel < 6 else 92.0, 1.5, 10 + kernel)
    boundaries = list(range(8, 80, 8))
    points = changepoint.e_divisive(series, candidates=boundaries)
    assert [p.index for p in points] == [48]
    assert points[0].change == pytest.approx(-0.08, abs=0.02)


def test_small_step_in_large_noise_is_not_claimed():
    series = _noise(10, 100.0, 10.0, 7) + _noise(10, 101.0, 10.0, 8)
    assert changepoint.e_divisive(series) == []


def test_short_and_flat_series():
    assert changepoint.e_divisive([]) == []
    assert changepoint.e_divisive([5.0]) == []
    assert changepoint.e_divisive([5.0] * 10) == []
    # No variance on either side: the means alone decide.
    assert [p.index for p in changepoint.e_divisive([5.0] * 5 + [9.0] * 5)] == [5]


def test_unknown_test_is_an_error():
    with pytest.raises(ValueError):
        changepoint.e_divisive([1.0, 2.0, 3.0], test="anova")


def test_energy_is_the_energy_statistic_by_its_definition():
    """q(tau) from sorted sums equals Matteson & James's statistic written out pair by pair."""
    rng = random.Random(11)
    values = [rng.gauss(100, 3) + (6 if i >= 9 else 0) for i in range(23)]

    def mean_distance(a, b, same):
        pairs = [abs(x - y) for i, x in enumerate(a) for j, y in enumerate(b)
                 if not (same and i == j)]
        return sum(pairs) / len(pairs) if pairs else 0.0

    q = changepoint._energy(values, [1, 2, 9, 15, 22])
    for tau in (1, 2, 9, 15, 22):
        left, right = values[:tau], values[tau:]
        m, k = len(left), len(right)
        expected = m * k / (m + k) * (2 * mean_distance(left, right, False)
                                      - mean_distance(left, left, True)
                                      - mean_distance(right, right, True))
        assert q[tau] == pytest.approx(expected, rel=1e-9)
    assert q[3] == float("-inf")  # not asked
