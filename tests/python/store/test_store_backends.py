"""The same behaviour from both backends: SQLite (a file) and PostgreSQL (a real server
started by the tests, conftest.pg_server). Nothing here is mocked."""

import json
import re
from pathlib import Path

import pytest

import history_synth as synth
from store_helpers import counts, snapshot
from sysgatelib import cli, store
from sysgatelib.commands import trend
from sysgatelib.core.errors import UserError
from sysgatelib.results import load
from sysgatelib.store import connection, postgresql, resolve, schema, sqlite, writing
from sysgatelib.verdicts import stats

OLD, NEW = "6.1.0-47-cloud-amd64", "6.12.57+deb13-cloud-amd64"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "h.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def results(tmp_path):
    """Two runs of an old kernel, two of a new one where getpid/syscall is 8% slower."""
    files = []
    for i, (kernel, shift) in enumerate(((OLD, None), (OLD, None),
                                         (NEW, {"getpid/syscall": 1.08}),
                                         (NEW, {"getpid/syscall": 1.08}))):
        context = {"kernel_release": kernel, "date": f"2026-11-2{i}T00:00:00",
                   "boot_cmdline": f"BOOT_IMAGE=/vmlinuz-{kernel} root=UUID=1 ro quiet "
                                   "-- --init-arg"}
        files.append(synth.write_results(tmp_path / f"run{i}.json", seed=40 + i, shift=shift,
                                         context=context))
    return files


def test_import_list_and_load_back(db, results, capsys):
    assert cli.main(["history", "add", "--db", db, *results]) == 0
    assert "added as run #4" in capsys.readouterr().out
    assert counts(db) == (4, 4 * len(synth.PATHS))
    assert cli.main(["history", "list", "--db", db]) == 0
    listing = capsys.readouterr().out
    header = listing.splitlines()[0].split()
    for column in ("quick", "reps", "seccomp", "load", "busy", "tag"):
        assert column in header
    # The boot options read as the command line, in order, without the loader's BOOT_IMAGE.
    assert "root=UUID=1 ro quiet -- --init-arg" in listing and "BOOT_IMAGE" not in listing
    row = next(line for line in listing.splitlines() if line.startswith("#1 "))
    assert " 10 " in row and " off " in row and " 0.30 " in row
    with store.open_store(db) as st:
        run = store.load_run(st, 3)
        assert [r.id for r in store.list_runs(st, kernel=NEW)] == [3, 4]
    original = synth.make_results(seed=42, shift={"getpid/syscall": 1.08})
    samples = [r["real_time"] for r in original["benchmarks"]
               if r["run_name"] == "getpid/syscall/manual_time" and r["run_type"] == "iteration"]
    assert run.paths["getpid/syscall"].samples_ns == samples
    assert list(run.paths) == [p[0] for p in synth.PATHS]  # the file's order
    assert run.paths["getpid/ia32_syscall"].skipped.startswith("SYSCALL from compat mode")
    assert run.paths["getpid/ia32_vdso"].abi == "ia32"
    assert run.paths["getpid/ia32_vdso"].baseline == "baseline/ia32_call"


def test_reimport_is_idempotent(db, results, tmp_path, capsys):
    store.import_files(db, results)
    before = snapshot(db)
    reformatted = tmp_path / "same.json"
    reformatted.write_text(json.dumps(json.load(open(results[0])), indent=3))
    assert cli.main(["history", "add", "--db", db, *results, str(reformatted)]) == 0
    out = capsys.readouterr().out
    assert out.count("already in the store as run #") == 5
    assert snapshot(db) == before


def test_compare_by_kernel_release(db, results, capsys):
    store.import_files(db, results)
    assert cli.main(["compare", "--db", db, OLD, NEW]) == 1
    captured = capsys.readouterr()
    assert "getpid/syscall" in captured.out and "REGRESSION" in captured.out
    assert "pooling 2 run(s)" in captured.err
    assert cli.main(["compare", "--db", db, "1", "2"]) == 0
    assert cli.main(["compare", "--db", db, OLD, "4.19.0"]) == 2
    assert "no such file, run id or kernel release" in capsys.readouterr().err


def test_trend(db, results, tmp_path, capsys):
    store.import_files(db, results)
    out = tmp_path / "trend"
    assert cli.main(["trend", "--db", db, "-o", str(out)]) == 0
    assert (out / "trend.html").exists()
    with store.open_store(db) as st:
        (series,) = trend.build_series(st)
    assert series.kernels == [OLD, NEW]
    marked = [(s.path, s.change.verdict) for t in series.paths for s in t.marked()]
    assert ("getpid/syscall", "regression") in marked


_BAD = {
    "truncated.json": lambda good: good[: len(good) // 2],
    "not_sysgate.json": lambda good: json.dumps({
        "context": {"host_name": "h"},
        "benchmarks": [{"name": "BM_x", "run_type": "iteration", "real_time": 1.0,
                        "time_unit": "ns"}]}).encode(),
    "empty.json": lambda good: b"",
}


@pytest.mark.parametrize("bad_name", sorted(_BAD))
def test_bad_input_is_refused_with_the_store_unchanged(db, results, tmp_path, bad_name, capsys):
    store.add_results(db, results[0])
    before = snapshot(db)
    bad = tmp_path / bad_name
    bad.write_bytes(_BAD[bad_name](open(results[0], "rb").read()))
    assert cli.main(["history", "add", "--db", db, results[1], str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and bad_name in err and "Traceback" not in err
    assert snapshot(db) == before


def test_tag_and_rm(db, results, tmp_path, capsys):
    store.import_files(db, results)
    assert cli.main(["history", "tag", "--db", db, "1", "#2", "--tag", "baseline"]) == 0
    capsys.readouterr()
    assert cli.main(["history", "list", "--db", db, "--tag", "baseline"]) == 0
    listing = capsys.readouterr().out
    assert "#1 " in listing and "#2 " in listing and "#3 " not in listing
    assert "baseline" in listing
    assert cli.main(["history", "tag", "--db", db, "2", "--clear"]) == 0
    with store.open_store(db) as st:
        assert [r.id for r in store.list_runs(st, tag="baseline")] == [1]
    # An unknown run id changes nothing, even beside a known one.
    before = snapshot(db)
    assert cli.main(["history", "rm", "--db", db, "4", "99"]) == 2
    assert "#99" in capsys.readouterr().err
    assert snapshot(db) == before

    assert cli.main(["history", "rm", "--db", db, "3", "4"]) == 0
    assert counts(db) == (2, 2 * len(synth.PATHS))
    # Gone from compare and trend; the store stays consistent.
    with pytest.raises(UserError, match="no such file, run id or kernel release"):
        resolve.resolve_side(NEW, db)
    with pytest.raises(UserError, match="no run #3"):
        resolve.resolve_side("3", db)
    with store.open_store(db) as st:
        (series,) = trend.build_series(st)
        assert series.kernels == [OLD]
        facts, problems = store.check(st)
    assert problems == [] and dict(facts)["runs"] == "2"
    assert cli.main(["history", "check", "--db", db]) == 0
    # The removed runs can come back.
    assert store.add_results(db, results[3]) > 4


def test_history_check_counts(db, results, capsys):
    store.import_files(db, results)
    assert cli.main(["history", "check", "--db", db]) == 0
    out = capsys.readouterr().out
    facts = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in out.splitlines()[2:])
    assert facts["runs"] == "4" and facts["kernels"] == "2" and facts["hosts"] == "1"
    assert facts["paths"] == str(4 * len(synth.PATHS))
    assert facts["schema version"] == str(store.SCHEMA_VERSION)


def test_many_runs_are_read_and_changed_in_chunks(db, results, monkeypatch):
    """Runs are loaded, tagged and removed by `IN (...)` queries of CHUNK ids: the same
    answers whatever the chunk size."""
    store.import_files(db, results)
    monkeypatch.setattr(connection, "CHUNK", 3)
    with store.open_store(db) as st:
        runs = store.load_runs(st, [4, 1, 3, 2, 1])
        assert [r.source.split()[1] for r in runs] == ["#4", "#1", "#3", "#2", "#1"]
        assert all(len(r.paths) == len(synth.PATHS) for r in runs)
        store.tag_runs(st, [1, 2, 3, 4], "all")
        assert [r.tag for r in store.list_runs(st)] == ["all"] * 4
        store.remove_runs(st, [1, 2, 4, 3])
        assert store.list_runs(st) == []
    assert counts(db) == (0, 0)


def test_bulk_reads_come_back_exactly(db):
    """Store.fetch_all (PostgreSQL sends the rows as one JSON text): every double bit for
    bit, NULLs, and text with what JSON and SQL escape."""
    doubles = [0.1 + 0.2, 103.45678901234567, 1e-300, 5e-324, 1.7976931348623157e308,
               2.0 / 3.0, 0.0]
    texts = ["tab\there", "line\nbreak", 'quote " and \' and \\ back', "ünïcödé ≥ 10⁹",
             "", "\\N", "null"]
    with store.open_store(db, create=True) as st:
        st.execute("CREATE TABLE bulk (k INTEGER, x {real}, t TEXT)")
        rows = [(i, doubles[i] if i < len(doubles) else None,
                 texts[i] if i < len(texts) else None) for i in range(len(doubles) + 1)]
        st.executemany("INSERT INTO bulk (k, x, t) VALUES (?, ?, ?)", rows)
        back = sorted(st.fetch_all(["k", "x", "t", "'' AS blank"],
                                   "FROM bulk WHERE k >= ? ORDER BY k", (0,)))
    assert back == [(*row, "") for row in rows]
    assert all(type(a) is type(b) for got, want in zip(back, rows) for a, b in zip(got, want))


def _insert(st, data, source, edit=None):
    run = load.parse(data, source)
    if edit:
        edit(run)
    prepared = writing.Prepared(source, run, store.content_hash(data), json.dumps(data).encode())
    return store.insert_run(st, *writing.values(prepared))[0]


def test_figures_come_with_each_runs_own_facts(db):
    """load_figures reads a path name's facts once when every run states the same ones,
    and each row's own when they differ (runs of several sysgate versions)."""
    def older(run):
        run.paths["getpid/syscall"].mechanism = "glibc"
        run.paths["getpid/syscall"].expected_entries = 2.0

    with store.open_store(db, create=True) as st:
        same = [_insert(st, synth.make_results(seed=s), f"r{s}.json") for s in (1, 2)]
        mixed = _insert(st, synth.make_results(seed=3), "r3.json", older)
        alike = store.load_figures(st, same)
        both = store.load_figures(st, [*same, mixed])
        runs = store.load_runs(st, [*same, mixed])
    for figures in (alike, both):
        for run_id in same:
            path = figures[run_id]["getpid/syscall"].path
            assert (path.mechanism, path.expected_entries) == ("syscall", 1.0)
    path = both[mixed]["getpid/syscall"].path
    assert (path.mechanism, path.expected_entries) == ("glibc", 2.0)
    for run in runs:
        run_id = int(run.source.split("#")[1].split()[0])
        for name, stored in run.paths.items():
            kept = both[run_id][name]
            assert kept.repetitions == len(stored.samples_ns)
            assert kept.path.skipped == stored.skipped
            assert kept.figure_ns == (stats.run_figure(stored.samples_ns)
                                      if stored.samples_ns else None)


def _schema_2_store(db, data, source):
    """A store as sysgate with schema 2 left it: its migrations only, and one run in its
    layout (the results file in `runs`, no figure columns in `paths`)."""
    if store.is_postgresql(db):
        target = postgresql.parse_url(str(db))
        st = store.Store("postgresql", postgresql.connect(target), str(target))
    else:
        st = store.Store("sqlite", sqlite.connect(db), str(db), Path(db))
    try:
        with st.transaction():
            for step in (1, 2):
                schema.MIGRATIONS[step](st)
            st.executemany("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                           [(1, "then"), (2, "then")])
            st.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        run = load.parse(data, source)
        prepared = writing.Prepared(source, run, store.content_hash(data),
                                       json.dumps(data).encode())
        row, path_rows = writing.values(prepared)
        fields = [*schema.RUN_FIELDS, "results_zlib"]
        st.execute(f"INSERT INTO runs ({', '.join(fields)}) VALUES "
                   f"({', '.join('?' * len(fields))})", tuple(row[f] for f in fields))
        names = schema.PATH_FIELDS[:-2]  # no figure_ns, no repetitions
        st.executemany(f"INSERT INTO paths (run_id, {', '.join(names)}) VALUES "
                       f"(1, {', '.join('?' * len(names))})", [r[:-2] for r in path_rows])
        return row["results_zlib"]
    finally:
        st.close()


def test_a_schema_2_store_is_upgraded_in_place(db, tmp_path):
    """What a fleet's store written by the previous release gets when a host updates:
    the figures computed from the samples, the results file moved, nothing lost."""
    data = synth.make_results(seed=61)
    results = _schema_2_store(db, data, "old.json")
    with store.open_store(db) as st:
        assert store.schema_version(st) == store.SCHEMA_VERSION
        figures = store.load_figures(st, [1])[1]
        (run,) = store.load_runs(st, [1])
        row, _ = writing.stored_values(st, 1)
        facts, problems = store.check(st)
    assert row["results_zlib"] == results and problems == []
    for name, path in run.paths.items():
        assert figures[name].repetitions == len(path.samples_ns)
        assert figures[name].figure_ns == (stats.run_figure(path.samples_ns)
                                           if path.samples_ns else None)
    target = tmp_path / "pushed.sqlite"
    assert store.push(db, target, log=None) == (1, 0)  # the moved results file travels
