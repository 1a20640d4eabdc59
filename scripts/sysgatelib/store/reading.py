"""Reading runs: list them (the runs table alone), load them as the same load.Run a
results file gives, and read thousands of runs' figures without decoding a sample."""

import json
from dataclasses import dataclass

from ..core.errors import UserError
from ..results import legacy, load
from ..results.kversion import release_key
from .connection import chunks
from .schema import PATH_FACTS

@dataclass
class StoredRun:
    """A run's row, without its paths."""

    id: int
    host_fingerprint: str
    host_name: str
    kernel_release: str
    kernel_version: str
    boot_options: str
    cpu: str
    hypervisor: str
    date: str
    emulated: bool
    source: str
    context: dict
    measured: int = 0
    skipped: int = 0
    cmdline: str = ""
    tag: str = ""
    repetitions: int = 0

    @property
    def kernel_key(self):
        return release_key(self.kernel_release)


_RUN_COLUMNS = (
    "id, host_fingerprint, host_name, kernel_release, kernel_version, boot_options, cpu, "
    "hypervisor, date, emulated, source, context, measured, skipped, cmdline, tag, repetitions"
).split(", ")


def _stored_run(row):
    return StoredRun(*row[:9], bool(row[9]), row[10], json.loads(row[11]), *row[12:17])


def _host_filter(host):
    return "(host_name = ? OR host_fingerprint = ?)", [host, host]


def host_keys(st, host=None):
    """The (host fingerprint, emulated) pairs the store holds runs of (or one host's, by
    name or fingerprint), sorted."""
    where, params = _host_filter(host) if host else ("1 = 1", [])
    with st.errors():
        rows = st.fetch_all(["host_fingerprint", "emulated"],
                            f"FROM runs WHERE {where} GROUP BY host_fingerprint, emulated",
                            params)
    return sorted((fingerprint, bool(emulated)) for fingerprint, emulated in rows)


def list_runs(st, host=None, kernel=None, tag=None, fingerprint=None, emulated=None):
    """StoredRuns, oldest first, with their measured/skipped path counts (one indexed query
    on the runs table: no path row is read). host: a name or fingerprint; fingerprint and
    emulated: one series of trend exactly."""
    query = "FROM runs"
    where, params = [], []
    if host:
        clause, values = _host_filter(host)
        where.append(clause)
        params += values
    if fingerprint is not None:
        where.append("host_fingerprint = ?")
        params.append(fingerprint)
    if emulated is not None:
        where.append("emulated = ?")
        params.append(int(emulated))
    if kernel:
        where.append("kernel_release = ?")
        params.append(kernel)
    if tag:
        where.append("tag = ?")
        params.append(tag)
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY id"
    with st.errors():
        rows = sorted(st.fetch_all(_RUN_COLUMNS, query, params), key=lambda row: row[0])
    return [_stored_run(row) for row in rows]


def load_run(st, run_id):
    """A stored run as a load.Run, the same object a results file gives."""
    return load_runs(st, [run_id])[0]


def load_runs(st, run_ids, counters=True):
    """Several stored runs as load.Runs, in the order asked, with one query per CHUNK runs
    for their paths (by the paths primary key). counters=False leaves every path's
    counters empty: decoding them is most of the cost of reading thousands of runs, and a
    caller that reads only the samples (trend) need not pay it."""
    run_ids = [int(i) for i in run_ids]
    stored, paths = {}, {}
    with st.errors():
        for chunk in chunks(sorted(set(run_ids))):
            marks = ", ".join("?" * len(chunk))
            for row in st.fetch_all(_RUN_COLUMNS, f"FROM runs WHERE id IN ({marks})", chunk):
                stored[row[0]] = _stored_run(row)
            columns = ["run_id", "position", "samples_ns", *PATH_FACTS,
                       "counters" if counters else "'' AS counters"]
            rows = sorted(st.fetch_all(
                columns, f"FROM paths WHERE run_id IN ({marks}) ORDER BY run_id, position",
                chunk), key=lambda row: row[:2])
            for run_id, _, samples, *facts, counts in rows:
                path = _path_facts(facts)
                path.samples_ns = json.loads(samples)
                path.counters = json.loads(counts or "{}")
                paths.setdefault(run_id, {})[path.name] = path
    runs = []
    for run_id in run_ids:
        if run_id not in stored:
            raise UserError(f"no run #{run_id} in the history store")
        found = paths.get(run_id, {})
        run = stored[run_id]
        source = f"run #{run_id} ({run.host_name} {run.kernel_release})"
        runs.append(load.Run(source=source, context=run.context, paths=found))
    return runs


def _path_facts(facts):
    """A load.PathResult with the facts of a path row (PATH_FACTS), no samples yet; the
    facts a row stored before they were kept are filled in (legacy)."""
    name, mechanism, abi, baseline, entries, skipped = facts
    path = load.PathResult(name=name, mechanism=mechanism, abi=abi or "x86_64",
                           baseline=baseline, expected_entries=entries, skipped=skipped)
    legacy.fill_in([path])
    return path


@dataclass
class StoredFigure:
    """A path of a stored run without its samples: its facts (samples_ns empty), the run's
    figure (stats.run_figure of its repetitions; None when it has none) and how many
    repetitions it has."""

    path: load.PathResult
    figure_ns: float | None
    repetitions: int


def load_figures(st, run_ids):
    """{run id: {path name: StoredFigure}}: what trend reads first of thousands of runs,
    two queries per CHUNK runs, both answered from indexes (paths_figures covers the
    first, paths_unmeasured finds the skip reasons) and not one sample decoded. Runs
    whose path rows state the same facts share one PathResult for them: read them, never
    change them."""
    found, facts_seen = {}, {}
    with st.errors():
        for chunk in chunks(sorted({int(i) for i in run_ids})):
            marks = ", ".join("?" * len(chunk))
            reasons = dict(((run_id, name), skipped) for run_id, name, skipped in st.fetch_all(
                ["run_id", "name", "skipped"],
                f"FROM paths WHERE run_id IN ({marks}) AND repetitions = 0", chunk))
            rows = sorted(st.fetch_all(
                ["run_id", "position", "figure_ns", "repetitions", *PATH_FACTS[:-1]],
                f"FROM paths WHERE run_id IN ({marks}) ORDER BY run_id, position", chunk),
                key=lambda row: row[:2])
            for run_id, _, figure, repetitions, *facts in rows:
                facts = (*facts, reasons.get((run_id, facts[0])) if not repetitions else None)
                path = facts_seen.get(facts)
                if path is None:
                    path = facts_seen[facts] = _path_facts(facts)
                found.setdefault(run_id, {})[path.name] = StoredFigure(path, figure,
                                                                      repetitions)
    return found
