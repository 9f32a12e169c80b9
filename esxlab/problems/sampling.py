"""Exercise ``sampling``: one period of active-memory sampling, its averages and estimate (§5.3)."""
from __future__ import annotations

import numpy as np

from ..checks import Carried, Expect, Mistake, _close
from ..config import PAGES_PER_MB
from ..sampling import Sampler, ewma
from .base import Problem, paired, pick, slip, swapped, unit_mistakes


class SamplingEstimate(Problem):
    """One sampling period of :class:`esxlab.sampling.Sampler` (§5.3): from the touched count,
    the period's active fraction and the updated slow and fast averages and estimate."""

    ANSWER_NAMES = ("f", "slow", "fast", "estimate")

    PERIOD_S = 30
    TOL = 0.005
    #: memory units a fraction of the VM's memory may be given in: (unit, its number per MB, back to a fraction)
    MEMORY_UNITS = (("MB", 1, "MB / p.max_mb"), ("GB", 1 / 1024, "GB × 1024 / p.max_mb"),
                    ("pages", PAGES_PER_MB, f"pages / ({PAGES_PER_MB} · p.max_mb)"))
    SWAPPED = ("`slow` and `fast` look swapped: `slow` is the average updated with the smaller gain (p.slow_gain), "
               "`fast` the one with the larger.")
    #: swapped gains and a gain on the old average, where the gains add up to 1 and the two give one number: one
    #: sentence for both, rather than two hints joined by checks.ALSO (the trial of session 48)
    GAINS_ADD_UP_TO_1 = ("the {which} average uses the {size} gain, and a gain weighs the new sample, not the old "
                         "average (these gains add up to 1, so either slip gives this number).")
    TRUE_FRACTION = ("that is p.true_fraction, the fraction the VM really touches; ESX cannot see the VM's true "
                     "active fraction: f is what the sample shows, the fraction of the n sampled pages the guest "
                     "touched this period.")
    INTEGER_DIVISION = ("that is what integer division gives: t // n drops the fraction and leaves a whole number (0 "
                        "for t < n); f is the fraction t / n, so divide with /.")
    IDLE_FRACTION = ("that looks like the idle fraction, the sampled pages the guest did not touch; f is the active "
                     "fraction: the sampled pages it touched.")
    MEAN = ("the estimate is not the mean of the averages, which would follow every change halfway; ESX takes the "
            "largest.")
    MEAN_OWN = ("that is the mean of your `slow` and `fast`, but the estimate is not the mean of the averages, which "
                "would follow every change halfway: ESX takes the largest (and fix the averages whose lines say so).")

    @staticmethod
    def _fraction(value: float, of: str = "") -> str | None:
        """What an answer outside [0, 1] must be (each answer is a fraction, ``of`` what if given;
        :attr:`Expect.allowed`): an instructor's trial's `f = -0.13` was told only what f is."""
        return None if 0 <= float(value) <= 1 else f"must lie between 0 and 1: it is a fraction{of}"

    def _draw(self, rng):
        self.max_mb = pick(rng, (128, 256, 512))
        self.n = pick(rng, (50, 100, 200))
        self.true_fraction = round(0.05 * int(rng.integers(2, 19)), 2)
        self.slow, self.fast = (round(0.05 * int(rng.integers(1, 20)), 2) for _ in range(2))
        self.slow_gain = pick(rng, (0.1, 0.25, 0.4))
        self.fast_gain = pick(rng, (0.6, 0.7, 0.9))

    def _run(self, slow_gain: float | None = None, fast_gain: float | None = None) -> Sampler:
        """One period of a VM that touches a fixed ``true_fraction`` of its pages every second."""
        rng = self.streams.child("problem:SamplingEstimate:run")
        pages = self.max_mb * PAGES_PER_MB
        s = Sampler(pages, self.n, self.PERIOD_S, slow_gain or self.slow_gain, fast_gain or self.fast_gain, rng,
                    averages=(self.slow, self.fast))
        hot = rng.choice(pages, size=int(self.true_fraction * pages), replace=False)
        last_touch = np.full(pages, -1, dtype=np.int32)
        for t in range(1, self.PERIOD_S + 1):
            last_touch[hot] = t
            s.tick(t, last_touch)
        return s

    def _interesting(self):
        """Every typical mistake fails (an EWMA whose old value is near f hardly moves, whatever its gain), and so
        do the misconceptions the course names, which :meth:`_apart` would leave off the list where they give the
        right answer: "f is the idle fraction" (t = n/2) and "the estimate is an average of the averages" (two
        averages within 2·TOL of each other). The instructor's trial of session 49: with class seed 2026, t = 50 of
        n = 100, and ``f = 1 - t/n`` passed."""
        right = {e.name: e.value for e in self._expectations()}
        named = ((1 - right["f"], right["f"]), ((right["slow"] + right["fast"]) / 2, right["estimate"]))
        return self._mistakes_apart() and not any(self._near(mistake, answer) for mistake, answer in named)

    @property
    def touched(self) -> int:
        """t: how many of the n sampled pages the guest touched in the period."""
        return int(round(self._run().last_f * self.n))

    def describe(self) -> str:
        return (f"A VM with {self.max_mb} MB of memory is sampled: n = {self.n} random pages per "
                f"{self.PERIOD_S} s period.\nThis period the guest touched t = {self.touched} of them "
                f"(p.touched). Before it the slow average was {self.slow:.2f}\nand the fast one {self.fast:.2f} "
                f"(gains: slow {self.slow_gain}, fast {self.fast_gain}).\n"
                "Give the period's active fraction `f`, the new averages `slow` and `fast`, and the estimate "
                "`estimate`\n(all fractions of the VM's memory).")

    def _solve(self):
        s = self._run()
        return dict(f=s.last_f, slow=s.slow, fast=s.fast, estimate=s.estimate)

    def _near(self, value: float, right: float) -> bool:
        """Whether ``value`` lies within the answers' tolerance (:data:`TOL`) of ``right``."""
        return _close(Expect("", "number", right, "", tol=self.TOL), value, right)

    def _apart(self, right: float, *mistakes: Mistake) -> tuple[Mistake, ...]:
        """Those of ``mistakes`` outside the tolerance of ``right``: one within it is no mistake, and listing it
        would make :meth:`_interesting` turn down a draw it kept before the mistake was added."""
        return tuple(m for m in mistakes if not self._near(m.value, right))

    def _in_memory(self, value: float, what: str) -> tuple[Mistake, ...]:
        """``value``, a fraction of the VM's memory, as a student who gave it in MB, GB or pages would write it
        (a fast average near 0, in GB, can be too near it to tell)."""
        return self._apart(value, *(m for unit, per_mb, back in self.MEMORY_UNITS
                                    for m in slip(value, self.max_mb * per_mb, f"that looks like {what} in {unit}; "
                                                  f"give it as a fraction of the VM's memory ({back}).")))

    def _expect(self):
        right = self._solve()
        gains_swapped = self._run(self.fast_gain, self.slow_gain)
        inverted = self._run(1 - self.slow_gain, 1 - self.fast_gain)
        # the gains swapped and each on the old average, both at once (where the gains add up to 1 it is the right
        # run, and the two slips are one mistake: no pair)
        both_gains = self._run(1 - self.fast_gain, 1 - self.slow_gain)
        slow_gain = self._gain_mistakes("slow", "smaller", gains_swapped.slow, inverted.slow)
        fast_gain = self._gain_mistakes("fast", "larger", gains_swapped.fast, inverted.fast)
        # the two averages in each other's place, named on both lines (none where they are within the tolerance
        # of each other: then the swap is right)
        to_slow, to_fast = swapped("slow", right["slow"], "fast", right["fast"], self.SWAPPED)
        ewma = "an EWMA moves from its old value toward f by its gain: new = old + gain·(f − old)."
        # (integer division's 0 lies within f's tolerance of t over all the VM's pages too: the nearer mistake is named)
        f_mistakes = (Mistake(self.touched / (self.max_mb * PAGES_PER_MB),
                              "f is a fraction of the n sampled pages, not of all the VM's pages."),
                      *self._apart(right["f"], Mistake(self.touched // self.n, self.INTEGER_DIVISION)),
                      *((Mistake(self.touched / 100, f"n is this problem's sample size, p.n = {self.n}, not the "
                                                     "paper's default of 100."),) if self.n != 100 else ()),
                      *slip(right["f"], self.max_mb, "that looks like the active memory in MB (f × p.max_mb); "
                                                     "f is a fraction of the n sampled pages: t / n."),
                      *unit_mistakes(right["f"], "fraction", "%"),
                      # (the trial of session 49: both were told the rounding hint or the general one; listed only
                      # outside f's tolerance, so the draws stay)
                      *self._apart(right["f"], Mistake(self.true_fraction, self.TRUE_FRACTION),
                                   Mistake(1 - right["f"], self.IDLE_FRACTION)))
        return [
            Expect("f", "number", right["f"], tol=self.TOL,
                   hint="f is the fraction of the sampled pages that were touched.", mistakes=f_mistakes,
                   allowed=lambda v: self._fraction(v, " of the n sampled pages")),
            paired(Expect("slow", "number", right["slow"], tol=self.TOL, hint=ewma,
                          mistakes=(*slow_gain, *self._apart(right["slow"], *to_slow),
                                    *self._in_memory(right["slow"], "the slow average"),
                                    *unit_mistakes(right["slow"], "fraction", "%")),
                          carried=self._carried("the slow average", self.slow, self.slow_gain),
                          allowed=self._fraction),
                   *(((both_gains.slow, *slow_gain),) if len(slow_gain) == 2 else ())),
            paired(Expect("fast", "number", right["fast"], tol=self.TOL, hint=ewma,
                          mistakes=(*fast_gain, *self._apart(right["fast"], *to_fast),
                                    *self._in_memory(right["fast"], "the fast average"),
                                    *unit_mistakes(right["fast"], "fraction", "%")),
                          carried=self._carried("the fast average", self.fast, self.fast_gain),
                          allowed=self._fraction),
                   *(((both_gains.fast, *fast_gain),) if len(fast_gain) == 2 else ())),
            Expect("estimate", "number", right["estimate"], tol=self.TOL,
                   hint="the estimate follows increases fast and decreases slowly.",
                   # named only beside the right averages: an estimate that is the larger of one's own rounded
                   # averages may be the smaller right one, and is then a rounding slip, not this mistake
                   mistakes=(*self._apart(right["estimate"], Mistake(
                                     min(right["slow"], right["fast"]), "taking the smaller average would follow "
                                     "decreases fast; ESX takes the largest.",
                                     given={"slow": right["slow"], "fast": right["fast"]}),
                                 # (an estimate that is also the right one cut or rounded is told that first)
                                 Mistake((right["slow"] + right["fast"]) / 2, self.MEAN,
                                         given={"slow": right["slow"], "fast": right["fast"]},
                                         rounding_first=True)),
                             *self._in_memory(right["estimate"], "the estimate"),
                             *unit_mistakes(right["estimate"], "fraction", "%")),
                   # the right rule from one's own wrong averages (a knock-on), and the mean of them (the mistake
                   # above, named whatever the averages: the trial of session 48)
                   carried=(Carried(lambda answers: self._own_estimate(answers, right), self.KNOCK_ON_ESTIMATE),
                            Carried(lambda answers: self._own_mean(answers, right), self.MEAN_OWN)),
                   allowed=self._fraction),
        ]

    KNOCK_ON = ("that is {what} your `f` gives (new = old + gain·(f − old)), but your `f` is not right: recheck `f` "
                "first, then work this answer out again from it.")
    KNOCK_ON_ESTIMATE = ("that is the larger of your `slow` and `fast`, as ESX takes it, but at least one of them is "
                         "not right: fix those whose lines say so first (and `f` before them, if its line says so "
                         "too).")

    def _own_averages(self, answers, right: dict) -> tuple[float, float]:
        """The student's own (slow, fast); ValueError when both are right (then what the estimate makes of them is
        a slip of its own, or a mistake listed with the right averages, and no average is to blame)."""
        slow, fast = float(answers["slow"]), float(answers["fast"])
        if self._near(slow, right["slow"]) and self._near(fast, right["fast"]):
            raise ValueError("both averages are right")
        return slow, fast

    def _own_estimate(self, answers, right: dict) -> float:
        """The estimate by the right rule from the student's own averages (ValueError when both are right)."""
        return max(self._own_averages(answers, right))

    def _own_mean(self, answers, right: dict) -> float:
        """The mean of the student's own averages, as a student who took it for the estimate gives it (ValueError when
        both are right, where the listed mistake names it, or when they lie within 2·TOL of each other, where their
        mean is within the tolerance of their larger one, the right rule: then no mistake can be told)."""
        slow, fast = self._own_averages(answers, right)
        if abs(slow - fast) <= 2 * self.TOL:
            raise ValueError("the mean is the larger average, within the tolerance")
        return (slow + fast) / 2

    def _gain_mistakes(self, which: str, size: str, gains_swapped: float, inverted: float) -> tuple[Mistake, ...]:
        """An average (``which``, updated with the ``size`` gain) worked out with the gains swapped, and with its gain
        on the old average; where the gains add up to 1 the two give one number, told in one sentence."""
        if abs(self.slow_gain + self.fast_gain - 1) < 1e-9:
            return (Mistake(gains_swapped, self.GAINS_ADD_UP_TO_1.format(which=which, size=size)),)
        return (Mistake(gains_swapped, f"the {which} average uses the {size} gain."),
                Mistake(inverted, "the gain weighs the new sample, not the old average."))

    def _carried(self, what: str, old: float, gain: float) -> Carried:
        """An average worked out rightly (§5.3) from whatever f the student gave: a student whose one slip is f is
        sent back to f, not to the update rule (invented: the exercise framework)."""
        return Carried(lambda answers: ewma(old, gain, float(answers["f"])), self.KNOCK_ON.format(what=what))
