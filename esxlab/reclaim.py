"""Reclamation: the free-memory states and the one ordered list of reclaim stages (paper §6.3).

This module owns *how* memory is taken back from VMs; :mod:`.policy` decides *how much* (the
targets). ``HostConfig.state_model`` picks the states (:data:`STATES`, one index space for both):
the paper's four thresholds as fractions of machine memory, high 6 %, soft 4 %, hard 2 %, low 1 %
(``"esx2002"``: the clear state is never entered), or later ESX's ESXi 6 states as fractions of
minFree (``"esxi6"``: high 300 %, clear 100 %, soft 64 %, hard 32 %, low 16 %; minFree is 6 % of
the first 4 GB, 4 % of the next 8, 2 % of the next 16, 1 % of the rest). What ESX does in each
state, per VM whose allocation exceeds its target:

======  =================================================================================
state   action
======  =================================================================================
high    enough free memory: **no reclamation** (``HostConfig.high_state="idle"``, the
        paper's table read literally). Balloons larger than the VM's reclaimed share deflate; a balloon holding
        its VM below target gives back free memory to spare, and what VMs with no usable
        balloon hold above their targets (taking enough of it brings soft, which pages them).
        With ``high_state="converge"`` (another reading of §6.3: "in all memory
        reclamation states, the system computes target allocations … to drive the
        aggregate amount of free space above the high threshold") the balloon alone keeps
        moving VMs above target down to it while no free memory is to spare (above the goal
        by the margin), so targets are reached, not frozen.
clear   (ESXi 6 only) as high, and **large pages are broken** so page sharing can work
soft    **balloon**; page only what the balloon cannot take (no driver, not loaded,
        making no progress in machine pages freed, caught lying, or at its cap), until
        free memory is back above the goal (by then soft has been left). With the paper's
        states and large pages on, soft is where large pages are broken.
hard    **page** the whole excess (the balloons keep working; ESXi 6: they stop where they are
        and only the swapper's stages reclaim, later ESX)
low     keep paging and **block** every VM above its target until it is back under
======  =================================================================================

A VM above its **limit** (``VMConfig.limit_mb``, later ESX) is reclaimed by the soft rule in
every state, high included, at the swap daemon's rate; a fault never takes it more than one
second of its balloon's rate above the limit (the fault pages its own pages instead).

The stages, in order, for the per-tick loop (:meth:`Reclaimer.tick`) and for a fault that
needs machine pages now (:meth:`Reclaimer.make_free`, its passes :data:`FAULT_PASSES`):

0. **break large pages** (later ESX, ``HostConfig.large_pages``): in clear and below (soft and
   below with the paper's states) every VM's large pages are broken, so the scanner may share
   their small pages; a page reclaimed from inside a large page breaks it first;
1. **share before swap** (§4.3): inside :meth:`.swap.Swapper.swap_out`, a victim that matches
   a page already in the sharing table is shared instead of paged (the decision log's
   "share / page out" when it took any);
2. **balloon** (§3.2): the balloon asks for the VM's excess, up to its *reclaimed share*
   ``max − target`` (and its cap): the guest picks the victims, so memory the host swapped
   moves into the balloon as the guest touches it again; a balloon holds steady while the
   target does and shrinks only to what the target leaves it. A fault cannot wait for a
   balloon, so the fault path skips it;
3. **the stages a later mechanism adds** (later ESX; the host builds the list): inside
   ``swap_out``, after share before swap, each takes the victims it can hold more cheaply than
   the swap area; a stage that took pages names itself in the decision log (e.g. "… / page out");
4. **swap** (§3.3): the swap daemon pages out random victims at ``swap_rate_mb_s``, no more
   than brings free memory back to the goal.

Progress is measured in machine pages freed: a balloon that inflates over shared or
never-backed pages frees nothing, and after ``HostConfig.balloon_stuck_s`` seconds of that the
swap stage takes over (:mod:`.balloon`).

State entry (``state_entry``): a state is entered when free memory drops below its own
threshold (``"own"``; the paper states this only for low, §6.3) or below the
next higher one (``"higher"``). A state is left for the next higher one only after free
memory exceeds that threshold by the hysteresis margin. The state is judged at the end of a
tick, on the free memory the trace records for it (so no row shows a state its free memory
contradicts), and drives the next tick.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .config import PAGES_PER_MB, HostConfig
from .errors import ConfigError, Stall, check_number
from .pmap import UNBACKED
from .vm import LARGE_PAGE, VM

STATES = ("high", "clear", "soft", "hard", "low")
HIGH, CLEAR, SOFT, HARD, LOW = range(5)
#: ticks in a row that hard or low must find nothing to reclaim before the decision log says so (invented)
NOTHING_TICKS = 3


class FreeMemoryStates:
    """The state machine with hysteresis; ``state`` is an index into :data:`STATES`.

    ``HostConfig.state_model`` picks the thresholds (:meth:`.HostConfig.threshold_pages`): the
    paper's four (no clear state: it is never entered and, its threshold being high's, left at
    once) or ESXi 6's five. Hysteresis margin: ``hysteresis_pct`` of machine memory, and with the
    ESXi 6 states no more than a quarter of minFree (invented: on a large host 1 % of memory is
    more than the gap between two minFree states)."""

    def __init__(self, config: HostConfig, total_pages: int) -> None:
        self.state = HIGH
        self.total_pages = total_pages
        by_name = config.threshold_pages()
        self.active = np.array([s in by_name for s in STATES])
        # an absent state (the paper's clear) takes the next higher state's threshold
        self.thresholds = np.array([by_name.get(s, by_name["high"]) for s in STATES])
        self.margin = config.hysteresis_pct / 100 * total_pages
        if config.state_model == "esxi6":
            self.margin = min(self.margin, config.minfree_mb * PAGES_PER_MB / 4)
        # free memory below entry[s] enters state s: its own threshold, or the next higher active one's
        higher = [self.thresholds[max(i for i in range(s) if self.active[i])] for s in range(1, len(STATES))]
        own = self.thresholds if config.state_entry == "own" else np.r_[np.inf, higher]
        self.entry = np.where(self.active, own, -np.inf)
        self.entry[HIGH] = np.inf

    @property
    def goal(self) -> float:
        """Free pages the targets aim for: above the high threshold, by the margin."""
        return float(self.thresholds[HIGH]) + self.margin       # a Python float: numpy scalars are slow

    def update(self, free: int) -> bool:
        """Move to the state ``free`` (free machine pages, not MB: 256 a MB; 0 ≤ free ≤ the host's
        pages) calls for; True if the state changed. ConfigError for any other value."""
        try:
            allowed = 0 <= free <= self.total_pages
        except TypeError:                           # a str, None: not ordered against numbers
            allowed = False
        if not allowed:
            self._refuse(free)
        old = self.state
        for s in (LOW, HARD, SOFT, CLEAR):
            if free < self.entry[s]:
                self.state = max(self.state, s)
                break
        while self.state > HIGH and free > self.thresholds[self.state - 1] + self.margin:
            self.state -= 1
        return self.state != old

    def _refuse(self, free: object) -> None:
        """ConfigError: ``free`` is not a count of this host's free pages."""
        unit = "free counts machine pages, not MB (256 a MB)."
        try:
            check_number("FreeMemoryStates.update", "free", free, 0, self.total_pages)
        except ConfigError as err:
            raise ConfigError(f"{err} {unit}") from None
        raise ConfigError(f"FreeMemoryStates.update: free = {free!r} is not a number of pages from 0 to "
                          f"{self.total_pages}; {unit}")

    @property
    def name(self) -> str:
        """The state's name, "high" … "low" (§6.3)."""
        return STATES[self.state]


def plan(state: int, excess: int, reclaimed_share: int, balloon_size: int, balloon_cap: int,
         loaded: bool, productive: bool, high_state: str = "idle", spare: int = 0,
         asked: int = 0, held_down: bool = True, hard_balloon: bool = True) -> tuple[int, int]:
    """(balloon target, swap target) in pages for one VM, by the state's rule (§6.3).

    ``excess``: allocation − target (negative: below target); ``reclaimed_share``: max − target,
    the most the balloon may hold (its VM then has just its target's worth of pages to use);
    ``loaded``: the driver is there to take pages; ``productive``: it is also freeing machine
    memory and is under its cap (otherwise paging takes over the excess while the balloon goes
    on inflating); ``spare``: free machine memory beyond what the host keeps (high state only);
    ``held_down``: the VM's balloon holds it down (its guest has nothing unbacked left to grow
    into), so spare memory may be given back to it; ``asked``: the balloon target set while the
    VM was blocked, which its driver had no chance to work toward yet.

    Outside high a balloon asks for the excess, never more than ``min(cap, reclaimed_share)``;
    a balloon larger than that share deflates to it. The guest chooses what goes in, so memory
    the host swapped moves into the balloon as the guest touches it again (it comes back as
    excess), while pages the guest never touches stay in swap, where they cost nothing. In high
    (and ESXi 6's clear, whose own action is breaking large pages) the balloon does not inflate
    (unless ``high_state="converge"``: a productive balloon takes the excess, when no free memory
    is to spare: free memory above the high threshold is what §6.3 asks of the targets) and, for a
    VM held down below its target, deflates what ``spare`` allows, up to the deficit (a VM above
    its target gets nothing back). Soft pages what a productive balloon cannot take;
    hard and low page the whole excess, and the balloon goes on inflating unless ``hard_balloon``
    is False (ESXi 6, later ESX: in hard and low the balloon stops where it is).
    """
    limit = max(0, min(balloon_cap, reclaimed_share))
    # a blocked VM's driver gets its turn; a balloon deflates only what exceeds the reclaimed share
    held = min(max(balloon_size, asked), limit)
    if state <= CLEAR:
        if high_state == "converge" and productive and excess > 0 and spare <= 0:
            return max(held, min(limit, balloon_size + excess)), 0
        # spare memory goes back to a VM its balloon holds down below its target, up to its deficit
        give = min(max(0, spare), max(0, -excess)) if held_down else 0
        return max(0, held - give), 0
    if state >= HARD and not hard_balloon:
        return held, max(0, excess)
    want = min(limit, balloon_size + max(0, excess))
    balloon = max(held, want) if loaded else held
    if not productive:
        return balloon, max(0, excess)
    if state == SOFT:
        return balloon, max(0, excess - max(0, balloon - balloon_size))
    return balloon, max(0, excess)


LogFn = Callable[[str, str, int, str], None]


# The fault path's passes (``Reclaimer.make_free``): per VM, the alloc in pages it may be paged
# down to, given whether it is the faulting VM (``own``), whether that VM is within its target and
# ``grows``, the pages the fault adds to the faulting VM's alloc.
FAULT_PASSES = (
    # (1) anyone down to its target (targets may predate a set_min)
    lambda v, own, within, grows: v.floor_pages,
    # (2) the faulting VM replaces its own pages while it is at or above its min, so that it ends
    # the fault no lower than its min (§6.2): a copy-on-write break needs a machine page but adds
    # nothing to its alloc (it was charged for the shared page), so it cannot be paid by its own
    lambda v, own, within, grows: max(0, v.config.min_pages - grows) if own and v.alloc_pages >= v.config.min_pages
    else v.alloc_pages,
    # (3) the others down to their min, or only to their target when the faulting VM is above its own
    lambda v, own, within, grows: v.alloc_pages if own else
    (v.config.min_pages if within else v.floor_pages),
    # (4) the faulting VM's own pages, as a last resort: only once (1)–(3) free nothing more
    lambda v, own, within, grows: 0 if own else v.alloc_pages,
)


class Reclaimer:
    """The one owner of reclamation: free-memory states, the per-tick loop and the fault path.

    Collaborators: the machine (free pages), the swap daemon (:class:`.swap.Swapper`, which
    shares before it swaps) and a decision log ``log(vm, action, pages, why)``. VMs are passed
    in; the reclaimer never holds the host.
    """

    def __init__(self, config: HostConfig, machine, swapper, log: LogFn) -> None:
        self.machine = machine
        self.swapper = swapper
        self.log = log
        self.states = FreeMemoryStates(config, config.total_pages)
        self.swap_rate = max(1, int(config.swap_rate_mb_s * PAGES_PER_MB))
        self.high_state = config.high_state
        # in ESXi 6's hard and low states only the swapper's stages reclaim; the balloon stops (later ESX)
        self.hard_balloon = config.state_model != "esxi6"
        # large pages are broken in the first state below high (later ESX): clear, or soft without it
        self.break_state = None if not config.large_pages else CLEAR if config.state_model == "esxi6" else SOFT
        self._told_high: set[int] = set()       # uids of VMs told "above target, nothing reclaimed in high"
        self._told_nothing = False              # told "nothing to reclaim" since the state last changed
        self._nothing_ticks = 0                 # ticks in a row that began in hard or low with nothing to reclaim
        self._small: dict[tuple[int, str], int] = {}   # balloon changes under 1 MB not yet logged, by uid

    def _log_pops(self, vm) -> None:
        """Log the balloon pops of ``vm``'s last tick (a fault in the VM's own step pops it, §3.2), each
        with the pages it released (none, if the balloon was empty)."""
        pops = vm.balloon.unlogged_pops
        for pages in pops:
            self.log(vm.name, "balloon popped", pages, "the guest touched pages its driver had ballooned: ESX "
                     "released them (a pop, §3.2, where the driver's state is then reset); esxlab's own rule "
                     "(invented) counts on that driver no more and pages the VM's excess itself")
        pops.clear()

    @property
    def state(self) -> int:
        """The free-memory state's index (0 = high … the last = low, §6.3)."""
        return self.states.state

    # -- the state, judged on free memory at the end of each tick ---------------------------------
    def judge(self) -> bool:
        """Update the state from free memory now; log and return True on a change."""
        free = self.machine.free
        old = self.states.name
        if not self.states.update(free):
            return False
        self._told_high.clear()
        self._told_nothing = False
        self.log("", f"state {old} → {self.states.name}", 0,
                 f"free memory {free / PAGES_PER_MB:.1f} MB ({100 * free / self.machine.total:.1f} % of "
                 f"machine memory)")
        return True

    # -- the per-tick loop ------------------------------------------------------------------------
    def tick(self, vms: Iterable) -> None:
        """Set each VM's balloon target, page what the state calls for (the swap daemon's budget, at most its rate a
        tick, to the VM furthest above its target first; in low, where every VM above its target is blocked, each
        keeps a part in proportion to what it has to page: both invented), block in low."""
        vms = list(vms)
        state = self.state
        self._note_nothing_to_reclaim(vms, state)
        if self.break_state is not None and state >= self.break_state:
            self._break_large(vms, state)
        # the swap daemon pages at its rate: in soft only what the balloons cannot free, and no
        # more than brings free memory back above the goal (by then every state has been left:
        # with the paper's states soft is left only above it, so stopping at it held the host in
        # soft); in hard and low it pages VMs down to their targets ("reclaim forcibly", §6.3), so
        # that blocking is not a steady state
        budget = self.swap_rate if state in (HARD, LOW) else \
            min(self.swap_rate, max(0, int(self.states.goal) + 1 - self.machine.free))
        # free memory well above the goal (by the margin) is spare: a balloon that holds its VM
        # down (its guest has nothing unbacked left to grow into) gives it back, so no VM that
        # could use memory is held back by its balloon while memory sits free
        spare = int(self.machine.free - self.states.goal - self.states.margin)
        # memory above target that only paging can take (no usable balloon): high does not page it,
        # but a VM its balloon holds down below target may take it back, which brings soft, which
        # pages it: else the one waits on its balloon and the other on its missing one, for good
        stranded = sum(max(0, v.alloc_pages - v.floor_pages) for v in vms
                       if not v.balloon.usable(v.vm_time)) if state <= CLEAR else 0
        # a VM above its limit (later ESX) is reclaimed whatever free memory says: by the soft
        # rule (balloon first, page what it cannot take), at the swap daemon's own rate
        limit_budget = self.swap_rate
        paging = []                           # (VM, pages its state would page out): paged after the loop
        for vm in vms:
            b = vm.balloon
            self._log_pops(vm)
            floor = vm.floor_pages
            alloc = vm.alloc_pages
            excess = alloc - floor
            share = vm.pages - floor
            over_limit = alloc - vm.config.limit_pages
            vstate = SOFT if over_limit > 0 and state < SOFT else state
            args = (vstate, excess, share, b.size, b.cap, b.loaded(vm.vm_time), b.usable(vm.vm_time), self.high_state)
            asked, held_down = b.target if vm.blocked else 0, self._held_down(vm)
            bt, st = plan(*args, spare, asked, held_down, self.hard_balloon)     # positional: cheaper than keywords
            source = "free memory to spare"
            if excess < 0 and stranded > 0:   # what free memory cannot give back, the stranded excess may
                more, _ = plan(*args, spare + stranded, asked, held_down, self.hard_balloon)
                if more < bt:
                    stranded -= bt - more
                    spare += bt - more
                    bt = more
                    source = "memory held above target by VMs with no usable balloon"
            if bt < b.size:
                spare -= b.size - bt
            if bt != b.target:                # an unchanged target has nothing to log
                self._log_balloon(vm, b.target, bt, vstate, excess, share,
                                  _reason(vm, state, vstate, self.high_state), source)
                b.target = bt
            self._block(vm, state == LOW and excess > 0)
            self._note_left_above(vm, vstate, excess, bt)
            if st > 0 and vstate != state and limit_budget > 0:
                got, action = self._page_out(vm, min(st, over_limit, limit_budget), floor=vm.config.limit_pages)
                limit_budget -= got
                if got:
                    self.log(vm.name, action, got, f"{_reason(vm, state, vstate)}: the balloon cannot free "
                                                       f"it ({_balloon_short(vm, share)})")
            elif st > 0 and vstate == state:   # (a VM over its limit: only at the limit's rate)
                paging.append((vm, st))
        # the swap daemon's budget goes to the VM furthest above its target first, as a fault's make_free does
        # (in power-on order, the first VMs took it all every tick and a VM far above target could wait for good);
        # in low each VM above target keeps a part of it, in proportion to what it has to page (when the furthest
        # took it all, a VM a little above its target stayed blocked tick after tick, while the other, unblocked
        # as soon as the state rose, faulted its pages straight back)
        order = sorted(paging, key=lambda p: p[0].floor_pages - p[0].alloc_pages)
        total = sum(st for _, st in order)
        kept = [min(st, -(-budget * st // total)) if state == LOW else 0 for _, st in order]
        rest = sum(kept)
        for (vm, st), k in zip(order, kept):
            rest -= k                                                      # kept for the VMs after this one
            n = min(st, budget - rest)
            if n <= 0:
                continue
            got, action = self._page_out(vm, n, floor=vm.floor_pages)
            budget -= got
            if got:
                why = (f"soft state: the balloon cannot free it ({_balloon_short(vm, vm.pages - vm.floor_pages)})"
                       if state == SOFT else f"{STATES[state]} state: page to reach target")
                self.log(vm.name, action, got, why)

    def _note_nothing_to_reclaim(self, vms: list, state: int) -> None:
        """Log, once until the state changes, that hard or low has had nothing to reclaim for
        :data:`NOTHING_TICKS` ticks in a row (each beginning with every VM at or below its target, its
        floor), so the state stays while free memory does: e.g. mins that reserve all of memory (admission
        control reserves min + overhead, §6.2, and no free memory for the thresholds, §6.3)."""
        nothing = state >= HARD and bool(vms) and all(v.alloc_pages <= v.floor_pages for v in vms)
        self._nothing_ticks = self._nothing_ticks + 1 if nothing else 0
        if self._nothing_ticks < NOTHING_TICKS or self._told_nothing:
            return
        self._told_nothing = True
        self.log("", "nothing to reclaim", 0,
                 f"{STATES[state]} state, but every VM is at or below its target, so neither balloon nor paging takes "
                 f"anything: free memory ({self.machine.free / PAGES_PER_MB:.1f} MB) stays below the thresholds "
                 "until a VM frees memory or powers off (admission control reserves each VM's min and overhead, "
                 "§6.2, but no free memory for the states, §6.3)")

    def _break_large(self, vms: list, state: int) -> None:
        """Break every VM's large pages, so page sharing can work (later ESX)."""
        for vm in vms:
            broken = vm.break_large()
            if broken:
                self.log(vm.name, "break large pages", broken * LARGE_PAGE,
                         f"{STATES[state]} state: {broken} large pages broken so page sharing can work (later ESX)")

    def _block(self, vm, blocked: bool) -> None:
        """Block ``vm`` (low state, above its target: §6.3) or let it run; log when it becomes blocked."""
        if blocked and not vm.blocked:
            self.log(vm.name, "block", 0, "low state: above its target, it does not run until paging "
                                          "brings it back to target (§6.3)")
        vm.blocked = blocked

    def _note_left_above(self, vm, vstate: int, excess: int, balloon_target: int) -> None:
        """Log, once until it is back under, that ``vm`` is left ``excess`` pages above its target because
        its state (high or clear) reclaims nothing and its balloon is not growing."""
        b = vm.balloon
        if vstate <= CLEAR and excess >= PAGES_PER_MB and balloon_target <= b.size and vm.uid not in self._told_high:
            self._told_high.add(vm.uid)
            if vstate == CLEAR:
                why = "clear state (later ESX): no reclamation before soft" + \
                      ("; large pages are broken so page sharing can work" if self.break_state == CLEAR else "")
            elif self.high_state == "idle":
                why = "high state: enough free memory, no reclamation (§6.3)"
            elif b.usable(vm.vm_time):
                why = "high state: free memory to spare, no reclamation"
            else:
                why = f"high state: no paging, and the balloon cannot free it ({b.why_unusable(vm.vm_time)})"
            self.log(vm.name, "left above target", excess, why)
        elif excess <= 0:
            self._told_high.discard(vm.uid)

    def _hold_to_limit(self, vm, n: int, protect: np.ndarray | None) -> None:
        """A fault that adds ``n`` pages to the alloc of ``vm``, which has a limit (later ESX): it
        replaces its own pages (again while that frees machine pages or lowers its alloc: a page a stage
        keeps in a cache frees only part of one, a victim shared before swap frees one but stays charged to
        the VM, a shared mapping paged lowers the alloc but frees a page only with its frame's last mapping)
        so that it ends at most one second of its balloon's rate above its limit
        (see :meth:`make_free`), and a page when a store that keeps several pages to a machine page in
        a cache charged to the VM frees one less than ``n`` counted (its own page-outs may change that)."""
        b = vm.balloon
        slack = 0 if b.cannot_help(vm.vm_time) else b.rate
        allowed = vm.config.limit_pages + slack
        got, action = 0, "page out"
        while vm.alloc_pages + n > allowed:
            before = vm.alloc_pages
            # (no lower than the fault leaves it at its allowance: a shared mapping paged frees no machine page
            # while its frame has other mappings, so the loop of _page_out would go on paging)
            step, now = self._page_out(vm, vm.alloc_pages + n - allowed, protect, floor=max(0, allowed - n))
            step = max(step, before - vm.alloc_pages)      # machine pages freed, or the alloc they came off
            if not step:
                break
            got += step
            action = now if now != "page out" else action
        if got:
            why = f"the balloon cannot free it ({b.why_unusable(vm.vm_time)})" if slack == 0 else \
                f"its balloon takes back only {slack / PAGES_PER_MB:g} MB a second"
            self.log(vm.name, f"{action} (fault)", got, f"at its limit of {vm.config.limit_mb:g} MB (later ESX); {why}")

    def _page_out(self, vm, n: int, protect: np.ndarray | None = None, floor: int = 0) -> tuple[int, str]:
        """``Swapper.swap_out`` and the action to log, named by the stages that acted
        (:attr:`.swap.Swapper.action`: "page out", or e.g. "… / page out"). When victims left but no
        machine page was freed yet (a stage that keeps each victim in part of a machine page: an odd
        victim takes a page of its own), it takes more victims until one is freed or none is left to
        take, so a fault never stalls while the VM has pages to give — but never more than leave the
        VM ``floor`` pages (the floor it is reclaimed to: its min, target or limit)."""
        got = self.swapper.swap_out(vm, n, protect)
        while got == 0 and self.swapper.taken and vm.alloc_pages > floor:
            got = self.swapper.swap_out(vm, min(n, vm.alloc_pages - floor), protect)
        return got, self.swapper.action

    @staticmethod
    def _held_down(vm) -> bool:
        """The VM's balloon holds it down: nothing unbacked is left for its guest to grow into."""
        return vm.pmap.count(UNBACKED) < PAGES_PER_MB

    def _log_balloon(self, vm, old: int, new: int, state: int, excess: int, share: int, reason: str,
                     source: str = "free memory to spare") -> None:
        """Log a new balloon target: the increment asked beyond what the driver was already
        asked for (``reason``: the state, or the VM's limit), or the pages it is now to give back
        (``source``: in high, where the memory given back comes from)."""
        b = vm.balloon
        up = self._accumulate(vm.uid, "inflate balloon", new - max(old, b.size))
        down = self._accumulate(vm.uid, "deflate balloon", min(old, b.size) - new if new < b.size else 0)
        if up:
            swapped = f", {vm.swapped_pages / PAGES_PER_MB:.1f} MB in host swap" if vm.swapped_pages and state != HIGH else ""
            pending = (old - b.size) / PAGES_PER_MB       # asked before, not inflated yet: the entry's MB come on top
            earlier = f", {pending:.1f} MB asked earlier still to inflate" if pending >= 1 else ""
            self.log(vm.name, "inflate balloon", up,
                     f"{reason}; {max(0, excess) / PAGES_PER_MB:.1f} MB above target{earlier}{swapped}")
        if down:
            self.log(vm.name, "deflate balloon", down,
                     "the balloon holds no more than max − target" if new >= min(share, b.cap)
                     else f"{STATES[state]} state: {source}; the balloon gives it back to a VM below its target")

    def _accumulate(self, uid: int, action: str, pages: int) -> int:
        """Pages to log for ``action`` now: changes under 1 MB add up until they reach 1 MB, so the
        log accounts for every small step without a line per second or a "0.0 MB"."""
        total = self._small.get((uid, action), 0) + max(0, pages)
        if total >= PAGES_PER_MB:
            self._small[(uid, action)] = 0
            return total
        self._small[(uid, action)] = total
        return 0

    # -- the fault path ---------------------------------------------------------------------------
    def make_free(self, n: int, vms: Iterable, requester: VM | None = None, protect: np.ndarray | None = None,
                  partial: bool = False, grows: int | None = None) -> int:
        """Make ``n`` machine pages free now, by paging (after trying to share) synchronously;
        returns how many are free for the request (``n``). With ``partial``, as many of the ``n``
        as can be found now (a fault then makes progress in pieces), and Stall only if not one.
        ``grows``: how much the fault adds to the requester's alloc (default ``n``; less by its
        copy-on-write breaks, which take a machine page for a page it was already charged for, and by
        what the stores charging it release as its pages leave them: :meth:`.vm.VM._grows`).

        A faulting VM may exceed its limit (later ESX) by at most what its balloon driver takes
        back in one second (its current rate; nothing when the balloon cannot help: absent,
        disabled, stuck or at its ceiling); beyond that it first pages out its own pages, whatever
        free memory there is (vSphere never lets a VM consume more than its limit, and swaps what
        ballooning is too slow to reclaim). The excess it may keep is what tells its balloon to
        inflate (:meth:`tick`).

        A fault cannot wait for a balloon. Passes, each paging VMs furthest above target first, and
        each again while it frees pages before the next one runs:
        (1) anyone down to its target; (2) the faulting VM replaces its own pages while it is at
        or above its min, no further than the fault leaves it at its min; (3) the others, down to
        their min (§6.1) — or only down to their target when the faulting VM is itself above its
        target; (4) the faulting VM's own pages as a last
        resort, once (1)–(3) free nothing more: a stage may free fewer pages than it took (two
        victims shared with each other, or kept two to a machine page by a later stage), so one
        round of them can leave the fault short while other VMs still hold pages above their min,
        and a min is a guarantee (§6.2). A VM above its target that cannot be served from its own
        pages and the others' excess waits. Raises :class:`Stall` if the pages cannot be found
        (e.g. host swap full).
        """
        grows = n if grows is None else grows
        if requester is not None and requester.config.limit_mb is not None:
            self._hold_to_limit(requester, grows, protect)
        short = n - self.machine.free
        if short <= 0:
            return n
        vms = list(vms)
        if requester is None and not partial:
            # the host's own request (a VM's overhead at power-on) is all or nothing, so it is refused before any
            # paging (the VMs left as they were) when even all the machine memory charged to the VMs above their min
            # (passes (1) and (3) page no VM at or below it) cannot cover it: paging a VM frees at most what it is
            # charged (its private pages, its compression cache, frames only it maps), though share before swap may
            # free a page without lowering its alloc; a request within that bound pages until served or short
            most = sum(v.alloc_pages for v in vms if v.alloc_pages > v.config.min_pages)
            if most < short:
                raise Stall(f"{short} machine pages short: the VMs above their min are charged only {most} pages, "
                            "the most paging could free")
        within = requester is None or requester.alloc_pages + grows <= requester.target
        if not within:
            own = requester.private_pages(exclude=protect)
            # what paging can take from the others: their excess, but only private pages are victims (a shared
            # mapping paged once none is left frees its frame's machine page only with the frame's last mapping)
            others = sum(min(max(0, v.alloc_pages - v.floor_pages), v.private_pages())
                         for v in vms if v is not requester)
            if own + others < short:
                if not partial or self.machine.free + own + others == 0:
                    raise Stall(f"{requester.name} is above its target and {short} machine pages short")
                n = self.machine.free + own + others         # the piece it can be served now
                short = own + others
                grows = min(grows, n)
                within = requester.alloc_pages + grows <= requester.target
        order = sorted(vms, key=lambda v: v.target - v.alloc_pages)
        for floor in FAULT_PASSES:
            freed = True
            while freed and short > 0:     # a pass again while it frees pages (a stage may free less than it
                freed = False              # took), so the last resort runs only once the others free nothing
                for vm in order:
                    if short <= 0:
                        break
                    lowest = floor(vm, vm is requester, within, grows)
                    if vm.alloc_pages <= lowest:
                        continue
                    got, action = self._page_out(vm, min(short, vm.alloc_pages - lowest),
                                                 protect if vm is requester else None, lowest)
                    if got:
                        freed = True
                        cause, why = ("fault", f"a fault of {requester.name}") if requester is not None else \
                            ("power-on", "the overhead of a VM powering on")
                        self.log(vm.name, f"{action} ({cause})", got, f"no free machine memory for {why}")
                    short = n - self.machine.free
        if short > 0 and not (partial and self.machine.free):
            sw = self.swapper.slots
            why = "host swap is full" if sw.used >= sw.capacity else \
                "no VM has pages paging may take (each at its floor: its target or min, or what it holds is shared)"
            raise Stall(f"{short} machine pages short: {why}")
        return min(n, self.machine.free)


def _balloon_short(vm, share: int) -> str:
    """Why the balloon cannot take what is paged, for the log: the driver is not usable, or the
    excess is more than it may hold (its cap, or its reclaimed share ``max − target``)."""
    b = vm.balloon
    why = b.why_unusable(vm.vm_time)
    if why != "usable":
        return why
    if b.cap <= share:
        return f"more than it may hold: its cap of {b.cap / PAGES_PER_MB:.0f} MB"
    return f"more than it may hold: max − target = {max(0, share) / PAGES_PER_MB:.0f} MB"


def _reason(vm, state: int, vstate: int, high_state: str = "idle") -> str:
    """Why ``vm`` is reclaimed: the host's free-memory state, or (``vstate`` differs) its limit; in high
    under ``high_state="converge"``, that this is esxlab's reading (§6.3 reclaims nothing in high)."""
    if vstate != state:
        return f"above its limit of {vm.config.limit_mb:g} MB (later ESX)"
    if state == HIGH and high_state == "converge":
        return "high state (converging on targets: esxlab's reading; §6.3 reclaims nothing in high)"
    return f"{STATES[state]} state"
