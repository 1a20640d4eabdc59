"""The history store: idempotent, transactional, concurrent imports; bad input refused."""

import hashlib
import json
import os
import signal
import sqlite3
import subprocess

import pytest

import history_synth as synth
import paused_import
from sysgatelib import cli, store
from sysgatelib.core.errors import UserError
from sysgatelib.store import connection, resolve


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _counts(db):
    conn = sqlite3.connect(db)
    try:
        return (conn.execute("SELECT count(*) FROM runs").fetchone()[0],
                conn.execute("SELECT count(*) FROM paths").fetchone()[0])
    finally:
        conn.close()


def _sysgate(*args, env=None, pause=None, **kwargs):
    """sysgate as a user runs it; with `pause`, each import stops that many seconds inside
    its transaction (helpers/paused_import.py)."""
    argv = paused_import.command(pause, *args) if pause else [synth.PYTHON, synth.SYSGATE, *args]
    return subprocess.Popen(argv, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.fixture
def results(tmp_path):
    """Four results files of different kernels."""
    kernels = ("6.1.0-47-cloud-amd64", "6.1.0-50-cloud-amd64", "6.12.57+deb13-cloud-amd64",
               "6.18.1")
    return [synth.write_results(tmp_path / f"run{i}.json", seed=i,
                                context={"kernel_release": k, "date": f"2026-11-2{i}T00:00:00"})
            for i, k in enumerate(kernels)]


def test_add_list_and_load_back(tmp_path, results, capsys):
    db = tmp_path / "h.sqlite"
    assert cli.main(["history", "add", "--db", str(db), *results]) == 0
    assert "added as run #4" in capsys.readouterr().out
    assert cli.main(["history", "list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert "6.12.57+deb13-cloud-amd64" in listing and "bench-vm-1" in listing
    assert _counts(db) == (4, 4 * len(synth.PATHS))
    conn = store.open_store(db)
    try:
        run = store.load_run(conn, 1)
    finally:
        conn.close()
    original = synth.make_results(seed=0)
    syscall_rows = [r["real_time"] for r in original["benchmarks"]
                    if r["run_name"] == "getpid/syscall/manual_time"
                    and r["run_type"] == "iteration"]
    assert run.paths["getpid/syscall"].samples_ns == syscall_rows
    assert run.paths["getpid/ia32_syscall"].skipped.startswith("SYSCALL from compat mode")
    assert run.paths["getpid/syscall"].counter("tsc_ticks") is not None


def test_add_results_is_idempotent(tmp_path, results):
    db = tmp_path / "h.sqlite"
    first = store.add_results(db, results[0])
    assert store.add_results(db, results[0]) == first
    # The same results written differently are the same run.
    reformatted = tmp_path / "same.json"
    reformatted.write_text(json.dumps(json.load(open(results[0])), indent=7))
    assert store.add_results(db, reformatted) == first
    assert _counts(db) == (1, len(synth.PATHS))
    assert store.add_results(db, results[1]) != first


def test_four_concurrent_imports_all_land(tmp_path, results):
    db = tmp_path / "h.sqlite"
    procs = [_sysgate("history", "add", "--db", str(db), path) for path in results]
    outcomes = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for out, err, rc in outcomes:
        assert rc == 0, err
        assert "added as run #" in out
    assert _counts(db) == (4, 4 * len(synth.PATHS))


def test_import_killed_mid_transaction_leaves_no_partial_run(tmp_path, results):
    db = tmp_path / "h.sqlite"
    store.add_results(db, results[0])
    before = _counts(db)
    proc = _sysgate("history", "add", "--db", str(db), results[1], pause=60)
    try:
        line = proc.stderr.readline()  # printed inside the transaction, half the rows written
        assert "inside the import transaction" in line
        assert os.path.exists(f"{db}-journal")  # the transaction really is open
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _counts(db) == before
    # The store is usable and the file imports cleanly afterwards.
    assert store.add_results(db, results[1]) == 2
    assert _counts(db) == (2, 2 * len(synth.PATHS))


def test_interrupt_mid_import_rolls_back(tmp_path, results, monkeypatch, capsys):
    db = tmp_path / "h.sqlite"
    store.add_results(db, results[0])

    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(connection.Store, "executemany", paused_import.halted(interrupt))
    assert cli.main(["history", "add", "--db", str(db), results[1]]) == 130
    assert "error: interrupted" in capsys.readouterr().err
    assert _counts(db) == (1, len(synth.PATHS))


_BAD_FILES = {
    "truncated.json": lambda good: good[: len(good) // 2],
    "foreign.json": lambda good: b'{"name": "not a benchmark", "values": [1, 2, 3]}',
    "list.json": lambda good: b"[1, 2, 3]",
    "empty.json": lambda good: b"",
    "binary.json": lambda good: bytes(range(256)) * 4,
    "plain_gbench.json": lambda good: json.dumps({
        "context": {"date": "x", "host_name": "h"},
        "benchmarks": [{"name": "BM_x", "run_type": "iteration", "real_time": 1.0,
                        "time_unit": "ns"}],
    }).encode(),
}


@pytest.mark.parametrize("bad_name", sorted(_BAD_FILES))
def test_bad_file_is_refused_without_touching_the_store(tmp_path, results, bad_name, capsys):
    db = tmp_path / "h.sqlite"
    store.add_results(db, results[0])
    before = _digest(db)
    bad = tmp_path / bad_name
    bad.write_bytes(_BAD_FILES[bad_name](open(results[0], "rb").read()))
    # A good file beside the bad one is not imported either: all files are checked first.
    assert cli.main(["history", "add", "--db", str(db), results[1], str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and bad_name in err and "Traceback" not in err
    assert _digest(db) == before


def test_bad_file_through_the_real_cli(tmp_path, results):
    db = tmp_path / "h.sqlite"
    bad = tmp_path / "bad.json"
    bad.write_text('{"context": {}, "benchm')
    proc = _sysgate("history", "add", "--db", str(db), str(bad))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.startswith("error: ") and "Traceback" not in err
    assert not db.exists()


def test_foreign_database_is_refused(tmp_path, results, capsys):
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("just some text\n" * 100)
    other_app = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other_app)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    for db in (not_sqlite, other_app):
        before = _digest(db)
        assert cli.main(["history", "add", "--db", str(db), results[0]]) == 2
        assert capsys.readouterr().err.startswith("error: ")
        assert _digest(db) == before


def test_list_without_a_store_is_an_error(tmp_path, capsys):
    assert cli.main(["history", "list", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no history store" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()


def test_resolve_by_run_id_and_kernel_release(tmp_path, results, capsys):
    db = tmp_path / "h.sqlite"
    for path in results:
        store.add_results(db, path)
    assert resolve.resolve("2", db).kernel == "6.1.0-50-cloud-amd64"
    assert resolve.resolve("#3", db).kernel == "6.12.57+deb13-cloud-amd64"
    assert resolve.resolve("6.18.1", db).source.startswith("run #4")
    newer = synth.write_results(tmp_path / "again.json", seed=9,
                                context={"kernel_release": "6.18.1", "date": "2026-12-01T00:00:00"})
    store.add_results(db, newer)
    assert resolve.resolve("6.18.1", db).source.startswith("run #5")
    assert "using run #5" in capsys.readouterr().err
    with pytest.raises(UserError, match="no such file, run id or kernel release"):
        resolve.resolve("5.4.0", db)
    with pytest.raises(UserError, match="no run #99"):
        resolve.resolve("99", db)


def test_runs_of_another_host_get_another_fingerprint():
    ctx = synth.make_results()["context"]
    assert store.host_fingerprint(ctx) == store.host_fingerprint(dict(ctx, microcode="0x2b"))
    assert store.host_fingerprint(ctx) != store.host_fingerprint(dict(ctx, host_name="other"))
    assert store.host_fingerprint({}) == store.host_fingerprint({})
