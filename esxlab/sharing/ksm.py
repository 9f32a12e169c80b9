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

from collections import deque

import numpy as np

from ..arrays import run_starts
from ..pmap import PRIVATE
from .base import SharingBase, first_of_each
from .hashtable import HashTable

_PPN_BITS = 40
_PPN_MASK = (1 << _PPN_BITS) - 1
_NODE, _PAIR, _JOIN = 0, 1, 2          # a page's part in the unstable-tree step (:meth:`KsmSharing._plan`)


class KsmSharing(SharingBase):
    """The KSM scanner; frames, counts, COW and accounting come from :class:`SharingBase`."""

    name = "ksm"
    frame_bytes = 64

    def __init__(self, *args) -> None:
        super().__init__(*args)
        # hash → shared frames with that content, oldest first (a dict as an ordered set: a frame leaves in O(1))
        self.stable: dict[int, dict[int, None]] = {}
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
            del chain[f]
            last[key] = next(reversed(chain)) if chain else -1
            if not chain:
                del self.stable[key]
        keys = np.fromiter(last, dtype=np.uint64, count=len(last))
        left = np.fromiter(last.values(), dtype=np.int64, count=len(last))
        self.newest.delete(keys[left < 0])
        self.newest.assign(keys[left >= 0], left[left >= 0])

    # -- scanning ------------------------------------------------------------------------------
    def step(self) -> None:
        """Scan ``pages_to_scan`` pages per ``sleep_millisecs``, in order, VM after VM."""
        vms = list(self.vms.values())
        if not vms:
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
        if any(self._stable_fits(tok, h, self._state(vm).group)[1].any() for vm, tok, h in zip(vms, toks, hashes)):
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
        """KSM's ``cmp_and_merge_page`` for ``ppns`` of ``vm`` (distinct), vectorised: the stable tree, the
        checksum filter, then the unstable tree; pages inside a large page (later ESX) are left alone."""
        ppns = self._scannable(vm, ppns)
        if len(ppns) == 0:
            return
        tok, h = self._hash_pages(vm, ppns)
        group = self._state(vm).group
        rest = ~self._merge_stable(vm, ppns, tok, h, group)
        ppns, tok, h = ppns[rest], tok[rest], h[rest]
        steady = self._note_scan(vm, ppns, h) == h       # same checksum as at the last scan
        if steady.any():
            self._merge_unstable(vm, ppns[steady], tok[steady], h[steady], group)

    @staticmethod
    def _scannable(vm, ppns: np.ndarray) -> np.ndarray:
        """The ``ppns`` the scanner looks at: private ones outside large pages (later ESX)."""
        return ppns[(vm.pmap.state[ppns] == PRIVATE) & ~vm.in_large(ppns)]

    def _stable_fits(self, tok: np.ndarray, h: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray]:
        """(the newest stable frame of each page's hash, −1: none; the mask of pages that map it). A frame takes
        pages with its contents and group, in page order, until it has max_page_sharing mappings (Linux KSM);
        only the newest copy of a content takes pages, the older ones filled up first (invented)."""
        newest = self.newest.lookup(h)
        fits = np.zeros(len(h), dtype=bool)
        i = (newest >= 0).nonzero()[0]
        f = newest[i]
        i = i[(self.f_token[f] == tok[i]) & (self.f_group[f] == group)]
        if len(i):
            order, _, rank, _ = _grouped(newest[i])
            room = self.config.ksm_max_page_sharing - self._refs(newest[i[order]])
            fits[i[order[rank < room]]] = True
        return newest, fits

    def _merge_stable(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray, group: int) -> np.ndarray:
        """Merge pages whose contents are in the stable tree (a frame with room); mask of merged."""
        newest, fits = self._stable_fits(tok, h, group)
        self._map(vm, ppns[fits], newest[fits])
        return fits

    def _merge_unstable(self, vm, ppns: np.ndarray, tok: np.ndarray, h: np.ndarray, group: int) -> None:
        """The unstable-tree step for ``ppns`` of ``vm`` (steady, not mapped from the stable tree), all at once.

        Per hash, in page order (Linux KSM): a page meeting no node becomes the node; the next one equal to it
        merges with it into a new stable frame, which the pages after it map until the frame holds
        max_page_sharing mappings; a node found changed (stale) is replaced by the page. :meth:`_plan` gives each
        page its part and round; frame ids and the order copies are freed in follow the rounds."""
        order, starts, rank, gid = _grouped(h)
        first = order[starts]                            # each hash's first page
        me = (vm.uid << _PPN_BITS) + ppns
        nodes = self.unstable.lookup(h[first])
        valid, stale = self._check_nodes(tok[first], h[first], group, nodes, me[first])
        rnd, role, link, changed = self._plan(tok, order, starts, rank, gid, valid)
        self.stale_hints += int(np.count_nonzero(stale)) + changed
        distinct = len(starts) == len(h)                 # the usual case: each page meets the tree once
        kid = np.empty(len(h), dtype=np.intp)            # each page's hash, as an index into ``first``
        kid[order] = gid
        pairs = (role == _PAIR).nonzero()[0]
        partner = np.where(link[pairs] >= 0, me[link[pairs]], nodes[kid[pairs]])
        if len(pairs):
            frame = np.full(len(h), -1, dtype=np.intp)
            uid = np.zeros(len(h), dtype=np.int64)
            uid[pairs] = partner >> _PPN_BITS
            frame[pairs] = self._pair_frames(tok[pairs], h[pairs], rnd[pairs], partner)
            joins = (role == _JOIN).nonzero()[0]
            frame[joins] = frame[link[joins]]
            done = (role != _NODE).nonzero()[0]
            done = done[np.lexsort((done, uid[done], role[done] == _PAIR, rnd[done]))]   # as the rounds map them
            self._map(vm, ppns[done], frame[done])
        if distinct:
            last = first
        else:
            meet = order[role[order] != _JOIN]           # pages meeting the tree, by hash, in page order
            last = meet[np.append(kid[meet][1:] != kid[meet][:-1], True)]     # each hash's last (its first is one)
        self._set_nodes(h[first], nodes, np.where(role[last] == _NODE, me[last], -1))

    def _check_nodes(self, tok: np.ndarray, h: np.ndarray, group: int, nodes: np.ndarray,
                     me: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each hash's first page (contents ``tok``, hashes ``h``, nodes ``me``) met the unstable tree's node
        ``nodes`` (uid << 40 | PPN, −1: none): (the mask of nodes it merges with, unchanged and equal, KSM's second
        comparison; the mask of stale nodes, changed or of a VM gone, which the page replaces)."""
        valid = np.zeros(len(nodes), dtype=bool)
        other = (nodes >= 0) & (nodes != me)
        ask = other.nonzero()[0]
        for _, sel, _, _, ok in self._compare_candidates(tok[ask], h[ask], group, nodes[ask] >> _PPN_BITS,
                                                          nodes[ask] & _PPN_MASK):
            valid[ask[sel]] = ok
        return valid, other & ~valid

    def _plan(self, tok: np.ndarray, order: np.ndarray, starts: np.ndarray, rank: np.ndarray, gid: np.ndarray,
              valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """What the unstable-tree step does to each page: (round, role, link, stale nodes met past the first pages).

        Pages grouped by hash as :func:`_grouped` gives them (``gid``: each one's hash, by index); ``valid``: each
        hash's first page merges with the node found. Roles: :data:`_NODE` the page becomes its hash's node;
        :data:`_PAIR` it merges with the node (``link``: that page, −1 for the node found) into a new frame;
        :data:`_JOIN` it maps the frame made by page ``link``. In round r each hash's next page meets the unstable tree,
        after the frames made in round r − 1 took their pages (the model's order: invented, Linux goes page by page).
        Per hash the parts repeat every max_page_sharing pages: node, pair, joiners; a hash whose pages differ in
        contents is replayed page by page (:func:`_replay`)."""
        n, cap = len(tok), self.config.ksm_max_page_sharing
        if len(starts) == n:                             # distinct hashes, the usual case: round 0 for all
            role = np.zeros(n, dtype=np.int64)
            role[order] = valid * _PAIR
            return np.zeros(n, dtype=np.int64), role, np.full(n, -1, dtype=np.int64), 0
        s = valid[gid].astype(np.int64)                  # 1: the cycle's node is the one found
        m, at = np.divmod(rank + s, cap)
        role = np.minimum(at, _JOIN)
        rnd = 2 * m + role - s
        link = np.full(n, -1, dtype=np.intp)             # positions in ``order`` for now
        pos = np.arange(n)
        sel = (role == _PAIR) & (rank > 0)
        link[sel] = pos[sel] - 1
        sel = role == _JOIN
        link[sel] = pos[sel] - at[sel] + 1
        ts = tok[order]
        changed = 0
        for g in (np.minimum.reduceat(ts, starts) != np.maximum.reduceat(ts, starts)).nonzero()[0].tolist():
            a = int(starts[g])
            b = int(starts[g + 1]) if g + 1 < len(starts) else n
            rnd[a:b], role[a:b], got, c = _replay(ts[a:b].tolist(), bool(valid[g]), cap)
            link[a:b] = np.where(np.asarray(got) >= 0, a + np.asarray(got), -1)
            changed += c
        out = np.empty((3, n), dtype=np.int64)
        out[:, order] = rnd, role, np.where(link >= 0, order[link], -1)
        return out[0], out[1], out[2], changed

    def _pair_frames(self, tok: np.ndarray, h: np.ndarray, rnd: np.ndarray, partner: np.ndarray) -> np.ndarray:
        """New stable frames for pages (contents ``tok``, hashes ``h``, in page order) merging in rounds ``rnd``
        with unstable-tree nodes ``partner`` (uid << 40 | PPN), whose pages become the frames' machine pages;
        the frames, which join the stable tree as their hash's newest copies. Ids are taken as the rounds took
        them: per round, per partner VM by uid, in page order, each batch from the top of the free ids."""
        uid = partner >> _PPN_BITS
        seq = np.lexsort((np.arange(len(h)), uid, rnd))
        cut = np.ones(len(seq), dtype=bool)
        cut[1:] = (rnd[seq][1:] != rnd[seq][:-1]) | (uid[seq][1:] != uid[seq][:-1])
        begin = cut.nonzero()[0]
        size = np.diff(np.append(begin, len(seq)))
        start = np.repeat(begin, size)
        end = start + np.repeat(size, size)
        n = len(seq)
        frames = np.empty(n, dtype=np.intp)
        frames[seq] = self._new_frames(n)[n - end + np.arange(n) - start]     # batch by batch, the first on top
        vms = self._vms_by_uid()
        for u in np.unique(uid).tolist():
            i = (uid == u).nonzero()[0]
            other = vms[u]
            self._promote(other, partner[i] & _PPN_MASK, frames[i], h[i], tok[i], self._state(other).group)
        last: dict[int, int] = {}                        # hash → its newest frame
        for key, f in zip(h[seq].tolist(), frames[seq].tolist()):
            self.stable.setdefault(key, {})[f] = None
            last[key] = f
        keys = np.fromiter(last, dtype=np.uint64, count=len(last))
        newest = np.fromiter(last.values(), dtype=np.int64, count=len(last))
        had = self.newest.lookup(keys) >= 0              # a full frame's content gets a new copy
        self.newest.assign(keys[had], newest[had])
        self.newest.insert(keys[~had], newest[~had])
        return frames

    def _set_nodes(self, keys: np.ndarray, nodes: np.ndarray, left: np.ndarray) -> None:
        """Update the unstable tree's node of each hash ``keys`` from ``nodes`` (found, −1: none) to ``left`` (the
        node the hash's last page meeting the tree left, −1: none, it merged)."""
        had, now = nodes >= 0, left >= 0
        if had.any():
            self.unstable.delete(keys[had & ~now])
            self.unstable.assign(keys[had & now], left[had & now])
        self.unstable.insert(keys[~had & now], left[~had & now])

    def _own_nodes(self, vm) -> np.ndarray:
        """The hashes under which the unstable tree holds pages of ``vm`` (cost O(its pages)): a node is filed
        under its page's hash at the page's last scan, as the tree is emptied before a page is scanned again."""
        st = self.states.get(vm.uid)
        if st is None:
            return np.empty(0, dtype=np.uint64)
        seen = st.last.nonzero()[0]
        keys = st.last[seen]
        return keys[self.unstable.lookup(keys) == (vm.uid << _PPN_BITS) + seen]

    def _hints_of(self, vm) -> int:
        return len(self._own_nodes(vm))

    def forget(self, vm) -> None:
        self.unstable.delete(self._own_nodes(vm))
        super().forget(vm)


def _grouped(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Equal ``keys`` together, each group in index order: (``order``, a stable argsort; ``starts``, where each
    group begins in ``order``; ``rank``, each element's place in its group, and ``gid``, its group's index, both
    in ``order``'s order). Distinct keys, the usual case, take the faster unstable sort (as
    :func:`.base.first_of_each`)."""
    n = len(keys)
    order = np.argsort(keys)
    starts = run_starts(keys[order])
    if len(starts) == n:
        return order, starts, np.zeros(n, dtype=np.intp), np.arange(n)
    order = np.argsort(keys, kind="stable")
    gid = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    return order, starts, np.arange(n) - starts[gid], gid


def _replay(tokens: list[int], paired: bool, cap: int) -> tuple[list[int], list[int], list[int], int]:
    """:meth:`KsmSharing._plan` for one hash whose pages (contents ``tokens``, in page order) are not all equal (a
    hash collision), page by page; ``paired``: the first page merges with the node found. Returns (rounds, roles,
    links within ``tokens``, stale nodes met); a node of another content is stale (KSM's second comparison)."""
    n = len(tokens)
    rnd, role, link = [0] * n, [_NODE] * n, [-1] * n
    waiting: dict[int, deque[int]] = {}               # content → its pages not yet handled, in order
    for i, t in enumerate(tokens):
        waiting.setdefault(t, deque()).append(i)
    joined = [False] * n
    node = -1 if paired else None          # the node: None, the one found (−1), or a page of the list
    made, stale, r, i = None, 0, 0, 0      # made: the page whose new frame takes its joiners next round
    while True:
        if made is not None:
            same = waiting[tokens[made]]
            for _ in range(min(cap - 2, len(same))):
                j = same.popleft()
                rnd[j], role[j], link[j], joined[j] = r, _JOIN, made, True
            made = None
        while i < n and joined[i]:
            i += 1
        if i == n:
            return rnd, role, link, stale
        waiting[tokens[i]].popleft()
        rnd[i] = r
        if node is not None and (node < 0 or tokens[node] == tokens[i]):
            role[i], link[i], made, node = _PAIR, node, i, None
        else:
            stale += node is not None
            node = i
        r, i = r + 1, i + 1
