"""`sysgate deps`: install the Debian packages sysgate needs (core/packages.py lists them)."""

import sys

from ..core.packages import GROUPS, ensure, missing


def register(sub):
    parser = sub.add_parser("deps", help="install the Debian packages sysgate needs")
    parser.add_argument("group", nargs="?", choices=sorted(GROUPS), default="run",
                        help="which set: run (default), test, kernels, runtimes (Go and "
                        "Java for the language-runtime rows), validate")
    parser.add_argument("--check", action="store_true",
                        help="only list what is missing; exit 1 when something is")
    parser.set_defaults(func=_command)


def _command(args):
    packages = GROUPS[args.group]
    if args.check:
        need = missing(packages)
        print("missing: " + " ".join(need) if need else "all installed")
        return 1 if need else 0
    installed = ensure(packages)
    print(f"installed: {' '.join(installed)}" if installed else "all installed", file=sys.stderr)
    return 0
