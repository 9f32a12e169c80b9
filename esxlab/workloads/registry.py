"""Workloads by name: :data:`WORKLOADS` and :func:`make`, which turns an instance, a class or a name
into a workload for one VM."""
from __future__ import annotations

from ..errors import ConfigError, missing_parameters, shorten
from .base import Workload, packaged
from .general import Dbench, Idle, NetServer, Spec95, Toucher


WORKLOADS = {"idle": Idle, "dbench": Dbench, "toucher": Toucher, "spec95": Spec95, "netserver": NetServer}


def make(spec: Workload | type[Workload] | str) -> Workload:
    """A workload from an instance, a class whose parameters all have defaults, or a name of
    :data:`WORKLOADS` ("idle", "dbench", …); ConfigError otherwise."""
    if isinstance(spec, Workload):
        if spec.rng is not None or spec.wrapper is not None:
            why = ("has already driven a VM (even one powered off since, or on another host)" if spec.rng is not None
                   else "is already wrapped in a Delayed workload, which will drive a VM with it")
            raise ConfigError(f"workload = {shorten(spec)} {why}; a workload instance keeps one VM's state, so give "
                              f"each VM its own (e.g. workload={_spelled(type(spec))}(...) again).")
        return spec
    if isinstance(spec, type) and issubclass(spec, Workload):
        needed = missing_parameters(spec)
        if needed:
            raise ConfigError(f"workload = {spec.__name__} is a class, and {spec.__name__}() needs its parameter "
                              f"{needed[0]!r}; pass an instance, e.g. workload={_spelled(spec)}({needed[0]}=…).")
        return spec()
    if isinstance(spec, str) and spec in WORKLOADS:
        return WORKLOADS[spec]()
    raise ConfigError(f"workload = {shorten(spec)} is unknown; use a Workload instance or one of "
                      f"{', '.join(repr(k) for k in WORKLOADS)}.")


def _spelled(cls: type) -> str:
    """``cls`` as a notebook names it: ``esx.workloads.Dbench`` for esxlab's own, else its bare name."""
    return f"esx.workloads.{cls.__name__}" if packaged(cls) else cls.__name__

