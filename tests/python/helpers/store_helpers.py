"""Helpers shared by the store tests: what a store holds, backend-neutral."""

from sysgatelib import store


def counts(db):
    """(runs, paths) in a store, SQLite file or PostgreSQL URL."""
    with store.open_store(db) as st:
        return tuple(st.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                     for table in ("runs", "paths"))


def snapshot(db):
    """Everything a store holds that a command could change, comparable with ==."""
    with store.open_store(db) as st:
        runs = st.execute("SELECT id, content_hash, tag, measured, skipped FROM runs "
                          "ORDER BY id").fetchall()
        paths = st.execute("SELECT run_id, name, samples_ns FROM paths "
                           "ORDER BY run_id, name").fetchall()
        return [tuple(r) for r in runs], [tuple(p) for p in paths]
