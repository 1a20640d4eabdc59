"""`sysgate history`: add, list, check, tag, remove and push the runs of a history store."""

import json

from .. import store
from ..core.errors import UserError
from ..render.table import format_table
from ..results import busy
from . import arguments

_LIST_HEADER = ("id", "date", "host", "kernel", "boot options", "quick", "reps", "seccomp",
                "load", "busy", "paths", "skipped", "tag", "note")
_BOOT_WIDTH = 48


def _cmd_add(args):
    for source, run_id, added in store.import_files(args.db, args.results):
        state = "added as" if added else "already in the store as"
        print(f"{source}: {state} run #{run_id}")
    return 0


def _cmd_list(args):
    with store.open_store(args.db) as st:
        runs = store.list_runs(st, host=args.host, kernel=args.kernel, tag=args.tag)
    if not runs:
        print("no runs" + (" match" if args.host or args.kernel or args.tag else " in the store"))
        return 0
    runs.sort(key=lambda r: (r.host_name, r.kernel_key, r.date, r.id))
    rows = [
        (f"#{r.id}", r.date[:19], r.host_name, r.kernel_release,
         _shorten(r.cmdline or r.boot_options, _BOOT_WIDTH), _quick(r.context),
         str(r.repetitions or "?"), _seccomp(r.context), _load(r.context),
         _busy(r.context), str(r.measured), str(r.skipped), r.tag,
         "emulated" if r.emulated else "")
        for r in runs
    ]
    print(format_table(_LIST_HEADER, rows, right={6, 10, 11}))
    return 0


def _shorten(text, width):
    return text if len(text) <= width else text[: width - 3] + "..."


def _quick(context):
    value = context.get("quick")
    return {"true": "yes", "false": "no"}.get(value, "?")


def _seccomp(context):
    """The seccomp mode of the measuring process: 0 none, 1 strict, 2 filter."""
    mode = context.get("seccomp")
    filters = context.get("seccomp_filters")
    if mode in (None, ""):
        return "?"
    if mode == "0":
        return "off"
    return "filter" + (f" x{filters}" if filters not in (None, "", "0") else "") \
        if mode == "2" else f"mode {mode}"


def _load(context):
    """The 1-minute load average when the run started."""
    try:
        value = json.loads(context.get("load_avg", "null"))
    except ValueError:
        return "?"
    if isinstance(value, list) and value and isinstance(value[0], (int, float)):
        return f"{value[0]:.2f}"
    return "?"


def _busy(context):
    """Whether the machine was busy while measuring (results/busy.py): `?` for a run that
    did not record it."""
    facts = busy.from_context(context)
    if facts is None:
        return "?"
    return "busy" if busy.is_busy(facts) else "quiet"


def _run_ids(texts):
    ids = []
    for text in texts:
        plain = text.lstrip("#")
        if not plain.isdigit():
            raise UserError(f"{text}: not a run id (a number, as `history list` shows)")
        ids.append(int(plain))
    return ids


def _cmd_tag(args):
    ids = _run_ids(args.runs)
    tag = "" if args.clear else args.tag
    if not args.clear and not tag.strip():
        raise UserError("--tag: give a non-empty tag, or --clear to remove one")
    with store.open_store(args.db, write=True) as st:
        store.tag_runs(st, ids, tag)
    for run_id in ids:
        print(f"run #{run_id}: " + (f"tagged {tag!r}" if tag else "tag removed"))
    return 0


def _cmd_rm(args):
    ids = _run_ids(args.runs)
    with store.open_store(args.db, write=True) as st:
        store.remove_runs(st, ids)
    for run_id in ids:
        print(f"run #{run_id}: removed")
    return 0


def _cmd_check(args):
    with store.open_store(args.db, verify=False) as st:
        facts, problems = store.check(st)
        name = st.name
    print(format_table(("check", "result"), facts))
    if problems:
        for problem in problems:
            print(f"problem: {problem}")
        raise UserError(f"{name}: damaged store: {problems[0]}")
    return 0


def _cmd_push(args):
    if str(args.to) == str(args.db):
        raise UserError(f"--to {args.to}: the same store as --db")
    copied, present = store.push(args.db, args.to)
    print(f"pushed to {args.to}: {copied} run(s) copied, {present} already there")
    return 0


def register(subparsers):
    parser = subparsers.add_parser(
        "history", help="keep runs per host and kernel (SQLite, or a fleet's PostgreSQL)",
        description="The history store: every run by host and kernel. --db is an SQLite "
                    "file (the default) or postgresql://USER@HOST[:PORT]/DB (docs/fleet.md).",
    )
    sub = parser.add_subparsers(dest="history_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="import saved results files (idempotent)")
    add.add_argument("results", nargs="+", metavar="RESULTS.json")
    arguments.add_db_argument(add)
    add.set_defaults(func=_cmd_add)

    lst = sub.add_parser("list", help="list the stored runs by host and kernel version")
    lst.add_argument("--host", help="only this host (name or fingerprint)")
    lst.add_argument("--kernel", help="only this kernel release")
    lst.add_argument("--tag", help="only runs with this tag")
    arguments.add_db_argument(lst)
    lst.set_defaults(func=_cmd_list)

    chk = sub.add_parser("check", help="check the store's integrity and count what it holds; "
                                       "exit 2 when it is damaged")
    arguments.add_db_argument(chk)
    chk.set_defaults(func=_cmd_check)

    tag = sub.add_parser("tag", help="tag runs (e.g. 'baseline', 'bad-bios'); shown in list")
    tag.add_argument("runs", nargs="+", metavar="RUN", help="run ids, as `history list` shows")
    what = tag.add_mutually_exclusive_group(required=True)
    what.add_argument("--tag", metavar="TEXT", help="the tag to set")
    what.add_argument("--clear", action="store_true", help="remove the runs' tag")
    arguments.add_db_argument(tag)
    tag.set_defaults(func=_cmd_tag)

    rm = sub.add_parser("rm", help="remove runs (and their paths) from the store; "
                                   "they leave trend and compare")
    rm.add_argument("runs", nargs="+", metavar="RUN", help="run ids, as `history list` shows")
    arguments.add_db_argument(rm)
    rm.set_defaults(func=_cmd_rm)

    push = sub.add_parser(
        "push", help="copy this store's runs into a shared PostgreSQL store (idempotent)",
        description="Copy every run of the local store (--db) into another store (--to), "
                    "one transaction per run; a run already there (same results) is left "
                    "alone, so pushing again after an interruption is safe.",
    )
    push.add_argument("--to", required=True, type=store.db_target, metavar="URL",
                      help="the shared store: postgresql://USER@HOST[:PORT]/DB")
    arguments.add_db_argument(push)
    push.set_defaults(func=_cmd_push)
