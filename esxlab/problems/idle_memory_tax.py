"""Exercise ``idle_memory_tax``: ρ, the next victim and Figure 7's targets (paper §5.1–5.2)."""
from __future__ import annotations

from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB
from ..policy import compute_targets, shares_per_page
from .base import Problem, pick


class RhoVictim(Problem):
    """Each VM's adjusted shares-per-page ratio ρ under a tax rate τ, and the VM that
    min-funding revocation takes memory from next (§5.1–5.2)."""

    NAMES = ("web", "db", "mail")

    def _draw(self, rng):
        self.tax_rate = pick(rng, (0.25, 0.5, 0.75, 0.9))      # at τ = 0 forgetting the tax is no mistake
        self.vms = [dict(name=n, shares=pick(rng, (1280, 2560, 5120)), alloc_mb=32 * int(rng.integers(2, 17)),
                         active_fraction=round(0.05 * int(rng.integers(1, 20)), 2)) for n in self.NAMES]

    def _interesting(self):
        """One clear victim, and every typical mistake (the victim without the tax too) fails."""
        r = sorted(self._rhos(self.tax_rate))
        return r[1] > 1.1 * r[0] and self._mistakes_apart()

    def _rhos(self, tax_rate: float, per_mb: bool = False, idle_is_f: bool = False) -> list[float]:
        scale = 1 if per_mb else PAGES_PER_MB
        return [shares_per_page(v["shares"], v["alloc_mb"] * scale,
                                1 - v["active_fraction"] if idle_is_f else v["active_fraction"], tax_rate)
                for v in self.vms]

    def _victim(self, rhos: list[float], key=min) -> str:
        return self.NAMES[rhos.index(key(rhos))]

    def describe(self):
        rows = "\n".join(f"  {v['name']:>5}: {v['shares']:>5} shares, {v['alloc_mb']:>4} MB allocated, "
                         f"active fraction f = {v['active_fraction']:.2f}" for v in self.vms)
        return (f"Idle memory tax τ = {self.tax_rate:.2f}. Three VMs (p.vms):\n{rows}\n"
                "Compute each VM's ρ in shares per 4 KB page (a list `rhos`, in this order) and name the VM\n"
                "that min-funding revocation takes memory from next (`victim`).")

    def _solve(self):
        rhos = self._rhos(self.tax_rate)
        return dict(rhos=rhos, victim=self._victim(rhos))

    def _expect(self):
        right = self._solve()
        no_tax = self._rhos(0.0)
        return [
            Expect("rhos", "numbers", right["rhos"], tol=0.01, rel=True, unit="shares/page",
                   hint="apply ρ = S / (P·(f + k·(1 − f))) with P in 4 KB pages and idle page cost "
                        "k = 1/(1 − τ).",
                   mistakes=(Mistake(no_tax, "it looks as if idle pages cost the same as active ones; with τ > 0 an "
                                             "idle page costs k = 1/(1 − τ) times an active one."),
                             Mistake(self._rhos(self.tax_rate, per_mb=True),
                                     "it looks as if P was counted in MB; ρ is shares per 4 KB page (256 per MB)."),
                             Mistake(self._rhos(self.tax_rate, idle_is_f=True),
                                     "it looks as if f was taken as the idle fraction; f is the active fraction, "
                                     "and it is the idle pages that are charged k."))),
            Expect("victim", "choice", right["victim"], choices=self.NAMES,
                   hint="min-funding revocation takes memory from the VM that pays the least for it per page.",
                   mistakes=(Mistake(self._victim(right["rhos"], max),
                                     "that VM pays the most per page; revocation starts at the other end."),
                             Mistake(self._victim(no_tax),
                                     "that would be the victim without the idle memory tax; idle pages change who "
                                     "pays least."))),
        ]


class TaxTargets(Problem):
    """Figure 7 in miniature: two VMs with equal shares, one idle and one busy; the targets
    min-funding revocation sets under a tax rate τ (§5.2, :func:`esxlab.policy.compute_targets`)."""

    MAX_MB = 256
    SHARES = 2560

    def _draw(self, rng):
        self.tax_rate = pick(rng, (0.25, 0.5, 0.75, 0.9))
        self.idle_active_mb = int(rng.integers(5, 31))
        self.busy_active_mb = int(rng.integers(120, 231))
        self.available_mb = 4 * int(rng.integers(75, 96))

    def _targets(self, tax_rate: float) -> list[float]:
        t = compute_targets([self.SHARES] * 2, [0, 0], [self.MAX_MB * PAGES_PER_MB] * 2,
                            [self.idle_active_mb * PAGES_PER_MB, self.busy_active_mb * PAGES_PER_MB],
                            self.available_mb * PAGES_PER_MB, tax_rate)
        return [float(x) / PAGES_PER_MB for x in t]

    def _interesting(self):
        idle, busy = self._targets(self.tax_rate)
        return busy < self.MAX_MB - 2 and busy >= self.busy_active_mb     # both VMs between bounds, some idle

    def describe(self):
        return (f"Two VMs, max {self.MAX_MB} MB each, {self.SHARES} shares each, min 0. The policy may hand out "
                f"{self.available_mb} MB.\n"
                f"  idle: {self.idle_active_mb} MB active    busy: {self.busy_active_mb} MB active\n"
                f"Under an idle memory tax τ = {self.tax_rate:.2f}, what targets (MB) does min-funding revocation "
                "set?\nAnswer `targets_mb = [idle, busy]`.")

    def _solve(self):
        return dict(targets_mb=self._targets(self.tax_rate))

    def _expect(self):
        idle, busy = right = self._solve()["targets_mb"]
        return [Expect("targets_mb", "numbers", right, tol=1.0, unit="MB",
                       hint="with equal shares revocation stops where active + k·idle pages are equal in both VMs "
                            "(k = 1/(1 − τ)), and the targets add up to the memory the policy may hand out.",
                       mistakes=(Mistake(self._targets(0.0), "that is the split without the tax (τ = 0): equal "
                                                             "shares, equal memory. The tax charges idle pages k "
                                                             "times more."),
                                 Mistake([busy, idle], "those are the two targets the wrong way round: the answer "
                                                       "is [idle, busy], and the idle VM gets the smaller one."),
                                 Mistake([idle * PAGES_PER_MB, busy * PAGES_PER_MB],
                                         "those are the targets in pages; give them in MB (256 pages of 4 KB make "
                                         "one MB).")))]
