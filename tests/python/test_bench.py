"""sysgate_bench as a user runs it: the path list, a tiny run, its JSON, bad flags."""

import json

from conftest import run_bench

CORE_PATHS = {
    "baseline/empty_loop", "baseline/call", "getpid/glibc", "getpid/glibc_syscall",
    "getpid/syscall", "getpid/syscall_fn", "getpid/int80", "getppid/syscall", "lmbench/read", "lmbench/write",
    "lmbench/fstat", "lmbench/stat", "lmbench/open_close", "lmbench/close_ebadf",
}
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
