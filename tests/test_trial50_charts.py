"""Trial 50's drawing findings (a browser/UX review): swapped (vermillion) and ballooned (orange) merged under
deuteranopia, and overhead, shared frames and free became like greys; the machine-memory axis ended on an unround
tick ("453.762"); the time axes' last label sat under the 6 px tick bqplot draws at the axis's end, so the minute
cursor above it seemed to strike it through; 08's burst of bounce copies was squeezed into the first pixels of a
2-minute axis; 12's event line looked like the dashed minute cursor; the pmap grid's cells were 3 px strokes."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import esxlab as esx
from esxlab import views
from esxlab.config import RemapConfig
from esxlab.views.components import (COLORS, PMAP_COLORS, RECLAIMED_PARTS, MemoryBar, PmapGrid, StateStrip,
                                     TimeSeries, host_ylabel)

#: Machado, Oliveira & Fernandes (2009), deuteranopia at severity 1, on linear RGB
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])


def deuteranope_lab(color: str) -> np.ndarray:
    """CIELAB (D65) of ``color`` ("#RRGGBB") as a deuteranope sees it."""
    c = np.array([int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.clip(DEUTERANOPIA @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def apart(a: str, b: str) -> tuple[float, float]:
    """(ΔE*ab, ΔL*) of two colours, as a deuteranope sees them."""
    la, lb = deuteranope_lab(a), deuteranope_lab(b)
    return float(np.linalg.norm(la - lb)), float(abs(la[0] - lb[0]))


# -- colour blindness ----------------------------------------------------------------------------------------
def test_swapped_and_ballooned_differ_in_lightness_for_a_deuteranope():
    """Orange and vermillion: ΔE 18, ΔL 15 for a deuteranope (two olive yellows); now ΔE 34, ΔL 32."""
    de, dl = apart(COLORS["swapped"], COLORS["balloon"])
    assert de >= 30 and dl >= 25, (de, dl)


def test_the_reclaimed_states_and_every_pmap_state_stay_apart_for_a_deuteranope():
    """Ballooned and compressed (orange and yellow) were ΔE 17 apart; every pair is now at least 20 (the reclaimed
    ones, side by side in one bar, 30)."""
    for a, b in itertools.combinations(PMAP_COLORS, 2):
        assert apart(a, b)[0] >= 20, (a, b)
    for a, b in itertools.combinations(RECLAIMED_PARTS, 2):
        assert apart(COLORS[a], COLORS[b])[0] >= 30, (a, b)


def test_free_memory_is_lighter_than_overhead_and_shared_frames_for_a_deuteranope():
    """The review saw overhead (pink), shared frames (green) and free (grey) turn into like greys."""
    for other in ("overhead", "shared frames"):
        assert apart(COLORS["free"], COLORS[other])[1] >= 20, other


def test_the_pmap_grid_draws_cells_not_strokes():
    """64 columns of 4096 cells were 3 px high, a white border taking a third of each."""
    grid = PmapGrid()
    grid.update(np.ones(4096, dtype=np.int8))
    rows, cols = grid.grid.color.shape
    assert rows * cols == 4096 and rows <= 32, "at least 6.5 px a row in the 210 px the figure leaves"
    assert grid.grid.stroke is None


# -- axes ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host_mb", [453.762, 224, 160, 1024])
def test_the_machine_axis_has_round_ticks_and_names_the_hosts_size(host_mb):
    bar = MemoryBar()
    parts = {p: [10.0, 20.0] for p in ("private", "overhead", *RECLAIMED_PARTS)}
    bar.update(["a", "b"], parts, free=host_mb - 60 - 5, shared_frames=5)
    ticks = np.asarray(bar.axis.tick_values)
    step = ticks[1] - ticks[0]
    assert bar.ys.max == pytest.approx(host_mb), "the axis is the machine"
    assert np.allclose(ticks, np.round(ticks)) and np.allclose(ticks / step, np.arange(len(ticks))), ticks
    assert ticks[-1] <= 0.95 * host_mb, "no label under the tick at the axis's end"
    assert len(ticks) >= 3
    assert bar.axis.label == f"machine memory (MB): the host's {host_mb:.1f}".removesuffix(".0") + " MB"


def test_a_time_axis_puts_its_labels_below_the_tick_at_its_end():
    """bqplot draws a 6 px tick down at each end of an axis and a label 3 px under the axis: the last minute's
    label ("5") was struck through, under the minute cursor."""
    for axis in (TimeSeries(("alloc",)).xaxis, StateStrip().figure.axes[0]):
        down = re.fullmatch(r"translate\(0px, (\d+)px\)", axis.tick_style.get("transform", ""))
        assert down and 3 + int(down[1]) >= 6, axis.tick_style


# -- 08: a burst of bounce copies ------------------------------------------------------------------------------
def net_server(**remap):
    """08's server: 2000 transmits a second over 64 buffers, 2 minutes."""
    host = esx.Host(esx.HostConfig(memory_mb=128, swap_mb=256, remap=RemapConfig(low_memory_mb=32, **remap)), seed=0)
    host.power_on(esx.VMConfig(name="net", max_mb=64, overhead_mb=4), workload=esx.workloads.NetServer())
    return host.run(minutes=2)


def copies_chart(tr) -> TimeSeries:
    ts = TimeSeries(("bounce_copies",), ylabel=host_ylabel(("bounce_copies",)))
    ts.update(tr.minutes, {"bounce_copies": tr.host.bounce_copies})
    return ts


def test_a_burst_of_bounce_copies_is_drawn_second_by_second():
    """At threshold 100 the copies last 3.2 s: 2000, 2000, 2000 and 400 (08's reveal). Each second is a step over
    the second it counts, from t = 0, and is marked: four dots, the last at 4 s."""
    ts = copies_chart(net_server(threshold=100))
    assert ts.lines.interpolation == "step-before"
    assert ts.xs.min == 0 and ts.lines.x[0] == 0 and np.atleast_2d(ts.lines.y)[0, 0] == 0
    assert ts.burst.visible and np.allclose(np.asarray(ts.burst.x) * 60, [1, 2, 3, 4])
    assert list(ts.burst.y) == [2000, 2000, 2000, 400] and set(ts.burst.colors) == set(ts.lines.colors)


def test_copies_that_never_stop_and_memory_curves_get_no_burst_marks():
    assert not copies_chart(net_server(enabled=False)).burst.visible      # 2000 every second: a line says it
    memory = TimeSeries(("alloc",))
    memory.update(np.arange(1, 121) / 60, {"alloc": np.r_[np.full(3, 50.0), np.zeros(117)]})
    assert memory.lines.interpolation == "linear" and not memory.burst.visible


def test_08s_dashboard_marks_its_one_second_of_copies():
    dash = views.SimDashboard(esx.HostConfig(memory_mb=128, swap_mb=256, remap=RemapConfig(low_memory_mb=32)),
                              [(esx.VMConfig(name="net", max_mb=64, overhead_mb=4), esx.workloads.NetServer())],
                              minutes=2, panels=("host",), host_fields=("bounce_copies",))
    burst = dash.host_series.burst
    assert burst.visible and np.allclose(np.asarray(burst.x) * 60, [1]) and list(burst.y) == [1024]


# -- 12: an event line is not the minute cursor -------------------------------------------------------------------
def test_an_event_line_is_labelled_and_solid_unlike_the_minute_cursor():
    ts = TimeSeries(("shared_saved",))
    m = np.linspace(0, 6, 361)
    ts.update(m, {"shared_saved": np.where(m > 2.5, 9 * (m - 2.5), 0)})
    assert not ts.event.visible
    ts.mark(2.0, "hog starts")
    assert ts.event.visible and list(ts.event.x) == [2.0, 2.0] and list(ts.event.labels) == ["hog starts"]
    assert ts.event.labels_visibility == "label" and list(ts.event.y) == [ts.ys.min, ts.ys.max]
    assert ts.cursor.line_style == "dashed" != ts.event.line_style
    ts.update(m, {"shared_saved": 2 * m})                                   # a new run: the line spans its axis
    assert list(ts.event.y) == [ts.ys.min, ts.ys.max] and ts.event.visible
