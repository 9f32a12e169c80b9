"""Controls generated from parameter declarations (Mesa style: sliders declared once).

Every control comes from a :class:`~esxlab.config.Param`, the one parameter type: a config's
(``esx.HostConfig.controls()``, ``esx.VMConfig.controls()``) or an experiment's ``PARAMS``; a
dashboard may narrow a range for teaching with ``overrides`` (fields of Param). A bad spec,
range or value raises :class:`~esxlab.ConfigError` with a sentence naming the control.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import ipywidgets as widgets

from ..config import Param
from ..errors import ConfigError, check_number, did_you_mean, shorten

STYLE = {"description_width": "280px"}      # the longest label in a notebook, with its unit, fits
#: as wide as the output area up to 640 px: in a narrower one (JupyterLab with its sidebar open) the track
#: shrinks and the readout stays in view
LAYOUT = {"width": "100%", "max_width": "640px"}
#: readable option labels for choices whose values say little alone (later ESX's Mem.ShareForceSalting, §6.3's
#: two readings of the high state)
CHOICE_LABELS = {"force_salting": {0: "0: salts ignored, all VMs share (2002)",
                                   1: "1: only VMs with equal salts share",
                                   2: "2: equal salts share; a VM without one, only with itself"},
                 "high_state": {"idle": "idle: none (§6.3 read literally)",
                                "converge": "converge: balloons move VMs to targets"}}
#: how a yes/no choice (a bool field, e.g. "remap hot I/O pages") reads in its dropdown
BOOL_LABELS = {True: "on", False: "off"}
#: what a control's overrides may change (the rest of a Param is the parameter's own), and the words for them that
#: ipywidgets uses
OVERRIDES = ("lo", "hi", "step", "label", "unit", "choices", "lo_open", "hi_open", "source")
WIDGET_WORDS = {"min": "lo", "max": "hi", "description": "label", "options": "choices"}


def as_param(name: str, spec: Any) -> Param:
    """``spec`` as a :class:`~esxlab.config.Param`: a Param as is, or a dict of Param's fields
    (``label`` and ``default`` at least; the older form of a config's ``controls()`` entries)."""
    if isinstance(spec, Param):
        return spec
    if not isinstance(spec, dict):
        raise ConfigError(f"control {name!r}: spec must be a dict of a Param's fields, or a Param (a config's "
                          f"controls() or an experiment's PARAMS); got {spec!r} ({type(spec).__name__}).")
    if not isinstance(spec.get("label"), str) or not spec["label"] or "default" not in spec:
        raise ConfigError(f"control {name!r}: spec needs a 'label' (text) and 'default', as a Param has; "
                          f"got {spec!r}.")
    return Param(spec["default"], spec["label"]).replace(**spec)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def control(name: str, spec: Any, value: Any = None, *, rerun: bool = True, owner: str = "",
            **override: Any) -> widgets.ValueWidget:
    """A slider (or dropdown, for choices) for parameter ``name``.

    ``rerun=True`` marks a control whose every value costs a fresh simulation that cannot be
    cut short: it updates on release (``continuous_update=False``). ``override`` replaces
    metadata (``lo``, ``hi``, ``step``, ``label``…), within what the parameter allows: a slider
    end or choice it refuses raises its sentence, naming ``owner.field`` (e.g. ``"fig7"``,
    ``"HostConfig"``). An open end of the range is one step inside it. The description is the label
    up to any parenthesis, then the unit ("machine memory (MB)": a readout is a bare number); the full
    label, unit and source are in the tooltip. A yes/no choice reads "on"/"off"
    (:data:`BOOL_LABELS`), not True/False.
    """
    declared = as_param(name, spec)
    if declared.check is not None:
        raise ConfigError(f"control {name!r}: {declared.label} takes a value shaped like {declared.default!r}, not "
                          "a number or a choice, so it cannot be a control; set it without one (e.g. an "
                          "ExperimentDashboard's fixed=).")
    unknown = sorted(set(override) - set(OVERRIDES))
    if unknown:
        key = unknown[0]
        meant = f" (did you mean {WIDGET_WORDS[key]!r}?)" if key in WIDGET_WORDS else did_you_mean(key, OVERRIDES)
        raise ConfigError(f"control {name!r}: its overrides have no key {key!r}{meant}; they take "
                          f"{', '.join(OVERRIDES)}.")
    spec = declared.replace(**override)
    if not isinstance(spec.label, str) or not spec.label:
        raise ConfigError(f"control {name!r}: its label must be non-empty text, got {spec.label!r} (from its "
                          "overrides).")
    value = spec.default if value is None else value
    unit = f" ({spec.unit})" if spec.unit else ""
    short = spec.label.split(" (")[0] + unit
    common = dict(description=short, style=STYLE, layout=LAYOUT,
                  tooltip=f"{spec.label}{unit} — {spec.source}".rstrip(" —"))
    if spec.choices is not None:
        choices = list(spec.choices)
        if value not in choices:
            raise ConfigError(f"control {name!r}: value {shorten(value)} is not one of its choices "
                              f"{', '.join(map(repr, choices))}.")
        for c in choices:
            _allowed(declared, name, owner, c, "a choice")
        labels = CHOICE_LABELS.get(name.split(".")[-1]) or (
            BOOL_LABELS if all(isinstance(c, bool) for c in choices) else {})
        options = [(labels.get(c, str(c)), c) for c in choices] if labels else choices
        return widgets.Dropdown(options=options, value=value, **common)
    lo, hi = spec.lo, spec.hi
    if not (_is_number(lo) and _is_number(hi) and math.isfinite(lo) and math.isfinite(hi)):
        raise ConfigError(f"control {name!r} needs a finite range and value; got lo={lo}, hi={hi}, "
                          f"value={value}. Pass lo=/hi= overrides.")
    if lo >= hi:
        raise ConfigError(f"control {name!r}: its range needs lo < hi; got lo={lo}, hi={hi}.")
    # a hundredth of the range; whole for a whole-number control, as an IntSlider truncates it, but at least 1
    step = spec.step if spec.step is not None else max(1, int((hi - lo) / 100)) if spec.integer else (hi - lo) / 100
    check_number(f"control {name!r}", "step", step, lo=0, lo_open=True,
                 integer=spec.integer)                              # (an IntSlider takes a step of 0.5 as 0)
    lo, hi = lo + step if spec.lo_open else lo, hi - step if spec.hi_open else hi
    for end, which in ((lo, "lower end"), (hi, "upper end")):
        _allowed(declared, name, owner, end, f"the slider's {which}")
    if value is None:                         # a VM's limit_mb, unset: no limit
        raise ConfigError(f"control {name!r} has no value to start from: {name.rpartition('.')[2]} is None (not "
                          "set) in the configuration; set one there (it is where the slider starts), or leave this "
                          "control out.")
    check_number(f"control {name!r}", "value", value, lo=lo, hi=hi)
    if spec.integer:
        return widgets.IntSlider(value=value, min=lo, max=hi, step=step, continuous_update=not rerun, **common)
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, continuous_update=not rerun,
                               readout_format=f".{_decimals(step, lo, value)}f", **common)


def _allowed(declared: Param, name: str, owner: str, value: Any, what: str) -> None:
    """ConfigError, the parameter's own sentence, if ``declared`` refuses ``value`` (``what``: where the control
    shows it)."""
    try:
        declared.validate(owner, name.rpartition(".")[2], value)
    except ConfigError as err:
        raise ConfigError(f"{str(err).removesuffix('.')} (control {name!r}: {what}, from its overrides).") from None


def _decimals(*numbers: float) -> int:
    """The fewest decimals (at most 4) that show ``numbers`` exactly: a readout of "224", not
    "224.00", for a slider in whole MB; "0.75" for τ."""
    return next((d for d in range(4) if all(abs(round(x, d) - x) < 1e-9 for x in numbers)), 4)
