"""Trial 50's dashboard findings: a browser/UX review (a VM box that moved nothing while the pmap grid kept
drawing the watched VM; 07's dashboard opened on a 192 MB run its text did not describe; a slider readout
clipped in a narrow JupyterLab output; a minute readout that did not change on a one-second step; VM boxes
offering one VM; 11's host chart not naming its scanner) and a bad-input fuzzing of the views (one name where
a list is wanted, read letter by letter; no upper bound on a dashboard's minutes; overrides beyond a
parameter's range accepted until the slider moved; a bad ``xy`` key giving a bare KeyError)."""
from __future__ import annotations

import re
import time
import types

import numpy as np
import pytest

import esxlab as esx
from esxlab import views
from esxlab.experiments import fig2, fig7
from esxlab.experiments.result import Result
from esxlab.views.controls import control
from esxlab.views.dashboards import MAX_MINUTES

from notebook_cells import cells, run_until

W = esx.workloads


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Experiment runs go to disk: here, to a throw-away folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def two_vms(**kw) -> views.SimDashboard:
    """Two Spec95 VMs of different sizes on a sharing host, the grid shown."""
    return views.SimDashboard(
        esx.HostConfig(memory_mb=256, swap_mb=256, sharing=esx.SharingConfig(mode="esx")),
        [(esx.VMConfig(name="small", max_mb=24, overhead_mb=4), W.Spec95()),
         (esx.VMConfig(name="big", max_mb=40, overhead_mb=4), W.Spec95())],
        minutes=1, snap_s=20, **kw)


def drawn(dash: views.Dashboard, states: np.ndarray) -> bool:
    """Whether the dashboard's pmap grid draws ``states`` (one cell per PPN, or per k PPNs for a larger VM)."""
    k = views.components.stride(len(states), dash.pmap.max_cells)
    return np.array_equal(dash.pmap.grid.color.ravel()[:len(states[::k])], states[::k])


# -- 1. the pmap grid follows the VM box --------------------------------------------------------------------------
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


# -- 2. 07: the dashboard next to the text is the run the text describes ------------------------------------------
def test_07_first_dashboard_stays_on_the_run_its_text_describes():
    ns = run_until("07_states_and_admission", "tight_dash = views.SimDashboard(")
    dash, tight = ns["dash"], ns["tight_dash"]
    assert dash.values == dash.defaults == {"memory_mb": 240}, "no later cell moves the first dashboard"
    assert dash.run.host.config.memory_mb == 240 and tight.run.host.config.memory_mb == 192
    assert tight.run.trace.state_names().count("low") > len(tight.run.trace) / 2, "the 192 MB run the text reads"
    code = [c.source for c in cells("07_states_and_admission") if c.cell_type == "code"]
    first = next(i for i, s in enumerate(code) if s.startswith("touchers = "))
    assert not [s for s in code[first + 1:] if re.search(r"(?<![\w.])dash\.(controls|set\()", s)]


# -- 3. slider readouts stay in a narrow output area --------------------------------------------------------------
def test_controls_shrink_to_the_output_area_and_keep_their_readout():
    mem = control("memory_mb", esx.HostConfig.controls()["memory_mb"], 160)
    assert (mem.layout.width, mem.layout.max_width) == ("100%", "640px"), "no fixed 640 px past a narrow column"
    assert mem.readout and mem.style.description_width == "280px"
    dash = two_vms(panels=("series",))
    assert dash.minute.layout.max_width == "100%" and dash.time_row.layout.flex_flow == "row wrap"


# -- 4. the minute readout changes on every step ------------------------------------------------------------------
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


# -- 5. a VM box with nothing to choose is hidden -----------------------------------------------------------------
def test_vm_box_hidden_with_one_vm_or_no_chart_to_drive():
    one = views.SimDashboard(esx.HostConfig(memory_mb=64), [(esx.VMConfig(name="e", max_mb=8, overhead_mb=1), "idle")],
                             minutes=0.2)
    assert one.vm_pick.options == ("e",) and one.vm_pick.layout.display == "none"
    assert one.series.figure.title.startswith("e"), "the series chart still names its VM"
    nothing = two_vms(panels=("host", "bar"))
    assert nothing.vm_pick.layout.display == "none", "two VMs, but no panel follows the box"
    assert two_vms(panels=("series",)).vm_pick.layout.display != "none"


# -- 6. the host chart names the scanner --------------------------------------------------------------------------
def test_host_chart_title_names_the_scanner_shown():
    dash = two_vms(host_controls=["sharing.mode"], panels=("host", "pmap"), host_fields=("shared_saved",))
    assert dash.host_series.figure.title == "host (page sharing: esx): shared saved"
    dash.controls["sharing.mode"].value = "ksm"
    assert dash.host_series.figure.title == "host (page sharing: ksm): shared saved"
    dash.controls["sharing.mode"].value = "off"
    assert dash.host_series.figure.title.startswith("host (page sharing: off)")
    plain = two_vms(panels=("host",), host_fields=("free",))
    assert plain.host_series.figure.title == "host: free", "no sharing series: no scanner named"


# -- 7. bad arguments: sentences, at construction -----------------------------------------------------------------
def refused(build, match: str) -> float:
    """Seconds ``build()`` took to raise ConfigError matching ``match``."""
    start = time.perf_counter()
    with pytest.raises(esx.ConfigError, match=match):
        build()
    return time.perf_counter() - start


def scenario(**kw):
    return views.SimDashboard(esx.HostConfig(), [(esx.VMConfig(name="a", max_mb=64), "dbench")], **kw)


def test_one_name_where_a_list_is_wanted_is_refused_whole():
    refused(lambda: scenario(host_controls="tax_rate"), r"host_controls must be a list .* the string 'tax_rate'; "
                                                        r"write \['tax_rate'\]")
    refused(lambda: scenario(vm_controls={"a": "shares"}), r"vm_controls\['a'\] must be a list .* write \['shares'\]")
    refused(lambda: scenario(vm_controls=["a"]), "vm_controls must be a dict")


def test_dashboard_minutes_are_bounded_before_anything_runs():
    assert MAX_MINUTES == max(p.PARAMS["minutes"].hi for p in (esx.experiments.fig4, esx.experiments.fig5,
                                                               esx.experiments.ksm_vs_esx))
    assert refused(lambda: scenario(minutes=100000), rf"SimDashboard.minutes = 100000 is out of range; allowed: "
                                                     rf"0 < minutes ≤ {MAX_MINUTES} \(a dashboard runs") < 1
    refused(lambda: scenario(minutes=MAX_MINUTES + 1), "out of range")
    huge = [(esx.VMConfig(name="a", max_mb=65536), "dbench")]
    assert refused(lambda: views.SimDashboard(esx.HostConfig(), huge, minutes=MAX_MINUTES, snap_s=1),
                   r"keeps 14402 pmap snapshots .* larger snap_s") < 1


def test_overrides_beyond_a_parameters_range_are_refused_when_built():
    assert refused(lambda: views.ExperimentDashboard(fig7, ["tax_after"], overrides={"tax_after": {"hi": 5}}),
                   r"fig7.tax_after = 5 is out of range; allowed: 0 ≤ tax_after ≤ 0.99 \(control 'tax_after': "
                   r"the slider's upper end") < 1
    refused(lambda: scenario(host_controls=["memory_mb"], overrides={"memory_mb": dict(lo=0)}),
            r"HostConfig.memory_mb = 0 is out of range.*lower end")
    refused(lambda: scenario(host_controls=["sharing.mode"], overrides={"sharing.mode": dict(choices=("esx", "lru"))}),
            r"SharingConfig.mode = 'lru' is not allowed")
    refused(lambda: scenario(vm_controls={"a": ["shares"]}, overrides={"a.shares": dict(lo=-5)}),
            r"VMConfig.shares = -5 is out of range")
    refused(lambda: views.ExperimentDashboard(fig2, ["sizes"]), r"'sizes'.* cannot be a control; .*fixed=")


def test_an_override_of_no_control_is_refused():
    """A fresh user's check of session 50: a misspelled key narrowed nothing, silently (memory_mb stayed 1 MB to 1 TB)."""
    refused(lambda: scenario(host_controls=["memory_mb"], overrides={"memroy_mb": dict(lo=160, hi=512)}),
            r"overrides names 'memroy_mb', which is not a control of this dashboard \(did you mean 'memory_mb'\?\); "
            r"its controls: memory_mb\.")
    refused(lambda: views.ExperimentDashboard(fig7, ["tax_after"], overrides={"vm_mb": {"hi": 256}}),
            r"overrides names 'vm_mb', which is not a control .*its controls: tax_after\.")
    refused(lambda: scenario(vm_controls={"b": ["shares"]}), r"not in the scenario \(a\)\.$")


def test_an_open_end_is_one_step_inside_the_range():
    gain = control("slow_gain", esx.HostConfig.controls()["slow_gain"])
    assert gain.min == pytest.approx(gain.step) and gain.min > 0, "0 is refused by the config: not a slider end"
    tau = control("tax_rate", esx.HostConfig.controls()["tax_rate"], 0.75)
    assert tau.max == pytest.approx(0.95)


def fake(traces: dict) -> types.SimpleNamespace:
    """An experiment module whose run returns ``traces``."""
    return types.SimpleNamespace(__name__="fake", TITLE="fake", PARAMS={},
                                 run=lambda seed, **kw: Result("fake", {}, traces=traces))


def test_a_bad_xy_key_or_column_names_what_exists():
    table = {"size_mb": np.array([1.0, 2.0]), "rate": np.array([3.0, 4.0])}
    refused(lambda: views.ExperimentDashboard(fake({"bars": table}), [], xy=("nope", ["rate"])),
            r"xy = \('nope', \['rate'\]\): fake has no table-like trace 'nope'; it has 'bars'")
    refused(lambda: views.ExperimentDashboard(fake({"bars": table}), [], xy=("bars", ["rat"])),
            r"its trace 'bars' has no column 'rat'; it has 'size_mb', 'rate'")
    refused(lambda: views.ExperimentDashboard(fake({"bars": table}), [], xy="bars"), r"xy must be \(trace key")
    good = views.ExperimentDashboard(fake({"bars": table}), [], xy=("bars", ["rate"]), panels=("table",))
    assert np.allclose(good.xy.lines.y, [[3.0, 4.0]])
