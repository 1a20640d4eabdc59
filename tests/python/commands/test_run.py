"""`scripts/sysgate run` end to end, as the README tells a user to run it."""

import json

from conftest import sysgate
from core_paths import CORE_PATHS


def test_quick_run_writes_results_and_prints_the_summary(bench, tmp_path):
    out = tmp_path / "run"
    db = tmp_path / "history.sqlite"
    done = sysgate("run", "--quick", "--no-install", "-o", out, "--db", db, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    results = out / "results.json"
    data = json.loads(results.read_text())
    assert {"run_seconds", "run_started", "sysgate_command"} <= set(data["context"])
    # How busy the machine was while measuring (issue 24): sampled, not the load average.
    from sysgatelib.results import busy
    facts = busy.from_context(data["context"])
    assert facts is not None and facts.samples >= 1 and facts.cpus >= 1
    names = {r["run_name"].removesuffix("/manual_time") for r in data["benchmarks"]}
    assert CORE_PATHS <= names
    for phase in ("[1/6] dependencies", "[2/6] build", "[3/6] measure", "[4/6] results",
                  "[5/6] report", "[6/6] history"):
        assert phase in done.stdout
    assert f"run #1 in {db}" in done.stdout
    listed = sysgate("history", "list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert data["context"]["kernel_release"] in listed.stdout
    assert (out / "index.html").exists()
    assert f"report:  {out / 'index.html'}" in done.stdout
    for name in CORE_PATHS:
        assert name in done.stdout, f"{name} missing from the summary"
    assert f"results: {results}" in done.stdout
    assert not list(out.glob("*.partial")) and not list(out.glob("*.tmp"))


def test_run_refuses_to_overwrite_results(tmp_path):
    (tmp_path / "results.json").write_text("{}")
    done = sysgate("run", "--quick", "--no-install", "--no-build", "-o", tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "already exists" in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "results.json").read_text() == "{}"


def test_filter_selects_paths_by_name(bench, tmp_path):
    out = tmp_path / "run"
    done = sysgate("run", "--quick", "--no-install", "--no-build", "--filter", "^getpid/syscall$",
                   "--no-history", "-o", out, timeout=120)
    assert done.returncode == 0, done.stderr
    names = {r["run_name"] for r in json.loads((out / "results.json").read_text())["benchmarks"]}
    assert names == {"getpid/syscall/manual_time"}
    done = sysgate("run", "--no-install", "--no-build", "--filter", "^nothing$",
                   "-o", tmp_path / "x")
    assert done.returncode == 2 and "matches no path" in done.stderr


def test_bad_arguments_exit_2_with_usage():
    for args in (["run", "--repetitions", "0"], ["run", "--no-such-flag"], ["nope"]):
        done = sysgate(*args)
        assert done.returncode == 2, args
        assert "usage:" in done.stderr and "Traceback" not in done.stderr


def test_repetitions_spread_over_processes(bench, tmp_path):
    out = tmp_path / "run"
    done = sysgate("run", "--quick", "--no-install", "--no-build", "--no-history",
                   "--filter", "^getpid/(syscall|ia32_sysenter)$", "--processes", "2",
                   "--repetitions", "4", "-o", out, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "x 4 repetitions (2 processes)" in done.stdout
    data = json.loads((out / "results.json").read_text())
    assert data["context"]["processes"] == "2"
    assert data["context"]["counters"] != "none"  # the first process counted
    rows = [r for r in data["benchmarks"] if r["run_name"] == "getpid/syscall/manual_time"]
    assert sorted(r["repetition_index"] for r in rows) == [0, 1, 2, 3]
    assert all(r["repetitions"] == 4 and r["run_type"] == "iteration" for r in rows)
    assert not list(out.glob("*.partial"))


def test_plan_runs_exactly_the_repetitions_asked_for():
    from types import SimpleNamespace

    from sysgatelib.commands.run import plan

    def shares(reps, processes, quick=False):
        return plan(SimpleNamespace(repetitions=reps, processes=processes, quick=quick))

    assert shares(10, 3) == [4, 3, 3]
    assert shares(12, 3) == [4, 4, 4]
    assert shares(2, 3) == [1, 1], "never a process with nothing to run"
    assert shares(None, None, quick=True) == [3]
    assert sum(shares(None, None)) == 12


def test_kernels_and_run_build_their_flags_alike():
    from sysgatelib.commands import kernels
    from sysgatelib.commands.run import bench_flags
    from sysgatelib.core.errors import UserError
    from sysgatelib.vm import initramfs

    guest = kernels.guest_argv(quick=True, repetitions=5)
    assert guest == bench_flags(True, initramfs.RESULTS_PATH, repetitions=5, cpu=0)
    assert "--benchmark_repetitions=5" in guest
    for bad in ({"repetitions": 0}, {"min_time": 0}):
        try:
            bench_flags(False, "x.json", **bad)
        except UserError as err:
            assert "must be" in str(err)
        else:
            raise AssertionError(f"{bad} accepted")


def test_list_paths_reads_the_published_table(bench):
    from sysgatelib.commands.run import list_paths

    table = list_paths(bench)
    assert CORE_PATHS <= {row["name"] for row in table}
    assert all({"mechanism", "abi", "baseline", "expected_entries"} <= set(r) for r in table)


def test_merge_keeps_every_repetition_and_the_first_context():
    from sysgatelib.commands.run import merge_processes

    def part(pid, reps):
        rows = [{"name": "a/manual_time", "run_type": "iteration", "repetition_index": i,
                 "repetitions": reps, "real_time": pid * 10 + i} for i in range(reps)]
        rows.append({"name": "a/manual_time_mean", "run_type": "aggregate", "real_time": 0})
        return {"context": {"pid": str(pid)}, "benchmarks": rows}

    merged = merge_processes([part(1, 2), part(2, 2), part(3, 1)])
    assert merged["context"] == {"pid": "1", "processes": "3"}
    assert [r["real_time"] for r in merged["benchmarks"]] == [10, 11, 20, 21, 30]
    assert [r["repetition_index"] for r in merged["benchmarks"]] == [0, 1, 2, 3, 4]
    assert {r["repetitions"] for r in merged["benchmarks"]} == {5}
    single = part(1, 2)
    assert merge_processes([single]) is single


def test_tracefs_left_alone_when_mounted_or_absent(tmp_path):
    from sysgatelib.core import packages

    assert packages.ensure_tracefs(str(tmp_path / "absent")) == ""
    (tmp_path / "events").mkdir()
    assert packages.ensure_tracefs(str(tmp_path)) == ""
