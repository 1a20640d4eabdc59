"""Dependencies: as root they are installed, otherwise the exact command is printed."""

import pytest
from sysgatelib.core import packages
from sysgatelib.core.errors import UserError


def test_not_root_gets_the_exact_apt_command_and_nothing_runs(monkeypatch):
    monkeypatch.setattr(packages, "missing", lambda packages: ["nasm", "g++-multilib"])
    monkeypatch.setattr(packages.os, "geteuid", lambda: 1000)
    ran = []
    monkeypatch.setattr(packages.subprocess, "run", lambda *a, **k: ran.append(a))
    with pytest.raises(UserError) as err:
        packages.ensure(packages.RUN_PACKAGES)
    message = str(err.value)
    assert "missing Debian packages: nasm g++-multilib" in message
    assert "sudo apt-get install -y --no-install-recommends nasm g++-multilib" in message
    assert ran == []


def test_nothing_missing_installs_nothing(monkeypatch):
    monkeypatch.setattr(packages, "missing", lambda packages: [])
    assert packages.ensure(packages.TEST_PACKAGES) == []


def test_missing_reads_dpkg():
    # Debian's base system always has dpkg itself; no real package is named like this.
    assert packages.missing(["dpkg", "sysgate-no-such-package"]) == ["sysgate-no-such-package"]


def test_every_run_package_is_also_a_test_package():
    assert set(packages.RUN_PACKAGES) <= set(packages.TEST_PACKAGES)
