"""Exercise ``capstone_policy``: a hypervisor replacement policy that beats random (§3.3)."""
from __future__ import annotations

import copy
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from ..arrays import distinct
from ..checks import CheckFailed, Expect, _describe
from ..config import HostConfig, SharingConfig, VMConfig
from ..host import Host
from ..pmap import PRIVATE, STATE_NAMES
from ..swap import POLICIES, ReplacementPolicy
from ..workloads import HotCold
from .base import Problem, pick


class _Validated(ReplacementPolicy):
    """Wraps a student's policy and fails with a sentence when its victims are not legal: the check's rules, and
    :meth:`BeatRandom.measure`'s (one code, so a student who tunes with measure meets the check's sentences).
    ``own``: also refuse a policy that calls esxlab's own (the check; measure may run those, to compare).
    ``short``: (n, returned, qualifying) the first time victims() returned fewer than n pages while more private
    pages outside ``protect`` qualified (the interface allows fewer only when none do), else None."""

    def __init__(self, policy: ReplacementPolicy, own: bool = True) -> None:
        self.policy = policy
        self.own = own
        self.short: tuple[int, int, int] | None = None

    def victims(self, vm, n, rng, protect):
        try:
            with _builtin_calls() as used:
                out = self.policy.victims(vm, n, rng, protect)
        except NotImplementedError:                  # the starter's body: unanswered, as checks.check says it
            raise NotImplementedError("`victims` is not written yet: replace `raise NotImplementedError()` with "
                                      "your policy's choice of n private pages.") from None
        if used and self.own:                # (the model's own policies are there to compare with, not to hand in)
            raise CheckFailed(f"your policy's victims() calls esxlab's own {used[0]}; the capstone asks for a policy "
                              "of your own: a ReplacementPolicy subclass whose victims() chooses the pages itself.")
        arr = np.asarray(out)
        if arr.ndim != 1:
            raise CheckFailed(f"victims() must return a 1-D array of page numbers (PPNs); got {_describe(out)} "
                              f"with {arr.ndim} dimension{'s' * (arr.ndim != 1)}.")
        if len(arr) and not np.issubdtype(arr.dtype, np.integer):
            raise CheckFailed(f"victims() must return integer page numbers (PPNs); got an array of {arr.dtype} "
                              "(a boolean mask: its True positions are np.flatnonzero(mask); else e.g. `.astype(int)`).")
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
        if len(arr) < n and self.short is None:
            ok = vm.pmap.state == PRIVATE
            if protect is not None and len(protect):
                ok[np.asarray(protect, dtype=np.int64)] = False
            if len(arr) < min(n, int(ok.sum())):
                self.short = (n, len(arr), int(ok.sum()))
        return arr


def _fresh(policy: ReplacementPolicy) -> ReplacementPolicy:
    """A copy of ``policy`` (``copy.deepcopy``) for one run, so that every run starts from the policy as the student
    built it, not from the state (a clock hand) an earlier run left (the trial of session 49: a policy's bug showed
    or not depending on what ran before); the policy itself if it cannot be copied (it holds a module or a lock)."""
    try:
        return copy.deepcopy(policy)
    except Exception:                                           # noqa: BLE001 (any object a student stores)
        return policy


@contextmanager
def _builtin_calls() -> Iterator[list[str]]:
    """While open, the names of esxlab's own policies (:data:`esxlab.swap.POLICIES`) whose ``victims`` were called,
    in order (a student's policy that is one of them, inherits its ``victims`` or calls it)."""
    used: list[str] = []
    originals = {cls: cls.victims for cls in POLICIES.values()}

    def spy(cls):
        def victims(self, *args, **kwargs):
            used.append(cls.__name__)
            return originals[cls](self, *args, **kwargs)
        return victims
    try:
        for cls in originals:
            cls.victims = spy(cls)
        yield used
    finally:
        for cls, victims in originals.items():
            cls.victims = victims


class BeatRandom(Problem):
    """Capstone (§3.3 future work): write a hypervisor replacement policy that causes fewer
    swap-ins than the paper's random replacement on a workload with locality."""

    ANSWER_NAMES = ("policy",)

    WARM_S, MEASURE_S = 40, 60
    GOAL = 0.75          # at most this fraction of random's swap-ins
    PROGRESS = 0.5       # while the VM does at least this fraction of the work it does under random

    def _draw(self, rng):
        self.hot_mb = pick(rng, (8, 12, 16))
        self.cold_mb = pick(rng, (32, 40, 48))
        self.cold_per_s = pick(rng, (10, 20, 40))
        self.memory_mb = pick(rng, (40, 44, 48))

    def measure(self, policy: ReplacementPolicy | str) -> tuple[int, int]:
        """(swap-ins, page accesses) of the VM in the measured minute after warm-up, under ``policy``
        (page sharing off, so that only the replacement policy decides). The accesses (``totals.accesses``:
        the guest's page touches, its workload's nearly all, the OS's own about 50 a second) are the work the
        VM got done: a policy that frees nothing stalls it, and then nothing is swapped in.

        A policy instance runs as the check runs it: its victims must be legal (else :class:`CheckFailed`, with
        the check's sentence), and it runs as a fresh copy (``copy.deepcopy``), so each measure and the check start
        from the policy as you built it; the state it keeps (a hand) is not carried from one run to the next, and
        ``policy`` itself is left as it was."""
        config = HostConfig(memory_mb=self.memory_mb, swap_mb=256, sharing=SharingConfig(mode="off"))
        if isinstance(policy, str):                 # a built-in policy, by name: configuration
            config, policy = config.replace(replacement=policy), None
        elif not isinstance(policy, _Validated):    # (the check's own, already validated)
            policy = _Validated(_fresh(policy), own=False)
        host = Host(config, seed=self.seed, replacement=policy)
        vm = host.power_on(VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"),
                           workload=HotCold(self.hot_mb, self.cold_mb, self.cold_per_s))
        host.run(seconds=self.WARM_S)
        before, done = vm.totals.swap_ins, vm.totals.accesses
        host.run(seconds=self.MEASURE_S)
        return vm.totals.swap_ins - before, vm.totals.accesses - done

    def _interesting(self):
        return self._solve()["random"] >= 200                 # enough paging for the goal to mean something

    def describe(self) -> str:
        return (f"VM 'app' (max 80 MB, no balloon driver) runs on a host with {self.memory_mb} MB; its workload "
                f"writes\n{self.hot_mb + self.cold_mb} MB once, then every second touches all {self.hot_mb} MB of "
                f"hot pages and {self.cold_per_s} random cold pages.\nThe hypervisor must page. Write a "
                "ReplacementPolicy whose victims cause at most "
                f"{100 * self.GOAL:.0f} % of the swap-ins random\nreplacement causes in the measured minute "
                "(`policy`, an instance).")

    def _solve(self):
        """Swap-ins and accesses under random replacement, and the most swap-ins a passing policy may cause."""
        base, accesses = self.measure("random")
        return dict(random=base, goal=int(self.GOAL * base), accesses=accesses)

    def _judge(self, policy: ReplacementPolicy) -> str | None:
        """The check runs a fresh copy of ``policy`` (``copy.deepcopy``, as :meth:`measure` does): the state an
        earlier measure or check left in it decides nothing, and ``policy`` is left as it was."""
        goal = self._solve()
        validated = _Validated(_fresh(policy))
        mine, accesses = self.measure(validated)
        short = ""
        if validated.short:
            n, got, qualify = validated.short
            short = (f"victims() was asked for {n} pages and returned {got}, while {qualify} private pages outside "
                     "`protect` could be chosen: it must return n pages (fewer only when fewer qualify).")
        if accesses < self.PROGRESS * goal["accesses"]:
            return (f"under your policy the VM touched {accesses} pages in the measured minute, under random "
                    f"replacement {goal['accesses']}: it spent the minute stalled, waiting for memory. Few "
                    "swap-ins do not count when the VM barely runs; victims() must free the n pages it is asked "
                    "for." + (f" {short}" if short else ""))
        if mine <= goal["goal"]:
            print(f"Your policy caused {mine} swap-ins in the measured minute; random replacement {goal['random']}."
                  + (f"\nBut note: {short}" if short else ""))
            return None
        return (f"random replacement caused {goal['random']} swap-ins and yours {mine}; to pass, at most "
                f"{goal['goal']}. " + (short or "Reconsider which private pages the VM will not touch again soon: "
                                               "the hypervisor can see when each PPN was last touched (vm.last_touch)."))

    def _expect(self):
        return [Expect("policy", "object", None, cls=ReplacementPolicy, judge=self._judge,
                       hint="page out what the VM will not need soon.")]
