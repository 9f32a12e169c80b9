"""Controls generated from parameter metadata (design §7, Mesa style: sliders declared once).

The metadata comes from the config dataclasses (``esx.HostConfig.controls()``,
``esx.VMConfig.controls()``) or from an experiment's ``PARAMS``; a dashboard may narrow a
range for teaching with ``overrides``. A bad spec, range or value raises
:class:`~esxlab.ConfigError` with a sentence naming the control.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import ipywidgets as widgets

from ..errors import ConfigError, check_number

STYLE = {"description_width": "240px"}      # the longest label up to its parenthesis fits
LAYOUT = {"width": "600px"}
#: readable option labels for choices that are bare numbers (later ESX's Mem.ShareForceSalting)
CHOICE_LABELS = {"force_salting": {0: "0: salts ignored, all VMs share (2002)",
                                   1: "1: only VMs with equal salts share",
                                   2: "2: every VM has its own salt"}}


def as_meta(name: str, spec: Any) -> dict:
    """Metadata dict (label, lo, hi, step, unit, default, choices, integer) from a config
    ``controls()`` entry or an experiment ``Param``."""
    if isinstance(spec, dict):
        meta = dict(spec)
    elif dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        meta = dataclasses.asdict(spec)
    else:
        raise ConfigError(f"control {name!r}: spec must be a dict from a config's controls() or an experiment "
                          f"Param; got {spec!r} ({type(spec).__name__}).")
    if not isinstance(meta.get("label"), str) or not meta["label"]:
        raise ConfigError(f"control {name!r}: spec needs a 'label' (text) and 'default', as a config's controls() "
                          f"entries have; got {spec!r}.")
    for key, default in (("choices", None), ("integer", False), ("unit", ""), ("default", None),
                         ("lo", None), ("hi", None), ("step", None)):
        meta.setdefault(key, default)
    return meta


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def control(name: str, spec: Any, value: Any = None, *, rerun: bool = True, **override: Any) -> widgets.ValueWidget:
    """A slider (or dropdown, for choices) for parameter ``name``.

    ``rerun=True`` marks a control whose every value costs a fresh simulation that cannot be
    cut short: it updates on release (``continuous_update=False``). ``override`` replaces
    metadata (``lo``, ``hi``, ``step``, ``label``…). The description is the label up to any
    parenthesis; the full label, unit and source are in the tooltip.
    """
    meta = {**as_meta(name, spec), **override}
    value = meta["default"] if value is None else value
    unit = f" ({meta['unit']})" if meta["unit"] else ""
    short = meta["label"].split(" (")[0]
    common = dict(description=short, style=STYLE, layout=LAYOUT,
                  tooltip=f"{meta['label']}{unit} — {meta.get('source', '')}".rstrip(" —"))
    if meta["choices"] is not None:
        choices = list(meta["choices"])
        if value not in choices:
            raise ConfigError(f"control {name!r}: value {value!r} is not one of its choices "
                              f"{', '.join(map(repr, choices))}.")
        labels = CHOICE_LABELS.get(name.split(".")[-1], {})
        options = [(labels.get(c, str(c)), c) for c in choices] if labels else choices
        return widgets.Dropdown(options=options, value=value, **common)
    lo, hi = meta["lo"], meta["hi"]
    if not (_is_number(lo) and _is_number(hi) and math.isfinite(lo) and math.isfinite(hi)):
        raise ConfigError(f"control {name!r} needs a finite range and value; got lo={lo}, hi={hi}, "
                          f"value={value}. Pass lo=/hi= overrides.")
    if lo >= hi:
        raise ConfigError(f"control {name!r}: its range needs lo < hi; got lo={lo}, hi={hi}.")
    step = (hi - lo) / 100 if meta["step"] is None else meta["step"]
    check_number(f"control {name!r}", "step", step, lo=0, lo_open=True)
    if meta.get("hi_open"):
        hi = hi - step
    check_number(f"control {name!r}", "value", value, lo=lo, hi=hi)
    kind = widgets.IntSlider if meta["integer"] else widgets.FloatSlider
    return kind(value=value, min=lo, max=hi, step=step, continuous_update=not rerun, readout=True, **common)
