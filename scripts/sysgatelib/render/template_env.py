"""The one jinja2 environment of every page (templates/): autoescape on, every file is
HTML and a kernel command line can hold anything."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "templates"


def environment():
    import jinja2  # imported late: the CLI starts without jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(FOLDER), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
