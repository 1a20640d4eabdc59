"""Reading results files: every bad input is one `error: <file>: <why>` line."""

import json

import pytest
from conftest import FIXTURES
from sysgatelib.core.errors import UserError
from sysgatelib.results import load
from sysgatelib.verdicts import stats


def gb_file(rows, context=None):
    return {"context": context if context is not None else {"host_name": "h"}, "benchmarks": rows}


def row(name, real_time, rep=0, **extra):
    return {"name": f"{name}/manual_time", "run_name": f"{name}/manual_time",
            "run_type": "iteration", "repetition_index": rep, "real_time": real_time,
            "time_unit": "ns", "iterations": 100, **extra}


@pytest.mark.parametrize("content, words", [
    ("", "empty file"),
    ('{"context": {}, "benchmarks": [', "invalid JSON"),
    ("[1, 2]", "top level is a list"),
    ('{"foo": 1}', "no 'context' and 'benchmarks'"),
    (b"\xff\xfe\x00garbage", "not a text file"),
])
def test_bad_files(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UserError) as err:
        load.load(path)
    assert str(err.value).startswith(f"{path}: ")
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        load.load(tmp_path / "nope.json")
    with pytest.raises(UserError, match="is a directory"):
        load.load(tmp_path)


def test_repetitions_counters_skips_and_aggregates(tmp_path):
    rows = [
        row("getpid/syscall", 120.0, 0, tsc_ticks=300.0, label="syscall", family_index=1),
        row("baseline/call", 1.5, 0, family_index=0),
        row("getpid/syscall", 0.110, 1, tsc_ticks=280.0, family_index=1, time_unit="us"),
        {"name": "getpid/syscall/manual_time_mean", "run_name": "getpid/syscall/manual_time",
         "run_type": "aggregate", "aggregate_name": "mean", "real_time": 115.0, "family_index": 1},
        {"name": "getpid/ia32_sysenter/manual_time", "run_name": "getpid/ia32_sysenter/manual_time",
         "run_type": "iteration", "error_occurred": True, "family_index": 2,
         "error_message": "skipped: SYSENTER is not valid in compat mode on AMD CPUs"},
    ]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(gb_file(rows, {"sysgate_version": "0.1.0", "num_cpus": 2})))
    run = load.load(path)
    assert run.is_sysgate and run.context["num_cpus"] == "2"
    assert list(run.paths) == ["baseline/call", "getpid/syscall", "getpid/ia32_sysenter"]
    syscall = run.paths["getpid/syscall"]
    assert syscall.samples_ns == [120.0, 110.0]
    assert syscall.mechanism == "syscall"
    assert syscall.counter("tsc_ticks") == 290.0
    assert syscall.family == "getpid" and syscall.variant == "syscall"
    skipped = run.paths["getpid/ia32_sysenter"]
    assert skipped.skipped == "SYSENTER is not valid in compat mode on AMD CPUs"
    assert [p.name for p in run.skipped()] == ["getpid/ia32_sysenter"]


def test_plain_google_benchmark_file_loads_without_sysgate_context(tmp_path):
    path = tmp_path / "gb.json"
    path.write_text(json.dumps(gb_file([row("BM_Foo", 3.0)])))
    run = load.load(path)
    assert not run.is_sysgate
    assert run.paths["BM_Foo"].samples_ns == [3.0]


def test_kbest_mean_and_median():
    samples = [130.0, 104.0, 125.0, 105.0, 106.0, 140.0]
    assert stats.kbest_mean(samples, 3) == pytest.approx(104.5)  # 6 samples: k = 2
    assert stats.kbest_mean(samples * 2, 3) == pytest.approx((104 + 104 + 105) / 3)  # 12: 3
    assert stats.kbest_mean([130.0, 104.0, 125.0]) == 104.0  # 3 samples: the minimum
    assert stats.median(samples) == pytest.approx(115.5)
    low, high = stats.bootstrap_median_ci(samples)
    assert low <= stats.median(samples) <= high


def test_row_facts_come_from_the_label_and_old_labels_still_load(tmp_path):
    rows = [
        row("getcpu/ia32_vdso", 30.0, label="mechanism=vdso abi=ia32 family=getcpu "
            "variant=ia32_vdso baseline=baseline/ia32_call expected_entries=0"),
        row("new/thing", 5.0, label="mechanism=runtime abi=x86_64 family=new variant=thing "
            "baseline=baseline/call peer=getpid/syscall"),
        row("getpid/ia32_int80", 900.0, label="ia32_int80"),  # sysgate 0.x: the mechanism only
        row("time/vsyscall_page", 900.0, label="vsyscall"),
    ]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(gb_file(rows)))
    run = load.load(path)
    vdso = run.paths["getcpu/ia32_vdso"]
    assert (vdso.mechanism, vdso.abi, vdso.baseline, vdso.expected_entries) == (
        "vdso", "ia32", "baseline/ia32_call", 0.0)
    new = run.paths["new/thing"]
    assert (new.mechanism, new.baseline, new.peer) == ("runtime", "baseline/call", "getpid/syscall")
    assert new.expected_entries is None and new.enters_kernel is None
    old = run.paths["getpid/ia32_int80"]
    assert (old.mechanism, old.abi, old.baseline, old.expected_entries) == (
        "int80", "ia32", "baseline/ia32_call", 1.0)
    page = run.paths["time/vsyscall_page"]
    assert (page.mechanism, page.expected_entries) == ("vsyscall_page", 1.0)


REAL_QUICK = FIXTURES / "real_quick.json"


@pytest.mark.skipif(not REAL_QUICK.exists(),
                    reason="fixtures/real_quick.json not generated (make_fixtures.py --from-run)")
def test_a_real_run_states_every_fact_in_every_row():
    run = load.load(REAL_QUICK)
    assert run.paths
    for path in run.paths.values():
        assert path.mechanism in load.MECHANISMS, path.name
        assert path.abi in ("x86_64", "ia32"), path.name
        assert path.baseline in run.paths or path.skipped, path.name
    assert run.context.get("estimator")


# --- the validation gate (validate.py): a file is accepted whole or refused whole --------


def _good_rows():
    return [row("baseline/call", 1.5, 0, family_index=0, per_family_instance_index=0),
            row("baseline/call", 1.6, 1, family_index=0, per_family_instance_index=0)]


@pytest.mark.parametrize("text, words", [
    ('{"context": {}, "benchmarks": []}', "zero benchmarks"),
    ('{"context": {}, "benchmarks": [' + "[" * 5000 + "]" * 5000 + "]}", "levels deep"),
    ('{"context": {}, "benchmarks": [{"name": "a", "real_time": ' + "1" * 5000 + "}]}",
     "too long"),
    ('{"context": {}, "benchmarks": [{"name": "a", "real_time": Infinity}]}', "Infinity"),
    ('{"context": {}, "benchmarks": [{"name": "a", "real_time": NaN}]}', "real_time"),
    ('{"context": {}, "benchmarks": [{"name": "a", "real_time": 1e308}]}', "out of range"),
    ('{"context": {}, "benchmarks": [{"name": "a", "real_time": -3}]}', "not a positive"),
    ('{"context": {}, "benchmarks": [{"name": "a", "real_time": 0}]}', "not a positive"),
    ('{"context": {"load_avg": {"a": 1}}, "benchmarks": [{"name": "a", "real_time": 1}]}',
     "load_avg"),
    ('{"context": {}, "benchmarks": [{"name": "' + "n" * 300 + '", "real_time": 1}]}',
     "300 characters"),
    ("\x89PNG\r\n\x1a\n\x00\x00", "not a results file"),
    ("hello world", "not a results file"),
])
def test_gate_refuses_by_name(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        load.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and words in message and "\n" not in message
    assert "truncated" not in message


def test_gate_refuses_duplicated_rows(tmp_path):
    rows = _good_rows()
    path = tmp_path / "twice.json"
    path.write_text(json.dumps(gb_file(rows + rows)))
    with pytest.raises(UserError, match="repeats an earlier row"):
        load.load(path)


def test_gate_refuses_fifo_and_devices_without_blocking(tmp_path):
    import os
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    with pytest.raises(UserError, match="a FIFO"):
        load.load(fifo)
    with pytest.raises(UserError, match="a character device"):
        load.load("/dev/zero")


def test_gate_refuses_oversized_file_by_size(tmp_path):
    from sysgatelib.results import validate
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(validate.MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(UserError, match="too large"):
        load.load(path)


def test_gate_accepts_bom_and_nan_counters(tmp_path):
    rows = _good_rows()
    rows[0]["percall_outliers"] = float("nan")  # Google Benchmark's "counter not set"
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(gb_file(rows)).encode())
    run = load.load(path)
    assert run.paths["baseline/call"].samples_ns == [1.5, 1.6]
    assert run.paths["baseline/call"].counter("percall_outliers") is None


def test_truncated_file_says_truncated(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps(gb_file(_good_rows()))[:-20])
    with pytest.raises(UserError, match="truncated file"):
        load.load(path)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-1", "lots"])
def test_threshold_type_refuses_non_finite_and_negative(text):
    import argparse

    from sysgatelib.results import validate
    with pytest.raises(argparse.ArgumentTypeError):
        validate.non_negative(text)
    assert validate.non_negative("2.5") == 2.5 and validate.non_negative("0") == 0
