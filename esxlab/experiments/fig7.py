"""Figure 7: the idle memory tax (paper §5.4).

Two VMs with max 256 MB and equal shares on a host with about 358 MB available to them: an
idle Windows VM powers on first, a Linux VM running dbench ``dbench_start_min`` later. The
tax rate τ is ``tax_before`` (0) until ``tax_change_min`` (≈ 31 min), then ``tax_rate`` (0.75).
Paper: 179 / 179 MB at τ = 0, ≈ 101 / ≈ 243 MB at τ = 0.75, and dbench throughput up by more
than 30 %.

Rows. Each is a mean over a window of the run (invented: the paper gives steady values, not the
minutes they were read over): *before the change* from a third of the way from dbench's
start to the change until the change (minutes 12.3–31 by default), *after the change* from
:func:`settle_min` after it to the end (minutes 36–60); the idle VM's active estimate from the first
window's start to the end, the settling minutes included (minutes 12.3–60). The throughput gain is
dbench's mean throughput after over before, minus 1, in %.
:func:`windows` gives the windows for other parameters.

Host size. ``HostConfig.memory_mb`` includes each VM's 32 MB overhead, and targets keep free
memory above the high threshold (6 %) plus the hysteresis margin (1 %), so
``memory_mb = (available + 2·32) / 0.93`` ≈ 454 MB leaves ``available_mb`` = 358 MB for guest
pages (:func:`.common.memory_for`). With ``available_mb`` or ``vm_mb`` changed, the paper's
allocations are scaled by ``available_mb / 358``; the paper's setting scaled has ``clients`` scaled
too, and the dbench VM's file set and activity grow with them (:meth:`.Dbench.scaled`).

Page sharing is off by default (``sharing="off"``). The paper's allocations at τ = 0 sum to
the 358 MB available, which leaves no room for shared pages: with sharing on, the idle
Windows VM's boot-zeroed memory is shared as zero pages, free memory stays high, nothing is
reclaimed, and the dbench VM grows toward its max already at τ = 0 (250 of 256 MB with
seed 0; try it: ``sharing="esx"``).
The paper does not say how sharing was configured for this run.

Tolerances (defended):

* allocations at τ = 0: ± 8 MB. Equal shares and τ = 0 give equal targets exactly; what is
  left is the slack between the free-memory goal (7 %) and the soft threshold (4 %) that a
  faulting VM may use before reclamation starts (§6.3), ≈ 3 % of 454 MB / 2 VMs ≈ 7 MB, plus
  the paper's ±1 MB digitizing.
* allocations at τ = 0.75: ± 15 MB. With equal shares the targets equalise active + k·idle
  (k = 4), so each MB of the idle VM's active estimate moves 0.375 MB of target; the Windows
  background (invented, 8 MB, fitted to the paper's mean estimate of 9.7 MB) moves ≈ 1 MB; the same 7 MB slack
  applies; and half of the paper's unexplained 14 MB drop of the sum (below) is 7 MB.
  The *split* (dbench − idle, 142 MB in the paper) is what the tax decides: ± 10 MB.
* the sum after the tax: the paper's allocations sum to 344 MB, 14 MB less than before the
  change, which the paper does not explain; the model keeps handing out the same available
  memory, so this row is expected to miss: it is compared and counted (a miss, with its note).
* dbench throughput gain: the paper gives only "over 30 %"; checked as ≥ 30 %. Throughput is
  the invented cost model's (accesses/s), so only the ratio is compared. The paper's own Figure 2
  does not fit it: read off Figure 2's bars, dbench at 243 MB runs only ≈ 18 % faster than at
  179 MB (≈ 20 % on the ballooned bars, :func:`paper_gain_from_fig2`), if Figure 7's dbench is
  Figure 2's (40 clients; the paper does not give Figure 7's). The bars are digitized but read
  closely (they give back the paper's own overheads, 4.4 % at 128 MB and 1.4 % at 224 MB, to 0.1
  point): closing the gap would need both readings off by ≈ 0.8 MB/s, in opposite directions. So
  the invented Dbench model has one fit per figure: this figure's is :class:`.Dbench`'s defaults
  (fitted to this gain and to dbench's active estimate; the parameters ``mb_per_client`` and
  ``zipf_alpha``), steeper than Figure 2 near 256 MB (run in Figure 2's set-up, three of its
  throughput rows miss); Figure 2's own is in ``fig2.PARAMS``. Run here, Figure 2's dbench gains
  ≈ 25 % and its VM stops at ≈ 232 MB (its smaller file set fits): six predictions miss (one, the
  sum after the change, with this figure's own dbench too).
* active estimates: ± 5 MB for the idle VM (paper mean 9.7 MB: OS background, not scaled),
  ± 15 MB for dbench (paper ≈ 174 MB before the change and ≈ 197 MB, range 184–233, after it; in the
  paper's setting scaled, both scale with the sizes: dbench's file set and activity grow with its
  clients, and a sample is a page of the VM): sampling noise of n = 100 pages (§5.3). Before the
  change the model reads low (157–166 MB over seeds 0–9, mean 160), a bias that uses almost all of
  that tolerance, so the row's note says so whether or not it is within. The idle VM's is compared
  only at the paper's sizes: the Windows background it measures does not grow with them.

Not compared: how fast the idle VM falls. The paper's falls from 178 to ≈ 101 MB within ≈ 0.6 min. esxlab's
first targets after the change rest on dbench's active estimate then, 148–160 MB (it averages 158–165 MB at
τ = 0, where the paper's reads ≈ 174), so the idle VM's first target is 122–126 MB: its balloon takes 75 % of
the drop within 0.3–0.5 min and 90 % within 0.6–2.0 min (seeds 0–3), as dbench, given memory, touches more
and its estimate rises (notebook 05 follows it), and the allocation settles at 106–108 MB.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..config import HostConfig, SharingConfig, VMConfig
from ..errors import check_number
from ..host import Host
from ..trace import Trace
from ..workloads import Dbench
from ..workloads.general import MB_PER_CLIENT, ZIPF_ALPHA
from .common import fork_run, memory_for
from .fig2 import DBENCH_FIT
from .paper import paper_series
from .params import Param, Rule, by_name, check_seed, moved, resolve, sharing
from .result import Result

TITLE = "Figure 7: idle memory tax, idle Windows VM vs dbench Linux VM"
#: predictions an invented value was fitted to (Result.fitted, marked in the tables): Dbench's defaults to the
#: gain and to dbench's estimate after the change, its file set also weighed against the dbench VM's 243 MB (which
#: sets what the idle VM keeps, and the split); Windows' background_mb to the idle VM's estimate. A run with another
#: dbench (:func:`other_dbench`) keeps only the last: what Dbench's defaults were fitted to is then out of sample
FITTED = ("dbench throughput gain", "dbench active estimate after the change", "idle VM active estimate",
          "dbench VM alloc after the change", "idle VM alloc after the change",
          "split dbench − idle after the change")
WINDOWS_FITTED = ("idle VM active estimate",)

PAPER_AVAILABLE_MB = 358
TOL_BEFORE, TOL_AFTER, TOL_SPLIT, TOL_IDLE_ACTIVE = 8, 15, 10, 5      # MB, defended in the module docstring


def paper_gain_from_fig2(before_mb: float = 179, after_mb: float = 243) -> dict[str, float]:
    """The dbench throughput gain, in %, from ``before_mb`` to ``after_mb`` of memory (Figure 7's allocations
    at τ = 0 and τ = 0.75 by default) that the paper's own Figure 2 gives, per bar series: "configured"
    (VMs configured at that size) and "ballooned" (a 256 MB VM ballooned down to it, as Figure 7's dbench VM
    is; its 256 MB bar is the configured one: no balloon), each read between the digitized bars
    (:func:`~.paper.paper_series`) by linear interpolation. Defaults: ≈ 17.8 and ≈ 19.6 %, where Figure 7 says
    "over 30 %": the two figures fit together only if Figure 7's dbench was not Figure 2's 40 clients (the
    paper does not say). ``after_mb`` below ``before_mb`` gives a loss (a negative gain). ConfigError outside
    Figure 2's 128–256 MB."""
    for name, mb in (("before_mb", before_mb), ("after_mb", after_mb)):
        check_number("fig7.paper_gain_from_fig2", name, mb, 128, 256)
    s = paper_series("fig2")["series"]
    full = s["configured"]["y"][-1]
    curves = {"configured": (s["configured"]["x"], s["configured"]["y"]),
              "ballooned": (s["ballooned"]["x"] + [256], s["ballooned"]["y"] + [full])}
    return {name: 100 * (float(np.interp(after_mb, x, y)) / float(np.interp(before_mb, x, y)) - 1)
            for name, (x, y) in curves.items()}


GAIN = ("fig7: the gain is the Dbench cache curve (invented) between the two allocations, fitted at the paper's "
        "sizes to just over 30 %; scaled down, the kernel's and Windows' fixed parts move it, and by Figure 2's "
        f"own bars 179 → 243 MB is worth only ≈ {paper_gain_from_fig2()['configured']:.0f} % "
        "(fig7.paper_gain_from_fig2()).")
IDLE_ACTIVE = ("fig7: the idle Windows VM's background activity (PROFILES['windows'].background_mb, invented) is "
               "sampled at n = 100 pages per 30 s; its estimate is the max of three EWMAs, biased upward.")
DBENCH_ACTIVE = ("fig7: dbench's active estimate comes from the invented Dbench access model (Zipf-like file "
                 "popularity), fitted to this estimate and this figure's gain; the paper's 197 MB is a 25-min mean "
                 "with a range of 184–233 MB.")
DBENCH_HELD = ("fig7: held to 179 MB, the invented Dbench model waits on its disk and touches less of its file set a "
               "period than the paper's dbench did: its estimate reads 157–166 MB over seeds 0–9 (mean 160), the "
               "paper's ≈ 174, a bias that uses almost all of the ± 15 MB allowed for sampling noise (a seed may "
               "miss). Dbench was fitted to this figure's gain and its estimate after the change, not to this one.")


def other_dbench(p: SimpleNamespace) -> str:
    """The note for dbench's rows when the run's dbench is not the one fitted to this figure ("" if it is)."""
    if (p.mb_per_client, p.zipf_alpha) == (MB_PER_CLIENT, ZIPF_ALPHA):
        return ""
    return (f"fig7: this run's dbench (mb_per_client = {p.mb_per_client:g} MB, zipf_alpha = {p.zipf_alpha:g}) is not "
            f"the one fitted to this figure's gain and estimate (Dbench's defaults, {MB_PER_CLIENT:g} MB and "
            f"{ZIPF_ALPHA:g}); Figure 2's, fitted to its bars, gains ≈ 25 % here and stops at ≈ 232 MB.")


def idle_after(clients: int, scale: float = 1.0, mb: float = MB_PER_CLIENT) -> str:
    """Why the idle VM keeps more after the change than the paper's (a miss's note), for ``clients`` of ``mb``
    MB of files each (Dbench's default) and the paper's numbers scaled by ``scale`` (``available_mb`` / 358)."""
    return (f"fig7: the model reclaims only while free memory is short; once the dbench VM has all its file set "
            f"(clients × {mb:g} MB = {clients * mb:g} MB, invented Dbench) "
            f"and kernel, nobody asks for more, so the idle VM keeps what is left, while the paper's idle VM fell to "
            f"≈ {101 * scale:g} MB and the sum of the two dropped by {14 * scale:g} MB.")


PARAMS = {
    "available_mb": Param(358, "memory available to the VMs", 64, 8192, step=2, unit="MB"),
    "vm_mb": Param(256, "max of each VM", 16, 4096, step=16, unit="MB"),
    "clients": Param(40, "dbench clients", 1, 400, integer=True),
    "mb_per_client": Param(MB_PER_CLIENT, "dbench file set per client", 0.5, 64, step=0.1, unit="MB",
                           source="invented: Dbench's default, fitted to this figure's gain and dbench estimate "
                                  f"(Figure 2's dbench: {DBENCH_FIT[0]:g})"),
    "zipf_alpha": Param(ZIPF_ALPHA, "dbench popularity skew α", 0, 4, step=0.01,
                        source="invented: Dbench's default, fitted to this figure's gain and dbench estimate "
                               f"(Figure 2's dbench: {DBENCH_FIT[1]:g})"),
    "tax_before": Param(0.0, "tax rate τ before the change", 0, 0.99, step=0.05),
    "tax_rate": Param(0.75, "tax rate τ after the change", 0, 0.99, step=0.05,
                      source="the paper's idle memory tax τ (§5.2); 0.75 in Figure 7"),
    "dbench_start_min": Param(3, "dbench VM powers on at", 0, 600, step=1, unit="min"),
    "tax_change_min": Param(31, "tax rate changes at", 1, 600, step=1, unit="min"),
    "minutes": Param(60, "run length", 2, 1200, step=5, unit="min"),
    "sharing": sharing(),
}
RULES = (
    Rule("dbench_start_min + 4 ≤ tax_change_min ≤ minutes − 4",
         "dbench runs at least 4 min before the tax changes and the run at least 4 min after it, so that "
         "both allocations are measured",
         lambda p: p.dbench_start_min + 4 <= p.tax_change_min <= p.minutes - 4),
    Rule("available_mb ≥ vm_mb / 2",
         "the memory available must give each of the two VMs of vm_mb at least a quarter of its size",
         lambda p: p.available_mb >= 0.5 * p.vm_mb, lambda p: f"vm_mb / 2 = {p.vm_mb / 2:g}"),
)

#: the parameters that decide the run up to the tax change (the rest only what follows it)
PREFIX = tuple(k for k in PARAMS if k not in ("tax_rate", "minutes"))


def host_for(p: SimpleNamespace, tax_rate: float, seed: int) -> Host:
    """The Figure 7 host: memory sized so ``p.available_mb`` is left for the two VMs."""
    mem = memory_for(p.available_mb, 2)
    return Host(HostConfig(memory_mb=mem, swap_mb=max(1024, 4 * p.vm_mb), tax_rate=tax_rate,
                           sharing=SharingConfig(mode=p.sharing)), seed=seed)


def warm_up(p: SimpleNamespace, seed: int) -> Host:
    """The Figure 7 host run up to the tax change: the idle VM powers on at 0, the dbench
    VM at ``p.dbench_start_min``, both at ``p.tax_before`` until ``p.tax_change_min``."""
    host = host_for(p, p.tax_before, seed)
    host.power_on(VMConfig(name="idle", max_mb=p.vm_mb, guest_os="windows"))
    host.run(minutes=p.dbench_start_min)
    host.power_on(VMConfig(name="dbench", max_mb=p.vm_mb),
                  workload=Dbench.scaled(p.clients, mb_per_client=p.mb_per_client, zipf_alpha=p.zipf_alpha))
    host.run(minutes=p.tax_change_min - p.dbench_start_min)
    return host


def after_change(p: SimpleNamespace, seed: int, tax_rate: float, minutes: float) -> Trace:
    """The trace of the Figure 7 host of ``p`` (:func:`warm_up`; only its :data:`PREFIX` fields
    matter) run ``minutes`` on after the tax rate changes to ``tax_rate``. Runs with the same
    prefix fork from one warmed-up host, and the same branch is run once per process
    (:func:`.common.fork_run`): the tax sweep's copies are Figure 7's runs."""
    key = ("fig7", seed, tuple((k, getattr(p, k)) for k in PREFIX))
    return fork_run(key, lambda: warm_up(p, seed), ("set_tax_rate", float(tax_rate)), minutes)


def settle_min(run_min: float) -> float:
    """Minutes after a change before a window average is taken (a few reallocation periods
    and the slow EWMA's decay, §5.3), for a run of ``run_min`` minutes after the change."""
    return min(5.0, 0.3 * run_min)


def windows(p: SimpleNamespace) -> tuple[tuple[float, float], tuple[float, float]]:
    """The rows' windows (start, end), in minutes, before and after the change, for the parameters ``p``
    (the module's docstring, "Rows"; invented: the paper does not give its windows)."""
    before = (p.dbench_start_min + (p.tax_change_min - p.dbench_start_min) / 3, p.tax_change_min)
    return before, (p.tax_change_min + settle_min(p.minutes - p.tax_change_min), p.minutes)


def off_setting(p: SimpleNamespace, taus: tuple[str, ...] = ()) -> str:
    """How a run left the paper's setting ("" if it did not): the tax rates named in ``taus``,
    page sharing, and the sizes, which may scale only together (vm_mb / 256 = available_mb /
    358 = clients / 40)."""
    return ", ".join(x for x in (moved(PARAMS, p, taus + ("sharing",)), sizes_off(p)) if x)


def sizes_off(p: SimpleNamespace) -> str:
    """How the sizes leave the paper's setting scaled to ``available_mb`` ("" if they do not)."""
    scale = p.available_mb / PAPER_AVAILABLE_MB
    if abs(p.vm_mb / 256 - scale) < 1e-9 and abs(p.clients / 40 - scale) < 1e-9:
        return ""
    return (f"vm_mb = {p.vm_mb:g}, clients = {p.clients}; at available_mb = {p.available_mb:g} the paper's "
            f"scaled setting has vm_mb = {256 * scale:g}, clients = {40 * scale:g}")


def short_run(p: SimpleNamespace) -> str:
    """Why a miss may be the run's length ("" for a run as long as the paper's before and after the
    change, or longer): windows shorter than the paper's average what has not settled yet."""
    pre, post = p.tax_change_min - p.dbench_start_min, p.minutes - p.tax_change_min
    paper_pre = PARAMS["tax_change_min"].default - PARAMS["dbench_start_min"].default
    paper_post = PARAMS["minutes"].default - PARAMS["tax_change_min"].default
    if pre >= paper_pre and post >= paper_post:
        return ""
    return (f"fig7: this run is shorter than the paper's ({pre:g} min from dbench's start to the change and {post:g} "
            f"after it; the paper's {paper_pre:g} and {paper_post:g}): its windows average allocations and estimates "
            "that may not have settled (each VM's active estimate starts at its full size, §5.3, and the targets "
            "follow it).")


@by_name
def run(seed: int = 0, **params: object) -> Result:
    """Run Figure 7; its parameters, given by name (``run(0, name=value)``), override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("fig7", PARAMS, params, RULES)
    tr = after_change(p, seed, p.tax_rate, p.minutes - p.tax_change_min)

    other = other_dbench(p)
    res = Result("fig7", dict(vars(p), seed=seed), fitted=WINDOWS_FITTED if other else FITTED, traces={"run": tr})
    scale = p.available_mb / PAPER_AVAILABLE_MB
    b0, b1 = windows(p)
    idle0, db0 = tr.mean("idle", "alloc", *b0), tr.mean("dbench", "alloc", *b0)
    idle1, db1 = tr.mean("idle", "alloc", *b1), tr.mean("dbench", "alloc", *b1)
    thr0, thr1 = tr.mean("dbench", "throughput", *b0), tr.mean("dbench", "throughput", *b1)
    before, after = off_setting(p, ("tax_before",)), off_setting(p, ("tax_before", "tax_rate"))
    short = short_run(p)

    def why(note: str = "") -> str:
        """A miss's note: the model's known cause, after the run's length when that may be the cause."""
        return note if not short else short + (f" At the paper's length: {note.removeprefix('fig7: ')}" if note else "")

    setup = dict(kind="set-up", off_setting=before, note_if_off=why())
    # the rows are named by before and after the change (sweeps pivot on them); labelled by τ, and
    # when τ does not change, by before and after too (each label once a run)
    same = p.tax_before == p.tax_rate
    tau0 = f"τ = {p.tax_before:g}" + (" before the change" if same else "")
    tau1 = f"τ = {p.tax_rate:g}" + (" after the change" if same else "")
    res.add("idle VM alloc before the change", 179 * scale, idle0, TOL_BEFORE, "MB", label=f"idle VM alloc, {tau0}",
            **setup)
    res.add("dbench VM alloc before the change", 179 * scale, db0, TOL_BEFORE, "MB",
            label=f"dbench VM alloc, {tau0}", **setup)
    res.add("idle VM alloc after the change", 101 * scale, idle1, TOL_AFTER, "MB", off_setting=after,
            note_if_off=why(idle_after(p.clients, scale, p.mb_per_client)), label=f"idle VM alloc, {tau1}")
    res.add("dbench VM alloc after the change", 243 * scale, db1, TOL_AFTER, "MB", off_setting=after,
            note_if_off=why(), label=f"dbench VM alloc, {tau1}")
    res.add("split dbench − idle after the change", 142 * scale, db1 - idle1, TOL_SPLIT, "MB", off_setting=after,
            note_if_off=why(idle_after(p.clients, scale, p.mb_per_client)))
    res.add("sum of allocations after the change", 344 * scale, idle1 + db1, 8, "MB", off_setting=after,
            note_if_off=f"fig7: the paper's allocations drop by {14 * scale:g} MB in total after the tax change, "
                        "unexplained; the model's targets still add up to the same available memory (only the split "
                        "is the tax's doing), whatever the run's length, and its allocations settle a few MB below "
                        f"them (free memory a few MB higher), so its sum falls by a few MB, not {14 * scale:g}.")
    res.add("dbench throughput gain", 30, 100 * (thr1 / thr0 - 1), 0, "%", relation="≥", off_setting=after,
            note_if_off=why(other or GAIN))
    paper_size = "" if p.vm_mb == 256 and p.available_mb == PAPER_AVAILABLE_MB else f"vm_mb = {p.vm_mb:g}, " \
        f"available_mb = {p.available_mb:g}, paper 256 and {PAPER_AVAILABLE_MB}: the Windows background it measures " \
        "does not grow with the sizes"
    res.add("idle VM active estimate", 9.7, tr.mean("idle", "active", b0[0], p.minutes), TOL_IDLE_ACTIVE, "MB",
            off_setting=paper_size, note_if_off=why(IDLE_ACTIVE))
    res.add("dbench active estimate before the change", 174 * scale, tr.mean("dbench", "active", *b0), 15 * scale,
            "MB", off_setting=before, note=why(other or DBENCH_HELD), label=f"dbench active estimate, {tau0}")
    res.add("dbench active estimate after the change", 197 * scale, tr.mean("dbench", "active", *b1), 15 * scale, "MB",
            off_setting=after,
            note_if_off=why(other or DBENCH_ACTIVE), label=f"dbench active estimate, {tau1}")
    return res
