"""Read a results file (Google Benchmark JSON plus sysgate's context) into a Run.

The format is documented in docs/results-format.md. Everything that can be wrong with a
file the user hands us becomes a UserError naming the file and the problem.
"""

import json
import math
import os
from dataclasses import dataclass, field

from . import legacy, validate
from ..core.errors import UserError

_MANUAL_TIME_SUFFIX = "/manual_time"
_TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Keys of a Google Benchmark row that are not user counters.
_ROW_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time",
    "cpu_time", "time_unit", "label", "error_occurred", "error_message",
    "aggregate_name", "aggregate_unit", "big_o", "rms", "process_index",
}


# The contract every consumer (checks, summary, plots, compare, trend, store) reads a
# path's facts through. The binary states them for each row (docs/results-format.md);
# only for files written before it did are they derived, in legacy.py, and nowhere else.
#   mechanism        the way into the kernel, one of MECHANISMS
#   abi              "x86_64", or "ia32" for the 32-bit helper's rows
#   baseline         the path name this row is divided by and compared with
#   expected_entries kernel entries one call is expected to make (syscalls and faults);
#                    0 for baselines and pure user-mode (vDSO) paths: the controls
MECHANISMS = ("loop", "call", "glibc", "syscall", "int80", "sysenter", "vdso",
              "vsyscall_page", "io_uring", "runtime")


@dataclass
class PathResult:
    """One path of one run: its facts from the path table, repetition samples, counters."""

    name: str
    mechanism: str = ""
    abi: str = "x86_64"
    baseline: str = ""
    expected_entries: float | None = None  # None: not stated and not derivable
    peer: str = ""  # the row this one is best read next to (getpid/int80: getpid/syscall)
    skipped: str | None = None  # the reason, without the "skipped: " prefix
    samples_ns: list = field(default_factory=list)  # ns per call, one per repetition
    counters: dict = field(default_factory=dict)  # counter -> list, one per repetition
    # The worker process of each sample (its row's `process_index`), parallel to
    # samples_ns; empty when the file does not record it (verdicts/modes.py).
    processes: list = field(default_factory=list)

    @property
    def family(self):
        return self.name.split("/", 1)[0]

    @property
    def variant(self):
        return self.name.split("/", 1)[1] if "/" in self.name else ""

    @property
    def enters_kernel(self):
        """True for the kernel-entry family, False for controls, None when unknown."""
        if self.expected_entries is None:
            return None
        return self.expected_entries > 0

    def counter(self, key):
        """The median of a counter over the repetitions, or None when never recorded."""
        values = sorted(v for v in self.counters.get(key, ()) if not math.isnan(v))
        if not values:
            return None
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


@dataclass
class Run:
    """One results file."""

    source: str
    context: dict
    paths: dict  # name -> PathResult, in the file's order

    @property
    def is_sysgate(self):
        return "sysgate_version" in self.context

    @property
    def emulated(self):
        return self.context.get("emulated", "false") == "true"

    @property
    def host(self):
        return self.context.get("host_name", "unknown host")

    @property
    def kernel(self):
        return self.context.get("kernel_release", "unknown kernel")

    @property
    def label(self):
        """A short name for this run on a chart legend."""
        return f"{self.host} {self.kernel}"

    def measured(self):
        """The paths that have samples, in order."""
        return [p for p in self.paths.values() if p.samples_ns]

    def skipped(self):
        return [p for p in self.paths.values() if p.skipped is not None]


def path_name(row):
    """The path name of a Google Benchmark row: run_name without /manual_time."""
    name = row.get("run_name") or row.get("name", "")
    if name.endswith(_MANUAL_TIME_SUFFIX):
        name = name[: -len(_MANUAL_TIME_SUFFIX)]
    return name


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_label(result, label):
    """The row's path facts from its label: `key=value` pairs (docs/results-format.md),
    or, in files from before they were stated, the bare mechanism (legacy.py fills in
    the rest)."""
    if not isinstance(label, str) or not label.strip():
        return
    if "=" not in label:
        result.mechanism = label.strip()
        return
    facts = dict(item.split("=", 1) for item in label.split() if "=" in item)
    result.mechanism = facts.get("mechanism", result.mechanism)
    result.abi = facts.get("abi", result.abi)
    result.baseline = facts.get("baseline", result.baseline)
    result.peer = facts.get("peer", result.peer)
    entries = facts.get("expected_entries")
    if entries is not None:
        try:
            result.expected_entries = float(entries)
        except ValueError:
            pass  # not a number: left to legacy.py, as for an old file


def parse(data, source):
    """Build a Run from already-decoded JSON; raise UserError when it is not results."""
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise UserError(f"{source}: not a Google Benchmark results file (top level is a {kind})")
    rows = data.get("benchmarks")
    context = data.get("context")
    if not isinstance(rows, list) or not isinstance(context, dict):
        raise UserError(
            f"{source}: not a Google Benchmark results file (no 'context' and 'benchmarks')"
        )
    context = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in context.items()}
    paths = {}
    order = {}  # name -> registration order (family_index), so interleaved runs read in table order
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("name", row.get("run_name")), str):
            raise UserError(f"{source}: benchmark row {index} has no name")
        if row.get("run_type", "iteration") != "iteration":
            continue  # aggregates are recomputed from the repetitions
        name = path_name(row)
        result = paths.setdefault(name, PathResult(name=name))
        family_index = row.get("family_index")
        order.setdefault(name, family_index if _number(family_index) else index)
        _read_label(result, row.get("label"))
        if row.get("error_occurred"):
            message = str(row.get("error_message", "")).strip()
            result.skipped = message.removeprefix("skipped:").strip() or "no reason given"
            continue
        real_time = row.get("real_time")
        unit = _TIME_UNIT_NS.get(row.get("time_unit", "ns"))
        if not _number(real_time) or unit is None:
            raise UserError(f"{source}: row '{name}' has no usable real_time")
        result.samples_ns.append(float(real_time) * unit)
        process = row.get("process_index")
        if _number(process):
            result.processes.append(int(process))
        for key, value in row.items():
            if key not in _ROW_KEYS and _number(value):
                result.counters.setdefault(key, []).append(float(value))
    for result in paths.values():
        if result.samples_ns:
            result.skipped = None  # measured in some repetition: not a skip
        if len(result.processes) != len(result.samples_ns):
            result.processes = []  # recorded on some rows only: not known
    paths = dict(sorted(paths.items(), key=lambda item: order[item[0]]))
    legacy.fill_in(paths.values())
    return Run(source=source, context=context, paths=paths)


def load(path):
    """Read one results file; every problem is a one-line UserError (validate.py checks)."""
    source = os.fspath(path)
    return parse(validate.read_json(source), source)


def load_all(paths):
    return [load(p) for p in paths]
