"""Beyond the paper: Figure 7's set-up swept over the idle memory tax rate τ (§5.2).

The paper runs τ = 0 and τ = 0.75 only. Here the Figure 7 host (idle Windows VM, dbench
Linux VM powered on ``dbench_start_min`` later, equal shares, ≈ 358 MB available) is warmed
up at τ = 0 for ``warmup_min`` — Figure 7's own schedule, so the τ = 0.75 point and Figure 7
after its change share their history — then copied once per τ in ``0, step, 2·step, …,
tax_max``; each copy runs ``minutes`` more at its τ and is averaged from
:func:`.fig7.settle_min` after the change to its end, as Figure 7 is. (An idle VM's allocation
only falls: it ends near the lowest target the noisy active estimates gave it, so a different
history would give a different allocation, by a few MB.) With equal shares, min-funding revocation equalises
active + k·idle with k = 1/(1 − τ), so the idle VM's allocation falls as τ rises until the
dbench VM reaches its max (or the idle VM its working set).

Checked rows: only τ = 0 and τ = 0.75, against Figure 7 (179 and ≈ 101 MB for the idle VM,
scaled by ``available_mb / 358``), with Figure 7's tolerances (± 8 and ± 15 MB, defended in
:mod:`.fig7`). The other points have no paper value.
"""
from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np

from . import fig7
from .params import Param, check_seed, require, resolve
from .result import Result

TITLE = "Beyond the paper: idle VM and dbench allocation vs tax rate τ"

PARAMS = {
    "available_mb": fig7.PARAMS["available_mb"],
    "vm_mb": fig7.PARAMS["vm_mb"],
    "clients": fig7.PARAMS["clients"],
    "sharing": fig7.PARAMS["sharing"],
    "dbench_start_min": fig7.PARAMS["dbench_start_min"],
    "tax_max": Param(0.95, "largest tax rate", 0, 0.99, step=0.05),
    "tax_step": Param(0.25, "tax rate step", 0.01, 0.99, step=0.05),
    "warmup_min": Param(fig7.PARAMS["tax_change_min"].default, "warm-up at τ = 0", 4, 600, step=1, unit="min"),
    "minutes": Param(16, "run length per τ", 2, 600, step=1, unit="min"),
}


def taus(p: SimpleNamespace) -> np.ndarray:
    """0, step, 2·step, … up to tax_max, plus tax_max itself (and 0.75, the paper's default)."""
    grid = np.arange(0.0, p.tax_max + 1e-9, p.tax_step)
    extra = [p.tax_max] + ([0.75] if p.tax_max >= 0.75 else [])
    return np.unique(np.round(np.r_[grid, extra], 4))


def run(seed: int = 0, **params) -> Result:
    """Run the sweep; ``params`` override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("tax_sweep", PARAMS, params)
    require(p.available_mb >= 0.5 * p.vm_mb,
            f"tax_sweep.available_mb = {p.available_mb} is too small for two VMs of {p.vm_mb} MB; "
            f"allowed: available_mb ≥ vm_mb / 2 = {p.vm_mb / 2:g}.")
    require(p.dbench_start_min < p.warmup_min,
            f"tax_sweep needs dbench_start_min < warmup_min; got {p.dbench_start_min} and {p.warmup_min}.")
    host = fig7.host_for(p, 0.0, seed)
    fig7.power_on_idle(host, p)
    host.run(minutes=p.dbench_start_min)
    fig7.power_on_dbench(host, p)
    host.run(minutes=p.warmup_min - p.dbench_start_min)
    rates = taus(p)
    cols = {k: np.zeros(len(rates)) for k in ("idle_alloc", "dbench_alloc", "idle_active", "dbench_active",
                                               "dbench_throughput")}
    for i, tau in enumerate(rates):
        h = copy.deepcopy(host)
        h.set_tax_rate(float(tau))
        tr = h.run(minutes=p.minutes)
        span = (p.warmup_min + fig7.settle_min(p.minutes), p.warmup_min + p.minutes)
        for key in cols:
            vm, field = key.split("_")
            cols[key][i] = tr.mean(vm, field, *span)
    res = Result("tax_sweep", dict(vars(p), seed=seed), traces={"sweep": dict(tax_rate=rates, **cols)})
    scale = p.available_mb / fig7.PAPER_AVAILABLE_MB
    base = cols["dbench_throughput"][0]
    for i, tau in enumerate(rates):
        paper, tol = {0.0: (179 * scale, fig7.TOL_BEFORE),
                      0.75: (101 * scale, fig7.TOL_AFTER)}.get(float(tau), (None, None))
        res.add(f"idle VM alloc, τ = {tau:g}", paper, cols["idle_alloc"][i], tol, "MB")
        if tau > 0:
            res.add(f"dbench throughput vs τ = 0, τ = {tau:g}", None,
                    100 * (cols["dbench_throughput"][i] / base - 1), None, "%")
    return res
