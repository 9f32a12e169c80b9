"""A virtual machine: configuration, pmap, guest OS, workload, balloon driver and sampler.

The methods here are the hypervisor's side of guest memory accesses (paper §2): a read or
write of a PPN that has no machine page behind it faults into ESX, which allocates a zeroed
page, swaps the contents back in (§3.3), pops the balloon (§3.2) or, for a write to a
shared page, makes a private copy (§4). Whatever happened underneath, the guest reads what
it last wrote: that is the "nothing lost" invariant the tests check.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, make_dataclass
from operator import attrgetter
from typing import Callable

import numpy as np

from .balloon import BalloonDriver
from .config import PAGES_PER_MB, VMConfig
from .content import TokenMint
from .arrays import masked, page_numbers, whole_numbers
from .errors import ConfigError, Stall, shown
from .guest import PROFILES, Guest
from .metrics import EVENTS, STATE_NAMES, VM_METRICS, VMStats
from .pmap import BALLOONED, MAPPED, PRIVATE, SHARED, SWAPPED, UNBACKED, Pmap
from .policy import rho
from .sampling import Sampler
from .swap import BackingStore
from .workloads import Workload, attached_pages, checked, disk_contents, outside

__all__ = ["VM", "VMEnv", "VMStats", "Counters", "Stall", "LARGE_PAGE"]

LARGE_PAGE = 512        # small (4 KB) pages in a 2 MB large page (later ESX, HostConfig.large_pages)
#: what :meth:`VM.trace_values` gives, in order: the per-VM trace metrics of :data:`esxlab.metrics.METRICS`
#: in the table's order (the trace's ``VM_FIELDS``), checked below
TRACE_FIELDS = ("alloc", "target", "active", "true_active", *STATE_NAMES, "overhead", "throughput", "blocked")
_TABLE_ORDER = tuple(m.name for m in VM_METRICS if m.trace)
if TRACE_FIELDS != _TABLE_ORDER:                 # a contributor's slip: say what to change, not a reshape error later
    raise ImportError(f"esxlab.vm.TRACE_FIELDS {TRACE_FIELDS} differs from the per-VM trace metrics of "
                      f"esxlab.metrics.METRICS {_TABLE_ORDER}: list each metric there in the table's order, and "
                      "give its value at the same position in VM.trace_values.")


def _add(self, other: "Counters") -> None:
    """Add ``other``'s counts to these."""
    mine = self.__dict__                   # plain int fields: a dict walk, not 13 attribute calls
    for name, value in other.__dict__.items():
        mine[name] += value


Counters = make_dataclass("Counters", [(e.name, int, 0) for e in EVENTS], namespace={
    "add": _add, "__doc__": "Events of one VM (the rows of :data:`esxlab.metrics.EVENTS`), per tick "
                            "(``vm.counters``) and since power-on (``vm.totals``)."})
Counters.__module__ = __name__

#: the stall cost model (invented), from EVENTS: per cost parameter in the table's order, its getter
#: on HostConfig, the events it prices and whether it is in ms (else µs)
_STALL_COSTS = tuple((attrgetter(cost), tuple(e.name for e in EVENTS if e.cost == cost), cost.endswith("_ms"))
                     for cost in dict.fromkeys(e.cost for e in EVENTS if e.cost))


@dataclass(frozen=True)
class VMEnv:
    """What a VM may call in the hypervisor: narrow collaborators, never the host.

    ``stores`` maps each off-machine page state (SWAPPED, and any a later mechanism adds) to the
    :class:`~esxlab.swap.BackingStore` holding its contents, in the order faults restore them;
    ``make_free(n, vm, protect, partial=False, grows=None)`` asks reclamation for ``n`` free machine pages now
    (``partial``: as many as it can find; ``grows``: what the fault adds to the VM's alloc, ``VM._grows``)
    and returns how many it has (raises
    :class:`~esxlab.errors.Stall` when short; with ``partial``, only when it has not one); ``tax_rate()`` is the current τ (for :attr:`VMStats.rho`);
    ``config`` the host's configuration (unit costs, sampling); ``streams`` the seeded streams."""

    machine: object
    stores: dict[int, BackingStore]
    sharing: object
    remap: object
    make_free: Callable
    tax_rate: Callable[[], float]
    config: object
    streams: object


class VM:
    """One virtual machine as ESX sees it (§2): its pmap (PPN → MPN), its guest OS running a workload, its
    balloon driver (§3.2) and active-memory sampler (§5.3), its target and counters; the hypervisor's side of
    every guest access (faults, swap-ins, copy-on-write). Built by :meth:`esxlab.Host.power_on`.

    Its attributes count 4 KB pages: ``pages`` (its max), ``target`` (the allocation §6.1's policy gives it, in
    pages, where ``vm.stats().target`` is MB), ``true_active``; :meth:`stats` gives MB."""

    def __init__(self, env: VMEnv, uid: int, config: VMConfig, workload: Workload) -> None:
        hc = env.config
        self.env = env
        self.uid = uid
        self.config = config
        self.name = config.name
        self.pages = config.max_pages
        self.pmap = Pmap(self.pages)
        self.mint = TokenMint(uid)
        self.last_touch = np.full(self.pages, -1, dtype=np.int32)
        self.vm_time = 0
        self.blocked = False
        self.counters, self.totals = Counters(), Counters()
        self.target = self.pages
        self.throughput = 0.0
        self.overhead_mpns = np.empty(0, dtype=np.int32)
        self.workload = workload
        self._check_access = outside(workload)       # (a Delayed checks the one it wraps)
        profile = PROFILES[config.guest_os]
        lp = attached_pages(workload, self.pages, uid, env.streams.child(f"vm{uid}:workload"))
        self.guest = Guest(self, profile, lp, disk_contents(workload, self.mint, lp))
        load_at = 0 if config.balloon in ("absent", "disabled") else profile.boot_s
        self.balloon = BalloonDriver(config.balloon, config.balloon_cap_pages, config.balloon_rate_mb_s, load_at,
                                     hc.balloon_stuck_s)
        self.sampler = Sampler(self.pages, hc.sample_pages, hc.sample_period_s, hc.slow_gain, hc.fast_gain,
                               env.streams.child(f"vm{uid}:sampler"))
        self.true_active = 0
        # later ESX: with HostConfig.large_pages every 2 MB region starts backed by a large page
        # (invented: the host always finds 2 MB chunks); a broken one stays small
        self.large = np.full(-(-self.pages // LARGE_PAGE), bool(hc.large_pages))
        self.large_left = int(np.count_nonzero(self.large))
        self.large_broken = 0
        self.off_at: int | None = None                # the host's time (s) at power-off; None while it runs

    def __repr__(self) -> str:
        when = f"powered off at t={self.off_at}s" if self.off_at is not None else f"running, t={self.vm_time}s"
        return (f"<VM {self.name!r} max_mb={self.pages / PAGES_PER_MB:g} alloc_mb={self.alloc_pages / PAGES_PER_MB:.1f} "
                f"{when}>")

    # -- the hypervisor's side of guest accesses -------------------------------------------
    def _touch(self, ppns: np.ndarray, write) -> None:
        """Make ``ppns`` (distinct) accessible, then note the access for the sampler (§5.3).
        ``write`` (Python's False or True, or a bool mask over ``ppns``) says which are written: they
        need a private copy."""
        if len(ppns) == 0:
            return
        st = self.pmap.state[ppns]
        # a read faults nothing in where a machine page is mapped, a write where it is private
        ok = MAPPED[st] if write is False else st == PRIVATE
        if not ok.all():
            if isinstance(write, np.ndarray):     # a mask: its reads of shared pages need nothing either
                ok |= (st == SHARED) & ~write
            if not ok.all():
                self._fault(ppns, st, write, ~ok)
        self._noted(ppns)

    def _noted(self, ppns: np.ndarray) -> None:
        """Note an access to ``ppns``, now accessible, for the sampler (§5.3) and the counters."""
        self.last_touch[ppns] = self.vm_time
        self.counters.accesses += len(ppns)

    def _fault(self, ppns: np.ndarray, st: np.ndarray, write, needs: np.ndarray) -> None:
        """Fault in what ``needs`` marks: zeroed page, swap-in, balloon pop, copy-on-write.

        When the machine pages for the whole batch cannot be found at once, the fault makes
        progress in pieces as large as reclamation can serve (a swap-in frees a swap slot the
        next piece may page into); :class:`~esxlab.errors.Stall` only when not one page can. ConfigError for a
        VM powered off: every way into its pages faults here, and would take memory the host never gets back."""
        if self.off_at is not None:
            raise ConfigError(f"VM {self.name!r} was powered off at t = {self.off_at} s: its pages can no longer be "
                              "touched, read or written (they would take machine memory no VM gives back); its "
                              f"history is in host.trace.vm({self.name!r}); allowed: a running VM's pages "
                              "(host.vm(name) gives one).")
        try:
            self.env.make_free(int(np.count_nonzero(needs)), self, ppns, grows=self._grows(st[needs]))
        except Stall:
            todo = needs.nonzero()[0]
            while len(todo):
                grows = self._grows(self.pmap.state[ppns[todo]])
                served = self.env.make_free(len(todo), self, ppns, partial=True, grows=grows)   # Stall: not one page
                piece = todo[:served]
                # states read again: an earlier piece may have popped the balloon (its pages now unbacked)
                self._back(ppns[piece], self.pmap.state[ppns[piece]],
                           write[piece] if isinstance(write, np.ndarray) else write)
                todo = todo[len(piece):]
            return
        self._back(ppns, st, write)

    def _grows(self, st: np.ndarray) -> int:
        """What faulting in pages in states ``st`` adds to the alloc (``make_free``'s ``grows``): a page each, but
        nothing for a copy-on-write break (the VM was charged for the shared page) and less by what a store that
        charges the VM releases as they leave it (:meth:`~esxlab.swap.BackingStore.released_pages`)."""
        n = np.bincount(st, minlength=len(STATE_NAMES))
        grows = len(st) - int(n[SHARED])
        for state, store in self.env.stores.items():
            if n[state]:
                grows -= store.released_pages(self, int(n[state]))
        return grows

    def _back(self, ppns: np.ndarray, st: np.ndarray, write) -> None:
        """Give ``ppns`` the machine pages they need (the caller made room): a zeroed page, the
        contents back from the store holding them (a swap-in, §3.3), or a private copy.
        ``st`` is their states; ``write`` a bool for the batch or a mask over ``ppns``."""
        n = np.bincount(st, minlength=len(STATE_NAMES))          # one pass: which of the steps below apply
        if n[BALLOONED]:
            self.counters.balloon_pops += 1
            self.balloon.pop(self)
        if n[UNBACKED] or n[BALLOONED]:
            fresh = ppns[(st == UNBACKED) | (st == BALLOONED)]
            self.pmap.mpn[fresh] = self.env.machine.alloc(len(fresh), self.uid)
            self.pmap.set_state(fresh, PRIVATE)
            self.counters.zero_allocs += len(fresh)
        for state, store in self.env.stores.items():
            if n[state]:
                store.restore(self, ppns[st == state])
        if n[SHARED] and write is not False:
            cow = (st == SHARED) & write
            if cow.any():
                self.env.sharing.cow_break(self, ppns[cow])
                self.counters.cow_breaks += int(np.count_nonzero(cow))

    # -- checks of the public entry points (the engine calls the unchecked methods) ------------
    def _running(self, call: str) -> None:
        """ConfigError if the VM was powered off: ``call`` (e.g. "vm.stats()") needs a running VM."""
        if self.off_at is not None:
            raise ConfigError(f"{call}: VM {self.name!r} was powered off at t = {self.off_at} s and holds no memory; "
                              f"its history is in host.trace.vm({self.name!r}); allowed: {call} of a running VM "
                              "(host.vm(name) gives one).")

    def _user_ppns(self, call: str, ppns: object, distinct: bool = False) -> np.ndarray:
        """``ppns`` (a 1-D integer array or list, each in 0 ≤ PPN < ``pages``; ``distinct`` if asked) as an
        intp array, for ``call`` of a running VM; else ConfigError saying what is wrong and what is allowed
        (:func:`~esxlab.arrays.page_numbers`'s rules)."""
        self._running(call)
        a = page_numbers(ppns, self.pages, once=distinct)
        if isinstance(a, np.ndarray):
            return a
        raise ConfigError(f"{call}: ppns = {shown(ppns)} {a}; allowed: a 1-D array (or list) of "
                          f"{'distinct ' if distinct else ''}integer PPNs, 0 ≤ PPN < vm.pages = {self.pages}, "
                          "e.g. np.arange(vm.pages).")

    def mapped(self, ppns: np.ndarray) -> bool:
        """Whether all of ``ppns`` map a machine page (privately or shared): reading them faults nothing in.
        The engine's (unchecked: in-range PPNs assumed)."""
        return bool(MAPPED[self.pmap.state[ppns]].all())

    def touch(self, ppns: np.ndarray) -> None:
        """The guest reads ``ppns`` (distinct PPNs of this running VM; ConfigError otherwise) and does not need
        the data (e.g. executes, scans): their faults are served as a guest's are."""
        self._touch(self._user_ppns("vm.touch(ppns)", ppns, distinct=True), write=False)

    def touch_range(self, lo: int, hi: int) -> None:
        """``touch(np.arange(lo, hi))``, on slices while nothing in the range faults (the OS's
        background sweep: a run of kernel pages, nearly always mapped). ConfigError unless
        0 ≤ ``lo`` ≤ ``hi`` ≤ ``pages``."""
        try:
            ok = 0 <= operator.index(lo) <= operator.index(hi) <= self.pages
        except TypeError:                     # a float or a string: not a page number
            ok = False
        if not ok:
            raise ConfigError(f"vm.touch_range(lo, hi): lo = {lo!r}, hi = {hi!r}; allowed: whole numbers with "
                              f"0 ≤ lo ≤ hi ≤ vm.pages = {self.pages}.")
        # per VM per tick: count_nonzero of a take costs a third fewer instructions than .all() of a fancy index
        if np.count_nonzero(MAPPED.take(self.pmap.state[lo:hi])) == hi - lo:
            self.last_touch[lo:hi] = self.vm_time
            self.counters.accesses += hi - lo
        else:
            self._touch(np.arange(lo, hi), write=False)

    def read(self, ppns: np.ndarray) -> np.ndarray:
        """The guest reads ``ppns`` (distinct PPNs of this running VM; ConfigError otherwise): their contents,
        faulting in as needed; :meth:`peek` reads contents with no side effects."""
        return self._read(self._user_ppns("vm.read(ppns)", ppns, distinct=True))

    def _read(self, ppns: np.ndarray, mapped: bool = False) -> np.ndarray:
        """:meth:`read`, the engine's (unchecked: distinct in-range PPNs assumed; ``mapped``: the caller knows
        :meth:`mapped` holds for them, so there is nothing to fault in)."""
        if mapped:                            # what _touch does when nothing faults
            self._noted(ppns)
        else:
            self._touch(ppns, write=False)
        return self.env.machine.content[self.pmap.mpn[ppns].astype(np.intp)]

    def write(self, ppns: np.ndarray, tokens: np.ndarray) -> None:
        """The guest writes ``tokens`` (one content token, a whole number ≥ 0, per PPN) to ``ppns`` (distinct PPNs
        of this running VM); ConfigError otherwise."""
        ppns = self._user_ppns("vm.write(ppns, tokens)", ppns, distinct=True)
        hidden = masked(tokens, "the tokens left unmasked and their PPNs: vm.write(ppns[~x.mask], x[~x.mask])")
        t = np.asarray(tokens)
        if hidden or not whole_numbers(t, ppns.shape):
            problem = f" {hidden}" if hidden else ""
            raise ConfigError(f"vm.write(ppns, tokens): tokens = {shown(tokens)}{problem}; allowed: a 1-D array of "
                              f"whole numbers ≥ 0 (page contents), one per PPN of ppns ({len(ppns)}), e.g. "
                              "vm.mint.take(len(ppns)).")
        self._write(ppns, t)

    def _write(self, ppns: np.ndarray, tokens: np.ndarray) -> None:
        """:meth:`write`, the engine's (unchecked: distinct in-range PPNs and one token each assumed)."""
        self._touch(ppns, write=True)
        self._store(ppns, tokens)

    def access(self, ppns: np.ndarray, writes: np.ndarray, written: np.ndarray, tokens: np.ndarray) -> None:
        """The guest reads ``ppns`` (distinct), writing ``tokens`` to those where ``writes`` is set
        (``written``: the positions of its set entries, ``writes.nonzero()[0]``, or ``slice(None)``
        when every page is written). The engine's (unchecked: in-range PPNs assumed)."""
        self._touch(ppns, writes)
        self._store(ppns[written], tokens)

    def _store(self, ppns: np.ndarray, tokens: np.ndarray) -> None:
        """Put ``tokens`` in the machine pages now mapped (privately) at ``ppns`` (the engine's, after
        :meth:`_touch` of a write: unchecked)."""
        self.env.machine.content[self.pmap.mpn[ppns].astype(np.intp)] = tokens     # intp: numpy's fast path

    def peek(self, ppns: np.ndarray) -> np.ndarray:
        """Contents of ``ppns`` (integer PPNs of this running VM, e.g. ``np.arange(vm.pages)``; ConfigError
        otherwise) as the guest would read them, with no side effects."""
        ppns = self._user_ppns("vm.peek(ppns)", ppns)
        st = self.pmap.state[ppns]
        out = np.zeros(len(ppns), dtype=np.uint64)
        mapped = MAPPED[st]
        out[mapped] = self.env.machine.content[self.pmap.mpn[ppns[mapped]]]
        for state, store in self.env.stores.items():
            off = st == state
            out[off] = store.peek(self, ppns[off])
        return out

    def retire(self, t: int) -> None:
        """:meth:`esxlab.Host.power_off`'s VM side (call that, not this), at time ``t``: release all that
        backs its pages; they read unbacked from now on, and the public methods refuse with a sentence."""
        self._drop_backing(np.arange(self.pages))
        self.pmap.set_state(np.flatnonzero(self.pmap.state != UNBACKED), UNBACKED)
        self.off_at = t

    def _drop_backing(self, ppns: np.ndarray) -> None:
        """Release whatever backs ``ppns`` (machine page, shared mapping, a store's slot); the caller
        sets their new state."""
        st = self.pmap.state[ppns]
        priv = ppns[st == PRIVATE]
        self.env.machine.release(self.pmap.mpn[priv])
        shared = ppns[st == SHARED]
        if len(shared):
            self.env.sharing.unshare(self, shared)
        for state, store in self.env.stores.items():
            store.drop(self, ppns[st == state])
        self.pmap.mpn[ppns] = -1

    # -- large pages (later ESX) -----------------------------------------------------------------
    def in_large(self, ppns: np.ndarray) -> np.ndarray:
        """Which of ``ppns`` lie inside a large page (page sharing leaves them alone)."""
        return self.large[ppns // LARGE_PAGE]

    def break_large(self, ppns: np.ndarray | None = None) -> int:
        """Break the large pages holding ``ppns`` (all of them if None) into small pages; return
        how many were broken. Machine memory is unchanged: the small pages keep their frames."""
        if self.large_left == 0:
            return 0
        regions = slice(None) if ppns is None else ppns // LARGE_PAGE
        n = int(np.count_nonzero(self.large[regions])) if ppns is None else \
            int(np.count_nonzero(self.large[np.unique(regions)]))
        self.large[regions] = False
        self.large_left -= n
        self.large_broken += n
        return n

    def balloon_pages(self, ppns: np.ndarray) -> tuple[np.ndarray, int]:
        """The driver reported ``ppns``: free their backing, mark them ballooned (§3.2). The engine's
        (unchecked: distinct in-range PPNs assumed).

        Returns the newly ballooned PPNs and the machine pages this freed (a shared page frees
        its frame only with its last mapping; a never-backed page frees nothing)."""
        fresh = ppns[self.pmap.state[ppns] != BALLOONED]
        self.break_large(fresh)
        before = self.env.machine.free
        self._drop_backing(fresh)
        self.pmap.set_state(fresh, BALLOONED)
        return fresh, self.env.machine.free - before

    def unballoon_pages(self, ppns: np.ndarray) -> None:
        """Deflate or pop: the PPNs become unbacked; the next touch gets a zeroed page."""
        self.pmap.set_state(ppns[self.pmap.state[ppns] == BALLOONED], UNBACKED)

    @property
    def floor_pages(self) -> int:
        """The allocation reclamation takes the VM down to: its target, never below its min (§6.2)."""
        return max(self.target, self.config.min_pages)

    @property
    def shares(self) -> float:
        """The VM's shares now (§6.1): its ``config.shares``, or ``shares_per_mb`` × max if None."""
        return self.config.effective_shares(self.env.config.shares_per_mb)

    # -- one simulated second ------------------------------------------------------------------
    def step(self) -> None:
        """Run the guest for one tick (unless blocked), then poll the balloon and sample.

        ``counters`` were reset by the host at the start of the tick (they include its swap-outs);
        the host adds them to ``totals`` once every VM has stepped (another VM's fault may page
        this one after it ran).
        """
        c = self.counters
        if self.blocked:
            self.throughput = 0.0
            return
        self.vm_time += 1
        work = 0
        try:
            if self.vm_time <= self.guest.profile.zero_s:
                self.guest.boot_zero_step()
            self.guest.background_step()
            acc = self.workload.step(self.vm_time)
            if self._check_access:
                acc = checked(acc, len(self.guest.lp_ppn), type(self.workload).__name__, self.vm_time)
            if len(acc.freed):
                self.guest.free_lps(acc.freed)
            work = len(acc.lps)
            short = self.guest.access(acc.lps, acc.writes)      # pages the guest had no room for: not served
            c.guest_oom += short
            work -= short
            if len(acc.io):
                self.env.remap.io(self, self.guest.lp_ppn[acc.io], acc.io_transfers)
            self.guest.keep_free_step()
            self.guest.zero_page_thread_step()
        except Stall:
            c.stalls += 1
        try:
            self.balloon.poll(self, self.vm_time)
        except Stall:
            c.stalls += 1
        period_start = self.sampler.period_start
        self.sampler.tick(self.vm_time, self.last_touch)
        if self.sampler.elapsed == 0:       # a period ended: count the pages it really touched
            self.true_active = int(np.count_nonzero(self.last_touch >= period_start))
        self.throughput = self._throughput(work)

    def _throughput(self, work: int) -> float:
        """Accesses per second: the tick's accesses over CPU time plus stall time (invented
        cost model: the events' costs of :data:`esxlab.metrics.EVENTS`, unit costs in
        :class:`~esxlab.config.HostConfig`); the workload's ``cpu_us_per_access`` is > 0 (checked at power-on:
        accesses that cost nothing would have no rate)."""
        if work == 0:
            return 0.0
        hc, c = self.env.config, self.counters.__dict__
        ms = us = 0.0
        for cost, events, in_ms in _STALL_COSTS:
            k = 0
            for e in events:                      # plain loops: this runs per VM per tick
                k += c[e]
            if k:                                 # no such event: adds nothing
                if in_ms:
                    ms += k * cost(hc)
                else:
                    us += k * cost(hc)
        stall_ms = ms + us / 1000
        busy_s = work * self.workload.cpu_us_per_access / 1e6 + stall_ms / 1000 + (1.0 if c["stalls"] else 0.0)
        return work / busy_s if busy_s > 0 else 0.0

    # -- accounting ---------------------------------------------------------------------------
    @property
    def alloc_pages(self) -> int:
        """Machine memory charged to the VM: private pages plus pages mapping shared frames, plus
        what its stores charge it (:meth:`~esxlab.swap.BackingStore.charged_pages`; none for swap)."""
        return self.pmap.count(PRIVATE) + self.pmap.count(SHARED) + self._charged_pages()

    def _charged_pages(self) -> int:
        n = 0
        for store in self.env.stores.values():    # a plain loop: alloc_pages is read many times a tick
            n += store.charged_pages(self)
        return n

    @property
    def swapped_pages(self) -> int:
        """Pages whose contents are in the host's swap area (§3.3)."""
        return self.pmap.count(SWAPPED)

    def private_pages(self, exclude: np.ndarray | None = None) -> int:
        """Private pages, less those in ``exclude`` (distinct PPNs)."""
        n = self.pmap.count(PRIVATE)
        return n if exclude is None else n - int(np.count_nonzero(self.pmap.state[exclude] == PRIVATE))

    @property
    def active_pages(self) -> int:
        """The sampler's estimate of the pages the VM actively uses (§5.3)."""
        return int(round(self.sampler.estimate * self.pages))

    def trace_values(self) -> list[float]:
        """This tick's values for the trace, in the order of :data:`TRACE_FIELDS` (the per-VM
        metrics of :mod:`esxlab.metrics` recorded every tick), memory in MB."""
        mb = PAGES_PER_MB
        c = [n / mb for n in self.pmap.counts.tolist()]       # Python floats: cheaper than numpy scalars
        return [c[PRIVATE] + c[SHARED] + self._charged_pages() / mb, self.target / mb, self.active_pages / mb,
                self.true_active / mb, *c, len(self.overhead_mpns) / mb, self.throughput, float(self.blocked)]

    def trace_row(self) -> dict[str, float]:
        """This tick's values for the trace by name, in MB (:meth:`trace_values`)."""
        return dict(zip(TRACE_FIELDS, self.trace_values()))

    @property
    def counted_active_pages(self) -> int:
        """The active estimate as revocation counts it: at most the VM's limit (later ESX; its max without one)."""
        return min(self.active_pages, self.config.limit_pages)

    def rho(self, tax_rate: float) -> float:
        """This VM's adjusted shares per page ρ at its current allocation (§5.2, :func:`.policy.rho`), its active
        pages counted as revocation counts them (:attr:`counted_active_pages`)."""
        return rho(self.shares, self.alloc_pages, self.counted_active_pages, tax_rate)

    def stats(self) -> VMStats:
        """The VM's memory now, as plain floats (:class:`~esxlab.metrics.VMStats`); ConfigError once it was
        powered off (its history is in ``host.trace``)."""
        self._running("vm.stats()")
        return VMStats.of(self.trace_row(), name=self.name, max=self.pages / PAGES_PER_MB, min=self.config.min_mb,
                          shares=self.shares, rho=self.rho(self.env.tax_rate()))
