"""Exercise ``page_sharing``: what content-based page sharing finds and reclaims (§4.2–4.3),
with salting (later ESX)."""
from __future__ import annotations

from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB, HostConfig, SharingConfig, VMConfig
from ..errors import Error
from ..guest import PROFILES
from ..host import Host
from ..workloads import Contents
from .base import Problem, pick, swapped, unit_mistakes


class SharingPrediction(Problem):
    """How much memory content-based page sharing finds and reclaims (§4.2–4.3, Figure 4) for
    a set of Linux VMs with known contents, once the scanner has hashed every page, as
    :class:`esxlab.sharing.PageSharing` reports it. Salting (later ESX, ``force_salting = 1``: equal salts
    share, None is one common salt) decides who may share.

    The ±0.1 MB tolerance accepts, on purpose, one slip of the n − 1 rule: reclaiming every zero page,
    forgetting that each sharing group keeps one zero frame (16.0 MB for 15.99). It costs one page per group,
    2/256 ≈ 0.008 MB (every problem has two groups), which rounding to two decimals blurs (±0.005 MB either
    way), and 16.0 is also 15.99 rounded to one decimal: no tolerance could tell that slip from a rounding.
    The rule is checked where it costs whole MB: reclaimed = shared (every kept copy forgotten) is named.
    """

    APPS = ("web", "db", "mail")
    MAX_MB = 24
    os_image_mb = PROFILES["linux"].image_mb
    ANSWER_NAMES = ("shared_mb", "reclaimed_mb")
    # the swap explained once, on the first answer's line; the second's points to it
    SWAPPED = ("`shared_mb` and `reclaimed_mb` look swapped: shared memory counts every guest page that maps a "
               "shared copy, reclaimed memory only the copies beyond the one kept, so `shared_mb` is the larger.")

    def _draw(self, rng):
        self.app_mb = {a: pick(rng, (2, 3, 4)) for a in self.APPS}
        self.vms = [dict(name=f"vm{i + 1}", os_version=pick(rng, ("1", "1", "2")), app=pick(rng, self.APPS),
                         zero_mb=int(rng.integers(1, 4)), private_mb=int(rng.integers(1, 5)),
                         salt=pick(rng, (None, None, None, 7))) for i in range(int(rng.integers(3, 6)))]

    def _run(self, force_salting: int = 1, os_version: str | None = None) -> tuple[float, float]:
        """(shared MB, reclaimed MB) after two more full scans of every VM once its contents are in."""
        sharing = SharingConfig(mode="esx", scan_vm_pages_s=self.MAX_MB * PAGES_PER_MB,
                                scan_total_pages_s=1 << 20, scan_period_s=1, force_salting=force_salting)
        host = Host(HostConfig(memory_mb=512, sharing=sharing), seed=self.seed)
        for v in self.vms:
            host.power_on(VMConfig(name=v["name"], max_mb=self.MAX_MB, salt=v["salt"],
                                   os_version=os_version or v["os_version"]),
                          workload=Contents(v["app"], self.app_mb[v["app"]], v["zero_mb"], v["private_mb"]))
        host.step()
        passes = host.sharing.full_scans
        while host.sharing.full_scans < passes + 2:
            host.step()
            if host.time > 60:
                raise Error("the page-sharing scanner did not complete two passes in 60 s")
        s = host.sharing.stats()
        return s.shared_mb, s.saved_mb

    def _interesting(self):
        """Both salts and both OS versions occur and each typical mistake changes the answers (beyond
        the tolerance), so that every rule matters."""
        return (len({v["salt"] for v in self.vms}) == 2 and len({v["os_version"] for v in self.vms}) == 2
                and self._mistakes_apart())

    def describe(self) -> str:
        rows = "\n".join(f"  {v['name']}: Linux version {v['os_version']}, runs {v['app']:>4}, {v['zero_mb']} MB of "
                         f"zero pages, {v['private_mb']} MB of private data, salt {v['salt']}" for v in self.vms)
        apps = ", ".join(f"{a} {mb} MB" for a, mb in self.app_mb.items())
        return (f"These VMs run on one host (p.vms):\n{rows}\n"
                f"Each guest kernel holds {self.os_image_mb:g} MB of OS code (p.os_image_mb), identical in VMs "
                "running the same Linux version;\nthe rest of the kernel is private data, unique to its VM like "
                "each VM's private data above:\nneither is ever shared. Each application image "
                f"(p.app_mb: {apps}) is identical\nin every VM running it. Salting is on with force_salting = 1: "
                "only VMs with equal salts share, and\nNone counts as one common salt. The scanner has hashed every "
                "page twice. How many MB of guest memory\nare shared (`shared_mb`), and how many MB of machine "
                "memory does sharing reclaim (`reclaimed_mb`)?")

    def _solve(self):
        shared, reclaimed = self._run()
        return dict(shared_mb=shared, reclaimed_mb=reclaimed)

    ONCE_EACH = ("that counts each shared content once (the copies that stay in memory); shared memory counts "
                 "every guest page that maps a shared copy, in every VM.")

    def _once_each(self, right: dict) -> tuple[Mistake, ...]:
        """Shared memory counted one page per shared content (shared − reclaimed), listed only where it differs
        from the answer: "a shared page counts once", the misconception lab 3 targets (exercises/README.md)."""
        once = right["shared_mb"] - right["reclaimed_mb"]
        return (Mistake(once, self.ONCE_EACH),) if abs(once - right["shared_mb"]) > 0.1 else ()

    def _expect(self):
        right = self._solve()
        no_salt, one_os = self._run(force_salting=0), self._run(os_version="1")
        alone = self._run(force_salting=2)           # a VM without a salt gets its own: shares with nobody
        salt = "VMs with different salts never share pages with each other."
        os_code = "only VMs running the same OS version hold identical kernel code."
        none_salt = ("VMs without a salt (None) all share one common salt: they share with each other, not only "
                     "within themselves.")
        hint = ("group the VMs that may share; in each group, a content held by two or more pages (zero pages "
                "included, even within one VM) is shared, and one copy of it stays in memory.")
        # both answers in each other's place, named on both lines (beside each one's own mistake of that value),
        # explained on the first
        to_shared, to_reclaimed = swapped("shared_mb", right["shared_mb"], "reclaimed_mb", right["reclaimed_mb"],
                                          self.SWAPPED)

        def unsalted(which: int) -> tuple[Mistake, ...]:
            """The None-salt mistake, listed only where it changes this answer (one VM without a salt,
            or none sharing across VMs, leaves it unchanged)."""
            apart = abs(alone[which] - right[self.ANSWER_NAMES[which]]) > 0.1
            return (Mistake(alone[which], none_salt),) if apart else ()

        return [
            Expect("shared_mb", "number", right["shared_mb"], tol=0.1, unit="MB", hint=hint, nonnegative=True,
                   mistakes=(Mistake(no_salt[0], salt), Mistake(one_os[0], os_code), *unsalted(0),
                             *unit_mistakes(right["shared_mb"], "MB", "pages", "GB", "KB"),
                             Mistake(right["reclaimed_mb"], "that is the reclaimed memory: the two answers look "
                                                            "swapped. Shared memory counts every guest page that "
                                                            "maps a shared copy, so it is the larger one."),
                             *to_shared, *self._once_each(right))),
            # whole MB of contents less the few pages kept (15.99 MB): one MB under it is a content missed,
            # not 15.99 cut to 0 decimal places, so no rounding hint
            Expect("reclaimed_mb", "number", right["reclaimed_mb"], tol=0.1, unit="MB", hint=hint, rounded_hint=None,
                   nonnegative=True,
                   mistakes=(Mistake(right["shared_mb"], "one copy of each shared content (one page) stays in "
                                                         "memory: not every shared page is reclaimed."),
                             *to_reclaimed, Mistake(no_salt[1], salt), Mistake(one_os[1], os_code), *unsalted(1),
                             *unit_mistakes(right["reclaimed_mb"], "MB", "pages", "GB", "KB"))),
        ]
