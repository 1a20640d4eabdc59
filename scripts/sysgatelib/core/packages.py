"""The Debian packages sysgate needs, and installing the missing ones.

Everything comes from Debian's archive: nothing is downloaded at build time.
"""

import os
import shutil
import subprocess

from . import children
from .errors import UserError

# What `sysgate run` needs: the toolchain, the libraries, and the report's Python modules.
RUN_PACKAGES = (
    "cmake", "g++", "nasm", "gcc-multilib", "g++-multilib",
    "libbenchmark-dev", "libgtest-dev", "libpfm4-dev",
    "liburing-dev", "python3-matplotlib", "python3-scipy", "python3-jinja2",
)
# What the tests need on top: pytest, Google Benchmark's compare.py, a browser for the
# report test, and QEMU for the kernel matrix (its initramfs is written in Python).
KERNELS_PACKAGES = ("qemu-system-x86", "gcc", "libc6-dev")
# The language-runtime rows (docs/runtimes.md): optional, their rows skip without them.
# Python's rows need nothing more than the python3 every Debian system has.
RUNTIMES_PACKAGES = ("golang-go", "default-jdk-headless")
# The CI formats' tests read each format with its own ecosystem's parser (JUnit,
# OpenMetrics, Markdown) and parse docs/ci.md's YAML; sysgate itself writes them with the
# standard library only.
FORMATS_TEST_PACKAGES = ("python3-junitparser", "python3-prometheus-client",
                         "python3-markdown", "python3-yaml")
# The tests exercise everything, the optional language runtimes and the fleet store's
# PostgreSQL server included, so that none of their tests skips on CI.
TEST_PACKAGES = RUN_PACKAGES + (
    "python3-pytest", "libbenchmark-tools", "chromium", "qemu-system-x86",
    "postgresql", "python3-psycopg",
) + FORMATS_TEST_PACKAGES + RUNTIMES_PACKAGES
# The validation protocol (benchmarks/validate.py): load that reaches the measured CPU,
# and perf bench for the spread check beside sysgate's own.
VALIDATE_PACKAGES = RUN_PACKAGES + ("stress-ng", "linux-perf")
# What scripts/test checks before the build: the C++ format, cppcheck, flake8.
LINT_PACKAGES = ("clang-format", "cppcheck", "python3-flake8")
TEST_PACKAGES += LINT_PACKAGES

GROUPS = {"run": RUN_PACKAGES, "test": TEST_PACKAGES, "kernels": KERNELS_PACKAGES,
          "runtimes": RUNTIMES_PACKAGES, "validate": VALIDATE_PACKAGES}


def missing(packages):
    """The packages dpkg does not report as installed, in the order given."""
    if not shutil.which("dpkg-query"):
        raise UserError("dpkg-query not found: sysgate installs its dependencies with Debian's apt")
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        capture_output=True, text=True, check=False,
    )
    installed = {
        line.split()[0].split(":")[0]
        for line in result.stdout.splitlines()
        if line.endswith(" installed")
    }
    return [p for p in packages if p not in installed]


def ensure(packages, log=print):
    """Install what is missing (as root) or stop with the exact command to run."""
    need = missing(packages)
    if not need:
        return []
    command = ["apt-get", "install", "-y", "--no-install-recommends", *need]
    if os.geteuid() != 0:
        raise UserError(
            f"missing Debian packages: {' '.join(need)}: run "
            f"`sudo apt-get update && sudo {' '.join(command)}` and try again"
        )
    log(f"installing {len(need)} Debian packages: {' '.join(need)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Another apt (unattended upgrades, a second sysgate) may hold the dpkg lock: wait for
    # it rather than fail at once.
    wait = ["-o", "DPkg::Lock::Timeout=300"]
    for step in (["apt-get", *wait, "update", "-qq"], [*command[:1], *wait, *command[1:]]):
        # A stop (SIGTERM, Ctrl-C) lets apt-get finish: dpkg cut off half-way leaves
        # packages half-configured.
        done = children.run(step, group=True, finish=True, env=env,
                            stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            raise UserError(f"`{' '.join(step)}` failed with exit status {done.returncode}")
    still = missing(need)
    if still:
        raise UserError(f"apt-get finished but these are still missing: {' '.join(still)}")
    return need


TRACEFS = "/sys/kernel/tracing"


def ensure_tracefs(root=TRACEFS):
    """Mounts tracefs where the kernel offers it but nobody mounted it (minimal VMs boot
    so), because the counting pass reads kernel entries per call from the
    raw_syscalls:sys_enter tracepoint. Mounting enables no tracing. Returns what it did,
    or "" when there was nothing to do or no permission (the counting pass then says why
    the kernel_entries column is missing)."""
    if not os.path.isdir(root) or os.path.isdir(os.path.join(root, "events")):
        return ""
    if os.geteuid() != 0:
        return ""
    done = subprocess.run(["mount", "-t", "tracefs", "nodev", root],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"could not mount tracefs at {root}: {done.stderr.strip()}"
    return f"mounted tracefs at {root} (for kernel entries per call)"
