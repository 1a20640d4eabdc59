"""The SQLite backend of the history store: one file, the default, no server.

Writes take BEGIN IMMEDIATE (the write lock first, so concurrent importers wait on the busy
timeout instead of failing half-way), and the file's integrity is checked before every
write (PRAGMA quick_check): a damaged store is refused and left exactly as it was.

Reads check it too, without reading every page each time: the last good check leaves a
stamp of the file (size, modification and change times, inode) in a small file beside the
store, `<store>-checked`, written after a successful check and after each write of ours.
A read whose file still has that stamp skips the check; any other change of the file (a
bad disk, another program, a copy) is checked once, in full, before anything is read.
"""

import json
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
    if is_damage(exc):
        return (f"damaged store ({text}); nothing was written: `sysgate history check` tells "
                "more, restore it from a backup")
    return text


def is_damage(exc):
    lowered = str(exc).lower()
    return any(word in lowered for word in ("malformed", "not a database", "corrupt"))


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
    if rows == ["ok"]:
        return []
    # One row may hold several findings, one a line, under a "*** in database main ***".
    lines = [line.strip() for row in rows for line in str(row).splitlines()]
    return [line for line in lines if line and not line.startswith("*** in database")]


def table_names(conn):
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def _stamp_path(db_path):
    return Path(f"{os.fspath(db_path)}-checked")


def file_stamp(db_path):
    """What changes whenever the file's content does: size, mtime, ctime, device, inode."""
    info = os.stat(db_path)
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_dev, info.st_ino]


def stamp_is_current(db_path):
    try:
        recorded = json.loads(_stamp_path(db_path).read_text())
        return recorded == {"sound": file_stamp(db_path)}
    except (OSError, ValueError):
        return False


def record_sound(db_path, stamp=None):
    """Leave the stamp of a file found (or kept) sound; quietly nothing where the folder
    cannot be written (the next read checks again)."""
    path = _stamp_path(db_path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        stamp = stamp or file_stamp(db_path)
        temporary.write_text(json.dumps({"sound": stamp}) + "\n")
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink()
        except OSError:
            pass


def forget_sound(db_path):
    try:
        _stamp_path(db_path).unlink()
    except OSError:
        pass


def refuse_damaged_read(conn, db_path, name):
    """Before a read: a file changed since its last good check is checked (quick_check)
    and refused when damaged, so that nothing read from it is taken as sound."""
    if stamp_is_current(db_path):
        return
    before = file_stamp(db_path)
    try:
        findings = quick_check(conn)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{name}: not a usable history store ({exc}); nothing read "
                        "from it") from None
    if findings:
        raise UserError(
            f"{name}: damaged store ({findings[0]}); nothing read from it: "
            "`sysgate history check` lists what is wrong; restore it from a backup "
            f"(`sqlite3 {name} .recover` salvages what is left)"
        )
    if file_stamp(db_path) == before:  # no writer came in between
        record_sound(db_path, before)


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
