"""Reusable dashboard parts, each built once and updated in place inside ``hold_sync()``:
a machine-memory bar (beside what was reclaimed), VM time series, a pmap grid, a
free-memory state strip, a "why" panel with the decision log, event counters and a
paper-vs-esxlab table (paper §3–§6 vocabulary).

Every chart takes its colours from :mod:`esxlab.views.palette` (one colour-blind-safe palette, one colour per page
state everywhere, each chart's colours apart under protanopia, deuteranopia and tritanopia). Ballooned and
swapped, the two a student must tell apart, differ in lightness as well as hue. Legends are HTML rows under
each chart, never on the data. Each part's ``widget`` is what a dashboard shows.
"""
from __future__ import annotations

import html
import math
from typing import Sequence

import bqplot as bq
import ipywidgets as widgets
import numpy as np

from ..experiments.result import COLUMNS, FITTED_LEGEND, heads, shown
from ..metrics import EVENTS, HOST_METRICS, METRICS, PAGE_STATES, STATE_NAMES, VM_METRICS
from ..reclaim import STATES
from .palette import (COLORS, LIGHT, PAPER_COLOR, PMAP_COLORS, STATE_COLORS, WARNING_TEXT, contrast, darker,
                      series_colors)

MAX_POINTS = 600
MACHINE_PARTS = ("private", "overhead", "shared frames", "sharing table", "free")
RECLAIMED_PARTS = tuple(s.name for s in PAGE_STATES if s.reclaimed)
#: page states and metrics of later ESX (memory compression, large pages): drawn and listed only
#: where a run has some
LATER_ESX = frozenset(x.name for x in (*PAGE_STATES, *METRICS) if x.source.startswith("later ESX"))
SERIES = tuple(m.name for m in VM_METRICS if m.plot and m.trace)
LABELS = {m.name: m.label for m in METRICS}
UNITS = {m.name: m.unit for m in METRICS}
#: bqplot draws a 6 px tick down at each end of an axis, through a label that sits there (a time axis's last
#: minute, "5", under the minute cursor): a bottom axis's labels move down, clear of it
BELOW_END_TICKS = {"transform": "translate(0px, 4px)"}


def stride(n: int, limit: int = MAX_POINTS) -> int:
    """Every how many samples to plot so that at most ``limit`` points are drawn."""
    return max(1, -(-n // limit))


def pretty(name: str) -> str:
    """A readable label for a field name: a metric's label (:mod:`esxlab.metrics`), else
    ``"idle_alloc"`` → ``"idle alloc"``, ``"size_mb"`` → ``"size (MB)"``, ``"minute"`` → ``"time (min)"``."""
    if name in LABELS:
        return LABELS[name]
    if name in ("minute", "minutes"):
        return "time (min)"
    for suffix, unit in (("_mb", "MB"), ("_pct", "%"), ("_s", "s")):
        if name.endswith(suffix):
            return f"{name[:-len(suffix)].replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """At most about ``n`` round tick values (steps of 1, 2, 2.5 or 5 × 10^k) in [lo, hi]: a chart
    260 px high stays readable (bqplot's own ticks crowd it with a dozen labels)."""
    raw = max(hi - lo, 1e-9) / n
    mag = 10.0 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step) + 0.0      # + 0.0: no "−0" label


def set_ticks(axis: bq.Axis, values: Sequence[float]) -> None:
    """Put ticks at ``values``, each labelled with the decimals it needs (at most 3: 0, 0.25, 1, 224.5): bqplot
    keeps the label format of the range it first drew, so 0, 0.5, 1 after a 0–90 range read "0 1 1"."""
    axis.tick_values = np.asarray(values, dtype=float)
    axis.tick_format = ".3~f"


def legend(names: Sequence[str], colors: Sequence[str]) -> widgets.HTML:
    """An HTML legend row (kept off the plotting area)."""
    return widgets.HTML(legend_html(names, colors))


def legend_html(names: Sequence[str], colors: Sequence[str]) -> str:
    """The HTML of :func:`legend`: a swatch and a name per entry."""
    return "<div style='font-size:12px;line-height:1.6'>" + " ".join(
        f"<span style='white-space:nowrap;margin-right:12px'><span style='display:inline-block;width:12px;"
        f"height:12px;background:{c};border:1px solid #777;vertical-align:middle'></span> {html.escape(n)}</span>"
        for n, c in zip(names, colors)) + "</div>"


def _figure(marks, axes, title: str, height: str = "260px", margin: dict | None = None) -> bq.Figure:
    return bq.Figure(marks=marks, axes=axes, title=title, animation_duration=0,
                     layout=widgets.Layout(width="100%", height=height),
                     fig_margin=margin or dict(top=40, bottom=50, left=80, right=30))   # room for the last tick label


class MemoryBar:
    """Machine memory as stacked horizontal bars (MB): each VM's private pages and overhead,
    the frames holding shared pages, and free memory — they add up to the host's memory, which is
    the axis's length (not the longest bar's: 0–90 MB on a 224 MB host, 0–55 on a 160 MB one), named in
    the axis label; the ticks are round, none at the end (an unround size, "453.762", crowded its neighbour).
    Beside it, what was reclaimed from each VM (ballooned, swapped): not machine memory but
    what the VM gave up (§3)."""

    def __init__(self, title: str = "Machine memory, at the minute shown") -> None:
        self.xs, self.ys = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.bars = bq.Bars(x=["free"], y=np.zeros((len(MACHINE_PARTS), 1)), scales={"x": self.xs, "y": self.ys},
                            type="stacked", orientation="horizontal", colors=[COLORS[p] for p in MACHINE_PARTS],
                            labels=list(MACHINE_PARTS), padding=0.25)
        self.rxs, self.rys = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.reclaimed = bq.Bars(x=["-"], y=np.zeros((len(RECLAIMED_PARTS), 1)), scales={"x": self.rxs, "y": self.rys},
                                 type="stacked", orientation="horizontal",
                                 colors=[COLORS[p] for p in RECLAIMED_PARTS], labels=list(RECLAIMED_PARTS), padding=0.25)
        margin = dict(top=40, bottom=50, left=100, right=30)          # right: room for the last tick label
        self.axis = bq.Axis(scale=self.ys, label="machine memory (MB)")
        self.figure = _figure([self.bars], [bq.Axis(scale=self.xs, side="left"), self.axis],
                              title, height="240px", margin=margin)
        self.reclaimed_axis = bq.Axis(scale=self.rys, label="reclaimed (MB)")
        self.reclaimed_figure = _figure([self.reclaimed], [bq.Axis(scale=self.rxs, side="left"), self.reclaimed_axis],
                                        "Reclaimed from each VM", height="240px", margin=margin)
        self.figure.layout.width = "60%"
        self.reclaimed_figure.layout.width = "40%"
        self.legend = legend(*self._legend_entries(RECLAIMED_PARTS))
        self.widget = widgets.VBox([widgets.HBox([self.figure, self.reclaimed_figure]), self.legend])

    @staticmethod
    def _legend_entries(reclaimed: Sequence[str], table: bool = False) -> tuple[list[str], list[str]]:
        """The machine parts (the sharing table only where there is one) and ``reclaimed``."""
        names = [*(p for p in MACHINE_PARTS if table or p != "sharing table"), *reclaimed]
        return names, [COLORS[p] for p in names]

    def update(self, names: Sequence[str], parts: dict[str, Sequence[float]], free: float,
               shared_frames: float = 0.0, sharing_table: float = 0.0) -> None:
        """``parts[p][i]`` = MB of ``p`` (private, overhead, and each of :data:`RECLAIMED_PARTS`) for VM
        ``names[i]`` (NaN: the VM was not running, drawn as 0); ``free``, ``shared_frames`` (machine frames
        holding shared pages) and ``sharing_table`` (the page-sharing hash table's memory, §4.3, stacked on the
        shared frames) are host-wide, in MB."""
        n = len(names)
        y = np.zeros((len(MACHINE_PARTS), n + 2))
        for r, p in enumerate(("private", "overhead")):
            y[r, :n] = np.nan_to_num(np.asarray(parts[p], dtype=float))
        y[MACHINE_PARTS.index("shared frames"), n] = shared_frames
        y[MACHINE_PARTS.index("sharing table"), n] = sharing_table
        y[MACHINE_PARTS.index("free"), n + 1] = free
        r = np.zeros((len(RECLAIMED_PARTS), max(n, 1)))
        for k, p in enumerate(RECLAIMED_PARTS):
            r[k, :n] = np.nan_to_num(np.asarray(parts[p], dtype=float))
        host_mb = float(max(round(y.sum(), 6), 1))      # the bars' sum: the host's memory
        with self.bars.hold_sync():
            self.bars.x = list(names) + ["shared frames", "free"]
            self.bars.y = y
            self.ys.max = host_mb
            ticks = round_ticks(host_mb, 6)
            set_ticks(self.axis, ticks[ticks <= 0.95 * host_mb])        # none at the end, under its end tick
        size = f"{host_mb:.1f}".removesuffix(".0")
        self.axis.label = f"machine memory (MB): the host's {size} MB"
        most = float(r.sum(axis=0).max())
        self.legend.value = legend_html(*self._legend_entries(
            [p for k, p in enumerate(RECLAIMED_PARTS) if p not in LATER_ESX or r[k].any()], sharing_table > 0))
        with self.reclaimed.hold_sync():
            self.reclaimed.x = list(names) or ["-"]
            self.reclaimed.y = r
            self.rys.max = float(max(most, 1.0) * 1.05)
            set_ticks(self.reclaimed_axis, round_ticks(self.rys.max))    # a narrow chart: few, round ticks
        # an empty chart says so in its title, rather than leave a blank 0–1 MB axis to puzzle over
        self.reclaimed_figure.title = "Reclaimed from each VM" if most > 0 else "Reclaimed from each VM: nothing"


def round_ticks(top: float, most: int = 5) -> np.ndarray:
    """At most ``most`` ticks from 0 to ``top`` at a round step (1, 2 or 5 × 10ⁿ): in a narrow chart
    bqplot's own ticks every 10 MB run together ("90100110…")."""
    step = 10.0 ** math.floor(math.log10(top / most))
    step = next(m * step for m in (1, 2, 5, 10) if top / (m * step) <= most)
    return np.arange(0.0, top, step)


def host_ylabel(fields: Sequence[str]) -> str:
    """The y label for host series ``fields``: memory in MB unless they are all one other unit."""
    axes = {m.name: m.axis for m in HOST_METRICS}
    units = {axes.get(f, "memory (MB)") for f in fields}
    return units.pop() if len(units) == 1 else "MB, or as named in the legend"


def y_range(values: np.ndarray, from_zero: bool) -> tuple[float, float]:
    """The y scale's (min, max) for ``values`` (NaN skipped): from 0 to 5 % above the top when
    ``from_zero``, else the data padded by 5 % of its span; a flat series (all one value) gets
    ±5 % of its value (±1 at 0) around it, never a span of zero (whose ticks repeat one label)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 1.0
    top = float(finite.max())
    if from_zero:
        return 0.0, max(top, 1.0) * 1.05
    bottom = float(finite.min())
    if top - bottom <= 1e-9 * max(1.0, abs(top)):
        pad = 0.05 * abs(top) or 1.0
        return top - pad, top + pad
    pad = (top - bottom) * 0.05
    return bottom - pad, top + pad


def covered(y: np.ndarray, shown: Sequence[bool], tol: float) -> dict[int, np.ndarray]:
    """The rows of ``y`` (drawn in order, each over the ones before) that a later shown row covers,
    each with where: within ``tol`` of it at ≥ 5 % of the points (at least 2), e.g. alloc under a
    balloon held at the same MB, or two curves that meet."""
    out = {}
    for i in range(len(y)):
        if not shown[i]:
            continue
        with np.errstate(invalid="ignore"):
            near = [np.abs(y[i] - y[j]) <= tol for j in range(i + 1, len(y)) if shown[j]]
        where = np.logical_or.reduce(near) if near else np.zeros(y.shape[1], bool)
        if where.sum() >= max(2, 0.05 * y.shape[1]):
            out[i] = where
    return out


def ending_on_a_number(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` once per row of ``y``, and each row of ``y`` that ends in NaN (a gap to the end) ending instead on its
    last number, repeated, at that number's x: the same line, stopping there (a row of NaN only stays as it is).
    bqplot's Lines puts every line's label, shown or not, at its last point, and where that y is NaN the browser logs
    ``<g> attribute transform: Trailing garbage, "translate(960,undefined)"`` (invented: a drawing detail)."""
    y = np.atleast_2d(np.array(y, dtype=float))
    xs = np.tile(np.asarray(x, dtype=float), (len(y), 1))
    for row_x, row_y in zip(xs, y):
        numbers = np.flatnonzero(np.isfinite(row_y))
        if len(numbers):
            last = numbers[-1]
            row_x[last + 1:], row_y[last + 1:] = row_x[last], row_y[last]
    return xs, y


#: a series with at most this many points is a curve of a few measurements: each point gets a marker
FEW_POINTS = 12
#: the paper's digitized points (:meth:`TimeSeries.show_paper`), in :data:`~esxlab.views.palette.PAPER_COLOR`: each
#: quantity its own marker shape (bqplot's name, and the legend's glyph); esxlab's lines mark a few points with circles
PAPER_MARKERS = (("diamond", "◆"), ("triangle-up", "▲"), ("square", "■"), ("triangle-down", "▼"))


class TimeSeries:
    """Lines over time (or over any x): by default one VM's alloc / target / active / balloon /
    swapped / shared (MB), with a cursor at the displayed minute. ``y_from_zero=False`` fits
    the y axis to the data (for lines that differ by a few percent).

    Nothing drawn hides: a line that a later one covers (alloc under a balloon held at the same
    MB) is drawn again on top, dashed (:attr:`overlay`); a light line (the balloon's yellow)
    runs on a darker edge of its own hue (:attr:`edge`; the legend keeps its colour); and a curve
    of a few points (:data:`FEW_POINTS`) marks each point, its x axis padded so none sits on an edge.

    Counts per second (every field's unit "per s": 08's bounce copies) are drawn as steps, each
    sample held over the second it counts, and a burst of a few such seconds (at most
    :data:`FEW_POINTS` non-zero samples) marks each of them (:attr:`burst`): a 2-minute axis squeezed
    a 3-second burst into its first pixels. :meth:`mark` draws a labelled event line, solid, unlike
    the dashed minute cursor (:attr:`cursor`).

    :meth:`add_paper` makes room for the paper's digitized points of some quantities, which
    :meth:`show_paper` draws as grey markers, one shape per quantity (:data:`PAPER_MARKERS`), with a
    "paper" entry in the legend (or, where none are drawn, why not); the axes take them in."""

    def __init__(self, fields: Sequence[str] = SERIES, title: str = "", ylabel: str = "memory (MB)",
                 xlabel: str = "time (min)", y_from_zero: bool = True) -> None:
        self.fields = tuple(fields)
        self.y_from_zero = y_from_zero
        self.counts = bool(self.fields) and all(UNITS.get(f) == "per s" for f in self.fields)
        self.xs, self.ys = bq.LinearScale(min=0.0, max=1.0), bq.LinearScale(min=0.0)
        colors = series_colors(self.fields)
        scales = {"x": self.xs, "y": self.ys}
        self.lines = bq.Lines(x=np.zeros(2), y=np.zeros((len(self.fields), 2)), scales=scales,
                              labels=[pretty(f) for f in self.fields], colors=colors, stroke_width=2,
                              opacities=self._opacities(np.zeros((len(self.fields), 1))), marker_size=49,
                              interpolation="step-before" if self.counts else "linear")
        self.edge = bq.Lines(x=np.zeros(2), y=np.zeros(2), scales=scales, stroke_width=4, marker_size=100,
                             visible=False)
        self.overlay = bq.Lines(x=np.zeros(2), y=np.zeros(2), scales=scales, stroke_width=2, marker_size=16,
                                line_style="dashed", visible=False)
        self.burst = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=scales, default_size=36, visible=False)
        self.cursor = bq.Lines(x=[0.0, 0.0], y=[0.0, 1.0], scales=scales,
                               colors=["#777777"], line_style="dashed")
        self.event = bq.Lines(x=[0.0, 0.0], y=[0.0, 1.0], scales=scales, colors=["#333333"], labels=[""],
                              labels_visibility="label", visible=False)
        self.xaxis = bq.Axis(scale=self.xs, label=xlabel, tick_style=BELOW_END_TICKS)
        self.yaxis = bq.Axis(scale=self.ys, side="left", label=ylabel, label_offset="55px")  # clear of 3-digit ticks
        self.figure = _figure([self.edge, self.lines, self.overlay, self.burst, self.cursor, self.event],
                              [self.xaxis, self.yaxis], title)
        self.paper: list[bq.Scatter] = []                 # the paper's points, one mark per quantity (add_paper)
        self.paper_quantities: tuple[str, ...] = ()
        self.paper_points: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.paper_note = ""
        self.legend = legend(*self._legend_entries(self.lines.opacities))
        self.widget = widgets.VBox([self.figure, self.legend])

    def add_paper(self, quantities: Sequence[str]) -> None:
        """Room for the paper's points of ``quantities`` (at most :data:`PAPER_MARKERS`, each its shape, in
        this order: a quantity keeps its shape whatever the chart shows), drawn over the lines, under the
        cursor. Once per chart, when a dashboard is built."""
        if self.paper:
            raise ValueError("TimeSeries.add_paper: this chart has room for the paper's points already.")
        self.paper_quantities = tuple(quantities)[:len(PAPER_MARKERS)]
        scales = {"x": self.xs, "y": self.ys}
        self.paper = [bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=scales, marker=shape, colors=[PAPER_COLOR],
                                 stroke="white", stroke_width=1, default_size=80, visible=False)
                      for shape, _ in PAPER_MARKERS[:len(self.paper_quantities)]]
        marks = list(self.figure.marks)
        at = marks.index(self.cursor)
        self.figure.marks = [*marks[:at], *self.paper, *marks[at:]]

    def show_paper(self, points: dict[str, tuple[np.ndarray, np.ndarray]], note: str = "") -> None:
        """Draw the paper's ``points`` (quantity → (x, y); NaN: no point), those of quantities given to
        :meth:`add_paper`, the others hidden; ``note`` goes with the legend's "paper" entry (e.g. why none are
        drawn). Call before :meth:`update`, whose axes take the points in."""
        self.paper_points = {}
        for quantity, mark in zip(self.paper_quantities, self.paper):
            x, y = points.get(quantity, (np.zeros(0), np.zeros(0)))
            keep = np.isfinite(y)
            if keep.any():
                self.paper_points[quantity] = (x[keep], y[keep])
            with mark.hold_sync():
                mark.visible = bool(keep.any())
                if keep.any():
                    mark.x, mark.y = x[keep], y[keep]
        self.paper_note = note
        self.legend.value = self._legend_value(self.lines.opacities)

    def _paper_html(self) -> str:
        """The legend's "paper" entry: each quantity's grey glyph, and the note."""
        glyph = dict(zip(self.paper_quantities, (g for _, g in PAPER_MARKERS)))
        drawn = [q for q in self.paper_quantities if q in self.paper_points]
        if not drawn and not self.paper_note:
            return ""
        style = f"color:{PAPER_COLOR};font-size:14px;vertical-align:middle"
        what = " ".join(f"<span style='white-space:nowrap'><span style='{style}'>{glyph[q]}</span> {html.escape(pretty(q))}"
                        f"</span>" for q in drawn)
        head = f"<b>paper</b> (digitized): {what}" if drawn else "<b>paper</b>"
        note = f" <span style='color:#555'>— {html.escape(self.paper_note)}</span>" if self.paper_note else ""
        return f"<div style='font-size:12px;line-height:1.6'>{head}{note}</div>"

    def _legend_value(self, opacities: Sequence[float]) -> str:
        """The legend: the lines shown, then the paper's entry (if this chart has room for its points)."""
        return legend_html(*self._legend_entries(opacities)) + (self._paper_html() if self.paper else "")

    def _opacities(self, y: np.ndarray) -> list[float]:
        """Per line: the target half transparent (the alloc under it shows through); a later-ESX
        state or metric that stays 0 hidden (a 2002-era run has none)."""
        return [0.0 if f in LATER_ESX and not np.nan_to_num(y[i]).any() else 0.5 if f == "target" else 1.0
                for i, f in enumerate(self.fields)]

    def _legend_entries(self, opacities: Sequence[float]) -> tuple[list[str], list[str]]:
        shown = [i for i, o in enumerate(opacities) if o > 0]
        return [pretty(self.fields[i]) for i in shown], [self.lines.colors[i] for i in shown]

    def set_colors(self, colors: Sequence[str]) -> None:
        """Colour the lines (one per field) and their legend entries."""
        self.lines.colors = list(colors)
        self.legend.value = self._legend_value(self.lines.opacities)

    def update(self, x: np.ndarray, series: dict[str, np.ndarray], title: str | None = None,
               x_max: float | None = None) -> None:
        """Draw ``series[f]`` against ``x`` (at most :data:`MAX_POINTS` points); ``x_max`` fixes
        the right end of the x axis (a run still streaming in grows from the left)."""
        x = np.asarray(x, dtype=float)
        k = stride(len(x))
        y = np.vstack([np.asarray(series[f], dtype=float)[::k] for f in self.fields])
        x = x[::k]
        few = x_max is None and 1 < len(x) <= FEW_POINTS          # not the first frames of a run streaming in
        if self.counts and len(x) > 1:        # the first sample counts the second before it, from 0
            x, y = np.r_[2 * x[0] - x[1], x], np.hstack([np.zeros((len(y), 1)), y])
        if len(x) == 1:                       # bqplot squeezes length-1 axes away: draw a point as 2
            x, y = np.r_[x, x], np.hstack([y, y])
        opacities = self._opacities(y)
        if opacities != list(self.lines.opacities):
            self.legend.value = self._legend_value(opacities)
        px = np.concatenate([x for x, _ in self.paper_points.values()]) if self.paper_points else np.zeros(0)
        py = np.concatenate([y for _, y in self.paper_points.values()]) if self.paper_points else np.zeros(0)
        with self.lines.hold_sync():
            self.lines.x = x
            self.lines.y = y
            self.lines.opacities = opacities
            self.lines.marker = "circle" if few else None
            self.ys.min, self.ys.max = y_range(np.r_[y.ravel(), py], self.y_from_zero)   # the paper's points too
            lo = float(min(x.min(), px.min(initial=np.inf))) if len(x) else 0.0
            hi = float(max(x.max(), px.max(initial=-np.inf))) if len(x) else 1.0
            pad = (hi - lo) * 0.04 if few else 0.0           # a point's marker clear of the plot's edges
            self.xs.min, self.xs.max = lo - pad, max((hi if x_max is None else x_max) + pad, lo + 1e-9)
            self.cursor.y = self.event.y = [self.ys.min, self.ys.max]
            set_ticks(self.yaxis, nice_ticks(self.ys.min, self.ys.max))
        shown = [o > 0 for o in opacities]
        colors = list(self.lines.colors)
        light = [i for i, c in enumerate(colors) if shown[i] and contrast(c) < LIGHT]
        self._companion(self.edge, x, y[light], [darker(colors[i]) for i in light], [opacities[i] for i in light],
                        few)
        under = covered(y, shown, 0.01 * (self.ys.max - self.ys.min))
        # a long series: only where it is covered (NaN is a gap); a few points: all, each with its marker
        again = np.array([y[i] if few else np.where(where, y[i], np.nan) for i, where in under.items()])
        self._companion(self.overlay, x, again, [colors[i] for i in under], [opacities[i] for i in under], few)
        rows, cols = np.nonzero(np.nan_to_num(y) > 0) if self.counts else ((), ())
        with self.burst.hold_sync():
            self.burst.visible = 0 < len(cols) <= FEW_POINTS
            if self.burst.visible:
                self.burst.x, self.burst.y, self.burst.colors = x[cols], y[rows, cols], [colors[r] for r in rows]
        if title is not None:
            self.figure.title = title

    @staticmethod
    def _companion(mark: bq.Lines, x: np.ndarray, y: np.ndarray, colors: list[str], opacities: list[float],
                   few: bool) -> None:
        """Draw the rows ``y`` on ``mark`` (an edge under the lines, or an overlay on top, NaN where it is not
        drawn) in ``colors``."""
        with mark.hold_sync():
            mark.visible = bool(colors)
            if colors:
                (mark.x, mark.y), mark.colors, mark.opacities = ending_on_a_number(x, y), colors, opacities
                mark.marker = "circle" if few else None

    def set_cursor(self, x: float) -> None:
        """Draw the vertical cursor at ``x`` (minutes)."""
        self.cursor.x = [float(x), float(x)]

    def mark(self, x: float, label: str) -> None:
        """Draw a solid vertical line at ``x`` (minutes) labelled ``label`` at its top: an event ("hog starts"),
        not the displayed minute."""
        with self.event.hold_sync():
            self.event.x, self.event.labels, self.event.visible = [float(x), float(x)], [label], True


class PmapGrid:
    """A small VM's pmap: one cell per PPN (or per ``k`` PPNs for a larger VM, showing the
    first page of each group), coloured by state — unbacked, private MPN, shared MPN,
    swapped, ballooned (§2–§4). Cells about as wide as high, with no border: 64 columns of 4096
    cells were 3 px strokes, a third of them the white border, too thin to tell colours apart."""

    def __init__(self, cols: int = 128, max_cells: int = 4096, title: str = "pmap: PPN → MPN state") -> None:
        self.cols, self.max_cells = cols, max_cells
        # one more colour, white, for the cells past the last PPN (NaN cells would be drawn black)
        self.cs = bq.ColorScale(min=0, max=len(STATE_NAMES), colors=PMAP_COLORS + ["#FFFFFF"])
        # painted as one image (bqplot's HeatMap): a GridHeatMap's 4096 cells and their labels were some 30,000
        # changes to the page per frame, which kept a browser busy seconds after each move
        self.grid = bq.HeatMap(x=np.arange(cols), y=np.arange(2), color=np.zeros((2, cols)),
                               scales={"x": bq.LinearScale(), "y": bq.LinearScale(reverse=True), "color": self.cs})
        self.legend = legend(STATE_NAMES, PMAP_COLORS)
        self.figure = _figure([self.grid], [], title, height="260px", margin=dict(top=40, bottom=10, left=10, right=10))
        self.widget = widgets.VBox([self.figure, self.legend])

    def update(self, states: np.ndarray, title: str | None = None) -> None:
        """Colour each cell by the page state in ``states`` (one per PPN, pmap state indices)."""
        states = np.asarray(states)
        k = stride(len(states), self.max_cells)
        s = states[::k].astype(float)
        rows = max(2, -(-len(s) // self.cols))      # bqplot squeezes a single row away
        grid = np.full(rows * self.cols, float(len(STATE_NAMES)))         # past the last PPN: white
        grid[:len(s)] = s
        grid = grid.reshape(rows, self.cols)
        if not np.array_equal(grid, self.grid.color):      # (the same picture: nothing to send)
            with self.grid.hold_sync(), self.grid.hold_trait_notifications():   # validate y and color together
                if len(self.grid.y) != rows:
                    self.grid.y = np.arange(rows)
                self.grid.color = grid
        if title is not None:
            self.figure.title = title + (f" (one cell per {k} PPNs)" if k > 1 else " (one cell per PPN)")


class StateStrip:
    """The host's free-memory state over time as a row of coloured cells on a time axis: high / soft /
    hard / low (§6.3); each cell shows the worst state in its stretch of time."""

    def __init__(self, cells: int = 300, title: str = "Free-memory state") -> None:
        self.cells = cells
        self.xs = bq.LinearScale(min=0.0, max=1.0)
        self.cs = bq.ColorScale(min=0, max=len(STATES) - 1, colors=STATE_COLORS)
        # a heat map of one row (drawn twice: bqplot squeezes a single row away), painted as one image:
        # side-by-side bars left hairline gaps between them
        self.strip = bq.HeatMap(x=np.arange(2.0), y=np.arange(2.0), color=np.zeros((2, 2)),
                                scales={"x": self.xs, "y": bq.LinearScale(), "color": self.cs})
        self.figure = _figure([self.strip], [bq.Axis(scale=self.xs, label="time (min)", tick_style=BELOW_END_TICKS)],
                              "", height="110px",
                              margin=dict(top=5, bottom=45, left=70, right=30))
        self.title = widgets.HTML(f"<b>{html.escape(title)}</b>")
        self.legend = legend(*self._legend_entries(()))
        self.widget = widgets.VBox([self.title, self.figure, self.legend])

    @staticmethod
    def _legend_entries(states) -> tuple[list[str], list[str]]:
        """The paper's four states (§6.3), and ESXi 6's "clear" only where the run was in it."""
        shown = [i for i, s in enumerate(STATES) if s != "clear" or np.any(np.asarray(states) == i)]
        return [STATES[i] for i in shown], [STATE_COLORS[i] for i in shown]

    def update(self, minutes: np.ndarray, states: np.ndarray, x_max: float | None = None) -> None:
        """``states`` are indices into :data:`~esxlab.STATES` per sample at ``minutes``."""
        k = stride(len(states), self.cells)
        n = -(-len(states) // k) if len(states) else 0
        padded = np.full(n * k, -1, dtype=int)
        padded[:len(states)] = states
        worst = padded.reshape(n, k).max(axis=1).astype(float) if n else np.zeros(2)
        self.minutes = np.asarray(minutes, dtype=float)[::k][:len(worst)] if n else np.arange(2.0)
        end = float(self.minutes[-1]) if len(self.minutes) else 1.0
        x, worst = (np.r_[self.minutes, end + 1e-9], np.r_[worst, worst]) if len(worst) == 1 else (self.minutes, worst)
        self.legend.value = legend_html(*self._legend_entries(states))
        with self.strip.hold_sync(), self.strip.hold_trait_notifications():   # x and color change together
            self.strip.x = x
            self.strip.color = np.vstack([worst, worst])
            self.xs.min = float(self.minutes[0]) if len(self.minutes) else 0.0
            self.xs.max = max(end if x_max is None else x_max, self.xs.min + 1e-9)


#: the decision log's lines: the same font and spacing in JupyterLab and Voilà (each styles a bare <pre> its
#: own way: monospace, or proportional and double-spaced), wrapped at spaces only (Lab's output CSS breaks
#: words anywhere: "balloo|n"), a word longer than the line alone cut, and a wrapped line indented under its "t="
WHY_LINE = ("font-family:var(--jp-code-font-family,'DejaVu Sans Mono',Menlo,Consolas,monospace);font-size:11px;"
            "line-height:1.4;white-space:pre-wrap;word-break:normal;overflow-wrap:anywhere;"
            "padding-left:2ch;text-indent:-2ch;margin:0")


def _as_of(decision, upto_tick: float) -> str:
    """``decision``'s line as the log reads at ``upto_tick``: a repeated decision still going on then says so, as its
    span and amount are those of its whole run (the log keeps their sum, not each tick's)."""
    line = str(decision)
    if decision.until is not None and decision.until > upto_tick:
        line += f" (still going at t = {upto_tick:.0f} s: span and amount to t = {decision.until} s)"
    return line


class WhyPanel:
    """The decision log: the latest decisions up to the displayed tick, each with its reason."""

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit
        self.widget = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.shown: list = []

    def update(self, decisions: Sequence, upto_tick: float, vm: str | None = None, complete: bool = True) -> None:
        """Show the last decisions up to ``upto_tick`` (s), of ``vm`` and the host's if given, else all;
        ``complete``: the run has ended (one that logged nothing then keeps no room for lines to come)."""
        chosen = [d for d in decisions if d.tick <= upto_tick and (vm is None or d.vm in (vm, ""))]
        self.shown = chosen[-self.limit:]
        if not decisions:
            lines = ["(this run logged no reclaim decision; balloon changes are logged once they add up to 1 MB)"]
        else:
            lines = [_as_of(d, upto_tick) for d in reversed(self.shown)] or ["(no decision yet)"]
        body = "".join(f"<div style=\"{WHY_LINE}\">{html.escape(line)}</div>" for line in lines)
        # room for ``limit`` lines: a run that streams in does not shrink the page under them (but an ended
        # run that logged nothing leaves no blank space)
        room = 0 if complete and not decisions else 1.4 * self.limit
        whose = "" if vm is None else f" about {vm} or the whole host"
        self.widget.value = (f"<div style='line-height:1.4'><b>Why? the last {len(self.shown)} of {len(chosen)} "
                             f"decisions{html.escape(whose)} up to t = {upto_tick:.0f} s</b><div style='min-height:{room:g}em;"
                             f"font-size:11px'>{body}</div></div>")


class CounterTable:
    """Events per VM since power-on (``vm.totals``): faults, swap-ins, guest disk I/O, double
    paging… Counts that betray trouble (a balloon pop: the guest touched a page its driver
    reported as ballooned, as a lying driver's guest does, §3.2) are highlighted and explained."""

    FIELDS = tuple(e.name for e in EVENTS if e.table)
    ALARMS = {"balloon_pops": "the guest touched pages its balloon driver had reported as ballooned "
                              "(a lying driver, §3.2): ESX releases the whole balloon each time",
              "double_paging": "the guest paged out a page ESX had already swapped (§3.3)",
              "stalls": "a VM waited for memory",
              "guest_oom": "the guest had no page for some accesses: its balloon and the tick's own pages held all "
                           "its memory (a balloon larger than the guest can spare, §3.2)"}

    def __init__(self) -> None:
        self.widget = widgets.HTML()
        self.values: dict[str, dict[str, int]] = {}

    def update(self, totals: dict) -> None:
        """``totals``: VM name → :class:`~esxlab.vm.Counters`."""
        self.values = {n: {f: int(getattr(c, f)) for f in self.FIELDS} for n, c in totals.items()}
        head = "".join(f"<th style='padding:0 6px'>{f.replace('_', ' ')}</th>" for f in ("VM",) + self.FIELDS)
        raised = sorted({f for row in self.values.values() for f, v in row.items() if v and f in self.ALARMS},
                        key=self.FIELDS.index)

        def cell(f: str, v: int) -> str:
            alarm = f"color:{WARNING_TEXT};font-weight:bold;" if v and f in self.ALARMS else ""
            return f"<td style='text-align:right;padding:0 6px;{alarm}'>{v}</td>"

        body = "".join(f"<tr><td>{html.escape(n)}</td>" + "".join(cell(f, v) for f, v in row.items()) + "</tr>"
                       for n, row in self.values.items())
        notes = "".join(f"<div style='font-size:11px;color:{WARNING_TEXT}'>{f.replace('_', ' ')}: "
                        f"{self.ALARMS[f]}</div>"
                        for f in raised)
        self.widget.value = f"<b>Events since power-on</b><table style='font-size:11px'><tr>{head}</tr>{body}</table>{notes}"


class PaperTable:
    """Rows of an experiment's ``Result.table``: paper value beside esxlab's, within tolerance? (And, when some
    prediction is, which an invented value was fitted to: column "fitted", explained under the table by
    :data:`~esxlab.experiments.result.FITTED_LEGEND`.)
    ``reference`` heads the column of the values compared with ("paper"; an experiment's ``REFERENCE``
    where they come from elsewhere, e.g. later ESX's documentation)."""

    def __init__(self, reference: str = "paper") -> None:
        self.widget = widgets.HTML()
        self.reference = reference
        self._table = ""

    def stale(self, note: str) -> None:
        """Keep the last table, greyed, under ``note`` (a new run is still going): same height, so
        the page below does not jump."""
        self.widget.value = self._caption(note) + f"<div style='opacity:0.4'>{self._table}</div>"

    @staticmethod
    def _caption(text: str) -> str:
        return f"<div style='min-height:1.4em;font-size:12px;color:#0072B2'>{html.escape(text)}</div>"

    def update(self, rows: Sequence) -> None:
        """One line per row, the set-up checks under the predictions (as in ``reproduce``'s table);
        a row's note (why the model differs) becomes a numbered footnote."""
        columns = shown(rows)[1:]                # not the experiment's name
        names = heads(html.escape(self.reference))
        fitted = COLUMNS.index("fitted")         # its header's tooltip and the line under the table explain it
        tips = {fitted: f" title='{html.escape(FITTED_LEGEND, quote=True)}'"}
        head = "".join(f"<th style='padding:0 8px'{tips.get(i, '')}>{names[i]}</th>" for i in columns)
        body, notes = [], {}                     # note → its number: a note shared by rows is printed once
        setup = [r for r in rows if r.kind == "set-up"]
        for r in [r for r in rows if r.kind != "set-up"] + setup:
            if setup and r is setup[0]:
                body.append(f"<tr><td colspan='{len(columns)}' style='padding:6px 8px 0;font-style:italic'>set-up "
                            "checks (they follow from the set-up, or test only an invented input; not "
                            "predictions)</td></tr>")
            cells = [html.escape(r.cells()[i]) for i in columns]
            if r.note:
                number = notes.setdefault(html.escape(r.note), len(notes) + 1)
                cells[-1] += f" [{number}]"
            body.append("<tr>" + "".join(f"<td style='padding:0 8px'>{c}</td>" for c in cells) + "</tr>")
        foot = "".join(f"<div style='font-size:11px'>[{i}] {n}</div>" for n, i in notes.items())
        if fitted in columns:
            foot = f"<div style='font-size:11px'>{html.escape(FITTED_LEGEND)}</div>" + foot
        self._table = f"<table><tr>{head}</tr>{''.join(body)}</table>{foot}"
        self.widget.value = self._caption("") + self._table
