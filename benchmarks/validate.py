#!/usr/bin/python3
"""The validation protocol of `sysgate compare` (docs/methodology.md, "Validation").

Runs, on this machine, the pairs that say whether compare's verdicts can be trusted, and
prints the false-positive and detection rates as a Markdown table for the docs:

  aa        A/A pairs on a quiet machine, one run per side: no regression allowed
  load      A/A pairs, the new side under `stress-ng --cpu 2` (unpinned, so the load
            reaches the measured CPU): no regression allowed; withheld is fine
  seccomp   plain vs allow-all seccomp filter, one run per side (kernel entry must be a
            REGRESSION, no control flagged), then all those runs pooled per side
            (at least 80% of the kernel-entering paths flagged)
  graded    plain vs a graded filter (--loads L argument loads per syscall, a slowdown
            the kernel cannot cache away), one run a side, per level: the injected delta
            in ns per entry and the share of pairs whose verdict is REGRESSION (exit 1)
  gate      `sysgate gate` on this machine: A/A against a fresh run (exit 0, never 1,
            within about 5 minutes) and, with --gate-threshold, the graded filter on
            the gated side (REGRESSION within the cap) and A/A at that threshold (never 1)
  quick     a quick A/A pair and a quick plain-vs-seccomp pair: both must exit 3
  spread    default runs alternated with `perf bench syscall basic`: the spread of
            getpid/syscall's leading figure beside perf bench's

Every run lands in --work (default reports/validate/) and is reused when the protocol is
run again, so an interrupted protocol resumes where it stopped, and --only/--pairs run
parts of it. Run it on a quiet machine: it takes about 1-2 minutes per default run.

  /usr/bin/python3 benchmarks/validate.py --only aa --pairs 2
  /usr/bin/python3 benchmarks/validate.py                 # everything, 30-40 runs
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from sysgatelib.bench.suite import SECCOMP_WRAPPER, measure_run  # noqa: E402
from sysgatelib.core import packages, thresholds, units  # noqa: E402
from sysgatelib.core.errors import UserError  # noqa: E402
from sysgatelib.results import load  # noqa: E402
from sysgatelib.verdicts import comparison, stats  # noqa: E402

PARTS = ("aa", "load", "seccomp", "graded", "gate", "quick", "spread")
DEFAULT_PAIRS = {"aa": 5, "load": 3, "seccomp": 3, "graded": 5, "gate": 5, "quick": 1,
                 "spread": 5}
DEFAULT_LOADS = (16, 64)
GATE_LIMIT_S = 300  # a quiet A/A gate is done within about 5 minutes
SYSGATE = ROOT / "scripts" / "sysgate"
SPREAD_PATH = "getpid/syscall"


def log(message):
    print(message, file=sys.stderr, flush=True)


class Protocol:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work)
        self.settings = {"repetitions": args.repetitions, "processes": args.processes,
                         "min_time": args.min_time, "filter": args.filter, "cpu": args.cpu}
        self.rows = []  # (part, what, outcome, ok)

    def run(self, name, seccomp=None, quick=False):
        """One run; seccomp: None plain, else the loads of the allow-all filter."""
        settings = dict(self.settings, quick=quick or self.args.quick)
        path = measure_run(self.work / name, settings, seccomp=seccomp,
                                     python=sys.executable, log=log)
        return load.load(path)

    def compare(self, base, new, force=False):
        return comparison.compare_runs(base, new, force=force)

    def record(self, part, what, outcome, ok):
        self.rows.append((part, what, outcome, ok))
        log(f"  {part}: {what}: {outcome} [{'ok' if ok else 'FAIL'}]")


def _flagged(c):
    kernel = [r for r in c.rows if r.result and r.enters_kernel]
    hit = [r for r in kernel if r.result.verdict == stats.REGRESSION]
    controls = [r for r in c.rows if r.result and r.is_control
                and r.result.verdict in (stats.REGRESSION, stats.IMPROVEMENT)]
    return kernel, hit, controls


def _family(c):
    f = c.kernel_entry
    return "none" if f is None else f"{f.verdict} {units.format_pct(f.change)}"


def _entry(c):
    """The kernel-entry verdict in ns per entry, as compare leads with it."""
    e = c.kernel_entry
    if e is None:
        return "none"
    drift = f", drift {units.format_pct(c.drift.change)}" if c.drift else ""
    return (f"{units.format_ns(e.delta_ns)} ns [{units.format_ns(e.low_ns)}, "
            f"{units.format_ns(e.high_ns)}] ({units.format_pct(e.change)}) "
            f"{e.verdict}{drift}")


def part_aa(p, pairs):
    false = 0
    for i in range(pairs):
        c = p.compare(p.run(f"aa-{i}-a"), p.run(f"aa-{i}-b"))
        false += len(c.regressions)
        p.record("aa", f"pair {i + 1}", f"exit {c.exit_code}, {len(c.regressions)} "
                 f"regressions, kernel entry {_entry(c)}", c.exit_code != 1)
    return false


def part_load(p, pairs):
    if packages.missing(["stress-ng"]):
        packages.ensure(["stress-ng"], log=log)
    for i in range(pairs):
        quiet = p.run(f"load-{i}-quiet")
        target = p.work / f"load-{i}-busy" / "results.json"
        busy = None
        if target.exists():
            busy = load.load(target)
        else:
            stress = subprocess.Popen(["stress-ng", "--cpu", "2", "--quiet"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(p.args.stress_wait)  # let the load average see the load
                busy = p.run(f"load-{i}-busy")
            finally:
                stress.terminate()
                try:
                    stress.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    stress.kill()
                    stress.wait()
        c = p.compare(quiet, busy)
        family_reg = c.kernel_entry is not None and c.kernel_entry.verdict == stats.REGRESSION
        p.record("load", f"pair {i + 1}",
                 f"exit {c.exit_code}, {len(c.regressions)} regressions, kernel entry "
                 f"{_family(c)}" + (", withheld (machine changed)" if c.withheld else ""),
                 not c.regressions and not family_reg)


def part_seccomp(p, pairs):
    plain, secc = [], []
    for i in range(pairs):
        plain.append(p.run(f"seccomp-{i}-plain"))
        secc.append(p.run(f"seccomp-{i}-filter", seccomp=0))
        c = p.compare(plain[-1], secc[-1])
        kernel, hit, controls = _flagged(c)
        ok = (c.kernel_entry is not None and c.kernel_entry.verdict == stats.REGRESSION
              and not controls)
        p.record("seccomp", f"pair {i + 1} (1 run a side)",
                 f"kernel entry {_family(c)}, {len(hit)}/{len(kernel)} paths flagged, "
                 f"{len(controls)} controls flagged", ok)
    if pairs >= 2:
        c = p.compare(plain, secc)
        kernel, hit, controls = _flagged(c)
        # The target is the syscall paths (mechanism syscall or glibc: one syscall a call,
        # which the filter slows by its own cost). The other kernel-entering paths carry a
        # shift of a few percent at most, below the threshold by construction: int 0x80's
        # VM exit dwarfs the filter, the vsyscall page enters by a fault the filter never
        # sees, io_uring batches 64 operations into one entry.
        syscall = [r for r in kernel if r.mechanism in ("syscall", "glibc")]
        hit_syscall = [r for r in syscall if r in hit]
        share = len(hit_syscall) / len(syscall) if syscall else 0.0
        p.record("seccomp", f"pooled ({pairs} runs a side)",
                 f"kernel entry {_family(c)}, {len(hit_syscall)}/{len(syscall)} syscall "
                 f"paths flagged ({share:.0%}); all kernel-entering paths {len(hit)}/"
                 f"{len(kernel)}; {len(controls)} controls flagged",
                 share >= 0.8 and not controls)


def part_graded(p, pairs):
    # Against --base-loads B (a filter on the base side too) the injected cost is that of
    # the extra loads alone: a filter the kernel cannot cache costs a fixed step first (the
    # filter runs at all), which on some hosts is itself far beyond the threshold.
    b = p.args.base_loads
    base_name = "plain" if b is None else f"base{b}"
    for loads in p.args.loads:
        deltas, hits = [], 0
        for i in range(pairs):
            c = p.compare(p.run(f"graded-{loads}-{i}-{base_name}", seccomp=b),
                          p.run(f"graded-{loads}-{i}-filter", seccomp=loads))
            if c.kernel_entry is not None:
                deltas.append(c.kernel_entry.delta_ns)
            hits += c.exit_code == 1
            p.record("graded", f"{loads} loads vs {base_name}, pair {i + 1}",
                     f"exit {c.exit_code}, kernel entry {_entry(c)}", c.exit_code == 1)
        if deltas:
            p.record("graded", f"{loads} loads: {hits}/{pairs} REGRESSION",
                     f"injected {min(deltas):+.1f} to {max(deltas):+.1f} ns per entry",
                     hits >= pairs - pairs // 5)  # at least 4 of 5


def _gate(p, name, base, threshold, seccomp=None):
    """One `sysgate gate` (under the graded filter when seccomp is given): exit code,
    seconds, the last progress line; kept in the gate's folder, reused on a rerun."""
    kept = p.work / name / "gate-outcome.json"
    if kept.exists():
        return tuple(json.loads(kept.read_text()))
    command = [sys.executable, str(SYSGATE), "gate", str(base), "--no-build",
               "--work", str(p.work / name), "--db", str(p.work / "gate.sqlite"),
               "--threshold", str(threshold)]
    if seccomp is not None:
        command = [sys.executable, str(SECCOMP_WRAPPER), "--loads", str(seccomp)] + command
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    took = time.monotonic() - started
    progress = [line for line in done.stdout.splitlines() if line.startswith("gate: run")]
    outcome = (done.returncode, took,
               progress[-1] if progress else done.stderr.strip()[-200:])
    if done.returncode in (0, 1, 3):
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(json.dumps(outcome))
    return outcome


def part_gate(p, tries):
    base = p.work / "gate-base" / "results.json"
    p.run("gate-base")
    code, took, last = _gate(p, "gate-aa-0", base, thresholds.THRESHOLD_PCT)
    p.record("gate", "A/A, default threshold", f"exit {code} in {took:.0f} s; {last}",
             code == 0 and took <= GATE_LIMIT_S)
    if p.args.gate_threshold is None:
        return
    t, loads, b = p.args.gate_threshold, p.args.gate_loads, p.args.base_loads
    filtered = base
    if b is not None:  # the filter's fixed step in the base too (see part_graded)
        filtered = p.work / f"gate-base{b}" / "results.json"
        p.run(f"gate-base{b}", seccomp=b)
    for i in range(tries):
        code, took, last = _gate(p, f"gate-aa-t{t:g}-{i}", base, t)
        p.record("gate", f"A/A --threshold {t:g}, try {i + 1}",
                 f"exit {code} in {took:.0f} s; {last}", code != 1)
        code, took, last = _gate(p, f"gate-{loads}-t{t:g}-{i}", filtered, t, seccomp=loads)
        p.record("gate", f"{loads} loads --threshold {t:g}, try {i + 1}",
                 f"exit {code} in {took:.0f} s; {last}", code == 1)


def part_quick(p, pairs):
    for i in range(pairs):
        a, b = p.run(f"quick-{i}-a", quick=True), p.run(f"quick-{i}-b", quick=True)
        s = p.run(f"quick-{i}-filter", seccomp=0, quick=True)
        for what, c in (("A/A", p.compare(a, b)), ("plain vs seccomp", p.compare(a, s))):
            p.record("quick", f"{what} #{i + 1}", f"exit {c.exit_code}", c.exit_code == 3)


def _perf_bench():
    """usecs per getppid call from `perf bench syscall basic`, or None."""
    try:
        done = subprocess.run(["perf", "bench", "syscall", "basic"], capture_output=True,
                              text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"([\d.]+)\s+usecs/op", done.stdout)
    return float(match.group(1)) * 1000 if match else None


def part_spread(p, rounds):
    figures, perf = [], []
    state = p.work / "spread-perf.json"
    saved = json.loads(state.read_text()) if state.exists() else {}
    for i in range(rounds):
        run = p.run(f"spread-{i}")
        path = run.paths.get(SPREAD_PATH)
        if path and path.samples_ns:
            figures.append(stats.kbest_mean(path.samples_ns))
        if str(i) not in saved:
            saved[str(i)] = _perf_bench()
            state.write_text(json.dumps(saved))
        if saved[str(i)]:
            perf.append(saved[str(i)])

    def spread(values):
        return max(values) / min(values) - 1 if len(values) >= 2 else float("nan")

    ours = spread(figures)
    p.record("spread", f"{SPREAD_PATH} leading figure, {len(figures)} runs",
             f"spread {ours:.1%} ({', '.join(f'{v:.1f}' for v in figures)} ns)",
             ours <= 0.03)
    if perf:
        p.record("spread", f"perf bench syscall basic, {len(perf)} rounds",
                 f"spread {spread(perf):.1%} ({', '.join(f'{v:.1f}' for v in perf)} ns/op)",
                 True)
    else:
        p.record("spread", "perf bench syscall basic", "unavailable", True)


def table(rows):
    lines = ["| part | pair | outcome | ok |", "|---|---|---|---|"]
    lines += [f"| {part} | {what} | {outcome} | {'yes' if ok else '**no**'} |"
              for part, what, outcome, ok in rows]
    return "\n".join(lines)


def summary(rows):
    lines = []
    for part in PARTS:
        mine = [r for r in rows if r[0] == part]
        if mine:
            passed = len([r for r in mine if r[3]])
            lines.append(f"{part}: {passed}/{len(mine)} as required")
    return lines


def _loads(text):
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a list of integers") from None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--only", action="append", choices=PARTS,
                        help="run only this part (repeatable)")
    parser.add_argument("--pairs", type=int,
                        help="pairs (rounds for spread) per part; defaults: " + ", ".join(
                            f"{k} {v}" for k, v in DEFAULT_PAIRS.items()))
    parser.add_argument("--work", default=str(ROOT / "reports" / "validate"),
                        help="folder for the runs; runs already there are reused")
    parser.add_argument("--repetitions", type=int, help="as for `sysgate run`")
    parser.add_argument("--processes", type=int, help="as for `sysgate run`")
    parser.add_argument("--min-time", type=float, help="as for `sysgate run`")
    parser.add_argument("--filter", help="as for `sysgate run` (a smoke test only)")
    parser.add_argument("--cpu", help="as for `sysgate run`")
    parser.add_argument("--quick", action="store_true",
                        help="quick runs everywhere (a smoke test of the script only)")
    parser.add_argument("--stress-wait", type=float, default=60.0, metavar="S",
                        help="seconds of load before the loaded run starts, so that the "
                        "load average the run records shows it (default 60)")
    parser.add_argument("--loads", type=_loads, default=DEFAULT_LOADS, metavar="L,L",
                        help="graded: the filter lengths (argument loads per syscall; "
                        f"default {','.join(map(str, DEFAULT_LOADS))})")
    parser.add_argument("--base-loads", type=int, metavar="B",
                        help="graded: the base side runs under a filter of B loads too, so "
                        "the injected cost is the extra loads' alone (default: plain)")
    parser.add_argument("--gate-threshold", type=float, metavar="PCT",
                        help="gate: also gate A/A and the graded filter at this threshold")
    parser.add_argument("--gate-loads", type=int, default=DEFAULT_LOADS[0], metavar="L",
                        help="gate: the graded filter's length on the gated side "
                        f"(default {DEFAULT_LOADS[0]})")
    args = parser.parse_args(argv)
    protocol = Protocol(args)
    parts = args.only or list(PARTS)
    try:
        for part in PARTS:
            if part in parts:
                log(f"{part}:")
                globals()[f"part_{part}"](protocol, args.pairs or DEFAULT_PAIRS[part])
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if not protocol.rows:
            return 2
    except KeyboardInterrupt:
        print("error: interrupted; run again to resume", file=sys.stderr)
    print(table(protocol.rows))
    print()
    print("\n".join(summary(protocol.rows)))
    return 0 if all(r[3] for r in protocol.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
