"""Memory compression (later ESX, 4.1+; not in the paper): a reclaim stage between ballooning
and swapping.

When the host pages a VM out (:meth:`.swap.Swapper.swap_out`, per tick or for a fault), each
victim that compresses to half a page or less goes into the VM's **compression cache** instead
of the swap area; the rest is swapped. The cache is machine memory charged to its VM, at most
``HostConfig.compression_cache_pct`` of the VM's memory (later ESX ``Mem.MemZipMaxPct``: 10 % per one
blog, 50 per a study guide; not verified);
a full cache sends the victims to swap, and a VM paged with no private page left gives up its
compressed pages to swap, its cache shrinking (:meth:`CompressionCache.spill`). Two compressed
pages share one machine page (2 KB slots; the model keeps the cache compacted, an invented
simplification), so compressing 2 pages frees 1 machine page net. A guest touch of a compressed
page decompresses it (``decompress_us``, an invented cost of microseconds against a swap-in's
milliseconds).

Whether a page compresses is a property of its contents (:func:`compressible`) with an
invented fraction per workload (``Workload.compressible``). Contents are kept exactly: a
compressed page's token sits in a cache slot (``pmap.slot``), so nothing is lost.

The cache plugs into the generic places a reclaim mechanism uses (``docs/architecture.md``):
it is a :class:`~esxlab.swap.Stage` of the swapper's page-out (:meth:`CompressionCache.stage`)
and the :class:`~esxlab.swap.BackingStore` of the "compressed" page state, whose index comes
from the metrics table (:data:`COMPRESSED`); the host wires both when ``HostConfig.compression``
is on.
"""
from __future__ import annotations

import numpy as np

from .config import HostConfig
from .content import mix64
from .pmap import STATE
from .swap import SlotStore, Stage, SwapFile

SLOTS_PER_PAGE = 2          # a page that compresses to ≤ 2 KB takes half a machine page
COMPRESSED = STATE["compressed"]        # the pmap state (a row of esxlab.metrics.PAGE_STATES)
_ZIP_SALT = np.uint64(0x5851F42D4C957F2D)


def compressible(tokens: np.ndarray, fraction: float) -> np.ndarray:
    """Which pages with contents ``tokens`` compress to half a page or less (memory compression,
    later ESX): the zero page always; any other content with probability ``fraction``, decided
    by its token (equal contents, equal answer). ``fraction`` per workload is invented
    (``Workload.compressible``). Shape: like ``tokens``; dtype bool."""
    t = np.asarray(tokens, dtype=np.uint64)
    u = (mix64(t ^ _ZIP_SALT) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return (t == 0) | (u < fraction)


class CompressionCache(SlotStore):
    """Every VM's compression cache: a store of slots (a :class:`~esxlab.swap.SwapFile` kept in
    memory, grown as needed) and, per VM, the machine pages (owner :attr:`owner`, the machine's
    code for "compression") that hold its compressed pages, ``ceil(compressed / 2)`` of them.
    A :class:`~esxlab.swap.SlotStore` (its restore decompresses); it adds the cache's machine
    pages. Collaborator: the machine."""

    state = COMPRESSED
    stored = "compressions"
    restored = "decompressions"

    def __init__(self, config: HostConfig, machine) -> None:
        super().__init__(machine, SwapFile(0))
        self.pct = config.compression_cache_pct
        self.owner = machine.owner_code("compression")
        self.mpns: dict[int, np.ndarray] = {}          # VM uid → its cache's machine pages
        self.compressed = 0                            # guest pages compressed, all VMs

    # -- accounting ---------------------------------------------------------------------------
    @property
    def pages(self) -> int:
        """Machine pages the caches take, all VMs."""
        return sum(len(m) for m in self.mpns.values())

    @property
    def saved_pages(self) -> int:
        """Machine pages compression saves: pages compressed less the cache pages holding them."""
        return self.compressed - self.pages

    def charged_pages(self, vm) -> int:
        """The machine pages of ``vm``'s cache (charged to the VM: part of its alloc)."""
        return len(self.mpns.get(vm.uid, ()))

    def released_pages(self, vm, n: int) -> int:
        """The cache pages ``n`` of ``vm``'s compressed pages leaving (decompressed) may release: its cache holds
        ``ceil(compressed / 2)`` (later ESX), so ⌊n / 2⌋ or ⌈n / 2⌉ by the parity when they leave, which a fault's
        own page-outs may change after it asks. The more: a fault then never pages its VM below its min (§6.2),
        at the cost of ending, at most, a page above a limit (later ESX)."""
        return -(-n // SLOTS_PER_PAGE)

    def cap_pages(self, vm) -> int:
        """The most machine pages ``vm``'s cache may take: ``compression_cache_pct`` of the memory
        it may hold (its max, or its limit if lower: a cache charged to the VM must fit its limit)."""
        return int(vm.config.limit_pages * self.pct / 100)

    # -- the reclaim stage ------------------------------------------------------------------------
    def stage(self) -> Stage:
        """The page-out stage, between share before swap and the swap area: "compress" in the log."""
        return Stage("compress", self.compress, self.spill)

    def compress(self, vm, ppns: np.ndarray) -> np.ndarray:
        """Compress the private ``ppns`` that compress to half a page or less, as many as the VM's
        cache holds; return the others (to be swapped). Frees machine memory: 2 pages → 1."""
        if len(ppns) == 0:
            return ppns
        mpns = vm.pmap.mpn[ppns]
        tokens = self.machine.content[mpns]
        room = SLOTS_PER_PAGE * self.cap_pages(vm) - vm.pmap.count(COMPRESSED)
        ok = compressible(tokens, vm.workload.compressible).nonzero()[0][:max(0, room)]
        if len(ok) == 0:
            return ppns
        take = ppns[ok]
        self.machine.release(mpns[ok])
        self._put(vm, take, tokens[ok])
        self.compressed += len(take)
        self._fit(vm)
        rest = np.ones(len(ppns), dtype=bool)
        rest[ok] = False
        return ppns[rest]

    def spill(self, vm, n: int, most: int, protect: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """``vm`` has no private page left to page out: its cache shrinks by up to ``n`` machine
        pages, giving up the compressed pages touched longest ago (at most ``most``, none in
        ``protect``); returns their PPNs and contents, for the swap area. (Later ESX under severe
        pressure shrinks the cache and swaps out the pages it held, per VMware's vSphere 5.0 memory
        white paper; not verified. Without it a cache is memory above its VM's min that no page-out
        can reach.)"""
        held = (vm.pmap.state == COMPRESSED).nonzero()[0]
        if protect is not None and len(protect):
            held = held[~np.isin(held, protect)]
        take = held[np.argsort(vm.last_touch[held], kind="stable")[:min(SLOTS_PER_PAGE * n, most)]]
        tokens = self.peek(vm, take)
        self.drop(vm, take)
        return take, tokens

    # -- the BackingStore of COMPRESSED pages: SlotStore's restore (decompress), peek and drop ----
    def _dropped(self, vm, n: int) -> None:
        """``n`` compressed pages leave (decompressed, ballooned, VM powered off): the cache shrinks
        before a decompression allocates its machine pages."""
        self.compressed -= n
        self._fit(vm, n)

    def _fit(self, vm, leaving: int = 0) -> None:
        """Grow or shrink ``vm``'s cache to ``ceil(compressed / 2)`` machine pages (``leaving``:
        compressed pages about to leave the state)."""
        want = -(-(vm.pmap.count(COMPRESSED) - leaving) // SLOTS_PER_PAGE)
        have = self.mpns.get(vm.uid, np.empty(0, dtype=np.int32))
        if want > len(have):
            have = np.concatenate([have, self.machine.alloc(want - len(have), self.owner)])
        elif want < len(have):
            self.machine.release(have[want:])
            have = have[:want]
        if len(have):
            self.mpns[vm.uid] = have
        else:
            self.mpns.pop(vm.uid, None)

    def _slots_for(self, tokens: np.ndarray) -> np.ndarray:
        """Slots holding ``tokens``, the store grown first if it is short of them."""
        short = len(tokens) - self.slots.free
        if short > 0:                                  # grow geometrically
            self.slots.resize(max(short, self.slots.capacity, 1024))
        return self.slots.store(tokens)
