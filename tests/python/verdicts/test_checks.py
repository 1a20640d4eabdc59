"""checks: each warning fires on the evidence for it and stays silent without it."""

import copy
import json
import os

import pytest

from conftest import FIXTURES
from sysgatelib.results import load
from sysgatelib.verdicts import checks


def _data(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


def _keys(data):
    return {f.key for f in checks.check_run(load.parse(data, "test.json"))}


@pytest.fixture(scope="module")
def vm():
    return _data("vm_run.json")


@pytest.fixture(scope="module")
def pmu():
    return _data("pmu_host.json")


def test_vm_run_warns_about_int80_and_apic(vm):
    run = load.parse(vm, "vm_run.json")
    found = {f.key: f for f in checks.check_run(run)}
    assert "int80_apic" in found
    finding = found["int80_apic"]
    assert finding.severity == checks.WARNING
    assert "VM detected (KVM)" in finding.title
    assert "APIC" in finding.detail and "bare metal" in finding.remedy
    assert 50 < checks.int80_ratio(run) < 200
    # The generic VM note is folded into the int 0x80 warning, not repeated.
    assert "vm" not in found
    assert {"no_pmu", "observer_effect"} <= set(found)
    assert not {"not_pinned", "frequency", "tracing", "vdso_fallback"} & set(found)


def test_bare_metal_int80_ratio_is_quiet(pmu):
    keys = _keys(pmu)
    assert "int80_apic" not in keys and "vm" not in keys
    assert "no_pmu" not in keys  # PMU counters are present
    assert {"not_pinned", "frequency"} <= keys


def test_vm_without_int80_gets_the_plain_vm_note(vm):
    data = copy.deepcopy(vm)
    data["benchmarks"] = [r for r in data["benchmarks"] if "int80" not in r["name"]]
    keys = _keys(data)
    assert "vm" in keys and "int80_apic" not in keys


def test_int80_ratio_without_hypervisor_key_still_warns(vm):
    data = copy.deepcopy(vm)
    del data["context"]["hypervisor"]
    found = {f.key: f for f in checks.check_run(load.parse(data, "x.json"))}
    assert "probably in a guest" in found["int80_apic"].detail


def test_vdso_fallback_from_counter_and_from_kernel_entries(vm):
    data = copy.deepcopy(vm)
    for row in data["benchmarks"]:
        if row["name"].startswith("clock_gettime_monotonic/vdso"):
            row["vdso_fallback"] = 1.0
        if row["name"].startswith("time/vdso"):
            row["kernel_entries"] = 1.0
    data["context"]["clocksource"] = "hpet"
    run = load.parse(data, "x.json")
    found = {f.key: f for f in checks.check_run(run)}
    detail = found["vdso_fallback"].detail
    assert "clock_gettime_monotonic/vdso" in detail and "time/vdso" in detail
    assert "hpet" in detail
    # __kernel_vsyscall enters the kernel by design: never a fallback.
    assert "ia32_vdso" not in detail


def test_tracing_seccomp_audit(vm):
    data = copy.deepcopy(vm)
    data["context"].update({"seccomp": "2", "tracer_pid": "77", "perf_fds_other": "3",
                            "tracing_active": "raw_syscalls", "audit": "1"})
    found = {f.key: f for f in checks.check_run(load.parse(data, "x.json"))}
    detail = found["tracing"].detail
    for needle in ("seccomp", "TracerPid: 77", "perf event", "raw_syscalls", "audit"):
        assert needle in detail


def test_high_cv(vm):
    data = copy.deepcopy(vm)
    for row in data["benchmarks"]:
        if row["name"].startswith("getpid/syscall/") and row["run_type"] == "iteration":
            row["real_time"] *= 1 + 0.5 * row["repetition_index"]
    found = {f.key: f for f in checks.check_run(load.parse(data, "x.json"))}
    assert "getpid/syscall" in found["high_cv"].detail
    assert "--repetitions" in found["high_cv"].remedy
    # This run was pinned (pinned_cpu 1): the remedy does not ask to pin it.
    assert "pinned to CPU 1" in found["high_cv"].remedy
    assert "--cpu" not in found["high_cv"].remedy
    data["context"]["pinned_cpu"] = "none"
    found = {f.key: f for f in checks.check_run(load.parse(data, "x.json"))}
    assert "--cpu N" in found["high_cv"].remedy


def test_emulated_and_tsc(vm):
    data = copy.deepcopy(vm)
    data["context"].update({"emulated": "true", "tsc_invariant": "false"})
    keys = _keys(data)
    assert {"emulated", "tsc_not_invariant"} <= keys


def test_plain_google_benchmark_file_only_says_so():
    data = _data("gbench_plain.json")
    assert _keys(data) == {"not_sysgate"}


def test_warnings_come_first(pmu):
    data = copy.deepcopy(pmu)
    data["context"]["hypervisor"] = "KVMKVMKVM"
    severities = [f.severity for f in checks.check_run(load.parse(data, "x.json"))]
    assert severities == sorted(severities, key=lambda s: s != checks.WARNING)
    assert checks.INFO in severities and checks.WARNING in severities


def test_busy_machine_from_google_benchmarks_load_average(vm):
    data = copy.deepcopy(vm)
    data["context"].update({"load_avg": [3.9, 2.0, 1.0], "num_cpus": 2})
    found = {f.key: f for f in checks.check_run(load.parse(data, "x.json"))}
    assert "3.9 on 2 CPUs" in found["busy_machine"].title
    data["context"].update({"load_avg": [0.2, 0.1, 0.1]})
    assert "busy_machine" not in _keys(data)
    data["context"]["load_avg"] = "garbage"
    assert "busy_machine" not in _keys(data)


def test_unknown_observers_are_not_reported_as_present(vm):
    # A non-root run cannot see other users' perf fds: "unknown" is not "present".
    data = copy.deepcopy(vm)
    data["context"].update({"seccomp": "0", "tracer_pid": "0", "audit": "0",
                            "tracing_active": "unknown",
                            "perf_fds_other": "unknown (not root: other users' fds are not "
                                              "visible)"})
    found = {f.key: f for f in checks.check_run(load.parse(data, "x.json"))}
    assert "tracing" not in found
    unchecked = found["tracing_unchecked"]
    assert unchecked.severity == checks.INFO
    assert "perf event fds" in unchecked.detail and "not root" in unchecked.detail
    assert "syscall tracing" in unchecked.detail


def test_load_average_of_the_wrong_type_is_ignored(vm):
    data = copy.deepcopy(vm)
    data["context"]["load_avg"] = {"one": 9.0}
    found = {f.key for f in checks.check_run(load.parse(data, "x.json"))}
    assert "busy_machine" not in found
