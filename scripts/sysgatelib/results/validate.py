"""The one validation gate for results files: a file is accepted whole or refused whole.

Everything downstream (summary, checks, charts, compare, the store, trend) trusts what
comes out of here, so the gate is strict about what can break arithmetic or a chart and
lenient about what Google Benchmark or sysgate_bench really write (NaN counters: Google
Benchmark writes NaN for a counter that was never set). Every refusal is one UserError
"FILE: <what>", raised before anything is stored or drawn.

Also here: the argparse types that refuse non-finite flag values (--threshold nan).
"""

import json
import math
import os
import re
import stat

from ..core.errors import UserError

# A real run is well under 1 MiB; this bounds the memory a hostile file can take.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Google Benchmark's JSON is 4 levels deep (context.caches[i].type); leave room for
# additions but stop long before Python's recursion limit.
MAX_DEPTH = 32
# Path names are short identifiers ("clock_gettime_monotonic/vdso"); a longer name is not
# one, and a 5,000-character label overflows matplotlib's raster.
MAX_NAME_CHARS = 200
# Host and kernel strings come from uname (65 bytes); they label charts.
MAX_LABEL_CHARS = 256
_LABEL_KEYS = ("host_name", "kernel_release")
# ns per call: above 1000 s per call a figure is not a syscall latency but garbage (and
# 1e308 overflows every sum it enters).
MAX_NS = 1e12
# Any other number in a row (counters, iterations): finite and below this in size.
MAX_ABS = 1e18
_TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Google Benchmark's own context keys with the type it writes.
_CONTEXT_NUMBERS = ("num_cpus", "mhz_per_cpu")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def read_json(path):
    """Read and decode a results file through every check; the decoded JSON.

    Non-regular files are refused before they are opened for reading (a FIFO would block
    open() forever, /dev/zero never ends), and the size is bounded before the read.
    """
    source = os.fspath(path)
    raw = _read_bounded(source)
    data = decode(raw, source)
    results(data, source)
    return data


def _kind(mode):
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _read_bounded(source):
    try:
        info = os.stat(source)
    except FileNotFoundError:
        raise UserError(f"{source}: no such file") from None
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UserError(f"{source}: is a directory, expected a results JSON file")
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{source}: {_kind(info.st_mode)}, expected a results JSON file")
    _check_size(source, info.st_size)
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open() still
        # returns at once, and the fstat below refuses it.
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UserError(f"{source}: {_kind(mode)}, expected a results JSON file")
        try:
            raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise UserError(f"{source}: cannot read: {exc.strerror}") from None
    _check_size(source, len(raw))
    return raw


def _check_size(source, size):
    if size > MAX_FILE_BYTES:
        raise UserError(f"{source}: too large for a results file ({size / 2**20:.0f} MiB; "
                        f"the limit is {MAX_FILE_BYTES // 2**20} MiB)")


def _refuse_constant(source):
    def parse_constant(name):
        if name == "NaN":
            return math.nan  # Google Benchmark's "not set"; the row checks decide
        raise UserError(f"{source}: holds {name}, which is not a measurement")
    return parse_constant


def decode(raw, source):
    """Bytes to JSON, every failure one line that says what the file is."""
    if not raw.strip():
        raise UserError(f"{source}: empty file")
    if b"\x00" in raw:
        raise UserError(f"{source}: not a results file (binary data: not a text file)")
    try:
        text = raw.decode("utf-8-sig")  # a UTF-8 byte order mark is harmless
    except UnicodeDecodeError:
        raise UserError(f"{source}: not a results file (not a text file: not UTF-8)") from None
    body = text.lstrip()
    if not body.startswith(("{", "[")):
        raise UserError(f"{source}: not a results file (not JSON: it does not start "
                        "with '{')")
    _check_depth(body, source)
    try:
        return json.loads(body, parse_constant=_refuse_constant(source))
    except json.JSONDecodeError as exc:
        # Only a file that stops mid-document is "truncated"; garbage in the middle is not.
        truncated = exc.pos >= len(body.rstrip()) or (
            exc.msg.startswith("Unterminated string") and '"' not in body[exc.pos + 1:])
        raise UserError(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})"
            + ("; truncated file?" if truncated else "")
        ) from None
    except ValueError as exc:  # Python 3.11+: an integer of more than 4300 digits
        raise UserError(f"{source}: holds a number too long to be a measurement "
                        f"({str(exc).split(':')[0]})") from None
    except RecursionError:  # _check_depth makes this unreachable; belt and braces
        raise UserError(f"{source}: nested too deeply to be a results file") from None


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _check_depth(text, source):
    """Refuse nesting deeper than MAX_DEPTH before json recurses into it."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise UserError(f"{source}: nested more than {MAX_DEPTH} levels deep; "
                                "not a results file")
        elif token in "]}":
            depth -= 1


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _name_problem(name):
    if not name.strip():
        return "an empty name"
    if len(name) > MAX_NAME_CHARS:
        return f"a name of {len(name)} characters (the limit is {MAX_NAME_CHARS})"
    if _CONTROL.search(name):
        return "a name with control characters"
    return None


def results(data, source):
    """Check decoded JSON as a results file; raise UserError naming the first problem."""
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise UserError(f"{source}: not a Google Benchmark results file (top level is a {kind})")
    rows, context = data.get("benchmarks"), data.get("context")
    if not isinstance(rows, list) or not isinstance(context, dict):
        raise UserError(
            f"{source}: not a Google Benchmark results file (no 'context' and 'benchmarks')"
        )
    _context(context, source)
    if not rows:
        raise UserError(f"{source}: holds no benchmark rows (zero benchmarks)")
    seen = set()
    for index, row in enumerate(rows):
        where = f"{source}: benchmark row {index}"
        if not isinstance(row, dict):
            raise UserError(f"{where} is not an object")
        name = row.get("name", row.get("run_name"))
        if not isinstance(name, str):
            raise UserError(f"{where} has no name")
        for key in ("name", "run_name"):
            value = row.get(key)
            if value is not None and not isinstance(value, str):
                raise UserError(f"{where}: '{key}' is not a string")
            problem = value is not None and _name_problem(value)
            if problem:
                raise UserError(f"{where} has {problem}")
        _row_numbers(row, f"{where} ('{name}')")
        key = (row.get("name"), row.get("run_name"), row.get("run_type"),
               row.get("aggregate_name"), row.get("repetition_index"),
               row.get("per_family_instance_index"), row.get("threads"))
        identical = json.dumps(row, sort_keys=True, default=str)
        if key in seen and (row.get("repetition_index") is not None or identical in seen):
            raise UserError(f"{where} ('{name}') repeats an earlier row "
                            "(same name and repetition)")
        seen.update((key, identical))


def _row_numbers(row, where):
    for key, value in row.items():
        if _number(value) and not math.isnan(value) and abs(value) > MAX_ABS:
            raise UserError(f"{where}: {key} {value:g} is out of range")
    if row.get("run_type", "iteration") != "iteration" or row.get("error_occurred"):
        return  # aggregates are recomputed; a skipped row has no timing
    unit = _TIME_UNIT_NS.get(row.get("time_unit", "ns"))
    if unit is None:
        raise UserError(f"{where}: unknown time_unit {str(row.get('time_unit'))[:20]!r}")
    for key in ("real_time", "cpu_time"):
        value = row.get(key)
        if value is None and key == "cpu_time":
            continue
        if not _number(value) or math.isnan(value):
            raise UserError(f"{where} has no usable {key} (not a number)")
        if key == "real_time" and value <= 0:
            raise UserError(f"{where}: real_time {value:g} is not a positive time")
        if key == "cpu_time" and value < 0:
            raise UserError(f"{where}: cpu_time {value:g} is negative")
        if value * unit > MAX_NS:
            raise UserError(f"{where}: {key} {value:g} {row.get('time_unit', 'ns')} per "
                            "call is out of range")
    iterations = row.get("iterations")
    if iterations is not None and (not _number(iterations) or math.isnan(iterations)
                                   or iterations < 0):
        raise UserError(f"{where}: iterations is not a count")


def _context(context, source):
    where = f"{source}: context"
    for key in _LABEL_KEYS:
        value = context.get(key)
        if value is not None and not isinstance(value, str):
            raise UserError(f"{where}: {key} is not a string")
        if value is not None and len(value) > MAX_LABEL_CHARS:
            raise UserError(f"{where}: {key} of {len(value)} characters (the limit is "
                            f"{MAX_LABEL_CHARS})")
    for key in _CONTEXT_NUMBERS:
        value = context.get(key)
        if value is not None and not (_number(value) and math.isfinite(value) and value >= 0):
            raise UserError(f"{where}: {key} is not a count")
    load_avg = context.get("load_avg")
    if load_avg is not None and not (
            isinstance(load_avg, list)
            and all(_number(v) and math.isfinite(v) and v >= 0 for v in load_avg)):
        raise UserError(f"{where}: load_avg is not a list of load averages")


# --- flags -----------------------------------------------------------------------------


def non_negative(text):
    """argparse type: a finite number >= 0 (nan, inf and -1 are refused with exit 2)."""
    import argparse  # the standard library; only argparse's error type is needed

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a finite number, 0 or more")
    return value


def positive_int(text):
    """argparse type: a whole number >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value
