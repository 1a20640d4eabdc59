"""The ia32 rows as a user sees them: with the 32-bit helper, and with it gone."""

import json
import os
import shutil
import subprocess

import pytest

IA32_ROWS = {"baseline/ia32_call", "getpid/ia32_int80", "getpid/ia32_sysenter",
             "getpid/ia32_vdso", "getpid/ia32_syscall",
             "clock_gettime_monotonic/ia32_vdso", "clock_gettime_monotonic/ia32_int80",
             "getcpu/ia32_vdso", "getcpu/ia32_int80"}
# A few 64-bit rows that must run whatever happens to the helper (int80 can be skipped by
# a kernel without ia32 emulation, so it is not among them).
NATIVE_ROWS = {"baseline/empty_loop", "baseline/call", "getpid/syscall", "getppid/syscall",
               "lmbench/close_ebadf"}
FILTER = "^(" + "|".join(sorted(IA32_ROWS | NATIVE_ROWS)) + ")/manual_time$"


def run_rows(binary, tmp_path, *extra, env=None):
    out = tmp_path / "r.json"
    done = subprocess.run(
        [str(binary), f"--benchmark_filter={FILTER}", "--benchmark_min_time=0.001",
         f"--benchmark_out={out}", "--benchmark_out_format=json", *extra],
        capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    rows = {r["run_name"].removesuffix("/manual_time"): r for r in data["benchmarks"]}
    assert set(rows) == IA32_ROWS | NATIVE_ROWS
    return data, rows


def assert_native_rows_ran(rows):
    for name in NATIVE_ROWS:
        assert not rows[name].get("error_occurred"), (name, rows[name].get("error_message"))
        assert rows[name]["real_time"] > 0, name


def env_without_helper_override():
    env = os.environ.copy()
    env.pop("SYSGATE_IA32_HELPER", None)
    return env


def test_a_bogus_helper_path_skips_every_ia32_row_and_nothing_else(bench, tmp_path):
    data, rows = run_rows(bench, tmp_path, "--ia32-helper=/nonexistent/sysgate_ia32_helper")
    assert_native_rows_ran(rows)
    for name in IA32_ROWS:
        message = rows[name].get("error_message", "")
        assert rows[name].get("error_occurred"), name
        assert message.startswith("skipped: ia32 helper not found at /nonexistent/"), message
    assert data["context"]["ia32_helper"].startswith("unavailable: ")


def test_a_benchmark_whose_helper_was_moved_away_still_runs(bench, tmp_path):
    lonely = tmp_path / "bin"
    lonely.mkdir()
    shutil.copy2(bench, lonely / "sysgate_bench")
    _, rows = run_rows(lonely / "sysgate_bench", tmp_path, env=env_without_helper_override())
    assert_native_rows_ran(rows)
    for name in IA32_ROWS:
        assert rows[name]["error_message"].startswith("skipped: ia32 helper not found"), name


def test_with_the_helper_every_ia32_row_has_a_figure_or_a_reason(bench, tmp_path):
    helper = bench.parent / "sysgate_ia32_helper"
    if not helper.exists():
        pytest.skip("the ia32 helper is not built (SYSGATE_IA32=OFF or no 32-bit toolchain)")
    data, rows = run_rows(bench, tmp_path, env=env_without_helper_override())
    assert_native_rows_ran(rows)
    if data["context"]["ia32_helper"].startswith("unavailable: "):
        pytest.skip(data["context"]["ia32_helper"])
    assert data["context"]["ia32_helper"] == str(helper)
    for name in IA32_ROWS:
        row = rows[name]
        if row.get("error_occurred") and row["error_message"].startswith(
                "skipped: 32-bit vDSO has no "):
            continue  # a kernel whose 32-bit vDSO lacks the function
        if row.get("error_occurred"):
            # Refused by this CPU (SYSENTER on AMD, compat SYSCALL on Intel): a reason
            # that names the signal and the vendor, never "failed: ...".
            assert row["error_message"].startswith("skipped: "), row["error_message"]
            assert "SIG" in row["error_message"], row["error_message"]
            assert data["context"]["cpu_vendor"] in row["error_message"], row["error_message"]
        else:
            for counter in ("tsc_ticks", "ratio_to_call", "p50_ns", "p99_ns"):
                assert counter in row, (name, counter)
    # The 32-bit vDSO rows say which call they make.
    assert "__vdso_getcpu" in data["context"]["ia32_calls"]
    # int 0x80 and __kernel_vsyscall work wherever 32-bit programs run at all.
    for name in ("baseline/ia32_call", "getpid/ia32_int80", "getpid/ia32_vdso",
                 "clock_gettime_monotonic/ia32_int80", "getcpu/ia32_int80"):
        assert not rows[name].get("error_occurred"), (name, rows[name].get("error_message"))
