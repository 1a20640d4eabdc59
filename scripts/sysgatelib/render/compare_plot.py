"""compare's charts. Each function returns (matplotlib Figure, caption); the CLI writes them.

The change chart is drawn on a scale where the threshold band is visible: an axis
stretched by one +2700% whisker would make +-5% a hairline. Whatever lies beyond the
axis is clipped, drawn as an arrow at the edge with its value, and the caption says so.
"""

from ..core.names import text
from ..verdicts.stats import IMPROVEMENT, INCONCLUSIVE, NO_CHANGE, REGRESSION

_COLORS = {REGRESSION: "#c0392b", IMPROVEMENT: "#1e8449", NO_CHANGE: "#555555",
           INCONCLUSIVE: "#d68910"}
_OTHER = "#8e44ad"  # controls and withheld verdicts
_FAMILY = "#1f3a93"


def _figure(rows):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(11, 0.3 * rows + 2.2), layout="constrained")


def axis_limit(comparison):
    """Half-width of the change axis, percent: wide enough for most changes, never so
    wide that the threshold band disappears (at most 8x the threshold)."""
    t = comparison.threshold * 100
    changes = sorted(abs(r.result.change) * 100 for r in comparison.rows if r.result)
    if comparison.kernel_entry:
        changes.append(abs(comparison.kernel_entry.change) * 100)
    biggest = max(changes, default=0.0)
    return max(3.0 * max(t, 1.0), min(1.15 * biggest, 8.0 * max(t, 1.0)))


def plot_changes(comparison):
    """Each path's change with its interval, the kernel-entry shift on top."""
    entries = []
    if comparison.kernel_entry:
        entries.append((f"kernel entry ({comparison.kernel_paths} paths)",
                        comparison.kernel_entry, _FAMILY))
    for r in comparison.rows:
        if r.result:
            entries.append((r.name + (" (control)" if r.is_control else ""), r.result,
                            _COLORS.get(r.result.verdict, _OTHER)))
    fig = _figure(len(entries))
    ax = fig.add_subplot()
    t = comparison.threshold * 100
    limit = axis_limit(comparison)
    ax.axvspan(-t, t, color="#dddddd", alpha=0.7, label=f"within ±{t:g}% (the threshold)")
    ax.axvline(0, color="black", linewidth=0.8)
    clipped = 0
    for i, (_, c, color) in enumerate(entries):
        value, low, high = c.change * 100, c.ci_low * 100, c.ci_high * 100
        shown = min(max(value, -limit), limit)
        lo, hi = max(low, -limit), min(high, limit)
        ax.plot([lo, hi], [i, i], color=color, linewidth=1.6)
        if abs(value) > limit:
            clipped += 1
            ax.plot(shown, i, marker=">" if value > 0 else "<", color=color, markersize=8)
            ax.annotate(f"{value:+.0f}%", (shown, i), xytext=(-4 if value > 0 else 4, 6),
                        textcoords="offset points", fontsize=8, color=color,
                        ha="right" if value > 0 else "left")
        else:
            if high > limit or low < -limit:
                clipped += 1
            ax.plot(shown, i, marker="D" if i == 0 and comparison.kernel_entry else "o",
                    color=color, markersize=5)
    ax.set_xlim(-limit, limit)
    ax.set_yticks(range(len(entries)), [text(name) for name, _, _ in entries], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"change of the figure, % (new vs base), {comparison.threshold * 100:g}% "
                  "threshold shaded")
    ax.set_title("Change per path, with its 95% interval: red regression, green "
                 "improvement, orange inconclusive, grey no change, purple control", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    caption = (f"The axis spans ±{limit:.0f}%; {clipped} interval(s) or change(s) beyond it "
               "are clipped (arrows carry the value)." if clipped else
               f"The axis spans ±{limit:.0f}%; nothing is clipped.")
    return fig, caption


def plot_figures(comparison):
    """Grouped horizontal bars: base and new figure per path, 95% interval whiskers."""
    rows = [r for r in comparison.rows if r.result]
    fig = _figure(2 * len(rows) * 0.6)
    ax = fig.add_subplot()
    height = 0.38
    for offset, side, label, color in (
        (-height / 2, "base", comparison.base_label, "#7f8c9a"),
        (height / 2, "new", comparison.new_label, "#2c6fbb"),
    ):
        values = [getattr(r.result, f"{side}_value") for r in rows]
        cis = [getattr(r, f"{side}_ci") for r in rows]
        err = [[max(v - lo, 0) for v, (lo, _) in zip(values, cis)],
               [max(hi - v, 0) for v, (_, hi) in zip(values, cis)]]
        ax.barh([i + offset for i in range(len(rows))], values, height=height, xerr=err,
                color=color, label=text(label), error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.set_yticks(range(len(rows)), [text(r.name) for r in rows], fontsize=8)
    for tick, r in zip(ax.get_yticklabels(), rows):
        tick.set_color(_COLORS.get(r.result.verdict, "black")
                       if r.result.verdict in (REGRESSION, IMPROVEMENT) else "black")
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ns per call (mean of the fastest quarter of repetitions, 95% interval; "
                  "log scale)")
    ax.set_title("Figure per path, base and new: regressions in red, improvements in green",
                 fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=1, frameon=False,
              fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    return fig, "Bars: each side's figure; whiskers: its 95% bootstrap interval."
