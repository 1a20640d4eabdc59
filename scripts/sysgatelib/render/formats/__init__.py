"""What CI reads, written from compare's JSON (or a run's figures): one module per format.

    --format NAME[=FILE]   (repeatable) NAME one of FORMATS; FILE "-" or none: stdout

Each writer module has `from_comparison(data, page=None)` (data: compare's JSON as a dict,
commands/compare.to_json; page: the HTML page's path when -o wrote one) and, for the
single-run formats (RUN_FORMATS), `from_run(data)` (data: figures.run_data). Both return
the text. This module parses the option, checks every target before any work is done, and
writes all or nothing; it imports no third-party module, so the CLI parser may import it.
"""

import importlib
import os
import sys
from dataclasses import dataclass

from ...core import atomic
from ...core.errors import UserError

# name -> what it is, for --help and docs/ci.md
FORMATS = {
    "markdown": "GitHub-flavoured Markdown for $GITHUB_STEP_SUMMARY or a merge-request note",
    "junit": "JUnit XML: a test case per path and one for the kernel entry",
    "bmf": "Bencher Metric Format JSON (bencher run --adapter json), latency in ns",
    "gab": "github-action-benchmark customSmallerIsBetter JSON",
    "openmetrics": "OpenMetrics text (node_exporter textfile collector, GitLab metrics)",
    "lkp": "an LKP-style table (base, %stddev, %change, new) for a regression mail",
}
COMPARE_FORMATS = tuple(FORMATS)
RUN_FORMATS = ("bmf", "gab", "openmetrics")
STDOUT = "-"


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # STDOUT or a file


def help_text(names):
    return ("write NAME beside the terminal output, to FILE or (without =FILE) to stdout "
            "after it; repeatable; NAME: " + ", ".join(names) + " (docs/ci.md)")


def add_argument(parser, names):
    parser.add_argument("--format", action="append", default=[], metavar="NAME[=FILE]",
                        dest="formats", help=help_text(names))


def parse(specs, names):
    """The targets of --format NAME[=FILE] options, checked: a known name, at most one
    format on stdout, no file twice, every file writable. UserError otherwise, so that a
    command refuses bad formats before it measures or writes anything."""
    targets, files = [], set()
    for spec in specs:
        name, _, path = spec.partition("=")
        name = name.strip().lower()
        if name not in names:
            raise UserError(f"--format {spec}: unknown format (known here: "
                            f"{', '.join(names)})")
        if "=" in spec and not path:
            raise UserError(f"--format {spec}: no file after '=' (leave out '=' for stdout)")
        path = path or STDOUT
        key = STDOUT if path == STDOUT else os.path.realpath(path)
        if key in files:
            where = "stdout" if path == STDOUT else path
            raise UserError(f"--format {spec}: {where} already takes another format "
                            "(give each format its own =FILE)")
        files.add(key)
        if path != STDOUT:
            _check_file(spec, path)
        targets.append(Target(name, path))
    return targets


def _check_file(spec, path):
    """A file can be written at path: its folder takes a new file (tried, since root's
    access() says yes to /proc), or can be made; an existing file can be replaced."""
    if os.path.isdir(path):
        raise UserError(f"--format {spec}: {path} is a folder")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(folder):
            atomic.check_writable_folder(folder, "--format")
            return
        probe = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.probe")
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except UserError as exc:
        raise UserError(f"--format {spec}: {exc}") from None
    except OSError as exc:
        raise UserError(f"--format {spec}: {path}: cannot write: "
                        f"{exc.strerror or exc}") from None


def render_comparison(target, data, page=None):
    return _module(target.name).from_comparison(data, page=page)


def render_run(target, data):
    return _module(target.name).from_run(data)


def _module(name):
    return importlib.import_module(f"{__name__}.{name}")


def write(targets, render):
    """Render every target (render(target) -> text), then write the files, then stdout:
    a format that fails to render leaves no file written."""
    texts = [(target, render(target)) for target in targets]
    for target, text in texts:
        if target.path != STDOUT:
            atomic.write_text(target.path, text)
    for target, text in texts:
        if target.path == STDOUT:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
    return [target.path for target, _ in texts if target.path != STDOUT]
