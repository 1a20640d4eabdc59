"""One CLI, argparse subcommands. Each command module exposes register(subparsers)."""

import argparse
import importlib
import sys

from . import VERSION
from .errors import UserError

# Modules under sysgatelib that each add one or more subcommands.
_COMMAND_MODULES = (
    "run",
    "deps",
    "report",
    "kernels",
    "history",
    "compare",
    "calibrate",
    "trend",
)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sysgate",
        description="Measure what it costs to enter the Linux kernel, path by path.",
    )
    parser.add_argument("--version", action="version", version=f"sysgate {VERSION}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
