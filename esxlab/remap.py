"""Hot I/O page remapping (paper §7).

Machine memory below a DMA boundary (4 GB for 32-bit PCI devices under PAE; a smaller
``RemapConfig.low_memory_mb`` in teaching scenarios) is *low*; the rest is *high*. A device
cannot reach high memory, so network or disk I/O on a guest page backed by a high machine
page is copied through a bounce buffer in low memory. ESX "tracks 'hot' pages in high memory
that are involved in repeated I/O operations. When a page's count exceeds a threshold, the
page is transparently remapped into low memory" (§7; it extends its cache of PPN→MPN
mappings used for transmits to count copies per page). The rule here: a page is remapped at
the transfer that brings its count of bounce copies to ``RemapConfig.threshold`` (count ≥
threshold). That transfer is the last one copied. The page is copied once to a low machine
page, its pmap entry is updated (the guest notices nothing), and the rest of that tick's
transfers on it reach the device directly. The paper gives no threshold value, so its
"exceeds" only fixes a convention: esxlab's ``threshold`` (invented default) is the number of
copies a page pays before it moves, and "count > T" is esxlab's threshold T + 1.

Remapping happens *at that transfer*, within the tick, not at the tick's end. I/O arrives as
one batch per tick, each page once with its number of transfers (``Access.io_transfers``). A
page's copies are therefore computed arithmetically: min(transfers, threshold − count) for a
page that is remapped (count: its copies so far), and all its transfers for one that stays high. The cost is O(pages
given I/O) per tick, not O(transfers). The batch has no order within the second: when low
pages run short, the hot pages are served in PPN order. A page whose count already reached
the threshold (its remap failed before: no low page free) pays one copy, and the remap is
tried again at that copy.

Invented where §7 is silent: a page's count restarts after ``window_s`` seconds without I/O
(a per-PPN counter stands in for the paper's small cache); if no low page is free, a
remapped page idle for ``window_s`` trades places with the hot one (and if none is idle, the
hot page stays high and every transfer on it is copied); and when free low memory falls
below ``low_reserve_pct`` of low memory, remapped pages that went cold move back to high
memory (the paper leaves low-memory replacement open). Only pages this module remapped are
ever moved back, and only private pages are remapped (a shared frame has no back-map to its
PPNs, §4.3). A remapped page keeps its contents.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .config import PAGES_PER_MB, HostConfig, RemapConfig
from .pmap import MAPPED, PRIVATE

NEVER = -(1 << 30)


def low_pages(config: HostConfig) -> int:
    """Machine pages below the DMA boundary (all of memory if the boundary lies beyond it)."""
    return min(config.total_pages, int(round(config.remap.low_mb * PAGES_PER_MB)))


@dataclass(frozen=True)
class RemapStats:
    """Bounce copies and low-memory pressure (§7)."""

    bounce_copies: int         # since the start
    bounce_copies_last_s: int  # in the last tick (one simulated second)
    remaps: int                # pages moved high → low because they were hot
    moved_back: int            # cold remapped pages moved low → high (low memory short)
    remap_failed: int          # hot pages left in high memory (no low page free or cold), counted each second they stay
    remapped_pages: int        # pages currently held in low memory by remapping
    low_mb: float
    low_free_mb: float


class IORemapper:
    """Counts bounce copies and remaps hot pages; ``host.remap``."""

    def __init__(self, config: RemapConfig, machine, vms: dict, clock) -> None:
        """Collaborators: the machine, the running VMs (``name -> VM``, read only), the clock."""
        self.config = config
        self.machine = machine
        self.vms = vms
        self.clock = clock
        self.count: dict[int, np.ndarray] = {}      # per VM: bounce copies in the current window
        self.last_io: dict[int, np.ndarray] = {}    # per VM: tick of the last I/O per PPN
        self.remapped: deque[tuple[int, int]] = deque()   # (VM uid, PPN), oldest first
        self._listed: set[tuple[int, int]] = set()
        self.bounce_copies = 0
        self.last_bounces = 0
        self._tick_bounces = 0
        self.remaps = self.moved_back = self.remap_failed = 0

    # -- I/O ------------------------------------------------------------------------------------
    def io(self, vm, ppns: np.ndarray, transfers: np.ndarray | None = None) -> None:
        """The guest does ``transfers[i]`` transfers on ``ppns[i]`` (None: one each; a repeated
        PPN adds up; −1 = not resident). Each transfer from high memory is one bounce copy, up
        to the transfer that brings a hot private page's count to ``threshold``: the page is
        remapped there and its remaining transfers are not copied (§7)."""
        ppns = np.asarray(ppns, dtype=np.int64)
        transfers = np.ones(len(ppns), dtype=np.int64) if transfers is None else np.asarray(transfers, np.int64)
        keep = (ppns >= 0) & (transfers > 0)
        ppns, transfers = ppns[keep], transfers[keep]
        keep = MAPPED[vm.pmap.state[ppns]]
        ppns, transfers = ppns[keep], transfers[keep]
        if len(ppns) == 0:
            return
        high = vm.pmap.mpn[ppns] >= self.machine.low_pages
        if vm.uid not in self.count:
            self.count[vm.uid] = np.zeros(vm.pages, dtype=np.int32)
            self.last_io[vm.uid] = np.full(vm.pages, NEVER, dtype=np.int32)
        count, last = self.count[vm.uid], self.last_io[vm.uid]
        now = self.clock.t
        pages, at = np.unique(ppns[high], return_inverse=True)      # each high page once, PPN order
        wanted = np.zeros(len(pages), dtype=np.int64)                # its transfers this tick
        np.add.at(wanted, at, transfers[high])
        fresh = now - last[pages] > self.config.window_s
        before = np.where(fresh, 0, count[pages]).astype(np.int64)
        last[ppns] = now                       # before remapping: a page in I/O now is not cold
        copies = wanted
        moved = pages[:0]
        if self.config.enabled:
            threshold = self.config.threshold
            hot = np.flatnonzero((before + wanted >= threshold) & (vm.pmap.state[pages] == PRIVATE))
            if len(hot):
                k = self._remap(vm, pages[hot])          # the first k of them moved to low memory
                done = hot[:k]
                copies = wanted.copy()
                # copies up to the one that reaches the threshold (at least that one, if the count
                # already had: its remap failed before); the rest of the tick's go from low memory
                copies[done] = np.minimum(wanted[done], np.maximum(threshold - before[done], 1))
                moved = pages[done]
        count[pages] = np.minimum(before + copies, np.iinfo(np.int32).max)
        count[moved] = 0
        n = int(copies.sum())
        self._tick_bounces += n
        self.bounce_copies += n
        vm.counters.bounce_copies += n

    def _remap(self, vm, ppns: np.ndarray) -> int:
        """Move hot private ``ppns`` to low memory: free low pages first, else trade places with
        cold remapped pages. Returns k: ``ppns[:k]`` moved, the rest stay in high memory."""
        m = self.machine
        k = min(len(ppns), m.free_low)
        if k:
            self._move(vm, ppns[:k], low=True)
        rest = ppns[k:]
        for (other, q), p in zip(self._cold_remapped(len(rest)), rest.tolist()):
            a, b = int(vm.pmap.mpn[p]), int(other.pmap.mpn[q])       # a high (hot), b low (cold)
            m.content[a], m.content[b] = m.content[b], m.content[a]
            m.owner[a], m.owner[b] = other.uid, vm.uid
            vm.pmap.mpn[p], other.pmap.mpn[q] = b, a
            self.moved_back += 1
            k += 1
        self.remap_failed += len(ppns) - k
        self.remaps += k
        vm.break_large(ppns[:k])             # a page leaves a large page only once it is broken (later ESX)
        for p in ppns[:k].tolist():
            if (vm.uid, p) not in self._listed:
                self._listed.add((vm.uid, p))
                self.remapped.append((vm.uid, p))
        return k

    def _cold_remapped(self, n: int) -> list:
        """Up to ``n`` remapped pages idle for ``window_s``, still private and low (removed from
        the list); entries that are no longer ours are dropped, hot ones go to the back."""
        out, vms = [], {v.uid: v for v in self.vms.values()}
        low, now = self.machine.low_pages, self.clock.t
        for _ in range(len(self.remapped) if n else 0):
            uid, ppn = entry = self.remapped.popleft()
            vm = vms.get(uid)
            if vm is None or vm.pmap.state[ppn] != PRIVATE or vm.pmap.mpn[ppn] >= low:
                self._listed.discard(entry)
            elif now - self.last_io[uid][ppn] > self.config.window_s:
                self._listed.discard(entry)
                out.append((vm, ppn))
                if len(out) == n:
                    break
            else:
                self.remapped.append(entry)
        return out

    # -- once per tick ----------------------------------------------------------------------------
    def step(self) -> None:
        """Close the tick's bounce count; keep the low-memory reserve by moving cold remapped
        pages back to high memory."""
        self.last_bounces, self._tick_bounces = self._tick_bounces, 0
        m = self.machine
        short = int(self.config.low_reserve_pct / 100 * m.low_pages) - m.free_low
        room = m.free - m.free_low                      # free high pages
        if short <= 0 or room <= 0 or not self.config.enabled:
            return
        for vm, ppn in self._cold_remapped(min(short, room)):
            self._move(vm, np.array([ppn]), low=False)
            self.moved_back += 1

    def _move(self, vm, ppns: np.ndarray, low: bool) -> None:
        """Copy the private ``ppns`` of ``vm`` to fresh machine pages, low memory or high, and free the old."""
        m = self.machine
        old = vm.pmap.mpn[ppns]
        new = m.alloc(len(ppns), vm.uid, low=low)
        m.content[new] = m.content[old]
        m.release(old)
        vm.pmap.mpn[ppns] = new

    def forget(self, vm) -> None:
        """``vm`` powered off: its remapped pages are no longer listed."""
        self.count.pop(vm.uid, None)
        self.last_io.pop(vm.uid, None)
        kept = [e for e in self.remapped if e[0] != vm.uid]
        self._listed.difference_update(e for e in self.remapped if e[0] == vm.uid)
        self.remapped = deque(kept)

    def stats(self) -> RemapStats:
        """Bounce copies, remaps and low memory now (:class:`RemapStats`)."""
        m, mb = self.machine, 1.0 / PAGES_PER_MB
        return RemapStats(self.bounce_copies, self.last_bounces, self.remaps, self.moved_back, self.remap_failed,
                          len(self.remapped), m.low_pages * mb, m.free_low * mb)
