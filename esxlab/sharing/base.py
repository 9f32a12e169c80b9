"""What every page-sharing mode has in common (paper §4), and on its own the "off" mode.

:class:`SharingBase` holds *shared frames* (a machine page mapped copy-on-write by several
PPNs, owner :data:`~esxlab.machine.SHARED`), 16-bit reference counts with an overflow table
for larger counts (the zero page's, §4.3), copy-on-write breaks, unsharing, the memory the
table itself takes (machine pages with owner :data:`~esxlab.machine.TABLE`, charged against
the host), salting, and the statistics. :mod:`.esx` and :mod:`.ksm` add their scanners.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..arrays import Stack, distinct_counts, lazy_zeros, run_starts, runs
from ..config import PAGES_PER_MB, SharingConfig
from ..content import mix64
from ..machine import SHARED as SHARED_OWNER, TABLE
from ..pmap import PRIVATE, SHARED

FREE_FRAME, HINT, FRAME = 0, 1, 2
COUNT_MAX = 0xFFFF                 # 16-bit reference counts; a saturated count lives in ``overflow``
HASH_SALT = np.uint64(0x9E3779B97F4A7C15)
_VM_SALT = np.uint64(0xD1B54A32D192ED03)


def salt_group(vm, force_salting: int) -> int:
    """The sharing group of ``vm``: only pages of VMs in the same group may share.

    ``force_salting`` as later ESX's ``Mem.ShareForceSalting``: 0 = one group for all VMs,
    1 = VMs with equal ``VMConfig.salt`` (None counts as one common salt), 2 = as 1 but a VM
    without a salt is a group of its own (intra-VM sharing only)."""
    salt = vm.config.salt
    if force_salting == 0 or (salt is None and force_salting == 1):
        return 0
    if salt is None:
        return int(mix64(np.uint64(vm.uid) ^ _VM_SALT))
    return int(mix64(np.uint64(salt) ^ HASH_SALT)) | 1        # (VMConfig keeps salts to 64 bits)


def page_hash(tokens: np.ndarray, group: int | np.ndarray) -> np.ndarray:
    """The 64-bit hash of pages with contents ``tokens`` in sharing ``group`` (one, or one a page; never 0 in
    practice)."""
    return mix64(np.asarray(tokens, dtype=np.uint64) ^ np.uint64(group)) ^ HASH_SALT


@dataclass(frozen=True)
class SharingStats:
    """Host-wide sharing statistics. MB fields as in ``HostStats``; the last five are the
    counters of Linux's ``/sys/kernel/mm/ksm`` (in pages), computed the same way in both modes."""

    mode: str
    shared_mb: float           # guest pages mapping a shared frame
    saved_mb: float            # machine memory reclaimed: shared pages − shared frames
    zero_mb: float             # guest pages mapping a zero-page frame
    table_mb: float            # machine memory holding the sharing table
    hint_frames: int           # ESX hint frames (KSM: unstable-tree nodes)
    cow_breaks: int            # copy-on-write faults since the start
    scanned: int               # pages hashed since the start
    stale_hints: int           # hints found changed on rehash (ESX) or unstable nodes that changed (KSM)
    false_matches: int         # equal hashes, different contents: not shared (§4.3)
    pages_shared: int          # shared frames in use
    pages_sharing: int         # additional pages mapping them (= pages saved)
    pages_unshared: int        # scanned pages waiting for a partner (hints / unstable tree)
    pages_volatile: int        # pages whose contents changed between their last two scans
    full_scans: int            # complete passes over every VM's memory


@dataclass(frozen=True)
class VMSharingStats:
    """One VM's share of page sharing (MB, like esxtop's SHRD / ZERO / SHRDSVD)."""

    shared_mb: float
    saved_mb: float            # each shared page counts (refs − 1) / refs of a page
    zero_mb: float
    hint_frames: int           # its pages among the host's hint_frames: ESX hint frames (KSM: unstable-tree nodes)
    cow_breaks: int
    scanned: int
    passes: int


class _ScanState:
    """Per-VM scanner state: sharing group, last hash seen per PPN, pass position."""

    def __init__(self, vm, group: int) -> None:
        self.group = group
        self.last = lazy_zeros(vm.pages, np.uint64)     # hash at the page's last scan, 0 = never
        self.volatile = lazy_zeros(vm.pages, bool)      # changed between its last two scans
        self.zero = 0
        self.scanned = 0
        self.passes = 0
        self.credit = 0.0
        self.cursor = 0
        self.keys: np.ndarray | None = None


class SharingBase:
    """Shared frames, refcounts, COW and table accounting; with no scanner: the "off" mode."""

    name = "off"
    frame_bytes = 16               # one table entry (§4.3: 16 bytes per frame)

    def __init__(self, config: SharingConfig, machine, vms: dict, clock, rng: np.random.Generator) -> None:
        """Collaborators: the machine, the running VMs (``name -> VM``, read only), the clock and a
        seeded stream."""
        self.config = config
        self.machine = machine
        self.vms = vms
        self.clock = clock
        self.rng = rng
        # MPN → its shared frame, meaningful for the MPNs of shared frames only (zeros: memory is
        # used only where frames were; none needed when nothing is ever shared)
        self.frame_of = lazy_zeros(machine.total if self.name != "off" else 0, np.int32)
        self._grow_frames(1024)
        self.overflow: dict[int, int] = {}          # frame → reference count ≥ COUNT_MAX
        self._table_mpns = np.empty(0, dtype=np.int32)
        self.table_pages = 0
        self.zero_pages = 0                         # guest pages mapping zero-page frames
        self.mappings = 0                           # guest pages mapping any shared frame
        self.n_frames = 0
        self.cow_breaks = 0
        self.scanned = 0
        self.stale_hints = 0
        self.false_matches = 0
        self.volatile = 0
        self.states: dict[int, _ScanState] = {}
        self._freed: list[np.ndarray] | None = None     # copies merged in a wake-up, freed at its end

    # -- the interface the rest of the model calls ---------------------------------------------
    def step(self) -> None:
        """One tick of the background scanner (none in the "off" mode)."""

    def share_before_swap(self, vm, ppns: np.ndarray) -> np.ndarray:
        """Try to share swap victims (§4.3); return those still to be paged out."""
        return ppns

    def cow_break(self, vm, ppns: np.ndarray) -> None:
        """A guest write hit shared ``ppns``: give each a private copy (the caller made room).

        The last page mapping a frame takes the frame's machine page over instead of copying."""
        frames, first, left = self._decref(vm, ppns)
        m = self.machine
        mpns = vm.pmap.mpn[ppns]
        keep = np.zeros(len(ppns), dtype=bool)
        keep[first[left == 0]] = True
        self._release_frames(frames[left == 0])
        km = mpns[keep]
        m.owner[km] = vm.uid
        copy = ~keep
        new = m.alloc(int(np.count_nonzero(copy)), vm.uid)
        m.content[new] = m.content[mpns[copy]]
        vm.pmap.mpn[ppns[copy]] = new
        vm.pmap.set_state(ppns, PRIVATE)
        self.cow_breaks += len(ppns)

    def unshare(self, vm, ppns: np.ndarray) -> None:
        """Drop shared mappings (balloon took them, VM powered off); the caller resets the pmap. The machine
        pages of frames left unmapped are freed lowest MPN first (not in the order of frame numbers, which
        depend on how a wake-up batched its VMs: :meth:`~esxlab.sharing.esx.PageSharing.scan_all`)."""
        frames, _, left = self._decref(vm, ppns)
        gone = frames[left == 0]
        mpns = np.sort(self.f_mpn[gone])
        self._release_frames(gone)
        self.machine.release(mpns)

    def spill(self, vm, n: int, most: int, protect: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The share stage's :class:`~esxlab.swap.Stage` spill: ``vm`` has no private page left to page out, so up to
        ``min(n, most)`` of its shared mappings, those touched longest ago (none in ``protect``), leave their frames
        for the swap area; returns their PPNs and contents. Each lowers the VM's alloc by a page (a shared page
        counts in every VM that maps it, §4.3) and frees its frame's machine page with the frame's last mapping.
        Without it what a VM maps shared is memory above its min (its target, its limit) that no page-out can
        reach: share before swap turns its victims into more of it. (invented: the paper does not say how ESX
        pages a shared page)"""
        held = np.flatnonzero(vm.pmap.state == SHARED)
        if protect is not None and len(protect):
            held = held[~np.isin(held, protect)]
        take = held[np.argsort(vm.last_touch[held], kind="stable")[:max(0, min(n, most))]]
        tokens = self.machine.content[vm.pmap.mpn[take]]
        if len(take):
            self.unshare(vm, take)
        return take, tokens

    def forget(self, vm) -> None:
        """``vm`` powered off (its shared mappings are already gone, and it has left the running VMs): drop
        its scanner state; if it was the last VM, give back all of the table's memory at once (§4.3: the
        table is charged to the host), so that ``stats().table_mb`` and free memory read right before the
        next tick."""
        self.states.pop(vm.uid, None)
        if not self.vms:
            self._trim_table(0)

    # -- statistics ---------------------------------------------------------------------------
    @property
    def saved_pages(self) -> int:
        """Machine pages reclaimed: pages mapping shared frames less the frames themselves."""
        return self.mappings - self.n_frames

    @property
    def entries(self) -> int:
        """Table entries charged at ``frame_bytes`` each."""
        return self.n_frames

    @property
    def unconfirmed(self) -> int:
        """Pages scanned and waiting for a partner (hint frames / unstable-tree nodes)."""
        return 0

    @property
    def full_scans(self) -> int:
        """Passes completed over every running VM's memory (the least-scanned VM's count)."""
        return min((s.passes for s in self.states.values()), default=0)

    def stats(self) -> SharingStats:
        """The host-wide figures now (:class:`SharingStats`)."""
        mb = 1.0 / PAGES_PER_MB
        return SharingStats(self.name, self.mappings * mb, self.saved_pages * mb, self.zero_pages * mb,
                            self.table_pages * mb, self.unconfirmed, self.cow_breaks, self.scanned,
                            self.stale_hints, self.false_matches, self.n_frames, self.saved_pages,
                            self.unconfirmed, self.volatile, self.full_scans)

    def vm_stats(self, vm) -> VMSharingStats:
        """One VM's figures (cost O(its shared pages); for reports, not per tick)."""
        mb = 1.0 / PAGES_PER_MB
        st = self._state(vm)
        shared = (vm.pmap.state == SHARED).nonzero()[0]
        refs = self._refs(self.frame_of[vm.pmap.mpn[shared]]).astype(float)
        return VMSharingStats(len(shared) * mb, float(np.sum((refs - 1) / refs)) * mb if len(refs) else 0.0,
                              st.zero * mb, self._hints_of(vm), int(vm.totals.cow_breaks), st.scanned, st.passes)

    def _hints_of(self, vm) -> int:
        """Pages of ``vm`` scanned and waiting for a partner (its part of :attr:`unconfirmed`)."""
        return 0

    # -- frames and reference counts -----------------------------------------------------------
    def _grow_frames(self, cap: int) -> None:
        old = getattr(self, "f_kind", None)
        n = 0 if old is None else len(old)
        for name, dtype in (("f_kind", np.int8), ("f_hash", np.uint64), ("f_token", np.uint64),
                            ("f_group", np.uint64), ("f_mpn", np.int32), ("f_count", np.uint16),
                            ("f_uid", np.int32), ("f_ppn", np.int64)):
            a = np.zeros(cap, dtype=dtype)
            if n:
                a[:n] = getattr(self, name)
            setattr(self, name, a)
        free = Stack.run(cap, n, cap)            # the new ids below the free ones, n on top of them
        if n:
            free.push(self._free_ids.items)
        self._free_ids = free

    def _new_frames(self, k: int) -> np.ndarray:
        """``k`` free frame ids (intp), the last released first."""
        if k > self._free_ids.n:
            self._grow_frames(max(2 * len(self.f_kind), len(self.f_kind) + k))
        return self._free_ids.pop(k)

    def _release_frames(self, frames: np.ndarray) -> None:
        """Forget ``frames`` (distinct; hint or shared); their machine pages are the caller's business.
        Their ids are reused last first, in the order given."""
        if len(frames) == 0:
            return
        self.n_frames -= int(np.count_nonzero(self.f_kind[frames] == FRAME))
        self._unindex(frames)
        self.f_kind[frames] = FREE_FRAME
        if self.overflow:
            for f in frames.tolist():
                self.overflow.pop(f, None)
        self._free_ids.push(frames)

    def _unindex(self, frames: np.ndarray) -> None:
        """Remove ``frames`` from the mode's lookup structure."""

    def _refs(self, frames: np.ndarray) -> np.ndarray:
        """Reference counts of ``frames``: the 16-bit count, or the overflow table's if saturated."""
        refs = self.f_count[frames].astype(np.int64)
        for i in (refs == COUNT_MAX).nonzero()[0].tolist():
            refs[i] = self.overflow[int(frames[i])]
        return refs

    def _set_refs(self, frames: np.ndarray, refs: np.ndarray) -> None:
        big = refs >= COUNT_MAX
        self.f_count[frames] = np.where(big, COUNT_MAX, refs)
        if not self.overflow and not big.any():   # the usual case: no count saturated, none was
            return
        for f, r, b in zip(frames.tolist(), refs.tolist(), big.tolist()):
            if b:
                self.overflow[f] = r
            elif f in self.overflow:
                del self.overflow[f]

    def _zero_delta(self, vm, frames: np.ndarray, delta: int) -> None:
        z = int(np.count_nonzero(self.f_token[frames] == 0)) * delta
        if z:
            self.zero_pages += z
            self._state(vm).zero += z

    def _promote(self, vm, ppns: np.ndarray, frames: np.ndarray, keys: np.ndarray, tokens: np.ndarray,
                 group: int) -> None:
        """Make private ``ppns`` of ``vm`` the machine pages of shared ``frames`` (count 1 each)."""
        if len(ppns) == 0:
            return
        mpns = vm.pmap.mpn[ppns]
        self.f_kind[frames], self.f_hash[frames], self.f_token[frames] = FRAME, keys, tokens
        self.f_group[frames], self.f_mpn[frames], self.f_count[frames] = group, mpns, 1
        self.f_uid[frames], self.f_ppn[frames] = -1, -1
        self.machine.owner[mpns] = SHARED_OWNER
        self.frame_of[mpns] = frames
        vm.pmap.set_state(ppns, SHARED)
        self.n_frames += len(ppns)
        self.mappings += len(ppns)
        self._zero_delta(vm, frames, 1)

    def _map(self, vm, ppns: np.ndarray, frames: np.ndarray) -> None:
        """Map private ``ppns`` (distinct) of ``vm`` to shared ``frames`` (one each) and free their copies."""
        self._map_all([vm], np.zeros(len(ppns), dtype=np.intp), ppns, frames)

    def _map_all(self, vms: list, vi: np.ndarray, ppns: np.ndarray, frames: np.ndarray) -> None:
        """:meth:`_map` for pages of several VMs: ``ppns[i]`` of ``vms[vi[i]]`` (``vi`` non-decreasing)."""
        if len(ppns) == 0:
            return
        for v, s in runs(vi):
            vm, p, f = vms[v], ppns[s], frames[s]
            self._free_copies(vm.pmap.mpn[p])
            vm.pmap.mpn[p] = self.f_mpn[f]
            vm.pmap.set_state(p, SHARED)
            self._zero_delta(vm, f, 1)
        uniq, cnt = distinct_counts(frames)
        self._set_refs(uniq, self._refs(uniq) + cnt)
        self.mappings += len(ppns)

    def _free_copies(self, mpns: np.ndarray) -> None:
        """Free the machine pages of copies now mapping a shared frame: at once, or inside :meth:`_wake_up`
        at its end."""
        if self._freed is None:
            self.machine.release(mpns)
        else:
            self._freed.append(mpns)

    @contextmanager
    def _wake_up(self) -> Iterator[None]:
        """One wake-up of the scanner: the copies its merges free go back to the machine together at its end,
        lowest MPN first, so which machine pages later allocations get does not depend on the order in which
        the wake-up visited its VMs (invented; nothing allocates machine memory while it scans). Inside
        another wake-up, the outer one frees them."""
        if self._freed is not None:
            yield
            return
        self._freed = []
        try:
            yield
        finally:
            freed, self._freed = self._freed, None
            if freed:
                self.machine.release(np.sort(np.concatenate(freed)))

    def _decref(self, vm, ppns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop one reference per PPN: (distinct frames, index of each one's first PPN, refs left)."""
        fr = self.frame_of[vm.pmap.mpn[ppns]]
        frames, first, cnt = distinct_counts(fr, first=True)
        left = self._refs(frames) - cnt
        self._set_refs(frames, left)
        self.mappings -= len(ppns)
        self._zero_delta(vm, fr, -1)
        return frames, first, left

    # -- scanning helpers ----------------------------------------------------------------------
    def _state(self, vm) -> _ScanState:
        st = self.states.get(vm.uid)
        if st is None:
            st = self.states[vm.uid] = _ScanState(vm, salt_group(vm, self.config.force_salting))
        return st

    def _vms_by_uid(self) -> dict:
        return {v.uid: v for v in self.vms.values()}

    def _compare_candidates(self, tok: np.ndarray, h: np.ndarray, group: int | np.ndarray, uids: np.ndarray,
                            cands: np.ndarray) -> Iterator[tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Pages (contents ``tok``, hashes ``h``, sharing ``group``: one, or one a page) met candidates: page
        ``cands[i]`` of the VM with uid ``uids[i]`` (an ESX hint, a KSM unstable-tree node) seen with the
        same hash earlier. Per candidate VM, its candidates are rehashed and compared in full (§4.2,
        KSM's ``memcmp``); yields ``(other, sel, q, unchanged, equal)``: that VM (None if it powered
        off), the mask of its pairs, its PPNs, which still hash the same and are private, and which
        of those are equal in contents and group (:meth:`_merge_pairs` shares them)."""
        vms = self._vms_by_uid()
        for uid in sorted(set(uids.tolist())):
            sel = uids == uid
            other, q = vms.get(uid), cands[sel]
            if other is None:
                unchanged = equal = np.zeros(len(q), dtype=bool)
            else:
                qtok, qh = self._hash_pages(other, q)
                unchanged = (other.pmap.state[q] == PRIVATE) & (qh == h[sel])
                mine = group[sel] if isinstance(group, np.ndarray) else group
                equal = unchanged & (qtok == tok[sel]) & (self._state(other).group == mine)
            yield other, sel, q, unchanged, equal

    def _merge_pairs(self, vm, ppns: np.ndarray, other, q: np.ndarray, frames: np.ndarray, keys: np.ndarray,
                     tokens: np.ndarray) -> None:
        """Pages ``ppns`` of ``vm`` and equal pages ``q`` of ``other`` share: ``other``'s pages become
        the machine pages of the new shared ``frames``, which ``vm``'s pages then map."""
        self._merge_all([vm], np.zeros(len(ppns), dtype=np.intp), ppns, other, q, frames, keys, tokens)

    def _merge_all(self, vms: list, vi: np.ndarray, ppns: np.ndarray, other, q: np.ndarray, frames: np.ndarray,
                   keys: np.ndarray, tokens: np.ndarray) -> None:
        """:meth:`_merge_pairs` for pages of several VMs: ``ppns[i]`` of ``vms[vi[i]]`` (``vi`` non-decreasing)
        and page ``q[i]`` of ``other``."""
        if len(ppns):
            self._promote(other, q, frames, keys, tokens, self._state(other).group)
            self._map_all(vms, vi, ppns, frames)

    def _tokens(self, vm, ppns: np.ndarray) -> np.ndarray:
        """The contents of mapped ``ppns`` of ``vm``."""
        return self.machine.content[vm.pmap.mpn[ppns]]

    def _hash_pages(self, vm, ppns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tokens, hashes) of mapped ``ppns`` of ``vm``."""
        tok = self._tokens(vm, ppns)
        return tok, self._hash(tok, self._state(vm).group)

    @staticmethod
    def _hash(tokens: np.ndarray, group: int | np.ndarray) -> np.ndarray:
        """:func:`page_hash` (looked up at each call: tests replace it by a weaker one)."""
        return page_hash(tokens, group)

    def _note_scan(self, vm, ppns: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Record a scan of ``ppns`` with hashes ``h``; return the hash each had at its previous
        scan (0 = never) and keep the pages_volatile gauge."""
        st = self._state(vm)
        old = st.last[ppns]
        st.last[ppns] = h
        changed = (old != 0) & (old != h)
        self.volatile += int(np.count_nonzero(changed)) - int(np.count_nonzero(st.volatile[ppns]))
        st.volatile[ppns] = changed
        st.scanned += len(ppns)
        self.scanned += len(ppns)
        return old

    # -- the table's own memory (§4.3) ----------------------------------------------------------
    @property
    def _per_page(self) -> int:
        return 4096 // self.frame_bytes

    def _table_room(self) -> int:
        """Machine pages the table may still take: memory outside every VM's min + overhead reservation
        (§6.2). A VM's alloc does not count: shared pages count in the alloc of every VM that maps them, so
        the allocations may add up to more than memory (§6.3)."""
        return self.machine.total - sum(v.config.reserved_pages for v in self.vms.values()) - self.table_pages

    def _reserve_table(self, extra: int) -> int:
        """Grow the table's machine memory to hold ``extra`` more entries; return how many fit."""
        m = self.machine
        need = -(-(self.entries + extra) // self._per_page) - self.table_pages
        if need > 0:
            need = min(need, m.free, max(0, self._table_room()))   # never into reserved memory
            got = m.alloc(need, TABLE)
            self._table_mpns = np.concatenate([self._table_mpns, got])
            self.table_pages += need
        return max(0, self.table_pages * self._per_page - self.entries)

    def _trim_table(self, slack: int) -> None:
        """Give back table pages beyond the entries plus ``slack``."""
        keep = -(-(self.entries + slack) // self._per_page)
        if self.table_pages > keep:
            self.machine.release(self._table_mpns[keep:])
            self._table_mpns = self._table_mpns[:keep]
            self.table_pages = keep


def first_of_each(keys: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each distinct value in ``keys`` (shape (n,)): the least
    index of each run of equal keys after an unstable sort, which on batches of thousands of
    64-bit hashes is 2.4× faster than ``np.unique``'s stable one."""
    n = len(keys)
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    order = np.argsort(keys)
    starts = run_starts(keys[order])
    if len(starts) == n:                             # all distinct: the usual case
        mask[:] = True
    else:
        mask[np.minimum.reduceat(order, starts)] = True
    return mask


