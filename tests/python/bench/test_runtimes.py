"""The language-runtime rows as a user sees them: skipped with the install command where
a toolchain is missing, and with each helper's pid checked where it is installed.

The pid check is the binary's own (a row whose last call returned another pid than the
helper's is "failed: ..."), so these tests read the rows' messages; no timing is asserted.
"""

import json
import os
import shutil
import subprocess

import pytest
from conftest import run_bench
from sysgatelib.results import load

GO_ROWS = {"baseline/go_call", "getpid/go_os", "getpid/go_syscall", "getpid/go_rawsyscall"}
JAVA_ROWS = {"baseline/java_call", "getpid/java_processhandle"}
PYTHON_ROWS = {"baseline/python_call", "getpid/python_os"}
RUNTIME_ROWS = GO_ROWS | JAVA_ROWS | PYTHON_ROWS
FILTER = "^(" + "|".join(sorted(RUNTIME_ROWS | {"getpid/syscall"})) + ")/manual_time$"


def list_statuses(binary, env):
    done = subprocess.run([str(binary), "--list-paths"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    statuses = {}
    for line in done.stdout.splitlines()[1:]:
        fields = line.split(None, 1)
        if len(fields) == 2 and "/" in fields[0]:
            statuses[fields[0]] = fields[1]
    return statuses


def env_without_toolchains(tmp_path):
    """PATH without go and java, and a runtimes folder with nothing built in it: what a
    machine without golang-go and default-jdk-headless has."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = os.environ.copy()
    env["PATH"] = str(bin_dir)
    env["SYSGATE_RUNTIMES_DIR"] = str(tmp_path / "runtimes")
    env.pop("SYSGATE_JAVA", None)
    return env


def run_bench_env(binary, env, *args):
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=180,
                          env=env)


def test_without_go_and_java_their_rows_skip_with_the_install_command(bench, tmp_path):
    statuses = list_statuses(bench, env_without_toolchains(tmp_path))
    for name in GO_ROWS:
        assert statuses[name].endswith(
            "skipped: Go toolchain not installed: apt-get install golang-go (then rebuild)"
        ), statuses[name]
    for name in JAVA_ROWS:
        assert statuses[name].endswith(
            "skipped: Java runtime not installed: apt-get install default-jdk-headless"
        ), statuses[name]
    # The native rows do not depend on any runtime.
    assert statuses["getpid/syscall"].endswith("available"), statuses["getpid/syscall"]


def test_a_run_without_toolchains_measures_the_rest(bench, tmp_path):
    out = tmp_path / "r.json"
    done = run_bench_env(bench, env_without_toolchains(tmp_path), f"--benchmark_filter={FILTER}",
                         "--benchmark_min_time=0.001", "--counters=none",
                         f"--benchmark_out={out}", "--benchmark_out_format=json")
    assert done.returncode == 0, done.stderr
    run = load.load(out)
    assert run.paths["getpid/syscall"].samples_ns
    for name in GO_ROWS | JAVA_ROWS:
        assert run.paths[name].skipped and "apt-get install" in run.paths[name].skipped, name
    assert run.context["runtime_go"].startswith("unavailable: Go toolchain not installed")


def test_every_installed_runtime_row_returns_its_helpers_pid(bench, tmp_path):
    if not shutil.which("go") and not shutil.which("java"):
        pytest.skip("neither Go nor Java is installed (sysgate deps runtimes)")
    out = tmp_path / "r.json"
    done = run_bench(bench, f"--benchmark_filter={FILTER}", "--benchmark_min_time=0.001",
                     "--counters=none", f"--benchmark_out={out}", "--benchmark_out_format=json",
                     timeout=180)
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    rows = {r["run_name"].removesuffix("/manual_time"): r for r in data["benchmarks"]}
    assert RUNTIME_ROWS <= set(rows)
    measured = 0
    for name in RUNTIME_ROWS:
        row = rows[name]
        message = row.get("error_message", "")
        # "failed: last call returned X, expected <the helper's pid>" is what a wrong pid
        # (or a wrong baseline constant) looks like.
        assert not message.startswith("failed"), (name, message)
        if row.get("error_occurred"):
            assert message.startswith("skipped: "), (name, message)
            continue
        assert row["real_time"] > 0, name
        measured += 1
    assert measured > 0
    run = load.load(out)
    for name in RUNTIME_ROWS:
        path = run.paths[name]
        # The facts come from the row: the runtime's way in, divided by its own call.
        assert path.mechanism == ("call" if path.family == "baseline" else "runtime"), name
        if path.family == "getpid":
            assert path.baseline == f"baseline/{path.variant.split('_')[0]}_call", name
    # Go always executes SYSCALL; whether Java and Python do depends on the runtime and the
    # C library installed, so their rows leave it to the counting pass.
    assert run.paths["getpid/go_os"].expected_entries == 1
    assert run.paths["getpid/java_processhandle"].expected_entries is None
    assert run.paths["getpid/python_os"].expected_entries is None
    assert run.paths["baseline/python_call"].expected_entries == 0


def test_a_toolchain_installed_after_the_first_configure_triggers_a_new_one(tmp_path,
                                                                           monkeypatch):
    from sysgatelib.bench import build

    cache = tmp_path / "CMakeCache.txt"
    cache.write_text("SYSGATE_GO:FILEPATH=SYSGATE_GO-NOTFOUND\n"
                     "SYSGATE_JAVAC:FILEPATH=/usr/bin/javac\n")
    monkeypatch.setattr(build.shutil, "which", lambda program: None)
    assert not build._toolchain_appeared(cache)
    monkeypatch.setattr(build.shutil, "which", lambda program: f"/usr/bin/{program}")
    assert build._toolchain_appeared(cache)
    cache.write_text("SYSGATE_GO:FILEPATH=/usr/bin/go\n")
    assert not build._toolchain_appeared(cache)
