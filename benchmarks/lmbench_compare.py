#!/usr/bin/python3
"""Like for like with lmbench: sysgate's lmbench rows beside lmbench's own `lat_syscall`.

Alternates, for --rounds rounds, lmbench's `lat_syscall` (read, write, fstat, stat, open)
with sysgate_bench's `lmbench/*` rows, both pinned with `taskset -c CPU` to one CPU, and
prints a Markdown table of the sysgate/lmbench ratios of the minima over the rounds (and
of the raw-instruction rows, lmbench/*_raw, against lmbench), then the per-round figures.
Issue 26 and docs/methodology.md ("Like for like with lmbench") say why; run it on a
quiet machine, or the figures say nothing.

lmbench is not part of sysgate: build `lat_syscall` from intel/lmbench unmodified
(docs/methodology.md says how) and give its path:

  /usr/bin/python3 benchmarks/lmbench_compare.py \
      --lat-syscall ~/lmbench/bin/x86_64-linux-gnu/lat_syscall

What each side's figure is:
  lmbench   `ENOUGH=<--enough> lat_syscall -N <--lmbench-n> TEST`: the median of its N
            repetitions (lib_timing.c, save_median), timed with gettimeofday; printed as
            "Simple read: 0.2345 microseconds" on stderr.
  sysgate   `sysgate_bench --benchmark_filter=^lmbench/ --benchmark_repetitions=<N>`
            in --sysgate-processes processes one after the other: the minimum over all
            repetitions of the per-call ns (real_time).
A round's figures are taken once per side; the table's figure is the minimum over the
rounds, its spread (max - min) / min over the rounds. Rounds alternate which tool goes
first, so a drift of the machine falls on both.

Variants, one thing at a time: --no-interleave (sysgate's repetitions in table order
instead of random interleaving), --sysgate-processes P, --min-time S, --repetitions N.

Errors: one line `error: <what>: <why>`; exit 2 for bad input, 1 when a tool failed.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from sysgatelib.core import thresholds  # noqa: E402
from sysgatelib.core.errors import UserError  # noqa: E402
from sysgatelib.results import load, validate  # noqa: E402
from sysgatelib.verdicts import modes  # noqa: E402

DEFAULT_BENCH = ROOT / "build" / "benchmarks" / "sysgate_bench"
DEFAULT_ROUNDS = 5
DEFAULT_ENOUGH = 100000  # lmbench's ENOUGH: microseconds per timed interval
DEFAULT_LMBENCH_N = 11
DEFAULT_REPETITIONS = 12
DEFAULT_MIN_TIME = 0.02  # sysgate run's default seconds per repetition and path

# (label, lat_syscall arguments, sysgate's glibc row, its raw-instruction row or None)
ROWS = (
    ("read 1 B /dev/zero", ("read",), "lmbench/read", "lmbench/read_raw"),
    ("write 1 B /dev/null", ("write",), "lmbench/write", "lmbench/write_raw"),
    ("fstat /dev/null", ("fstat", "/dev/null"), "lmbench/fstat", "lmbench/fstat_raw"),
    ("stat /dev/null", ("stat", "/dev/null"), "lmbench/stat", None),
    ("open+close /dev/null", ("open", "/dev/null"), "lmbench/open_close", None),
)
_LMBENCH_LINE = re.compile(r"^Simple [^:]+: ([0-9.]+) microseconds\s*$", re.M)


class ToolError(Exception):
    """A tool ran but gave no usable figure (exit 1)."""


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text}: must be positive")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Alternate lmbench's lat_syscall with sysgate's lmbench rows and "
        "print the ratios of their minima as Markdown.")
    parser.add_argument("--lat-syscall", required=True, metavar="PATH",
                        help="a built lmbench lat_syscall (bin/<arch>/lat_syscall)")
    parser.add_argument("--bench", default=str(DEFAULT_BENCH), metavar="PATH",
                        help="sysgate_bench (default build/benchmarks/sysgate_bench)")
    parser.add_argument("--rounds", type=validate.positive_int, default=DEFAULT_ROUNDS, metavar="R",
                        help=f"alternated rounds (default {DEFAULT_ROUNDS})")
    parser.add_argument("--cpu", type=int, metavar="N",
                        help="the CPU both tools are pinned to (default: the last allowed)")
    parser.add_argument("--enough", type=validate.positive_int, default=DEFAULT_ENOUGH,
                        metavar="US",
                        help=f"lmbench's ENOUGH (default {DEFAULT_ENOUGH})")
    parser.add_argument("--lmbench-n", type=validate.positive_int, default=DEFAULT_LMBENCH_N,
                        metavar="N", help=f"lat_syscall -N (default {DEFAULT_LMBENCH_N})")
    parser.add_argument("--repetitions", type=validate.positive_int, default=DEFAULT_REPETITIONS,
                        metavar="N", help="sysgate repetitions per process "
                        f"(default {DEFAULT_REPETITIONS})")
    parser.add_argument("--sysgate-processes", type=validate.positive_int, default=1, metavar="P",
                        help="sysgate processes per round, one after the other (default 1)")
    parser.add_argument("--min-time", type=_positive_float, default=DEFAULT_MIN_TIME,
                        metavar="S", help="sysgate seconds per repetition and path "
                        f"(default {DEFAULT_MIN_TIME})")
    parser.add_argument("--no-interleave", action="store_true",
                        help="sysgate's repetitions in table order, not randomly interleaved")
    parser.add_argument("--json", metavar="FILE",
                        help="also write every figure (per round, per process) as JSON")
    return parser.parse_args(argv)


def check_inputs(args):
    """UserError (exit 2) for anything the user gave that cannot work."""
    for what, path in (("--lat-syscall", args.lat_syscall), ("--bench", args.bench)):
        if not os.path.isfile(path):
            raise UserError(f"{what} {path}: no such file"
                            + ("; build it: cmake --preset release && cmake --build build"
                               if what == "--bench" else "; see docs/methodology.md, "
                               "\"Like for like with lmbench\", for how to build it"))
        if not os.access(path, os.X_OK):
            raise UserError(f"{what} {path}: not executable")
    if shutil.which("taskset") is None:
        raise UserError("taskset: not found; install util-linux")
    allowed = sorted(os.sched_getaffinity(0))
    if args.cpu is None:
        args.cpu = allowed[-1]
    elif args.cpu not in allowed:
        raise UserError(f"--cpu {args.cpu}: not a CPU this process may run on "
                        f"(allowed: {','.join(map(str, allowed))})")


def run_lmbench(args, lat_args):
    """lmbench's figure in ns per call for one test."""
    env = dict(os.environ, ENOUGH=str(args.enough))
    command = ["taskset", "-c", str(args.cpu), args.lat_syscall, "-N", str(args.lmbench_n),
               *lat_args]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found = _LMBENCH_LINE.findall(done.stderr + done.stdout)
    if done.returncode != 0 or not found:
        tail = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise ToolError(f"{' '.join(command)}: exit {done.returncode}: {tail}")
    return float(found[-1]) * 1000.0


def sysgate_command(args, out_file):
    return ["taskset", "-c", str(args.cpu), args.bench, "--benchmark_filter=^lmbench/",
            f"--benchmark_repetitions={args.repetitions}",
            f"--benchmark_min_time={args.min_time}",
            "--benchmark_enable_random_interleaving="
            + ("false" if args.no_interleave else "true"),
            f"--benchmark_out={out_file}", "--benchmark_out_format=json",
            f"--cpu={args.cpu}",
            # The counting pass counts, it does not time: left out to save its time.
            "--counters=none"]


def run_sysgate(args, folder):
    """[{row: [ns per repetition]} or {row: "skipped: why"}] per process."""
    processes = []
    for process in range(args.sysgate_processes):
        out_file = Path(folder) / f"sysgate.{process}.json"
        command = sysgate_command(args, out_file)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip() or "no output").splitlines()[-1]
            raise ToolError(f"{' '.join(command)}: exit {done.returncode}: {tail}")
        try:
            run = load.load(out_file)
        except UserError as exc:
            raise ToolError(str(exc)) from None
        processes.append({name: (list(p.samples_ns) if p.samples_ns else
                                 f"skipped: {p.skipped or 'no samples'}")
                          for name, p in run.paths.items()})
    return processes


def sysgate_minimum(processes, name):
    """The minimum per-call ns of row `name` over every repetition of every process, or
    the reason it has none."""
    samples, reasons = [], []
    for figures in processes:
        value = figures.get(name, "skipped: not in the results")
        if isinstance(value, str):
            reasons.append(value)
        else:
            samples += value
    return min(samples) if samples else (reasons[0] if reasons else "no samples")


def one_round(args, index, folder):
    """{"lmbench": {label: ns or error}, "sysgate": {row: ns or reason}, "processes": ...}"""
    figures = {"round": index + 1, "lmbench": {}, "sysgate": {}}

    def lmbench_side():
        for label, lat_args, _, _ in ROWS:
            try:
                figures["lmbench"][label] = run_lmbench(args, lat_args)
            except ToolError as exc:
                figures["lmbench"][label] = f"failed: {exc}"

    def sysgate_side():
        processes = run_sysgate(args, folder)
        # Each process's median, for the per-process modes.
        figures["process_medians"] = [
            {name: (statistics.median(v) if isinstance(v, list) else v)
             for name, v in p.items()} for p in processes]
        for _, _, glibc, raw in ROWS:
            for name in filter(None, (glibc, raw)):
                figures["sysgate"][name] = sysgate_minimum(processes, name)

    # Alternate which tool goes first, so a drift of the machine falls on both.
    for side in ((lmbench_side, sysgate_side) if index % 2 == 0 else
                 (sysgate_side, lmbench_side)):
        side()
    return figures


def _numbers(values):
    return [v for v in values if isinstance(v, float)]


def _ns(value):
    if isinstance(value, str):
        return value.split(":", 1)[0]  # "failed", "skipped": the reasons follow the table
    return f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def _ratio(a, b):
    return f"{a / b:.3f}" if isinstance(a, float) and isinstance(b, float) and b else "-"


def _spread(values):
    numbers = _numbers(values)
    if len(numbers) < 2:
        return "-"
    return f"{(max(numbers) - min(numbers)) / min(numbers):.0%}"


def _minimum(values):
    numbers = _numbers(values)
    if numbers:
        return min(numbers)
    reasons = [v for v in values if isinstance(v, str)]
    return reasons[0] if reasons else "-"


def mode_lines(rounds):
    """One line per row and tool: its processes' modes, or that it had one."""
    lines = []
    for label, _, glibc, raw in ROWS:
        lm = _numbers([r["lmbench"].get(label) for r in rounds])
        series = [(f"lmbench {label} (one process a round)", lm)]
        for name in filter(None, (glibc, raw)):
            medians = _numbers([p.get(name) for r in rounds
                                for p in r.get("process_medians", ())])
            series.append((f"sysgate {name}", medians))
        for what, figures in series:
            found = modes.split_modes(figures)
            if len(figures) < thresholds.MODE_MIN_PROCESSES:
                lines.append(f"{what}: {len(figures)} process(es), too few to tell modes")
            elif found is None:
                lines.append(f"{what}: one mode across {len(figures)} processes")
            else:
                lines.append(f"{what}: 2 modes across {found.processes} processes: "
                             f"{len(found.fast)} at {_ns(found.fast_ns)} ns, "
                             f"{len(found.slow)} at {_ns(found.slow_ns)} ns")
    return lines


def markdown(args, rounds):
    """The summary table, then the per-round figures."""
    lines = [
        f"sysgate/lmbench, minima over {len(rounds)} alternated round(s); both pinned with "
        f"`taskset -c {args.cpu}`; {platform.node()} {platform.release()}.",
        f"lmbench: `ENOUGH={args.enough} lat_syscall -N {args.lmbench_n}` (median of "
        f"{args.lmbench_n}); sysgate: {args.repetitions} repetitions x "
        f"{args.sysgate_processes} process(es), min time {args.min_time} s, "
        f"{'not ' if args.no_interleave else ''}interleaved (minimum over repetitions).",
        "",
        "| row | lmbench ns | sysgate ns | sysgate/lmbench | raw ns | raw/lmbench | "
        "raw/sysgate | lmbench spread | sysgate spread | raw spread |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, _, glibc, raw in ROWS:
        lm = [r["lmbench"].get(label, "-") for r in rounds]
        sg = [r["sysgate"].get(glibc, "-") for r in rounds]
        rw = [r["sysgate"].get(raw, "-") for r in rounds] if raw else []
        lm_min, sg_min = _minimum(lm), _minimum(sg)
        rw_min = _minimum(rw) if raw else "-"
        lines.append(
            f"| {label} | {_ns(lm_min)} | {_ns(sg_min)} | {_ratio(sg_min, lm_min)} | "
            f"{_ns(rw_min)} | {_ratio(rw_min, lm_min)} | {_ratio(rw_min, sg_min)} | "
            f"{_spread(lm)} | {_spread(sg)} | {_spread(rw) if raw else '-'} |")
    reasons = sorted({v for r in rounds for side in ("lmbench", "sysgate")
                      for v in r[side].values() if isinstance(v, str)})
    if reasons:
        lines += ["", "Not measured:", ""] + [f"- {reason}" for reason in reasons]
    lines += ["", "Per-process modes (sysgatelib/verdicts/modes.py: per-process figures "
              "cut at the largest step when it is above "
              f"{thresholds.MODE_GAP:.0%} and both sides are tight):", ""]
    lines += [f"- {line}" for line in mode_lines(rounds)]
    lines += ["", "Per round (ns per call; sysgate: minimum over its repetitions):", ""]
    columns = []
    for label, _, glibc, raw in ROWS:
        short = glibc.split("/", 1)[1]
        columns.append((f"lmbench {short}", "lmbench", label))
        columns.append((f"sysgate {short}", "sysgate", glibc))
        if raw:
            columns.append((f"sysgate {short}_raw", "sysgate", raw))
    lines.append("| round | " + " | ".join(c[0] for c in columns) + " |")
    lines.append("|---:|" + "---:|" * len(columns))
    for r in rounds:
        cells = [_ns(r[side].get(key, "-")) for _, side, key in columns]
        lines.append(f"| {r['round']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    try:
        check_inputs(args)
        rounds = []
        with tempfile.TemporaryDirectory(prefix="sysgate-lmbench-") as folder:
            for index in range(args.rounds):
                print(f"round {index + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
                rounds.append(one_round(args, index, folder))
                if not _numbers(rounds[-1]["lmbench"].values()):
                    raise ToolError("lat_syscall gave no figure: "
                                    + next(iter(rounds[-1]["lmbench"].values())))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(markdown(args, rounds))
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(
                {"settings": {k: v for k, v in vars(args).items() if k != "json"},
                 "rounds": rounds}, indent=2) + "\n")
        except OSError as exc:
            print(f"error: {args.json}: {exc.strerror}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
