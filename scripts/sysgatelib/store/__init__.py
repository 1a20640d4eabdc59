"""The history store: every run, per host and kernel, in SQLite (default) or PostgreSQL.

One interface, two backends chosen by `--db`: a file path is an SQLite store (one machine,
no server: sqlite.py), a `postgresql://USER@HOST[:PORT]/DB` URL is a fleet's shared
store (postgresql.py, docs/fleet.md). The SQL is shared: both dialects take the same
statements, with `?` placeholders rewritten for psycopg and a few column types named per
backend.

One row per run in `runs` (host fingerprint, kernel release and version, boot options, CPU,
hypervisor, sysgate version, date, the whole context), its results file itself, compressed,
in `run_results`, and one row per path in `paths` (its facts, repetition samples and
counters, the run's figure).

The rooms: identity.py (host fingerprint, content hash), schema.py (tables, migrations,
health), connection.py (opening a store, the Store object), writing.py (import, remove,
tag, push), reading.py (list, load, figures); calibration.py and resolve.py build on
them. Callers say `from .. import store` and `store.open_store(...)`: this face hands on
the names of the modules that define them, and defines nothing itself.
"""

from .connection import (  # noqa: F401
    BUSY_TIMEOUT_S, CHUNK, DEFAULT_DB, REPO_ROOT, Store, check_writable, db_target,
    is_postgresql, open_store,
)
from .identity import content_hash, host_fingerprint, kernel_cmdline, same_setup  # noqa: F401
from .reading import (  # noqa: F401
    StoredFigure, StoredRun, host_keys, list_runs, load_figures, load_run, load_runs,
)
from .schema import SCHEMA_VERSION, check, schema_version  # noqa: F401
from .writing import (  # noqa: F401
    add_results, import_files, insert_run, push, remove_runs, tag_runs,
)
