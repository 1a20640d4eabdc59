"""Schema versions: a store written by the first release (schema 1, made by that code:
fixtures/make_history_schema1.py) is upgraded in place and keeps every run."""

import shutil
import sqlite3

import pytest

import history_synth as synth
from conftest import FIXTURES
from sysgatelib import cli, store
from sysgatelib.results import load
from sysgatelib.store import resolve
from sysgatelib.verdicts import stats

SCHEMA1 = FIXTURES / "history_schema1.sqlite"


def _rows(db):
    conn = sqlite3.connect(db)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        # Schema 3 keeps the results file in a table of its own.
        results = ("(SELECT results_zlib FROM run_results WHERE run_id = id)"
                   if "run_results" in tables else "results_zlib")
        runs = conn.execute(f"SELECT id, content_hash, kernel_release, context, {results} "
                            "FROM runs ORDER BY id").fetchall()
        paths = conn.execute("SELECT run_id, name, mechanism, skipped, samples_ns, counters "
                             "FROM paths ORDER BY run_id, rowid").fetchall()
        return runs, paths
    finally:
        conn.close()


@pytest.fixture
def old_store(tmp_path):
    db = tmp_path / "old.sqlite"
    shutil.copy(SCHEMA1, db)
    return db


def test_the_fixture_is_a_schema1_store(old_store):
    conn = sqlite3.connect(old_store)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() \
            == ("1",)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert "schema_version" not in tables
    finally:
        conn.close()


def test_upgrade_keeps_every_run(old_store, capsys):
    runs_before, paths_before = _rows(old_store)
    assert len(runs_before) == 4
    # A reader upgrades it (listing is the first thing a user does after updating).
    assert cli.main(["history", "list", "--db", str(old_store)]) == 0
    listing = capsys.readouterr().out
    runs_after, paths_after = _rows(old_store)
    assert runs_after == runs_before and paths_after == paths_before
    with store.open_store(old_store) as st:
        assert store.schema_version(st) == store.SCHEMA_VERSION
        stored = {r.id: r for r in store.list_runs(st)}
        real = store.load_run(st, 3)
        first = store.load_run(st, 1)
    # The columns version 2 added are filled from what version 1 kept.
    assert stored[1].cmdline == "root=UUID=1234 ro mitigations=off console=ttyS0,115200"
    assert "BOOT_IMAGE" not in listing and "root=UUID=1234 ro mitigations=off" in listing
    assert stored[1].measured == len(synth.PATHS) - 1 and stored[1].skipped == 1
    assert stored[1].repetitions == 10
    # The path facts come back for rows stored before they were kept, order included.
    assert list(first.paths) == [p[0] for p in synth.PATHS]
    assert first.paths["getpid/ia32_vdso"].baseline == "baseline/ia32_call"
    original = load.load(FIXTURES / "history_real_vm.json")
    assert list(real.paths) == list(original.paths)
    for name, path in original.paths.items():
        assert real.paths[name].samples_ns == path.samples_ns
        assert real.paths[name].mechanism == path.mechanism
        assert real.paths[name].skipped == path.skipped
    # Version 3: each path row's figure and repetition count, computed from its samples.
    with store.open_store(old_store) as st:
        figures = store.load_figures(st, [1, 3])
    for name, path in original.paths.items():
        kept = figures[3][name]
        assert kept.repetitions == len(path.samples_ns)
        assert kept.figure_ns == (stats.run_figure(path.samples_ns) if path.samples_ns
                                  else None)
    assert figures[1]["getpid/syscall"].repetitions == 10
    assert figures[1]["getpid/ia32_vdso"].path.baseline == "baseline/ia32_call"


def test_upgraded_store_takes_new_runs_and_stays_idempotent(old_store, tmp_path, capsys):
    real = str(FIXTURES / "history_real_vm.json")
    assert cli.main(["history", "add", "--db", str(old_store), real]) == 0
    assert "already in the store as run #3" in capsys.readouterr().out
    new = synth.write_results(tmp_path / "new.json", seed=77,
                              context={"kernel_release": "6.18.1", "date": "2026-12-01T00:00"})
    assert store.add_results(old_store, new) == 5
    assert resolve.resolve("6.18.1", old_store).source.startswith("run #5")
    # The seccomp run of that kernel is not pooled with the plain one.
    assert [r.source for r in resolve.resolve_side("6.18.44-fc-v657", old_store)] == \
        ["run #4 (vm 6.18.44-fc-v657)"]
    assert "1 with other boot options or conditions left out" in capsys.readouterr().err


def test_a_newer_schema_is_refused_untouched(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    store.add_results(db, synth.write_results(tmp_path / "a.json", seed=1))
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 'later')")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    assert cli.main(["history", "list", "--db", str(db)]) == 2
    assert "newer sysgate (schema 99" in capsys.readouterr().err
    assert db.read_bytes() == before
