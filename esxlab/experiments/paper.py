"""The paper's digitized curves (Figures 2, 6, 7 and 8), shipped as package data.

Digitized from the vector figures of Waldspurger, "Memory Resource Management in VMware ESX
Server", OSDI 2002 (about ± 1 axis unit; see ``esxlab/data/paper_series.json``, whose
``source`` says so). Dashboards draw them as grey reference lines and ``python -m esxlab
reproduce --plots DIR`` beside esxlab's curves:

    s = esx.experiments.paper_series("fig7")
    s["x"]["unit"], s["series"]["idle_alloc"]["x"], s["series"]["idle_alloc"]["y"]   # "min", [...], [...]

``y`` values may be None where the paper's curve has no point (e.g. SQL Server before it boots).
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from ..errors import ConfigError


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(files("esxlab").joinpath("data/paper_series.json").read_text())


#: experiments with digitized series
FIGURES: tuple[str, ...] = tuple(k for k in _data() if k != "source")
SOURCE: str = _data()["source"]


def paper_series(name: str | int) -> dict[str, Any]:
    """The digitized series of figure ``name`` ("fig2", "fig6", "fig7" or "fig8", or its number, 7 or
    "7", as ``experiments.get`` takes it): a dict with ``title``, ``x`` and ``y`` (``label``, ``unit``)
    and ``series`` (name → ``x``, ``y`` lists). Returns a copy; ConfigError for a figure without
    digitized series."""
    key = str(name).strip().lower()
    key = f"fig{key}" if key.isdigit() else key
    if key not in FIGURES:
        raise ConfigError(f"paper_series: name = {name!r} has no digitized series; choose one of "
                          f"{', '.join(FIGURES)}, or its number ({', '.join(f.removeprefix('fig') for f in FIGURES)}).")
    return copy.deepcopy(_data()[key])
