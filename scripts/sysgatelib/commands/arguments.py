"""Arguments several commands share (argparse), and their types."""

import argparse

from .. import store


def probability(text):
    """argparse type: a probability strictly between 0 and 1 (a significance or confidence
    level); a bad one is argparse's one-line error, exit 2."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r}: must be between 0 and 1, exclusive")
    return value


def add_db_argument(parser, default=store.DEFAULT_DB):
    where = (f"default {store.DEFAULT_DB.relative_to(store.REPO_ROOT)} in the repository"
             if default == store.DEFAULT_DB else "no default")
    parser.add_argument(
        "--db", type=store.db_target, default=default, metavar="PATH|URL",
        help=f"history store: an SQLite file ({where}) or a shared PostgreSQL store "
             "postgresql://USER@HOST[:PORT]/DB (password from PGPASSWORD or ~/.pgpass)",
    )
