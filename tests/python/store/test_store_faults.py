"""The SQLite store under faults: damaged pages, a full disk, a read-only store. Each is
refused with `error: <store>: <cause>` and exit 2, and leaves the store as it was.
(kill -9 and Ctrl-C mid-import are in test_store.py.)"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
import tempfile

import pytest

import history_synth as synth
from store_helpers import counts
from sysgatelib import cli, store
from sysgatelib.store import sqlite as store_sqlite


def _digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture
def results(tmp_path):
    return [synth.write_results(tmp_path / f"run{i}.json", seed=60 + i,
                                context={"kernel_release": f"6.1.0-{40 + i}-cloud-amd64",
                                         "date": f"2026-11-1{i}T00:00:00"})
            for i in range(6)]


def _corrupt_middle_pages(db):
    """Overwrites the middle third of the file's pages with garbage, as a bad disk does."""
    size = os.path.getsize(db)
    page = 4096
    pages = size // page
    assert pages >= 6, "the store is too small to damage its middle"
    with open(db, "r+b") as handle:
        for index in range(pages // 3, 2 * pages // 3):
            handle.seek(index * page)
            handle.write(bytes((index * 37 + i) % 251 for i in range(page)))


def test_damaged_store_is_refused_and_left_untouched(tmp_path, results, capsys):
    db = tmp_path / "h.sqlite"
    store.import_files(db, results[:5])
    _corrupt_middle_pages(db)
    before = _digest(db)
    assert cli.main(["history", "add", "--db", str(db), results[5]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {db}: ") and "damaged" in err and "untouched" in err
    assert _digest(db) == before
    # Reading commands give the same kind of one-line error, never a traceback.
    for argv in (["history", "list"], ["trend", "-o", str(tmp_path / "t")],
                 ["compare", "1", "2"], ["history", "tag", "1", "--tag", "x"],
                 ["history", "rm", "1"]):
        code = cli.main([*argv, "--db", str(db)])
        err = capsys.readouterr().err
        assert code == 2, argv
        assert err.startswith("error: ") and "Traceback" not in err, argv
        assert _digest(db) == before, argv
    assert cli.main(["history", "check", "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert "problem: integrity:" in captured.out and "damaged" in captured.err
    assert _digest(db) == before


class _FullDisk:
    """An sqlite3 connection whose disk fills up while the path rows are written: SQLite
    rolls the transaction back by itself, then reports SQLITE_FULL, as a real full disk
    does during a large write."""

    def __init__(self, conn):
        self._conn = conn

    def _fail(self, sql):
        if "INSERT INTO paths" in sql:
            self._conn.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")

    def execute(self, sql, params=()):
        self._fail(sql)
        return self._conn.execute(sql, params)

    def cursor(self):
        outer = self

        class Cursor:
            def executemany(self, sql, rows):
                outer._fail(sql)
                return outer._conn.executemany(sql, rows)
        return Cursor()

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_full_disk_names_its_cause(tmp_path, results, monkeypatch, capsys):
    db = tmp_path / "h.sqlite"
    store.add_results(db, results[0])
    before = counts(db)
    real_connect = store_sqlite.connect
    monkeypatch.setattr(store_sqlite, "connect", lambda path: _FullDisk(real_connect(path)))
    assert cli.main(["history", "add", "--db", str(db), results[1]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {db}: cannot add ") and "disk full" in err
    assert "cannot rollback" not in err
    monkeypatch.undo()
    assert counts(db) == before
    assert store.add_results(db, results[1]) == 2


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_disk_on_a_real_small_file_system(tmp_path, results, capsys):
    mount = tempfile.mkdtemp(prefix="sysgate-full-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount],
                          capture_output=True, text=True)
    if done.returncode != 0:
        os.rmdir(mount)
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        db = os.path.join(mount, "h.sqlite")
        store.add_results(db, results[0])
        before = counts(db)
        filler = os.path.join(mount, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:  # fill the file system, then leave a few KiB: less than a run needs
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        os.truncate(filler, max(0, os.path.getsize(filler) - 8192))
        code = cli.main(["history", "add", "--db", db, results[1]])
        err = capsys.readouterr().err
        assert code == 2
        assert "disk full" in err and "cannot rollback" not in err and "Traceback" not in err
        assert counts(db) == before
        os.unlink(filler)
        assert store.add_results(db, results[1]) == 2
    finally:
        subprocess.run(["umount", mount], check=False)
        os.rmdir(mount)


def test_read_only_store_names_its_cause(tmp_path, results, monkeypatch, capsys):
    db = tmp_path / "h.sqlite"
    store.add_results(db, results[0])
    before = _digest(db)

    class ReadOnly(_FullDisk):
        def _fail(self, sql):
            if sql.startswith(("INSERT", "UPDATE", "DELETE")):
                raise sqlite3.OperationalError("attempt to write a readonly database")

    real_connect = store_sqlite.connect
    monkeypatch.setattr(store_sqlite, "connect", lambda path: ReadOnly(real_connect(path)))
    assert cli.main(["history", "add", "--db", str(db), results[1]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {db}: ") and "read-only" in err
    monkeypatch.undo()
    assert _digest(db) == before


def test_read_only_store_for_another_user(tmp_path, results):
    """A store the user may read but not write: reading works, writing says why."""
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv not found: cannot run the CLI as an unprivileged user")
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    else:
        prefix = []
    folder = tempfile.mkdtemp(prefix="sysgate-ro-")
    try:
        os.chmod(folder, 0o755)
        db = os.path.join(folder, "h.sqlite")
        store.add_results(db, results[0])
        new = shutil.copy(results[1], os.path.join(folder, "new.json"))
        os.chmod(db, 0o444)
        os.chmod(new, 0o444)
        if not prefix:
            os.chmod(folder, 0o555)
        before = _digest(db)
        base = [*prefix, synth.PYTHON, synth.SYSGATE]
        listed = subprocess.run([*base, "history", "list", "--db", db],
                                capture_output=True, text=True, timeout=60, cwd="/")
        assert listed.returncode == 0, listed.stderr
        assert "6.1.0-40-cloud-amd64" in listed.stdout
        added = subprocess.run([*base, "history", "add", "--db", db, new],
                               capture_output=True, text=True, timeout=60, cwd="/")
        assert added.returncode == 2
        assert added.stderr.startswith(f"error: {db}: ") and "Traceback" not in added.stderr
        assert "read-only" in added.stderr and "not writable by this user" in added.stderr
        assert _digest(db) == before
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)


def _many_runs(tmp_path, count=40):
    return [synth.write_results(tmp_path / f"many{i}.json", seed=200 + i,
                                context={"date": f"2026-11-{1 + i % 28:02d}T00:{i:02d}:00"})
            for i in range(count)]


def test_a_damaged_store_is_never_read_as_sound(tmp_path, capsys):
    """Issue 24: with the middle third of a larger store overwritten, the runs table may be
    intact, and listing it read as sound. Every reader now refuses it, in one line with
    the remedy, and leaves it untouched."""
    db = tmp_path / "h.sqlite"
    store.import_files(db, _many_runs(tmp_path))
    assert cli.main(["history", "list", "--db", str(db)]) == 0
    capsys.readouterr()
    with sqlite3.connect(db) as conn:  # each table in one piece: the runs come first
        conn.execute("VACUUM")
    conn.close()
    _corrupt_middle_pages(db)
    before = _digest(db)
    for argv in (["history", "list"], ["history", "list", "--kernel", "6.1.0-47-cloud-amd64"],
                 ["compare", "1", "2"], ["trend", "-o", str(tmp_path / "t")]):
        assert cli.main([*argv, "--db", str(db)]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"error: {db}: damaged store") and err.count("\n") == 1, err
        assert "restore it from a backup" in err
    assert _digest(db) == before
    assert not (tmp_path / "t").exists()
    assert cli.main(["history", "check", "--db", str(db)]) == 2  # check still reports
    assert "problem: integrity:" in capsys.readouterr().out


def test_reads_check_the_file_only_when_it_changed(tmp_path, results, monkeypatch, capsys):
    """The full check runs once per change of the file, not on every read: a write of ours
    and a good check leave a stamp beside the store, and a read of an unchanged file
    trusts it."""
    db = tmp_path / "h.sqlite"
    store.import_files(db, results[:2])
    stamp = tmp_path / "h.sqlite-checked"
    assert stamp.exists()  # left by the write
    checks = []
    real = store_sqlite.quick_check

    def counted(conn, full=False):
        checks.append(full)
        return real(conn, full)

    monkeypatch.setattr(store_sqlite, "quick_check", counted)
    for _ in range(3):
        assert cli.main(["history", "list", "--db", str(db)]) == 0
    assert checks == []  # unchanged since our write: no page read to check it
    os.utime(db, ns=(1, 1))  # the file changed behind our back (a copy, another program)
    assert cli.main(["history", "list", "--db", str(db)]) == 0
    assert cli.main(["history", "list", "--db", str(db)]) == 0
    assert checks == [False]  # checked once, then trusted again
    stamp.unlink()  # no stamp (a read-only folder keeps none): every read checks
    assert cli.main(["history", "list", "--db", str(db)]) == 0
    assert checks == [False, False]
