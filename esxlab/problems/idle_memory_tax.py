"""Exercise ``idle_memory_tax``: ρ, the next victim and Figure 7's targets (paper §5.1–5.2)."""
from __future__ import annotations

import numpy as np

from ..checks import Carried, Expect, Mistake, _close
from ..config import PAGES_PER_MB
from ..policy import compute_targets, shares_per_page
from .base import Problem, paired, pick, unit_mistakes


class RhoVictim(Problem):
    """Each VM's adjusted shares-per-page ratio ρ under a tax rate τ, and the VM that
    min-funding revocation takes memory from next (§5.1–5.2).

    The draw is built, not filtered (invented, as are its numbers). ρ = a / c, with a = S / P
    (shares per page without the tax) and c = f + k·(1 − f), k = 1/(1 − τ). The seed picks τ
    and whether the victim V is the idlest VM (lowest f), each about equally often, then builds
    three VMs that make it so:

    * V and a busier VM N: without the tax N pays the least per page (a_V ≥ 1.05·a_N, so
      forgetting the tax names N, another VM); with it V pays at least 10 % less than N. So
      a_V / a_N lies in [1.05, c_V / (1.1·c_N)]: their active fractions are drawn where that range
      is not empty (at τ = 0.25 an idle page costs only 4/3 of an active one, so they differ a
      lot), then their shares and allocations among the pairs whose ratio lies in it.
    * The third VM T: idler than V (V is then not the idlest VM) or busier, with a_T ≥ 1.05·a_N
      and ρ_T ≥ 1.1·ρ_V.

    So that no shortcut names the victim, the seed also says whether V holds the most idle MB,
    whether V (when the idlest) pays the most per page without the tax, and whether V (when
    not the idlest) has the fewest shares per idle MB (ρ as if τ → 1). These wishes give way
    where τ and the fractions leave them no room: after TRIES constructions the idle-MB one,
    after as many more the others."""

    ANSWER_NAMES = ("rhos", "victim")

    NAMES = ("web", "db", "mail")
    TAX_RATES = (0.25, 0.5, 0.75, 0.9)                   # at τ = 0 forgetting the tax is no mistake
    SHARES = tuple(range(1000, 5001, 500))               # invented: round numbers, to compute by hand
    ALLOC_MB = tuple(32 * n for n in range(2, 17))       # 64–512 MB
    FRACTIONS = tuple(round(0.05 * n, 2) for n in range(1, 20))
    CLEAR = 1.1         # the victim's ρ is at least 10 % below every other VM's: one clear victim
    NO_TAX = 1.05       # invented: without the tax another VM is the victim, by at least 5 %
    TRIES = 16          # invented: constructions per set of wishes (seeds 0–599 need at most 21 in all)

    def _draw(self, rng):
        self.tax_rate = pick(rng, self.TAX_RATES)
        idlest = bool(rng.integers(2))                   # V has the lowest f
        most_idle = bool(rng.integers(2))                # V holds the most idle MB
        highest = bool(rng.random() < 0.8)               # (idlest V) V has the highest S / P
        per_idle = bool(rng.random() < 0.3)              # (V not the idlest) V has the lowest S / idle MB
        f = np.array(self.FRACTIONS)
        c = f + (1 - f) / (1 - self.tax_rate)            # a page's mean cost, in active pages: f + k·(1 − f)
        sp = np.array([(s, p) for s in self.SHARES for p in self.ALLOC_MB])
        shares, alloc = sp[:, 0], sp[:, 1]
        a = shares / alloc                               # shares per MB without the tax
        idle = (1 - f)[:, None] * alloc[None, :]         # idle MB, [fraction, (shares, alloc)]
        hi = c[:, None] / (self.CLEAR * c[None, :])      # the largest a_V / a_N, [f_V, f_N]
        ratio = a[:, None] / a[None, :]
        self.vms = []
        for attempt in range(3 * self.TRIES):
            wish_idle_mb, wish = attempt < self.TRIES, attempt < 2 * self.TRIES
            # (f_V, f_N): room for a share ratio (3 % at least); an idlest V's T is busier, so any f_V
            room = (hi >= self.NO_TAX * 1.03) & (np.arange(len(f)) >= (0 if idlest else 1))[:, None]
            if wish and not idlest and not per_idle:     # an idler T can pay less per idle MB than V
                room &= (c / (1 - f) >= self.CLEAR * 1.05 * c[0] / (1 - f[0]))[:, None]
            v, n = self._one(rng, np.argwhere(room))
            # (shares, alloc) of V and N: a_V / a_N in [1.05, c_V / (1.1·c_N)]
            vn = (ratio >= self.NO_TAX) & (ratio <= hi[v, n] / (1 + 1e-9))
            if wish_idle_mb and most_idle:
                vn &= idle[v][:, None] > idle[n][None, :]
            if not vn.any():
                continue
            iv, jn = self._one(rng, np.argwhere(vn))
            # T: (fraction, (shares, alloc)), idler or busier than V, clear of both margins
            others = [t for t in range(len(f)) if (t > v if idlest else t < v) and t != n]
            ok = (a >= self.NO_TAX * a[jn])[None, :] \
                & (a[None, :] / c[others][:, None] >= self.CLEAR * (1 + 1e-9) * a[iv] / c[v])
            if wish_idle_mb and most_idle:
                ok &= idle[others] < idle[v, iv]
            elif wish_idle_mb and idle[n, jn] <= idle[v, iv]:
                ok &= idle[others] > idle[v, iv]
            if wish and idlest:
                ok &= (a < a[iv] if highest else a > a[iv])[None, :]
            elif wish:
                per_idle_t = shares[None, :] / idle[others]
                v_per_idle = shares[iv] / idle[v, iv]
                ok &= per_idle_t > v_per_idle if per_idle else per_idle_t < v_per_idle
            if ok.any():
                t, it = self._one(rng, np.argwhere(ok))
                made = [(v, iv), (n, jn), (others[t], it)]
                self._constructions = attempt + 1
                self.vms = [dict(name=name, shares=int(shares[j]), alloc_mb=int(alloc[j]),
                                 active_fraction=self.FRACTIONS[i])
                            for name, (i, j) in zip(self.NAMES, (made[x] for x in rng.permutation(3)))]
                return

    @staticmethod
    def _one(rng, rows):
        """One of ``rows``, drawn from ``rng``."""
        return rows[int(rng.integers(len(rows)))]

    def _interesting(self):
        """One clear victim, and every typical mistake (the victim without the tax too) fails
        (true of every draw built; a check, and a redraw should a construction fail)."""
        if not self.vms:
            return False
        r = sorted(self._rhos(self.tax_rate))
        return r[1] > self.CLEAR * r[0] and self._mistakes_apart()

    def _rhos(self, tax_rate: float, idle_is_f: bool = False) -> list[float]:
        return [shares_per_page(v["shares"], v["alloc_mb"] * PAGES_PER_MB,
                                1 - v["active_fraction"] if idle_is_f else v["active_fraction"], tax_rate)
                for v in self.vms]

    def _rhos_tau_as_k(self, idle_is_f: bool = False) -> list[float]:
        """ρ with τ itself where the idle page cost k = 1/(1 − τ) belongs (a typical mistake): S / (P·(f + τ·(1 − f)));
        ``idle_is_f``: f taken as the idle fraction as well, S / (P·((1 − f) + τ·f))."""
        active = [1 - v["active_fraction"] if idle_is_f else v["active_fraction"] for v in self.vms]
        return [v["shares"] / (v["alloc_mb"] * PAGES_PER_MB * (a + self.tax_rate * (1 - a)))
                for v, a in zip(self.vms, active)]

    def _victim(self, rhos: list[float], key=min) -> str:
        return self.NAMES[rhos.index(key(rhos))]

    def describe(self) -> str:
        rows = "\n".join(f"  {v['name']:>5}: {v['shares']:>5} shares, {v['alloc_mb']:>4} MB allocated, "
                         f"active fraction f = {v['active_fraction']:.2f}" for v in self.vms)
        return (f"Idle memory tax τ = {self.tax_rate:.2f}. Three VMs (p.vms):\n{rows}\n"
                "Compute each VM's ρ in shares per 4 KB page (a list `rhos`, in this order; the checker allows\n"
                "±1 % on each: 3 significant figures, e.g. 0.0xyz, are always within it), and name the VM that\n"
                "min-funding revocation takes memory from next (`victim`).")

    def _solve(self):
        rhos = self._rhos(self.tax_rate)
        return dict(rhos=rhos, victim=self._victim(rhos))

    RHO_TOL = 0.01      # ±1 %: 3 significant figures, rounded or cut, are within it (at most 1 %)
    ROUNDED = ("those are the right values cut or rounded to {places}, which leaves ρ this small with fewer "
               "than 3 significant figures: give each ρ to 3 significant figures (three digits from the first "
               "nonzero one, 0.0xyz or 0.00xyz), which the ±1 % allows.")
    IDLEST = ("the idlest VM is not the one that pays the least here: the tax charges its idle pages k times, "
              "but its shares and its size count too. Compute ρ = S / (P·(f + k·(1 − f))) for each VM and take "
              "the lowest.")

    def _own_victim(self, answers) -> str:
        """The victim by the right rule from the student's own ``rhos`` (ValueError unless three numbers)."""
        rhos = [float(r) for r in answers["rhos"]]
        if len(rhos) != len(self.NAMES):
            raise ValueError("not one ρ per VM")
        return self._victim(rhos)

    def _expect(self):
        right = self._solve()
        no_tax = self._rhos(0.0)
        rhos = right["rhos"]
        idlest = self.NAMES[int(np.argmin([v["active_fraction"] for v in self.vms]))]
        # the idlest VM named when it is not the victim gets its own hint, even when it also pays the most
        # (then "revocation starts at the other end" would point at the busiest VM, never the victim); every
        # other VM that pays the most (ties included) gets the "other end" hint
        most = [name for name, r in zip(self.NAMES, rhos) if r >= max(rhos) * (1 - 1e-9) and name != idlest]
        idle_is_f = Mistake(self._rhos(self.tax_rate, idle_is_f=True),
                            "it looks as if f was taken as the idle fraction; f is the active fraction, and it is the "
                            "idle pages that are charged k.")
        tau_as_k = Mistake(self._rhos_tau_as_k(),
                           f"it looks as if τ was taken as the idle page cost; an idle page costs k = 1/(1 − τ) = "
                           f"{1 / (1 - self.tax_rate):g} times an active one, not τ = {self.tax_rate:g}.")
        return [
            paired(Expect("rhos", "numbers", rhos, tol=self.RHO_TOL, rel=True, unit="shares/page", nonnegative=True,
                          hint="apply ρ = S / (P·(f + k·(1 − f))) with P in 4 KB pages and idle page cost "
                               "k = 1/(1 − τ).", rounded_hint=self.ROUNDED,
                          order=f"of p.vms ({', '.join(self.NAMES)})", per="VM",
                          mistakes=(Mistake(no_tax, "it looks as if idle pages cost the same as active ones; with "
                                                    "τ > 0 an idle page costs k = 1/(1 − τ) times an active one."),
                                    idle_is_f, tau_as_k,
                                    *unit_mistakes(rhos, "shares/page", "shares/MB", "shares/GB", "%"))),
                   (self._rhos_tau_as_k(idle_is_f=True), idle_is_f, tau_as_k)),
            Expect("victim", "choice", right["victim"], choices=self.NAMES,
                   hint="min-funding revocation takes memory from the VM that pays the least for it per page.",
                   carried=Carried(self._own_victim, "that is the lowest ρ of your own `rhos`, so the rule is "
                                                     "right: fix `rhos` first (its hint says how), and the victim "
                                                     "follows."),
                   mistakes=(*((Mistake(idlest, self.IDLEST),) if idlest != right["victim"] else ()),
                             *(Mistake(name, "that VM pays the most per page; revocation starts at the other end.")
                               for name in most),
                             # named only beside the untaxed rhos: a student whose rhos include the tax did not
                             # leave it out (the trial of session 49: told so beside the right rhos)
                             Mistake(self._victim(no_tax),
                                     "that would be the victim without the idle memory tax; idle pages change who "
                                     "pays least.", given={"rhos": no_tax}))),
        ]


class TaxTargets(Problem):
    """Figure 7 in miniature: two VMs with equal shares, one idle and one busy; the targets
    min-funding revocation sets under a tax rate τ (§5.2, :func:`esxlab.policy.compute_targets`),
    and, the other way round, the tax rate that would give the busy VM a stated target (which
    ``compute_targets`` does not print: it needs the equations, or a search over τ).

    The stated target (``busy_goal_mb``, a whole MB) is the busy VM's target at another tax rate,
    drawn from a stream of its own so that the rest of the draw is the one it always was; both
    VMs then lie between their bounds (active memory and max). The other rate is at least 0.1 from τ, so τ
    given back for the goal's (a typical mistake) is always wrong; a draw where it lies within the tolerance
    of another mistake of `goal_tax_rate` (τ/2, with τ = 0.25 and the goal's τ ≈ 0.5) is turned down, so
    that each is told its own hint."""

    ANSWER_NAMES = ("targets_mb", "goal_tax_rate")
    VARIABLE = "q"

    MAX_MB = 256
    SHARES = 2560
    GOAL_TAX = tuple(round(0.05 * n, 2) for n in range(2, 19))     # 0.10–0.90: the other tax rate's grid
    GOAL_TOL = 0.01

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

    def _between_bounds(self, tax_rate: float) -> bool:
        idle, busy = self._targets(tax_rate)
        return busy < self.MAX_MB - 2 and busy >= self.busy_active_mb     # both VMs between bounds, some idle

    def _interesting(self):
        if not self._between_bounds(self.tax_rate):
            return False
        goals = [t for t in self.GOAL_TAX if abs(t - self.tax_rate) > 0.1 - 1e-9 and self._between_bounds(t)]
        if not goals:
            return False
        goal = pick(self.streams.child("problem:TaxTargets:goal"), goals)
        self.busy_goal_mb = int(round(self._targets(goal)[1]))
        return self._mistakes_apart() and self._goal_mistakes_apart()

    def _goal_mistakes_apart(self) -> bool:
        """Whether the typical mistakes of `goal_tax_rate` lie outside its tolerance of one another (invented)."""
        e = self._expectations()[1]
        return not any(_close(e, a.value, b.value) for i, a in enumerate(e.mistakes) for b in e.mistakes[i + 1:])

    def describe(self) -> str:
        return (f"Two VMs, max {self.MAX_MB} MB each, {self.SHARES} shares each, min 0. The policy may hand out "
                f"{self.available_mb} MB.\n"
                f"  idle: {self.idle_active_mb} MB active    busy: {self.busy_active_mb} MB active\n"
                f"Under an idle memory tax τ = {self.tax_rate:.2f}, what targets (MB) does min-funding revocation "
                "set?\nAnswer `targets_mb = [idle, busy]`. Then: which tax rate τ would give the busy VM a target "
                f"of {self.busy_goal_mb} MB\n(q.busy_goal_mb; the idle VM gets the rest)? Answer `goal_tax_rate`, a fraction "
                f"from 0 to 1 as τ = {self.tax_rate:.2f} above.")

    def _goal_tax_rate(self, goal_mb: float) -> float:
        """The tax rate at which the model sets the busy VM's target to ``goal_mb`` (bisection: the
        busy VM's target grows with τ)."""
        lo, hi = 0.0, 0.99
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self._targets(mid)[1] < goal_mb else (lo, mid)
        return (lo + hi) / 2

    def _solve(self):
        return dict(targets_mb=self._targets(self.tax_rate), goal_tax_rate=self._goal_tax_rate(self.busy_goal_mb))

    #: what a goal_tax_rate outside 0 ≤ τ < 1 is told (:attr:`~esxlab.checks.Expect.allowed`)
    NOT_A_RATE = "must be at least 0 and below 1 (0 ≤ τ < 1): it is a tax rate, a fraction"

    def _expect(self):
        answers = self._solve()
        idle, busy = right = answers["targets_mb"]
        tau = answers["goal_tax_rate"]
        return [Expect("targets_mb", "numbers", right, tol=1.0, unit="MB", order="[idle, busy]", per="VM",
                       nonnegative=True,
                       hint="with equal shares revocation stops where active + k·idle pages are equal in both VMs "
                            "(k = 1/(1 − τ)), and the targets add up to the memory the policy may hand out.",
                       mistakes=(Mistake(self._targets(0.0), "that is the split without the tax (τ = 0): equal "
                                                             "shares, equal memory. The tax charges idle pages k "
                                                             "times more."),
                                 Mistake([busy, idle], "those are the two targets the wrong way round: the answer "
                                                       "is [idle, busy], and the idle VM gets the smaller one."),
                                 *self._gap_mistakes(right),
                                 *unit_mistakes(right, "MB", "pages", "GB", "KB"))),
                self._goal(tau)]

    #: the hint for targets whose gap is (k − 1)·(a_busy − a_idle): the equal-price equation solved for the gap with
    #: k left on the active memories' side only (the right gap is that over k)
    K_NOT_DIVIDED = ("it looks as if k was not divided out when you solved for the gap between the targets: the tax "
                     "charges each VM's idle memory, its target minus its active memory, so k multiplies the targets "
                     "as well as the active memories.")
    #: the hint for targets whose gap is a_busy − a_idle: both VMs left the same idle memory, the split of τ → 1
    EQUAL_IDLE = ("those targets leave both VMs the same idle memory, as if an idle page cost without limit (τ → 1); "
                  "at this τ an idle page costs only k times an active one, so where the prices are equal the idle "
                  "VM keeps more idle memory than the busy one.")

    def _gap_mistakes(self, right: list[float]) -> tuple[Mistake, ...]:
        """Targets that add up to the memory handed out but whose gap is d (d = a_busy − a_idle) or (k − 1)·d, as a
        student's own algebra gives them (not clamped to the VMs' bounds); listed only outside the tolerance of the
        right targets, so that they turn down no draw, and (k − 1)·d only where it is not d (at τ = 0.5, k − 1 = 1:
        the equal idle memory, which such targets leave whatever the slip, is told alone) (invented)."""
        k, d = 1 / (1 - self.tax_rate), self.busy_active_mb - self.idle_active_mb
        gaps = [(d, self.EQUAL_IDLE)] + [((k - 1) * d, self.K_NOT_DIVIDED)] * (abs((k - 2) * d) > 2.0 + 1e-9)
        split = [Mistake([(self.available_mb - gap) / 2, (self.available_mb + gap) / 2], hint) for gap, hint in gaps]
        return tuple(m for m in split if max(abs(a - b) for a, b in zip(m.value, right)) > 1.0 + 1e-9)

    #: the hint for a goal tax rate worked out with an idle page's cost taken as k = 1/τ: the gap is then
    #: (1 − τ)·(a_busy − a_idle), and the goal 1 − τ (at τ = 0.5 both k are 2, so the targets pass)
    K_AS_ONE_OVER_TAU = ("that is what taking an idle page's cost as k = 1/τ gives; it costs k = 1/(1 − τ) times an "
                         "active page.")

    def _goal(self, tau: float) -> Expect:
        """What `goal_tax_rate` must be (``tau``, the right one), with its typical mistakes: k taken as 1/τ only where
        it lies outside the tolerance of the answer and of the others, so that it turns down no draw; and the gain
        taken for the gap together with k given for τ, or with k taken as 1/τ (invented)."""
        k = Mistake(1 / (1 - tau), "that looks like k, the cost of an idle page; the tax rate is τ = 1 − 1/k.")
        gain = Mistake(tau / 2, "the busy VM's gain comes out of the idle VM's target: the gap between the two "
                                "targets is twice the busy VM's gain over an even split.")
        one_over_tau = Mistake(1 - tau, self.K_AS_ONE_OVER_TAU)
        listed = (Mistake(self.tax_rate, "that is the tax rate in effect now (q.tax_rate); the question asks for the "
                                         "τ that would give the busy VM a target of q.busy_goal_mb."),
                  k, gain, *unit_mistakes(tau, "fraction", "%"))
        apart = all(abs(1 - tau - v) > self.GOAL_TOL + 1e-9 for v in (tau, *(m.value for m in listed)))
        e = Expect("goal_tax_rate", "number", tau, tol=self.GOAL_TOL,
                   hint="write the two equations of the first answer with τ unknown and the busy VM's target known, "
                        "and solve them for τ (it is a number between 0 and 1).",
                   allowed=lambda v: None if 0 <= float(v) < 1 else self.NOT_A_RATE,
                   mistakes=listed + ((one_over_tau,) if apart else ()))
        # (the gain taken for the gap halves τ: so k = 1/(1 − τ/2), and with k = 1/τ the gap gives 1 − τ/2)
        return paired(e, (1 / (1 - tau / 2), gain, k), (1 - tau / 2, gain, one_over_tau))
