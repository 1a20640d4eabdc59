"""Strings from results files are data, never markup or paths.

Every string that reaches a chart goes through text() (matplotlib reads "$...$" as
mathtext, and a malformed expression such as "6.1-$\\frac{1}$" raises at draw time), and
every file name made from a name goes through slug() (a readable part plus a short hash,
so names that differ only in characters the slug drops still get different files).
"""

import hashlib
import re

# Longer labels are cut on charts: matplotlib cannot lay out a label of thousands of
# characters (its raster overflows), and nobody reads one.
MAX_CHART_CHARS = 120
_SLUG_CHARS = 60
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def text(value, limit=MAX_CHART_CHARS):
    """A string from a results file, safe for a chart: no mathtext, bounded length.

    An escaped dollar is never mathtext: matplotlib counts "$" minus "\\$" to decide.
    """
    value = str(value)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("$", r"\$")


def slug(name):
    """A file-name part for name: only [A-Za-z0-9._-], unique per name (short hash)."""
    readable = _UNSAFE.sub("_", str(name)).strip("_.")[:_SLUG_CHARS] or "x"
    digest = hashlib.sha1(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}"
