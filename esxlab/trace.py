"""What a run produced: per-tick metrics per VM and for the host, and the decision log.

Values are recorded once per tick into Python lists (cost O(VMs) per tick) and turned into
numpy arrays on demand. Memory is in MB, time in seconds; a VM's series hold NaN for the
ticks before it powered on or after it powered off.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .config import PAGES_PER_MB

VM_FIELDS = ("alloc", "target", "active", "true_active", "balloon", "swapped", "shared",
             "private", "unbacked", "throughput", "blocked")
HOST_FIELDS = ("free", "state", "overhead", "swap_used", "shared_saved", "zero_shared", "bounce_copies")


@dataclass(frozen=True)
class Decision:
    """One reclaim decision: at ``tick``, ``action`` moved ``pages`` of ``vm``, because ``why``.

    The same decision repeated every second (e.g. paging during a soft episode) is one entry
    from ``tick`` to ``until``, its pages summed."""

    tick: int
    vm: str
    action: str
    pages: int
    why: str
    until: int | None = None

    def __str__(self) -> str:
        who = f" {self.vm}" if self.vm else ""
        when = f"t={self.tick:>5}s" if self.until is None else f"t={self.tick:>5}–{self.until}s"
        amount = ""
        if self.pages >= 26:
            amount = f" {self.pages / PAGES_PER_MB:.1f} MB"
        elif self.pages:
            amount = f" {self.pages} page{'s' if self.pages > 1 else ''} ({4 * self.pages} KB)"
        return f"{when}{who}: {self.action}{amount} — {self.why}"


@dataclass(frozen=True)
class HostStats:
    """The host's memory, in MB, and its free-memory state (design §2)."""

    total: float
    free: float
    state: str
    shared_saved: float
    zero_shared: float
    overhead: float
    swap_used: float
    bounce_copies: int


class Recorder:
    """Collects one row per tick; :meth:`trace` turns them into a :class:`Trace`."""

    def __init__(self) -> None:
        self.t: list[int] = []
        self.host = {f: [] for f in HOST_FIELDS}
        self.vms: dict[str, tuple[int, dict[str, list]]] = {}
        self.decisions: list[Decision] = []

    def record(self, t: int, host: dict, vms: dict[str, dict]) -> None:
        row = len(self.t)
        self.t.append(t)
        for f in HOST_FIELDS:
            self.host[f].append(host[f])
        for name, vals in vms.items():
            if name not in self.vms:
                self.vms[name] = (row, {f: [] for f in VM_FIELDS})
            series = self.vms[name][1]
            for f in VM_FIELDS:
                series[f].append(vals[f])

    def trace(self) -> "Trace":
        n = len(self.t)
        vms = {}
        for name, (start, series) in self.vms.items():
            cols = {}
            for f in VM_FIELDS:
                a = np.full(n, np.nan)
                v = np.asarray(series[f], dtype=float)
                a[start:start + len(v)] = v
                cols[f] = a
            vms[name] = SimpleNamespace(**cols)
        host = SimpleNamespace(**{f: np.asarray(v, dtype=float) for f, v in self.host.items()})
        host.state = host.state.astype(np.int8)
        return Trace(np.asarray(self.t, dtype=float), host, vms, list(self.decisions))


class Trace:
    """``trace.t`` (s), ``trace.minutes``, ``trace.host.<field>``, ``trace.vm(name).<field>``
    (fields: see :data:`VM_FIELDS`, :data:`HOST_FIELDS`), ``trace.decisions``."""

    def __init__(self, t: np.ndarray, host: SimpleNamespace, vms: dict, decisions: list[Decision]) -> None:
        self.t = t
        self.host = host
        self.vms = vms
        self.decisions = decisions

    @property
    def minutes(self) -> np.ndarray:
        return self.t / 60.0

    @property
    def vm_names(self) -> list[str]:
        return list(self.vms)

    def vm(self, name: str) -> SimpleNamespace:
        try:
            return self.vms[name]
        except KeyError:
            from .errors import ConfigError
            raise ConfigError(f"trace has no VM named {name!r}; it has {', '.join(map(repr, self.vms)) or 'none'}.") from None

    def state_names(self) -> list[str]:
        from .reclaim import STATES
        return [STATES[s] for s in self.host.state]

    def mean(self, name: str, field: str, start_min: float = 0, end_min: float | None = None) -> float:
        """Mean of one VM field over [start_min, end_min) minutes."""
        end = np.inf if end_min is None else end_min
        sel = (self.minutes >= start_min) & (self.minutes < end)
        return float(np.nanmean(getattr(self.vm(name), field)[sel]))

    def __len__(self) -> int:
        return len(self.t)
