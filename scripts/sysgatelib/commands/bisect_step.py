"""One step of `sysgate bisect`: what `git bisect run` calls at each commit.

    sysgate bisect-step --state WORK/state.json       (hidden; bisect writes the state)

It builds the checked-out commit (vm/kernel_build.py, or the --build-command), boots it and
runs the suite in QEMU (the kernels machinery, or the --measure-command), pools the runs and
compares them with the good endpoint's runs by compare's verdict, adding runs while that is
inconclusive, up to --max-runs. Its exit status is git bisect run's vocabulary:

    0    good: compare says no regression (exit 0)
    1    bad: compare says regression (exit 1)
    125  skip: still inconclusive at --max-runs, a commit that does not build, or a kernel
         that does not boot or run the suite (it cannot be measured)
    128  abort the bisection: anything else (the runs cannot be compared, the store fails,
         an internal error), after an `error:` line

Every run is filed in the history store with `kernel_commit` in its context; each step
appends its outcome to WORK/steps.jsonl for bisect's summary.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .. import store
from ..core.errors import UserError
from ..results import load
from ..vm import kernel_build, source_tree
from ..vm.kernel_fetch import KernelError
from ..core import units
from ..verdicts.comparison import EXIT_OK, EXIT_REGRESSION, compare_runs

GOOD, BAD, SKIP, ABORT = 0, 1, 125, 128
WORDS = {GOOD: "good", BAD: "bad", SKIP: "skip", ABORT: "abort"}
STEPS_FILE = "steps.jsonl"


# --- the decision ------------------------------------------------------------------------


def decide(comparison):
    """GOOD, BAD, or None (inconclusive: measure more) from compare's exit status."""
    code = comparison.exit_code
    if code == EXIT_OK:
        return GOOD
    if code == EXIT_REGRESSION:
        return BAD
    return None


def verdict_text(comparison):
    entry = comparison.kernel_entry
    if entry is None:
        return f"no kernel-entry verdict; compare exit {comparison.exit_code}"
    return (f"kernel entry {units.format_ns(entry.delta_ns)} ns per entry "
            f"[{units.format_ns(entry.low_ns)}, {units.format_ns(entry.high_ns)}] "
            f"{entry.verdict}; compare exit {comparison.exit_code}")


def compare_with(state, base_runs, new_runs):
    return compare_runs(base_runs, new_runs, state["alpha"], state["threshold"],
                                force=False, entry_threshold_pct=state["entry_threshold"],
                                strict=state.get("strict", False))


# --- building and measuring ------------------------------------------------------------


def build_commit(state, commit, folder):
    """The image of the checked-out commit (kernel_build.Built), or BuildError."""
    log = folder / "build.log"
    if state.get("build_command"):
        return kernel_build.build_with_command(
            state["build_command"], state["source"], state["build_dir"], state["config"],
            commit, state["jobs"], log)
    config_text = Path(state["config"]).read_text()
    return kernel_build.build(state["source"], state["build_dir"], config_text, commit,
                              state["jobs"], log)


class Measurer:
    """One run of a built kernel: the results file, tagged with the commit and filed."""

    def __init__(self, state, progress):
        self.state = state
        self.progress = progress
        self.runner = None

    def _kernels_runner(self):
        from . import kernels

        if self.runner is None:
            args = argparse.Namespace(**self.state["kernels_args"])
            args.db = store.db_target(args.db) if args.db else None  # a path or a URL
            self.runner = kernels.Runner(args, kernels.Progress(self.progress.stream))
            self.runner.initrd = self.state["initrd"]
            self.runner.work = Path(self.state["work"]) / "guests"
            self.runner.work.mkdir(exist_ok=True)
            self.runner.pages = False
            if self.state.get("accel"):
                self.runner.accel, self.runner.accel_chosen = self.state["accel"], True
        return self.runner

    def measure(self, built, commit, number, folder):
        """A load.Run; KernelError when the kernel cannot be measured."""
        out = folder / f"run-{number}"
        out.mkdir(parents=True, exist_ok=True)
        tag = {"kernel_commit": commit, "bisect_source": str(self.state["source"])}
        if self.state.get("measure_command"):
            path = self._measure_with_command(built, commit, number, out)
            data = json.loads(path.read_text())
            data.setdefault("context", {}).update(tag)
            path.write_text(json.dumps(data, indent=1) + "\n")
            if self.state.get("db"):
                store.add_results(store.db_target(self.state["db"]), str(path))
            return load.load(path)
        runner = self._kernels_runner()
        runner.out_dir = out
        config = None
        if built.config:
            config = (Path(built.config).read_text(errors="replace"), "the build's .config")
        _, path, _ = runner.run_one(built.image, extra_context=tag, config=config)
        self.state["accel"] = runner.accel
        return load.load(path)

    def _measure_with_command(self, built, commit, number, out):
        path = out / "results.json"
        env = dict(os.environ, SYSGATE_KERNEL=built.image, SYSGATE_RESULTS=str(path),
                   SYSGATE_COMMIT=commit, SYSGATE_RUN=str(number))
        start = time.monotonic()
        done = subprocess.run(["sh", "-c", self.state["measure_command"]],
                              cwd=self.state["source"], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0 or not path.is_file():
            why = (done.stderr.strip().splitlines() or [""])[-1]
            raise KernelError(f"the measure command exited {done.returncode} with no "
                              f"results{': ' + why if why else ''}")
        self.progress.step("measure", time.monotonic() - start, str(path))
        return path


# --- the step ------------------------------------------------------------------------


def record(work, entry):
    with open(Path(work) / STEPS_FILE, "a") as handle:
        handle.write(json.dumps(entry) + "\n")


def read_steps(work):
    path = Path(work) / STEPS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_state(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: no bisect state: {exc}") from None


def measure_until_known(state, measurer, base_runs, built, commit, folder, progress):
    """(decision or None, the runs, the last comparison): runs added while compare with
    base_runs is inconclusive, up to max_runs."""
    runs, comparison = [], None
    for number in range(1, state["max_runs"] + 1):
        runs.append(measurer.measure(built, commit, number, folder))
        comparison = compare_with(state, base_runs, runs)
        decision = decide(comparison)
        word = WORDS[decision] if decision is not None else "inconclusive"
        progress.line(f"  run {number}/{state['max_runs']}: {verdict_text(comparison)} "
                      f"-> {word}")
        if decision is not None:
            return decision, runs, comparison
    return None, runs, comparison


def run_step(state, progress):
    source = Path(state["source"])
    commit = source_tree.git(source, "rev-parse", "HEAD")
    number = len(read_steps(state["work"])) + 1
    left = source_tree.commits_left(source)
    progress.line(f"bisect: step {number}: {commit[:12]} {source_tree.subject(source, commit)}"
                  + (f" ({left} commits left to test)" if left is not None else ""))
    folder = Path(state["work"]) / commit[:12]
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"step": number, "commit": commit, "subject": source_tree.subject(source, commit),
             "left": left}
    try:
        built = build_commit(state, commit, folder)
    except kernel_build.BuildError as exc:
        progress.line(f"  build FAILED: {exc}")
        for line in exc.log_tail.splitlines():
            progress.line(f"  | {line}")
        record(state["work"], dict(entry, verdict="skip", why=f"build: {exc}"))
        progress.line("  verdict: skip (exit 125): the commit does not build")
        return SKIP
    progress.step("build", built.seconds, built.image)
    entry["build_s"] = round(built.seconds, 1)
    base = [load.load(p) for p in state["good_results"]]
    try:
        decision, runs, comparison = measure_until_known(
            state, Measurer(state, progress), base, built, commit, folder, progress)
    except KernelError as exc:
        progress.line(f"  boot/run FAILED: {exc}")
        for line in (exc.console_tail or "").splitlines()[-10:]:
            progress.line(f"  | {line}")
        record(state["work"], dict(entry, verdict="skip", why=f"boot: {exc}"))
        progress.line("  verdict: skip (exit 125): the kernel could not be measured")
        return SKIP
    code = SKIP if decision is None else decision
    why = (f"still inconclusive after {len(runs)} run(s) (--max-runs)" if decision is None
           else "")
    record(state["work"], dict(entry, verdict=WORDS[code], why=why,
                               runs=[str(r.source) for r in runs],
                               entry=verdict_text(comparison)))
    progress.line(f"  verdict: {WORDS[code]} (exit {code})" + (f": {why}" if why else ""))
    return code


class _Progress:
    def __init__(self, stream):
        self.stream = stream

    def line(self, text):
        print(text, file=self.stream, flush=True)

    def step(self, name, seconds, detail=""):
        self.line(f"  {name:<10} {seconds:7.1f} s  {detail}".rstrip())


def _terminate(signum, frame):
    raise KeyboardInterrupt


def step_command(args):
    """The exit status git bisect run reads; never 1-127 for anything but a verdict."""
    signal.signal(signal.SIGTERM, _terminate)
    progress = _Progress(sys.stdout)
    try:
        return run_step(load_state(args.state), progress)
    except UserError as exc:
        print(f"error: bisect step: {exc}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("error: bisect step: interrupted", file=sys.stderr, flush=True)
    except Exception as exc:  # noqa: BLE001 - exit 4 would read as "bad" to git bisect run
        print(f"error: bisect step: internal: {type(exc).__name__}: {exc}", file=sys.stderr,
              flush=True)
    return ABORT


def register(subparsers):
    parser = subparsers.add_parser("bisect-step",
                                   description="One step of `sysgate bisect` (what it "
                                   "gives `git bisect run`); not for direct use.")
    # Hidden from the command list (help=SUPPRESS prints "==SUPPRESS==" in Python 3.11).
    subparsers._choices_actions = [a for a in subparsers._choices_actions
                                   if a.dest != "bisect-step"]
    parser.add_argument("--state", required=True, metavar="FILE")
    parser.set_defaults(func=step_command)
