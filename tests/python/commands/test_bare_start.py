"""The CLI starts on a bare machine: building the parser imports no third-party package.

A folder of stand-in modules that raise ImportError is put first on PYTHONPATH, so that
jinja2, matplotlib, scipy, numpy and psycopg cannot be imported even where Debian's
packages are installed (as on CI): exactly what a fresh machine sees before `deps`.
"""

import os

import pytest
from conftest import sysgate

# The CI formats' readers are test dependencies only: the CLI must not need them.
UNIMPORTABLE = ("jinja2", "matplotlib", "scipy", "numpy", "psycopg", "prometheus_client",
                "markdown", "junitparser", "yaml")
COMMANDS = ((), ("run",), ("deps",), ("report",), ("compare",), ("gate",), ("history",),
            ("history", "add"), ("history", "list"), ("trend",), ("kernels",),
            ("calibrate",))


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unimportable")
    for name in UNIMPORTABLE:
        (folder / f"{name}.py").write_text(
            f"raise ImportError('{name} is unimportable in this test (a bare machine)')\n")
    env = os.environ.copy()
    env["PYTHONPATH"] = str(folder)
    return env


def test_the_stand_ins_really_block_the_imports(bare_env):
    import subprocess
    for name in UNIMPORTABLE:
        done = subprocess.run(["/usr/bin/python3", "-c", f"import {name}"], env=bare_env,
                              capture_output=True, text=True)
        assert done.returncode != 0 and "unimportable" in done.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "sysgate")
def test_help_starts_without_third_party_packages(bare_env, command):
    done = sysgate(*command, "--help", env=bare_env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "usage: sysgate" in done.stdout


def test_deps_check_starts_without_third_party_packages(bare_env):
    done = sysgate("deps", "test", "--check", env=bare_env)
    assert "Traceback" not in done.stderr
    # dpkg decides, not the import system: on CI everything is installed (exit 0); on a
    # machine that lacks packages the list is printed and the exit status says so.
    assert done.returncode in (0, 1)
    assert done.stdout.startswith(("all installed", "missing: "))
