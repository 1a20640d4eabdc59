"""A stand-in for booting a kernel and running the suite (`sysgate bisect
--measure-command`): the "image" the fake build made holds the nanoseconds the commit adds
per kernel entry; this writes synthetic results (history_synth) with that slowdown, seeded by
the commit and the run, to $SYSGATE_RESULTS. Set FAKE_MEASURE_SLEEP to make it slow (an
interrupted bisection), FAKE_MEASURE_REPS for its repetitions (few: always inconclusive)."""

import json
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import history_synth as synth  # noqa: E402
from sysgatelib.results import load  # noqa: E402


def added(ns):
    run = load.parse(synth.make_results(seed=0), "reference")
    return {p.name: ns * p.expected_entries for p in run.paths.values()
            if p.enters_kernel and p.samples_ns}


def main():
    ns = float(open(os.environ["SYSGATE_KERNEL"]).read().split()[0])
    commit, number = os.environ["SYSGATE_COMMIT"], int(os.environ["SYSGATE_RUN"])
    time.sleep(float(os.environ.get("FAKE_MEASURE_SLEEP", "0")))
    seed = zlib.crc32(f"{commit}-{number}".encode())
    data = synth.make_results(seed=seed, repetitions=int(os.environ.get("FAKE_MEASURE_REPS",
                                                                        "12")),
                              add_ns=added(ns), context={
                                  "kernel_release": f"6.1.0-g{commit[:12]}",
                                  "date": f"2026-12-04T10:00:{number:02d}+00:00"})
    with open(os.environ["SYSGATE_RESULTS"], "w") as handle:
        json.dump(data, handle)


if __name__ == "__main__":
    main()
