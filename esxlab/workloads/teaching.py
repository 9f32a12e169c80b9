"""Small workloads with known contents or shapes, for the graded exercises (:mod:`esxlab.problems`):
an application image's contents, a hot/cold working set, a side-channel probe, a process that grows.
(invented)"""
from __future__ import annotations

import numpy as np

from ..arrays import distinct
from ..config import PAGES_PER_MB
from ..content import TokenMint, image_tokens
from ..errors import ConfigError, check_number, shorten
from ..resources import check_pages_fit
from .base import EMPTY, Access, Workload


class Contents(Workload):
    """Known contents, for page-sharing exercises: ``app_mb`` of an application image
    (identical in every VM running the same ``app``), ``zero_mb`` of zero pages and
    ``private_mb`` found in no other page. It reads them all in its first second; they never
    change afterwards. (invented)"""

    name = "contents"
    file_backed = True

    def __init__(self, app: str = "app", app_mb: float = 4, zero_mb: float = 1, private_mb: float = 1) -> None:
        if not isinstance(app, str) or not app:
            raise ConfigError(f"Contents.app must be a non-empty str naming the application image, got "
                              f"{shorten(app)}.")
        for name, mb in (("app_mb", app_mb), ("zero_mb", zero_mb), ("private_mb", private_mb)):
            check_number("Contents", name, mb, 0, None)
        check_pages_fit(f"Contents(app_mb = {app_mb!r}, zero_mb = {zero_mb!r}, private_mb = {private_mb!r})",
                        (app_mb + zero_mb + private_mb) * PAGES_PER_MB)
        self.app = app
        self.sizes = [int(mb * PAGES_PER_MB) for mb in (app_mb, zero_mb, private_mb)]

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = sum(self.sizes)
        return self.pages

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        app, zero, private = self.sizes
        return np.concatenate([image_tokens(self.app, np.arange(app)), np.zeros(zero, dtype=np.uint64),
                               mint.take(private)])

    def step(self, t: int) -> Access:
        return Access(np.arange(self.pages), np.zeros(self.pages, dtype=bool)) if t == 1 else EMPTY


class HotCold(Workload):
    """A working set with locality, for replacement-policy exercises: it writes all of its
    ``hot_mb + cold_mb`` once while warming up (``warm_s`` seconds), then every second writes
    all hot pages and ``cold_per_s`` random cold ones. (invented)"""

    name = "hot-cold"

    def __init__(self, hot_mb: float = 8, cold_mb: float = 32, cold_per_s: int = 20, warm_s: int = 20) -> None:
        check_number("HotCold", "hot_mb", hot_mb, 0, None)
        check_number("HotCold", "cold_mb", cold_mb, 1 / PAGES_PER_MB, None)      # (at least one page to draw from)
        check_pages_fit(f"HotCold(hot_mb = {hot_mb!r}, cold_mb = {cold_mb!r})", (hot_mb + cold_mb) * PAGES_PER_MB)
        check_number("HotCold", "cold_per_s", cold_per_s, 0, 10 ** 7, integer=True)
        check_number("HotCold", "warm_s", warm_s, 1, None, integer=True)
        self.hot, self.cold = int(hot_mb * PAGES_PER_MB), int(cold_mb * PAGES_PER_MB)
        self.cold_per_s, self.warm_s = int(cold_per_s), int(warm_s)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = self.hot + self.cold
        return self.pages

    def step(self, t: int) -> Access:
        if t <= self.warm_s:
            per = -(-self.pages // self.warm_s)
            lps = np.arange((t - 1) * per, min(t * per, self.pages))
        else:
            lps = np.concatenate([np.arange(self.hot),
                                  self.hot + distinct(self.rng.integers(0, self.cold, self.cold_per_s))])
        return Access(lps, np.ones(len(lps), dtype=bool))


class Probe(Workload):
    """A page-sharing side-channel probe, for security exercises: one page per candidate content
    (the page ``image_tokens(name, [0])``, as :class:`Contents` holds an image named ``name``), read
    in the first second; from ``probe_at_s`` it writes one of them per second, in order, and
    nothing else. A write that breaks copy-on-write reveals that the page was shared. (invented)"""

    name = "probe"
    file_backed = True

    def __init__(self, candidates=("a", "b"), probe_at_s: int = 60) -> None:
        # (in order: a set's order, or a dict's keys, would be Python's choice, not the caller's)
        names = tuple(candidates) if isinstance(candidates, (list, tuple, np.ndarray)) else ()
        if not names or not all(isinstance(c, str) and c for c in names):
            raise ConfigError(f"Probe.candidates must be a list or tuple of non-empty str (content names, probed in "
                              f"that order), got {shorten(candidates)}.")
        repeated = next((c for i, c in enumerate(names) if c in names[:i]), None)
        if repeated is not None:              # two pages of one content would share with each other: a false positive
            raise ConfigError(f"Probe.candidates = {shorten(candidates)} names {str(repeated)!r} twice; allowed: "
                              "distinct names, one page each.")
        check_number("Probe", "probe_at_s", probe_at_s, 2, None, integer=True)
        self.candidates = names
        self.probe_at_s = int(probe_at_s)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = len(self.candidates)
        return self.pages

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        return np.concatenate([image_tokens(c, np.arange(1)) for c in self.candidates])

    def step(self, t: int) -> Access:
        if t == 1:
            return Access(np.arange(self.pages), np.zeros(self.pages, dtype=bool))
        i = t - self.probe_at_s
        return Access(np.array([i]), np.ones(1, dtype=bool)) if 0 <= i < self.pages else EMPTY


class Grow(Workload):
    """A process that writes ``base_mb`` of fresh data in its first second, then sits idle until
    ``grow_at_s``, when it writes ``grow_mb`` more at once (a large buffer), for demand-paging
    exercises: a guest short of free pages must page some of its own out. (invented)"""

    name = "grow"

    def __init__(self, base_mb: float = 16, grow_mb: float = 8, grow_at_s: int = 30) -> None:
        check_number("Grow", "base_mb", base_mb, 0, None)
        check_number("Grow", "grow_mb", grow_mb, 0, None)
        check_pages_fit(f"Grow(base_mb = {base_mb!r}, grow_mb = {grow_mb!r})", (base_mb + grow_mb) * PAGES_PER_MB)
        check_number("Grow", "grow_at_s", grow_at_s, 2, None, integer=True)
        self.base, self.grow = int(base_mb * PAGES_PER_MB), int(grow_mb * PAGES_PER_MB)
        self.grow_at_s = int(grow_at_s)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = self.base + self.grow
        return self.pages

    def step(self, t: int) -> Access:
        if t == 1:
            lps = np.arange(self.base)
        elif t == self.grow_at_s:
            lps = self.base + np.arange(self.grow)
        else:
            return EMPTY
        return Access(lps, np.ones(len(lps), dtype=bool))
