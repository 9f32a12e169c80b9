"""The per-VM pmap (paper §2): PPN → MPN plus each page's state.

A PPN is in exactly one state: UNBACKED (never touched, or handed back by a deflating
balloon), PRIVATE (its own MPN), SHARED (maps a copy-on-write frame, §4), SWAPPED (its
contents sit in a host swap slot, §3.3), BALLOONED (given up by the guest's balloon,
§3.2), or a state a later mechanism adds; :data:`esxlab.metrics.PAGE_STATES` declares them
and :data:`STATE` indexes them by name. Per-state counts are kept incrementally, so
accounting costs O(pages changed).
"""
from __future__ import annotations

import numpy as np

from .arrays import distinct, lazy_zeros
from .metrics import STATE_NAMES

#: state name → index, in the order of :data:`esxlab.metrics.PAGE_STATES` (the one list of states)
STATE = {name: i for i, name in enumerate(STATE_NAMES)}
UNBACKED, PRIVATE, SHARED, SWAPPED, BALLOONED = (STATE[n] for n in ("unbacked", "private", "shared", "swapped", "balloon"))
#: per state index, whether the page maps a machine page (PRIVATE or SHARED): ``MAPPED[pmap.state[ppns]]``
MAPPED = np.isin(np.arange(len(STATE_NAMES)), (PRIVATE, SHARED))


class Pmap:
    """``state[ppn]``; ``mpn[ppn]``, its machine page (−1 if none: not PRIVATE or SHARED);
    ``slot[ppn]``, the slot of the store holding its contents while a store holds it (SWAPPED,
    or a state a later mechanism adds).

    ``slot`` means nothing in the other states. It starts as zeros, which the OS backs with
    memory only where written, so it costs memory for the pages that were paged out (a 1 GB
    VM's would otherwise take 1 MB at power-on)."""

    def __init__(self, pages: int) -> None:
        self.pages = int(pages)
        self.mpn = np.full(self.pages, -1, dtype=np.int32)
        self.slot = lazy_zeros(self.pages, np.int32)
        self.state = lazy_zeros(self.pages, np.int8)
        self.counts = np.zeros(len(STATE_NAMES), dtype=np.int64)
        self.counts[UNBACKED] = self.pages

    def set_state(self, ppns: np.ndarray, new: int) -> None:
        """Move ``ppns`` (distinct) to state ``new``, keeping the per-state counts."""
        if len(ppns) == 0:
            return
        self.counts -= np.bincount(self.state[ppns], minlength=len(STATE_NAMES))
        self.counts[new] += len(ppns)
        self.state[ppns] = new

    def count(self, state: int) -> int:
        """PPNs in ``state`` now (kept per state, O(1))."""
        return self.counts.item(state)          # a Python int, with no numpy scalar on the way

    def random_in_state(self, rng: np.random.Generator, state: int, n: int) -> np.ndarray:
        """Up to ``n`` distinct PPNs in ``state``, uniformly at random.

        Rejection sampling keeps the cost proportional to ``n`` / (the state's share of the pmap)
        while the state is common or that draw is small beside the pmap (few pages wanted); a scan
        of the whole pmap is the fallback.
        """
        have = self.count(state)
        n = min(n, have)
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        density = have / self.pages
        size = int(n / density * 1.5) + 16
        if density > 0.05 or size <= self.pages // 8:
            for _ in range(4):
                draw = rng.integers(0, self.pages, size=size)
                hit = distinct(draw[self.state[draw] == state])
                if len(hit) >= n:
                    return rng.permutation(hit)[:n]
        pool = (self.state == state).nonzero()[0]
        return rng.choice(pool, size=n, replace=False)
