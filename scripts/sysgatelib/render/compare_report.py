"""A comparison as the files `compare -o` writes: the HTML page (templates/
compare_page.html.j2) and compare.json, the machine-readable summary the CI formats
(render/formats) read."""

import json
import math
from dataclasses import asdict

from ..core import thresholds
from ..results import envdiff
from ..verdicts import stats
from . import template_env
from .compare_text import (condition_lines, controls_line, detection_line, entry_rule_line,
                           kernel_entry_line, machine_lines, misfit_line, summary_line,
                           table_rows, TABLE_HEADER)

TEMPLATE = "compare_page.html.j2"




def render_html(comparison, charts):
    c = comparison
    rows = table_rows(c)
    classes = [r.shown_verdict.replace(" ", "-") for r in c.rows]
    classes += ["family"] * (len(rows) - len(classes))
    return template_env.environment().get_template(TEMPLATE).render(
        c=c, header=TABLE_HEADER, rows=rows, classes=classes,
        summary=summary_line(c), charts=charts, headline=kernel_entry_line(c),
        controls=controls_line(c), entry_rule=entry_rule_line(c), misfits=misfit_line(c),
        machine=machine_lines(c), conditions=condition_lines(c),
        detection=detection_line(c), confidence=f"{thresholds.CONFIDENCE:.0%}",
        low_fraction=f"{thresholds.LOW_FRACTION:.0%}", min_repetitions=thresholds.MIN_REPETITIONS,
        mitigations=[d for d in c.differences
                     if d.kind in (envdiff.MITIGATIONS, envdiff.KERNEL)],
    )


def to_json(comparison):
    """A machine-readable summary for CI (compare.json beside the page)."""
    data = asdict(comparison)
    data["differences"] = [asdict(d) for d in comparison.differences]
    for row, kept in zip(data["rows"], comparison.rows):
        row.pop("base"), row.pop("new")
        # The repetitions' spread a side (stdev / mean, all runs pooled): LKP's %stddev.
        row["base_cv"] = stats.cv(kept.base) if kept.base else None
        row["new_cv"] = stats.cv(kept.new) if kept.new else None
    data["regressions"] = [r.name for r in comparison.regressions]
    data["improvements"] = [r.name for r in comparison.improvements]
    data["inconclusive"] = [r.name for r in comparison.inconclusive]
    data["exit_code"] = comparison.exit_code
    # The lines the terminal leads with, so that a CI format says what the terminal says.
    data["text"] = {"headline": kernel_entry_line(comparison),
                    "controls": controls_line(comparison),
                    "machine": machine_lines(comparison),
                    "summary": summary_line(comparison)}
    return json.dumps(_no_nan(data), indent=2, allow_nan=False)


def _no_nan(value):
    """NaN is not JSON: null instead."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_nan(v) for v in value]
    return value
