"""calibrate: the detection limit from synthetic plain and seccomp runs, the stored file,
and the allow-all seccomp wrapper."""

import json
import os
import subprocess

import pytest

import history_synth as synth
from sysgatelib import cli
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
    args = calibrate.run_args({"repetitions": 6, "processes": 2, "min_time": None,
                               "filter": "getpid", "cpu": None, "quick": True})
    assert args == ["--repetitions", "6", "--processes", "2", "--filter", "getpid", "--quick"]
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
