"""Busy is judged from what happened while measuring, not from the load average at the
start (issue 24): the decision on synthetic samples, the checks and compare's withholding
that follow from it, and the sampler on this machine with a real CPU hog."""

import copy
import json
import os
import subprocess
import sys
import time

import history_synth as synth
from sysgatelib.bench import sampling
from sysgatelib.results import busy, envdiff, load
from sysgatelib.verdicts import checks, comparison

TICKS = 100.0


def _window(seconds=30.0, cpus=2, others_cpus=0.0, own_cpus=1.0, steal_share=0.0,
            involuntary_per_s=2.0):
    """Start and end snapshots of a measurement: the benchmark keeps `own_cpus` busy,
    other work `others_cpus`, the rest idle."""
    capacity = seconds * cpus * TICKS
    busy_ticks = (own_cpus + others_cpus) * seconds * TICKS
    steal_ticks = steal_share * capacity
    start = busy.Snapshot(time_s=100.0, busy_ticks=50_000, idle_ticks=90_000,
                          steal_ticks=100, cpus=cpus, own_cpu_s=70.0,  # the build's, before
                          ticks_per_s=TICKS)
    end = busy.Snapshot(time_s=100.0 + seconds, busy_ticks=int(50_000 + busy_ticks),
                        idle_ticks=int(90_000 + capacity - busy_ticks - steal_ticks),
                        steal_ticks=int(100 + steal_ticks), cpus=cpus,
                        own_cpu_s=70.0 + own_cpus * seconds, ticks_per_s=TICKS)
    return start, end, involuntary_per_s * seconds


def _summarize(window, runnable=()):
    start, end, involuntary = window
    return busy.summarize(start, end, runnable, involuntary)


def _run_with(facts, load_avg):
    data = synth.make_results(seed=1, repetitions=12,
                              context={"load_avg": load_avg, "num_cpus": 2,
                                       **busy.to_context(facts)})
    return load.parse(data, "synthetic.json")


def test_a_finished_build_with_idle_cpus_is_not_busy():
    """Load average 1.6 on 2 CPUs from the build that just ended; while measuring, the
    benchmark had its CPU and the other was idle."""
    facts = _summarize(_window(others_cpus=0.03), runnable=[2, 2, 3, 2, 2])
    assert abs(facts.other_cpus - 0.03) < 0.01 and facts.runnable_median == 0
    assert busy.reasons(facts) == [] and not busy.is_busy(facts)
    found = {f.key: f for f in checks.check_run(_run_with(facts, [1.6, 1.1, 0.5]))}
    assert "busy_machine" not in found
    assert found["load_before_run"].severity == checks.INFO  # said, not warned


def test_a_cpu_hog_while_measuring_is_busy():
    hog = _summarize(_window(others_cpus=1.0), runnable=[3, 3, 3, 3])
    assert busy.is_busy(hog)
    assert busy.reasons(hog)[0] == "other work used 1.0 of 2 CPUs"
    found = {f.key: f for f in checks.check_run(_run_with(hog, [0.1, 0.1, 0.1]))}
    warning = found["busy_machine"]
    assert warning.severity == checks.WARNING
    assert "busy while measuring: other work used 1.0 of 2 CPUs" in warning.title
    assert "Stop other work" in warning.remedy
    # Preemptions of the benchmark are recorded, not judged: sysgate's own helpers, pinned
    # to the measured CPU, cause a thousand a second on a quiet machine.
    helpers = _summarize(_window(others_cpus=0.02, involuntary_per_s=1700.0))
    assert helpers.involuntary_per_s == 1700.0 and not busy.is_busy(helpers)
    crowded = _summarize(_window(others_cpus=0.4), runnable=[4, 5, 4, 6, 4])
    assert any("2 other tasks were waiting to run on 2 CPUs" in r
               for r in busy.reasons(crowded))
    stolen = _summarize(_window(steal_share=0.2))
    assert any("stole 20%" in r for r in busy.reasons(stolen))


def test_the_facts_round_trip_through_the_results_context():
    facts = _summarize(_window(others_cpus=0.25), runnable=[2, 4])
    context = json.loads(json.dumps(busy.to_context(facts)))  # text, as a file holds it
    again = busy.from_context(context)
    assert again.cpus == 2 and abs(again.other_cpus - facts.other_cpus) < 1e-3
    for bad in ("nan", "-1", "many", None):
        assert busy.from_context({**context, "busy.other_cpus": bad}) is None
    assert busy.from_context({}) is None


def test_compare_withholds_on_how_busy_the_machine_was_not_on_the_load_average():
    quiet = _summarize(_window(others_cpus=0.02))
    after_build = _summarize(_window(others_cpus=0.05))
    hog = _summarize(_window(others_cpus=1.0))
    base = _run_with(quiet, [0.2, 0.1, 0.1])
    new = copy.deepcopy(_run_with(after_build, [1.6, 1.1, 0.5]))
    new.paths = {n: copy.deepcopy(p) for n, p in
                 load.parse(synth.make_results(seed=2, repetitions=12), "n").paths.items()}
    result = comparison.compare_runs(base, new)
    assert not result.withheld, result.machine_changed  # loads 0.2 vs 1.6: context only
    assert not any(d.key in ("load_avg", envdiff.BUSY) for d in result.differences)
    busy_new = _run_with(hog, [0.2, 0.1, 0.1])
    busy_new.paths = new.paths
    result = comparison.compare_runs(base, busy_new)
    assert result.withheld and result.exit_code == 3
    assert any("not equally quiet while measuring" in m and "busy (other work 1.00 of 2"
               in m for m in result.machine_changed), result.machine_changed


def test_the_sampler_sees_a_real_cpu_hog(tmp_path):
    """On this machine: one hog per CPU while a child 'measures' (sleeps): the sampler
    counts the hogs as other work, its own child's time as ours. (Not a timing
    assertion: the hogs take whatever share the scheduler gives them, all of it other
    work.)"""
    hog = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", hog]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.3)  # the hogs are running
        with sampling.Sampler(avoid_cpu=None, period_s=0.1) as sampler:
            subprocess.run([sys.executable, "-c", "import time; time.sleep(1.5)"], check=True)
    finally:
        for proc in hogs:
            proc.kill()
            proc.wait()
    facts = sampler.busy
    assert facts is not None and facts.samples >= 3
    assert busy.is_busy(facts), facts
    assert facts.runnable_max >= 1
