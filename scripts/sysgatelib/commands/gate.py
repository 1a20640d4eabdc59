"""`sysgate gate BASE`: measure this machine until the answer is known (CI's one command).

It runs the suite (a child `sysgate run` per run, each filed in the history store),
compares the new runs, pooled, with BASE by compare's verdict, and while that answer is
inconclusive adds a run to the new side, up to --max-runs (Chromium Pinpoint's "unknown:
collect more"). Then it prints compare's report and exits with compare's code (EXIT_RULES):
0 no regression, 1 regression, 3 still inconclusive at the cap or not comparable.

BASE is what compare takes (a results file, a run id, a kernel release from the store,
several by commas) or `previous`: the newest runs of this host's newest other kernel.
"""

import datetime
import os
import sys
import time
from pathlib import Path

from .. import store
from ..bench import build
from ..bench.suite import measure_run
from ..core import atomic
from ..core.errors import UserError
from ..render import formats
from ..results import load, validate
from ..results.kversion import release_key
from ..store import resolve
from ..core import units
from ..render import compare_text
from ..verdicts.comparison import EXIT_INCONCLUSIVE, compare_runs, refuse_same_runs
from . import arguments, compare

# About 5 minutes here: a default run measures in about 60 s.
DEFAULT_MAX_RUNS = 4
PREVIOUS = "previous"


def register(subparsers):
    parser = subparsers.add_parser(
        "gate", help="run the suite and compare with BASE, adding runs while the answer "
        "is inconclusive; exit 0 no regression, 1 regression, 3 inconclusive at the cap",
        description="Measure this machine and compare with BASE (a results file, a run "
                    "id, a kernel release from the store, or 'previous': this host's "
                    "newest other kernel), adding runs to the new side while the verdict "
                    "is inconclusive, up to --max-runs. Every run is filed in the history "
                    "store. The kernel-entry verdict is on the nanoseconds added per entry "
                    "with the machine's drift taken out (docs/regressions.md).",
    )
    parser.add_argument("base", metavar="BASE")
    parser.add_argument("--max-runs", type=validate.positive_int, default=DEFAULT_MAX_RUNS,
                        metavar="N", help="runs of the new side at most (default "
                        f"{DEFAULT_MAX_RUNS}: about 5 minutes of default runs)")
    parser.add_argument("--quick", action="store_true", help="quick runs (a smoke test: "
                        "quick runs are always inconclusive)")
    parser.add_argument("--repetitions", type=validate.positive_int, metavar="N",
                        help="as for `sysgate run`")
    parser.add_argument("--processes", type=validate.positive_int, metavar="P",
                        help="as for `sysgate run`")
    parser.add_argument("--filter", metavar="REGEX", help="only these paths (a gate on the "
                        "kernel-entry family alone is the fast path)")
    parser.add_argument("--cpu", metavar="N|none", help="as for `sysgate run`")
    parser.add_argument("--work", type=Path, metavar="DIR",
                        help="folder for the runs (default reports/gate-<date>)")
    parser.add_argument("-o", "--output", type=Path, metavar="DIR",
                        help="write compare.html, its charts and compare.json here")
    formats.add_argument(parser, formats.COMPARE_FORMATS)
    parser.add_argument("--host", help="with kernel releases: the host whose runs to use")
    parser.add_argument("--no-build", action="store_true", help="use the existing build")
    compare.add_verdict_arguments(parser)
    arguments.add_db_argument(parser)
    parser.set_defaults(func=command)


def previous_kernel(db, context):
    """The runs of the newest kernel of this host other than the one it runs now."""
    fingerprint = store.host_fingerprint(context)
    here = context.get("kernel_release") or os.uname().release
    with store.open_store(db) as st:
        mine = [r for r in store.list_runs(st, fingerprint=fingerprint)
                if r.kernel_release != here]
    if not mine:
        raise UserError(f"{PREVIOUS}: the store {db} has no run of this host "
                        f"with a kernel other than {here}")
    newest = max(mine, key=lambda r: release_key(r.kernel_release))
    return resolve.runs_of_kernel(newest.kernel_release, db, context.get("host_name"))


def resolve_base(args, first_context=None):
    if args.base == PREVIOUS:
        return previous_kernel(args.db, first_context or {})
    return resolve.resolve_side(args.base, args.db, args.host)


def progress_line(number, cap, comparison, took):
    family = comparison.kernel_entry
    entry = ("no kernel-entry verdict" if family is None else
             f"kernel entry {units.format_ns(family.delta_ns)} ns per entry "
             f"[{units.format_ns(family.low_ns)}, {units.format_ns(family.high_ns)}] "
             f"{family.verdict}")
    return (f"gate: run {number}/{cap} ({took:.0f} s): {entry}; "
            f"{len(comparison.regressions)} path regression(s), "
            f"{len(comparison.inconclusive)} inconclusive -> exit {comparison.exit_code}")


def command(args):
    work = args.work or (store.REPO_ROOT / "reports"
                         / f"gate-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    targets = formats.parse(args.formats, formats.COMPARE_FORMATS)  # before any work
    atomic.check_writable_folder(work, "--work")  # every place gate writes, before work
    if args.output:
        atomic.check_writable_folder(args.output, "-o")
    store.check_writable(args.db)
    base = None if args.base == PREVIOUS else resolve_base(args)  # bad input before work
    if base is not None:
        refuse_same_runs(base, [])  # a BASE naming one run twice, before work
    if not args.no_build:
        build.build()
    elif not build.bench_binary().exists():
        raise UserError(f"{build.bench_binary()}: not built; run without --no-build")
    settings = {"repetitions": args.repetitions, "processes": args.processes,
                "filter": args.filter, "cpu": args.cpu, "quick": args.quick,
                "db": args.db, "history": True}
    print(f"gate: up to {args.max_runs} run(s) into {work}, against {args.base}",
          flush=True)
    new, comparison = [], None
    for number in range(1, args.max_runs + 1):
        started = time.monotonic()
        new.append(load.load(measure_run(work / f"run-{number}", settings,
                                         python=sys.executable, log=lambda m: None)))
        if base is None:
            base = resolve_base(args, new[0].context)
        comparison = compare_runs(base, new, args.alpha, args.threshold,
                                          force=False,
                                          entry_threshold_pct=args.entry_threshold,
                                          strict=args.strict)
        print(progress_line(number, args.max_runs, comparison,
                            time.monotonic() - started), flush=True)
        if comparison.exit_code != EXIT_INCONCLUSIVE:
            break
    print(compare_text.render_terminal(comparison))
    if comparison.exit_code == EXIT_INCONCLUSIVE:
        print(f"gate: still inconclusive after {len(new)} run(s) (--max-runs "
              f"{args.max_runs}); the runs are in the store: pool more with `sysgate "
              "compare`, or raise --max-runs")
    page = None
    if args.output:
        page = compare.write_outputs(comparison, args.output)
        print(f"report: {page}", file=sys.stderr)
    compare.write_formats(comparison, targets, page)
    return comparison.exit_code
