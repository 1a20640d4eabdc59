"""The table of a kernel regression mail, in the layout of LKP's (the 0-day test robot's)
`compare` output:

           base             new
    ---------------- ---------------------------
             %stddev     %change         %stddev
                 \\          |                \\
        99.2 ±  1%      +12.9%      112 ±  1%  getpid/syscall  REGRESSION

the kernel-entry line first (its %change is the gain in % of the cheapest syscall round
trip, the ns per entry beside it). Figures in ns: the mean of the fastest quarter of the
repetitions; %stddev: the repetitions' standard deviation over their mean, a side's runs
pooled; %change: as measured (raw), the verdict's drift-corrected change after the name
when the drift was taken out. Plain text: names pass figures.printable.
"""

from ...core import units
from ...core.units import format_ns, format_pct
from ..verdict_text import shown
from .figures import finite, printable

_HEAD = ("{:>16} {:>27}".format("base", "new"),
         "---------------- ---------------------------",
         "         %stddev     %change         %stddev",
         "             \\          |                \\")


def _stddev(cv):
    return f"± {cv * 100:2.0f}%" if finite(cv) else "     "


def _line(base, base_cv, change, new, new_cv, name):
    return (f"{base:>10} {_stddev(base_cv)}  {change:>9}  {new:>10} {_stddev(new_cv)}  "
            f"{name}")


def from_comparison(data, page=None):
    lines = [f"base: {printable(side)}" for side in data["base_sides"]]
    lines += [f"new:  {printable(side)}" for side in data["new_sides"]]
    lines += ["", *_HEAD]
    entry = data.get("kernel_entry")
    if entry:
        lines.append(_line("", None, format_pct(entry["change"]), "", None,
                           f"kernel-entry  {format_ns(entry['delta_ns'])} ns per entry "
                           f"[{format_ns(entry['low_ns'])}, {format_ns(entry['high_ns'])}] "
                           f"of {printable(entry['reference_path'])}  "
                           f"{shown(entry['verdict'])}"))
    drift_removed = bool((data.get("drift") or {}).get("removed"))
    for row in data["rows"]:
        result = row.get("result")
        if not result:
            continue
        tail = ""
        if result["verdict"] != "control" and drift_removed:
            tail = f"  {shown(result['verdict'])} {format_pct(result['change'])} drift-corrected"
        elif result["verdict"] != "control":
            tail = f"  {shown(result['verdict'])}"
        lines.append(_line(units.ns(result["base_value"]), row.get("base_cv"),
                           format_pct(result["raw_change"]), units.ns(result["new_value"]),
                           row.get("new_cv"), printable(row["name"]) + tail))
    skipped = [row for row in data["rows"] if not row.get("result")]
    if skipped:
        lines += ["", "not compared: " + "; ".join(
            f"{printable(r['name'])} ({printable(r.get('note', ''))})" for r in skipped)]
    lines += ["", f"result: {printable(data['text']['summary'])}"]
    return "\n".join(lines) + "\n"
