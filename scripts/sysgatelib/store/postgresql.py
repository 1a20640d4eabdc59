"""The PostgreSQL backend of the history store: a fleet's shared store (docs/fleet.md).

psycopg 3 (Debian's python3-psycopg) is imported only when a PostgreSQL URL is opened, so
the CLI starts without it. The password never travels in the URL: libpq reads it from its
usual places (PGPASSWORD, ~/.pgpass, a service file), so it is neither on a command line
that `ps` shows nor in anything the store keeps.
"""

import logging
import re
import urllib.parse

from ..core.errors import UserError

SCHEMES = ("postgresql://", "postgres://")
# A constant key for pg_advisory_xact_lock: creating or upgrading the schema takes it, so
# two hosts opening a new store at once do not both create the tables.
SCHEMA_LOCK_KEY = 0x5359_5347  # "SYSG"


def is_url(text):
    return str(text).startswith(SCHEMES)


class PgTarget(str):
    """A checked PostgreSQL URL; its text is safe to print (it holds no password)."""


def parse_url(text):
    """The URL as a PgTarget, or a UserError saying what is wrong with it."""
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise UserError(f"{_redacted(text)}: not a usable PostgreSQL URL ({exc})") from None
    query = urllib.parse.parse_qs(parts.query)
    if parts.password is not None or "password" in query:
        raise UserError(
            f"{_redacted(text)}: a password in the URL is refused (it would show in `ps` and "
            "in shell history); give it to libpq by PGPASSWORD, ~/.pgpass or a service file"
        )
    if not parts.path.strip("/") and "dbname" not in query and "service" not in query:
        raise UserError(f"{text}: names no database; use postgresql://USER@HOST[:PORT]/DB")
    return PgTarget(text)


def _redacted(text):
    """The URL with its password, if any (user:PASSWORD@ or ?password=), blanked out."""
    head, sep, rest = str(text).partition("://")
    userinfo, at, tail = rest.partition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    text = head + sep + userinfo + at + tail if at else str(text)
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", text)


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise UserError(
            "a PostgreSQL store needs psycopg 3: install Debian's python3-psycopg "
            "(`sudo apt-get install python3-psycopg`)"
        ) from None
    # psycopg logs a warning when it drops a pipeline on a lost connection; the store
    # reports that loss itself, as one `error:` line.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    return psycopg


def connect(target):
    """A psycopg connection in autocommit mode: the store issues BEGIN/COMMIT itself, the
    same statements as on SQLite."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(str(target), autocommit=True, connect_timeout=30,
                               application_name="sysgate")
    except psycopg.Error as exc:
        raise UserError(f"{target}: cannot connect: {first_line(exc)}") from None


def database_errors():
    """The exception classes a query can raise, for the store's error translation."""
    return (_psycopg().Error,)


def describe(exc):
    """A one-line cause for a psycopg error: what the user should read after the URL."""
    psycopg = _psycopg()
    text = first_line(exc)
    state = getattr(exc, "sqlstate", None) or ""
    if state == "53100":
        return f"disk full on the server ({text})"
    if state in ("25006", "42501"):
        return f"read-only or not permitted ({text})"
    if isinstance(exc, psycopg.OperationalError) or state.startswith(("08", "57P")):
        return f"connection lost ({text}); nothing half-written is kept, run the command again"
    return text


def first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def lock_schema(conn):
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))


def table_names(conn):
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()
    return {r[0] for r in rows}


# The type OIDs of float4 and float8: JSON writes an integral double as an integer.
_FLOAT_OIDS = (700, 701)


def fetch_all(conn, columns, tail, params):
    """Every row of SELECT columns tail (numbers and text), as tuples, in no particular
    order (sort what needs an order). The server sends them as one JSON array of arrays:
    psycopg's pure-Python row parsing costs a few microseconds a value (a second for
    trend's 80,000 path rows of a host), decoding one JSON text a tenth of that. Doubles
    come back exactly (PostgreSQL 12 and later print the shortest text that reads back as
    the same double) and as floats, even integral ones, which JSON writes as integers. A
    column is named by its last word (`'' AS blank`: blank)."""
    select = f"SELECT {', '.join(columns)} {tail}"
    described = conn.execute(f"{select} LIMIT 0", params).description
    floats = [i for i, column in enumerate(described) if column.type_code in _FLOAT_OIDS]
    names = ", ".join(f"q.{column.split()[-1]}" for column in columns)
    value = conn.execute(f"SELECT json_agg(json_build_array({names})) FROM ({select}) AS q",
                         params).fetchone()[0]
    rows = value or []
    for row in rows if floats else ():
        for i in floats:
            if row[i] is not None:
                row[i] = float(row[i])
    return [tuple(row) for row in rows]
