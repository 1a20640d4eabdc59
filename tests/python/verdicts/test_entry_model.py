"""The kernel-entry model (new = (1 + drift) x base + delta x entries) on synthetic runs with
a known drift and a known delta per entry, and compare's exit status over the verdict
combinations. Never this machine's timings."""

import dataclasses

import pytest

import history_synth as synth
from sysgatelib.render import compare_text
from sysgatelib.results import load
from sysgatelib.verdicts import comparison, entry_model, stats


def _run(seed, paths=synth.PATHS, **kwargs):
    kwargs.setdefault("repetitions", 12)
    return load.parse(synth.make_results(seed=seed, paths=paths, **kwargs), f"seed {seed}")


def _kernel(run):
    return [p.name for p in run.paths.values() if p.enters_kernel and p.samples_ns]


def _added(ns, run=None):
    run = run or _run(0)
    return {name: ns * run.paths[name].expected_entries for name in _kernel(run)}


def _cheap_and_dear(factor):
    """The synthetic path set with every kernel path `factor` times dearer (controls kept)."""
    return tuple((name, mech, base * factor
                  if mech in synth.SYSCALL_MECHANISMS and not isinstance(base, str) else base)
                 for name, mech, base in synth.PATHS)


@pytest.mark.parametrize("drift, delta", [(1.03, 12.5), (0.98, 6.0), (1.0, 3.0), (1.04, 0.0)])
def test_the_estimates_recover_a_known_drift_and_delta(drift, delta):
    base = _run(1)
    new = _run(2, add_ns=_added(delta), drift=drift)
    c = comparison.compare_runs(base, new)
    entry = c.kernel_entry
    # The paths' figures took the drift after the added ns: new = drift x (base + delta),
    # so the delta the model sees, with the drift out, is drift x delta.
    assert entry.low_ns <= delta * drift <= entry.high_ns
    assert c.drift.removed
    assert c.drift.ci_low <= drift - 1 <= c.drift.ci_high
    assert abs(entry.delta_ns - delta * drift) < 1.5


@pytest.mark.parametrize("seeds", [(1, 2), (3, 4), (5, 6)])
def test_a_drift_alone_is_no_change_in_the_kernel_entry_and_in_every_path(seeds):
    c = comparison.compare_runs(_run(seeds[0]), _run(seeds[1], drift=1.04))
    assert abs(c.kernel_entry.delta_ns) < 1.0
    assert c.kernel_entry.verdict == stats.NO_CHANGE
    tested = [r for r in c.rows if r.result and not r.is_control]
    # Raw, every path moved +4%; with the drift out, none did.
    assert all(abs(r.result.raw_change - 0.04) < 0.02 for r in tested)
    assert all(r.result.verdict == stats.NO_CHANGE for r in tested), [
        (r.name, r.result.verdict) for r in tested]
    assert c.exit_code == comparison.EXIT_OK


def test_a_delta_alone_is_the_same_whether_the_paths_cost_100_ns_or_1_us():
    found = []
    for factor in (1.0, 10.0):
        paths = _cheap_and_dear(factor)
        base = _run(1, paths=paths)
        new = _run(2, paths=paths, add_ns=_added(12.5, base))
        entry = comparison.compare_runs(base, new).kernel_entry
        assert entry.low_ns <= 12.5 <= entry.high_ns
        found.append(entry)
    cheap, dear = found
    assert abs(cheap.delta_ns - dear.delta_ns) < 0.5 * (dear.high_ns - dear.low_ns) + 1.0
    # +12.5 ns is about +12% of a 100 ns round trip and about +1.2% of a 1 us one.
    assert cheap.verdict == stats.REGRESSION
    assert dear.change < cheap.change / 5


def test_a_real_slowdown_of_the_same_ns_everywhere_is_a_regression_with_its_ns():
    base = _run(1)
    c = comparison.compare_runs(base, _run(2, add_ns=_added(12.5, base)))
    assert c.kernel_entry.verdict == stats.REGRESSION and c.exit_code == comparison.EXIT_REGRESSION
    line = compare_text.kernel_entry_line(c)
    assert line.startswith("kernel entry: +12.") and "ns per entry" in line
    assert "of time/syscall) REGRESSION" in line  # the cheapest single-entry round trip (96 ns)


def test_a_path_that_moved_for_its_own_reasons_is_listed_and_does_not_move_the_entry():
    base = _run(1)
    c = comparison.compare_runs(base, _run(2, shift={"read/syscall": 1.5}))
    assert [m.name for m in c.kernel_entry.misfits] == ["read/syscall"]
    assert abs(c.kernel_entry.delta_ns) < 1.0
    assert "read/syscall" in compare_text.misfit_line(c)


def test_too_few_controls_leave_the_drift_in_and_say_so():
    paths = tuple(p for p in synth.PATHS if p[0] not in ("time/vdso", "getcpu/vdso",
                                                          "clock_gettime/vdso"))
    c = comparison.compare_runs(_run(1, paths=paths), _run(2, paths=paths))
    assert not c.drift.removed and "2 control(s)" in c.drift.note
    assert "NOT taken out" in compare_text.kernel_entry_line(c)


def test_the_weighted_median_weighs_and_works_per_replicate():
    import numpy as np

    values = np.array([[1.0, 5.0], [2.0, 6.0], [10.0, 0.0]])
    assert list(entry_model.weighted_median(values, [1, 1, 1])) == [2.0, 5.0]
    assert list(entry_model.weighted_median(values, [1, 1, 5])) == [10.0, 0.0]
    assert float(entry_model.weighted_median(np.array([3.0, 1.0, 2.0]), [1, 1, 1])) == 2.0


# --- the exit status: every combination of the answers -----------------------------------

R, I, N, INC = stats.REGRESSION, stats.IMPROVEMENT, stats.NO_CHANGE, stats.INCONCLUSIVE


@pytest.mark.parametrize("withheld, entry, paths, strict, code", [
    (False, N, [N, N], False, 0),
    (False, N, [N, INC], False, 0),      # a noisy path alone does not undo a settled entry
    (False, N, [N, INC], True, 3),       # unless --strict
    (False, I, [N, INC], False, 0),
    (False, R, [N, N], False, 1),
    (False, R, [INC, INC], False, 1),
    (False, N, [R, N], False, 1),        # one path regressed
    (False, N, [R, INC], True, 1),       # a regression outranks --strict's inconclusive
    (False, INC, [N, N], False, 3),
    (False, INC, [R, N], False, 1),
    (False, None, [N, INC], False, 3),   # no kernel-entry verdict: the paths decide
    (False, None, [N, N], False, 0),
    (False, None, [R, N], False, 1),
    (True, R, [R, R], False, 3),         # withheld: not comparable
])
def test_exit_status_follows_the_rules(withheld, entry, paths, strict, code):
    c = comparison.compare_runs(_run(1), _run(2))
    rows = [r for r in c.rows if r.result and not r.is_control][: len(paths)]
    for row, verdict in zip(rows, paths):
        row.result.verdict = verdict
    for row in [r for r in c.rows if r.result and not r.is_control][len(paths):]:
        row.result.verdict = N
    family = dataclasses.replace(c.kernel_entry, verdict=entry) if entry else None
    c = dataclasses.replace(c, kernel_entry=family, withheld=withheld, strict=strict)
    assert c.exit_code == code
