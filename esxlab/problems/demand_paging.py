"""Exercise ``demand_paging``: what the hypervisor's random page-out costs once the guest pages
too — swap-ins and double paging (paper §3.3)."""
from __future__ import annotations

import math
from dataclasses import replace

from .. import checks
from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB, HostConfig, SharingConfig, VMConfig
from ..guest import PROFILES
from ..host import Host
from ..workloads import Grow
from .base import Hidden, Problem, paired, pick, swapped, unit_mistakes


class DoublePaging(Problem):
    """ESX pages out ``swap_mb`` of a VM's private pages at random (§3.3); the next second the
    guest, short of free pages, pages some of its own dirty pages out to its virtual disk, and
    reading a page the host had swapped swaps it in only to write it out: double paging. The
    answers are the expected counts of that second: each page the model reads then (the guest's
    page-outs and its kernel's background pages) is in host swap with probability swap / backed
    pages, as the model's random victims make it. The model's own counts vary around them (a seed
    is used only if its counts lie within ``SPREAD`` standard deviations), so the checker grades
    the expected values, to ``TOL_PAGES``: enough for rounding, not for leaving out the kernel's
    background pages (≥ 8 pages in every draw)."""

    ANSWER_NAMES = ("swap_ins", "double_paged", "lru_double_paging")
    _runs = Hidden()                            # each policy's run: its counts are the answers

    GROW_AT_S = 40
    CHOICES = ("more", "about the same", "less")

    def _draw(self, rng):
        self.max_mb = pick(rng, (64, 80, 96))
        self.base_mb = pick(rng, (32, 36, 40, 44, 48, 56))
        self.grow_mb = pick(rng, (16, 20, 24, 28))
        self.swap_mb = pick(rng, (16, 20, 24, 28, 32))
        self._runs = {}

    def _run(self, policy: str) -> dict:
        """The VM's private and guest-free pages before the page-out, and the swap-ins and
        double-paged pages of the second after it, under replacement ``policy``."""
        if policy not in self._runs:
            host = Host(HostConfig(memory_mb=2 * self.max_mb, sharing=SharingConfig(mode="off"), replacement=policy),
                        seed=self.seed)
            vm = host.power_on(VMConfig(name="app", max_mb=self.max_mb, overhead_mb=4, balloon="absent"),
                               workload=Grow(self.base_mb, self.grow_mb, self.GROW_AT_S))
            while vm.vm_time < self.GROW_AT_S - 1:
                host.step()
            private, free = int(round(vm.stats().private * PAGES_PER_MB)), vm.guest.free_pages()
            host.swapper.swap_out(vm, self.swap_mb * PAGES_PER_MB)
            before = (vm.totals.swap_ins, vm.totals.double_paging)
            host.step()
            self._runs[policy] = dict(private=private, free=free, swap_ins=vm.totals.swap_ins - before[0],
                                      double_paged=vm.totals.double_paging - before[1])
        return self._runs[policy]

    @property
    def private_pages(self) -> int:
        """The VM's private (backed) pages when the host pages it out."""
        return self._run("random")["private"]

    @property
    def guest_free_pages(self) -> int:
        """The guest's free pages just before its process grows."""
        return self._run("random")["free"]

    @property
    def background_pages_s(self) -> int:
        """Kernel pages the Linux guest touches each second (its background sweep)."""
        p = PROFILES["linux"]
        return math.ceil(p.background_mb * PAGES_PER_MB / p.background_sweep_s)

    def _mean(self, evicted: int, pages: int) -> tuple[float, float]:
        """(swap-ins, double-paged) expected when a random ``swap_mb`` of ``pages`` are in host swap."""
        s = self.swap_mb * PAGES_PER_MB / pages
        return (evicted + self.background_pages_s) * s, evicted * s

    @property
    def _evicted(self) -> int:
        """Pages the guest pages out: what its free pages cannot cover."""
        return self.grow_mb * PAGES_PER_MB - self.guest_free_pages

    SPREAD = 2.5          # the simulated counts lie within this many standard deviations of the expectation
    TOL_PAGES = 4         # invented: rounding s and the counts, well below the background's s × 52 pages

    def _interesting(self):
        """The guest pages out between 1 MB and half its data, the host less than half the VM, and an
        LRU-like host would reach the data pages (not only the guest kernel's cold pages). Then, so
        that the checker is fair both ways: the simulated counts lie within ``SPREAD`` standard
        deviations of the expected values (which the checker grades), and every typical mistake lies
        outside the tolerance (it fails, with its hint). The mistakes listed before the background one
        also lie beyond three standard deviations of the simulated counts (the tolerance until the
        checker graded expected values: the seeds keep their problems, and a mistake is never within
        the model's own spread)."""
        if not (PAGES_PER_MB <= self._evicted <= self.base_mb * PAGES_PER_MB // 2
                and self.swap_mb * PAGES_PER_MB < self.private_pages // 2):
            return False
        right = self._counts()
        if right["lru_double_paging"] != self.CHOICES[0]:
            return False
        mean = self._mean(self._evicted, self.private_pages)
        for count, want, n in ((right["swap_ins"], mean[0], self._evicted + self.background_pages_s),
                               (right["double_paged"], mean[1], self._evicted)):
            if abs(count - want) > self.SPREAD * self._sigma(n):
                return False
        for e, count, n in zip(self._expectations(), (right["swap_ins"], right["double_paged"]),
                               (self._evicted + self.background_pages_s, self._evicted)):
            if any(abs(m.value - count) <= self._tolerance(n) for m in e.mistakes if m.hint in self._SPREAD_CHECKED):
                return False
        return self._mistakes_apart()

    def describe(self) -> str:
        return (f"VM 'app' (Linux, max {self.max_mb} MB, no balloon driver, page sharing off) has written "
                f"{self.base_mb} MB of data once.\nIts guest has {self.guest_free_pages} free pages "
                f"(p.guest_free_pages); {self.private_pages} of its pages are backed by machine memory "
                "(p.private_pages),\nkernel included. ESX now pages out "
                f"{self.swap_mb} MB of them with its random replacement (p.swap_mb). In the next second the\n"
                f"process writes {self.grow_mb} MB of new data (p.grow_mb), and the guest OS touches its usual "
                f"{self.background_pages_s} kernel pages\n(p.background_pages_s). The guest pages out its own "
                "oldest pages (all dirty) to its virtual disk when its free\npages run out. How many pages does "
                "ESX swap in during that second (`swap_ins`), and how many of them are\ndouble paging "
                "(`double_paged`)? Give the expected numbers, in pages. Had ESX used an LRU-like clock instead\n"
                "of random replacement, would double paging have been 'more', 'about the same' or 'less'\n"
                "(`lru_double_paging`)?")

    def _solve(self):
        """The expected counts of the random victims (the model's state, averaged over its random
        choice), and the LRU comparison the model makes."""
        swap_ins, double_paged = self._mean(self._evicted, self.private_pages)
        return dict(swap_ins=swap_ins, double_paged=double_paged,
                    lru_double_paging=self._counts()["lru_double_paging"])

    def _counts(self):
        """The model's own counts in that second (one random draw), and random against clock."""
        run, clock = self._run("random"), self._run("clock")
        ratio = clock["double_paged"] / max(1, run["double_paged"])
        return dict(swap_ins=run["swap_ins"], double_paged=run["double_paged"],
                    lru_double_paging=self.CHOICES[0] if ratio > 1.25 else self.CHOICES[2] if ratio < 0.8 else
                    self.CHOICES[1])

    def _sigma(self, n: int) -> float:
        """The standard deviation of how many of ``n`` pages random victims put in host swap."""
        s = self.swap_mb * PAGES_PER_MB / self.private_pages
        return math.sqrt(n * s * (1 - s))

    def _tolerance(self, n: int) -> float:
        """Three standard deviations of the random victims among ``n`` pages (at least 3 pages)."""
        return float(max(3, math.ceil(3 * self._sigma(n))))

    GUEST_READS = ("the guest must read a page to write it to its virtual disk: a page the host had swapped is "
                   "swapped in first (double paging counts as swap-ins too).")
    FREE_FIRST = "the guest first uses its free pages; only what they cannot cover is paged out."
    AMONG = "ESX's random victims come from the VM's backed (private) pages, not from all of its memory."
    LRU = ("that many would be double-paged if ESX picked the same cold pages the guest does (an LRU-like host); "
           "random victims are spread over all backed pages.")
    _SPREAD_CHECKED = (GUEST_READS, FREE_FIRST, AMONG, LRU)
    # swap_ins = double_paged + (background pages)·s always, so swapped answers give `swap_ins` the value that
    # forgetting the background pages gives: `double_paged` tells them apart (Mistake.given)
    SWAPPED = ("the two answers look swapped: every double-paged page is a swap-in too, so `swap_ins` ≥ "
               "`double_paged`.")
    SWAPPED_TOTAL = ("that looks like all the swap-ins of that second (`swap_ins`); double paging counts only the "
                     "pages the guest reads to page them out, not its kernel's background pages.")

    EARLY = ("that looks like the answer worked out with s = swap / backed pages cut or rounded to {places}: each of "
             "the pages read multiplies that error; keep s unrounded and round only the answer.")

    WHOLE_MB = ("that looks like the answer worked out with the backed memory (p.private_pages) cut or rounded to "
                "whole MB: each of the pages read multiplies that error; work out s = swap / backed pages from the "
                "unrounded numbers (in pages, or in MB to a decimal place or two) and round only the answer.")

    def _early(self, e: Expect, n: int) -> Expect:
        """``e`` with a mistake per early rounding of s (the chance that a backed page is in host swap):
        s cut or rounded to 1 or 2 decimal places, or worked out with the backed memory cut or rounded to whole MB
        (the trial of session 49: 55 MB for 55.4), times the ``n`` pages read that second, where that lies outside
        the tolerance of the right answer and of ``e``'s other mistakes (an earlier rounding's first). (invented:
        an answer from s rounded early, e.g. to 0.4, got only the general hint)"""
        s = self.swap_mb * PAGES_PER_MB / self.private_pages
        places: dict[float, set[int]] = {}
        for p in (1, 2):
            for whole in (math.floor(s * 10 ** p + 1e-9), math.floor(s * 10 ** p + 0.5)):    # cut, rounded
                places.setdefault(whole / 10 ** p, set()).add(p)
        ratios = [(r, self.EARLY.format(places=checks._places_text(sorted(ps)))) for r, ps in places.items()]
        backed_mb = self.private_pages / PAGES_PER_MB
        ratios += [(self.swap_mb / mb, self.WHOLE_MB) for mb in sorted({math.floor(backed_mb), round(backed_mb)})
                   if mb > 0]
        early: list[Mistake] = []
        for r, hint in ratios:
            if any(checks._close(e, n * r, v) for v in (e.value, *(m.value for m in e.mistakes))):
                continue
            alike = [i for i, m in enumerate(early) if checks._close(e, n * r, m.value)]
            if not alike:
                early.append(Mistake(n * r, hint))
            elif hint not in early[alike[0]].hint:          # both roundings give it: both are told
                early[alike[0]] = replace(early[alike[0]], hint=early[alike[0]].hint + checks.ALSO + hint)
        return replace(e, mistakes=e.mistakes + tuple(early))

    def _expect(self):
        right = self._solve()
        want = right["swap_ins"], right["double_paged"]             # expected: the model's mean
        grown = self.grow_mb * PAGES_PER_MB
        all_pages = self.max_mb * PAGES_PER_MB
        no_free = self._mean(grown, self.private_pages)
        by_max = self._mean(self._evicted, all_pages)
        free_first = [Mistake(n, self.FREE_FIRST) for n in no_free]    # (each count's, and with the other: paired)
        among = [Mistake(n, self.AMONG) for n in by_max]
        lru = self._run("clock")["double_paged"]
        swapped_in, swapped_double = swapped("swap_ins", want[0], "double_paged", want[1], self.SWAPPED)
        expected = [
            Expect("swap_ins", "number", want[0], unit="pages", tol=self.TOL_PAGES, nonnegative=True,
                   hint="every page touched that second — the kernel's and those the guest reads to page them "
                        "out — is in host swap with the same probability.",
                   mistakes=(Mistake(self._mean(0, self.private_pages)[0], self.GUEST_READS),
                             free_first[0], among[0],
                             *swapped_in,                                                     # or the next
                             Mistake(want[1], f"the guest's kernel also touches its {self.background_pages_s} "
                                              "background pages that second (p.background_pages_s), and each is in "
                                              "host swap with the same probability: they are swap-ins too."),
                             *unit_mistakes(want[0], "pages", "MB"))),
            Expect("double_paged", "number", want[1], tol=self.TOL_PAGES, unit="pages", nonnegative=True,
                   hint="find how many pages the guest pages out, and the chance that random replacement put "
                        "each of them in host swap.",
                   mistakes=(free_first[1], among[1],
                             Mistake(lru, self.LRU), *unit_mistakes(want[1], "pages", "MB"),
                             *swapped_double,
                             Mistake(want[0], self.SWAPPED_TOTAL))),
            Expect("lru_double_paging", "choice", right["lru_double_paging"], choices=self.CHOICES,
                   hint="an LRU-like host and the guest's own replacement both look for the coldest pages.",
                   mistakes=tuple(Mistake(c, "an LRU-like host pages out the pages the guest also finds coldest, "
                                             "exactly those the guest pages out next (§3.3's reason for random).")
                                  for c in self.CHOICES if c != right["lru_double_paging"])),
        ]
        read = (self._evicted + self.background_pages_s, self._evicted)      # the pages each count's s multiplies
        # the free pages forgotten and s taken over all the VM's memory, together
        neither = self._mean(grown, all_pages)
        return [paired(self._early(e, n), (neither[i], free_first[i], among[i]))
                for i, (e, n) in enumerate(zip(expected, read))] + expected[len(read):]
