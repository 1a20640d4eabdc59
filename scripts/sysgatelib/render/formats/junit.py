"""JUnit XML (the shape Jenkins, GitLab and GitHub test reporters read): one test suite,
a test case for the kernel entry and one per path.

    regression          -> <failure type="regression"> with its figures
    inconclusive        -> <skipped> with what would settle it
    withheld            -> <skipped> with why (the machine changed between the runs)
    skipped on a side   -> <skipped> with the reason
    no change, improvement, control -> passed, the figures in <system-out>

xml.etree escapes markup; figures.printable first removes what XML 1.0 cannot carry at all
(control characters, lone surrogates), so the file is well-formed whatever the names hold.
"""

import math
import xml.etree.ElementTree as ET

from ...core import units
from ...core.units import format_ns, format_p, format_pct
from ..verdict_text import shown
from .figures import printable

SUITE = "sysgate compare"
KERNEL_ENTRY = "kernel entry"
FAILED, SKIPPED, PASSED = "failure", "skipped", "passed"


def _outcome(verdict):
    if verdict == "regression":
        return FAILED
    if verdict in ("inconclusive", "withheld"):
        return SKIPPED
    return PASSED


def _path_figures(row, threshold):
    r = row["result"]
    return (f"change {format_pct(r['change'])} "
            f"[{format_pct(r['ci_low'])}, {format_pct(r['ci_high'])}] "
            f"(raw {format_pct(r['raw_change'])}), p (Holm) {format_p(r['p_value'])}; "
            f"base {units.ns(r['base_value'])} ns, new {units.ns(r['new_value'])} ns; "
            f"threshold ±{threshold * 100:g}%; {r['n_base']} and {r['n_new']} repetitions")


def _entry_figures(entry):
    return (f"{format_ns(entry['delta_ns'])} ns per entry "
            f"[{format_ns(entry['low_ns'])}, {format_ns(entry['high_ns'])}] "
            f"({format_pct(entry['change'])} of {entry['reference_path']}), "
            f"p {format_p(entry['p_value'])}; threshold ±{entry['threshold'] * 100:g}% of "
            f"{entry['reference_path']}; {entry['paths']} paths")


def _settle(result, data):
    if not result.get("enough", True):
        return ("too few samples for any verdict: default runs (no --quick), or several "
                "runs per side")
    factor = result.get("settle_factor")
    if factor:
        runs = max(result.get("runs_new") or 1, 1)
        return (f"would settle with about {factor:.1f}x the samples (about "
                f"{math.ceil(runs * factor)} runs per side, pooled)")
    return "sits on the threshold itself: no sample size settles it"


def _message(result, data, figures):
    if result["verdict"] == "withheld":
        return ("verdict withheld: the machine changed between the runs ("
                + "; ".join(data["machine_changed"]) + f"); {figures}")
    if result["verdict"] == "inconclusive":
        return f"inconclusive: {_settle(result, data)}; {figures}"
    return f"{shown(result['verdict'])}: {figures}"


def _case(suite, classname, name, outcome, message, details, counts):
    case = ET.SubElement(suite, "testcase", classname=classname, name=printable(name),
                         time="0")
    counts["tests"] += 1
    if outcome == FAILED:
        counts["failures"] += 1
        element = ET.SubElement(case, "failure", type="regression",
                                message=printable(message))
        element.text = _body(details)
    elif outcome == SKIPPED:
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", message=printable(message))
        ET.SubElement(case, "system-out").text = _body(details)
    else:
        ET.SubElement(case, "system-out").text = _body(details)


def _body(lines):
    return "\n".join(printable(line) for line in lines)


def from_comparison(data, page=None):
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    root = ET.Element("testsuites", name=SUITE)
    suite = ET.SubElement(root, "testsuite", name=printable(
        f"{SUITE}: {data['base_label']} -> {data['new_label']}"),
        hostname=printable(data.get("new_host", "")))
    properties = ET.SubElement(suite, "properties")
    for key, value in (("base", "; ".join(data["base_sides"])),
                       ("new", "; ".join(data["new_sides"])),
                       ("exit_code", str(data["exit_code"])),
                       ("summary", data["text"]["summary"]),
                       ("report", page or "")):
        if value:
            ET.SubElement(properties, "property", name=key, value=printable(value))
    lines = [data["text"]["headline"], data["text"]["controls"], *data["text"]["machine"]]
    entry = data.get("kernel_entry")
    if entry:
        message = _message(entry, data, _entry_figures(entry))
        _case(suite, "sysgate.kernel_entry", KERNEL_ENTRY, _outcome(entry["verdict"]),
              message, [message, *lines], counts)
    for row in data["rows"]:
        result = row.get("result")
        classname = "sysgate.path"
        if result is None:
            _case(suite, classname, row["name"], SKIPPED, row.get("note") or "skipped",
                  [row.get("note", "")], counts)
            continue
        if result["verdict"] == "control":
            message = (f"control (the machine's drift, no verdict): change "
                       f"{format_pct(result['change'])}; base {units.ns(result['base_value'])}"
                       f" ns, new {units.ns(result['new_value'])} ns")
        else:
            message = _message(result, data, _path_figures(row, data["threshold"]))
        _case(suite, classname, row["name"], _outcome(result["verdict"]), message,
              [message], counts)
    for element in (root, suite):
        for key in ("tests", "failures", "skipped"):
            element.set(key, str(counts[key]))
        element.set("errors", "0")
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")
