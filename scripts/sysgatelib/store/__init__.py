"""The history store: one interface, two backends (sqlite.py, postgresql.py).

Callers say `from .. import store` and `store.open_store(...)`: this face hands on the
names of the modules that define them, and defines nothing itself.
"""

from .interface import (  # noqa: F401
    BUSY_TIMEOUT_S, CHUNK, DEFAULT_DB, REPO_ROOT, SCHEMA_VERSION, Store, StoredFigure,
    StoredRun, add_results, check, check_writable, content_hash, db_target,
    host_fingerprint, host_keys, import_files, insert_run, is_postgresql, kernel_cmdline,
    list_runs, load_figures, load_run, load_runs, open_store, push, remove_runs, same_setup,
    schema_version, tag_runs,
)
