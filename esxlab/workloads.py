"""Workloads: what the applications inside a guest do each simulated second.

A workload owns a range of *logical pages* (anonymous memory or file blocks) and, each
tick, says which of them it touches and which it writes. The guest turns that into PPN
accesses; the hypervisor into MPN accesses. Every workload here is an invented model
(the paper describes its benchmarks, not their access patterns), kept small and stated
in its docstring. ``work`` is the number of accesses the tick stands for and
``cpu_us_per_access`` their CPU cost; with the stall time of faults and disk I/O they give
the workload's throughput (accesses per second).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arrays import distinct
from .config import PAGES_PER_MB
from .errors import ConfigError, check_number


@dataclass
class Access:
    """One tick of a workload: distinct logical pages touched, and which are written."""

    lps: np.ndarray
    writes: np.ndarray
    freed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))


EMPTY = Access(np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))


class Workload:
    """Base class. Subclasses set ``pages`` in :meth:`attach` and implement :meth:`step`."""

    name = "workload"
    cpu_us_per_access = 1.0
    file_backed = False       # logical pages are file blocks with private initial contents

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        """Bind to a VM; return how many logical pages the workload uses."""
        self.rng = rng
        self.uid = uid
        return 0

    def step(self, t: int) -> Access:
        return EMPTY

    def true_active_pages(self) -> int:
        """Pages the workload means to keep touching (for comparison with the estimate)."""
        return 0


class Idle(Workload):
    """No application activity: only the guest OS's own background touches (Fig. 7's VM1)."""

    name = "idle"


class Dbench(Workload):
    """A dbench-like file server (Fig. 2, Fig. 7): uniform random reads and writes over a file
    set larger than memory, so throughput grows with the guest's buffer cache.

    Invented model: ``clients`` scale the file set (``mb_per_client`` each); each tick samples
    ``accesses_per_s`` block accesses, ``write_fraction`` of them writes.
    """

    name = "dbench"
    file_backed = True

    def __init__(self, clients: int = 40, mb_per_client: float = 7.0, accesses_per_s: int = 3000,
                 write_fraction: float = 0.2, cpu_us_per_access: float = 300.0) -> None:
        check_number("Dbench", "clients", clients, 1, 10000, integer=True)
        check_number("Dbench", "mb_per_client", mb_per_client, 0, None, lo_open=True)
        check_number("Dbench", "accesses_per_s", accesses_per_s, 1, 10 ** 7, integer=True)
        check_number("Dbench", "write_fraction", write_fraction, 0, 1)
        check_number("Dbench", "cpu_us_per_access", cpu_us_per_access, 0, None)
        self.clients, self.mb_per_client = int(clients), float(mb_per_client)
        self.accesses_per_s, self.write_fraction = int(accesses_per_s), float(write_fraction)
        self.cpu_us_per_access = float(cpu_us_per_access)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = int(self.clients * self.mb_per_client * PAGES_PER_MB)
        return self.pages

    def step(self, t: int) -> Access:
        lps = distinct(self.rng.integers(0, self.pages, size=self.accesses_per_s))
        return Access(lps, self.rng.random(len(lps)) < self.write_fraction)

    def true_active_pages(self) -> int:
        return self.pages


class Toucher(Workload):
    """A user-level memory toucher (Fig. 6): allocates the amount of anonymous memory its
    schedule asks for and touches (writes) all of it every ``sweep_s`` seconds; memory it
    gives back is freed to the guest (and, on Windows, zeroed by the zero page thread).

    ``schedule`` is a list of ``(start_s, mb)`` steps; before the first step it holds 0 MB.
    """

    name = "toucher"

    def __init__(self, schedule=((0, 100),), sweep_s: float = 5.0, cpu_us_per_access: float = 1.0) -> None:
        try:
            steps = sorted((float(s), float(mb)) for s, mb in schedule)
        except (TypeError, ValueError):
            raise ConfigError(f"Toucher.schedule must be a list of (start_s, mb) pairs, got {schedule!r}.") from None
        for s, mb in steps:
            check_number("Toucher", "schedule start_s", s, 0, None)
            check_number("Toucher", "schedule mb", mb, 0, None)
        check_number("Toucher", "sweep_s", sweep_s, 1, 3600)
        self.schedule = steps
        self.sweep_s = float(sweep_s)
        self.cpu_us_per_access = float(cpu_us_per_access)
        self.size = 0
        self._cursor = 0

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = int(max((mb for _, mb in self.schedule), default=0) * PAGES_PER_MB)
        return self.pages

    def size_at(self, t: float) -> int:
        mb = 0.0
        for s, m in self.schedule:
            if t >= s:
                mb = m
        return min(int(mb * PAGES_PER_MB), self.pages)

    def step(self, t: int) -> Access:
        new = self.size_at(t)
        freed = np.arange(new, self.size, dtype=np.int64) if new < self.size else EMPTY.lps
        self.size = new
        if new == 0:
            return Access(EMPTY.lps, EMPTY.writes, freed)
        per_tick = int(np.ceil(new / self.sweep_s))
        lps = distinct((self._cursor + np.arange(min(per_tick, new))) % new)
        self._cursor = int((self._cursor + per_tick) % new)
        return Access(lps, np.ones(len(lps), dtype=bool), freed)

    def true_active_pages(self) -> int:
        return self.size


WORKLOADS = {"idle": Idle, "dbench": Dbench, "toucher": Toucher}


def make(spec) -> Workload:
    """A workload from an instance, a class, or a name ("idle", "dbench", "toucher")."""
    if isinstance(spec, Workload):
        return spec
    if isinstance(spec, type) and issubclass(spec, Workload):
        return spec()
    if isinstance(spec, str) and spec in WORKLOADS:
        return WORKLOADS[spec]()
    raise ConfigError(f"workload = {spec!r} is unknown; use a Workload instance or one of "
                      f"{', '.join(repr(k) for k in WORKLOADS)}.")
