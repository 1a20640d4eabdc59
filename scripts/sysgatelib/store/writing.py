"""Writing runs: import results files (checked first, then each run in its own
transaction), remove and tag runs, push a store's runs into another.

Every import of a run is one transaction: a client that dies mid-import (SIGKILL, Ctrl-C,
a dropped connection, a full disk) leaves no half run. Importing is idempotent: a run is
identified by the hash of its results (the JSON decoded and re-encoded canonically, so
reformatting a file does not make it a new run), a unique key, and the insert does nothing
on conflict, so concurrent importers and repeated pushes store each run once."""

import json
import os
import zlib
from dataclasses import dataclass

from ..core.errors import UserError
from ..results import envdiff, load
from ..verdicts import stats
from .connection import chunks, open_store
from .identity import content_hash, host_fingerprint, kernel_cmdline
from .schema import PATH_FIELDS, RUN_FIELDS, now

@dataclass
class Prepared:
    """A results file read, checked and encoded, ready to insert: no store touched yet."""

    source: str
    run: load.Run
    digest: str
    raw: bytes


def prepare(results_path):
    source = os.fspath(results_path)
    run = load.load(source)  # every problem with the file is a UserError here
    if not run.is_sysgate:
        raise UserError(
            f"{source}: not a sysgate results file (no sysgate_version in its context); "
            "the store keeps sysgate runs only"
        )
    if not run.paths:
        raise UserError(f"{source}: holds no benchmark rows")
    with open(source, "rb") as handle:
        raw = handle.read()
    return Prepared(source, run, content_hash(json.loads(raw)), raw)


def values(prepared):
    """The run row and the path rows for a prepared results file."""
    run, ctx = prepared.run, prepared.run.context
    paths = list(run.paths.values())
    row = {
        "content_hash": prepared.digest, "host_fingerprint": host_fingerprint(ctx),
        "host_name": run.host, "kernel_release": run.kernel,
        "kernel_version": ctx.get("kernel_version", ""),
        "boot_options": envdiff.boot_options_text(ctx.get("boot_cmdline")),
        "cmdline": kernel_cmdline(ctx.get("boot_cmdline")),
        "cpu": ctx.get("cpu_model_name", ""), "hypervisor": ctx.get("hypervisor", ""),
        "sysgate_version": ctx.get("sysgate_version", ""), "date": ctx.get("date", ""),
        "emulated": int(run.emulated), "source": os.path.abspath(prepared.source),
        "imported_at": now(), "context": json.dumps(ctx, sort_keys=True),
        "results_zlib": zlib.compress(prepared.raw, 6), "tag": "",
        "measured": sum(p.skipped is None for p in paths),
        "skipped": sum(p.skipped is not None for p in paths),
        "repetitions": max((len(p.samples_ns) for p in paths), default=0),
    }
    path_rows = [
        (index, p.name, p.mechanism, p.abi, p.baseline, p.expected_entries, p.skipped,
         json.dumps(p.samples_ns), json.dumps(p.counters, sort_keys=True),
         stats.run_figure(p.samples_ns), len(p.samples_ns))
        for index, p in enumerate(paths)
    ]
    return row, path_rows


def insert_run(st, row, path_rows):
    """Insert one run and its paths in one transaction: (id, True), or (the id it already
    has, False) when a run with the same content hash is there."""
    fields = ", ".join(RUN_FIELDS)
    marks = ", ".join("?" * len(RUN_FIELDS))
    if st.kind == "sqlite":
        # SQLite would give a removed run's id to the next run; a run id someone wrote
        # down must never name another run, so ids continue above every id ever removed.
        fields, marks = "id, " + fields, _SQLITE_NEXT_ID + ", " + marks
    with st.transaction():
        inserted = st.execute(
            f"INSERT INTO runs ({fields}) VALUES ({marks}) "
            "ON CONFLICT (content_hash) DO NOTHING RETURNING id",
            tuple(row[f] for f in RUN_FIELDS),
        ).fetchall()
        if not inserted:
            existing = st.execute("SELECT id FROM runs WHERE content_hash = ?",
                                  (row["content_hash"],)).fetchall()
            return existing[0][0], False
        run_id = inserted[0][0]
        st.execute("INSERT INTO run_results (run_id, results_zlib) VALUES (?, ?)",
                   (run_id, row["results_zlib"]))
        statement = (f"INSERT INTO paths (run_id, {', '.join(PATH_FIELDS)}) "
                     f"VALUES (?, {', '.join('?' * len(PATH_FIELDS))})")
        rows = [(run_id, *r) for r in path_rows]
        st.executemany(statement, rows)
    return run_id, True


_SQLITE_NEXT_ID = (
    "(SELECT max(coalesce(max(id), 0), coalesce((SELECT CAST(value AS INTEGER) FROM meta "
    "WHERE key = 'removed_up_to'), 0)) + 1 FROM runs)"
)


def import_files(db_path, results_paths):
    """Check every file first, then import each in its own transaction.

    Returns [(path, run id, added)]. A bad file raises UserError before the store is touched.
    """
    prepared = [prepare(p) for p in results_paths]
    with open_store(db_path, create=True) as st:
        done = []
        for item in prepared:
            with st.errors(f"cannot add {item.source}: "):
                run_id, added = insert_run(st, *values(item))
            done.append((item.source, run_id, added))
        return done


def add_results(db_path, results_path):
    """File one results file in the store; the run id (the existing one if already there).

    The library entry point `sysgate run` calls after each run.
    """
    return import_files(db_path, [results_path])[0][1]

def _existing_ids(st, run_ids):
    found = set()
    for chunk in chunks(sorted(set(run_ids))):
        marks = ", ".join("?" * len(chunk))
        found |= {r[0] for r in st.execute(f"SELECT id FROM runs WHERE id IN ({marks})",
                                           chunk).fetchall()}
    missing = sorted(set(run_ids) - found)
    if missing:
        raise UserError(f"{st.name}: no run {', '.join(f'#{i}' for i in missing)} in the "
                        "store; nothing changed (`sysgate history list` shows the runs)")


def remove_runs(st, run_ids):
    """Delete runs and their paths, all in one transaction; all must exist."""
    with st.errors("cannot remove runs: "), st.transaction():
        _existing_ids(st, run_ids)
        if st.kind == "sqlite":
            top = st.execute("SELECT max(id) FROM runs").fetchone()[0]
            st.execute("DELETE FROM meta WHERE key = 'removed_up_to' AND "
                       "CAST(value AS INTEGER) < ?", (top,))
            st.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('removed_up_to', ?)",
                       (str(top),))
        for chunk in chunks(sorted(set(run_ids))):
            marks = ", ".join("?" * len(chunk))
            st.execute(f"DELETE FROM paths WHERE run_id IN ({marks})", chunk)
            st.execute(f"DELETE FROM run_results WHERE run_id IN ({marks})", chunk)
            st.execute(f"DELETE FROM runs WHERE id IN ({marks})", chunk)


def tag_runs(st, run_ids, tag):
    """Set (or with "" clear) the tag of runs, in one transaction."""
    with st.errors("cannot tag runs: "), st.transaction():
        _existing_ids(st, run_ids)
        for chunk in chunks(sorted(set(run_ids))):
            marks = ", ".join("?" * len(chunk))
            st.execute(f"UPDATE runs SET tag = ? WHERE id IN ({marks})", (tag, *chunk))


def push(source_db, target_db, log=print):
    """Copy every run of a local store into another (a fleet's PostgreSQL store), one
    transaction per run, by content hash: a run already there is left alone. Returns
    (copied, already there)."""
    copied = present = 0
    with open_store(source_db) as src, open_store(target_db, create=True) as dst:
        with src.errors():
            ids = [r[0] for r in src.execute("SELECT id FROM runs ORDER BY id").fetchall()]
        for run_id in ids:
            with src.errors(f"cannot read run #{run_id}: "):
                row, path_rows = stored_values(src, run_id)
            with dst.errors(f"cannot push run #{run_id} of {src.name}: "):
                new_id, added = insert_run(dst, row, path_rows)
            copied, present = copied + added, present + (not added)
            if log:
                state = "copied as" if added else "already there as"
                log(f"run #{run_id} ({row['host_name']} {row['kernel_release']}): "
                    f"{state} run #{new_id}")
    return copied, present


def stored_values(st, run_id):
    names = ", ".join(RUN_FIELDS)
    values = st.execute(f"SELECT {names} FROM runs WHERE id = ?", (run_id,)).fetchone()
    row = dict(zip(RUN_FIELDS, values))
    row["results_zlib"] = bytes(st.execute(
        "SELECT results_zlib FROM run_results WHERE run_id = ?", (run_id,)).fetchone()[0])
    path_rows = [tuple(r) for r in st.execute(
        f"SELECT {', '.join(PATH_FIELDS)} FROM paths WHERE run_id = ? ORDER BY position",
        (run_id,)).fetchall()]
    return row, path_rows
