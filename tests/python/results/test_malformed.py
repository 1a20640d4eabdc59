"""Hostile and malformed results files, bad flags and internal errors (issue 11).

The table lives in hostile_matrix.py (also a script that prints the counts): every
malformed file is refused by report, compare (as BASE and as NEW) and history add with
exit 2, one `error:` line naming the file, no traceback, nothing written and the store
unchanged; every valid-but-odd file (mathtext in names, a comma in the file name, a BOM)
works, and what the store accepts later commands can read.
"""

import io
import os
import sys

import hostile_matrix as matrix
import pytest
from conftest import FIXTURES, sysgate
from sysgatelib import cli
from sysgatelib.commands import report
from sysgatelib.core import atomic, names
from sysgatelib.core.errors import UserError
from sysgatelib.render import plot
from sysgatelib.results import load


@pytest.fixture(scope="module")
def matrix_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hostile")


def test_the_matrix_covers_every_class_in_the_issue():
    refused = [c for c in matrix.CASES if c.expect == matrix.REFUSE]
    assert len(refused) >= 40
    wanted = ("nan_timing", "infinity_timing", "1e308_timing", "nested_100000_deep",
              "5000_digit_timing", "dev_zero", "fifo", "5000_char_name", "load_avg_object",
              "negative_timing", "zero_timing", "zero_benchmarks", "every_row_twice",
              "binary_garbage", "mathtext_kernel_release", "mathtext_path_name",
              "comma_in_file_name", "utf8_bom")
    assert set(wanted) <= {c.name for c in matrix.CASES}


@pytest.mark.parametrize("command", matrix.COMMANDS)
@pytest.mark.parametrize("case", matrix.CASES, ids=lambda c: c.name)
def test_hostile_file(case, command, matrix_folder, tmp_path):
    outcome = matrix.run_case(matrix.ROOT / "scripts" / "sysgate", case, command,
                              _fresh(matrix_folder, tmp_path))
    assert not outcome.problems, (outcome.rc, outcome.stderr[-2000:])


@pytest.mark.parametrize("name, args", [pytest.param(*f, id=f[0]) for f in matrix.FLAG_CASES])
def test_bad_flag(name, args, matrix_folder, tmp_path):
    outcome = matrix.run_flag(matrix.ROOT / "scripts" / "sysgate", name, args,
                              _fresh(matrix_folder, tmp_path))
    assert not outcome.problems, (outcome.rc, outcome.stderr)
    last = outcome.stderr.strip().splitlines()[-1]
    assert last.startswith(("sysgate", "error:")), last  # argparse's usage error, or ours


_REFUSALS = ([pytest.param("place", n, a, p, id=n) for n, a, p in matrix.PLACE_CASES]
             + [pytest.param("same-run", n, a, None, id=n) for n, a in matrix.SAME_RUN_CASES]
             + [pytest.param("damaged", n, a, None, id=n)
                for n, a in matrix.DAMAGED_STORE_CASES])


@pytest.mark.parametrize("kind, name, args, place", _REFUSALS)
def test_refused_call(kind, name, args, place, matrix_folder, tmp_path):
    """Issue 24: unwritable output places, a run compared with itself, a damaged store."""
    outcome = matrix.run_refusal(matrix.ROOT / "scripts" / "sysgate", kind, name, args,
                                 _fresh(matrix_folder, tmp_path), place)
    assert not outcome.problems, (outcome.rc, outcome.stderr[-2000:])


def _fresh(parent, tmp_path):
    """A case folder under the module's folder, which holds the shared base store."""
    folder = parent / tmp_path.name
    folder.mkdir()
    return folder


# --- exit 4: an internal error is never a regression (exit 1) --------------------------


def _boom(args):
    raise ZeroDivisionError("a bug")


def test_internal_error_exits_4_with_a_hint(monkeypatch, capsys):
    monkeypatch.setattr(report, "_command", _boom)
    assert cli.main(["report", str(FIXTURES / "vm_run.json")]) == cli.EXIT_INTERNAL == 4
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: internal: ZeroDivisionError: a bug (rerun with --debug for the traceback)"]


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_prints_the_traceback(monkeypatch, capsys, where):
    monkeypatch.setattr(report, "_command", _boom)
    argv = ["report", str(FIXTURES / "vm_run.json")]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    assert cli.main(argv) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_boom" in err
    assert err.strip().splitlines()[-1] == "error: internal: ZeroDivisionError: a bug"


def test_every_help_lists_the_exit_codes():
    for command in ((), ("report",), ("compare",), ("history", "add"), ("trend",), ("run",)):
        done = sysgate(*command, "--help")
        assert done.returncode == 0
        text = " ".join(done.stdout.split())
        assert "4 internal error" in text and "2 bad input or usage" in text, command


def test_usage_error_exits_2():
    done = sysgate("report")
    assert done.returncode == 2 and "Traceback" not in done.stderr


# --- names are data ---------------------------------------------------------------------


def test_text_escapes_mathtext_and_bounds_length():
    assert names.text(r"6.1-$\frac{1}$") == r"6.1-\$\frac{1}\$"
    assert plot.text is names.text  # one helper for every chart
    long = names.text("x" * 5000)
    assert len(long) == names.MAX_CHART_CHARS


def test_escaped_labels_draw(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    ax.set_title(names.text(r"6.1-$\frac{1}$ on $\bad{x"))
    ax.set_xticks([0, 1], [names.text(r"$\frac{1}$"), names.text("s" * 5000)])
    fig.savefig(io.BytesIO(), format="png")  # raised ValueError before the escape


def test_slugs_are_unique_and_safe():
    paths = ["getpid/sys_call", "getpid/sys call", "getpid/sys.call", "getpid/sys/call",
             "getpid/$\\frac{1}$", "../../etc/passwd", "x" * 500]
    slugs = [names.slug(p) for p in paths]
    assert len(set(slugs)) == len(slugs)
    for slug in slugs:
        assert slug and len(slug) <= 80 and "/" not in slug and not slug.startswith(".")
    assert names.slug("getpid/syscall") == names.slug("getpid/syscall")  # stable


# --- pages appear whole or not at all ----------------------------------------------------


def test_failed_report_leaves_no_page_and_no_folder(tmp_path, monkeypatch):
    run = load.load(FIXTURES / "vm_run.json")
    out = tmp_path / "new"

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "write_text", lambda *a, **k: broken())
    with pytest.raises(OSError):
        report.render_report([run], out)
    assert not out.exists()


def test_failed_report_retires_the_stale_page(tmp_path, monkeypatch):
    run = load.load(FIXTURES / "vm_run.json")
    page = tmp_path / "index.html"
    page.write_text("<p>yesterday's page</p>")
    monkeypatch.setattr(report.html, "render", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        report.render_report([run], tmp_path)
    assert not page.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_atomic_write_leaves_no_temporary_on_failure(tmp_path):
    def half(path):
        with open(path, "w") as handle:
            handle.write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(UserError, match="No space left on device"):
        atomic.write(tmp_path / "page.html", half)
    assert os.listdir(tmp_path) == []


def test_run_output_folder_that_cannot_be_written_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = sysgate("run", "--no-install", "--no-build", "-o", blocker / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {blocker / 'out'}: ")


# --- matplotlib's cache when HOME cannot be written --------------------------------------


def test_no_matplotlib_cache_warning_when_home_is_not_writable(tmp_path):
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    done = sysgate("report", FIXTURES / "vm_sysgate_bench_1rep.json", "-o", tmp_path / "out",
                   env=env)
    assert done.returncode == 0, done.stderr
    assert "cache directory" not in done.stderr and "Matplotlib" not in done.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
