"""Child processes that end when sysgate is stopped.

A signal sent to sysgate alone (a CI job's timeout sends SIGTERM to the process it
started; a closed terminal SIGHUP) must not leave a benchmark running on, writing its
results into a folder that sysgate has already cleaned up. Commands start children here:
on any exception while a child runs, Interrupted included, the child is asked to stop
(SIGTERM: a child `sysgate run` cleans up after itself), killed after a grace period,
and reaped before the exception goes on.
"""

import os
import signal
import subprocess

GRACE_S = 10.0  # how long a child may take to clean up after SIGTERM


def stop(proc, grace_s=GRACE_S):
    """End a child started with Popen (and, when it leads its own process group, the
    group: a build's compilers, a child run's benchmark) and reap it."""
    group = getattr(proc, "sysgate_group", False)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None and not group:
            return
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(grace_s)
            if not group:
                return
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; anything left of its group gets the next signal.
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return


def popen(command, group=False, **kwargs):
    """subprocess.Popen; group=True puts the child at the head of its own process group
    so that stop() ends all its descendants."""
    proc = subprocess.Popen(command, start_new_session=group, **kwargs)
    proc.sysgate_group = group
    return proc


def run(command, group=True, finish=False, **kwargs):
    """subprocess.run (without check or timeout) whose child is stopped, not abandoned,
    when this process is interrupted; finish=True lets it finish first instead (a package
    installation: dpkg stopped half-way leaves packages half-configured)."""
    input_data = kwargs.pop("input", None)
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    with popen(command, group=group, **kwargs) as proc:
        try:
            out, err = proc.communicate(input_data)
        except BaseException:
            if finish:
                _wait_out(proc)
            else:
                stop(proc)
            raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _wait_out(proc):
    """Wait for a child to end by itself; further stop signals are already ignored."""
    while True:
        try:
            proc.wait()
            return
        except KeyboardInterrupt:
            continue
