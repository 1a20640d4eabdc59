"""sysgate_bench as a user runs it: the path list, a tiny run, its JSON, bad flags."""

import json

import pytest
from conftest import ROOT, run_bench
from core_paths import CORE_PATHS
from sysgatelib.commands import report
from sysgatelib.render import summary
from sysgatelib.results import load

CONTEXT_KEYS = {
    "sysgate_version", "kernel_release", "kernel_version", "boot_cmdline", "cpu_vendor",
    "cpu_model_name", "microcode", "cpu_flags", "hypervisor", "clocksource",
    "glibc_version", "perf_event_paranoid", "cpufreq_governor", "turbo", "smt", "seccomp",
    "pinned_cpu", "tsc_hz", "tsc_invariant", "baseline_call_tsc_ticks",
}


def listed_paths(bench):
    done = run_bench(bench, "--list-paths")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["path", "mechanism"]
    # The table ends at the first blank line; the vDSO and ia32 notes follow it.
    table = lines[1:lines.index("")] if "" in lines else lines[1:]
    return {line.split()[0]: line for line in table}


def path_table(bench):
    done = run_bench(bench, "--list-paths", "--format=json")
    assert done.returncode == 0, done.stderr
    return {row["name"]: row for row in json.loads(done.stdout)}


def test_list_paths_json_publishes_every_fact_of_every_row(bench):
    table = path_table(bench)
    assert set(table) == set(listed_paths(bench))
    for name, row in table.items():
        assert row["family"] + "/" + row["variant"] == name
        assert row["mechanism"] in load.MECHANISMS, row
        assert row["abi"] in ("x86_64", "ia32"), row
        assert row["baseline"] in table, row
        assert row["peer"] is None or row["peer"] in table, row
        assert row["expected_entries"] is None or row["expected_entries"] >= 0, row
        assert row["status"] == "available" or row["status"].startswith(("skipped: ", "failed: "))
        if row["abi"] == "ia32" and row["mechanism"] != "call":
            assert row["baseline"] == "baseline/ia32_call", row
    assert table["getpid/ia32_vdso"]["expected_entries"] == 1
    assert table["lmbench/open_close"]["expected_entries"] == 2
    assert table["time/vsyscall_page"]["expected_entries"] == 1


def test_list_paths_format_must_be_text_or_json(bench):
    done = run_bench(bench, "--list-paths", "--format=yaml")
    assert done.returncode == 2 and "--format" in done.stderr


def test_list_paths_names_every_core_path_with_its_status(bench):
    listed = listed_paths(bench)
    assert CORE_PATHS <= set(listed)
    for name, line in listed.items():
        assert "available" in line or "skipped: " in line, line


def test_tiny_run_has_a_row_or_a_skip_reason_for_every_path(bench, tmp_path):
    out = tmp_path / "r.json"
    done = run_bench(bench, "--benchmark_min_time=0.001", "--benchmark_repetitions=1",
                     f"--benchmark_out={out}", "--benchmark_out_format=json")
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert CONTEXT_KEYS <= set(data["context"]), CONTEXT_KEYS - set(data["context"])
    rows = {r["run_name"].removesuffix("/manual_time"): r for r in data["benchmarks"]}
    assert set(rows) == set(listed_paths(bench))
    for name, row in rows.items():
        if row.get("error_occurred"):
            assert row["error_message"].startswith("skipped: "), (name, row["error_message"])
        else:
            assert row["real_time"] > 0, name
            for counter in ("tsc_ticks", "ratio_to_call", "p50_ns", "p99_ns", "p999_ns"):
                assert counter in row, (name, counter)
            assert row["p50_ns"] <= row["p90_ns"] <= row["p99_ns"] <= row["p999_ns"], name
    # Every row, measured or skipped, states its path's facts as the table does.
    table = path_table(bench)
    for path in load.parse(data, "r.json").paths.values():
        facts = table[path.name]
        assert (path.mechanism, path.abi, path.baseline) == (
            facts["mechanism"], facts["abi"], facts["baseline"]), path.name
        assert path.expected_entries == facts["expected_entries"], path.name
        assert (path.family, path.variant) == (facts["family"], facts["variant"])
    # The pinned CPU is recorded, and is the last one this process may use by default.
    assert data["context"]["pinned_cpu"].isdigit()


def test_filter_and_cpu_flags(bench, tmp_path):
    out = tmp_path / "r.json"
    done = run_bench(bench, "--cpu=0", "--benchmark_filter=^getpid/syscall/",
                     "--benchmark_min_time=0.001", f"--benchmark_out={out}")
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert [r["run_name"] for r in data["benchmarks"]] == ["getpid/syscall/manual_time"]
    assert data["context"]["pinned_cpu"] == "0"


def test_bad_flags_give_one_line_errors(bench):
    for args, words in ((["--cpu=abc"], "not a CPU number"), (["--cpu"], "needs a CPU"),
                        (["--cpu=100000"], "out of range"),
                        (["--benchmark_no_such_flag"], "unrecognized"),
                        (["--benchmark_filter=^nothing$"], "no path matches")):
        done = run_bench(bench, *args)
        assert done.returncode != 0, args
        assert words in done.stderr, (args, done.stderr)


EXTRA = ROOT / "build" / "tests" / "cpp" / "sysgate_bench_extra_path"


@pytest.mark.skipif(not EXTRA.exists(), reason=f"{EXTRA} not built (cmake --build build)")
def test_a_new_row_reaches_json_summary_and_report(tmp_path):
    """One row in the table (tests/cpp/extra_path_row.cc) and nothing else: the path is
    published, measured with its facts, summarized against its baseline and reported."""
    name = "sysgate_test/extra_call"
    table = {row["name"]: row for row in json.loads(
        run_bench(EXTRA, "--list-paths", "--format=json").stdout)}
    assert table[name]["mechanism"] == "call" and table[name]["baseline"] == "baseline/call"
    out = tmp_path / "results.json"
    done = run_bench(EXTRA, "--benchmark_filter=^(baseline/call|sysgate_test/extra_call)/",
                     "--benchmark_min_time=0.001", "--benchmark_repetitions=2",
                     "--counters=none", f"--benchmark_out={out}", "--benchmark_out_format=json")
    assert done.returncode == 0, done.stderr
    run = load.load(out)
    extra = run.paths[name]
    assert len(extra.samples_ns) == 2
    assert (extra.family, extra.variant, extra.mechanism, extra.abi, extra.baseline,
            extra.expected_entries, extra.peer) == (
        "sysgate_test", "extra_call", "call", "x86_64", "baseline/call", 0.0, "baseline/call")
    rows = {r[0]: r for r in summary.rows(run)}
    assert rows[name][4] is not None, "divided by its own baseline"
    assert name in summary.format_table(run)
    index = report.render_report([run], tmp_path / "report")
    assert name in open(index).read()


def test_help_lists_sysgates_flags_first(bench):
    done = run_bench(bench, "--help")
    assert done.returncode == 0, done.stderr
    ours, _, theirs = done.stdout.partition("Google Benchmark flags:")
    for flag in ("--cpu=N", "--list-paths", "--format=text|json", "--counters=", "--list-events",
                 "--ia32-helper=", "--benchmark_out="):
        assert flag in ours, flag
    assert "--benchmark_filter" in theirs
    assert all(len(line) <= 120 for line in ours.splitlines())


def test_console_rows_fit_in_120_columns(bench):
    done = run_bench(bench, "--benchmark_filter=^(getpid/syscall|getpid/ia32_sysenter|"
                     "clock_gettime_monotonic_coarse/syscall)/", "--benchmark_min_time=0.001",
                     "--benchmark_repetitions=2", "--counters=none")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("getpid/syscall/manual_time ") for line in lines)
    assert all(len(line) <= 120 for line in lines), max(lines, key=len)
    assert "nan" not in done.stdout.lower()


def test_a_results_file_that_cannot_be_written_fails_the_run(bench):
    done = run_bench(bench, "--benchmark_filter=^getpid/syscall/", "--benchmark_min_time=0.001",
                     "--counters=none", "--benchmark_out=/dev/full")
    assert done.returncode == 1
    assert "error: results not written" in done.stderr and "No space left" in done.stderr


def test_the_results_file_records_the_runs_conditions(bench, tmp_path):
    out = tmp_path / "r.json"
    done = run_bench(bench, "--benchmark_filter=^getpid/syscall/", "--benchmark_min_time=0.001",
                     "--counters=none", f"--benchmark_out={out}", "--benchmark_repetitions=2")
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    for key in ("run.seconds", "run.steal_ms", "run.context_switches", "run.load_avg_end",
                "estimator"):
        assert key in data["context"], key
    for row in data["benchmarks"]:
        if row["run_type"] == "iteration":
            assert row["batches_kept"] + row["batches_rejected"] > 0
