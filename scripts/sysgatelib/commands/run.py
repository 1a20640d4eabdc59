"""`sysgate run`: install what is missing, build, run the suite, write results.

Phases print as they start, with elapsed time, so a user sees where a minute goes.
"""

import datetime
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import store
from ..bench import build, sampling
from ..core import atomic, children, packages
from ..core.errors import UserError
from ..render import formats, summary
from ..results import busy, kernel_facts, load, validate
from ..verdicts import checks
from . import arguments, report

ROOT = build.ROOT
# Repetitions in all, spread over worker processes (pyperf's design): each process gets a
# fresh address-space layout, and on some machines a path's cost depends on it (the
# call/ret around SYSCALL is bimodal on our AMD VM, with the mode sticky per process).
# One process would report one layout's luck as the path's cost.
DEFAULT_REPETITIONS = 12
DEFAULT_PROCESSES = 3
DEFAULT_MIN_TIME = 0.02  # seconds per repetition and path: 90 paths x 12 in under 60 s
QUICK_REPETITIONS = 3
QUICK_MIN_TIME = 0.005


def register(sub):
    parser = sub.add_parser(
        "run", help="install what is missing, build, run the suite, write results and report",
        description="Measure every path on this machine and write "
        "reports/<date>-<host>-<kernel>/results.json.",
    )
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: {QUICK_REPETITIONS} repetitions, short batches")
    parser.add_argument("--repetitions", type=validate.positive_int, metavar="N",
                        help=f"repetitions per path in all (default {DEFAULT_REPETITIONS}, "
                        f"--quick {QUICK_REPETITIONS})")
    parser.add_argument("--processes", type=validate.positive_int, metavar="P",
                        help=f"worker processes the repetitions are spread over (default "
                        f"{DEFAULT_PROCESSES}, --quick 1)")
    parser.add_argument("--min-time", type=_positive_float, metavar="S",
                        help=f"seconds per repetition and path (default {DEFAULT_MIN_TIME})")
    parser.add_argument("--cpu", metavar="N|none",
                        help="CPU to pin to (default: the last allowed CPU)")
    parser.add_argument("--filter", metavar="REGEX", help="only the paths matching REGEX")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="results folder (default reports/<date>-<host>-<kernel>)")
    parser.add_argument("--no-install", action="store_true",
                        help="do not check or install Debian packages")
    parser.add_argument("--no-build", action="store_true", help="use the existing build")
    arguments.add_db_argument(parser)
    parser.add_argument("--no-history", action="store_true",
                        help="do not file the run in the history store")
    formats.add_argument(parser, formats.RUN_FORMATS)
    parser.set_defaults(func=command)


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


class Phases:
    """Prints `[2/4] build ...` lines with the time each phase took."""

    def __init__(self, total):
        self.total, self.number, self.start = total, 0, time.monotonic()
        self.phase_start = self.start

    def next(self, name):
        self.number += 1
        self.phase_start = time.monotonic()
        print(f"[{self.number}/{self.total}] {name}", flush=True)

    def done(self, detail=""):
        took = time.monotonic() - self.phase_start
        print(f"      {detail + ' ' if detail else ''}({took:.1f} s)", flush=True)


def _safe(text):
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text)


def default_output_dir(now=None):
    now = now or datetime.datetime.now()
    name = f"{now:%Y%m%d-%H%M%S}-{_safe(socket.gethostname())}-{_safe(os.uname().release)}"
    return ROOT / "reports" / name


def plan(args):
    """The repetitions each worker process runs: exactly the number asked for in all,
    spread as evenly as it goes (10 over 3 processes: 4, 3, 3)."""
    reps = args.repetitions or (QUICK_REPETITIONS if args.quick else DEFAULT_REPETITIONS)
    processes = min(args.processes or (1 if args.quick else DEFAULT_PROCESSES), reps)
    share, extra = divmod(reps, processes)
    return [share + (1 if i < extra else 0) for i in range(processes)]


def bench_flags(quick, out_file, repetitions=None, min_time=None, cpu=None, names=None,
                count=True):
    """sysgate_bench's flags for one worker process: what `run` and `kernels` both use.

    repetitions and min_time of None take the defaults (--quick's when `quick`); a value
    given must be positive (0 is not "the default"). `names` (the paths to run) becomes
    an exact --benchmark_filter; None runs every path.
    """
    if repetitions is None:
        repetitions = QUICK_REPETITIONS if quick else DEFAULT_REPETITIONS
    if min_time is None:
        min_time = QUICK_MIN_TIME if quick else DEFAULT_MIN_TIME
    if not isinstance(repetitions, int) or repetitions < 1:
        raise UserError(f"--repetitions {repetitions}: must be a positive whole number")
    if not min_time > 0:
        raise UserError(f"--min-time {min_time}: must be positive")
    flags = [
        f"--benchmark_repetitions={repetitions}",
        f"--benchmark_min_time={min_time}",
        # Repetitions of all paths in random order: a slow phase of the host hits a few
        # repetitions of many paths instead of every repetition of one path.
        "--benchmark_enable_random_interleaving=true",
        f"--benchmark_out={out_file}",
        "--benchmark_out_format=json",
    ]
    if not count:
        flags.append("--counters=none")  # the first process's counting pass is enough
    if cpu is not None:
        flags.append(f"--cpu={cpu}")
    if names is not None:
        # Google Benchmark's filter sees <path>/manual_time.
        exact = "|".join(re.escape(n) for n in names)
        flags.append(f"--benchmark_filter=^({exact})/manual_time$")
    return flags


def bench_command(binary, args, out_file, names, reps, count=True):
    return [str(binary)] + bench_flags(
        args.quick, out_file, repetitions=reps, min_time=args.min_time, cpu=args.cpu,
        names=names if args.filter else None, count=count)


def list_paths(binary):
    """The path table as the binary publishes it (--list-paths --format=json): one dict
    per row with its facts and status."""
    done = subprocess.run([str(binary), "--list-paths", "--format=json"], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise UserError(f"{binary} --list-paths failed: {done.stderr.strip()}")
    try:
        table = json.loads(done.stdout)
    except ValueError as exc:
        raise UserError(f"{binary} --list-paths --format=json: not JSON: {exc}") from None
    if not isinstance(table, list) or not all(isinstance(r, dict) and "name" in r for r in table):
        raise UserError(f"{binary} --list-paths --format=json: not a list of path rows")
    return table


def select_paths(binary, args):
    """The path names of the binary's table, narrowed by --filter."""
    names = [row["name"] for row in list_paths(binary)]
    if args.filter:
        try:
            pattern = re.compile(args.filter)
        except re.error as exc:
            raise UserError(f"--filter {args.filter!r}: not a regular expression: {exc}") from None
        names = [n for n in names if pattern.search(n)]
        if not names:
            raise UserError(f"--filter {args.filter!r}: matches no path (see sysgate_bench "
                            "--list-paths)")
    return names


def measure(commands, expected_rows, cpu=None):
    """Runs the benchmark processes one after the other, showing how many rows are done;
    raises on the first failure. Returns the seconds it took and how busy the machine was
    meanwhile (results/busy.py; None where /proc cannot tell)."""
    start = time.monotonic()
    progress = {"done": 0, "shown": -1}
    with sampling.Sampler(avoid_cpu=measured_cpu(cpu)) as sampler:
        for command in commands:
            _measure_one(command, expected_rows, start, progress, sampler)
    if sys.stdout.isatty():
        print()
    return time.monotonic() - start, sampler.busy


def measured_cpu(cpu):
    """The CPU the benchmark pins to: --cpu N, none for --cpu none, else the last allowed
    CPU (the benchmark's own default)."""
    if cpu is None:
        try:
            return max(os.sched_getaffinity(0))
        except (OSError, ValueError):
            return None
    return int(cpu) if str(cpu).isdigit() else None


def _measure_one(command, expected_rows, start, progress, sampler):
    tty = sys.stdout.isatty()
    row = re.compile(r"^\S+/\S+/manual_time\s")
    # Google Benchmark prints the whole context on stderr; keep only sysgate's warnings
    # and errors (and everything when the benchmark fails).
    with tempfile.TemporaryFile("w+") as errors, children.popen(
        command, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1,
    ) as proc:
        sampler.watch(proc.pid)
        try:
            code = _follow(proc, expected_rows, start, progress, tty, row, sampler)
        except BaseException:  # Interrupted too: the benchmark must not write on
            children.stop(proc)
            raise
        errors.seek(0)
        stderr = errors.read().splitlines()
    if tty and code != 0:
        print()
    for line in stderr:
        if code != 0 or line.startswith(("warning:", "error:")):
            print(f"      {line}", file=sys.stderr)
    if code != 0:
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        raise UserError(f"{command[0]} failed ({how}); no results were written")


def _follow(proc, expected_rows, start, progress, tty, row, sampler):
    """Show the benchmark's progress from its rows; its exit status."""
    for line in proc.stdout:
        if not row.match(line) or re.search(r"_(mean|median|stddev|cv)\s", line):
            continue
        progress["done"] += 1
        done_rows = progress["done"]
        share = done_rows * 4 // max(expected_rows, 1)
        if tty:
            print(f"\r      {done_rows}/{expected_rows} rows, "
                  f"{time.monotonic() - start:.0f} s", end="", flush=True)
        elif share != progress["shown"]:
            print(f"      {done_rows}/{expected_rows} rows", flush=True)
            progress["shown"] = share
    sampler.read_switches(proc.pid)  # its output closed: it is exiting, not yet reaped
    return proc.wait()


def merge_processes(parts):
    """One results document from the worker processes' documents.

    The first process's context is kept (it ran the counting pass). Every repetition row
    is kept, renumbered so repetition_index runs over all processes, and marked with its
    process (process_index, from 0); Google Benchmark's per-process aggregates are
    dropped when there are several processes, since they describe one process only (the
    tools recompute statistics from the repetitions).
    """
    if len(parts) == 1:
        return parts[0]
    merged = {"context": dict(parts[0].get("context", {})), "benchmarks": []}
    merged["context"]["processes"] = str(len(parts))
    offset = {}
    rows = [row for part in parts for row in part.get("benchmarks", [])
            if row.get("run_type", "iteration") == "iteration"]
    total = {}
    for row in rows:
        total[row["name"]] = total.get(row["name"], 0) + 1
    for process, part in enumerate(parts):
        seen = {}
        for row in part.get("benchmarks", []):
            if row.get("run_type", "iteration") != "iteration":
                continue
            row = dict(row)
            row["process_index"] = process  # for the per-process modes (verdicts/modes.py)
            name = row["name"]
            row["repetition_index"] = offset.get(name, 0) + row.get("repetition_index", 0)
            row["repetitions"] = total[name]
            seen[name] = seen.get(name, 0) + 1
            merged["benchmarks"].append(row)
        for name, count in seen.items():
            offset[name] = offset.get(name, 0) + count
    return merged


def read_partial(partial):
    try:
        return json.loads(partial.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{partial}: the benchmark wrote no usable results: {exc}") from None


def write_results(partials, final, extra_context):
    """Merges the processes' results, adds run facts to the context and moves the file
    into place atomically."""
    data = merge_processes([read_partial(p) for p in partials])
    data.setdefault("context", {}).update(extra_context)
    tmp = final.with_suffix(".json.tmp")
    try:
        with open(tmp, "w") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except OSError as exc:
        raise UserError(f"{final}: cannot write: {exc.strerror or exc}") from None
    for partial in partials:
        partial.unlink()


def command(args):
    phases = Phases(6)
    out_dir = Path(args.output) if args.output else default_output_dir()
    final = out_dir / "results.json"
    # Every place the run writes is tried before minutes of building and measuring.
    atomic.check_writable_folder(out_dir, "-o")
    targets = formats.parse(args.formats, formats.RUN_FORMATS)
    if final.exists():
        raise UserError(f"{final}: already exists; choose another folder with -o")
    if not args.no_history:
        store.check_writable(args.db)

    phases.next("dependencies")
    if args.no_install:
        phases.done("skipped (--no-install)")
    else:
        installed = packages.ensure(packages.RUN_PACKAGES, log=lambda m: print(f"      {m}"))
        mounted = packages.ensure_tracefs()
        phases.done(", ".join(filter(None, [
            f"installed {' '.join(installed)}" if installed else "packages present",
            mounted])))

    phases.next("build")
    if args.no_build:
        binary = build.bench_binary()
        if not binary.exists():
            raise UserError(f"{binary}: not built; run without --no-build")
        phases.done("skipped (--no-build)")
    else:
        binary = build.build()
        phases.done(str(binary.relative_to(ROOT)) if binary.is_relative_to(ROOT) else str(binary))

    names = select_paths(binary, args)
    shares = plan(args)
    processes, total_reps = len(shares), sum(shares)
    partials = [out_dir / f"results.{i}.json.partial" for i in range(processes)]
    commands = [bench_command(binary, args, partial, names, reps, count=(i == 0))
                for i, (partial, reps) in enumerate(zip(partials, shares))]
    created = _make_folder(out_dir)
    try:
        phases.next(f"measure: {len(names)} paths x {total_reps} repetitions "
                    f"({processes} process{'es' if processes > 1 else ''}), interleaved")
        started = datetime.datetime.now(datetime.timezone.utc)
        seconds, busy_facts = measure(commands, len(names) * total_reps, args.cpu)
        phases.done()

        phases.next("results")
        write_results(partials, final, {
            "run_started": started.isoformat(timespec="seconds"),
            "run_seconds": f"{seconds:.1f}",
            "sysgate_command": " ".join(commands[0][1:]),
            # How the run was taken, for compare's list of differing conditions (envdiff).
            "quick": "true" if args.quick else "false",
            "repetitions": str(total_reps),
            "processes": str(processes),
            "min_time": str(args.min_time
                            or (QUICK_MIN_TIME if args.quick else DEFAULT_MIN_TIME)),
            "filter": args.filter or "",
            # How busy the machine was while measuring: what busy warnings and compare's
            # withholding read (the load average at the start is context only).
            **busy.to_context(busy_facts),
            # What explains a kernel-entry step: entry-path config, FRED, entry alignment.
            **kernel_facts.capture(),
        })
    except BaseException:  # a failure or a stop (Interrupted): no partial file stays
        _discard(partials + [final.with_suffix(".json.tmp")], out_dir if created else None)
        raise
    return _report_and_file(load.load(final), final, out_dir, phases, args, targets)


def _make_folder(out_dir):
    """Create the results folder; whether this call made it."""
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out_dir}: cannot create the folder: {exc.strerror}; "
                        "choose another -o") from None
    return created


def _discard(paths, folder=None):
    """Remove what an unfinished run wrote, and its folder when this run made it and it is
    left empty."""
    for path in paths:
        try:
            path.unlink()
        except OSError:
            pass
    if folder is not None:
        try:
            folder.rmdir()
        except OSError:
            pass


def _report_and_file(run, final, out_dir, phases, args, targets=()):
    print(summary.format_table(run))
    for finding in checks.check_run(run):
        if finding.severity == checks.WARNING:
            print(f"warning: {finding.title}. {finding.remedy}")
    phases.done()

    phases.next("report")
    index = report.render_report([run], out_dir)
    phases.done()

    phases.next("history")
    if args.no_history:
        phases.done("skipped (--no-history)")
    else:
        run_id = store.add_results(args.db, final)
        phases.done(f"run #{run_id} in {args.db}")
    print(f"results: {final}")
    print(f"report:  {index}")
    if targets:
        from ..render.formats import figures

        data = figures.run_data(run)
        sys.stdout.flush()
        formats.write(targets, lambda target: formats.render_run(target, data))
    return 0
