"""One CLI, argparse subcommands. Each command module exposes register(subparsers).

Exit status is an API for CI (EXIT_CODES): no uncaught exception may exit 1, the code of
"regression", so main() turns every unexpected one into exit 4.
"""

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading

from . import VERSION
from .core.errors import Interrupted, UserError

# Modules under sysgatelib/commands that each add one or more subcommands.
_COMMAND_MODULES = (
    "run",
    "deps",
    "report",
    "kernels",
    "history",
    "compare",
    "gate",
    "calibrate",
    "trend",
    "bisect",
)

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4
# One text for every --help (the same codes for every command).
EXIT_CODES = (
    "exit status: 0 ok (no regression); 1 regression; 2 bad input or usage; "
    "3 inconclusive or not comparable; 4 internal error (a bug: rerun with --debug for "
    "the traceback); 128+N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP)"
)
_DEBUG_ENV = "SYSGATE_DEBUG"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sysgate",
        description="Measure what it costs to enter the Linux kernel, path by path.",
        epilog=EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"sysgate {VERSION}")
    parser.add_argument("--debug", action="store_true",
                        help="print the traceback of an internal error (also accepted "
                        f"after the command, or as {_DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__package__}.commands.{name}").register(sub)
    _add_epilog(parser)
    return parser


def _add_epilog(parser):
    """The exit codes under every subcommand's --help, nested ones included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if not child.epilog:
                    child.epilog = EXIT_CODES
                _add_epilog(child)


def _split_debug(argv):
    """--debug anywhere before `--` (after the command too): (debug, the other args)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end]
    rest = [a for a in argv[:end] if a != "--debug"] + argv[end:]
    return debug or os.environ.get(_DEBUG_ENV, "") not in ("", "0"), rest


def matplotlib_cache():
    """Point matplotlib at a private temporary folder when HOME's cache is not writable.

    Otherwise matplotlib warns about a "temporary cache directory" on every command
    (a read-only HOME, a service account). Must run before matplotlib is imported.
    """
    if os.environ.get("MPLCONFIGDIR"):
        return None
    home = os.path.expanduser("~")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    if all(_can_write(os.path.join(base, "matplotlib")) for base in (config, cache)):
        return None
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), f"sysgate-matplotlib-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        folder = None
    if folder:
        info = os.lstat(folder)
        # Someone else's folder (or a link) in a shared /tmp is not ours to trust.
        if info.st_uid != os.getuid() or not os.path.isdir(folder) or os.path.islink(folder):
            folder = None
    if folder is None:
        folder = tempfile.mkdtemp(prefix="sysgate-matplotlib-")
    os.environ["MPLCONFIGDIR"] = folder
    return folder


def _can_write(path):
    """Whether path is a writable folder or could be created as one."""
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


# The signals that ask sysgate to stop: Ctrl-C, `kill` and a CI job's timeout, a closed
# terminal. Each ends the command as Ctrl-C does (Interrupted), exit 128 + its number.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop(signum, frame):
    # A second signal must not cut the cleanup of the first short.
    for number in STOP_SIGNALS:
        signal.signal(number, _stopping)
    raise Interrupted(signum)


def _stopping(signum, frame):
    pass


@contextlib.contextmanager
def _stop_on_signals():
    """Interrupted on SIGINT, SIGTERM and SIGHUP while the command runs; the previous
    handlers again afterwards (a test calls main() in its own process)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    try:
        for number in STOP_SIGNALS:
            if previous[number] != signal.SIG_IGN:  # nohup's SIGHUP stays ignored
                signal.signal(number, _stop)
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _say(line):
    """An error line on stderr, even when stderr is gone (a closed terminal)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def main(argv=None):
    debug, argv = _split_debug(argv)
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors exit 2 (argparse)
    matplotlib_cache()
    try:
        with _stop_on_signals():
            return args.func(args) or EXIT_OK
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        stop = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        _say(f"error: interrupted ({stop.name}): stopped; nothing half-written is left")
        _quiet_stdout()
        return stop.exit_code
    except BrokenPipeError:
        # The reader went away (`sysgate ... | head`): not an error of ours. Point stdout
        # at /dev/null so that the flush at exit does not raise again.
        _quiet_stdout(flush=False)
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place every bug is turned into exit 4
        if debug:
            import traceback

            traceback.print_exc()
        message = " ".join(str(exc).split())[:300]
        hint = "" if debug else " (rerun with --debug for the traceback)"
        print(f"error: internal: {type(exc).__name__}: {message}{hint}", file=sys.stderr)
        return EXIT_INTERNAL


def _quiet_stdout(flush=True):
    """Point stdout at /dev/null when it cannot take the rest of its buffer (the reader
    went away, the terminal closed), so that the flush at exit does not fail again."""
    try:
        if flush:
            sys.stdout.flush()
            return
    except (OSError, ValueError):
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
