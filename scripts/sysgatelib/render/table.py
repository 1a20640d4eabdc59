"""Plain text for the terminal: tables with columns padded to their widest cell, lists
packed into lines of a width."""


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


def packed(first, items, width):
    """`first` then the items, comma-separated, in lines of `width` at most, never
    breaking an item."""
    lines, line = [], first
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(line) + 1 + len(piece) > width and line.strip():
            lines.append(line)
            line = "  " + piece
        else:
            line += " " + piece
    return lines + [line]
