"""compare: the verdict's statistics, the exit status, the warnings, the page."""

import json
import os
import shutil
import subprocess

import pytest

import history_synth as synth
from sysgatelib import cli, compare, load, store

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
GBENCH_COMPARE = "/usr/share/benchmark/compare.py"


def _run(**kwargs):
    return load.parse(synth.make_results(**kwargs), f"synthetic seed {kwargs.get('seed', 0)}")


@pytest.mark.parametrize("seeds", [(1, 2), (3, 4), (5, 6), (7, 8), (11, 12)])
def test_a_a_comparison_finds_nothing(seeds):
    result = compare.compare_runs(_run(seed=seeds[0]), _run(seed=seeds[1]))
    assert result.regressions == [] and result.improvements == []
    assert abs(result.geomean_change) < 0.02


def test_five_percent_on_one_path_is_a_regression_of_that_path_only():
    base = _run(seed=1, repetitions=10)
    new = _run(seed=2, repetitions=10, shift={"getpid/syscall": 1.05})
    result = compare.compare_runs(base, new)
    assert [r.name for r in result.regressions] == ["getpid/syscall"]
    assert result.improvements == []
    row = result.regressions[0].result
    assert row.p_value < 0.01
    assert row.ci_low < row.change < row.ci_high
    assert row.ci_low > 0  # the whole interval says slower


def test_five_percent_faster_is_an_improvement_not_a_regression():
    result = compare.compare_runs(_run(seed=1), _run(seed=2, shift={"time/vdso": 0.95}))
    assert result.regressions == []
    assert [r.name for r in result.improvements] == ["time/vdso"]


def test_significant_but_below_threshold_is_no_change():
    base = _run(seed=1, noise=0.001)
    new = _run(seed=2, noise=0.001, shift={"getpid/syscall": 1.01})
    row = next(r for r in compare.compare_runs(base, new).rows if r.name == "getpid/syscall")
    assert row.result.p_value < 0.01  # the 1% is real ...
    assert row.result.verdict == compare.NO_CHANGE  # ... but under the 2% threshold
    lower = compare.compare_runs(base, new, threshold_pct=0.5)
    assert [r.name for r in lower.regressions] == ["getpid/syscall"]


def test_large_change_without_significance_is_no_change():
    # Three repetitions: the U test cannot reach p < 0.01 whatever the data; say so.
    result = compare.compare_runs(_run(seed=1, repetitions=3),
                                  _run(seed=2, repetitions=3, shift={"getpid/syscall": 1.5}))
    assert result.regressions == []
    assert any("no adjusted p-value can fall below alpha" in w for w in result.warnings)


def test_a_disturbed_machine_is_called_out():
    # A busy machine slows everything, the plain call included: say so, loudly.
    busy = {name: 1.3 for name, _, base in synth.PATHS if not isinstance(base, str)}
    result = compare.compare_runs(_run(seed=1), _run(seed=2, shift=busy))
    assert any(w.startswith("the control paths moved (baseline/empty_loop +")
               for w in result.warnings)
    noisy = compare.compare_runs(_run(seed=1), _run(seed=2, noise=0.2))
    assert any(w.startswith("unstable results: CV above 5%") for w in noisy.warnings)
    quiet = compare.compare_runs(_run(seed=1), _run(seed=2, shift={"getpid/syscall": 1.1}))
    assert quiet.warnings == []


def test_identical_samples_compare_cleanly():
    change = compare.compare_samples([100.0] * 10, [100.0] * 10)
    assert change.change == 0 and change.p_value == 1.0 and change.verdict == compare.NO_CHANGE


def test_skipped_and_missing_paths_are_listed_not_flagged():
    paths = synth.PATHS[:5] + (("getpid/int80", "int80", "ia32_emulation=off"),)
    result = compare.compare_runs(_run(seed=1), _run(seed=2, paths=paths))
    rows = {r.name: r for r in result.rows}
    assert rows["getpid/int80"].note == "skipped in the new run: ia32_emulation=off"
    assert rows["read/syscall"].note == "only in the base run"
    assert result.regressions == []
    assert any("measured in the base run but not in the new one" in w for w in result.warnings)


def test_warns_when_runs_differ_beyond_the_kernel():
    base = _run(seed=1)
    new = _run(seed=2, context={
        "kernel_release": "6.12.57+deb13-cloud-amd64",
        "boot_cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.12.57+deb13-cloud-amd64 root=UUID=1234 ro "
                        "console=tty0 console=ttyS0,115200 mitigations=off",
        "cpu_model_name": "AMD EPYC 9B14",
        "vuln.retbleed": "Vulnerable",
    })
    text = "\n".join(compare.compare_runs(base, new).warnings)
    assert "different machines" in text and "AMD EPYC 9B14" in text
    assert "boot options differ" in text and "mitigations=off" in text
    assert "BOOT_IMAGE" not in text  # the image name changes with every kernel
    same_machine = compare.compare_runs(base, _run(seed=2, context={
        "kernel_release": "6.12.57+deb13-cloud-amd64", "vuln.retbleed": "Vulnerable"}))
    assert same_machine.warnings == []  # mitigations follow the kernel: listed, not warned
    assert [d.key for d in same_machine.differences] == ["vuln.retbleed"]


def _write_pair(tmp_path, shift=None, new_context=None):
    base = synth.write_results(tmp_path / "base.json", seed=1)
    new = synth.write_results(tmp_path / "new.json", seed=2, shift=shift, context=new_context)
    return base, new


def test_cli_exit_status_is_for_ci(tmp_path, capsys):
    base, new = _write_pair(tmp_path)
    assert cli.main(["compare", base, new]) == 0
    assert "result: 0 regressions" in capsys.readouterr().out
    slower = synth.write_results(tmp_path / "slower.json", seed=3,
                                 shift={"getppid/syscall": 1.05})
    assert cli.main(["compare", base, slower]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "result: 1 regression (getppid/syscall +" in out
    assert cli.main(["compare", base, str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert cli.main(["compare", base, new, "--alpha", "2"]) == 2


def test_cli_refuses_to_mix_emulated_and_hardware(tmp_path, capsys):
    base, new = _write_pair(tmp_path, new_context={"emulated": "true"})
    assert cli.main(["compare", base, new]) == 2
    assert "emulated (TCG) run cannot be compared" in capsys.readouterr().err
    assert cli.main(["compare", base, new, "--allow-emulated"]) == 0
    assert "emulated run" in capsys.readouterr().out


def test_cli_compares_runs_from_the_store(tmp_path, capsys):
    db = tmp_path / "h.sqlite"
    base, new = _write_pair(tmp_path, shift={"getpid/syscall": 1.08},
                            new_context={"kernel_release": "6.12.57+deb13-cloud-amd64"})
    store.add_results(db, base)
    store.add_results(db, new)
    argv = ["compare", "--db", str(db), "6.1.0-47-cloud-amd64", "6.12.57+deb13-cloud-amd64"]
    assert cli.main(argv) == 1
    assert cli.main(["compare", "--db", str(db), "1", "#1"]) == 0
    assert cli.main(["compare", "--db", str(db), "1", "4.19.0"]) == 2
    assert "no such file, run id or kernel release" in capsys.readouterr().err


def test_html_page_and_json_are_written_and_escaped(tmp_path, capsys):
    hostile = "<script>alert(1)</script>"
    base, new = _write_pair(tmp_path, shift={"read/syscall": 1.1}, new_context={
        "kernel_release": "6.18.1", "boot_cmdline": f"ro quiet x={hostile}"})
    out = tmp_path / "out"
    assert cli.main(["compare", base, new, "-o", str(out)]) == 1
    page = (out / "compare.html").read_text()
    assert hostile not in page and "&lt;script&gt;" in page
    assert "read/syscall" in page and "compare_medians.png" in page
    for png in ("compare_medians.png", "compare_changes.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "compare.json").read_text())
    assert summary["regressions"] == ["read/syscall"]


def test_fixtures_compare_as_documented(capsys):
    base = os.path.join(FIXTURES, "compare_base.json")
    new = os.path.join(FIXTURES, "compare_new.json")
    assert cli.main(["compare", base, new]) == 1
    result = compare.compare_runs(load.load(base), load.load(new))
    assert sorted(r.name for r in result.regressions) == [
        "getpid/syscall", "getppid/syscall", "read/syscall"]


def _gbench_compare(base, new):
    if not os.path.exists(GBENCH_COMPARE):
        pytest.skip(f"{GBENCH_COMPARE} absent: install Debian's libbenchmark-tools")
    if not shutil.which(synth.PYTHON):
        pytest.skip(f"{synth.PYTHON} absent")
    proc = subprocess.run(
        [synth.PYTHON, GBENCH_COMPARE, "--no-color", "benchmarks", base, new],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_google_benchmark_compare_py_reads_our_results():
    out = _gbench_compare(os.path.join(FIXTURES, "compare_base.json"),
                          os.path.join(FIXTURES, "compare_new.json"))
    for name in ("getpid/syscall/manual_time", "clock_gettime/vdso/manual_time",
                 "getpid/syscall/manual_time_pvalue", "getpid/ia32_syscall/manual_time"):
        assert name in out
    # Known limitation of compare.py, not of our file: a skipped row carries real_time 0
    # (Google Benchmark writes it so), which zeroes compare.py's geometric mean, so it
    # leaves out its OVERALL_GEOMEAN line whenever any path was skipped.
    assert "OVERALL_GEOMEAN" not in out


def test_google_benchmark_compare_py_geomean_without_skipped_rows(tmp_path):
    measured = tuple(p for p in synth.PATHS if not isinstance(p[2], str))
    base = synth.write_results(tmp_path / "a.json", seed=1, paths=measured)
    new = synth.write_results(tmp_path / "b.json", seed=2, paths=measured)
    assert "OVERALL_GEOMEAN" in _gbench_compare(base, new)


def test_real_sysgate_bench_files(tmp_path, capsys):
    """Two real runs of sysgate_bench on a busy 2-core VM, the second under an allow-all
    seccomp filter. Their figures are noise-dominated, so only what does not depend on the
    timings is asserted: they load, file into the store, compare, and say why to doubt it."""
    plain = os.path.join(FIXTURES, "history_real_vm.json")
    seccomp = os.path.join(FIXTURES, "history_real_vm_seccomp.json")
    db = tmp_path / "h.sqlite"
    assert store.add_results(db, plain) == 1 and store.add_results(db, seccomp) == 2
    result = compare.compare_runs(load.load(plain), load.load(seccomp))
    assert {r.name for r in result.rows} >= {"baseline/call", "getpid/syscall",
                                             "getppid/syscall", "lmbench/close_ebadf"}
    assert any("measurement conditions differ (seccomp: 0 -> 2" in w for w in result.warnings)
    assert cli.main(["compare", plain, seccomp]) in (0, 1)
    assert "getpid/syscall/manual_time" in _gbench_compare(plain, seccomp)


def _levelled(seed, level, noise=0.005):
    """A run whose every path sits `level` times the reference: a whole-run drift, as a
    VM host's load phase or another boot gives."""
    shift = {name: level for name, _, base in synth.PATHS if not isinstance(base, str)}
    return _run(seed=seed, noise=noise, shift=shift)


def test_several_runs_per_side_see_run_to_run_drift():
    base = [_levelled(1, 1.00), _levelled(2, 1.06), _levelled(3, 0.95)]
    new = [_levelled(4, 1.06), _levelled(5, 0.99), _levelled(6, 1.03)]
    # One run per side cannot tell a drift from a change ...
    single = compare.compare_runs(base[0], new[0])
    assert "getpid/syscall" in [r.name for r in single.regressions]
    assert any(n.startswith("one run per side") for n in single.notes)
    # ... three per side can: the hierarchical interval spans the drift.
    pooled = compare.compare_runs(base, new)
    assert pooled.regressions == [] and pooled.improvements == []
    assert pooled.notes == []
    row = next(r for r in pooled.rows if r.name == "getpid/syscall")
    assert len(row.base) == 30 and row.result.ci_low < 0 < row.result.ci_high


def test_several_runs_per_side_still_find_a_real_step():
    base = [_levelled(1, 1.00), _levelled(2, 1.01), _levelled(3, 0.99)]
    new = [_run(seed=s, noise=0.005, shift={"getpid/syscall": 1.10}) for s in (4, 5, 6)]
    result = compare.compare_runs(base, new)
    assert [r.name for r in result.regressions] == ["getpid/syscall"]
    assert result.regressions[0].result.ci_low > 0


def test_cli_pools_comma_lists_and_kernel_releases(tmp_path, capsys):
    files = [synth.write_results(tmp_path / f"b{i}.json", seed=i) for i in range(3)]
    newer = [synth.write_results(tmp_path / f"n{i}.json", seed=10 + i,
                                 shift={"getpid/syscall": 1.10},
                                 context={"kernel_release": "6.18.1"}) for i in range(2)]
    assert cli.main(["compare", ",".join(files), ",".join(newer)]) == 1
    out = capsys.readouterr().out
    assert "6.1.0-47-cloud-amd64 (3 runs)" not in out  # labels go to the page and charts
    assert f"base: {files[0]}, {files[1]}, {files[2]}" in out
    db = tmp_path / "h.sqlite"
    for path in files + newer:
        store.add_results(db, path)
    assert cli.main(["compare", "--db", str(db), "6.1.0-47-cloud-amd64", "6.18.1"]) == 1
    err = capsys.readouterr().err
    assert "6.1.0-47-cloud-amd64: pooling 3 run(s) of the same setup" in err
    assert "6.18.1: pooling 2 run(s) of the same setup" in err
    traced = synth.write_results(tmp_path / "traced.json", seed=30,
                                 context={"kernel_release": "6.18.1", "tracer_pid": "4242"})
    store.add_results(db, traced)
    assert cli.main(["compare", "--db", str(db), "6.1.0-47-cloud-amd64", "6.18.1"]) == 0
    err = capsys.readouterr().err  # the newest 6.18.1 run is traced: pooled alone
    assert "6.18.1: pooling 1 run(s) of the same setup (#6); 2 with other" in err


def test_holm_adjustment_controls_the_whole_comparison():
    assert compare.holm_adjust([]) == []
    assert compare.holm_adjust([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    # The k-th smallest is multiplied by m-k+1 and the sequence kept non-decreasing.
    assert compare.holm_adjust([0.001, 0.001]) == pytest.approx([0.002, 0.002])
    assert compare.holm_adjust([0.9, 0.6]) == pytest.approx([1.0, 1.0])
