"""Plain-text tables for the terminal: columns padded to their widest cell."""


def format_table(header, rows, right=()):
    """Plain-text columns; `right` names the column indexes to right-align."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]

    def line(cells):
        parts = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])
