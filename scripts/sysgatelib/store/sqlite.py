"""The SQLite backend of the history store: one file, the default, no server.

Writes take BEGIN IMMEDIATE (the write lock first, so concurrent importers wait on the busy
timeout instead of failing half-way), and the file's integrity is checked before every
write (PRAGMA quick_check): a damaged store is refused and left exactly as it was.
"""

import os
import sqlite3
from pathlib import Path

from ..core.errors import UserError

BUSY_TIMEOUT_S = 120.0
BEGIN_WRITE = "BEGIN IMMEDIATE"


def connect(db_path):
    conn = sqlite3.connect(os.fspath(db_path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def database_errors():
    return (sqlite3.Error,)


def describe(exc, db_path=None):
    """A one-line cause for an sqlite3 error, naming disk-full, read-only and damage."""
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if "disk is full" in lowered or "disk full" in lowered:
        return f"disk full ({text}); the store is unchanged, free some space and run it again"
    if "readonly" in lowered or "read-only" in lowered:
        return f"read-only ({text}): {_why_read_only(db_path)}"
    if "unable to open" in lowered and db_path is not None:
        return f"cannot open ({text}): {_why_read_only(db_path)}"
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return (f"damaged store ({text}); nothing was written: `sysgate history check` tells "
                "more, restore it from a backup")
    return text


def _why_read_only(db_path):
    if db_path is None:
        return "the store cannot be written"
    path = Path(db_path)
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is not writable by this user"
    if not os.access(folder, os.W_OK):
        return (f"its folder {folder} is not writable by this user (SQLite writes a journal "
                "beside the store)")
    return "the file system or the file is read-only"


def in_transaction(conn):
    return conn.in_transaction


def quick_check(conn, full=False):
    """[] when the file is sound, else SQLite's findings (at most 20 lines)."""
    pragma = "integrity_check" if full else "quick_check"
    rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}(20)").fetchall()]
    return [] if rows == ["ok"] else rows


def table_names(conn):
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def refuse_if_damaged(conn, name):
    """Before any write: a damaged file is refused and left untouched."""
    try:
        findings = quick_check(conn)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{name}: not a usable history store ({exc}); left untouched") from None
    if findings:
        raise UserError(
            f"{name}: damaged store ({findings[0]}); left untouched, nothing written: "
            "`sysgate history check` lists what is wrong; restore it from a backup"
        )


def fetch_all(conn, columns, tail, params):
    """Every row of SELECT columns tail, as tuples, in its ORDER BY."""
    return conn.execute(f"SELECT {', '.join(columns)} {tail}", params).fetchall()
