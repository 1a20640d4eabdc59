"""Indirect cost: workloads parsed from family names, the figure from four rows' facts,
"within noise of zero" when the interval holds zero, and the report's section and chart.

The rows are built here (not measured): the tests check the arithmetic and the wiring,
never a timing of this machine.
"""

import html.parser
import math

import pytest

from sysgatelib.commands import report
from sysgatelib.results import load
from sysgatelib.verdicts import indirect


def _path(name, mechanism, samples, peer="", skipped=None):
    return load.PathResult(name=name, mechanism=mechanism, peer=peer, skipped=skipped,
                           samples_ns=list(samples), expected_entries=0.0)


def _run(paths):
    return load.Run(source="synthetic.json", context={"sysgate_version": "test"},
                    paths={p.name: p for p in paths})


def _jitter(centre, n=12, spread=0.5):
    """n repetitions around `centre`, deterministic."""
    return [centre + spread * ((i * 7) % n - n / 2) / n for i in range(n)]


def _rows(extra_after_entry, workload="indirect_calls_4", entry_cost=100.0, call_cost=2.0,
          work=50.0):
    """A direct call row, an entry row, and the workload after each of them: the workload
    after the entry pays `extra_after_entry` ns more than after the call."""
    return [
        _path("direct/call", "call", _jitter(call_cost)),
        _path("direct/entry", "syscall", _jitter(entry_cost)),
        _path(f"{workload}/call", "call", _jitter(call_cost + work), peer="direct/call"),
        _path(f"{workload}/syscall", "syscall",
              _jitter(entry_cost + work + extra_after_entry), peer="direct/entry"),
    ]


def test_workloads_parse_from_family_names_and_sort_by_size():
    assert indirect.workload_of("getpid") is None
    assert indirect.workload_of("indirect_") is None
    chase = indirect.workload_of("indirect_chase_32k")
    assert (chase.kind, chase.param, chase.label) == ("chase", 32 << 10, "chase_32k")
    assert indirect.workload_of("indirect_chase_2m").param == 2 << 20
    assert indirect.workload_of("indirect_calls_16").param == 16
    assert indirect.workload_of("indirect_branches").param is None
    names = ["indirect_chase_2m", "indirect_chase_4k", "indirect_chase_256k"]
    ordered = sorted((indirect.workload_of(n) for n in names), key=indirect.Workload.sort_key)
    assert [w.label for w in ordered] == ["chase_4k", "chase_256k", "chase_2m"]


def test_figure_subtracts_the_entry_and_the_call_reference():
    (figure,) = indirect.figures(_run(_rows(30.0)))
    assert figure.name == "indirect_calls_4/syscall"
    assert figure.entry == "syscall"
    assert not figure.within_noise and figure.missing is None
    assert figure.ns == pytest.approx(30.0, abs=0.5)
    assert figure.low <= figure.ns <= figure.high
    assert figure.verdict == "extra cost"


def test_no_extra_cost_reads_within_noise_not_a_number():
    (figure,) = indirect.figures(_run(_rows(0.0)))
    assert figure.within_noise
    assert figure.ns is None
    assert figure.low <= 0 <= figure.high
    (row,) = indirect.view(_run(_rows(0.0)), lambda v: f"{v:.1f} ns")
    assert "within noise of zero" in row["interval"]
    assert row["value"] == "≈ 0"


def test_the_reference_row_is_found_by_mechanism_not_by_name():
    rows = _rows(30.0)
    rows[2] = _path("indirect_calls_4/plain", "call", rows[2].samples_ns, peer="direct/call")
    (figure,) = indirect.figures(_run(rows))
    assert figure.ns == pytest.approx(30.0, abs=0.5)


def test_missing_rows_say_which_and_skips_stay_skips():
    rows = _rows(30.0)
    (figure,) = indirect.figures(_run([r for r in rows if r.name != "direct/entry"]))
    assert figure.ns is None and "direct/entry" in figure.missing
    rows[3].skipped, rows[3].samples_ns = "int 0x80 unavailable", []
    (figure,) = indirect.figures(_run(rows))
    assert figure.missing == "skipped: int 0x80 unavailable"
    without_reference = [r for r in _rows(30.0) if r.name != "indirect_calls_4/call"]
    (figure,) = indirect.figures(_run(without_reference))
    assert "a call row in indirect_calls_4" in figure.missing


def test_one_repetition_gives_the_figure_without_an_interval():
    rows = [_path(p.name, p.mechanism, p.samples_ns[:1], peer=p.peer) for p in _rows(30.0)]
    (figure,) = indirect.figures(_run(rows))
    assert figure.ns == pytest.approx(rows[3].samples_ns[0] - rows[1].samples_ns[0]
                                      - rows[2].samples_ns[0] + rows[0].samples_ns[0])
    assert "two or more repetitions" in figure.missing
    assert figure.low is None


def test_a_run_without_indirect_rows_has_no_figures_and_no_chart():
    run = _run(_rows(30.0)[:2])
    assert indirect.figures(run) == []
    assert indirect.indirect_chart([run]) is None


def test_chart_draws_one_panel_per_run_with_figures():
    runs = [_run(_rows(30.0) + _rows(0.0, workload="indirect_chase_4k")[2:]), _run([])]
    figure = indirect.indirect_chart(runs)
    assert figure is not None
    assert len(figure.axes) == 1
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == ["calls_4", "chase_4k"]


class _Tables(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.indirect_rows, self.images = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") == "indirect":
            self.indirect_rows.append(attrs["data-path"])
        if tag == "img":
            self.images.append(attrs["src"])


def test_report_has_the_indirect_section_and_chart(tmp_path):
    run = _run(_rows(30.0) + _rows(0.0, workload="indirect_branches")[2:])
    index = report.render_report([run], tmp_path)
    page = _Tables()
    with open(index, encoding="utf-8") as handle:
        page.feed(handle.read())
    # Workload kinds in the file's order (the table's), not alphabetical.
    assert page.indirect_rows == ["indirect_calls_4/syscall", "indirect_branches/syscall"]
    assert "indirect.png" in page.images
    assert (tmp_path / "indirect.png").stat().st_size > 0


def test_difference_interval_is_nan_free_with_constant_samples():
    estimate, low, high = indirect._difference_interval([[5.0] * 4, [1.0] * 4, [2.0] * 4,
                                                          [1.0] * 4])
    assert estimate == 3.0
    assert not math.isnan(low) and not math.isnan(high)
