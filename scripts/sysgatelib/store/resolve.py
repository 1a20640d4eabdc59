"""What the user names on a command line -> the runs it means.

BASE and NEW of `compare` (and anything else that takes a run) may be a results file, a
run id from the history store (`3` or `#3`), or a kernel release, or several of these
separated by commas. This module turns such a name into load.Run objects; the store only
stores and queries.
"""

import os
import sys

from .. import store
from ..core import units
from ..core.errors import UserError
from ..results import load
from ..results.kversion import release_key


def _is_file(item):
    return os.path.exists(item) or item.endswith(".json") or os.sep in item


def _is_run_id(item):
    return item.isdigit() or (item.startswith("#") and item[1:].isdigit())


def resolve(ref, db_path=None, host=None):
    """A load.Run for what the user named: a results file, a run id or a kernel release.

    A kernel release with several runs takes the newest (by date); one that matches runs of
    several hosts needs --host.
    """
    if _is_file(ref):
        return load.load(ref)
    with store.open_store(db_path) as st:
        if _is_run_id(ref):
            return store.load_run(st, int(ref.lstrip("#")))
        return store.load_run(st, _newest_of_kernel(st, ref, host).id)


def _newest_of_kernel(st, release, host, note=True):
    """The newest run of a kernel release on one host; `note`: say so when it has more
    (a caller that pools them all says that instead)."""
    runs = store.list_runs(st, host=host, kernel=release)
    if not runs:
        known = sorted({r.kernel_release for r in store.list_runs(st, host=host)},
                       key=release_key)
        hint = ", ".join(known[-8:]) or "none"
        where = f" of host {host}" if host else ""
        raise UserError(
            f"{release}: no such file, run id or kernel release in {st.name} "
            f"(kernels{where}: {hint})"
        )
    hosts = sorted({r.host_name for r in runs})
    if len(hosts) > 1:
        raise UserError(
            f"{release}: runs of several hosts have this kernel ({', '.join(hosts)}); "
            "choose one with --host"
        )
    newest = max(runs, key=lambda r: (r.date, r.id))
    if len(runs) > 1 and note:
        print(
            f"note: {len(runs)} runs of {release} on {hosts[0]}; using run #{newest.id}, the "
            "newest (name a run id to choose another)", file=sys.stderr,
        )
    return newest


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
        if _is_file(item) or _is_run_id(item):
            runs.append(resolve(item, db_path, host))
        else:
            runs += runs_of_kernel(item, db_path, host)
    return runs


def runs_of_kernel(release, db_path=None, host=None):
    """Every run of a kernel release on one host with the newest run's setup, newest first."""
    with store.open_store(db_path) as st:
        newest = _newest_of_kernel(st, release, host, note=False)
        newest_run = store.load_run(st, newest.id)
        candidates = sorted(store.list_runs(st, kernel=release), key=lambda r: (r.date, r.id),
                            reverse=True)
        mine = [r for r in candidates if r.host_fingerprint == newest.host_fingerprint]
        ids = [r.id for r in mine if store.same_setup(newest_run.context, r.context)]
        left = len(mine) - len(ids)
        if len(ids) > 1 or left:
            print(f"note: {release}: pooling {len(ids)} run(s) of the same setup "
                  f"({units.some([f'#{i}' for i in ids])})"
                  + (f"; {left} with other boot options or conditions left out" if left else "")
                  + "; name a run id to use one", file=sys.stderr)
        return store.load_runs(st, ids)
