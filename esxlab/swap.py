"""Hypervisor demand paging (paper §3.3).

When ballooning is impossible or too slow, ESX pages guest memory to its own swap area
with no guest involvement. A swap daemon receives a *swap target* per VM from the reclaimer
(:func:`.reclaim.plan`, by the free-memory state's rule) and pages out victims; the paper picks victims **at random**, on purpose, to avoid
pathological interference with the guest's own replacement (§3.1). The victim choice is a
small :class:`ReplacementPolicy` so alternatives can be compared: :class:`ClockReplacement`
is an LRU approximation from the access bits a hypervisor can sample. A policy of one's own (a
student's) has its victims checked on every call (:func:`legal_victims`). Before paging a page
out the swapper always tries to share it (§4.3, "share before swap").
"""
from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np

from .arrays import Stack, page_numbers
from .errors import ConfigError, PolicyError, shorten, shown
from .pmap import PRIVATE, STATE_NAMES, SWAPPED


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
        """Slots holding a page."""
        return len(self.content) - self._free.n

    @property
    def free(self) -> int:
        """Slots that may still be used (0 when the capacity shrank below the slots in use)."""
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
        """Put the contents ``tokens`` (uint64) in free slots and return the slots (int32), in order."""
        slots = self._free.pop(len(tokens))
        self.content[slots] = tokens
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Free ``slots`` (their pages were swapped in or dropped)."""
        self._free.push(slots)


class ReplacementPolicy:
    """Chooses which private pages of a VM the hypervisor pages out."""

    name = "policy"

    def victims(self, vm, n: int, rng: np.random.Generator, protect: np.ndarray | None) -> np.ndarray:
        """Up to ``n`` distinct PPNs of ``vm`` to page out, each in state PRIVATE and none in ``protect``.

        ``vm`` offers ``pmap`` (``state``, ``count``, ``random_in_state``), ``pages``, ``uid``, ``vm_time`` and
        ``last_touch``; ``rng`` is the swapper's stream; ``protect`` (int PPNs or None) holds the pages the VM is
        faulting in right now. Returns a 1-D integer array (int64 from the built-in policies), fewer than ``n``
        only when no more private pages qualify; empty lets the swapper spill a stage's cache instead. A policy may keep state (a hand).
        The swapper checks every answer of a policy that is not one of :data:`POLICIES` (:func:`legal_victims`,
        :func:`short_answer`): PolicyError otherwise."""
        raise NotImplementedError


class RandomReplacement(ReplacementPolicy):
    """The paper's policy: victims uniformly at random among the VM's private pages."""

    name = "random"

    def victims(self, vm, n: int, rng: np.random.Generator, protect: np.ndarray | None) -> np.ndarray:
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

    def victims(self, vm, n: int, rng: np.random.Generator, protect: np.ndarray | None) -> np.ndarray:
        pages = vm.pages
        hand = self.hands.get(vm.uid, 0)
        out, scanned = [], 0
        recent = vm.vm_time - self.window
        density = max(1, vm.pmap.count(PRIVATE)) / pages      # windows sized to hold n private pages
        while n > 0 and scanned < 2 * pages:
            lap_end = pages if scanned < pages else 2 * pages  # a window lies within one lap
            w = min(max(int(4 * n / density), 512), lap_end - scanned)
            idx = (hand + np.arange(w)) % pages
            ok = vm.pmap.state[idx] == PRIVATE
            if scanned < pages:                   # first lap: only cold pages
                ok &= vm.last_touch[idx] < recent
            if out and scanned + w > pages:       # the window wraps onto pages already chosen
                ok &= ~np.isin(idx, np.concatenate(out))
            if protect is not None and len(protect):
                ok &= ~np.isin(idx, protect)
            pos = ok.nonzero()[0][:n]
            out.append(idx[pos])
            n -= len(pos)
            span = int(pos[-1]) + 1 if n == 0 and len(pos) else w
            hand = (hand + span) % pages
            scanned += span
        self.hands[vm.uid] = hand
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


POLICIES = {"random": RandomReplacement, "clock": ClockReplacement}
BUILT_IN = frozenset(POLICIES.values())      # trusted: the swapper does not check their victims
#: policies that check the answers of the policy they wrap themselves (the capstone exercise's wrapper, which reports
#: a short answer at the end of its check): the swapper does not check them again
SELF_CHECKED: set[type] = set()


def private_outside(vm, protect: np.ndarray | None) -> np.ndarray:
    """The PPNs a replacement policy may page out: ``vm``'s private pages outside ``protect`` (§3.3), in order."""
    ok = vm.pmap.state == PRIVATE
    if protect is not None and len(protect):
        ok[np.asarray(protect, dtype=np.int64)] = False
    return np.flatnonzero(ok)


def short_answer(victims: np.ndarray, vm, n: int, protect: np.ndarray | None) -> tuple[int, int, int] | None:
    """(n, returned, qualifying) when legal ``victims`` are fewer than ``n`` while more private pages outside
    ``protect`` qualify (:meth:`ReplacementPolicy.victims` allows fewer only when fewer qualify), else None."""
    if len(victims) >= n:
        return None
    qualify = len(private_outside(vm, protect))
    return (n, len(victims), qualify) if len(victims) < min(n, qualify) else None


def short_sentence(short: tuple[int, int, int], caller: str = "victims()") -> str:
    """What :func:`short_answer`'s finding breaks, as a sentence naming the call ``caller``."""
    n, got, qualify = short
    return (f"{caller} was asked for {n} pages and returned {got}, while {qualify} private pages outside `protect` "
            "could be chosen: it must return n pages (fewer only when fewer qualify).")


def legal_victims(victims: object, vm, n: int, protect: np.ndarray | None, caller: str = "victims()") -> np.ndarray:
    """``victims``, what a policy's ``victims(vm, n, rng, protect)`` returned, as int64 PPNs if the interface
    allows it (:meth:`ReplacementPolicy.victims`: at most ``n`` distinct PPNs of ``vm``, each PRIVATE, none in
    ``protect``; §3.3); else PolicyError, with a sentence that names the call ``caller``, says what is wrong and
    what is allowed. The one place these rules live: the swapper's check and the capstone's use it."""
    arr = page_numbers(victims, vm.pages, once=True)
    if isinstance(arr, str):
        kind = "" if isinstance(victims, np.ndarray) else f" ({type(victims).__name__})"
        raise PolicyError(f"{caller} returned {shown(victims)}{kind}, which {arr}; it must "
                          "return a 1-D array of distinct PPNs (whole numbers) of the VM's private pages.")
    if len(arr) > n:
        raise PolicyError(f"{caller} was asked for {n} pages and returned {len(arr)}; return at most n.")
    arr = arr.astype(np.int64, copy=False)
    bad = arr[vm.pmap.state[arr] != PRIVATE]
    if len(bad):
        raise PolicyError(f"{caller} returned PPN {bad[0]}, whose state is "
                          f"{STATE_NAMES[vm.pmap.state[bad[0]]]!r}: only private pages can be paged out.")
    if protect is not None and np.isin(arr, protect).any():
        raise PolicyError(f"{caller} returned a page in `protect`: those are being faulted in right now.")
    return arr


#: the attribute :func:`make_policy` sets on a policy instance it hands to a host
SERVED = "_esxlab_served"


#: what a policy that wrote into what the hypervisor sees is told (by the swapper, and by the capstone's check)
READ_ONLY = ("victims() may only read vm.pmap.state, vm.last_touch and protect; to change one, change a copy, e.g. "
             "`state = vm.pmap.state.copy()`")


@contextmanager
def read_only(*arrays: np.ndarray | None) -> Iterator[None]:
    """While open, ``arrays`` (None skipped) are read-only; as they were after, also after an error. The swapper
    holds a VM's page states, their counts, its last-touch times and ``protect`` so while a policy of one's own
    chooses victims: it may read what the hypervisor sees, and a write into it (``state[protect] = 0``, to leave
    those pages out; ``vm.last_touch.sort()``) raises numpy's ValueError at that line, where it changed the host's own
    state (a student's trial: the capstone's check then blamed the policy's choice of pages, or esxlab crashed)."""
    frozen = [a for a in arrays if isinstance(a, np.ndarray) and a.flags.writeable]
    for a in frozen:
        a.flags.writeable = False
    try:
        yield
    finally:
        for a in frozen:
            a.flags.writeable = True


def check_victims_signature(policy: ReplacementPolicy) -> None:
    """PolicyError, when the host is built (and by the capstone's check), if ``policy`` defines no ``victims`` (a
    misspelled one) or one that cannot be called as the swapper calls it, ``victims(vm, n, rng, protect)``: otherwise
    the first page-out of a run raised a bare NotImplementedError, or Python's own TypeError, from deep in the swapper
    (new users' trials)."""
    if type(policy).victims is ReplacementPolicy.victims:
        raise PolicyError(f"replacement = {type(policy).__name__}(): it defines no victims(self, vm, n, rng, protect) "
                          "(misspelled?), the one method a replacement policy has (see "
                          "esxlab.swap.ReplacementPolicy.victims).")
    try:
        signature = inspect.signature(policy.victims)
    except (TypeError, ValueError):             # (a builtin or a callable without one: left to the call)
        return
    try:
        signature.bind(None, 1, None, None)
    except TypeError:
        raise PolicyError(f"replacement = {type(policy).__name__}(): its victims{signature} cannot be called as the "
                          "swapper calls it, victims(vm, n, rng, protect): the VM, how many pages to page out, the "
                          "swapper's random stream and the PPNs to leave alone (None or an array; see "
                          "esxlab.swap.ReplacementPolicy.victims).") from None


def make_policy(spec: ReplacementPolicy | str) -> ReplacementPolicy:
    """The replacement policy ``spec`` names ("random", §3.3, or "clock"), or ``spec`` itself if it is one, for
    one host. Raises ConfigError for anything else, and for a policy instance that already served a host: a policy
    may keep state for its host's VMs (a clock hand, keyed by VM uids, which every host numbers from 1), so a
    second host would start from the first one's and the same seed give another run (a module-level policy reused
    across a sweep's runs gave results that depended on --jobs). A copy (``copy.deepcopy``) of a host keeps its
    policy's copy, as it should."""
    if isinstance(spec, ReplacementPolicy):
        if getattr(spec, SERVED, False):
            raise ConfigError(f"replacement = {shorten(spec)} has already served a host (or is a copy of one that "
                              "did, with its state); a policy instance may keep state for one host's VMs (a clock "
                              "hand), so the same seed would give another run. Give each host its own, e.g. "
                              f"replacement={type(spec).__name__}().")
        check_victims_signature(spec)
        try:
            setattr(spec, SERVED, True)
        except AttributeError:                       # (__slots__ without room for it: not tracked)
            pass
        return spec
    if isinstance(spec, str) and spec in POLICIES:
        return POLICIES[spec]()
    if isinstance(spec, type) and issubclass(spec, ReplacementPolicy):
        raise ConfigError(f"replacement = {spec.__name__} is the class; give an instance: "
                          f"replacement={spec.__name__}().")
    raise ConfigError(f"replacement = {spec!r} is unknown; use a ReplacementPolicy or one of "
                      f"{', '.join(repr(k) for k in POLICIES)}.")


@dataclass(frozen=True)
class Stage:
    """One stage of a page-out (:meth:`Swapper.swap_out`): ``take(vm, ppns)`` reclaims what it
    can of the private ``ppns`` and returns the PPNs it did not take; ``action`` names it in the
    decision log when it took any (e.g. "share": share before swap, §4.3; "" : never named).

    ``spill(vm, n, most, protect)``, for a stage that keeps what it took in machine memory charged
    to the VM: once the VM has no private page left to take, it lets go of at most ``most`` of
    those pages (none in ``protect``) to free up to ``n`` machine pages, and returns their PPNs
    and contents (uint64 tokens) for the swap area; None for a stage that keeps nothing."""

    action: str
    take: Callable[[object, np.ndarray], np.ndarray]
    spill: Callable[[object, int, int, np.ndarray | None], tuple[np.ndarray, np.ndarray]] | None = None


class BackingStore(Protocol):
    """Where the contents of pages in one off-machine pmap state live (the host swap area,
    §3.3; a later mechanism's store). A VM reaches the stores through ``VMEnv.stores``
    (state → store) and calls them by state, never by name. ``ppns`` are distinct PPNs of
    ``vm`` in the store's state."""

    def restore(self, vm, ppns: np.ndarray) -> None:
        """Fault ``ppns`` back into machine pages of their own, now PRIVATE (the caller made room)."""

    def peek(self, vm, ppns: np.ndarray) -> np.ndarray:
        """The contents (uint64 tokens) of ``ppns``, with no side effects."""

    def drop(self, vm, ppns: np.ndarray) -> None:
        """Forget ``ppns`` (ballooned, VM powered off); the caller resets their mpn, slot and state."""

    def charged_pages(self, vm) -> int:
        """Machine pages the store charges to ``vm`` beyond its private and shared pages."""

    def released_pages(self, vm, n: int) -> int:
        """Of :meth:`charged_pages`, those ``n`` of the VM's pages leaving the store may release (the most: a fault
        then never pages its VM below its min for growth it does not have)."""


def count_event(vm, event: str, n: int) -> None:
    """Add ``n`` to ``vm``'s per-tick counter of ``event`` (a field of ``vm.counters``, an ``EVENTS`` row)."""
    setattr(vm.counters, event, getattr(vm.counters, event) + n)


class SlotStore:
    """A :class:`BackingStore` that keeps each page's contents in a slot of a :class:`SwapFile`
    (``slots``): a page it holds is in its pmap ``state``, with no machine page and its slot in
    ``pmap.slot``. The steps every such store takes live here once: put pages in slots
    (:meth:`_put`), fault them back in (:meth:`restore`), read them (:meth:`peek`) and forget them
    (:meth:`drop`). The swapper (§3.3, the swap area) is one; a later mechanism's store is another.

    A subclass sets the class attributes ``state`` (the pmap state of its pages, from the metrics
    table), ``stored`` and ``restored`` (the :class:`~esxlab.vm.Counters` fields a page put in a
    slot and a page restored count), and may extend :meth:`_slots_for` (where new slots come from,
    e.g. a store grown on demand) and :meth:`_dropped` (what else leaves with the pages, e.g. the
    machine pages a store holds them in). Collaborators: the machine and the slots."""

    state: int
    stored: str
    restored: str

    def __init__(self, machine, slots: SwapFile) -> None:
        self.machine = machine
        self.slots = slots

    def _put(self, vm, ppns: np.ndarray, tokens: np.ndarray) -> None:
        """Put ``ppns`` with contents ``tokens`` in slots; they leave their machine pages (the caller
        releases those) for the store's state, counted as ``stored``. The caller checked there is room."""
        if len(ppns):
            vm.pmap.slot[ppns] = self._slots_for(tokens)
            vm.pmap.mpn[ppns] = -1
            vm.pmap.set_state(ppns, self.state)
            count_event(vm, self.stored, len(ppns))

    def _slots_for(self, tokens: np.ndarray) -> np.ndarray:
        """Free slots holding ``tokens`` now, in order."""
        return self.slots.store(tokens)

    # -- the BackingStore of the store's state --------------------------------------------------
    def restore(self, vm, ppns: np.ndarray) -> None:
        """Fault ``ppns`` back into machine pages of their own, now PRIVATE (the caller made room),
        counted as ``restored``: their contents leave their slots (:meth:`drop`) before the machine
        pages are allocated, so what a store frees as its pages leave (:meth:`_dropped`) is reused."""
        tokens = self.peek(vm, ppns)
        self.drop(vm, ppns)
        mpns = self.machine.alloc(len(ppns), vm.uid)
        self.machine.content[mpns] = tokens
        vm.pmap.mpn[ppns] = mpns
        vm.pmap.set_state(ppns, PRIVATE)
        count_event(vm, self.restored, len(ppns))

    def peek(self, vm, ppns: np.ndarray) -> np.ndarray:
        """The contents (uint64 tokens) of ``ppns``, read from their slots with no side effects."""
        return self.slots.content[vm.pmap.slot[ppns]]

    def drop(self, vm, ppns: np.ndarray) -> None:
        """Free the slots of ``ppns`` (ballooned, VM powered off, restored); the caller resets their state."""
        if len(ppns) == 0:
            return
        self.slots.release(vm.pmap.slot[ppns])
        self._dropped(vm, len(ppns))

    def _dropped(self, vm, n: int) -> None:
        """``n`` of ``vm``'s pages are leaving the store (their slots freed, their state not yet reset)."""

    def charged_pages(self, vm) -> int:
        """Machine pages the store charges to ``vm``: none, unless a subclass keeps its slots in memory."""
        return 0

    def released_pages(self, vm, n: int) -> int:
        """Of :meth:`charged_pages`, those ``n`` of the VM's pages leaving the store release: none here."""
        return 0


class Swapper(SlotStore):
    """The swap daemon: pages out victims to meet swap targets, pages in on demand.

    A page-out runs the host's ``stages`` in order (share before swap, §4.3, then any later
    stage), each taking what it can of the victims, then pages the rest out to the swap area
    (:meth:`page_out`). The swapper is also the :class:`BackingStore` of SWAPPED pages, a
    :class:`SlotStore` whose slots are the swap area's. Collaborators: the machine and the swap area."""

    state = SWAPPED
    stored = "swap_outs"
    restored = "swap_ins"

    def __init__(self, machine, swapfile: SwapFile, policy: ReplacementPolicy, rng: np.random.Generator,
                 stages: Iterable[Stage] = ()) -> None:
        super().__init__(machine, swapfile)
        self.policy = policy
        self.rng = rng
        self.stages = tuple(stages)
        self.action = "page out"          # the decision log's name for the last swap_out
        self.taken = 0                    # victims the last swap_out took from private pages

    def swap_out(self, vm, n: int, protect: np.ndarray | None = None) -> int:
        """Reclaim up to ``n`` pages of ``vm`` through the stages, the swap area last.

        Returns the machine pages this freed (sharing two victims with each other frees one), and
        sets :attr:`action`: the named stages before the swap area that took pages, then
        "page out" (e.g. "page out", or a later stage's "… / page out"), and :attr:`taken`: the
        victims that left the VM's private pages (a stage that keeps each victim in part of a machine
        page may take one and free nothing yet). With no private page left to take, the last stage
        that keeps pages of the VM in machine memory spills them to the swap area (:class:`Stage`: a
        later stage's cache first, then the VM's shared mappings).
        PolicyError, before anything moves, when a policy that is not one of :data:`POLICIES` answers with
        victims the interface does not allow (:func:`legal_victims`), or with fewer than ``n`` while more qualify
        (:func:`short_answer`).
        """
        self.action, self.taken = "page out", 0
        free_before = self.machine.free
        kind = type(self.policy)
        if kind in BUILT_IN:
            victims = self.policy.victims(vm, n, self.rng, protect)
        else:                                # a policy of one's own reads what the hypervisor sees, and writes none
            caller = f"{kind.__name__}.victims() for VM {vm.name!r}"
            try:
                with read_only(vm.pmap.state, vm.pmap.counts, vm.last_touch, protect):
                    victims = self.policy.victims(vm, n, self.rng, protect)
            except ValueError as err:
                if "read-only" not in str(err):
                    raise
                raise PolicyError(f"{caller} wrote into what the hypervisor sees (numpy: {err}): {READ_ONLY}.") \
                    from err
            if kind not in SELF_CHECKED:     # its every answer checked
                victims = legal_victims(victims, vm, n, protect, caller)
                short = short_answer(victims, vm, n, protect)
                if short:                  # (nothing paged, the host stayed short of memory, in low, its VMs blocked)
                    raise PolicyError(short_sentence(short, caller))
        if len(victims) == 0:
            self._spill(vm, n, protect)
            return self.machine.free - free_before
        vm.break_large(victims)                  # a page leaves a large page only once it is broken
        acted, rest = [], victims
        for stage in self.stages:
            left = stage.take(vm, rest)
            if stage.action and len(left) < len(rest):
                acted.append(stage.action)
            rest = left
        self.taken = len(victims) - len(rest) + self.page_out(vm, rest)
        self.action = " / ".join([*acted, "page out"])
        return self.machine.free - free_before

    def _spill(self, vm, n: int, protect: np.ndarray | None) -> None:
        """The last stage that keeps pages of ``vm`` in machine memory and holds any lets go of enough to
        free ``n`` machine pages, as many as the swap area has room for; they are paged out."""
        for stage in reversed(self.stages):
            if stage.spill is not None:
                ppns, tokens = stage.spill(vm, n, self.swapfile.free, protect)
                self._put(vm, ppns, tokens)
                self.taken = len(ppns)
                if self.taken:
                    return

    def page_out(self, vm, ppns: np.ndarray) -> int:
        """The last step: page ``ppns`` out to the swap area, as many as it has room for; returns how many."""
        ppns = ppns[:self.swapfile.free]
        mpns = vm.pmap.mpn[ppns]
        self._put(vm, ppns, self.machine.content[mpns])
        self.machine.release(mpns)
        return len(ppns)

    @property
    def swapfile(self) -> SwapFile:
        """The swap area: the swapper's slots."""
        return self.slots
