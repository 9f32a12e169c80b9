"""A dashboard never breaks on a value it refuses, and never reports the errors of the neighbouring
values it computes while the student reads (values nobody chose): found driving every notebook's
dashboard as a student would."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import esxlab as esx
from esxlab import views

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


def _dash(**kw):
    args = dict(host_config=esx.HostConfig(memory_mb=224, swap_mb=256),
                vms=[(esx.VMConfig(name="a", max_mb=64), esx.workloads.Idle()),
                     (esx.VMConfig(name="b", max_mb=32), esx.workloads.Toucher([(0, 8)]))],
                minutes=0.5, host_controls=["memory_mb", "sharing.mode"],
                overrides={"memory_mb": dict(lo=160, hi=512, step=8)})
    return views.SimDashboard(**{**args, **kw})


@pytest.mark.parametrize("values, match", [
    (dict(memory_mb=10000), r"^set\(\): control 'memory_mb'.value = 10000 is out of range; allowed: 160 ≤ value "
                            r"≤ 512"),
    (dict(memory_mb=10), r"control 'memory_mb'.value = 10 is out of range"),
    (dict(memory_mb=float("nan")), r"control 'memory_mb'.value = nan is not a finite number"),
    (dict(memory_mb="abc"), r"control 'memory_mb'.value must be a number, got 'abc'"),
    (dict(memory_mb=None), r"control 'memory_mb'.value must be a number, got None"),
    (dict(sharing__mode="lru"), r"^set\(\): control 'sharing.mode' = 'lru' is not one of its choices 'esx', 'ksm', "
                                r"'off'"),
    (dict(sharing__mode=None), r"control 'sharing.mode' = None is not one of its choices"),
    (dict(memory_mb=256, sharing__mode=None), r"control 'sharing.mode' = None"),
    (dict(sharing__mode=np.array(["esx", "off"])), r"control 'sharing.mode' = array\(\['esx', 'off'\].* is not one "
                                                 r"of its choices"),     # (numpy's 'truth value … is ambiguous')
])
def test_set_refuses_a_value_its_control_cannot_show_and_changes_nothing(values, match):
    """set() clamped 10000 MB to the slider's 512 silently, let ipywidgets' TraitError out for 'abc', and took NaN
    or None (a Dropdown allows None), leaving the control on it: every later move then failed on it."""
    dash = _dash()
    before, run = dash.values, dash.run
    with pytest.raises(esx.ConfigError, match=match):
        dash.set(**values)
    assert dash.values == before and dash.run is run
    dash.set(memory_mb=200)                               # the dashboard still answers
    assert dash.run.host.config.memory_mb == 200


def test_set_refuses_an_array_in_one_line_whatever_numpy_prints():
    """Under numpy's legacy print mode (which importing colour-science sets for the whole process) an array's repr
    spans two lines, and set()'s sentence broke in the middle."""
    dash = _dash()
    with np.printoptions(legacy="1.13"), pytest.raises(esx.ConfigError) as err:
        dash.set(sharing__mode=np.array(["esx", "off"]))
    said = str(err.value)
    assert "\n" not in said and "array(['esx', 'off'], dtype='<U3') is not one of its choices" in said


def test_set_takes_a_numpy_bool_as_the_configuration_does():
    """HostConfig(large_pages=np.True_) is allowed; set() refused it as "not one of its choices False, True"."""
    dash = _dash(host_controls=["large_pages"], overrides={})
    dash.set(large_pages=np.True_)
    assert dash.run.host.config.large_pages is True


@pytest.mark.parametrize("experiment, name", [("fig4", "max_vms"), ("ksm_vs_esx", "vms")])
def test_a_whole_number_control_without_a_declared_step_steps_by_whole_numbers(experiment, name):
    """Its default step, a hundredth of the range (0.3 for fig4's max_vms, 2 to 32), made an IntSlider of step 0."""
    module = getattr(esx.experiments, experiment)
    c = views.control(name, module.PARAMS[name])
    assert isinstance(c.step, int) and c.step >= 1, c.step


def test_a_value_the_run_refuses_puts_the_control_back():
    """A value its widget takes but the configuration refuses (NaN on a FloatSlider, assigned in a cell) raised
    ConfigError and left the slider on NaN: every later move of any control raised the same error."""
    dash = _dash()
    run = dash.run
    with pytest.raises(esx.ConfigError, match="memory_mb = nan is not a finite number"):
        dash.controls["memory_mb"].value = float("nan")
    assert dash.values["memory_mb"] == 224 and dash.run is run
    dash.controls["sharing.mode"].value = "off"
    assert dash.run.host.config.sharing.mode == "off"


def _wait(dash):
    assert dash.done.wait(120) and dash.idle(300)


def test_a_neighbour_the_configuration_refuses_is_skipped_not_reported():
    """While the student reads, the values one step away are computed; one the configuration refuses (min_mb one
    step above max_mb) put "error: ConfigError: VMConfig.min_mb = 96.0 is larger than max_mb" on the busy line, under a
    value the student chose that is fine."""
    dash = views.SimDashboard(esx.HostConfig(memory_mb=256),
                              [(esx.VMConfig(name="a", max_mb=64), esx.workloads.Idle())], minutes=0.5,
                              vm_controls={"a": ["min_mb"]}, overrides={"a.min_mb": dict(lo=0, hi=128, step=32)})
    dash.controls["a.min_mb"].set_state({"value": 64.0})           # as the browser moves it: min = max, allowed
    _wait(dash)
    assert dash.busy.value == "" and dash.run.host.vm("a").config.min_mb == 64


def test_an_experiment_neighbour_the_experiment_refuses_raises_in_no_thread():
    """The module docstring's EraDashboard(["limit_mb", "host_mb"]): after one move, the neighbour limit_mb = 48 MB
    (the working set: refused) ended the loky precompute batch with a ConfigError raised in the thread
    "esxlab-precompute" (a traceback under the notebook's cell) and lost the batch's other runs."""
    raised = []
    hook = threading.excepthook
    threading.excepthook = lambda args: raised.append(args.exc_value)
    try:
        dash = views.EraDashboard(["limit_mb", "host_mb"])
        dash.controls["host_mb"].set_state({"value": 216.0})
        _wait(dash)
    finally:
        threading.excepthook = hook
    assert raised == [] and dash.busy.value == ""
    ready = {k for k in dash._cache}
    assert dash._key({"limit_mb": 16.0, "host_mb": 216.0}) in ready, "the batch's other neighbours are kept"


@pytest.mark.parametrize("kw, match", [
    (dict(panels=("host",), host_fields=()), r"host_fields = \(\): choose a list from free"),
    (dict(host_fields=[]), r"host_fields = \[\]: choose a list from free"),
    (dict(overrides={"memory_mb": dict(label=5)}), r"control 'memory_mb': its label must be non-empty text, got 5"),
    (dict(host_controls=["remap.threshold"], overrides={"remap.threshold": dict(step=0.5)}),
     r"control 'remap.threshold'.step must be a whole number, got 0.5"),
])
def test_bad_dashboard_arguments_say_what_is_wrong(kw, match):
    """host_fields=() raised numpy's "need at least one array to concatenate"; a label override that is no text an
    AttributeError; a fractional step on a whole-number control made an IntSlider of step 0."""
    with pytest.raises(esx.ConfigError, match=match):
        _dash(**kw)


@pytest.mark.parametrize("kw, match", [
    (dict(minutes=0.008), r"SimDashboard.minutes = 0.008 is out of range; allowed: 0.0166667 ≤ minutes ≤ 240 \(at "
                          r"least one tick"),
    (dict(host_controls=["preset"]), r"host_controls names 'preset', the label of the era .* cannot be a control; "
                                     r"use a control of what differs instead \(e.g. 'state_model'\)"),
    (dict(vm_controls={"a": ["limit_mb"]}), r"control 'a.limit_mb' has no value to start from: limit_mb is None \(not "
                                            r"set\) in the configuration; set one there"),
])
def test_a_dashboard_that_could_not_work_is_refused_when_built(kw, match):
    """A helper's trial: minutes=0.008 ran no tick ("no VM is running"); a 'preset' dropdown's other era always failed
    (it contradicts the configuration's state_model); a limit_mb control of a VM without a limit said only "value
    must be a number, got None"."""
    with pytest.raises(esx.ConfigError, match=match):
        _dash(**kw)
    assert _dash(minutes=1 / 60).run.host.time == 1


def test_set_leaves_a_widget_that_is_no_slider_or_dropdown_to_its_own_rules():
    """A Dashboard of one's own may hold any ValueWidget; set() raised AttributeError (no .min) on a Checkbox."""
    import ipywidgets as widgets
    box = widgets.Checkbox(value=False, description="on")
    dash = views.Dashboard("mine", {"on": box}, panels=())
    dash.refresh = lambda: None                           # (nothing to run: only the move is checked)
    dash.set(on=True)
    assert box.value is True


def test_an_unknown_name_in_set_names_the_keyword_forms_and_the_closest():
    """set(taxrate=…) got no did-you-mean, and the names listed had dots (dbench.shares), which no keyword can be;
    host_controls' list offered 'preset', which it refuses."""
    dash = _dash(vm_controls={"b": ["shares"]})
    with pytest.raises(esx.ConfigError, match=r"^set\(\): no control named 'b_shares' \(did you mean 'b__shares'\?\); "
                                              r"this dashboard has memory_mb, sharing__mode, b__shares \(a dotted "
                                              r"name with __ for the dot\)."):
        dash.set(b_shares=100)
    with pytest.raises(esx.ConfigError) as err:
        _dash(host_controls=["memory"])
    assert "preset" not in str(err.value) and "memory_mb" in str(err.value)


@pytest.mark.parametrize("override, says", [
    (dict(min=100), "control 'memory_mb': its overrides have no key 'min' (did you mean 'lo'?); they take lo, hi, "
                    "step, label, unit, choices, lo_open, hi_open, source."),
    (dict(stpe=8), "control 'memory_mb': its overrides have no key 'stpe' (did you mean 'step'?); they take "),
])
def test_an_override_key_a_control_does_not_take_is_named(override, says):
    """overrides={'memory_mb': dict(min=100)} said "Param has no field 'min'; its fields are: default, label, …,
    check, why_range": a Param's internals, and no word of 'lo'."""
    with pytest.raises(esx.ConfigError) as err:
        _dash(overrides={"memory_mb": override})
    assert str(err.value).startswith(says), str(err.value)


def test_a_vm_memory_size_control_spans_the_vm_not_a_terabyte():
    """A VM's max_mb, min_mb, limit_mb and balloon_max_mb controls spanned their fields' 0–1,048,576 MB unless
    overridden (a helper's trial: a 64 MB VM's reservation moved in steps of 16 MB over a terabyte)."""
    vms = [(esx.VMConfig(name="a", max_mb=64, min_mb=16, balloon_max_mb=32), esx.workloads.Idle()),
           (esx.VMConfig(name="b", max_mb=32, limit_mb=48), esx.workloads.Toucher([(0, 8)]))]
    dash = _dash(vms=vms, vm_controls={"a": ["max_mb", "min_mb", "balloon_max_mb"], "b": ["limit_mb"]})
    spans = {k: (c.min, c.max) for k, c in dash.controls.items() if "." in k and not k.startswith("sharing")}
    assert spans == {"a.max_mb": (16, 256), "a.min_mb": (0, 256), "a.balloon_max_mb": (0, 256),
                     "b.limit_mb": (0, 48)}, "up to the max_mb control's end; a limit above max_mb keeps its value"
    with pytest.raises(esx.ConfigError, match=r"control 'a.min_mb'.value = 512 is out of range; allowed: 0 ≤ value "
                                              r"≤ 256"):
        dash.set(a__min_mb=512)
    dash.set(a__max_mb=200, a__min_mb=150)      # (a newcomer's trial: min_mb's slider ended at the configured 64)
    assert dash.run.host.vms["a"].config.min_mb == 150
    alone = _dash(vms=vms, vm_controls={"a": ["min_mb"]})
    assert alone.controls["a.min_mb"].max == 64, "without a max_mb control, up to the VM's max_mb"
    wide = _dash(vms=vms, vm_controls={"a": ["min_mb"]}, overrides={"a.min_mb": dict(hi=4096)})
    assert wide.controls["a.min_mb"].max == 4096, "an override still widens it"
    assert wide.controls["a.min_mb"].min == 0


@pytest.mark.parametrize("max_mb, overrides, spans", [
    (8, {}, {"a.max_mb": (8, 32, 6), "a.min_mb": (0, 32, 8)}),
    (4, {"a.max_mb": dict(hi=8)}, {"a.max_mb": (1, 8, None), "a.min_mb": (0, 8, 2)}),
])
def test_a_vm_smaller_than_a_step_still_gets_its_controls(max_mb, overrides, spans):
    """A review: with the narrowed ranges, a VM of 8 MB could not have a max_mb control (8 below the slider's 16),
    its min_mb slider reached 16, above its max_mb, and an override of one end met the other narrowed end."""
    vms = [(esx.VMConfig(name="a", max_mb=max_mb), esx.workloads.Idle())]
    dash = _dash(vms=vms, vm_controls={"a": ["max_mb", "min_mb"]}, overrides={"memory_mb": dict(lo=160, hi=512, step=8),
                                                                              **overrides})
    for key, (lo, hi, step) in spans.items():
        c = dash.controls[key]
        assert (c.min, c.max) == (lo, hi) and (step is None or c.step == step), (key, c.min, c.max, c.step)
    dash.set(a__min_mb=max_mb)
    assert dash.run.host.vms["a"].config.min_mb == max_mb
