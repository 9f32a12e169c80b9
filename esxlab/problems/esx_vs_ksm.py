"""Exercise ``esx_vs_ksm``: Linux KSM's counters and scan time for a known workload (beyond the
paper: Linux ``mm/ksm.c``, :mod:`esxlab.sharing.ksm`); and lesson 11's scenario, identical VMs under
either scanner, for its worked example and its reveal.
"""
from __future__ import annotations

from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB, HostConfig, SharingConfig, VMConfig
from ..errors import Error, check_number
from ..guest import PROFILES
from ..host import Host
from ..sharing import SharingStats
from ..workloads import Contents, Spec95
from .base import Problem, differing, pick, slip, swapped, unit_mistakes


#: the most VMs :func:`lesson_host` admits (each reserves its max − min = 40 MB of its 512 MB of swap), and the
#: longest :func:`lesson_sharing` run
LESSON_MAX_VMS, LESSON_MAX_MINUTES = 12, 60


def lesson_host(mode: str) -> HostConfig:
    """Lesson 11's host: 320 MB, 512 MB of swap, page sharing by ``mode`` ("ksm" or "esx") at its
    default scan rates (invented sizes, lesson 04's)."""
    return HostConfig(memory_mb=320, swap_mb=512, sharing=SharingConfig(mode=mode))


def lesson_vms(n: int) -> list[tuple[VMConfig, Spec95]]:
    """Lesson 11's ``n`` identical 40 MB Linux VMs running Figure 4's SPEC95-like batch, as
    :class:`esxlab.views.SimDashboard` takes them. ConfigError unless ``n`` is a whole number from 1 to
    :data:`LESSON_MAX_VMS` (the most the lesson's host admits)."""
    check_number("lesson_vms", "n", n, 1, LESSON_MAX_VMS, integer=True)
    return [(VMConfig(name=f"vm{i}", max_mb=40, overhead_mb=4), Spec95()) for i in range(int(n))]


def lesson_sharing(mode: str, vms: int, minutes: float = 4, seed: int = 0) -> SharingStats:
    """What scanner ``mode`` has found after ``minutes`` with ``vms`` of :func:`lesson_vms` on
    :func:`lesson_host` (``host.sharing.stats()``): the worked example runs three VMs, the
    prediction asks about four. ConfigError for ``vms`` outside :func:`lesson_vms`' range, or
    ``minutes`` not above 0 and at most :data:`LESSON_MAX_MINUTES`."""
    check_number("lesson_sharing", "vms", vms, 1, LESSON_MAX_VMS, integer=True)
    check_number("lesson_sharing", "minutes", minutes, 0, LESSON_MAX_MINUTES, lo_open=True)
    host = Host(lesson_host(mode), seed=seed)
    for config, workload in lesson_vms(vms):
        host.power_on(config, workload=workload)
    host.run(minutes=minutes)
    return host.sharing.stats()


class KsmCounters(Problem):
    """``/sys/kernel/mm/ksm``'s ``pages_shared`` and ``pages_sharing`` once KSM has merged what
    it can in a set of Linux VMs with known contents, and the seconds one full scan takes, as
    :class:`esxlab.sharing.KsmSharing` reports them. KSM's ``max_page_sharing`` caps the pages
    one shared page may serve: more identical pages start another copy."""

    ANSWER_NAMES = ("pages_shared", "pages_sharing", "full_scan_s")

    APPS = ("web", "db")
    MAX_MB = 16
    os_image_mb = PROFILES["linux"].image_mb

    def _draw(self, rng):
        self.pages_to_scan = pick(rng, (25, 50, 100, 200))
        self.sleep_ms = pick(rng, (20, 50, 100, 200))
        self.max_page_sharing = pick(rng, (64, 128, 256))
        self.app_mb = {a: pick(rng, (1, 2, 3)) for a in self.APPS}
        self.vms = [dict(name=f"vm{i + 1}", app=pick(rng, self.APPS), zero_mb=pick(rng, (0.5, 1, 2)),
                         private_mb=pick(rng, (1, 2))) for i in range(int(rng.integers(2, 5)))]

    @property
    def kernel_mb(self) -> float:
        """MB of each VM's kernel: its OS code (:attr:`os_image_mb`) and the kernel's own private data."""
        return PROFILES["linux"].kernel_pages(self.MAX_MB) / PAGES_PER_MB

    def _untouched_mb(self, v: dict) -> float:
        """MB of VM ``v`` its guest never touches: no machine page backs it."""
        return self.MAX_MB - self.kernel_mb - self.app_mb[v["app"]] - v["zero_mb"] - v["private_mb"]

    def _host(self, max_page_sharing: int, untouched_zero: bool = False) -> Host:
        """The host with the VMs powered on; ``untouched_zero``: each VM's untouched memory written as zero pages
        instead (a typical mistake)."""
        sharing = SharingConfig(mode="ksm", ksm_pages_to_scan=self.pages_to_scan, ksm_sleep_ms=self.sleep_ms,
                                ksm_max_page_sharing=max_page_sharing)
        host = Host(HostConfig(memory_mb=256, sharing=sharing), seed=self.seed)
        for v in self.vms:
            host.power_on(VMConfig(name=v["name"], max_mb=self.MAX_MB),
                          workload=Contents(v["app"], self.app_mb[v["app"]],
                                            v["zero_mb"] + untouched_zero * self._untouched_mb(v), v["private_mb"]))
        return host

    def _run(self, max_page_sharing: int | None = None, untouched_zero: bool = False) -> dict:
        """KSM's counters after four full scans, and the seconds the third and fourth took."""
        host = self._host(max_page_sharing or self.max_page_sharing, untouched_zero)
        ends = []
        while len(ends) < 4:
            before = host.sharing.full_scans
            host.step()
            if host.sharing.full_scans > before:
                ends.append(host.time)
            if host.time > 3600:
                raise Error("KSM did not complete four full scans in an hour")
        s = host.sharing.stats()
        return dict(pages_shared=s.pages_shared, pages_sharing=s.pages_sharing, full_scan_s=(ends[3] - ends[1]) / 2)

    def _interesting(self):
        """Some content (the zero page) is held by more pages than one shared page may serve, some
        application runs twice, and a full scan takes 5 to 40 s."""
        zero = sum(v["zero_mb"] for v in self.vms) * PAGES_PER_MB
        scan_s = len(self.vms) * self.MAX_MB * PAGES_PER_MB * self.sleep_ms / 1000 / self.pages_to_scan
        repeated = len({v["app"] for v in self.vms}) < len(self.vms)
        return zero > 2 * self.max_page_sharing and repeated and 5 <= scan_s <= 40

    def describe(self) -> str:
        rows = "\n".join(f"  {v['name']}: runs {v['app']:>3}, {v['zero_mb']:g} MB of zero pages, {v['private_mb']} MB "
                         "of private data" for v in self.vms)
        apps = ", ".join(f"{a} {mb} MB" for a, mb in self.app_mb.items())
        return (f"Linux VMs of {self.MAX_MB} MB each (p.vms), all running the same kernel version, on a host "
                f"that merges pages with KSM:\n{rows}\n"
                f"Each VM's kernel takes {self.kernel_mb:.1f} MB (p.kernel_mb): {self.os_image_mb:g} MB of OS code "
                "(p.os_image_mb), identical in every VM,\nand the kernel's own private data. Each application image "
                f"(p.app_mb: {apps}) is identical\nin every VM running it; no salts. The rest of each VM's "
                f"{self.MAX_MB} MB its guest never touches: no machine page\nbacks it, so it holds neither zero pages "
                "nor anything else KSM could merge.\nKSM's settings: "
                f"pages_to_scan = {self.pages_to_scan}, sleep_millisecs = {self.sleep_ms}, "
                f"max_page_sharing = {self.max_page_sharing} (p.pages_to_scan, p.sleep_ms, p.max_page_sharing).\n"
                "KSM walks every page of every VM (backed or not). Once it has merged all it can, what do\n"
                "`pages_shared` and `pages_sharing` read, and how many seconds does one full scan take "
                "(`full_scan_s`)?")

    def _solve(self):
        return self._run()

    SWAPPED = ("the two answers look swapped: pages_shared counts the shared copies KSM keeps (one machine page "
               "each), pages_sharing the further pages that map them (here, with max_page_sharing far above 2, "
               "the larger count).")
    IN_MS = ("that looks like the scan time in milliseconds (sleep_millisecs is in ms); give seconds (1000 ms make "
             "one second).")
    IN_MIN = "that looks like the scan time in minutes; give seconds (60 s make one minute)."

    def _expect(self):
        right = self._solve()
        shared, sharing = right["pages_shared"], right["pages_sharing"]
        unlimited = self._run(max_page_sharing=1 << 20)
        zeroed = self._run(untouched_zero=True)
        untouched = ("memory the guest never touched is not zero pages: no machine page backs it, so KSM finds "
                     "nothing there to merge; count only the zero pages p.vms lists.")
        # pages_to_scan taken as per second: every VM's pages at pages_to_scan a second, as a student computes it
        per_second = len(self.vms) * self.MAX_MB * PAGES_PER_MB / self.pages_to_scan
        sharing_hint = ("count, per content held by two or more pages, the shared copies KSM keeps and the pages "
                        "beyond the first that map each copy; a copy serves at most max_page_sharing pages.")
        swapped_shared, swapped_sharing = swapped("pages_shared", shared, "pages_sharing", sharing, self.SWAPPED)
        cap = "one KSM page serves at most max_page_sharing pages; more identical pages start another copy."
        return [
            Expect("pages_shared", "number", shared, tol=0, unit="pages", hint=sharing_hint, nonnegative=True,
                   mistakes=(Mistake(unlimited["pages_shared"], cap),
                             *differing(shared, Mistake(zeroed["pages_shared"], untouched)),
                             Mistake(shared + sharing, "pages_shared counts the shared pages KSM keeps (one per "
                                                       "copy), not every page that maps one."),
                             *swapped_shared,
                             *unit_mistakes(shared, "pages", "MB"))),
            Expect("pages_sharing", "number", sharing, tol=0, unit="pages", hint=sharing_hint, nonnegative=True,
                   mistakes=(Mistake(unlimited["pages_sharing"], cap),
                             *differing(sharing, Mistake(zeroed["pages_sharing"], untouched)),
                             Mistake(shared + sharing, "pages_sharing counts the pages *beyond* the first that map "
                                                       "a shared page: the pages saved."),
                             *swapped_sharing,
                             *unit_mistakes(sharing, "pages", "MB"))),
            Expect("full_scan_s", "number", right["full_scan_s"], tol=1, unit="s",
                   hint="KSM scans pages_to_scan pages every sleep_millisecs, through every VM's whole memory.",
                   allowed=lambda v: None if float(v) > 0 else "must be more than 0: it is a time in seconds",
                   mistakes=(Mistake(per_second, "pages_to_scan is per sleep_millisecs, not per second."),
                             *slip(right["full_scan_s"], 1000, self.IN_MS),
                             *slip(right["full_scan_s"], 1 / 60, self.IN_MIN))),
        ]
