"""How a verdict's figures read, the same in the terminal, on the page and in the CI
formats: signed percentages, signed nanoseconds, p-values, the verdict word."""

import math

from ..verdicts.stats import IMPROVEMENT, REGRESSION


def format_pct(fraction):
    return "-" if fraction is None or math.isnan(fraction) else f"{fraction * 100:+.1f}%"


def format_p(p):
    return "-" if p is None or math.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def format_ns(value):
    return "-" if value is None or math.isnan(value) else f"{value:+.1f}"


def shown(verdict):
    """REGRESSION and IMPROVEMENT shout; the other answers do not."""
    return verdict.upper() if verdict in (REGRESSION, IMPROVEMENT) else verdict
