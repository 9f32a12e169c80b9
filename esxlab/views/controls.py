"""Controls generated from parameter metadata (design §7, Mesa style: sliders declared once).

The metadata comes from the config dataclasses (``esx.HostConfig.controls()``,
``esx.VMConfig.controls()``) or from an experiment's ``PARAMS``; a dashboard may narrow a
range for teaching with ``overrides``.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import ipywidgets as widgets

from ..errors import ConfigError

STYLE = {"description_width": "200px"}
LAYOUT = {"width": "480px"}


def as_meta(spec: Any) -> dict:
    """Metadata dict (label, lo, hi, step, unit, default, choices, integer) from a config
    ``controls()`` entry or an experiment ``Param``."""
    meta = dict(spec) if isinstance(spec, dict) else dataclasses.asdict(spec)
    meta.setdefault("choices", None)
    meta.setdefault("integer", False)
    meta.setdefault("unit", "")
    return meta


def control(name: str, spec: Any, value: Any = None, *, rerun: bool = True, **override: Any) -> widgets.ValueWidget:
    """A slider (or dropdown, for choices) for parameter ``name``.

    ``rerun=True`` marks a control that reruns a simulation: it updates on release
    (``continuous_update=False``), since a rerun costs more than ~100 ms.
    """
    meta = {**as_meta(spec), **override}
    value = meta["default"] if value is None else value
    unit = f" ({meta['unit']})" if meta["unit"] else ""
    common = dict(description=meta["label"][:32], style=STYLE, layout=LAYOUT,
                  tooltip=f"{meta['label']}{unit} — {meta.get('source', '')}".rstrip(" —"))
    if meta["choices"] is not None:
        return widgets.Dropdown(options=list(meta["choices"]), value=value, **common)
    lo, hi = meta["lo"], meta["hi"]
    if lo is None or hi is None or value is None:
        raise ConfigError(f"control {name!r} needs a finite range and value; got lo={lo}, hi={hi}, "
                          f"value={value}. Pass lo=/hi= overrides.")
    step = meta["step"] or (hi - lo) / 100
    kind = widgets.IntSlider if meta["integer"] else widgets.FloatSlider
    if meta.get("hi_open"):
        hi = hi - step
    return kind(value=value, min=lo, max=hi, step=step, continuous_update=not rerun, readout=True,
                **common)
