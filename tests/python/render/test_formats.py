"""The CI formats (render/formats), each read back by its own ecosystem's parser: JUnit by
junitparser, OpenMetrics by prometheus_client, Markdown rendered by Python-Markdown (GFM
tables) and read as HTML, BMF and github-action-benchmark's input against the shapes
their projects document, the LKP table by its columns. Synthetic comparisons only (the
kernel-entry model on history_synth's runs); no timing of this machine is asserted."""

import html.parser
import json
import math
import re

import pytest

import history_synth as synth
from conftest import sysgate
from sysgatelib.render import compare_report, formats
from sysgatelib.render.formats import bmf, gab, junit, lkp, markdown, openmetrics
from sysgatelib.render.formats.figures import printable, run_data
from sysgatelib.results import load
from sysgatelib.verdicts import comparison, stats

junitparser = pytest.importorskip("junitparser", reason="python3-junitparser (deps test)")
om_parser = pytest.importorskip("prometheus_client.openmetrics.parser",
                                reason="python3-prometheus-client (deps test)")
md = pytest.importorskip("markdown", reason="python3-markdown (deps test)")

KERNEL = [name for name, mechanism, base in synth.PATHS
          if mechanism in synth.SYSCALL_MECHANISMS and not isinstance(base, str)]
SLOWDOWN = {name: 12.5 for name in KERNEL}  # the seccomp filter's ns per entry
HOSTILE = ('say "hi" & <script>alert(1)</script> | `x` *y* _z_ [l](u) ~~s~~ \\ '
           "\u202egnp.exe" + "w" * 40)


def _run(seed, **kwargs):
    return load.parse(synth.make_results(seed=seed, repetitions=12, **kwargs), f"s{seed}.json")


def _data(comparison):
    return json.loads(compare_report.to_json(comparison))


@pytest.fixture(scope="module")
def aa():
    return _data(comparison.compare_runs(_run(1), _run(2)))


@pytest.fixture(scope="module")
def slow():
    return _data(comparison.compare_runs(_run(1), _run(2, add_ns=SLOWDOWN)))


def _rows(data):
    return {row["name"]: row for row in data["rows"]}


# --- JUnit --------------------------------------------------------------------------------


def _junit(data, tmp_path, page=None):
    path = tmp_path / "junit.xml"
    path.write_text(junit.from_comparison(data, page=page), encoding="utf-8")
    return junitparser.JUnitXml.fromfile(str(path))


def _outcome(case):
    kinds = {type(result).__name__ for result in case.result}
    return "failure" if "Failure" in kinds else "skipped" if "Skipped" in kinds else "passed"


def _cases(xml):
    suites = list(xml)
    assert len(suites) == 1
    return {case.name: case for case in suites[0]}


def test_junit_an_a_a_comparison_passes_but_the_skipped_path(aa, tmp_path):
    xml = _junit(aa, tmp_path)
    cases = _cases(xml)
    assert xml.tests == len(aa["rows"]) + 1 and xml.failures == 0 and xml.errors == 0
    assert xml.skipped == 1
    assert _outcome(cases[junit.KERNEL_ENTRY]) == "passed"
    skipped = cases["getpid/ia32_syscall"]
    assert _outcome(skipped) == "skipped"
    assert skipped.result[0].message == _rows(aa)["getpid/ia32_syscall"]["note"]
    assert "#UD" in skipped.result[0].message


def test_junit_a_regression_fails_with_its_figures(slow, tmp_path):
    cases = _cases(_junit(slow, tmp_path))
    failed = sorted(name for name, case in cases.items() if _outcome(case) == "failure")
    assert failed == sorted(slow["regressions"] + [junit.KERNEL_ENTRY])
    entry = cases[junit.KERNEL_ENTRY].result[0]
    family = slow["kernel_entry"]
    assert entry.type == "regression"
    assert f"{family['delta_ns']:+.1f} ns per entry" in entry.message
    assert f"[{family['low_ns']:+.1f}, {family['high_ns']:+.1f}]" in entry.message
    row = _rows(slow)["getpid/syscall"]["result"]
    message = cases["getpid/syscall"].result[0].message
    assert f"change {row['change'] * 100:+.1f}%" in message
    assert f"raw {row['raw_change'] * 100:+.1f}%" in message


def test_junit_inconclusive_is_skipped_with_what_would_settle_it(tmp_path):
    quick = [load.parse(synth.make_results(seed=s, repetitions=3), f"q{s}") for s in (1, 2)]
    data = _data(comparison.compare_runs(*quick))
    assert data["kernel_entry"]["verdict"] == stats.INCONCLUSIVE
    case = _cases(_junit(data, tmp_path))[junit.KERNEL_ENTRY]
    assert _outcome(case) == "skipped"
    assert case.result[0].message.startswith("inconclusive: too few samples")


def test_junit_withheld_verdicts_are_skipped_with_why(tmp_path):
    data = _data(comparison.compare_runs(_run(1), _run(2, drift=1.2)))
    assert data["withheld"]
    cases = _cases(_junit(data, tmp_path))
    case = cases["getpid/syscall"]
    assert _outcome(case) == "skipped"
    assert case.result[0].message.startswith("verdict withheld: the machine changed")


# --- OpenMetrics --------------------------------------------------------------------------


def _metrics(text):
    """{family name: (family, {frozenset(labels): value})}, by prometheus_client."""
    assert text.endswith("# EOF\n")
    parsed = {}
    for family in om_parser.text_string_to_metric_families(text):
        assert family.type == "gauge"
        samples = {frozenset(s.labels.items()): s.value for s in family.samples}
        assert len(samples) == len(family.samples)  # no label set twice
        parsed[family.name] = (family, samples)
    return parsed


def _value(parsed, family, **labels):
    hits = [v for k, v in parsed[family][1].items() if set(labels.items()) <= set(k)]
    assert len(hits) == 1, (family, labels)
    return hits[0]


def test_openmetrics_is_read_back_by_prometheus_client(slow):
    parsed = _metrics(openmetrics.from_comparison(slow))
    family, samples = parsed["sysgate_compare_latency_seconds"]
    assert family.unit == "seconds"
    labels = dict(next(iter(samples)))
    assert set(labels) == {"path", "mechanism", "host", "kernel", "side"}
    assert labels["host"] == "bench-vm-1" and labels["kernel"] == "6.1.0-47-cloud-amd64"
    assert _value(parsed, "sysgate_compare_exit_code") == 1
    entry = _value(parsed, "sysgate_kernel_entry_verdict", verdict="regression")
    assert entry == 1
    delta = _value(parsed, "sysgate_kernel_entry_delta_seconds")
    assert delta == pytest.approx(slow["kernel_entry"]["delta_ns"] * 1e-9, rel=1e-12)


def test_openmetrics_of_a_run():
    data = run_data(_run(3))
    parsed = _metrics(openmetrics.from_run(data))
    assert set(parsed) == {"sysgate_latency_seconds", "sysgate_latency_low_seconds",
                           "sysgate_latency_high_seconds"}
    measured = [p for p in data["paths"] if p["value"] is not None]
    assert len(parsed["sysgate_latency_seconds"][1]) == len(measured)
    for path in measured:
        value = _value(parsed, "sysgate_latency_seconds", path=path["name"])
        assert value == pytest.approx(path["value"] * 1e-9, rel=1e-12)
        assert (_value(parsed, "sysgate_latency_low_seconds", path=path["name"]) <= value
                <= _value(parsed, "sysgate_latency_high_seconds", path=path["name"]))


# --- BMF and github-action-benchmark ------------------------------------------------------


def _check_bmf(text):
    """Bencher Metric Format: {benchmark: {measure: {value, lower_value?, upper_value?}}},
    numbers only (bencher.dev/docs/reference/bencher-metric-format)."""
    data = json.loads(text)
    assert isinstance(data, dict) and data
    for name, measures in data.items():
        assert isinstance(name, str) and name and isinstance(measures, dict)
        assert set(measures) == {"latency"}
        metric = measures["latency"]
        assert set(metric) <= {"value", "lower_value", "upper_value"} and "value" in metric
        assert all(isinstance(v, float) and math.isfinite(v) for v in metric.values())
        assert metric.get("lower_value", -1) <= metric["value"] <= metric.get(
            "upper_value", math.inf)
    return data


def _check_gab(text):
    """github-action-benchmark customSmallerIsBetter: a list of {name, unit, value} with
    optional range and extra strings."""
    data = json.loads(text)
    assert isinstance(data, list) and data
    for entry in data:
        assert {"name", "unit", "value"} <= set(entry) <= {"name", "unit", "value", "range",
                                                           "extra"}
        assert isinstance(entry["name"], str) and entry["unit"] == "ns"
        assert isinstance(entry["value"], float) and math.isfinite(entry["value"])
        assert all(isinstance(entry.get(k, ""), str) for k in ("range", "extra"))
    assert len({e["name"] for e in data}) == len(data)
    return data


def test_bmf_and_gab_have_their_documented_shapes(slow):
    measured = [r["name"] for r in slow["rows"] if r["result"]]
    assert list(_check_bmf(bmf.from_comparison(slow))) == measured
    entries = _check_gab(gab.from_comparison(slow))
    assert [e["name"] for e in entries] == measured
    syscall = next(e for e in entries if e["name"] == "getpid/syscall")
    assert "verdict REGRESSION" in syscall["extra"].splitlines()
    run = run_data(_run(4))
    assert len(_check_bmf(bmf.from_run(run))) == len(_check_gab(gab.from_run(run))) == len(
        [p for p in run["paths"] if p["value"] is not None])


# --- Markdown -----------------------------------------------------------------------------


class _Tables(html.parser.HTMLParser):
    """The tables of an HTML page as lists of rows of cell texts (entities decoded), and
    every tag seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.tags, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _rendered(text):
    page = _Tables()
    page.feed(md.markdown(text, extensions=["tables"]))
    page.close()
    return page


def test_markdown_renders_the_changed_paths_as_a_table(slow):
    text = markdown.from_comparison(slow, page="reports/gate/compare.html")
    assert len(text.encode()) < 8192  # a step summary, not the report
    page = _rendered(text)
    assert len(page.tables) == 1
    header, *rows = page.tables[0]
    assert header == list(markdown.HEADER)
    assert rows[0][0].startswith("kernel entry") and rows[0][-1] == "REGRESSION"
    names = [row[0] for row in rows[1:]]
    assert sorted(set(names) & set(slow["regressions"])) == sorted(slow["regressions"])
    assert "getpid/ia32_syscall" in names  # skipped on a side: said so
    assert "a" in page.tags  # the link to the page


def test_markdown_of_an_a_a_comparison_lists_no_changed_path(aa):
    text = markdown.from_comparison(aa)
    assert text.startswith("### sysgate compare: no regression (exit 0)")
    (table,) = _rendered(text).tables
    assert [row[0] for row in table[1:]] == ["kernel entry (10 paths)", "getpid/ia32_syscall"]


def test_markdown_keeps_a_long_list_short(slow):
    many = dict(slow, rows=[dict(slow["rows"][4], name=f"getpid/copy{i}") for i in range(200)])
    text = markdown.from_comparison(many)
    (table,) = _rendered(text).tables
    assert len(table) == 1 + 1 + markdown.MAX_ROWS
    assert "and 175 more changed paths" in text


# --- LKP ----------------------------------------------------------------------------------

_LKP_LINE = re.compile(r"^ *(?P<base>[\d,.]*) (?:± *(?P<bsd>\d+)%)? +(?P<change>[+-][\d.]+)%"
                       r" +(?P<new>[\d,.]*) (?:± *(?P<nsd>\d+)%)? +(?P<name>\S.*)$")


def _lkp(text):
    lines = text.splitlines()
    start = lines.index(lkp._HEAD[-1]) + 1
    parsed = []
    for line in lines[start:]:
        if not line:
            break
        match = _LKP_LINE.match(line)
        assert match, line
        parsed.append(match.groupdict())
    return parsed


def test_lkp_leads_with_the_kernel_entry_and_has_a_line_per_compared_path(slow):
    lines = _lkp(lkp.from_comparison(slow))
    family = slow["kernel_entry"]
    assert lines[0]["name"].startswith(f"kernel-entry  {family['delta_ns']:+.1f} ns per entry")
    assert lines[0]["base"] == "" and float(lines[0]["change"]) == pytest.approx(
        family["change"] * 100, abs=0.05)
    assert [line["name"].split()[0] for line in lines[1:]] == [
        r["name"] for r in slow["rows"] if r["result"]]


# --- hostile names ------------------------------------------------------------------------


def _hostile(data, name, host):
    """compare's JSON with a path, the host and the kernel renamed to hostile strings the
    loader would refuse (line breaks, control characters, a lone surrogate)."""
    data = json.loads(json.dumps(data))
    data["rows"][4]["name"] = name
    data["new_host"] = data["base_host"] = host
    data["new_kernel"] = host
    data["base_sides"] = [host]
    return data


HOSTILE_NAMES = [
    HOSTILE,
    "getpid/line\nbreak\r\x00\x1b[31mred\x7f\u2028\ud800",
    "getpid/" + "\u202e" * 3 + "x" * 5000,
]


def _loaded_hostile():
    """A real comparison whose path is renamed in the results files (what the loader
    lets through: quotes, markup, right-to-left marks, 200 characters)."""
    name = "getpid/" + HOSTILE + "y" * (200 - 7 - len(HOSTILE))
    sides = []
    for seed, extra in ((1, {}), (2, {"add_ns": SLOWDOWN})):
        raw = json.dumps(synth.make_results(seed=seed, repetitions=12, **extra,
                                            context={"host_name": HOSTILE[:60]}))
        sides.append(load.parse(json.loads(raw.replace("getpid/syscall", name.replace(
            "\\", "\\\\").replace('"', '\\"'))), f"h{seed}"))
    return name, _data(comparison.compare_runs(*sides))


@pytest.mark.parametrize("case", range(len(HOSTILE_NAMES) + 1))
def test_hostile_names_come_out_escaped_and_valid_in_every_format(case, slow, tmp_path):
    if case == len(HOSTILE_NAMES):
        name, data = _loaded_hostile()
        host = HOSTILE[:60]
    else:
        name = host = HOSTILE_NAMES[case]
        data = _hostile(slow, name, host)
    shown = printable(name)
    assert "\n" not in shown and "\u202e" not in shown and "\ud800" not in shown
    # JUnit: well-formed, the name as printable shows it
    cases = _cases(_junit(data, tmp_path))
    assert shown in cases
    # OpenMetrics: the label values read back
    parsed = _metrics(openmetrics.from_comparison(data))
    labels = [dict(k) for k in parsed["sysgate_compare_latency_seconds"][1]]
    assert any(lab["path"] == shown and lab["host"] == printable(host) for lab in labels)
    # BMF, gab: valid JSON with the name as a key or a field
    assert shown in _check_bmf(bmf.from_comparison(data))
    assert shown in [e["name"] for e in _check_gab(gab.from_comparison(data))]
    # Markdown: the name is text in its cell (cut to the cell's length), no markup made
    page = _rendered(markdown.from_comparison(data))
    cells = [row[0] for row in page.tables[0][1:]]
    assert markdown.escape(name, markdown.MAX_NAME_CHARS)  # nothing raises
    short = shown if len(shown) <= markdown.MAX_NAME_CHARS else (
        shown[: markdown.MAX_NAME_CHARS - 1] + "…")
    assert short in cells
    made = set(page.tags) - {"h3", "p", "strong", "ul", "li", "table", "thead", "tbody", "tr",
                             "th", "td"}
    assert made == set()  # no <script>, <em>, <code>, <a>, <del> from a name
    assert len(page.tables[0][0]) == len(markdown.HEADER)
    assert all(len(row) == len(markdown.HEADER) for row in page.tables[0])
    # LKP: one line per path, the name shown
    text = lkp.from_comparison(data)
    assert any(line.split("  ")[-1].startswith(shown) or f"  {shown}" in line
               for line in text.splitlines())
    assert "\u202e" not in text and "\r" not in text


# --- all formats agree with compare.json --------------------------------------------------


def test_every_format_agrees_with_compare_json_on_every_figure(slow, tmp_path):
    rows = {r["name"]: r for r in slow["rows"] if r["result"]}
    ns = 1e-9
    # BMF: the new side's figure and interval, exactly
    for name, metric in _check_bmf(bmf.from_comparison(slow)).items():
        row = rows[name]
        assert metric["latency"] == {"value": row["result"]["new_value"],
                                     "lower_value": row["new_ci"][0],
                                     "upper_value": row["new_ci"][1]}
    # gab: the value exactly, the range the interval's half-width
    for entry in _check_gab(gab.from_comparison(slow)):
        row = rows[entry["name"]]
        assert entry["value"] == row["result"]["new_value"]
        half = (row["new_ci"][1] - row["new_ci"][0]) / 2
        assert float(entry["range"].lstrip("±")) == pytest.approx(half, rel=1e-5)
        assert f"base {row['result']['base_value']:.6g} ns" in entry["extra"]
    # OpenMetrics: every figure of every path, both sides, and the kernel entry
    parsed = _metrics(openmetrics.from_comparison(slow))
    for name, row in rows.items():
        r = row["result"]
        for side in ("base", "new"):
            got = _value(parsed, "sysgate_compare_latency_seconds", path=name, side=side)
            assert got == pytest.approx(r[f"{side}_value"] * ns, rel=1e-12)
            low = _value(parsed, "sysgate_compare_latency_low_seconds", path=name, side=side)
            assert low == pytest.approx(row[f"{side}_ci"][0] * ns, rel=1e-12)
        for family, key in (("change", "change"), ("change_low", "ci_low"),
                            ("change_high", "ci_high"), ("raw_change", "raw_change")):
            got = _value(parsed, f"sysgate_compare_{family}_ratio", path=name)
            assert got == pytest.approx(r[key], rel=1e-12, abs=1e-15)
        assert _value(parsed, "sysgate_compare_p_value", path=name) == pytest.approx(
            r["p_value"], rel=1e-12)
        assert _value(parsed, "sysgate_compare_verdict", path=name,
                      verdict=r["verdict"]) == 1
    family = slow["kernel_entry"]
    for metric, key in (("", "delta_ns"), ("_low", "low_ns"), ("_high", "high_ns")):
        got = _value(parsed, f"sysgate_kernel_entry_delta{metric}_seconds")
        assert got == pytest.approx(family[key] * ns, rel=1e-12)
    assert _value(parsed, "sysgate_machine_drift_ratio") == pytest.approx(
        slow["drift"]["change"], rel=1e-12)
    # JUnit: one verdict per path, the same as compare.json's
    cases = _cases(_junit(slow, tmp_path))
    for name, row in rows.items():
        verdict = row["result"]["verdict"]
        expected = ("failure" if verdict == "regression" else
                    "skipped" if verdict in ("inconclusive", "withheld") else "passed")
        assert _outcome(cases[name]) == expected
    # Markdown and LKP: the figures as printed (rounded the way compare prints them)
    page = _rendered(markdown.from_comparison(slow))
    for cells in page.tables[0][2:]:
        if cells[0] not in rows:
            continue
        r = rows[cells[0]]["result"]
        assert cells[3] == f"{r['change'] * 100:+.1f}%" and cells[5] == (
            f"{r['raw_change'] * 100:+.1f}%")
        assert cells[4] == f"[{r['ci_low'] * 100:+.1f}%, {r['ci_high'] * 100:+.1f}%]"
        for cell, key in ((cells[1], "base_value"), (cells[2], "new_value")):
            assert float(cell.replace(",", "")) == pytest.approx(r[key], rel=0.01)
        assert cells[6] == ("<0.001" if r["p_value"] < 0.001 else f"{r['p_value']:.3f}")
        assert cells[7] == r["verdict"].upper()
    entry_cells = page.tables[0][1]
    assert entry_cells[3] == f"{family['delta_ns']:+.1f} ns"
    assert entry_cells[4] == f"[{family['low_ns']:+.1f}, {family['high_ns']:+.1f}] ns"
    for line in _lkp(lkp.from_comparison(slow))[1:]:
        name = line["name"].split()[0]
        r = rows[name]["result"]
        assert float(line["base"].replace(",", "")) == pytest.approx(r["base_value"], rel=0.01)
        assert float(line["new"].replace(",", "")) == pytest.approx(r["new_value"], rel=0.01)
        assert float(line["change"]) == pytest.approx(r["raw_change"] * 100, abs=0.051)
        for side in ("base", "new"):
            assert int(line[f"{side[0]}sd"]) == round(rows[name][f"{side}_cv"] * 100)


# --- the CLI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    return (synth.write_results(folder / "base.json", seed=1, repetitions=12),
            synth.write_results(folder / "new.json", seed=2, repetitions=12, add_ns=SLOWDOWN))


def test_compare_writes_formats_to_files_and_one_to_stdout_after_the_terminal(files,
                                                                               tmp_path):
    done = sysgate("compare", *files, "-o", tmp_path / "page",
                   "--format", f"junit={tmp_path / 'junit.xml'}",
                   "--format", f"openmetrics={tmp_path / 'sysgate.prom'}",
                   "--format", "markdown", timeout=120)
    assert done.returncode == 1, done.stderr
    terminal, _, text = done.stdout.partition("### sysgate compare: ")
    assert terminal.rstrip().splitlines()[-1].startswith("result: ")
    assert text.startswith("REGRESSION (exit 1)")
    assert "compare.html" in text  # the link to the page
    saved = json.loads((tmp_path / "page" / "compare.json").read_text())
    xml = junitparser.JUnitXml.fromfile(str(tmp_path / "junit.xml"))
    assert xml.failures == len(saved["regressions"]) + 1
    parsed = _metrics((tmp_path / "sysgate.prom").read_text())
    assert _value(parsed, "sysgate_compare_exit_code") == saved["exit_code"] == 1


@pytest.mark.parametrize("spec,why", [
    ("xml", "unknown format"),
    ("junit=", "no file after '='"),
    ("junit={tmp}/no/junit.xml", "no: cannot create the folder: not a folder"),
    ("junit=/proc/sysgate.xml", "cannot write"),
    ("junit={tmp}", "is a folder"),
])
def test_compare_refuses_a_bad_format_before_writing_anything(files, tmp_path, spec, why):
    blocker = tmp_path / "no"
    blocker.write_text("a file where a folder would be\n")
    done = sysgate("compare", *files, "-o", tmp_path / "page", "--format",
                   spec.format(tmp=tmp_path), timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --format ")
    assert why in done.stderr
    assert not (tmp_path / "page").exists() and done.stdout == ""


def test_two_formats_cannot_share_stdout_or_a_file(files, tmp_path):
    done = sysgate("compare", *files, "--format", "junit", "--format", "markdown")
    assert done.returncode == 2 and "stdout already takes another format" in done.stderr
    target = tmp_path / "out.txt"
    done = sysgate("compare", *files, "--format", f"junit={target}",
                   "--format", f"lkp={target}")
    assert done.returncode == 2 and "already takes another format" in done.stderr
    assert not target.exists()


def test_run_offers_only_the_single_run_formats():
    assert formats.RUN_FORMATS == ("bmf", "gab", "openmetrics")
    done = sysgate("run", "--no-install", "--no-build", "--format", "junit")
    assert done.returncode == 2 and "unknown format" in done.stderr
    assert "bmf, gab, openmetrics" in done.stderr


def test_a_quick_run_writes_its_formats(bench, tmp_path):
    done = sysgate("run", "--quick", "--no-install", "--no-build", "--no-history",
                   "--filter", "^(baseline/call|getpid/syscall)$", "-o", tmp_path / "run",
                   "--format", f"bmf={tmp_path / 'bmf.json'}",
                   "--format", f"gab={tmp_path / 'gab.json'}",
                   "--format", "openmetrics", timeout=300)
    assert done.returncode == 0, done.stderr
    names = {"baseline/call", "getpid/syscall"}
    assert set(_check_bmf((tmp_path / "bmf.json").read_text())) == names
    assert {e["name"] for e in _check_gab((tmp_path / "gab.json").read_text())} == names
    text = done.stdout[done.stdout.index("# TYPE "):]
    parsed = _metrics(text)
    assert {dict(k)["path"] for k in parsed["sysgate_latency_seconds"][1]} == names
