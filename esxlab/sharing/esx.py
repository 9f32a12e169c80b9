"""ESX's content-based page sharing (paper §4.2–4.3, Figure 3).

:class:`PageSharing` wakes every ``scan_period_s`` seconds (invented; the paper gives only
rates) and picks candidate pages **at random** (a fresh random permutation of each VM's PPNs
per pass, computed per element, so a pass scans every page once) at a per-VM and a
system-wide rate, hashes each private page's contents with a 64-bit hash and looks the hash
up in **one global table**:

* no match → a **hint frame** (hash, VM, PPN); the page is *not* marked copy-on-write;
* a hint of another page → **rehash** that page; if it changed, drop the stale hint; else a
  **full compare** and, if equal, both pages map one shared frame;
* a shared frame → full compare, map it, bump its count, free the redundant copy.

Pages are 64-bit tokens (:mod:`esxlab.content`), so a "full compare" is token equality, and
the hash is :func:`~esxlab.content.mix64` of the token and the VM's salt. As in ESX, a page
whose hash matches but whose contents differ (a false match) is not shared; ESX then makes it ineligible
for sharing (§4.2), where here it is tried again on a later pass (distinct 64-bit tokens almost never
collide; ``false_matches`` counts them). The model keys
hint frames by the full hash (ESX truncates it to make room for the back-reference). Shared
frames, reference counts, copy-on-write and the table's memory are :mod:`.base`'s.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..arrays import runs
from ..pmap import PRIVATE, SHARED
from .base import FRAME, FREE_FRAME, HASH_SALT, HINT, SharingBase, first_of_each
from .hashtable import HashTable


def feistel(x: np.ndarray, keys: np.ndarray, half: int) -> np.ndarray:
    """A keyed bijection of [0, 4**half) (a Feistel network with a multiply-shift round
    function): a random permutation computed per element, no table needed."""
    mask, shift = np.uint64((1 << half) - 1), np.uint64(64 - half)
    left, right = x >> np.uint64(half), x & mask
    for k in keys:                                   # uint64 arrays wrap silently
        left, right = right, left ^ (((right ^ k) * HASH_SALT) >> shift)
    return (left << np.uint64(half)) | right


class PageSharing(SharingBase):
    """ESX's content-based page sharing (§4.2–4.3); see the module docstring."""

    name = "esx"

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.table = HashTable()               # 64-bit hash → hint or shared frame

    @property
    def entries(self) -> int:
        return len(self.table)

    @property
    def unconfirmed(self) -> int:
        return len(self.table) - self.n_frames

    def _unindex(self, frames: np.ndarray) -> None:
        self.table.delete(self.f_hash[frames])

    def _hints_of(self, vm) -> int:
        return int(np.count_nonzero((self.f_kind == HINT) & (self.f_uid == vm.uid)))

    # -- scanning ------------------------------------------------------------------------------
    def step(self) -> None:
        """Every ``scan_period_s``: scan each VM at ``min(per-VM rate, system rate / VMs)`` pages
        per second, at random. A VM's unspent rate is its credit; it is scanned once the credit
        reaches ``scan_batch_min`` pages (at the default rates, ESX 2.x's, every wake-up does: only hosts of
        dozens of VMs wait, and then a scan costs one call per batch, not per wake-up). A wake-up takes no more
        pages than the table's memory has room for (a hint each, at most) and scans its VMs as one batch
        (:meth:`scan_all`)."""
        cfg = self.config
        vms = list(self.vms.values())
        if not vms or self.clock.t % cfg.scan_period_s:
            return
        rate = min(cfg.scan_vm_pages_s, cfg.scan_total_pages_s / len(vms)) * cfg.scan_period_s
        budgets = []
        for vm in vms:
            st = self._state(vm)
            st.credit += rate
            budgets.append(int(st.credit) if st.credit >= cfg.scan_batch_min else 0)
            st.credit -= budgets[-1]
        room = self._reserve_table(sum(budgets))
        batch = []
        for vm, k in zip(vms, budgets):
            k = min(k, room)
            if k > 0:
                room -= k
                batch.append((vm, self._candidates(vm, k)))
        with self._wake_up():
            self.scan_all(batch)
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
            x = feistel(np.arange(st.cursor, st.cursor + span, dtype=np.uint64), st.keys, half)
            valid = (x < np.uint64(vm.pages)).nonzero()[0][:k - got]
            if len(valid) == k - got:
                span = int(valid[-1]) + 1                  # the rest of the span is next tick's
            st.cursor += span
            out.append(x[valid].astype(np.int64))
            got += len(valid)
        return np.concatenate(out)

    def scan(self, vm, ppns: np.ndarray) -> None:
        """Hash ``ppns`` of ``vm`` (distinct) and share what matches (§4.2)."""
        self.scan_all([(vm, ppns)])

    def scan_all(self, batch: list[tuple[Any, np.ndarray]]) -> None:
        """Scan each ``(vm, ppns)`` of ``batch`` (distinct VMs; distinct PPNs each) with the outcome of
        :meth:`scan` of each in turn, where the table's memory holds a hint for every page (a wake-up
        reserves it), in one batch of table lookups: a page meets the pages of the VMs before it in
        ``batch`` as it would have met them in the table, a round later (:meth:`_match`). What the scans
        in turn would do differently is put right: a page that an earlier VM's page shares (meeting its
        hint) would have been found shared by its own VM, not scanned; and a stale hint that its own VM
        drops first would have been met, stale, by an earlier VM's page of that hash. Where the table has
        no room for a hint a page, which pages get one depends on the order: the VMs are then scanned one
        after the other. (Invented: an engine speed-up, issue 13; frame numbers and the table's slots may
        differ, which nothing a VM, the trace or a statistic shows; ``tests/test_sharing_batch.py``
        compares the two.) ValueError if a VM is in ``batch`` twice."""
        uids = [vm.uid for vm, _ in batch]
        if len(set(uids)) < len(uids):
            twice = next(vm.name for i, (vm, _) in enumerate(batch) if vm.uid in uids[:i])
            raise ValueError(f"scan_all: VM {twice!r} is in the batch twice; allowed: each VM once, with all the "
                             "pages to scan.")
        if len(batch) > 1 and sum(len(p) for _, p in batch) > self._room():
            for part in batch:
                self.scan_all([part])
            return
        vms, pages, toks = [], [], []
        for vm, ppns in batch:
            ppns = ppns[vm.pmap.state[ppns] == PRIVATE]
            if len(ppns):
                vms.append(vm)
                pages.append(ppns)
                toks.append(self._tokens(vm, ppns))
        if not vms:
            return
        vi = np.repeat(np.arange(len(vms)), [len(p) for p in pages])
        ppns, tok = np.concatenate(pages), np.concatenate(toks)
        h = self._hash(tok, np.array([self._state(vm).group for vm in vms], dtype=np.uint64)[vi])
        old, was, small = np.empty_like(h), np.empty(len(h), dtype=bool), np.empty(len(h), dtype=bool)
        spans = runs(vi)
        for v, s in spans:
            vm = vms[v]
            was[s] = self._state(vm).volatile[ppns[s]]
            old[s] = self._note_scan(vm, ppns[s], h[s])
            small[s] = ~vm.in_large(ppns[s])             # hashed, but not shared inside a large page
        changed = (old != 0) & (old != h)
        if changed.any():                                # the page changed: its old hint is stale
            for v, s in spans:
                c = changed[s].nonzero()[0]
                dropped = self._drop_own_hints(vms[v], ppns[s][c], old[s][c]) if len(c) else c
                # scanned in turn, an earlier VM's page of that hash would have met it, stale, once (the table
                # files one entry a hash, and no earlier page of that hash is shared before its first lookup)
                if len(dropped) and s.start:
                    earlier = h[:s.start][small[:s.start]]
                    self.stale_hints += int(np.count_nonzero(np.isin(dropped, earlier)))
        promoted: list[tuple[int, np.ndarray, np.ndarray]] = []
        self._match(vms, vi[small], ppns[small], tok[small], h[small], filtered=True, promoted=promoted)
        self._unscan(vms, spans, ppns, old, was, promoted)

    def _unscan(self, vms: list, spans: list, ppns: np.ndarray, old: np.ndarray, was: np.ndarray,
                promoted: list) -> None:
        """Undo the scan of pages that an earlier VM of the batch shared (``promoted``: (a VM's index in ``vms``,
        the indexes of the VMs whose pages met its pages, those pages)): scanned one after the other, their VM
        would have found them shared and not scanned them. ``spans``: each VM's slice of the pages scanned
        (one a VM of ``vms``: each has pages), ``ppns``, their hashes at the scan before, ``old``, and whether
        they were volatile, ``was``. Only the scan is undone: a page shared here was unchanged (its hint, met,
        was filed under the hash of its last scan), so its scan dropped no stale hint of its own."""
        for j, vj, q in promoted:
            q = q[vj < j]
            if len(q) == 0:
                continue
            s = spans[j][1]
            m = np.isin(ppns[s], q)
            n = int(np.count_nonzero(m))
            if n == 0:
                continue
            p, st = ppns[s][m], self._state(vms[j])
            self.volatile += int(np.count_nonzero(was[s][m])) - int(np.count_nonzero(st.volatile[p]))
            st.last[p], st.volatile[p] = old[s][m], was[s][m]
            st.scanned -= n
            self.scanned -= n

    def share_before_swap(self, vm, ppns: np.ndarray) -> np.ndarray:
        """Share what matches the table (or another victim); the rest is paged out, and the hints
        of those pages are dropped since their contents leave machine memory (§4.3)."""
        if len(ppns) == 0:
            return ppns
        self._reserve_table(len(ppns))          # room for their hints, if memory allows
        tok, h = self._hash_pages(vm, ppns)
        self._match([vm], np.zeros(len(ppns), dtype=np.intp), ppns, tok, h)
        shared = vm.pmap.state[ppns] == SHARED
        rest = ppns[~shared]
        self._drop_own_hints(vm, rest, h[~shared])
        self._drop_own_hints(vm, rest, self._state(vm).last[rest])
        return rest

    def _lookup(self, h: np.ndarray) -> np.ndarray:
        """The frame each hash in ``h`` names in the table, −1 if none."""
        return self.table.lookup(h)

    def _is_own_hint(self, fr: np.ndarray, uid, ppns: np.ndarray) -> np.ndarray:
        """Which of frames ``fr`` (−1: none) are the hints of pages ``ppns`` of the VM with ``uid`` (one, or
        one a frame)."""
        safe = np.maximum(fr, 0)
        return (fr >= 0) & (self.f_kind[safe] == HINT) & (self.f_uid[safe] == uid) & (self.f_ppn[safe] == ppns)

    def _drop_own_hints(self, vm, ppns: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Drop the hints of ``ppns`` of ``vm`` filed under ``keys`` (0: none), where the table still has them;
        returns the keys dropped."""
        sel = keys != 0
        ppns, keys = ppns[sel], keys[sel]
        fr = self._lookup(keys)
        own = self._is_own_hint(fr, vm.uid, ppns)
        self._release_frames(fr[own])
        return keys[own]

    def _room(self) -> int:
        """Hints the table's machine memory holds beyond its entries now."""
        return max(0, self.table_pages * self._per_page - self.entries)

    def _add_hints(self, uid, ppns: np.ndarray, h: np.ndarray) -> int:
        """Hint frames for ``ppns`` of the VM with ``uid`` (one, or one a page), as many as the table's memory
        holds (§4.3: the table is charged); returns how many (the first ones)."""
        room = self._room()
        ppns, h = ppns[:room], h[:room]
        ids = self._new_frames(len(ppns))
        self.f_kind[ids], self.f_hash[ids], self.f_ppn[ids] = HINT, h, ppns
        self.f_uid[ids] = uid[:room] if isinstance(uid, np.ndarray) else uid
        self.table.insert(h, ids)
        return len(ppns)

    def _match(self, vms: list, vi: np.ndarray, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray,
               filtered: bool = False, promoted: list | None = None) -> None:
        """Look private pages up in the table: page ``ppns[i]`` of ``vms[vi[i]]`` (``vi`` non-decreasing),
        contents ``tok[i]``, hash ``h[i]``. ``filtered``: all are private now (else the first round checks).
        ``promoted``, if given, collects (index in ``vms``, indexes of the VMs whose pages met them, pages)
        for the pages of other VMs shared here.

        Vectorised in rounds: per round, pages matching a shared frame are mapped; the first
        page of each new hash becomes a hint; the first page matching another page's hint
        has that page rehashed and compared; the other pages of a hash met this round wait
        for the next round (the hint or frame they will match is being made). A hash whose
        hint found no room in the table (its memory is full) has nothing to match in this
        call: its other pages stop waiting (else a hash shared by d pages took d rounds).
        """
        groups = np.array([self._state(vm).group for vm in vms], dtype=np.uint64)[vi]
        uids = np.array([vm.uid for vm in vms])[vi]
        todo, check = np.arange(len(ppns)), not filtered
        while len(todo):
            if check:                                                # a waiting page may be shared now
                todo = todo[self._private(vms, vi[todo], ppns[todo])]
            check = True
            fr = self._lookup(h[todo])
            safe = np.maximum(fr, 0)
            kind = np.where(fr >= 0, self.f_kind[safe], FREE_FRAME)
            first = first_of_each(h[todo])
            # a shared frame: full compare, then map
            hit = kind == FRAME
            same = hit & (self.f_token[safe] == tok[todo]) & (self.f_group[safe] == groups[todo])
            self.false_matches += int(np.count_nonzero(hit & ~same))
            j = todo[same]
            self._map_all(vms, vi[j], ppns[j], fr[same])
            # no entry: the first page of each hash becomes a hint
            new = (kind == FREE_FRAME) & first
            j = todo[new]
            added = self._add_hints(uids[j], ppns[j], h[j])
            wait = (kind == FREE_FRAME) | (kind == HINT)
            if added < len(j):                                   # no room: these hashes have no entry
                wait &= ~((kind == FREE_FRAME) & np.isin(h[todo], h[j[added:]]))
            # another page's hint: rehash that page, full compare, share
            hint = (kind == HINT) & first & ~self._is_own_hint(fr, uids[todo], ppns[todo])
            if hint.any():
                j = todo[hint]
                self._match_hints(vms, vi[j], ppns[j], tok[j], h[j], fr[hint], groups[j], uids[j], promoted)
            todo = todo[~first & wait]

    def _match_hints(self, vms: list, vi: np.ndarray, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray,
                     frames: np.ndarray, groups: np.ndarray, uids: np.ndarray, promoted: list | None) -> None:
        """``ppns`` of ``vms[vi]`` matched hint ``frames`` of other pages (distinct hashes): rehash each
        hinted page; drop stale hints (the pages get hints instead); compare and share the rest."""
        index = {vm.uid: i for i, vm in enumerate(vms)} if promoted is not None else {}
        for other, sel, q, unchanged, equal in self._compare_candidates(tok, h, groups, self.f_uid[frames],
                                                                       self.f_ppn[frames]):
            p, k, f = ppns[sel], h[sel], frames[sel]
            self._release_frames(f[~unchanged])          # the hinted page changed or went away
            self.stale_hints += int(np.count_nonzero(~unchanged))
            self._add_hints(uids[sel][~unchanged], p[~unchanged], k[~unchanged])
            self.false_matches += int(np.count_nonzero(unchanged & ~equal))
            self._merge_all(vms, vi[sel][equal], p[equal], other, q[equal], f[equal], k[equal], tok[sel][equal])
            if other is not None and other.uid in index and equal.any():
                promoted.append((index[other.uid], vi[sel][equal], q[equal]))

    def _private(self, vms: list, vi: np.ndarray, ppns: np.ndarray) -> np.ndarray:
        """Which of ``ppns`` (of ``vms[vi]``, ``vi`` non-decreasing) are private."""
        return np.concatenate([vms[v].pmap.state[ppns[s]] == PRIVATE for v, s in runs(vi)]) if len(vi) else \
            np.zeros(0, dtype=bool)

    def forget(self, vm) -> None:
        st = self.states.get(vm.uid)
        if st is not None:
            seen = st.last.nonzero()[0]
            self._drop_own_hints(vm, seen, st.last[seen])
        super().forget(vm)


