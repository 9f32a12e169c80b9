"""Beyond the paper: random vs LRU-like (clock) hypervisor page replacement (§3.1, §3.3).

ESX pages out victims chosen **at random**, on purpose: a meta-level policy that mimics LRU
risks "pathological interference" with the guest's own replacement, such as double paging
(the host swaps a page out, then the guest, short of memory itself, picks the same page to
write to its virtual disk, so it is read back from the host's swap only to be written out
again). The paper gives no numbers. Here one VM without a balloon driver (so the host must
page) is held ``max_mb − available_mb`` below its size, with two workloads:

* ``dbench``: the guest is short of memory itself (its file set exceeds its size) and its own
  clock evicts the pages it touched least recently — the very pages a clock in the hypervisor
  swaps out first, so the guest's write-backs hit swapped pages: **double paging**;
* ``loop``: a toucher sweeping a working set larger than its allocation, LRU's worst case:
  the clock evicts exactly the page that will be needed next.

Page sharing is off by default, so every page the host reclaims is paged (with sharing on,
"share before swap" would reclaim the guest's zero pages first). For each workload and
policy the table reports swap-ins and double-paging events per minute
and throughput. The checked rows compare clock with random as the paper's argument predicts
(ratio ≥ 1: clock does not do better); the ratio itself has no paper value, so there is no
tolerance beyond the direction.
"""
from __future__ import annotations

import math

from types import SimpleNamespace

import numpy as np

from ..config import HostConfig, SharingConfig, VMConfig
from ..host import Host
from ..trace import Trace
from ..vm import Counters
from ..workloads import Dbench, Toucher
from .common import memory_for
from .params import Param, Rule, by_name, check_seed, resolve, sharing
from .result import Result

TITLE = "Beyond the paper: random vs clock hypervisor replacement, double paging"
POLICIES = ("random", "clock")
CLAIM = ("the paper gives no number: it chose random replacement to avoid pathological interference with "
         "the guest's own policy (§3.1, §3.3); the row checks that clock does no better than random (ratio ≥ 1). "
         "A ratio below 1 (NO) means clock counted fewer per minute, as it does when the low state blocks its VM "
         "for part of the run (a blocked VM runs, and faults, less): compare the throughputs.")

PARAMS = {
    "vm_mb": Param(256, "VM size (max)", 32, 4096, step=16, unit="MB"),
    "available_mb": Param(160, "memory the host lets it have", 16, 4096, step=8, unit="MB"),
    "clients": Param(40, "dbench clients", 1, 400, integer=True),
    "loop_mb": Param(200, "looping toucher working set", 8, 4096, step=8, unit="MB"),
    "sweep_s": Param(20, "looping toucher sweep time", 1, 300, step=1, unit="s"),
    "minutes": Param(6, "run length", 2, 600, step=1, unit="min"),
    "sharing": sharing(),
}
RULES = (
    Rule("available_mb < vm_mb and available_mb < loop_mb ≤ 0.9 × vm_mb",
         "the host must page: neither the VM nor the looping working set fits in what the host lets it have, "
         "and the loop fits in 90 % of the VM",
         lambda p: p.available_mb < p.vm_mb and p.available_mb < p.loop_mb <= 0.9 * p.vm_mb,
         lambda p: f"0.9 × vm_mb = {0.9 * p.vm_mb:g}"),
)


def one_run(p: SimpleNamespace, policy: str, workload: str, seed: int) -> tuple[Counters, Trace]:
    """(totals, trace) of one VM under ``policy`` running ``workload`` ("dbench" or "loop")."""
    host = Host(HostConfig(memory_mb=memory_for(p.available_mb, 1), swap_mb=2 * p.vm_mb,
                           sharing=SharingConfig(mode=p.sharing), replacement=policy), seed=seed)
    wl = Dbench(clients=p.clients) if workload == "dbench" else Toucher([(0, p.loop_mb)], sweep_s=p.sweep_s)
    vm = host.power_on(VMConfig(name="guest", max_mb=p.vm_mb, balloon="absent"), workload=wl)
    return vm.totals, host.run(minutes=p.minutes)


@by_name
def run(seed: int = 0, **params: object) -> Result:
    """Run the comparison; its parameters, given by name (``run(0, name=value)``), override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("replacement", PARAMS, params, RULES)
    res = Result("replacement", dict(vars(p), seed=seed))
    stats = {}
    for workload in ("dbench", "loop"):
        for policy in POLICIES:
            totals, tr = one_run(p, policy, workload, seed)
            res.traces[f"{workload}_{policy}"] = tr
            stats[workload, policy] = dict(
                swap_ins=totals.swap_ins / p.minutes, double_paging=totals.double_paging / p.minutes,
                throughput=tr.mean("guest", "throughput", p.minutes / 3, p.minutes))
            for key, unit in (("swap_ins", "pages/min"), ("double_paging", "pages/min"), ("throughput", "acc/s")):
                if workload == "loop" and key == "double_paging":
                    continue
                res.add(f"{workload}, {policy}: {key.replace('_', ' ')}", None, stats[workload, policy][key],
                        None, unit)
    for quantity, w, k in (("dbench: double paging, clock / random", "dbench", "double_paging"),
                           ("loop: swap-ins, clock / random", "loop", "swap_ins")):
        clock, rand = stats[w, "clock"][k], stats[w, "random"][k]
        if rand > 0:
            res.add(quantity, 1, clock / rand, 0, relation="≥", note=CLAIM)
        else:                             # no ratio to take: the claim cannot be checked
            res.add(quantity, None, math.inf if clock else 1.0, None,
                    note=f"replacement: random replacement gave no {k.replace('_', ' ')} in this setting "
                         f"(clock {clock:g} pages/min); no ratio, not compared.")
    res.traces["summary"] = {f"{w}_{pol}_{k}": np.array([v]) for (w, pol), d in stats.items() for k, v in d.items()}
    return res
