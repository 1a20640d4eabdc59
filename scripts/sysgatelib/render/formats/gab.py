"""github-action-benchmark's `customSmallerIsBetter` input
(https://github.com/benchmark-action/github-action-benchmark#examples):

    [{"name": "<path>", "unit": "ns", "value": ns, "range": "±ns", "extra": "..."}]

value: the path's figure (the new side's, for compare); range: half the width of its 95%
interval; extra: the interval, the repetitions and, for compare, the base figure, the
change and the verdict. Skipped paths are left out (the tool needs a number).
"""

import json

from ...core.units import format_p, format_pct
from ..verdict_text import shown
from .figures import finite, measured, new_side, printable

UNIT = "ns"


def _entry(path, extra):
    entry = {"name": printable(path["name"]), "unit": UNIT, "value": path["value"]}
    if finite(path["low"]) and finite(path["high"]):
        entry["range"] = f"±{(path['high'] - path['low']) / 2:.6g}"
        extra.insert(0, f"95% interval [{path['low']:.6g}, {path['high']:.6g}] ns")
    entry["extra"] = "\n".join(extra)
    return entry


def from_run(data):
    entries = [_entry(p, [f"{p['n']} repetitions", f"{printable(data['host'])} "
                          f"{printable(data['kernel'])}"])
               for p in measured(data)]
    return json.dumps(entries, indent=2, allow_nan=False) + "\n"


def from_comparison(data, page=None):
    entries = []
    for path in measured(new_side(data)):
        result = path["row"]["result"]
        extra = [f"base {result['base_value']:.6g} ns",
                 f"change {format_pct(result['change'])} (raw {format_pct(result['raw_change'])})",
                 f"p (Holm) {format_p(result['p_value'])}",
                 f"verdict {shown(result['verdict'])}"]
        entries.append(_entry(path, extra))
    return json.dumps(entries, indent=2, allow_nan=False) + "\n"
