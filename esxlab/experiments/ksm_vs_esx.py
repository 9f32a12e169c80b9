"""Beyond the paper: ESX's content-based sharing (§4) against a Linux-KSM-style scanner.

The same VMs (``vms`` identical 40 MB Linux guests running the invented Spec95 content
model) run once under each scanner. ESX scans at random at 50 pages/s per VM (200 in
total); KSM scans in order, ``pages_to_scan`` pages every ``sleep_ms`` (Linux's default
100 / 20 ms is 5000 pages/s; the default here, 4 / 20 ms = 200 pages/s, gives both the
same budget). Rows report memory reclaimed, pages hashed (a proxy for the CPU spent
scanning), how long each took to reclaim half of its final savings, and table memory.

Tolerances: none — the paper has no numbers for this comparison, so no row is checked.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..config import PAGES_PER_MB, HostConfig, SharingConfig, VMConfig
from ..host import Host
from ..workloads import Spec95
from .params import Param, by_name, check_seed, resolve
from .result import Result

TITLE = "Beyond the paper: ESX page sharing vs Linux KSM on the same VMs"

PARAMS = {
    "vms": Param(4, "identical VMs", 1, 16, integer=True),
    "minutes": Param(30, "run length", 5, 240, step=5, unit="min"),
    "pages_to_scan": Param(4, "KSM pages_to_scan", 1, 10000, integer=True, unit="pages/wake-up"),
    "sleep_ms": Param(20, "KSM sleep_millisecs", 1, 10000, step=10, unit="ms"),
}


def run_mode(p: SimpleNamespace, seed: int, mode: str) -> dict:
    """One run of ``p.vms`` Linux VMs with sharing ``mode`` ("esx" or "ksm"): its trace, MB saved, pages
    scanned, minutes to half the final saving, the table's MB and the VMs' allocation (MB)."""
    cfg = SharingConfig(mode=mode, ksm_pages_to_scan=p.pages_to_scan, ksm_sleep_ms=p.sleep_ms)
    host = Host(HostConfig(memory_mb=64 + 48 * p.vms, sharing=cfg), seed=seed)
    for i in range(p.vms):
        host.power_on(VMConfig(name=f"linux{i}", max_mb=40, overhead_mb=4), workload=Spec95())
    tr = host.run(minutes=p.minutes)
    s = host.sharing.stats()
    saved = tr.host.shared_saved
    half = float(np.argmax(saved >= saved[-1] / 2)) / 60 if saved[-1] > 0 else float("nan")
    return dict(trace=tr, saved=s.saved_mb, scanned=s.scanned, half=half, table=s.table_mb,
                vm=sum(v.alloc_pages for v in host.vms.values()) / PAGES_PER_MB)


@by_name
def run(seed: int = 0, **params: object) -> Result:
    """Run both scanners; its parameters, given by name (``run(0, name=value)``), override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("ksm_vs_esx", PARAMS, params)
    runs = {m: run_mode(p, seed, m) for m in ("esx", "ksm")}
    res = Result("ksm_vs_esx", dict(vars(p), seed=seed), traces={m: r.pop("trace") for m, r in runs.items()})
    for m, r in runs.items():
        res.add(f"{m}: reclaimed, % of VM memory", None, 100 * r["saved"] / r["vm"], None, "%")
        res.add(f"{m}: pages hashed", None, r["scanned"], None)
        res.add(f"{m}: minutes to half the final savings", None, r["half"], None, "min",
                note="" if r["saved"] > 0 else f"ksm_vs_esx: {m} saved nothing in the run: no half-way point (NaN).")
        res.add(f"{m}: table memory", None, r["table"], None, "MB")
    return res
