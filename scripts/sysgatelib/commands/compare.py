"""`sysgate compare BASE NEW`: did the kernel make entering it slower, with a verdict CI
can use. The model is verdicts/comparison.py, the text render/compare_text.py, the page
and compare.json render/compare_report.py; this module parses the flags and writes the
files.

verdicts/comparison.py says in which order the answer comes and how the exit status
follows from it (EXIT_RULES).
"""

import json
import sys
from pathlib import Path

from ..core import atomic, thresholds
from ..core.errors import UserError
from ..render import compare_report, formats
from ..render.compare_text import render_terminal
from ..results import validate
from ..store import resolve
from ..verdicts.comparison import compare_runs
from . import arguments


def write_outputs(comparison, out_dir):
    from ..render import compare_plot

    out = Path(out_dir)
    try:
        atomic.retire(out / "compare.html", out / "compare.json")  # none stale after a failure
        charts = []
        for name, plot, alt in (
            ("compare_changes.png", compare_plot.plot_changes,
             "change per path with its interval, threshold band shaded"),
            ("compare_medians.png", compare_plot.plot_figures,
             "figure per path, base and new"),
        ):
            fig, caption = plot(comparison)
            atomic.save_figure(fig, out / name, dpi=110)
            charts.append({"file": name, "alt": alt, "caption": caption})
        atomic.write_text(out / "compare.json", compare_report.to_json(comparison))
        atomic.write_text(out / "compare.html", compare_report.render_html(comparison, charts))
    except OSError as exc:
        raise UserError(f"{out}: cannot write the report: {exc.strerror}") from None
    return out / "compare.html"


# --- CLI -------------------------------------------------------------------------------


def _cmd_compare(args):
    targets = formats.parse(args.formats, formats.COMPARE_FORMATS)  # before any work
    if args.output:
        atomic.check_writable_folder(args.output, "-o")
    base = resolve.resolve_side(args.base, args.db, args.host)
    new = resolve.resolve_side(args.new, args.db, args.host)
    from ..store import calibration

    detection = calibration.limits_for(new[0].context, args.calibration)
    comparison = compare_runs(base, new, args.alpha, args.threshold, args.allow_emulated,
                              args.force, detection, args.entry_threshold, args.strict)
    print(render_terminal(comparison))
    page = None
    if args.output:
        page = write_outputs(comparison, args.output)
        print(f"report: {page}", file=sys.stderr)
    write_formats(comparison, targets, page)
    return comparison.exit_code


def write_formats(comparison, targets, page=None):
    """The --format targets (render/formats), from the JSON compare.json holds."""
    if not targets:
        return
    data = json.loads(compare_report.to_json(comparison))
    page = str(page) if page else None
    sys.stdout.flush()
    formats.write(targets, lambda target: formats.render_comparison(target, data, page))


def register(subparsers):
    parser = subparsers.add_parser(
        "compare", help="compare two runs: kernel entry and path verdicts; exit 1 on a "
        "regression, 3 when inconclusive",
        description="Compare two runs path by path and the kernel entry as a whole. BASE "
                    "and NEW are results files, run ids (#3 or 3) or kernel releases from "
                    "the history store (all runs of the release with the newest one's boot "
                    "options), or several of these separated by commas, pooled. Exit "
                    "status: 0 no regression, 1 regression, 2 bad input, 3 inconclusive "
                    "or not comparable (the machine changed between runs).",
    )
    parser.add_argument("base", metavar="BASE")
    parser.add_argument("new", metavar="NEW")
    parser.add_argument("-o", "--output", metavar="DIR", type=Path,
                        help="write compare.html, its PNG charts and compare.json here")
    formats.add_argument(parser, formats.COMPARE_FORMATS)
    add_verdict_arguments(parser)
    parser.add_argument("--host", help="with kernel releases: the host whose runs to use")
    parser.add_argument("--force", action="store_true",
                        help="give verdicts even when the controls say the machine changed")
    parser.add_argument("--allow-emulated", action="store_true",
                        help="compare an emulated (TCG) run with a hardware run anyway")
    parser.add_argument("--calibration", type=Path, metavar="FILE",
                        help="sysgate calibrate's result to show the detection limit from "
                        "(default reports/calibration.json when it is for this host)")
    arguments.add_db_argument(parser)
    parser.set_defaults(func=_cmd_compare)


def add_verdict_arguments(parser):
    """The options of the verdict, the same for compare and gate."""
    parser.add_argument("--threshold", type=validate.non_negative, metavar="PCT",
                        default=thresholds.THRESHOLD_PCT,
                        help="smallest change of a path's figure that counts, "
                        f"in percent (default {thresholds.THRESHOLD_PCT:g})")
    parser.add_argument("--entry-threshold", type=validate.non_negative, metavar="PCT",
                        help="smallest kernel-entry change that counts: the nanoseconds "
                        "added per entry, in percent of the cheapest syscall round trip "
                        "measured on both sides (getpid/syscall, as a rule); default half "
                        f"of --threshold ({thresholds.ENTRY_THRESHOLD_PCT:g}%%)")
    parser.add_argument("--alpha", type=arguments.probability, default=thresholds.ALPHA,
                        help="family-wise significance level over the paths (default "
                        f"{thresholds.ALPHA:g})")
    parser.add_argument("--strict", action="store_true",
                        help="exit 3 when any path is inconclusive, even with the kernel "
                        "entry settled")
