"""Dashboards: ``VBox`` subclasses built once; a control change reruns the simulation with the
same seed (controls update on release) and the minute slider only indexes into the stored
run, so scrubbing never reruns anything. Marks are updated in place inside ``hold_sync()``.

* :class:`SimDashboard` runs a small scenario declared as data (a ``HostConfig`` and a list
  of ``(VMConfig, workload)``) on :class:`esxlab.Host`.
* :class:`ExperimentDashboard` runs ``esxlab.experiments.<name>.run(seed, **params)`` and
  shows its paper-vs-esxlab table beside the trace.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Sequence

import ipywidgets as widgets
import numpy as np

from ..config import HostConfig, VMConfig
from ..errors import AdmissionError, ConfigError
from ..host import Host
from ..swap import POLICIES
from ..trace import Trace
from .components import CounterTable, MemoryBar, PaperTable, PmapGrid, StateStrip, TimeSeries, WhyPanel
from .controls import control


HOST_SERIES = ("free", "shared_saved", "zero_shared", "swap_used")     # the "host" panel's default lines


@dataclass
class Run:
    """What a dashboard draws: a trace, pmap snapshots ``(tick, states)`` of one VM, each VM's
    overhead (MB), notes (e.g. a refused power-on) and, for experiments, the ``Result``."""

    trace: Trace | None
    snapshots: list = field(default_factory=list)
    pmap_vm: str | None = None
    overhead: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    result: Any = None
    host: Host | None = None


class Dashboard(widgets.VBox):
    """Base: controls on top, then the panels; subclasses implement :meth:`simulate`."""

    def __init__(self, title: str, controls: dict[str, widgets.ValueWidget], seed: int = 0,
                 panels: Sequence[str] = ("bar", "series", "strip", "why"), extra: Sequence[widgets.Widget] = (),
                 host_fields: Sequence[str] = HOST_SERIES) -> None:
        self.controls, self.seed, self.panels = dict(controls), seed, tuple(panels)
        self.host_series = TimeSeries(host_fields, title="host")
        self.title = widgets.HTML(f"<h3 style='margin:4px 0'>{title}</h3>")
        self.status = widgets.HTML()
        self.minute = widgets.FloatSlider(description="minute", min=0, max=1, step=1 / 60, readout_format=".1f",
                                          continuous_update=True, layout={"width": "420px"})
        self.vm_pick = widgets.Dropdown(description="VM", layout={"width": "260px"})
        self.bar, self.series, self.pmap = MemoryBar(), TimeSeries(), PmapGrid()
        self.strip, self.why, self.table, self.counters = StateStrip(), WhyPanel(), PaperTable(), CounterTable()
        parts = {"table": self.table.widget, "counters": self.counters.widget, "host": self.host_series.figure,
                 "bar": self.bar.figure, "series": self.series.figure, "pmap": self.pmap.widget,
                 "strip": self.strip.widget, "why": self.why.widget}
        self._batch = False
        self.run: Run | None = None
        for c in self.controls.values():
            c.observe(self._on_control, "value")
        self.minute.observe(self._on_minute, "value")
        self.vm_pick.observe(self._on_pick, "value")
        super().__init__([self.title, widgets.VBox(list(self.controls.values())),
                          widgets.HBox([self.minute, self.vm_pick]), self.status, *extra,
                          *(parts[p] for p in self.panels)])

    # -- to implement ---------------------------------------------------------------------------
    def simulate(self, **values: Any) -> Run:
        raise NotImplementedError

    def draw_extra(self, run: Run) -> None:
        """Subclass hook: update panels beyond the standard ones."""

    # -- control handling -----------------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        return {k: c.value for k, c in self.controls.items()}

    def set(self, **values: Any) -> None:
        """Set several controls at once (one rerun). Names with a dot (``"dbench.shares"``) may
        be given with ``__`` instead (``dbench__shares``)."""
        self._batch = True
        try:
            for k, v in values.items():
                self.controls[k.replace("__", ".")].value = v
        finally:
            self._batch = False
        self.refresh()

    def _on_control(self, change) -> None:
        if not self._batch:
            self.refresh()

    def refresh(self) -> None:
        """Rerun with the same seed and redraw everything."""
        self.run = run = self.simulate(**self.values)
        tr = run.trace
        names = tr.vm_names if tr is not None else []
        end = float(tr.minutes[-1]) if tr is not None and len(tr) else 0.0
        with self.minute.hold_trait_notifications():
            self.minute.max = max(end, 1 / 60)
            self.minute.value = self.minute.max
        keep = self.vm_pick.value if self.vm_pick.value in names else (run.pmap_vm if run.pmap_vm in names else None)
        self.vm_pick.unobserve(self._on_pick, "value")
        self.vm_pick.options = names
        self.vm_pick.value = keep or (names[-1] if names else None)
        self.vm_pick.observe(self._on_pick, "value")
        self.status.value = "<br>".join(f"<span style='color:#b00'>{n}</span>" for n in run.notes)
        if run.result is not None:
            self.table.update(run.result.table)
        if run.host is not None:
            self.counters.update({n: v.totals for n, v in run.host.vms.items()})
        if tr is not None and len(tr):
            self.strip.update(tr.minutes, tr.host.state)
            self.host_series.update(tr.minutes, {f: getattr(tr.host, f) for f in self.host_series.fields},
                                    "host: " + ", ".join(f.replace("_", " ") for f in self.host_series.fields))
        self._draw_series()
        self._draw_time()
        self.draw_extra(run)

    def _on_minute(self, change) -> None:
        if self.run is not None:
            self._draw_time()

    def _on_pick(self, change) -> None:
        if self.run is not None:
            self._draw_series()
            self._draw_time()

    def _draw_series(self) -> None:
        tr, name = self.run.trace, self.vm_pick.value
        if name is None or tr is None or not len(tr):
            self.series.update(np.zeros(1), {f: np.zeros(1) for f in self.series.fields}, "no VM is running")
            return
        vm = tr.vm(name)
        self.series.update(tr.minutes, {f: getattr(vm, f) for f in self.series.fields}, f"{name}: memory over time")

    def _draw_time(self) -> None:
        """Panels that show one instant: memory bar, pmap grid, decision log, cursor."""
        run, tr = self.run, self.run.trace
        if tr is None or not len(tr):
            return
        i = int(np.clip(np.searchsorted(tr.minutes, self.minute.value - 1e-9), 0, len(tr) - 1))
        tick = float(tr.t[i])
        names = tr.vm_names
        parts = {p: [getattr(tr.vm(n), p)[i] for n in names] for p in ("private", "shared", "balloon", "swapped")}
        parts["overhead"] = [run.overhead.get(n, 0.0) if np.isfinite(tr.vm(n).alloc[i]) else 0.0 for n in names]
        self.bar.update(names, parts, float(tr.host.free[i]))
        self.series.set_cursor(float(tr.minutes[i]))
        self.host_series.set_cursor(float(tr.minutes[i]))
        self.why.update(tr.decisions, tick)
        if run.snapshots and "pmap" in self.panels:
            j = max(0, int(np.searchsorted([s[0] for s in run.snapshots], tick, side="right")) - 1)
            snap_tick, states = run.snapshots[j]
            self.pmap.update(states, f"{run.pmap_vm} at t = {snap_tick} s")


#: HostConfig fields that are configs themselves; their controls are named "sharing.mode" etc.
HOST_PARTS = ("sharing", "remap")
REPLACEMENT = dict(label="swap replacement policy", choices=tuple(POLICIES), default="random",
                   source="§3.3: ESX picks victims at random")


class SimDashboard(Dashboard):
    """A scenario on :class:`esxlab.Host`, declared as data.

    ``vms`` is a list of ``(VMConfig, workload)`` powered on in order (a VM that admission
    control refuses is reported in the status line, §6.2). ``host_controls`` names
    ``HostConfig`` fields and ``vm_controls`` maps a VM name to ``VMConfig`` fields; their
    sliders come from the dataclasses' metadata, narrowed by ``overrides[name]`` (keys
    ``"memory_mb"`` or ``"dbench.shares"``); the host control ``"replacement"`` picks the
    hypervisor's swap victim policy (§3.3); ``"sharing.<field>"`` and ``"remap.<field>"`` name fields
    of the nested :class:`~esxlab.config.SharingConfig` and :class:`~esxlab.config.RemapConfig`.
    ``watch`` names the VM whose pmap is shown (snapshots every ``snap_s`` seconds);
    ``host_fields`` picks the series of the ``"host"`` panel (see :data:`~esxlab.trace.HOST_FIELDS`).
    """

    def __init__(self, host_config: HostConfig, vms: Sequence[tuple[VMConfig, Any]], minutes: float = 5,
                 host_controls: Sequence[str] = (), vm_controls: dict[str, Sequence[str]] | None = None,
                 overrides: dict[str, dict] | None = None, watch: str | None = None, snap_s: int = 15,
                 replacement: str = "random", seed: int = 0, title: str = "esxlab",
                 panels: Sequence[str] = ("bar", "series", "pmap", "strip", "why", "counters"),
                 host_fields: Sequence[str] = HOST_SERIES) -> None:
        self.host_config, self.vm_specs = host_config, list(vms)
        self.minutes, self.watch = minutes, watch
        self.snap_s, self.replacement = snap_s, replacement
        overrides = overrides or {}
        configs = {c.name: c for c, _ in self.vm_specs}
        ctl = {}
        for name in host_controls:
            if name == "replacement":
                spec, value = REPLACEMENT, replacement
            elif "." in name:                                  # a nested config: "sharing.mode"
                part, sub = name.split(".", 1)
                nested = getattr(host_config, part)
                spec, value = type(nested).controls()[sub], getattr(nested, sub)
            else:
                spec, value = HostConfig.controls()[name], getattr(host_config, name)
            ctl[name] = control(name, spec, value, **overrides.get(name, {}))
        for vm, names in (vm_controls or {}).items():
            if vm not in configs or vm in HOST_PARTS:
                raise ConfigError(f"vm_controls names VM {vm!r}, which is not in the scenario ({', '.join(configs)}); "
                                  f"VMs may not be named {' or '.join(HOST_PARTS)}.")
            for name in names:
                value = getattr(configs[vm], name)
                if name == "shares" and value is None:
                    value = configs[vm].effective_shares(host_config.shares_per_mb)
                key = f"{vm}.{name}"
                ctl[key] = control(key, VMConfig.controls()[name], value,
                                   **{"label": f"{vm}: {VMConfig.controls()[name]['label']}", **overrides.get(key, {})})
        super().__init__(title, ctl, seed=seed, panels=panels, host_fields=host_fields)
        self.refresh()

    def build_host(self, **values: Any) -> tuple[Host, list[str]]:
        """A fresh host with the control values applied and the VMs powered on (refusals noted)."""
        hc = self.host_config
        host_vals = {k: v for k, v in values.items() if "." not in k and k != "replacement"}
        for part in {k.split(".", 1)[0] for k in values if "." in k and k.split(".", 1)[0] in HOST_PARTS}:
            host_vals[part] = getattr(hc, part).replace(
                **{k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(part + ".")})
        host = Host(hc.replace(**host_vals), seed=self.seed, replacement=values.get("replacement", self.replacement))
        notes = []
        for cfg, workload in self.vm_specs:
            mine = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(cfg.name + ".")}
            try:
                host.power_on(cfg.replace(**mine), workload=copy.deepcopy(workload))
            except AdmissionError as e:
                notes.append(f"admission control: {e}")
        return host, notes

    def simulate(self, **values: Any) -> Run:
        host, notes = self.build_host(**values)
        watch = self.watch if self.watch in host.vms else (min(host.vms, key=lambda n: host.vms[n].pages)
                                                          if host.vms else None)
        snaps = []
        end = int(round(self.minutes * 60))
        marks = sorted(set(range(0, end, self.snap_s)) | {end})
        for a, b in zip(marks, marks[1:]):
            if watch is not None:
                snaps.append((a, host.vms[watch].pmap.state.copy()))
            host.run(seconds=b - a)
        if watch is not None:
            snaps.append((end, host.vms[watch].pmap.state.copy()))
        overhead = {n: v.config.overhead_mb for n, v in host.vms.items()}
        return Run(host.trace, snaps, watch, overhead, notes, host=host)


class ExperimentDashboard(Dashboard):
    """``module.run(seed, **params)`` from :mod:`esxlab.experiments`; sliders from its ``PARAMS``
    (only those named in ``controls``), the paper-vs-esxlab table, and the trace ``trace_key``.
    ``fixed`` passes parameters without a control (e.g. shorter runs for a notebook); ``xy =
    (key, columns)`` adds a chart of those columns of the table-like trace ``key`` against its
    first column (e.g. Figure 2's throughput against VM size)."""

    def __init__(self, module: Any, controls: Sequence[str], trace_key: str | None = None,
                 overrides: dict[str, dict] | None = None, fixed: dict[str, Any] | None = None, seed: int = 0,
                 title: str | None = None, panels: Sequence[str] = ("table", "series", "bar", "strip", "why"),
                 xy: tuple[str, Sequence[str]] | None = None, ylabel: str = "MB") -> None:
        self.module, self.trace_key, self.fixed = module, trace_key, dict(fixed or {})
        self.xy_key = xy[0] if xy else None
        self.xy = TimeSeries(xy[1], title=module.TITLE, ylabel=ylabel) if xy else None
        if self.xy:
            self.xy.cursor.visible = False
        overrides = overrides or {}
        ctl = {name: control(name, module.PARAMS[name], self.fixed.pop(name, None), **overrides.get(name, {}))
               for name in controls}
        super().__init__(title or module.TITLE, ctl, seed=seed, panels=panels,
                         extra=[self.xy.figure] if self.xy else [])
        self.refresh()

    def draw_extra(self, run: Run) -> None:
        """The ``xy`` panel: columns of a table-like trace against its first column."""
        if self.xy is None:
            return
        cols = run.result.traces[self.xy_key]
        xname = next(iter(cols))
        self.xy.figure.axes[0].label = xname.replace("_", " ")
        self.xy.update(np.asarray(cols[xname], dtype=float), cols)

    def simulate(self, **values: Any) -> Run:
        result = self.module.run(seed=self.seed, **self.fixed, **values)
        traces = [t for t in result.traces.values() if isinstance(t, Trace)]
        trace = result.traces[self.trace_key] if self.trace_key else (traces[0] if traces else None)
        return Run(trace, result=result)      # per-VM overhead is not in a Result: the bar omits it


__all__ = ["Dashboard", "ExperimentDashboard", "Run", "SimDashboard"]
