"""Linux KSM-style page sharing, behind the same interface as ESX's (beyond the paper).

Linux's Kernel Samepage Merging (mm/ksm.c; Linux 2.6.32, 2009, from Red Hat) is ESX's idea of
content-based sharing (§4) implemented independently, comparing contents in red-black trees
rather than hashing them, and it scans differently: every ``sleep_millisecs`` it scans the next ``pages_to_scan`` pages
*in order* (here: every VM's PPNs, VM after VM), and for each page

1. searches the **stable tree** of shared pages by content; a match is merged at once
   (a shared page holds at most ``max_page_sharing`` mappings; beyond that the page goes on
   to the unstable tree and may start a new copy, which later pages then join);
2. otherwise compares the page's checksum with the one seen at its previous scan: a page
   whose checksum changed is *volatile* and skipped (the checksum-stability filter);
3. otherwise searches the **unstable tree** of unshared candidates: a match is compared
   again (its contents may have changed since it was inserted) and both pages merge into
   a new stable page; no match inserts the page.

The unstable tree is emptied after every full scan. Trees are keyed by the same 64-bit hash
ESX uses (with the VM's salt): the stable tree a dict of frames indexed by the
open-addressing table of ESX's hashes (:mod:`.hashtable`), which also holds the unstable tree,
looked up a batch at a time, and content equality is checked before every
merge, like KSM's ``memcmp``. Linux has no "share before swap": pages go to swap as they
are. Metadata is charged at 64 bytes (an ``rmap_item``, invented approximation) per stable
frame, per page mapping one and per unstable node. Counters are ``/sys/kernel/mm/ksm``'s.
"""
from __future__ import annotations

import numpy as np

from ..pmap import PRIVATE
from .base import COUNT_MAX, SharingBase, first_of_each
from .hashtable import HashTable

_PPN_BITS = 40


class KsmSharing(SharingBase):
    """The KSM scanner; frames, counts, COW and accounting come from :class:`SharingBase`."""

    name = "ksm"
    frame_bytes = 64

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.stable: dict[int, list[int]] = {}     # hash → shared frames with that content
        self.newest = HashTable()                   # hash → the last of them (its lookups a batch at a time)
        self.unstable = HashTable()                 # hash → (VM uid << 40 | PPN) of a candidate
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
        last: dict[int, int] = {}                    # hash → its newest frame left, −1: none
        for f, key in zip(frames.tolist(), self.f_hash[frames].tolist()):
            chain = self.stable[key]
            chain.remove(f)
            last[key] = chain[-1] if chain else -1
            if not chain:
                del self.stable[key]
        keys = np.fromiter(last, dtype=np.uint64, count=len(last))
        left = np.fromiter(last.values(), dtype=np.int64, count=len(last))
        self.newest.delete(keys[left < 0])
        self.newest.assign(keys[left >= 0], left[left >= 0])

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
        # a tick adds at most two table entries per page it scans, and a page once per full scan (the
        # unstable tree is emptied between scans): room for 2 × min(budget, pages), not for the budget
        want = min(budget, sum(vm.pages for vm in vms))
        room = self._reserve_table(2 * want) // 2
        k = budget if room >= want else room
        i = self._position(vms)
        while k > 0:
            if i >= len(vms):                         # a full scan ended
                self._passes += 1
                self.unstable.clear()
                i, self._ppn = 0, 0
                if self._coast(vms, k):
                    break
            vm = vms[i]
            take = min(k, vm.pages - self._ppn)
            self.scan(vm, np.arange(self._ppn, self._ppn + take))
            k -= take
            self._ppn += take
            self._uid = vm.uid
            if self._ppn >= vm.pages:
                self._state(vm).passes += 1
                i, self._ppn, self._uid = i + 1, 0, vm.uid + 1
        self._trim_table(2 * want)

    def _coast(self, vms: list, k: int) -> bool:
        """At the start of a full scan, with ``k`` pages of budget left: if that scan would change
        nothing, account for all ``k`` pages without scanning them one by one and return True.

        A full scan changes nothing when every page it would scan has the checksum of its last
        scan, no two of them hash alike and none fits a stable frame: each is only inserted in the
        unstable tree, which the next full scan empties, and as nothing writes guest memory within
        a tick every further scan of the tick repeats it. Counted, not simulated (invented
        shortcut; the same counters, cursor and unstable tree as scanning page by page)."""
        pages, toks, hashes = [], [], []
        for vm in vms:
            ppns = self._scannable(vm, np.arange(vm.pages))
            tok, h = self._hash_pages(vm, ppns)
            if not (self._state(vm).last[ppns] == h).all():
                return False
            pages.append(ppns)
            toks.append(tok)
            hashes.append(h)
        if not first_of_each(np.concatenate(hashes)).all():
            return False
        for vm, tok, h in zip(vms, toks, hashes):
            newest, group = self.newest.lookup(h), self._state(vm).group
            if any(self._fits(newest[j], tok[j], group, 0) for j in (newest >= 0).nonzero()[0].tolist()):
                return False
        total = sum(vm.pages for vm in vms)
        whole, rem = divmod(k, total)
        if rem == 0:                                  # the last scan is a whole one too
            whole, rem = whole - 1, total
        self._passes += whole                         # scans begun after this one
        for vm, ppns, h in zip(vms, pages, hashes):
            cover = min(rem, vm.pages)                # positions of the last scan in this VM
            rem -= cover
            part = int(np.searchsorted(ppns, cover))
            first = len(ppns) if whole else part      # pages of this VM in the first scan
            self._note_scan(vm, ppns[:first], h[:first])
            st = self._state(vm)
            more = whole * len(ppns) + part - first
            st.scanned += more
            self.scanned += more
            st.passes += whole + (cover == vm.pages)
            if cover:
                self._uid, self._ppn = (vm.uid + 1, 0) if cover == vm.pages else (vm.uid, cover)
            self.unstable.insert(h[:part], (vm.uid << _PPN_BITS) + ppns[:part])
        return True

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
        ppns = self._scannable(vm, ppns)
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
        frames = self.n_frames                           # the stable tree these pages were matched against
        while len(todo):
            todo = todo[vm.pmap.state[ppns[todo]] == PRIVATE]
            if self.n_frames != frames:                  # new stable frames: match the pages again
                frames = self.n_frames
                todo = todo[~self._merge_stable(vm, ppns[todo], tok[todo], h[todo], group)]
            u = self.unstable.lookup(h[todo])
            first = first_of_each(h[todo])
            new = (u < 0) & first
            self.unstable.insert(h[todo[new]], me[todo[new]])
            hit = (u >= 0) & first & (u != me[todo])
            if hit.any():
                j = todo[hit]
                self._merge_unstable(vm, ppns[j], tok[j], h[j], me[j], u[hit], group)
            todo = todo[~first]

    @staticmethod
    def _scannable(vm, ppns: np.ndarray) -> np.ndarray:
        """The ``ppns`` the scanner looks at: private ones outside large pages (later ESX)."""
        return ppns[(vm.pmap.state[ppns] == PRIVATE) & ~vm.in_large(ppns)]

    def _fits(self, f: int, token, group: int, more: int) -> bool:
        """Whether a page with contents ``token`` in sharing ``group`` may map stable frame ``f``
        beside ``more`` pages merging into it now (equal contents, room under max_page_sharing)."""
        return bool(self.f_token[f] == token and self.f_group[f] == group
                    and self._ref1(f) + more < self.config.ksm_max_page_sharing)

    def _merge_stable(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray, group: int) -> np.ndarray:
        """Merge pages whose contents are in the stable tree (a frame with room); mask of merged."""
        merged = np.zeros(len(ppns), dtype=bool)
        newest = self.newest.lookup(h)       # the newest copy of each content; older ones filled up first
        hits = (newest >= 0).nonzero()[0].tolist()
        if not hits:
            return merged
        frames = np.full(len(ppns), -1, dtype=np.int64)
        added: dict[int, int] = {}
        for i in hits:
            f = int(newest[i])
            if self._fits(f, tok[i], group, added.get(f, 0)):
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
            self.unstable.assign(k[~ok], me[sel][~ok])
            if not ok.any():
                continue
            self.unstable.delete(k[ok])
            frames = self._new_frames(int(np.count_nonzero(ok)))
            for key, f in zip(k[ok].tolist(), frames.tolist()):
                self.stable.setdefault(key, []).append(f)
            had = self.newest.lookup(k[ok]) >= 0            # a full frame's content gets a new copy
            self.newest.assign(k[ok][had], frames[had])
            self.newest.insert(k[ok][~had], frames[~had])
            self._merge_pairs(vm, p[ok], other, q[ok], frames, k[ok], t[ok])

    def forget(self, vm) -> None:
        st = self.states.get(vm.uid)
        if st is not None:
            seen = st.last.nonzero()[0]
            keys = st.last[seen]
            self.unstable.delete(keys[self.unstable.lookup(keys) == (vm.uid << _PPN_BITS) + seen])
        super().forget(vm)
