"""The paper's digitized curves (Figures 2, 6, 7 and 8), shipped as package data.

Digitized from the vector figures of Waldspurger, "Memory Resource Management in VMware ESX
Server", OSDI 2002 (about ± 1 axis unit; see ``esxlab/data/paper_series.json``, whose
``source`` says so). The dashboards of Figures 2, 6, 7 and 8 draw them as grey markers on the chart that shows
the same quantity (:func:`chart_points`, where the run is at the paper's set-up: :func:`setup_window`; Figure 2's
MB/s scaled into esxlab's units: :func:`chart_scale`), and ``python -m esxlab reproduce --plots DIR`` beside
esxlab's curves (:func:`esxlab_series`):

    s = esx.experiments.paper_series("fig7")
    s["x"]["unit"], s["series"]["idle_alloc"]["x"], s["series"]["idle_alloc"]["y"]   # "min", [...], [...]

``y`` values may be None where the paper's curve has no point (e.g. SQL Server before it boots).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from types import ModuleType, SimpleNamespace
from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError
from .params import moved


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    return json.loads(files("esxlab").joinpath("data/paper_series.json").read_text())


#: experiments with digitized series
FIGURES: tuple[str, ...] = tuple(k for k in _data() if k != "source")
SOURCE: str = _data()["source"]
#: Figure 2's configured 256 MB VM, the bar its others are compared with (its table's ratios, its dashboard's
#: scale, its plot divide by it): (MB, the paper's MB/s)
FIG2_REFERENCE: tuple[int, float] = (256, _data()["fig2"]["series"]["configured"]["y"][
    _data()["fig2"]["series"]["configured"]["x"].index(256)])


def paper_series(name: str | float | ModuleType) -> dict[str, Any]:
    """The digitized series of figure ``name`` ("fig2", "fig6", "fig7" or "fig8", its number, 7, "7" or 7.0, or
    its module, as ``experiments.get`` takes it: :func:`~esxlab.experiments.lookup`): a dict with ``title``, ``x``
    and ``y`` (``label``, ``unit``) and ``series`` (name → ``x``, ``y`` lists). Returns a copy; ConfigError for a
    figure without digitized series."""
    from . import lookup                    # (here: the package imports this module before it defines lookup)
    try:
        key = lookup(name, own=False)
    except ConfigError:                     # not a figure of the paper's: the sentence below says which are
        key = None
    if key not in FIGURES:
        raise ConfigError(f"paper_series: name = {name!r} has no digitized series; choose one of "
                          f"{', '.join(FIGURES)}, or its number ({', '.join(f.removeprefix('fig') for f in FIGURES)}).")
    return copy.deepcopy(_data()[key])


#: the VMs a series key's first part names ("<vm>_<quantity>"; other keys are a table's columns), as legends read them
VM_LABELS = {"all": "all VMs", "citrix": "MetaFrame", "sql": "SQL", "idle": "idle VM", "dbench": "dbench VM"}
#: a key's VM part for the VMs' memory summed (Figure 8's top panel)
ALL = "all"


def split_key(key: str) -> tuple[str | None, str]:
    """A series key as (VM, quantity): "citrix_active" → ("citrix", "active"), "all_alloc" → (:data:`ALL`, "alloc");
    a key naming no VM is a column of a table-like trace: "estimate" → (None, "estimate")."""
    vm, _, quantity = key.partition("_")
    return (vm, quantity) if vm in VM_LABELS and quantity else (None, key)


def esxlab_series(name: str, res: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """esxlab's curves of the :class:`~.result.Result` ``res`` matching the paper's series of figure ``name``
    (same keys, same units except Figure 2, where both are relative to the 256 MB VM's throughput): a key naming
    a VM is that VM's quantity in the trace "run" (:data:`ALL`: the trace "aggregate"), another key a column of
    Figure 6's "estimates"."""
    if name == "fig2":
        bars = res.traces["bars"]
        return {"configured": (np.r_[bars["size_mb"], res.params["max_mb"]], np.r_[bars["relative"], 1.0]),
                "ballooned": (bars["size_mb"], bars["relative"] * (1 - bars["overhead_pct"] / 100))}
    out = {}
    for key in _data()[name]["series"]:
        vm, quantity = split_key(key)
        if vm is None:
            table = res.traces["estimates"]
            out[key] = (table["minute"], table[key])
        elif vm == ALL:
            agg = res.traces["aggregate"]
            out[key] = (agg["minute"], agg[quantity])
        else:
            tr = res.traces["run"]
            out[key] = (tr.minutes, getattr(tr.vm(vm), quantity))
    return out


@lru_cache(maxsize=None)
def _points(name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Figure ``name``'s digitized series as arrays (None → NaN), built once."""
    return {k: (np.asarray(v["x"], dtype=float), np.array([np.nan if y is None else y for y in v["y"]], dtype=float))
            for k, v in _data()[name]["series"].items()}


#: the digitized series that are esxlab's input, not its prediction: Figure 6's toucher schedule was read off the
#: figure, so esxlab's curve matches it by construction
INPUTS = {"fig6": ("toucher",)}


def quantities(name: str) -> tuple[str, ...]:
    """The quantities figure ``name``'s series show that esxlab predicts (not its :data:`INPUTS`), in the order they
    first come ("alloc", "active", …)."""
    shown = dict.fromkeys(split_key(k)[1] for k in _data()[name]["series"])
    return tuple(q for q in shown if q not in INPUTS.get(name, ()))


def chart_points(name: str, vm: str | None, fields: tuple[str, ...] | list[str], until: float = math.inf,
                 scale: float = 1.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The paper's points of figure ``name`` for a chart of ``fields`` of ``vm`` (:data:`ALL` for the VMs summed;
    None for a chart of a table's columns, as Figures 2's and 6's), each ``(x, y)`` in the figure's units (its
    ``x`` and ``y`` in :func:`paper_series`: minutes and MB, Figure 2's MB and MB/s) up to x = ``until`` (a
    minute, or a VM size), y times ``scale`` (:func:`chart_scale`): field → points, for the fields the paper plots
    there ({} for a VM it does not). Arrays shared (y too when ``scale`` is 1): do not change them."""
    out = {}
    for key, (x, y) in _points(name).items():
        kvm, quantity = split_key(key)
        if kvm == vm and quantity in fields:
            keep = x <= until + 1e-9
            out[quantity] = (x[keep], y[keep] if scale == 1 else y[keep] * scale)
    return out


def chart_scale(name: str, res: Any) -> tuple[float, str]:
    """The factor figure ``name``'s paper values are drawn at beside the :class:`~.result.Result` ``res`` (y in
    esxlab's units), and what a legend says of it: 1 and "" (``res`` unread) but for Figure 2, whose dbench
    throughput is in MB/s and esxlab's in accesses/s (its invented cost model's): esxlab's configured throughput
    at ``max_mb`` (256 MB at the paper's set-up, :func:`setup_window`) over the paper's 17.8 MB/s at 256 MB. The
    two then meet at the configured 256 MB VM, the one the table's ratios divide by, and a chart compares the
    curves' shapes: the same ratios the table compares. (esxlab's ``bars`` hold the sizes below ``max_mb`` only,
    so its chart has no esxlab point at 256 MB: the legend names its throughput.)"""
    if name != "fig2":
        return 1.0, ""
    paper = FIG2_REFERENCE[1]
    bars = res.traces["bars"]
    ours = float(bars["configured"][0] / bars["relative"][0])      # relative = configured / the max_mb VM's
    factor = ours / paper
    return factor, (f"scaled to esxlab's configured 256 MB: the paper's MB/s × {factor:.3g}, so that its 256 MB "
                    f"VM's {paper:g} MB/s lands on esxlab's {ours:.0f} accesses/s (a VM this chart's run did not "
                    "size); compare the curves' shapes, the ratios the table compares")


@dataclass(frozen=True)
class Knobs:
    """How a figure's knobs bear on whether a run is still at the paper's set-up (:func:`setup_window`); every
    other knob of its ``PARAMS`` is the set-up: moved, the run is not (its rows "not compared", no points drawn).

    ``measuring``: knobs that choose what of the set-up a run measures (moved, the run is still at it): for a
    figure over time, the run's length, which bounds its points (:data:`OVER_TIME`); ``timeline``: knobs that say
    when things happen (moved, the run's time line leaves the paper's at the earlier of the knob's value and its
    default); ``from_minute``: knob → the knob holding the minute from which its move changes the run;
    ``readings``: knobs each of whose choices is a reading of the paper's text (moved, still the set-up)."""

    measuring: tuple[str, ...] = ("minutes",)
    timeline: tuple[str, ...] = ()
    from_minute: Mapping[str, str] = field(default_factory=dict)
    readings: tuple[str, ...] = ()

    @property
    def kept(self) -> tuple[str, ...]:
        """Every knob named here: those whose move leaves a run at the paper's set-up, or at it until a minute."""
        return (*self.measuring, *self.timeline, *self.from_minute, *self.readings)


#: per figure (one not listed: :class:`Knobs`' defaults). Figure 2, over VM size, measures which sizes it runs (the
#: paper's points are drawn at all of its own), the run's length, when dbench starts and from when its throughput
#: is averaged; Figure 7's τ changes the run from the tax change on; Figure 8's benchmarks from minute 8 (the
#: paper's boot only) and ``high_state``, §6.3's high state read two ways
KNOBS = {"fig2": Knobs(measuring=("sizes", "minutes", "dbench_start_s", "measure_from_min")),
         "fig7": Knobs(timeline=("dbench_start_min", "tax_change_min"), from_minute={"tax_rate": "tax_change_min"}),
         "fig8": Knobs(timeline=("bench_start_min",), readings=("high_state",))}
#: the figures whose x is time, in minutes: a run's length bounds the points comparable with theirs
OVER_TIME = tuple(k for k in FIGURES if _data()[k]["x"]["unit"] == "min")


def setup_window(name: str, specs: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[float, str]:
    """Up to which x a run of figure ``name`` with ``params`` (its experiment's ``PARAMS`` are ``specs``) is at
    the paper's set-up, its points there comparable with the paper's, and why not further ("" when the whole run
    is): a minute for a figure over time (:data:`OVER_TIME`), inf for Figure 2 (over VM size) at its set-up; −inf
    when a knob of the set-up moved (any but those its :data:`KNOBS` name; the same :func:`~.params.moved` that
    marks the table's rows "not compared"). A figure over time: the run's length bounds it too (a shorter run:
    fewer points)."""
    p = SimpleNamespace(**{k: params.get(k, s.default) for k, s in specs.items()})
    knobs = KNOBS.get(name, Knobs())
    setup = moved(specs, p, tuple(k for k in specs if k not in knobs.kept))
    if setup:
        return -math.inf, setup
    until, why = float(p.minutes) if name in OVER_TIME and "minutes" in specs else math.inf, []
    for knob in knobs.timeline:
        if getattr(p, knob) != specs[knob].default:
            until = min(until, getattr(p, knob), specs[knob].default)
            why.append(moved(specs, p, (knob,)))
    for knob, at in knobs.from_minute.items():
        if getattr(p, knob) != specs[knob].default:
            until = min(until, getattr(p, at))
            why.append(f"{moved(specs, p, (knob,))} from minute {getattr(p, at):g}")
    return until, "; ".join(why)
