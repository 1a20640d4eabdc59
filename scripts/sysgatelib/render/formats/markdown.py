"""GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY and a merge-request note: the
verdict line, the kernel-entry line, the machine and its drift, and the paths that changed
as a table; a few kilobytes however many paths ran (the step summary takes 1 MiB).

Strings from the results are text, never markup: after figures.printable, `&`, `<`, `>`
and `~` become character references (GitHub renders raw HTML; `~` strikes through in GFM
but has no backslash escape in Python-Markdown) and the inline markup characters
(backslash, backtick, `*`, `_`, `[`, `]`, `|`) are backslash-escaped, which both
CommonMark/GFM and Python-Markdown honour. No escaped string starts a line, so the
block-level characters (`#`, `-`, `+`, `>` at a line's start) need nothing.
"""

import re

from ...core import units
from ...core.units import format_ns, format_p, format_pct
from ..verdict_text import shown
from .figures import printable, shorten

# More rows than this become "and N more" (the page and compare.json have them all).
MAX_ROWS = 25
MAX_NAME_CHARS = 80
CHANGED = ("regression", "improvement", "inconclusive")
HEADER = ("path", "base ns", "new ns", "change", "95% CI", "raw", "p (Holm)", "verdict")
ALIGN = (":--", "--:", "--:", "--:", ":--", "--:", "--:", ":--")
# Inline markup both CommonMark and Python-Markdown let a backslash escape.
_MARKUP = re.compile(r"([\\`*_\[\]|])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "~": "&#126;"}
_TITLES = {0: "no regression", 1: "REGRESSION", 3: "inconclusive or not comparable"}


def escape(value, limit=None):
    text = printable(value)
    if limit:
        text = shorten(text, limit)
    text = "".join(_ENTITIES.get(c, c) for c in text)
    return _MARKUP.sub(r"\\\1", text)


def _changed(data):
    """The rows worth a reviewer's look: any answer but no change; when the verdicts are
    withheld, the paths whose change is beyond the threshold."""
    rows = []
    for row in data["rows"]:
        result = row.get("result")
        if result is None:
            rows.append(row)  # skipped on a side: say so
        elif result["verdict"] in CHANGED:
            rows.append(row)
        elif (result["verdict"] == "withheld" and result.get("change") is not None
              and abs(result["change"]) > data["threshold"]):
            rows.append(row)
    return rows


def _cells(row):
    result = row.get("result")
    name = escape(row["name"], MAX_NAME_CHARS)
    if result is None:
        return (name, "-", "-", "-", "-", "-", "-", escape(row.get("note", "")))
    return (name, units.ns(result["base_value"]), units.ns(result["new_value"]),
            format_pct(result["change"]),
            f"[{format_pct(result['ci_low'])}, {format_pct(result['ci_high'])}]",
            format_pct(result["raw_change"]), format_p(result["p_value"]),
            escape(shown(result["verdict"])))


def _entry_cells(entry):
    return (f"**kernel entry** ({entry['paths']} paths)", "", "",
            f"{format_ns(entry['delta_ns'])} ns",
            f"[{format_ns(entry['low_ns'])}, {format_ns(entry['high_ns'])}] ns",
            format_pct(entry["change"]), format_p(entry["p_value"]),
            f"**{escape(shown(entry['verdict']))}**")


def _table(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(ALIGN) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def from_comparison(data, page=None):
    text = data["text"]
    code = data["exit_code"]
    lines = [f"### sysgate compare: {_TITLES.get(code, 'exit ' + str(code))} (exit {code})",
             "", f"**{escape(text['headline'])}**", ""]
    lines += [f"- base: {escape(side)}" for side in data["base_sides"]]
    lines += [f"- new: {escape(side)}" for side in data["new_sides"]]
    lines += [f"- {escape(line)}" for line in text["machine"] + [text["controls"]]]
    lines.append("")
    changed = _changed(data)
    rows = ([_entry_cells(data["kernel_entry"])] if data.get("kernel_entry") else [])
    rows += [_cells(row) for row in changed[:MAX_ROWS]]
    if rows:
        lines += _table(rows)
    if len(changed) > MAX_ROWS:
        lines += ["", f"and {len(changed) - MAX_ROWS} more changed paths (the full report "
                  "and compare.json have every path)"]
    quiet = len(data["rows"]) - len(changed)
    if quiet:
        what = "withheld within" if data.get("withheld") else "no change beyond"
        lines += ["", f"{quiet} other paths: {what} ±{data['threshold'] * 100:g}%, or "
                  "controls (no verdict)."]
    lines += ["", f"result: {escape(text['summary'])}"]
    if data.get("settle"):
        lines += ["", f"to settle: {escape(data['settle'])}"]
    if page:
        lines += ["", f"full report: [{escape(page)}](<{_link(page)}>)"]
    return "\n".join(lines) + "\n"


def _link(page):
    """A link destination in angle brackets: only <, > and line breaks need care."""
    return "".join(f"%{ord(c):02X}" if c in "<>\n\r " else c for c in printable(page))
