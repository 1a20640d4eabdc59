"""The report page: a view of the runs, rendered by a jinja2 template with autoescape on.

Everything that comes from a results file reaches the page only through the template's
escaping; this module builds plain strings and numbers, never markup.
"""

import shlex

from .. import VERSION
from ..core import units
from ..results import busy
from ..verdicts import checks, indirect, stats
from . import plot, template_env


# Context keys the binary writes that the page shows in another form or leaves out on
# purpose, and why; every other key appears on the page by name or value
# (tests/python/results/test_contract.py runs the real binary's output through the report).
# A key (or a prefix ending in "." or "_") here is a decision, not an oversight.
CONTEXT_NOT_ON_PAGE = {
    "executable": "the binary's path on the measuring host: no fact about the kernel",
    "mhz_per_cpu": "Google Benchmark's nominal MHz; the page states the measured TSC rate",
    "cpu_scaling_enabled": "Google Benchmark's guess; the governor and turbo are checked",
    "caches": "cache sizes are not a property of kernel entry",
    "load_avg": "context only: busy is judged from busy.* (results/busy.py), which the "
                "Run line shows; the load average is the judgement only for older files",
    "library_build_type": "Debian's Google Benchmark is a debug build; the loops are ours",
    "baseline_call_tsc_ticks": "the table shows baseline/call's own row",
    "counters.": "each counter's source and reason are shown; event encodings are raw",
    "cpu_flags": "hundreds of flags; pcid and fred reach the mitigations line",
    "cpufreq_governor": "a warning when not performance (checks.py)",
    "turbo": "a warning when on (checks.py)",
    "tsc_": "the Timer line shows the TSC rate and resolution in words",
    "ia32_": "the 32-bit helper's state shows as its rows and their skip reasons",
    "runtime_": "runtime versions show as the runtime rows and their skip reasons",
    "vdso32_symbols": "the vDSO rows show what was found; symbol lists are raw",
    "vdso_symbols": "the vDSO rows show what was found; symbol lists are raw",
    "vsyscall_mode": "the vsyscall rows' skip reasons say it when it matters",
    "run.": "end-of-run counters; steal and involuntary switches are on the Run line",
    "sysgate_command": "the command line that made the file; the Run line says how",
    "min_time": "a setting compare diffs; the Run line gives repetitions and time",
    "filter": "a filtered run shows only its paths",
}


def _env():
    return template_env.environment()


def fmt_ns(value):
    return units.ns(value, "–")


def fmt_count(value):
    return units.count(value, "–")


def fmt_ratio(value):
    return units.ratio(value, "–")


# Every figure in a row is the mean over the same repetitions (plot.kbest_counter).
kbest_counter = plot.kbest_counter


def _counter(key):
    return lambda run, path: kbest_counter(path, key)


def _cycles(run, path):
    total = kbest_counter(path, "cycles")
    if total is not None:
        return total
    user, kernel = kbest_counter(path, "cycles_user"), kbest_counter(path, "cycles_kernel")
    if user is None and kernel is None:
        return None
    return (user or 0.0) + (kernel or 0.0)


def kernel_entries(run, path):
    """Every way into the kernel the counting pass sees: system calls plus page faults
    (a vsyscall-page call enters through a fault, not a syscall). Files that record
    `syscall_entries` (counters.kernel_entries.source "derived") already sum them in
    `kernel_entries`; older ones wrote the tracepoint count alone under that name."""
    entries = kbest_counter(path, "kernel_entries")
    if "syscall_entries" in path.counters or (
            checks.counter_sources(run).get("kernel_entries") == "derived"):
        return entries
    faults = kbest_counter(path, "page_faults")
    if entries is None and faults is None:
        return None
    return (entries or 0.0) + (faults or 0.0)


def _ratio(run, path):
    return plot.ratio_to_baseline(run, path)


# Optional columns: (key, header, explanation, value(run, path), format). A column is
# shown for a run when at least one of its measured paths has a value.
OPTIONAL_COLUMNS = (
    ("ratio", "× baseline", "ns/call divided by the row's baseline's (its plain call): how "
     "many plain calls the path costs", _ratio, fmt_ratio),
    ("tsc_ticks", "TSC ticks", "TSC ticks per call: reference ticks, not core cycles",
     _counter("tsc_ticks"), fmt_count),
    ("cycles", "cycles", "core cycles per call, counted by the PMU", _cycles, fmt_count),
    ("kernel_entries", "kernel entries", "kernel entries per call: system calls "
     "(raw_syscalls:sys_enter) plus page faults", kernel_entries, fmt_count),
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
    ("p99_ns", "p99 single call ns", "99th percentile of single-call latency from the "
     "per-call pass (rdtscp around each call, the empty pair subtracted)",
     _counter("p99_ns"), fmt_ns),
)


# CPU vulnerabilities whose mitigation runs on every kernel entry or exit (page-table
# switch, return-stack and branch-predictor barriers, buffer clearing): these move the
# cost of a system call; the others (l1tf, itlb_multihit, srbds, ...) do not.
ENTRY_VULNERABILITIES = ("meltdown", "spectre_v1", "spectre_v2", "retbleed",
                         "spec_rstack_overflow", "mds", "tsx_async_abort", "mmio_stale_data",
                         "reg_file_data_sampling", "gather_data_sampling",
                         "indirect_target_selection", "tsa", "its", "bhi")
_BOOT_LOADER_WORDS = ("BOOT_IMAGE=", "initrd=", "root=", "rootflags=", "rootfstype=")
_BOOT_LOADER_FLAGS = {"ro", "rw"}
_MITIGATION_OPTIONS = ("mitigations=", "pti=", "nopti", "spectre_v2=", "spectre_v2_user=",
                       "retbleed=", "nospectre", "spec_rstack_overflow=", "mds=", "tsa=",
                       "ia32_emulation=", "vsyscall=", "fred=", "clearcpuid=")


def _words(cmdline):
    try:
        return shlex.split(cmdline or "")
    except ValueError:
        return (cmdline or "").split()


def boot_options(cmdline):
    """The kernel command line without the boot loader's own words (image, root, ro) and
    without what follows "--", which the kernel hands to init, not to itself."""
    words = _words(cmdline)
    init = words[words.index("--") + 1:] if "--" in words else []
    words = words[: len(words) - len(init) - (1 if init or "--" in words else 0)]
    kept = " ".join(w for w in words
                    if not w.startswith(_BOOT_LOADER_WORDS) and w not in _BOOT_LOADER_FLAGS)
    if init:
        kept += f" (and {len(init)} arguments for init after --)"
    return kept


def _mitigations(context):
    items = sorted((k.removeprefix("vuln."), v) for k, v in context.items()
                   if k.startswith("vuln."))
    entry = []
    for name, status in items:
        if name in ENTRY_VULNERABILITIES and not status.lower().startswith("not affected"):
            entry.append(f"{name}: {status}")
    options = [w for w in _words(context.get("boot_cmdline", ""))
               if w.startswith(_MITIGATION_OPTIONS)]
    flags = [f for f in context.get("cpu_flags", "").split() if f in ("fred", "pcid")]
    summary = "; ".join(entry) if items else ""
    if options:
        summary = (summary + "; " if summary else "") + "boot: " + " ".join(options)
    if flags:
        summary = (summary + "; " if summary else "") + "CPU: " + " ".join(flags)
    if items and not entry:
        summary = "none needed (every entry-relevant one: not affected)" + (
            "; " + summary if summary else "")
    return {"summary": summary or "not recorded", "items": items}


def _duration(context):
    seconds = context.get("run_seconds")
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return seconds
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def _timer(run):
    """The TSC, one tick, and the single-call resolution (one empty rdtscp pair)."""
    ctx = run.context
    try:
        hz = float(ctx["tsc_hz"])
    except (KeyError, ValueError):
        return ctx.get("tsc_hz")
    if hz <= 0:
        return None
    text = f"TSC {hz / 1e9:.3f} GHz"
    invariant = ctx.get("tsc_invariant")
    if invariant:
        text += ", invariant" if invariant == "true" else f", invariant: {invariant}"
    text += f"; 1 tick = {units.ns(1e9 / hz)} ns"
    resolution = plot.percall_resolution_ns(run)
    pair = ctx.get("tsc_pair_overhead_ticks")
    if pair and resolution:
        text += (f"; empty rdtscp pair {pair} ticks = {units.with_unit(resolution)}: "
                 "single-call figures below it are marked as below resolution")
    return text


def counter_lines(run):
    """[(column, where its numbers came from)] and [(column, why it is missing)], from
    the binary's records (checks.counter_sources / counter_unavailable); a column's
    calibration ("user mode only: <why>", the mode-switch multiplier) joins its source."""
    sources = checks.counter_sources(run)
    missing = checks.counter_unavailable(run)
    recorded = []
    for column, source in sources.items():
        calibration = run.context.get(f"counters.{column}.calibration")
        recorded.append((column, f"{source}; {calibration}" if calibration else source))
    if not recorded and not missing and run.is_sysgate:
        counted = sorted({k for p in run.measured() for k in p.counters
                          if k in checks.COUNTING_PASS_COLUMNS})
        recorded = [(k, "not recorded in this file") for k in counted]
    return recorded, checks.grouped_reasons(missing)


def _counting_notes(run):
    """The counting pass's other records: the PMU, multiplexed paths, paths not counted."""
    ctx = run.context
    notes = []
    if ctx.get("counters.pmu", "none") != "none":
        notes.append(f"PMU {ctx['counters.pmu']}")
    if ctx.get("counters.multiplexed"):
        notes.append(f"multiplexed, counts estimated: {ctx['counters.multiplexed']}")
    if ctx.get("counters.skipped_paths"):
        notes.append(f"paths not counted: {ctx['counters.skipped_paths']}")
    if ctx.get("counters.ia32_helper"):
        notes.append(f"32-bit rows: {ctx['counters.ia32_helper']}")
    return notes


def _cpu(ctx):
    cpu = ctx.get("cpu_model_name")
    if cpu and ctx.get("microcode"):
        cpu += f", microcode {ctx['microcode']}"
    if cpu and ctx.get("num_cpus"):
        cpu += f"; {ctx['num_cpus']} CPUs"
    return cpu


def _hypervisor(run):
    hypervisor = checks.hypervisor_name(run)
    if hypervisor and hypervisor != "bare metal":
        hypervisor = f"{hypervisor} guest"
    if run.emulated:
        hypervisor = f"{hypervisor or 'guest'}, emulated (TCG)"
    return hypervisor


def _run_line(run):
    ctx = run.context
    parts = [ctx.get("run_started") or ctx.get("date")]
    took = _duration(ctx)
    if took:
        parts.append(f"took {took}")
    reps = max((len(p.samples_ns) for p in run.paths.values()), default=0)
    if reps:
        parts.append(f"{reps} repetitions")
    if ctx.get("pinned_cpu"):
        parts.append(f"pinned CPU {ctx['pinned_cpu']}")
    if ctx.get("pinning_error"):
        parts.append(f"not pinned: {ctx['pinning_error']}")
    # The run's conditions (docs/results-format.md, run.*): time the host took from the
    # pinned CPU, and how often the measuring thread was switched out.
    for key, label in (("run.cpu_steal_ms", "steal on the pinned CPU {} ms"),
                       ("run.involuntary_switches", "{} involuntary switches"),
                       ("estimator", "estimator {}")):
        if ctx.get(key) not in (None, "", "unknown"):
            parts.append(label.format(ctx[key]))
    facts = busy.from_context(ctx)
    if facts is not None:
        parts.append(f"while measuring {busy.describe(facts)}"
                     + (" (busy)" if busy.is_busy(facts) else ""))
    freq = [f"{label} {ctx[k]}" for k, label in
            (("cpufreq_governor", "governor"), ("turbo", "turbo"), ("smt", "SMT"))
            if k in ctx and ctx[k] != "unknown"]
    parts += freq
    if ctx.get("glibc_version"):
        parts.append(f"glibc {ctx['glibc_version']}")
    parts.append(f"sysgate {ctx['sysgate_version']}" if run.is_sysgate else
                 "Google Benchmark file (no sysgate context)")
    return ", ".join(p for p in parts if p)


def summary_rows(runs):
    """The machine summary: [(fact, [value per run])], facts no run records left out."""
    def clocksource(run):
        source = run.context.get("clocksource")
        mode = run.context.get("vdso_clock_mode")
        return f"{source} (vDSO clock mode {mode})" if source and mode else source

    def counters(run):
        recorded, missing = counter_lines(run)
        text = ", ".join(f"{k} ({v})" for k, v in recorded)
        if missing:
            text += ("; " if text else "") + "not counted: " + "; ".join(
                f"{k}: {v}" for k, v in missing)
        notes = _counting_notes(run)
        if notes:
            text += ("; " if text else "") + "; ".join(notes)
        return text or None

    facts = (
        ("CPU", lambda r: _cpu(r.context)),
        ("Hypervisor", _hypervisor),
        ("Kernel", lambda r: " ".join(x for x in (r.context.get("kernel_release"),
                                                 r.context.get("kernel_version")) if x)),
        ("Boot options", lambda r: boot_options(r.context.get("boot_cmdline"))),
        ("Entry mitigations", lambda r: _mitigations(r.context)["summary"]
         if r.is_sysgate else None),
        ("Clocksource", clocksource),
        ("Timer", _timer),
        ("Counters", counters),
        ("Run", _run_line),
        ("Results file", lambda r: r.source),
    )
    rows = []
    for name, value in facts:
        values = [value(run) or "" for run in runs]
        if any(values):
            rows.append((name, values))
    return rows


def _cell_ns(value, resolution):
    """A single-call figure, marked when below the per-call resolution."""
    if value is not None and resolution and value < resolution:
        return {"text": f"< {units.ns(resolution)}", "below": True}
    return {"text": fmt_ns(value), "below": False}


def _families(run, columns):
    families = {}
    for path in run.paths.values():
        families.setdefault(path.family, []).append(path)
    flagged = {p.name for p in checks.vdso_fallbacks(run)}
    bimodal = {p.name: checks.mode_note(m) for p, m in checks.process_modes(run)}
    resolution = plot.percall_resolution_ns(run)
    view = []
    for family, paths in families.items():
        rows = []
        for path in paths:
            mechanism = path.mechanism + (" (32-bit)" if path.abi == "ia32" else "")
            row = {"name": path.name, "variant": path.variant or path.name,
                   "mechanism": mechanism, "skipped": path.skipped, "flags": [],
                   "baseline": path.baseline}
            if path.skipped is None and path.samples_ns:
                samples = path.samples_ns
                cells = []
                for key, _, _, value, fmt in columns:
                    figure = value(run, path)
                    cells.append(_cell_ns(figure, resolution) if key.startswith("p9") else
                                 {"text": fmt(figure), "below": False})
                row.update({
                    "ns": fmt_ns(stats.kbest_mean(samples)),
                    "ci": "",
                    "cv": f"{stats.cv(samples):.1%}" if len(samples) > 1 else "–",
                    "reps": len(samples),
                    "cells": cells,
                })
                if len(samples) > 1:
                    low, high = plot.leading_ci(path)
                    row["ci"] = f"{fmt_ns(low)}–{fmt_ns(high)}"
                if path.name in flagged:
                    row["flags"].append("vDSO fell back to a syscall")
                if path.name in bimodal:
                    row["flags"].append(bimodal[path.name])
            elif path.skipped is None:
                row["skipped"] = "skipped: no measurement in the file"
            elif not path.skipped.startswith("failed"):
                row["skipped"] = f"skipped: {path.skipped}"
            rows.append(row)
        view.append({"name": family, "rows": rows})
    return view


def run_view(run, index, label):
    measured = run.measured()
    columns = [c for c in OPTIONAL_COLUMNS
               if any(c[3](run, p) is not None for p in measured)]
    recorded, missing = counter_lines(run)
    return {
        "index": index,
        "label": label,
        "colour": plot.run_colour(index),
        "cmdline": run.context.get("boot_cmdline"),
        "mitigations": _mitigations(run.context)["items"],
        "findings": checks.check_run(run),
        "columns": [(key, header, why) for key, header, why, _, _ in columns],
        "families": _families(run, columns),
        "indirect": indirect.view(run, fmt_ns),
        "sources": recorded,
        "missing": missing,
        "n_paths": len(run.paths),
        "n_skipped": len(run.skipped()),
        "kbest": stats.kbest_k(max((len(p.samples_ns) for p in measured), default=0)),
    }


def render(runs, charts, headline=(None, [])):
    """The page as a string. charts: [(file name or None, caption, why absent)];
    headline: (file name or None, [notes, numbered from 1 as on the chart])."""
    labels = plot.run_labels(runs)
    views = [run_view(run, i, label) for i, (run, label) in enumerate(zip(runs, labels))]
    template = _env().get_template("report.html.j2")
    title = "sysgate report: " + (views[0]["label"] if len(views) == 1
                                  else f"{len(views)} runs")
    return template.render(title=title, runs=views, charts=charts, version=VERSION,
                           summary=summary_rows(runs), headline=headline[0],
                           notes=headline[1],
                           headline_families=plot.headline_families(runs),
                           kbest=max((v["kbest"] for v in views), default=1))
