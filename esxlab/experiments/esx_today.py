"""Beyond the paper: ESX Server 2002 beside ESXi 6 — the states, limits, compression and large pages.

Nothing here is in the paper; every documented number is later ESX (vSphere 6 documentation and VMware
KBs; minFree's bands as write-ups of ESXi's memory states give them), marked so in the rows' notes
(:data:`LATER`, :data:`MINFREE_LATER`). Four parts, each a small run:

* **minFree** (set-up checks): the ESXi 6 sliding scale — 6 % of the first 4 GB, 4 % of the next
  8 GB, 2 % of the next 16 GB, 1 % of the rest — as ``HostConfig.esxi6(memory_mb=M).minfree_mb``
  computes it for 4, 12, 28 and 128 GB hosts (245.76, 573.44, 901.12 and 1925.12 MB).
* **eras**: the same ``vms`` VMs (each ``vm_mb``, an identical OS image, a toucher whose working
  set grows to ``busy_pct`` % of the VM) on an overcommitted host of ``host_mb``, once with
  ``HostConfig.esx2002`` and once with ``HostConfig.esxi6``: the time spent in each state, and
  what balloon, compression, swap and sharing held at the end (no documented numbers: not checked).
* **limit**: one VM of ``vm_mb`` with a limit of ``limit_mb``, touching ``busy_pct`` % of its
  memory, alone on an esxi6 host with memory to spare. Later ESX: the VM is reclaimed down to its
  limit (balloon first, then swap) although the host is idle.
* **large pages**: ``vms`` identical VMs with one salt (so salting lets them share) on an esxi6 host
  (large pages on) with memory to spare
  for ``calm_min`` minutes, then a memory hog powers on. Later ESX: with large pages and no
  pressure page sharing saves (almost) nothing; once pressure breaks the large pages (the clear
  state) it saves memory again.

Tolerances (defended): minFree ± 0.01 MB (a formula: only rounding to pages may differ); the
limit ± max(2 MB, 3 % of the limit) (the balloon steps toward its target at its rate and the
allocation is read at the end of the run); sharing with large pages and no pressure ≤ 1 MB (the
documentation says "none"; a page broken by a guest's own small mapping is the model's slack);
sharing after the break ≥ 1 MB (a direction: the documentation gives no amount).
"""
from __future__ import annotations

from types import SimpleNamespace

from ..config import HostConfig, VMConfig
from ..errors import AdmissionError, ConfigError
from ..host import Host
from ..reclaim import STATES
from ..trace import Trace
from ..workloads import Contents, Toucher
from .common import kept
from .params import Param, Rule, by_name, check_seed, resolve
from .result import Result

TITLE = "Beyond the paper: ESX Server 2002 beside ESXi 6 (states, limits, compression, large pages)"
ERAS = ("esx2002", "esxi6")
LATER = "later ESX (vSphere 6 documentation), not the paper"
#: minFree's rows: the sliding scale is documented for ESXi by write-ups of its memory states, not by the paper
MINFREE_LATER = ("later ESX (ESXi's minFree bands as write-ups of its memory states give them, worked out: they "
                 "quote 899 MB for 28 GB, each band rounded down to whole MB), not the paper")
#: where the values compared with come from (a dashboard's table heads their column with it)
REFERENCE = "later ESX"
#: host sizes (GB) → minFree (MB) as ESXi 6's sliding scale gives it (its bands, worked out)
MINFREE_MB = {4: 245.76, 12: 573.44, 28: 901.12, 128: 1925.12}
MINFREE_TOL = 0.01
LARGE_PAGES_CALM_TOL = 1.0
LARGE_PAGES_BROKEN_MB = 1.0
IMAGE_MB = 16            # the identical OS image in every VM (invented size)
SALT = 7                 # one salt for the large-page VMs: salting (2 in esxi6) must not be what stops sharing

PARAMS = {
    "vms": Param(4, "identical VMs", 2, 16, integer=True),
    "vm_mb": Param(64, "max of each VM", 32, 1024, step=16, unit="MB"),
    "host_mb": Param(200, "machine memory of the overcommitted host", 64, 8192, step=16, unit="MB"),
    "busy_pct": Param(75, "working set each VM grows to", 10, 95, step=5, unit="% of max"),
    "limit_mb": Param(32, "limit of the limited VM", 16, 1024, step=16, unit="MB"),
    "calm_min": Param(2, "minutes before the memory hog starts", 1, 30, step=1, unit="min"),
    "minutes": Param(4, "run length", 2, 60, step=1, unit="min"),
}
RULES = (
    Rule("limit_mb below the working set, busy_pct % of vm_mb", "a limit at or above it never binds",
         lambda p: p.limit_mb < p.vm_mb * p.busy_pct / 100, lambda p: f"working set {p.vm_mb * p.busy_pct / 100:g} MB"),
    Rule("calm_min + 1 < minutes", "the hog needs time to break pages", lambda p: p.calm_min + 1 < p.minutes),
    Rule("host_mb large enough for vms VMs of vm_mb MB", "each era's admission control must take them; checked as "
         "they power on"),
)


def preset(era: str, **overrides: object) -> HostConfig:
    """``HostConfig.esx2002(**overrides)`` or ``HostConfig.esxi6(**overrides)``."""
    return getattr(HostConfig, era)(**overrides)


def _power_on_busy(host: Host, p: SimpleNamespace, name: str, **vm) -> None:
    """A ``vm_mb`` VM whose working set grows to half of ``busy_pct`` % at once, to all of it at 1 min."""
    grow = [(0, p.vm_mb * p.busy_pct / 200), (60, p.vm_mb * p.busy_pct / 100)]
    host.power_on(VMConfig(name=name, max_mb=p.vm_mb, overhead_mb=4, **vm), workload=Toucher(grow, sweep_s=10))


def run_era(p: SimpleNamespace, era: str, seed: int) -> tuple[Trace, Host]:
    """The same VMs on an overcommitted host of ``host_mb`` under one era's preset."""
    host = Host(preset(era, memory_mb=p.host_mb), seed=seed)
    for i in range(p.vms):
        try:
            _power_on_busy(host, p, f"vm{i + 1}")
        except AdmissionError as e:        # the experiment's own VMs: the sizes chosen do not fit
            raise ConfigError(f"esx_today: vms = {p.vms} VMs of vm_mb = {p.vm_mb:g} MB do not fit a host of host_mb = "
                              f"{p.host_mb:g} MB ({era}: {e}); allowed: a larger host_mb, or fewer vms.") from None
    return host.run(minutes=p.minutes), host


def run_limit(p: SimpleNamespace, seed: int) -> tuple[Trace, Host]:
    """One VM limited below its size, alone on an esxi6 host with memory to spare."""
    host = Host(preset("esxi6", memory_mb=4 * p.vm_mb + 64), seed=seed)
    _power_on_busy(host, p, "limited", limit_mb=p.limit_mb)
    return host.run(minutes=p.minutes), host


def run_large_pages(p: SimpleNamespace, seed: int) -> tuple[Trace, Host]:
    """``vms`` identical small VMs (half ``vm_mb``, one salt) on an esxi6 host sized so that their
    maxima fit with its free-memory goal to spare: no target below max, nothing reclaimed. At
    ``calm_min`` a memory hog (twice ``vm_mb``, touching ``busy_pct`` % of it) powers on."""
    quiet_mb = p.vm_mb / 2
    host = Host(preset("esxi6", memory_mb=p.vms * (quiet_mb + 4) / 0.75), seed=seed)
    for i in range(p.vms):
        host.power_on(VMConfig(name=f"vm{i + 1}", max_mb=quiet_mb, overhead_mb=4, salt=SALT),
                      workload=Contents("os", IMAGE_MB, 0, 2))
    host.run(minutes=p.calm_min)
    host.power_on(VMConfig(name="hog", max_mb=2 * p.vm_mb, overhead_mb=4),
                  workload=Toucher([(0, 2 * p.vm_mb * p.busy_pct / 100)], sweep_s=10))
    return host.run(minutes=p.minutes - p.calm_min), host


def era_states(era: str) -> list[str]:
    """The free-memory states an era's preset uses, from high to low (the paper has no clear)."""
    return [s for s in STATES if era == "esxi6" or s != "clear"]


def state_share(trace: Trace, names: list[str]) -> dict[str, float]:
    """Percent of the run's ticks spent in each state of ``names``."""
    seen = trace.state_names()
    return {s: 100.0 * sum(x == s for x in seen) / max(1, len(seen)) for s in names}


@by_name
def run(seed: int = 0, **params: object) -> Result:
    """Run the four parts; its parameters, given by name (``run(0, name=value)``), override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("esx_today", PARAMS, params, RULES)
    res = Result("esx_today", dict(vars(p), seed=seed), reference=REFERENCE)
    for gb, mb in MINFREE_MB.items():
        res.add(f"minFree of a {gb} GB host", mb, preset("esxi6", memory_mb=gb * 1024).minfree_mb, MINFREE_TOL,
                "MB", note=MINFREE_LATER, kind="set-up")
    # every part but the limit's is the same simulation whatever limit_mb is: kept, not rerun
    others = ("esx_today", seed, tuple(sorted((k, v) for k, v in vars(p).items() if k != "limit_mb")))
    for era in ERAS:
        trace, host = kept((*others, era), lambda era=era: run_era(p, era, seed))
        res.traces[era] = trace
        for state, pct in state_share(trace, era_states(era)).items():
            res.add(f"{era}: time in {state}", None, pct, None, "%")
        h = host.stats()
        vms = [v.stats() for v in host.vms.values()]
        res.add(f"{era}: ballooned at the end", None, sum(s.balloon for s in vms), None, "MB")
        res.add(f"{era}: compressed at the end", None, sum(s.compressed for s in vms), None, "MB")
        res.add(f"{era}: swapped at the end", None, sum(s.swapped for s in vms), None, "MB")
        res.add(f"{era}: saved by compression", None, h.compression_saved, None, "MB")
        res.add(f"{era}: saved by sharing", None, h.shared_saved, None, "MB")
    trace, host = run_limit(p, seed)
    res.traces["limit"] = trace
    s = host.vm("limited").stats()
    res.add("limited VM: alloc on an idle host", p.limit_mb, s.alloc, max(2.0, 0.03 * p.limit_mb), "MB", note=LATER,
            label=f"alloc of a {p.vm_mb:g} MB VM limited to {p.limit_mb:g} MB on an idle host")
    res.add("limited VM: ballooned", None, s.balloon, None, "MB")
    res.add("limited VM: swapped", None, s.swapped, None, "MB")
    trace, host = kept((*others, "large_pages"), lambda: run_large_pages(p, seed))
    res.traces["large_pages"] = trace
    saved = trace.host.shared_saved
    calm = saved[trace.minutes < p.calm_min]
    res.add("large pages, no pressure: saved by sharing", 0.0, float(calm.max()) if len(calm) else 0.0,
            LARGE_PAGES_CALM_TOL, "MB", relation="≤", note=LATER)
    if trace.host.large_pages_broken.max() > 0:
        res.add("large pages, once pressure breaks them: saved by sharing", LARGE_PAGES_BROKEN_MB, float(saved[-1]),
                0, "MB", relation="≥", note=LATER)
    else:                                 # the hog made no pressure: nothing to compare
        res.add("large pages, once pressure breaks them: saved by sharing", None, float(saved[-1]), None, "MB",
                note="esx_today: the memory hog brought no pressure at these sizes (no large page was broken); "
                     "not compared.")
    return res
