"""Exercise ``capstone_policy``: a hypervisor replacement policy that beats random (§3.3)."""
from __future__ import annotations

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
    """Wraps a student's policy and fails with a sentence when its victims are not legal."""

    def __init__(self, policy: ReplacementPolicy) -> None:
        self.policy = policy

    def victims(self, vm, n, rng, protect):
        try:
            with _builtin_calls() as used:
                out = self.policy.victims(vm, n, rng, protect)
        except NotImplementedError:                  # the starter's body: unanswered, as checks.check says it
            raise NotImplementedError("`victims` is not written yet: replace `raise NotImplementedError()` with "
                                      "your policy's choice of n private pages.") from None
        if used:                             # (the model's own policies are there to compare with, not to hand in)
            raise CheckFailed(f"your policy's victims() calls esxlab's own {used[0]}; the capstone asks for a policy "
                              "of your own: a ReplacementPolicy subclass whose victims() chooses the pages itself.")
        arr = np.asarray(out)
        if arr.ndim != 1:
            raise CheckFailed(f"victims() must return a 1-D array of page numbers (PPNs); got {_describe(out)} "
                              f"with {arr.ndim} dimension{'s' * (arr.ndim != 1)}.")
        if len(arr) and not np.issubdtype(arr.dtype, np.integer):
            raise CheckFailed(f"victims() must return integer page numbers (PPNs); got an array of {arr.dtype} "
                              "(e.g. use `.astype(int)`, or index an integer array such as np.flatnonzero's).")
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
        VM got done: a policy that frees nothing stalls it, and then nothing is swapped in."""
        config = HostConfig(memory_mb=self.memory_mb, swap_mb=256, sharing=SharingConfig(mode="off"))
        if isinstance(policy, str):                 # a built-in policy, by name: configuration
            config, policy = config.replace(replacement=policy), None
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
        goal = self._solve()
        mine, accesses = self.measure(_Validated(policy))
        if accesses < self.PROGRESS * goal["accesses"]:
            return (f"under your policy the VM touched {accesses} pages in the measured minute, under random "
                    f"replacement {goal['accesses']}: it spent the minute stalled, waiting for memory. Few "
                    "swap-ins do not count when the VM barely runs; victims() must free the n pages it is asked for.")
        if mine <= goal["goal"]:
            print(f"Your policy caused {mine} swap-ins in the measured minute; random replacement {goal['random']}.")
            return None
        return (f"random replacement caused {goal['random']} swap-ins and yours {mine}; to pass, at most "
                f"{goal['goal']}. Reconsider which private pages the VM will not touch again soon: the "
                "hypervisor can see when each PPN was last touched (vm.last_touch).")

    def _expect(self):
        return [Expect("policy", "object", None, cls=ReplacementPolicy, judge=self._judge,
                       hint="page out what the VM will not need soon.")]
