"""The report: rendering from fixtures, escaping, several runs, and bad inputs via the CLI."""

import html.parser
import json
import os
import re
import subprocess

import pytest

from conftest import FIXTURES, ROOT
from sysgatelib.commands import report
from sysgatelib.render import html as page_html, plot, summary
from sysgatelib.results import load
from sysgatelib.verdicts import checks, stats

SYSGATE = os.path.join(ROOT, "scripts", "sysgate")
PYTHON = "/usr/bin/python3"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Every tag the template writes; a file's string must never add one.
PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span",
             "section", "dl", "dt", "dd", "details", "summary", "code", "table", "tr", "td",
             "th", "ul", "li", "div", "thead", "tbody", "strong", "figure", "img",
             "figcaption", "footer"}


class _Page(html.parser.HTMLParser):
    """Collects tags, image sources and path rows of a rendered page."""

    def __init__(self):
        super().__init__()
        self.tags, self.images, self.rows, self.tables = set(), [], [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "table" and "paths" in attrs.get("class", ""):
            self.tables += 1
        if tag == "tr" and "path" in attrs.get("class", "").split():
            self.rows.append(attrs["data-path"])


def _grouped(run):
    """The run's path names grouped by family (first appearance), file order within one."""
    families = {}
    for name, path in run.paths.items():
        families.setdefault(path.family, []).append(name)
    return [name for names in families.values() for name in names]


def _render(names, out_dir):
    runs = [load.load(os.path.join(FIXTURES, n)) for n in names]
    index = report.render_report(runs, out_dir)
    with open(index, encoding="utf-8") as handle:
        text = handle.read()
    page = _Page()
    page.feed(text)
    return runs, index, text, page


@pytest.fixture(scope="module")
def vm_page(tmp_path_factory):
    return _render(["vm_run.json"], tmp_path_factory.mktemp("vm"))


@pytest.fixture(scope="module")
def xss_page(tmp_path_factory):
    return _render(["script_cmdline.json"], tmp_path_factory.mktemp("xss"))


def test_vm_page_has_every_path_once_and_its_charts(vm_page):
    (run,), index, text, page = vm_page
    assert os.path.basename(index) == "index.html"
    assert page.rows == _grouped(run)
    assert page.rows.index("baseline/ia32_call") < page.rows.index("getpid/glibc")
    assert len(page.rows) == len(set(page.rows)) == 45
    assert set(page.images) == {"headline.png", "latency.png", "crossing.png",
                                "distribution.png"}
    assert page.images[0] == "headline.png"  # the answer first, before every table
    for name in page.images:
        with open(os.path.join(os.path.dirname(index), name), "rb") as handle:
            assert handle.read(8) == PNG_MAGIC
    assert "User vs kernel core cycles: not drawn (no PMU cycle counts)" in text


def test_vm_page_shows_header_warnings_and_skips(vm_page):
    _, _, text, _ = vm_page
    for needle in ("AMD EPYC", "6.18.44-fc-v657", "KVM guest", "microcode 0x1000065",
                   "spec_rstack_overflow: Vulnerable: Safe RET", "took 41 s",
                   "empty rdtscp pair 52 ticks",
                   'data-check="int80_apic"', "VM detected (KVM): int 0x80 costs",
                   "skipped: SYSENTER raises #UD in compatibility mode on AMD CPUs",
                   "no PMU on this machine", "kernel_entries (tracepoint)"):
        assert needle in text, needle
    # No PMU: no cycle columns at all, but TSC ticks, the ratio and kernel entries.
    assert 'data-column="cycles_kernel"' not in text
    for column in ("tsc_ticks", "ratio", "kernel_entries", "p99_ns"):
        assert f'data-column="{column}"' in text


def test_pmu_page_has_cycle_columns_and_chart(tmp_path):
    (run,), _, text, page = _render(["pmu_host.json"], tmp_path)
    assert page.rows == _grouped(run)
    assert "cycles.png" in page.images
    for column in ("cycles", "cycles_user", "cycles_kernel", "instructions_user",
                   "instructions_kernel", "mode_switches"):
        assert f'data-column="{column}"' in text
    assert "bare metal" in text and "Not counted" not in text
    assert "skipped: vsyscall page not mapped (vsyscall=none)" in text
    assert 'data-check="int80_apic"' not in text


def test_every_file_string_is_escaped(xss_page):
    _, _, text, page = xss_page
    assert page.tags <= PAGE_TAGS, page.tags - PAGE_TAGS
    assert "<script" not in text and "<img src=x" not in text and "<b>host" not in text
    assert "&lt;script&gt;alert(&#39;cmdline&#39;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "&lt;em&gt;syscall&lt;/em&gt;" in text
    assert "&lt;script&gt;alert(&#39;skip&#39;)&lt;/script&gt; not here" in text
    assert 'data-check="tracing"' in text


def test_several_runs_share_one_page(tmp_path):
    runs, _, text, page = _render(["vm_run.json", "pmu_host.json"], tmp_path)
    assert page.tables == 2
    assert page.rows == _grouped(runs[0]) + _grouped(runs[1])
    assert "cycles.png" in page.images  # one run had a PMU
    assert text.count('class="swatch"') >= 4  # a colour per run, by each heading and chart key


def test_plain_google_benchmark_file_renders_with_what_it_has(tmp_path):
    (run,), _, text, page = _render(["gbench_plain.json"], tmp_path)
    assert page.rows == ["BM_memcpy/8", "BM_memcpy/64", "BM_memcpy/4096"]
    assert page.images == ["latency.png"]  # no getpid or clock family: no headline
    assert "Headline chart: not drawn" in text
    assert "Plain Google Benchmark file" in text


def _cli(*args):
    return subprocess.run([PYTHON, SYSGATE, "report", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_writes_the_page_and_prints_its_path(tmp_path):
    result = _cli(os.path.join(FIXTURES, "gbench_plain.json"), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "out" / "index.html")
    assert os.path.exists(result.stdout.strip())


def _truncated(path):
    with open(os.path.join(FIXTURES, "vm_run.json"), "rb") as handle:
        data = handle.read()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("name, make, why", [
    ("empty.json", lambda p: p.write_text(""), "empty file"),
    ("truncated.json", _truncated, "invalid JSON"),
    ("array.json", lambda p: p.write_text("[1, 2]"), "top level is a list"),
    ("object.json", lambda p: p.write_text('{"a": 1}'), "no 'context' and 'benchmarks'"),
    ("binary.json", lambda p: p.write_bytes(b"\x80\x81garbage"), "not a text file"),
    ("missing.json", lambda p: None, "no such file"),
    ("badrow.json", lambda p: p.write_text(
        '{"context": {}, "benchmarks": [{"name": "x", "real_time": "fast"}]}'),
     "no usable real_time"),
])
def test_cli_bad_input_is_one_error_line(tmp_path, name, make, why):
    path = tmp_path / name
    make(path)
    result = _cli(str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {path}: "), result.stderr
    assert why in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out" / "index.html").exists()


def test_cli_bad_file_among_good_ones_renders_nothing(tmp_path):
    result = _cli(os.path.join(FIXTURES, "vm_run.json"), str(tmp_path / "nope.json"),
                  "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "nope.json: no such file" in result.stderr
    assert not (tmp_path / "out").exists()


def test_real_sysgate_bench_output_renders(tmp_path):
    # Written by this repository's sysgate_bench on the development VM (one repetition).
    (run,), _, text, page = _render(["vm_sysgate_bench_1rep.json"], tmp_path)
    assert page.rows == _grouped(run) and "lmbench/open_close" in page.rows
    assert 'data-check="int80_apic"' in text
    assert {"latency.png", "crossing.png", "distribution.png"} <= set(page.images)


def test_empty_results_and_mathtext_in_names_render(tmp_path):
    empty = load.parse({"context": {}, "benchmarks": []}, "empty.json")
    odd_row = {"name": "odd/$\\bad{x/manual_time", "run_type": "iteration",
               "real_time": 5.0, "time_unit": "ns", "label": "$x^"}
    odd = load.parse({"context": {"host_name": "$\\frac{a", "hypervisor": "none"},
                      "benchmarks": [odd_row, dict(odd_row, real_time=6.0)]}, "odd.json")
    index = report.render_report([empty, odd], tmp_path)
    with open(index, encoding="utf-8") as handle:
        text = handle.read()
    assert 'data-path="odd/$\\bad{x"' in text
    assert os.path.exists(tmp_path / "latency.png")


def _vm_data():
    with open(os.path.join(FIXTURES, "vm_run.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _page_of(tmp_path, *datas):
    runs = [load.parse(d, f"run{i}.json") for i, d in enumerate(datas)]
    index = report.render_report(runs, tmp_path)
    with open(index, encoding="utf-8") as handle:
        return runs, handle.read()


def test_counter_keys_the_binary_writes_are_shown(tmp_path):
    # The contract of docs/results-format.md: counters.<column>.source and
    # counters.unavailable, as harness/measure/counting_pass.cc writes them.
    data = _vm_data()
    context = data["context"]
    for key in [k for k in context if k.startswith(("counter_source.", "counter_missing."))]:
        del context[key]
    context.update({
        "counters.kernel_entries.source": "tracepoint",
        "counters.page_faults.source": "software",
        "counters.unavailable": "cycles_user: no hardware PMU exposed to this guest; "
                                "mode_switches: libpfm4 detects no core PMU on this CPU",
    })
    (run,), text = _page_of(tmp_path, data)
    assert "kernel_entries (tracepoint)" in text and "page_faults (software)" in text
    assert "cycles_user: no hardware PMU exposed to this guest" in text
    assert "mode_switches: libpfm4 detects no core PMU on this CPU" in text
    # The recorded reason stands; perf_event_paranoid (2 in this file) is not blamed.
    finding = next(f for f in checks.check_run(run) if f.key == "no_pmu")
    assert "no hardware PMU exposed" in finding.detail
    assert "perf_event_paranoid" not in finding.detail


def test_old_counter_keys_still_read():
    run = load.load(os.path.join(FIXTURES, "vm_run.json"))
    assert checks.counter_sources(run)["kernel_entries"] == "tracepoint"
    assert "cycles" in checks.counter_unavailable(run)


def test_kernel_entries_count_page_faults(tmp_path):
    data = _vm_data()
    for row in data["benchmarks"]:
        if "vsyscall_page" in row["name"] and row.get("run_type") == "iteration":
            row["kernel_entries"], row["page_faults"] = 0.0, 1.0
    (run,), text = _page_of(tmp_path, data)
    path = run.paths["time/vsyscall_page"]
    assert page_html.kernel_entries(run, path) == 1.0
    row = re.search(r'data-path="time/vsyscall_page">(.*?)</tr>', text, re.S).group(1)
    assert re.search(r"<td>1\.00</td>", row), row


def test_one_statistic_per_row(tmp_path):
    # ns/call, TSC ticks and counts of a row all come from the same k fastest repetitions.
    data = _vm_data()
    (run,), text = _page_of(tmp_path, data)
    path = run.paths["getpid/syscall"]
    k = stats.kbest_k(len(path.samples_ns))
    fastest = sorted(range(len(path.samples_ns)), key=lambda i: path.samples_ns[i])[:k]
    ticks = sum(path.counters["tsc_ticks"][i] for i in fastest) / k
    assert page_html.kbest_counter(path, "tsc_ticks") == pytest.approx(ticks)
    assert (f"ns/call (mean of {k} fastest reps)" if k > 1 else "ns/call (fastest rep)") in text


def test_single_call_figures_below_resolution_are_marked(vm_page):
    (run,), _, text, _ = vm_page
    resolution = plot.percall_resolution_ns(run)
    assert resolution == pytest.approx(52 / 2.596, rel=1e-3)
    row = re.search(r'data-path="baseline/call">(.*?)</tr>', text, re.S).group(1)
    assert 'class="below-res"' in row


def test_headline_rows_and_notes_come_from_the_facts():
    run = load.load(os.path.join(FIXTURES, "vm_run.json"))
    assert plot.headline_families([run]) == ["getpid", "clock_gettime_monotonic"]
    rows = plot.headline_rows([run], "getpid")
    # Each row's baseline precedes it; 32-bit rows follow their own plain call.
    for name in rows:
        base = run.paths[name].baseline
        if base in rows:
            assert rows.index(base) < rows.index(name)
    assert rows.index("baseline/ia32_call") < rows.index("getpid/ia32_syscall")
    assert "getpid/ia32_sysenter" not in rows  # skipped: no bar
    notes = plot.headline_notes([run], [True])
    assert set(notes) == {(0, "getpid/int80"), (0, "getpid/ia32_int80")}
    assert "APIC" in notes[(0, "getpid/int80")]
    assert plot.headline_notes([run], [False]) == {}  # bare metal: no APIC exit note


def test_negative_crossing_cost_is_drawn_and_labelled():
    data = _vm_data()
    for row in data["benchmarks"]:
        if row["name"].startswith("getcpu/vdso/"):
            row["real_time"] = 1.0  # faster than baseline/call (1.6 ns)
    run = load.parse(data, "x.json")
    assert plot.crossing_value(run, "getcpu/vdso") < 0
    figure = plot.crossing_chart([run])
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert any(label.strip().startswith("−") for label in labels)
    assert figure.axes[0].get_xscale() == "symlog"


def test_two_runs_of_one_machine_have_distinct_names(tmp_path):
    data = _vm_data()
    other = json.loads(json.dumps(data))
    other["context"]["run_started"] = "2025-11-21T09:00:00+00:00"
    runs = [load.parse(data, "a.json"), load.parse(other, "b.json")]
    labels = plot.run_labels(runs)
    assert len(set(labels)) == 2 and all("vm 6.18.44-fc-v657" in lab for lab in labels)
    assert "2025-11-21T09:00" in labels[1]


def test_mechanism_colours_are_distinct():
    styles = {plot.mechanism_style(m, abi)[:2] for m in load.MECHANISMS
              for abi in ("x86_64", "ia32")}
    assert len(styles) == 2 * len(load.MECHANISMS)


def test_charts_drawn_in_parallel_equal_those_drawn_in_one_process(tmp_path, monkeypatch):
    run = load.load(os.path.join(FIXTURES, "vm_run.json"))
    images = {}
    for cpus in (1, 2):
        monkeypatch.setattr(os, "cpu_count", lambda cpus=cpus: cpus)
        written = {}
        headline, charts = plot.render_all([run], [True], written.__setitem__)
        assert headline[0] == "headline.png" and len(headline[1]) == 2
        assert [c[0] for c in charts if c[0]] == ["latency.png", "crossing.png",
                                                 "distribution.png"]
        images[cpus] = written
    assert images[1].keys() == images[2].keys()
    for name in images[1]:
        assert images[1][name] == images[2][name], name


def test_a_row_whose_peer_is_not_its_baseline_gets_a_note():
    # A stub called as a function returns with RET right after SYSRET: its row names the
    # raw syscall row as its peer; the note gives the difference to that peer.
    data = _vm_data()
    extra = [dict(row, name="getpid/syscall_fn/manual_time",
                  run_name="getpid/syscall_fn/manual_time", real_time=row["real_time"] + 5)
             for row in data["benchmarks"] if row["name"].startswith("getpid/syscall/")]
    data["benchmarks"] += extra
    run = load.parse(data, "x.json")
    run.paths["getpid/syscall_fn"].peer = "getpid/syscall"  # not yet a PathResult field
    notes = plot.headline_notes([run], [False])
    note = notes[(0, "getpid/syscall_fn")]
    assert "over getpid/syscall" in note and "RET right after SYSRET" in note
    assert note.startswith("getpid/syscall_fn: 5.00 ns")


def test_kernel_entries_already_summed_by_the_binary_are_not_summed_again(tmp_path):
    # Files with syscall_entries: the binary's kernel_entries is syscalls plus faults
    # already (counters.kernel_entries.source "derived", docs/results-format.md).
    data = _vm_data()
    data["context"]["counters.kernel_entries.source"] = "derived"
    for row in data["benchmarks"]:
        if "vsyscall_page" in row["name"] and row.get("run_type") == "iteration":
            row.update(syscall_entries=0.0, page_faults=1.0, kernel_entries=1.0)
    run = load.parse(data, "x.json")
    assert page_html.kernel_entries(run, run.paths["time/vsyscall_page"]) == 1.0


def test_counting_pass_records_reach_the_summary(tmp_path):
    data = _vm_data()
    data["context"].update({
        "counters.pmu": "amd64_fam19h_zen3",
        "counters.mode_switches.source": "pmu",
        "counters.mode_switches.calibration": "r0c6 x 2 = user<->kernel transitions",
        "counters.multiplexed": "getpid/int80",
        "counters.skipped_paths": "getpid/ia32_syscall: the ia32 helper is not running",
    })
    _, text = _page_of(tmp_path, data)
    counters = re.search(r'data-fact="Counters">(.*?)</tr>', text, re.S).group(1)
    for needle in ("PMU amd64_fam19h_zen3", "mode_switches (pmu; r0c6 x 2",
                   "multiplexed, counts estimated: getpid/int80",
                   "paths not counted: getpid/ia32_syscall: the ia32 helper is not running"):
        assert needle in counters, needle


def test_notes_stay_with_their_mechanism_across_families():
    # Real files state a peer for many rows (a clock row's syscall beside getpid's, a
    # 32-bit clock int 0x80 beside getpid's): only a called stub of its own family gets
    # the extra-cost note, and every int 0x80 in a guest gets the APIC note.
    data = _vm_data()
    extra = [dict(row, name="clock_gettime_monotonic/ia32_int80/manual_time",
                  run_name="clock_gettime_monotonic/ia32_int80/manual_time")
             for row in data["benchmarks"] if row["name"].startswith("getpid/ia32_int80/")]
    data["benchmarks"] += extra
    run = load.parse(data, "x.json")
    run.paths["clock_gettime_monotonic/syscall"].peer = "getpid/syscall"
    run.paths["clock_gettime_monotonic/ia32_int80"].peer = "getpid/ia32_int80"
    notes = plot.headline_notes([run], [True])
    assert "clock_gettime_monotonic/syscall" not in {name for _, name in notes}
    note = notes[(0, "clock_gettime_monotonic/ia32_int80")]
    assert "getpid/ia32_syscall" in note and "APIC" in note


def test_one_reason_for_several_counters_is_said_once(tmp_path):
    data = _vm_data()
    context = data["context"]
    for key in [k for k in context if k.startswith("counter_missing.")]:
        del context[key]
    why = "no hardware PMU exposed (common in VMs)"
    context["counters.unavailable"] = "; ".join(
        f"{c}: {why}" for c in ("cycles_user", "cycles_kernel", "mode_switches"))
    run = load.parse(data, "x.json")
    assert page_html.counter_lines(run)[1] == [
        ("cycles_user, cycles_kernel, mode_switches", why)]
    _, text = _page_of(tmp_path, data)
    counters = re.search(r'data-fact="Counters">(.*?)</tr>', text, re.S).group(1)
    assert counters.count(why) == 1


@pytest.mark.parametrize("cmdline, shown", [
    ("BOOT_IMAGE=/vmlinuz-6.1 root=UUID=1234 ro quiet mitigations=off", "quiet mitigations=off"),
    ("console=ttyS0 quiet -- --addr 0.0.0.0:2024 --auth-required",
     "console=ttyS0 quiet (and 3 arguments for init after --)"),
    ("", ""),
])
def test_boot_options_are_the_kernels_own(cmdline, shown):
    assert page_html.boot_options(cmdline) == shown


def test_summary_fits_the_console_with_every_skip_reason_whole(tmp_path):
    """A long skip reason is wrapped under itself, inside 120 columns, and none of it lost."""
    run = load.load(FIXTURES / "real_quick.json")
    reason = ("SYSENTER is not valid in compat mode on AMD CPUs (AuthenticAMD: SIGILL "
              "(Illegal instruction)); an Intel CPU runs this row") * 2
    run.paths["getpid/ia32_sysenter"].samples_ns = []
    run.paths["getpid/ia32_sysenter"].skipped = reason
    text = summary.format_table(run)
    assert all(len(line) <= summary.WIDTH for line in text.splitlines()), \
        max(text.splitlines(), key=len)
    assert " ".join(text.split()).count(" ".join(f"skipped: {reason}".split())) == 1
