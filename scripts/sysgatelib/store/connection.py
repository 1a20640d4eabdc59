"""Opening the store: a file path is an SQLite store (one machine, no server: sqlite.py),
a `postgresql://USER@HOST[:PORT]/DB` URL a fleet's shared store (postgresql.py,
docs/fleet.md). A Store is a DB-API connection plus what differs between the backends:
its SQL dialect, its errors as one-line UserErrors, its write transaction."""

import argparse
import contextlib
import zlib
from pathlib import Path

from ..core import atomic
from ..core.errors import UserError
from . import postgresql, schema, sqlite

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DB = REPO_ROOT / "reports" / "history.sqlite"
BUSY_TIMEOUT_S = sqlite.BUSY_TIMEOUT_S

# Ids per `IN (...)` query: well under SQLite's limit of host parameters per statement.
CHUNK = 500


def chunks(items):
    """`items` in tuples of at most CHUNK, for `IN (...)` queries."""
    items = list(items)
    return [tuple(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]


class Store:
    """An open store: a DB-API connection plus what differs between the backends."""

    def __init__(self, kind, conn, name, path=None):
        self.kind = kind  # "sqlite" or "postgresql"
        self.conn = conn
        self.name = name  # what error messages call it: the file or the URL
        self.path = path  # the SQLite file, else None
        self._backend = postgresql if kind == "postgresql" else sqlite
        self._errors = self._backend.database_errors()
        self.checked_for_write = False  # SQLite: found sound before this process wrote

    def sql(self, text):
        text = text.format(**schema.TYPES[self.kind]) if "{" in text else text
        return text.replace("?", "%s") if self.kind == "postgresql" else text

    def execute(self, text, params=()):
        return self.conn.execute(self.sql(text), params)

    def executemany(self, text, rows):
        if rows:
            self.conn.cursor().executemany(self.sql(text), rows)

    def fetch_all(self, columns, tail, params=()):
        """Every row of `SELECT columns tail` (numbers and text), as tuples: the quickest
        way each backend has to read thousands of rows. The order is the ORDER BY's on
        SQLite and none on PostgreSQL: sort what needs an order."""
        return self._backend.fetch_all(self.conn, columns, self.sql(tail), params)

    @contextlib.contextmanager
    def errors(self, doing=""):
        """Database errors become `<store>: <doing><cause>` (exit 2), never a traceback."""
        try:
            yield
        except self._errors as exc:
            if self.kind == "postgresql":
                cause = postgresql.describe(exc)
            else:
                cause = sqlite.describe(exc, self.path)
                if sqlite.is_damage(exc):
                    self._forget_sound()
            raise UserError(f"{self.name}: {doing}{cause}") from None
        except (ValueError, zlib.error) as exc:  # a stored row that does not decode
            self._forget_sound()
            raise UserError(
                f"{self.name}: {doing}damaged store (a stored row does not decode: "
                f"{' '.join(str(exc).split())[:120]}): `sysgate history check` tells more; "
                "restore it from a backup") from None

    def _forget_sound(self):
        """The file is not sound after all: the next reader checks it again."""
        self.checked_for_write = False
        if self.kind == "sqlite":
            sqlite.forget_sound(self.path)

    @contextlib.contextmanager
    def transaction(self):
        """One write transaction; rolled back on any exception, including KeyboardInterrupt."""
        self.execute(sqlite.BEGIN_WRITE if self.kind == "sqlite" else "BEGIN")
        try:
            yield
            self.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self):
        # SQLite may already have rolled back by itself (a full disk does): a ROLLBACK then
        # fails with "no transaction is active" and would hide the real cause. A dropped
        # PostgreSQL connection cannot roll back either; the server discards the work.
        if self.kind == "sqlite" and not self.conn.in_transaction:
            return
        with contextlib.suppress(*self._errors):
            self.execute("ROLLBACK")

    def close(self):
        with contextlib.suppress(*self._errors):
            self.conn.close()
        if self.kind == "sqlite" and self.checked_for_write:
            # Checked sound before our writes, and SQLite's transactions keep it so.
            with contextlib.suppress(OSError):
                sqlite.record_sound(self.path)
            self.checked_for_write = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- opening -----------------------------------------------------------------------------


def db_target(text):
    """--db's type: a PostgreSQL URL (checked, no password) or an SQLite file path."""
    if isinstance(text, (Path, postgresql.PgTarget)):
        return text
    if postgresql.is_url(text):
        try:
            return postgresql.parse_url(text)
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    if "://" in str(text):
        raise argparse.ArgumentTypeError(
            f"{text}: not a store: give a file path (SQLite) or postgresql://USER@HOST[:PORT]/DB")
    return Path(text)


def is_postgresql(db):
    return isinstance(db, postgresql.PgTarget) or postgresql.is_url(str(db))


def open_store(db=None, create=False, write=None, verify=True):
    """An open Store. `create`: make it (and its folder) when missing; else it must exist.
    `write` (default: `create`): the caller will write, so a damaged SQLite file is refused
    before anything touches it. A reader's SQLite file is refused when damaged too, checked
    only when it changed since its last good check (sqlite.refuse_damaged_read);
    verify=False opens a damaged file anyway (`history check` reports on it)."""
    db = DEFAULT_DB if db is None else db
    write = create if write is None else write
    if is_postgresql(db):
        target = db if isinstance(db, postgresql.PgTarget) else postgresql.parse_url(str(db))
        st = Store("postgresql", postgresql.connect(target), str(target))
    else:
        st = _open_sqlite(Path(db), create, write, verify)
    try:
        with st.errors():
            schema.ensure_schema(st, create)
    except BaseException:
        st.close()
        raise
    return st


def check_writable(db):
    """UserError (exit 2) unless the store can be written, before a command spends minutes
    measuring what it will file there: an SQLite file must be writable where it is, or
    creatable (SQLite also writes its journal beside it). A PostgreSQL store says so when
    it is opened."""
    if db is None or is_postgresql(db):
        return
    atomic.check_writable_file(db, "--db")


def _open_sqlite(db_path, create, write, verify=True):
    if not create and not db_path.exists():
        raise UserError(
            f"{db_path}: no history store there; add runs with `sysgate history add RESULTS.json`"
        )
    if db_path.is_dir():
        raise UserError(f"{db_path}: is a directory, expected a history store file")
    if create and not db_path.exists():
        atomic.check_writable_file(db_path, "--db")
    try:
        if create:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite.connect(db_path)
    except OSError as exc:
        raise UserError(f"{db_path}: cannot open: {exc.strerror}") from None
    except sqlite.database_errors() as exc:
        raise UserError(f"{db_path}: {sqlite.describe(exc, db_path)}") from None
    st = Store("sqlite", conn, str(db_path), db_path)
    try:
        filled = db_path.exists() and db_path.stat().st_size > 0
        if verify and write:
            if filled:
                sqlite.refuse_if_damaged(conn, st.name)
            st.checked_for_write = True  # sound, or new and empty
        elif verify and filled:
            sqlite.refuse_damaged_read(conn, db_path, st.name)
    except OSError as exc:
        st.close()
        raise UserError(f"{db_path}: cannot open: {exc.strerror}") from None
    except BaseException:
        st.close()
        raise
    return st
