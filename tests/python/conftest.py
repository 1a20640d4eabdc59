import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
FIXTURES = ROOT / "tests" / "python" / "fixtures"
ARTIFACTS = ROOT / "tests" / "artifacts"  # gitignored: screenshots for a human to look at
sys.path.insert(0, str(SCRIPTS))

from sysgatelib import build  # noqa: E402


@pytest.fixture(scope="session")
def bench():
    """The benchmark binary, built (incrementally) if needed."""
    return build.build()


def sysgate(*args, **kwargs):
    """Runs the CLI the way a user does, with Debian's Python."""
    return subprocess.run(
        ["/usr/bin/python3", str(SCRIPTS / "sysgate"), *map(str, args)],
        capture_output=True, text=True, cwd=kwargs.pop("cwd", ROOT),
        env=kwargs.pop("env", os.environ.copy()), **kwargs,
    )


def run_bench(binary, *args, timeout=120):
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)
