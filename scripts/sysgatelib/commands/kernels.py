"""`sysgate kernels`: boot kernel images in QEMU, run the suite inside, file the results.

    sysgate kernels KERNEL... [--append OPTS] [--quick] [--timeout S] [--db PATH] [-o DIR]

KERNEL is a vmlinuz path or a Debian package name (linux-image-6.1.0-47-cloud-amd64),
fetched and unpacked by kernel_fetch.py (no root needed). One initramfs (initramfs.py) serves
every kernel; each kernel boots once (qemu.py), and what it sends back is saved in the
output folder with `emulated` and `qemu_accel` added to its context, then filed in the
history store. A kernel that fails is reported with the
tail of its console and the next one still runs. See docs/kernels.md.
"""

import datetime
import json
import os
import re
import socket
import sys
import tempfile
import time
from pathlib import Path

from .. import store
from ..bench import build
from ..core import atomic, packages, thresholds
from ..core.errors import UserError
from ..results import kernel_facts
from ..store import db_target
from ..vm import initramfs, qemu
from ..vm.kernel_fetch import CACHE_DIR, KernelError, config_beside, resolve_kernel
from . import run as host_run

REPO_ROOT = Path(__file__).resolve().parents[3]
# (repetitions, min_time seconds) of a full run and of --quick: what `sysgate run` uses.
FULL_RUN = (host_run.DEFAULT_REPETITIONS, host_run.DEFAULT_MIN_TIME)
QUICK_RUN = (host_run.QUICK_REPETITIONS, host_run.QUICK_MIN_TIME)
DEFAULT_TIMEOUT_S = 900.0
QUICK_TIMEOUT_S = 300.0


# --------------------------------------------------------------------------- progress


class Progress:
    """One line per step: `  fetch      1.2 s  detail`, written when the step ends."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def line(self, text):
        print(text, file=self.stream, flush=True)

    def step(self, name, seconds, detail=""):
        self.line(f"  {name:<10} {seconds:7.1f} s  {detail}".rstrip())


class Timer:
    def __init__(self):
        self.start = time.monotonic()

    def lap(self):
        now = time.monotonic()
        elapsed, self.start = now - self.start, now
        return elapsed


# --------------------------------------------------------------------------- results


def guest_argv(quick, cpu=0, repetitions=None, min_time=None, names=None):
    # The same flags as `sysgate run` (one process in the guest), from the same function.
    return host_run.bench_flags(quick, initramfs.RESULTS_PATH, repetitions=repetitions,
                                min_time=min_time, cpu=cpu, names=names)


def annotate(raw, accel, append, release_from_console, status=0, files=None, config=None):
    """The guest's results with the host-side context keys; raises KernelError if broken.

    files: the kernel's facts the guest sent ({name: bytes}); config: (text, source) of the
    config the image was built with, for a guest kernel without /proc/config.gz."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if not raw:
            why = "the guest sent an empty results file"
        else:
            why = f"the results file from the guest is not JSON ({exc})"
        if status:
            died = f" (signal {status - 128})" if status > 128 else ""
            why = f"the benchmark exited with status {status}{died}; {why}"
        raise KernelError(why) from exc
    if not isinstance(data, dict) or not isinstance(data.get("context"), dict) \
            or not isinstance(data.get("benchmarks"), list):
        raise KernelError("the results file from the guest has no context/benchmarks")
    context = data["context"]
    if release_from_console:
        context.setdefault("kernel_release", release_from_console)
    context["emulated"] = "true" if accel == "tcg" else "false"
    context["qemu_accel"] = accel
    context["qemu_host"] = socket.gethostname()
    context["qemu_append"] = append
    if files:
        text, source = config or (None, None)
        context.update(kernel_facts.from_guest(files, text, source))
    return data


def _slug(text):
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", text).strip("_")


def results_name(release, append):
    return _slug(release) + (f"+{_slug(append)}" if append else "") + ".json"


# --------------------------------------------------------------------------- history


def render_kernel_page(results_path):
    """The report page of one kernel's run, in a folder beside its results file (named
    after it): what `sysgate report` draws for a host run, emulated banner included."""
    from ..results import load
    from . import report

    folder = Path(results_path).with_suffix("")
    return report.render_report([load.load(results_path)], folder)


def file_in_history(db_path, results_path):
    """The run id the history store gives the results."""
    return store.add_results(db_path, results_path)


def default_db():
    return store.DEFAULT_DB


def render_trend(db_path, run_ids, out_dir, progress):
    """The trend page (issue 7's trend module) over the series that hold the runs just
    filed, plus this host's own hardware series."""
    from . import trend

    conn = store.open_store(db_path)
    try:
        series = trend.build_series(conn)
    finally:
        conn.close()
    host = socket.gethostname()
    wanted = set(run_ids)
    keep = [s for s in series
            if wanted & set(s.run_ids.values()) or (s.host_name == host and not s.emulated)]
    alpha, threshold = thresholds.ALPHA, thresholds.THRESHOLD_PCT
    progress.line(trend.render_terminal(keep, alpha, threshold))
    return trend.write_outputs(keep, out_dir, alpha, threshold)


# --------------------------------------------------------------------------- command


class Runner:
    """Runs one kernel after the other with one initramfs and one accelerator choice."""

    def __init__(self, args, progress):
        self.args = args
        self.progress = progress
        self.out_dir = Path(args.output)
        self.initrd = None
        self.accel = args.accel if args.accel != "auto" else None
        self.accel_chosen = False
        self.work = None
        self.pages = True  # a report page per kernel (bisect's runs go without)

    def prepare(self):
        """Everything shared by the kernels: packages, the build, the initramfs. Errors
        here end the command."""
        t = Timer()
        if not self.args.no_install:
            installed = packages.ensure(packages.RUN_PACKAGES + packages.KERNELS_PACKAGES,
                                        log=self.progress.line)
            if installed:
                self.progress.line(f"dependencies {t.lap():.1f} s: installed "
                                   f"{' '.join(installed)}")
        qemu.qemu_binary()
        if self.args.bench:
            bench = Path(self.args.bench)
        elif self.args.no_build:
            bench = build.bench_binary()
        else:
            t.lap()
            bench = build.build()
            self.progress.line(f"build {t.lap():.1f} s: {bench}")
        if not bench.is_file():
            raise UserError(f"{bench}: benchmark binary not found; run without --no-build, "
                            "or pass --bench")
        helpers = initramfs.find_helpers(str(bench))
        binaries = [str(bench)] + helpers
        # The benchmark may look for its helper beside /proc/self/exe or here.
        env = {"SYSGATE_IA32_HELPER": f"{initramfs.GUEST_BIN}/{os.path.basename(helpers[0])}"
               } if helpers else {}
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="sysgate-kernels-"))
        self.initrd = str(self.work / "initrd.gz")
        t.lap()
        # Only these paths (bisect's kernel-entry subset), as `sysgate run --filter`.
        names = (host_run.select_paths(bench, self.args)
                 if getattr(self.args, "filter", None) else None)
        argv = guest_argv(self.args.quick, repetitions=self.args.repetitions,
                          min_time=self.args.min_time, names=names)
        names = initramfs.build(binaries, argv, env, self.initrd,
                                CACHE_DIR, hostname=f"{socket.gethostname()}-qemu")
        libs = sum(1 for n in names if ".so" in os.path.basename(n))
        size = os.path.getsize(self.initrd) / 2**20
        shipped = ", ".join(os.path.basename(b) for b in binaries)
        self.progress.line(f"initramfs {t.lap():.1f} s: {shipped} + {libs} libraries, "
                           f"{size:.1f} MiB")

    def choose_accel(self, vmlinuz):
        """Once, at the first kernel: the probe needs a kernel to boot."""
        if self.accel_chosen:
            return
        self.accel_chosen = True
        if self.accel:
            self.progress.line(f"accel: {self.accel.upper()} (--accel)")
        else:
            t = Timer()
            ok, why = qemu.probe_kvm(vmlinuz, self.initrd)
            self.accel = "kvm" if ok else "tcg"
            self.progress.line(f"accel: KVM ({t.lap():.1f} s probe)" if ok else
                               f"accel: TCG, because {why} ({t.lap():.1f} s probe)")
        if self.accel == "tcg":
            self.progress.line("warning: emulated: timings are not hardware timings; "
                               "every result is marked emulated")

    def run_one(self, spec, extra_context=None, config=None):
        """Fetch, boot, run, collect one kernel; returns (release, results path, run id).

        extra_context: keys added to the results' context before they are filed (bisect's
        kernel_commit); config: (text, source) of the image's config, else found beside it."""
        step = Timer()
        vmlinuz, detail = resolve_kernel(spec)
        self.progress.step("fetch", step.lap(), detail)
        self.choose_accel(vmlinuz)
        step.lap()
        guest_dir = self.work / _slug(spec)
        guest_dir.mkdir(exist_ok=True)

        def on_event(name):
            if name == "up":
                self.progress.step("boot", step.lap(), f"under {self.accel.upper()}")
            elif name == "ran":
                self.progress.step("run", step.lap())

        result = qemu.boot(vmlinuz, self.initrd, self.args.append, self.accel,
                           self.args.timeout, str(guest_dir), on_event, self.args.qemu_cpu)
        release = result.kernel_release or _slug(os.path.basename(vmlinuz))
        log_path = self.out_dir / (results_name(release, self.args.append)[:-5] + ".console.log")
        log_path.write_text(result.console)
        if not result.ok:
            raise KernelError(f"{result.reason}; console: {log_path}", result.console_tail())
        try:
            data = annotate(result.results, self.accel, self.args.append,
                            result.kernel_release, result.status, result.files,
                            config or config_beside(vmlinuz))
        except KernelError as exc:
            raise KernelError(f"{exc}; console: {log_path}", result.console_tail()) from exc
        data["context"].update(extra_context or {})
        release = data["context"].get("kernel_release", release)
        results_path = self.out_dir / results_name(release, self.args.append)
        results_path.write_text(json.dumps(data, indent=2) + "\n")
        note = "" if result.status == 0 else f"; the benchmark exited {result.status}"
        run_id = None
        if self.args.db is not None:
            try:
                run_id = file_in_history(self.args.db, str(results_path))
            except UserError as exc:
                raise KernelError(f"filing {results_path} failed: {exc}") from exc
        filed = f", history run {run_id}" if run_id is not None else ""
        self.progress.step("collect", step.lap(), f"{results_path}{filed}{note}")
        if not self.pages:
            return release, results_path, run_id
        try:
            page = render_kernel_page(results_path)
        except UserError as exc:  # the results are kept and filed; only the page is missing
            page = f"no page: {exc}"
        self.progress.step("report", step.lap(), page)
        return release, results_path, run_id

    def cleanup(self):
        if self.work and self.args.keep:
            self.progress.line(f"kept the initramfs and QEMU logs in {self.work}")
        elif self.work:
            for path in sorted(self.work.rglob("*"), reverse=True):
                path.rmdir() if path.is_dir() else path.unlink()
            self.work.rmdir()


def _cmd_kernels(args):
    progress = Progress()
    if args.timeout is None:
        args.timeout = QUICK_TIMEOUT_S if args.quick else DEFAULT_TIMEOUT_S
    if args.output is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.output = REPO_ROOT / "reports" / "kernels" / stamp
    if args.db is None and not args.no_db:
        args.db = default_db()
    if args.no_db:
        args.db = None
    atomic.check_writable_folder(args.output, "-o")  # before packages, build and boots
    store.check_writable(args.db)
    runner = Runner(args, progress)
    done, failed = [], []
    try:
        runner.prepare()
        for i, spec in enumerate(args.kernels, 1):
            progress.line(f"[{i}/{len(args.kernels)}] {spec}")
            total = Timer()
            try:
                done.append(runner.run_one(spec))
                progress.step("total", total.lap())
            except KernelError as exc:
                failed.append(spec)
                progress.line(f"  FAILED after {total.lap():.1f} s: {exc}")
                if exc.console_tail:
                    progress.line("  console tail:")
                    for line in exc.console_tail.splitlines():
                        progress.line(f"  | {line}")
    finally:
        runner.cleanup()

    progress.line(f"{len(done)} of {len(args.kernels)} kernels ran; results in {runner.out_dir}")
    if done and args.db is not None:
        filed = [r for r in done if r[2] is not None]
        if not filed:
            progress.line(f"note: the history store is not in this checkout; results are in "
                          f"{runner.out_dir}, not filed")
        else:
            page = render_trend(args.db, [r[2] for r in filed], runner.out_dir / "trend",
                                progress)
            if page:
                progress.line(f"trend: {page}")
            else:
                progress.line(f"note: no trend renderer in this checkout; runs are in "
                              f"{args.db}")
    if failed:
        raise UserError(f"{', '.join(failed)}: did not produce results (see above)")
    return 0


def register(subparsers):
    p = subparsers.add_parser(
        "kernels", help="boot kernel images in QEMU, run the suite inside, file the results",
        description="Boot each KERNEL (a vmlinuz path or a Debian linux-image-* package "
                    "name) in QEMU with an initramfs holding the benchmark, and file what "
                    "it measures in the history store. KVM when it works, else TCG "
                    "(results marked emulated).")
    p.add_argument("kernels", nargs="+", metavar="KERNEL")
    p.add_argument("--append", default="", metavar="OPTS",
                   help="extra kernel command line, e.g. 'mitigations=off'")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK_RUN[0]} repetitions of {QUICK_RUN[1]} s per path "
                        f"(default {FULL_RUN[0]} of {FULL_RUN[1]} s)")
    p.add_argument("--repetitions", type=int, metavar="N",
                   help="override the repetitions per path")
    p.add_argument("--min-time", type=float, metavar="S",
                   help="override the minimum seconds per repetition")
    p.add_argument("--timeout", type=float, metavar="S",
                   help=f"seconds one guest may take, boot included (default "
                        f"{DEFAULT_TIMEOUT_S:g}, {QUICK_TIMEOUT_S:g} with --quick)")
    p.add_argument("--db", type=db_target, metavar="PATH|URL",
                   help="history store: an SQLite file or postgresql://USER@HOST[:PORT]/DB "
                        "(default: the store's default, reports/history.sqlite)")
    p.add_argument("--no-db", action="store_true", help="do not file the results")
    p.add_argument("-o", "--output", type=Path, metavar="DIR",
                   help="where results and console logs go (default reports/kernels/<time>)")
    p.add_argument("--bench", metavar="PATH",
                   help="a benchmark binary to use instead of building "
                        "build/benchmarks/sysgate_bench; sysgate_ia32* beside it goes along")
    p.add_argument("--no-install", action="store_true",
                   help="do not install missing Debian packages")
    p.add_argument("--no-build", action="store_true", help="use the existing build")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   help="auto: KVM if a probe guest boots under it, else TCG")
    p.add_argument("--qemu-cpu", metavar="MODEL",
                   help="QEMU's -cpu (default host under KVM, max under TCG; "
                        "'max,vendor=GenuineIntel' for an Intel-like TCG guest)")
    p.add_argument("--keep", action="store_true",
                   help="keep the initramfs and QEMU logs (printed at the end)")
    p.set_defaults(func=_cmd_kernels)
