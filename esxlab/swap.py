"""Hypervisor demand paging (paper §3.3).

When ballooning is impossible or too slow, ESX pages guest memory to its own swap area
with no guest involvement. A swap daemon receives a *swap target* per VM from the policy
module and pages out victims; the paper picks victims **at random**, on purpose, to avoid
pathological interference with the guest's own replacement (§3.1). The victim choice is a
small :class:`ReplacementPolicy` so alternatives can be compared: :class:`ClockReplacement`
is an LRU approximation from the access bits a hypervisor can sample. Before paging a page
out the swapper always tries to share it (§4.3, "share before swap").
"""
from __future__ import annotations

import numpy as np

from .arrays import Stack
from .errors import ConfigError
from .pmap import PRIVATE, SWAPPED


class SwapFile:
    """The host swap area: ``content`` per slot and a free stack of slots.

    ``capacity`` slots may be used. A shared area (``HostConfig.swap_mb``, §6.2) has a fixed
    capacity; with per-VM swap files (later ESX) the host calls :meth:`resize` at power-on and
    power-off by the VM's max − min, and slots are allocated on demand."""

    def __init__(self, slots: int) -> None:
        self.capacity = int(slots)
        self.content = np.zeros(self.capacity, dtype=np.uint64)
        self._free = Stack.run(self.capacity, 0, self.capacity, dtype=np.int32)

    @property
    def used(self) -> int:
        return len(self.content) - self._free.n

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.used)

    def resize(self, delta: int) -> None:
        """Change the capacity by ``delta`` slots (a VM's swap file created or deleted)."""
        self.capacity += int(delta)
        grow = self.capacity - len(self.content)
        if grow > 0:
            n = len(self.content)
            self.content = np.concatenate([self.content, np.zeros(grow, dtype=np.uint64)])
            items = self._free.items[:self._free.n]
            self._free = Stack(self.capacity, np.r_[np.arange(self.capacity - 1, n - 1, -1), items], dtype=np.int32)

    def store(self, tokens: np.ndarray) -> np.ndarray:
        slots = self._free.pop(len(tokens))
        self.content[slots] = tokens
        return slots

    def release(self, slots: np.ndarray) -> None:
        self._free.push(slots)


class ReplacementPolicy:
    """Chooses which private pages of a VM the hypervisor pages out."""

    name = "policy"

    def victims(self, vm, n: int, rng: np.random.Generator, protect: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError


class RandomReplacement(ReplacementPolicy):
    """The paper's policy: victims uniformly at random among the VM's private pages."""

    name = "random"

    def victims(self, vm, n, rng, protect):
        extra = 0 if protect is None else len(protect)
        cand = vm.pmap.random_in_state(rng, PRIVATE, n + extra)
        if protect is not None and len(protect):
            cand = cand[~np.isin(cand, protect)]
        return cand[:n]


class ClockReplacement(ReplacementPolicy):
    """An LRU approximation (beyond the paper): a clock hand over the VM's PPNs that skips
    pages touched in the last ``window_s`` seconds of VM time (the hypervisor's view of
    access bits) and evicts the first cold private pages it finds."""

    name = "clock"

    def __init__(self, window_s: int = 10) -> None:
        self.window = int(window_s)
        self.hands: dict[int, int] = {}

    def victims(self, vm, n, rng, protect):
        pages = vm.pages
        hand = self.hands.get(vm.uid, 0)
        out, scanned = [], 0
        recent = vm.vm_time - self.window
        while n > 0 and scanned < 2 * pages:
            w = min(max(4 * n, 512), pages)
            idx = (hand + np.arange(w)) % pages
            ok = vm.pmap.state[idx] == PRIVATE
            if scanned < pages:                   # first lap: only cold pages
                ok &= vm.last_touch[idx] < recent
            if out and scanned + w > pages:       # the window wraps onto pages already chosen
                ok &= ~np.isin(idx, np.concatenate(out))
            if protect is not None and len(protect):
                ok &= ~np.isin(idx, protect)
            pos = np.flatnonzero(ok)[:n]
            out.append(idx[pos])
            n -= len(pos)
            span = int(pos[-1]) + 1 if n == 0 and len(pos) else w
            hand = (hand + span) % pages
            scanned += span
        self.hands[vm.uid] = hand
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


POLICIES = {"random": RandomReplacement, "clock": ClockReplacement}


def make_policy(spec) -> ReplacementPolicy:
    if isinstance(spec, ReplacementPolicy):
        return spec
    if isinstance(spec, str) and spec in POLICIES:
        return POLICIES[spec]()
    raise ConfigError(f"replacement = {spec!r} is unknown; use a ReplacementPolicy or one of "
                      f"{', '.join(repr(k) for k in POLICIES)}.")


class Swapper:
    """The swap daemon: pages out victims to meet swap targets, pages in on demand.

    Collaborators: the machine, the swap area, page sharing (share before swap) and the
    compression cache (compress before swap, :mod:`.compression`; None: none)."""

    def __init__(self, machine, swapfile: SwapFile, sharing, policy: ReplacementPolicy,
                 rng: np.random.Generator, compression=None) -> None:
        self.machine = machine
        self.swapfile = swapfile
        self.sharing = sharing
        self.compression = compression
        self.policy = policy
        self.rng = rng

    def swap_out(self, vm, n: int, protect: np.ndarray | None = None) -> int:
        """Reclaim up to ``n`` pages of ``vm``: share what can be shared, compress what compresses
        (later ESX, when ``HostConfig.compression`` is on), page out the rest.

        Returns the machine pages this freed (sharing two victims with each other frees one).
        """
        victims = self.policy.victims(vm, n, self.rng, protect)
        if len(victims) == 0:
            return 0
        free_before = self.machine.free
        vm.break_large(victims)                  # a page leaves a large page only once it is broken
        rest = self.sharing.share_before_swap(vm, victims)
        if self.compression is not None:
            rest = self.compression.compress(vm, rest)
        ppns = rest[:self.swapfile.free]
        if len(ppns):
            mpns = vm.pmap.mpn[ppns]
            vm.pmap.slot[ppns] = self.swapfile.store(self.machine.content[mpns])
            self.machine.release(mpns)
            vm.pmap.mpn[ppns] = -1
            vm.pmap.set_state(ppns, SWAPPED)
            vm.counters.swap_outs += len(ppns)
        return self.machine.free - free_before

    def swap_in(self, vm, ppns: np.ndarray) -> None:
        """Fault ``ppns`` back in from the swap area (the caller made room)."""
        slots = vm.pmap.slot[ppns]
        mpns = self.machine.alloc(len(ppns), vm.uid)
        self.machine.content[mpns] = self.swapfile.content[slots]
        self.swapfile.release(slots)
        vm.pmap.slot[ppns] = -1
        vm.pmap.mpn[ppns] = mpns
        vm.pmap.set_state(ppns, PRIVATE)
        vm.counters.swap_ins += len(ppns)
