"""What a run produced: per-tick metrics per VM and for the host, and the decision log.

Values are recorded once per tick into preallocated numpy columns (cost O(VMs) per tick);
a :class:`Trace` is a read-only view of them. Memory is in MB, time in seconds; a VM's
series hold NaN for the ticks before it powered on or after it powered off.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .config import PAGES_PER_MB
from .errors import ConfigError, Error, check_choice, check_number, shorten
from .metrics import HOST_METRICS, VM_METRICS, HostStats
from .resources import check_fits

#: the trace's columns: the metrics of :mod:`esxlab.metrics` recorded every tick
VM_FIELDS = tuple(m.name for m in VM_METRICS if m.trace)
HOST_FIELDS = tuple(m.name for m in HOST_METRICS if m.trace)
#: ticks of VM rows a :class:`Recorder` converts at once (speed only: any value gives the same trace)
BLOCK_TICKS = 32

__all__ = ["Decision", "FieldError", "HostStats", "Recorder", "Series", "Trace", "VM_FIELDS", "HOST_FIELDS"]


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


#: the most ticks :meth:`Recorder.reserve` allocates ahead of those recorded (a simulated day): a run
#: longer than that grows its columns geometrically as it goes, so a mistyped run of a million minutes
#: holds the memory of what it has recorded, not of what it was asked for (it held 17 GB at once)
AHEAD_TICKS = 86_400


class Recorder:
    """Collects one row per tick into preallocated numpy columns that grow geometrically
    (:meth:`reserve` makes room ahead, ``Host.run`` reserves its run, up to :data:`AHEAD_TICKS`
    ahead, after checking that the whole run fits), so recording costs O(VMs) per tick and
    :meth:`trace` returns read-only views without copying: a thousand one-second runs cost what
    one thousand-second run costs. The VMs' rows of the last ticks
    wait as Python lists and go into the columns a block at a time (one numpy conversion per
    block, not one per VM and tick), whenever the trace is read, the VMs change, or
    :data:`BLOCK_TICKS` ticks wait.

    VM columns are kept per *name*, aligned with the host's rows: a row is written only
    while a VM of that name runs, so a name that is powered off and reused reads NaN while
    it was off and the new VM's data from its power-on on."""

    def __init__(self) -> None:
        self.n = 0
        self._t = np.empty(0, dtype=float)
        self._state = np.empty(0, dtype=np.int8)
        self._host = np.empty((len(HOST_FIELDS), 0), dtype=float)
        self._vms: dict[str, np.ndarray] = {}      # name -> (len(VM_FIELDS), capacity), NaN when off
        self._names: tuple[str, ...] = ()          # the VMs of the waiting rows, in their order
        self._block: list[list[list[float]]] = []  # per waiting tick, per VM, its values by VM_FIELDS
        self.decisions: list[Decision] = []

    @property
    def capacity(self) -> int:
        """Ticks the columns have room for (recorded or not yet)."""
        return len(self._t)

    @staticmethod
    def row_bytes(vm_names: int) -> int:
        """Bytes one tick of the trace takes with ``vm_names`` VM columns."""
        return 8 * (1 + len(HOST_FIELDS)) + 1 + 8 * len(VM_FIELDS) * vm_names

    def reserve(self, rows: int, names: Iterable[str] = (), why: str = "recording") -> None:
        """Make room for ``rows`` more ticks of the VMs ``names`` (and those seen before), up to
        :data:`AHEAD_TICKS` of them now (:meth:`record` grows the columns as it fills them); raises
        ConfigError up front, starting with ``why``, if all ``rows`` would not fit in this computer's memory."""
        need = self.n + rows
        if need <= self.capacity:
            return
        columns = len(self._vms.keys() | set(names))
        check_fits(f"{why} (a trace of {need:,} ticks for {columns} VMs)", need * self.row_bytes(columns),
                   "allowed: a shorter run, or fewer VMs")
        n = self.n
        size = max(min(need, n + AHEAD_TICKS), 2 * self.capacity)   # geometric: O(1) amortized per tick
        self._t = _grown(self._t[:n], size, 0.0)
        self._state = _grown(self._state[:n], size, 0)
        self._host = _grown(self._host[:, :n], size, 0.0)
        self._vms = {name: _grown(cols[:, :n], size, np.nan) for name, cols in self._vms.items()}

    def record(self, t: int, host: dict, names: tuple[str, ...], values: list[list[float]]) -> None:
        """Append the row of tick ``t``: host values by :data:`HOST_FIELDS`; VM ``names[i]``'s
        values in ``values[i]``, in :data:`VM_FIELDS` order."""
        if self.n == self.capacity:
            self.reserve(64, names)
        if names != self._names:
            self._flush()
            self._names = names
        row = self.n
        self._t[row] = t
        self._state[row] = host["state"]
        self._host[:, row] = [host[f] for f in HOST_FIELDS]
        self._block.append(values)
        self.n += 1
        if len(self._block) >= BLOCK_TICKS:
            self._flush()

    def _flush(self) -> None:
        """Write the waiting VM rows (the last ``len(_block)`` ticks) into their columns."""
        if not self._block:
            return
        block = np.array(self._block, dtype=float).reshape(len(self._block), len(self._names), len(VM_FIELDS))
        rows = slice(self.n - len(block), self.n)
        for i, name in enumerate(self._names):
            cols = self._vms.get(name)
            if cols is None:
                cols = self._vms[name] = np.full((len(VM_FIELDS), self.capacity), np.nan)
            cols[:, rows] = block[:, i].T
        self._block = []

    def trace(self) -> "Trace":
        """The history so far, as read-only views of the columns (no copy)."""
        self._flush()
        n = self.n
        host = Series("trace.host", **{f: _view(self._host[i, :n]) for i, f in enumerate(HOST_FIELDS)})
        host.state = _view(self._state[:n])
        vms = {name: Series(f"trace.vm({name!r})", **{f: _view(cols[i, :n]) for i, f in enumerate(VM_FIELDS)})
               for name, cols in self._vms.items()}
        return Trace(_view(self._t[:n]), host, vms, self.decisions[:])


class FieldError(Error, AttributeError):
    """A trace has no series of that name (an AttributeError too, so ``hasattr`` and ``getattr`` with a
    default work as usual)."""


class Series(SimpleNamespace):
    """One VM's series (or the host's) in a :class:`Trace`, one attribute per field, also read by name as
    in pandas (``series["alloc"]`` is ``series.alloc``; iterating gives the names); a misspelled field
    raises :class:`FieldError` naming the fields there are."""

    __slots__ = ("_where",)                        # not a series: vars() holds the series only

    def __init__(self, where: str, **series: np.ndarray) -> None:
        super().__init__(**series)
        self._where = where

    def __reduce__(self) -> tuple:
        return Series, (self._where,), dict(vars(self))      # (a slot is no part of the namespace's own state)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):                  # Python's and IPython's own look-ups
            raise AttributeError(name)
        raise self._missing(name)

    def __getitem__(self, name: str) -> np.ndarray:
        series = vars(self)
        if isinstance(name, str) and name in series:
            return series[name]
        raise self._missing(name)

    def __iter__(self) -> Iterator[str]:
        return iter(vars(self))

    def __repr__(self) -> str:
        """One line: where the series are, how many ticks, their names (not every value, as a namespace prints)."""
        names = list(self)
        ticks = len(vars(self)[names[0]]) if names else 0
        return f"<{self._where}: {len(names)} series of {ticks} ticks: {', '.join(names)}>"

    def _missing(self, name: object) -> FieldError:
        return FieldError(f"{self._where} has no series {shorten(name)}; allowed: one of {', '.join(vars(self))} "
                          "(units in esxlab.metrics).")


def _grown(a: np.ndarray, length: int, fill: float) -> np.ndarray:
    """``a`` copied into a new array whose last axis has ``length`` entries, the rest ``fill``."""
    out = np.full(a.shape[:-1] + (length,), fill, dtype=a.dtype)
    out[..., :a.shape[-1]] = a
    return out


def _view(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class Trace:
    """``trace.t`` (s), ``trace.minutes``, ``trace.host.<field>``, ``trace.vm(name).<field>``
    (fields: see :data:`VM_FIELDS`, :data:`HOST_FIELDS`; units in :mod:`esxlab.metrics`),
    ``trace.decisions``. Each series is a float array of shape (ticks,), memory in MB
    (``host.state``: int8 indices into ``STATES``); from
    ``Host.run`` they are read-only views, unchanged when the host runs on (copy to modify)."""

    def __init__(self, t: np.ndarray, host: SimpleNamespace, vms: dict, decisions: list[Decision]) -> None:
        self.t = t
        self.host = host
        self.vms = vms
        self.decisions = decisions

    @property
    def minutes(self) -> np.ndarray:
        """Each tick's simulated time in minutes (``t / 60``), float array of shape (ticks,)."""
        return self.t / 60.0

    @property
    def vm_names(self) -> list[str]:
        """The names of every VM the trace holds, in power-on order, those powered off since included."""
        return list(self.vms)

    def vm(self, name: str) -> Series:
        """The series of the VM(s) named ``name`` (NaN while none of that name ran)."""
        if isinstance(name, str) and name in self.vms:
            return self.vms[name]
        raise ConfigError(f"trace has no VM named {shorten(name)}; it has {', '.join(map(repr, self.vms)) or 'none'}.")

    def state_names(self) -> list[str]:
        """Each tick's free-memory state by name, one of :data:`~esxlab.reclaim.STATES` (§6.3)."""
        from .reclaim import STATES
        return [STATES[s] for s in self.host.state]

    def mean(self, name: str | None, field: str, start_min: float = 0, end_min: float | None = None) -> float:
        """Mean of one series over [start_min, end_min) minutes (None: to the end of the run, where a window
        that runs past it is cut too), NaN rows skipped: a VM's field (:data:`VM_FIELDS`) for the VM ``name``,
        NaN if it was off throughout, or a host field (:data:`HOST_FIELDS`, e.g. ``trace.mean(None, "free")``)
        when ``name`` is "" or None. ConfigError if no tick of the trace falls in the window (e.g. a window past
        the end of the run) or ``end_min`` is not after ``start_min``."""
        of_host = name in ("", None)
        series = self.host if of_host else self.vm(name)
        fields, others = (HOST_FIELDS, VM_FIELDS) if of_host else (VM_FIELDS, HOST_FIELDS)
        if field in others and field not in fields:
            where, who = (f"a VM's series (trace.vm(name).{field})", "a VM's name") if of_host else \
                (f"a host series (trace.host.{field})", "name = None")
            raise ConfigError(f"Trace.mean field = {field!r} is {where}; allowed: {who} for it, or with this name "
                              f"one of {', '.join(map(repr, fields))}.")
        check_choice("Trace.mean", "field", field, fields)
        check_number("Trace.mean", "start_min", start_min, 0, None)
        if end_min is not None:
            check_number("Trace.mean", "end_min", end_min, 0, None)
            if end_min <= start_min:
                raise ConfigError(f"Trace.mean: end_min = {end_min:g} must be after start_min = {start_min:g}; "
                                  "allowed: end_min > start_min, or None for the end of the run.")
        end = np.inf if end_min is None else end_min
        sel = (self.minutes >= start_min) & (self.minutes < end)
        if not sel.any():
            covers = f"t = {self.minutes[0]:g}–{self.minutes[-1]:g} min" if len(self) else "no tick (nothing has run)"
            raise ConfigError(f"Trace.mean: the window [{start_min:g}, {end:g}) min holds no tick of the trace, which "
                              f"covers {covers}; allowed: a window that overlaps the run.")
        values = getattr(series, field)[sel]
        return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan

    def __repr__(self) -> str:
        """One line: ticks and simulated minutes, the VMs, and the last tick's free memory and state."""
        vms = ", ".join(map(repr, self.vms)) or "none"
        if not len(self):
            return f"<Trace 0 ticks (nothing has run), VMs: {vms}>"
        from .reclaim import STATES
        last = f"t = {self.t[-1]:g} s: free {self.host.free[-1]:.1f} MB, state {STATES[self.host.state[-1]]!r}"
        return f"<Trace {len(self)} ticks ({len(self) / 60:g} simulated min), VMs: {vms}; last {last}>"

    def __len__(self) -> int:
        return len(self.t)
