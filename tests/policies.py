"""Replacement policies of one's own, legal and not, for the tests of the policy interface (§3.3): what
the host and the capstone's check must refuse, each with a part of its sentence (invented)."""
import numpy as np

import esxlab as esx
from esxlab.pmap import PRIVATE
from esxlab.swap import ReplacementPolicy, private_outside
from esxlab.workloads import HotCold


def _protected(vm, n, good, protect):
    mapped = [] if protect is None else protect[vm.pmap.state[protect] == PRIVATE]
    return mapped[:1] if len(mapped) else good


ILLEGAL = {
    "negative": (lambda vm, n, good, protect: -1 - np.arange(n), "which holds PPN -1, outside 0 ≤ PPN < 20480; it must return a 1-D array of distinct PPNs (whole numbers) of the VM's private pages."),
    "not private": (lambda vm, n, good, protect: np.flatnonzero(vm.pmap.state != PRIVATE)[:n],
                    "only private pages can be paged out."),
    "None": (lambda vm, n, good, protect: None,
             "returned None (NoneType), which is not an array of PPNs; it must return a 1-D array of distinct PPNs"),
    "2-D": (lambda vm, n, good, protect: good.reshape(1, -1), "which has 2 dimensions;"),
    "ragged": (lambda vm, n, good, protect: [[1, 2], [3]], "returned [[1, 2], [3]] (list), which is a ragged list, not an array;"),
    "out of range": (lambda vm, n, good, protect: np.arange(vm.pages, vm.pages + n), "holds PPN 20480, outside 0 ≤ PPN < 20480"),
    "floats": (lambda vm, n, good, protect: good.astype(float),
               "which holds float64 values, not integers (.astype(int) makes them PPNs); it must return a 1-D "
               "array of distinct PPNs (whole numbers)"),
    "halves": (lambda vm, n, good, protect: good + 0.5, "which holds float64 values, not integers ("),
    "huge": (lambda vm, n, good, protect: [2 ** 70], "which holds PPN 1180591620717411303424, outside 0 ≤ PPN < 20480;"),
    "boolean mask": (lambda vm, n, good, protect: np.isin(np.arange(vm.pages), good),
                     "which is a boolean mask (give the PPNs it selects: np.flatnonzero(mask));"),
    "set": (lambda vm, n, good, protect: set(good.tolist()),
            "(set), which is a set, and a set has no order (np.array(sorted(s)) gives its PPNs in order);"),
    "2**62": (lambda vm, n, good, protect: np.array([2 ** 62]), "holds PPN 4611686018427387904, outside 0 ≤ PPN < 20480"),
    "duplicates": (lambda vm, n, good, protect: np.r_[good[:1], good[:n - 1]] if n > 1 else good,
                   "twice (np.unique keeps each once);"),
    "protected": (lambda vm, n, good, protect: _protected(vm, n, good, protect),
                  "returned a page in `protect`: those are being faulted in right now."),
    "too many": (lambda vm, n, good, protect: private_outside(vm, protect)[:n + 1], "return at most n."),
}


class Oldest(ReplacementPolicy):
    """A legal policy of one's own: the private pages touched longest ago."""

    name = "oldest"

    def victims(self, vm, n, rng, protect):
        c = private_outside(vm, protect)
        return c[np.argsort(vm.last_touch[c], kind="stable")[:n]]


def bad_policy(kind: str) -> ReplacementPolicy:
    answer = ILLEGAL[kind][0]

    class Bad(Oldest):
        def victims(self, vm, n, rng, protect):
            return answer(vm, n, super().victims(vm, n, rng, protect), protect)
    return Bad()


def paging_host(policy, seconds: int = 100) -> esx.Host:
    """The capstone's paging host (40 MB, an 80 MB VM, sharing off): the policy is asked for victims, and, past
    the warm-up, on the fault path with pages in ``protect``."""
    host = esx.Host(esx.HostConfig(memory_mb=40, swap_mb=256, sharing=esx.SharingConfig(mode="off")), seed=0,
                    replacement=policy)
    host.power_on(esx.VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"), workload=HotCold(8, 32, 10))
    host.run(seconds=seconds)
    return host
