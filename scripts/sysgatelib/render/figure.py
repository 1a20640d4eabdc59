"""What every chart shares: the page's width, and a Figure drawn without a display."""

# The width of a chart that spans the page, inches (the report's and trend's charts).
PAGE_WIDTH_IN = 12.4


def new(dpi=100):
    """An empty matplotlib Figure on the Agg backend (imported here, late: the CLI starts
    without matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(dpi=dpi)
