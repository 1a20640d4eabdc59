"""The terminal summary of one run: a row per path, grouped by family."""

from . import stats, units

CALL = "baseline/call"


def rows(run):
    """(path, ns k-best, ns median, tsc ticks, ratio to call, p99 ns, note) per path."""
    call = run.paths.get(CALL)
    call_ns = stats.kbest_mean(call.samples_ns) if call and call.samples_ns else None
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
        ratio = lead / call_ns if call_ns else None
        out.append((
            path.name, lead, stats.median(path.samples_ns),
            stats.kbest_mean(path.counters.get("tsc_ticks", [])) if "tsc_ticks" in path.counters else None,
            ratio, path.counter("p99_ns"), "",
        ))
    return out


def format_table(run):
    header = ("path", "ns/call", "median", "TSC ticks", "x call", "p99 ns", "")
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
            body.append((name, units.ns(lead), units.ns(med), units.ns(ticks), units.ns(ratio), units.ns(p99), note))
    widths = [max(len(header[i]), *(len(r[i]) for r in body if r)) for i in range(6)]
    lines = []

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = " ".join(c.rjust(w) for c, w in zip(cells[1:6], widths[1:6]))
        return f"{first} {rest} {cells[6]}".rstrip()

    lines.append(line(header))
    lines.append("-" * len(lines[0]))
    lines.extend("" if r is None else line(r) for r in body)
    reps = max((len(p.samples_ns) for p in run.paths.values()), default=0)
    lines.append(
        f"ns/call: mean of the {stats.kbest_k(reps)} fastest of {reps} repetitions "
        "(k-best); median beside it. x call: ns/call divided by baseline/call's."
    )
    return "\n".join(lines)
