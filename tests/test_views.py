"""esxlab.views without a browser: build each dashboard, move its controls (extremes
included), and check what the marks and panels would draw."""
import contextlib
import threading
import types

import numpy as np
import pytest

import esxlab as esx
from esxlab import views
from esxlab.pmap import PRIVATE, STATE_NAMES
from esxlab.reclaim import STATES
from esxlab.views.components import MACHINE_PARTS, RECLAIMED_PARTS


def tour(memory_mb=160, minutes=2, **kw):
    return views.SimDashboard(
        esx.HostConfig(memory_mb=memory_mb, swap_mb=256),
        [(esx.VMConfig(name="idle", max_mb=32, overhead_mb=4, guest_os="windows"), esx.workloads.Idle()),
         (esx.VMConfig(name="toucher", max_mb=48, overhead_mb=4), esx.workloads.Toucher([(0, 8), (30, 40)]))],
        minutes=minutes, host_controls=["memory_mb", "tax_rate"], vm_controls={"toucher": ["shares", "balloon"]},
        overrides={"memory_mb": dict(lo=48, hi=256, step=8)}, snap_s=20, **kw)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Experiment runs moved to in the browser go to disk: here, to a throw-away folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def dash():
    return tour()


def test_controls_come_from_config_metadata(dash):
    mem = dash.controls["memory_mb"]
    assert (mem.min, mem.max, mem.step, mem.value) == (48, 256, 8, 160)      # override narrows the range
    assert mem.description == esx.HostConfig.controls()["memory_mb"]["label"].split(" (")[0] + " (MB)"   # its unit shown
    tau = dash.controls["tax_rate"]
    assert tau.max < 1 and tau.step == esx.HostConfig.controls()["tax_rate"]["step"]    # τ < 1 (open bound)
    assert (mem.readout_format, tau.readout_format) == (".0f", ".2f"), "'160' MB and '0.75', not '160.00'"
    shares = dash.controls["toucher.shares"]
    assert shares.value == 48 * 10                                            # default shares resolved
    assert (shares.min, shares.max, shares.step) == (0, 4 * 480, 120), "a usable range: 0–4× in quarters"
    assert list(dash.controls["toucher.balloon"].options) == list(esx.VMConfig.controls()["balloon"]["choices"])
    assert mem.continuous_update                                              # streamed runs: live while dragging
    assert dash.minute.continuous_update                                      # scrubbing is cheap


def test_marks_show_the_trace(dash):
    tr = dash.run.trace
    assert dash.vm_pick.options == ("idle", "toucher")
    dash.vm_pick.value = "toucher"
    lines = dash.series.lines
    assert list(lines.labels) == ["alloc", "target", "active", "shared", "swapped", "balloon", "compressed"]
    assert lines.opacities[1] < 1 == lines.opacities[0], "alloc shows through the target line where they agree"
    assert np.allclose(lines.x, tr.minutes[::views.components.stride(len(tr))])
    assert np.allclose(lines.y[0], tr.vm("toucher").alloc[::views.components.stride(len(tr))])
    assert dash.series.ys.max >= np.nanmax(lines.y)
    bars = dash.bar.bars
    assert list(bars.x) == ["idle", "toucher", "shared frames", "free"]
    assert list(bars.labels) == list(MACHINE_PARTS)
    assert np.isclose(bars.y[-1, -1], tr.host.free[-1])
    assert np.isclose(bars.y[MACHINE_PARTS.index("overhead"), 0], 4)
    host = dash.run.host                                       # machine memory adds up to the host's
    assert np.isclose(bars.y.sum(), host.config.memory_mb, atol=1.0)
    assert list(dash.bar.reclaimed.x) == ["idle", "toucher"] and list(dash.bar.reclaimed.labels) == list(RECLAIMED_PARTS)
    assert dash.run.pmap_vm == "idle"                          # the VM box opened on the smallest VM
    toucher = dash.run.host.vm("toucher").pmap.state           # the grid follows the box: 12288 PPNs, every 3rd
    assert np.array_equal(dash.pmap.grid.color.ravel()[:4096], toucher[::3])
    assert dash.pmap.figure.title.startswith("toucher at t = ") and "one cell per 3 PPNs" in dash.pmap.figure.title
    assert set(np.unique(dash.strip.strip.color)) <= set(range(len(STATES)))


def test_minute_slider_indexes_the_stored_run(dash):
    run = dash.run
    dash.minute.value = 0.5
    assert dash.run is run                                     # no rerun
    i = int(np.searchsorted(run.trace.minutes, 0.5 - 1e-9))
    assert np.isclose(dash.bar.bars.y[-1, -1], run.trace.host.free[i])
    assert dash.series.cursor.x[0] == pytest.approx(run.trace.minutes[i])
    assert all(d.tick <= run.trace.t[i] for d in dash.why.shown)
    assert "t = 20 s" in dash.pmap.figure.title                # the latest snapshot (every 20 s) before 30 s
    dash.minute.value = dash.minute.max


def test_a_rerun_changes_the_plot_and_is_deterministic(dash):
    y0 = dash.series.lines.y.copy()
    dash.controls["memory_mb"].value = 64                      # heavy overcommit
    assert not np.array_equal(y0, dash.series.lines.y)
    assert dash.run.trace.host.state.max() > 0
    assert any(d.action == "inflate balloon" for d in dash.run.trace.decisions)
    assert "inflate balloon" in dash.why.widget.value or "page out" in dash.why.widget.value
    squeezed = dash.series.lines.y.copy()
    dash.controls["memory_mb"].value = 160
    assert np.array_equal(y0, dash.series.lines.y)             # same seed, same picture
    dash.controls["memory_mb"].value = 64
    assert np.array_equal(squeezed, dash.series.lines.y)
    dash.controls["memory_mb"].value = 160


def test_extremes(dash):
    dash.set(memory_mb=dash.controls["memory_mb"].max, tax_rate=0.0)
    assert dash.run.trace.host.state.max() == 0                # plenty of memory: always high
    assert dash.bar.reclaimed.y[RECLAIMED_PARTS.index("balloon")].sum() == 0
    dash.set(memory_mb=dash.controls["memory_mb"].min, tax_rate=dash.controls["tax_rate"].max,
             toucher__shares=0, toucher__balloon="absent")
    s = dash.run.host.vm("toucher").stats()
    assert s.balloon == 0 and s.swapped > 0                    # no driver: ESX must swap (§3.3)
    assert np.isfinite(dash.series.lines.y).any()
    dash.set(memory_mb=160, tax_rate=0.75, toucher__shares=480, toucher__balloon="cooperative")


def test_refused_vm_and_empty_host():
    d = views.SimDashboard(esx.HostConfig(memory_mb=48, swap_mb=16),
                           [(esx.VMConfig(name="big", max_mb=64, overhead_mb=4), esx.workloads.Idle())],
                           minutes=0.5, host_controls=["memory_mb"], overrides={"memory_mb": dict(hi=512)})
    assert d.run.trace.vm_names == [] and d.vm_pick.options == ()
    assert "swap reservation short" in d.status.value
    assert d.series.figure.title == "no VM is running"
    assert d.run.snapshots == []
    d.controls["memory_mb"].value = d.controls["memory_mb"].max   # still refused: swap is fixed at 16 MB
    assert "admission control" in d.status.value


def test_empty_vm_pmap_is_all_unbacked():
    d = views.SimDashboard(esx.HostConfig(memory_mb=64), [(esx.VMConfig(name="e", max_mb=4, overhead_mb=1), "idle")],
                           minutes=0.1, panels=("pmap",))
    colors = d.pmap.grid.color.ravel()
    shown = colors[colors < len(STATE_NAMES)]
    assert len(shown) == 4 * 256 and "one cell per PPN" in d.pmap.figure.title
    assert set(shown) <= {0, PRIVATE}
    grid = views.components.PmapGrid(cols=64)
    grid.update(np.zeros(100, dtype=np.int8))                  # 2 rows of 64: 28 cells past the last PPN
    padding = grid.grid.color.ravel()[100:]
    assert len(padding) == 28 and not np.isnan(padding).any(), "NaN cells are drawn black"
    assert set(padding) == {grid.cs.max} and grid.cs.colors[-1] == "#FFFFFF"
    assert d.pmap.legend.value.count("background:") == len(STATE_NAMES)


def test_replacement_control_and_counters():
    d = views.SimDashboard(esx.HostConfig(memory_mb=40, swap_mb=128),
                           [(esx.VMConfig(name="t", max_mb=48, overhead_mb=2, balloon="absent"),
                             esx.workloads.Toucher([(0, 40)]))],
                           minutes=1, host_controls=["replacement"])
    assert d.controls["replacement"].options == ("random", "clock")
    swaps = d.counters.values["t"]["swap_outs"]
    assert swaps > 0 and "swap outs" in d.counters.widget.value
    d.controls["replacement"].value = "clock"
    assert d.run.host.swapper.policy.__class__.__name__ == "ClockReplacement"


def test_bad_scenario_and_bad_control():
    with pytest.raises(esx.ConfigError, match="not in the scenario"):
        views.SimDashboard(esx.HostConfig(), [(esx.VMConfig(name="a"), "idle")], vm_controls={"b": ["shares"]})
    with pytest.raises(esx.ConfigError, match="value must be a number, got None"):
        views.control("swap_mb", esx.HostConfig.controls()["swap_mb"])      # optional, default None


def test_components_handle_degenerate_data():
    ts = views.TimeSeries(fields=("alloc",))
    ts.update(np.arange(3.0), {"alloc": np.zeros(3)})
    assert ts.ys.max == pytest.approx(1.05) and ts.ys.min == 0        # flat curves keep an explicit range
    ts.update(np.arange(3.0), {"alloc": np.full(3, np.nan)})
    assert ts.lines.y.shape == (3,)                                   # one series: bqplot keeps it 1-D
    bar = views.MemoryBar()
    bar.update([], {p: [] for p in ("private", "overhead", "balloon", "swapped", "compressed")}, 0.0)
    assert list(bar.bars.x) == ["shared frames", "free"] and bar.ys.max > 0
    assert bar.reclaimed_figure.title == "Reclaimed from each VM: nothing"        # not a blank 0–1 MB axis
    bar.update(["a"], {"private": [9], "overhead": [1], "balloon": [4], "swapped": [0], "compressed": [0]}, 5.0)
    assert bar.reclaimed_figure.title == "Reclaimed from each VM" and bar.rys.max == pytest.approx(4.2)
    strip = views.StateStrip(cells=10)
    strip.update(np.arange(25) / 60, np.r_[np.zeros(20, int), np.full(5, 3)])
    assert strip.strip.color.shape == (2, 9) and strip.strip.color[0, -1] == 3   # each cell: the worst state in it
    assert (strip.strip.color[0] == strip.strip.color[1]).all() and len(strip.strip.x) == 9
    assert strip.xs.max == pytest.approx(24 / 60) and strip.figure.axes[0].label == "time (min)"
    strip.update(np.zeros(1), np.full(1, 2))                          # one sample: still two columns (2-D for bqplot)
    assert strip.strip.color.shape == (2, 2) and set(strip.strip.color.ravel()) == {2}
    assert "> high<" in strip.legend.value
    assert "clear" not in strip.legend.value, "the paper's four states; ESXi 6's clear only where the run was in it"
    strip.update(np.arange(3) / 60, np.array([0, 1, 0]))
    assert strip.legend.value.count("background:") == 5 and "> clear<" in strip.legend.value
    why = views.WhyPanel(limit=2)
    why.update([], 10)
    assert "logged no reclaim decision" in why.widget.value
    why.update([esx.trace.Decision(20, "a", "inflate balloon", 256, "test")], 10)
    assert "no decision yet" in why.widget.value
    run = esx.trace.Decision(5, "a", "page out", 512, "soft state", until=60)   # repeated from t = 5 to 60 s, summed
    why.update([run], 30)
    assert "t=    5–60s a: page out 2.0 MB" in why.widget.value
    assert "still going at t = 30 s: span and amount to t = 60 s" in why.widget.value
    why.update([run], 60)
    assert "still going" not in why.widget.value


def test_experiment_dashboard_shows_paper_beside_esxlab():
    fig7 = pytest.importorskip("esxlab.experiments.fig7")
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    assert d.controls["tax_after"].value == fig7.PARAMS["tax_after"].default
    assert d.controls["tax_after"].description == fig7.PARAMS["tax_after"].label.split(" (")[0]
    assert not d.controls["tax_after"].continuous_update          # an experiment run takes seconds: on release
    assert "paper" in d.table.widget.value and "179" in d.table.widget.value
    assert d.run.result.params["minutes"] == 12
    y0 = d.series.lines.y.copy()
    d.controls["tax_after"].value = 0.0
    assert not np.array_equal(y0, d.series.lines.y)
    assert d.run.result.params["tax_after"] == 0.0


def test_nested_config_controls_and_host_panel():
    d = views.SimDashboard(esx.HostConfig(memory_mb=128, swap_mb=128),
                           [(esx.VMConfig(name=f"v{i}", max_mb=24, overhead_mb=2), "idle") for i in range(2)],
                           minutes=1, host_controls=["sharing.mode"], panels=("host",),
                           host_fields=("shared_saved", "free"))
    assert list(d.controls["sharing.mode"].options) == ["esx", "ksm", "off"]
    assert d.host_series.figure.axes[1].label == "memory (MB)"
    assert views.components.host_ylabel(("bounce_copies",)) == "bounce copies (per s)"
    assert list(d.host_series.lines.labels) == ["shared saved", "free"]          # readable legend names
    assert np.allclose(d.host_series.lines.y[1], d.run.trace.host.free[::views.components.stride(len(d.run.trace))])
    d.controls["sharing.mode"].value = "off"
    assert d.run.host.config.sharing.mode == "off"
    assert d.run.trace.host.shared_saved.max() == 0 and np.all(d.host_series.lines.y[0] == 0)


def test_paper_table_shows_notes_as_footnotes():
    from esxlab.experiments.result import Row
    table = views.PaperTable()
    table.update([Row("x", "matches", 10.0, 10.5, 1.0, "MB"), Row("x", "differs", 10.0, 20.0, 1.0, "MB", note="why <b>")])
    v = table.widget.value
    assert v.count("<tr>") == 3 and "yes" in v and "NO [1]" in v
    assert "[1] why &lt;b&gt;" in v                            # notes are escaped
    table.update([Row("x", "a set-up check", 160.0, 170.0, 2.0, "MB", relation="≥", kind="set-up"),
                  Row("x", "a prediction", 10.0, 10.5, 1.0, "MB")])
    v = table.widget.value
    assert v.index("a prediction") < v.index("set-up checks") < v.index("a set-up check"), "set-up checks go below"


def test_an_experiment_compared_with_later_esx_heads_its_column_so():
    """ESX today's rows are later ESX's values (vSphere 6 documentation, write-ups of it), not the paper's: its table
    said "paper"."""
    from esxlab.experiments import esx_today, fig7
    from esxlab.experiments.result import Row
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    assert d.table.reference == "paper"
    table = views.PaperTable(esx_today.REFERENCE)
    table.update([Row("esx_today", "minFree of a 4 GB host", 245.76, 245.76, 0.01, "MB")])
    assert "<th style='padding:0 8px'>later ESX</th>" in table.widget.value and ">paper<" not in table.widget.value
    module = types.SimpleNamespace(**{k: getattr(fig7, k) for k in ("PARAMS", "TITLE", "run")}, REFERENCE="docs",
                                   __name__="later")
    assert views.ExperimentDashboard(module, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7,
                                                                       dbench_start_min=1)).table.reference == "docs"


# -- bad inputs: each ends in one ConfigError sentence (issue 11) ----------------------------------
def _sim(**kw):
    args = dict(host_config=esx.HostConfig(memory_mb=64), vms=[(esx.VMConfig(name="a", max_mb=8, overhead_mb=1), "idle")],
                minutes=0.1)
    return views.SimDashboard(**{**args, **kw})


@pytest.mark.parametrize("kw, match", [
    (dict(host_controls=["nope"]), "host_controls names 'nope', which has no control; choose from memory_mb"),
    (dict(host_controls=["sharing.nope"]), "'sharing.nope', which has no control"),
    (dict(vm_controls={"b": ["shares"]}), "not in the scenario"),
    (dict(vm_controls={"a": ["name"]}), r"vm_controls\['a'\] names 'name', which has no control; choose from max_mb"),
    (dict(vm_controls={"a": ["salt"]}), "names 'salt', which has no control"),
    (dict(panels=("nope",)), r"panels = \['nope'\]: no such panel; choose from table"),
    (dict(panels="bar"), "panels must be a list of panel names"),
    (dict(minutes=float("nan")), "SimDashboard.minutes = nan is not a finite number"),
    (dict(minutes="5"), "SimDashboard.minutes must be a number, got '5'"),
    (dict(minutes=-1), "SimDashboard.minutes = -1 is out of range; allowed: 0 < minutes"),
    (dict(snap_s=0), "SimDashboard.snap_s = 0 is out of range"),
    (dict(snap_s=0.5), "SimDashboard.snap_s must be a whole number"),
    (dict(snap_s=-5), "SimDashboard.snap_s = -5 is out of range"),
    (dict(host_controls=["memory_mb"], overrides={"memory_mb": dict(lo=100, hi=50)}), "needs lo < hi; got lo=100, hi=50"),
    (dict(host_controls=["memory_mb"], overrides={"memory_mb": dict(lo=100, hi=200)}), r"value = 64 is out of range"),
    (dict(vms=None), "vms must be a list of \\(esx.VMConfig, workload\\) pairs, got None"),
    (dict(vms=[esx.VMConfig(name="a")]), "vms must be a list of"),
    (dict(host_config=None), "host_config must be an esx.HostConfig, got None"),
    (dict(watch="nope"), "watch = 'nope' is not a VM of the scenario; choose from 'a'"),
    (dict(host_fields=("nope",)), r"host_fields = \('nope',\): choose a list from free"),
])
def test_bad_scenarios_say_what_is_wrong(kw, match):
    with pytest.raises(esx.ConfigError, match=match):
        _sim(**kw)


@pytest.mark.parametrize("args, kw, match", [
    (("x", {}), {}, "control 'x': spec needs a 'label'"),
    (("x", None), {}, "spec must be a dict"),
    (("tax_rate", esx.HostConfig.controls()["tax_rate"]), dict(value=float("nan")), "value = nan is not a finite number"),
    (("tax_rate", esx.HostConfig.controls()["tax_rate"]), dict(value="0.5"), "value must be a number, got '0.5'"),
    (("tax_rate", esx.HostConfig.controls()["tax_rate"]), dict(step=0), "step = 0 is out of range"),
    (("guest_os", esx.VMConfig.controls()["guest_os"]), dict(value="beos"), "'beos' is not one of its choices"),
])
def test_bad_controls_say_what_is_wrong(args, kw, match):
    with pytest.raises(esx.ConfigError, match=match):
        views.control(*args, **kw)


def test_bad_experiment_dashboards_say_what_is_wrong():
    from esxlab.experiments import fig7
    with pytest.raises(esx.ConfigError, match=r"controls = \['nope'\]: esxlab.experiments.fig7 has no such parameter"):
        views.ExperimentDashboard(fig7, ["nope"])
    with pytest.raises(esx.ConfigError, match="must be an esxlab experiment"):
        views.ExperimentDashboard(None, [])
    with pytest.raises(esx.ConfigError, match="no control named 'nope'"):
        _sim().set(nope=1)


# -- live controls ----------------------------------------------------------------------------------
def _browser_move(widget, value):
    """What a slider or dropdown moved in the browser does: set_state under the property lock."""
    if hasattr(widget, "options"):
        widget.set_state({"index": [o[1] if isinstance(o, tuple) else o for o in widget.options].index(value)})
    else:
        widget.set_state({"value": value})


@contextlib.contextmanager
def _runs_held(d):
    """The dashboard's worker waits at the start of each run until the block ends, so what a move shows before
    its run can be read without racing the worker (on a loaded machine the run may otherwise end first)."""
    gate, run = threading.Event(), d._run

    def held(*args, **kwargs):
        gate.wait(10)                            # (a move that ran its work itself would wait here)
        return run(*args, **kwargs)

    d._run = held
    try:
        yield
    finally:
        gate.set()
        del d._run


def test_a_browser_move_streams_frames_then_the_same_run_as_python():
    d = tour(minutes=3)
    ref = tour(minutes=3, seed=0)
    ref.controls["memory_mb"].value = 64                        # from Python: computed before returning
    frames = d.frames
    with _runs_held(d):
        _browser_move(d.controls["memory_mb"], 64)
        assert "computing memory_mb = 64" in d.busy.value       # the first visible update: at once
    with d.drawn:                                               # a waiter wakes at the first frame, no polling
        assert d.drawn.wait_for(lambda: d.frames > frames, timeout=120)
    assert d.done.wait(120) and d.idle()
    assert d.frames - frames >= 2                               # streamed frames, then the complete run
    assert d.run.complete and d.busy.value == ""
    assert np.array_equal(d.series.lines.y, ref.series.lines.y)     # same seed, same picture
    assert d._cached({**d.values, "memory_mb": 72}) is not None     # a neighbour was computed while idle
    frames = d.frames
    _browser_move(d.controls["memory_mb"], 72)                  # memoized: drawn during the move itself
    assert d.frames == frames + 1 and d.done.is_set() and d.run.complete
    ref.controls["memory_mb"].value = 72
    assert np.array_equal(d.series.lines.y, ref.series.lines.y)


def test_a_newer_move_abandons_the_older_run():
    d = tour(minutes=3)
    _browser_move(d.controls["memory_mb"], 56)
    _browser_move(d.controls["tax_rate"], 0.0)
    assert d.done.wait(120) and d.idle()
    assert d.values["memory_mb"] == 56 and d.values["tax_rate"] == 0.0
    assert d.run is d._cached(d.values)                          # the latest values are what is drawn
    assert d.run.host.config.tax_rate == 0.0 and d.run.host.config.memory_mb == 56


def test_an_experiment_move_answers_at_once_then_draws_the_run():
    from esxlab.experiments import fig7
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    with _runs_held(d):
        _browser_move(d.controls["tax_after"], 0.0)
        assert "computing tax_after = 0" in d.busy.value and d.run.result.params["tax_after"] == 0.75
    assert d.done.wait(120)
    assert d.run.result.params["tax_after"] == 0.0 and d.busy.value == ""
    d.idle()


def test_an_experiment_dashboard_streams_its_run_and_stops_a_superseded_one():
    from esxlab.experiments import common, fig7
    common._kept.clear()                                     # runs earlier tests kept would not stream
    fixed = dict(minutes=12, tax_change_min=7, dbench_start_min=1)
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=fixed, stream=True)
    steps = d.simulate_steps({"tax_after": 0.5}, frame_s=0)      # a frame after every tick
    first = next(steps)
    assert not first.complete and first.result is None and first.end_min == 12
    d.draw(first)
    assert "replaces it when the run ends" in d.table.widget.value     # the old table is marked as the old one
    frames = list(steps)
    assert frames[-1].complete and len(frames[-1].trace) == 12 * 60
    assert frames[-1].result.table == fig7.run(seed=0, tax_after=0.5, **fixed).table
    steps = d.simulate_steps({"tax_after": 0.25}, frame_s=0)
    assert not next(steps).complete
    d._gen += 1                                                  # the student moved on
    assert not any(run.complete for run in steps), "the run stopped at its next tick"


def test_an_experiment_dashboard_precomputes_neighbours_with_the_runner(monkeypatch):
    from esxlab.experiments import fig7, runner
    fixed = dict(minutes=12, tax_change_min=7, dbench_start_min=1)
    calls = []
    execute = runner.execute

    def spy(fn, tasks, **kw):
        calls.append((fn, tasks))
        return execute(fn, tasks, **kw)

    monkeypatch.setattr(runner, "execute", spy)
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=fixed)
    _browser_move(d.controls["tax_after"], 0.5)
    assert d.done.wait(120) and d.idle()
    assert calls == [(runner.run_one, [("fig7", 0, {**fixed, "tax_after": v}) for v in (0.55, 0.45)])]
    for v in (0.45, 0.55):
        kept = d._cached({"tax_after": v})
        assert kept is not None and d.stored({"tax_after": v}) is not None, "memoized and kept on disk"
        assert kept.result.table == fig7.run(seed=0, tax_after=v, **fixed).table


def test_a_browser_float_is_rounded_so_the_papers_setting_stays_the_papers():
    from esxlab.experiments import fig7
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    d.controls["tax_after"].value = 0.7499999999999999          # what a browser slider sends for 0.75
    assert d.values == {"tax_after": 0.75}
    assert d.run.result.params["tax_after"] == 0.75 and "not the set-up compared with the paper" not in d.table.widget.value


def test_while_a_run_streams_cells_read_the_last_complete_run_and_the_page_keeps_its_height():
    from esxlab.experiments import common, fig7
    common._kept.clear()                                     # runs earlier tests kept would not stream
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1),
                                  stream=True)
    done, table, minute = d.run, d.table.widget.value, (d.minute.max, d.minute.value)
    frame = next(d.simulate_steps({"tax_after": 0.5}, frame_s=0))
    d.draw(frame)
    assert d.run is done and d.shown is frame, "dash.run stays the complete run a cell may read"
    assert (d.minute.max, d.minute.value) == minute and d.minute.disabled, "a frame leaves the minute slider alone"
    assert "previous value" in d.table.widget.value and table.split("</div>", 1)[1] in d.table.widget.value
    assert d.series.xs.max == 12 and done.end_min == 12, "the x axis spans the whole run, frames and end alike"
    d.draw(done)
    assert not d.minute.disabled and d.minute.value == 12


def test_rows_sharing_a_note_share_its_footnote():
    from esxlab.experiments.result import Row
    t = views.PaperTable()
    t.update([Row("x", "a", 1, 2, 0.5, note="same"), Row("x", "b", 1, 2, 0.5, note="same"),
              Row("x", "c", 1, 2, 0.5, note="other")])
    assert t.widget.value.count("same</div>") == 1 and "NO [1]" in t.widget.value and "NO [2]" in t.widget.value


def test_precompute_batches_take_turns_and_a_stale_one_is_skipped(monkeypatch):
    import threading
    import time as clock
    from esxlab.experiments import fig7, runner
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    active, most, batches = [0], [0], []
    lock = threading.Lock()

    def fake(fn, tasks, each=None, **kw):              # stands in for joblib: two at once would share its processes
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        clock.sleep(0.2)
        batches.append([t[2]["tax_after"] for t in tasks])
        with lock:
            active[0] -= 1
        return []

    monkeypatch.setattr(runner, "execute", fake)
    d._precompute(d._gen, {"tax_after": 0.5})
    d._precompute(d._gen, {"tax_after": 0.25})
    d._gen += 1                                         # a third request: its own batch
    d._precompute(d._gen, {"tax_after": 0.1})
    assert d.idle(10)
    assert most[0] == 1, "one batch at a time"
    assert batches[-1] == [0.15, 0.05] and len(batches) <= 2, "the newest batch runs; a stale one waiting is skipped"
    assert "error" not in d.busy.value


def test_a_run_cut_short_is_not_remembered(monkeypatch):
    from esxlab.experiments import fig7
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    monkeypatch.setattr(d, "simulate_steps", lambda values: iter([views.Run(None, complete=False)]))
    assert d._run(d._gen, {"tax_after": 0.5}, show=False) is None
    assert d._cached({"tax_after": 0.5}) is None and d.stored({"tax_after": 0.5}) is None


def test_sweeps_hide_the_time_row():
    tax_sweep = pytest.importorskip("esxlab.experiments.tax_sweep")
    s = views.ExperimentDashboard(tax_sweep, [], xy=("sweep", ("idle_alloc", "dbench_alloc")), panels=("table",),
                                  fixed=dict(tax_step=0.5, dbench_start_min=1, warmup_min=2, minutes=2))
    assert s.time_row.layout.display == "none"                  # no trace: no minute slider, no empty VM menu
    assert list(s.xy.lines.labels) == ["idle alloc", "dbench alloc"]
    assert s.xy.ys.min > 0 or np.nanmin(s.xy.lines.y) <= 0       # the y axis is fitted to the lines
    assert "text/plain" in s._repr_mimebundle_() and "Run All Cells" in s._repr_mimebundle_()["text/plain"]


def test_salting_options_are_labelled():
    c = views.control("sharing.force_salting", esx.config.SharingConfig.controls()["force_salting"], 0)
    assert c.description == "salting" and "Mem.ShareForceSalting" in c.tooltip
    assert [v for _, v in c.options] == [0, 1, 2] and all(len(label) > 3 for label, _ in c.options)


def test_experiment_runs_are_kept_on_disk_for_a_later_session(monkeypatch):
    from esxlab.experiments import fig7
    fixed = dict(minutes=12, tax_change_min=7, dbench_start_min=1)
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=fixed)
    _browser_move(d.controls["tax_after"], 0.0)
    assert d.done.wait(120) and d.idle()
    assert len(list(views.dashboards.cache_dir().glob("*.pkl"))) == 2     # the value asked for and its neighbour
    later = views.ExperimentDashboard(fig7, ["tax_after"], fixed=fixed)    # a new session, same sources
    calls = []
    monkeypatch.setattr(later, "simulate", lambda **v: calls.append(v))
    _browser_move(later.controls["tax_after"], 0.0)
    assert later.done.wait(120) and later.idle() and calls == []
    assert later.run.result.params["tax_after"] == 0.0
    assert np.array_equal(later.series.lines.y, d.series.lines.y, equal_nan=True)
    monkeypatch.setattr(views.dashboards, "source_hash", lambda: "another model")
    assert later.stored(later.values) is None                              # an edited esxlab reruns


def test_one_colour_per_page_state_on_every_chart():
    """A page state, or the same quantity under another name, has one colour everywhere; a series
    that is none of them never borrows a state's or metric's colour."""
    from esxlab.views.components import COLORS, OTHER_COLORS, color_of
    assert not set(OTHER_COLORS) & set(COLORS.values())
    assert color_of("ballooned", 0) == color_of("balloon", 5) == COLORS["balloon"]
    assert color_of("shared_saved", 0) == color_of("shared frames", 1) == COLORS["shared"]
    assert color_of("swap_used", 0) == COLORS["swapped"] and color_of("estimate", 0) == COLORS["active"]
    fig6 = [color_of(f, i) for i, f in enumerate(("toucher", "slow", "fast", "estimate"))]
    assert len(set(fig6)) == 4 and not set(fig6[:3]) & set(COLORS.values())


@pytest.mark.parametrize("lo, hi", [(0, 348), (-28, 348), (0, 1.05), (205, 260), (0, 12000), (-9, 287)])
def test_y_ticks_are_few_and_round(lo, hi):
    from esxlab.views.components import nice_ticks
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 6 and lo <= ticks[0] and ticks[-1] <= hi + 1e-9
    step = ticks[1] - ticks[0]
    assert np.allclose(np.diff(ticks), step) and np.isclose(step / 10 ** np.floor(np.log10(step)), [1, 2, 2.5, 5]).any()
    assert not np.signbit(ticks).any() or lo < 0 and ticks[0] < 0


def test_later_esx_states_are_drawn_only_where_a_run_has_some():
    """Memory compression (later ESX) is hidden, line and legend, in a run with nothing compressed
    (every 2002-era run), and shown in one that compresses."""
    ts = views.TimeSeries(("alloc", "compressed"))
    ts.update(np.arange(3.0), {"alloc": np.ones(3), "compressed": np.zeros(3)})
    assert list(ts.lines.opacities) == [1.0, 0.0] and "compressed" not in ts.legend.value
    ts.update(np.arange(3.0), {"alloc": np.ones(3), "compressed": np.array([0.0, 2.0, np.nan])})
    assert list(ts.lines.opacities) == [1.0, 1.0] and "compressed" in ts.legend.value
    host = views.TimeSeries(("free", "compression_saved"))
    host.update(np.arange(3.0), {"free": np.ones(3), "compression_saved": np.zeros(3)})
    assert "compression saved" not in host.legend.value and "free" in host.legend.value
    host.set_colors(["#111111", "#222222"])                  # e.g. the era charts: each field its state's colour
    host.update(np.arange(3.0), {"free": np.ones(3), "compression_saved": np.ones(3)})
    assert "background:#222222" in host.legend.value and list(host.lines.colors) == ["#111111", "#222222"]
    bar = views.MemoryBar()
    parts = {p: [1.0] for p in ("private", "overhead", "swapped", "balloon")}
    bar.update(["a"], {**parts, "compressed": [0.0]}, free=1.0)
    assert "compressed" not in bar.legend.value and "balloon" in bar.legend.value
    bar.update(["a"], {**parts, "compressed": [3.0]}, free=1.0)
    assert "compressed" in bar.legend.value


def test_the_reclaimed_chart_has_a_few_round_ticks():
    """The narrow "Reclaimed from each VM" chart: ≤ 5 ticks at 1, 2 or 5 × 10ⁿ MB, not bqplot's every 10 MB."""
    from esxlab.views.components import MemoryBar, round_ticks
    assert list(round_ticks(157.5)) == [0, 50, 100, 150] and list(round_ticks(1.05)) == [0, 0.5, 1]
    for top in (1.05, 7, 33, 157.5, 999, 4321):
        ticks = round_ticks(top)
        assert 2 <= len(ticks) <= 5 and ticks[-1] < top, (top, ticks)
    bar = MemoryBar()
    bar.update(["a", "b"], {"private": [10, 20], "overhead": [1, 1], "balloon": [120, 30], "swapped": [20, 0],
                            "compressed": [0, 0]}, free=5)
    assert list(bar.reclaimed_axis.tick_values) == [0, 50, 100]


def test_a_dashboard_computing_in_the_kernel_prints_no_progress_line(monkeypatch, capfd):
    """A run a dashboard computes while its cell runs (its first draw, a control set from Python)
    printed Host.run's "simulated X/Y min" line under the dashboard once it took 5 s (a fresh
    student tester's loaded machine: red stderr under notebooks 05 and 09). The dashboard is the
    progress: its runs are quiet, however long they take (here: the threshold at 0 s)."""
    fig7 = pytest.importorskip("esxlab.experiments.fig7")
    monkeypatch.setattr(esx.host, "PROGRESS_AFTER_S", 0.0)
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(minutes=9, tax_change_min=5, dbench_start_min=1))
    d.controls["tax_after"].value = 0.25
    assert d.run.result.params["tax_after"] == 0.25
    assert d.simulate(tax_after=0.5).result.params["tax_after"] == 0.5       # a guard cell's direct call (09)
    s = views.SimDashboard(esx.HostConfig(memory_mb=64), [(esx.VMConfig(name="e", max_mb=8, overhead_mb=1), "idle")],
                           minutes=2)
    s.simulate()
    assert "simulated" not in capfd.readouterr().err
    esx.Host(esx.HostConfig(memory_mb=64)).run(minutes=1)      # the threshold is live: a bare run shows it
    assert "simulated 1/1 min" in capfd.readouterr().err
