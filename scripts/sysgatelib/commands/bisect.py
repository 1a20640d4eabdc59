"""`sysgate bisect SOURCE --good G --bad B`: from a kernel-entry regression to its commit.

    sysgate bisect ~/linux --good v6.1 --bad HEAD [--config FILE|good] [--filter REGEX]
                   [--max-runs N] [--threshold PCT] [--db PATH] [--jobs N] [--work DIR]

1. The endpoints: both commits are built out of the tree (vm/kernel_build.py: the config
   plus vm/bisect.config, `make olddefconfig bzImage -jN`), booted in QEMU with the
   initramfs of `sysgate kernels` (KVM when a probe guest boots under it, else TCG, every
   result marked emulated) and measured, runs added to both while compare's verdict is
   inconclusive, up to --max-runs. Unless the bad one is a regression of the good one, the
   bisection does not start (exit 3, with the figures).
2. `git bisect start BAD GOOD` and `git bisect run sysgate bisect-step` (bisect_step.py):
   each step builds, boots, measures and compares with the good endpoint's runs.
3. The first bad commit, a table of the steps, and what else changed between the last good
   kernel and the first bad one (envdiff: mitigations, entry-path facts). Every run is in
   the history store with `kernel_commit` in its context and its own kernel release.

Whatever ends it (the answer, an error, Ctrl-C, SIGTERM), the tree is left as `git bisect
reset` leaves it: the branch or commit it had checked out, no bisection going on.

Exit status: 0 the first bad commit found; 2 bad input, an endpoint that does not build or
boot, or a step that aborted the bisection; 128+N stopped by signal N (Ctrl-C 130, SIGTERM
143); 3 the endpoints do not differ, or only skipped commits are left (the first bad commit
is one of those listed).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from .. import store
from ..core.errors import UserError
from ..results import envdiff, validate
from ..vm import kernel_build, source_tree
from ..vm.kernel_fetch import KernelError
from ..render import compare_text
from . import arguments, bisect_step, compare, kernels

# The kernel-entry family and the controls it needs (baselines, vDSO rows for the drift):
# single-entry syscall and glibc paths, no int 0x80 (10 us under a hypervisor) or runtimes.
DEFAULT_FILTER = (r"^(baseline/(empty_loop|call)|getpid/(syscall|glibc|glibc_syscall)"
                  r"|getppid/syscall|(time|getcpu|gettimeofday|clock_gettime_monotonic"
                  r"|clock_gettime_realtime)/(vdso|syscall|glibc))$")
DEFAULT_MAX_RUNS = 3
EXIT_FOUND, EXIT_NOT_DIFFERENT = 0, 3
SYSGATE = Path(__file__).resolve().parents[2] / "sysgate"
_FIRST_BAD = re.compile(r"^([0-9a-f]{40}) is the first bad commit", re.M)
_ONLY_SKIPPED = "only 'skip'ped commits left"


# --- the state the steps read ---------------------------------------------------------


def kernels_args(args, work):
    """What kernels.Runner reads from its arguments, for the guests of every step."""
    return {"append": args.append, "timeout": args.timeout, "qemu_cpu": args.qemu_cpu,
            "db": str(args.db) if args.db else None, "accel": args.accel,
            "no_install": args.no_install, "bench": args.bench, "no_build": args.no_build,
            "quick": args.quick, "repetitions": args.repetitions, "min_time": args.min_time,
            "filter": args.filter, "output": str(work / "endpoints"), "keep": False}


def new_state(args, source, work, good, bad):
    return {
        "source": str(source), "work": str(work), "build_dir": str(work / "build"),
        "config": None, "jobs": args.jobs, "build_command": args.build_command,
        "measure_command": args.measure_command, "max_runs": args.max_runs,
        "alpha": args.alpha, "threshold": args.threshold,
        "entry_threshold": args.entry_threshold, "strict": args.strict,
        "db": str(args.db) if args.db else None,
        "good": good, "bad": bad, "good_results": [], "initrd": None, "accel": None,
        "kernels_args": kernels_args(args, work),
    }


def save_state(state):
    path = Path(state["work"]) / "state.json"
    path.write_text(json.dumps(state, indent=1) + "\n")
    return path


# --- the endpoints ---------------------------------------------------------------------


def prepare_measuring(state, progress):
    """The initramfs for every guest (unless a measure command replaces QEMU)."""
    if state["measure_command"]:
        return
    runner = kernels.Runner(argparse.Namespace(**state["kernels_args"]), progress)
    runner.prepare()
    state["initrd"] = runner.initrd
    # The folder is the bisection's now: its guests' logs stay with the work folder.
    state["initramfs_dir"] = str(runner.work)


def freeze_config(state, args, progress):
    """The config every step starts from: the file given, or tinyconfig plus the fragment
    made at the good commit (checked out)."""
    folder = Path(state["work"])
    if args.config != "good":
        state["config"] = str(folder / "config.base")
        Path(state["config"]).write_text(Path(args.config).read_text())
        return
    if state["build_command"]:
        return  # the build command makes its own config (SYSGATE_CONFIG is empty)
    log = folder / "config.log"
    try:
        # In a folder of its own: tinyconfig's 32-bit intermediate config in the build
        # folder would make a reused build folder rebuild everything.
        text = kernel_build.minimal_config(state["source"], folder / "config-build", log)
    except kernel_build.BuildError as exc:
        raise UserError(f"the good commit's minimal config: {exc}") from None
    state["config"] = str(folder / "config.base")
    Path(state["config"]).write_text(text)
    progress.line(f"config: tinyconfig + {kernel_build.FRAGMENT.name} at the good commit "
                  f"-> {state['config']}")


def build_endpoint(state, name, commit, progress):
    source = Path(state["source"])
    source_tree.checkout(source, commit)
    progress.line(f"{name}: {commit[:12]} {source_tree.subject(source, commit)}")
    folder = Path(state["work"]) / commit[:12]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        built = bisect_step.build_commit(state, commit, folder)
    except kernel_build.BuildError as exc:
        tail = "".join(f"\n  | {line}" for line in exc.log_tail.splitlines())
        raise UserError(f"the {name} endpoint {commit[:12]} does not build: {exc}{tail}") \
            from None
    progress.step("build", built.seconds, built.image)
    return built, folder


def measure_endpoints(state, progress):
    """(good runs, bad runs, comparison): a run of each in turn while compare says
    inconclusive, up to max_runs."""
    source = Path(state["source"])
    good = build_endpoint(state, "good", state["good"], progress)
    bad = build_endpoint(state, "bad", state["bad"], progress)
    source_tree.checkout(source, state["good"])  # measuring needs no checkout; tidy
    measurer = bisect_step.Measurer(state, progress)
    runs = {"good": [], "bad": []}
    comparison = None
    for number in range(1, state["max_runs"] + 1):
        for name, (built, folder) in (("good", good), ("bad", bad)):
            commit = state[name]
            try:
                runs[name].append(measurer.measure(built, commit, number, folder))
            except KernelError as exc:
                tail = "".join(f"\n  | {line}" for line in
                               (exc.console_tail or "").splitlines()[-10:])
                raise UserError(f"the {name} endpoint {commit[:12]} could not be measured: "
                                f"{exc}{tail}") from None
        comparison = bisect_step.compare_with(state, runs["good"], runs["bad"])
        decision = bisect_step.decide(comparison)
        progress.line(f"endpoints, run {number}/{state['max_runs']}: "
                      f"{bisect_step.verdict_text(comparison)}")
        if decision is not None:
            break
    return runs["good"], runs["bad"], comparison


# --- git bisect run --------------------------------------------------------------------


def run_bisection(state, state_path, progress):
    """git bisect run's output (shown as it comes); the child is ended on an interrupt."""
    source = state["source"]
    source_tree.git(source, "bisect", "start", state["bad"], state["good"])
    cmd = ["git", "-C", source, "bisect", "run", sys.executable, str(SYSGATE),
           "bisect-step", "--state", str(state_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, bufsize=1,
                            start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            progress.line(line.rstrip("\n"))
        proc.wait()
    except BaseException:
        _end_group(proc)
        raise
    return proc.returncode, "".join(lines)


def _end_group(proc):
    """SIGTERM to git bisect run and its step (which kills its QEMU), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --- the summary -----------------------------------------------------------------------


def steps_table(steps):
    rows = [(str(s["step"]), s["commit"][:12], s.get("subject", "")[:40],
             f"{s['build_s']:.0f} s" if "build_s" in s else "-", s["verdict"],
             s.get("entry") or s.get("why", "")) for s in steps]
    from ..render.table import format_table

    return format_table(("step", "commit", "subject", "build", "verdict", "why"), rows)


def explain(state, first_bad, steps, good_runs):
    """What else changed between the last good kernel and the first bad one."""
    from ..results import load

    parent = source_tree.git(state["source"], "rev-parse", f"{first_bad}^", check=False)
    runs_of = {s["commit"]: s.get("runs", []) for s in steps}
    before = [load.load(p) for p in runs_of.get(parent, [])] or good_runs
    after = [load.load(p) for p in runs_of.get(first_bad, [])]
    if not after:
        return []
    diffs = envdiff.differences(before[0].context, after[0].context)
    return envdiff.explaining_lines(diffs)


def summarise(state, output, steps, good_runs, progress):
    source = state["source"]
    progress.line("")
    if steps:
        progress.line(steps_table(steps))
    found = _FIRST_BAD.search(output)
    if found:
        sha = found.group(1)
        progress.line(f"bisect: first bad commit: {sha} {source_tree.subject(source, sha)}")
        lines = explain(state, sha, steps, good_runs)
        progress.line("what else changed with it: " + ("; ".join(lines) if lines else
                      "nothing the kernel facts record (the code itself, then)"))
        return EXIT_FOUND
    if _ONLY_SKIPPED in output:
        progress.line("bisect: only skipped commits are left; the first bad commit is one "
                      "of those git bisect lists above")
        return EXIT_NOT_DIFFERENT
    raise UserError("the bisection was aborted (see the step's error above)")


# --- the command -----------------------------------------------------------------------


def check_input(args):
    source = Path(args.source).resolve()
    if not source.is_dir():
        raise UserError(f"{args.source}: no such folder")
    source_tree.check_work_tree(source)
    good = source_tree.commit_of(source, args.good, "--good")
    bad = source_tree.commit_of(source, args.bad, "--bad")
    if good == bad:
        raise UserError(f"--good {args.good} and --bad {args.bad}: the same commit")
    if not source_tree.is_ancestor(source, good, bad):
        raise UserError(f"--good {args.good}: not an ancestor of --bad {args.bad}")
    if args.config != "good" and not Path(args.config).is_file():
        raise UserError(f"--config {args.config}: no such file (or 'good')")
    if args.filter:
        try:
            re.compile(args.filter)
        except re.error as exc:
            raise UserError(f"--filter {args.filter!r}: not a regular expression: {exc}") \
                from None
    return source, good, bad


def command(args):
    source, good, bad = check_input(args)
    work = Path(args.work or store.REPO_ROOT / "reports"
                / f"bisect-{datetime.datetime.now():%Y%m%d-%H%M%S}").resolve()
    work.mkdir(parents=True, exist_ok=True)
    # A work folder used again keeps its build folder (the next builds are incremental);
    # the steps are this bisection's own.
    (work / bisect_step.STEPS_FILE).unlink(missing_ok=True)
    progress = kernels.Progress()
    state = new_state(args, source, work, good, bad)
    original = source_tree.head(source)
    started = False
    progress.line(f"bisect: {source}, good {good[:12]}, bad {bad[:12]}; work in {work}")
    try:
        prepare_measuring(state, progress)
        source_tree.checkout(source, good)
        freeze_config(state, args, progress)
        good_runs, bad_runs, comparison = measure_endpoints(state, progress)
        source_tree.checkout(source, original)
        if bisect_step.decide(comparison) != bisect_step.BAD:
            progress.line(compare_text.render_terminal(comparison))
            progress.line(f"bisect: the endpoints do not differ by compare's verdict "
                          f"({bisect_step.verdict_text(comparison)}); not bisecting")
            return EXIT_NOT_DIFFERENT
        state["good_results"] = [str(r.source) for r in good_runs]
        state_path = save_state(state)
        started = True
        code, output = run_bisection(state, state_path, progress)
        return summarise(state, output, bisect_step.read_steps(work), good_runs, progress)
    except KeyboardInterrupt:  # the CLI's stop signals (core.errors.Interrupted): 128+N
        progress.line("bisect: interrupted; the tree is put back as `git bisect reset` "
                      "leaves it")
        raise
    finally:
        if started:
            source_tree.git(source, "bisect", "reset", check=False)
        source_tree.git(source, "checkout", "-q", original, check=False)
        if state.get("initramfs_dir"):
            shutil.rmtree(state["initramfs_dir"], ignore_errors=True)


def register(subparsers):
    parser = subparsers.add_parser(
        "bisect", help="find the kernel commit that made entering the kernel slower "
        "(git bisect run with builds, QEMU boots and compare's verdict)",
        description="Build the good and bad commits of a kernel source tree, boot them in "
                    "QEMU, measure the kernel-entry paths and, when the bad one is a "
                    "regression, let git bisect run find the first bad commit: each step "
                    "builds, boots, measures and compares with the good endpoint "
                    "(docs/bisect.md). Exit 0 found, 3 the endpoints do not differ.")
    parser.add_argument("source", metavar="SOURCE", help="the kernel's git work tree")
    parser.add_argument("--good", required=True, metavar="REV", help="a commit without "
                        "the regression")
    parser.add_argument("--bad", required=True, metavar="REV", help="a later commit with it")
    parser.add_argument("--config", default="good", metavar="FILE|good",
                        help="the kernel config every step starts from (vm/bisect.config "
                        "is merged in); 'good' (default): tinyconfig plus the fragment, "
                        "made at the good commit")
    parser.add_argument("--filter", default=DEFAULT_FILTER, metavar="REGEX",
                        help="the paths to run (default: the kernel-entry subset and its "
                        "controls)")
    parser.add_argument("--max-runs", type=validate.positive_int, default=DEFAULT_MAX_RUNS,
                        metavar="N", help="runs of a commit at most while compare is "
                        f"inconclusive (default {DEFAULT_MAX_RUNS}); then the step is "
                        "skipped")
    parser.add_argument("--jobs", type=validate.positive_int, default=os.cpu_count() or 1,
                        metavar="N", help="make -jN (default: the CPU count)")
    parser.add_argument("--work", type=Path, metavar="DIR", help="build folder, images, "
                        "results and logs (default reports/bisect-<date>); used again, "
                        "its build folder makes the builds incremental")
    parser.add_argument("--build-command", metavar="CMD", help="build with this shell "
                        "command instead (in SOURCE, with SYSGATE_COMMIT, SYSGATE_BUILD_DIR, "
                        "SYSGATE_CONFIG, SYSGATE_FRAGMENT, SYSGATE_JOBS set); its last "
                        "output line is the image's path")
    parser.add_argument("--measure-command", metavar="CMD", help="measure with this shell "
                        "command instead of QEMU (SYSGATE_KERNEL, SYSGATE_COMMIT, "
                        "SYSGATE_RUN set); it writes a results file to $SYSGATE_RESULTS")
    guest = parser.add_argument_group("the guests (as for `sysgate kernels`)")
    guest.add_argument("--quick", action="store_true", help="quick runs (a smoke test)")
    guest.add_argument("--repetitions", type=validate.positive_int, metavar="N")
    guest.add_argument("--min-time", type=float, metavar="S")
    guest.add_argument("--timeout", type=float, default=kernels.DEFAULT_TIMEOUT_S,
                       metavar="S", help="seconds one guest may take")
    guest.add_argument("--append", default="", metavar="OPTS", help="extra kernel "
                       "command line for every guest")
    guest.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    guest.add_argument("--qemu-cpu", metavar="MODEL")
    guest.add_argument("--bench", metavar="PATH", help="the benchmark binary to ship")
    guest.add_argument("--no-build", action="store_true", help="use the existing build of "
                       "the benchmark")
    guest.add_argument("--no-install", action="store_true",
                       help="do not install missing Debian packages")
    compare.add_verdict_arguments(parser)
    arguments.add_db_argument(parser)
    parser.set_defaults(func=command)
    bisect_step.register(subparsers)
