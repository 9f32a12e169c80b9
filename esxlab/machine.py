"""Machine memory (paper §2): MPNs, their contents, owners and the free pool.

Machine pages are split into *low* memory (below the DMA boundary, reachable by 32-bit
devices, §7) and *high* memory. Each region keeps a free stack, so allocating or freeing
``n`` pages costs O(n) whatever the size of memory. Newly allocated pages are zeroed so no
information leaks between VMs (§2, footnote 2). The same footnote's cache colouring (distinct
PPN colours on distinct MPN colours) is not modelled: nothing here has a cache.
"""
from __future__ import annotations

import numpy as np

from .arrays import Stack, lazy_zeros
from .errors import Error

FREE = 0        # owner of a free MPN (VM uids start at 1; 0 lets a big host's untouched memory cost nothing)
OVERHEAD = -2   # per-VM overhead memory (frame buffer, pmap, shadow page tables, §6.2)
SHARED = -3     # a copy-on-write frame shared through the page-sharing table (§4)
TABLE = -4      # memory holding the page-sharing hash table (16 bytes per frame, §4.3)
#: the most VMs a host powers on in its life: owner codes are 16-bit (2 bytes per machine page)
MAX_UID = int(np.iinfo(np.int16).max)


class OutOfMemory(Error):
    """The free pool cannot satisfy an allocation: a broken invariant, never expected (callers make room
    first, through the reclaimer), so nothing catches it."""


class Machine:
    """All machine pages: ``content`` (uint64 tokens, 0 = zero page) and ``owner`` per MPN (int16:
    a VM's uid, up to :data:`MAX_UID`, or one of the codes above)."""

    def __init__(self, total_pages: int, low_pages: int | None = None) -> None:
        low = total_pages if low_pages is None else min(int(low_pages), total_pages)
        self.total = int(total_pages)
        self.low_pages = low
        self.content = lazy_zeros(self.total, np.uint64)
        self.owner = lazy_zeros(self.total, np.int16)          # all FREE
        # lowest MPN on top of each free stack
        self._low = Stack.run(low, 0, low, dtype=np.int32)
        self._high = Stack.run(self.total - low, low, self.total, dtype=np.int32)
        self.owners: dict[str, int] = {}         # owners named by later mechanisms → their codes

    def owner_code(self, name: str) -> int:
        """The owner code of machine pages a mechanism holds outside any VM (e.g. a cache), by
        the mechanism's ``name``: the same code for the same name, new names get codes below
        :data:`TABLE` in the order they are asked for."""
        return self.owners.setdefault(name, TABLE - 1 - len(self.owners))

    @property
    def free(self) -> int:
        """Free machine pages, low and high memory together."""
        return self._low.n + self._high.n

    @property
    def free_low(self) -> int:
        """Free machine pages in low memory (the DMA-reachable part, §7)."""
        return self._low.n

    def alloc(self, n: int, owner: int, low: bool = False) -> np.ndarray:
        """Take ``n`` zeroed MPNs for ``owner``: high memory first unless ``low`` is asked for (invented: the
        paper gives no allocation order; high first keeps low memory for what needs it, §7)."""
        if n > self.free or (low and n > self._low.n):
            raise OutOfMemory(f"asked for {n} machine pages, {self.free} free ({self._low.n} low)")
        if low:
            mpns = self._low.pop(n)[::-1]
        else:
            k = min(n, self._high.n)
            high = self._high.pop(k)[::-1]
            mpns = np.concatenate([high, self._low.pop(n - k)[::-1]]) if k < n else high
        self.content[mpns] = 0
        self.owner[mpns] = owner
        return mpns

    def release(self, mpns: np.ndarray) -> None:
        """Return MPNs to their region's free pool."""
        mpns = np.asarray(mpns, dtype=np.int32)
        if len(mpns) == 0:
            return
        self.owner[mpns] = FREE
        low = mpns < self.low_pages
        self._low.push(mpns[low])
        self._high.push(mpns[~low])
