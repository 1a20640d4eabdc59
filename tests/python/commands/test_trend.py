"""trend: kernel version order, steps across kernels, environment changes, the page."""

import random

import pytest

import history_synth as synth
from sysgatelib import cli, store
from sysgatelib.core import thresholds
from sysgatelib.commands import trend
from sysgatelib.results import load
from sysgatelib.results.kversion import release_key, sort_releases
from sysgatelib.store import writing

ORDERED = [
    "4.19.0-27-amd64",
    "5.10.0-30-amd64",
    "6.1.0-9-amd64",
    "6.1.0-47-cloud-amd64",
    "6.1.0-50-cloud-amd64",
    "6.1.158",
    "6.8.0-31-generic",
    "6.12.0-rc7",
    "6.12",
    "6.12.57+deb13-cloud-amd64",
    "6.12.117+deb12-cloud-amd64",
    "6.18-rc1",
    "6.18-rc3",
    "6.18.0-rc7-amd64",
    "6.18",
    "6.18.1",
    "custom-kernel",
]


def test_kernel_releases_sort_by_version():
    shuffled = ORDERED[:]
    random.Random(7).shuffle(shuffled)
    assert sort_releases(shuffled) == ORDERED


@pytest.mark.parametrize("older, newer", [
    ("6.1.0-47-cloud-amd64", "6.1.0-50-cloud-amd64"),  # numbers, not text: 47 < 50
    ("6.1.0-9-amd64", "6.1.0-47-amd64"),
    ("6.9.12", "6.12.1"),  # 9 < 12
    ("6.12.117+deb12-cloud-amd64", "6.18"),
    ("6.18-rc3", "6.18"),  # a release candidate precedes its release
    ("6.18-rc9", "6.18-rc10"),
    ("6.18", "6.18.1"),
    ("6.18.1", "unknown kernel"),  # unparseable last
])
def test_kernel_release_pairs(older, newer):
    assert release_key(older) < release_key(newer)


KERNELS = ("6.1.0-47-cloud-amd64", "6.1.0-50-cloud-amd64", "6.12.57+deb13-cloud-amd64",
           "6.18.1")


@pytest.fixture
def db(tmp_path):
    """Four kernels of one host, imported out of order; getpid/syscall +10% from 6.12,
    boot option and a mitigation change at 6.18.1, plus an emulated run of another host."""
    path = tmp_path / "h.sqlite"
    files = []
    for i, kernel in enumerate(KERNELS):
        context = {"kernel_release": kernel, "date": f"2026-11-2{i}T00:00:00+00:00",
                   "boot_cmdline": f"BOOT_IMAGE=/vmlinuz-{kernel} ro quiet"}
        if kernel == "6.18.1":
            context["boot_cmdline"] += " mitigations=off"
            context["vuln.spectre_v2"] = "Vulnerable"
        shift = {"getpid/syscall": 1.10} if i >= 2 else {}
        files.append(synth.write_results(tmp_path / f"r{i}.json", seed=20 + i, shift=shift,
                                         context=context))
    files.append(synth.write_results(tmp_path / "qemu.json", seed=30, context={
        "host_name": "qemu-guest", "hypervisor": "TCGTCGTCGTCG", "emulated": "true",
        "kernel_release": "6.18.1"}))
    for f in reversed(files):
        store.add_results(path, f)
    return path


def _series(db, **kwargs):
    conn = store.open_store(db)
    try:
        return trend.build_series(conn, **kwargs)
    finally:
        conn.close()


def test_steps_are_found_where_they_are(db):
    series = {s.host_name: s for s in _series(db)}
    assert set(series) == {"bench-vm-1", "qemu-guest"}
    vm = series["bench-vm-1"]
    assert vm.kernels == list(KERNELS)
    marked = [(s.path, s.before, s.after, s.change.verdict)
              for t in vm.paths for s in t.marked()]
    assert marked == [("getpid/syscall", "6.1.0-50-cloud-amd64",
                       "6.12.57+deb13-cloud-amd64", "regression")]
    skipped = next(t for t in vm.paths if t.name == "getpid/ia32_syscall")
    assert set(skipped.skipped) == set(KERNELS) and not skipped.points


def test_environment_changes_between_kernels_are_listed(db):
    vm = next(s for s in _series(db) if s.host_name == "bench-vm-1")
    changes = {(before, after): [(d.kind, d.key) for d in diffs]
               for before, after, diffs in vm.env_changes}
    assert changes[("6.1.0-47-cloud-amd64", "6.1.0-50-cloud-amd64")] == []
    assert changes[("6.12.57+deb13-cloud-amd64", "6.18.1")] == [
        ("boot", "mitigations"), ("mitigations", "vuln.spectre_v2")]


def test_emulated_runs_are_their_own_series_and_host_filter_works(db):
    only = _series(db, host="qemu-guest")
    assert "note: one kernel only" in trend.render_terminal(only, 0.01, 2)
    assert len(only) == 1 and only[0].emulated and only[0].kernels == ["6.18.1"]
    assert [s.host_name for s in _series(db, host="bench-vm-1")] == ["bench-vm-1"]


def test_runs_of_a_kernel_are_pooled_by_boot_options(db, tmp_path):
    kernel = "6.1.0-47-cloud-amd64"
    again = synth.write_results(tmp_path / "again.json", seed=99, context={
        "kernel_release": kernel, "date": "2026-12-24T00:00:00+00:00",
        "boot_cmdline": f"BOOT_IMAGE=/vmlinuz-{kernel} ro quiet"})
    other_boot = synth.write_results(tmp_path / "nopti.json", seed=98, context={
        "kernel_release": kernel, "date": "2026-12-01T00:00:00+00:00",
        "boot_cmdline": f"BOOT_IMAGE=/vmlinuz-{kernel} ro quiet nopti"})
    run_id = store.add_results(db, again)
    store.add_results(db, other_boot)
    vm = next(s for s in _series(db) if s.host_name == "bench-vm-1")
    assert vm.run_ids[kernel] == run_id
    assert len(vm.pooled_ids[kernel]) == 2 and vm.pooled_ids[kernel][0] == run_id
    assert vm.other_runs[kernel] == 1
    syscall = next(t for t in vm.paths if t.name == "getpid/syscall")
    assert syscall.points[kernel].runs == 2 and syscall.points[kernel].n == 20
    text = trend.render_terminal([vm], 0.01, 2)
    assert f"{kernel} (2 runs)" in text and "other boot options or conditions" in text


def test_cli_writes_page_and_charts(db, tmp_path, capsys):
    out = tmp_path / "trend"
    assert cli.main(["trend", "--db", str(db), "--host", "bench-vm-1", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "regression: getpid/syscall +" in text
    assert "changed (boot): mitigations: (none) -> mitigations=off" in text
    page = (out / "trend.html").read_text()
    assert "getpid/syscall" in page and "6.12.57+deb13-cloud-amd64" in page
    # The kernel-entry series, one overview heatmap and one figure of small multiples,
    # not a chart per path.
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert [p.rsplit("_", 1)[1] for p in pngs] == ["entry.png", "overview.png", "paths.png"]
    assert page.index("_entry.png") < page.index("_overview.png")
    assert "kernel entry, ns per entry against 6.1.0-47-cloud-amd64" in text
    assert all((out / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)
    # The kernel entry and the overview lead, the table and the small multiples follow.
    assert page.index(pngs[1]) < page.index('<table class="trend">') < page.index(pngs[2])
    assert "timings are not hardware timings" not in page  # a hardware series only
    # A path skipped on every kernel for one reason: one cell with the reason.
    assert "skipped: SYSCALL from compat mode raises #UD on Intel" in page


def test_change_point_marks_the_step_over_the_series(db):
    vm = next(s for s in _series(db) if s.host_name == "bench-vm-1")
    found = {t.name: [k for k, _ in t.change_points] for t in vm.paths if t.change_points}
    assert found == {"getpid/syscall": ["6.12.57+deb13-cloud-amd64"]}
    (kernel, point), = next(t for t in vm.paths if t.name == "getpid/syscall").change_points
    assert point.change == pytest.approx(0.10, abs=0.03)
    text = trend.render_terminal([vm], 0.01, 2)
    assert "change point: getpid/syscall mean +" in text
    assert "getpid/ia32_syscall: SYSCALL from compat mode raises #UD on Intel (on every " \
           "kernel)" in text


def test_runs_left_out_are_listed_with_why(db, tmp_path):
    kernel = KERNELS[0]
    other_boot = synth.write_results(tmp_path / "nopti.json", seed=98, context={
        "kernel_release": kernel, "date": "2026-10-01T00:00:00+00:00",
        "boot_cmdline": f"BOOT_IMAGE=/vmlinuz-{kernel} ro quiet nopti"})
    left_out = store.add_results(db, other_boot)
    vm = next(s for s in _series(db) if s.host_name == "bench-vm-1")
    ((where, run_id, why),) = vm.excluded
    assert (where, run_id) == (kernel, left_out) and "nopti" in why
    out = tmp_path / "trend"
    trend.write_outputs([vm], out, 0.01, 2)
    page = (out / "trend.html").read_text()
    assert f"run #{left_out} ({kernel})" in page and "nopti" in page


def test_single_kernel_page_is_one_table_without_charts(db, tmp_path):
    (series,) = _series(db, host="qemu-guest")
    out = tmp_path / "trend"
    trend.write_outputs([series], out, 0.01, 2)
    page = (out / "trend.html").read_text()
    assert not list(out.glob("*.png"))  # no overview of one column, no one-point charts
    assert "One kernel only" in page and page.count("<img") == 0
    assert "skipped: SYSCALL from compat mode raises #UD on Intel" in page


@pytest.mark.parametrize("against", [trend.FIRST, trend.PREVIOUS])
def test_relative_changes_against_first_or_previous(db, against):
    vm = next(s for s in _series(db) if s.host_name == "bench-vm-1")
    changes = trend.relative_changes(vm, against)["getpid/syscall"]
    assert changes[KERNELS[0]] == 0.0
    step = changes[KERNELS[2]] - (changes[KERNELS[1]] if against == trend.FIRST else 0)
    assert step == pytest.approx(0.10, abs=0.03)
    last = changes[KERNELS[3]]
    assert (abs(last) < 0.03) if against == trend.PREVIOUS else (last > 0.07)


def test_emulated_series_carries_the_banner(db, tmp_path, capsys):
    out = tmp_path / "trend"
    assert cli.main(["trend", "--db", str(db), "--host", "qemu-guest", "-o", str(out)]) == 0
    page = (out / "trend.html").read_text()
    assert 'class="emulated"' in page and "timings are not hardware timings" in page


def test_cli_without_runs_is_an_error(tmp_path, db, capsys):
    assert cli.main(["trend", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert cli.main(["trend", "--db", str(db), "--host", "nobody", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 2 and "no runs of host nobody" in err


def test_change_points_over_many_repetitions_stay_small():
    # A large store holds thousands of repetitions per kernel; the series is summarised
    # (quantiles per kernel) before E-Divisive's n x n distances.
    rng = random.Random(3)
    groups = {f"6.{i}.0": [rng.gauss(100.0 if i < 2 else 105.0, 2.0) for _ in range(5000)]
              for i in range(4)}
    found = trend.change_points(None, groups)
    assert [kernel for kernel, _ in found] == ["6.2.0"]
    assert found[0][1].change == pytest.approx(0.05, abs=0.01)


def test_change_points_smaller_than_the_threshold_are_left_out():
    rng = random.Random(4)
    groups = {f"6.{i}.0": [rng.gauss(100.0 if i < 2 else 101.0, 0.5) for _ in range(400)]
              for i in range(4)}
    assert [k for k, _ in trend.change_points(None, groups)] == ["6.2.0"]
    assert trend.change_points(None, groups, threshold=0.02) == []


def _fleet_store(tmp_path, runs_per_kernel):
    """One host; kernel i measured runs_per_kernel[i] times, getpid/syscall +12% on the
    last kernel; every run its own level (a process)."""
    db = tmp_path / "fleet.sqlite"
    levels = random.Random(5)
    index = 0
    with store.open_store(db, create=True) as st:
        for k, count in enumerate(runs_per_kernel):
            for _ in range(count):
                level = levels.lognormvariate(0, 0.02)
                shift = {name: level for name, _, _ in synth.PATHS}
                if k == len(runs_per_kernel) - 1:
                    shift["getpid/syscall"] = level * 1.12
                data = synth.make_results(seed=index, shift=shift, context={
                    "kernel_release": f"6.{k}.0", "date": f"2026-11-01T00:{index:02d}:00"})
                run = load.parse(data, f"r{index}.json")
                writing.insert_run(st, *writing.values(writing.Prepared(
                    f"r{index}.json", run, store.content_hash(data), b"{}")))
                index += 1
    return db


def test_many_runs_a_kernel_are_compared_by_their_stored_figures(tmp_path, monkeypatch):
    """With RUN_UNIT_MIN runs a kernel, trend reads the figures the store keeps for the
    paths (the only samples read are the kernel-entry series' newest ENTRY_RUNS runs of
    each kernel, one read a kernel), and its points and steps are those compare computes
    from the samples."""
    from sysgatelib.commands import trend_entry
    from sysgatelib.verdicts import stats

    sizes = [thresholds.RUN_UNIT_MIN, thresholds.RUN_UNIT_MIN + 1, thresholds.RUN_UNIT_MIN + 2]
    db = _fleet_store(tmp_path, sizes)
    read, real = [], store.load_runs
    monkeypatch.setattr(store, "load_runs",
                        lambda conn, ids, **k: read.append(list(ids)) or real(conn, ids, **k))
    (series,) = _series(db)
    assert [len(ids) for ids in read] == [trend_entry.ENTRY_RUNS] * len(sizes)
    assert [ids == series.pooled_ids[k][:trend_entry.ENTRY_RUNS]
            for ids, k in zip(read, series.kernels)] == [True] * len(sizes)
    monkeypatch.undo()
    syscall = next(t for t in series.paths if t.name == "getpid/syscall")
    assert [(s.after, s.change.verdict) for s in syscall.marked()] == [("6.2.0", "regression")]
    with store.open_store(db) as st:
        sides = [[run.paths["getpid/syscall"].samples_ns
                  for run in store.load_runs(st, series.pooled_ids[k])]
                 for k in series.kernels]
    for kernel, side in zip(series.kernels, sides):
        point = syscall.points[kernel]
        assert (point.value, point.ci) == stats.side_figure(side)
        assert point.runs == len(side) and point.n == sum(len(r) for r in side)
    assert syscall.steps[1].change == stats.shift(sides[1], sides[2])


def test_a_kernel_with_few_runs_is_compared_by_repetitions(tmp_path):
    from sysgatelib.verdicts import stats

    db = _fleet_store(tmp_path, [thresholds.RUN_UNIT_MIN, 2])
    (series,) = _series(db)
    syscall = next(t for t in series.paths if t.name == "getpid/syscall")
    with store.open_store(db) as st:
        sides = [[run.paths["getpid/syscall"].samples_ns
                  for run in store.load_runs(st, series.pooled_ids[k])]
                 for k in series.kernels]
    assert syscall.steps[0].change == stats.shift(sides[0], sides[1])
    assert syscall.steps[0].change.runs_new == 2
    assert syscall.steps[0].change.verdict == "regression"


def test_series_built_in_worker_processes_are_those_built_here(db, tmp_path):
    """Two hosts: each series is built (and each chart drawn) in its own process, with
    the same result as in this one."""
    here = _series(db)
    forked = trend.build_series_at(db, jobs=2)
    assert len(forked) == 2
    assert trend.render_terminal(forked, 0.05, 5) == trend.render_terminal(here, 0.05, 5)
    page = trend.write_outputs(forked, tmp_path / "out", 0.05, 5, jobs=2)
    drawn = sorted(p.name for p in page.parent.glob("*.png"))
    assert drawn == sorted(f"trend_{s.slug}_{which}.png" for s in forked
                           for which in ("entry", "overview", "paths") if len(s.kernels) > 1)
    assert all(name in page.read_text() for name in drawn)


def test_an_error_in_a_worker_is_the_error_of_the_command(tmp_path, capsys):
    from sysgatelib.core import parallel
    from sysgatelib.core.errors import UserError

    def refuse(item):
        if item == 2:
            raise UserError(f"item {item}: refused")
        return item * 10

    assert parallel.map_forked(refuse, [0, 1], jobs=2) == [0, 10]
    with pytest.raises(UserError, match="item 2: refused"):
        parallel.map_forked(refuse, [1, 2, 3], jobs=2)


def test_a_wide_series_prints_in_blocks_that_fit_the_console(tmp_path):
    db = _fleet_store(tmp_path, [1] * 14)
    (series,) = _series(db)
    text = trend.render_terminal([series], 0.05, 5)
    lines = text.splitlines()
    assert all(len(line) <= trend.WIDTH for line in lines), max(lines, key=len)
    headers = [line.split() for line in lines if line.startswith("path ")]
    assert len(headers) >= 2 and [k for h in headers for k in h[1:]] == series.kernels
    for trend_path in series.paths:  # every path has a row in every block
        assert sum(line.startswith(trend_path.name + " ") for line in lines) == len(headers)


def test_a_creep_no_step_shows_is_a_change_over_the_whole_series(tmp_path):
    """getpid/syscall 3% slower on each of five kernels: no step is beyond 5%, but the
    first kernel against the last is +12.6%, and trend says so (terminal and page)."""
    db = tmp_path / "creep.sqlite"
    levels = random.Random(9)
    with store.open_store(db, create=True) as st:
        for k in range(5):
            for r in range(3):
                level = levels.lognormvariate(0, 0.01)
                shift = {name: level for name, _, _ in synth.PATHS}
                shift["getpid/syscall"] = level * 1.03 ** k
                data = synth.make_results(seed=10 * k + r, shift=shift, context={
                    "kernel_release": f"6.{k}.0", "date": f"2026-11-0{k + 1}T00:0{r}:00"})
                run = load.parse(data, f"c{k}{r}.json")
                writing.insert_run(st, *writing.values(writing.Prepared(
                    f"c{k}{r}.json", run, store.content_hash(data), b"{}")))
    (series,) = _series(db)
    syscall = next(t for t in series.paths if t.name == "getpid/syscall")
    assert syscall.marked() == []
    overall = syscall.marked_overall()
    assert (overall.before, overall.after, overall.change.verdict) == ("6.0.0", "6.4.0",
                                                                      "regression")
    assert overall.change.change == pytest.approx(1.03 ** 4 - 1, abs=0.02)
    assert [t.name for t in series.paths if t.marked_overall()] == ["getpid/syscall"]
    text = trend.render_terminal([series], 0.05, 5)
    assert "over the whole series (6.0.0 -> 6.4.0):\n  regression: getpid/syscall +1" in text
    page = trend.write_outputs([series], tmp_path / "out", 0.05, 5).read_text()
    assert "Over the whole series" in page and "getpid/syscall" in page


def test_the_kernel_entry_series_leads_with_ns_per_entry_and_marks_its_step(tmp_path):
    """Three kernels: the second adds 12.5 ns to every kernel entry, the third keeps it,
    and the host drifts +3% on the third. The series reads about +12.5 ns from the second
    kernel on, with one step, where it happened."""
    path = tmp_path / "entry.sqlite"
    kernels = ("6.1.0-47-cloud-amd64", "6.12.57+deb13-cloud-amd64", "6.18.1")
    run = load.parse(synth.make_results(seed=0), "x")
    added = {p.name: 12.5 * p.expected_entries for p in run.paths.values()
             if p.enters_kernel and p.samples_ns}
    for i, (kernel, add, drift) in enumerate(zip(kernels, (None, added, added),
                                                  (1.0, 1.0, 1.03))):
        store.add_results(path, synth.write_results(
            tmp_path / f"k{i}.json", seed=40 + i, repetitions=12, add_ns=add, drift=drift,
            context={"kernel_release": kernel, "date": f"2026-11-2{i}T00:00:00+00:00"}))
    series = _series(path)[0]
    first, second, third = series.entry.points
    assert first.delta_ns == 0.0 and second.low_ns <= 12.5 <= second.high_ns
    assert abs(third.delta_ns - 12.5 * 1.03) < 1.5 and abs(third.drift - 0.03) < 0.01
    assert [(s.before, s.after, s.verdict) for s in series.entry.steps] == [
        (kernels[0], kernels[1], "regression")]
    text = trend.render_terminal([series], 0.05, 5)
    assert f"kernel-entry step {kernels[0]} -> {kernels[1]}: +12." in text
    page = trend.write_outputs([series], tmp_path / "out", 0.05, 5).read_text()
    assert page.index("kernel-entry step") < page.index("Overview: every path")
    assert page.index('class="entry"') < page.index('class="overview"')
