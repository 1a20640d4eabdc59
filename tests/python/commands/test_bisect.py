"""sysgate bisect: the step's decision on synthetic results (good, bad, inconclusive, a build
that fails), and whole bisections of a small git repository the test makes, with a fake
build (the "image" holds the ns per entry the commit adds) and a fake measurement
(fake_bisect_measure.py: synthetic results with that slowdown). No kernel is built or
booted here; benchmarks/validate_bisect.sh does that with a real kernel tree."""

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import history_synth as synth
from conftest import SCRIPTS, sysgate
from sysgatelib.commands import bisect_step
from sysgatelib.core import thresholds
from sysgatelib.results import load
from sysgatelib.verdicts import comparison

HERE = Path(__file__).resolve().parents[1] / "helpers"
FAKE_BUILD = ('img="$SYSGATE_BUILD_DIR/image-$SYSGATE_COMMIT"; '
              'if grep -q broken cost; then exit 2; fi; cp cost "$img"; echo "$img"')
FAKE_MEASURE = f"/usr/bin/python3 {HERE / 'fake_bisect_measure.py'}"
# Commit 3 of 5 adds 15 ns to every kernel entry.
COSTS = (0, 0, 15, 15, 15)


def _run(seed, ns=0.0, repetitions=12):
    sys.path.insert(0, str(HERE))
    from fake_bisect_measure import added

    return load.parse(synth.make_results(seed=seed, repetitions=repetitions,
                                         add_ns=added(ns)), f"seed {seed}")


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def make_repo(path, costs=COSTS):
    """A repository of len(costs) commits; commit i's file `cost` says its ns per entry."""
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.email", "t@example.org")
    _git(path, "config", "user.name", "t")
    shas = []
    for number, cost in enumerate(costs, 1):
        (path / "cost").write_text(f"{cost}\n")
        (path / f"file{number}.txt").write_text(f"commit {number}\n")
        _git(path, "add", "-A")
        _git(path, "commit", "-q", "-m", f"commit {number}")
        shas.append(_git(path, "rev-parse", "HEAD"))
    return shas


def _left_reset(repo):
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert not (repo / ".git" / "BISECT_START").exists()
    assert not _git(repo, "for-each-ref", "refs/bisect")
    assert not _git(repo, "status", "--porcelain", "--untracked-files=no")


# --- the decision ------------------------------------------------------------------------


def test_the_decision_follows_compare_good_bad_and_inconclusive():
    base = [_run(1)]
    assert bisect_step.decide(comparison.compare_runs(base, [_run(2)])) == bisect_step.GOOD
    assert bisect_step.decide(comparison.compare_runs(base, [_run(3, 15)])) == bisect_step.BAD
    # Two repetitions a side settle nothing: measure more (None), then skip.
    few = comparison.compare_runs([_run(1, repetitions=2)], [_run(4, 3, repetitions=2)])
    assert few.exit_code == comparison.EXIT_INCONCLUSIVE
    assert bisect_step.decide(few) is None


def _state(tmp_path, repo, good_results, **kwargs):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    state = {"source": str(repo), "work": str(work), "build_dir": str(work / "build"),
             "config": None, "jobs": 1, "build_command": FAKE_BUILD,
             "measure_command": FAKE_MEASURE, "max_runs": 2, "alpha": thresholds.ALPHA,
             "threshold": thresholds.THRESHOLD_PCT, "entry_threshold": None,
             "db": None, "good_results": good_results}
    state.update(kwargs)
    return state


@pytest.fixture
def good_results(tmp_path):
    paths = []
    for seed in (11, 12):
        path = tmp_path / f"good-{seed}.json"
        path.write_text(json.dumps(synth.make_results(seed=seed, repetitions=12)))
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("costs, expected", [((0,), bisect_step.GOOD),
                                             ((15,), bisect_step.BAD),
                                             (("broken",), bisect_step.SKIP)])
def test_a_step_exits_0_good_1_bad_125_for_a_build_that_fails(tmp_path, good_results,
                                                               costs, expected):
    repo = tmp_path / "repo"
    make_repo(repo, costs)
    out = io.StringIO()
    code = bisect_step.run_step(_state(tmp_path, repo, good_results),
                                bisect_step._Progress(out))
    assert code == expected, out.getvalue()
    (step,) = bisect_step.read_steps(tmp_path / "work")
    assert step["verdict"] == bisect_step.WORDS[expected]
    if expected == bisect_step.SKIP:
        assert "build FAILED" in out.getvalue() and "does not build" in out.getvalue()
    else:
        assert "  build " in out.getvalue() and "run 1/2: kernel entry" in out.getvalue()


def test_a_step_still_inconclusive_at_max_runs_is_skipped(tmp_path, good_results,
                                                          monkeypatch):
    repo = tmp_path / "repo"
    make_repo(repo, (3,))
    monkeypatch.setenv("FAKE_MEASURE_REPS", "2")
    out = io.StringIO()
    code = bisect_step.run_step(_state(tmp_path, repo, good_results),
                                bisect_step._Progress(out))
    assert code == bisect_step.SKIP, out.getvalue()
    assert "run 2/2" in out.getvalue() and "still inconclusive after 2 run(s)" in out.getvalue()


def test_a_step_that_cannot_compare_aborts_with_an_error_line(tmp_path, capsys):
    repo = tmp_path / "repo"
    make_repo(repo, (0,))
    state = _state(tmp_path, repo, [str(tmp_path / "missing.json")])
    (tmp_path / "state.json").write_text(json.dumps(state))
    code = bisect_step.step_command(type("A", (), {"state": tmp_path / "state.json"}))
    assert code == bisect_step.ABORT
    assert capsys.readouterr().err.startswith("error: bisect step: ")


# --- whole bisections --------------------------------------------------------------------


def _bisect(repo, tmp_path, *extra, **kwargs):
    return sysgate("bisect", repo, "--build-command", FAKE_BUILD, "--measure-command",
                   FAKE_MEASURE, "--work", tmp_path / "work", "--db", tmp_path / "h.sqlite",
                   *extra, **kwargs)


def test_bisect_names_the_commit_that_added_15_ns_per_entry(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    done = _bisect(repo, tmp_path, "--good", shas[0], "--bad", "main", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"bisect: first bad commit: {shas[2]} commit 3" in out
    assert "endpoints, run 1/3: kernel entry +1" in out  # ~ +15 ns per entry
    assert "bisect: step 1: " in out and "verdict: " in out and "commits left" in out
    _left_reset(repo)
    # Every run is in the store, tagged with its commit.
    with sqlite3.connect(tmp_path / "h.sqlite") as conn:
        contexts = [json.loads(c) for (c,) in conn.execute("SELECT context FROM runs")]
    commits = {c["kernel_commit"] for c in contexts}
    assert {shas[0], shas[4], shas[2]} <= commits
    steps = bisect_step.read_steps(tmp_path / "work")
    assert {s["commit"]: s["verdict"] for s in steps}[shas[2]] == "bad"


def test_endpoints_that_do_not_differ_exit_3_with_the_figures(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, (0, 0, 0))
    done = _bisect(repo, tmp_path, "--good", shas[0], "--bad", shas[2], timeout=300)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the endpoints do not differ" in done.stdout
    assert "kernel entry: " in done.stdout  # compare's figures
    assert "bisect: step" not in done.stdout
    _left_reset(repo)


def test_bad_input_exits_2_and_leaves_the_tree_alone(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, (0, 15))
    for args in (("--good", "nosuchrev", "--bad", "main"),
                 ("--good", shas[1], "--bad", shas[0]),  # good after bad
                 ("--good", "main", "--bad", "main"),
                 ("--good", shas[0], "--bad", "main", "--config", tmp_path / "none"),
                 ("--good", shas[0], "--bad", "main", "--max-runs", "0")):
        done = _bisect(repo, tmp_path, *args)
        assert done.returncode == 2, (args, done.stdout + done.stderr)
        assert done.stderr.startswith(("error: ", "usage: "))
    done = _bisect(tmp_path, tmp_path, "--good", "a", "--bad", "b")  # not a work tree
    assert done.returncode == 2 and "not a git work tree" in done.stderr
    (repo / "cost").write_text("changed\n")
    done = _bisect(repo, tmp_path, "--good", shas[0], "--bad", "main")
    assert done.returncode == 2 and "tracked files have changes" in done.stderr
    _git(repo, "checkout", "-q", "cost")
    _left_reset(repo)


def test_sigterm_mid_bisection_leaves_the_tree_as_bisect_reset_would(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    env = dict(os.environ, FAKE_MEASURE_SLEEP="0")
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(SCRIPTS / "sysgate"), "bisect", str(repo), "--good",
         shas[0], "--bad", "main", "--build-command",
         FAKE_BUILD + '; [ -e "$SYSGATE_BUILD_DIR/../steps.jsonl" ] || '
                      '[ ! -e "$SYSGATE_BUILD_DIR/../state.json" ] || sleep 60',
         "--measure-command", FAKE_MEASURE, "--work", str(tmp_path / "work"), "--db",
         str(tmp_path / "h.sqlite")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (repo / ".git" / "BISECT_START").exists():
        time.sleep(0.2)
    assert (repo / ".git" / "BISECT_START").exists()  # the first step is building
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, out + err  # as every command stops
    assert "interrupted (SIGTERM)" in err and "the tree is put back" in out + err
    _left_reset(repo)
