"""The shared PostgreSQL store: URLs, pushing from hosts, dropped connections, killed
writers and many concurrent writers, against a real server (conftest.pg_server)."""

import os
import signal
import subprocess
import urllib.parse

import pytest

import history_synth as synth
import paused_import
from store_helpers import counts, snapshot
from sysgatelib import cli, store
from sysgatelib.core.errors import UserError
from sysgatelib.store import resolve


def _sysgate(*args, env=None, pause=None):
    """sysgate as a user runs it; with `pause`, each import stops that many seconds inside
    its transaction (helpers/paused_import.py)."""
    argv = (paused_import.command(pause, *args) if pause
            else [synth.PYTHON, synth.SYSGATE, *map(str, args)])
    return subprocess.Popen(argv, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _results(folder, count, offset=0, kernels=("6.1.0-47-cloud-amd64", "6.12.57+deb13")):
    return [synth.write_results(
        folder / f"run{offset + i}.json", seed=1000 + offset + i,
        context={"kernel_release": kernels[i % len(kernels)],
                 "date": f"2026-11-{1 + i % 28:02d}T{(offset + i) % 24:02d}:00:00"})
        for i in range(count)]


def _database(url):
    return urllib.parse.urlsplit(url).path.lstrip("/")


@pytest.mark.parametrize("url", [
    "postgresql://ci:secret@db.example/fleet",
    "postgres://ci:secret@db.example:5432/fleet",
    "postgresql://ci@db.example/fleet?password=secret",
])
def test_a_password_in_the_url_is_refused(url, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["history", "list", "--db", url])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "password in the URL is refused" in err and "secret" not in err


@pytest.mark.parametrize("command", [["run"], ["history", "add", "x.json"], ["history", "list"],
                                     ["history", "check"], ["compare", "a", "b"], ["trend"],
                                     ["kernels", "vmlinuz"]], ids=" ".join)
def test_every_db_option_takes_a_url_and_refuses_a_password(command, capsys):
    parser = cli.build_parser()
    url = "postgresql://ci@db.example:5433/fleet"
    args = parser.parse_args([*command, "--db", url])
    assert str(args.db) == url and store.is_postgresql(args.db)
    with pytest.raises(SystemExit):
        parser.parse_args([*command, "--db", "postgresql://ci:pw@db.example/fleet"])
    assert "password in the URL is refused" in capsys.readouterr().err


def test_url_forms(tmp_path, pg_url):
    assert isinstance(store.db_target(pg_url), str) and store.is_postgresql(pg_url)
    assert store.db_target(str(tmp_path / "h.sqlite")) == tmp_path / "h.sqlite"
    postgres = "postgres://" + pg_url.split("://", 1)[1]
    store.add_results(postgres, synth.write_results(tmp_path / "a.json", seed=1))
    assert counts(pg_url) == (1, len(synth.PATHS))
    with pytest.raises(UserError, match="names no database"):
        store.open_store("postgresql://ci@db.example")


def test_no_server_is_a_clean_error(tmp_path):
    url = f"postgresql://sysgate@{urllib.parse.quote(str(tmp_path), safe='')}:5999/none"
    done = subprocess.run([synth.PYTHON, synth.SYSGATE, "history", "list", "--db", url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {url}: cannot connect")
    assert "Traceback" not in done.stderr


def test_push_copies_each_run_once(tmp_path, pg_url, capsys):
    local = tmp_path / "host.sqlite"
    store.import_files(local, _results(tmp_path, 4))
    store.tag_runs(store.open_store(local, write=True), [2], "baseline")
    assert cli.main(["history", "push", "--db", str(local), "--to", pg_url]) == 0
    assert "4 run(s) copied, 0 already there" in capsys.readouterr().out
    assert counts(pg_url) == (4, 4 * len(synth.PATHS))
    # Pushing again, and from a second host that measured the same file, stores nothing new.
    assert cli.main(["history", "push", "--db", str(local), "--to", pg_url]) == 0
    assert "0 run(s) copied, 4 already there" in capsys.readouterr().out
    other = tmp_path / "other.sqlite"
    store.import_files(other, _results(tmp_path, 2, offset=0) + _results(tmp_path, 1, offset=9))
    assert cli.main(["history", "push", "--db", str(other), "--to", pg_url]) == 0
    assert "1 run(s) copied, 2 already there" in capsys.readouterr().out
    assert counts(pg_url) == (5, 5 * len(synth.PATHS))
    with store.open_store(local) as src, store.open_store(pg_url) as dst:
        here = {r.id: r for r in store.list_runs(src)}
        there = store.list_runs(dst)
        assert [r.tag for r in there if r.tag] == ["baseline"]
        loaded = store.load_runs(dst, [r.id for r in there[:4]])
        for run, original in zip(loaded, store.load_runs(src, sorted(here))):
            assert run.context == original.context
            assert {n: p.samples_ns for n, p in run.paths.items()} == \
                {n: p.samples_ns for n, p in original.paths.items()}
    # The fleet's store answers compare by kernel release like a local one.
    assert len(resolve.resolve_side("6.12.57+deb13", pg_url)) == 2


def test_a_dropped_connection_is_an_error_and_a_retry_succeeds(tmp_path, pg_url, pg_server):
    local = tmp_path / "host.sqlite"
    store.import_files(local, _results(tmp_path, 3))
    store.open_store(pg_url, create=True).close()
    proc = _sysgate("history", "push", "--db", local, "--to", pg_url, pause=3)
    try:
        line = proc.stderr.readline()
        assert "inside the import transaction" in line
        pg_server.terminate_clients(_database(pg_url))
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2
    assert err.startswith(f"error: {pg_url}: cannot push run #1 ") and "connection" in err
    assert "Traceback" not in err
    assert counts(pg_url) == (0, 0)  # the run being pushed left nothing behind
    assert cli.main(["history", "push", "--db", str(local), "--to", pg_url]) == 0
    assert counts(pg_url) == (3, 3 * len(synth.PATHS))


def test_a_connection_dropped_under_a_reader(tmp_path, pg_url, pg_server):
    store.add_results(pg_url, _results(tmp_path, 1)[0])
    st = store.open_store(pg_url)
    try:
        pg_server.terminate_clients(_database(pg_url))
        with pytest.raises(UserError, match="connection lost"):
            store.list_runs(st)
    finally:
        st.close()
    with store.open_store(pg_url) as st:
        assert len(store.list_runs(st)) == 1


def test_a_writer_killed_mid_import_leaves_nothing(tmp_path, pg_url):
    first, second = _results(tmp_path, 2)
    store.add_results(pg_url, first)
    before = snapshot(pg_url)
    proc = _sysgate("history", "add", "--db", pg_url, second, pause=60)
    try:
        assert "inside the import transaction" in proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(pg_url) == before
    assert store.add_results(pg_url, second) > 1
    assert counts(pg_url) == (2, 2 * len(synth.PATHS))


WRITERS, RUNS_EACH = 16, 25


@pytest.mark.slow
def test_sixteen_concurrent_writers_lose_and_duplicate_nothing(tmp_path, pg_url):
    files = _results(tmp_path, WRITERS * RUNS_EACH)
    batches = [files[i * RUNS_EACH:(i + 1) * RUNS_EACH] for i in range(WRITERS)]
    # Each writer also imports one file of the next writer: the same run from two hosts
    # at once must be stored once.
    procs = [_sysgate("history", "add", "--db", pg_url, *batch, batches[(i + 1) % WRITERS][0])
             for i, batch in enumerate(batches)]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert out.count("run #") == RUNS_EACH + 1
    with store.open_store(pg_url) as st:
        runs = store.list_runs(st)
        hashes = st.execute("SELECT content_hash FROM runs").fetchall()
        per_run = dict(st.execute("SELECT run_id, count(*) FROM paths GROUP BY run_id").fetchall())
    assert len(runs) == WRITERS * RUNS_EACH
    assert len({h[0] for h in hashes}) == WRITERS * RUNS_EACH
    assert all(per_run[r.id] == len(synth.PATHS) == r.measured + r.skipped for r in runs)
    assert {r.source for r in runs} == {os.path.abspath(f) for f in files}


def test_without_psycopg_the_cli_starts_and_says_what_to_install(tmp_path, pg_url):
    """psycopg is imported only for a PostgreSQL URL: help and SQLite work without it,
    and a URL gets the package to install, not a traceback."""
    folder = tmp_path / "unimportable"
    folder.mkdir()
    (folder / "psycopg.py").write_text("raise ImportError('psycopg is unimportable here')\n")
    env = dict(os.environ, PYTHONPATH=str(folder))
    for action in ("push", "check", "tag", "rm", "list", "add"):
        done = subprocess.run([synth.PYTHON, synth.SYSGATE, "history", action, "--help"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    local = tmp_path / "h.sqlite"
    done = subprocess.run([synth.PYTHON, synth.SYSGATE, "history", "add", "--db", str(local),
                           _results(tmp_path, 1)[0]], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([synth.PYTHON, synth.SYSGATE, "history", "push", "--db", str(local),
                           "--to", pg_url], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and "python3-psycopg" in done.stderr
