"""modes: per-process figures in two modes are found, counted and named; one mode and
noise are not; the row's note reaches checks, the summary, the page and compare."""

import copy

import pytest
from sysgatelib.render import html, summary
from sysgatelib.results import load
from sysgatelib.verdicts import checks, comparison, modes, stats


def test_one_mode_is_none():
    assert modes.split_modes([257, 258, 255, 259, 256, 257, 260, 258, 256, 257, 259, 258]) is None


def test_two_modes_nine_and_three():
    found = modes.split_modes([257, 331, 258, 255, 329, 259, 256, 257, 330, 258, 256, 257])
    assert found is not None
    assert (len(found.fast), len(found.slow), found.processes) == (9, 3, 12)
    assert found.fast_ns == pytest.approx(257)
    assert found.slow_ns == pytest.approx(330)
    assert found.gap == pytest.approx(330 / 257 - 1)


def test_noise_spread_evenly_is_not_a_mode():
    assert modes.split_modes([250, 262, 275, 281, 296, 310, 322, 330, 345]) is None


def test_a_wide_group_beside_a_gap_is_not_a_mode():
    # A step of 11.5% (260 -> 290), but the upper side spreads 19%: scatter, not a level.
    assert modes.split_modes([250, 260, 290, 300, 330, 345]) is None


def test_a_small_gap_is_not_a_mode():
    assert modes.split_modes([250, 251, 252, 270, 271, 272]) is None  # 7%


def test_too_few_processes_are_never_two_modes():
    assert modes.split_modes([257, 330]) is None
    assert modes.split_modes([257, 258, 330]) is not None
    assert modes.split_modes([257, 258, 330], min_processes=4) is None
    assert modes.split_modes([]) is None


def test_process_of_samples_from_the_file_or_the_merge_order():
    path = load.PathResult(name="x/y", samples_ns=[1.0] * 10)
    assert modes.process_of_samples(path, None) is None
    assert modes.process_of_samples(path, 1) is None
    assert modes.process_of_samples(path, 3) == [0] * 4 + [1] * 3 + [2] * 3
    path.processes = [2, 1, 0, 0, 1, 2, 0, 1, 2, 0]
    assert modes.process_of_samples(path, 3) == path.processes


def _run(per_process, reps=2, record=True):
    """A run of one row `lmbench/read` whose process i ran `reps` repetitions at about
    per_process[i] ns, plus baseline/call."""
    rows = []
    for process, level in enumerate(per_process):
        for rep in range(reps):
            for name, ns in (("lmbench/read", level + rep * 0.5), ("baseline/call", 1.7)):
                row = {"name": f"{name}/manual_time", "run_name": f"{name}/manual_time",
                       "run_type": "iteration", "repetition_index": process * reps + rep,
                       "real_time": ns, "cpu_time": ns, "time_unit": "ns",
                       "iterations": 1000,
                       "label": "mechanism=glibc abi=x86_64 family=lmbench variant=read "
                                "baseline=baseline/call expected_entries=1"
                       if name == "lmbench/read" else
                       "mechanism=call abi=x86_64 family=baseline variant=call "
                       "baseline=baseline/empty_loop expected_entries=0"}
                if record:
                    row["process_index"] = process
                rows.append(row)
    context = {"sysgate_version": "test", "processes": str(len(per_process)),
               "pinned_cpu": "1"}
    return {"context": context, "benchmarks": rows}


BIMODAL = [257, 330, 258, 256, 331, 257, 259, 256, 329, 258, 257, 256]


@pytest.mark.parametrize("record", [True, False])
def test_a_bimodal_row_gets_its_note(record):
    run = load.parse(_run(BIMODAL, record=record), "r.json")
    found = {path.name: m for path, m in checks.process_modes(run)}
    assert list(found) == ["lmbench/read"]
    note = checks.mode_note(found["lmbench/read"])
    assert note.startswith("2 modes across 12 processes: 9 at 257 ns, 3 at 330 ns")
    assert note.endswith("the figure is the faster mode's")
    finding = {f.key: f for f in checks.check_run(run)}["process_modes"]
    assert finding.severity == checks.INFO and "lmbench/read" in finding.detail


def test_the_leading_figure_ignores_the_slow_processes():
    # The k-best mean over 24 repetitions of which 6 are slow: the slow mode never sets it.
    run = load.parse(_run(BIMODAL), "r.json")
    lead = stats.kbest_mean(run.paths["lmbench/read"].samples_ns)
    assert 255 <= lead <= 258


def test_a_figure_from_too_few_fast_repetitions_is_said_to_mix():
    # One repetition per process, one process fast and eleven slow: the k-best mean
    # (3 of 12) takes two slow repetitions with the fast one.
    data = _run([257] + [330] * 11, reps=1)
    run = load.parse(data, "r.json")
    found = {path.name: m for path, m in checks.process_modes(run)}["lmbench/read"]
    assert not found.figure_is_fast
    assert "mixes both modes" in checks.mode_note(found)
    finding = {f.key: f for f in checks.check_run(run)}["process_modes"]
    assert finding.severity == checks.WARNING


def test_one_mode_or_one_process_says_nothing():
    assert not list(checks.process_modes(load.parse(_run([257] * 12), "r.json")))
    data = _run([257, 330, 258])
    del data["context"]["processes"]
    for row in data["benchmarks"]:
        del row["process_index"]
    assert not list(checks.process_modes(load.parse(data, "r.json")))


def test_the_note_reaches_the_summary_the_page_and_compare(tmp_path):
    run = load.parse(_run(BIMODAL), "r.json")
    table = summary.format_table(run)
    line = next(line for line in table.splitlines() if line.startswith("lmbench/read"))
    assert "2 modes across 12 processes" in line
    view = html.run_view(run, 0, "r")
    row = next(r for f in view["families"] for r in f["rows"] if r["name"] == "lmbench/read")
    assert any(flag.startswith("2 modes across 12 processes") for flag in row["flags"])
    one = load.parse(_run([257] * 12), "base.json")
    result = comparison.compare_runs(one, run)
    assert any(n.startswith("new: lmbench/read: 2 modes across 12") for n in result.notes)
    assert not any(n.startswith("base: ") for n in result.notes)


def test_merge_marks_each_row_with_its_process():
    from sysgatelib.commands import run as run_command

    part = {"context": {}, "benchmarks": [
        {"name": "a/manual_time", "run_type": "iteration", "repetition_index": 0},
        {"name": "a/manual_time", "run_type": "aggregate", "aggregate_name": "mean"}]}
    merged = run_command.merge_processes([copy.deepcopy(part) for _ in range(3)])
    assert [r["process_index"] for r in merged["benchmarks"]] == [0, 1, 2]
    assert [r["repetition_index"] for r in merged["benchmarks"]] == [0, 1, 2]
