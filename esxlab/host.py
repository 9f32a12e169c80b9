"""The simulator: one ESX host, its machine memory, its VMs and its memory manager.

Each tick is one simulated second:

1. the free-memory state is updated from free memory (§6.3);
2. targets are recomputed by min-funding revocation with the idle memory tax (§5) when due:
   every ``realloc_period_s``, on a parameter change, a power on/off or a state change;
3. each VM's excess over its target is split into a balloon target and a swap target by
   the state's rule (§6.3); the swap daemon pages out (§3.3); VMs above target are blocked
   in the low state;
4. every VM runs: its workload touches pages, its guest OS pages, its balloon driver polls
   (§3.2), its sampler counts touched pages (§5.3);
5. the page-sharing scanner runs (§4), hot I/O pages are remapped to low memory (§7);
6. one row of the trace is recorded.
"""
from __future__ import annotations

import sys

import numpy as np

from .admission import admit
from .config import BALLOON_MODES, PAGES_PER_MB, HostConfig, VMConfig
from .errors import AdmissionError, ConfigError, check_choice, check_number, shorten
from .machine import OVERHEAD, Machine
from .pmap import PRIVATE
from .policy import compute_targets, shares_per_page
from .reclaim import LOW, SOFT, STATES, FreeMemoryStates, split_reclaim
from .rng import Streams
from .remap import IORemapper, low_pages
from .resources import deferred_interrupt
from .sharing import make_sharing
from .swap import SwapFile, Swapper, make_policy
from .trace import Decision, HostStats, Recorder, Trace
from .vm import VM, Counters, Stall, VMStats
from .workloads import Idle, make

LONG_RUN_S = 6 * 3600      # runs this long (tens of seconds of computing, or more) show progress by default


class Host:
    """An ESX server. ``Host(HostConfig(memory_mb=512), seed=0)``; see the package README."""

    def __init__(self, config: HostConfig | None = None, seed: int = 0, replacement="random") -> None:
        if config is not None and not isinstance(config, HostConfig):
            raise ConfigError(f"Host config must be a HostConfig, got {shorten(config)} ({type(config).__name__}).")
        self.config = config = config or HostConfig()
        self.streams = Streams(seed)
        self.seed = seed
        self.machine = Machine(config.total_pages, low_pages(config))
        self.swapfile = SwapFile(config.swap_pages)
        self.swapper = Swapper(self, make_policy(replacement), self.streams.child("swapper"))
        self.sharing = make_sharing(self)
        self.remap = IORemapper(self)
        self.states = FreeMemoryStates(config, config.total_pages)
        self.tax_rate = config.tax_rate
        self.vms: dict[str, VM] = {}
        self.time = 0
        self.recorder = Recorder()
        self._next_uid = 1
        self._realloc_due = True
        self._why = "start"

    # -- VMs ------------------------------------------------------------------------------------
    def power_on(self, config: VMConfig, workload=None) -> VM:
        """Admit and boot a VM (``AdmissionError`` if its reservations do not fit, §6.2)."""
        if not isinstance(config, VMConfig):
            raise ConfigError(f"power_on config must be a VMConfig, got {shorten(config)} ({type(config).__name__}).")
        if config.name in self.vms:
            raise ConfigError(f"power_on config.name = {config.name!r}: a VM named {config.name!r} is already "
                              "running; VM names must be unique.")
        admit(config, [v.config for v in self.vms.values()], self.config.total_pages, self.swapfile.capacity)
        vm = VM(self, self._next_uid, config, make(workload if workload is not None else Idle()))
        self._next_uid += 1
        try:
            self.ensure_free(config.overhead_pages, None, None)
        except Stall as e:
            raise AdmissionError(f"cannot power on {config.name!r}: no machine memory for its "
                                 f"{config.overhead_mb:g} MB of overhead right now ({e}).") from None
        vm.overhead_mpns = self.machine.alloc(config.overhead_pages, OVERHEAD)
        self.vms[config.name] = vm
        try:
            vm.guest.boot()
        except Stall as e:
            self.power_off(config.name)
            raise AdmissionError(f"cannot power on {config.name!r}: no machine memory or swap for its kernel "
                                 f"right now ({e}).") from None
        self._changed(f"{config.name} powered on")
        return vm

    def power_off(self, name: str) -> None:
        """Stop a VM and free everything it held: machine pages, shared mappings, swap slots."""
        vm = self.vm(name)
        vm.drop_backing(np.arange(vm.pages))
        self.sharing.forget(vm)
        self.remap.forget(vm)
        self.machine.release(vm.overhead_mpns)
        del self.vms[name]
        self._changed(f"{name} powered off")

    def vm(self, name: str) -> VM:
        if not isinstance(name, str):
            raise ConfigError(f"VM name must be a string, got {shorten(name)}; running: "
                              f"{', '.join(map(repr, self.vms)) or 'none'}.")
        try:
            return self.vms[name]
        except KeyError:
            raise ConfigError(f"no VM named {name!r} is running; running: "
                              f"{', '.join(map(repr, self.vms)) or 'none'}.") from None

    # -- parameters that change mid-run ----------------------------------------------------------
    def set_tax_rate(self, tax_rate: float) -> None:
        """Change the idle memory tax τ (one global rate, §5.2 footnote 5)."""
        check_number("Host", "tax_rate", tax_rate, 0, 1, hi_open=True)
        self.tax_rate = float(tax_rate)
        self._changed(f"tax rate set to {tax_rate:.2f}")

    def set_shares(self, name: str, shares: float) -> None:
        check_number("Host", "shares", shares, 0, 1e9)
        self.vm(name).shares = float(shares)
        self._changed(f"{name} shares set to {shares:g}")

    def set_min(self, name: str, min_mb: float) -> None:
        """Change a VM's min (admission control re-checks the reservation)."""
        vm = self.vm(name)
        new = vm.config.replace(min_mb=min_mb)
        admit(new, [v.config for v in self.vms.values() if v is not vm], self.config.total_pages, self.swapfile.capacity)
        vm.config = new
        self._changed(f"{name} min set to {min_mb:g} MB")

    def set_balloon(self, name: str, mode: str) -> None:
        """Switch a VM's balloon driver mode (e.g. disable it, or make it lie)."""
        check_choice("Host", "balloon", mode, BALLOON_MODES)
        vm = self.vm(name)
        # pop (with the old mode) when the driver goes away or starts/stops lying: a lying
        # driver's pages are in the guest's hands, a truthful one's are pinned
        if vm.balloon.size and (mode in ("absent", "disabled") or (vm.balloon.mode == "lying") != (mode == "lying")):
            vm.balloon.pop(vm)
        vm.balloon.mode = mode
        vm.balloon.stuck_for = 0
        self._changed(f"{name} balloon driver {mode}")

    def _changed(self, why: str) -> None:
        self._realloc_due = True
        self._why = why

    # -- memory for faults ---------------------------------------------------------------------
    def ensure_free(self, n: int, requester: VM | None, protect: np.ndarray | None) -> None:
        """Make ``n`` machine pages free now by paging VMs out synchronously.

        Passes, each paging VMs furthest above target first: (1) anyone down to its target;
        (2) the faulting VM replaces its own pages while it is at or above its min; (3) the
        others, down to their min (§6.1) — or only down to their target when the faulting VM
        is itself above its target; (4) the faulting VM's own pages as a last resort. A VM
        above its target that cannot be served from its own pages and the others' excess waits.
        Raises :class:`~esxlab.vm.Stall` if the pages cannot be found (e.g. host swap full).
        """
        short = n - self.machine.free
        if short <= 0:
            return
        within = requester is None or requester.alloc_pages + n <= requester.target
        if not within:
            own = requester.pmap.count(PRIVATE) - (0 if protect is None else
                                                   int(np.count_nonzero(requester.pmap.state[protect] == PRIVATE)))
            others = sum(max(0, v.alloc_pages - max(v.config.min_pages, v.target))
                         for v in self.vms.values() if v is not requester)
            if own + others < short:
                raise Stall(f"{requester.name} is above its target and {short} machine pages short")
        floors = (lambda v: max(v.target, v.config.min_pages),     # targets may predate a set_min
                  lambda v: 0 if v is requester and v.alloc_pages >= v.config.min_pages else v.alloc_pages,
                  lambda v: v.alloc_pages if v is requester else
                  (v.config.min_pages if within else max(v.config.min_pages, v.target)),
                  lambda v: 0 if v is requester else v.alloc_pages)
        order = sorted(self.vms.values(), key=lambda v: v.target - v.alloc_pages)
        for floor in floors:
            for vm in order:
                if short <= 0:
                    break
                room = vm.alloc_pages - floor(vm)
                if room <= 0:
                    continue
                got = self.swapper.swap_out(vm, min(short, room), protect if vm is requester else None)
                if got:
                    self._log(vm.name, "page out (sync)", got,
                              f"no free machine memory for a fault of {requester.name if requester else 'the host'}")
                short = n - self.machine.free
        if short > 0:
            raise Stall(f"{short} machine pages short and host swap is full")

    # -- the policy -------------------------------------------------------------------------------
    @property
    def overhead_pages(self) -> int:
        return sum(len(v.overhead_mpns) for v in self.vms.values())

    def available_pages(self) -> int:
        """Machine memory the targets may hand out: all of it less overhead, the page-sharing
        table and the free-memory goal (above the high threshold, §6.3)."""
        return int(self.config.total_pages - self.overhead_pages - self.sharing.table_pages - self.states.goal)

    def recompute_targets(self, why: str) -> None:
        vms = list(self.vms.values())
        if not vms:
            return
        old = {v.name: v.target for v in vms}
        targets = compute_targets([v.shares for v in vms], [v.config.min_pages for v in vms],
                                  [v.pages for v in vms], [v.active_pages for v in vms],
                                  self.available_pages(), self.tax_rate)
        for v, t in zip(vms, targets):
            v.target = int(t)
        rhos = {v.name: self._rho(v) for v in vms}
        cheapest = min(rhos, key=rhos.get)
        for v in vms:
            delta = v.target - old[v.name]
            if abs(delta) >= PAGES_PER_MB:
                because = (f"lowest rho, {rhos[v.name]:.2f} shares/page" if v.name == cheapest and delta < 0
                           else f"rho {rhos[v.name]:.2f} shares/page")
                self._log(v.name, "target " + ("down" if delta < 0 else "up"), abs(delta),
                          f"{why}; {because} (active {v.active_pages / PAGES_PER_MB:.0f} MB, "
                          f"τ = {self.tax_rate:.2f})")

    def _rho(self, vm: VM) -> float:
        pages = max(vm.target, 1)
        f = min(1.0, vm.active_pages / pages)
        return shares_per_page(vm.shares, pages, f, self.tax_rate)

    def _reclaim(self) -> None:
        state = self.states.state
        # page no more than the swap daemon's rate, nor more than brings free memory back to
        # the goal: the balloons keep working on the rest of the excess (§6.3)
        need = int(self.states.goal) - self.machine.free
        budget = min(int(self.config.swap_rate_mb_s * PAGES_PER_MB), max(0, need))
        for vm in self.vms.values():
            b = vm.balloon
            excess = vm.alloc_pages - vm.target
            bt, st = split_reclaim(state, excess, b.size, b.cap, b.usable(vm.vm_time))
            if bt - max(b.target, b.size) >= PAGES_PER_MB:
                self._log(vm.name, "inflate balloon", bt - b.size,
                          f"{STATES[state]} state; {excess / PAGES_PER_MB:.0f} MB above target")
            b.target = bt
            vm.swap_target = st
            vm.blocked = state == LOW and excess > 0
            if st > 0 and budget > 0:
                got = self.swapper.swap_out(vm, min(st, budget))
                budget -= got
                if got:
                    why = ("soft state: the balloon cannot take it (driver not usable or at its cap)"
                           if state == SOFT else f"{STATES[state]} state: page to reach target")
                    self._log(vm.name, "page out", got, why)

    def _log(self, vm: str, action: str, pages: int, why: str) -> None:
        self.recorder.decisions.append(Decision(self.time, vm, action, int(pages), why))

    # -- time ---------------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one simulated second."""
        self.time += 1
        free = self.machine.free
        old = self.states.name
        if self.states.update(free):
            self._log("", f"state {old} → {self.states.name}", 0,
                      f"free memory {free / PAGES_PER_MB:.1f} MB ({100 * free / self.config.total_pages:.1f} %)")
            self._changed(f"state {self.states.name}")
        if self._realloc_due or self.time % int(self.config.realloc_period_s) == 0:
            self.recompute_targets(self._why if self._realloc_due else "periodic reallocation")
            self._realloc_due = False
        for vm in self.vms.values():
            vm.counters = Counters()
        self._reclaim()
        for vm in self.vms.values():
            vm.step()
        self.sharing.step()
        self.remap.step()
        self._record()

    def run(self, minutes: float | None = None, seconds: float | None = None,
            progress: bool | None = None) -> Trace:
        """Run for ``minutes`` (or ``seconds``, a whole number of ticks) and return the trace of the
        whole history. ``progress`` prints a line on stderr each simulated minute (None: only for
        runs of :data:`LONG_RUN_S` or more). Ctrl-C stops the run between two ticks, leaving a
        consistent host that can run on. ConfigError if the trace would not fit in memory."""
        if (minutes is None) == (seconds is None):
            raise ConfigError(f"run() needs exactly one of minutes= or seconds=; got minutes = {shorten(minutes)}, "
                              f"seconds = {shorten(seconds)}.")
        if minutes is not None:
            check_number("run", "minutes", minutes, 0, 10 ** 6)
            seconds = minutes * 60
        check_number("run", "seconds", seconds, 0, 6 * 10 ** 7)
        ticks = int(round(seconds))
        given = f"minutes = {minutes!r}" if minutes is not None else f"seconds = {seconds!r}"
        if abs(seconds - ticks) > 1e-6:
            raise ConfigError(f"run: {given} is {seconds:g} s, not a whole number of ticks; "
                              "allowed: whole seconds (one tick is one simulated second).")
        self.recorder.reserve(ticks, self.vms, f"run: {given}")
        show = ticks >= LONG_RUN_S if progress is None else check_choice("run", "progress", progress, (True, False))
        with deferred_interrupt() as interrupted:
            for i in range(ticks):
                self.step()
                if interrupted.is_set():
                    raise KeyboardInterrupt(f"run() interrupted at t = {self.time} s after {i + 1} of {ticks} ticks; "
                                            "the host is consistent and can run on")
                if show and (i + 1) % 60 == 0:
                    print(f"\r  simulated {(i + 1) / 60:.0f}/{ticks / 60:.0f} min", end="", file=sys.stderr)
        if show:
            print(file=sys.stderr)
        return self.trace

    @property
    def trace(self) -> Trace:
        return self.recorder.trace()

    def _record(self) -> None:
        h = self.stats()
        self.recorder.record(self.time, dict(free=h.free, state=self.states.state, overhead=h.overhead,
                                             swap_used=h.swap_used, shared_saved=h.shared_saved,
                                             zero_shared=h.zero_shared, bounce_copies=h.bounce_copies),
                             {v.name: v.trace_row() for v in self.vms.values()})

    # -- statistics --------------------------------------------------------------------------------
    def stats(self) -> HostStats:
        mb = 1.0 / PAGES_PER_MB
        return HostStats(total=self.config.total_pages * mb, free=self.machine.free * mb, state=self.states.name,
                         shared_saved=self.sharing.saved_pages * mb, zero_shared=self.sharing.zero_pages * mb,
                         overhead=self.overhead_pages * mb, swap_used=self.swapfile.used * mb,
                         bounce_copies=self.remap.last_bounces)

    def vm_stats(self) -> dict[str, VMStats]:
        return {name: v.stats() for name, v in self.vms.items()}
