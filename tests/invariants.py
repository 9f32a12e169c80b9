"""Checks shared by the tests: conservation, consistency of the pmaps, nothing lost, isolation."""
import numpy as np

from esxlab.content import owner_uid
from esxlab.compression import COMPRESSED, SLOTS_PER_PAGE
from esxlab.machine import FREE, OVERHEAD, SHARED as SHARED_FRAME, TABLE
from esxlab.pmap import BALLOONED, PRIVATE, SHARED, STATE_NAMES, SWAPPED, UNBACKED


def check_conservation(host, caches_above_cap: dict | None = None):
    """Machine memory, swap slots and the pmaps add up. ``caches_above_cap``: VM name → the most
    its compression cache may hold above its cap after ``Host.set_limit`` lowered the cap (it then
    only shrinks: its pages leave it, none enter); updated here as those caches shrink."""
    m = host.machine
    zip_owner = host.compression.owner          # the lowest owner code: the cache's (owner_code("compression"))
    used_by_vms = 0
    slots, zipped = [], []
    for vm in host.vms.values():
        p = vm.pmap
        counts = np.bincount(p.state, minlength=len(STATE_NAMES))
        assert (counts == p.counts).all(), f"{vm.name}: incremental counts drifted"
        assert counts.sum() == vm.pages     # private + shared + balloon + swapped + compressed + unbacked == max
        priv = np.flatnonzero(p.state == PRIVATE)
        assert (m.owner[p.mpn[priv]] == vm.uid).all(), f"{vm.name}: private page owned by someone else"
        assert len(np.unique(p.mpn[priv])) == len(priv), f"{vm.name}: two private pages map one machine page"
        assert (p.mpn[(p.state == UNBACKED) | (p.state == BALLOONED) | (p.state == SWAPPED)
                      | (p.state == COMPRESSED)] == -1).all(), f"{vm.name}: a page with no machine page has an MPN"
        sw = np.flatnonzero(p.state == SWAPPED)
        assert (p.slot[sw] >= 0).all()
        slots.append(p.slot[sw])
        zp = np.flatnonzero(p.state == COMPRESSED)
        assert (p.slot[zp] >= 0).all()
        zipped.append(p.slot[zp])
        cache = host.compression.charged_pages(vm)
        assert cache == -(-counts[COMPRESSED] // SLOTS_PER_PAGE), f"{vm.name}: compression cache not compacted"
        cap = max(host.compression.cap_pages(vm), 0)
        if caches_above_cap is not None and vm.name in caches_above_cap:
            cap = max(cap, caches_above_cap[vm.name])
            caches_above_cap[vm.name] = cache
        assert cache <= cap, f"{vm.name}: compression cache above its cap"
        assert (m.owner[host.compression.mpns.get(vm.uid, np.empty(0, dtype=int))] == zip_owner).all()
        used_by_vms += len(priv)
        assert vm.alloc_pages == counts[PRIVATE] + counts[SHARED] + cache
        assert vm.guest.resident == np.count_nonzero(vm.guest.lp_ppn >= 0), f"{vm.name}: resident count drifted"
        g = vm.guest
        assert not (g.ref[:-1] & (g.ppn_lp < 0)).any(), f"{vm.name}: a referenced bit on a page the guest does not use"
    owners = np.bincount(m.owner.astype(np.int64) - zip_owner,      # int64: uid 32,767 − (−5) wraps in int16
                         minlength=6 + max([0] + [v.uid + 1 for v in host.vms.values()]))
    free = owners[FREE - zip_owner]
    assert free == m.free, "free pool and owner array disagree"
    assert owners[OVERHEAD - zip_owner] == host.overhead_pages
    assert owners[TABLE - zip_owner] == host.sharing.table_pages
    frames = owners[SHARED_FRAME - zip_owner]
    cache = owners[0]
    assert cache == host.compression.pages, "compression cache pages leaked"
    assert m.free + used_by_vms + frames + host.overhead_pages + host.sharing.table_pages + cache == m.total
    allslots = np.concatenate(slots) if slots else np.empty(0)
    assert len(np.unique(allslots)) == len(allslots) == host.swapfile.used, "swap slots leaked or shared"
    allzip = np.concatenate(zipped) if zipped else np.empty(0)
    assert len(np.unique(allzip)) == len(allzip) == host.compression.compressed == host.compression.slots.used, \
        "compression slots leaked or shared"
    check_sharing(host)
    check_large_pages(host)


def check_large_pages(host):
    """Large pages (later ESX): nothing inside a large page is shared or reclaimed, and each VM's
    count of large pages left and broken matches its regions."""
    from esxlab.vm import LARGE_PAGE
    for vm in host.vms.values():
        regions = len(vm.large)
        assert regions == -(-vm.pages // LARGE_PAGE)
        assert vm.large_left == np.count_nonzero(vm.large)
        assert vm.large_left + vm.large_broken == (regions if host.config.large_pages else 0)
        inside = vm.pmap.state[vm.in_large(np.arange(vm.pages))]
        assert not np.isin(inside, [SHARED, SWAPPED, BALLOONED, COMPRESSED]).any(), \
            f"{vm.name}: a page inside a large page is shared or reclaimed"


class WriteLog:
    """Records what every guest last wrote to each PPN, to check nothing is ever lost."""

    def __init__(self, host):
        self.host = host
        self.expected = {}
        import esxlab.vm as vmmod
        self._orig_store = vmmod.VM._store
        self._orig_balloon = vmmod.VM.balloon_pages
        log = self

        def store(vm, ppns, tokens):          # every guest write ends here
            log._orig_store(vm, ppns, tokens)
            log._exp(vm)[ppns] = tokens

        def balloon_pages(vm, ppns):
            fresh, freed = log._orig_balloon(vm, ppns)
            log._exp(vm)[fresh] = 0             # the guest gave these pages away
            return fresh, freed

        self.patches = [(vmmod.VM, "_store", store), (vmmod.VM, "balloon_pages", balloon_pages)]

    def _exp(self, vm):
        if vm.uid not in self.expected:
            self.expected[vm.uid] = np.zeros(vm.pages, dtype=np.uint64)
        return self.expected[vm.uid]

    def __enter__(self):
        for cls, name, fn in self.patches:
            setattr(cls, name, fn)
        return self

    def __exit__(self, *exc):
        import esxlab.vm as vmmod
        vmmod.VM._store = self._orig_store
        vmmod.VM.balloon_pages = self._orig_balloon

    def check(self):
        for vm in self.host.vms.values():
            got = vm.peek(np.arange(vm.pages))
            want = self._exp(vm)
            bad = np.flatnonzero(got != want)
            assert len(bad) == 0, f"{vm.name}: {len(bad)} pages lost, e.g. PPN {bad[0]} state {vm.pmap.state[bad[0]]}"
            uid = owner_uid(got)
            assert ((uid == -1) | (uid == vm.uid)).all(), f"{vm.name} sees another VM's data"


class ReadLog(WriteLog):
    """A :class:`WriteLog` that also checks every guest read, as it happens, against the last write."""

    def __init__(self, host):
        super().__init__(host)
        import esxlab.vm as vmmod
        self._orig_read = vmmod.VM._read
        log = self

        def read(vm, ppns, **kw):
            got = log._orig_read(vm, ppns, **kw)
            want = log._exp(vm)[ppns]
            bad = np.flatnonzero(got != want)
            assert len(bad) == 0, (f"{vm.name} read PPN {ppns[bad[0]]} (state {vm.pmap.state[ppns[bad[0]]]}) "
                                   f"and got {got[bad[0]]:#x}, not its last write {want[bad[0]]:#x}")
            return got

        self.patches.append((vmmod.VM, "_read", read))

    def __exit__(self, *exc):
        import esxlab.vm as vmmod
        vmmod.VM._read = self._orig_read
        super().__exit__(*exc)


class MinGuard:
    """Watches every reclaim decision (paper §6.1–6.3) while installed:

    * the host never pages out or balloons a VM below its min (guaranteed "even when memory is
      overcommitted") while another VM holds more than its own min — admission reserves
      Σ(min + overhead) ≤ memory, so such a VM exists whenever the free pool is empty;
    * a fault that takes its VM above target is never served by paging another VM below *its*
      target (reclaim comes from VMs above target; the rest is the faulting VM's own business);
      judged on where the fault leaves its VM: its alloc once reclamation is done (less the pages
      it replaced of its own, e.g. to keep to its limit, later ESX) plus what the fault adds, only
      the piece it was served for a fault served in pieces;
    * targets never hand out more than is available (or Σ min);
    * each VM's swap stays within its own reservation, max − min (§6.2); pages swapped before
      ``set_min`` raised the min are grandfathered until they come back.
    """

    def __init__(self, host):
        import esxlab.host as hostmod
        import esxlab.reclaim as reclaimmod
        import esxlab.swap as swapmod
        import esxlab.vm as vmmod
        self.host = host
        self.violations = []
        self.grace = {}
        self.claim = None
        guard = self
        orig_swap, orig_balloon = swapmod.Swapper.swap_out, vmmod.VM.balloon_pages
        orig_set_min, orig_ensure = hostmod.Host.set_min, reclaimmod.Reclaimer.make_free
        orig_recompute = hostmod.Host.recompute_targets

        def recompute_targets(h, why):
            orig_recompute(h, why)
            total = sum(v.target for v in h.vms.values())
            mins = sum(v.config.min_pages for v in h.vms.values())
            if total > max(h.available_pages(), mins) + len(h.vms):
                guard.violations.append(f"t={h.time}: targets hand out {total} pages, "
                                        f"{h.available_pages()} available (Σ min {mins})")

        def make_free(r, n, vms, requester=None, protect=None, partial=False, grows=None):
            grows = n if grows is None else grows
            guard.claim = None if requester is None else (requester, n, [])     # others paged below target
            served = None
            try:
                served = orig_ensure(r, n, vms, requester, protect, partial, grows)
                return served
            finally:
                claim, guard.claim = guard.claim, None
                adds = grows if served is None else min(grows, served)     # raised: judged on all it asked
                if claim is not None and claim[2] and requester.alloc_pages + adds > requester.target:
                    guard.violations.extend(claim[2])

        def swap_out(swapper, vm, n, protect=None):
            before = vm.alloc_pages
            got = orig_swap(swapper, vm, n, protect)
            if protect is None:                     # a VM replacing its own pages for a fault nets no loss
                guard._after_reclaim(vm, before, "page out")
            if guard.claim is not None and vm is not guard.claim[0] and vm.alloc_pages < min(before, vm.target):
                r, n, paged = guard.claim
                paged.append(f"t={guard.host.time}: a fault of {n} pages by {r.name} (alloc {r.alloc_pages}, "
                             f"target {r.target}) paged {vm.name} from {before} to {vm.alloc_pages} pages, below "
                             f"its target {vm.target}")
            return got

        def balloon_pages(vm, ppns):
            before = vm.alloc_pages
            out = orig_balloon(vm, ppns)
            guard._after_reclaim(vm, before, "balloon")
            return out

        def set_min(h, name, min_mb):
            orig_set_min(h, name, min_mb)
            vm = h.vm(name)
            guard.grace[vm.uid] = max(0, vm.pmap.count(SWAPPED) - (vm.pages - vm.config.min_pages))

        self.patches = [(swapmod.Swapper, "swap_out", swap_out, orig_swap),
                        (vmmod.VM, "balloon_pages", balloon_pages, orig_balloon),
                        (hostmod.Host, "set_min", set_min, orig_set_min),
                        (reclaimmod.Reclaimer, "make_free", make_free, orig_ensure),
                        (hostmod.Host, "recompute_targets", recompute_targets, orig_recompute)]

    def _after_reclaim(self, vm, before, how):
        after = vm.alloc_pages
        if after >= before or after >= vm.config.min_pages:
            return
        richer = [v.name for v in self.host.vms.values() if v is not vm and v.alloc_pages > v.config.min_pages]
        if richer:
            self.violations.append(f"t={self.host.time}: {how} took {vm.name} from {before} to {after} pages, "
                                   f"below its min {vm.config.min_pages}, while {richer[0]} is above its min")

    def __enter__(self):
        for cls, name, fn, _ in self.patches:
            setattr(cls, name, fn)
        return self

    def __exit__(self, *exc):
        for cls, name, _, orig in self.patches:
            setattr(cls, name, orig)

    def check(self):
        assert not self.violations, self.violations[0]
        for vm in self.host.vms.values():
            allowed = vm.pages - vm.config.min_pages
            swapped = vm.pmap.count(SWAPPED)
            grace = self.grace[vm.uid] = min(self.grace.get(vm.uid, 0), max(0, swapped - allowed))
            assert swapped <= allowed + grace, (f"{vm.name}: {swapped} pages swapped, more than its swap "
                                                f"reservation max − min = {allowed}")


def check_reservations(host, targets=True):
    """Swap within capacity; every VM within max, balloon consistent, and (after a
    reallocation, ``targets``) min ≤ target ≤ max (paper §6.1–6.3)."""
    sw = host.swapfile
    assert 0 <= sw.used <= sw.capacity
    for vm in host.vms.values():
        assert vm.alloc_pages + vm.pmap.count(SWAPPED) + vm.pmap.count(BALLOONED) <= vm.pages
        assert vm.pmap.count(BALLOONED) == vm.balloon.size, f"{vm.name}: balloon driver and pmap disagree"
        assert vm.balloon.size <= max(vm.balloon.cap, 0) or vm.balloon.mode == "lying"
        if targets:
            assert vm.config.min_pages <= vm.target <= vm.config.limit_pages <= vm.pages, (
                f"{vm.name}: target {vm.target} outside [min {vm.config.min_pages}, limit {vm.config.limit_pages}, "
                f"max {vm.pages}]")


def check_sharing(host):
    """Page sharing (§4.3): every shared frame's reference count (16-bit, or the overflow table's
    when saturated) equals the number of PPNs mapping it; frames and machine owners agree;
    saved / zero counters match a recount."""
    from esxlab.sharing import COUNT_MAX, FRAME
    s, m = host.sharing, host.machine
    frames = np.flatnonzero(s.f_kind == FRAME)
    assert len(frames) == s.n_frames
    assert (m.owner[s.f_mpn[frames]] == SHARED_FRAME).all(), "a shared frame's page is not owned SHARED"
    assert (s.frame_of[s.f_mpn[frames]] == frames).all()
    assert np.count_nonzero(m.owner == SHARED_FRAME) == len(frames)
    refs = np.zeros(len(s.f_kind), dtype=np.int64)
    zero = 0
    for vm in host.vms.values():
        sh = np.flatnonzero(vm.pmap.state == SHARED)
        fr = s.frame_of[vm.pmap.mpn[sh]]
        assert (fr >= 0).all(), f"{vm.name}: a SHARED PPN maps no shared frame"
        np.add.at(refs, fr, 1)
        zero += int(np.count_nonzero(s.f_token[fr] == 0))
        assert (m.content[vm.pmap.mpn[sh]] == s.f_token[fr]).all(), f"{vm.name}: a shared frame's contents changed"
    saturated = s.f_count[frames] == COUNT_MAX
    assert set(s.overflow) == set(frames[saturated].tolist()), "overflow table and saturated counts disagree"
    assert all(v >= COUNT_MAX for v in s.overflow.values())
    counted = s._refs(frames)
    assert (counted == refs[frames]).all(), "reference count != number of PPNs mapping the frame"
    assert (refs[frames] >= 1).all(), "a shared frame nobody maps"
    assert refs.sum() == s.mappings and s.saved_pages == s.mappings - len(frames) and s.zero_pages == zero
    assert s.table_pages * (4096 // s.frame_bytes) >= s.entries - 4096, "table memory not accounted"
