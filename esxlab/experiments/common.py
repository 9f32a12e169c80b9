"""Helpers shared by the experiment modules: host sizing and a balloon held at a size set by
the experimenter, and forking runs that share a prefix. (Workloads, such as the delayed start Figure 2 uses,
live in :mod:`esxlab.workloads`.)

Forked hosts and kept runs (:func:`fork`, :func:`fork_run`, :func:`kept`) are cached in this process,
keyed on the seed and the experiment's parameters, not on the model's code: after changing the model or a
workload in a running session (patching a class, a default, a constant), call :func:`clear_cache`, or a run
with the same key returns what was computed before the change."""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any, Callable, Hashable

from ..config import PAGES_PER_MB, HostConfig
from ..host import Host
from ..trace import Trace

PREFIXES_KEPT = 2                       # hosts kept for forking (a few MB each at the paper's sizes)
RUNS_KEPT = 8                           # runs kept by :func:`kept` (≈ 1 MB each at the experiments' sizes)
_prefixes: OrderedDict[Hashable, Host] = OrderedDict()
_kept: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()                # a dashboard runs experiments in a thread of its own
_found = threading.local()              # per thread: how many values the caches held when asked (found)
cleared = False                         # clear_cache() was called here: the runner warns that workers miss it


def memory_for(available_mb: float, vms: int, overhead_mb: float = 32, base: HostConfig | None = None) -> float:
    """Machine memory (``HostConfig.memory_mb``) that leaves ``available_mb`` for guest pages.

    Targets hand out machine memory less per-VM overhead and less the free-memory goal
    (high threshold + hysteresis margin, a fraction of machine memory; §6.3):
    ``available = M − vms·overhead − (high + hysteresis)·M``.
    """
    c = base or HostConfig()
    keep = (c.high_pct + c.hysteresis_pct) / 100
    return (available_mb + vms * overhead_mb) / (1 - keep)


def hold_balloon(host: Host, vm, mb: float) -> None:
    """Hold ``vm``'s balloon at ``mb`` whatever the host's policy asks (:meth:`BalloonDriver.hold`),
    and say so in the host's decision log."""
    pages = int(round(mb * PAGES_PER_MB))
    vm.balloon.hold(pages)
    host.note(vm.name, "balloon held", pages, f"the experiment holds the balloon at {mb:g} MB whatever the host's "
              "policy says (Figure 2's set-up: the balloon driver reserves memory, §3.2); it inflates to that size "
              "once the guest has booted and loaded its driver")


def fork(key: Hashable, build: Callable[[], Host]) -> Host:
    """A copy of the host ``build()`` returns, built once per ``key`` and kept (the last
    :data:`PREFIXES_KEPT` keys): runs that are the same simulation up to a parameter change (the
    same ``key``: every parameter and the seed that decide the prefix) fork from the host at the
    change instead of simulating the prefix again. The copy carries its seeded streams, so it
    continues bit for bit as the original would have. The kept host is keyed on ``key`` alone: after
    changing the model in this process, :func:`clear_cache`."""
    return copy.deepcopy(_cached(_prefixes, key, build, PREFIXES_KEPT))


def fork_run(key: Hashable, build: Callable[[], Host], change: tuple[str, Any], minutes: float) -> Trace:
    """The trace of a copy of the host at ``key`` (:func:`fork`) after ``change``, a ``Host``
    method's name and its argument (e.g. ``("set_tax_rate", 0.75)``), run ``minutes`` more.

    The trace is kept (:func:`kept`), so experiments that run the same branch of the same
    prefix compute it once per process: Figure 7's run is the tax sweep's τ = 0.75 copy, and
    ``reproduce`` runs the two in one task. A :class:`~esxlab.trace.Trace` is read-only, so
    sharing it is safe; it is stale once the model changes in this process (:func:`clear_cache`)."""
    def branch() -> Trace:
        host = fork(key, build)
        getattr(host, change[0])(change[1])
        return host.run(minutes=minutes)

    return kept((key, change, minutes), branch)


def planned_hosts(module: ModuleType, params: Mapping[str, Any]) -> list[tuple[str, float]] | None:
    """The hosts ``module.run(seed, **params)`` simulates, in order, each as (what it runs, in a student's words; its
    simulated minutes), where the experiment says so before running (its optional ``planned_hosts(**params)``, as
    Figure 2's: a name of its own, since a module may well have a helper named ``hosts``); None where it does not, as for runs forked or kept (:func:`fork`), whose minutes depend on what ran
    before in the process. A dashboard's busy line and the runner's line for the running task give totals from it.
    Invented."""
    plan = getattr(module, "planned_hosts", None)
    return None if plan is None else plan(**params)


def planned_minutes(module: ModuleType, runs: Iterable[Mapping[str, Any]]) -> float | None:
    """The simulated minutes of ``module``'s runs at each of ``runs`` (their parameters) in all, by
    :func:`planned_hosts`; None unless the experiment says what it simulates. Invented."""
    plans = [planned_hosts(module, params) for params in runs]
    return None if None in plans else sum(minutes for plan in plans for _, minutes in plan)


def planned_counts(module: ModuleType, runs: Iterable[Mapping[str, Any]]) -> list[int] | None:
    """How many hosts each of ``module``'s runs at ``runs`` (their parameters) simulates, by :func:`planned_hosts`;
    None unless the experiment says what it simulates: a progress line names them where a run simulates several (a
    total of 21 minutes reads as 3 hosts × 7 minutes, not as a run of 21). Invented."""
    plans = [planned_hosts(module, params) for params in runs]
    return None if None in plans else [len(plan) for plan in plans]


def kept(key: Hashable, run: Callable[[], Any]) -> Any:
    """``run()``'s value, computed once per ``key`` in this process and kept (the last
    :data:`RUNS_KEPT`): a part of an experiment that the parameter just moved does not decide
    (``key``: the seed and every parameter that does) is not simulated again, e.g. esx_today's
    eras when only the limit moves. Callers only read the value (a trace, a host's stats). The value is
    keyed on ``key`` alone, not on the model's code: after changing the model in this process, :func:`clear_cache`."""
    return _cached(_kept, key, run, RUNS_KEPT)


def clear_cache() -> None:
    """Forget every host :func:`fork` keeps and every run :func:`kept` (and so :func:`fork_run`) keeps.

    Call it after changing the model or a workload in a running session (a notebook's patched class,
    default or constant): the caches are keyed on the seed and the parameters, not on the code, so
    without it a run with the same seed and parameters returns the result from before the change.
    (Worker processes, ``jobs`` > 1, import esxlab afresh: a patch made here does not reach them, and a
    sweep or ``reproduce`` that starts them after this call warns so.) Source: invented."""
    global cleared
    cleared = True
    with _lock:
        _prefixes.clear()
        _kept.clear()


def found() -> int:
    """How many times :func:`fork` or :func:`kept` found the value asked for kept, in this thread: a sweep tells a run
    that simulated nothing because it was kept (:attr:`~esxlab.experiments.SweepTable.kept`) from one that simulates
    nothing at all."""
    return getattr(_found, "n", 0)


def _cached(cache: OrderedDict, key: Hashable, make: Callable[[], Any], kept: int) -> Any:
    """``cache[key]``, made by ``make()`` if absent, as the newest entry of ``cache``, which keeps
    the ``kept`` newest. (Get, not pop: a dashboard's other thread may be reading it meanwhile.)"""
    value = cache.get(key)
    if value is None:
        value = make()
    else:
        _found.n = found() + 1
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > kept:
            cache.popitem(last=False)
    return value
