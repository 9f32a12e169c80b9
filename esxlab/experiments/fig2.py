"""Figure 2: the overhead of ballooning (paper §3.2).

One Linux VM runs dbench (40 clients) on an otherwise idle host, configured at each of
``sizes`` MB (the black bars) and configured at ``max_mb`` = 256 MB but ballooned down to the
same size (the gray bars). Paper: the ballooned VM tracks the configured one; the overhead
falls from 4.4 % at 128 MB (128 MB balloon) to 1.4 % at 224 MB (32 MB balloon), because
guest kernel data is sized by the configured "physical" memory (here
``GuestProfile.kernel_per_mb``, invented: a 256 MB guest has less room for its buffer cache
than a 128 MB one, even when both are left with 128 MB).

How the balloon is forced. The paper does not say. Sizing the host so the policy targets
the VM at the smaller size would make the balloon race dbench's cache fill, so the host
would also page (hard state) and the VM would keep a slack of free host memory above its
target (§6.3): neither is the balloon's overhead. Instead the experimenter sets the balloon
target directly (:func:`.common.hold_balloon`, ignoring the idle host's policy); dbench starts
at ``dbench_start_s``, after the balloon has inflated from the guest's free list. Both VMs
see the same random streams (same seed), so the difference is the balloon's. Page sharing is
off, and not a parameter: the host is never short of memory, so it would change nothing but run time.

Tolerances (defended):

* overhead: ± 35 % of the paper's value, at most ± 1.5 points (was ± 1.5 points everywhere,
  which admitted 0–2.9 % for a 1.4 % value). The paper states 4.4 % and 1.4 %; its 160 and
  192 MB values (1.7 %, 2.2 %) are digitized, the gaps between two bars 0.24 and 0.34 MB/s, so
  those two rows judge the model against a reading, not a stated value. The paper's points are
  averages of 3 runs and scatter by ≈ 0.5 points where they should fall steadily, i.e. by a
  third of the value: run-to-run noise, not the reading (the bars give back the stated 4.4 and
  1.4 % to 0.1 point). The kernel sizing
  (``PROFILES["linux"].kernel_per_mb`` =
  0.1 MB per MB of max, invented) was chosen so the overhead falls from the paper's 4.4 % at
  128 MB to its 1.4 % at 224 MB (0.03 gave 0.32–0.87× the paper's values everywhere).
* throughput of the configured VM relative to ``max_mb`` (set-up checks, not predictions): ± 0.056,
  one MB/s, a unit of the paper's axis, over its 17.80 MB/s at 256 MB (a generous bound on the
  digitizing). Throughput is the invented cost model's (accesses/s), so only its shape against
  memory is compared. These rows are what Figure 2's dbench was fitted to (``mb_per_client`` =
  5.2 and ``zipf_alpha`` = 0.9, seeds 0–3: 0.027 above the paper's ratio at 128 MB to 0.033 below
  at 192 MB), so they are listed with the set-up checks (another dbench's, e.g. Figure 7's, are
  predictions: nothing was fitted to them for it). The fit: on a grid of ``mb_per_client``
  5.0–5.3 (steps of 0.1) × ``zipf_alpha`` 0.85–0.925 (steps of 0.025), seeds 0–3, the smallest sum
  of squared misses of the seeds' means, each in units of its tolerance, over this figure's eight rows
  but the 160 MB overhead (the paper's non-monotone reading): the overheads entered the choice too.
  (5.2, 0.925) scored 1.09, (5.2, 0.9) and (5.1, 0.9) 1.17 and 1.18; the rounder values were kept.
  Figure 7's dbench
  (:class:`~esxlab.workloads.Dbench`'s defaults, 6 MB and α = 0.78) cannot be the same: by this
  figure's own bars, 179 → 243 MB gains ≈ 18 %, not Figure 7's "over 30 %"
  (``fig7.paper_gain_from_fig2``); run here, it lies 0.06–0.09 below the paper at 160–224 MB. Figure
  2's fit is not better everywhere: at 128 MB Figure 7's dbench comes closer (0.635), and Figure 2's
  makes all four overheads a little larger, three of them further from the paper's (5.28 % against
  4.83 % at 128 MB, seeds 0–3).

Compared with the paper only in its setting: ``clients`` = 40 × ``max_mb`` / 256 (the file
set and dbench's activity scale with the clients, :meth:`.Dbench.scaled`); other sizes are scaled
to the paper's.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Callable, NamedTuple

import numpy as np

from ..config import HostConfig, SharingConfig, VMConfig
from ..errors import ConfigError, check_number
from ..host import Host
from ..trace import Trace
from ..workloads import Dbench, Delayed
from ..workloads.general import MB_PER_CLIENT, ZIPF_ALPHA
from .common import hold_balloon
from .paper import FIG2_REFERENCE, paper_series
from .params import Param, Rule, by_name, check_seed, resolve
from .result import Result

TITLE = "Figure 2: dbench throughput, configured size vs 256 MB ballooned down"
#: predictions an invented value was fitted to (Result.fitted, marked in the tables): Linux's kernel_per_mb
#: (guest.PROFILES, 0.1 MB per MB of max) was chosen for the paper's two stated overheads, and Figure 2's dbench
#: weighed every overhead but the 160 MB one (see the docstring); a run with another dbench keeps the first two
KERNEL_FITTED = ("balloon overhead at 128 MB", "balloon overhead at 224 MB")
FITTED = (*KERNEL_FITTED, "balloon overhead at 192 MB")

#: the balloon overhead, %: stated at 128 and 224 MB (§3.2), read off Figure 2 at 160 and 192 MB
OVERHEAD_PCT = {128: 4.4, 160: 1.7, 192: 2.2, 224: 1.4}
_BARS = paper_series("fig2")["series"]                 # the digitized bars (MB/s), esxlab/data/paper_series.json
_CONFIGURED = dict(zip(_BARS["configured"]["x"], _BARS["configured"]["y"]))
#: Figure 2: size (MB) → (configured MB/s, ballooned MB/s, overhead %)
PAPER = {int(mb): (_CONFIGURED[mb], b, OVERHEAD_PCT[int(mb)])
         for mb, b in zip(_BARS["ballooned"]["x"], _BARS["ballooned"]["y"])}
#: the configured 256 MB VM, the bar the others are compared with: (MB, MB/s)
PAPER_MAX = FIG2_REFERENCE
TOL_OVERHEAD_REL, TOL_OVERHEAD_MAX = 0.35, 1.5
# the curve's shape is judged to ± 1 MB/s (one unit of the paper's axis; a generous digitizing error), relative to
# its 17.80 MB/s at 256 MB: ± 0.056 (a looser ± 0.1 passed a model 8–10 % below the paper at 160–224 MB)
TOL_SHAPE = round(1.0 / PAPER_MAX[1], 3)
NOT_MONOTONIC = ("fig2: the paper's 1.7 % at 160 MB (digitized) is below its 2.2 % at 192 MB (a 96 MB balloon "
                 "costing less "
                 "than a 64 MB one); the model's only balloon overhead, guest kernel data sized by max (invented, "
                 "GuestProfile.kernel_per_mb), grows steadily with the balloon.")


def _check_sizes(label: str, sizes) -> None:
    """ConfigError unless ``sizes`` is VM sizes in MB, none twice, each a number within range (named by its place,
    ``sizes[3]``, as given)."""
    try:
        values = [float(s) for s in sizes]
    except (TypeError, ValueError):
        raise ConfigError(f"{label} must be a list of VM sizes in MB, got {sizes!r}.") from None
    if not values:
        raise ConfigError(f"{label} must name at least one VM size, got {sizes!r}.")
    if len(set(values)) != len(values):
        raise ConfigError(f"{label} names a VM size twice ({sizes!r}); allowed: each size once.")
    for i, size in enumerate(sizes):
        check_number("", f"{label}[{i}]", size, 16, 4096)


PARAMS = {
    "sizes": Param((128, 160, 192, 224), "VM sizes (configured, or ballooned down to)", unit="MB",
                   check=_check_sizes),
    "max_mb": Param(256, "configured size of the ballooned VM", 32, 4096, step=16, unit="MB"),
    "clients": Param(40, "dbench clients", 1, 400, integer=True),
    "mb_per_client": Param(5.2, "dbench file set per client", 0.5, 64, step=0.1, unit="MB",
                           source=f"invented: fitted to Figure 2's bars (Figure 7's dbench: {MB_PER_CLIENT:g})"),
    "zipf_alpha": Param(0.9, "dbench popularity skew α", 0, 4, step=0.01,
                        source=f"invented: fitted to Figure 2's bars (Figure 7's dbench: {ZIPF_ALPHA:g})"),
    "dbench_start_s": Param(60, "dbench starts at (VM time)", 0, 3600, step=10, unit="s"),
    "minutes": Param(10, "run length", 2, 600, step=1, unit="min"),
    "measure_from_min": Param(3, "average throughput from", 0, 600, step=1, unit="min"),
}
DBENCH_FIT = (PARAMS["mb_per_client"].default, PARAMS["zipf_alpha"].default)      # Figure 2's dbench
_FIT = f"mb_per_client = {DBENCH_FIT[0]:g} MB, zipf_alpha = {DBENCH_FIT[1]:g}"
STEEPER = (f"fig2: Figure 2's dbench ({_FIT}, invented) is fitted to this curve; Figure 7's, run here (Dbench's "
           f"defaults, {MB_PER_CLIENT:g} MB and {ZIPF_ALPHA:g}), is steeper near 256 MB and lies 0.06–0.09 below it "
           "at 160–224 MB (see workloads.Dbench).")
OTHER_DBENCH = (f"fig2: the curve is the invented Dbench model's, and Figure 2's dbench was fitted to it at {_FIT}; "
                "this run's dbench is another (see workloads.Dbench).")
FIT_MISSED = (f"fig2: Figure 2's dbench ({_FIT}, invented) was fitted to this curve on the paper's set-up, seeds "
              "0–3, within 0.04; this run left it (its seed, its length or when dbench starts).")
CAP = VMConfig().balloon_max_pct / 100             # the balloon's cap, a fraction of max (VMConfig: 65 %)
RULES = (
    Rule(f"sizes within [max_mb × {1 - CAP:g}, max_mb)",
         f"below, the balloon would exceed its cap, {100 * CAP:g} % of max_mb; max_mb itself is the configured VM "
         "the others are compared with",
         lambda p: p.max_mb * (1 - CAP) <= min(map(float, p.sizes)) and max(map(float, p.sizes)) < p.max_mb,
         lambda p: f"allowed sizes: [{p.max_mb * (1 - CAP):g}, {p.max_mb:g}) MB"),
    Rule("dbench_start_s / 60 + 1 ≤ measure_from_min < minutes",
         "throughput is averaged from at least a minute after dbench starts to the end of the run",
         lambda p: p.dbench_start_s / 60 + 1 <= p.measure_from_min < p.minutes),
)


def dbench_throughput(p: SimpleNamespace, size_mb: float, balloon_mb: float, seed: int) -> tuple[float, Trace]:
    """Mean dbench throughput of one VM of ``size_mb`` whose balloon is held at ``balloon_mb``."""
    host = Host(HostConfig(memory_mb=size_mb + 64, swap_mb=size_mb, sharing=SharingConfig(mode="off")),
                seed=seed)
    vm = host.power_on(VMConfig(name="dbench", max_mb=size_mb),
                       workload=Delayed(Dbench.scaled(p.clients, mb_per_client=p.mb_per_client,
                                                     zipf_alpha=p.zipf_alpha), p.dbench_start_s))
    if balloon_mb:
        hold_balloon(host, vm, balloon_mb)
    tr = host.run(minutes=p.minutes)
    return tr.mean("dbench", "throughput", p.measure_from_min, p.minutes), tr


class _Host(NamedTuple):
    """One host of Figure 2's run: ``kind`` "max_mb" (the VM configured at ``max_mb``, which the others are compared
    with), "configured" or "ballooned", at ``size_mb``; what it runs, in a student's words; its simulated minutes; and
    its run (seed → the mean dbench throughput and the trace). Invented."""

    kind: str
    size_mb: float
    what: str
    minutes: float
    run: Callable[[int], tuple[float, Trace]]

    @property
    def trace(self) -> str:
        """The name of its trace in the Result ("configured_128")."""
        return f"{self.kind}_{self.size_mb:g}"


def _hosts(p: SimpleNamespace) -> list[_Host]:
    """The hosts Figure 2 simulates at the resolved parameters ``p``, in the order :func:`run` simulates them: the VM
    configured at ``max_mb``, then each size configured and ``max_mb`` ballooned down to it, one VM per host.
    :func:`run` runs them and :func:`planned_hosts` lists them, so the two cannot differ. Invented."""
    def host(kind: str, size: float, what: str, balloon_mb: float) -> _Host:
        vm_mb = size if kind == "configured" else p.max_mb
        return _Host(kind, size, what, p.minutes, functools.partial(dbench_throughput, p, vm_mb, balloon_mb))

    return [host("max_mb", p.max_mb, f"a {p.max_mb:g} MB VM", 0)] + [
        h for s in sorted(float(s) for s in p.sizes)
        for h in (host("configured", s, f"a {s:g} MB VM", 0),
                  host("ballooned", s, f"a {p.max_mb:g} MB VM ballooned to {s:g} MB", p.max_mb - s))]


def planned_hosts(**params: object) -> list[tuple[str, float]]:
    """The hosts :func:`run` simulates with ``params``, in its order, each as (what it runs, in a student's words; its
    simulated minutes): :func:`_hosts`, which :func:`run` runs. Known before running, so a dashboard's busy line and a
    sweep's line for the running task give totals. ConfigError for what :func:`run` refuses. Invented."""
    return [(h.what, h.minutes) for h in _hosts(resolve("fig2", PARAMS, params, RULES))]


@by_name
def run(seed: int = 0, **params: object) -> Result:
    """Run Figure 2; its parameters, given by name (``run(0, name=value)``), override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("fig2", PARAMS, params, RULES)
    ran = [(h, *h.run(seed)) for h in _hosts(p)]
    sizes = [h.size_mb for h, _, _ in ran if h.kind == "configured"]
    full, = (value for h, value, _ in ran if h.kind == "max_mb")
    configured, ballooned = (np.array([value for h, value, _ in ran if h.kind == kind])
                             for kind in ("configured", "ballooned"))
    traces = {h.trace: trace for h, _, trace in ran if h.kind != "max_mb"}
    overhead = 100 * (1 - ballooned / configured)
    bars = dict(size_mb=np.array(sizes), configured=configured, ballooned=ballooned, overhead_pct=overhead,
                relative=configured / full)
    fit = (p.mb_per_client, p.zipf_alpha) == DBENCH_FIT      # the curve, what it was fitted to: set-up checks
    res = Result("fig2", dict(vars(p), seed=seed), fitted=FITTED if fit else KERNEL_FITTED,
                 traces={"bars": bars, **traces})
    scale = PAPER_MAX[0] / p.max_mb
    off = ("" if p.clients * PAPER_MAX[0] == 40 * p.max_mb
           else f"{p.clients} dbench client{'' if p.clients == 1 else 's'}; the paper ran 40"
                + ("" if scale == 1 else f" for its 256 MB VM, and esxlab compares a {p.max_mb:g} MB VM only "
                                         f"with {40 / scale:g} (40 scaled by max_mb / 256)"))
    shape = FIT_MISSED if fit else STEEPER if (p.mb_per_client, p.zipf_alpha) == (MB_PER_CLIENT, ZIPF_ALPHA) \
        else OTHER_DBENCH
    for s, o, rel in zip(sizes, overhead, bars["relative"]):      # per size, as the figure reads: bar, then gap
        paper = PAPER.get(int(round(s * scale))) if (s * scale).is_integer() else None
        res.add(f"configured throughput at {s:g} MB / at max_mb",      # the name a sweep over max_mb keeps
                paper and paper[0] / PAPER_MAX[1], rel, TOL_SHAPE, note_if_off=shape, off_setting=off,
                kind="set-up" if fit else "prediction", label=f"configured throughput at {s:g} MB / at {p.max_mb:g} MB")
        res.add(f"balloon overhead at {s:g} MB", paper and paper[2], o,
                paper and min(TOL_OVERHEAD_MAX, TOL_OVERHEAD_REL * paper[2]), "%", note_if_off=NOT_MONOTONIC,
                off_setting=off)
    return res
