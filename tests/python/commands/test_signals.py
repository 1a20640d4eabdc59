"""SIGTERM and SIGHUP (a CI job's timeout, a closed terminal) stop a command as Ctrl-C
does: one line naming the signal, exit 128 + its number, no partial file, no child left
running, the store as it was (issue 24)."""

import os
import signal
import subprocess
import sys
import time

import pytest

import history_synth as synth
import paused_import
from conftest import ROOT, SCRIPTS
from sysgatelib.core import children
from sysgatelib.core.errors import Interrupted

HANG_GUARD_S = 120  # a hang guard, not a timing assertion


def _default_stop_signals():
    """The child starts as from a terminal: a test suite run under nohup or in a background
    job inherits SIGHUP or SIGINT ignored, and sysgate keeps an ignored signal ignored."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def _start(*args, env=None, preexec_fn=_default_stop_signals):
    return subprocess.Popen(["/usr/bin/python3", str(SCRIPTS / "sysgate"), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env or os.environ.copy(), preexec_fn=preexec_fn)


def _wait_for(predicate, what):
    deadline = time.monotonic() + HANG_GUARD_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"never saw {what}")
        time.sleep(0.1)


def _benchmarks_writing_into(folder):
    """Processes whose command line names the folder (the run's sysgate_bench)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read().split(b"\0")
        except OSError:
            continue
        if any(str(folder).encode() in w for w in words) and b"sysgate_bench" in words[0]:
            found.append(int(pid))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stopped_run_says_so_and_leaves_nothing(bench, tmp_path, sig):
    out = tmp_path / "run"
    proc = _start("run", "--quick", "--no-install", "--no-build", "--no-history", "-o", out)
    try:
        # Stopped while it measures: the benchmark is running and writing its partial file.
        _wait_for(lambda: _benchmarks_writing_into(out) or proc.poll() is not None,
                  "the benchmark start")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    name = signal.Signals(sig).name
    assert proc.returncode == 128 + sig, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert lines == [f"error: interrupted ({name}): stopped; nothing half-written is left"], \
        stderr
    assert "Traceback" not in stderr
    assert not out.exists() or not list(out.iterdir()), list(out.iterdir())
    _wait_for(lambda: not _benchmarks_writing_into(out), "the benchmark end")


def _signal_a_paused_import(tmp_path, db, signals, preexec_fn=_default_stop_signals):
    """`history add` stopped inside its import transaction, sent `signals` in turn (each
    but the last must leave it running); (the process, its stderr)."""
    results = synth.write_results(tmp_path / "a.json", seed=1)
    proc = subprocess.Popen(paused_import.command(60, "history", "add", "--db", db, results),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, preexec_fn=preexec_fn)
    try:
        line = proc.stderr.readline()
        assert paused_import.MARKER in line, line
        for sig in signals[:-1]:
            proc.send_signal(sig)
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        proc.send_signal(signals[-1])
        _, stderr = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc, stderr


def test_a_stopped_import_leaves_the_store_as_it_was(tmp_path):
    db = tmp_path / "h.sqlite"
    proc, stderr = _signal_a_paused_import(tmp_path, db, [signal.SIGTERM])
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "error: interrupted (SIGTERM)" in stderr
    listed = subprocess.run(["/usr/bin/python3", str(SCRIPTS / "sysgate"), "history", "list",
                             "--db", str(db)], capture_output=True, text=True)
    assert listed.returncode == 0 and "no runs in the store" in listed.stdout, listed


def _ignore_sighup():
    _default_stop_signals()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_an_ignored_sighup_stays_ignored(tmp_path):
    """Under nohup (SIGHUP ignored when sysgate starts) a closed terminal does not stop it;
    SIGTERM still does."""
    proc, stderr = _signal_a_paused_import(tmp_path, tmp_path / "h.sqlite",
                                           [signal.SIGHUP, signal.SIGTERM], _ignore_sighup)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "error: interrupted (SIGTERM)" in stderr and "SIGHUP" not in stderr


def test_a_child_and_its_group_end_with_the_command(tmp_path):
    """children.run: an interrupted command stops its child's whole process group (a
    build's compilers, a child run's benchmark) instead of leaving it running."""
    marker = tmp_path / "grandchild.pid"
    script = (f"import os, subprocess, time; p = subprocess.Popen(['sleep', '600']); "
              f"open({str(marker)!r}, 'w').write(str(p.pid)); time.sleep(600)")

    def interrupt_soon(signum, frame):
        raise Interrupted(signal.SIGTERM)

    previous = signal.signal(signal.SIGALRM, interrupt_soon)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with pytest.raises(Interrupted):
            children.run([sys.executable, "-c", script])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    grandchild = int(marker.read_text())
    _wait_for(lambda: not _alive(grandchild), "the grandchild end")


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_a_stopped_gate_ends_its_child_run_and_its_benchmark(bench, tmp_path):
    """gate (and calibrate) measure through a child `sysgate run`: SIGTERM to gate alone,
    as a CI timeout sends it, ends the child run and its benchmark, which clean up."""
    work = tmp_path / "work"
    db = tmp_path / "h.sqlite"
    proc = _start("gate", ROOT / "tests" / "python" / "fixtures" / "compare_base.json",
                  "--no-build", "--quick", "--max-runs", "1", "--work", work, "--db", db)
    try:
        _wait_for(lambda: _benchmarks_writing_into(work) or proc.poll() is not None,
                  "the child run's benchmark")
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=HANG_GUARD_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [
        "error: interrupted (SIGTERM): stopped; nothing half-written is left"], stderr
    _wait_for(lambda: not _benchmarks_writing_into(work), "the benchmark end")
    left = [p for p in work.rglob("*") if p.is_file()] if work.exists() else []
    assert left == [], left
    assert not db.exists() or "no runs" in subprocess.run(
        ["/usr/bin/python3", str(SCRIPTS / "sysgate"), "history", "list", "--db", str(db)],
        capture_output=True, text=True).stdout
