"""esxlab.views without a browser: build each dashboard, move its controls (extremes
included), and check what the marks and panels would draw."""
from __future__ import annotations

import contextlib
import html
import itertools
import json
import math
import os
import re
import threading
import time
import types

import bqplot as bq
import numpy as np
import pytest

import esxlab as esx
from esxlab import views
from esxlab.config import RemapConfig
from esxlab.experiments import fig2, fig6, fig7, fig8, paper
from esxlab.experiments.result import Result
from esxlab.metrics import EVENTS
from esxlab.pmap import PRIVATE, STATE_NAMES
from esxlab.reclaim import STATES
from esxlab.views import palette
from esxlab.views.components import (COLORS, CounterTable, MACHINE_PARTS, MemoryBar, PAPER_COLOR, PAPER_MARKERS,
                                     PMAP_COLORS, PmapGrid, RECLAIMED_PARTS, SERIES, StateStrip, TimeSeries,
                                     ending_on_a_number, host_ylabel)
from esxlab.views.controls import control
from esxlab.views.dashboards import ALL_VMS, CACHE_RUNS, HOSTS_KEPT, MAX_MINUTES

from conftest import short_guest as _short_guest
from notebook_cells import run_until
import vision

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


def tour(memory_mb=160, minutes=2, **kw):
    return views.SimDashboard(
        esx.HostConfig(memory_mb=memory_mb, swap_mb=256),
        [(esx.VMConfig(name="idle", max_mb=32, overhead_mb=4, guest_os="windows"), esx.workloads.Idle()),
         (esx.VMConfig(name="toucher", max_mb=48, overhead_mb=4), esx.workloads.Toucher([(0, 8), (30, 40)]))],
        minutes=minutes, host_controls=["memory_mb", "tax_rate"], vm_controls={"toucher": ["shares", "balloon"]},
        overrides={"memory_mb": dict(lo=48, hi=256, step=8)}, snap_s=20, **kw)


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
    with pytest.raises(esx.ConfigError, match="control .swap_mb. has no value to start from: swap_mb is None"):
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
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    assert d.controls["tax_rate"].value == fig7.PARAMS["tax_rate"].default
    assert d.controls["tax_rate"].description == fig7.PARAMS["tax_rate"].label.split(" (")[0]
    assert not d.controls["tax_rate"].continuous_update          # an experiment run takes seconds: on release
    assert "paper" in d.table.widget.value and "179" in d.table.widget.value
    assert d.run.result.params["minutes"] == 12
    y0 = d.series.lines.y.copy()
    d.controls["tax_rate"].value = 0.0
    assert not np.array_equal(y0, d.series.lines.y)
    assert d.run.result.params["tax_rate"] == 0.0


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


def test_paper_table_marks_fitted_predictions_and_says_what_that_means():
    from esxlab.experiments.result import FITTED_LEGEND, Row
    table = views.PaperTable()
    table.update([Row("x", "fitted one", 10.0, 10.5, 1.0, "MB", fitted=True), Row("x", "free one", 10.0, 10.5, 1.0)])
    v = table.widget.value
    assert ">fitted</th>" in v and "title='fitted: yes where" in v and html.escape(FITTED_LEGEND) in v
    assert v.count("<td style='padding:0 8px'>yes</td>") == 3, "fitted and within of the first row, within of the second"
    table.update([Row("x", "free one", 10.0, 10.5, 1.0)])
    assert "fitted" not in table.widget.value, "no column where nothing was fitted"


def test_an_experiment_compared_with_later_esx_heads_its_column_so():
    """ESX today's rows are later ESX's values (vSphere 6 documentation, write-ups of it), not the paper's: its table
    said "paper"."""
    from esxlab.experiments import esx_today, fig7
    from esxlab.experiments.result import Row
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    assert d.table.reference == "paper"
    table = views.PaperTable(esx_today.REFERENCE)
    table.update([Row("esx_today", "minFree of a 4 GB host", 245.76, 245.76, 0.01, "MB")])
    assert "<th style='padding:0 8px'>later ESX</th>" in table.widget.value and ">paper<" not in table.widget.value
    module = types.SimpleNamespace(**{k: getattr(fig7, k) for k in ("PARAMS", "TITLE", "run")}, REFERENCE="docs",
                                   __name__="later")
    assert views.ExperimentDashboard(module, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7,
                                                                       dbench_start_min=1)).table.reference == "docs"


# -- bad inputs: each ends in one ConfigError sentence (issue 11) ----------------------------------
def _sim(**kw):
    args = dict(host_config=esx.HostConfig(memory_mb=64), vms=[(esx.VMConfig(name="a", max_mb=8, overhead_mb=1), "idle")],
                minutes=0.1)
    return views.SimDashboard(**{**args, **kw})


@pytest.mark.parametrize("kw, match", [
    (dict(host_controls=["nope"]), "host_controls names 'nope', which has no control; choose from memory_mb"),
    (dict(host_controls=["memory"]),
     r"host_controls names 'memory', which has no control \(did you mean 'memory_mb'\?\); "),
    (dict(host_controls=["sharing.nope"]), "'sharing.nope', which has no control"),
    (dict(vm_controls={"b": ["shares"]}), "not in the scenario"),
    (dict(vm_controls={"a": ["name"]}), r"vm_controls\['a'\] names 'name', which has no control; choose from max_mb"),
    (dict(vm_controls={"a": ["salt"]}), "names 'salt', which has no control"),
    (dict(panels=("nope",)), r"panels = \['nope'\]: no such panel; choose from table"),
    (dict(panels="bar"), "panels must be a list of panel names"),
    (dict(minutes=float("nan")), "SimDashboard.minutes = nan is not a finite number"),
    (dict(minutes="5"), "SimDashboard.minutes must be a number, got '5'"),
    (dict(minutes=-1), "SimDashboard.minutes = -1 is out of range; allowed: 0.0166667 ≤ minutes"),
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
    (dict(host_fields=None), r"host_fields = None: choose a list from free"),
    (dict(watch=["a"]), r"watch = \['a'\] is not a VM of the scenario; choose from 'a'"),
    (dict(panels=None), "panels must be a list of panel names from table, .*; got None"),
    (dict(title=None), r"^title must be text \(the dashboard's heading\), got None\.$"),
    (dict(overrides=5), r"overrides must be a dict of control name → dict of slider settings, e\.g\. .*; got 5"),
    (dict(host_controls=["memory_mb"], overrides={"memory_mb": None}),
     r"overrides\['memory_mb'\] must be a dict of slider settings \(fields of a Param: lo, hi, .*; got None"),
    # the experiments' dashboards (``build``): not a TypeError from inside esxlab either
    (dict(build=views.EraDashboard, controls=None),
     r"controls must be a list of parameter names of esxlab.experiments.esx_today \(choose from vms, .*\[\] for none\); "
     r"got None"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=None),
     r"controls must be a list of parameter names of esxlab.experiments.fig7 \(choose from .*tax_rate.*; got None"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[["tax_rate"]]),
     r"controls must be a list of parameter names .*; got \[\['tax_rate'\]\]"),
    (dict(build=views.EraDashboard, fixed=5),
     r"fixed must be a dict of parameter name → value \(parameters set without a control, .*\), or None; got 5"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[], fixed={1: 2}),
     r"fixed must be a dict .*got \{1: 2\}"),
    (dict(build=views.EraDashboard, overrides={"limit_mb": 5}),
     r"overrides\['limit_mb'\] must be a dict of slider settings"),
    (dict(build=views.EraDashboard, overrides=["limit_mb"]), r"overrides must be a dict of control name"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[], extra=None),
     r"extra must be a list of widgets \(ipywidgets or bqplot figures\), .*; got None"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[], trace_key=["run"]),
     r"trace_key must be text \(the name of one of the experiment's traces\) or None \(its first trace\), "
     r"got \['run'\]"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[], title=5), r"title must be text .* got 5"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[], xlabel=5), r"xlabel must be text .* got 5"),
    (dict(build=views.ExperimentDashboard, module=fig7, controls=[], y_from_zero=None),
     r"ExperimentDashboard.y_from_zero = None is not allowed; choose one of True, False"),
])
def test_bad_scenarios_say_what_is_wrong(kw, match):
    """``build`` (default: a small SimDashboard) refuses the other arguments with the sentence ``match``."""
    kw = dict(kw)
    build = kw.pop("build", _sim)
    with pytest.raises(esx.ConfigError, match=match):
        build(**kw)


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


def test_an_experiment_dashboard_takes_the_experiment_s_name():
    """sweep("fig7", …) took the name, ExperimentDashboard("fig7", …) refused it ("module must be an esxlab
    experiment", a new user's trial): both take a name, a figure number or the module."""
    from esxlab.experiments import fig7
    by_name, by_number = views.ExperimentDashboard("fig7", ["tax_rate"]), views.ExperimentDashboard(7, ["tax_rate"])
    assert by_name.module is fig7 and by_number.module is fig7


def test_bad_experiment_dashboards_say_what_is_wrong():
    from esxlab.experiments import fig7
    with pytest.raises(esx.ConfigError, match=r"^ExperimentDashboard: fig7 has no parameter 'tax_rat' \(did you mean "
                                              r"'tax_rate'\?\); its parameters are: available_mb, clients, "):
        views.ExperimentDashboard(fig7, ["tax_rat"])
    with pytest.raises(esx.ConfigError, match=r"^unknown experiment 'fig77'"):
        views.ExperimentDashboard("fig77", [])
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


def test_the_cache_keeps_the_hosts_of_its_newest_runs_only(monkeypatch):
    """A kernel per student on one server: after many moves, only the HOSTS_KEPT newest memoized runs keep their host
    (a SimDashboard's page arrays, most of a run's memory); the older ones still draw at once, the same picture, and
    a cell reading dash.run after the browser drew one gets its host back (simulated again)."""
    d = tour(minutes=1)
    given_back = []
    monkeypatch.setattr(views.dashboards, "give_back_memory", lambda: given_back.append(1))
    moves = list(itertools.product((0.75, 0.5), range(64, 256 + 1, 8)))[:CACHE_RUNS + 4]
    for tax_rate, mb in moves:                                   # from Python: each computed before returning
        d.set(memory_mb=mb, tax_rate=tax_rate)
    assert len(d._cache) == CACHE_RUNS
    held = [r for r in d._cache.values() if r.host is not None]
    assert len(held) == HOSTS_KEPT, f"{len(held)} of {len(d._cache)} memoized runs keep a whole host"
    assert given_back, "the memory let go of is handed back to the system"
    mb = 64                                                      # the oldest run kept at the tax rate shown, 0.5
    old = d._cached({**d.values, "memory_mb": mb})
    assert old.slimmed and old.host is None and len(old.trace) == 60 and old.snapshots
    ref = tour(minutes=1, memory_mb=mb)
    ref.set(tax_rate=0.5)
    frames = d.frames
    _browser_move(d.controls["memory_mb"], mb)                   # memoized without its host: drawn at once
    assert d.frames == frames + 1 and d.done.is_set()
    assert d.counters.widget.value == ref.counters.widget.value and d.title.value == ref.title.value
    assert np.array_equal(d.series.lines.y, ref.series.lines.y)
    assert d.idle()
    assert d.run.host is not None and d.run.host.config.memory_mb == mb
    assert d.run.host.vm("toucher").totals == ref.run.host.vm("toucher").totals
    assert d.compute(d.values).host is not None                  # what a cell computes has its host too


def test_the_hosts_let_go_of_are_freed_when_the_move_returns():
    """A host is a cycle of objects, freed only by the cycle collector, whose full collections are rare in a kernel
    holding many objects: the dashboard collects once a computation ends (automatic collection is off here)."""
    import gc
    import weakref
    d = tour(minutes=1)
    hosts = []
    gc.disable()
    try:
        for mb in range(64, 64 + 8 * (HOSTS_KEPT + 3), 8):
            d.set(memory_mb=mb)
            hosts.append(weakref.ref(d.run.host))
        alive = [h() is not None for h in hosts]
    finally:
        gc.enable()
    assert alive == [False] * 3 + [True] * HOSTS_KEPT, alive


def test_memory_freed_goes_back_to_the_operating_system():
    """glibc keeps freed blocks under its mmap threshold for reuse: without give_back_memory a kernel whose dashboard
    let go of old runs stays at its peak resident size (a class's server sees that)."""
    if views.dashboards._malloc_trim() is None:
        pytest.skip("this C library has no malloc_trim (not glibc): give_back_memory does nothing here")

    def resident_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20

    blocks = [np.ones(8192) for _ in range(2048)]        # 64 KB each, 128 MB from malloc's heap
    kept = blocks[::8]                                    # one in eight stays, so the heap's top cannot shrink alone
    del blocks
    before = resident_mb()
    views.dashboards.give_back_memory()
    assert before - resident_mb() > 64, "the 112 MB freed stayed resident"
    assert len(kept) == 256


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
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    with _runs_held(d):
        _browser_move(d.controls["tax_rate"], 0.0)
        assert "computing tax_rate = 0" in d.busy.value and d.run.result.params["tax_rate"] == 0.75
    assert d.done.wait(120)
    assert d.run.result.params["tax_rate"] == 0.0 and d.busy.value == ""
    d.idle()


def test_an_experiment_move_that_does_not_stream_counts_its_host_runs_on_the_busy_line(monkeypatch):
    """Notebook 02's dashboard (Figure 2: five host runs, not streamed) said "the charts fill in as the run goes" for
    the 4-11 s a move to 400 clients took, and nothing filled in: it says the charts change when the run ends, and
    counts the host runs and simulated minutes as they go. It said "3 host runs, 8.0 simulated minutes so far" with no
    total, which Figure 2 knows before running (fig2.planned_hosts): it names the host running and gives the totals."""
    from esxlab.views import dashboards
    monkeypatch.setattr(dashboards, "PROGRESS_S", 0)            # the count after every tick
    d = views.ExperimentDashboard(fig2, ["clients"], panels=("table",),
                                  fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30))
    said = []
    d.busy.observe(lambda change: said.append(change["new"]), "value")
    _browser_move(d.controls["clients"], 2)
    assert d.done.wait(120) and d.idle()
    assert "computing clients = 2 — the charts change when the run ends</span>" in said[0]
    assert not any("fill in" in s for s in said), said[0]
    assert "simulating host 1 of 5 (a 256 MB VM), 0.0 of 20 simulated minutes</span>" in said[1], said[1]
    assert "simulating host 5 of 5 (a 256 MB VM ballooned to 192 MB), 20.0 of 20 simulated minutes" in said[-2]
    assert said[-1] == "", said[-2:]
    assert d.run.result.params["clients"] == 2


def test_a_busy_line_without_the_experiments_plan_counts_host_runs_and_minutes():
    """An experiment that does not say what it simulates before running (no ``hosts``) gets no total."""
    from esxlab.views import dashboards
    assert dashboards._progress(3, 480, None) == "3 host runs, 8.0 simulated minutes so far"
    assert dashboards._progress(1, 0, None) == "1 host run, 0.0 simulated minutes so far"


def test_the_busy_line_is_clear_while_an_own_experiments_neighbours_are_computed(monkeypatch, own_cache):
    """An experiment of one's own (not in esxlab.experiments) has its neighbours computed in this process, after the
    run moved to is drawn: their progress put "computing tax_rate = 0.45 … 5.0 simulated minutes so far" back on the
    busy line of a dashboard with nothing left to do, and it stayed."""
    from esxlab.experiments import fig7
    from esxlab.views import dashboards
    monkeypatch.setattr(dashboards, "PROGRESS_S", 0)            # the count after every tick
    module = types.SimpleNamespace(**{k: getattr(fig7, k) for k in ("PARAMS", "TITLE", "run")}, __name__="mine")
    d = views.ExperimentDashboard(module, ["tax_rate"], fixed=dict(minutes=10, tax_change_min=5, dbench_start_min=1))
    said = []
    d.busy.observe(lambda change: said.append(change["new"]), "value")
    _browser_move(d.controls["tax_rate"], 0.5)
    assert d.done.wait(120) and d.idle()
    assert said[-1] == "" and all("tax_rate = 0.5 " in s for s in said[:-1]), said[-2:]


def test_an_experiment_dashboard_streams_its_run_and_stops_a_superseded_one():
    from esxlab.experiments import common, fig7
    common._kept.clear()                                     # runs earlier tests kept would not stream
    fixed = dict(minutes=12, tax_change_min=7, dbench_start_min=1)
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=fixed, stream=True)
    steps = d.simulate_steps({"tax_rate": 0.5}, frame_s=0)      # a frame after every tick
    first = next(steps)
    assert not first.complete and first.result is None and first.end_min == 12
    d.draw(first)
    assert "replaces it when the run ends" in d.table.widget.value     # the old table is marked as the old one
    frames = list(steps)
    assert frames[-1].complete and len(frames[-1].trace) == 12 * 60
    assert frames[-1].result.table == fig7.run(seed=0, tax_rate=0.5, **fixed).table
    steps = d.simulate_steps({"tax_rate": 0.25}, frame_s=0)
    assert not next(steps).complete
    d._gen += 1                                                  # the student moved on
    assert not any(run.complete for run in steps), "the run stopped at its next tick"
    steps = d.simulate_steps({"tax_rate": 0.6}, frame_s=0)
    d._gen += 1                  # moved on before its first frame was asked for (a review: it then ran to its end)
    assert not any(run.complete for run in steps), "the run serves the request it was called for"


def test_an_experiment_dashboard_precomputes_neighbours_with_the_runner(monkeypatch):
    from esxlab.experiments import fig7, runner
    fixed = dict(minutes=12, tax_change_min=7, dbench_start_min=1)
    calls = []
    execute = runner.execute

    def spy(fn, tasks, **kw):
        calls.append((fn, tasks))
        return execute(fn, tasks, **kw)

    monkeypatch.setattr(runner, "execute", spy)
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=fixed)
    _browser_move(d.controls["tax_rate"], 0.5)
    assert d.done.wait(120) and d.idle()
    assert calls == [(runner.run_one_allowed, [("fig7", 0, {**fixed, "tax_rate": v}) for v in (0.55, 0.45)])]
    for v in (0.45, 0.55):
        kept = d._cached({"tax_rate": v})
        assert kept is not None and d.stored({"tax_rate": v}) is not None, "memoized and kept on disk"
        assert kept.result.table == fig7.run(seed=0, tax_rate=v, **fixed).table


@pytest.mark.parametrize("one", ["neighbour left", "core"])
def test_neighbours_computed_in_this_process_are_cut_short_by_the_next_move(monkeypatch, one):
    """Where the runner would start one worker (one neighbour left to compute, the usual case after a move of one
    step or to a slider's end; or one core, as LOKY_MAX_CPU_COUNT=1 on a class's server gives), it ran the batch in
    this process, in the precompute thread, to its end: notebook 02's move to 400 clients then computed 399 in the
    kernel for 4.5 s of CPU beside the student's next move. Such neighbours are computed in the dashboard's worker
    thread instead, and the next move cuts them short, as a SimDashboard's are."""
    import threading
    from esxlab.experiments import common, fig7, runner
    common._kept.clear()                                # (a run another test kept would end without a tick)
    if one == "core":
        monkeypatch.setattr(runner, "cpu_count", lambda: 1)
    fixed = dict(minutes=12, tax_change_min=7, dbench_start_min=1)
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=fixed)
    for v in (0.6, 0.55) if one == "neighbour left" else (0.6,):
        d.compute({"tax_rate": v})                     # one neighbour left: 0.45 next to 0.5, none next to 0.55
    first = 0.45 if one == "neighbour left" else 0.55  # the neighbour computed first (one core: 0.55, then 0.45)
    started, go, run = threading.Event(), threading.Event(), fig7.run

    def held(seed=0, **params):                         # it waits at its start for the next move
        if params["tax_rate"] == first:
            started.set()
            go.wait(10)
        return run(seed, **params)

    monkeypatch.setattr(fig7, "run", held)
    _browser_move(d.controls["tax_rate"], 0.5)
    assert started.wait(60), "the neighbour is being computed"
    _browser_move(d.controls["tax_rate"], 0.55 if one == "neighbour left" else 0.6)
    go.set()
    assert d.done.wait(60) and d.idle(60)
    assert d.run.result.params["tax_rate"] == (0.55 if one == "neighbour left" else 0.6)
    assert d._cached({"tax_rate": 0.45}) is None and d.stored({"tax_rate": 0.45}) is None, "cut short, not kept"


def test_a_neighbour_computed_in_this_process_is_looked_for_on_disk_once(monkeypatch, own_cache):
    """The one-worker precompute looked each neighbour not on disk up once to choose where to compute it, and
    again before computing it."""
    from esxlab.experiments import common, fig7, runner
    common._kept.clear()
    monkeypatch.setattr(runner, "cpu_count", lambda: 1)
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    looked, stored = [], d.stored
    monkeypatch.setattr(d, "stored", lambda values: looked.append(values["tax_rate"]) or stored(values))
    d._precompute(d._gen, {"tax_rate": 0.5})
    assert sorted(looked) == [0.45, 0.55]
    assert all(d._cached({"tax_rate": v}) is not None and stored({"tax_rate": v}) is not None for v in (0.45, 0.55))


def test_a_browser_float_is_rounded_so_the_papers_setting_stays_the_papers():
    from esxlab.experiments import fig7
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    d.controls["tax_rate"].value = 0.7499999999999999          # what a browser slider sends for 0.75
    assert d.values == {"tax_rate": 0.75}
    assert d.run.result.params["tax_rate"] == 0.75 and "not the set-up compared with the paper" not in d.table.widget.value


def test_while_a_run_streams_cells_read_the_last_complete_run_and_the_page_keeps_its_height():
    from esxlab.experiments import common, fig7
    common._kept.clear()                                     # runs earlier tests kept would not stream
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1),
                                  stream=True)
    done, table, minute = d.run, d.table.widget.value, (d.minute.max, d.minute.value)
    frame = next(d.simulate_steps({"tax_rate": 0.5}, frame_s=0))
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
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    active, most, batches = [0], [0], []
    lock = threading.Lock()

    def fake(fn, tasks, each=None, **kw):              # stands in for joblib: two at once would share its processes
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        clock.sleep(0.2)
        batches.append([t[2]["tax_rate"] for t in tasks])
        with lock:
            active[0] -= 1
        return []

    monkeypatch.setattr(runner, "execute", fake)
    d._precompute(d._gen, {"tax_rate": 0.5})
    d._precompute(d._gen, {"tax_rate": 0.25})
    d._gen += 1                                         # a third request: its own batch
    d._precompute(d._gen, {"tax_rate": 0.1})
    assert d.idle(10)
    assert most[0] == 1, "one batch at a time"
    assert batches[-1] == [0.15, 0.05] and len(batches) <= 2, "the newest batch runs; a stale one waiting is skipped"
    assert "error" not in d.busy.value


def test_a_run_cut_short_is_not_remembered(monkeypatch):
    from esxlab.experiments import fig7
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=12, tax_change_min=7, dbench_start_min=1))
    monkeypatch.setattr(d, "simulate_steps", lambda values: iter([views.Run(None, complete=False)]))
    assert d._run(d._gen, {"tax_rate": 0.5}, show=False) is None
    assert d._cached({"tax_rate": 0.5}) is None and d.stored({"tax_rate": 0.5}) is None


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
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=fixed)
    _browser_move(d.controls["tax_rate"], 0.0)
    assert d.done.wait(120) and d.idle()
    assert len(list(views.dashboards.cache_dir().glob("*.pkl"))) == 2     # the value asked for and its neighbour
    later = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=fixed)    # a new session, same sources
    calls = []
    monkeypatch.setattr(later, "simulate", lambda **v: calls.append(v))
    _browser_move(later.controls["tax_rate"], 0.0)
    assert later.done.wait(120) and later.idle() and calls == []
    assert later.run.result.params["tax_rate"] == 0.0
    assert np.array_equal(later.series.lines.y, d.series.lines.y, equal_nan=True)
    monkeypatch.setattr(views.dashboards, "source_hash", lambda: "another model")
    assert later.stored(later.values) is None                              # an edited esxlab reruns


def test_runs_other_esxlab_versions_kept_are_removed_once_unwritten_for_two_weeks():
    """Runs are kept by source hash, so every update of esxlab left the older version's runs on disk for good."""
    import os
    import time
    from esxlab.views.dashboards import KEEP_OTHER_DAYS, cache_dir, prune_cache, runs_dir
    old, recent, flat = runs_dir() / "0123456789abcdef", runs_dir() / "fedcba9876543210", runs_dir() / "a.pkl"
    for folder in (cache_dir(), old, recent):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "run.pkl").write_bytes(b"kept")
    flat.write_bytes(b"a run of the layout before folders per version")
    weeks_ago = time.time() - (KEEP_OTHER_DAYS + 1) * 86400
    for path in (old, flat, cache_dir()):
        os.utime(path, (weeks_ago, weeks_ago))
    assert sorted(prune_cache()) == sorted([old, flat])
    assert sorted(runs_dir().iterdir()) == sorted([cache_dir(), recent])       # this version's are always kept
    assert (cache_dir() / "run.pkl").read_bytes() == b"kept" and prune_cache() == []


def test_a_version_whose_runs_are_only_read_is_kept_as_in_use():
    """A review: a folder's time changed only when a run was written, so a class's version whose every value was
    computed (only read since) would be removed by another version's pruning after two weeks."""
    import os
    import pickle
    import time
    from types import SimpleNamespace
    from esxlab.views.dashboards import KEEP_OTHER_DAYS, _used_once, cache_dir
    cache_dir().mkdir(parents=True, exist_ok=True)
    kept = cache_dir() / "run.pkl"
    kept.write_bytes(pickle.dumps("a run"))
    weeks_ago = time.time() - (KEEP_OTHER_DAYS + 1) * 86400
    os.utime(cache_dir(), (weeks_ago, weeks_ago))
    _used_once.cache_clear()
    assert views.ExperimentDashboard.stored(SimpleNamespace(_stored_path=lambda values: kept), {}) == "a run"
    assert cache_dir().stat().st_mtime > time.time() - 60


def test_one_colour_per_page_state_on_every_chart():
    """A page state, or the same quantity under another name, has one colour everywhere; a series
    that is none of them never borrows a state's or metric's colour."""
    from esxlab.views.palette import COLORS, OTHER_COLORS, series_colors
    assert not set(OTHER_COLORS) & set(COLORS.values())
    assert series_colors(["ballooned", "x"])[0] == series_colors(["a", "b", "balloon"])[2] == COLORS["balloon"]
    assert series_colors(["shared_saved", "shared frames"]) == [COLORS["shared"]] * 2
    assert series_colors(["swap_used", "estimate"]) == [COLORS["swapped"], COLORS["active"]]
    fig6 = series_colors(("toucher", "slow", "fast", "estimate"))
    assert len(set(fig6)) == 4 and not set(fig6[:3]) & set(COLORS.values())


#: every chart whose series a student must tell apart, with the fields (or parts) it draws: the dashboards' defaults
#: and each notebook's own charts (04's and 10's host panels, 02's, 05's and 06's xy charts, 12's era charts)
CHARTS = {"a VM's memory": SERIES, "the host (default)": views.dashboards.HOST_SERIES,
          "04 host": ("shared_saved", "zero_shared"), "02 Figure 2": ("configured", "ballooned"),
          "05 tax sweep": ("idle_alloc", "dbench_alloc"), "06 Figure 6": ("toucher", "slow", "fast", "estimate"),
          "12 each era": views.eras.ERA_FIELDS}


def chart_colors(chart: str) -> list[str]:
    """The colours a chart of :data:`CHARTS` (or the bar, pmap or strip) draws its series in, as built."""
    if chart == "machine memory":
        return list(MemoryBar().bars.colors)
    if chart == "reclaimed":
        return list(MemoryBar().reclaimed.colors)
    if chart == "pmap":
        return list(PmapGrid().cs.colors[:len(STATE_NAMES)])       # (the last: white, past the last PPN)
    if chart == "free-memory state":
        return list(StateStrip().cs.colors)
    if chart == "12 each era":
        return list(views.eras._chart(CHARTS[chart], "").lines.colors)
    return list(TimeSeries(CHARTS[chart]).lines.colors)


@pytest.mark.parametrize("chart", [*CHARTS, "machine memory", "reclaimed", "pmap", "free-memory state"])
def test_every_chart_tells_its_series_apart_in_every_vision(chart):
    """Simulated protanopia, deuteranopia and tritanopia (Machado 2009): the host panel's shared_saved and
    zero_shared (#009E73, #44AA99) were 4.8 CIEDE2000 apart under tritanopia, Figure 6's fast and estimate (#44AA99,
    #56B4E9) 7.4, the state strip's high and clear (#DDEEDD, #C9E4F2) 7.3; every pair is now at least 10."""
    colors = chart_colors(chart)
    close = [(a, b, round(d, 1)) for a, b in itertools.combinations(colors, 2)
             if (d := vision.difference(a, b)) < vision.DISTINCT]
    assert not close, f"{chart}: colours too alike for some students: {close}"


def test_a_series_colour_does_not_depend_on_where_the_series_stands():
    """zero_shared was olive second on 04's host panel and teal third on the default one: a series that is no page
    state or metric takes the next of OTHER_COLORS after the other such series before it, so page states and metrics
    around it do not move its colour (series_colors)."""
    assert palette.series_colors(["zero_shared", "shared_saved"])[0] == \
        palette.series_colors(["free", "shared_saved", "zero_shared", "swap_used"])[2]


def test_warning_text_is_readable_on_white():
    """The events table's alarms and the dashboards' errors were vermillion #D55E00 text, 11 px: contrast 3.9, under
    WCAG's 4.5 for small text."""
    assert palette.contrast(palette.WARNING_TEXT) >= 4.5
    table = CounterTable()
    table.update({"a": types.SimpleNamespace(**{f: 1 for f in CounterTable.FIELDS})})
    colors = set(re.findall(r"color:(#[0-9A-Fa-f]{6})", table.widget.value))
    assert colors == {palette.WARNING_TEXT}, colors


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
    printed Host.run's "simulated X/Y min" line under the dashboard once it took 5 s (on a
    loaded machine: red stderr under notebooks 05 and 09). The dashboard is the
    progress: its runs are quiet, however long they take (here: the threshold at 0 s)."""
    fig7 = pytest.importorskip("esxlab.experiments.fig7")
    monkeypatch.setattr(esx.host, "PROGRESS_AFTER_S", 0.0)
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(minutes=9, tax_change_min=5, dbench_start_min=1))
    d.controls["tax_rate"].value = 0.25
    assert d.run.result.params["tax_rate"] == 0.25
    assert d.simulate(tax_rate=0.5).result.params["tax_rate"] == 0.5       # a guard cell's direct call (09)
    s = views.SimDashboard(esx.HostConfig(memory_mb=64), [(esx.VMConfig(name="e", max_mb=8, overhead_mb=1), "idle")],
                           minutes=2)
    s.simulate()
    assert "simulated" not in capfd.readouterr().err
    esx.Host(esx.HostConfig(memory_mb=64)).run(minutes=1)      # the threshold is live: a bare run shows it
    assert "simulated 1/1 min" in capfd.readouterr().err


W = esx.workloads


def apart(a: str, b: str) -> tuple[float, float]:
    """(ΔE*ab, ΔL*) of two colours, as a deuteranope sees them."""
    la, lb = vision.seen_lab(a, "deuteranopia"), vision.seen_lab(b, "deuteranopia")
    return float(np.linalg.norm(la - lb)), float(abs(la[0] - lb[0]))


def copies_chart(tr) -> TimeSeries:
    ts = TimeSeries(("bounce_copies",), ylabel=host_ylabel(("bounce_copies",)))
    ts.update(tr.minutes, {"bounce_copies": tr.host.bounce_copies})
    return ts


def net_server(**remap):
    """08's server: 2000 transmits a second over 64 buffers, 2 minutes."""
    host = esx.Host(esx.HostConfig(memory_mb=128, swap_mb=256, remap=RemapConfig(low_memory_mb=32, **remap)), seed=0)
    host.power_on(esx.VMConfig(name="net", max_mb=64, overhead_mb=4), workload=esx.workloads.NetServer())
    return host.run(minutes=2)


def figure2(y_configured, y_ballooned):
    """Notebook 02's Figure 2 chart: two throughputs against the VM size, fitted to the data."""
    ts = views.TimeSeries(("configured", "ballooned"), ylabel="accesses/s", xlabel="VM size (MB)", y_from_zero=False)
    ts.update(np.array([128.0, 192.0]), {"configured": np.array(y_configured), "ballooned": np.array(y_ballooned)})
    return ts


def memory_over_time(alloc, balloon, target=None):
    t = np.linspace(0, 4, 241)
    ts = views.TimeSeries()
    zero = np.zeros_like(t)
    ts.update(t, {**{f: zero for f in SERIES}, "alloc": alloc, "balloon": balloon,
                  "target": alloc + 60 if target is None else target, "active": 256 - 40 * t})
    return ts, t


def digitized(name: str, key: str, until: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """The paper's series ``key`` of figure ``name`` up to minute ``until``, points without a value left out."""
    s = paper.paper_series(name)["series"][key]
    pts = [(x, y) for x, y in zip(s["x"], s["y"]) if y is not None and x <= until]
    return np.array([x for x, _ in pts], dtype=float), np.array([y for _, y in pts], dtype=float)


@pytest.fixture(scope="module")
def fig7_dash():
    return views.ExperimentDashboard(fig7, ["tax_rate"], panels=("table", "series"))


def legend_paper(chart: TimeSeries) -> str:
    """The legend's "paper" entry (the text after the lines' entries)."""
    value = chart.legend.value
    return value[value.index("<b>paper</b>"):] if "<b>paper</b>" in value else ""


def paper_drawn(chart: TimeSeries) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The paper's points a chart shows: quantity → (x, y) of its visible marks."""
    return {q: (np.asarray(m.x, dtype=float), np.asarray(m.y, dtype=float))
            for q, m in zip(chart.paper_quantities, chart.paper) if m.visible}


def drawn(dash: views.Dashboard, states: np.ndarray) -> bool:
    """Whether the dashboard's pmap grid draws ``states`` (one cell per PPN, or per k PPNs for a larger VM)."""
    k = views.components.stride(len(states), dash.pmap.max_cells)
    return np.array_equal(dash.pmap.grid.color.ravel()[:len(states[::k])], states[::k])


def two_vms(**kw) -> views.SimDashboard:
    """Two Spec95 VMs of different sizes on a sharing host, the grid shown."""
    return views.SimDashboard(
        esx.HostConfig(memory_mb=256, swap_mb=256, sharing=esx.SharingConfig(mode="esx")),
        [(esx.VMConfig(name="small", max_mb=24, overhead_mb=4), W.Spec95()),
         (esx.VMConfig(name="big", max_mb=40, overhead_mb=4), W.Spec95())],
        minutes=1, snap_s=20, **kw)


def refused(build, match: str) -> float:
    """Seconds ``build()`` took to raise ConfigError matching ``match``."""
    start = time.perf_counter()
    with pytest.raises(esx.ConfigError, match=match):
        build()
    return time.perf_counter() - start


def scenario(**kw):
    return views.SimDashboard(esx.HostConfig(), [(esx.VMConfig(name="a", max_mb=64), "dbench")], **kw)


def fake(traces: dict) -> types.SimpleNamespace:
    """An experiment module whose run returns ``traces``."""
    return types.SimpleNamespace(__name__="fake", TITLE="fake", PARAMS={},
                                 run=lambda seed, **kw: Result("fake", {}, traces=traces))


def test_an_xy_chart_is_titled_as_the_series_chart_is():
    """Notebook 02's chart, 05's sweep chart and 06's, each with an x axis of its own, had no title, where the series
    chart beside them reads "<VM>: memory over time"."""
    sizes = {"size_mb": np.array([128.0, 192.0]), "configured": np.array([3.0, 4.0]), "ballooned": np.array([2.0, 4.0])}
    bars = views.ExperimentDashboard(fake({"bars": sizes}), [], xy=("bars", ["configured", "ballooned"]),
                                     ylabel="dbench throughput (accesses/s)", xlabel="VM size (MB)", panels=("table",))
    assert bars.xy.figure.title == "configured, ballooned: dbench throughput against VM size", bars.xy.figure.title
    sweep = views.ExperimentDashboard(fake({"sweep": {"tax_rate": np.array([0.0, 0.5]), "idle_alloc": np.ones(2)}}),
                                      [], xy=("sweep", ["idle_alloc"]), panels=("table",))
    assert sweep.xy.figure.title == "idle alloc: memory against tax rate", sweep.xy.figure.title
    estimates = {"minute": np.array([0.0, 0.5]), "slow": np.ones(2), "fast": np.ones(2)}
    over = views.ExperimentDashboard(fake({"estimates": estimates}), [], xy=("estimates", ["slow", "fast"]),
                                     panels=("table",))
    assert over.xy.figure.title == "slow, fast: memory over time", over.xy.figure.title


def test_the_events_table_lists_every_event_of_the_table_unless_marked_otherwise():
    """The table's columns were a hand-made list: a new event never showed and nothing failed."""
    assert CounterTable.FIELDS == tuple(e.name for e in EVENTS if e.table)
    assert {"guest_oom", "double_paging", "balloon_pops"} <= set(CounterTable.FIELDS)
    assert "accesses" not in CounterTable.FIELDS


def test_salting_label_two():
    spec = esx.config.SharingConfig.controls()["force_salting"]
    labels = dict((v, k) for k, v in control("sharing.force_salting", spec).options)
    assert labels[2] == "2: equal salts share; a VM without one, only with itself"
    assert "every VM has its own salt" not in json.dumps(labels)


def test_why_panel_follows_the_vm_box():
    dash = views.SimDashboard(esx.HostConfig(memory_mb=176, swap_mb=512),
                              [(esx.VMConfig(name="a", max_mb=96), W.Dbench(clients=12)),
                               (esx.VMConfig(name="b", max_mb=96), W.Dbench(clients=12))], minutes=1, watch="b",
                              why_follows_vm=True)
    assert dash.vm_pick.value == "b"
    assert dash.why.shown and all(d.vm in ("b", "") for d in dash.why.shown)
    assert "about b or the whole host" in dash.why.widget.value
    dash.vm_pick.value = "a"
    assert dash.why.shown and all(d.vm in ("a", "") for d in dash.why.shown)


def test_why_panel_all_vms_shows_every_vm():
    dash = views.ExperimentDashboard(esx.experiments.fig8, ["tax_rate"], trace_key="run",
                                     fixed=dict(minutes=18, bench_start_min=8), sum_vms=True,
                                     why_follows_vm=True)
    assert dash.vm_pick.value == views.dashboards.ALL_VMS
    decisions = dash.run.trace.decisions
    assert dash.why.shown == [d for d in decisions if d.tick <= dash.run.trace.t[-1]][-dash.why.limit:]
    dash.vm_pick.value = "sql"
    assert dash.why.shown and all(d.vm in ("sql", "") for d in dash.why.shown)
    assert "ρ" in " ".join(d.why for d in [d for d in decisions if d.vm == "sql"])


def test_why_panel_without_the_option_shows_every_vm():
    dash = views.SimDashboard(esx.HostConfig(memory_mb=176, swap_mb=512),
                              [(esx.VMConfig(name="a", max_mb=96), W.Dbench(clients=12)),
                               (esx.VMConfig(name="b", max_mb=96), W.Dbench(clients=12))], minutes=1, watch="b")
    assert {d.vm for d in dash.why.shown} - {""} == {"a", "b"}


def test_swapped_and_ballooned_differ_in_lightness_for_a_deuteranope():
    """Orange and vermillion: ΔE 18, ΔL 15 for a deuteranope (two olive yellows); now ΔE 34, ΔL 32."""
    de, dl = apart(COLORS["swapped"], COLORS["balloon"])
    assert de >= 30 and dl >= 25, (de, dl)


def test_the_reclaimed_states_and_every_pmap_state_stay_apart_for_a_deuteranope():
    """Ballooned and compressed (orange and yellow) were ΔE 17 apart; every pair is now at least 20 (the reclaimed
    ones, side by side in one bar, 30)."""
    for a, b in itertools.combinations(PMAP_COLORS, 2):
        assert apart(a, b)[0] >= 20, (a, b)
    for a, b in itertools.combinations(RECLAIMED_PARTS, 2):
        assert apart(COLORS[a], COLORS[b])[0] >= 30, (a, b)


def test_free_memory_is_lighter_than_overhead_and_shared_frames_for_a_deuteranope():
    """The review saw overhead (pink), shared frames (green) and free (grey) turn into like greys."""
    for other in ("overhead", "shared frames"):
        assert apart(COLORS["free"], COLORS[other])[1] >= 20, other


def test_the_pmap_grid_draws_cells_not_strokes():
    """64 columns of 4096 cells were 3 px high, a white border taking a third of each."""
    grid = PmapGrid()
    grid.update(np.ones(4096, dtype=np.int8))
    rows, cols = grid.grid.color.shape
    assert rows * cols == 4096 and rows <= 32, "at least 6.5 px a row in the 210 px the figure leaves"
    assert isinstance(grid.grid, bq.HeatMap), "one image: no cell borders, and no 4096 cells for a browser to redraw"


def test_the_pmap_grid_sends_a_picture_only_when_it_changed():
    """A browser trial: each streamed frame rewrote the grid's 4096 cells and labels (some 30,000 changes to the page
    a frame, 170,000 for a move of notebook 00's τ slider), which kept the page busy a second after the run; it is one
    image now, sent again only when a cell's state changed."""
    grid = PmapGrid()
    sent = []
    grid.grid.observe(lambda change: sent.append(change["name"]), names=["color", "y"])
    states = np.ones(4096, dtype=np.int8)
    grid.update(states)
    assert sent == ["y", "color"], sent                   # 32 rows of 128 where it opened with 2
    grid.update(states.copy(), "the same states, another title")
    assert sent == ["y", "color"], sent
    states[7] = 2
    grid.update(states)
    assert sent == ["y", "color", "color"], sent


@pytest.mark.parametrize("host_mb", [453.762, 224, 160, 1024])
def test_the_machine_axis_has_round_ticks_and_names_the_hosts_size(host_mb):
    bar = MemoryBar()
    parts = {p: [10.0, 20.0] for p in ("private", "overhead", *RECLAIMED_PARTS)}
    bar.update(["a", "b"], parts, free=host_mb - 60 - 5, shared_frames=5)
    ticks = np.asarray(bar.axis.tick_values)
    step = ticks[1] - ticks[0]
    assert bar.ys.max == pytest.approx(host_mb), "the axis is the machine"
    assert np.allclose(ticks, np.round(ticks)) and np.allclose(ticks / step, np.arange(len(ticks))), ticks
    assert ticks[-1] <= 0.95 * host_mb, "no label under the tick at the axis's end"
    assert len(ticks) >= 3
    assert bar.axis.label == f"machine memory (MB): the host's {host_mb:.1f}".removesuffix(".0") + " MB"


def test_a_time_axis_puts_its_labels_below_the_tick_at_its_end():
    """bqplot draws a 6 px tick down at each end of an axis and a label 3 px under the axis: the last minute's
    label ("5") was struck through, under the minute cursor."""
    for axis in (TimeSeries(("alloc",)).xaxis, StateStrip().figure.axes[0]):
        down = re.fullmatch(r"translate\(0px, (\d+)px\)", axis.tick_style.get("transform", ""))
        assert down and 3 + int(down[1]) >= 6, axis.tick_style


def test_a_burst_of_bounce_copies_is_drawn_second_by_second():
    """At threshold 100 the copies last 3.2 s: 2000, 2000, 2000 and 400 (08's reveal). Each second is a step over
    the second it counts, from t = 0, and is marked: four dots, the last at 4 s."""
    ts = copies_chart(net_server(threshold=100))
    assert ts.lines.interpolation == "step-before"
    assert ts.xs.min == 0 and ts.lines.x[0] == 0 and np.atleast_2d(ts.lines.y)[0, 0] == 0
    assert ts.burst.visible and np.allclose(np.asarray(ts.burst.x) * 60, [1, 2, 3, 4])
    assert list(ts.burst.y) == [2000, 2000, 2000, 400] and set(ts.burst.colors) == set(ts.lines.colors)


def test_copies_that_never_stop_and_memory_curves_get_no_burst_marks():
    assert not copies_chart(net_server(enabled=False)).burst.visible      # 2000 every second: a line says it
    memory = TimeSeries(("alloc",))
    memory.update(np.arange(1, 121) / 60, {"alloc": np.r_[np.full(3, 50.0), np.zeros(117)]})
    assert memory.lines.interpolation == "linear" and not memory.burst.visible


def test_08s_dashboard_marks_its_one_second_of_copies():
    dash = views.SimDashboard(esx.HostConfig(memory_mb=128, swap_mb=256, remap=RemapConfig(low_memory_mb=32)),
                              [(esx.VMConfig(name="net", max_mb=64, overhead_mb=4), esx.workloads.NetServer())],
                              minutes=2, panels=("host",), host_fields=("bounce_copies",))
    burst = dash.host_series.burst
    assert burst.visible and np.allclose(np.asarray(burst.x) * 60, [1]) and list(burst.y) == [1024]


def test_an_event_line_is_labelled_and_solid_unlike_the_minute_cursor():
    ts = TimeSeries(("shared_saved",))
    m = np.linspace(0, 6, 361)
    ts.update(m, {"shared_saved": np.where(m > 2.5, 9 * (m - 2.5), 0)})
    assert not ts.event.visible
    ts.mark(2.0, "hog starts")
    assert ts.event.visible and list(ts.event.x) == [2.0, 2.0] and list(ts.event.labels) == ["hog starts"]
    assert ts.event.labels_visibility == "label" and list(ts.event.y) == [ts.ys.min, ts.ys.max]
    assert ts.cursor.line_style == "dashed" != ts.event.line_style
    ts.update(m, {"shared_saved": 2 * m})                                   # a new run: the line spans its axis
    assert list(ts.event.y) == [ts.ys.min, ts.ys.max] and ts.event.visible


@pytest.mark.parametrize("value", [370.0, 0.0, -4.0, 1e6])
def test_a_flat_curve_gets_a_padded_y_range_with_distinct_labels(value):
    """02 at 1 client: both throughputs 370, and the y axis showed "370" twelve times."""
    ts = figure2([value, value], [value, value])
    assert ts.ys.min < value < ts.ys.max and ts.ys.max - ts.ys.min >= (0.1 * abs(value) or 2.0) - 1e-9
    ticks = list(ts.yaxis.tick_values)
    assert 2 <= len(ticks) <= 6 and len({f"{t:g}" for t in ticks}) == len(ticks), ticks


def test_a_flat_time_series_fitted_to_its_data_is_padded_too():
    ts = views.TimeSeries(("free",), y_from_zero=False)
    ts.update(np.arange(100.0), {"free": np.full(100, 64.0)})
    assert ts.ys.min <= 64 - 3.2 and ts.ys.max >= 64 + 3.2 and list(ts.cursor.y) == [ts.ys.min, ts.ys.max]


def test_the_why_panel_wraps_at_spaces_in_a_font_it_sets_itself():
    why = views.WhyPanel()
    long = esx.trace.Decision(0, "dbench", "balloon held", 32768, "the experiment holds the balloon " * 6)
    why.update([long], 10)
    value = why.widget.value
    assert "<pre" not in value, "a bare <pre>: Lab breaks its words anywhere, Voilà sets it proportional"
    line = re.search(r'<div style="([^"]*)">t=', value).group(1)
    for css in ("word-break:normal", "overflow-wrap:anywhere", "white-space:pre-wrap", "font-family:", "line-height:",
                "font-size:"):
        assert css in line, css
    assert "break-all" not in value


def test_alloc_under_the_balloon_is_drawn_again_on_top_dashed():
    """02 from minute 1.3: alloc (black) at 128 MB lay under the balloon (orange), drawn after it."""
    t = np.linspace(0, 4, 241)
    ts, _ = memory_over_time(np.where(t < 1.3, 30 + 70 * t, 128.0), np.clip((t - 0.3) * 240, 0, 128))
    i = SERIES.index("alloc")
    assert ts.overlay.visible and ts.overlay.line_style == "dashed"
    assert ts.figure.marks.index(ts.overlay) > ts.figure.marks.index(ts.lines), "on top of the lines"
    again = np.atleast_2d(ts.overlay.y)[list(ts.overlay.colors).index(COLORS["alloc"])]
    assert np.allclose(again[t >= 1.3], ts.lines.y[i][t >= 1.3]) and np.isnan(again[t < 0.3]).all(), \
        "drawn again where it is covered, and only there"
    assert "alloc" in ts.legend.value and ts.legend.value.count("alloc") == 1     # the legend as before


def test_each_line_drawn_again_ends_on_a_number():
    """A line covered only early on (a balloon at 0 MB under a zero line until it inflates) was drawn again with a
    NaN tail; bqplot puts every line's label, hidden or not, at its last point, and the browser logged
    "translate(960,undefined)" on 01-07, 09, 10 and 12 in Voilà."""
    t = np.linspace(0, 4, 241)
    ts = views.TimeSeries(("balloon", "swapped"))
    ts.update(t, {"balloon": np.clip((t - 1) * 40, 0, None), "swapped": np.zeros_like(t)})
    x, again = np.atleast_2d(ts.overlay.x)[0], np.atleast_2d(ts.overlay.y)[0]
    assert ts.overlay.visible and np.isfinite(again[-1])
    k = (t <= x[-1]).sum()                                   # the points up to the last covered one
    assert 1.0 < x[-1] < 1.1 and np.array_equal(again[:k], ts.lines.y[0][:k]), "drawn again where it is covered"
    assert (x[k:] == x[-1]).all() and (again[k:] == again[k - 1]).all(), "then it stops: its last point, repeated"


def test_a_row_ending_in_nan_ends_on_its_last_number_repeated():
    x = np.arange(4.0)
    nan = np.nan
    xs, ys = ending_on_a_number(x, [[1, nan, 2, nan], [nan, 1, nan, nan], [nan] * 4, [1, 2, 3, 4]])
    assert np.array_equal(xs, [[0, 1, 2, 2], [0, 1, 1, 1], [0, 1, 2, 3], [0, 1, 2, 3]])
    assert np.array_equal(ys, [[1, nan, 2, 2], [nan, 1, 1, 1], [nan] * 4, [1, 2, 3, 4]], equal_nan=True)


def test_alloc_under_the_target_is_drawn_again_on_top():
    """12: alloc lay under target at 32 MB."""
    ts, t = memory_over_time(np.full(241, 32.0), np.zeros(241), target=np.full(241, 32.0))
    assert ts.overlay.visible and COLORS["alloc"] in ts.overlay.colors


def test_lines_apart_need_no_overlay():
    t = np.linspace(0, 4, 241)
    ts = views.TimeSeries(("alloc", "balloon"))
    ts.update(t, {"alloc": 50 + t, "balloon": 100 - t})            # they cross, but lie apart almost everywhere
    assert not ts.overlay.visible


@pytest.mark.parametrize("n", [2, 5])
def test_a_curve_of_a_few_points_marks_each_point_clear_of_the_edges(n):
    """Figure 2's two sizes and 05's five-point tax sweep: points, not only a line between the plot's edges."""
    x = np.linspace(0.0, 0.95, n)
    ts = views.TimeSeries(("idle_alloc", "dbench_alloc"), xlabel="tax rate", y_from_zero=False)
    ts.update(x, {"idle_alloc": 179 - 90 * x, "dbench_alloc": 179 + 90 * x})
    assert ts.lines.marker is not None
    assert ts.xs.min < x[0] and ts.xs.max > x[-1]


def test_two_curves_that_meet_both_stay_visible():
    """Figure 2 at 22 clients: the lines meet at 192 MB, and at 1 client they coincide."""
    ts = figure2([370.0, 370.0], [370.0, 370.0])
    assert ts.overlay.visible and ts.overlay.marker is not None and ts.lines.marker is not None
    assert ts.overlay.marker_size < ts.lines.marker_size, "the covered point shows inside the other"


def test_a_long_series_and_a_run_streaming_in_have_no_markers():
    ts = views.TimeSeries(("alloc",))
    ts.update(np.arange(300.0), {"alloc": np.arange(300.0)})
    assert ts.lines.marker is None
    ts.update(np.arange(5.0) / 60, {"alloc": np.arange(5.0)}, x_max=4.0)     # a run's first frame
    assert ts.lines.marker is None and ts.xs.min == 0


def test_the_yellow_line_runs_on_a_darker_edge_and_keeps_its_legend_colour():
    chart = views.TimeSeries(("alloc", "shared", "balloon", "swapped"))
    m = np.linspace(0, 10, 301)
    chart.update(m, {"alloc": 40 + 0 * m, "shared": 20 + m, "balloon": 10 + np.sqrt(m), "swapped": 5 * m})
    yellow = COLORS["balloon"]
    assert yellow == "#F0E442" and palette.contrast(yellow) < 1.5
    assert chart.edge.visible and len(chart.edge.colors) == 1 and palette.contrast(chart.edge.colors[0]) >= 3
    assert chart.figure.marks.index(chart.edge) < chart.figure.marks.index(chart.lines), "under the yellow line"
    assert chart.edge.stroke_width > chart.lines.stroke_width
    i = chart.fields.index("balloon")
    assert np.allclose(np.atleast_2d(chart.edge.y)[0], chart.lines.y[i])
    assert chart.lines.colors[i] == yellow and f"background:{yellow}" in chart.legend.value


def test_dark_lines_get_no_edge():
    ts = views.TimeSeries(("alloc", "private"))
    ts.update(np.arange(50.0), {"alloc": np.arange(50.0), "private": np.arange(50.0) / 2})
    assert not ts.edge.visible


def test_the_machine_memory_axis_is_the_hosts_memory_and_ends_at_it():
    """00: 0–90 MB at 224 MB and 0–55 MB at 160 MB: the axis followed the longest bar, not the machine."""
    bar = views.MemoryBar()
    parts = {"private": [16.8, 57.0], "overhead": [32.0, 32.0], "balloon": [30, 6], "swapped": [6, 7],
             "compressed": [0, 0]}
    for host_mb in (224, 160, 512):
        bar.update(["idle", "dbench"], parts, free=host_mb - 16.8 - 57 - 64 - 1.5, shared_frames=1.5)
        ticks = list(bar.figure.axes[1].tick_values)
        assert bar.ys.max == host_mb and ticks[0] == 0 and f"{host_mb} MB" in bar.axis.label, host_mb


@pytest.mark.parametrize("memory_mb", [160, 224])
def test_a_dashboards_bars_span_its_hosts_memory_at_every_minute(memory_mb):
    d = views.SimDashboard(esx.HostConfig(memory_mb=memory_mb, swap_mb=256),
                           [(esx.VMConfig(name="idle", max_mb=64, guest_os="windows"), esx.workloads.Idle()),
                            (esx.VMConfig(name="dbench", max_mb=96), esx.workloads.Dbench(clients=4))],
                           minutes=1, panels=("bar",))
    for minute in (0.1, 0.5, 1.0):
        d.minute.value = minute
        assert d.bar.ys.max == memory_mb, minute


def test_fig7_draws_the_paper_allocation_of_the_vm_picked(fig7_dash):
    d = fig7_dash
    d.set(tax_rate=0.75)
    assert d.paper_chart is d.series and d.series.paper_quantities == ("alloc",)
    for vm in ("idle", "dbench"):
        d.vm_pick.value = vm
        points = paper_drawn(d.series)
        assert list(points) == ["alloc"]
        x, y = digitized("fig7", f"{vm}_alloc")
        np.testing.assert_array_equal(points["alloc"][0], x)
        np.testing.assert_array_equal(points["alloc"][1], y)
        assert d.series.ys.min <= y.min() and d.series.ys.max >= y.max()       # the axes take the points in
        assert d.series.xs.min <= x.min() and d.series.xs.max >= x.max()
        assert "<b>paper</b>" in d.series.legend.value and "alloc" in legend_paper(d.series)
        assert "not drawn" not in legend_paper(d.series)


def test_the_paper_marks_are_grey_of_their_own_shape_over_the_lines_under_the_cursor(fig7_dash):
    chart = fig7_dash.series
    mark = chart.paper[0]
    assert list(mark.colors) == [PAPER_COLOR] and mark.marker == PAPER_MARKERS[0][0] != chart.lines.marker
    assert PAPER_COLOR not in chart.lines.colors
    marks = list(chart.figure.marks)
    assert marks.index(chart.lines) < marks.index(mark) < marks.index(chart.cursor)
    assert PAPER_MARKERS[0][1] in legend_paper(chart)


def test_fig7_with_another_tax_rate_keeps_the_paper_before_the_change_only(fig7_dash):
    d = fig7_dash
    d.set(tax_rate=0.5)
    d.vm_pick.value = "idle"
    x, _ = paper_drawn(d.series)["alloc"]
    assert x.max() <= 31 and len(x) == len(digitized("fig7", "idle_alloc", 31)[0]) >= 2
    assert "to minute 31 only" in legend_paper(d.series) and "tax_rate = 0.5" in legend_paper(d.series)
    d.set(tax_rate=0.75)
    assert len(paper_drawn(d.series)["alloc"][0]) == len(digitized("fig7", "idle_alloc")[0])
    assert "only" not in legend_paper(d.series)


def test_fig7_off_the_paper_set_up_hides_the_paper_and_says_why():
    d = views.ExperimentDashboard(fig7, ["tax_rate"], fixed=dict(tax_before=0.25), panels=("series",))
    assert paper_drawn(d.series) == {}
    note = legend_paper(d.series)
    assert "off the paper&#x27;s set-up" in note and "tax_before = 0.25" in note
    # the table agrees: its before-the-change rows are not compared either
    assert all(r.paper is None for r in d.run.result.table if r.kind == "set-up")


def test_fig8_draws_the_sum_and_the_vms_the_paper_plots():
    d = views.ExperimentDashboard(fig8, ["tax_rate"], trace_key="run", fixed=dict(minutes=40), sum_vms=True,
                                  panels=("series",))
    assert d.vm_pick.value == ALL_VMS
    assert d.series.paper_quantities == ("alloc", "active", "balloon", "shared")
    assert len({m.marker for m in d.series.paper}) == 4
    points = paper_drawn(d.series)
    assert set(points) == {"alloc", "active", "balloon", "shared"}
    for q, (x, y) in points.items():
        px, py = digitized("fig8", f"all_{q}", 40)
        np.testing.assert_array_equal(x, px)
        np.testing.assert_array_equal(y, py)
    assert d.series.ys.max >= max(y.max() for _, y in points.values())
    d.vm_pick.value = "sql"                      # SQL Server has no point before it boots (None): left out
    x, y = paper_drawn(d.series)["alloc"]
    np.testing.assert_array_equal(x, digitized("fig8", "sql_alloc", 40)[0])
    assert np.isfinite(y).all()
    d.vm_pick.value = "exchange"                 # the paper plots no Exchange panel
    assert paper_drawn(d.series) == {}
    assert "Figure 8 plots" in legend_paper(d.series) and "citrix" in legend_paper(d.series)
    d.vm_pick.value = "citrix"
    assert set(paper_drawn(d.series)) == {"alloc", "active", "balloon", "shared"}
    d.set(tax_rate=0.5)
    assert paper_drawn(d.series) == {} and "tax_rate = 0.5" in legend_paper(d.series)


def test_fig8_as_notebook_09_runs_it_keeps_the_paper_boot_only():
    """09 starts the benchmarks at minute 8 (the paper's at 17): the runs part ways there."""
    d = views.ExperimentDashboard(fig8, ["tax_rate"], trace_key="run", fixed=dict(minutes=18, bench_start_min=8),
                                  panels=("series",), sum_vms=True)
    points = paper_drawn(d.series)
    assert points and all(x.max() <= 8 for x, _ in points.values())
    assert "to minute 8 only" in legend_paper(d.series) and "bench_start_min = 8" in legend_paper(d.series)
    assert d.series.xs.max <= 18 + 1e-9                         # the axis stays the run's


def test_fig6_draws_the_paper_on_the_estimates_chart_not_the_vm_series():
    d = views.ExperimentDashboard(fig6, ["sweep_s"], trace_key="run",
                                  xy=("estimates", ("toucher", "slow", "fast", "estimate")), panels=("table", "series"))
    assert d.paper_chart is d.xy and d.series.paper == []
    points = paper_drawn(d.xy)
    assert set(points) == {"slow", "fast", "estimate"}, "the toucher's schedule is esxlab's input: read off the figure"
    assert palette.PAPER_COLOR not in palette.OTHER_COLORS and "#555555" not in palette.OTHER_COLORS, \
        "the paper's grey points apart from every series' colour (a student's check: 'fast' was #555555)"
    np.testing.assert_array_equal(points["estimate"][1], digitized("fig6", "estimate")[1])
    assert "<b>paper</b>" not in d.series.legend.value
    d.set(sweep_s=6)
    assert paper_drawn(d.xy) == {} and "sweep_s = 6" in legend_paper(d.xy)
    d.set(sweep_s=5)
    assert len(paper_drawn(d.xy)) == 3


#: notebook 02's Figure 2 run: two sizes, a short run (its table compares them with the paper all the same)
FIG2_NOTEBOOK = dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)


def test_fig2_draws_the_paper_scaled_to_meet_esxlab_at_the_configured_256_mb_vm():
    """The paper's MB/s times one factor, esxlab's configured 256 MB throughput (accesses/s) over the paper's
    17.8 MB/s: the two meet there, and the chart compares the shapes, the ratios the table compares."""
    d = views.ExperimentDashboard(fig2, ["clients"], trace_key="ballooned_128", xy=("bars", ("configured", "ballooned")),
                                  panels=("series",), fixed=FIG2_NOTEBOOK)
    assert d.paper_chart is d.xy and d.xy.paper_quantities == ("configured", "ballooned") and d.series.paper == []
    res = d.run.result
    p = types.SimpleNamespace(**res.params)
    at_256, _ = fig2.dbench_throughput(p, 256, 0, res.params["seed"])      # esxlab's configured 256 MB VM
    factor = at_256 / fig2.PAPER_MAX[1]
    points = paper_drawn(d.xy)
    for key in ("configured", "ballooned"):
        x, y = digitized("fig2", key)
        np.testing.assert_array_equal(points[key][0], x)     # every size of the paper's, not only the run's two
        np.testing.assert_allclose(points[key][1], y * factor, rtol=1e-12)
    x, y = points["configured"]
    assert x[-1] == 256 and y[-1] == pytest.approx(at_256, rel=1e-12), "the configured 256 MB points coincide"
    np.testing.assert_allclose(y / y[-1], [fig2.PAPER[mb][0] / fig2.PAPER_MAX[1] for mb in (128, 160, 192, 224)]
                               + [1.0], rtol=1e-12)        # the ratios of the table's configured rows
    note = html.unescape(legend_paper(d.xy))
    assert "scaled to esxlab's configured 256 MB" in note and f"× {factor:.3g}" in note, note
    assert f"{at_256:.0f} accesses/s" in note and "17.8 MB/s" in note and "not drawn" not in note
    assert d.xy.ys.max > at_256 and d.xy.xs.max > 256, "the axes take the paper's points in"


def test_fig2_off_the_paper_set_up_draws_no_paper_and_says_why():
    d = views.ExperimentDashboard(fig2, ["clients"], xy=("bars", ("configured", "ballooned")), panels=("series",),
                                  fixed=FIG2_NOTEBOOK)
    d.controls["clients"].value = 22
    assert paper_drawn(d.xy) == {}
    note = html.unescape(legend_paper(d.xy))
    assert "not drawn: this run is off the paper's set-up (clients = 22, default 40)" in note and "scaled" not in note
    d.controls["clients"].value = 40
    assert set(paper_drawn(d.xy)) == {"configured", "ballooned"}


def test_fig2_setup_window_is_over_vm_size_not_minutes():
    """Figure 2's x is VM size: the run's length bounds none of its points, and the knobs choosing what the run
    measures (sizes, its length, when dbench starts and the throughput is averaged from) keep it at the set-up."""
    assert paper.setup_window("fig2", fig2.PARAMS, {}) == (math.inf, "")
    assert paper.setup_window("fig2", fig2.PARAMS, FIG2_NOTEBOOK) == (math.inf, "")
    for moved in (dict(clients=22), dict(max_mb=512, clients=80), dict(mb_per_client=6), dict(zipf_alpha=0.78)):
        until, why = paper.setup_window("fig2", fig2.PARAMS, moved)
        assert until == -math.inf and all(f"{k} = " in why for k in moved), (moved, why)
    assert "fig2" not in paper.OVER_TIME and set(paper.OVER_TIME) == {"fig6", "fig7", "fig8"}
    assert paper.chart_scale("fig7", None) == (1.0, ""), "other figures are drawn in their own units"


def test_picking_a_vm_stays_fast_and_builds_no_series_again(fig7_dash):
    d = fig7_dash
    d.set(tax_rate=0.75)
    before = paper._points.cache_info()
    t = time.perf_counter()
    for _ in range(20):
        d.vm_pick.value = "idle"
        d.vm_pick.value = "dbench"
    per_pick = (time.perf_counter() - t) / 40
    after = paper._points.cache_info()
    assert after.misses == before.misses and after.hits > before.hits
    assert per_pick < 0.05, per_pick


def test_the_pmap_grid_shows_the_vm_picked_and_names_it():
    dash = two_vms(watch="small", panels=("host", "pmap", "bar"), host_fields=("shared_saved",))
    assert dash.vm_pick.value == "small" and dash.vm_pick.layout.display != "none", "a choice with a chart to change"
    end = dash.run.snapshots[-1][1]
    assert set(end) == {"small", "big"}, "every VM's pmap is kept"
    assert dash.pmap.figure.title.startswith("small at t = 60 s")
    assert drawn(dash, end["small"])
    dash.vm_pick.value = "big"
    assert dash.pmap.figure.title.startswith("big at t = 60 s")
    assert drawn(dash, end["big"]) and not drawn(dash, end["small"])
    dash.minute.value = 0.5                                    # scrubbing keeps the VM picked
    assert dash.pmap.figure.title.startswith("big at t = 20 s")
    assert drawn(dash, dash.run.snapshots[1][1]["big"])
    assert dash.run.pmap_vm == "small", "watch still names the VM the box opens on"


@pytest.mark.parametrize("name, marker, var, pick", [("04_page_sharing", "Four identical VMs", "dash", "vm1"),
                                                     ("10_security", 'title="Salting"', "salt", "victim"),
                                                     ("11_esx_vs_ksm", 'title="ESX vs KSM"', "dash", "vm1")])
def test_the_lessons_vm_box_moves_their_grid(name, marker, var, pick):
    """04, 10 (Salting) and 11 showed no chart the VM box drove: their grid now follows it."""
    dash = run_until(name, marker)[var]
    watched = dash.run.pmap_vm
    assert dash.vm_pick.value == watched and dash.pmap.figure.title.startswith(f"{watched} at t = ")
    before = dash.pmap.grid.color.copy()
    dash.vm_pick.value = pick
    assert dash.pmap.figure.title.startswith(f"{pick} at t = ")
    assert drawn(dash, dash.run.snapshots[-1][1][pick])
    assert not np.array_equal(before, dash.pmap.grid.color), "another VM, another picture"


def test_controls_shrink_to_the_output_area_and_keep_their_readout():
    mem = control("memory_mb", esx.HostConfig.controls()["memory_mb"], 160)
    assert (mem.layout.width, mem.layout.max_width) == ("100%", "640px"), "no fixed 640 px past a narrow column"
    assert mem.readout and mem.style.description_width == "280px"
    dash = two_vms(panels=("series",))
    assert dash.minute.layout.max_width == "100%" and dash.time_row.layout.flex_flow == "row wrap"


def test_minute_readout_reads_minutes_and_seconds_and_moves_each_step():
    dash = two_vms(panels=("series",))
    assert not dash.minute.readout and dash.clock.value == "1:00"
    shown = []
    for k in range(58, 61):
        dash.minute.value = k / 60
        shown.append(dash.clock.value)
    assert shown == ["0:58", "0:59", "1:00"]
    dash.minute.value = 0.7499999999999999                     # a browser's float: still 45 s
    assert dash.clock.value == "0:45" and dash.minute.value < 1, "the value stays in minutes"


def test_vm_box_hidden_with_one_vm_or_no_chart_to_drive():
    one = views.SimDashboard(esx.HostConfig(memory_mb=64), [(esx.VMConfig(name="e", max_mb=8, overhead_mb=1), "idle")],
                             minutes=0.2)
    assert one.vm_pick.options == ("e",) and one.vm_pick.layout.display == "none"
    assert one.series.figure.title.startswith("e"), "the series chart still names its VM"
    nothing = two_vms(panels=("host", "bar"))
    assert nothing.vm_pick.layout.display == "none", "two VMs, but no panel follows the box"
    assert two_vms(panels=("series",)).vm_pick.layout.display != "none"


def test_host_chart_title_names_the_scanner_shown():
    dash = two_vms(host_controls=["sharing.mode"], panels=("host", "pmap"), host_fields=("shared_saved",))
    assert dash.host_series.figure.title == "host (page sharing: esx): shared saved"
    dash.controls["sharing.mode"].value = "ksm"
    assert dash.host_series.figure.title == "host (page sharing: ksm): shared saved"
    dash.controls["sharing.mode"].value = "off"
    assert dash.host_series.figure.title.startswith("host (page sharing: off)")
    plain = two_vms(panels=("host",), host_fields=("free",))
    assert plain.host_series.figure.title == "host: free", "no sharing series: no scanner named"


def test_the_title_names_the_era_preset_of_the_host_shown():
    """A Host's repr names its preset; its dashboard said only "esxlab", paper's ESX or later alike."""
    from esxlab.views.dashboards import PRESET_TITLES
    assert set(PRESET_TITLES) == set(esx.config.PRESETS), "one name per preset"
    vms = [(esx.VMConfig(name="a", max_mb=8, overhead_mb=1), "idle")]
    later = views.SimDashboard(esx.HostConfig.esxi6(memory_mb=256), vms, minutes=0.1)
    assert later.run.host.preset == "esxi6"
    assert "esxlab" in later.title.value and "· preset: ESXi 6 (later ESX)</span>" in later.title.value
    assert "ESX Server 2002" not in later.title.value
    for paper in (views.SimDashboard(esx.HostConfig(memory_mb=64), vms, minutes=0.1, title="Ballooning"),
                  views.SimDashboard(esx.HostConfig.esx2002(memory_mb=64), vms, minutes=0.1, title="Ballooning")):
        assert paper.title.value.startswith("<h3 style='margin:4px 0'>Ballooning <span")
        assert "· preset: ESX Server 2002 (paper)</span></h3>" in paper.title.value
        assert "ESXi 6 (later" not in paper.title.value
    fig = views.ExperimentDashboard(fake({}), [], panels=("table",))
    assert fig.title.value == "<h3 style='margin:4px 0'>fake</h3>", "an experiment's hosts are its own: none named"


def test_the_title_follows_the_memory_control():
    """07's second dashboard said "opened at 192 MB" over a run at whatever memory its slider had moved to: a title
    may name the host's configuration fields, filled in from the run shown."""
    vms = [(esx.VMConfig(name="a", max_mb=8, overhead_mb=1), "idle")]
    dash = views.SimDashboard(esx.HostConfig(memory_mb=192), vms, minutes=0.1, host_controls=["memory_mb"],
                              title="Free-memory states at {memory_mb:g} MB")
    assert dash.title.value.startswith("<h3 style='margin:4px 0'>Free-memory states at 192 MB <span")
    dash.controls["memory_mb"].value = 240
    assert dash.title.value.startswith("<h3 style='margin:4px 0'>Free-memory states at 240 MB <span")
    for title, problem in (("at {memory} MB", "KeyError: 'memory'"), ("a { brace", "ValueError: ")):
        with pytest.raises(esx.ConfigError) as e:
            views.SimDashboard(esx.HostConfig(memory_mb=192), vms, minutes=0.1, title=title)
        assert str(e.value).startswith(f"title = {title!r} cannot be filled in from the host's configuration "
                                       f"({problem}") and str(e.value).endswith(
            "allowed: text whose {field}s name HostConfig fields, e.g. 'at {memory_mb:g} MB' (a brace of the text "
            "itself doubled: {{).")


def test_a_state_model_control_runs_and_the_title_keeps_the_preset_it_started_from():
    """A helper's find: a dashboard with a state_model control failed when it was moved to esxi6 (HostConfig refuses
    preset = 'esx2002' beside state_model = 'esxi6'); the preset, a label of the era, follows the control."""
    vms = [(esx.VMConfig(name="a", max_mb=8, overhead_mb=1), "idle")]
    dash = views.SimDashboard(esx.HostConfig.esx2002(memory_mb=64), vms, minutes=0.1, host_controls=["state_model"])
    host, _ = dash.build_host(state_model="esxi6")
    assert host.config.state_model == host.preset == "esxi6"
    host, _ = dash.build_host(state_model="esx2002")
    assert host.preset == "esx2002"
    dash = views.SimDashboard(esx.HostConfig.esxi6(memory_mb=64), vms, minutes=0.1, host_controls=["state_model"])
    dash.controls["state_model"].value = "esx2002"
    dash.refresh()
    assert "· preset: ESXi 6 (later ESX), with ESX Server 2002 (paper)&#x27;s free-memory states (state_model)</span>" \
        in dash.title.value, "a new user's trial: it read 'preset: ESX Server 2002' over ESXi 6's other settings"


def test_plotted_gives_what_a_chart_draws_by_the_charts_name():
    """Notebooks' checks read bqplot's marks (dash.series.lines.y); Dashboard.plotted is the public way."""
    sim = two_vms(panels=("series", "host"), host_fields=("free", "shared_saved"))
    assert list(sim.charts()) == ["series", "host"] and sim.charts()["host"] is sim.host_series
    host = sim.plotted("host")
    assert host.shape == (2, len(sim.run.trace)) and host.dtype == float
    assert np.array_equal(host, [sim.run.trace.host.free, sim.run.trace.host.shared_saved])
    series = sim.plotted("series")
    assert series.shape == (len(sim.series.fields), len(sim.run.trace))
    assert np.array_equal(series[0], sim.run.trace.vm(sim.vm_pick.value).alloc, equal_nan=True), "alloc first"
    series[:] = -1                                           # a copy: the chart keeps its lines
    assert np.array_equal(sim.plotted("series"), sim.series.lines.y, equal_nan=True)
    before = sim.plotted("host")
    sim.vm_pick.value = other = "small" if sim.vm_pick.value == "big" else "big"
    assert np.array_equal(sim.plotted("series")[0], sim.run.trace.vm(other).alloc, equal_nan=True), "the VM box's VM"
    assert np.array_equal(before, sim.plotted("host")), "the host's lines do not follow the VM box"
    refused(lambda: sim.plotted("pmap"), r"plotted\('pmap'\): this dashboard has no chart 'pmap'; its charts: "
                                         r"'series', 'host'\.$")
    refused(lambda: two_vms(panels=("bar",)).plotted("series"), r"no chart 'series'; its charts: none\.$")
    table = {"size_mb": np.array([1.0, 2.0]), "rate": np.array([3.0, 4.0])}
    xy = views.ExperimentDashboard(fake({"bars": table}), [], xy=("bars", ["rate"]), panels=("table",))
    assert list(xy.charts()) == ["xy"] and np.array_equal(xy.plotted("xy"), [[3.0, 4.0]])
    era = views.EraDashboard()
    assert list(era.charts()) == ["series", *esx.experiments.esx_today.ERAS, "large_pages"]
    assert [era.plotted(e).shape[0] for e in era.charts()] == [len(era.series.fields), 4, 4, 1]
    assert np.array_equal(era.plotted("esxi6"), era.era_charts["esxi6"].lines.y)


def test_one_name_where_a_list_is_wanted_is_refused_whole():
    refused(lambda: scenario(host_controls="tax_rate"), r"host_controls must be a list .* the string 'tax_rate'; "
                                                        r"write \['tax_rate'\]")
    refused(lambda: scenario(vm_controls={"a": "shares"}), r"vm_controls\['a'\] must be a list .* write \['shares'\]")
    refused(lambda: scenario(vm_controls=["a"]), "vm_controls must be a dict")


def test_dashboard_minutes_are_bounded_before_anything_runs():
    assert MAX_MINUTES == max(p.PARAMS["minutes"].hi for p in (esx.experiments.fig4, esx.experiments.fig5,
                                                               esx.experiments.ksm_vs_esx))
    assert refused(lambda: scenario(minutes=100000), rf"SimDashboard.minutes = 100000 is out of range; allowed: "
                                                     rf"0.0166667 ≤ minutes ≤ {MAX_MINUTES} \(at least one tick, "
                                                     rf"a simulated second; a dashboard runs") < 1
    refused(lambda: scenario(minutes=MAX_MINUTES + 1), "out of range")
    huge = [(esx.VMConfig(name="a", max_mb=65536), "dbench")]
    assert refused(lambda: views.SimDashboard(esx.HostConfig(), huge, minutes=MAX_MINUTES, snap_s=1),
                   r"keeps 14402 pmap snapshots .* larger snap_s") < 1


def test_overrides_beyond_a_parameters_range_are_refused_when_built():
    assert refused(lambda: views.ExperimentDashboard(fig7, ["tax_rate"], overrides={"tax_rate": {"hi": 5}}),
                   r"fig7.tax_rate = 5 is out of range; allowed: 0 ≤ tax_rate ≤ 0.99 \(control 'tax_rate': "
                   r"the slider's upper end") < 1
    refused(lambda: scenario(host_controls=["memory_mb"], overrides={"memory_mb": dict(lo=0)}),
            r"HostConfig.memory_mb = 0 is out of range.*lower end")
    refused(lambda: scenario(host_controls=["sharing.mode"], overrides={"sharing.mode": dict(choices=("esx", "lru"))}),
            r"SharingConfig.mode = 'lru' is not allowed")
    refused(lambda: scenario(vm_controls={"a": ["shares"]}, overrides={"a.shares": dict(lo=-5)}),
            r"VMConfig.shares = -5 is out of range")
    refused(lambda: views.ExperimentDashboard(fig2, ["sizes"]), r"'sizes'.* cannot be a control; .*fixed=")


def test_an_override_of_no_control_is_refused():
    """A misspelled key narrowed nothing, silently (memory_mb stayed 1 MB to 1 TB)."""
    refused(lambda: scenario(host_controls=["memory_mb"], overrides={"memroy_mb": dict(lo=160, hi=512)}),
            r"overrides names 'memroy_mb', which is not a control of this dashboard \(did you mean 'memory_mb'\?\); "
            r"its controls: memory_mb\.")
    refused(lambda: views.ExperimentDashboard(fig7, ["tax_rate"], overrides={"vm_mb": {"hi": 256}}),
            r"overrides names 'vm_mb', which is not a control .*its controls: tax_rate\.")
    refused(lambda: scenario(vm_controls={"b": ["shares"]}), r"not in the scenario \(a\)\.$")


def test_an_open_end_is_one_step_inside_the_range():
    gain = control("slow_gain", esx.HostConfig.controls()["slow_gain"])
    assert gain.min == pytest.approx(gain.step) and gain.min > 0, "0 is refused by the config: not a slider end"
    tau = control("tax_rate", esx.HostConfig.controls()["tax_rate"], 0.75)
    assert tau.max == pytest.approx(0.95)


def test_a_bad_xy_key_or_column_names_what_exists():
    table = {"size_mb": np.array([1.0, 2.0]), "rate": np.array([3.0, 4.0])}
    refused(lambda: views.ExperimentDashboard(fake({"bars": table}), [], xy=("nope", ["rate"])),
            r"xy = \('nope', \['rate'\]\): fake has no table-like trace 'nope'; it has 'bars'")
    refused(lambda: views.ExperimentDashboard(fake({"bars": table}), [], xy=("bars", ["rat"])),
            r"its trace 'bars' has no column 'rat'; it has 'size_mb', 'rate'")
    refused(lambda: views.ExperimentDashboard(fake({"bars": table}), [], xy="bars"), r"xy must be \(trace key")
    good = views.ExperimentDashboard(fake({"bars": table}), [], xy=("bars", ["rate"]), panels=("table",))
    assert np.allclose(good.xy.lines.y, [[3.0, 4.0]])


def test_ticks_carry_their_own_decimals_whatever_range_came_first():
    ts = TimeSeries(fields=("alloc",))
    ts.update(np.arange(10.0), {"alloc": np.linspace(0, 90, 10)})
    ts.update(np.arange(10.0), {"alloc": np.zeros(10)})        # a flat zero line: ticks 0, 0.25 … 1
    ticks = list(ts.yaxis.tick_values)
    assert 0.25 in ticks and ts.yaxis.tick_format == ".3~f"      # d3: 0.25 shows as "0.25", 50 as "50"
    bar = MemoryBar()
    bar.update(["vm"], {p: [0.0] for p in ("private", "overhead", "balloon", "swapped", "compressed")}, free=512.0)
    assert list(bar.reclaimed_axis.tick_values) == [0.0, 0.5, 1.0] and bar.reclaimed_axis.tick_format == ".3~f"


def test_the_machine_memory_bar_adds_up_to_the_host_with_the_sharing_table():
    host = esx.Host(esx.HostConfig(memory_mb=320, sharing=esx.SharingConfig(mode="esx")), seed=0)
    for i in range(3):
        host.power_on(esx.VMConfig(name=f"vm{i}", max_mb=40, overhead_mb=4), workload=esx.workloads.Spec95())
    tr = host.run(minutes=2)
    assert tr.host.sharing_table[-1] > 0
    bar = MemoryBar()
    names = tr.vm_names
    parts = {p: [getattr(tr.vm(n), p)[-1] for n in names]
             for p in ("private", "shared", "overhead", "balloon", "swapped", "compressed")}
    frames = float(np.nansum(parts["shared"])) - float(tr.host.shared_saved[-1])
    bar.update(names, parts, float(tr.host.free[-1]), shared_frames=frames,
               sharing_table=float(tr.host.sharing_table[-1]))
    assert abs(bar.bars.y.sum() - 320) < 1e-3, bar.bars.y.sum()          # the identity of HostStats, drawn
    assert abs(bar.ys.max - 320) < 1e-3 and "320 MB" in bar.axis.label
    assert "sharing table" in bar.legend.value
    assert bar.bars.y[MACHINE_PARTS.index("sharing table"), len(names)] == tr.host.sharing_table[-1]
    bar.update(names, parts, float(tr.host.free[-1]), shared_frames=frames)       # no table: not in the legend
    assert "sharing table" not in bar.legend.value


def test_a_control_shows_its_unit_and_a_yes_no_choice_reads_on_off():
    """The unit was only in the hover tooltip ("toucher sweeps its memory every 5": seconds? minutes?);
    "remap hot I/O pages" offered raw Python True / False."""
    from esxlab.experiments import fig6
    from esxlab.views.controls import control
    mem = control("memory_mb", esx.HostConfig.controls()["memory_mb"], 160)
    assert mem.description == "machine memory (MB)"
    assert control("sweep_s", fig6.PARAMS["sweep_s"]).description == "toucher sweeps its memory every (s)"
    assert control("tax_rate", esx.HostConfig.controls()["tax_rate"], 0.75).description == "idle memory tax τ"
    remap = control("remap.enabled", esx.RemapConfig.controls()["enabled"], True)
    assert list(remap.options) == [("on", True), ("off", False)] and remap.value is True and remap.label == "on"
    salt = control("sharing.force_salting", esx.SharingConfig.controls()["force_salting"], 0)
    assert [v for _, v in salt.options] == [0, 1, 2]            # a numbered choice keeps its own labels


def test_a_why_panel_of_a_run_that_logged_nothing_keeps_no_blank_room():
    """The review saw ≈ 120 px of blank space under "(this run logged no reclaim decision)" (00, 01, 04, 08, 11)."""
    from esxlab.views.components import WhyPanel
    why = WhyPanel()
    why.update([], 60.0)
    assert "(this run logged no reclaim decision; balloon changes are logged once they add up to 1 MB)" \
        in why.widget.value and "min-height:0em" in why.widget.value      # 01 at 19 MB: a 0.4 MB balloon
    why.update([], 60.0, complete=False)                         # still streaming: decisions may come
    assert "min-height:14em" in why.widget.value


def test_the_events_table_shows_and_explains_it():
    vm, _ = _short_guest(2)
    table = CounterTable()
    table.update({"d": vm.totals})
    assert table.values["d"]["guest_oom"] == vm.totals.guest_oom > 0
    assert "guest oom" in table.widget.value and "no page for some accesses" in table.widget.value
