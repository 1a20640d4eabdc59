import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
FIXTURES = ROOT / "tests" / "python" / "fixtures"
HELPERS = ROOT / "tests" / "python" / "helpers"  # modules the tests share (no tests)
ARTIFACTS = ROOT / "tests" / "artifacts"  # gitignored: screenshots for a human to look at
sys.path[:0] = [str(SCRIPTS), str(HELPERS)]

from sysgatelib.bench import build  # noqa: E402


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


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server in a temporary folder for the whole session
    (sysgatelib/bench/pg_server.py); the test skips, with the reason, only where the server
    or psycopg is missing."""
    from sysgatelib.bench import pg_server as pg

    reason = pg.unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = pg.Server(fsync=False).start()
    try:
        yield server
    finally:
        server.stop()


_DATABASES = itertools.count()


@pytest.fixture
def pg_url(pg_server, request):
    """A fresh, empty database on the session's server, as a postgresql:// URL."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name)[:40].lower()
    return pg_server.create_database(f"t{next(_DATABASES)}_{name}")
