"""How numbers read, the same in the terminal summary, on the page, in compare and trend:
about three significant figures, with a thousands separator from 1,000 up."""

import math


def ns(value, missing="-"):
    """A duration or count per call: 0.29, 22.1, 141, 4,119."""
    if value is None or math.isnan(value):
        return missing
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def count(value, missing="-"):
    """Counts per call, where none at all reads as a plain 0."""
    return "0" if value == 0 else ns(value, missing)


def ratio(value, missing="-"):
    """How many times a baseline: 1.0x, 77x, 3,012x."""
    if value is None or math.isnan(value):
        return missing
    return f"{value:,.0f}×" if value >= 100 else f"{value:.1f}×"


def with_unit(value_ns):
    """A latency with its unit, for chart labels: 2.19 ns, 141 ns, 4.1 µs."""
    if value_ns >= 1000:
        return f"{ns(value_ns / 1000)} µs"
    return f"{ns(value_ns)} ns"


def some(items, shown=5):
    """The first few of a list of texts, and how many more: "a, b, c and 7 more"."""
    items = list(items)
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


# A verdict's figures, the same in the terminal, on the page and in the CI formats.
def format_pct(fraction):
    """A signed change: +9.8%."""
    return "-" if fraction is None or math.isnan(fraction) else f"{fraction * 100:+.1f}%"


def format_p(p):
    return "-" if p is None or math.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def format_ns(value):
    """Signed nanoseconds: +12.5."""
    return "-" if value is None or math.isnan(value) else f"{value:+.1f}"
