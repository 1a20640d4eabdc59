"""How a verdict's word reads, the same in the terminal, on the page and in the CI
formats (its figures: core/units.py's format_pct, format_p, format_ns)."""

from ..verdicts.stats import IMPROVEMENT, REGRESSION


def shown(verdict):
    """REGRESSION and IMPROVEMENT shout; the other answers do not."""
    return verdict.upper() if verdict in (REGRESSION, IMPROVEMENT) else verdict
