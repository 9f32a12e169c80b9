"""Helpers shared by the experiment modules: host sizing, delayed workloads, and a balloon
held at a size set by the experimenter."""
from __future__ import annotations

import numpy as np

from ..config import PAGES_PER_MB, HostConfig
from ..workloads import EMPTY, Access, Workload


def memory_for(available_mb: float, vms: int, overhead_mb: float = 32, base: HostConfig | None = None) -> float:
    """Machine memory (``HostConfig.memory_mb``) that leaves ``available_mb`` for guest pages.

    Targets hand out machine memory less per-VM overhead and less the free-memory goal
    (high threshold + hysteresis margin, a fraction of machine memory; §6.3):
    ``available = M − vms·overhead − (high + hysteresis)·M``.
    """
    c = base or HostConfig()
    keep = (c.high_pct + c.hysteresis_pct) / 100
    return (available_mb + vms * overhead_mb) / (1 - keep)


class Delayed(Workload):
    """``inner`` starts at ``start_s`` of VM time; before that the VM is idle (invented helper)."""

    def __init__(self, inner: Workload, start_s: float) -> None:
        self.inner = inner
        self.start_s = int(start_s)
        self.name = inner.name
        self.file_backed = inner.file_backed
        self.cpu_us_per_access = inner.cpu_us_per_access

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        return self.inner.attach(vm_pages, uid, rng)

    def step(self, t: int) -> Access:
        return EMPTY if t < self.start_s else self.inner.step(t - self.start_s)

    def disk_tokens(self, mint, pages: int) -> np.ndarray | None:
        return self.inner.disk_tokens(mint, pages)


def hold_balloon(vm, mb: float) -> None:
    """Hold ``vm``'s balloon at ``mb`` whatever the host's policy asks (:meth:`BalloonDriver.hold`)."""
    vm.balloon.hold(int(round(mb * PAGES_PER_MB)))
