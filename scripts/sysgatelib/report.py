"""`sysgate report`: one HTML page with PNG charts beside it, from one or more runs."""

import os

from . import checks, html, load, plot
from .errors import UserError


def render_report(runs, out_dir):
    """Write index.html and its charts into out_dir (created if needed); return the page path.

    runs: load.Run objects (one colour per run on the charts). The page references its
    images by relative name, so the folder can be moved or archived as a whole.
    """
    runs = list(runs)
    if not runs:
        raise UserError("report: no results to render")
    out_dir = os.fspath(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{out_dir}: cannot create the report folder: {exc.strerror}") from None

    def write(name, data):
        _write(os.path.join(out_dir, name), lambda p: _write_bytes(p, data))

    vm = [bool(checks.is_vm(run)) for run in runs]
    headline, charts = plot.render_all(runs, vm, write)
    page = html.render(runs, charts, headline)
    index = os.path.join(out_dir, "index.html")
    _write(index, lambda p: _write_text(p, page))
    return index


def _write_text(path, content):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)


def _write_bytes(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def _write(path, writer):
    """Write through a temporary name so a reader never sees half a file."""
    temporary = f"{path}.tmp"
    try:
        writer(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror}") from None


def _command(args):
    runs = load.load_all(args.results)
    out_dir = args.output or os.path.dirname(os.path.abspath(args.results[0]))
    print(render_report(runs, out_dir))
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "report", help="render results files as one HTML page with PNG charts",
        description="Render one or more results files as index.html with PNG charts "
        "beside it. Several files share one page, one colour per run.",
    )
    parser.add_argument("results", nargs="+", metavar="RESULTS.json",
                        help="results file(s) written by `sysgate run` or sysgate_bench")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="folder for index.html and the charts "
                        "(default: the first results file's folder)")
    parser.set_defaults(func=_command)
