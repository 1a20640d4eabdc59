"""The report in a real browser: headless Chromium opens the page from disk.

A probe copy of the page (the page itself has no script) records, on the load event,
every image's naturalWidth, the path rows of each table and any alert() a file's string
might have smuggled in, then Chromium's --dump-dom hands that back. A screenshot of the
unmodified page goes to tests/artifacts/ for a human to look at.
"""

import html
import json
import os
import re
import shutil
import signal
import subprocess

import pytest

import history_synth as synth
from conftest import ARTIFACTS, FIXTURES
from sysgatelib import store
from sysgatelib.commands import report, trend
from sysgatelib.results import load

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_S = 90

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
)

_HEAD_PROBE = """<script>
window.__alerts = [];
window.alert = function (m) { window.__alerts.push(String(m)); };
</script>"""
_TAIL_PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    return {src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth};
  });
  var tables = Array.prototype.map.call(document.querySelectorAll("table.paths"),
    function (t) {
      return Array.prototype.map.call(t.querySelectorAll("tr.path"),
        function (r) { return r.getAttribute("data-path"); });
    });
  var headline = document.querySelector("#headline img");
  var box = headline ? headline.getBoundingClientRect() : null;
  var root = document.documentElement;
  var probe = document.createElement("pre");
  probe.id = "sysgate-probe";
  probe.textContent = JSON.stringify({images: images, tables: tables,
    scroll_width: root.scrollWidth, view_width: window.innerWidth,
    view_height: window.innerHeight, page_height: root.scrollHeight,
    headline: box ? {top: box.top, bottom: box.bottom, width: box.width} : null,
    alerts: window.__alerts, scripts: document.scripts.length,
    warnings: Array.prototype.map.call(document.querySelectorAll("[data-check]"),
      function (li) { return li.getAttribute("data-check"); })});
  document.body.appendChild(probe);
});
</script>"""


def _chromium(*args, profile):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser and its helpers only
            proc.communicate()
            pytest.fail(f"chromium did not finish within {TIMEOUT_S} s")
    assert proc.returncode == 0, err[-2000:]
    return out


WIDTH, HEIGHT = 1400, 900  # a laptop-sized window: the fold is at 900 px


def _probe(index, profile):
    with open(index, encoding="utf-8") as handle:
        page = handle.read()
    page = page.replace("<head>", "<head>" + _HEAD_PROBE, 1)
    page = page.replace("</body>", _TAIL_PROBE + "</body>", 1)
    probe_path = os.path.join(os.path.dirname(index), "probe.html")
    with open(probe_path, "w", encoding="utf-8") as handle:
        handle.write(page)
    dom = _chromium("--virtual-time-budget=10000", f"--window-size={WIDTH},{HEIGHT}",
                    "--dump-dom", f"file://{probe_path}", profile=profile)
    os.remove(probe_path)
    found = re.search(r'<pre id="sysgate-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run (no load event?)"
    return json.loads(html.unescape(found.group(1)))


def _screenshot(index, name, profile):
    os.makedirs(ARTIFACTS, exist_ok=True)
    target = os.path.join(ARTIFACTS, name)
    if os.path.exists(target):
        os.remove(target)
    _chromium(f"--window-size={WIDTH},{HEIGHT * 2}", f"--screenshot={target}",
              f"file://{index}", profile=profile)
    with open(target, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def _render(tmp_path, *names):
    runs = [load.load(os.path.join(FIXTURES, n)) for n in names]
    return runs, report.render_report(runs, tmp_path / "report")


def _grouped(run):
    families = {}
    for name, path in run.paths.items():
        families.setdefault(path.family, []).append(name)
    return [name for names in families.values() for name in names]


def _assert_fits_and_loads(result, index):
    with open(index, encoding="utf-8") as handle:
        assert len(result["images"]) == handle.read().count("<img ")
    for image in result["images"]:
        assert image["complete"] and image["width"] > 0, image
    assert result["view_width"] == WIDTH
    assert result["scroll_width"] <= result["view_width"], "horizontal overflow"


def test_vm_report_in_chromium(tmp_path):
    (run,), index = _render(tmp_path, "vm_run.json")
    result = _probe(index, tmp_path / "profile")
    _assert_fits_and_loads(result, index)
    assert result["images"][0]["src"] == "headline.png"
    # The answer is visible without scrolling: the whole headline chart above the fold.
    assert result["headline"] and result["headline"]["bottom"] <= result["view_height"]
    assert result["tables"] == [_grouped(run)]
    assert "int80_apic" in result["warnings"]
    _screenshot(index, "report_vm.png", tmp_path / "profile")


def test_real_run_with_a_long_command_line_keeps_the_headline_above_the_fold(tmp_path):
    # A real run on the development VM: Firecracker's long boot line and init arguments.
    (run,), index = _render(tmp_path, "history_real_vm.json")
    result = _probe(index, tmp_path / "profile")
    _assert_fits_and_loads(result, index)
    assert result["headline"] and result["headline"]["bottom"] <= result["view_height"]


def test_two_runs_and_hostile_strings_in_chromium(tmp_path):
    runs, index = _render(tmp_path, "script_cmdline.json", "vm_run.json")
    result = _probe(index, tmp_path / "profile")
    assert result["alerts"] == []
    assert result["scripts"] == 2  # the probe's own two, nothing from the files
    assert result["tables"] == [_grouped(r) for r in runs]
    _assert_fits_and_loads(result, index)
    _screenshot(index, "report_two_runs.png", tmp_path / "profile")


def test_single_kernel_trend_page_is_short(tmp_path):
    # One real run of one kernel: a table and no charts of one point each.
    db = tmp_path / "h.sqlite"
    store.add_results(db, os.path.join(FIXTURES, "vm_run.json"))
    conn = store.open_store(db)
    try:
        series = trend.build_series(conn)
    finally:
        conn.close()
    index = str(trend.write_outputs(series, tmp_path / "trend", 0.01, 2))
    result = _probe(index, tmp_path / "profile")
    assert result["scroll_width"] <= result["view_width"], "horizontal overflow"
    assert result["page_height"] < 3000
    _screenshot(index, "trend_one_kernel.png", tmp_path / "profile")


def test_multi_kernel_trend_page_loads_its_charts(tmp_path):
    db = tmp_path / "h.sqlite"
    for i, kernel in enumerate(("6.1.0-47-cloud-amd64", "6.12.57+deb13-cloud-amd64",
                                "6.18.1")):
        store.add_results(db, synth.write_results(
            tmp_path / f"r{i}.json", seed=40 + i,
            shift={"getpid/syscall": 1.10} if i else {},
            context={"kernel_release": kernel, "date": f"2026-11-2{i}T00:00:00+00:00"}))
    conn = store.open_store(db)
    try:
        series = trend.build_series(conn)
    finally:
        conn.close()
    index = str(trend.write_outputs(series, tmp_path / "trend", 0.01, 2))
    result = _probe(index, tmp_path / "profile")
    assert [i["src"].endswith(("_entry.png", "_overview.png", "_paths.png"))
            for i in result["images"]] == [True, True, True]
    for image in result["images"]:
        assert image["complete"] and image["width"] > 0, image
    assert result["scroll_width"] <= result["view_width"], "horizontal overflow"
    _screenshot(index, "trend_three_kernels.png", tmp_path / "profile")
