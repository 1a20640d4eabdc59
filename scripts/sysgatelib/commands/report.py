"""`sysgate report`: one HTML page with PNG charts beside it, from one or more runs."""

import os

from ..core import atomic
from ..core.errors import UserError
from ..render import html, plot
from ..results import load
from ..verdicts import checks


def render_report(runs, out_dir):
    """Write index.html and its charts into out_dir (created if needed); return the page path.

    runs: load.Run objects (one colour per run on the charts). The page references its
    images by relative name, so the folder can be moved or archived as a whole.

    Every file is written under a temporary name and renamed, the page last; the old page
    goes first, so a failure leaves no page rather than a stale one that looks current,
    and no folder of ours that holds nothing.
    """
    runs = list(runs)
    if not runs:
        raise UserError("report: no results to render")
    out_dir = os.fspath(out_dir)
    index = os.path.join(out_dir, "index.html")
    created = not os.path.isdir(out_dir)
    atomic.check_writable_folder(out_dir, "-o")
    atomic.retire(index)
    written = []
    try:
        images = {}  # drawn in parallel (plot.render_all), written after the page renders
        vm = [bool(checks.is_vm(run)) for run in runs]
        headline, charts = plot.render_all(runs, vm, images.__setitem__)
        page = html.render(runs, charts, headline)
        for name, data in images.items():
            written.append(atomic.write(os.path.join(out_dir, name),
                                        lambda p, data=data: _write_bytes(p, data)))
        return atomic.write_text(index, page)
    except BaseException:
        if created:  # leave nothing behind in a folder this call made
            for path in written:
                atomic.retire(path)
            _remove_if_empty(out_dir)
        raise


def _write_bytes(path, data):
    with open(path, "wb") as handle:
        handle.write(data)


def _remove_if_empty(folder):
    try:
        os.rmdir(folder)
    except OSError:
        pass


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
