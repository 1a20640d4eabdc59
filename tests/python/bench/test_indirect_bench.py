"""The indirect and io_uring rows as the real binary writes them: their facts in the
published table and in each results row, io_uring batches kept whole, and the indirect
figures computed from a real (tiny) run through load. No timing is asserted."""

import json

from conftest import run_bench
from sysgatelib.results import load
from sysgatelib.verdicts import indirect


def _table(bench):
    done = run_bench(bench, "--list-paths", "--format=json")
    assert done.returncode == 0, done.stderr
    return {row["name"]: row for row in json.loads(done.stdout)}


def test_indirect_rows_state_their_entry_and_its_direct_row(bench):
    table = _table(bench)
    rows = {name: row for name, row in table.items()
            if indirect.workload_of(row["family"]) is not None}
    assert rows, "no indirect_* rows in the table"
    by_family = {}
    for name, row in rows.items():
        by_family.setdefault(row["family"], []).append(row)
        peer = table[row["peer"]]
        # The row follows its entry: same mechanism and kernel entries as its direct row.
        assert row["mechanism"] == peer["mechanism"], name
        assert row["expected_entries"] == peer["expected_entries"], name
    for family, members in by_family.items():
        assert any(r["mechanism"] == indirect.REFERENCE_MECHANISM for r in members), family


def test_io_uring_rows_state_entries_per_operation(bench):
    table = _table(bench)
    rows = [row for row in table.values() if row["mechanism"] == "io_uring"]
    assert rows
    for row in rows:
        assert row["peer"] in table
        assert 0 <= row["expected_entries"] <= 1, row
        status = row["status"]
        assert status == "available" or status.startswith(("skipped: ", "failed: ")), row


def test_a_tiny_run_gives_rows_batches_and_figures(bench, tmp_path):
    table = _table(bench)
    calls = [n for n, r in table.items() if r["family"] == "indirect_calls_1"]
    io_uring = [n for n, r in table.items() if r["mechanism"] == "io_uring"]
    peers = {table[n]["peer"] for n in calls + io_uring} | {"baseline/call"}
    names = sorted(set(calls + io_uring) | peers)
    out = tmp_path / "results.json"
    done = run_bench(bench, "--counters=none", "--cpu=none", "--benchmark_repetitions=3",
                     "--benchmark_min_time=0.002", f"--benchmark_out={out}",
                     "--benchmark_filter=^(" + "|".join(names) + ")/manual_time$",
                     timeout=300)
    assert done.returncode == 0, done.stderr
    run = load.load(out)
    for name in names:
        path = run.paths[name]
        assert path.samples_ns or path.skipped, name
        assert path.peer == (table[name]["peer"] or ""), name
    # Every io_uring batch is a whole number of submissions.
    raw = json.loads(out.read_text())
    for row in raw["benchmarks"]:
        name = load.path_name(row)
        if name in io_uring and not row.get("error_occurred"):
            unit = int(name.rsplit("_", 1)[1])
            assert row["batch"] % unit == 0, (name, row["batch"])
    figures = indirect.figures(run)
    assert [f.workload.family for f in figures] == ["indirect_calls_1"] * (len(calls) - 1)
    for f in figures:
        assert f.missing is None or f.missing.startswith("skipped: "), f
        assert f.within_noise or f.ns is not None or f.missing
