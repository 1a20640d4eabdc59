"""Dependencies: as root they are installed, otherwise the exact command is printed."""

import pytest
from sysgatelib import deps
from sysgatelib.errors import UserError


def test_not_root_gets_the_exact_apt_command_and_nothing_runs(monkeypatch):
    monkeypatch.setattr(deps, "missing", lambda packages: ["nasm", "g++-multilib"])
    monkeypatch.setattr(deps.os, "geteuid", lambda: 1000)
    ran = []
    monkeypatch.setattr(deps.subprocess, "run", lambda *a, **k: ran.append(a))
    with pytest.raises(UserError) as err:
        deps.ensure(deps.RUN_PACKAGES)
    message = str(err.value)
    assert "missing Debian packages: nasm g++-multilib" in message
    assert "sudo apt-get install -y --no-install-recommends nasm g++-multilib" in message
    assert ran == []


def test_nothing_missing_installs_nothing(monkeypatch):
    monkeypatch.setattr(deps, "missing", lambda packages: [])
    assert deps.ensure(deps.TEST_PACKAGES) == []


def test_missing_reads_dpkg():
    # Debian's base system always has dpkg itself; no real package is named like this.
    assert deps.missing(["dpkg", "sysgate-no-such-package"]) == ["sysgate-no-such-package"]


def test_every_run_package_is_also_a_test_package():
    assert set(deps.RUN_PACKAGES) <= set(deps.TEST_PACKAGES)
