"""Exercise ``ballooning``: how the host splits an excess between balloon and swap (§3.2, §6.3)."""
from __future__ import annotations

import itertools

from ..checks import Expect, Mistake, both
from ..config import PAGES_PER_MB, HostConfig, VMConfig
from ..policy import compute_targets
from ..reclaim import STATES, plan
from .base import Problem, pick, slip, unit_mistakes


class BalloonSplit(Problem):
    """How the host splits a VM's excess over its target between its balloon and the swap
    daemon, given the free-memory state and whether the driver can be used (§3.2, §6.3)."""

    #: p.driver → how describe() states it: config.BALLOON_MODES' names (lesson 02's), and 'booting', a driver
    #: not loaded yet
    DRIVERS = {"cooperative": "loaded and working", "absent": "not installed",
               "booting": "installed, but the guest is still booting",
               "uncooperative": "loaded, but uncooperative: it has freed no memory for "
                                f"{HostConfig().balloon_stuck_s} s"}
    ANSWER_NAMES = ("balloon_mb", "swap_mb")
    _TOL_MB = 0.5
    #: the hint for the paper's plain reading of high (§6.3: "no reclamation is performed")
    CONVERGE = ("esxlab reads §6.3 as 'converge' (HostConfig.high_state, see the Background): in high nothing is "
                "paged, but a working balloon still takes the VM's excess over its target; only paging waits for "
                "soft.")
    #: the state's rule, as the fallback hint states it (the learning goals' words)
    RULES = {"high": "high pages nothing but still asks a working balloon for the excess",
             "soft": "soft balloons and pages only what a working balloon cannot take",
             "hard": "hard pages the whole excess and still asks a loaded driver's balloon for it"}
    FROM_MAX = ("the excess is the allocation minus the target; max − target is only the most a balloon may hold "
                "(its reclaimed share).")
    FORGOT = ("the balloon already holds p.balloon_mb: the host asks for that plus the excess (up to its cap and "
              "max − target), and what the balloon newly takes is not paged.")
    #: lesson 02's cap (esxlab's default, later ESXi's), which a problem with another p.cap_pct does not use
    LESSON_CAP_PCT = VMConfig("app", 1).balloon_max_pct
    LESSON_CAP = (f"that is the answer with lesson 02's {LESSON_CAP_PCT:g} % cap; this problem's balloon may hold "
                  "p.cap_pct % of max (the cap varies from problem to problem).")
    #: free memory (% of the machine) up to which none is to spare: the high threshold and two hysteresis margins
    #: (reclaim.py: above the goal, itself the high threshold plus the margin, by the margin)
    SPARE_PCT = HostConfig().high_pct + 2 * HostConfig().hysteresis_pct
    DEFLATED = ("a VM at or below its target has no excess, and its balloon keeps its size (unless it holds more than "
                "max − target): ESX deflates a balloon in high only to give back memory to spare, and this host has "
                f"none (at most {SPARE_PCT:g} % of its memory free).")

    def _draw(self, rng):
        self.state = pick(rng, ("high", "soft", "soft", "soft", "hard"))
        self.driver = pick(rng, ("cooperative", "cooperative", "cooperative", "absent", "booting", "uncooperative"))
        self.tax_rate = pick(rng, (0.0, 0.5, 0.75))
        self.max_mb = pick(rng, (256, 512))
        self.cap_pct = pick(rng, (30, 50, 65))
        self.balloon_mb = 8 * int(rng.integers(0, 9))
        if self.driver in ("absent", "booting"):  # no driver (yet), no balloon; an uncooperative one may
            self.balloon_mb = 0
        self.alloc_mb = int(rng.integers(self.max_mb // 2, self.max_mb - self.balloon_mb + 1))
        self.active_mb = int(rng.integers(10, self.alloc_mb))
        self.other = dict(max_mb=pick(rng, (256, 512)), active_mb=int(rng.integers(50, 250)))
        self.available_mb = 16 * int(rng.integers(12, 40))

    @property
    def target_mb(self) -> float:
        """The host's target for the VM: min-funding revocation between it and the other VM (§5)."""
        t = compute_targets([10 * self.max_mb, 10 * self.other["max_mb"]], [0, 0],
                            [self.max_mb * PAGES_PER_MB, self.other["max_mb"] * PAGES_PER_MB],
                            [self.active_mb * PAGES_PER_MB, self.other["active_mb"] * PAGES_PER_MB],
                            self.available_mb * PAGES_PER_MB, self.tax_rate)
        return float(t[0]) / PAGES_PER_MB

    def _driver(self, cap_pct: int | None = None) -> tuple[int, int, bool, bool]:
        """The balloon as the host sees it: (size, cap) in pages, loaded, usable — by the rules of
        :meth:`esxlab.balloon.BalloonDriver.usable`: loaded (installed, guest booted), making
        progress (an uncooperative driver is not) and under its cap (``cap_pct`` % of max; default p.cap_pct)."""
        pct = self.cap_pct if cap_pct is None else cap_pct
        size, cap = self.balloon_mb * PAGES_PER_MB, int(self.max_mb * PAGES_PER_MB * pct / 100)
        loaded = self.driver not in ("absent", "booting")
        return size, cap, loaded, loaded and self.driver != "uncooperative" and size < cap

    def _split(self, state: str | None = None, cap: int | None = None, usable: bool | None = None,
               high_state: str | None = None, alloc_mb: int | None = None, size: int | None = None,
               cap_pct: int | None = None) -> list[float]:
        """[balloon MB, swap MB] by :func:`esxlab.reclaim.plan` (the host's default reading of high);
        the keywords run it with one rule misremembered (or high read another way, the excess taken from another
        allocation, the balloon's current size in pages forgotten, the cap taken as another percentage of max),
        for the typical mistakes."""
        own_size, own_cap, loaded, own_usable = self._driver(cap_pct)
        size = own_size if size is None else size
        target = int(round(self.target_mb * PAGES_PER_MB))
        excess = (alloc_mb or self.alloc_mb) * PAGES_PER_MB - target
        share = self.max_mb * PAGES_PER_MB - target if cap is None else cap
        bt, st = plan(STATES.index(state or self.state), excess, share, size, own_cap if cap is None else cap,
                      loaded or bool(usable), own_usable if usable is None else usable,
                      high_state or HostConfig().high_state)
        return [bt / PAGES_PER_MB, st / PAGES_PER_MB]

    def _interesting(self):
        """Something for the answer to turn on, and every typical mistake fails: something to
        reclaim, or in high a balloon held (invented: in high a VM at or below its target with no
        balloon is asked for nothing, whatever the rules, so no misremembered rule changes its
        answer (0, 0) and the checker had no typical mistake to name, for 17 of seeds 0–599)."""
        above = self.alloc_mb > self.target_mb + 4
        return (above or self.state == "high" and self.balloon_mb > 0) and self._mistakes_apart()

    def describe(self) -> str:
        spare = f" (at most {self.SPARE_PCT:g} % of its memory free: none to spare)" if self.state == "high" else ""
        return (f"The host is in the {self.state!r} free-memory state{spare}. VM 'app' (max {self.max_mb} MB, "
                f"{self.active_mb} MB active) has\n"
                f"{self.alloc_mb} MB allocated and a balloon of {self.balloon_mb} MB (its cap in this problem: "
                f"{self.cap_pct} % of max, p.cap_pct);\nits balloon driver is {self.DRIVERS[self.driver]}.\n"
                f"The host's policy set its target to {self.target_mb:.2f} MB (p.target_mb), dividing "
                f"{self.available_mb} MB of memory between it and a second VM.\n"
                "What balloon size does the host now ask for (`balloon_mb`: the balloon's whole size, not the\n"
                "increase), and how much does it ask the swap daemon to page out (`swap_mb`)?")

    def _solve(self):
        balloon, swap = self._split()
        return dict(balloon_mb=balloon, swap_mb=swap)

    def _expect(self):
        right = self._solve()
        wrong = {  # the model run with one rule misremembered (_split's keywords) → what that rule says
            "page all": (dict(state="hard"), "in the soft state ESX balloons first and pages only what the balloon "
                                             "cannot take."),
            "balloon only": (dict(state="soft"), "in the hard state ESX pages the whole excess (and still asks the "
                                                 "balloon for the excess as well)."),
            "no cap": (dict(cap=1 << 30), "a balloon never grows past its cap (a percentage of max) nor past "
                                          "max − target; what it cannot take is paged."),
            # (one hint per answer: only an absent or booting driver's balloon stays as it is; an uncooperative
            # one is still asked for the excess)
            "usable": (dict(usable=True), ("an absent or still-booting driver takes nothing: its balloon neither "
                                           "grows nor shrinks, and the host pages the excess instead.",
                                           "a driver that is absent, still booting or uncooperative (making no "
                                           "progress) cannot take pages; the host pages instead.")),
            "high": (dict(state="soft"), "in the high state there is enough free memory: nothing is paged, and a "
                                         "balloon only takes a working driver's excess."),
            # (high pages nothing, so "usable"'s hint, which pages the excess, does not hold; an uncooperative
            # driver's balloon asked for the excess is the soft split, named by "high")
            "unloaded in high": (dict(usable=True), "an absent or still-booting driver takes nothing: its balloon "
                                                    "neither grows nor shrinks, and in high nothing is paged either."),
        }
        _, _, loaded, _ = self._driver()
        relevant = {"soft": ("page all", "no cap", "usable"), "hard": ("balloon only", "no cap", "usable"),
                    "high": ("high",) if loaded else ("high", "unloaded in high")}[self.state]

        def rule(key: str, i: int, **also) -> Mistake:
            """Answer ``i`` with rule ``key`` misremembered (and those of ``also``: _split's keywords)."""
            how, hint = wrong[key]
            return Mistake(self._split(**how, **also)[i], hint if isinstance(hint, str) else hint[i])

        def rules(i: int) -> tuple[Mistake, ...]:
            """The misremembered rules that change answer ``i`` (under the answers they change), and each two of
            them made together where that gives another value than each alone (its own hint: both rules')."""
            answer = right[self.ANSWER_NAMES[i]]
            each = {k: rule(k, i) for k in relevant}
            one = tuple(m for m in each.values() if m.value != answer)
            two = [both(rule(a, i, **wrong[b][0]).value, each[a], each[b])
                   for a, b in itertools.combinations(relevant, 2)]
            return one + tuple(m for m in self._beyond(answer, *two)
                               if not any(abs(m.value - o.value) <= self._TOL_MB + 1e-9 for o in one))

        fraction = "that looks like a fraction of max; give it in MB."
        grown = right["balloon_mb"] - self.balloon_mb
        increase = (Mistake(grown, "that is how much the balloon grows; give its whole size, what it holds now "
                                   "plus that."),) if self.balloon_mb and grown else ()
        asked = ("outside high the host asks a loaded driver's balloon for the excess (up to its cap and max − "
                 "target) even while it pages: in hard, or with an uncooperative driver, it keeps the balloon growing "
                 "and pages the excess too.")
        kept = (Mistake(float(self.balloon_mb), asked),) if self.state != "high" and loaded and grown else ()
        # the paper's reading of high (a working balloon kept as it is), named only outside the tolerance: one
        # within it would turn down a draw kept before this mistake was added (so are the slips of _steps)
        paper = self._beyond(right["balloon_mb"], Mistake(self._split(high_state="idle")[0], self.CONVERGE)) \
            if self.state == "high" else ()
        return [Expect(name, "number", right[name], tol=self._TOL_MB, unit="MB", hint=self._hint(name),
                       nonnegative=True,
                       mistakes=unit_mistakes(right[name], "MB", "GB")
                       + slip(right[name], 1 / self.max_mb, fraction)
                       + rules(i)
                       + unit_mistakes(right[name], "MB", "pages", "KB")
                       + ((increase + kept + paper) if name == "balloon_mb" else ())
                       + self._steps(i, right[name]))
                for i, name in enumerate(self.ANSWER_NAMES)]

    def _beyond(self, right: float, *mistakes: Mistake) -> tuple[Mistake, ...]:
        """Those of ``mistakes`` outside the tolerance of ``right``: a typical mistake added to the checker
        must not turn down a draw (:meth:`_interesting`) that seeds posed before it was added."""
        return tuple(m for m in mistakes if abs(m.value - right) > self._TOL_MB + 1e-9)

    def _steps(self, i: int, right: float) -> tuple[Mistake, ...]:
        """Slips in a step before the state's rule, for answer ``i`` (0 balloon, 1 swap): the excess taken from
        max instead of the allocation, for swap the balloon's current size forgotten (the balloon asked for the
        excess alone; for the balloon that is the increase, which has its own hint), and, where p.cap_pct is not 65,
        lesson 02's 65 % cap taken instead of the problem's."""
        forgot = (Mistake(self._split(size=0)[i], self.FORGOT),) if i == 1 and self.balloon_mb else ()
        at65 = self._split(cap_pct=self.LESSON_CAP_PCT)[i]
        no_cap = self._split(cap=1 << 30)[i] if self.state != "high" else None     # (its own hint says why)
        lesson = (Mistake(at65, self.LESSON_CAP),) \
            if self.cap_pct != self.LESSON_CAP_PCT and (no_cap is None or abs(at65 - no_cap) > self._TOL_MB) else ()
        # a balloon deflated by (or to nothing for) a VM below its target, as if memory were plentiful: in high only
        deficit = self.target_mb - self.alloc_mb
        deflated = tuple(Mistake(v, self.DEFLATED) for v in sorted({max(0.0, self.balloon_mb - deficit), 0.0})) \
            if i == 0 and self.state == "high" and deficit > 0 and self.balloon_mb else ()
        return self._beyond(right, Mistake(self._split(alloc_mb=self.max_mb)[i], self.FROM_MAX), *forgot, *lesson,
                            *deflated)

    def _hint(self, name: str) -> str:
        """The steps to check for an answer no typical mistake explains: the excess, what the balloon may hold
        (for the balloon, and for swap in soft), and this state's rule (not the other states')."""
        steps = ["the excess is the allocation minus the target"]
        if name == "balloon_mb" or self.state == "soft":
            steps.append("the balloon is asked for what it holds now plus the excess (a VM at or below its target "
                         "has none: its balloon does not grow), never more than its cap (a percentage of max) nor "
                         "max − target")
        return f"check each step: {'; '.join(steps)}; then the state's rule: {self.RULES[self.state]}."
