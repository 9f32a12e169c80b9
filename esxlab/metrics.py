"""The one table of what the simulator measures: page states and metrics, declared once.

Everything that lists page states or metrics derives from the two tables here:
:data:`PAGE_STATES` gives the pmap's states (their order is the pmap's state index) and,
for each, a per-VM metric (MB of the VM's pages in that state); :data:`METRICS` gives every
metric, per VM or of the host (:data:`VM_METRICS` and :data:`HOST_METRICS` select them).
From them come :class:`VMStats` and :class:`HostStats` (``vm.stats()``, ``host.stats()``),
the trace's columns (``trace.VM_FIELDS``, ``trace.HOST_FIELDS``), the CSV header of an
experiment's trace, and the views' colours, legends, default series and "reclaimed" bars.

Adding a metric is one row here plus the line that computes it (``VM.trace_values`` with its
name in ``vm.TRACE_FIELDS``, or ``VM.stats``, for a per-VM value; ``Host._row`` or ``Host.stats`` for a host value); adding a
page state is one row in :data:`PAGE_STATES` (its index: ``pmap.STATE[name]``); adding an event
counter of :class:`~esxlab.vm.Counters` is one row in :data:`EVENTS` plus the line counting it (the
dashboards' events table shows it). A per-VM trace metric's value goes in ``VM.trace_values`` at the
position its row has among the trace metrics here (``vm.TRACE_FIELDS`` names that order; importing
:mod:`esxlab.vm` fails if the two differ).
``source`` says where a quantity comes from: the paper's section, "later ESX", or "invented".
"""
from __future__ import annotations

from dataclasses import dataclass, make_dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["PageState", "Metric", "Event", "PAGE_STATES", "STATE_NAMES", "VM_METRICS", "HOST_METRICS", "METRICS",
           "EVENTS", "VMStats", "HostStats"]


@dataclass(frozen=True)
class PageState:
    """A state a guest physical page (PPN) is in (paper §2); exactly one per page.

    ``reclaimed``: pages in this state were taken from the VM (not machine memory it holds, §3);
    ``plot``: its per-VM MB is drawn by default on a VM's memory chart; ``color``: everywhere
    it is drawn (Okabe & Ito palette; compressed: Paul Tol's wine). Balloon (a light yellow) and swapped
    (vermillion, much darker) differ in lightness as well as hue: they stay apart under red–green colour blindness."""

    name: str
    meaning: str
    source: str
    color: str
    reclaimed: bool = False
    plot: bool = False


@dataclass(frozen=True)
class Metric:
    """One measured value of a VM (``scope="vm"``) or of the host (``scope="host"``).

    ``unit`` ("MB", "accesses/s", …); ``meaning`` in one line; ``source`` (paper §, "later
    ESX" or "invented"); ``label`` for charts and legends (default: the name, spaces for
    underscores); ``trace``: recorded every tick (a trace column); ``stats``: a field of
    :class:`VMStats` / :class:`HostStats`; ``plot``: drawn by default (a VM's memory chart, the
    dashboards' "host" panel); ``type``: the type of the stats field (plain Python values in a student's repr)."""

    name: str
    scope: str
    unit: str
    meaning: str
    source: str
    label: str = ""
    color: str | None = None
    trace: bool = True
    stats: bool = True
    plot: bool = False
    type: type = float

    def __post_init__(self) -> None:
        if self.scope not in ("vm", "host"):
            raise ConfigError(f"Metric {self.name!r}: scope = {self.scope!r}; allowed: 'vm' or 'host'.")
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))

    @property
    def axis(self) -> str:
        """A chart axis label: "memory (MB)" for memory, else the label and its unit."""
        return "memory (MB)" if self.unit == "MB" else f"{self.label} ({self.unit})"


@dataclass(frozen=True)
class Event:
    """Something that happens to a VM's pages, counted per tick and since power-on (a field of
    :class:`~esxlab.vm.Counters`). ``cost``: the :class:`~esxlab.config.HostConfig` parameter (a
    dotted path into a sub-configuration) giving the time one such event stalls the VM, in ms if
    its name ends in ``_ms``, in µs if in ``_us`` (the throughput cost model, invented); "" for none.
    ``table``: a column of the dashboards' events table (``views.components.CounterTable``)."""

    name: str
    meaning: str
    source: str
    cost: str = ""
    table: bool = True


PAGE_STATES = (       # in the pmap's state order (esxlab.pmap.UNBACKED, PRIVATE, …)
    PageState("unbacked", "no machine page: never touched, or handed back by a deflating balloon", "§2", "#E4E4E4"),
    PageState("private", "backed by a machine page of its own", "§2", "#0072B2"),
    PageState("shared", "maps a copy-on-write frame shared with other pages", "§4", "#009E73", plot=True),
    PageState("swapped", "contents in a host swap slot", "§3.3", "#D55E00", reclaimed=True, plot=True),
    PageState("balloon", "given up by the guest's balloon driver", "§3.2", "#F0E442", reclaimed=True, plot=True),
    PageState("compressed", "contents compressed (≤ half a page) in the VM's compression cache",
              "later ESX 4.1+, Mem.MemZipMaxPct", "#882255", reclaimed=True, plot=True),
)
STATE_NAMES = tuple(s.name for s in PAGE_STATES)
_STATE_COLOR = {s.name: s.color for s in PAGE_STATES}     # host metrics of a state's pages wear its colour

EVENTS = (            # the order of Counters' fields (and of its tuple)
    Event("accesses", "pages the guest touched: its workload's accesses and the guest OS's own", "§2", table=False),
    Event("zero_allocs", "faults served with a zeroed machine page", "§2", cost="zero_alloc_us"),
    Event("swap_ins", "pages faulted back in from host swap", "§3.3", cost="swap_in_ms"),
    Event("swap_outs", "pages the host paged out to its swap area", "§3.3"),
    Event("guest_disk_reads", "pages the guest read from its virtual disk", "§3.1", cost="guest_disk_ms"),
    Event("guest_disk_writes", "pages the guest wrote to its virtual disk", "§3.1", cost="guest_disk_ms"),
    Event("double_paging", "guest page-outs that first swapped the page back in", "§3.1"),
    Event("cow_breaks", "writes to a shared page that made a private copy", "§4", cost="cow_copy_us"),
    Event("balloon_pops", "touches of ballooned pages (the balloon is popped)", "§3.2"),
    Event("stalls", "ticks the VM waited for machine memory", "§6.3"),
    Event("guest_oom", "accesses the guest had no page for: the tick's batch needed more pages than it holds outside "
          "its balloon; dropped (a real guest would thrash, fail the allocation or run its OOM killer)", "invented"),
    Event("bounce_copies", "I/O copies through low memory", "§7", cost="remap.bounce_copy_us", table=False),
    Event("compressions", "pages put in the compression cache", "later ESX 4.1+", table=False),
    Event("decompressions", "compressed pages a touch brought back", "later ESX 4.1+", cost="decompress_us", table=False),
)

METRICS = (
    # -- per VM ----------------------------------------------------------------------------------
    Metric("max", "vm", "MB", "configured memory size (the guest's physical memory)", "§6.1", trace=False),
    Metric("min", "vm", "MB", "guaranteed minimum (reserved at admission)", "§6.1", trace=False),
    Metric("alloc", "vm", "MB", "machine memory charged to the VM: private plus shared pages, plus its share of the "
           "compression cache (later ESX)", "§5.2",
           color="#000000", plot=True),
    Metric("target", "vm", "MB", "allocation target set by min-funding revocation", "§5.1", color="#999999",
           plot=True),
    Metric("active", "vm", "MB", "active memory estimated by statistical sampling", "§5.3", color="#56B4E9",
           plot=True),
    Metric("true_active", "vm", "MB", "pages really touched in the last sampling period (the estimate's truth)",
           "invented", label="true active", stats=False),
    *(Metric(s.name, "vm", "MB", f"pages in state {s.name!r}: {s.meaning}", s.source, color=s.color, plot=s.plot)
      for s in PAGE_STATES),
    Metric("overhead", "vm", "MB", "the VM's own overhead memory (reserved at power-on)", "§6.2",
           color="#CC79A7"),
    Metric("shares", "vm", "shares", "memory shares (proportional-share entitlement)", "§5.1", trace=False),
    Metric("rho", "vm", "shares/page", "adjusted shares per page ρ at the current allocation", "§5.2",
           label="ρ", trace=False),
    Metric("throughput", "vm", "accesses/s", "workload accesses per second of CPU and stall time (cost model)",
           "invented", stats=False),
    Metric("blocked", "vm", "1 = blocked", "1 while the VM is descheduled in the low state, else 0", "§6.3",
           stats=False),
    # -- the host ---------------------------------------------------------------------------------
    Metric("total", "host", "MB", "machine memory", "§6.3", trace=False),
    Metric("free", "host", "MB", "free machine memory", "§6.3", color="#DDDDDD", plot=True),
    Metric("state", "host", "0 = high, 1 = clear (ESXi 6 only), 2 = soft, 3 = hard, 4 = low",
           "free-memory state (stats: its name; trace: its index into esxlab.reclaim.STATES)",
           "§6.3", label="free-memory state", type=str),
    Metric("shared_saved", "host", "MB", "memory page sharing saves (mappings less shared frames)", "§4.3",
           color=_STATE_COLOR["shared"], plot=True),
    Metric("zero_shared", "host", "MB", "pages mapping the shared zero frame", "§4.3", plot=True),
    Metric("overhead", "host", "MB", "overhead memory of all VMs", "§6.2", color="#CC79A7"),
    Metric("sharing_table", "host", "MB", "machine memory holding the page-sharing hash table (charged to the host, "
           "not to any VM)", "§4.3", label="sharing table", color="#005A40"),
    Metric("swap_used", "host", "MB", "host swap space in use", "§3.3", color=_STATE_COLOR["swapped"], plot=True),
    Metric("compression_saved", "host", "MB", "memory compression saves (pages compressed less the cache "
           "holding them)", "later ESX 4.1+", label="compression saved"),
    Metric("large_pages_broken", "host", "large pages", "2 MB large pages the running VMs have had broken "
           "(under memory pressure, or to reclaim a page inside)", "later ESX 3.5+", label="large pages broken",
           type=int),
    Metric("bounce_copies", "host", "per s", "I/O copies through low memory this tick", "§7",
           label="bounce copies", type=int),
)
VM_METRICS = tuple(m for m in METRICS if m.scope == "vm")
HOST_METRICS = tuple(m for m in METRICS if m.scope == "host")


def _stats_class(name: str, metrics: tuple[Metric, ...], ids: tuple[tuple[str, type], ...], doc: str) -> type:
    """A frozen dataclass with the ``ids`` fields, then one field per metric with ``stats``."""
    chosen = tuple(m for m in metrics if m.stats)

    def of(cls, values: dict[str, Any], **more: Any) -> Any:
        """The stats from ``values`` (metric name → value, e.g. a trace row) and ``more``
        (the ``ids`` and the stats-only metrics), each converted to its field's plain type."""
        values = {**values, **more}
        return cls(**{k: values[k] for k, _ in ids}, **{m.name: m.type(values[m.name]) for m in chosen})

    lines = "\n".join(f"* ``{m.name}`` ({m.unit}): {m.meaning} ({m.source})." for m in chosen)
    cls = make_dataclass(name, [*ids, *((m.name, m.type) for m in chosen)], frozen=True,
                         namespace={"of": classmethod(of), "METRICS": chosen, "__doc__": f"{doc}\n\n{lines}\n"})
    cls.__module__ = __name__
    return cls


VMStats = _stats_class("VMStats", VM_METRICS, (("name", str),),
                       "One VM's memory now (§2's page states, §6.1's min, max and shares), in MB unless noted; the "
                       "page-state fields add up to ``max``. From ``vm.stats()``; fields: the per-VM metrics of "
                       ":data:`VM_METRICS`.")
HostStats = _stats_class("HostStats", HOST_METRICS, (),
                         "The host's memory now, in MB unless noted, and its free-memory state (§6.3). From "
                         "``host.stats()``; fields: the host metrics of :data:`HOST_METRICS`.\n\n"
                         "Machine memory adds up exactly: ``total == Σ alloc + overhead + free + sharing_table − "
                         "shared_saved``, Σ over the running VMs' ``VMStats.alloc`` (private pages, pages mapping "
                         "shared frames and the VM's compression cache, later ESX). Σ alloc counts a shared frame "
                         "once per page mapping it, ``shared_saved`` more than the frames hold (§4.3); swapped, "
                         "ballooned, compressed and unbacked pages hold no machine page of their own, and low "
                         "memory (§7) is part of the same machine pages.")
