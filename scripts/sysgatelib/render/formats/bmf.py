"""Bencher Metric Format (https://bencher.dev/docs/reference/bencher-metric-format/):

    {"<path>": {"latency": {"value": ns, "lower_value": ns, "upper_value": ns}}}

for `bencher run --adapter json --file FILE`. latency is Bencher's built-in measure, in
nanoseconds. The value is the path's figure (the mean of its fastest quarter of
repetitions), the bounds its 95% interval; for compare, the new side's. Skipped paths and
the kernel-entry verdict (not a latency) are left out.
"""

import json

from .figures import finite, measured, new_side, printable

MEASURE = "latency"


def from_run(data):
    metrics = {}
    for path in measured(data):
        latency = {"value": path["value"]}
        if finite(path["low"]) and finite(path["high"]):
            latency["lower_value"], latency["upper_value"] = path["low"], path["high"]
        metrics[printable(path["name"])] = {MEASURE: latency}
    return json.dumps(metrics, indent=2, allow_nan=False) + "\n"


def from_comparison(data, page=None):
    return from_run(new_side(data))
