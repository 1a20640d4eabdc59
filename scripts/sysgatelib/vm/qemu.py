"""Boot a kernel and an initramfs in QEMU and bring back what the guest sent.

Two serial ports: ttyS0 is the kernel console (kept as the log shown when a guest fails),
ttyS1 carries the results and the kernel's facts, base64 between BEGIN/END lines written by
guest_init.c. The guest powers itself off; `panic=-1` with `-no-reboot` turns a panic into
a QEMU exit too, and a hang is killed at the timeout. A kernel without ACPI (a minimal
config) cannot power the machine off: its power-off is a halt ("reboot: Power down", then
the CPU idles forever), which QEMU cannot tell from a busy guest. So the console is watched
for the kernel's last words and QEMU is ended HALT_GRACE_S after them.

KVM is used only when /dev/kvm opens *and* a probe guest boots under it: on some hosts
(nested virtualization without the MSRs a stock kernel writes) /dev/kvm is there but QEMU
aborts or the guest hangs. Otherwise TCG, whose timings are emulated, not hardware timings.
"""

import base64
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from ..core.errors import UserError

KVM_PROBE_TIMEOUT_S = 30.0
_POLL_S = 0.25
_MILESTONES = (("up", "sysgate-init: up:"), ("ran", "sysgate-init: benchmark finished"))
_BEGIN = re.compile(r"SYSGATE-RESULTS-BEGIN bytes=(\d+)")
_END = re.compile(r"SYSGATE-RESULTS-END status=(-?\d+)")
_FILE = re.compile(r"SYSGATE-FILE-BEGIN name=(\S+) bytes=(\d+)\n(.*?)SYSGATE-FILE-END name=\1",
                   re.S)
_KERNEL_RELEASE = re.compile(r"sysgate-init: up: kernel (\S+)")
# What the kernel prints last on power-off and halt (kernel/reboot.c); with ACPI QEMU
# exits by itself right after, without it the guest idles until killed.
_HALTED = ("reboot: Power down", "reboot: System halted")
HALT_GRACE_S = 2.0
# The console lines that say why a guest died, worth quoting first.
_PANIC = re.compile(r"(?:Kernel panic|BUG:|Oops|No working init).*")

# Kernel options every boot gets: the console on ttyS0, and a panic or oops ends QEMU
# (with -no-reboot) instead of waiting for the timeout.
BASE_APPEND = "console=ttyS0 panic=-1 oops=panic"


def qemu_binary():
    path = shutil.which("qemu-system-x86_64")
    if not path:
        raise UserError("qemu-system-x86_64: not found; install qemu-system-x86")
    return path


@dataclass
class Boot:
    """What one QEMU run produced."""

    ok: bool  # the guest sent a complete results block
    reason: str  # why not, for the user ("" when ok)
    status: int | None  # the benchmark's exit status, from the END line
    results: bytes | None  # the results file, decoded
    console: str  # the kernel console (ttyS0)
    kernel_release: str | None  # from the init's first line
    elapsed_s: float
    files: dict = field(default_factory=dict)  # the kernel's facts: {name: bytes}
    halted: bool = False  # ended by sysgate after the kernel halted (no ACPI power-off)

    def console_tail(self, lines=25):
        text = self.console.replace("\r", "")
        tail = text.rstrip("\n").splitlines()[-lines:]
        return "\n".join(tail)


def decode_results(data_text):
    """(status, bytes) from the data port's text; (None, None) when no complete block."""
    text = data_text.replace("\r", "")
    begin = _BEGIN.search(text)
    if not begin:
        return None, None
    end = _END.search(text, begin.end())
    if not end:
        return None, None
    body = "".join(text[begin.end():end.start()].split())
    try:
        data = base64.b64decode(body, validate=True)
    except ValueError:
        return None, None
    if len(data) != int(begin.group(1)):
        return None, None
    return int(end.group(1)), data


def decode_files(data_text):
    """{name: bytes} of the complete file blocks on the data port (a damaged one is left
    out: the facts are an explanation, never a reason to lose the results)."""
    files = {}
    for m in _FILE.finditer(data_text.replace("\r", "")):
        try:
            data = base64.b64decode("".join(m.group(3).split()), validate=True)
        except ValueError:
            continue
        if len(data) == int(m.group(2)):
            files[m.group(1)] = data
    return files


def command(kernel, initrd, append, accel, console_path, data_path, memory_mb=1024,
            cpu=None):
    # TCG's "max" model calls itself AuthenticAMD: the guest takes AMD's paths (no ia32
    # SYSENTER from compat mode). `-cpu max,vendor=GenuineIntel` makes it an Intel.
    cpu = cpu or ("host" if accel == "kvm" else "max")
    return [
        qemu_binary(), "-nodefaults", "-display", "none", "-no-reboot",
        "-accel", accel, "-cpu", cpu, "-m", str(memory_mb), "-smp", "1",
        "-kernel", kernel, "-initrd", initrd,
        "-append", f"{BASE_APPEND} {append}".strip(),
        "-serial", f"file:{console_path}", "-serial", f"file:{data_path}",
    ]


def boot(kernel, initrd, append, accel, timeout_s, work_dir, on_event=None, cpu=None):
    """Run one guest to completion (or the timeout); never raises for a guest failure.

    on_event(name) is called once for each milestone the console shows, in order:
    "up" (the kernel ran the init), "ran" (the benchmark finished).
    """
    console_path = os.path.join(work_dir, "console.log")
    data_path = os.path.join(work_dir, "data.log")
    for p in (console_path, data_path):
        if os.path.exists(p):
            os.unlink(p)
    cmd = command(kernel, initrd, append, accel, console_path, data_path, cpu=cpu)
    start = time.monotonic()
    # Its own session, so a timeout kills QEMU and nothing else.
    # QEMU's own messages go to a file: a pipe nobody reads while polling could fill up.
    qemu_log = open(os.path.join(work_dir, "qemu.log"), "wb+")  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qemu_log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = halted = False
    halt_seen = None
    seen = set()
    try:
        while True:
            try:
                proc.wait(timeout=_POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            if on_event:
                _report_events(console_path, seen, on_event)
            if halt_seen is None and _has_halted(console_path):
                halt_seen = time.monotonic()
            if halt_seen is not None and time.monotonic() - halt_seen > HALT_GRACE_S:
                halted = True  # the kernel's last words are out: nothing more will come
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            if time.monotonic() - start > timeout_s:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
        if on_event:
            _report_events(console_path, seen, on_event)
        qemu_log.seek(0)
        qemu_output = qemu_log.read()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        qemu_log.close()
    elapsed = time.monotonic() - start
    qemu_output = qemu_output.decode(errors="replace").strip()

    console = _read_text(console_path)
    data_text = _read_text(data_path)
    status, results = decode_results(data_text)
    m = _KERNEL_RELEASE.search(console)
    release = m.group(1) if m else None
    if results is not None:
        reason = ""
    elif timed_out:
        reason = f"no results after {timeout_s:g} s: the guest hung or is too slow (killed)"
    elif proc.returncode != 0 and not halted:
        lines = qemu_output.splitlines()
        errors = [ln for ln in lines if "error" in ln.lower()]
        last = (errors or lines or [""])[0 if errors else -1]
        reason = f"QEMU exited with status {proc.returncode}" + (f": {last}" if last else "")
    elif release is None:
        panic = _PANIC.search(console)
        reason = ("the kernel did not reach the init" +
                  (f" ({panic.group(0).strip()[:160]})" if panic else
                   " (not a bootable image, or it died before the console came up)"))
    else:
        reason = "the guest powered off without sending results"
    if qemu_output and results is None:
        console = f"{console}\n[qemu] {qemu_output}"
    return Boot(results is not None, reason, status, results, console, release, elapsed,
                decode_files(data_text), halted)


def _has_halted(console_path):
    text = _read_text(console_path)
    return any(marker in text for marker in _HALTED)


def _report_events(console_path, seen, on_event):
    text = _read_text(console_path)
    for name, marker in _MILESTONES:
        if name not in seen and marker in text:
            seen.add(name)
            on_event(name)


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def kvm_usable():
    """(True, "") when /dev/kvm opens read-write; else (False, why)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, f"/dev/kvm: {exc.strerror}"
    os.close(fd)
    return True, ""


def probe_kvm(kernel, initrd):
    """(True, "") when a KVM guest boots this kernel to the init; else (False, why).

    The probe boot asks the init to power off at once (sysgate.probe=1).
    """
    ok, why = kvm_usable()
    if not ok:
        return False, why
    with tempfile.TemporaryDirectory(prefix="sysgate-kvm-probe-") as tmp:
        b = boot(kernel, initrd, "sysgate.probe=1", "kvm", KVM_PROBE_TIMEOUT_S, tmp)
    if b.kernel_release:
        return True, ""
    if "QEMU exited" in b.reason:
        return False, "a KVM guest does not start: " + b.reason.split(": ", 1)[-1]
    return False, f"a KVM guest did not boot in {KVM_PROBE_TIMEOUT_S:g} s"
