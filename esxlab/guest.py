"""The guest OS model (paper §3.1–3.2): what the hypervisor cannot see.

The guest manages its own "physical" pages (PPNs): a kernel sized by the configured max,
a free list, and the pages of its workload ("logical pages": anonymous memory and file
cache). When it runs short it replaces its own cold pages with a clock (an LRU
approximation) and pages dirty ones out to its virtual disk. The balloon driver allocates
pages through this same path, which is what makes ballooning work: the guest, not the
hypervisor, decides what to give up.

Invented, kept simple and documented: the kernel footprint (a fixed part plus a part
proportional to max, the reason for Figure 2's ballooning overhead), the OS background
activity, Windows' boot-time zeroing and zero page thread (§5.4), and unit disk costs. Windows'
zeroing outlasts its boot by 15 s, so the balloon driver, which loads at the end of the boot,
takes part of the boot storm (fitted to Figure 8: 325 MB of zero pages shared and 35 MB paged
at boot, the rest ballooned).

Calibrated values (``PROFILES``, invented): Linux's ``kernel_per_mb`` = 0.1 MB of kernel data
per MB of max gives Figure 2's balloon overhead (5.3 / 3.7 / 2.5 / 1.4 % at 128 / 160 / 192 /
224 MB with Figure 2's dbench, paper 4.4 / 1.7 / 2.2 / 1.4 %; 0.03 gave a third to a half of it); Windows' ``background_mb`` = 8 MB gives
Figure 7's idle VM estimate (paper mean 9.7 MB; the sampler's max-of-three EWMAs adds ≈ 2 MB);
its zero page thread (8 MB/s) gives Figure 6's spike with the toucher's exit behaviour
(:class:`~esxlab.workloads.Toucher`). Windows keeps ``free_target_pct`` = 10 % of its memory free
(its working-set trimmer; Linux's kswapd watermarks are the same idea, left at 0 here): under a
balloon it evicts its coldest pages to refill its free list, its zero page thread zeroes them and
page sharing reclaims them, so a ballooned Windows guest holds ≈ 10 % of its memory as shared zero
pages. Fitted to Figure 8 (the paper's ≈ 200 MB saved by sharing while the benchmarks run; on the mean of
seeds 0–3, 10 % gives 178 MB, 8 % gave 143 MB with the aggregate balloon outside its tolerance and 12 % 216 MB
with a SQL Server idling 13 MB above the paper's, its long query outside its tolerance in one seed of four).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .arrays import Stack, lazy_zeros
from .config import PAGES_PER_MB
from .content import image_tokens
from .errors import check_number

FREE, KERNEL, BALLOON = -1, -2, -3   # ppn_lp values for PPNs that hold no logical page


@dataclass(frozen=True)
class GuestProfile:
    """What distinguishes guest OSes in this model (all sizes invented, see module doc)."""

    name: str
    kernel_base_mb: float        # fixed kernel footprint
    kernel_per_mb: float         # kernel data per MB of configured max (page structs, hash tables)
    image_mb: float              # OS code and read-only data: identical in VMs of the same OS/version
    background_mb: float         # memory the OS itself keeps touching (daemons, services)
    background_sweep_s: float    # seconds to touch all of it once
    zero_page_thread_mb_s: float  # Windows zero page thread rate (0: no such thread, as in Linux)
    boot_zero: bool              # Windows zeroes all "physical" memory while booting (§6.3, Fig. 8)
    boot_s: float                # boot time; the balloon driver loads at its end (§3.2)
    boot_zero_s: float = 0       # how long the boot-time zeroing takes (0: the boot time)
    free_target_pct: float = 0   # memory the OS keeps free for new allocations, % of its memory

    @property
    def zero_s(self) -> float:
        """Seconds the boot-time zeroing of "physical" memory lasts (§6.3, Fig. 8)."""
        return self.boot_zero_s or self.boot_s

    def kernel_pages(self, max_mb: float) -> int:
        """Kernel pages of a guest configured with ``max_mb`` (MB, ≥ 0; at most half its memory).
        ConfigError for a value that is not a size."""
        check_number("GuestProfile.kernel_pages", "max_mb", max_mb, 0, None)
        pages = int(round(max_mb * PAGES_PER_MB))
        return min(int(round((self.kernel_base_mb + self.kernel_per_mb * max_mb) * PAGES_PER_MB)), pages // 2)

    def free_target(self, max_mb: float) -> int:
        """Pages the OS's page daemon keeps free (on its free and standby lists)."""
        return int(self.free_target_pct / 100 * max_mb * PAGES_PER_MB)

    def image_pages(self, max_mb: float) -> int:
        """The shareable OS-image part of the kernel pages."""
        return min(int(self.image_mb * PAGES_PER_MB), self.kernel_pages(max_mb))


PROFILES = {
    "linux": GuestProfile("linux", kernel_base_mb=5, kernel_per_mb=0.1, image_mb=3,
                          background_mb=2, background_sweep_s=10, zero_page_thread_mb_s=0,
                          boot_zero=False, boot_s=20),
    "windows": GuestProfile("windows", kernel_base_mb=20, kernel_per_mb=0.02, image_mb=12,
                            background_mb=8, background_sweep_s=10, zero_page_thread_mb_s=8,
                            boot_zero=True, boot_s=60, boot_zero_s=75, free_target_pct=10),
}


class Guest:
    """One guest OS instance; ``vm`` is its hypervisor-side half (reads/writes PPNs)."""

    def __init__(self, vm, profile: GuestProfile, workload_pages: int, file_tokens: np.ndarray | None) -> None:
        self.vm = vm
        self.profile = profile
        pages = vm.pages
        self.kernel_pages = profile.kernel_pages(vm.config.max_mb)
        self.image_pages = profile.image_pages(vm.config.max_mb)
        self.free_target = profile.free_target(vm.config.max_mb)
        n = int(workload_pages)
        # per PPN, the smallest dtype that holds a logical page number (gathered values used as
        # indices are cast to intp, numpy's fast indexing path)
        self.ppn_lp = np.full(pages, FREE, dtype=np.int32 if n < 2 ** 31 else np.int64)
        self.ppn_lp[:self.kernel_pages] = KERNEL
        self.ref = lazy_zeros(pages + 1, bool)             # + a sentinel that a miss's −1 may mark
        self.free = Stack.run(pages, self.kernel_pages, pages, dtype=np.int32)
        self.standby = Stack(pages, dtype=np.int32)        # freed, not yet zeroed (Windows' zero page thread)
        self.hand = 0
        self.passed = 0                                    # pages the hand has passed, ever
        self._passed_per_evict = 4.0                       # sizes the clock's windows (speed only)
        # logical pages of the workload
        self.lp_ppn = np.full(n, -1, dtype=np.intp)
        self.resident = 0                                   # logical pages with a PPN: count(lp_ppn >= 0)
        self.lp_dirty = lazy_zeros(n, bool)
        self.lp_disk = lazy_zeros(n, np.uint64) if file_tokens is None else file_tokens.astype(np.uint64)
        self.lp_on_disk = lazy_zeros(n, bool) if file_tokens is None else np.ones(n, dtype=bool)
        self.background_pages = min(int(profile.background_mb * PAGES_PER_MB), self.kernel_pages)
        self._bg_per_tick = max(1, math.ceil(self.background_pages / profile.background_sweep_s))
        self._bg_cursor = 0
        self._boot_cursor = self.kernel_pages

    # -- boot ----------------------------------------------------------------------------
    def boot(self) -> None:
        """Load the kernel: OS image pages (shareable across VMs) and private kernel data."""
        vm = self.vm
        image = f"{self.profile.name}-{vm.config.os_version}"
        k, i = self.kernel_pages, self.image_pages
        tokens = np.concatenate([image_tokens(image, np.arange(i)), vm.mint.take(k - i)])
        lo = 0
        while lo < k:      # a megabyte at a time: a VM short of memory pages its own kernel (§3.3)
            hi = min(k, lo + PAGES_PER_MB)
            vm._write(np.arange(lo, hi), tokens[lo:hi])
            lo = hi

    def boot_zero_step(self) -> None:
        """Windows zeroes all of "physical" memory while it boots (§6.3, Fig. 8)."""
        if not self.profile.boot_zero or self._boot_cursor >= self.vm.pages:
            return
        rate = int(np.ceil((self.vm.pages - self.kernel_pages) / self.profile.zero_s))
        stop = min(self.vm.pages, self._boot_cursor + rate)
        ppns = np.arange(self._boot_cursor, stop)
        ppns = ppns[self.ppn_lp[ppns] == FREE]
        self.vm._write(ppns, np.zeros(len(ppns), dtype=np.uint64))
        self._boot_cursor = stop

    @property
    def freed(self) -> Stack:
        """Where freed pages go: the standby list, zeroed by Windows' zero page thread before
        reuse; the free list on an OS without one."""
        return self.standby if self.profile.zero_page_thread_mb_s else self.free

    # -- the OS's own activity -------------------------------------------------------------
    def background_step(self) -> None:
        """The OS touches its background set (the first kernel pages) in a sweep."""
        n = self.background_pages
        if n == 0:
            return
        start = self._bg_cursor
        stop = min(n, start + self._bg_per_tick)
        self._bg_cursor = stop % n
        self.vm.touch_range(start, stop)

    def keep_free_step(self) -> None:
        """The OS keeps memory free for new allocations (Windows' working-set trimming, Linux's
        kswapd watermarks): when its free and standby lists hold fewer than its free target, it
        evicts that many pages with its own replacement (the dirty ones to its virtual disk).
        Under a balloon this is how a guest turns the free pages the balloon took back into
        free memory, which Windows' zero page thread zeroes for page sharing (invented, fitted to Figure 8: §6.3)."""
        need = self.free_target - self.free.n - self.standby.n
        if need <= 0 or not self.resident:                # nothing of its own left to evict
            return
        taken: list[np.ndarray] = []
        try:
            self._evict(need, taken)
        finally:
            for ppns in taken:
                self.freed.push(ppns)

    def zero_page_thread_step(self) -> None:
        """Windows' zero page thread: zero freed pages and move them to the free list (§5.4)."""
        rate = int(self.profile.zero_page_thread_mb_s * PAGES_PER_MB)
        if rate == 0 or self.standby.n == 0:
            return
        ppns = self.standby.pop(rate)
        try:
            self.vm._write(ppns, np.zeros(len(ppns), dtype=np.uint64))
        except BaseException:
            self.standby.push(ppns)           # not zeroed after all: back on the standby list
            raise
        self.free.push(ppns)

    # -- the workload's accesses -------------------------------------------------------------
    def access(self, lps: np.ndarray, writes: np.ndarray) -> int:
        """Read ``lps`` (distinct logical pages), writing fresh data where ``writes`` is set.

        Non-resident pages are paged in first (zero-filled, or read from the virtual disk).
        Returns how many logical pages could not be made resident (the guest is out of memory).
        """
        if len(lps) == 0:                         # an idle tick costs nothing here
            return 0
        ppns = self.lp_ppn[lps]
        self.ref[ppns] = True                     # keep this batch away from the clock (a miss marks the sentinel)
        short = 0
        if ppns.min() < 0:
            miss = (ppns < 0).nonzero()[0]
            passed = self.passed
            got = self._page_in(lps[miss])
            short = len(miss) - len(got)
            twice = self.passed - passed > self.vm.pages  # the hand may have met a page of the batch twice
            if twice:                                     # and evicted it (its second chance spent)
                ppns = self.lp_ppn[lps]
            else:                                         # only the misses moved
                ppns[miss[:len(got)]] = got
            if short or twice:                            # short of pages, or part of the batch evicted
                ok = ppns >= 0
                lps, ppns, writes = lps[ok], ppns[ok], writes[ok]
        w = writes.nonzero()[0]
        n = len(w)
        if n == len(writes):                      # all written (a toucher's sweep): views, not gathers
            w = slice(None)
        self.vm.access(ppns, writes, w, self.vm.mint.take(n))
        self.lp_dirty[lps[w]] = True
        return short

    def _page_in(self, lps: np.ndarray) -> np.ndarray:
        """Give ``lps`` (non-resident) PPNs, in order, while there are any; returns those PPNs
        (fewer than ``lps`` when the guest is short of pages)."""
        ppns = self.take_pages(len(lps))
        lps = lps[:len(ppns)]
        on_disk = self.lp_on_disk[lps]
        contents = np.where(on_disk, self.lp_disk[lps], np.uint64(0))
        try:
            self.vm._write(ppns, contents)
        except BaseException:
            self.free.push(ppns)
            raise
        self.vm.counters.guest_disk_reads += int(np.count_nonzero(on_disk))
        self.lp_ppn[lps] = ppns
        self.resident += len(lps)
        self.ppn_lp[ppns] = lps
        self.lp_dirty[lps] = ~on_disk            # zero-filled anonymous memory has no disk copy yet
        self.ref[ppns] = True
        return ppns

    def free_lps(self, lps: np.ndarray) -> None:
        """The workload frees memory: its pages go to the standby (to-zero) or free list."""
        ppns = self.lp_ppn[lps]
        ppns = ppns[ppns >= 0]
        self.resident -= len(ppns)
        self.ppn_lp[ppns] = FREE
        self.ref[ppns] = False
        self.freed.push(ppns)
        self.lp_ppn[lps] = -1
        self.lp_on_disk[lps] = False
        self.lp_dirty[lps] = False

    # -- page replacement ----------------------------------------------------------------------
    def take_pages(self, n: int) -> np.ndarray:
        """``n`` PPNs for new use: free list, then standby, then the guest's own replacement.

        Exception-safe: if evicting raises (a :class:`~esxlab.vm.Stall` when a dirty page must
        first be swapped in and no machine memory is free), the pages already taken go back
        to their lists (evicted ones to the free list) before the exception propagates."""
        free = self.free.pop(n)
        standby = self.standby.pop(n - len(free))
        evicted: list[np.ndarray] = []
        need = n - len(free) - len(standby)
        try:
            if need:
                self._evict(need, evicted)
        except BaseException:
            self.free.push(free)
            self.standby.push(standby)
            for ppns in evicted:
                self.free.push(ppns)
            raise
        parts = [p for p in (free, standby, *evicted) if len(p)]
        return parts[0] if len(parts) == 1 else np.concatenate([free, standby, *evicted])

    def _evict(self, n: int, taken: list[np.ndarray]) -> None:
        """Clock replacement: skip and clear referenced pages, evict unreferenced ones, appending
        each evicted (now free) set of PPNs to ``taken`` as soon as it is written back.

        Dirty pages are written to the virtual disk first; reading one that the hypervisor
        had swapped out faults it back in only to write it out again: double paging (§3.1).

        The hand sweeps windows up to the end of memory, where it wraps, and stops after two
        rounds of memory (fewer evictable pages than ``n``). A window is sized by the pages the
        hand passed per page evicted last time (at least 512 pages), so one window usually does;
        the window sizes change no result. The windows of one sweep are written back together
        when reading their dirty pages faults nothing in, else one by one, each before the next
        (faults then happen in the same order and sizes whichever way, and a
        :class:`~esxlab.vm.Stall` leaves the windows before it evicted and the hand after them).
        """
        pages = self.vm.pages
        need, scanned = n, 0
        while need > 0 and scanned < 2 * pages:
            windows, lo = [], self.hand           # one sweep: windows up to the end of memory
            while need > 0 and scanned < 2 * pages and lo < pages:
                hi = min(pages, lo + max(int(need * self._passed_per_evict), 512), lo + 2 * pages - scanned)
                pos = ((self.ppn_lp[lo:hi] >= 0) > self.ref[lo:hi]).nonzero()[0][:need]    # in use, unreferenced
                span = int(pos[-1]) + 1 if len(pos) == need else hi - lo
                windows.append((lo, lo + pos, span))
                need -= len(pos)
                scanned += span
                lo += span
            ppns = np.concatenate([w[1] for w in windows]) if len(windows) > 1 else windows[0][1]
            lps = self.ppn_lp[ppns].astype(np.intp)
            dirty = self.lp_dirty[lps].nonzero()[0]
            dirty_ppns = ppns[dirty]
            if not self.vm.mapped(dirty_ppns):    # writing back faults a page in: window by window
                for lo, pos, span in windows:
                    self._write_back(pos)         # may raise before changing anything
                    self._commit_sweep(lo, lo + span, pos, taken)
            else:
                self._write_back(ppns, lps, dirty, mapped_dirty=dirty_ppns)
                self._commit_sweep(self.hand, lo, ppns, taken)
        self._passed_per_evict = 1.25 * scanned / max(1, n - need) + 1    # a margin: the next window rarely falls short

    def _commit_sweep(self, lo: int, hi: int, evicted: np.ndarray, taken: list[np.ndarray]) -> None:
        """The hand passed [lo, hi) having evicted ``evicted``: second chance for the referenced
        pages passed (only pages in use are ever referenced: the others are free, the balloon's,
        or just evicted, and a page leaves use unreferenced)."""
        taken.append(evicted)
        self.ref[lo:hi] = False
        self.hand = hi % self.vm.pages
        self.passed += hi - lo

    def _write_back(self, ppns: np.ndarray, lps: np.ndarray | None = None, dirty: np.ndarray | None = None,
                    mapped_dirty: np.ndarray | None = None) -> None:
        """Write the dirty ones of ``ppns`` (evictable, so unreferenced) to the virtual disk and free them
        all. If known, ``lps`` are their logical pages and ``dirty`` the positions of the dirty ones;
        ``mapped_dirty``, if given, are the dirty PPNs, which the caller checked are all mapped (reading them
        faults nothing in)."""
        if lps is None:
            lps = self.ppn_lp[ppns].astype(np.intp)
            dirty = self.lp_dirty[lps].nonzero()[0]
        if len(dirty):
            vm = self.vm
            before = vm.counters.swap_ins
            self.lp_disk[lps[dirty]] = vm._read(ppns[dirty]) if mapped_dirty is None else \
                vm._read(mapped_dirty, mapped=True)
            vm.counters.double_paging += vm.counters.swap_ins - before
            vm.counters.guest_disk_writes += len(dirty)
        self.lp_on_disk[lps] = True
        self.lp_dirty[lps] = False
        self.lp_ppn[lps] = -1
        self.resident -= len(lps)
        self.ppn_lp[ppns] = FREE

    # -- the balloon's view ------------------------------------------------------------------
    def balloon_take(self, n: int) -> tuple[np.ndarray, bool]:
        """Pin ``n`` pages for the balloon driver; also says whether the guest had to page."""
        easy = self.free.n + self.standby.n
        ppns = self.take_pages(n)
        self.ppn_lp[ppns] = BALLOON
        return ppns, n > easy

    def balloon_give(self, ppns: np.ndarray) -> None:
        """The balloon deflates: its pages return to the guest as freed pages (Windows zeroes
        them with its zero page thread before reuse, as any freed page; others: the free list)."""
        self.ppn_lp[ppns] = FREE
        self.freed.push(ppns)

    # -- inspection (tests, views) -----------------------------------------------------------
    def free_pages(self) -> int:
        """Pages on the guest's free and standby lists (§3.1)."""
        return self.free.n + self.standby.n

