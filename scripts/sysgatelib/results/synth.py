"""Synthetic sysgate results for the history/compare/trend tests and
benchmarks/store_bench.py.

Files look like what `sysgate_bench --benchmark_out_format=json` writes with Google
Benchmark 1.7.1: one row per repetition, `/manual_time` names, aggregates after, skipped
paths as error rows with zero times. Noise is multiplicative and seeded, so every test is
deterministic; no test asserts a timing of this machine.
"""

import json
import os
import random

# The CLI these results are fed to, run the way a user runs it (Debian's Python).
SCRIPTS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SYSGATE = os.path.join(SCRIPTS, "sysgate")
PYTHON = "/usr/bin/python3"

# (path, mechanism, median ns per call on the reference VM; None = skipped with this reason)
PATHS = (
    ("baseline/empty_loop", "asm", 0.36),
    ("baseline/call", "asm", 1.6),
    ("getpid/glibc", "glibc", 104.0),
    ("getpid/glibc_syscall", "glibc", 107.0),
    ("getpid/syscall", "syscall", 101.0),
    ("getpid/int80", "int80", 10400.0),
    ("getpid/ia32_vdso", "ia32_vdso", 170.0),
    ("getpid/ia32_syscall", "ia32_syscall", "SYSCALL from compat mode raises #UD on Intel"),
    ("getppid/syscall", "syscall", 99.0),
    ("clock_gettime/vdso", "vdso", 22.0),
    ("clock_gettime/syscall", "syscall", 206.0),
    ("time/vdso", "vdso", 2.7),
    ("time/syscall", "syscall", 96.0),
    ("getcpu/vdso", "vdso", 3.4),
    ("gettimeofday/vsyscall_page", "vsyscall_page", 640.0),
    ("read/syscall", "syscall", 180.0),
)
SYSCALL_MECHANISMS = {"syscall", "glibc", "int80", "ia32_vdso"}

BASE_CONTEXT = {
    "date": "2026-11-20T10:00:00+00:00",
    "host_name": "bench-vm-1",
    "executable": "build/benchmarks/sysgate_bench",
    "num_cpus": 2,
    "mhz_per_cpu": 2300,
    "cpu_scaling_enabled": False,
    "caches": [{"type": "Data", "level": 1, "size": 49152, "num_sharing": 1}],
    "load_avg": [0.3, 0.2, 0.1],
    "library_build_type": "debug",
    "sysgate_version": "0.1.0",
    "kernel_release": "6.1.0-47-cloud-amd64",
    "kernel_version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-09)",
    "boot_cmdline": "BOOT_IMAGE=/boot/vmlinuz-6.1.0-47-cloud-amd64 root=UUID=1234 ro "
                    "console=tty0 console=ttyS0,115200",
    "vuln.spectre_v2": "Mitigation: Enhanced / Automatic IBRS; IBPB: conditional",
    "vuln.retbleed": "Not affected",
    "vuln.gather_data_sampling": "Unknown: Dependent on hypervisor status",
    "cpu_vendor": "GenuineIntel",
    "cpu_model_name": "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz",
    "cpu_family": "6",
    "cpu_model": "143",
    "cpu_stepping": "8",
    "microcode": "0xffffffff",
    "cpu_flags": "pcid constant_tsc nonstop_tsc hypervisor",
    "hypervisor": "KVMKVMKVM",
    "clocksource": "kvm-clock",
    "glibc_version": "2.36",
    "perf_event_paranoid": "2",
    "cpufreq_governor": "unknown",
    "turbo": "unknown",
    "smt": "off",
    "seccomp": "0",
    "tracer_pid": "0",
    "pinned_cpu": "1",
    "tsc_hz": "2300000000",
    "tsc_invariant": "true",
    "tsc_calibration": "CLOCK_MONOTONIC_RAW",
    "baseline_call_tsc_ticks": "3.68",
    "emulated": "false",
}


def make_results(seed=0, repetitions=10, noise=0.01, shift=None, context=None, paths=PATHS,
                 add_ns=None, drift=1.0):
    """A results dict. shift: {path: factor} multiplies that path's latency (1.05 = +5%);
    add_ns: {path: ns} adds nanoseconds to it (a kernel change: the same ns per entry);
    drift multiplies every path (the machine ran slower), after add_ns."""
    rng = random.Random(seed)
    shift = shift or {}
    add_ns = add_ns or {}
    ctx = dict(BASE_CONTEXT)
    ctx.update(context or {})
    rows = []
    for family_index, (name, mechanism, base) in enumerate(paths):
        row_name = f"{name}/manual_time"
        common = {
            "name": row_name, "family_index": family_index, "per_family_instance_index": 0,
            "run_name": row_name, "run_type": "iteration", "repetitions": repetitions,
            "threads": 1, "time_unit": "ns",
        }
        if isinstance(base, str):
            for rep in range(repetitions):
                rows.append({
                    **common, "repetition_index": rep, "error_occurred": True,
                    "error_message": f"skipped: {base}", "iterations": 0,
                    "real_time": 0.0, "cpu_time": 0.0,
                })
            continue
        values = []
        for rep in range(repetitions):
            value = ((base * shift.get(name, 1.0) + add_ns.get(name, 0.0)) * drift
                     * rng.lognormvariate(0.0, noise))
            values.append(value)
            ticks = value * 2.3
            rows.append({
                **common, "repetition_index": rep,
                "iterations": max(1000, int(2e8 / max(value, 1.0))),
                "real_time": value, "cpu_time": value * 1.002, "label": mechanism,
                "tsc_ticks": ticks, "ratio_to_call": ticks / 3.68,
                "p50_ns": value * 0.98, "p90_ns": value * 1.05, "p99_ns": value * 1.4,
                "p999_ns": value * 3.0, "percall_samples": 100000.0,
            })
        values.sort()
        mean = sum(values) / len(values)
        median = (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2
        stddev = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
        for agg, value, unit in (("mean", mean, "time"), ("median", median, "time"),
                                 ("stddev", stddev, "time"), ("cv", stddev / mean, "percentage")):
            rows.append({
                **common, "name": f"{row_name}_{agg}", "run_type": "aggregate",
                "aggregate_name": agg, "aggregate_unit": unit, "iterations": repetitions,
                "real_time": value, "cpu_time": value, "label": mechanism,
            })
    return {"context": ctx, "benchmarks": rows}


def write_results(path, **kwargs):
    """Write make_results(**kwargs) to path, one benchmark row per line (small, diffable)."""
    data = make_results(**kwargs)
    rows = ",\n    ".join(json.dumps(row) for row in data["benchmarks"])
    with open(path, "w") as handle:
        handle.write('{\n  "context": ' + json.dumps(data["context"], indent=4)[:-1] + "  },\n")
        handle.write('  "benchmarks": [\n    ' + rows + "\n  ]\n}\n")
    return str(path)
