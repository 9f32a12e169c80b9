"""The paper's experiments, and a few beyond it, as functions of their parameters.

Each module here has ``run(seed=0, **params) -> Result`` (see :mod:`.result`), a ``PARAMS``
dict of knobs (see :mod:`.params`) whose defaults reproduce the paper's set-up, a one-line
``TITLE``, and a docstring stating and defending its tolerances.

    import esxlab as esx
    res = esx.experiments.fig7.run(seed=0, tax_after=0.5)
    print(res.render())

Any experiment runs over a grid of its ``PARAMS`` and seeds with :func:`sweep` (see
:mod:`.sweeps`), locally with joblib or on a Dask cluster:

    table = esx.experiments.sweep("fig7", params={"tax_after": [0, 0.75]}, seeds=range(4))

The paper's digitized curves (Figures 2, 6, 7, 8) come from :func:`paper_series`.

Runs that share a prefix are kept in this process and reused (:mod:`.common`), keyed on the seed and
the parameters, not on the model's code: after changing the model or a workload in a running session,
call :func:`clear_cache` (else the same run returns its result from before the change).

To add an experiment, write ``esxlab/experiments/<name>.py`` and add ``<name>`` to
:data:`EXPERIMENTS` (in the order ``python -m esxlab reproduce`` should run it).
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ..errors import ConfigError
from .common import clear_cache
from .paper import paper_series
from .result import Result, Row, render_table

#: module names, in the order the paper presents them, then beyond-the-paper studies
EXPERIMENTS: list[str] = [
    "fig2",          # §3.2  balloon overhead
    "fig4",          # §4.4  page sharing, homogeneous VMs
    "fig5",          # §4.4  page sharing, production deployments
    "fig6",          # §5.3  active-memory sampling
    "fig7",          # §5.4  idle memory tax
    "tax_sweep",     # beyond: τ from 0 to 0.95
    "fig8",          # §6.3  dynamic reallocation
    "remap_io",      # §7    hot I/O page remapping
    "ksm_vs_esx",    # beyond: ESX sharing vs Linux KSM
    "replacement",   # beyond: random vs clock hypervisor replacement, double paging
    "esx_today",     # later ESX: ESXi 6 states, limits, compression, large pages beside 2002
]

#: experiments that run the same simulations (Figure 7's run is the tax sweep's τ = 0.75 copy,
#: :func:`.fig7.after_change`): ``reproduce`` runs a group's members on one seed in one task,
#: so the shared part runs once
SHARED_RUNS: tuple[tuple[str, ...], ...] = (("fig7", "tax_sweep"),)

#: seconds one seed of each takes with its defaults, alone in one process (2-core reference
#: machine, 2026-12-01): ``reproduce`` starts the longest tasks first, so that its workers finish
#: together (longest-processing-time-first scheduling). A figure that is off only costs time.
RUN_S: dict[str, float] = {"fig2": 4.8, "fig4": 7.3, "fig5": 5.8, "fig6": 0.8, "fig7": 4.0, "tax_sweep": 7.9,
                           "fig8": 9.5, "remap_io": 0.7, "ksm_vs_esx": 4.2, "replacement": 1.3, "esx_today": 1.4}

__all__ = ["EXPERIMENTS", "RUN_S", "SHARED_RUNS", "Result", "Row", "SweepTable", "clear_cache", "get", "lookup",
           "paper_series", "render_table", "sweep", *EXPERIMENTS]
_SWEEPS = ("sweep", "SweepTable")        # from .sweeps on first use (it loads joblib and tqdm)


def lookup(name: str | int) -> str:
    """The module name for ``name``: a module name ("fig7"), or a figure number (7 or "7")."""
    key = str(name).strip().lower()
    for candidate in (key, f"fig{key}"):
        if candidate in EXPERIMENTS:
            return candidate
    raise ConfigError(f"unknown experiment {name!r}; choose a figure number "
                      f"({', '.join(e[3:] for e in EXPERIMENTS if e[:3] == 'fig' and e[3:].isdigit())}) "
                      f"or a name ({', '.join(EXPERIMENTS)}).")


def get(name: str | int) -> ModuleType:
    """The experiment module for ``name`` (see :func:`lookup`)."""
    return importlib.import_module(f"{__name__}.{lookup(name)}")


def __getattr__(name: str) -> Any:
    """``esx.experiments.fig7`` (and :func:`sweep`) imports the module on first use."""
    if name in EXPERIMENTS:
        return get(name)
    if name in _SWEEPS:
        return getattr(importlib.import_module(f"{__name__}.sweeps"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
