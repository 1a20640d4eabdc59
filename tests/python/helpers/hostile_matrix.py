#!/usr/bin/python3
"""Hostile inputs x commands: what a new user's bad files do to the CLI (issue 11).

Each case is a results file (malformed, hostile, or valid but odd) and what must happen:
"refuse" (exit 2, one `error:` line naming the file, no traceback, the store untouched,
no page written) or "ok" (the command works; a run filed in the store stays readable by
`history list` and `trend`). Each case is fed to `report`, `compare` as BASE (against
another run), `compare` as NEW and `history add`; a few bad flags are added. Every call
has a hang guard.

Issue 24 added three more kinds of hostile call, each of which must be refused with exit 2
and one `error:` line naming what is wrong, the store untouched and nothing written: an
output place that cannot be created or written (-o, --work, --db under /proc or /sys,
under a file, a folder where a file goes), for every command that writes; a run compared
with itself (or two sides sharing a run); and a damaged store read by every command that
reads one.

    tests/python/helpers/hostile_matrix.py [--sysgate PATH/TO/scripts/sysgate] [-k SUBSTRING]

prints the matrix size and the counts (tracebacks, hangs, wrong exit 0, other wrong
exits, bad messages, store changed, pages left, valid files failing, stored runs that a
later command cannot read), so that a change can quote them before and after.
tests/python/results/test_malformed.py runs the same cases under pytest.
"""

import argparse
import contextlib
import copy
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "python" / "fixtures"
GOOD = FIXTURES / "compare_new.json"  # a real sysgate run, the base of every mutation
BASE = FIXTURES / "compare_base.json"  # the other side of compare, and the store's first run
HANG_GUARD_S = 20  # a hang guard, not a timing assertion
MEMORY_LIMIT = 4 << 30  # /dev/zero read without bound must not take the machine down
REFUSE, OK = "refuse", "ok"
COMMANDS = ("report", "compare-base", "compare-new", "history-add")


@dataclass
class Case:
    name: str
    expect: str  # REFUSE or OK
    make: object  # make(folder) -> path of the input


def _good():
    return json.loads(GOOD.read_text())


def _json(mutate, file_name="results.json", **dump):
    def make(folder):
        data = _good()
        mutate(data)
        path = folder / file_name
        path.write_text(json.dumps(data, **dump))
        return path
    return make


def _text(content, file_name="results.json"):
    def make(folder):
        path = folder / file_name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path
    return make


def _replace_first(old, new, file_name="results.json"):
    """The good file with the first `old` in its text replaced (numbers JSON can't dump)."""
    def make(folder):
        text = GOOD.read_text()
        assert old in text, old
        path = folder / file_name
        path.write_text(text.replace(old, new, 1))
        return path
    return make


def _first_row(key, value):
    def mutate(data):
        data["benchmarks"][0][key] = value
    return mutate


def _context(key, value):
    def mutate(data):
        data["context"][key] = value
    return mutate


def _rename_path(old, new):
    def mutate(data):
        for row in data["benchmarks"]:
            for key in ("name", "run_name"):
                if key in row:
                    row[key] = row[key].replace(old, new)
    return mutate


def _fifo(folder):
    path = folder / "fifo.json"
    os.mkfifo(path)
    return path


def _zero_link(folder):
    path = folder / "zero.json"
    path.symlink_to("/dev/zero")
    return path


def _directory(folder):
    path = folder / "dir.json"
    path.mkdir()
    return path


def _sparse(folder):
    path = folder / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(65 << 20)
    return path


def _first_real_time():
    return f'"real_time": {_good()["benchmarks"][0]["real_time"]!r}'


def _doubled(data):
    data["benchmarks"] = data["benchmarks"] + copy.deepcopy(data["benchmarks"])


def _one_row_twice(data):
    data["benchmarks"].insert(1, copy.deepcopy(data["benchmarks"][0]))


def _no_rows(data):
    data["benchmarks"] = []


MATHTEXT = r"6.1-$\frac{1}$"

CASES = (
    Case("empty", REFUSE, _text("")),
    Case("whitespace", REFUSE, _text("  \n\t\n")),
    Case("truncated", REFUSE, lambda f: _text(GOOD.read_text()[:5000])(f)),
    Case("top_level_list", REFUSE, _text("[1, 2, 3]")),
    Case("top_level_number", REFUSE, _text("42")),
    Case("top_level_string", REFUSE, _text('"results"')),
    Case("no_benchmarks_key", REFUSE, _text('{"context": {}}')),
    Case("context_not_object", REFUSE, _text('{"context": [], "benchmarks": []}')),
    Case("benchmarks_not_list", REFUSE, _text('{"context": {}, "benchmarks": {}}')),
    Case("zero_benchmarks", REFUSE, _json(_no_rows)),
    Case("row_not_object", REFUSE, _json(lambda d: d["benchmarks"].insert(0, 7))),
    Case("row_without_name", REFUSE, _json(lambda d: d["benchmarks"][0].pop("name")
                                           and d["benchmarks"][0].pop("run_name"))),
    Case("name_not_string", REFUSE, _json(_first_row("name", 12))),
    Case("nan_timing", REFUSE, _json(_first_row("real_time", float("nan")))),
    Case("infinity_timing", REFUSE, _json(_first_row("real_time", float("inf")))),
    Case("minus_infinity_timing", REFUSE, _json(_first_row("real_time", float("-inf")))),
    Case("1e308_timing", REFUSE, _json(_first_row("real_time", 1e308))),
    Case("1e308_us_overflow", REFUSE, _json(lambda d: d["benchmarks"][0].update(
        real_time=1e307, time_unit="s"))),
    Case("negative_timing", REFUSE, _json(_first_row("real_time", -120.0))),
    Case("zero_timing", REFUSE, _json(_first_row("real_time", 0))),
    Case("timing_string", REFUSE, _json(_first_row("real_time", "120"))),
    Case("timing_bool", REFUSE, _json(_first_row("real_time", True))),
    Case("unknown_time_unit", REFUSE, _json(_first_row("time_unit", "fortnights"))),
    Case("infinity_counter", REFUSE, _json(_first_row("tsc_ticks", float("inf")))),
    Case("1e308_counter", REFUSE, _json(_first_row("tsc_ticks", 1e308))),
    Case("negative_iterations", REFUSE, _json(_first_row("iterations", -5))),
    Case("nested_100000_deep", REFUSE,
         _text('{"context": {}, "benchmarks": ' + "[" * 100000 + "]" * 100000 + "}")),
    Case("nested_200_objects_in_context", REFUSE,
         _text('{"context": {"a": ' + '{"a": ' * 200 + "1" + "}" * 201
               + ', "benchmarks": []}')),
    Case("5000_digit_timing", REFUSE, _replace_first(_first_real_time(),
                                                     '"real_time": ' + "9" * 5000)),
    Case("5000_digit_in_context", REFUSE, _replace_first('"num_cpus": 2',
                                                         '"num_cpus": ' + "7" * 5000)),
    Case("dev_zero", REFUSE, lambda f: Path("/dev/zero")),
    Case("link_to_dev_zero", REFUSE, _zero_link),
    Case("fifo", REFUSE, _fifo),
    Case("directory", REFUSE, _directory),
    Case("missing_file", REFUSE, lambda f: f / "missing.json"),
    Case("over_64_mib", REFUSE, _sparse),
    Case("5000_char_name", REFUSE, _json(_rename_path("getpid/syscall", "getpid/" + "s" * 5000))),
    Case("control_char_name", REFUSE, _json(_rename_path("getpid/syscall", "getpid/sys\ncall"))),
    Case("5000_char_host_name", REFUSE, _json(_context("host_name", "h" * 5000))),
    Case("kernel_release_object", REFUSE, _json(_context("kernel_release", {"a": 1}))),
    Case("load_avg_object", REFUSE, _json(_context("load_avg", {"one": 1.0}))),
    Case("load_avg_string", REFUSE, _json(_context("load_avg", "high"))),
    Case("num_cpus_negative", REFUSE, _json(_context("num_cpus", -2))),
    Case("every_row_twice", REFUSE, _json(_doubled)),
    Case("one_row_twice", REFUSE, _json(_one_row_twice)),
    Case("binary_garbage", REFUSE, _text(bytes(range(256)) * 64)),
    Case("random_bytes", REFUSE, _text(hashlib.sha512(b"sysgate").digest() * 100)),
    Case("utf16", REFUSE, lambda f: _text(GOOD.read_text().encode("utf-16"))(f)),
    Case("latin1_text", REFUSE, _text("caf\xe9 {".encode("latin-1"))),
    Case("trailing_garbage", REFUSE, lambda f: _text(GOOD.read_text() + "}garbage")(f)),
    Case("plain_text", REFUSE, _text("getpid/syscall 120 ns\n")),
    # Valid files that look odd: they must work everywhere.
    Case("mathtext_kernel_release", OK, _json(_context("kernel_release", MATHTEXT))),
    Case("mathtext_host_name", OK, _json(_context("host_name", r"$\bad{x"))),
    Case("mathtext_path_name", OK, _json(_rename_path("getpid/syscall", r"getpid/$\frac{1}$"))),
    Case("comma_in_file_name", OK, _json(lambda d: None, file_name="run,1.json")),
    Case("utf8_bom", OK, lambda f: _text(b"\xef\xbb\xbf" + GOOD.read_bytes())(f)),
    Case("nan_counter", OK, _json(_first_row("percall_outliers", float("nan")))),
)

# Bad flags: (name, arguments after `sysgate`); every one must exit 2 with one line.
FLAG_CASES = (
    ("compare_threshold_nan", ["compare", BASE, GOOD, "--threshold", "nan"]),
    ("compare_threshold_inf", ["compare", BASE, GOOD, "--threshold", "inf"]),
    ("compare_threshold_negative", ["compare", BASE, GOOD, "--threshold", "-5"]),
    ("compare_threshold_word", ["compare", BASE, GOOD, "--threshold", "lots"]),
    ("compare_alpha_nan", ["compare", BASE, GOOD, "--alpha", "nan"]),
    ("trend_threshold_nan", ["trend", "--threshold", "nan"]),
    ("trend_threshold_inf", ["trend", "--threshold", "inf"]),
    ("unknown_command", ["frobnicate"]),
    ("unknown_option", ["report", GOOD, "--no-such-option"]),
)


# Output places that cannot be created or written: (name, arguments, the place). {out} is
# a folder of the case, {file} a plain file there, {dir} a folder there, {db} the store.
PROC, SYS = "/proc/sysgate-hostile/x", "/sys/sysgate-hostile/x"
_RUN = ["--quick", "--no-install", "--no-build"]
PLACE_CASES = (
    ("run_out_under_proc", ["run", *_RUN, "--no-history", "-o", PROC], PROC),
    ("run_out_under_sys", ["run", *_RUN, "--no-history", "-o", SYS], SYS),
    ("run_out_under_a_file", ["run", *_RUN, "--no-history", "-o", "{file}/x"], "{file}/x"),
    ("run_db_under_proc", ["run", *_RUN, "-o", "{out}", "--db", PROC + ".sqlite"],
     PROC + ".sqlite"),
    ("run_db_is_a_folder", ["run", *_RUN, "-o", "{out}", "--db", "{dir}"], "{dir}"),
    ("report_out_under_proc", ["report", GOOD, "-o", PROC], PROC),
    ("report_out_is_a_file", ["report", GOOD, "-o", "{file}"], "{file}"),
    ("compare_out_under_proc", ["compare", BASE, GOOD, "-o", PROC], PROC),
    ("compare_out_under_a_file", ["compare", BASE, GOOD, "-o", "{file}/x"], "{file}/x"),
    ("trend_out_under_proc", ["trend", "--db", "{db}", "-o", PROC], PROC),
    ("history_add_db_under_proc", ["history", "add", GOOD, "--db", PROC + ".sqlite"],
     PROC + ".sqlite"),
    ("history_add_db_under_sys", ["history", "add", GOOD, "--db", SYS + ".sqlite"],
     SYS + ".sqlite"),
    ("history_add_db_is_a_folder", ["history", "add", GOOD, "--db", "{dir}"], "{dir}"),
    ("gate_work_under_proc", ["gate", BASE, "--no-build", "--db", "{db}", "--work", PROC],
     PROC),
    ("gate_out_under_proc", ["gate", BASE, "--no-build", "--db", "{db}", "--work",
                             "{out}", "-o", PROC], PROC),
    ("gate_db_under_proc", ["gate", BASE, "--no-build", "--work", "{out}", "--db",
                            PROC + ".sqlite"], PROC + ".sqlite"),
    ("calibrate_work_under_proc", ["calibrate", "--no-build", "--work", PROC], PROC),
    ("calibrate_out_under_proc", ["calibrate", "--no-build", "--work", "{out}", "-o",
                                  PROC + ".json"], PROC + ".json"),
    ("kernels_out_under_proc", ["kernels", "k", "--no-install", "--no-build", "--no-db",
                                "-o", PROC], PROC),
    ("kernels_db_under_proc", ["kernels", "k", "--no-install", "--no-build", "-o", "{out}",
                               "--db", PROC + ".sqlite"], PROC + ".sqlite"),
)

# A run compared with itself, or sides that share a run: (name, arguments).
SAME_RUN_CASES = (
    ("compare_a_file_with_itself", ["compare", GOOD, GOOD]),
    ("compare_a_file_with_its_copy", ["compare", GOOD, "{copy}"]),
    ("compare_a_file_with_its_stored_run", ["compare", BASE, "1", "--db", "{db}"]),
    ("compare_a_stored_run_with_itself", ["compare", "1", "#1", "--db", "{db}"]),
    ("compare_sides_sharing_a_run", ["compare", f"{BASE},{GOOD}", GOOD]),
    ("compare_a_side_naming_a_run_twice", ["compare", f"{GOOD},{{copy}}", BASE]),
    ("gate_base_naming_a_run_twice", ["gate", f"{GOOD},{GOOD}", "--no-build", "--quick",
                                      "--max-runs", "1", "--db", "{db}", "--work",
                                      "{out}"]),
)

# Commands reading a store whose middle third of pages was overwritten: (name, arguments).
DAMAGED_STORE_CASES = (
    ("damaged_history_list", ["history", "list", "--db", "{damaged}"]),
    ("damaged_history_list_kernel", ["history", "list", "--kernel", "6.1.0-47-cloud-amd64",
                                     "--db", "{damaged}"]),
    ("damaged_compare_run_ids", ["compare", "1", "2", "--db", "{damaged}"]),
    ("damaged_compare_release", ["compare", "6.1.0-47-cloud-amd64", GOOD, "--db",
                                 "{damaged}"]),
    ("damaged_trend", ["trend", "--db", "{damaged}", "-o", "{out}"]),
    ("damaged_history_add", ["history", "add", GOOD, "--db", "{damaged}"]),
    ("damaged_history_tag", ["history", "tag", "1", "--tag", "x", "--db", "{damaged}"]),
    ("damaged_history_push", ["history", "push", "--to", "{db}", "--db", "{damaged}"]),
    ("damaged_gate", ["gate", "1", "--no-build", "--db", "{damaged}", "--work", "{out}"]),
    ("damaged_history_check", ["history", "check", "--db", "{damaged}"]),
)


@dataclass
class Outcome:
    case: str
    command: str
    expect: str
    rc: int | None  # None: killed by the hang guard
    stdout: str = ""
    stderr: str = ""
    problems: list = field(default_factory=list)


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def call(sysgate, args, cwd):
    env = dict(os.environ)
    try:
        done = subprocess.run(["/usr/bin/python3", str(sysgate), *map(str, args)],
                              capture_output=True, text=True, errors="replace", cwd=cwd,
                              env=env, timeout=HANG_GUARD_S, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        def text(value):
            return value.decode(errors="replace") if isinstance(value, bytes) else value or ""
        return None, text(exc.stdout), text(exc.stderr)
    return done.returncode, done.stdout, done.stderr


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).exists() else None


def base_store(sysgate, folder):
    """A store holding BASE, made with the code under test."""
    db = folder / "base.sqlite"
    if not db.exists():
        rc, _, err = call(sysgate, ["history", "add", BASE, "--db", db], folder)
        if rc != 0:
            raise RuntimeError(f"cannot make the base store: {err}")
    return db


def run_case(sysgate, case, command, folder):
    """Run one case through one command in folder (a fresh, empty folder)."""
    work = folder / "in"
    work.mkdir()
    path = case.make(work)
    out = folder / "out"
    db = folder / "store.sqlite"
    shutil.copy(base_store(sysgate, folder.parent), db)
    before = _digest(db)
    args = {
        "report": ["report", path, "-o", out],
        # Against another run: the odd-but-valid files are GOOD's own measurement, and a
        # run compared with itself is refused (SAME_RUN_CASES).
        "compare-base": ["compare", path, BASE, "-o", out],
        "compare-new": ["compare", BASE, path, "-o", out],
        "history-add": ["history", "add", path, "--db", db],
    }[command]
    rc, stdout, stderr = call(sysgate, args, folder)
    outcome = Outcome(case.name, command, case.expect, rc, stdout, stderr)
    problems = outcome.problems
    if rc is None:
        problems.append("hang")
    if "Traceback (most recent call last)" in stderr:
        problems.append("traceback")
    if case.expect == REFUSE and rc is not None:
        if rc == 0:
            problems.append("wrong exit 0")
        elif rc != 2:
            problems.append(f"wrong exit {rc}")
        lines = [line for line in stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        if rc != 0 and (len(errors) != 1 or str(path) not in errors[0]):
            problems.append("bad message")  # refused, but not in one line naming the file
        if _digest(db) != before:
            problems.append("store changed")
        if out.exists():  # a refused file writes nothing: no page, no empty folder
            problems.append("page left")
    if case.expect == OK and rc is not None:
        allowed = (0, 1, 3) if command.startswith("compare") else (0,)
        if rc not in allowed:
            problems.append(f"valid file failed (exit {rc})")
    if command == "history-add" and rc == 0:
        # Whatever the store accepted, later commands must read.
        for later in (["history", "list", "--db", db],
                      ["trend", "--db", db, "-o", folder / "trend"]):
            rc2, _, err2 = call(sysgate, later, folder)
            if rc2 != 0 or "Traceback" in err2:
                problems.append(f"stored unreadable ({later[0]} {later[1]}: exit {rc2})")
                break
    return outcome


def run_flag(sysgate, name, args, folder):
    db = folder / "store.sqlite"
    shutil.copy(base_store(sysgate, folder.parent), db)
    # Never the default folders: a flag the code under test wrongly accepts writes here.
    extra = ["--db", db, "-o", folder / "out"] if args[0] in ("trend", "compare") else []
    rc, stdout, stderr = call(sysgate, [*args, *extra], folder)
    outcome = Outcome(name, "flags", REFUSE, rc, stdout, stderr)
    if rc is None:
        outcome.problems.append("hang")
    if "Traceback (most recent call last)" in stderr:
        outcome.problems.append("traceback")
    if rc == 0:
        outcome.problems.append("wrong exit 0")
    elif rc is not None and rc != 2:
        outcome.problems.append(f"wrong exit {rc}")
    return outcome


def damaged_store(sysgate, folder):
    """A store of several runs (BASE and GOOD and copies of them moved in time) with the
    middle third of its 4 KiB pages overwritten, as a bad disk does."""
    db = folder / "damaged.sqlite"
    if db.exists():
        return db
    files = []
    for index in range(12):
        data = json.loads((BASE if index % 2 else GOOD).read_text())
        data["context"]["date"] = f"2026-10-{index + 1:02d}T00:00:00"
        files.append(folder / f"stored{index}.json")
        files[-1].write_text(json.dumps(data))
    rc, _, err = call(sysgate, ["history", "add", *files, "--db", db], folder)
    if rc != 0:
        raise RuntimeError(f"cannot make the store to damage: {err}")
    # VACUUM lays each table out in one piece, the runs first: the middle third then holds
    # path rows and results files, and `history list` (the runs alone) used to read as
    # sound a store whose runs could not be compared or drawn (issue 24).
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("VACUUM")
    page = 4096
    pages = db.stat().st_size // page
    with open(db, "r+b") as handle:
        for index in range(pages // 3, 2 * pages // 3):
            handle.seek(index * page)
            handle.write(bytes((index * 37 + i) % 251 for i in range(page)))
    return db


def _fill(args, names):
    return [str(a).format(**names) if isinstance(a, str) else a for a in args]


def run_refusal(sysgate, kind, name, args, folder, place=None):
    """One call that must be refused: exit 2, one `error:` line (naming `place` when
    given), no traceback, no store changed, nothing left in the case's output folder."""
    db = folder / "store.sqlite"
    shutil.copy(base_store(sysgate, folder.parent), db)
    (folder / "a_file").write_text("not a folder\n")
    (folder / "a_dir").mkdir()
    shutil.copy(GOOD, folder / "copy.json")
    names = {"out": folder / "out", "file": folder / "a_file", "dir": folder / "a_dir",
             "db": db, "copy": folder / "copy.json"}
    damaged = None
    if any("{damaged}" in str(a) for a in args):
        damaged = folder / "damaged.sqlite"
        shutil.copy(damaged_store(sysgate, folder.parent), damaged)
        names["damaged"] = damaged
    stores = [p for p in (db, damaged) if p is not None]
    before = [_digest(p) for p in stores]
    rc, stdout, stderr = call(sysgate, _fill(args, names), folder)
    outcome = Outcome(name, kind, REFUSE, rc, stdout, stderr)
    problems = outcome.problems
    if rc is None:
        problems.append("hang")
    if "Traceback (most recent call last)" in stderr:
        problems.append("traceback")
    if rc == 0:
        problems.append("wrong exit 0")
    elif rc is not None and rc != 2:
        problems.append(f"wrong exit {rc}")
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    named = str(place).format(**names) if place else None
    if rc not in (0, None) and (len(errors) != 1 or (named and named not in errors[0])):
        problems.append("bad message")
    if [_digest(p) for p in stores] != before:
        problems.append("store changed")
    out = folder / "out"
    if out.exists() and any(out.iterdir()):
        problems.append("page left")
    return outcome


COUNTS = ("traceback", "hang", "wrong exit 0", "wrong exit (other)", "bad message",
          "store changed", "page left", "valid file failed", "stored unreadable")


def tally(outcomes):
    counts = dict.fromkeys(COUNTS, 0)
    for outcome in outcomes:
        for problem in outcome.problems:
            key = next((k for k in COUNTS if problem.startswith(k)), "wrong exit (other)")
            counts[key] += 1
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sysgate", default=ROOT / "scripts" / "sysgate", type=Path,
                        help="the CLI to test (default: this checkout's)")
    parser.add_argument("-k", default="", help="only cases whose name contains this")
    parser.add_argument("-v", action="store_true", help="print every problem")
    args = parser.parse_args(argv)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="sysgate-hostile-") as top:
        top = Path(top)
        jobs = [(case, command) for case in CASES if args.k in case.name
                for command in COMMANDS]
        for index, (case, command) in enumerate(jobs):
            folder = top / f"{index}"
            folder.mkdir()
            outcomes.append(run_case(args.sysgate, case, command, folder))
        for index, (name, flag_args) in enumerate(FLAG_CASES):
            if args.k in name:
                folder = top / f"flag{index}"
                folder.mkdir()
                outcomes.append(run_flag(args.sysgate, name, flag_args, folder))
        extra = ([("place", n, a, p) for n, a, p in PLACE_CASES]
                 + [("same-run", n, a, None) for n, a in SAME_RUN_CASES]
                 + [("damaged", n, a, None) for n, a in DAMAGED_STORE_CASES])
        for index, (kind, name, call_args, place) in enumerate(extra):
            if args.k in name:
                folder = top / f"extra{index}"
                folder.mkdir()
                outcomes.append(run_refusal(args.sysgate, kind, name, call_args, folder,
                                            place))
    for outcome in outcomes:
        if outcome.problems and args.v:
            last = (outcome.stderr.strip().splitlines() or [""])[-1][:160]
            print(f"{outcome.case:32} {outcome.command:13} rc={outcome.rc}: "
                  f"{', '.join(outcome.problems)}  [{last}]")
    refused = sum(c.expect == REFUSE for c in CASES if args.k in c.name)
    valid = sum(c.expect == OK for c in CASES if args.k in c.name)
    def chosen(cases):
        return len([c for c in cases if args.k in c[0]])

    print(f"matrix: {refused} malformed + {valid} valid-but-odd files x {len(COMMANDS)} "
          f"commands + {chosen(FLAG_CASES)} bad flags + {chosen(PLACE_CASES)} output "
          f"places + {chosen(SAME_RUN_CASES)} same-run comparisons + "
          f"{chosen(DAMAGED_STORE_CASES)} damaged-store reads = {len(outcomes)} calls")
    counts = tally(outcomes)
    for key in COUNTS:
        print(f"  {key:20} {counts[key]}")
    print(f"  calls with a problem {sum(bool(o.problems) for o in outcomes)}")
    return 1 if any(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
