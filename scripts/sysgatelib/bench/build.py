"""Configure and build the C++ side with CMake (the `release` preset, into build/)."""

import os
import shutil
from pathlib import Path

from ..core import children
from ..core.errors import UserError

ROOT = Path(__file__).resolve().parents[3]


def build_dir():
    return Path(os.environ.get("SYSGATE_BUILD_DIR", ROOT / "build"))


def bench_binary():
    return build_dir() / "benchmarks" / "sysgate_bench"


def _run(command, what):
    # Its own process group: stopping sysgate stops the compilers too.
    done = children.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise UserError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


# Optional toolchains CMake looks for once (benchmarks/runtimes/CMakeLists.txt): the
# cache variable and the program. A toolchain installed after the first configure
# (`sysgate deps runtimes`) is picked up by configuring again.
OPTIONAL_TOOLCHAINS = (("SYSGATE_GO", "go"), ("SYSGATE_JAVAC", "javac"))


def _toolchain_appeared(cache):
    """True when a toolchain the cache recorded as NOT-FOUND is now on PATH."""
    try:
        text = cache.read_text(errors="replace")
    except OSError:
        return False
    return any(f"{var}-NOTFOUND" in text and shutil.which(program)
               for var, program in OPTIONAL_TOOLCHAINS)


def build(jobs=None):
    """Configure once, then build incrementally. Returns the benchmark binary's path."""
    out = build_dir()
    cache = out / "CMakeCache.txt"
    if cache.exists() and _toolchain_appeared(cache):
        _run(["cmake", "-S", str(ROOT), "-B", str(out)], "cmake configure")
    if not cache.exists():
        if out == ROOT / "build":
            _run(["cmake", "--preset", "release"], "cmake configure")
        else:
            _run(["cmake", "-S", str(ROOT), "-B", str(out), "-DCMAKE_BUILD_TYPE=Release"],
                 "cmake configure")
    _run(["cmake", "--build", str(out), "-j", str(jobs or os.cpu_count() or 2)], "build")
    binary = bench_binary()
    if not binary.exists():
        raise UserError(f"{binary}: the build finished but did not produce the benchmark")
    return binary
