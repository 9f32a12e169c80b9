"""Workloads made for one experiment's set-up: a delayed start (Fig. 2), a deployed server's contents
(Fig. 5) and a server's footprint and working set over time (Fig. 8). (invented)"""
from __future__ import annotations

import math

import numpy as np

from ..config import PAGES_PER_MB
from ..content import TokenMint, image_tokens
from ..errors import ConfigError, check_number, shorten
from ..resources import check_pages_fit
from .base import EMPTY, PER_WORKLOAD, Access, Workload, attached_pages, check_steps, checked, in_seconds, outside
from .general import Spec95
from .registry import make


class Delayed(Workload):
    """``inner`` starts at ``start_s`` seconds of VM time (a whole number; a fraction is dropped):
    before that the VM is idle; from VM tick ``start_s`` (tick 1 for 0) ``inner`` runs as if the VM
    had just booted, VM tick t being its tick t − start_s + 1 (ticks count from 1). Name, contents
    (and how they compress) and CPU cost are ``inner``'s: the attributes of :data:`PER_WORKLOAD`.
    (invented helper: Figure 2's dbench starts once the balloon is in place)"""

    def __init__(self, inner: Workload, start_s: float) -> None:
        if not isinstance(inner, Workload):
            raise ConfigError(f"Delayed.inner must be a Workload instance (e.g. esx.workloads.Dbench()), got "
                              f"{shorten(inner)}.")
        check_number("Delayed", "start_s", start_s, 0, None)
        self.inner = make(inner)                 # (refuses one that drove a VM, or that another Delayed wraps)
        inner.wrapper = self                     # (so that no other VM, nor another Delayed, takes it)
        self.start_s = int(start_s)
        self._first = max(1, self.start_s)       # the VM tick of inner's tick 1
        self._pages = 0
        for attr in PER_WORKLOAD:
            setattr(self, attr, getattr(inner, attr))

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)       # (marks this instance used: make() refuses it for another VM)
        self._pages = attached_pages(self.inner, vm_pages, uid, rng)
        return self._pages

    def step(self, t: int) -> Access:
        """EMPTY before ``start_s``, then ``inner``'s tick; an inner workload written outside esxlab has
        its ticks checked here, as the VM checks such a workload of its own (:func:`checked`)."""
        if t < self._first:
            return EMPTY
        tick = t - self._first + 1
        acc = self.inner.step(tick)
        return checked(acc, self._pages, type(self.inner).__name__, tick) if outside(self.inner) else acc

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray | None:
        return self.inner.disk_tokens(mint, pages)


class Deployed(Spec95):
    """A production server's memory as contents (invented for Figure 5, ``experiments/fig5.py``):
    file pages from ``images`` ((name, MB) pairs: identical in every VM naming the same image),
    then ``private_mb`` of this VM's own data (a negative size counts as 0), then ``zero_mb`` of
    zero pages; read in sequentially over ``warm_s`` seconds, then 200 random pages a second
    (:class:`Spec95`'s reads; no writes, so the contents never change)."""

    name = "deployed"

    def __init__(self, images: tuple[tuple[str, float], ...], private_mb: float, zero_mb: float,
                 warm_s: float) -> None:
        for name, mb in check_steps("Deployed", "images", images, ("name", "mb"), numbers=("mb",)):
            if not isinstance(name, str) or not name:
                raise ConfigError(f"Deployed.images name must be a non-empty str naming a file set, got "
                                  f"{shorten(name)}.")
        check_number("Deployed", "private_mb", private_mb, None, None)
        check_number("Deployed", "zero_mb", zero_mb, 0, 1 << 20)            # (Spec95's bounds, named as given here)
        check_number("Deployed", "warm_s", warm_s, 1, 10 ** 6)
        self.images = tuple((name, int(round(mb * PAGES_PER_MB))) for name, mb in images)
        private = max(0, int(round(private_mb * PAGES_PER_MB)))
        files = sum(n for _, n in self.images) + private
        check_pages_fit(f"Deployed(images = {shorten(images)}, private_mb = {private_mb!r}, zero_mb = {zero_mb!r})",
                        files + zero_mb * PAGES_PER_MB)
        if files > (1 << 20) * PAGES_PER_MB:
            raise ConfigError(f"Deployed images and private_mb hold {files / PAGES_PER_MB:g} MB of files in all; "
                              f"allowed: at most {1 << 20} MB (Spec95.files_mb's bound).")
        super().__init__(files_mb=files / PAGES_PER_MB, dup_mb=0, zero_mb=zero_mb, data_mb=0,
                         warm_s=warm_s, writes_per_s=0)
        self.files = files

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        shared = [image_tokens(name, np.arange(n)) for name, n in self.images]
        private = self.files - sum(n for _, n in self.images)
        return np.concatenate(shared + [mint.take(private), np.zeros(self.zeros, dtype=np.uint64)])


class Server(Workload):
    """A server VM's memory behaviour (invented for Figure 8, ``experiments/fig8.py``): a
    footprint of data written once, at ``fill_mb_s`` MB/s, up to the size its ``footprint`` steps
    ask for, and a working set (the first pages of the footprint) following its ``active`` steps,
    swept round-robin, a third of its touches writing. Steps are ``(minute, MB)`` for the
    footprint and ``(minute, MB, sweep seconds)`` for the working set; a size holds until the
    next step, and before the first it is 0. Logical pages: as many as the largest size asked."""

    name = "server"

    def __init__(self, footprint, active, fill_mb_s: float) -> None:
        footprint = check_steps("Server", "footprint", footprint, ("minute", "mb"))
        active = check_steps("Server", "active", active, ("minute", "mb", "sweep_s"))
        for _, _, sweep_s in active:
            check_number("Server", "active sweep_s", sweep_s, 1, None)
        top = max([0] + [mb for _, mb, *_ in footprint + active])
        check_pages_fit(f"Server footprint or active mb = {top!r}", top * PAGES_PER_MB)
        check_number("Server", "fill_mb_s", fill_mb_s, 0, None, lo_open=True)
        self.footprint, self.active = in_seconds(footprint), in_seconds(active)
        self.fill = max(1, int(fill_mb_s * PAGES_PER_MB))
        self.filled = 0
        self._cursor = 0

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = max([0] + [p for _, p, *_ in self.footprint + self.active])
        return self.pages

    @staticmethod
    def _at(steps, t: int) -> tuple:
        now = (0, 0, 1)
        for step in steps:
            if t >= step[0]:
                now = step
        return now

    def step(self, t: int) -> Access:
        ws, sweep = self._at(self.active, t)[1:]
        want = max(self._at(self.footprint, t)[1], ws)
        old = self.filled
        self.filled = max(old, min(want, old + self.fill))      # pages old … filled − 1 are new
        ws = min(ws, self.filled)
        hot = []
        if ws:                      # the sweep's next ``per`` pages, wrapping at ws, of those written before
            per, c = math.ceil(ws / sweep), self._cursor % ws
            end = c + min(per, ws)
            hot = [np.arange(c, min(end, ws, old), dtype=np.int64)]
            if end > ws:
                hot.append(np.arange(min(end - ws, old), dtype=np.int64))
            self._cursor = (c + per) % ws
        n_hot = sum(len(h) for h in hot)
        if old == self.filled:      # the footprint is full: the sweep alone (the usual tick)
            lps = hot[0] if len(hot) == 1 else np.concatenate(hot or [np.empty(0, dtype=np.int64)])
            return Access(lps, self.rng.random(n_hot) < 1 / 3)
        writes = np.ones(self.filled - old + n_hot, dtype=bool)
        writes[self.filled - old:] = self.rng.random(n_hot) < 1 / 3
        return Access(np.concatenate([np.arange(old, self.filled, dtype=np.int64), *hot]), writes)
