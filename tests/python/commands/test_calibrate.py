"""calibrate: the detection limit from synthetic plain and seccomp runs, the stored file,
and the allow-all seccomp wrapper."""

import json
import os
import subprocess

import pytest

import history_synth as synth
from sysgatelib import cli
from sysgatelib.bench import seccomp_allow
from sysgatelib.bench.suite import run_args
from sysgatelib.commands import calibrate
from sysgatelib.results import load
from sysgatelib.verdicts import stats

WRAPPER = os.path.join(synth.SCRIPTS, "sysgatelib", "bench", "seccomp_allow.py")


def _run(seed, shift=None, level=1.0):
    factor = {name: level * (shift or {}).get(name, 1.0)
              for name, _, base in synth.PATHS if not isinstance(base, str)}
    return load.parse(synth.make_results(seed=seed, repetitions=12, noise=0.01,
                                         shift=factor), f"synthetic {seed}")


def _kernel_shift(factor):
    run = _run(0)
    return {p.name: factor for p in run.paths.values() if p.enters_kernel and p.samples_ns}


def test_calibration_measures_the_injected_slowdown_and_the_spread():
    plain = [_run(1, level=1.00), _run(2, level=1.02), _run(3, level=0.99)]
    seccomp = [_run(4 + i, _kernel_shift(1.25), level) for i, level in
               enumerate((1.01, 0.98, 1.0))]
    result = calibrate.analyse(plain, seccomp)
    family = result["kernel_entry"]
    assert family["paths"] == 10
    assert 0.2 < family["seccomp_shift"] < 0.3
    assert 0 < family["mde_3runs"] < family["mde_1run"]
    assert family["runs_for_target"] >= 1
    assert abs(result["paths"]["time/vdso"]["seccomp_shift"]) < 0.05  # a control
    assert [p["regressions"] for p in result["pairs"]["aa"]] == [0, 0]
    assert all(p["kernel_entry"] == stats.REGRESSION for p in result["pairs"]["seccomp"])
    assert all(p["controls_flagged"] == 0 for p in result["pairs"]["seccomp"])
    assert "kernel entry (10 paths)" in calibrate.render(result)


def test_calibration_is_stored_per_host_and_found_again(tmp_path):
    plain = [_run(1), _run(2)]
    result = calibrate.analyse(plain, [_run(3, _kernel_shift(1.2)), _run(4, _kernel_shift(1.2))])
    path = calibrate.save(result, tmp_path / "calibration.json")
    data = json.loads(path.read_text())
    assert list(data["hosts"]) == [result["host_fingerprint"]]
    assert calibrate.limits_for(plain[0].context, path)["kernel"] == plain[0].kernel
    other = dict(plain[0].context, cpu_model_name="another CPU")
    assert calibrate.limits_for(other, path) is None


def test_calibration_needs_two_plain_runs():
    with pytest.raises(calibrate.UserError):
        calibrate.analyse([_run(1)], [])


def test_calibrate_options_reach_sysgate_run():
    args = run_args({"repetitions": 6, "processes": 2, "min_time": None,
                               "filter": "getpid", "cpu": None, "quick": True})
    assert args == ["--repetitions", "6", "--processes", "2", "--filter", "getpid", "--quick",
                    "--no-history"]
    assert cli.main(["calibrate", "--runs", "1"]) == 2


def test_the_wrapper_runs_a_command_under_an_allow_all_filter():
    status = open("/proc/self/status").read()
    if "Seccomp:" not in status:
        pytest.skip("kernel without seccomp")
    done = subprocess.run([synth.PYTHON, WRAPPER, "--filters", "2", "grep", "^Seccomp",
                           "/proc/self/status"], capture_output=True, text=True, timeout=60)
    if done.returncode == 3:
        pytest.skip(f"seccomp filters refused here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    filters = int(done.stdout.split("Seccomp_filters:")[1].split()[0])
    assert "Seccomp:\t2" in done.stdout and filters >= 2


def _added(seed, ns, level=1.0):
    """A run with `ns` added to every kernel path per expected entry (a graded filter)."""
    run = _run(0)
    add = {p.name: ns * p.expected_entries for p in run.paths.values()
           if p.enters_kernel and p.samples_ns}
    return load.parse(synth.make_results(seed=seed, repetitions=12, noise=0.01, add_ns=add,
                                         drift=level), f"synthetic {seed}")


def test_the_detection_curve_finds_each_graded_slowdown_and_no_false_alarm():
    plain = [_run(seed, level=level) for seed, level in ((1, 1.0), (2, 1.02), (3, 0.99))]
    levels = {8: [_added(10 + i, 12.5) for i in range(3)],
              64: [_added(20 + i, 40.0, 1.01) for i in range(3)]}
    curve = calibrate.detection_curve(plain, levels)
    assert curve["aa_pairs"] == 2 and curve["aa_false_alarms"] == 0
    small, large = curve["levels"]
    assert small["loads"] == 8 and abs(small["delta_ns"] - 12.5) < 2.0
    assert abs(large["delta_ns"] - 40.4) < 3.0
    assert small["detected_1run"] == 1.0 and large["detected_3runs"] == 1.0
    assert 0 < curve["limit_ns_1run"] < 12.5
    text = calibrate.render_curve(curve)
    assert "seccomp filter of 8 loads: +12." in text and "false alarm" in text


def test_a_graded_filter_loads_an_argument_so_the_kernel_cannot_cache_it():
    code = seccomp_allow.program(3)
    assert [c.code for c in code] == [seccomp_allow.BPF_LD_W_ABS] * 3 + [seccomp_allow.BPF_RET_K]
    assert {c.k for c in code[:3]} == {seccomp_allow.SECCOMP_DATA_ARGS}
    assert code[3].k == seccomp_allow.SECCOMP_RET_ALLOW
    with pytest.raises(ValueError):
        seccomp_allow.program(seccomp_allow.MAX_LOADS + 1)
    if "Seccomp:" not in open("/proc/self/status").read():
        pytest.skip("kernel without seccomp")
    done = subprocess.run([synth.PYTHON, WRAPPER, "--loads", "16", "grep", "^Seccomp_filters",
                           "/proc/self/status"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.split() == ["Seccomp_filters:", "1"]
    refused = subprocess.run([synth.PYTHON, WRAPPER, "--loads", "x", "true"],
                             capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and refused.stderr.startswith("error: --loads x")
