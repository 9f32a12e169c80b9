"""Reusable dashboard parts, each built once and updated in place inside ``hold_sync()``:
a machine-memory bar, VM time series, a pmap grid, a free-memory state strip, a "why"
panel with the decision log, and a paper-vs-esxlab table (paper §3–§6 vocabulary)."""
from __future__ import annotations

import html
from typing import Sequence

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..pmap import STATE_NAMES
from ..reclaim import STATES

MAX_POINTS = 600
PMAP_COLORS = ["#e8e8e8", "#4c78a8", "#54a24b", "#e45756", "#f2a541"]   # unbacked private shared swapped balloon
STATE_COLORS = ["#54a24b", "#f2cf5b", "#f58518", "#e45756"]              # high soft hard low
BAR_PARTS = ("private", "shared", "balloon", "swapped", "overhead")
BAR_COLORS = ["#4c78a8", "#54a24b", "#f2a541", "#e45756", "#9d755d", "#d0d0d0"]
SERIES = ("alloc", "target", "active", "balloon", "swapped", "shared")
SERIES_COLORS = ["#222222", "#888888", "#4c78a8", "#f2a541", "#e45756", "#54a24b"]


def stride(n: int, limit: int = MAX_POINTS) -> int:
    """Every how many samples to plot so that at most ``limit`` points are drawn."""
    return max(1, -(-n // limit))


def _figure(marks, axes, title: str, height: str = "260px", **kw) -> bq.Figure:
    return bq.Figure(marks=marks, axes=axes, title=title, animation_duration=0,
                     layout=widgets.Layout(width="100%", height=height), fig_margin=kw.pop("margin", None)
                     or dict(top=40, bottom=40, left=60, right=20), **kw)


class MemoryBar:
    """Machine memory per VM (private / shared / balloon / swapped / overhead) plus host free,
    as stacked horizontal bars, in MB. Balloon and swapped pages hold no machine memory: they
    are drawn to show what each VM gave up (§3)."""

    def __init__(self, title: str = "Machine memory (MB)") -> None:
        self.xs, self.ys = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.bars = bq.Bars(x=["free"], y=np.zeros((len(BAR_PARTS) + 1, 1)), scales={"x": self.xs, "y": self.ys},
                            type="stacked", orientation="horizontal", colors=BAR_COLORS,
                            labels=list(BAR_PARTS) + ["free"], display_legend=True)
        self.figure = _figure([self.bars], [bq.Axis(scale=self.xs, side="left"),
                                            bq.Axis(scale=self.ys, label="MB")], title, height="220px",
                              legend_location="bottom-right")

    def update(self, names: Sequence[str], parts: dict[str, Sequence[float]], free: float) -> None:
        """``parts[p][i]`` = MB of part ``p`` for VM ``names[i]``."""
        n = len(names)
        y = np.zeros((len(BAR_PARTS) + 1, n + 1))
        for r, p in enumerate(BAR_PARTS):
            y[r, :n] = np.nan_to_num(np.asarray(parts[p], dtype=float))
        y[-1, n] = free
        with self.bars.hold_sync():
            self.bars.x = list(names) + ["free"]
            self.bars.y = y
            self.ys.max = float(max(y.sum(axis=0).max(), 1.0) * 1.05)


class TimeSeries:
    """One VM's alloc / target / active / balloon / swapped / shared over time (MB), with a
    cursor at the displayed minute."""

    def __init__(self, fields: Sequence[str] = SERIES, title: str = "", ylabel: str = "MB",
                 xlabel: str = "minutes") -> None:
        self.fields = tuple(fields)
        self.xs, self.ys = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0)
        colors = [SERIES_COLORS[SERIES.index(f)] if f in SERIES else c
                  for f, c in zip(self.fields, SERIES_COLORS * 2)]
        self.lines = bq.Lines(x=np.zeros(2), y=np.zeros((len(self.fields), 2)), scales={"x": self.xs, "y": self.ys},
                              labels=list(self.fields), colors=colors, display_legend=True, stroke_width=2)
        self.cursor = bq.Lines(x=[0.0, 0.0], y=[0.0, 1.0], scales={"x": self.xs, "y": self.ys},
                               colors=["#aaaaaa"], line_style="dashed")
        self.figure = _figure([self.lines, self.cursor], [bq.Axis(scale=self.xs, label=xlabel),
                                                          bq.Axis(scale=self.ys, side="left", label=ylabel)],
                              title, legend_location="top-right")

    def update(self, x: np.ndarray, series: dict[str, np.ndarray], title: str | None = None) -> None:
        x = np.asarray(x, dtype=float)
        k = stride(len(x))
        y = np.vstack([np.asarray(series[f], dtype=float)[::k] for f in self.fields])
        x = x[::k]
        if len(x) == 1:                       # bqplot squeezes length-1 axes away: draw a point as 2
            x, y = np.r_[x, x], np.hstack([y, y])
        top = float(np.nanmax(y)) if np.isfinite(y).any() else 1.0
        with self.lines.hold_sync():
            self.lines.x = x
            self.lines.y = y
            self.ys.max = max(top, 1.0) * 1.05
            self.xs.min, self.xs.max = (float(x.min()), float(max(x.max(), x.min() + 1e-9))) if len(x) else (0.0, 1.0)
            self.cursor.y = [0.0, self.ys.max]
        if title is not None:
            self.figure.title = title

    def set_cursor(self, x: float) -> None:
        self.cursor.x = [float(x), float(x)]


class PmapGrid:
    """A small VM's pmap: one cell per PPN (or per ``k`` PPNs for a larger VM, showing the
    first page of each group), coloured by state — unbacked, private MPN, shared MPN,
    swapped, ballooned (§2–§4)."""

    def __init__(self, cols: int = 64, max_cells: int = 4096, title: str = "pmap: PPN → MPN state") -> None:
        self.cols, self.max_cells = cols, max_cells
        self.cs = bq.ColorScale(min=0, max=len(STATE_NAMES) - 1, colors=PMAP_COLORS)
        self.grid = bq.GridHeatMap(color=np.zeros((2, cols)), row=np.arange(2), column=np.arange(cols),
                                   scales={"row": bq.OrdinalScale(reverse=True), "column": bq.OrdinalScale(),
                                           "color": self.cs}, stroke="white", null_color="white")
        self.legend = widgets.HTML(" ".join(f'<span style="background:{c};padding:0 8px;margin-left:6px"></span> {n}'
                                            for n, c in zip(STATE_NAMES, PMAP_COLORS)))
        self.figure = _figure([self.grid], [], title, height="260px", margin=dict(top=40, bottom=10, left=10, right=10))
        self.widget = widgets.VBox([self.figure, self.legend])

    def update(self, states: np.ndarray, title: str | None = None) -> None:
        states = np.asarray(states)
        k = stride(len(states), self.max_cells)
        s = states[::k].astype(float)
        rows = max(2, -(-len(s) // self.cols))      # GridHeatMap squeezes a single row away
        grid = np.full(rows * self.cols, np.nan)
        grid[:len(s)] = s
        with self.grid.hold_sync(), self.grid.hold_trait_notifications():   # validate row/column/color together
            self.grid.row = np.arange(rows)
            self.grid.column = np.arange(self.cols)
            self.grid.color = grid.reshape(rows, self.cols)
        if title is not None:
            self.figure.title = title + (f" (one cell per {k} PPNs)" if k > 1 else " (one cell per PPN)")


class StateStrip:
    """The host's free-memory state over time as a coloured strip: high / soft / hard / low (§6.3)."""

    def __init__(self, cells: int = 300, title: str = "free-memory state") -> None:
        self.cells = cells
        self.cs = bq.ColorScale(min=0, max=len(STATES) - 1, colors=STATE_COLORS)
        self.strip = bq.GridHeatMap(color=np.zeros((2, 2)), row=np.arange(2), column=np.arange(2),
                                    scales={"row": bq.OrdinalScale(), "column": bq.OrdinalScale(), "color": self.cs})
        self.legend = widgets.HTML(" ".join(f'<span style="background:{c};padding:0 8px;margin-left:6px"></span> {n}'
                                            for n, c in zip(STATES, STATE_COLORS)))
        self.figure = _figure([self.strip], [], title, height="90px", margin=dict(top=30, bottom=5, left=10, right=10))
        self.widget = widgets.VBox([self.figure, self.legend])

    def update(self, minutes: np.ndarray, states: np.ndarray) -> None:
        """``states`` are indices into :data:`~esxlab.STATES`; each cell shows the worst state in it."""
        k = stride(len(states), self.cells)
        n = -(-len(states) // k) if len(states) else 0
        padded = np.full(n * k, -1, dtype=int)
        padded[:len(states)] = states
        worst = padded.reshape(n, k).max(axis=1).astype(float) if n else np.zeros(2)
        self.minutes = np.asarray(minutes, dtype=float)[::k][:len(worst)]
        with self.strip.hold_sync(), self.strip.hold_trait_notifications():
            self.strip.column = np.arange(len(worst))
            self.strip.color = np.vstack([worst, worst])     # two rows: a single one is squeezed away


class WhyPanel:
    """The decision log: the latest decisions up to the displayed tick, each with its reason."""

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit
        self.widget = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.shown: list = []

    def update(self, decisions: Sequence, upto_tick: float, vm: str | None = None) -> None:
        chosen = [d for d in decisions if d.tick <= upto_tick and (vm is None or d.vm in (vm, ""))]
        self.shown = chosen[-self.limit:]
        lines = "\n".join(html.escape(str(d)) for d in reversed(self.shown)) or "(no decision yet)"
        self.widget.value = (f"<b>Why? the last {len(self.shown)} of {len(chosen)} decisions up to "
                             f"t = {upto_tick:.0f} s</b><pre style='font-size:11px;margin:0'>{lines}</pre>")


class CounterTable:
    """Events per VM since power-on (``vm.totals``): faults, swap-ins, guest disk I/O, double paging…"""

    FIELDS = ("zero_allocs", "swap_outs", "swap_ins", "guest_disk_reads", "guest_disk_writes", "double_paging",
              "balloon_pops", "cow_breaks", "stalls")

    def __init__(self) -> None:
        self.widget = widgets.HTML()
        self.values: dict[str, dict[str, int]] = {}

    def update(self, totals: dict) -> None:
        """``totals``: VM name → :class:`~esxlab.vm.Counters`."""
        self.values = {n: {f: int(getattr(c, f)) for f in self.FIELDS} for n, c in totals.items()}
        head = "".join(f"<th style='padding:0 6px'>{f.replace('_', ' ')}</th>" for f in ("VM",) + self.FIELDS)
        body = "".join(f"<tr><td>{html.escape(n)}</td>" + "".join(f"<td style='text-align:right;padding:0 6px'>{v}</td>"
                                                                   for v in row.values()) + "</tr>"
                       for n, row in self.values.items())
        self.widget.value = f"<b>Events since power-on</b><table style='font-size:11px'><tr>{head}</tr>{body}</table>"


class PaperTable:
    """Rows of an experiment's ``Result.table``: paper value beside esxlab's, within tolerance?"""

    def __init__(self) -> None:
        self.widget = widgets.HTML()

    def update(self, rows: Sequence) -> None:
        """One line per row; a row's note (why the model differs) becomes a numbered footnote."""
        head = "".join(f"<th style='padding:0 8px'>{h}</th>" for h in ("quantity", "paper", "esxlab", "tolerance", "within"))
        body, notes = [], []
        for r in rows:
            cells = [html.escape(c) for c in r.cells()[1:6]]
            if r.note:
                notes.append(html.escape(r.note))
                cells[-1] += f" [{len(notes)}]"
            body.append("<tr>" + "".join(f"<td style='padding:0 8px'>{c}</td>" for c in cells) + "</tr>")
        foot = "".join(f"<div style='font-size:11px'>[{i}] {n}</div>" for i, n in enumerate(notes, 1))
        self.widget.value = f"<table><tr>{head}</tr>{''.join(body)}</table>{foot}"
