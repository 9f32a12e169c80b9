"""The balloon driver (paper §3.2, Figure 1).

A pseudo-device driver inside the guest polls ESX for a target balloon size once per
simulated second. To inflate it allocates pinned pages through the guest's own
allocator (free list first, then the guest's own page replacement) and reports their
PPNs; ESX then frees the backing machine pages. To deflate it frees pages back to the
guest. Its allocation rate is limited adaptively (invented rule, the paper gives none:
halve the rate when the guest had to page to satisfy it, double it back otherwise, between
``rate/4`` and the VM's ``balloon_rate_mb_s``) and capped per VM (``balloon_max_pct``,
65 % of max as in later ESX).

Ballooning is not always possible (§3.2): the driver may be ``absent`` or ``disabled``, not
yet loaded while the guest boots, ``uncooperative`` (it polls but never inflates) or
``lying`` (it reports pages it does not pin, so the guest keeps using them). ESX cannot
tell these apart except by progress, measured in **machine pages freed**: a driver whose
inflations free less than half a machine page per backed page ballooned for
``HostConfig.balloon_stuck_s`` seconds (it is stuck, or it takes pages that are shared) is
treated as unusable, and the host pages instead (§3.3, §6.3). A guest touch of a ballooned
PPN "pops" the balloon: ESX releases all of it and the driver starts over. The paper then resets
the driver's state and goes on using it (§3.2); here a driver caught out — its guest touched what
it had ballooned (a pop), or it reported a page it had reported before — is taken to be lying or
broken, and is not counted on again until its mode is changed (``Host.set_balloon``; invented: a
stall is forgotten once its VM is back at its target, and the memory a lying driver's inflations
free comes back with each pop, so without this it would be trusted anew again and again, e.g. to
keep its VM under its limit). The driver polls once per tick, the paper's once a second (§3.2): the
simulator's tick is one second, so the interval is not a parameter.
"""
from __future__ import annotations

import numpy as np

from .config import PAGES_PER_MB
from .errors import check_number
from .pmap import MAPPED


class BalloonDriver:
    """One VM's balloon driver (§3.2): polls its ``target`` (pages) each second and inflates or deflates toward it.

    ``mode`` is one of ``config.BALLOON_MODES``; ``cap_pages`` caps the balloon (later ESX), ``rate_mb_s`` is
    the top inflation rate, ``load_at_s`` the VM time the driver loads, ``stuck_s`` the seconds without progress
    ESX tolerates (``HostConfig.balloon_stuck_s``)."""

    def __init__(self, mode: str, cap_pages: int, rate_mb_s: float, load_at_s: float, stuck_s: int) -> None:
        self.mode = mode
        self.stuck_s = stuck_s            # HostConfig.balloon_stuck_s
        self.cap = cap_pages
        self.max_rate = max(1, int(rate_mb_s * PAGES_PER_MB))
        self.rate = self.max_rate
        self.load_at = load_at_s
        self.target = 0
        self.held = np.empty(0, dtype=np.int64)   # PPNs the driver has reported to ESX
        self.stuck_for = 0
        self.pops = 0
        self.popped_pages = 0                     # pages its pops released, in all
        self.unlogged_pops: list[int] = []        # pages each pop released, until the reclaimer logs them
        self.caught: str | None = None            # why ESX no longer counts on the driver (since trust())
        self.held_at: int | None = None           # hold(): a size an experiment fixes (invented knob)

    @property
    def size(self) -> int:
        """Pages in the balloon: the PPNs the driver has reported to ESX."""
        return len(self.held)

    def loaded(self, vm_time: float) -> bool:
        """The driver is present, enabled and loaded at VM time ``vm_time`` (s): the guest has booted."""
        return self.mode not in ("absent", "disabled") and vm_time >= self.load_at

    def usable(self, vm_time: float) -> bool:
        """Can ESX expect this balloon to free memory? (present, loaded, making progress, never
        caught out, under cap)"""
        return self.loaded(vm_time) and self.stuck_for < self.stuck_s and self.size < self.cap \
            and self.caught is None

    def _catch(self, why: str) -> None:
        """The driver was caught out (``why``): the first reason is kept until :meth:`trust`."""
        if self.caught is None:
            self.caught = why

    def trust(self) -> None:
        """Forget past stalls and lies (the driver was changed, e.g. by ``Host.set_balloon``)."""
        self.stuck_for = 0
        self.caught = None

    def cannot_help(self, vm_time: float) -> bool:
        """The driver is there to be counted on no more: absent, disabled, stuck or at its cap
        (not merely still loading while the guest boots)."""
        return self.mode in ("absent", "disabled") or (self.loaded(vm_time) and not self.usable(vm_time))

    def why_unusable(self, vm_time: float) -> str:
        """Why :meth:`usable` is False, in words for the decision log."""
        if self.mode in ("absent", "disabled"):
            return f"driver {self.mode}"
        if not self.loaded(vm_time):
            return "driver not loaded yet: the guest is booting"
        if self.size >= self.cap:
            return f"balloon at its cap of {self.cap / PAGES_PER_MB:.0f} MB"
        if self.stuck_for >= self.stuck_s:
            return f"no machine memory freed by the balloon for {self.stuck_s} s or more"
        if self.caught is not None:
            return f"{self.caught}: by esxlab's rule (invented), not counted on again"
        return "usable"

    def hold(self, pages: int | None) -> None:
        """Steer the balloon to ``pages`` (a whole number ≥ 0) whatever target the host's policy
        sets, as Figure 2 balloons a VM on an otherwise idle host; ``None`` hands it back to the
        host. The host's target is still recorded in ``target``. Raises ConfigError. (invented:
        an experimenter's knob, as the paper's Figure 2 balloons one VM down to each size)"""
        if pages is not None:
            check_number("BalloonDriver.hold", "pages", pages, 0, None, integer=True)
        self.held_at = None if pages is None else int(pages)

    def poll(self, vm, vm_time: float) -> None:
        """Once per second: move toward the target (or the held size), at the adaptive rate."""
        if not self.loaded(vm_time):
            return
        target = min(self.target if self.held_at is None else self.held_at, self.cap)
        if target > self.size:
            self._inflate(vm, min(target - self.size, self.rate))
        elif target < self.size:
            self._deflate(vm, min(self.size - target, self.max_rate))
        # nothing left to reclaim: no stall to remember (alloc_pages, read only when there is one to forget)
        if self.stuck_for and vm.alloc_pages <= vm.target:
            self.stuck_for = 0

    def _inflate(self, vm, n: int) -> None:
        # the target was set at the start of the tick; never balloon a VM below its min (§6.1)
        n = min(n, vm.alloc_pages - vm.config.min_pages)
        if n <= 0:
            return
        if self.mode == "uncooperative":
            self.stuck_for += 1
            return
        ppns, stressed = vm.guest.balloon_take(n)
        # the guest's evictions may fault (double paging) and page the VM itself, e.g. down to its
        # limit: what it takes beyond its min now goes back to the guest
        room = max(0, vm.alloc_pages - vm.config.min_pages)
        if room < len(ppns):
            vm.guest.balloon_give(ppns[room:])
            ppns = ppns[:room]
        if len(ppns) == 0:
            self.stuck_for += 1
            return
        self.rate = max(self.max_rate // 4, self.rate // 2) if stressed else min(self.max_rate, self.rate * 2)
        st = vm.pmap.state[ppns]
        backed = int(np.count_nonzero(MAPPED[st]))
        fresh, freed = vm.balloon_pages(ppns)
        # progress is machine memory freed, not pages ballooned: a balloon that frees less than
        # half a machine page per backed page it takes (shared pages free nothing) is not
        # counted on (invented threshold); pages with no machine page behind them (never
        # touched, or in host swap) neither help nor count against it; pages already in the
        # balloon (a lying driver reporting its pages again) are no progress
        if backed:
            self.stuck_for = 0 if 2 * freed >= backed else self.stuck_for + 1
        elif len(fresh) == 0:
            self.stuck_for += 1
        if len(fresh) < len(ppns):
            self._catch(f"it reported pages it had ballooned before (at t = {vm.vm_time:g} s of the VM's time)")
        self.held = np.concatenate([self.held, fresh])
        if self.mode == "lying":          # reported to ESX, but handed straight back to the guest
            vm.guest.balloon_give(ppns)

    def _deflate(self, vm, n: int) -> None:
        ppns = self.held[len(self.held) - n:]
        self.held = self.held[:len(self.held) - n]
        self._release(vm, ppns)

    def _release(self, vm, ppns: np.ndarray) -> None:
        """ESX lets go of ``ppns``: unbacked again, and the driver hands them back to the guest (a lying
        driver already did)."""
        vm.unballoon_pages(ppns)
        if self.mode != "lying":
            vm.guest.balloon_give(ppns)

    def pop(self, vm) -> None:
        """A ballooned PPN was touched: ESX releases the whole balloon; the driver resets."""
        ppns = self.held
        self.held = np.empty(0, dtype=np.int64)
        self.pops += 1
        self.popped_pages += len(ppns)
        self.unlogged_pops.append(len(ppns))
        self._catch(f"the guest touched pages its driver had ballooned (a pop at t = {vm.vm_time:g} s of the VM's time)")
        self.rate = self.max_rate
        self._release(vm, ppns)
