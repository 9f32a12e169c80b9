"""Seeded exercise problems: a seed poses the problem, the model answers it.

Like OSTEP's homework simulators: ``Problem(seed)`` draws its parameters from a child
stream of the seed (so other seeds pose other problems), :meth:`~Problem.describe` states
them for the notebook, and :meth:`~Problem.solve` runs esxlab's own model on them — no
answer is written down anywhere. :meth:`~Problem.expect` adds tolerances, a teaching hint
and the *typical mistakes* (the model run the wrong way: tax ignored, hysteresis ignored,
gains swapped...) for :mod:`esxlab.checks`, which names the mistake an answer matches.

Every parameter range here is invented (chosen to make small, varied problems).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .admission import admit, reserved
from .arrays import distinct
from .balloon import STUCK_S, BalloonDriver
from .checks import CheckFailed, Expect, Mistake
from .config import PAGES_PER_MB, HostConfig, RemapConfig, SharingConfig, VMConfig
from .content import image_tokens
from .errors import AdmissionError, Error
from .guest import PROFILES
from .host import Host
from .pmap import PRIVATE, STATE_NAMES
from .policy import compute_targets, shares_per_page
from .reclaim import STATES, FreeMemoryStates, plan
from .rng import Streams
from .sampling import Sampler
from .swap import ReplacementPolicy
from .workloads import EMPTY, Access, Workload

MAX_DRAWS = 200


def _pick(rng: np.random.Generator, options) -> Any:
    """One of ``options``, as the plain Python value."""
    return options[int(rng.integers(len(options)))]


class Problem:
    """Base class. Subclasses draw parameters in :meth:`_draw`, may reject dull draws in
    :meth:`_interesting`, and implement :meth:`describe`, :meth:`solve` and :meth:`_expect`."""

    def __init__(self, seed: int = 0) -> None:
        streams = Streams(seed)
        self.seed = streams.seed
        self.streams = streams
        self._expected: list[Expect] | None = None
        rng = streams.child(f"problem:{type(self).__name__}")
        for _ in range(MAX_DRAWS):
            self._draw(rng)
            if self._interesting():
                return
        raise Error(f"{type(self).__name__}(seed={seed}) drew no usable problem in {MAX_DRAWS} tries.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"

    def _draw(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _interesting(self) -> bool:
        return True

    def describe(self) -> str:
        """The problem statement: its parameters and what to answer."""
        raise NotImplementedError

    def solve(self) -> dict[str, Any]:
        """The answers, computed by running the model."""
        raise NotImplementedError

    def expect(self) -> list[Expect]:
        """What :func:`esxlab.checks.check` compares each answer with (computed once)."""
        if self._expected is None:
            self._expected = self._expect()
        return self._expected

    def _expect(self) -> list[Expect]:
        raise NotImplementedError

    def check(self, **answers: Any) -> None:
        """Same as ``checks.check(self, **answers)``."""
        checks.check(self, **answers)


# -- §5.2: ρ and the next victim ----------------------------------------------------------------
class RhoVictim(Problem):
    """Each VM's adjusted shares-per-page ratio ρ under a tax rate τ, and the VM that
    min-funding revocation takes memory from next (§5.1–5.2)."""

    NAMES = ("web", "db", "mail")

    def _draw(self, rng):
        self.tax_rate = _pick(rng, (0.0, 0.25, 0.5, 0.75, 0.9))
        self.vms = [dict(name=n, shares=_pick(rng, (1280, 2560, 5120)), alloc_mb=32 * int(rng.integers(2, 17)),
                         active_fraction=round(0.05 * int(rng.integers(1, 20)), 2)) for n in self.NAMES]

    def _interesting(self):
        r = sorted(self._rhos(self.tax_rate))
        return r[1] > 1.1 * r[0]                    # one clear victim

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

    def solve(self):
        rhos = self._rhos(self.tax_rate)
        return dict(rhos=rhos, victim=self._victim(rhos))

    def _expect(self):
        right = self.solve()
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
        self.tax_rate = _pick(rng, (0.25, 0.5, 0.75, 0.9))
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

    def solve(self):
        return dict(targets_mb=self._targets(self.tax_rate))

    def _expect(self):
        return [Expect("targets_mb", "numbers", self.solve()["targets_mb"], tol=1.0, unit="MB",
                       hint="with equal shares revocation stops where active + k·idle pages are equal in both VMs "
                            "(k = 1/(1 − τ)), and the targets add up to the memory the policy may hand out.",
                       mistakes=(Mistake(self._targets(0.0), "that is the split without the tax (τ = 0): equal "
                                                             "shares, equal memory. The tax charges idle pages k "
                                                             "times more."),))]


# -- §6.3: balloon or page ----------------------------------------------------------------------
class BalloonSplit(Problem):
    """How the host splits a VM's excess over its target between its balloon and the swap
    daemon, given the free-memory state and whether the driver can be used (§3.2, §6.3)."""

    DRIVERS = {"cooperative": "loaded and working", "absent": "not installed",
               "booting": "installed, but the guest is still booting", "stuck": "loaded, but it has made no "
                                                                                 f"progress for {STUCK_S} s"}

    def _draw(self, rng):
        self.state = _pick(rng, ("high", "soft", "soft", "soft", "hard"))
        self.driver = _pick(rng, ("cooperative", "cooperative", "cooperative", "absent", "booting", "stuck"))
        self.tax_rate = _pick(rng, (0.0, 0.5, 0.75))
        self.max_mb = _pick(rng, (256, 512))
        self.cap_pct = _pick(rng, (30, 50, 65))
        self.balloon_mb = 8 * int(rng.integers(0, 9))
        self.alloc_mb = int(rng.integers(self.max_mb // 2, self.max_mb - self.balloon_mb + 1))
        self.active_mb = int(rng.integers(10, self.alloc_mb))
        self.other = dict(max_mb=_pick(rng, (256, 512)), active_mb=int(rng.integers(50, 250)))
        self.available_mb = 16 * int(rng.integers(12, 40))

    @property
    def target_mb(self) -> float:
        """The host's target for the VM: min-funding revocation between it and the other VM (§5)."""
        t = compute_targets([10 * self.max_mb, 10 * self.other["max_mb"]], [0, 0],
                            [self.max_mb * PAGES_PER_MB, self.other["max_mb"] * PAGES_PER_MB],
                            [self.active_mb * PAGES_PER_MB, self.other["active_mb"] * PAGES_PER_MB],
                            self.available_mb * PAGES_PER_MB, self.tax_rate)
        return float(t[0]) / PAGES_PER_MB

    def _driver(self) -> tuple[BalloonDriver, int]:
        """The VM's balloon driver as the host sees it, and the VM's execution time."""
        mode = {"stuck": "uncooperative", "booting": "cooperative"}.get(self.driver, self.driver)
        d = BalloonDriver(mode, int(self.max_mb * PAGES_PER_MB * self.cap_pct / 100), 4, load_at_s=20)
        d.held = np.arange(self.balloon_mb * PAGES_PER_MB)
        d.stuck_for = STUCK_S if self.driver == "stuck" else 0
        return d, 10 if self.driver == "booting" else 600

    def _split(self, state: str | None = None, cap: int | None = None, usable: bool | None = None) -> list[float]:
        """[balloon MB, swap MB] by :func:`esxlab.reclaim.plan` (the host's default reading of high);
        the keywords run it with one rule misremembered, for the typical mistakes."""
        d, vm_time = self._driver()
        target = int(round(self.target_mb * PAGES_PER_MB))
        excess = self.alloc_mb * PAGES_PER_MB - target
        share = self.max_mb * PAGES_PER_MB - target if cap is None else cap
        bt, st = plan(STATES.index(state or self.state), excess, share, d.size, d.cap if cap is None else cap,
                      d.loaded(vm_time) or bool(usable), d.usable(vm_time) if usable is None else usable,
                      HostConfig().high_state)
        return [bt / PAGES_PER_MB, st / PAGES_PER_MB]

    def _interesting(self):
        return self.state == "high" or self.alloc_mb > self.target_mb + 4      # something to reclaim

    def describe(self):
        return (f"The host is in the {self.state!r} free-memory state. VM 'app' (max {self.max_mb} MB, "
                f"{self.active_mb} MB active) has\n"
                f"{self.alloc_mb} MB allocated and a balloon of {self.balloon_mb} MB (cap {self.cap_pct} % of max); "
                f"its balloon driver is {self.DRIVERS[self.driver]}.\n"
                f"The host's policy set its target to {self.target_mb:.2f} MB (p.target_mb), sharing "
                f"{self.available_mb} MB with a second VM.\n"
                "What balloon size does the host now ask for (`balloon_mb`), and how much does it ask the swap\n"
                "daemon to page out (`swap_mb`)?")

    def solve(self):
        balloon, swap = self._split()
        return dict(balloon_mb=balloon, swap_mb=swap)

    def _expect(self):
        right = self.solve()
        wrong = {  # the model run with one rule misremembered → what that rule says
            "page all": (self._split(state="hard"), "in the soft state ESX balloons first and pages only what "
                                                    "the balloon cannot take."),
            "balloon only": (self._split(state="soft"), "in the hard state ESX pages the whole excess (the "
                                                        "balloon keeps working as well)."),
            "no cap": (self._split(cap=1 << 30), "a balloon never grows past its cap (a percentage of max) "
                                                 "nor past max − target; what it cannot take is paged."),
            "usable": (self._split(usable=True), "a driver that is absent, still booting or making no progress "
                                                 "cannot take pages; the host pages instead."),
            "high": (self._split(state="soft"), "in the high state there is enough free memory: nothing is "
                                                "paged, and a balloon only takes a working driver's excess."),
        }
        relevant = {"soft": ("page all", "no cap", "usable"), "hard": ("balloon only", "no cap", "usable"),
                    "high": ("high",)}[self.state]
        hint = ("find the excess (allocation minus target); a balloon never holds more than max − target nor its cap; "
                "then apply the state's rule: high pages nothing, soft balloons and pages only what a working "
                "balloon cannot take, hard pages the whole excess.")
        return [Expect(name, "number", right[name], tol=0.5, unit="MB", hint=hint,
                       mistakes=tuple(Mistake(wrong[k][0][i], wrong[k][1]) for k in relevant))
                for i, name in enumerate(("balloon_mb", "swap_mb"))]


# -- §6.3: free-memory states -------------------------------------------------------------------
class FreeMemoryWalk(Problem):
    """The free-memory state after each of a sequence of free-memory readings (§6.3),
    answered by :class:`esxlab.reclaim.FreeMemoryStates`."""

    STEPS = 8

    def _draw(self, rng):
        self.memory_mb = _pick(rng, (1024, 2048, 4096))
        self.hysteresis_pct = _pick(rng, (0.5, 1.0, 1.5))
        pct, readings = 7.0, []
        for _ in range(self.STEPS):
            pct = float(np.clip(pct + _pick(rng, (-3, -2, -1, 1, 2, 3)) * 0.9 + rng.normal(0, 0.3), 0.3, 9.5))
            readings.append(int(round(pct * self.memory_mb / 100)))
        self.free_mb = readings

    def _states(self, **changes) -> list[str]:
        cfg = HostConfig(memory_mb=self.memory_mb, hysteresis_pct=self.hysteresis_pct).replace(**changes)
        fsm = FreeMemoryStates(cfg, cfg.total_pages)
        out = []
        for mb in self.free_mb:
            fsm.update(mb * PAGES_PER_MB)
            out.append(fsm.name)
        return out

    def _interesting(self):
        states = self._states()
        return len(set(states)) >= 3 and states != self._states(hysteresis_pct=0)

    def describe(self):
        return (f"A host with {self.memory_mb} MB of machine memory, default thresholds (high 6 %, soft 4 %, "
                f"hard 2 %, low 1 %)\nand a hysteresis margin of {self.hysteresis_pct:g} % starts in the 'high' "
                f"state. Free memory is then read {self.STEPS} times (MB, p.free_mb):\n  {self.free_mb}\n"
                "Give the state after each reading: `states`, a list of 'high', 'soft', 'hard' or 'low'.")

    def solve(self):
        return dict(states=self._states())

    def _expect(self):
        return [Expect("states", "choices", self.solve()["states"], choices=STATES,
                       hint="a state is entered when free memory drops below its threshold, and left for the next "
                            "higher one only when free memory exceeds that higher threshold plus the margin.",
                       mistakes=(Mistake(self._states(hysteresis_pct=0),
                                         "leaving a state upward needs free memory above the next higher "
                                         "threshold *plus* the hysteresis margin."),
                                 Mistake(self._states(state_entry="higher"),
                                         "a state is entered below its own threshold (soft below 4 %, hard below "
                                         "2 %, low below 1 %), not below the next higher one.")))]


class Admission(Problem):
    """Admission control (§6.2): the reservations of the running VMs, and whether one more
    may power on, answered by :mod:`esxlab.admission`."""

    VERDICTS = ("admit", "memory", "swap")

    def _draw(self, rng):
        self.memory_mb = _pick(rng, (512, 1024, 2048))
        self.swap_mb = _pick(rng, (512, 1024, 2048, 4096))

        def vm(name: str) -> VMConfig:
            mx = _pick(rng, (128, 256, 384, 512))
            return VMConfig(name=name, max_mb=mx, min_mb=_pick(rng, (0, mx // 4, mx // 2)),
                            overhead_mb=_pick(rng, (32, 48, 64)))
        self.running = [vm(f"vm{i + 1}") for i in range(int(rng.integers(2, 5)))]
        self.new = vm("new")

    def _verdict(self, **changes) -> str:
        try:
            admit(self.new.replace(**changes), [c.replace(**changes) for c in self.running],
                  self.memory_mb * PAGES_PER_MB, self.swap_mb * PAGES_PER_MB)
        except AdmissionError as err:
            return "swap" if "swap reservation" in str(err) else "memory"
        return "admit"

    def _reserved(self, **changes) -> list[float]:
        return [p / PAGES_PER_MB for p in reserved([c.replace(**changes) for c in self.running])]

    def _interesting(self):
        return self._verdict() != self._verdict(overhead_mb=0) or self._verdict() != "admit"

    def describe(self):
        rows = "\n".join(f"  {c.name}: max {c.max_mb:g} MB, min {c.min_mb:g} MB, overhead {c.overhead_mb:g} MB"
                         for c in self.running + [self.new])
        return (f"A host with {self.memory_mb} MB of machine memory and {self.swap_mb} MB of host swap runs "
                f"{len(self.running)} VMs;\n'new' asks to power on (p.running, p.new):\n{rows}\n"
                "How much machine memory and host swap do the running VMs reserve "
                "(`reserved_mb = [memory, swap]`),\nand what does admission control say about 'new' "
                "(`verdict`: 'admit', or which reservation is short: 'memory' or 'swap')?")

    def solve(self):
        return dict(reserved_mb=self._reserved(), verdict=self._verdict())

    def _expect(self):
        right = self.solve()
        no_overhead = "the memory reservation is min + overhead; the overhead (frame buffer, pmap...) counts."
        return [
            Expect("reserved_mb", "numbers", right["reserved_mb"], tol=0.5, unit="MB",
                   hint="each VM reserves min + overhead of machine memory and max − min of host swap.",
                   mistakes=(Mistake(self._reserved(overhead_mb=0), no_overhead),)),
            Expect("verdict", "choice", right["verdict"], choices=self.VERDICTS,
                   hint="add the new VM's reservations to the running ones' and compare with machine memory and "
                        "host swap; memory is checked first.",
                   mistakes=(Mistake(self._verdict(overhead_mb=0), no_overhead),)),
        ]


# -- §5.3: sampling ------------------------------------------------------------------------------
class SamplingEstimate(Problem):
    """One sampling period of :class:`esxlab.sampling.Sampler` (§5.3): from the touched count,
    the period's active fraction and the updated slow and fast averages and estimate."""

    PERIOD_S = 30

    def _draw(self, rng):
        self.max_mb = _pick(rng, (128, 256, 512))
        self.n = _pick(rng, (50, 100, 200))
        self.true_fraction = round(0.05 * int(rng.integers(2, 19)), 2)
        self.slow, self.fast = (round(0.05 * int(rng.integers(1, 20)), 2) for _ in range(2))
        self.slow_gain = _pick(rng, (0.1, 0.25, 0.4))
        self.fast_gain = _pick(rng, (0.6, 0.7, 0.9))

    def _run(self, slow_gain: float | None = None, fast_gain: float | None = None) -> Sampler:
        """One period of a VM that touches a fixed ``true_fraction`` of its pages every second."""
        rng = self.streams.child("problem:SamplingEstimate:run")
        pages = self.max_mb * PAGES_PER_MB
        s = Sampler(pages, self.n, self.PERIOD_S, slow_gain or self.slow_gain, fast_gain or self.fast_gain, rng)
        s.slow, s.fast, s.fast_current = self.slow, self.fast, self.fast
        hot = rng.choice(pages, size=int(self.true_fraction * pages), replace=False)
        last_touch = np.full(pages, -1, dtype=np.int32)
        for t in range(1, self.PERIOD_S + 1):
            last_touch[hot] = t
            s.tick(t, last_touch)
        return s

    @property
    def touched(self) -> int:
        """t: how many of the n sampled pages the guest touched in the period."""
        return int(round(self._run().last_f * self.n))

    def describe(self):
        return (f"A VM with {self.max_mb} MB of memory is sampled: n = {self.n} random pages per "
                f"{self.PERIOD_S} s period.\nThis period the guest touched t = {self.touched} of them "
                f"(p.touched). Before it the slow average was {self.slow:.2f}\nand the fast one {self.fast:.2f} "
                f"(gains: slow {self.slow_gain}, fast {self.fast_gain}).\n"
                "Give the period's active fraction `f`, the new averages `slow` and `fast`, and the estimate "
                "`estimate`\n(all fractions of the VM's memory).")

    def solve(self):
        s = self._run()
        return dict(f=s.last_f, slow=s.slow, fast=s.fast, estimate=s.estimate)

    def _expect(self):
        right = self.solve()
        swapped = self._run(self.fast_gain, self.slow_gain)
        inverted = self._run(1 - self.slow_gain, 1 - self.fast_gain)
        ewma = "an EWMA moves from its old value toward f by its gain: new = old + gain·(f − old)."
        return [
            Expect("f", "number", right["f"], tol=0.005,
                   hint="f is the fraction of the sampled pages that were touched.",
                   mistakes=(Mistake(self.touched / (self.max_mb * PAGES_PER_MB),
                                     "f is a fraction of the n sampled pages, not of all the VM's pages."),)),
            Expect("slow", "number", right["slow"], tol=0.005, hint=ewma,
                   mistakes=(Mistake(swapped.slow, "the slow average uses the smaller gain."),
                             Mistake(inverted.slow, "the gain weighs the new sample, not the old average."))),
            Expect("fast", "number", right["fast"], tol=0.005, hint=ewma,
                   mistakes=(Mistake(swapped.fast, "the fast average uses the larger gain."),
                             Mistake(inverted.fast, "the gain weighs the new sample, not the old average."))),
            Expect("estimate", "number", right["estimate"], tol=0.005,
                   hint="the estimate follows increases fast and decreases slowly.",
                   mistakes=(Mistake(min(right["slow"], right["fast"]),
                                     "taking the smaller average would follow decreases fast; ESX takes the "
                                     "largest."),)),
        ]


# -- §4: content-based page sharing ----------------------------------------------------------------
class Contents(Workload):
    """Invented workload with known contents: ``app_mb`` of an application image (identical in
    every VM running the same ``app``), ``zero_mb`` of zero pages and ``private_mb`` found in no
    other page. It reads them all in its first second; they never change afterwards."""

    name = "contents"
    file_backed = True

    def __init__(self, app: str, app_mb: float, zero_mb: float, private_mb: float) -> None:
        self.app = app
        self.sizes = [int(mb * PAGES_PER_MB) for mb in (app_mb, zero_mb, private_mb)]

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        self.pages = sum(self.sizes)
        return self.pages

    def disk_tokens(self, mint, pages):
        app, zero, private = self.sizes
        return np.concatenate([image_tokens(self.app, np.arange(app)), np.zeros(zero, dtype=np.uint64),
                               mint.take(private)])

    def step(self, t):
        return Access(np.arange(self.pages), np.zeros(self.pages, dtype=bool)) if t == 1 else EMPTY


class SharingPrediction(Problem):
    """How much memory content-based page sharing finds and reclaims (§4.2–4.3, Figure 4) for
    a set of Linux VMs with known contents, once the scanner has hashed every page, as
    :class:`esxlab.sharing.PageSharing` reports it. Salting (later ESX) decides who may share."""

    APPS = ("web", "db", "mail")
    MAX_MB = 24
    os_image_mb = PROFILES["linux"].image_mb

    def _draw(self, rng):
        self.app_mb = {a: _pick(rng, (2, 3, 4)) for a in self.APPS}
        self.vms = [dict(name=f"vm{i + 1}", os_version=_pick(rng, ("1", "1", "2")), app=_pick(rng, self.APPS),
                         zero_mb=int(rng.integers(1, 4)), private_mb=int(rng.integers(1, 5)),
                         salt=_pick(rng, (None, None, None, 7))) for i in range(int(rng.integers(3, 6)))]

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
        """Both salts and both OS versions occur, so that both rules matter."""
        return len({v["salt"] for v in self.vms}) == 2 and len({v["os_version"] for v in self.vms}) == 2

    def describe(self):
        rows = "\n".join(f"  {v['name']}: Linux version {v['os_version']}, runs {v['app']:>4}, {v['zero_mb']} MB of "
                         f"zero pages, {v['private_mb']} MB of private data, salt {v['salt']}" for v in self.vms)
        apps = ", ".join(f"{a} {mb} MB" for a, mb in self.app_mb.items())
        return (f"These VMs run on one host (p.vms):\n{rows}\n"
                f"Each guest kernel holds {self.os_image_mb:g} MB of OS code (p.os_image_mb), identical in VMs "
                "running the same Linux version;\nthe rest of the kernel is private data. Each application "
                f"image (p.app_mb: {apps}) is identical in every VM\nrunning it. Only VMs with equal salts may "
                "share (None counts as one common salt). The scanner has hashed every page\ntwice. How many MB "
                "of guest memory are shared (`shared_mb`), and how many MB of machine memory does sharing\n"
                "reclaim (`reclaimed_mb`)?")

    def solve(self):
        shared, reclaimed = self._run()
        return dict(shared_mb=shared, reclaimed_mb=reclaimed)

    def _expect(self):
        right = self.solve()
        no_salt, one_os = self._run(force_salting=0), self._run(os_version="1")
        salt = "VMs with different salts never share pages with each other."
        os_code = "only VMs running the same OS version hold identical kernel code."
        hint = ("group the VMs that may share; in each group, a content held by two or more pages (zero pages "
                "included, even within one VM) is shared, and one copy of it stays in memory.")
        return [
            Expect("shared_mb", "number", right["shared_mb"], tol=0.1, unit="MB", hint=hint,
                   mistakes=(Mistake(no_salt[0], salt), Mistake(one_os[0], os_code))),
            Expect("reclaimed_mb", "number", right["reclaimed_mb"], tol=0.1, unit="MB", hint=hint,
                   mistakes=(Mistake(right["shared_mb"], "one copy of each shared content (one page) stays in "
                                                         "memory: not every shared page is reclaimed."),
                             Mistake(no_salt[1], salt), Mistake(one_os[1], os_code))),
        ]


# -- §7: hot I/O page remapping ----------------------------------------------------------------------
class HotPageRemap(Problem):
    """When :class:`esxlab.remap.IORemapper` moves a guest page that takes part in repeated
    I/O from high to low memory (§7), and what the bounce copies cost until then."""

    BURSTS = 10

    def _draw(self, rng):
        self.threshold = _pick(rng, (4, 8, 16))
        self.window_s = _pick(rng, (5, 10, 20))
        t, self.bursts = 0, []
        for _ in range(self.BURSTS):
            t += int(rng.integers(1, 2 * self.window_s + 1))
            self.bursts.append((t, int(rng.integers(1, max(2, self.threshold // 3) + 1))))

    def _run(self, **changes) -> tuple[int, int]:
        """(second the page is remapped or −1, bounce copies until then) on a small host."""
        remap = RemapConfig(low_memory_mb=16, threshold=self.threshold, window_s=self.window_s).replace(**changes)
        host = Host(HostConfig(memory_mb=64, sharing=SharingConfig(mode="off"), remap=remap), seed=self.seed)
        vm = host.power_on(VMConfig(name="net", max_mb=32, overhead_mb=4))
        low = host.machine.low_pages
        kernel = np.arange(vm.guest.kernel_pages)
        ppn = int(kernel[(vm.pmap.state[kernel] == PRIVATE) & (vm.pmap.mpn[kernel] >= low)][-1])
        copies = dict(self.bursts)
        while host.time < self.bursts[-1][0]:
            host.step()
            if host.time in copies:
                host.remap.io(vm, np.full(copies[host.time], ppn))
                if vm.pmap.mpn[ppn] < low:
                    return host.time, host.remap.bounce_copies
        return -1, host.remap.bounce_copies

    def _interesting(self):
        when = self._run()[0]
        return when > 0 and when != self._run(window_s=3600)[0]

    def describe(self):
        return (f"A guest page backed by high machine memory (above the DMA boundary) is a network buffer. At "
                f"these seconds\nthe guest transmits from it, (second, transfers) (p.bursts):\n  {self.bursts}\n"
                f"Each transfer from high memory is one bounce copy. ESX remaps a page once it counts "
                f"{self.threshold} copies (p.threshold);\na page's count restarts after more than "
                f"{self.window_s} s without I/O (p.window_s). At which second is the page remapped to low "
                "memory\n(`remap_s`), and how many bounce copies did it cost until then, that second included "
                "(`bounce_copies`)?")

    def solve(self):
        when, copies = self._run()
        return dict(remap_s=when, bounce_copies=copies)

    def _expect(self):
        right = self.solve()
        no_window, late = self._run(window_s=3600), self._run(threshold=self.threshold + 1)
        window = "a page's count restarts when more than window_s seconds pass without I/O on it."
        last_burst = dict(self.bursts).get(right["remap_s"], 0)
        return [
            Expect("remap_s", "number", right["remap_s"], tol=0, unit="s",
                   hint="add up each burst's copies, restart the count after a long enough pause, and find the "
                        "burst that brings it to the threshold.",
                   mistakes=(Mistake(no_window[0], window),
                             Mistake(late[0], "the page is remapped on the I/O that brings its count *to* the "
                                              "threshold."))),
            Expect("bounce_copies", "number", right["bounce_copies"], tol=0,
                   hint="every transfer while the page sits in high memory is copied, from the first burst on.",
                   mistakes=(Mistake(right["bounce_copies"] - last_burst,
                                     "the transfers of the burst that makes the page hot are still copied; "
                                     "remapping helps the next ones."),
                             Mistake(no_window[1], window))),
        ]


# -- capstone: a replacement policy that beats random ------------------------------------------------
class HotCold(Workload):
    """Invented workload with locality: it writes all of its ``hot_mb + cold_mb`` once while
    warming up, then every second touches all hot pages and ``cold_per_s`` random cold ones."""

    name = "hot-cold"

    def __init__(self, hot_mb: float, cold_mb: float, cold_per_s: int, warm_s: int = 20) -> None:
        self.hot, self.cold = int(hot_mb * PAGES_PER_MB), int(cold_mb * PAGES_PER_MB)
        self.cold_per_s, self.warm_s = int(cold_per_s), int(warm_s)

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        self.pages = self.hot + self.cold
        return self.pages

    def step(self, t):
        if t <= self.warm_s:
            per = -(-self.pages // self.warm_s)
            lps = np.arange((t - 1) * per, min(t * per, self.pages))
        else:
            lps = np.concatenate([np.arange(self.hot),
                                  self.hot + distinct(self.rng.integers(0, self.cold, self.cold_per_s))])
        return Access(lps, np.ones(len(lps), dtype=bool))


class _Validated(ReplacementPolicy):
    """Wraps a student's policy and fails with a sentence when its victims are not legal."""

    def __init__(self, policy: ReplacementPolicy) -> None:
        self.policy = policy

    def victims(self, vm, n, rng, protect):
        out = self.policy.victims(vm, n, rng, protect)
        arr = np.asarray(out)
        if arr.ndim != 1 or (len(arr) and not np.issubdtype(arr.dtype, np.integer)):
            raise CheckFailed(f"victims() must return a 1-D array of page numbers (PPNs); got {out!r:.60}.")
        if len(arr) > n:
            raise CheckFailed(f"victims() was asked for {n} pages and returned {len(arr)}; return at most n.")
        if len(distinct(arr)) != len(arr):
            raise CheckFailed("victims() returned the same page twice; each victim must be distinct.")
        if len(arr) and (arr.min() < 0 or arr.max() >= vm.pages):
            raise CheckFailed(f"victims() returned a page outside 0..{vm.pages - 1}, the VM's PPNs.")
        bad = arr[vm.pmap.state[arr] != PRIVATE]
        if len(bad):
            raise CheckFailed(f"victims() returned PPN {bad[0]}, whose state is "
                              f"{STATE_NAMES[vm.pmap.state[bad[0]]]!r}: only private pages can be paged out.")
        if protect is not None and np.isin(arr, protect).any():
            raise CheckFailed("victims() returned a page in `protect`: those are being faulted in right now.")
        return arr


class BeatRandom(Problem):
    """Capstone (§3.3 future work): write a hypervisor replacement policy that causes fewer
    swap-ins than the paper's random replacement on a workload with locality."""

    WARM_S, MEASURE_S = 40, 60
    GOAL = 0.75          # at most this fraction of random's swap-ins

    def _draw(self, rng):
        self.hot_mb = _pick(rng, (8, 12, 16))
        self.cold_mb = _pick(rng, (32, 40, 48))
        self.cold_per_s = _pick(rng, (10, 20, 40))
        self.memory_mb = _pick(rng, (40, 44, 48))

    def measure(self, policy: ReplacementPolicy | str) -> int:
        """Swap-ins of the VM in the measured minute after warm-up, under ``policy`` (page sharing
        off, so that only the replacement policy decides)."""
        config = HostConfig(memory_mb=self.memory_mb, swap_mb=256, sharing=SharingConfig(mode="off"))
        host = Host(config, seed=self.seed, replacement=policy)
        vm = host.power_on(VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"),
                           workload=HotCold(self.hot_mb, self.cold_mb, self.cold_per_s))
        host.run(seconds=self.WARM_S)
        before = vm.totals.swap_ins
        host.run(seconds=self.MEASURE_S)
        return vm.totals.swap_ins - before

    def _interesting(self):
        return self.solve()["random"] >= 200                 # enough paging for the goal to mean something

    def describe(self):
        return (f"VM 'app' (max 80 MB, no balloon driver) runs on a host with {self.memory_mb} MB; its workload "
                f"writes\n{self.hot_mb + self.cold_mb} MB once, then every second touches all {self.hot_mb} MB of "
                f"hot pages and {self.cold_per_s} random cold pages.\nThe hypervisor must page. Write a "
                "ReplacementPolicy whose victims cause at most "
                f"{100 * self.GOAL:.0f} % of the swap-ins random\nreplacement causes in the measured minute "
                "(`policy`, an instance).")

    def solve(self):
        """Swap-ins under random replacement, and the most a passing policy may cause."""
        base = self.measure("random")
        return dict(random=base, goal=int(self.GOAL * base))

    def _judge(self, policy: ReplacementPolicy) -> str | None:
        goal = self.solve()
        mine = self.measure(_Validated(policy))
        if mine <= goal["goal"]:
            print(f"Your policy caused {mine} swap-ins in the measured minute; random replacement {goal['random']}.")
            return None
        return (f"random replacement caused {goal['random']} swap-ins and yours {mine}; to pass, at most "
                f"{goal['goal']}. Reconsider which private pages the VM will not touch again soon: the "
                "hypervisor can see when each PPN was last touched (vm.last_touch).")

    def _expect(self):
        return [Expect("policy", "object", None, cls=ReplacementPolicy, judge=self._judge,
                       hint="page out what the VM will not need soon.")]
