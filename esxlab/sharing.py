"""Content-based page sharing (paper §4): ESX's scanner, and the machinery every mode shares.

:class:`SharingBase` holds what ESX's and KSM's scanners (:mod:`.ksm`) have in common, and on
its own is the "off" mode: *shared frames* (a machine page mapped copy-on-write by several
PPNs, owner :data:`~esxlab.machine.SHARED`), 16-bit reference counts with an overflow table
for larger counts (the zero page's, §4.3), copy-on-write breaks, unsharing, the memory the
table itself takes (machine pages with owner :data:`~esxlab.machine.TABLE`, charged
against the host), salting, and the statistics.

:class:`PageSharing` is ESX's policy (§4.2–4.3, Figure 3). It wakes every
``scan_period_s`` seconds (invented; the paper gives only rates) and picks candidate pages
**at random** (a fresh random permutation of each VM's PPNs per pass, computed per element,
so a pass scans every page once) at a per-VM and a system-wide rate, hashes each private
page's contents with a 64-bit hash and looks the hash up in **one global table**:

* no match → a **hint frame** (hash, VM, PPN); the page is *not* marked copy-on-write;
* a hint of another page → **rehash** that page; if it changed, drop the stale hint; else a
  **full compare** and, if equal, both pages map one shared frame;
* a shared frame → full compare, map it, bump its count, free the redundant copy.

Pages are 64-bit tokens (:mod:`.content`), so a "full compare" is token equality, and the
hash is :func:`~esxlab.content.mix64` of the token and the VM's salt. As in ESX, a page
whose hash matches but whose contents differ (a false match) is not shared. The model keys
hint frames by the full hash (ESX truncates it to make room for the back-reference).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Callable

import numpy as np

from .config import PAGES_PER_MB, SharingConfig
from .content import mix64
from .machine import SHARED as SHARED_OWNER, TABLE
from .pmap import PRIVATE, SHARED

FREE_FRAME, HINT, FRAME = 0, 1, 2
COUNT_MAX = 0xFFFF                 # 16-bit reference counts; a saturated count lives in ``overflow``
_HASH_SALT = np.uint64(0x9E3779B97F4A7C15)
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
    return int(mix64(np.uint64(salt & 0xFFFFFFFFFFFFFFFF) ^ _HASH_SALT)) | 1


def page_hash(tokens: np.ndarray, group: int) -> np.ndarray:
    """The 64-bit hash of pages with contents ``tokens`` in sharing ``group`` (never 0 in practice)."""
    return mix64(np.asarray(tokens, dtype=np.uint64) ^ np.uint64(group)) ^ _HASH_SALT


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
    hint_frames: int
    cow_breaks: int
    scanned: int
    passes: int


class _ScanState:
    """Per-VM scanner state: sharing group, last hash seen per PPN, pass position."""

    def __init__(self, vm, group: int) -> None:
        self.group = group
        self.last = np.zeros(vm.pages, dtype=np.uint64)     # hash at the page's last scan, 0 = never
        self.volatile = np.zeros(vm.pages, dtype=bool)      # changed between its last two scans
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

    def __init__(self, config: SharingConfig, machine, vms: dict, clock, rng: np.random.Generator,
                 table_room: Callable[[], int]) -> None:
        """Collaborators: the machine, the running VMs (``name -> VM``, read only), the clock, a
        seeded stream, and ``table_room()``: machine pages the table may still take (free memory
        that no VM's min or overhead reservation needs, §6.2)."""
        self.config = config
        self.machine = machine
        self.vms = vms
        self.clock = clock
        self.rng = rng
        self.table_room = table_room
        # MPN → its shared frame (none needed when nothing is ever shared)
        self.frame_of = np.full(machine.total if self.name != "off" else 0, -1, dtype=np.int32)
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
        for f in frames[left == 0].tolist():
            self._release_frame(f)
        km = mpns[keep]
        m.owner[km] = vm.uid
        self.frame_of[km] = -1
        copy = ~keep
        new = m.alloc(int(copy.sum()), vm.uid)
        m.content[new] = m.content[mpns[copy]]
        vm.pmap.mpn[ppns[copy]] = new
        vm.pmap.set_state(ppns, PRIVATE)
        self.cow_breaks += len(ppns)

    def unshare(self, vm, ppns: np.ndarray) -> None:
        """Drop shared mappings (balloon took them, VM powered off); the caller resets the pmap."""
        frames, _, left = self._decref(vm, ppns)
        gone = frames[left == 0]
        mpns = self.f_mpn[gone]
        for f in gone.tolist():
            self._release_frame(f)
        self.frame_of[mpns] = -1
        self.machine.release(mpns)

    def forget(self, vm) -> None:
        """``vm`` powered off (its shared mappings are already gone): drop its scanner state."""
        self.states.pop(vm.uid, None)

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
        mb = 1.0 / PAGES_PER_MB
        return SharingStats(self.name, self.mappings * mb, self.saved_pages * mb, self.zero_pages * mb,
                            self.table_pages * mb, self.unconfirmed, self.cow_breaks, self.scanned,
                            self.stale_hints, self.false_matches, self.n_frames, self.saved_pages,
                            self.unconfirmed, self.volatile, self.full_scans)

    def vm_stats(self, vm) -> VMSharingStats:
        """One VM's figures (cost O(its shared pages); for reports, not per tick)."""
        mb = 1.0 / PAGES_PER_MB
        st = self._state(vm)
        shared = np.flatnonzero(vm.pmap.state == SHARED)
        refs = self._refs(self.frame_of[vm.pmap.mpn[shared]]).astype(float)
        return VMSharingStats(len(shared) * mb, float(np.sum((refs - 1) / refs)) * mb if len(refs) else 0.0,
                              st.zero * mb, self._hints_of(vm), int(vm.totals.cow_breaks), st.scanned, st.passes)

    def _hints_of(self, vm) -> int:
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
        self._free_ids = list(range(cap - 1, n - 1, -1)) + getattr(self, "_free_ids", [])

    def _new_frames(self, k: int) -> np.ndarray:
        if k > len(self._free_ids):
            self._grow_frames(max(2 * len(self.f_kind), len(self.f_kind) + k))
        ids = self._free_ids[len(self._free_ids) - k:]
        del self._free_ids[len(self._free_ids) - k:]
        return np.array(ids, dtype=np.int64)

    def _release_frame(self, f: int) -> None:
        """Forget frame ``f`` (hint or shared); its machine page is the caller's business."""
        if self.f_kind[f] == FRAME:
            self.n_frames -= 1
        self._unindex(f)
        self.f_kind[f] = FREE_FRAME
        self.overflow.pop(f, None)
        self._free_ids.append(f)

    def _unindex(self, f: int) -> None:
        """Remove frame ``f`` from the mode's lookup structure."""

    def _refs(self, frames: np.ndarray) -> np.ndarray:
        """Reference counts of ``frames``: the 16-bit count, or the overflow table's if saturated."""
        refs = self.f_count[frames].astype(np.int64)
        for i in np.flatnonzero(refs == COUNT_MAX).tolist():
            refs[i] = self.overflow[int(frames[i])]
        return refs

    def _set_refs(self, frames: np.ndarray, refs: np.ndarray) -> None:
        big = refs >= COUNT_MAX
        self.f_count[frames] = np.where(big, COUNT_MAX, refs)
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
        """Map private ``ppns`` (distinct) to shared ``frames`` (one each) and free their copies."""
        if len(ppns) == 0:
            return
        self.machine.release(vm.pmap.mpn[ppns])
        vm.pmap.mpn[ppns] = self.f_mpn[frames]
        vm.pmap.set_state(ppns, SHARED)
        uniq, cnt = np.unique(frames, return_counts=True)
        self._set_refs(uniq, self._refs(uniq) + cnt)
        self.mappings += len(ppns)
        self._zero_delta(vm, frames, 1)

    def _decref(self, vm, ppns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop one reference per PPN: (distinct frames, index of each one's first PPN, refs left)."""
        fr = self.frame_of[vm.pmap.mpn[ppns]]
        frames, first, cnt = np.unique(fr, return_index=True, return_counts=True)
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

    def _hash_pages(self, vm, ppns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tokens, hashes) of mapped ``ppns`` of ``vm``."""
        tok = self.machine.content[vm.pmap.mpn[ppns]]
        return tok, page_hash(tok, self._state(vm).group)

    def _note_scan(self, vm, ppns: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Record a scan of ``ppns`` with hashes ``h``; return the hash each had at its previous
        scan (0 = never) and keep the pages_volatile gauge."""
        st = self._state(vm)
        old = st.last[ppns]
        st.last[ppns] = h
        changed = (old != 0) & (old != h)
        self.volatile += int(changed.sum()) - int(st.volatile[ppns].sum())
        st.volatile[ppns] = changed
        st.scanned += len(ppns)
        self.scanned += len(ppns)
        return old

    # -- the table's own memory (§4.3) ----------------------------------------------------------
    @property
    def _per_page(self) -> int:
        return 4096 // self.frame_bytes

    def _reserve_table(self, extra: int) -> int:
        """Grow the table's machine memory to hold ``extra`` more entries; return how many fit."""
        m = self.machine
        need = -(-(self.entries + extra) // self._per_page) - self.table_pages
        if need > 0:
            need = min(need, m.free, max(0, self.table_room()))   # never into reserved memory
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


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each distinct value in ``keys``."""
    mask = np.zeros(len(keys), dtype=bool)
    mask[np.unique(keys, return_index=True)[1]] = True
    return mask


def _feistel(x: np.ndarray, keys: np.ndarray, half: int) -> np.ndarray:
    """A keyed bijection of [0, 4**half) (a Feistel network with a multiply-shift round
    function): a random permutation computed per element, no table needed."""
    mask, shift = np.uint64((1 << half) - 1), np.uint64(64 - half)
    left, right = x >> np.uint64(half), x & mask
    for k in keys:                                   # uint64 arrays wrap silently
        left, right = right, left ^ (((right ^ k) * _HASH_SALT) >> shift)
    return (left << np.uint64(half)) | right


class PageSharing(SharingBase):
    """ESX's content-based page sharing (§4.2–4.3); see the module docstring."""

    name = "esx"

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.table: dict[int, int] = {}        # 64-bit hash → hint or shared frame

    @property
    def entries(self) -> int:
        return len(self.table)

    @property
    def unconfirmed(self) -> int:
        return len(self.table) - self.n_frames

    def _unindex(self, f: int) -> None:
        del self.table[int(self.f_hash[f])]

    def _hints_of(self, vm) -> int:
        return int(np.count_nonzero((self.f_kind == HINT) & (self.f_uid == vm.uid)))

    # -- scanning ------------------------------------------------------------------------------
    def step(self) -> None:
        """Every ``scan_period_s``: scan each VM at ``min(per-VM rate, system rate / VMs)`` pages
        per second, at random."""
        cfg = self.config
        vms = list(self.vms.values())
        if not vms:
            self._trim_table(0)
        if not vms or self.clock.t % cfg.scan_period_s:
            return
        rate = min(cfg.scan_vm_pages_s, cfg.scan_total_pages_s / len(vms)) * cfg.scan_period_s
        budgets = []
        for vm in vms:
            st = self._state(vm)
            st.credit += rate
            budgets.append(int(st.credit))
            st.credit -= budgets[-1]
        room = self._reserve_table(sum(budgets))
        for vm, k in zip(vms, budgets):
            k = min(k, room)
            if k > 0:
                room -= k
                self.scan(vm, self._candidates(vm, k))
        self._trim_table(sum(budgets))

    def _candidates(self, vm, k: int) -> np.ndarray:
        """Up to ``k`` next PPNs of ``vm`` in its random pass (distinct: a batch stops where its
        pass ends; the next pass starts with the next batch)."""
        st = self._state(vm)
        half = max(1, (int(vm.pages - 1).bit_length() + 1) // 2)
        domain = 1 << (2 * half)
        out, got = [np.empty(0, dtype=np.int64)], 0
        while got < k:
            if st.keys is not None and st.cursor >= domain and got:
                break
            if st.keys is None or st.cursor >= domain:
                if st.keys is not None:
                    st.passes += 1
                st.keys = self.rng.integers(0, 2 ** 63, size=3, dtype=np.uint64)
                st.cursor = 0
            span = min(domain - st.cursor, int((k - got) * domain / vm.pages) + 1)
            x = _feistel(np.arange(st.cursor, st.cursor + span, dtype=np.uint64), st.keys, half)
            valid = np.flatnonzero(x < np.uint64(vm.pages))[:k - got]
            if len(valid) == k - got:
                span = int(valid[-1]) + 1                  # the rest of the span is next tick's
            st.cursor += span
            out.append(x[valid].astype(np.int64))
            got += len(valid)
        return np.concatenate(out)

    def scan(self, vm, ppns: np.ndarray) -> None:
        """Hash ``ppns`` of ``vm`` (distinct) and share what matches (§4.2)."""
        ppns = ppns[vm.pmap.state[ppns] == PRIVATE]
        if len(ppns) == 0:
            return
        tok, h = self._hash_pages(vm, ppns)
        old = self._note_scan(vm, ppns, h)
        changed = np.flatnonzero((old != 0) & (old != h))
        if len(changed):                                 # the page changed: its old hint is stale
            self._drop_own_hints(vm, ppns[changed], old[changed])
        self._match(vm, ppns, tok, h)

    def share_before_swap(self, vm, ppns: np.ndarray) -> np.ndarray:
        """Share what matches the table (or another victim); the rest is paged out, and the hints
        of those pages are dropped since their contents leave machine memory (§4.3)."""
        if len(ppns) == 0:
            return ppns
        self._reserve_table(len(ppns))          # room for their hints, if memory allows
        tok, h = self._hash_pages(vm, ppns)
        shared = self._match(vm, ppns, tok, h)
        rest = ppns[~shared]
        self._drop_own_hints(vm, rest, h[~shared])
        self._drop_own_hints(vm, rest, self._state(vm).last[rest])
        return rest

    def _lookup(self, h: np.ndarray) -> np.ndarray:
        """The frame each hash in ``h`` names in the table, −1 if none."""
        return np.fromiter(map(self.table.get, h.tolist(), repeat(-1)), dtype=np.int64, count=len(h))

    def _is_own_hint(self, fr: np.ndarray, uid: int, ppns: np.ndarray) -> np.ndarray:
        safe = np.maximum(fr, 0)
        return (fr >= 0) & (self.f_kind[safe] == HINT) & (self.f_uid[safe] == uid) & (self.f_ppn[safe] == ppns)

    def _drop_own_hints(self, vm, ppns: np.ndarray, keys: np.ndarray) -> None:
        sel = keys != 0
        ppns, keys = ppns[sel], keys[sel]
        fr = self._lookup(keys)
        for f in fr[self._is_own_hint(fr, vm.uid, ppns)].tolist():
            self._release_frame(f)

    def _add_hints(self, vm, ppns: np.ndarray, h: np.ndarray) -> None:
        """Hint frames for ``ppns``, as many as the table's memory holds (§4.3: the table is charged)."""
        room = max(0, self.table_pages * self._per_page - self.entries)
        ppns, h = ppns[:room], h[:room]
        ids = self._new_frames(len(ppns))
        self.f_kind[ids], self.f_hash[ids], self.f_uid[ids], self.f_ppn[ids] = HINT, h, vm.uid, ppns
        self.table.update(zip(h.tolist(), ids.tolist()))

    def _match(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Look private ``ppns`` up in the table; returns which are shared afterwards.

        Vectorised in rounds: per round, pages matching a shared frame are mapped; the first
        page of each new hash becomes a hint; the first page matching another page's hint
        has that page rehashed and compared; the other pages of a hash met this round wait
        for the next round (the hint or frame they will match is being made).
        """
        group = np.uint64(self._state(vm).group)
        todo = np.arange(len(ppns))
        while len(todo):
            todo = todo[vm.pmap.state[ppns[todo]] == PRIVATE]       # a waiting page may be shared now
            fr = self._lookup(h[todo])
            safe = np.maximum(fr, 0)
            kind = np.where(fr >= 0, self.f_kind[safe], FREE_FRAME)
            first = _first_of_each(h[todo])
            # a shared frame: full compare, then map
            hit = kind == FRAME
            same = hit & (self.f_token[safe] == tok[todo]) & (self.f_group[safe] == group)
            self.false_matches += int(np.count_nonzero(hit & ~same))
            self._map(vm, ppns[todo[same]], fr[same])
            # no entry: the first page of each hash becomes a hint
            new = (kind == FREE_FRAME) & first
            self._add_hints(vm, ppns[todo[new]], h[todo[new]])
            # another page's hint: rehash that page, full compare, share
            hint = (kind == HINT) & first & ~self._is_own_hint(fr, vm.uid, ppns[todo])
            if hint.any():
                j = todo[hint]
                self._match_hints(vm, ppns[j], tok[j], h[j], fr[hint], group)
            todo = todo[~first & ((kind == FREE_FRAME) | (kind == HINT))]
        return vm.pmap.state[ppns] == SHARED

    def _match_hints(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray, frames: np.ndarray,
                     group: np.uint64) -> None:
        """``ppns`` matched hint ``frames`` of other pages (distinct hashes): rehash each hinted
        page; drop stale hints (the pages get hints instead); compare and share the rest."""
        vms = self._vms_by_uid()
        uids = self.f_uid[frames]
        for uid in np.unique(uids).tolist():
            sel = uids == uid
            p, t, k, f = ppns[sel], tok[sel], h[sel], frames[sel]
            other = vms.get(uid)
            if other is None:
                ok = np.zeros(len(p), dtype=bool)
            else:
                q = self.f_ppn[f]
                qtok, qh = self._hash_pages(other, q)
                ok = (other.pmap.state[q] == PRIVATE) & (qh == k)
            for stale in f[~ok].tolist():                # the hinted page changed or went away
                self._release_frame(stale)
            self.stale_hints += int(np.count_nonzero(~ok))
            self._add_hints(vm, p[~ok], k[~ok])
            if other is None:
                continue
            equal = ok & (qtok == t) & (np.uint64(self._state(other).group) == group)
            self.false_matches += int(np.count_nonzero(ok & ~equal))
            self._promote(other, q[equal], f[equal], k[equal], t[equal], self._state(other).group)
            self._map(vm, p[equal], f[equal])

    def forget(self, vm) -> None:
        st = self.states.get(vm.uid)
        if st is not None:
            seen = np.flatnonzero(st.last)
            self._drop_own_hints(vm, seen, st.last[seen])
        super().forget(vm)


def make_sharing(config: SharingConfig, *collaborators) -> SharingBase:
    """The sharing policy ``config.mode`` names; ``collaborators`` as for :class:`SharingBase`."""
    if config.mode == "esx":
        return PageSharing(config, *collaborators)
    if config.mode == "ksm":
        from .ksm import KsmSharing
        return KsmSharing(config, *collaborators)
    return SharingBase(config, *collaborators)
