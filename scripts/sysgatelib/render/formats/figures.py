"""What the CI formats share: names made safe to show, and the figures they report.

A name from a results file is data. printable() makes it one line that says what it holds:
control characters, line breaks, bidirectional overrides (U+202E turns "syscall" around
on screen: "Trojan Source"), zero-width characters and lone surrogates become visible
escapes (\\n, \\u202e). Every format passes every string from the results through it, then
escapes for its own syntax (XML, Markdown, OpenMetrics label values, JSON).
"""

import math
import re

from ...core import thresholds
from ...verdicts import stats

_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                     "\ufeff\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(value):
    """One line, every character visible (see the module's docstring)."""
    return _HIDDEN.sub(_escape, str(value))


def _escape(match):
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shorten(text, limit):
    """text cut to limit characters with an ellipsis (a table cell, not the data)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def run_data(run, confidence=thresholds.CONFIDENCE):
    """A run's figures the way compare reports a side: per measured path the mean of its
    fastest quarter of repetitions and that figure's interval, ns (stats.side_figure)."""
    paths = []
    for path in run.paths.values():
        if not path.samples_ns:
            paths.append({"name": path.name, "mechanism": path.mechanism, "value": None,
                          "low": None, "high": None, "n": 0,
                          "note": f"skipped: {path.skipped or 'no samples'}"})
            continue
        value, (low, high) = stats.side_figure([path.samples_ns], confidence)
        paths.append({"name": path.name, "mechanism": path.mechanism, "value": value,
                      "low": low, "high": high, "n": len(path.samples_ns), "note": ""})
    return {"host": run.host, "kernel": run.kernel, "source": run.source,
            "confidence": confidence, "paths": paths}


def new_side(data):
    """compare's JSON as run_data: the new side's figures (what a dashboard tracks)."""
    paths = []
    for row in data["rows"]:
        result = row.get("result") or {}
        low, high = row.get("new_ci") or (None, None)
        paths.append({"name": row["name"], "mechanism": row.get("mechanism") or "",
                      "value": result.get("new_value"), "low": low, "high": high,
                      "n": result.get("n_new", 0), "note": row.get("note", ""),
                      "row": row})
    return {"host": data.get("new_host", ""), "kernel": data.get("new_kernel", ""),
            "source": data.get("new_source", ""), "confidence": thresholds.CONFIDENCE,
            "paths": paths}


def measured(side):
    """The paths of run_data/new_side that have a finite figure."""
    return [p for p in side["paths"] if finite(p["value"])]
