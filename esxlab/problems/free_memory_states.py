"""Exercise ``free_memory_states``: the free-memory states with hysteresis (§6.3) and
admission control (§6.2); and lesson 07's admission scenario, for its worked example and its reveal."""
from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np

from ..admission import admit, reserved
from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB, HostConfig, VMConfig
from ..errors import AdmissionError
from ..host import Host
from ..reclaim import STATES, FreeMemoryStates
from .base import Problem, differing, paired, pick, unit_mistakes

PAPER_STATES = tuple(s for s in STATES if s != "clear")      # §6.3's four; "clear" is ESXi 6's (later ESX)


def lesson_vms(max_mb: float = 96, min_mb: float = 32) -> list[VMConfig]:
    """Lesson 07's three VMs, ``vm0`` to ``vm2``, with the default 32 MB of overhead: the prediction asks about
    the default shape, the worked example uses another (invented sizes)."""
    return [VMConfig(name=f"vm{i}", max_mb=max_mb, min_mb=min_mb) for i in range(3)]


def power_on_all(configs: Iterable[VMConfig] | VMConfig, memory_mb: float, swap_mb: float) -> str | None:
    """Power ``configs`` (VMConfigs, or one) on one by one on a fresh host of ``memory_mb`` and ``swap_mb``
    (§6.2): the first refusal's sentence, or None when every VM is admitted."""
    if isinstance(configs, VMConfig):
        configs = [configs]
    host = Host(HostConfig(memory_mb=memory_mb, swap_mb=swap_mb), seed=0)
    try:
        for config in configs:
            host.power_on(config)
    except AdmissionError as err:
        return str(err)
    return None


def smallest_admitting_mb(configs: Collection[VMConfig], swap_mb: float, lo: int = 128, hi: int = 512,
                          step: int = 8) -> int | None:
    """The smallest machine memory from ``lo`` to ``hi`` MB, in ``step`` MB steps (lesson 07's slider), at
    which :func:`power_on_all` admits every one of ``configs``; None if none does."""
    return next((mb for mb in range(lo, hi + 1, step) if power_on_all(configs, mb, swap_mb) is None), None)


class FreeMemoryWalk(Problem):
    """The free-memory state after each of a sequence of free-memory readings (§6.3),
    answered by :class:`esxlab.reclaim.FreeMemoryStates`."""

    ANSWER_NAMES = ("states",)

    STEPS = 8

    def _draw(self, rng):
        self.memory_mb = pick(rng, (1024, 2048, 4096))
        self.hysteresis_pct = pick(rng, (0.5, 1.0, 1.5))
        pct, readings = 7.0, []
        for _ in range(self.STEPS):
            pct = float(np.clip(pct + pick(rng, (-3, -2, -1, 1, 2, 3)) * 0.9 + rng.normal(0, 0.3), 0.3, 9.5))
            readings.append(int(round(pct * self.memory_mb / 100)))
        self.free_mb = readings

    def _states(self, forget: bool = False, soft_below_high: bool = False, rungs: tuple[int, int] | None = None,
                **changes) -> list[str]:
        """The state after each reading of :attr:`free_mb`, by the host's state machine with ``changes`` to its
        config, or run the wrong way (typical mistakes): ``forget``, a fresh machine (in high) for each reading, so
        the state follows from the reading and the thresholds alone, as if there were no hysteresis;
        ``soft_below_high``, soft entered below high's threshold (6 %) instead of its own, the other states below
        their own; ``rungs`` = (down, up), at most that many states passed per reading in each direction."""
        cfg = HostConfig(memory_mb=self.memory_mb, hysteresis_pct=self.hysteresis_pct).replace(**changes)
        fsm = FreeMemoryStates(cfg, cfg.total_pages)
        out = []
        for mb in self.free_mb:
            if forget:
                fsm = FreeMemoryStates(cfg, cfg.total_pages)
            if soft_below_high:
                fsm.entry[STATES.index("soft")] = fsm.thresholds[STATES.index("high")]
            ladder = [int(s) for s in np.flatnonzero(fsm.active)]      # the states this host has, high first
            old = ladder.index(fsm.state)
            fsm.update(mb * PAGES_PER_MB)
            if rungs is not None:
                fsm.state = ladder[min(max(ladder.index(fsm.state), old - rungs[1]), old + rungs[0])]
            out.append(fsm.name)
        return out

    def _interesting(self):
        """Three states or more, and every typical mistake (hysteresis ignored, entry thresholds shifted) fails."""
        return len(set(self._states())) >= 3 and self._mistakes_apart()

    def describe(self) -> str:
        return (f"A host with {self.memory_mb} MB of machine memory, default thresholds (high 6 %, soft 4 %, "
                f"hard 2 %, low 1 %)\nand a hysteresis margin of {self.hysteresis_pct:g} % starts in the 'high' "
                f"state. Free memory is then read {self.STEPS} times (MB, p.free_mb):\n  {self.free_mb}\n"
                "Give the state after each reading: `states`, a list of 'high', 'soft', 'hard' or 'low'.")

    def _solve(self):
        return dict(states=self._states())

    ONE_RUNG = ("the host does not step one state at a time: a reading enters the lowest state whose threshold "
                "free memory is below, and leaves upward past every higher threshold free memory exceeds by the "
                "margin, passing several states in one reading if need be.")

    def _expect(self):
        right = self._solve()["states"]
        no_margin = Mistake(self._states(hysteresis_pct=0), "leaving a state upward needs free memory above the next "
                                                           "higher threshold *plus* the hysteresis margin.")
        higher = Mistake(self._states(state_entry="higher"), "a state is entered below its own threshold (soft below "
                                                             "4 %, hard below 2 %, low below 1 %), not below the next "
                                                             "higher one.")
        soft_below_high = Mistake(self._states(soft_below_high=True),
                                  "in this exercise (esxlab's reading of §6.3, notebook 07; the paper states the entry "
                                  "rule only for low) soft is entered below its own threshold, 4 %, not below high's "
                                  "6 %: between 4 % and 6 % of free memory the host stays in the state it is in.")
        # listed only where they change the answer (problems.base.differing)
        later = differing(right,
                          Mistake(self._states(forget=True),
                                  "the state is not read off each reading alone: the host remembers where it is, "
                                  "and leaves a state upward only once free memory exceeds the next higher threshold "
                                  "plus the margin (from soft, above 6 % + the margin; from hard, above 4 % + it; "
                                  "from low, above 2 % + it)."),
                          soft_below_high,
                          Mistake(self._states(rungs=(1, len(STATES))), self.ONE_RUNG),
                          Mistake(self._states(rungs=(1, 1)), self.ONE_RUNG))
        e = Expect("states", "choices", right, choices=PAPER_STATES, per="reading", order="of p.free_mb",
                   hint="a state is entered when free memory drops below its threshold, and left for the next higher "
                        "one only when free memory exceeds that higher threshold plus the margin.",
                   mistakes=(no_margin, higher, *later))
        # the margin left out together with an entry threshold misplaced (each state's, or soft's alone)
        return [paired(e, (self._states(hysteresis_pct=0, state_entry="higher"), no_margin, higher),
                       (self._states(hysteresis_pct=0, soft_below_high=True), no_margin, soft_below_high))]


class Admission(Problem):
    """Admission control (§6.2): the reservations of the running VMs, and whether one more
    may power on, answered by :mod:`esxlab.admission`."""

    ANSWER_NAMES = ("reserved_mb", "verdict")
    VARIABLE = "q"

    VERDICTS = ("admit", "memory", "swap")
    #: the hint for a verdict that never checks host swap (only a 'swap' verdict can change: listed where it does)
    SWAP_TOO = ("admission control checks host swap as well as machine memory: every VM, 'new' included, reserves "
                "max − min of host swap.")
    #: the hint for a verdict on the running VMs' sums alone (§6.2: the VM powering on must be guaranteed its own
    #: reservations); that verdict is always 'admit', for each running VM was admitted (:meth:`_draw`)
    LEFT_OUT = ("the new VM's own reservations count in the verdict: admission control adds its min + overhead and "
                "its max − min to the running VMs' reservations before comparing them with machine memory and host "
                "swap.")

    def _draw(self, rng):
        self.memory_mb = pick(rng, (512, 1024, 2048))
        self.swap_mb = pick(rng, (512, 1024, 2048, 4096))

        def vm(name: str) -> VMConfig:
            mx = pick(rng, (128, 256, 384, 512))
            return VMConfig(name=name, max_mb=mx, min_mb=pick(rng, (0, mx // 4, mx // 2)),
                            overhead_mb=pick(rng, (32, 48, 64)))
        self.running = []                    # powered on one by one: admission control let each of them in
        for _ in range(int(rng.integers(2, 6))):
            candidate = vm(f"vm{len(self.running) + 1}")
            try:
                admit(candidate, self.running, self.memory_mb * PAGES_PER_MB, self.swap_mb * PAGES_PER_MB)
            except AdmissionError:
                continue
            self.running.append(candidate)
        self.new = vm("new")

    def _verdict(self, strict: bool = False, swap: bool = True, **changes) -> str:
        """The verdict on 'new', with ``changes`` to every VM's config; ``strict``: a reservation that exactly fills
        what is left refused (a typical mistake: admission control refuses only a sum *above* the host's memory or
        swap; the sums are whole pages, so one page less of each refuses exactly those equal to it); ``swap=False``:
        host swap left unchecked (a typical mistake, "admission only checks memory": §6.2 reserves swap too)."""
        less = 1 if strict else 0
        try:
            admit(self.new.replace(**changes), [c.replace(**changes) for c in self.running],
                  self.memory_mb * PAGES_PER_MB - less, (self.swap_mb * PAGES_PER_MB - less) if swap else None)
        except AdmissionError as err:
            return "swap" if "swap reservation" in str(err) else "memory"
        return "admit"

    def _reserved(self, new: bool = False, **changes) -> list[float]:
        """[memory, swap] MB reserved by the running VMs (and the new one too if ``new``), with ``changes`` to
        their configs."""
        vms = self.running + ([self.new] if new else [])
        return [p / PAGES_PER_MB for p in reserved([c.replace(**changes) for c in vms])]

    def _interesting(self):
        """At least two VMs running; an admit only when it is a close call (the new VM brings memory or
        swap reservations to 75 % or more of the host's), so that every verdict needs the sums."""
        if len(self.running) < 2:
            return False
        if self._verdict() != "admit":
            return True
        memory, swap = self._reserved(new=True)
        return memory >= 0.75 * self.memory_mb or swap >= 0.75 * self.swap_mb

    def describe(self) -> str:
        rows = "\n".join(f"  {c.name}: max {c.max_mb:g} MB, min {c.min_mb:g} MB, overhead {c.overhead_mb:g} MB"
                         for c in self.running + [self.new])
        return (f"A host with {self.memory_mb} MB of machine memory and {self.swap_mb} MB of host swap runs "
                f"{len(self.running)} VMs;\n'new' asks to power on (q.running, q.new):\n{rows}\n"
                "How much machine memory and host swap do the running VMs reserve "
                "(`reserved_mb = [memory, swap]`),\nand what does admission control say about 'new' "
                "(`verdict`: 'admit', or which reservation is short: 'memory' or 'swap')?\n"
                "A reservation fits when the sum, the new VM's own included, is at most (≤) what the host has: a sum\n"
                "exactly equal to the host's memory (or swap) still fits.")

    def _solve(self):
        return dict(reserved_mb=self._reserved(), verdict=self._verdict())

    def _expect(self):
        right = self._solve()
        no_overhead = "the memory reservation is min + overhead; the overhead (frame buffer, pmap...) counts."
        forgot = self._verdict(overhead_mb=0)    # only a 'memory' verdict can change: listed when it does
        strict = self._verdict(strict=True)      # only at exactly the host's memory or swap: listed when it changes
        exactly = ("a reservation that exactly fills what is left still fits: admission control admits 'new' when "
                   "the reservations, its own included, are at most (≤) machine memory and at most host swap, and "
                   "refuses only a sum above them.")
        overhead = Mistake(self._reserved(overhead_mb=0), no_overhead)
        new = Mistake(self._reserved(new=True), "only the running VMs' reservations count: 'new' is not powered on "
                                                "yet; its own are added only to decide the verdict.")
        return [
            paired(Expect("reserved_mb", "numbers", right["reserved_mb"], tol=0.5, unit="MB", order="[memory, swap]",
                          nonnegative=True,
                          hint="each VM reserves min + overhead of machine memory and max − min of host swap.",
                          mistakes=(overhead, new, *unit_mistakes(right["reserved_mb"], "MB", "GB", "pages", "KB"))),
                   (self._reserved(new=True, overhead_mb=0), overhead, new)),
            Expect("verdict", "choice", right["verdict"], choices=self.VERDICTS,
                   hint="add the new VM's reservations to the running ones' and compare with machine memory and "
                        "host swap (a sum equal to them still fits); memory is checked first.",
                   mistakes=tuple(Mistake(v, hint) for v, hint in ((forgot, no_overhead), (strict, exactly),
                                                                    (self._verdict(swap=False), self.SWAP_TOO),
                                                                    ("admit", self.LEFT_OUT))
                                  if v != right["verdict"])),
        ]
