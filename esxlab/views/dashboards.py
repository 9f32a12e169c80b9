"""Dashboards: ``VBox`` subclasses built once; a control change reruns the simulation with the
same seed and the minute slider only indexes into the stored run, so scrubbing never reruns
anything. Marks are updated in place inside ``hold_sync()``.

* :class:`SimDashboard` runs a small scenario declared as data (a ``HostConfig`` and a list
  of ``(VMConfig, workload)``) on :class:`esxlab.Host`.
* :class:`ExperimentDashboard` runs ``esxlab.experiments.<name>.run(seed, **params)`` and
  shows its paper-vs-esxlab table beside the trace.

**Live controls** (invented; the simulator is not made faster). A control moved in the
browser answers at once and works in a background thread: a value already computed (runs
are memoized by control values; the seed is fixed per dashboard) is drawn immediately; a new
one first shows "computing …" and, for a :class:`SimDashboard` (and an
:class:`ExperimentDashboard` with ``stream=True``), streams the trace into the marks as it grows
(from :data:`FRAME_S` / 2 s on); another experiment's busy line counts its host runs and simulated minutes
(every :data:`PROGRESS_S` s) — abandoned as soon as the control moves again (an experiment
run is cut short at its next tick: :func:`esxlab.host.watching`). When a run is done the
neighbouring values of every control are computed while the student reads (an experiment's, two or
more at a time, in loky processes through :func:`esxlab.experiments.runner.execute`, the runner behind
``reproduce`` and sweeps; otherwise in the dashboard's thread, where the next move cuts them short).
Experiment runs moved to in the browser are also kept on disk (:func:`cache_dir`: a folder per hash of the
esxlab sources, keyed by parameters and seed), so a value revisited in a later session is instant; other
versions' folders unused for :data:`KEEP_OTHER_DAYS` days are removed. A value set from Python (a notebook
cell, nbval, the tests) is computed and
drawn before the assignment returns, so cells that assert on the marks stay deterministic.
"""
from __future__ import annotations

import copy
import ctypes
import functools
import gc
import hashlib
import html
import math
import os
import pickle
import queue
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import ipywidgets as widgets
import numpy as np

from ..config import PAGES_PER_MB, HostConfig, Param, VMConfig
from ..errors import (AdmissionError, ConfigError, check_choice, check_known, check_number, did_you_mean,
                      shorten)
from ..experiments import get as get_experiment, paper
from ..experiments.common import planned_hosts
from ..host import Host, quietly, watching
from ..metrics import HOST_METRICS
from ..resources import check_fits
from ..trace import HOST_FIELDS, Trace
from .components import (RECLAIMED_PARTS, CounterTable, MemoryBar, PaperTable, PmapGrid, StateStrip, TimeSeries,
                         WhyPanel, host_ylabel, pretty)
from .controls import control
from .palette import WARNING_TEXT
from .saves import NOTE

HOST_SERIES = tuple(m.name for m in HOST_METRICS if m.plot and m.trace)    # the "host" panel's default lines
PANELS = ("table", "counters", "host", "bar", "series", "pmap", "strip", "why")
EXTRA = "extra"        # in ``panels``: where a dashboard's ``extra`` charts go (default: above the panels)
ALL_VMS = "all VMs (sum)"    # the VM box's entry for the VMs' memory summed (as Figure 8 plots all VMs together)
#: controls that matter only while a sibling control has one of some values: {field: (sibling field, values)};
#: greyed out (disabled) otherwise, e.g. KSM's pages_to_scan while the scanner is ESX's or off
APPLIES_WHEN = {"ksm_pages_to_scan": ("mode", ("ksm",))}
CACHE_RUNS = 32        # memoized runs per dashboard
#: of those, the newest that keep their host (a :class:`SimDashboard`'s: several MB each, most of a run); the others
#: keep what the panels draw (:meth:`Run.slim`), so a class's kernels stay small (README, "Serving esxlab to a class")
HOSTS_KEPT = 4
#: the longest :class:`SimDashboard` run, in minutes: it runs when built and again on every control move (the
#: experiments' runs go up to 240 min too, in fig4, fig5 and ksm_vs_esx; longer ones are Host.run's)
MAX_MINUTES = 240
#: host series about page sharing: a host chart showing one names the scanner of the run it draws
SHARING_SERIES = ("shared_saved", "zero_shared", "sharing_table")
#: figures whose dashboards draw the paper's digitized points (:mod:`esxlab.experiments.paper`) on the chart of the
#: same quantities; Figure 2's, whose dbench throughput is in MB/s where esxlab's chart is in accesses/s, scaled by
#: one factor so the two meet at the configured 256 MB VM (:func:`esxlab.experiments.paper.chart_scale`): the
#: chart compares the curves' shapes, the ratios its table compares
PAPER_MARKS = ("fig2", "fig6", "fig7", "fig8")
#: how a host's era preset (``HostConfig.preset``) reads beside a dashboard's title and over the era charts
PRESET_TITLES = {"esx2002": "ESX Server 2002 (paper)", "esxi6": "ESXi 6 (later ESX)"}
STEP_S = 5             # simulated seconds between checks for a newer request while streaming
FRAME_S = 0.1          # wall seconds between streamed frames
#: wall seconds between two updates of the busy line's progress ("2 host runs, 7.5 simulated minutes so far") while a
#: run that does not stream is computed (invented)
PROGRESS_S = 0.5


@dataclass
class Run:
    """What a dashboard draws: a trace, pmap snapshots ``(tick, {VM name: states})`` of every VM, ``pmap_vm``
    the VM whose pmap is shown first, notes (e.g. a refused power-on) and, for experiments, the ``Result``.
    ``complete`` is False for a frame of a run still streaming in; ``end_min`` is the full
    run's length (the x axes keep it while the trace grows). A run the dashboard's cache let go of the host of
    (:meth:`slim`) keeps its host's configuration, ``config``, each VM's ``totals`` and its control ``values``."""

    trace: Trace | None
    snapshots: list = field(default_factory=list)
    pmap_vm: str | None = None
    notes: list = field(default_factory=list)
    result: Any = None
    host: Host | None = None
    complete: bool = True
    end_min: float | None = None
    config: HostConfig | None = None
    totals: dict | None = None
    values: dict | None = None

    def slim(self, values: dict[str, Any]) -> Run:
        """This run without its host, which holds most of its memory (a :class:`SimDashboard`'s: page arrays of
        several MB), keeping what the panels draw: the trace, the pmap snapshots, the host's configuration and each
        VM's totals, and the control ``values`` it was run for (:attr:`Dashboard.run` simulates it again from
        them when a cell asks for it). Invented (a class's kernels on one server)."""
        if self.host is None:
            return self
        return replace(self, host=None, config=self.host_config, values=dict(values), totals=self.vm_totals)

    @property
    def slimmed(self) -> bool:
        """Whether :meth:`slim` let go of this run's host."""
        return self.host is None and self.config is not None

    @property
    def host_config(self) -> HostConfig | None:
        """The configuration of the run's host (None for an experiment's run, which has no one host)."""
        return self.host.config if self.host is not None else self.config

    @property
    def vm_totals(self) -> dict | None:
        """Each VM's counters since power-on (``vm.totals``), by name; None for an experiment's run."""
        return {n: v.totals for n, v in self.host.vms.items()} if self.host is not None else self.totals


def _values_text(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in values.items())


@functools.cache
def source_hash() -> str:
    """A hash of every esxlab source and data file, the views' too (a stored :class:`Run` is theirs): a
    stored run is reused only by the same esxlab (:func:`esxlab.experiments.runner.source_hash`)."""
    from ..experiments import runner          # joblib: loaded on first use
    return runner.source_hash(leave_out=())


def give_back_memory() -> None:
    """Free the hosts let go of (a dashboard's older runs' and those an experiment ran in this process, e.g. with
    ``LOKY_MAX_CPU_COUNT=1``) and hand their memory back to the operating system. A host is a cycle of objects,
    which only Python's cycle collector frees (a full collection: rare in a kernel holding many objects); and glibc's
    malloc keeps freed blocks smaller than its mmap threshold (128 KB), most of a host's arrays, for reuse, so a
    kernel's resident size would stay at its peak: notebook 00's after a dozen slider moves was 510 MB resident for
    188 MB in use (2026-12-07). ``gc.collect()``, then glibc's ``malloc_trim(0)`` (nothing with another C library).
    Invented."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS, Windows)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


#: days a folder of runs another esxlab kept (another source hash: an older or newer checkout) may go unused
#: before :func:`prune_cache` removes it (invented)
KEEP_OTHER_DAYS = 14


def runs_dir() -> Path:
    """Where experiment runs are kept, one folder per esxlab source hash: ``$XDG_CACHE_HOME/esxlab/runs``
    (``~/.cache`` by default)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "esxlab" / "runs"


def cache_dir() -> Path:
    """Where this esxlab's experiment runs are kept: :func:`runs_dir`'s folder named by :func:`source_hash`."""
    return runs_dir() / source_hash()


def prune_cache(days: float = KEEP_OTHER_DAYS) -> list[Path]:
    """Remove what other esxlab versions kept in :func:`runs_dir` (their folders, and the files of the layout
    before runs had a folder per version) and nobody has used for ``days`` days (a folder's time is set when a run is
    written to it, and once a process when one is read); this version's folder is kept. Another version's runs can
    never be read by this one, so without this every update of esxlab left its runs behind (a classroom server's
    disk filled one update at a time). Returns what was removed. Invented."""
    current, cutoff, removed = cache_dir(), time.time() - days * 86400, []
    try:
        entries = list(runs_dir().iterdir())
    except OSError:                              # no runs kept yet, or unreadable: nothing to do
        return removed
    for entry in entries:
        try:
            if entry == current or entry.stat().st_mtime > cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:                          # in use, or another process removed it first
            pass
    return removed


@functools.cache
def _prune_once() -> None:
    """:func:`prune_cache`, once a process (at the first run it keeps)."""
    prune_cache()


@functools.cache
def _used_once() -> None:
    """Mark this version's folder as in use, once a process (at the first run it reads): a version whose every value
    was computed only reads, and a folder's time changes only when it is written, so :func:`prune_cache` run by
    another version would remove it (a class server's, shared, after an instructor tries an update)."""
    try:
        os.utime(cache_dir())
    except OSError:
        pass


class Dashboard(widgets.VBox):
    """Base: controls on top, then the panels; subclasses implement :meth:`simulate` (and may
    implement :meth:`simulate_steps` to stream frames). ``panels`` picks from :data:`PANELS`, in
    order; :data:`EXTRA` among them places the ``extra`` charts (else they come first), e.g. below
    the panels the controls change. The VM box picks the VM the series panel and the pmap grid show; it is
    hidden while it offers one VM or drives no panel. ``sum_vms`` adds :data:`ALL_VMS` to the VM box, picked first:
    the series panel then shows each quantity summed over the VMs. With ``why_follows_vm`` the *Why?* panel
    follows the VM box: the decisions about the VM picked and the whole host's (all of them under
    :data:`ALL_VMS`); without it, every VM's. The minute slider's value is in minutes; its readout,
    :attr:`clock`, reads minutes and seconds ("4:59"), so each one-second step shows. ``defaults`` holds
    the controls' values as built (a notebook's checks compute those, whatever the controls show now); a
    control that changes nothing at the other controls' values (:data:`APPLIES_WHEN`) is greyed out. A run of
    one host (a :class:`SimDashboard`'s) names its era preset beside the title (:data:`PRESET_TITLES`, e.g.
    "preset: ESXi 6 (later ESX)" for a ``HostConfig.esxi6(...)``)."""

    #: the configuration the host shown starts from, before the controls apply (a :class:`SimDashboard`'s; None:
    #: the host's own): the preset its title names
    host_config: HostConfig | None = None
    #: whether a run moved to in the browser streams into the charts as it grows (:meth:`simulate_steps` yields
    #: frames); the busy line says so, or that the charts change when the run ends
    streams = False

    def __init__(self, title: str, controls: dict[str, widgets.ValueWidget], seed: int = 0,
                 panels: Sequence[str] = ("bar", "series", "strip", "why"), extra: Sequence[widgets.Widget] = (),
                 host_fields: Sequence[str] = HOST_SERIES, sum_vms: bool = False, why_follows_vm: bool = False) -> None:
        title = _text("title", title, "the dashboard's heading")
        if not isinstance(controls, Mapping) or not all(
                isinstance(k, str) and isinstance(c, widgets.ValueWidget) for k, c in controls.items()):
            raise ConfigError(f"controls must be a dict of control name → widget (e.g. views.control(...)); "
                              f"got {controls!r}.")
        panels, extra = _panels(panels), _widgets("extra", extra)
        self.sum_vms = check_choice("Dashboard", "sum_vms", sum_vms, (True, False))
        self.why_follows_vm = check_choice("Dashboard", "why_follows_vm", why_follows_vm, (True, False))
        if not isinstance(host_fields, (list, tuple)) or not host_fields or any(f not in HOST_FIELDS
                                                                            for f in host_fields):
            raise ConfigError(f"host_fields = {host_fields!r}: choose a list from {', '.join(HOST_FIELDS)}.")
        self.controls, self.seed, self.panels = dict(controls), seed, tuple(panels)
        self.host_series = TimeSeries(host_fields, title="host", ylabel=host_ylabel(host_fields))
        self.heading = title
        self.title = widgets.HTML(self._title_html(None))
        self.status = widgets.HTML()
        self.busy = widgets.HTML(layout={"min_height": "1.6em",    # one line kept: "computing …" moves nothing
                                         "display": None if controls else "none"})    # (nothing to move: no line)
        self.minute = widgets.FloatSlider(description="minute", min=0, max=1, step=1 / 60, readout=False,
                                          continuous_update=True, layout={"width": "360px", "max_width": "100%"})
        self.clock = widgets.Label(layout={"width": "5em"}, tooltip="time shown, minutes:seconds")
        self.vm_pick = widgets.Dropdown(description="VM", layout={"width": "260px", "max_width": "100%"})
        self.bar, self.series, self.pmap = MemoryBar(), TimeSeries(), PmapGrid()
        self.strip, self.why, self.table, self.counters = StateStrip(), WhyPanel(), PaperTable(), CounterTable()
        parts = {"table": self.table.widget, "counters": self.counters.widget, "host": self.host_series.widget,
                 "bar": self.bar.widget, "series": self.series.widget, "pmap": self.pmap.widget,
                 "strip": self.strip.widget, "why": self.why.widget}
        self._batch = False
        self.series_label = ""                   # which run the series panel shows, if not obvious (a subclass sets it)
        self._latest: Run | None = None          # the last complete run drawn (what a cell reads: run)
        self.shown: Run | None = None            # what the panels show: that run, or a frame streaming in
        self.done = threading.Event()            # set when the latest request is fully drawn
        self.done.set()
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.RLock()           # one drawer at a time: the kernel thread or the worker
        self.frames = 0                          # frames drawn so far, notified on ``drawn``: a waiter
        self.drawn = threading.Condition(self._lock)    # (benchmarks/bench_views.py) need not poll
        self._gen = 0                            # bumped by every request; older work stops
        self._pool: ThreadPoolExecutor | None = None
        self._pending = 0
        self._new_runs = False                   # runs remembered since memory was last given back (_give_back)
        self.defaults = self.values               # the controls' values as built: what a notebook's checks use
        self._grey_out()
        for c in self.controls.values():
            c.observe(self._on_control, "value")
        self.minute.observe(self._on_minute, "value")
        self.vm_pick.observe(self._on_pick, "value")
        self._tick_clock()
        self.time_row = widgets.HBox([self.minute, self.clock, self.vm_pick], layout={"flex_flow": "row wrap"})
        order = self.panels if EXTRA in self.panels else (EXTRA, *self.panels)
        super().__init__([self.title, widgets.VBox(list(self.controls.values())), self.busy, self.time_row,
                          self.status, *(w for p in order for w in (extra if p == EXTRA else [parts[p]]))])

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """The widget view, with a "run the cells" note as its text fallback (what a notebook
        reopened without its kernel, or rendered as text, shows)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = NOTE
        return bundle

    @property
    def run(self) -> Run | None:
        """The last complete run drawn: what a cell reads. A run drawn from the cache without its host
        (:data:`HOSTS_KEPT`) is simulated again first (same seed, same run), so ``dash.run.host`` is always there."""
        run = self._latest
        if run is None or not run.slimmed:
            return run
        full = self.compute(run.values)
        with self._lock:
            if self._latest is run:
                self._latest = full
        return full

    # -- to implement ---------------------------------------------------------------------------
    def simulate(self, **values: Any) -> Run:
        """The complete run for ``values``, printing no progress line (the dashboard is the progress,
        also when a notebook calls this directly)."""
        raise NotImplementedError

    def simulate_steps(self, values: dict[str, Any]) -> Iterator[Run]:
        """Frames of the run for ``values`` (the last one ``complete``); by default just the run."""
        yield self.simulate(**values)

    def draw_extra(self, run: Run) -> None:
        """Subclass hook: update panels beyond the standard ones."""

    def paper_for(self, vm: str) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str] | None:
        """Subclass hook: the paper's points for the series panel showing ``vm`` (:data:`ALL_VMS`: the sum) and a
        note for its legend, or None (the panel has no paper's points)."""
        return None

    def stored(self, values: dict[str, Any]) -> Run | None:
        """Subclass hook: the run for ``values`` kept on disk by an earlier session, if any."""
        return None

    def store(self, values: dict[str, Any], run: Run) -> None:
        """Subclass hook: keep ``run`` on disk for later sessions."""

    # -- control handling -----------------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        """The controls' values; a float slider's rounded to 10 digits (a browser sends 0.75 as
        0.7499999999999999, which is not the paper's setting and not the memoized run)."""
        return {k: round(c.value, 10) if isinstance(c, widgets.FloatSlider) else c.value
                for k, c in self.controls.items()}

    @property
    def moved(self) -> dict[str, tuple[Any, Any]]:
        """The controls not at their values as built (:attr:`defaults`), each as (as built, now); empty if none
        moved. A notebook's guard cell checks the text about the runs as built only ``if not dash.moved``: a student
        who moved a slider and ran the cells below sees no check fail (invented)."""
        now = self.values
        return {k: (v, now[k]) for k, v in self.defaults.items() if now[k] != v}

    def set(self, **values: Any) -> None:
        """Set several controls at once (one rerun). Names with a dot (``"dbench.shares"``) may
        be given with ``__`` instead (``dbench__shares``)."""
        names = {k: k.replace("__", ".") for k in values}
        unknown = [k for k, n in names.items() if n not in self.controls]
        if unknown:
            keywords = [k.replace(".", "__") for k in self.controls]     # as set() takes them: dbench__shares
            raise ConfigError(f"set(): no control named {', '.join(map(repr, unknown))}"
                              f"{did_you_mean(unknown[0], keywords)}; this dashboard has "
                              f"{', '.join(keywords) or 'none'} (a dotted name with __ for the dot).")
        for k, v in values.items():              # all checked first: a refused value changes nothing
            _check_move(names[k], self.controls[names[k]], v)
        before = {n: c.value for n, c in self.controls.items()}
        self._batch = True
        try:
            for k, v in values.items():
                self.controls[names[k]].value = v
        finally:
            self._batch = False
        try:
            self.refresh()
        except Exception:                        # refused by the run (e.g. min_mb above max_mb): as it was
            self._put_back(before)
            raise

    def _put_back(self, values: dict[str, Any]) -> None:
        """Set the controls back to ``values`` without a rerun: what the panels still show (a refused move
        leaves no control on a value that would make every later move fail too)."""
        self._batch = True
        try:
            for k, v in values.items():
                self.controls[k].value = v
        finally:
            self._batch = False
        self._grey_out()

    def _sibling(self, name: str) -> tuple[str, tuple] | None:
        """(the control ``name`` depends on, the values for which it applies), per :data:`APPLIES_WHEN`, if this
        dashboard has both."""
        prefix, _, field_ = name.rpartition(".")
        rule = APPLIES_WHEN.get(field_)
        if rule is None:
            return None
        other = f"{prefix}.{rule[0]}" if prefix else rule[0]
        return (other, rule[1]) if other in self.controls else None

    def applies(self, name: str, values: dict[str, Any] | None = None) -> bool:
        """Whether control ``name`` changes anything at ``values`` (the controls' values by default): False for
        one that applies only while another control has some values (:data:`APPLIES_WHEN`)."""
        rule = self._sibling(name)
        values = self.values if values is None else values
        return rule is None or values[rule[0]] in rule[1]

    def _grey_out(self) -> None:
        """Disable the controls that change nothing at the current values (:meth:`applies`)."""
        for name, c in self.controls.items():
            if self._sibling(name) is not None:
                c.disabled = not self.applies(name)

    def _on_control(self, change) -> None:
        self._grey_out()
        if self._batch:
            return
        if change["owner"]._property_lock:       # moved in the browser: answer now, compute in the background
            self.request(self.values)
        else:                                    # set from Python: compute and draw before returning
            try:
                self.refresh()
            except Exception:                    # refused (NaN in a cell): the control goes back to what is shown
                name = next(k for k, c in self.controls.items() if c is change["owner"])
                self._put_back({name: change["old"]})
                raise

    @staticmethod
    def _key(values: dict[str, Any]) -> tuple:
        return tuple(sorted(values.items()))

    def _cached(self, values: dict[str, Any]) -> Run | None:
        with self._lock:
            run = self._cache.get(self._key(values))
            if run is not None:
                self._cache.move_to_end(self._key(values))
            return run

    def _remember(self, values: dict[str, Any], run: Run) -> None:
        """Keep ``run`` as the newest of the :data:`CACHE_RUNS` runs kept; the :data:`HOSTS_KEPT` newest and the run
        drawn keep their hosts, the others are slimmed (:meth:`Run.slim`); the memory let go of is handed back to the
        operating system when the computation asked for ends (:meth:`_give_back`)."""
        with self._lock:
            key = self._key(values)
            self._cache[key] = run
            self._cache.move_to_end(key)
            while len(self._cache) > CACHE_RUNS:
                self._cache.popitem(last=False)
            for old in list(self._cache)[:-HOSTS_KEPT]:
                kept = self._cache[old]
                if kept is not self._latest:             # (the run drawn keeps its host: a cell reads it)
                    self._cache[old] = kept.slim(dict(old))
            self._new_runs = True

    def _give_back(self) -> None:
        """:func:`give_back_memory` if a run was made since the last time (its hosts, and the hosts the cache let go
        of, are garbage now): once per computation asked for, a cell's or a move's with its neighbours, and never
        for a move that only redraws a memoized run (a collection takes 0.1 s)."""
        if self._new_runs:
            self._new_runs = False
            give_back_memory()

    def compute(self, values: dict[str, Any]) -> Run:
        """The run for ``values``: memoized, else simulated now (same seed, same run); a memoized run without its
        host (:meth:`Run.slim`) is simulated again."""
        run = self._cached(values)
        if run is None or run.slimmed:
            run = self.simulate(**values)
            self._remember(values, run)
            self._give_back()
        return run

    def refresh(self) -> None:
        """Compute the current values now (cancelling background work) and redraw everything."""
        with self._lock:
            self._gen += 1
        self.draw(self.compute(self.values))
        self.busy.value = ""
        self.done.set()

    def request(self, values: dict[str, Any]) -> None:
        """Show ``values`` as soon as possible without blocking the kernel: draw a memoized run at
        once, else say "computing" and stream the run from the worker thread."""
        with self._lock:
            self._gen += 1
            gen = self._gen
            self.done.clear()
            run = self._cached(values)
            if run is not None:
                self.draw(run)
                self.busy.value = ""
                self.done.set()
            else:
                self.busy.value = self._computing(values)
        if run is None:
            self._submit(self._work, gen, values)
        else:
            self._submit(self._precompute, gen, values)

    def _computing(self, values: dict[str, Any], progress: str = "") -> str:
        """The busy line while ``values`` is computed: what fills the charts (the run as it grows, or the run when
        it ends) and ``progress``, if any (e.g. "2 host runs, 7.5 simulated minutes so far")."""
        then = "the charts fill in as the run goes" if self.streams else "the charts change when the run ends"
        done = f" · {html.escape(progress)}" if progress else ""
        return (f"<span style='color:#0072B2'>computing {html.escape(_values_text(values))} — {then}{done}"
                "</span>")

    def _submit(self, fn, *args) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="esxlab-dashboard")
        with self._lock:
            self._pending += 1
        self._pool.submit(self._guard, fn, *args)

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as err:                 # a worker thread has no cell to fail: say it on the page
            self.busy.value = (f"<span style='color:{WARNING_TEXT}'>error: "
                               f"{html.escape(f'{type(err).__name__}: {err}')}</span>")
            self.done.set()
        finally:
            self._give_back()                    # a move's runs (and its neighbours') left hosts behind
            with self._lock:
                self._pending -= 1

    def idle(self, timeout: float = 120.0) -> bool:
        """Wait until the worker has nothing left to do (background precomputation included)."""
        end = time.perf_counter() + timeout
        while self._pending and time.perf_counter() < end:
            time.sleep(0.005)
        return not self._pending

    def _run(self, gen: int, values: dict[str, Any], show: bool) -> Run | None:
        """The run kept on disk for ``values`` (memoized, and drawn if ``show``), else :meth:`_fresh_run`'s."""
        run = self.stored(values)
        if run is None:
            return self._fresh_run(gen, values, show)
        self._remember(values, run)
        if show:
            with self._lock:
                if gen == self._gen:
                    self.draw(run)
        return run

    def _fresh_run(self, gen: int, values: dict[str, Any], show: bool) -> Run | None:
        """Simulate ``values`` frame by frame, drawing frames if ``show``, then memoize it and keep it on disk; None
        if a newer request came in meanwhile (the unfinished run is dropped)."""
        run = None
        if gen != self._gen:                     # a newer request came in while the stored run was looked for
            return None
        for run in self.simulate_steps(values):
            if gen != self._gen:
                return None
            if show:
                with self._lock:
                    if gen == self._gen:
                        self.draw(run)
        if run is None or not run.complete:      # cut short: a newer request came in
            return None
        self._remember(values, run)
        self.store(values, run)
        return run

    def _work(self, gen: int, values: dict[str, Any]) -> None:
        if gen != self._gen or self._run(gen, values, show=True) is None:
            return
        with self._lock:
            if gen == self._gen:
                self.busy.value = ""
                self.done.set()
        self._precompute(gen, values)

    def neighbours(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Values one step away on each control (next and previous option of a dropdown)."""
        out = []
        for name, c in self.controls.items():
            if not self.applies(name, values):   # it would change nothing: no run to compute
                continue
            if hasattr(c, "options"):
                opts = [o[1] if isinstance(o, tuple) else o for o in c.options]
                i = opts.index(values[name])
                near = [opts[j] for j in (i + 1, i - 1) if 0 <= j < len(opts)]
            else:
                near = [v for v in (values[name] + c.step, values[name] - c.step) if c.min - 1e-9 <= v <= c.max + 1e-9]
                near = [round(v, 10) if isinstance(c, widgets.FloatSlider) else v for v in near]
            out += [{**values, name: v} for v in near]
        return out

    def _precompute(self, gen: int, values: dict[str, Any]) -> None:
        self._run_each(gen, [v for v in self.neighbours(values) if self._cached(v) is None], self._run)

    def _run_each(self, gen: int, todo: list[dict[str, Any]], run: Callable[[int, dict[str, Any], bool], Any]) -> None:
        """``run`` each of ``todo`` in turn, unshown, until a newer request comes in."""
        for other in todo:
            if gen != self._gen:
                return
            try:
                run(gen, other, False)
            except ConfigError:                  # a value nobody chose that the configuration refuses (min_mb
                continue                         # one step above max_mb): nothing to get ready, nothing to report

    # -- what is drawn ---------------------------------------------------------------------------
    def charts(self) -> dict[str, TimeSeries]:
        """The charts over time (or over an x of their own) this dashboard shows, by the name :meth:`plotted`
        takes: ``"series"`` (the VM box's VM: memory over time) and ``"host"`` (the host panel), each if in
        ``panels``; :class:`ExperimentDashboard` adds ``"xy"`` (its ``xy`` chart, if any) and
        :class:`~esxlab.views.EraDashboard` ``"esx2002"``, ``"esxi6"`` and ``"large_pages"`` (its era charts)."""
        return {name: chart for name, chart in (("series", self.series), ("host", self.host_series))
                if name in self.panels}

    def plotted(self, chart: str) -> np.ndarray:
        """The y values chart ``chart`` draws now (a name from :meth:`charts`), as a new array of floats of
        shape (lines, points): one row per line in the order of the chart's fields (``"series"``:
        ``dash.series.fields``, alloc first; ``"host"``: the ``host_fields``), one column per point drawn (a
        long run thinned to about :data:`~esxlab.views.components.MAX_POINTS`; NaN where a VM was off). A cell
        keeps one to compare with after moving a control: ``before = dash.plotted("series")``. ConfigError for
        a chart this dashboard lacks."""
        charts = self.charts()
        if chart not in charts:
            raise ConfigError(f"plotted({chart!r}): this dashboard has no chart {chart!r}; its charts: "
                              f"{', '.join(map(repr, charts)) or 'none'}.")
        lines = charts[chart].lines
        with self._lock:                         # not half-way through a frame being drawn
            y = np.array(lines.y, dtype=float)
        return y.reshape(len(charts[chart].fields), -1)

    # -- drawing --------------------------------------------------------------------------------
    def draw(self, run: Run) -> None:
        """Draw ``run`` (a complete run or a streamed frame) on every panel."""
        with self._lock:
            self._draw(run)
            self.frames += 1
            self.drawn.notify_all()

    def _draw(self, run: Run) -> None:
        self.shown = run
        if run.complete:
            self._latest = run
        tr = run.trace
        names = tr.vm_names if tr is not None else []
        self.time_row.layout.display = "none" if tr is None else None     # e.g. a sweep: no minute, no VM
        end = float(tr.minutes[-1]) if tr is not None and len(tr) else 0.0
        if run.complete:             # a frame leaves the slider alone (a browser echoes each change late),
            with self.minute.hold_sync():        # greyed out while the run streams in
                self.minute.max = max(end, 1 / 60)
                self.minute.value = self.minute.max
                self.minute.disabled = False
        else:
            self.minute.disabled = True
        picks = [*names, ALL_VMS] if self.sum_vms and len(names) > 1 else names
        keep = self.vm_pick.value if self.vm_pick.value in picks else (run.pmap_vm if run.pmap_vm in names else None)
        self.vm_pick.unobserve(self._on_pick, "value")
        self.vm_pick.options = picks
        self.vm_pick.value = keep or (picks[-1] if picks else None)
        self.vm_pick.observe(self._on_pick, "value")
        drives = "series" in self.panels or self.why_follows_vm or ("pmap" in self.panels and bool(run.snapshots))
        self.vm_pick.layout.display = None if drives and len(picks) > 1 else "none"   # no choice: no box
        if run.host_config is not None:
            start = self.host_config or run.host_config
            self.title.value = self._title_html(start.preset, run.host_config)
        self.status.value = "<br>".join(f"<span style='color:{WARNING_TEXT}'>{html.escape(n)}</span>"
                                        for n in run.notes)
        if run.result is not None:
            self.table.update(run.result.table)
        if run.vm_totals is not None:
            self.counters.update(run.vm_totals)
        if tr is not None and len(tr):
            self.strip.update(tr.minutes, tr.host.state, x_max=run.end_min)
            fields = self.host_series.fields
            title = f"{self._host_title(run)}: {', '.join(pretty(f) for f in fields)}"
            self.host_series.update(tr.minutes, {f: getattr(tr.host, f) for f in fields}, title, x_max=run.end_min)
        self._draw_series()
        self._draw_time(None if run.complete else end)
        self.draw_extra(run)

    def _title_html(self, preset: str | None, host: HostConfig | None = None) -> str:
        """The title line: :attr:`heading`, its ``{field}``s filled in from ``host``, the configuration of the host
        shown (``"at {memory_mb:g} MB"`` follows a memory_mb control), then the era ``preset`` the host shown
        started from, if any (a student sees at once whether this is the paper's ESX or a later one), and the era
        of its free-memory states if a control moved them to the other one (``host.state_model``)."""
        state_model = None if host is None else host.state_model
        heading = self.heading if host is None else self.heading.format_map(vars(host))
        states = "" if state_model in (None, preset) else \
            f", with {PRESET_TITLES.get(state_model, state_model)}'s free-memory states (state_model)"
        era = "" if preset is None else (
            " <span style='font-weight:normal; font-size:80%; color:#555' title='the preset the configuration of this "
            "host started from: esx.HostConfig.esx2002 or esx.HostConfig.esxi6 (HostConfig.preset)'>· preset: "
            f"{html.escape(PRESET_TITLES.get(preset, preset) + states)}</span>")
        return f"<h3 style='margin:4px 0'>{html.escape(heading)}{era}</h3>"

    def _host_title(self, run: Run) -> str:
        """"host", and the page-sharing scanner of ``run`` if the host chart shows sharing (esx, ksm or off)."""
        if run.host_config is None or not set(SHARING_SERIES) & set(self.host_series.fields):
            return "host"
        return f"host (page sharing: {run.host_config.sharing.mode})"

    def _tick_clock(self) -> None:
        """The minute slider's readout: its value as minutes:seconds."""
        s = int(round(self.minute.value * 60))
        self.clock.value = f"{s // 60}:{s % 60:02d}"

    def _on_minute(self, change) -> None:
        self._tick_clock()
        if self.shown is not None:
            with self._lock:
                self._draw_time()

    def _on_pick(self, change) -> None:
        if self.shown is not None:
            with self._lock:
                self._draw_series()
                self._draw_time()

    def _draw_series(self) -> None:
        tr, name = self.shown.trace, self.vm_pick.value
        if name is None or tr is None or not len(tr):
            self.series.update(np.zeros(1), {f: np.zeros(1) for f in self.series.fields}, "no VM is running")
            return
        vms = tr.vm_names if name == ALL_VMS else [name]
        ref = self.paper_for(name)
        if ref is not None:
            self.series.show_paper(*ref)
        label = f" ({self.series_label})" if self.series_label else ""
        self.series.update(tr.minutes, {f: _total([getattr(tr.vm(n), f) for n in vms]) for f in self.series.fields},
                           f"{name}{label}: memory over time", x_max=self.shown.end_min)

    def _draw_time(self, minute: float | None = None) -> None:
        """Panels that show one instant (``minute``, else the minute slider's): memory bars, pmap
        grid, decision log, cursor."""
        run, tr = self.shown, self.shown.trace
        if tr is None or not len(tr):
            return
        at = self.minute.value if minute is None else minute
        i = int(np.clip(np.searchsorted(tr.minutes, at - 1e-9), 0, len(tr) - 1))
        tick = float(tr.t[i])
        names = tr.vm_names
        parts = {p: [getattr(tr.vm(n), p)[i] for n in names]
                 for p in ("private", "shared", "overhead", *RECLAIMED_PARTS)}
        frames = max(0.0, float(np.nansum(parts["shared"])) - float(tr.host.shared_saved[i]))
        self.bar.update(names, parts, float(tr.host.free[i]), shared_frames=frames,
                        sharing_table=float(tr.host.sharing_table[i]))
        self.series.set_cursor(float(tr.minutes[i]))
        self.host_series.set_cursor(float(tr.minutes[i]))
        picked = self.vm_pick.value
        follow = self.why_follows_vm and picked not in (None, ALL_VMS)
        self.why.update(tr.decisions, tick, vm=picked if follow else None, complete=run.complete)
        if run.snapshots and "pmap" in self.panels:
            j = max(0, int(np.searchsorted([s[0] for s in run.snapshots], tick, side="right")) - 1)
            snap_tick, states = run.snapshots[j]
            vm = picked if picked in states else run.pmap_vm          # the VM box's VM
            self.pmap.update(states[vm], f"{vm} at t = {snap_tick} s")


def _check_move(name: str, c: widgets.ValueWidget, value: Any) -> None:
    """ConfigError unless control ``name`` can show ``value``: one of a dropdown's choices, or a number in its
    slider's range (ipywidgets would clamp 10000 to the slider's end silently, raise its own TraitError for text,
    and take NaN, or None on a dropdown); other widgets check their values themselves."""
    if hasattr(c, "options"):
        choices = [o[1] if isinstance(o, tuple) else o for o in c.options]
        if not isinstance(value, Hashable) or not any(     # (an array is none: its == is elementwise)
                value == o and isinstance(value, (bool, np.bool_)) == isinstance(o, bool) for o in choices):
            raise ConfigError(f"set(): control {name!r} = {shorten(value)} is not one of its choices "
                              f"{', '.join(map(repr, choices))}.")
        return
    if hasattr(c, "min") and hasattr(c, "max"):   # (a Dashboard of one's own may hold a Checkbox: its own rules)
        check_number(f"set(): control {name!r}", "value", value, lo=c.min, hi=c.max,
                     integer=isinstance(c, widgets.IntSlider))


#: VMConfig fields in MB that a control spans from 0 to the VM's max_mb, or its max_mb control's end (the fields
#: allow up to 1 TB)
UP_TO_MAX_MB = ("min_mb", "limit_mb", "balloon_max_mb")


def _vm_range(name: str, value: Any, top_mb: float) -> dict[str, float]:
    """A VM control's range where the field's own is too wide to steer (invented, for the sliders): ``shares`` 0
    to 4× the VM's in quarters (the field allows 0–1e9); ``max_mb`` from a step (or the VM's, if smaller) to 4× the
    VM's, within the field's range; the sizes in :data:`UP_TO_MAX_MB` 0 to ``top_mb``, the largest ``max_mb`` the
    VM can have on the dashboard (or their value, if above it); a range narrower than four of the field's steps in
    quarters; the field's range otherwise."""
    spec = VMConfig.controls()[name]
    if name == "shares":
        return dict(lo=0, hi=4 * value, step=value / 4) if value > 0 else {}
    if name == "max_mb":
        lo, hi = min(spec.step, value), min(max(4 * value, 2 * spec.step), spec.hi)
    elif name in UP_TO_MAX_MB and value is not None:      # (None: control() says it has no value to start from)
        lo, hi = 0, max(top_mb, value)
    else:
        return {}
    return dict(lo=lo, hi=hi, **({"step": (hi - lo) / 4} if hi - lo < 4 * spec.step else {}))


def _total(series: Sequence[np.ndarray]) -> np.ndarray:
    """The VMs' ``series`` summed second by second; NaN while none of them is powered on."""
    stacked = np.vstack(series)
    return np.where(np.isnan(stacked).all(axis=0), np.nan, np.nansum(stacked, axis=0))


#: HostConfig fields that are configs themselves; their controls are named "sharing.mode" etc.
HOST_PARTS = ("sharing", "remap")


def _host_control_spec(host_config: HostConfig, name: str) -> tuple[Param, Any, str]:
    """(metadata, current value, owning config's class name) of host control ``name``; ConfigError naming
    what exists."""
    part, _, sub = name.rpartition(".")
    owner = getattr(host_config, part) if part in HOST_PARTS else (host_config if not part else None)
    specs = type(owner).controls() if owner is not None else {}
    if sub not in specs:
        nested = [f"{p}.{k}" for p in HOST_PARTS for k in type(getattr(host_config, p)).controls()]
        known = [k for k in HostConfig.controls() if k != "preset"] + nested      # (preset: refused as a control)
        raise ConfigError(f"host_controls names {name!r}, which has no control{did_you_mean(name, known)}; choose from "
                          f"{', '.join(known)}.")
    return specs[sub], getattr(owner, sub), type(owner).__name__


def _names(what: str, names: Any) -> list[str]:
    """``names`` as a list of field names; ConfigError for one name given alone (read letter by letter)."""
    if isinstance(names, str):
        raise ConfigError(f"{what} must be a list of field names, got the string {names!r}; write [{names!r}].")
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{what} must be a list of field names, e.g. ['memory_mb']; got {names!r}.")
    return list(names)


def _text(what: str, value: Any, meaning: str, none: str = "") -> Any:
    """``value`` if it is text (or None, where ``none`` says what None means); ConfigError otherwise."""
    if isinstance(value, str) or (none and value is None):
        return value
    raise ConfigError(f"{what} must be text ({meaning}){f' or None ({none})' if none else ''}, got {value!r}.")


def _panels(panels: Any) -> tuple[str, ...]:
    """``panels`` as a tuple of names from :data:`PANELS` (and :data:`EXTRA`); ConfigError otherwise."""
    if not isinstance(panels, (list, tuple)) or not all(isinstance(p, str) for p in panels):
        raise ConfigError(f"panels must be a list of panel names from {', '.join(PANELS)}; got {panels!r}.")
    unknown = [p for p in panels if p not in (*PANELS, EXTRA)]
    if unknown:
        raise ConfigError(f"panels = {unknown!r}: no such panel; choose from {', '.join(PANELS)} "
                          f"(and {EXTRA!r}: where the dashboard's extra charts go).")
    return tuple(panels)


def _widgets(what: str, value: Any) -> list[widgets.Widget]:
    """``value`` as a list of widgets; ConfigError for anything else (None, one widget alone, a number)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(w, widgets.Widget) for w in value):
        raise ConfigError(f"{what} must be a list of widgets (ipywidgets or bqplot figures), e.g. [chart.widget]; "
                          f"got {value!r}.")
    return list(value)


def _overrides(overrides: Any) -> dict[Any, dict]:
    """``overrides`` (None: none) as a dict of control name → dict of the slider's settings; ConfigError otherwise."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"overrides must be a dict of control name → dict of slider settings, e.g. "
                          f"{{'memory_mb': {{'lo': 48, 'hi': 256}}}}; got {overrides!r}.")
    for name, settings in overrides.items():
        if not isinstance(settings, Mapping):
            raise ConfigError(f"overrides[{name!r}] must be a dict of slider settings (fields of a Param: lo, hi, "
                              f"step, label, …), e.g. {{'lo': 48, 'hi': 256}}; got {settings!r}.")
    return {name: dict(settings) for name, settings in overrides.items()}


def _check_overrides(overrides: dict, controls: dict) -> None:
    """ConfigError for an ``overrides`` key that names no control of the dashboard (a misspelled one narrowed
    nothing, silently)."""
    unknown = [k for k in overrides if k not in controls]
    if unknown:
        raise ConfigError(f"overrides names {unknown[0]!r}, which is not a control of this dashboard"
                          f"{did_you_mean(unknown[0], controls)}; its controls: "
                          f"{', '.join(controls) or 'none'}.")


def _check_title(title: Any, host_config: HostConfig) -> None:
    """ConfigError for a :class:`SimDashboard` title that is not text, or whose ``{field}``s the configuration of
    its host cannot fill in (:meth:`Dashboard._title_html`)."""
    _text("title", title, "the dashboard's heading")
    try:
        title.format_map(vars(host_config))
    except (KeyError, AttributeError, IndexError, TypeError, ValueError) as e:
        raise ConfigError(f"title = {title!r} cannot be filled in from the host's configuration ({type(e).__name__}: "
                          f"{e}); allowed: text whose {{field}}s name HostConfig fields, e.g. 'at {{memory_mb:g}} MB' "
                          "(a brace of the text itself doubled: {{).") from None


class SimDashboard(Dashboard):
    """A scenario on :class:`esxlab.Host`, declared as data.

    ``vms`` is a list of ``(VMConfig, workload)`` powered on in order (a VM that admission
    control refuses is reported in the status line, §6.2). ``host_controls`` names
    ``HostConfig`` fields and ``vm_controls`` maps a VM name to ``VMConfig`` fields; their
    sliders come from the dataclasses' metadata (a VM's shares and memory sizes span a range set by that VM's,
    not the fields' whole range: 0 to its ``max_mb``, or its ``max_mb`` control's end, for ``min_mb``), changed
    by ``overrides[name]`` (keys
    ``"memory_mb"`` or ``"dbench.shares"``); ``"sharing.<field>"`` and ``"remap.<field>"`` name
    fields of the nested :class:`~esxlab.config.SharingConfig` and :class:`~esxlab.config.RemapConfig`.
    ``minutes`` (0 < minutes ≤ :data:`MAX_MINUTES`) is the run's length; ``watch`` names the VM the
    VM box opens on (default: the smallest), whose pmap the grid shows first (every VM's is kept, every
    ``snap_s`` whole seconds); ``host_fields`` picks the series of the
    ``"host"`` panel (see :data:`~esxlab.trace.HOST_FIELDS`). ``title`` may name the host's configuration
    fields, filled in from the run shown (``"Free-memory states at {memory_mb:g} MB"`` follows the memory_mb
    control). Runs stream into the marks when
    a control moves in the browser (see the module doc). ``why_follows_vm``: see :class:`Dashboard`. Bad
    arguments raise ConfigError.
    """

    streams = True                       # its runs stream in frames (simulate_steps)

    def __init__(self, host_config: HostConfig, vms: Sequence[tuple[VMConfig, Any]], minutes: float = 5,
                 host_controls: Sequence[str] = (), vm_controls: dict[str, Sequence[str]] | None = None,
                 overrides: dict[str, dict] | None = None, watch: str | None = None, snap_s: int = 15,
                 seed: int = 0, title: str = "esxlab",
                 panels: Sequence[str] = ("bar", "series", "pmap", "strip", "why", "counters"),
                 host_fields: Sequence[str] = HOST_SERIES, why_follows_vm: bool = False) -> None:
        if not isinstance(host_config, HostConfig):
            raise ConfigError(f"host_config must be an esx.HostConfig, got {host_config!r}.")
        if isinstance(vms, (str, bytes)) or not isinstance(vms, Sequence) or not all(
                isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], VMConfig) for p in vms):
            raise ConfigError(f"vms must be a list of (esx.VMConfig, workload) pairs, got {vms!r}.")
        try:
            check_number("SimDashboard", "minutes", minutes, lo=1 / 60, hi=MAX_MINUTES)
        except ConfigError as err:
            raise ConfigError(f"{str(err).removesuffix('.')} (at least one tick, a simulated second; a dashboard runs "
                              "its whole scenario when built and again on every control move; for a longer run use "
                              "esx.Host and host.run).") from None
        check_number("SimDashboard", "snap_s", snap_s, lo=1, integer=True)
        _check_title(title, host_config)
        panels, overrides = _panels(panels), _overrides(overrides)
        host_controls = _names("host_controls", host_controls)
        if vm_controls is not None and not isinstance(vm_controls, dict):
            raise ConfigError(f"vm_controls must be a dict of VM name → list of field names, e.g. "
                              f"{{'dbench': ['shares']}}; got {vm_controls!r}.")
        vm_controls = {vm: _names(f"vm_controls[{vm!r}]", names) for vm, names in (vm_controls or {}).items()}
        self.host_config, self.vm_specs = host_config, list(vms)
        self.minutes, self.watch = minutes, watch
        self.snap_s = int(snap_s)
        configs = {c.name: c for c, _ in self.vm_specs}
        if watch is not None and (not isinstance(watch, str) or watch not in configs):
            raise ConfigError(f"watch = {watch!r} is not a VM of the scenario; choose from "
                              f"{', '.join(map(repr, configs)) or 'none'} (or None: the smallest VM).")
        if "pmap" in panels:        # every VM's pmap, in every memoized run: refused if it cannot fit
            snaps = int(round(minutes * 60)) // self.snap_s + 2
            pages = sum(c.max_mb for c in configs.values()) * PAGES_PER_MB
            check_fits(f"SimDashboard(minutes = {minutes}, snap_s = {snap_s}) keeps {snaps} pmap snapshots of its VMs "
                       f"in each of up to {CACHE_RUNS} runs, and", snaps * pages * CACHE_RUNS,
                       "give a larger snap_s, fewer minutes, or leave out the 'pmap' panel")
        ctl = {}
        for name in host_controls:
            if name == "preset":                  # its other era contradicts the configuration's state_model
                raise ConfigError("host_controls names 'preset', the label of the era the configuration started "
                                  "from, which changes nothing by itself, so it cannot be a control; use a control of "
                                  "what differs instead (e.g. 'state_model'), or views.EraDashboard to see the eras "
                                  "side by side.")
            spec, value, owner = _host_control_spec(host_config, name)
            ctl[name] = control(name, spec, value, rerun=False, owner=owner, **overrides.get(name, {}))
        vm_specs = VMConfig.controls()
        for vm, names in vm_controls.items():
            if vm not in configs or vm in HOST_PARTS:
                raise ConfigError(f"vm_controls names VM {vm!r}, which is not in the scenario ({', '.join(configs)})"
                                  + (f"; VMs may not be named {' or '.join(HOST_PARTS)}." if vm in HOST_PARTS else "."))
            top_mb = configs[vm].max_mb           # the largest max_mb it can have here: its max_mb control's end
            if "max_mb" in names:
                top_mb = overrides.get(f"{vm}.max_mb", {}).get("hi") or _vm_range("max_mb", top_mb, top_mb)["hi"]
            for name in names:
                if name not in vm_specs:
                    raise ConfigError(f"vm_controls[{vm!r}] names {name!r}, which has no control"
                                      f"{did_you_mean(name, vm_specs)}; choose from {', '.join(vm_specs)}.")
                value = getattr(configs[vm], name)
                if name == "shares" and value is None:
                    value = configs[vm].effective_shares(host_config.shares_per_mb)
                key = f"{vm}.{name}"
                # (an override of either end replaces the narrowed range: the field's, as it gives it)
                narrow = {} if {"lo", "hi"} & set(overrides.get(key, {})) else _vm_range(name, value, top_mb)
                ctl[key] = control(key, vm_specs[name], value, rerun=False, owner="VMConfig",
                                   **{"label": f"{vm}: {vm_specs[name].label}", **narrow, **overrides.get(key, {})})
        _check_overrides(overrides, ctl)
        super().__init__(title, ctl, seed=seed, panels=panels, host_fields=host_fields, why_follows_vm=why_follows_vm)
        self.refresh()

    def build_host(self, **values: Any) -> tuple[Host, list[str]]:
        """A fresh host with the control values applied and the VMs powered on (refusals noted)."""
        hc = self.host_config
        host_vals = {k: v for k, v in values.items() if "." not in k}
        for part in {k.split(".", 1)[0] for k in values if "." in k and k.split(".", 1)[0] in HOST_PARTS}:
            host_vals[part] = getattr(hc, part).replace(
                **{k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(part + ".")})
        if "state_model" in host_vals and "preset" not in host_vals:
            host_vals["preset"] = "auto"      # (HostConfig's label of its states' era; the title: where it started)
        host = Host(hc.replace(**host_vals), seed=self.seed)
        notes = []
        for cfg, workload in self.vm_specs:
            mine = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(cfg.name + ".")}
            try:
                host.power_on(cfg.replace(**mine), workload=copy.deepcopy(workload))
            except AdmissionError as e:
                notes.append(f"admission control: {e}")
        return host, notes

    def simulate(self, **values: Any) -> Run:
        *_, run = self.simulate_steps(values, frame_s=math.inf)
        return run

    def simulate_steps(self, values: dict[str, Any], frame_s: float = FRAME_S) -> Iterator[Run]:
        """The run in frames: the first after :data:`STEP_S` simulated seconds, then one every
        ``frame_s`` wall seconds, the complete run last."""
        host, notes = self.build_host(**values)
        watch = self.watch if self.watch in host.vms else (min(host.vms, key=lambda n: host.vms[n].pages)
                                                          if host.vms else None)
        snap = watch is not None and "pmap" in self.panels
        end = int(round(self.minutes * 60))
        snaps, t, shown = [], 0, -math.inf
        while t < end:
            if snap and t % self.snap_s == 0:
                snaps.append((t, {n: vm.pmap.state.copy() for n, vm in host.vms.items()}))
            step = min(STEP_S, end - t, self.snap_s - t % self.snap_s)
            host.run(seconds=step, progress=False)
            t += step
            if t < end and (shown == -math.inf or time.perf_counter() - shown >= frame_s):
                shown = time.perf_counter()
                yield Run(host.trace, list(snaps), watch, notes, host=host, complete=False,
                          end_min=self.minutes)
        if snap:
            snaps.append((end, {n: vm.pmap.state.copy() for n, vm in host.vms.items()}))
        yield Run(host.trace, snaps, watch, notes, host=host, end_min=self.minutes)


class ExperimentDashboard(Dashboard):
    """``module.run(seed, **params)`` from :mod:`esxlab.experiments` (``module``: the module, or its name or figure
    number, as :func:`esxlab.experiments.sweep` takes them); sliders from its ``PARAMS``
    (only those named in ``controls``), the paper-vs-esxlab table, and the trace ``trace_key``.
    ``fixed`` passes parameters without a control (e.g. shorter runs for a notebook), and for a parameter
    in ``controls``, its control's starting value; ``xy =
    (key, columns)`` adds a chart of those columns of the table-like trace ``key`` against its
    first column (e.g. Figure 2's throughput against VM size), labelled ``xlabel`` (default:
    the column's name) and ``ylabel``, its y axis fitted to the data unless ``y_from_zero``, and titled, as the
    series chart is, by its lines and its axes without their units ("idle alloc, dbench alloc: memory against tax
    rate"; "…: memory over time" against minutes; a key or column the run lacks raises ConfigError naming those it has).
    ``extra`` widgets go with it, above the panels unless ``panels`` places :data:`EXTRA` (a subclass
    draws them in :meth:`draw_extra`). ``sum_vms``: see :class:`Dashboard`.
    ``stream`` draws the run as it grows, for experiments that run one host (e.g. Figures 7
    and 8: another experiment's hosts would pass through the charts one after the other); the
    table follows when the run ends. A run the student moved away from is cut short either way;
    the controls still update on release (a run takes seconds). ``trace_label`` names the run
    ``trace_key`` is in the series chart's title ("guest (the loop under clock): memory over time"), for
    an experiment with several runs of one VM that the title alone would not tell apart. ``why_follows_vm``:
    see :class:`Dashboard`."""

    def __init__(self, module: Any, controls: Sequence[str], trace_key: str | None = None,
                 overrides: dict[str, dict] | None = None, fixed: dict[str, Any] | None = None, seed: int = 0,
                 title: str | None = None, panels: Sequence[str] = ("table", "series", "bar", "strip", "why"),
                 xy: tuple[str, Sequence[str]] | None = None, ylabel: str = "memory (MB)", xlabel: str | None = None,
                 y_from_zero: bool = False, extra: Sequence[widgets.Widget] = (), stream: bool = False,
                 sum_vms: bool = False, trace_label: str = "", why_follows_vm: bool = False) -> None:
        if not isinstance(trace_label, str):
            raise ConfigError(f"trace_label must be text (the run the series chart shows), got {trace_label!r}.")
        if isinstance(module, (str, int, float)) and not isinstance(module, bool):
            module = get_experiment(module)         # a name or figure number, as sweep() takes (ConfigError if none)
        params = getattr(module, "PARAMS", None)
        if not isinstance(params, dict) or not hasattr(module, "run"):
            raise ConfigError(f"module must be an esxlab experiment (with run() and PARAMS), or its name (e.g. "
                              f"'fig7'), got {module!r}.")
        if isinstance(controls, str):
            raise ConfigError(f"controls must be a list of parameter names, got the string {controls!r}; "
                              f"write [{controls!r}].")
        if not isinstance(controls, (list, tuple)) or not all(isinstance(c, str) for c in controls):
            raise ConfigError(f"controls must be a list of parameter names of {getattr(module, '__name__', module)} "
                              f"(choose from {', '.join(params)}; [] for none); got {controls!r}.")
        if fixed is not None and not (isinstance(fixed, Mapping) and all(isinstance(k, str) for k in fixed)):
            raise ConfigError(f"fixed must be a dict of parameter name → value (parameters set without a control, "
                              f"e.g. {{'minutes': 10}}), or None; got {fixed!r}.")
        overrides = _overrides(overrides)
        title = _text("title", title, "the dashboard's heading", none="the experiment's TITLE")
        trace_key = _text("trace_key", trace_key, "the name of one of the experiment's traces",
                          none="its first trace")
        ylabel = _text("ylabel", ylabel, "the xy chart's y axis label")
        xlabel = _text("xlabel", xlabel, "the xy chart's x axis label", none="the column's name")
        y_from_zero = check_choice("ExperimentDashboard", "y_from_zero", y_from_zero, (True, False))
        extra = _widgets("extra", extra)
        check_known(f"ExperimentDashboard: {getattr(module, '__name__', module).rpartition('.')[2]}", controls, params)
        if xy is not None and not (isinstance(xy, (tuple, list)) and len(xy) == 2 and isinstance(xy[0], str)
                                   and isinstance(xy[1], (tuple, list)) and all(isinstance(c, str) for c in xy[1])):
            raise ConfigError(f"xy must be (trace key, list of column names), e.g. ('bars', ['configured']); "
                              f"got {xy!r}.")
        self.module, self.trace_key, self.fixed = module, trace_key, dict(fixed or {})
        self.stream = check_choice("ExperimentDashboard", "stream", stream, (True, False))
        self.xy_key = xy[0] if xy else None
        self.xlabel = xlabel
        self.xy = TimeSeries(xy[1], ylabel=ylabel, y_from_zero=y_from_zero) if xy else None
        if self.xy:
            self.xy.cursor.visible = False
        owner = getattr(module, "__name__", "experiment").rpartition(".")[2]
        ctl = {name: control(name, params[name], self.fixed.pop(name, None), owner=owner, **overrides.get(name, {}))
               for name in controls}
        _check_overrides(overrides, ctl)
        super().__init__(title or module.TITLE, ctl, seed=seed, panels=panels,
                         extra=[*([self.xy.widget] if self.xy else []), *extra], sum_vms=sum_vms,
                         why_follows_vm=why_follows_vm)
        self.series_label = trace_label
        self.table.reference = getattr(module, "REFERENCE", "paper")
        self.paper_figure = owner if owner in PAPER_MARKS else None     # the paper's digitized figure, if drawn
        self.paper_chart: TimeSeries | None = None                 # the chart the paper's points go on
        if self.paper_figure:
            quantities = paper.quantities(self.paper_figure)
            if paper.chart_points(self.paper_figure, None, quantities):  # columns of a table (Figure 6): the xy chart
                self.paper_chart = self.xy if self.xy is not None and set(quantities) & set(self.xy.fields) else None
            else:                                                  # a VM's quantities (Figures 7, 8): the series
                self.paper_chart = self.series
            if self.paper_chart is not None:
                self.paper_chart.add_paper(quantities)
        self.refresh()

    @property
    def streams(self) -> bool:
        """Whether a run moved to streams into the charts: ``stream``."""
        return self.stream

    def charts(self) -> dict[str, TimeSeries]:
        """:class:`Dashboard`'s, and ``"xy"``: the chart of ``xy``'s columns, if given."""
        return {**super().charts(), **({"xy": self.xy} if self.xy is not None else {})}

    def paper_window(self) -> tuple[float, str]:
        """Up to which x (a minute; a VM size for Figure 2) the run shown is at the paper's set-up, and why not
        further (:func:`esxlab.experiments.paper.setup_window`; a frame of a run streaming in: the controls' values)."""
        run = self.shown
        params = run.result.params if run is not None and run.result is not None else {**self.fixed, **self.values}
        return paper.setup_window(self.paper_figure, self.module.PARAMS, params)

    def paper_points(self, vm: str | None) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
        """The paper's points for the paper chart showing ``vm`` (None: a table's columns, :data:`ALL_VMS`: the
        sum), up to where the run is at the paper's set-up, in esxlab's units (Figure 2's scaled:
        :func:`esxlab.experiments.paper.chart_scale`), and the legend's note: why some or all are not drawn, and
        how they are scaled."""
        chart = self.paper_chart
        until, why = self.paper_window()
        vm = paper.ALL if vm == ALL_VMS else vm
        if until == -math.inf:
            return {}, f"not drawn: this run is off the paper's set-up ({why})"
        run = self.shown
        factor, scaled = paper.chart_scale(self.paper_figure, run.result if run is not None else None)
        points = paper.chart_points(self.paper_figure, vm, chart.paper_quantities, until, factor)
        if not any(len(x) for x, _ in points.values()):
            if not paper.chart_points(self.paper_figure, vm, chart.paper_quantities):
                plotted = [ALL_VMS if v == paper.ALL else v for v in dict.fromkeys(
                    paper.split_key(k)[0] for k in paper.paper_series(self.paper_figure)["series"])]
                return {}, f"{self.paper_figure.replace('fig', 'Figure ')} plots {', '.join(plotted)} only"
            return {}, f"not drawn: this run leaves the paper's time line at minute {until:g} ({why})"
        return points, "; ".join(x for x in (scaled, f"to minute {until:g} only: {why}" if why else "") if x)

    def paper_for(self, vm: str) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str] | None:
        return self.paper_points(vm) if self.paper_chart is not None and self.paper_chart is self.series else None

    def draw_extra(self, run: Run) -> None:
        """The ``xy`` panel: columns of a table-like trace against its first column."""
        if run.result is None:                   # a frame of a run still streaming in
            self.table.stale("The table below is the previous value's; this run's replaces it when the run ends.")
            return
        if self.xy is None:
            return
        tables = {k: t for k, t in run.result.traces.items() if isinstance(t, Mapping)}
        cols = tables.get(self.xy_key)
        missing = [c for c in self.xy.fields if cols is not None and c not in cols]
        if cols is None or missing:
            where = (f"{self.module.__name__} has no table-like trace {self.xy_key!r}; it has "
                     f"{', '.join(map(repr, tables)) or 'none'}" if cols is None else
                     f"its trace {self.xy_key!r} has no column {', '.join(map(repr, missing))}; it has "
                     f"{', '.join(map(repr, cols))}")
            raise ConfigError(f"xy = {(self.xy_key, list(self.xy.fields))!r}: {where}.")
        xname = next(iter(cols))
        self.xy.xaxis.label = self.xlabel or pretty(xname)
        if self.paper_chart is not None and self.paper_chart is self.xy:
            self.xy.show_paper(*self.paper_points(None))
        # titled as the series chart is ("<what>: memory over time"), each quantity without its unit
        against = "over time" if xname in ("minute", "minutes") else f"against {self.xy.xaxis.label.split(' (')[0]}"
        title = f"{', '.join(pretty(f) for f in self.xy.fields)}: {self.xy.yaxis.label.split(' (')[0]} {against}"
        self.xy.update(np.asarray(cols[xname], dtype=float), cols, title)

    def _stored_path(self, values: dict[str, Any]) -> Path:
        key = repr((self.module.__name__, sorted({**self.fixed, **values}.items()), self.seed))
        return cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()}.pkl"

    def stored(self, values: dict[str, Any]) -> Run | None:
        try:
            with self._stored_path(values).open("rb") as f:
                run = pickle.load(f)
            _used_once()
            return run
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return None                          # not kept, unreadable, or from an older esxlab

    def store(self, values: dict[str, Any], run: Run) -> None:
        path = self._stored_path(values)
        _prune_once()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(path)
        except OSError:                          # a read-only home: just do without
            pass

    def simulate(self, **values: Any) -> Run:
        with quietly():                          # the dashboard is the progress: no line under its cell
            return self._run_of(self.module.run(seed=self.seed, **self.fixed, **values))

    def _run_of(self, result: Any) -> Run:
        """What the dashboard draws of an experiment's ``Result``: its table and the trace ``trace_key``."""
        if self.trace_key is not None and not isinstance(result.traces.get(self.trace_key), Trace):
            raise ConfigError(f"trace_key = {self.trace_key!r} is not a trace of {self.module.__name__}; it has "
                              f"{', '.join(k for k, t in result.traces.items() if isinstance(t, Trace))}.")
        traces = [t for t in result.traces.values() if isinstance(t, Trace)]
        trace = result.traces[self.trace_key] if self.trace_key else (traces[0] if traces else None)
        return Run(trace, result=result, end_min=float(trace.minutes[-1]) if trace is not None and len(trace) else None)

    def _precompute(self, gen: int, values: dict[str, Any]) -> None:
        """The neighbours of ``values`` not computed yet, in loky processes, one per core up to
        one per neighbour (:func:`esxlab.experiments.runner.execute`, the runner behind
        ``reproduce`` and sweeps), from a thread of their own, so the next move never queues
        behind them: each is memoized and kept on disk as it arrives. A newer request's batch
        waits for the one running and is skipped if it became stale meanwhile. Where that would be one
        process (one neighbour left to compute, the usual case after a move of one step or to a slider's end;
        or one core), joblib would run it in this process, in that thread, to its end, beside the next move's
        run: it is computed here instead, in the dashboard's worker thread, as :class:`SimDashboard`'s
        neighbours are, and the next move cuts it short at its next tick (invented). (An experiment
        module outside :data:`esxlab.experiments.EXPERIMENTS` is precomputed here too.)"""
        from ..experiments import EXPERIMENTS, runner
        name = self.module.__name__.rsplit(".", 1)[-1]
        if name not in EXPERIMENTS:
            super()._precompute(gen, values)
            return
        todo = []
        for other in self.neighbours(values):
            if self._cached(other) is None:
                run = self.stored(other)
                if run is None:
                    todo.append(other)
                else:
                    self._remember(other, run)
        if not todo or gen != self._gen:
            return
        if runner.workers(os.cpu_count() or 1, len(todo)) == 1:
            self._run_each(gen, todo, self._fresh_run)   # (todo: the neighbours on disk are memoized above)
            return
        with self._lock:
            self._pending += 1
        threading.Thread(target=self._precompute_in_runner, args=(gen, name, todo), name="esxlab-precompute",
                         daemon=True).start()

    def _precompute_in_runner(self, gen: int, name: str, todo: list[dict[str, Any]]) -> None:
        """One batch at a time in this process (:data:`_RUNNER_LOCK`); a batch that started runs
        to its end (stopping joblib midway shuts its processes down, under any other batch too),
        and its runs are kept all the same: they are right, only perhaps not needed."""
        from ..experiments import runner          # joblib: loaded on first use
        left = iter(todo)

        def each(task: tuple, result: Any) -> None:
            values = next(left)
            if result is None:                   # refused by the experiment (a limit at the working set): skipped
                return
            run = self._run_of(result)
            self._remember(values, run)
            self.store(values, run)

        try:
            with _RUNNER_LOCK:
                if gen == self._gen:              # else a newer request has queued its own neighbours
                    runner.execute(runner.run_one_allowed, [(name, self.seed, {**self.fixed, **v}) for v in todo],
                                   jobs=os.cpu_count() or 1, label="dashboard precompute", each=each)
        finally:
            self._give_back()
            with self._lock:
                self._pending -= 1

    def simulate_steps(self, values: dict[str, Any], frame_s: float = FRAME_S) -> Iterator[Run]:
        """The experiment run in a thread of its own under :func:`esxlab.host.watching`: with
        ``stream``, frames of the host being run, the first ``frame_s / 2`` wall seconds after the
        start and the k-th ``k × frame_s`` after the one before (0.05, 0.15, 0.35, 0.65, 1.05 s, …:
        the first within the 0.1 s a student feels as instant, and a run of seconds is not slowed
        by drawing dozens), the complete run last; without ``stream``, the complete run only, and the busy line
        counts the host runs and simulated minutes so far every :data:`PROGRESS_S` wall seconds (an experiment of
        several hosts, such as Figure 2's five, takes seconds at its sliders' ends): where the experiment says what it
        simulates before running (:func:`~esxlab.experiments.common.planned_hosts`, as Figure 2's), it names the host
        running and gives the totals (:func:`_progress`). A request newer than the call (not than its first frame:
        a move in between was missed, and the run went to its end in front of it), or closing the generator, cuts the
        run short at its next tick."""
        return self._steps(values, frame_s, self._gen)

    def _steps(self, values: dict[str, Any], frame_s: float, gen: int) -> Iterator[Run]:
        """:meth:`simulate_steps` for the request ``gen``."""
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        params = {k: p.default for k, p in self.module.PARAMS.items()}
        end = {**params, **self.fixed, **values}.get("minutes")
        shown, sent = time.perf_counter(), 0
        last, hosts, ticks = None, 0, 0          # what a run that does not stream shows: its progress
        plan = None if self.stream else planned_hosts(self.module, {**self.fixed, **values})

        def tick(host: Host) -> None:
            nonlocal shown, sent, last, hosts, ticks
            if stop.is_set() or gen != self._gen:
                raise _Superseded
            if self.stream:
                if time.perf_counter() - shown >= max(sent, 0.5) * frame_s:
                    shown, sent = time.perf_counter(), sent + 1
                    out.put(Run(host.trace, complete=False, end_min=end))
                return
            if host is not last:                 # (kept: a new host cannot take a freed one's id)
                last, hosts = host, hosts + 1
            ticks += 1
            if time.perf_counter() - shown >= PROGRESS_S:
                shown = time.perf_counter()
                with self._lock:               # (done: the run moved to is drawn, this one is a neighbour computed
                    if gen == self._gen and not self.done.is_set():                      # while the student reads)
                        self.busy.value = self._computing(values, _progress(hosts, ticks, plan))

        def work() -> None:
            try:
                with watching(tick):
                    out.put(self.simulate(**values))
            except BaseException as err:         # handed to the generator: it raises what is not _Superseded
                out.put(err)

        threading.Thread(target=work, name="esxlab-experiment", daemon=True).start()
        try:
            while True:
                item = out.get()
                if isinstance(item, _Superseded):
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.complete:
                    return
        finally:
            stop.set()


def _progress(hosts: int, ticks: int, plan: list[tuple[str, float]] | None) -> str:
    """The busy line's progress after ``ticks`` ticks of ``hosts`` hosts: "3 host runs, 8.0 simulated minutes so far";
    given the experiment's ``plan`` (:func:`~esxlab.experiments.common.planned_hosts`), the host running and the
    totals: "simulating host 3 of 5 (a 256 MB VM ballooned to 128 MB), 8.0 of 20 simulated minutes". Invented."""
    if plan is None:
        return f"{hosts} host run{'s' * (hosts > 1)}, {ticks / 60:.1f} simulated minutes so far"
    what = plan[min(hosts, len(plan)) - 1][0]
    return (f"simulating host {hosts} of {len(plan)} ({what}), {ticks / 60:.1f} of "
            f"{sum(m for _, m in plan):g} simulated minutes")


#: one precompute batch at a time in this process, whichever dashboard asks (they share joblib's processes)
_RUNNER_LOCK = threading.Lock()


class _Superseded(Exception):
    """Raised between two ticks of an experiment run that a newer request made useless."""


__all__ = ["ALL_VMS", "Dashboard", "EXTRA", "ExperimentDashboard", "PANELS", "PRESET_TITLES", "Run", "SimDashboard"]
