"""The history store: every run, per host and kernel, in one SQLite file.

One row per run in `runs` (host fingerprint, kernel release and version, boot options, CPU,
hypervisor, sysgate version, date, the whole context and the results file itself,
compressed) and one row per path in `paths` (repetition samples and counters, as JSON).

Writes are single transactions taken with BEGIN IMMEDIATE: an import that dies (SIGKILL,
Ctrl-C, a full disk) leaves the store exactly as it was, because SQLite rolls the hot
journal back on the next open. Concurrent importers wait for the write lock (busy timeout)
instead of failing, so several `sysgate run` processes can file their results at once.

Importing is idempotent: a run is identified by the hash of its results (the JSON decoded
and re-encoded canonically, so reformatting a file does not make it a new run).
"""

import datetime
import hashlib
import json
import os
import sqlite3
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from . import envdiff, load
from .errors import UserError
from .kversion import release_key

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = REPO_ROOT / "reports" / "history.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 120.0
# Test hook: seconds to sleep inside the import transaction, after half the path rows are
# written, so that a test can kill the importer mid-transaction. Never set it otherwise.
_TEST_PAUSE_ENV = "SYSGATE_TEST_IMPORT_PAUSE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id               INTEGER PRIMARY KEY,
    content_hash     TEXT NOT NULL UNIQUE,
    host_fingerprint TEXT NOT NULL,
    host_name        TEXT NOT NULL,
    kernel_release   TEXT NOT NULL,
    kernel_version   TEXT NOT NULL,
    boot_options     TEXT NOT NULL,
    cpu              TEXT NOT NULL,
    hypervisor       TEXT NOT NULL,
    sysgate_version  TEXT NOT NULL,
    date             TEXT NOT NULL,
    emulated         INTEGER NOT NULL,
    source           TEXT NOT NULL,
    imported_at      TEXT NOT NULL,
    context          TEXT NOT NULL,
    results_zlib     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_host_kernel
    ON runs (host_fingerprint, kernel_release, boot_options);
CREATE TABLE IF NOT EXISTS paths (
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    mechanism  TEXT NOT NULL,
    skipped    TEXT,
    samples_ns TEXT NOT NULL,
    counters   TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""

# The context keys that identify a machine. Not the microcode: it changes with updates and
# is reported as an environment change instead.
_FINGERPRINT_KEYS = (
    "host_name", "cpu_vendor", "cpu_model_name", "cpu_family", "cpu_model", "hypervisor",
)


def host_fingerprint(context):
    text = "\0".join(context.get(k, "") for k in _FINGERPRINT_KEYS)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def content_hash(data):
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class StoredRun:
    """A run's row, without its paths."""

    id: int
    host_fingerprint: str
    host_name: str
    kernel_release: str
    kernel_version: str
    boot_options: str
    cpu: str
    hypervisor: str
    date: str
    emulated: bool
    source: str
    context: dict
    measured: int = 0
    skipped: int = 0

    @property
    def kernel_key(self):
        return release_key(self.kernel_release)


_RUN_COLUMNS = (
    "id, host_fingerprint, host_name, kernel_release, kernel_version, boot_options, cpu, "
    "hypervisor, date, emulated, source, context"
)


def _stored_run(row):
    return StoredRun(*row[:9], bool(row[9]), row[10], json.loads(row[11]))


# --- opening ---------------------------------------------------------------------------


def _connect(db_path):
    conn = sqlite3.connect(os.fspath(db_path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _check_schema(conn, db_path):
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    if row is None:
        raise UserError(f"{db_path}: not a sysgate history store")
    if int(row[0]) > SCHEMA_VERSION:
        raise UserError(
            f"{db_path}: written by a newer sysgate (schema {row[0]}, this one reads "
            f"{SCHEMA_VERSION}); update sysgate"
        )


def open_store(db_path, create=False):
    """A connection to the store; create it (and its folder) when asked, else it must exist."""
    db_path = Path(db_path)
    if not create and not db_path.exists():
        raise UserError(
            f"{db_path}: no history store there; add runs with `sysgate history add RESULTS.json`"
        )
    if db_path.is_dir():
        raise UserError(f"{db_path}: is a directory, expected a history store file")
    try:
        if create:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(db_path)
        if create:
            conn.execute("BEGIN IMMEDIATE")
            try:
                has_meta = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
                ).fetchone()
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if not has_meta and tables:
                    raise UserError(
                        f"{db_path}: an SQLite file that is not a sysgate history store"
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        _check_schema(conn, db_path)
        return conn
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{db_path}: not a usable history store ({exc})") from None
    except OSError as exc:
        raise UserError(f"{db_path}: cannot open: {exc.strerror}") from None


# --- writing ---------------------------------------------------------------------------


@dataclass
class _Prepared:
    """A results file read, checked and encoded, ready to insert: no store touched yet."""

    source: str
    run: load.Run
    digest: str
    raw: bytes


def _prepare(results_path):
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
    return _Prepared(source, run, content_hash(json.loads(raw)), raw)


def _insert(conn, prepared):
    """Insert one run in its own transaction; (run id, True) or (existing id, False)."""
    run, ctx = prepared.run, prepared.run.context
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT id FROM runs WHERE content_hash = ?", (prepared.digest,)
        ).fetchone()
        if row:
            conn.execute("ROLLBACK")
            return row[0], False
        cursor = conn.execute(
            "INSERT INTO runs (content_hash, host_fingerprint, host_name, kernel_release, "
            "kernel_version, boot_options, cpu, hypervisor, sysgate_version, date, emulated, "
            "source, imported_at, context, results_zlib) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                prepared.digest, host_fingerprint(ctx), run.host, run.kernel,
                ctx.get("kernel_version", ""), envdiff.boot_options_text(ctx.get("boot_cmdline")),
                ctx.get("cpu_model_name", ""), ctx.get("hypervisor", ""),
                ctx.get("sysgate_version", ""), ctx.get("date", ""), int(run.emulated),
                os.path.abspath(prepared.source),
                datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                json.dumps(ctx, sort_keys=True), zlib.compress(prepared.raw, 6),
            ),
        )
        run_id = cursor.lastrowid
        paths = list(run.paths.values())
        for index, path in enumerate(paths):
            if index == len(paths) // 2:
                _test_pause()
            conn.execute(
                "INSERT INTO paths (run_id, name, mechanism, skipped, samples_ns, counters) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, path.name, path.mechanism, path.skipped,
                 json.dumps(path.samples_ns), json.dumps(path.counters, sort_keys=True)),
            )
        conn.execute("COMMIT")
        return run_id, True
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _test_pause():
    seconds = os.environ.get(_TEST_PAUSE_ENV)
    if seconds:
        print("sysgate-test: inside the import transaction", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def import_files(db_path, results_paths):
    """Check every file first, then import each in its own transaction.

    Returns [(path, run id, added)]. A bad file raises UserError before the store is touched.
    """
    prepared = [_prepare(p) for p in results_paths]
    conn = open_store(db_path, create=True)
    try:
        done = []
        for item in prepared:
            try:
                run_id, added = _insert(conn, item)
            except sqlite3.DatabaseError as exc:
                raise UserError(f"{db_path}: cannot add {item.source}: {exc}") from None
            done.append((item.source, run_id, added))
        return done
    finally:
        conn.close()


def add_results(db_path, results_path):
    """File one results file in the store; the run id (the existing one if already there).

    The library entry point `sysgate run` calls after each run.
    """
    return import_files(db_path, [results_path])[0][1]


# --- reading ---------------------------------------------------------------------------


def list_runs(conn, host=None, kernel=None):
    """StoredRuns, oldest first, with their measured/skipped path counts."""
    query = (
        f"SELECT {', '.join('r.' + c.strip() for c in _RUN_COLUMNS.split(','))}, "
        "sum(p.skipped IS NULL), sum(p.skipped IS NOT NULL) "
        "FROM runs r LEFT JOIN paths p ON p.run_id = r.id"
    )
    where, params = [], []
    if host:
        where.append("(r.host_name = ? OR r.host_fingerprint = ?)")
        params += [host, host]
    if kernel:
        where.append("r.kernel_release = ?")
        params.append(kernel)
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " GROUP BY r.id ORDER BY r.id"
    runs = []
    for row in conn.execute(query, params):
        stored = _stored_run(row)
        stored.measured, stored.skipped = row[12] or 0, row[13] or 0
        runs.append(stored)
    return runs


def load_run(conn, run_id):
    """A stored run as a load.Run, the same object a results file gives."""
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise UserError(f"no run #{run_id} in the history store")
    stored = _stored_run(row)
    paths = {}
    for name, mechanism, skipped, samples, counters in conn.execute(
        "SELECT name, mechanism, skipped, samples_ns, counters FROM paths WHERE run_id = ? "
        "ORDER BY rowid", (run_id,)
    ):
        paths[name] = load.PathResult(
            name=name, mechanism=mechanism, skipped=skipped,
            samples_ns=json.loads(samples), counters=json.loads(counters),
        )
    source = f"run #{run_id} ({stored.host_name} {stored.kernel_release})"
    return load.Run(source=source, context=stored.context, paths=paths)


def resolve(ref, db_path=None, host=None):
    """A load.Run for what the user named: a results file, a run id or a kernel release.

    A kernel release with several runs takes the newest (by date); one that matches runs of
    several hosts needs --host.
    """
    if os.path.exists(ref) or ref.endswith(".json") or os.sep in ref:
        return load.load(ref)
    conn = open_store(db_path or DEFAULT_DB)
    try:
        if ref.isdigit() or (ref.startswith("#") and ref[1:].isdigit()):
            return load_run(conn, int(ref.lstrip("#")))
        runs = list_runs(conn, host=host, kernel=ref)
        if not runs:
            known = sorted({r.kernel_release for r in list_runs(conn, host=host)}, key=release_key)
            hint = ", ".join(known[-8:]) or "none"
            where = f" of host {host}" if host else ""
            raise UserError(
                f"{ref}: no such file, run id or kernel release in {db_path or DEFAULT_DB} "
                f"(kernels{where}: {hint})"
            )
        hosts = sorted({r.host_name for r in runs})
        if len(hosts) > 1:
            raise UserError(
                f"{ref}: runs of several hosts have this kernel ({', '.join(hosts)}); "
                "choose one with --host"
            )
        newest = max(runs, key=lambda r: (r.date, r.id))
        if len(runs) > 1:
            print(
                f"note: {len(runs)} runs of {ref} on {hosts[0]}; using run #{newest.id}, the "
                "newest (name a run id to choose another)", file=sys.stderr,
            )
        return load_run(conn, newest.id)
    finally:
        conn.close()


def resolve_side(text, db_path=None, host=None):
    """The runs one side of a comparison names: items separated by commas, each a results
    file, a run id, or a kernel release. A kernel release gives all its runs on the host
    that share the newest one's boot options (and hardware/emulated kind), newest first,
    so that run-to-run variation enters the comparison."""
    # A file that exists under the whole name is one file, commas and all.
    items = [text] if os.path.exists(text) else [i.strip() for i in text.split(",") if i.strip()]
    if not items:
        raise UserError(f"{text!r}: names no run")
    runs = []
    for item in items:
        if os.path.exists(item) or item.endswith(".json") or os.sep in item:
            runs.append(load.load(item))
        elif item.isdigit() or (item.startswith("#") and item[1:].isdigit()):
            runs.append(resolve(item, db_path, host))
        else:
            runs += _runs_of_kernel(item, db_path, host)
    return runs


def same_setup(context, other):
    """Whether two runs may be pooled as repetitions of one setup: same machine, boot
    options and measurement conditions (kernel aside)."""
    kinds = (envdiff.MACHINE, envdiff.BOOT, envdiff.CONDITIONS)
    return not [d for d in envdiff.differences(context, other) if d.kind in kinds]


def _runs_of_kernel(release, db_path, host):
    newest = resolve(release, db_path, host)  # errors for unknown releases, several hosts
    conn = open_store(db_path or DEFAULT_DB)
    try:
        candidates = sorted(list_runs(conn, kernel=release), key=lambda r: (r.date, r.id),
                            reverse=True)
        fingerprint = host_fingerprint(newest.context)
        ids = [r.id for r in candidates if r.host_fingerprint == fingerprint
               and same_setup(newest.context, r.context)]
        left = len([r for r in candidates if r.host_fingerprint == fingerprint]) - len(ids)
        if len(ids) > 1 or left:
            print(f"note: {release}: pooling {len(ids)} run(s) of the same setup "
                  f"({', '.join(f'#{i}' for i in ids)})"
                  + (f"; {left} with other boot options or conditions left out" if left else "")
                  + "; name a run id to use one", file=sys.stderr)
        return [load_run(conn, i) for i in ids]
    finally:
        conn.close()


# --- CLI -------------------------------------------------------------------------------


def _cmd_add(args):
    for source, run_id, added in import_files(args.db, args.results):
        state = "added as" if added else "already in the store as"
        print(f"{source}: {state} run #{run_id}")
    return 0


def _cmd_list(args):
    conn = open_store(args.db)
    try:
        runs = list_runs(conn, host=args.host, kernel=args.kernel)
    finally:
        conn.close()
    if not runs:
        print("no runs" + (" match" if args.host or args.kernel else " in the store"))
        return 0
    runs.sort(key=lambda r: (r.host_name, r.kernel_key, r.date, r.id))
    header = ("id", "date", "host", "kernel", "boot options", "paths", "skipped", "note")
    rows = [
        (f"#{r.id}", r.date[:19], r.host_name, r.kernel_release,
         _shorten(r.boot_options, 40), str(r.measured), str(r.skipped),
         "emulated" if r.emulated else "")
        for r in runs
    ]
    print(format_table(header, rows))
    return 0


def _shorten(text, width):
    return text if len(text) <= width else text[: width - 3] + "..."


def format_table(header, rows, right=()):
    """Plain-text columns; `right` names the column indexes to right-align."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells):
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def add_db_argument(parser):
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB, metavar="PATH",
        help=f"history store (default {DEFAULT_DB.relative_to(REPO_ROOT)} in the repository)",
    )


def register(subparsers):
    parser = subparsers.add_parser("history", help="keep runs per host and kernel (SQLite)")
    sub = parser.add_subparsers(dest="history_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="import saved results files (idempotent)")
    add.add_argument("results", nargs="+", metavar="RESULTS.json")
    add_db_argument(add)
    add.set_defaults(func=_cmd_add)
    lst = sub.add_parser("list", help="list the stored runs by host and kernel version")
    lst.add_argument("--host", help="only this host (name or fingerprint)")
    lst.add_argument("--kernel", help="only this kernel release")
    add_db_argument(lst)
    lst.set_defaults(func=_cmd_list)
