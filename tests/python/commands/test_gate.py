"""gate: a real quick run through the gate against a run of this machine, and BASE
resolution ("previous", bad input). No timing is asserted: quick runs are always
inconclusive, so the gate must add its runs up to the cap and say so."""

import json
import re
import sqlite3
from xml.etree import ElementTree

from conftest import sysgate

# A few kernel paths and controls: the runtime rows' helpers would cost more than the test.
FILTER = "^(baseline/call|getpid/(syscall|glibc)|getppid/syscall|time/.*)$"


def test_a_quick_gate_adds_runs_to_the_cap_gives_one_answer_and_files_every_run(bench,
                                                                                 tmp_path):
    db = tmp_path / "history.sqlite"
    base = tmp_path / "base"
    done = sysgate("run", "--quick", "--no-install", "--no-build", "--filter", FILTER,
                   "-o", base, "--db", db, timeout=300)
    assert done.returncode == 0, done.stderr
    done = sysgate("gate", str(base / "results.json"), "--quick", "--no-build",
                   "--max-runs", "2", "--filter", FILTER, "--work", tmp_path / "gate",
                   "--db", db, "-o", tmp_path / "page",
                   "--format", f"junit={tmp_path / 'junit.xml'}", "--format", "openmetrics",
                   timeout=600)
    assert done.returncode == 3, done.stdout + done.stderr  # quick: never settled
    lines = done.stdout.splitlines()
    progress = [line for line in lines if line.startswith("gate: run ")]
    assert [line.split()[2] for line in progress] == ["1/2", "2/2"]
    assert all(line.endswith("-> exit 3") for line in progress)
    assert sum(line.startswith("kernel entry: ") for line in lines) == 1  # one answer
    assert "still inconclusive after 2 run(s)" in done.stdout
    assert sum(line.startswith("new:") for line in lines) == 2  # the new side pools both
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
    summary = json.loads((tmp_path / "page" / "compare.json").read_text())
    assert summary["exit_code"] == 3 and summary["kernel_entry"]["delta_ns"] is not None
    # The CI formats of the same answer: the kernel entry skipped (inconclusive, or withheld
    # when the machine's own speed moved between the quick runs: both exit 3), the
    # OpenMetrics text on stdout after the report.
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    entry = suite.find("testcase[@name='kernel entry']")
    assert entry.find("skipped").get("message").startswith(("inconclusive: ",
                                                            "verdict withheld: "))
    assert int(suite.get("tests")) == len(summary["rows"]) + 1
    metrics = done.stdout[done.stdout.index("# TYPE "):]
    assert metrics.endswith("# EOF\n") and "result: " not in metrics
    assert re.search(r"^sysgate_compare_exit_code\{.*\} 3(\.0)?$", metrics, re.M)


def test_gate_refuses_bad_input_before_measuring(tmp_path):
    done = sysgate("gate", str(tmp_path / "missing.json"), "--no-build", "--db",
                   tmp_path / "h.sqlite")
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert "gate: up to" not in done.stdout
    done = sysgate("gate", "previous", "--max-runs", "0")
    assert done.returncode == 2 and "--max-runs" in done.stderr
    done = sysgate("gate", "previous", "--no-build", "--format", "xml", "--db",
                   tmp_path / "h.sqlite")
    assert done.returncode == 2 and done.stderr.startswith("error: --format xml: unknown")
    assert "gate: up to" not in done.stdout
