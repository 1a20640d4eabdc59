"""Run the whole suite as a child `sysgate run`: what calibrate and gate measure with.

Each run is its own process tree (the worker processes, their counting pass), so a
protocol of many runs measures each one as `sysgate run` would, and a seccomp filter put
on the child (seccomp_allow.py) reaches every worker. Results already in a run's folder
are reused, so an interrupted protocol can be resumed.
"""

import subprocess
import sys
from pathlib import Path

from ..core import children
from ..core.errors import UserError

ROOT = Path(__file__).resolve().parents[3]
SYSGATE = ROOT / "scripts" / "sysgate"
SECCOMP_WRAPPER = Path(__file__).resolve().parent / "seccomp_allow.py"

# `sysgate run` options a settings dict may carry, and their flags.
_FLAGS = (("repetitions", "--repetitions"), ("processes", "--processes"),
          ("min_time", "--min-time"), ("filter", "--filter"), ("cpu", "--cpu"),
          ("db", "--db"))


def run_args(settings):
    """`sysgate run` options for a settings dict (repetitions, processes, min_time, filter,
    cpu, db, quick, history)."""
    args = []
    for key, flag in _FLAGS:
        if settings.get(key) is not None:
            args += [flag, str(settings[key])]
    if settings.get("quick"):
        args.append("--quick")
    if not settings.get("history"):
        args.append("--no-history")
    return args


def measure_run(out_dir, settings, seccomp=None, python=sys.executable, log=print):
    """One `sysgate run` into out_dir; its results.json. seccomp: None for a plain run,
    or the number of argument loads of the allow-all filter the run goes under (0: the
    bare filter)."""
    out_dir = Path(out_dir)
    results = out_dir / "results.json"
    if results.exists():
        log(f"  {results}: already measured, reused")
        return results
    if out_dir.exists():  # an interrupted run left partial files: start it over
        for stale in out_dir.iterdir():
            if stale.is_file():
                stale.unlink()
    command = [python, str(SYSGATE), "run", "-o", str(out_dir), "--no-install",
               "--no-build"] + run_args(settings)
    if seccomp is not None:
        command = [python, str(SECCOMP_WRAPPER), "--loads", str(int(seccomp))] + command
    # Its own process group: stopping sysgate stops the child run and its benchmark.
    done = children.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        text=True)
    if done.returncode != 0 or not results.exists():
        tail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise UserError(f"sysgate run into {out_dir} failed: {tail[0]}")
    return results
