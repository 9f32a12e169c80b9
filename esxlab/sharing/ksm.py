"""Linux KSM-style page sharing, behind the same interface as ESX's (beyond the paper).

Linux's Kernel Samepage Merging (mm/ksm.c) descends from ESX's content-based sharing (§4)
but scans differently: every ``sleep_millisecs`` it scans the next ``pages_to_scan`` pages
*in order* (here: every VM's PPNs, VM after VM), and for each page

1. searches the **stable tree** of shared pages by content; a match is merged at once
   (a shared page holds at most ``max_page_sharing`` mappings; beyond that the page goes on
   to the unstable tree and may start a new copy, which later pages then join);
2. otherwise compares the page's checksum with the one seen at its previous scan: a page
   whose checksum changed is *volatile* and skipped (the checksum-stability filter);
3. otherwise searches the **unstable tree** of unshared candidates: a match is compared
   again (its contents may have changed since it was inserted) and both pages merge into
   a new stable page; no match inserts the page.

The unstable tree is emptied after every full scan. Trees are dicts keyed by the same
64-bit hash ESX uses (with the VM's salt), and content equality is checked before every
merge, like KSM's ``memcmp``. Linux has no "share before swap": pages go to swap as they
are. Metadata is charged at 64 bytes (an ``rmap_item``, invented approximation) per stable
frame, per page mapping one and per unstable node. Counters are ``/sys/kernel/mm/ksm``'s.
"""
from __future__ import annotations

import numpy as np

from ..pmap import PRIVATE
from .base import COUNT_MAX, SharingBase, first_of_each

_PPN_BITS = 40


class KsmSharing(SharingBase):
    """The KSM scanner; frames, counts, COW and accounting come from :class:`SharingBase`."""

    name = "ksm"
    frame_bytes = 64

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.stable: dict[int, list[int]] = {}     # hash → shared frames with that content
        self.unstable: dict[int, int] = {}         # hash → (VM uid << 40 | PPN) of a candidate
        self._credit = 0.0
        self._uid = 0                               # scan position: the VM (by uid) and PPN to scan next
        self._ppn = 0
        self._passes = 0

    @property
    def entries(self) -> int:
        return self.n_frames + self.mappings + len(self.unstable)

    @property
    def unconfirmed(self) -> int:
        return len(self.unstable)

    @property
    def full_scans(self) -> int:
        return self._passes

    def _unindex(self, frames: np.ndarray) -> None:
        for f, key in zip(frames.tolist(), self.f_hash[frames].tolist()):
            chain = self.stable[key]
            chain.remove(f)
            if not chain:
                del self.stable[key]

    def _ref1(self, f: int) -> int:
        c = int(self.f_count[f])
        return self.overflow[f] if c == COUNT_MAX else c

    # -- scanning ------------------------------------------------------------------------------
    def step(self) -> None:
        """Scan ``pages_to_scan`` pages per ``sleep_millisecs``, in order, VM after VM."""
        vms = list(self.vms.values())
        if not vms:
            self._trim_table(0)
            return
        cfg = self.config
        self._credit += cfg.ksm_pages_to_scan * 1000.0 / cfg.ksm_sleep_ms
        budget = int(self._credit)
        self._credit -= budget
        k = min(budget, self._reserve_table(2 * budget) // 2)
        i = self._position(vms)
        while k > 0:
            if i >= len(vms):                         # a full scan ended
                self._passes += 1
                self.unstable.clear()
                i, self._ppn = 0, 0
            vm = vms[i]
            take = min(k, vm.pages - self._ppn)
            self.scan(vm, np.arange(self._ppn, self._ppn + take))
            k -= take
            self._ppn += take
            self._uid = vm.uid
            if self._ppn >= vm.pages:
                self._state(vm).passes += 1
                i, self._ppn, self._uid = i + 1, 0, vm.uid + 1
        self._trim_table(2 * budget)

    def _position(self, vms: list) -> int:
        """Index in ``vms`` (power-on order, so increasing uids) of the VM the scan resumes in.
        If the VM it stopped in was powered off, the scan goes on at the start of the next one;
        the positions of VMs powered off before it do not shift it."""
        i = next((j for j, v in enumerate(vms) if v.uid >= self._uid), len(vms))
        if i == len(vms) or vms[i].uid != self._uid:
            self._ppn = 0
        return i

    def scan(self, vm, ppns: np.ndarray) -> None:
        """KSM's ``cmp_and_merge_page`` for ``ppns`` of ``vm`` (distinct), vectorised in rounds;
        pages inside a large page (later ESX) are left alone."""
        ppns = ppns[(vm.pmap.state[ppns] == PRIVATE) & ~vm.in_large(ppns)]
        if len(ppns) == 0:
            return
        tok, h = self._hash_pages(vm, ppns)
        group = self._state(vm).group
        rest = ~self._merge_stable(vm, ppns, tok, h, group)
        ppns, tok, h = ppns[rest], tok[rest], h[rest]
        steady = self._note_scan(vm, ppns, h) == h       # same checksum as at the last scan
        ppns, tok, h = ppns[steady], tok[steady], h[steady]
        me = (vm.uid << _PPN_BITS) + ppns
        todo = np.arange(len(ppns))
        while len(todo):
            todo = todo[vm.pmap.state[ppns[todo]] == PRIVATE]
            todo = todo[~self._merge_stable(vm, ppns[todo], tok[todo], h[todo], group)]
            u = np.fromiter(map(self.unstable.get, h[todo].tolist(), [-1] * len(todo)), dtype=np.int64,
                            count=len(todo))
            first = first_of_each(h[todo])
            new = (u < 0) & first
            self.unstable.update(zip(h[todo[new]].tolist(), me[todo[new]].tolist()))
            hit = (u >= 0) & first & (u != me[todo])
            if hit.any():
                j = todo[hit]
                self._merge_unstable(vm, ppns[j], tok[j], h[j], me[j], u[hit], group)
            todo = todo[~first]

    def _merge_stable(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray, group: int) -> np.ndarray:
        """Merge pages whose contents are in the stable tree (a frame with room); mask of merged."""
        merged = np.zeros(len(ppns), dtype=bool)
        frames = np.full(len(ppns), -1, dtype=np.int64)
        added: dict[int, int] = {}
        limit = self.config.ksm_max_page_sharing
        get = self.stable.get
        for i, key in enumerate(h.tolist()):
            chain = get(key)
            if not chain:
                continue
            f = chain[-1]                    # the newest copy; older ones filled up first
            if self.f_token[f] == tok[i] and self.f_group[f] == group and self._ref1(f) + added.get(f, 0) < limit:
                added[f] = added.get(f, 0) + 1
                frames[i] = f
                merged[i] = True
        self._map(vm, ppns[merged], frames[merged])
        return merged

    def _merge_unstable(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray, me: np.ndarray,
                        nodes: np.ndarray, group: int) -> None:
        """``ppns`` found unstable-tree nodes ``nodes`` (distinct hashes): compare again, then
        merge both into a new stable frame; a node whose page changed is replaced by ours."""
        for other, sel, q, _, ok in self._compare_candidates(tok, h, group, nodes >> _PPN_BITS,
                                                              nodes & ((1 << _PPN_BITS) - 1)):
            p, t, k = ppns[sel], tok[sel], h[sel]
            self.stale_hints += int(np.count_nonzero(~ok))
            self.unstable.update(zip(k[~ok].tolist(), me[sel][~ok].tolist()))
            if not ok.any():
                continue
            for key in k[ok].tolist():
                del self.unstable[key]
            frames = self._new_frames(int(np.count_nonzero(ok)))
            for key, f in zip(k[ok].tolist(), frames.tolist()):
                self.stable.setdefault(key, []).append(f)
            self._merge_pairs(vm, p[ok], other, q[ok], frames, k[ok], t[ok])

    def forget(self, vm) -> None:
        st = self.states.get(vm.uid)
        if st is not None:
            seen = st.last.nonzero()[0]
            for key, ppn in zip(st.last[seen].tolist(), seen.tolist()):
                if self.unstable.get(key) == (vm.uid << _PPN_BITS) + ppn:
                    del self.unstable[key]
        super().forget(vm)
