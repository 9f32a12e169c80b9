"""The simulator: one ESX host, its machine memory, its VMs and its memory manager.

Each tick is one simulated second:

1. targets are recomputed by min-funding revocation with the idle memory tax (§5) when due:
   every ``realloc_period_s``, on a parameter change, a power on/off or a state change;
   they hand out the machine memory available to VMs *plus* what page sharing saves, since a
   shared page counts in every VM that maps it (§4.3, §6.3);
2. reclamation (:mod:`.reclaim`, the one owner of it) sets balloon targets, pages and blocks
   by the free-memory state's rule (§6.3);
3. every VM runs: its workload touches pages (its hot I/O pages are remapped to low memory as
   their copies count up, §7), its guest OS pages, its balloon driver polls (§3.2), its sampler
   counts touched pages (§5.3);
4. the page-sharing scanner runs (§4), the remapper closes the tick's count and moves cold
   remapped pages back to high memory (§7), and each VM's events of the tick (``vm.counters``)
   are added to its ``totals``;
5. the free-memory state is judged on free memory now, and one row of the trace is recorded.

The host owns the clock, the seeded streams, the machine and the VMs; components get narrow
collaborators (:class:`.vm.VMEnv`, the machine, the swap area), never the host.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from .admission import admit
from .clock import Clock
from .compression import COMPRESSED, CompressionCache
from .config import PAGES_PER_MB, HostConfig, VMConfig
from .errors import (AdmissionError, ConfigError, HostStopped, Stall, check_call, check_choice, check_number, first_line,
                     shorten)
from .guest import PROFILES
from .machine import MAX_UID, OVERHEAD, Machine
from .metrics import HostStats, VMStats
from .pmap import SWAPPED
from .policy import revoke
from .reclaim import Reclaimer
from .remap import IORemapper, low_pages
from .resources import SWAP_BYTES_PER_PAGE, check_fits, check_power_on_time, deferred_interrupt, vm_bytes
from .rng import Streams
from .sharing import make_sharing
from .swap import ReplacementPolicy, Stage, SwapFile, Swapper, make_policy
from .trace import Decision, Recorder, Trace
from .vm import VM, Counters, VMEnv
from .workloads import Idle, Workload, make

PROGRESS_AFTER_S = 5.0     # a run that has computed this long (wall seconds) shows progress by default
_Config = TypeVar("_Config", HostConfig, VMConfig)


def _replaced(config: _Config, call: str, argument: str | None = None, **change: Any) -> _Config:
    """``config.replace(**change)``, one field, for a method of Host that sets it, ``call`` (e.g.
    "host.set_balloon('a', mode)"): a value refused is named as that method's ``argument`` (by default the field's
    name), not as the field of a configuration the user did not write ("VMConfig.balloon")."""
    try:
        return config.replace(**change)
    except ConfigError as err:
        [field] = change
        text = str(err).removeprefix(f"{type(config).__name__}.")
        if argument and text.startswith(f"{field} "):               # set_balloon's mode sets VMConfig.balloon
            text = argument + text.removeprefix(field)
        raise ConfigError(f"{call}: {text}") from None


def _tau(tax_rate: float) -> str:
    """τ for the decision log: two decimals (0.75, 0.00), more where two would round it to another rate
    (0.999 is not 1.00, a rate set_tax_rate refuses)."""
    two = f"{tax_rate:.2f}"
    return two if float(two) == float(tax_rate) else f"{tax_rate:.6g}"


class Host:
    """One ESX server (the paper's whole system): machine memory, the VMs running on it and the
    memory manager that shares, balloons, compresses (later ESX) and swaps their pages.

    It owns ``config`` (:class:`~esxlab.config.HostConfig`), the clock (one tick = one simulated
    second), the seeded streams (``seed``: the same seed, the same run), ``machine`` (4 KB machine
    pages), ``vms`` (name → :class:`~esxlab.vm.VM`, in power-on order), ``sharing`` (§4), ``swapfile``
    and ``swapper`` (§3.3), ``compression`` (later ESX), ``remap`` (§7), ``reclaimer`` and ``states``
    (§6.3) and the recorder behind ``trace``. Memory is in MB in stats and traces, in pages inside.

    * :meth:`power_on` / :meth:`power_off`: admit and boot a VM (§6.2) / free all it holds.
    * :meth:`run` / :meth:`step`: advance minutes (or seconds) / one tick; :attr:`trace`: the history.
    * :meth:`stats` / :meth:`vm_stats` / :meth:`vm`: the host's and each VM's memory now (MB).
    * :meth:`set_tax_rate`, :meth:`set_shares`, :meth:`set_min`, :meth:`set_limit`, :meth:`set_balloon`:
      change a parameter mid-run; :meth:`note`: log an experimenter's action.

    Example::

        host = Host(HostConfig(memory_mb=360), seed=0)
        host.power_on(VMConfig(name="db", max_mb=256), workload="dbench")
        trace = host.run(minutes=10)
        print(host.stats().free, trace.mean("db", "alloc", start_min=5))
    """

    def __new__(cls, *args: object, **kwargs: object) -> "Host":
        """ConfigError naming what Host takes, not Python's TypeError, for a parameter it does not take; a
        field of HostConfig given to Host (``Host(memory_mb=512)``) says where it goes."""
        misplaced = sorted(set(kwargs) & {f.name for f in dataclasses.fields(HostConfig)} - {"replacement"})
        if misplaced:
            raise ConfigError(f"Host has no parameter {misplaced[0]!r}: it is a field of HostConfig; allowed: "
                              f"Host(HostConfig({misplaced[0]}=…), seed=…) (Host takes config, seed, replacement).")
        check_call(cls, args, kwargs)
        return super().__new__(cls)

    def __init__(self, config: HostConfig | None = None, seed: int = 0,
                 replacement: ReplacementPolicy | str | None = None) -> None:
        """``replacement``: a replacement policy object of one's own (e.g. the capstone exercise's);
        the built-in ones are chosen by ``HostConfig.replacement`` (a name here is deprecated)."""
        if config is not None and not isinstance(config, HostConfig):
            raise ConfigError(f"Host config must be a HostConfig, got {shorten(config)} ({type(config).__name__}).")
        config = config or HostConfig()
        if isinstance(replacement, str):
            warnings.warn("Host(replacement=name) is deprecated: use HostConfig(replacement=name).",
                          DeprecationWarning, stacklevel=2)
            config, replacement = config.replace(replacement=replacement), None
        self.config = config
        self.streams = Streams(seed)
        self._stopped = ""                   # what stopped a tick half-way (step), if anything did
        self.seed = seed
        self.clock = Clock()
        self.vms: dict[str, VM] = {}
        self.recorder = Recorder()
        self._log_from: dict[str, int] = {}   # VM name → the log's length at its last power-off (entries merge after)
        self.machine = Machine(config.total_pages, low_pages(config))
        self.swapfile = SwapFile(config.swap_pages or 0)
        self.sharing = make_sharing(config.sharing, self.machine, self.vms, self.clock,
                                    self.streams.child("sharing"))
        policy = make_policy(config.replacement if replacement is None else replacement)
        # the reclaim stages of a page-out, in order, and the stores of off-machine page states:
        # the one place a mechanism like memory compression (later ESX) is plugged in
        self.compression = CompressionCache(config, self.machine)
        stages, stores = [Stage("share", self.sharing.share_before_swap, self.sharing.spill)], {}
        if config.compression:
            stages.append(self.compression.stage())
            stores[COMPRESSED] = self.compression
        self.swapper = Swapper(self.machine, self.swapfile, policy, self.streams.child("swapper"), stages)
        self.stores = {SWAPPED: self.swapper, **stores}
        self.reclaimer = Reclaimer(config, self.machine, self.swapper, self._log)
        self.states = self.reclaimer.states
        self.remap = IORemapper(config.remap, self.machine, self.vms, self.clock)
        self._next_uid = 1
        self._realloc_due = True
        self._whys: list[str] = []                     # what changed since the targets were last computed
        self._logged_target: dict[int, int] = {}      # VM uid → target last logged

    @property
    def preset(self) -> str:
        """The era preset the configuration started from ("esx2002" or "esxi6"; ``config.preset``)."""
        return self.config.preset

    def __repr__(self) -> str:
        return (f"<Host preset={self.preset!r} memory_mb={self.config.memory_mb:g} t={self.time}s "
                f"state={self.states.name!r} vms=[{', '.join(map(repr, self.vms))}]>")

    @property
    def time(self) -> int:
        """Seconds simulated so far."""
        return self.clock.t

    def _env(self) -> VMEnv:
        return VMEnv(machine=self.machine, stores=self.stores, sharing=self.sharing, remap=self.remap,
                     make_free=self._make_free, tax_rate=self._tax_rate_now, config=self.config,
                     streams=self.streams)

    def _tax_rate_now(self) -> float:
        """:attr:`tax_rate`, as a bound method: a copy of the host (``copy.deepcopy``, as
        ``experiments.common.fork`` makes) rebinds it to the copy, where a closure would read the original."""
        return self.tax_rate

    def _make_free(self, n: int, requester: VM | None = None, protect: np.ndarray | None = None,
                   partial: bool = False, grows: int | None = None) -> int:
        return self.reclaimer.make_free(n, self.vms.values(), requester, protect, partial, grows)

    # -- VMs ------------------------------------------------------------------------------------
    def power_on(self, config: VMConfig, workload: Workload | type[Workload] | str | None = None) -> VM:
        """Admit and boot a VM (``AdmissionError`` if its reservations do not fit, §6.2) running
        ``workload``: a :class:`~esxlab.workloads.Workload` instance (one per VM), a Workload class
        whose parameters all have defaults, or a name of :data:`esxlab.workloads.WORKLOADS`
        ("dbench": its defaults); None runs :class:`~esxlab.workloads.Idle`. ConfigError if this VM and the
        VMs running would together need more of this computer's memory than esxlab may use
        (:func:`esxlab.resources.check_fits`; per-VM swap files included), or if its boot would compute
        for more than a minute (:func:`esxlab.resources.check_power_on_time`). A workload instance whose
        VM is refused never ran, and may be given again."""
        if not isinstance(config, VMConfig):
            raise ConfigError(f"power_on config must be a VMConfig, got {shorten(config)} ({type(config).__name__}).")
        if config.name in self.vms:
            raise ConfigError(f"power_on config.name = {config.name!r}: a VM named {config.name!r} is already "
                              "running; VM names must be unique.")
        if self._next_uid > MAX_UID:
            raise AdmissionError(f"cannot power on {config.name!r}: this host has powered on {MAX_UID:,} VMs, the "
                                 "most its machine-page owner codes (16-bit) can name; allowed: a new Host.")
        admit(config, [v.config for v in self.vms.values()], self.config.total_pages, self.config.swap_pages,
              self.states.goal)
        n, what = len(self.vms), f"power_on {config.name!r} (max_mb = {config.max_mb:.10g})"
        swap_files = 0 if self.config.swap_pages is not None else \
            (self.swapfile.capacity + config.max_pages - config.min_pages) * SWAP_BYTES_PER_PAGE
        check_fits(f"{what} with {n} VM{'s' * (n != 1)} running"
                   f"{' (swap files of max − min included)' * bool(swap_files)}",
                   sum(vm_bytes(v.pages, len(v.guest.lp_ppn)) for v in self.vms.values()) + vm_bytes(config.max_pages)
                   + swap_files, "allowed: fewer or smaller VMs at once (power one off first)" if n else
                   "allowed: a smaller VM")
        check_power_on_time(what, config.max_mb, lambda mb: PROFILES[config.guest_os].kernel_pages(mb) / PAGES_PER_MB,
                            (self.config.total_pages - self.overhead_pages - config.overhead_pages) / PAGES_PER_MB)
        driver = make(workload if workload is not None else Idle())
        try:
            vm = VM(self._env(), self._next_uid, config, driver)
        except Exception:              # its attach (or its pages, its contents) refused: it never ran
            self._refused(driver)
            raise
        free = self.machine.free
        try:
            self._make_free(config.overhead_pages)
        except Stall as e:             # (its uid not spent: the next VM's streams are as if this call never was)
            self._refused(vm.workload)
            made = self.machine.free - free
            raise AdmissionError(f"cannot power on {config.name!r}: no machine memory for its "
                                 f"{config.overhead_mb:g} MB of overhead right now ({e})" +
                                 (f"; paging freed {made / PAGES_PER_MB:.1f} MB before it ran short, which stays "
                                  "free (the decision log has the page-outs)" if made > 0 else "") + ".") from None
        self._next_uid += 1
        vm.overhead_mpns = self.machine.alloc(config.overhead_pages, OVERHEAD)
        if self.config.swap_pages is None:        # its own swap file of max − min (later ESX)
            self.swapfile.resize(config.max_pages - config.min_pages)
        self.vms[config.name] = vm
        try:
            vm.guest.boot()
        except Stall as e:
            self.power_off(config.name)
            self._refused(vm.workload)
            raise AdmissionError(f"cannot power on {config.name!r}: no machine memory or swap for its kernel "
                                 f"right now ({e}).") from None
        self._changed(f"{config.name} powered on")
        return vm

    @staticmethod
    def _refused(workload: Workload) -> None:
        """``workload``'s VM was refused power-on (its attach refused, or no machine memory or swap right now): it
        never ran, so it is handed back for another try (:func:`~esxlab.workloads.make` refuses an instance that
        has driven a VM, known by the stream its ``attach`` was given)."""
        workload.rng = None

    def power_off(self, name: str) -> None:
        """Stop a VM and free everything it held: machine pages, shared mappings, swap slots. The
        :class:`~esxlab.vm.VM` object ``power_on`` returned then holds nothing and refuses ``stats()``
        with a sentence; its history stays in :attr:`trace`."""
        vm = self.vm(name)
        vm.retire(self.time)
        self.remap.forget(vm)
        self.machine.release(vm.overhead_mpns)
        if self.config.swap_pages is None:
            self.swapfile.resize(-(vm.config.max_pages - vm.config.min_pages))
        del self.vms[name]
        self._log_from[name] = len(self.recorder.decisions)     # a VM given this name later is another VM
        self.sharing.forget(vm)                  # after: with no VM left, the table's memory goes too
        self._changed(f"{name} powered off")

    def vm(self, name: str) -> VM:
        """The running VM named ``name``; ConfigError (naming the running VMs) if there is none."""
        if not isinstance(name, str):
            raise ConfigError(f"VM name must be a string, got {shorten(name)}; running: "
                              f"{', '.join(map(repr, self.vms)) or 'none'}.")
        try:
            return self.vms[name]
        except KeyError:
            raise ConfigError(f"no VM named {name!r} is running; running: "
                              f"{', '.join(map(repr, self.vms)) or 'none'}.") from None

    # -- parameters that change mid-run ----------------------------------------------------------
    # Each setter replaces the configuration it changes (``host.config`` or the VM's ``config``),
    # the one place the running value is read from; ``replace`` validates it again.
    @property
    def tax_rate(self) -> float:
        """The idle memory tax τ now (``config.tax_rate``, changed by :meth:`set_tax_rate`)."""
        return self.config.tax_rate

    def set_tax_rate(self, tax_rate: float) -> None:
        """Change the idle memory tax τ (one global rate, §5.2 footnote 5)."""
        self.config = _replaced(self.config, "host.set_tax_rate(tax_rate)", tax_rate=tax_rate)
        self._changed(f"tax rate set to {_tau(tax_rate)}")

    def set_shares(self, name: str, shares: float) -> None:
        """Change a VM's shares (§6.1; None: the default, ``shares_per_mb`` × max); its target
        follows at the next reallocation."""
        vm = self.vm(name)
        vm.config = _replaced(vm.config, f"host.set_shares({name!r}, shares)", shares=shares)
        self._changed(f"{name} shares set to {vm.shares:g}")

    def set_min(self, name: str, min_mb: float) -> None:
        """Change a VM's min (admission control re-checks the reservation; with per-VM swap files,
        AdmissionError if its pages in swap would not fit the smaller file of max − min)."""
        vm = self.vm(name)
        new = _replaced(vm.config, f"host.set_min({name!r}, min_mb)", min_mb=min_mb)
        admit(new, [v.config for v in self.vms.values() if v is not vm], self.config.total_pages,
              self.config.swap_pages, self.states.goal, action="change the min (its memory reservation) of")
        if self.config.swap_pages is None:
            room = new.max_pages - new.min_pages           # its swap file: max − min (later ESX)
            if vm.swapped_pages > room:
                mb = 1 / PAGES_PER_MB
                raise AdmissionError(
                    f"cannot change the min of {name!r} to {min_mb:g} MB: {vm.swapped_pages * mb:.1f} MB of its memory "
                    f"is in its swap file, which would shrink to max − min = {room * mb:.1f} MB; allowed now: a min "
                    f"of at most {math.floor((new.max_pages - vm.swapped_pages) * mb * 10) / 10:.1f} MB, or a higher "
                    "one once fewer of its pages are swapped out.")
            self.swapfile.resize(vm.config.min_pages - new.min_pages)
        vm.config = new
        self._changed(f"{name} min set to {min_mb:g} MB")

    def set_limit(self, name: str, limit_mb: float | None) -> None:
        """Change a VM's limit (later ESX: vSphere changes a running VM's memory limit; None lifts
        it). A VM now above its limit is reclaimed by the soft rule at once, whatever free memory
        there is; its compression cache may stay above the new cap until its pages leave it."""
        vm = self.vm(name)
        vm.config = _replaced(vm.config, f"host.set_limit({name!r}, limit_mb)", limit_mb=limit_mb)
        self._changed(f"{name} limit set to {'none' if limit_mb is None else f'{limit_mb:g} MB'}")

    def set_balloon(self, name: str, mode: str) -> None:
        """Switch a VM's balloon driver mode (e.g. disable it, or make it lie)."""
        vm = self.vm(name)
        vm.config = _replaced(vm.config, f"host.set_balloon({name!r}, mode)", "mode", balloon=mode)
        changed = mode != vm.balloon.mode
        # pop (with the old mode) when the driver goes away or starts/stops lying: a lying
        # driver's pages are in the guest's hands, a truthful one's are pinned
        if vm.balloon.size and (mode in ("absent", "disabled") or (vm.balloon.mode == "lying") != (mode == "lying")):
            vm.balloon.pop(vm)
        vm.balloon.mode = mode
        if changed:                           # a new driver: past stalls and lies are forgotten
            vm.balloon.trust()
        self._changed(f"{name} balloon driver {mode}")

    def _changed(self, why: str) -> None:
        self._realloc_due = True
        if why not in self._whys:
            self._whys.append(why)

    def _why(self) -> str:
        """Every change since the targets were last computed (the decision log's reason for them)."""
        w = self._whys or ["start"]
        return "; ".join(w) if len(w) <= 3 else f"{'; '.join(w[:2])} and {len(w) - 2} more changes"

    # -- the policy -------------------------------------------------------------------------------
    @property
    def overhead_pages(self) -> int:
        """Machine pages the running VMs' overhead holds (§6.2)."""
        return sum(len(v.overhead_mpns) for v in self.vms.values())

    def available_pages(self) -> int:
        """Pages the targets may hand out: machine memory less overhead, the page-sharing table and
        the free-memory goal (above the high threshold, §6.3), **plus** the pages sharing saves —
        a shared page counts in the allocation of every VM that maps it (§4.3), so allocations may
        sum to more than machine memory (Figure 8). Never less than zero."""
        return max(0, int(self.config.total_pages - self.overhead_pages - self.sharing.table_pages
                          - self.states.goal + self.sharing.saved_pages))

    def recompute_targets(self, why: str) -> None:
        """Min-funding revocation (§5.1–5.2); logs each VM's ρ *before* the change, at its allocation
        now, where its target moved by a MB or more (periodic drift of less than 4 MB since the last
        logged target is not logged). Revocation takes first from the lowest ρ, which the log names;
        the new targets equalize ρ at the targets, so a VM whose target falls may show a higher ρ now
        than one whose target rises (their allocations lag their targets). A VM's active estimate counts up to
        its limit (later ESX; :attr:`.VM.counted_active_pages`), so the ρ logged is the one revocation prices it at."""
        vms = list(self.vms.values())
        if not vms:
            return
        hi = np.array([v.config.limit_pages for v in vms], dtype=float)     # max, or the limit if lower
        active = np.array([v.counted_active_pages for v in vms], dtype=float)
        rhos = {v.name: v.rho(self.tax_rate) for v in vms}
        targets = revoke(np.array([v.shares for v in vms], dtype=float),
                         np.array([v.config.min_pages for v in vms], dtype=float), hi, active,
                         self.available_pages(), self.tax_rate)
        cheapest = min(rhos, key=rhos.get)
        periodic = why == "periodic reallocation"
        for v, t, a in zip(vms, targets, active):
            v.target = int(t)
            delta = v.target - self._logged_target.get(v.uid, v.pages)
            if abs(delta) < (4 if periodic else 1) * PAGES_PER_MB:
                continue
            self._logged_target[v.uid] = v.target
            price = f"ρ = {rhos[v.name]:.4g} shares/page"
            because = f"lowest {price}" if v.name == cheapest and delta < 0 else price
            if v.target == v.config.limit_pages < v.pages:
                because = f"its limit of {v.config.limit_mb:g} MB caps it (later ESX); {because}"
            counted = f"active {a / PAGES_PER_MB:.0f} MB" + (
                f", its limit (estimate {v.active_pages / PAGES_PER_MB:.0f} MB)" if a < v.active_pages else "")
            self._log(v.name, "target " + ("down" if delta < 0 else "up"), abs(delta),
                      f"{why}; {because} (alloc {v.alloc_pages / PAGES_PER_MB:.0f} MB, {counted}, "
                      f"τ = {_tau(self.tax_rate)})")

    def note(self, vm: str, action: str, pages: int, why: str) -> None:
        """Add an experimenter's action on VM ``vm`` to the decision log (e.g. Figure 2's balloon held
        by the experiment), so the log says what moved memory when the host's policy did not.
        ``vm``: a running VM's name ("" for the host); ``pages``: a whole number ≥ 0. ConfigError otherwise."""
        if vm != "":
            self.vm(vm)                                    # ConfigError naming the running VMs
        for name, text in (("action", action), ("why", why)):
            if not isinstance(text, str) or not text:
                raise ConfigError(f"note.{name} = {shorten(text)} is not allowed; allowed: a non-empty string.")
        check_number("note", "pages", pages, 0, None, integer=True)
        self._log(vm, action, int(pages), why)

    def _log(self, vm: str, action: str, pages: int, why: str) -> None:
        """Append a decision; the same decision again within two seconds (the same VM, action and
        reason, among the last entries, and not of a VM of that name since powered off) extends that entry, its pages
        summed, instead."""
        log = self.recorder.decisions
        for i in range(len(log) - 1, max(-1, len(log) - 13, self._log_from.get(vm, 0) - 1), -1):
            last = log[i]
            if (last.until or last.tick) < self.time - 2:
                continue                          # (a stale entry of another decision does not end the search)
            if (last.vm, last.action, last.why) == (vm, action, why) and vm:
                log[i] = dataclasses.replace(last, pages=last.pages + int(pages),
                                             until=self.time if self.time > last.tick else last.until)
                return
        log.append(Decision(self.time, vm, action, int(pages), why))

    # -- time ---------------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one simulated second (see the module docstring for the order). An error raised within the tick
        (a workload's or a replacement policy's of one's own) stops the host: it is re-raised, and every later
        step raises :class:`~esxlab.errors.HostStopped` (the tick is half done: a later run would leave it out
        of the trace)."""
        if self._stopped:
            raise HostStopped(f"this host stopped in the middle of the tick at t = {self.time} s ({self._stopped}), "
                              "so it cannot run on: some VMs stepped in that tick and others did not. Build a new "
                              "Host (its trace so far stays readable: host.trace).")
        _context.ticks = getattr(_context, "ticks", 0) + 1
        try:
            self._tick()
        except BaseException as e:          # (an interrupt inside a tick too: run() defers Ctrl-C to between ticks)
            self._stopped = f"{type(e).__name__}: {first_line(str(e), 200)}"
            raise

    def _tick(self) -> None:
        self.clock.t += 1
        if self._realloc_due or self.time % int(self.config.realloc_period_s) == 0:
            self.recompute_targets(self._why() if self._realloc_due else "periodic reallocation")
            self._realloc_due = False
            self._whys = []
        for vm in self.vms.values():
            vm.counters = Counters()
        self.reclaimer.tick(self.vms.values())
        for vm in self.vms.values():
            vm.step()
        self.sharing.step()
        self.remap.step()
        for vm in self.vms.values():      # the tick's events, including those caused by VMs that ran later
            vm.totals.add(vm.counters)
        if self.reclaimer.judge():
            self._changed(f"state {self.states.name}")
        self._record()

    def run(self, minutes: float | None = None, seconds: float | None = None,
            progress: bool | None = None) -> Trace:
        """Run for ``minutes`` (or ``seconds``, a whole number of ticks) and return the trace of the
        whole history. ``progress`` keeps a line on stderr, updated each simulated minute: minutes
        done, simulated minutes per wall second and the wall time left (None: once the run has
        taken :data:`PROGRESS_AFTER_S` seconds of wall time, so only long work shows it, and never
        while a dashboard watches the run or a runner shows its own bar: see :func:`watching`,
        :func:`quietly`). Ctrl-C stops the run between two ticks, leaving a
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
        watch = getattr(_context, "callback", None)
        show = check_choice("run", "progress", progress, (True, False, None)) if progress is not None else \
            False if watch is not None or getattr(_context, "quiet", None) else None    # they show their own
        with deferred_interrupt() as interrupted, _progress_line(ticks, show) as minute_done:
            for i in range(ticks):
                self.step()
                if watch is not None:
                    watch(self)
                if interrupted.is_set():
                    raise KeyboardInterrupt(f"run() interrupted at t = {self.time} s after {i + 1} of {ticks} ticks; "
                                            "the host is consistent and can run on")
                if (i + 1) % 60 == 0:
                    minute_done()
        return self.trace

    @property
    def trace(self) -> Trace:
        """Everything recorded since the host was built, one row per tick (:class:`~esxlab.trace.Trace`): a
        snapshot, which the host running on leaves as it was: read ``host.trace`` again after running on (what
        :meth:`run` returns is the same, the whole history up to the run's end)."""
        return self.recorder.trace()

    def _record(self) -> None:
        self.recorder.record(self.time, self._row(), tuple(self.vms), [v.trace_values() for v in self.vms.values()])

    # -- statistics --------------------------------------------------------------------------------
    def _row(self) -> dict[str, float]:
        """This tick's host metrics for the trace (:mod:`esxlab.metrics`), memory in MB, state as its index."""
        mb = 1.0 / PAGES_PER_MB
        return dict(free=self.machine.free * mb, state=self.states.state, shared_saved=self.sharing.saved_pages * mb,
                    zero_shared=self.sharing.zero_pages * mb, overhead=self.overhead_pages * mb,
                    sharing_table=self.sharing.table_pages * mb,
                    swap_used=self.swapfile.used * mb, compression_saved=self.compression.saved_pages * mb,
                    large_pages_broken=sum(v.large_broken for v in self.vms.values()),
                    bounce_copies=self.remap.last_bounces)

    def stats(self) -> HostStats:
        """The host's memory now, as plain values (:class:`~esxlab.metrics.HostStats`)."""
        return HostStats.of(self._row(), total=self.config.total_pages / PAGES_PER_MB, state=self.states.name)

    def vm_stats(self) -> dict[str, VMStats]:
        """Every running VM's memory now, name → :class:`~esxlab.metrics.VMStats` (MB), in power-on order."""
        return {name: v.stats() for name, v in self.vms.items()}


@contextlib.contextmanager
def _progress_line(ticks: int, show: bool | None) -> Iterator[Callable[[], None]]:
    """While open, :meth:`Host.run`'s line on stderr (tqdm's) of a run of ``ticks``: simulated minutes
    done, their rate per wall second and tqdm's estimate of the wall time left, e.g. ``simulated
    957/1000000 min at 191 min/s, 1:27:10 left``; yields what to call after each simulated minute.
    ``show``: True at once, None once the run has taken :data:`PROGRESS_AFTER_S`, False never (nor
    in a run under a minute, which would never update it: no tqdm is made, so that 3,000 one-second
    runs cost about what one long run does, ``benchmarks/bench_trace.py``). Invented: a run
    mistyped hours long says so."""
    if show is False or ticks < 60:
        yield lambda: None
        return
    from tqdm import tqdm            # here, so that `import esxlab` loads numpy alone (issue 2)
    with tqdm(total=ticks / 60, unit=" min", unit_scale=True, file=sys.stderr, delay=0 if show else PROGRESS_AFTER_S,
              bar_format="  simulated {n:.0f}/{total:.0f} min at {rate_noinv_fmt}, {remaining} left") as line:
        yield line.update


_context = threading.local()       # per thread: a dashboard's callback (watching), a runner's bar (quietly),
                                   # the ticks stepped (ticks_stepped)


@contextlib.contextmanager
def _setting(name: str, value: object) -> Iterator[None]:
    """``_context.<name> = value`` while open, then what it was."""
    before = getattr(_context, name, None)
    setattr(_context, name, value)
    try:
        yield
    finally:
        setattr(_context, name, before)


def watching(callback: Callable[[Host], None]) -> contextlib.AbstractContextManager[None]:
    """While open, every :meth:`Host.run` in this thread (and :func:`stepped`) calls ``callback(host)`` after each
    tick: a dashboard draws an experiment's run as it grows, and cuts it short by raising from
    the callback (between two ticks, so the host stays consistent). Invented (issue 12)."""
    return _setting("callback", callback)


def stepped(host: Host) -> None:
    """What :meth:`Host.run` does after each tick, for code that steps a host itself (Figure 6 reads the sampler
    each second): calls the :func:`watching` callback of this thread, if any, with ``host``, so that a dashboard
    counts the run's minutes and can cut it short. Invented."""
    watch = getattr(_context, "callback", None)
    if watch is not None:
        watch(host)


def ticks_stepped() -> int:
    """How many ticks :meth:`Host.step` has begun in this thread, on any host: a sweep tells a run that simulated
    none, its results kept from an earlier run in the process (:func:`esxlab.experiments.common.kept`). Invented."""
    return getattr(_context, "ticks", 0)


def quietly() -> contextlib.AbstractContextManager[None]:
    """While open, :meth:`Host.run` in this thread prints no progress line unless given
    ``progress=True``: the experiments' runner (``reproduce``, sweeps) shows a bar of its own and
    runs each task inside this, in whichever process or thread runs it."""
    return _setting("quiet", True)
