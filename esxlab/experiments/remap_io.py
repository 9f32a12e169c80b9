"""Hot I/O page remapping (paper §7): bounce copies with and without remapping.

A VM runs a network server that transmits from a fixed set of ``buffers`` pages
(:class:`~esxlab.workloads.NetServer`, invented) on a host whose low (DMA-reachable) memory
is ``low_mb``; guest pages land in high memory first, so every transmit is copied through a
bounce buffer until the page is remapped. §7 claims only that, for some network-intensive
workloads, remapping cut the pages copied by "several orders of magnitude"; the checked row
is the ratio of bounce copies over the run without and with remapping, as log10 (≥ 2).

What the rows measure. ESX remaps a page at the copy that brings its count to ``threshold``
(:mod:`esxlab.remap`), within the second, so with remapping each buffer pays exactly
``threshold`` copies (while its count does not restart: each buffer is sent at least once
per ``window_s``) — ``buffers × threshold`` in all (1,024 at the defaults), whatever the run's
length; the row "bounce copies per buffer, remapping" shows it. Without remapping the server
pays ``packets_per_s`` copies every second. The orders-of-magnitude row is therefore
log10(packets_per_s × seconds / (buffers × threshold)): 3.07 over the default 10 minutes,
2.07 over one. It grows with the run's length, as any such ratio must (one count grows with
time, the other stops), but it weighs the mechanism (buffers × threshold) against the
traffic: when the remapper still moved pages only after a whole second's batch, the row was
log10(seconds) at the defaults (2.78 at 10 minutes) whatever the buffers and threshold.

Low-memory pressure, read at the end of the run with remapping (``host.remap.stats()`` of a host of your own
gives the same): "low memory free at the end, remapping"; "remapped pages moved back to high memory"; and "hot
page-seconds left in high memory", hot pages with no low page to move to, counted each second they stay. At the
defaults low memory holds every buffer (64 pages) with room to spare; with ``low_mb`` below the buffers' size it
fills (``low_mb`` counts whole 4 KB pages: 0, no low memory, or at least one page, :data:`RULES`).

Why "moved back" reads 0 almost everywhere. :mod:`esxlab.remap` gives a remapped page back only once it is cold,
idle more than ``window_s`` (``RemapConfig``'s 10 s; invented, as is the whole of low-memory replacement, which
§7 leaves open), when a hot page finds low memory full or free low memory falls below its reserve. This server
sends its buffers round-robin, each every buffers / packets_per_s seconds (to within one): a buffer that reached
``threshold`` ≥ 2 copies, no two more than ``window_s`` apart, goes on being sent that often and never goes cold,
and the hot pages that find low memory full stay high (the next row) rather than evict an equally hot one. Only
``threshold`` = 1 (a buffer moves at its first copy) with buffers > (``window_s`` + 1) × packets_per_s (a buffer
idle for more than ``window_s`` between sends; at exactly ``window_s`` + 1 s it is sent again in the tick it
would turn cold) lets remapped buffers go cold, and they move back once low memory is short. Measured, seed 0, 10
minutes: 13,824 at threshold = 1, 1,200 buffers, 100 packets a second, low_mb = 1 (0 at 1,100 buffers; at 1,200
the buffers take turns in low memory and remapping saves nothing: 100 copies a second either way); 56,108 at
threshold = 1, 4,096 buffers, 100 packets a second, the default 16 MB; over 3 minutes, 0 at all 216 settings of
threshold 2, 3 and 16 × buffers 64, 512, 1,050, 1,200, 4,096 and 8,192 × 1, 10, 100 and 2,000 packets a second ×
low_mb 0.25, 1 and 16. The row's note says so when it reads 0. Not a model fault: a server whose set of buffers
changes over time would exercise the mechanism (not modelled).

Tolerances: the one checked row ("≥ 2 orders of magnitude") has none (the table's "—") — the paper's
"several orders of magnitude" is a lower bound, not a value to approach.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

from ..config import PAGES_PER_MB, HostConfig, RemapConfig, VMConfig
from ..host import Host
from ..trace import Trace
from ..workloads import NetServer
from .params import Param, Rule, by_name, check_seed, moved, resolve
from .result import Result

TITLE = "§7: hot I/O page remapping, bounce copies of a network server"
HOST_MB = 128           # the host's memory (invented); low memory is a part of it

PARAMS = {
    # at most 32 MB of buffers: with the server's 8 MB of data they fit its 48 MB VM (more, and the guest pages them)
    "buffers": Param(64, "network buffers", 1, 8192, integer=True),
    "packets_per_s": Param(2000, "packets per second", 1, 10 ** 6, integer=True),
    "threshold": Param(16, "copies before remapping", 1, 10 ** 6, integer=True),
    "low_mb": Param(16, "low memory", 0, HOST_MB, step=1, unit="MB"),
    "minutes": Param(10, "run length", 1, 600, step=1, unit="min"),
}
RULES = (
    Rule("low_mb = 0 or low_mb ≥ 1/256", "low memory counts whole 4 KB pages, 256 a MB, and less than one page "
         "would be none", lambda p: p.low_mb == 0 or p.low_mb >= 1 / PAGES_PER_MB,
         lambda p: f"one page is {1 / PAGES_PER_MB:g} MB; 0 is no low memory"),
)


def run_one(p: SimpleNamespace, seed: int, enabled: bool) -> tuple[Host, Trace]:
    """One run of the web server, remapping ``enabled`` or not: the host and its trace (§7)."""
    cfg = HostConfig(memory_mb=HOST_MB, remap=RemapConfig(enabled=enabled, low_memory_mb=p.low_mb, threshold=p.threshold))
    host = Host(cfg, seed=seed)
    host.power_on(VMConfig(name="web", max_mb=48, overhead_mb=1),
                  workload=NetServer(buffers=p.buffers, packets_per_s=p.packets_per_s))
    return host, host.run(minutes=p.minutes)


@by_name
def run(seed: int = 0, **params: object) -> Result:
    """Run the remapping comparison; its parameters, given by name (``run(0, name=value)``), override :data:`PARAMS`."""
    seed = check_seed(seed)
    p = resolve("remap_io", PARAMS, params, RULES)
    _, off = run_one(p, seed, False)
    host, on = run_one(p, seed, True)
    res = Result("remap_io", dict(vars(p), seed=seed), traces={"off": off, "on": on})
    b_off, b_on = off.host.bounce_copies.sum(), on.host.bounce_copies.sum()
    res.add("bounce copies/s, no remapping", None, b_off / len(off), None, "/s")
    res.add("bounce copies/s, remapping", None, b_on / len(on), None, "/s")
    res.add("bounce copies/s, remapping, last minute", None, on.host.bounce_copies[-60:].mean(), None, "/s")
    res.add("bounce copies per buffer, remapping", None, b_on / p.buffers, None)
    if b_off:
        # with remapping: threshold copies per buffer (it moves at the copy that reaches it);
        # without: packets/s × seconds
        res.add("orders of magnitude fewer copies", 2, math.log10(b_off / max(b_on, 1)), 0, relation="≥",
                off_setting=moved(PARAMS, p, tuple(PARAMS)))
    else:                                 # low memory holds the whole VM: nothing to copy, nothing to compare
        res.add("orders of magnitude fewer copies", None, 0.0, None,
                note=f"remap_io: no bounce copies even without remapping (low_mb = {p.low_mb:g} holds every page "
                     "the server sends); not compared.")
    stats = host.remap.stats()
    res.add("pages remapped", None, stats.remaps, None)
    # low-memory pressure (§7): what remapping leaves free in low memory, and what its shortage cost
    res.add("low memory free at the end, remapping", None, stats.low_free_mb, None, "MB")
    window = host.config.remap.window_s
    res.add("remapped pages moved back to high memory", None, stats.moved_back, None,
            note="" if stats.moved_back else
            f"remap_io: no remapped buffer went cold (idle over window_s = {window:g} s) while low memory was short: "
            "the server sends each buffer every buffers / packets_per_s s, so one sent often enough to reach "
            f"threshold ≥ 2 stays hot; only threshold = 1 with buffers > {window + 1:g} × packets_per_s lets "
            "remapped buffers go cold (see the module's docstring).")
    res.add("hot page-seconds left in high memory", None, stats.remap_failed, None)
    thr_off, thr_on = off.vm("web").throughput[-60:].mean(), on.vm("web").throughput[-60:].mean()
    res.add("throughput gain from remapping", None, 100 * (thr_on / thr_off - 1), None, "%")
    return res
