#!/usr/bin/python3
"""Benchmark of the history store, both backends: concurrent writers and a large trend.

    /usr/bin/python3 benchmarks/store_bench.py [--backend sqlite|postgresql|both]

1. W writers (default 16) each import R runs (default 25) into one store at once, each
   with `sysgate history add`, plus one run of the next writer's share (the same run from
   two hosts at once); then counts what was lost and what was duplicated.
2. A store of N generated runs (default 10,000: H hosts x K kernels, the rest repeated
   runs of those kernels) and the wall time of `sysgate trend` over it, of reading the
   runs back (list + load), and of `sysgate compare` between two kernel releases.

The PostgreSQL server is a throwaway one (scripts/sysgatelib/bench/pg_server.py: initdb +
pg_ctl in a temporary folder, default settings: fsync on). Figures are printed, never asserted: take
them on a quiet machine.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from sysgatelib import store  # noqa: E402
from sysgatelib.bench import pg_server  # noqa: E402
from sysgatelib.results import load, synth  # noqa: E402
from sysgatelib.store import writing  # noqa: E402

SYSGATE = [synth.PYTHON, str(ROOT / "scripts" / "sysgate")]


def concurrency(db, folder, writers, runs_each):
    files = [synth.write_results(folder / f"w{i}.json", seed=5000 + i, context={
        "kernel_release": f"6.{i % 7}.0", "date": f"2026-11-01T00:00:{i % 60:02d}",
        "host_name": f"host-{i // runs_each}"}) for i in range(writers * runs_each)]
    batches = [files[i * runs_each:(i + 1) * runs_each] for i in range(writers)]
    store.open_store(db, create=True).close()
    started = time.monotonic()
    procs = [subprocess.Popen([*SYSGATE, "history", "add", "--db", str(db), *batch,
                               batches[(i + 1) % writers][0]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for i, batch in enumerate(batches)]
    failures = []
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            failures.append(err.strip())
    seconds = time.monotonic() - started
    with store.open_store(db) as st:
        sources = [r.source for r in store.list_runs(st)]
        paths = st.execute("SELECT count(*) FROM paths").fetchone()[0]
    expected = {os.path.abspath(f) for f in files}
    lost = len(expected - set(sources))
    duplicated = len(sources) - len(set(sources))
    print(f"  {writers} writers x {runs_each} runs: {len(set(sources))} runs stored, "
          f"{lost} lost, {duplicated} duplicated, {paths} path rows "
          f"(expected {len(files) * len(synth.PATHS)}), {len(failures)} writers failed, "
          f"{seconds:.1f} s wall")
    for failure in failures[:3]:
        print(f"    writer error: {failure}")


def generate(db, total, hosts, kernels):
    """`total` runs: hosts x kernels, each kernel measured total/(hosts*kernels) times.
    Every run is its own: its own repetitions, and its own level for all paths (a
    process's layout and the host's phase, 2% from run to run), so that the store holds
    what a fleet's would, not a few runs repeated (which sorting and de-duplicating
    would make cheaper than real)."""
    levels = random.Random(total)
    with store.open_store(db, create=True) as st:
        if st.kind == "sqlite":
            st.execute("PRAGMA synchronous = OFF")  # generating is not what is measured
        else:
            st.execute("SET synchronous_commit = off")
        for index in range(total):
            host, kernel = index % hosts, (index // hosts) % kernels
            level = levels.lognormvariate(0.0, 0.02)
            shift = {name: level for name, _, _ in synth.PATHS}
            shift["getpid/syscall"] = level * (1 + 0.01 * kernel)
            data = synth.make_results(
                seed=index, shift=shift,
                context={"host_name": f"fleet-{host}", "kernel_release": f"6.{kernel}.0",
                         "date": f"2026-{1 + index % 12:02d}-01T00:00:00.{index:06d}"})
            raw = json.dumps(data).encode()
            run = load.parse(data, f"generated-{index}.json")
            prepared = writing.Prepared(f"generated-{index}.json", run,
                                       store.content_hash(data), raw)
            writing.insert_run(st, *writing.values(prepared))
            if index % 1000 == 999:
                print(f"    generated {index + 1} runs", file=sys.stderr)


TIMEOUT_S = 600


QUIET_LOAD = 0.5  # the 1-minute load average a figure is taken below
SETTLE_S = 180  # the longest wait for it


def settle():
    """Waits (at most SETTLE_S) for the load of generating the store to leave the load
    average, so that a timed command runs on a quiet machine; returns the load it starts at."""
    deadline = time.monotonic() + SETTLE_S
    while os.getloadavg()[0] >= QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def timed(label, command):
    load = settle()
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"  {label}: did not finish in {TIMEOUT_S} s")
        return
    seconds = time.monotonic() - started
    status = "ok" if done.returncode in (0, 1) else f"exit {done.returncode}: {done.stderr[-300:]}"
    print(f"  {label}: {seconds:.2f} s ({status}; load average {load:.2f} before)")


def large_store(db, folder, total, hosts, kernels):
    started = time.monotonic()
    generate(db, total, hosts, kernels)
    print(f"  generated {total} runs ({hosts} hosts x {kernels} kernels) in "
          f"{time.monotonic() - started:.1f} s")
    started = time.monotonic()
    with store.open_store(db) as st:
        runs = store.list_runs(st)
        store.load_runs(st, [r.id for r in runs])
    print(f"  list + load all {len(runs)} runs: {time.monotonic() - started:.2f} s")
    timed("sysgate trend (all hosts)", [*SYSGATE, "trend", "--db", str(db),
                                        "-o", str(folder / "trend")])
    timed("sysgate trend --host fleet-0", [*SYSGATE, "trend", "--db", str(db), "--host",
                                           "fleet-0", "-o", str(folder / "trend0")])
    timed(f"sysgate compare 6.0.0 6.{kernels - 1}.0 --host fleet-0",
          [*SYSGATE, "compare", "--db", str(db), "--host", "fleet-0", "6.0.0",
           f"6.{kernels - 1}.0"])


def main():
    global TIMEOUT_S
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--runs-each", type=int, default=25)
    parser.add_argument("--trend-runs", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--kernels", type=int, default=20)
    parser.add_argument("--timeout", type=int, default=TIMEOUT_S,
                        help="seconds one timed command may take (default %(default)s)")
    args = parser.parse_args()
    TIMEOUT_S = args.timeout
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    server = None
    if "postgresql" in backends:
        reason = pg_server.unavailable_reason()
        if reason:
            print(f"postgresql: skipped: {reason}")
            backends.remove("postgresql")
        else:
            server = pg_server.Server(fsync=True, port=5433).start()
    try:
        for backend in backends:
            with tempfile.TemporaryDirectory(prefix="sysgate-bench-") as tmp:
                folder = Path(tmp)

                def db(name):
                    if backend == "sqlite":
                        return folder / f"{name}.sqlite"
                    return server.create_database(name)

                print(f"{backend}:")
                concurrency(db("concurrency"), folder, args.writers, args.runs_each)
                large_store(db("large"), folder, args.trend_runs, args.hosts, args.kernels)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
