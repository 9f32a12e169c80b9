"""Checks shared by the tests: conservation, consistency of the pmaps, nothing lost, isolation."""
import numpy as np

from esxlab.content import owner_uid
from esxlab.machine import FREE, OVERHEAD, SHARED as SHARED_FRAME, TABLE
from esxlab.pmap import BALLOONED, PRIVATE, SHARED, STATE_NAMES, SWAPPED, UNBACKED


def check_conservation(host):
    m = host.machine
    used_by_vms = 0
    slots = []
    for vm in host.vms.values():
        p = vm.pmap
        counts = np.bincount(p.state, minlength=len(STATE_NAMES))
        assert (counts == p.counts).all(), f"{vm.name}: incremental counts drifted"
        assert counts.sum() == vm.pages              # private + shared + balloon + swapped + unbacked == max
        priv = np.flatnonzero(p.state == PRIVATE)
        assert (m.owner[p.mpn[priv]] == vm.uid).all(), f"{vm.name}: private page owned by someone else"
        assert (p.mpn[(p.state == UNBACKED) | (p.state == BALLOONED) | (p.state == SWAPPED)] == -1).all()
        sw = np.flatnonzero(p.state == SWAPPED)
        assert (p.slot[sw] >= 0).all()
        slots.append(p.slot[sw])
        used_by_vms += len(priv)
        assert vm.alloc_pages == counts[PRIVATE] + counts[SHARED]
    owners = np.bincount(m.owner - TABLE, minlength=4 + max([0] + [v.uid + 1 for v in host.vms.values()]))
    free = owners[FREE - TABLE]
    assert free == m.free, "free pool and owner array disagree"
    assert owners[OVERHEAD - TABLE] == host.overhead_pages
    assert owners[TABLE - TABLE] == host.sharing.table_pages
    frames = owners[SHARED_FRAME - TABLE]
    assert m.free + used_by_vms + frames + host.overhead_pages + host.sharing.table_pages == m.total
    allslots = np.concatenate(slots) if slots else np.empty(0)
    assert len(np.unique(allslots)) == len(allslots) == host.swapfile.used, "swap slots leaked or shared"


class WriteLog:
    """Records what every guest last wrote to each PPN, to check nothing is ever lost."""

    def __init__(self, host):
        self.host = host
        self.expected = {}
        import esxlab.vm as vmmod
        self._orig_write = vmmod.VM.write
        self._orig_balloon = vmmod.VM.balloon_pages
        log = self

        def write(vm, ppns, tokens):
            log._orig_write(vm, ppns, tokens)
            log._exp(vm)[ppns] = tokens

        def balloon_pages(vm, ppns):
            fresh = log._orig_balloon(vm, ppns)
            log._exp(vm)[fresh] = 0             # the guest gave these pages away
            return fresh

        self.patches = [(vmmod.VM, "write", write), (vmmod.VM, "balloon_pages", balloon_pages)]

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
        vmmod.VM.write = self._orig_write
        vmmod.VM.balloon_pages = self._orig_balloon

    def check(self):
        for vm in self.host.vms.values():
            got = vm.peek(np.arange(vm.pages))
            want = self._exp(vm)
            bad = np.flatnonzero(got != want)
            assert len(bad) == 0, f"{vm.name}: {len(bad)} pages lost, e.g. PPN {bad[0]} state {vm.pmap.state[bad[0]]}"
            uid = owner_uid(got)
            assert ((uid == -1) | (uid == vm.uid)).all(), f"{vm.name} sees another VM's data"
