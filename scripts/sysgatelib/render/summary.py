"""The terminal summary of one run: a row per path, grouped by family."""

import textwrap

from ..core import units
from ..verdicts import stats

WIDTH = 120  # the console the summary is written for


def _baseline_ns(run, path, cache):
    """The k-best ns/call of the row `path` divides by (its own `baseline`), or None."""
    name = path.baseline
    if name not in cache:
        base = run.paths.get(name)
        cache[name] = stats.kbest_mean(base.samples_ns) if base and base.samples_ns else None
    return cache[name]


def rows(run):
    """(path, ns k-best, ns median, tsc ticks, ratio to baseline, p99 ns, note) per path."""
    baselines = {}
    out = []
    families = {}  # family -> its paths, families in order of first appearance
    for path in run.paths.values():
        families.setdefault(path.family, []).append(path)
    for path in (p for group in families.values() for p in group):
        if not path.samples_ns:
            reason = path.skipped or "no samples"
            note = reason if reason.startswith("failed") else f"skipped: {reason}"
            out.append((path.name, None, None, None, None, None, note))
            continue
        lead = stats.kbest_mean(path.samples_ns)
        base_ns = _baseline_ns(run, path, baselines)
        ratio = lead / base_ns if base_ns else None
        out.append((
            path.name, lead, stats.median(path.samples_ns),
            stats.kbest_mean(path.counters.get("tsc_ticks", [])) if "tsc_ticks" in path.counters else None,
            ratio, path.counter("p99_ns"), "",
        ))
    return out


def format_table(run):
    header = ("path", "ns/call", "median", "TSC ticks", "x base", "p99 ns", "")
    body = []
    family = None
    for name, lead, med, ticks, ratio, p99, note in rows(run):
        this_family = name.split("/", 1)[0]
        if family is not None and this_family != family:
            body.append(None)  # blank line between families
        family = this_family
        if lead is None:
            body.append((name, "", "", "", "", "", note))
        else:
            body.append((name, units.ns(lead), units.ns(med), units.ns(ticks), units.ns(ratio),
                         units.ns(p99), note))
    widths = [max(len(header[i]), *(len(r[i]) for r in body if r)) for i in range(6)]
    lines = []

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = " ".join(c.rjust(w) for c, w in zip(cells[1:6], widths[1:6]))
        text = f"{first} {rest} "
        # A long note (a skip reason) goes on under itself, inside the console's width.
        note = textwrap.wrap(cells[6], max(WIDTH - len(text), 40), break_on_hyphens=False,
                             break_long_words=False) or [""]
        return "\n".join([text + note[0]] + [" " * len(text) + more for more in note[1:]]
                         ).rstrip()

    lines.append(line(header))
    lines.append("-" * len(lines[0]))
    lines.extend("" if r is None else line(r) for r in body)
    reps = max((len(p.samples_ns) for p in run.paths.values()), default=0)
    lines.append(
        f"ns/call: mean of the {stats.kbest_k(reps)} fastest of {reps} repetitions "
        "(k-best); median beside it.\nx base: ns/call divided by the row's baseline's "
        "(baseline/call; baseline/ia32_call for the 32-bit rows;\na runtime's own call, "
        "e.g. baseline/go_call, for the language-runtime rows)."
    )
    return "\n".join(lines)
