"""The report page: a view of the runs, rendered by a jinja2 template with autoescape on.

Everything that comes from a results file reaches the page only through the template's
escaping; this module builds plain strings and numbers, never markup.
"""

import os
import shlex

from . import VERSION, checks, indirect, plot, stats, units

_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def _env():
    import jinja2  # imported late: the CLI starts without jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every file is HTML; a kernel command line can hold anything
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def fmt_ns(value):
    return units.ns(value, "–")


def fmt_count(value):
    return units.count(value, "–")


def fmt_ratio(value):
    return units.ratio(value, "–")


# Optional columns: (key, header, explanation, value(run, path)). A column is shown for a
# run when at least one of its measured paths has a value.
def _counter(key):
    return lambda run, path: path.counter(key)


def _cycles(run, path):
    total = path.counter("cycles")
    if total is not None:
        return total
    user, kernel = path.counter("cycles_user"), path.counter("cycles_kernel")
    if user is None and kernel is None:
        return None
    return (user or 0.0) + (kernel or 0.0)


def _ratio(run, path):
    """ns/call over baseline/call's, as the terminal summary has it; else the TSC counter."""
    call = plot.leading_ns(run, "baseline/call")
    if call:
        return stats.kbest_mean(path.samples_ns) / call
    return path.counter("ratio_to_call")


OPTIONAL_COLUMNS = (
    ("tsc_ticks", "TSC ticks", "TSC ticks per call: reference ticks, not core cycles",
     _counter("tsc_ticks"), fmt_count),
    ("cycles", "cycles", "core cycles per call, counted by the PMU", _cycles, fmt_count),
    ("ratio", "× call", "ns/call divided by baseline/call's: how many plain calls the path "
     "costs", _ratio, fmt_ratio),
    ("kernel_entries", "kernel entries", "kernel entries per call", _counter("kernel_entries"),
     fmt_count),
    ("mode_switches", "mode switches", "user/kernel transitions per call (PMU far branches)",
     _counter("mode_switches"), fmt_count),
    ("cycles_user", "user cycles", "core cycles in user mode per call",
     _counter("cycles_user"), fmt_count),
    ("cycles_kernel", "kernel cycles", "core cycles in kernel mode per call",
     _counter("cycles_kernel"), fmt_count),
    ("instructions_user", "user instr.", "instructions retired in user mode per call",
     _counter("instructions_user"), fmt_count),
    ("instructions_kernel", "kernel instr.", "instructions retired in kernel mode per call",
     _counter("instructions_kernel"), fmt_count),
    ("p99_ns", "p99 ns", "99th percentile of single-call latency (per-call pass)",
     _counter("p99_ns"), fmt_ns),
)
_PMU_COLUMNS = {"cycles", "mode_switches", "cycles_user", "cycles_kernel",
                "instructions_user", "instructions_kernel"}


def _mitigations(context):
    items = sorted((k.removeprefix("vuln."), v) for k, v in context.items()
                   if k.startswith("vuln."))
    counts = {}
    for _, status in items:
        lowered = status.lower()
        kind = ("vulnerable" if lowered.startswith("vulnerable") else
                "mitigated" if "mitigation" in lowered else
                "not affected" if lowered.startswith("not affected") else "other")
        counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{counts[k]} {k}" for k in
                        ("vulnerable", "mitigated", "not affected", "other") if k in counts)
    try:
        words = shlex.split(context.get("boot_cmdline", ""))
    except ValueError:
        words = context.get("boot_cmdline", "").split()
    options = [w for w in words if w.startswith(("mitigations=", "pti=", "spectre_v2=",
                                                  "retbleed=", "nospectre", "nopti"))]
    if options:
        summary = (summary + "; " if summary else "") + "boot: " + " ".join(options)
    return {"summary": summary or "not recorded", "items": items}


def _duration(context):
    seconds = context.get("run_seconds")
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return seconds
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def _tsc(context):
    hz = context.get("tsc_hz")
    try:
        text = f"{float(hz) / 1e9:.3f} GHz"
    except (TypeError, ValueError):
        return hz
    invariant = context.get("tsc_invariant")
    if invariant:
        text += ", invariant" if invariant == "true" else f", invariant: {invariant}"
    return text


def _facts(run):
    ctx = run.context
    cpu = ctx.get("cpu_model_name")
    if cpu and ctx.get("microcode"):
        cpu += f" (microcode {ctx['microcode']})"
    kernel = ctx.get("kernel_release")
    if kernel and ctx.get("kernel_version"):
        kernel += f" {ctx['kernel_version']}"
    hypervisor = checks.hypervisor_name(run)
    if hypervisor and hypervisor != "bare metal":
        hypervisor = f"{hypervisor} guest"
    if run.emulated:
        hypervisor = f"{hypervisor or 'guest'}, emulated (TCG)"
    date = ctx.get("run_started") or ctx.get("date")
    freq = [f"{label} {ctx[k]}" for k, label in
            (("cpufreq_governor", "governor"), ("turbo", "turbo"), ("smt", "SMT")) if k in ctx]
    facts = [
        ("Host", ctx.get("host_name")),
        ("CPU", cpu),
        ("Kernel", kernel),
        ("Hypervisor", hypervisor),
        ("Mitigations", _mitigations(ctx)["summary"] if run.is_sysgate else None),
        ("Date", date),
        ("Run took", _duration(ctx)),
        ("Clocksource", ctx.get("clocksource")),
        ("TSC", _tsc(ctx)),
        ("Pinned CPU", ctx.get("pinned_cpu")),
        ("Frequency", ", ".join(freq) or None),
        ("glibc", ctx.get("glibc_version")),
        ("perf_event_paranoid", ctx.get("perf_event_paranoid")),
        ("Tool", f"sysgate {ctx['sysgate_version']}" if run.is_sysgate else
         "Google Benchmark (no sysgate context)"),
        ("Results file", run.source),
    ]
    return [(k, v) for k, v in facts if v]


def _families(run, columns):
    families = {}
    for path in run.paths.values():
        families.setdefault(path.family, []).append(path)
    flagged = {p.name for p in checks.vdso_fallbacks(run)}
    view = []
    for family, paths in families.items():
        rows = []
        for path in paths:
            row = {"name": path.name, "variant": path.variant or path.name,
                   "mechanism": path.mechanism, "skipped": path.skipped, "flags": []}
            if path.skipped is None and path.samples_ns:
                samples = path.samples_ns
                low, high = stats.bootstrap_median_ci(samples)
                row.update({
                    "ns": fmt_ns(stats.kbest_mean(samples)),
                    "median": fmt_ns(stats.median(samples)),
                    "ci": f"{fmt_ns(low)}–{fmt_ns(high)}" if len(samples) > 1 else "",
                    "cv": f"{stats.cv(samples):.1%}" if len(samples) > 1 else "–",
                    "reps": len(samples),
                    "cells": [fmt(value(run, path)) for _, _, _, value, fmt in columns],
                })
                if path.name in flagged:
                    row["flags"].append("vDSO fell back to a syscall")
            elif path.skipped is None:
                row["skipped"] = "skipped: no measurement in the file"
            elif not path.skipped.startswith("failed"):
                row["skipped"] = f"skipped: {path.skipped}"
            rows.append(row)
        view.append({"name": family, "rows": rows})
    return view


def _missing_notes(run, shown):
    """Why absent counter columns are absent, from counter_missing.* or a plain guess."""
    notes = [f"{k.removeprefix('counter_missing.')}: {v}" for k, v in run.context.items()
             if k.startswith("counter_missing.")]
    if not notes and run.is_sysgate and not (_PMU_COLUMNS & shown):
        notes.append("cycles, instructions, mode switches: no PMU counts in this file")
    return notes


def _sources(run, shown):
    return [(key, run.context[f"counter_source.{key}"]) for key in sorted(shown)
            if f"counter_source.{key}" in run.context]


def run_view(run, index, label):
    measured = run.measured()
    columns = [c for c in OPTIONAL_COLUMNS
               if any(c[3](run, p) is not None for p in measured)]
    shown = {c[0] for c in columns}
    return {
        "index": index,
        "label": label,
        "colour": plot.run_colour(index),
        "facts": _facts(run),
        "cmdline": run.context.get("boot_cmdline"),
        "mitigations": _mitigations(run.context)["items"],
        "findings": checks.check_run(run),
        "columns": [(key, header, why) for key, header, why, _, _ in columns],
        "families": _families(run, columns),
        "indirect": indirect.view(run, fmt_ns),
        "missing": _missing_notes(run, shown),
        "sources": _sources(run, shown),
        "n_paths": len(run.paths),
        "n_skipped": len(run.skipped()),
    }


def render(runs, charts):
    """The page as a string. charts: [(file name or None, caption, why absent)]."""
    labels = plot.run_labels(runs)
    views = [run_view(run, i, label) for i, (run, label) in enumerate(zip(runs, labels))]
    template = _env().get_template("report.html.j2")
    title = "sysgate report: " + (views[0]["label"] if len(views) == 1
                                  else f"{len(views)} runs")
    return template.render(title=title, runs=views, charts=charts, version=VERSION,
                           kbest=stats.kbest_k(max((len(p.samples_ns) for r in runs
                                                    for p in r.paths.values()), default=0)))
