"""Helpers shared by the experiment modules: host sizing and a balloon held at a size set by
the experimenter. (Workloads, such as the delayed start Figure 2 uses, live in :mod:`esxlab.workloads`.)"""
from __future__ import annotations

from ..config import PAGES_PER_MB, HostConfig


def memory_for(available_mb: float, vms: int, overhead_mb: float = 32, base: HostConfig | None = None) -> float:
    """Machine memory (``HostConfig.memory_mb``) that leaves ``available_mb`` for guest pages.

    Targets hand out machine memory less per-VM overhead and less the free-memory goal
    (high threshold + hysteresis margin, a fraction of machine memory; §6.3):
    ``available = M − vms·overhead − (high + hysteresis)·M``.
    """
    c = base or HostConfig()
    keep = (c.high_pct + c.hysteresis_pct) / 100
    return (available_mb + vms * overhead_mb) / (1 - keep)


def hold_balloon(vm, mb: float) -> None:
    """Hold ``vm``'s balloon at ``mb`` whatever the host's policy asks (:meth:`BalloonDriver.hold`)."""
    vm.balloon.hold(int(round(mb * PAGES_PER_MB)))
