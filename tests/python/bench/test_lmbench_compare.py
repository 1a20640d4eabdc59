"""benchmarks/lmbench_compare.py: its table from synthetic rounds, its modes line, its
errors. No tool is timed here (the figures would mean nothing on a test machine)."""

import importlib.util
import os
import subprocess

import pytest
from conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "lmbench_compare.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("lmbench_compare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _round(i, read, sysgate_read, raw_read):
    lm = {"read 1 B /dev/zero": read, "write 1 B /dev/null": 200.0,
          "fstat /dev/null": "failed: lat_syscall: exit 1: fstat",
          "stat /dev/null": 900.0, "open+close /dev/null": 2000.0}
    sg = {"lmbench/read": sysgate_read, "lmbench/read_raw": raw_read,
          "lmbench/write": 230.0, "lmbench/write_raw": 160.0, "lmbench/fstat": 400.0,
          "lmbench/fstat_raw": "skipped: not here", "lmbench/stat": 880.0,
          "lmbench/open_close": 1980.0}
    return {"round": i + 1, "lmbench": lm, "sysgate": sg,
            "process_medians": [{"lmbench/read": sysgate_read + 1}]}


def test_table_takes_minima_ratios_and_spreads(script):
    args = script.parse_args(["--lat-syscall", "x", "--cpu", "1"])
    rounds = [_round(0, 220.0, 257.0, 180.0), _round(1, 260.0, 330.0, 181.0),
              _round(2, 221.0, 258.0, 182.0)]
    text = script.markdown(args, rounds)
    read = next(line for line in text.splitlines() if line.startswith("| read 1 B"))
    cells = [c.strip() for c in read.strip("|").split("|")]
    assert cells[1:4] == ["220.0", "257.0", f"{257 / 220:.3f}"]
    assert cells[4:7] == ["180.0", f"{180 / 220:.3f}", f"{180 / 257:.3f}"]
    assert cells[7] == f"{40 / 220:.0%}" and cells[8] == f"{73 / 257:.0%}"
    fstat = next(line for line in text.splitlines() if line.startswith("| fstat"))
    assert "| failed |" in fstat and "| skipped |" in fstat
    assert "- failed: lat_syscall: exit 1: fstat" in text and "- skipped: not here" in text
    assert "sysgate lmbench/read: 2 modes across 3 processes: 2 at 258.5 ns, 1 at 331.0 ns" in text
    assert "lmbench read 1 B /dev/zero (one process a round): 2 modes across 3" in text


def test_lmbench_line_is_read_from_its_output(script, tmp_path):
    fake = tmp_path / "lat_syscall"
    fake.write_text("#!/bin/sh\necho \"Simple read: 0.2345 microseconds\" >&2\n")
    fake.chmod(0o755)
    cpu = str(max(os.sched_getaffinity(0)))
    args = script.parse_args(["--lat-syscall", str(fake), "--cpu", cpu])
    assert script.run_lmbench(args, ("read",)) == pytest.approx(234.5)


@pytest.mark.parametrize("extra, message", [
    (["--lat-syscall", "/nonexistent"], "error: --lat-syscall /nonexistent: no such file"),
    (["--lat-syscall", "/bin/sh", "--cpu", "4096"], "error: --cpu 4096: not a CPU"),
    (["--lat-syscall", "/bin/sh", "--bench", "/nonexistent"], "error: --bench /nonexistent"),
])
def test_bad_input_is_one_line_and_exit_2(extra, message):
    done = subprocess.run([str(SCRIPT), *extra], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
