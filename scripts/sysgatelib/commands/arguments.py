"""Arguments several commands share (argparse)."""

from .. import store


def add_db_argument(parser, default=store.DEFAULT_DB):
    where = (f"default {store.DEFAULT_DB.relative_to(store.REPO_ROOT)} in the repository"
             if default == store.DEFAULT_DB else "no default")
    parser.add_argument(
        "--db", type=store.db_target, default=default, metavar="PATH|URL",
        help=f"history store: an SQLite file ({where}) or a shared PostgreSQL store "
             "postgresql://USER@HOST[:PORT]/DB (password from PGPASSWORD or ~/.pgpass)",
    )
