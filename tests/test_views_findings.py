"""What a student tester saw in a real browser (JupyterLab and Voilà), checked on the widgets' state:
flat curves, lines hidden under others, a yellow line on white, bars rescaled on every run, the
decision log's broken words, and the lesson widgets' wording and width."""
import html
import re

import numpy as np
import pytest

import esxlab as esx
from esxlab import views
from esxlab.views import lesson
from esxlab.views.components import COLORS, SERIES
from esxlab.views.lesson import Prediction, Question


@pytest.fixture
def shown(monkeypatch):
    """What lesson.display() was asked to show (a notebook would render it)."""
    seen = []
    monkeypatch.setattr(lesson, "display", seen.append)
    return seen


def contrast(color: str) -> float:
    """WCAG contrast ratio of "#RRGGBB" against white."""
    lin = [(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
           for c in (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))]
    return 1.05 / (0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] + 0.05)


def figure2(y_configured, y_ballooned):
    """Notebook 02's Figure 2 chart: two throughputs against the VM size, fitted to the data."""
    ts = views.TimeSeries(("configured", "ballooned"), ylabel="accesses/s", xlabel="VM size (MB)", y_from_zero=False)
    ts.update(np.array([128.0, 192.0]), {"configured": np.array(y_configured), "ballooned": np.array(y_ballooned)})
    return ts


# -- 1. a flat series gets a padded y range ----------------------------------------------------------------
@pytest.mark.parametrize("value", [370.0, 0.0, -4.0, 1e6])
def test_a_flat_curve_gets_a_padded_y_range_with_distinct_labels(value):
    """02 at 1 client: both throughputs 370, and the y axis showed "370" twelve times."""
    ts = figure2([value, value], [value, value])
    assert ts.ys.min < value < ts.ys.max and ts.ys.max - ts.ys.min >= (0.1 * abs(value) or 2.0) - 1e-9
    ticks = list(ts.yaxis.tick_values)
    assert 2 <= len(ticks) <= 6 and len({f"{t:g}" for t in ticks}) == len(ticks), ticks


def test_a_flat_time_series_fitted_to_its_data_is_padded_too():
    ts = views.TimeSeries(("free",), y_from_zero=False)
    ts.update(np.arange(100.0), {"free": np.full(100, 64.0)})
    assert ts.ys.min <= 64 - 3.2 and ts.ys.max >= 64 + 3.2 and list(ts.cursor.y) == [ts.ys.min, ts.ys.max]


# -- 2. the Why? panel wraps at spaces, one font and spacing everywhere --------------------------------------
def test_the_why_panel_wraps_at_spaces_in_a_font_it_sets_itself():
    why = views.WhyPanel()
    long = esx.trace.Decision(0, "dbench", "balloon held", 32768, "the experiment holds the balloon " * 6)
    why.update([long], 10)
    value = why.widget.value
    assert "<pre" not in value, "a bare <pre>: Lab breaks its words anywhere, Voilà sets it proportional"
    line = re.search(r'<div style="([^"]*)">t=', value).group(1)
    for css in ("word-break:normal", "overflow-wrap:anywhere", "white-space:pre-wrap", "font-family:", "line-height:",
                "font-size:"):
        assert css in line, css
    assert "break-all" not in value


# -- 3. a line on another stays visible; a curve of a few points marks them ---------------------------------
def memory_over_time(alloc, balloon, target=None):
    t = np.linspace(0, 4, 241)
    ts = views.TimeSeries()
    zero = np.zeros_like(t)
    ts.update(t, {**{f: zero for f in SERIES}, "alloc": alloc, "balloon": balloon,
                  "target": alloc + 60 if target is None else target, "active": 256 - 40 * t})
    return ts, t


def test_alloc_under_the_balloon_is_drawn_again_on_top_dashed():
    """02 from minute 1.3: alloc (black) at 128 MB lay under the balloon (orange), drawn after it."""
    t = np.linspace(0, 4, 241)
    ts, _ = memory_over_time(np.where(t < 1.3, 30 + 70 * t, 128.0), np.clip((t - 0.3) * 240, 0, 128))
    i = SERIES.index("alloc")
    assert ts.overlay.visible and ts.overlay.line_style == "dashed"
    assert ts.figure.marks.index(ts.overlay) > ts.figure.marks.index(ts.lines), "on top of the lines"
    again = np.atleast_2d(ts.overlay.y)[list(ts.overlay.colors).index(COLORS["alloc"])]
    assert np.allclose(again[t >= 1.3], ts.lines.y[i][t >= 1.3]) and np.isnan(again[t < 0.3]).all(), \
        "drawn again where it is covered, and only there"
    assert "alloc" in ts.legend.value and ts.legend.value.count("alloc") == 1     # the legend as before


def test_alloc_under_the_target_is_drawn_again_on_top():
    """12: alloc lay under target at 32 MB."""
    ts, t = memory_over_time(np.full(241, 32.0), np.zeros(241), target=np.full(241, 32.0))
    assert ts.overlay.visible and COLORS["alloc"] in ts.overlay.colors


def test_lines_apart_need_no_overlay():
    t = np.linspace(0, 4, 241)
    ts = views.TimeSeries(("alloc", "balloon"))
    ts.update(t, {"alloc": 50 + t, "balloon": 100 - t})            # they cross, but lie apart almost everywhere
    assert not ts.overlay.visible


@pytest.mark.parametrize("n", [2, 5])
def test_a_curve_of_a_few_points_marks_each_point_clear_of_the_edges(n):
    """Figure 2's two sizes and 05's five-point tax sweep: points, not only a line between the plot's edges."""
    x = np.linspace(0.0, 0.95, n)
    ts = views.TimeSeries(("idle_alloc", "dbench_alloc"), xlabel="tax rate", y_from_zero=False)
    ts.update(x, {"idle_alloc": 179 - 90 * x, "dbench_alloc": 179 + 90 * x})
    assert ts.lines.marker is not None
    assert ts.xs.min < x[0] and ts.xs.max > x[-1]


def test_two_curves_that_meet_both_stay_visible():
    """Figure 2 at 19 clients: the lines meet at 192 MB, and at 1 client they coincide."""
    ts = figure2([370.0, 370.0], [370.0, 370.0])
    assert ts.overlay.visible and ts.overlay.marker is not None and ts.lines.marker is not None
    assert ts.overlay.marker_size < ts.lines.marker_size, "the covered point shows inside the other"


def test_a_long_series_and_a_run_streaming_in_have_no_markers():
    ts = views.TimeSeries(("alloc",))
    ts.update(np.arange(300.0), {"alloc": np.arange(300.0)})
    assert ts.lines.marker is None
    ts.update(np.arange(5.0) / 60, {"alloc": np.arange(5.0)}, x_max=4.0)     # a run's first frame
    assert ts.lines.marker is None and ts.xs.min == 0


# -- 4. the Okabe–Ito yellow gets a darker edge on lines, its legend keeps the yellow -------------------------
def test_the_yellow_line_runs_on_a_darker_edge_and_keeps_its_legend_colour():
    chart = views.TimeSeries(("alloc", "shared", "balloon", "swapped"))
    m = np.linspace(0, 10, 301)
    chart.update(m, {"alloc": 40 + 0 * m, "shared": 20 + m, "balloon": 10 + np.sqrt(m), "swapped": 5 * m})
    yellow = COLORS["balloon"]
    assert yellow == "#F0E442" and contrast(yellow) < 1.5
    assert chart.edge.visible and len(chart.edge.colors) == 1 and contrast(chart.edge.colors[0]) >= 3
    assert chart.figure.marks.index(chart.edge) < chart.figure.marks.index(chart.lines), "under the yellow line"
    assert chart.edge.stroke_width > chart.lines.stroke_width
    i = chart.fields.index("balloon")
    assert np.allclose(np.atleast_2d(chart.edge.y)[0], chart.lines.y[i])
    assert chart.lines.colors[i] == yellow and f"background:{yellow}" in chart.legend.value


def test_dark_lines_get_no_edge():
    ts = views.TimeSeries(("alloc", "private"))
    ts.update(np.arange(50.0), {"alloc": np.arange(50.0), "private": np.arange(50.0) / 2})
    assert not ts.edge.visible


# -- 5. the machine-memory bars span the machine's size ----------------------------------------------------
def test_the_machine_memory_axis_is_the_hosts_memory_and_ends_at_it():
    """00: 0–90 MB at 224 MB and 0–55 MB at 160 MB: the axis followed the longest bar, not the machine."""
    bar = views.MemoryBar()
    parts = {"private": [16.8, 57.0], "overhead": [32.0, 32.0], "balloon": [30, 6], "swapped": [6, 7],
             "compressed": [0, 0]}
    for host_mb in (224, 160, 512):
        bar.update(["idle", "dbench"], parts, free=host_mb - 16.8 - 57 - 64 - 1.5, shared_frames=1.5)
        ticks = list(bar.figure.axes[1].tick_values)
        assert bar.ys.max == host_mb and ticks[0] == 0 and f"{host_mb} MB" in bar.axis.label, host_mb


@pytest.mark.parametrize("memory_mb", [160, 224])
def test_a_dashboards_bars_span_its_hosts_memory_at_every_minute(memory_mb):
    d = views.SimDashboard(esx.HostConfig(memory_mb=memory_mb, swap_mb=256),
                           [(esx.VMConfig(name="idle", max_mb=64, guest_os="windows"), esx.workloads.Idle()),
                            (esx.VMConfig(name="dbench", max_mb=96), esx.workloads.Dbench(clients=4))],
                           minutes=1, panels=("bar",))
    for minute in (0.1, 0.5, 1.0):
        d.minute.value = minute
        assert d.bar.ys.max == memory_mb, minute


# -- 6. the lesson widgets' wording ---------------------------------------------------------------------------
def test_a_wrong_answer_says_what_the_tolerance_is_for():
    """"Not yet (within ±0.01 MB)" read as if the answer were within the tolerance."""
    q = Question("How many MB are unbacked?", answer=3.0, tol=0.01, unit="MB", hint="The five states add up.")
    wrong = q.check("5")
    assert wrong.message.startswith("Not yet: that is not within ±0.01 MB of the answer. "), wrong.message
    assert "(within" not in wrong.message


def test_the_gap_has_the_precision_of_the_values_beside_it(shown):
    """"simulated: 35.55 MB · gap: +5.551 MB": one precision for both."""
    p = Prediction("How many MB?", unit="MB")
    p.record(30)
    r = p.reveal(actual=35.551, explain="Ballooned.")
    assert "35.55 MB" in r.text and "gap (simulated − predicted): +5.55 MB." in r.text


def test_a_percentage_gap_is_in_percentage_points_with_a_true_minus(shown):
    p = Prediction("What overhead?", unit="%")
    p.record(50)
    r = p.reveal(actual=4.84, explain="Small.")
    assert "gap (simulated − predicted): \u221245.16 percentage points." in r.text
    assert not re.search(r"-\d", r.text), "a hyphen as a minus"


def test_text_that_is_no_number_is_answered_in_a_sentence():
    """"Prediction = 'abc' is not a number" read like code."""
    p = Prediction("How many MB?", unit="MB", lo=0, hi=64)
    for typed, said in (("abc", "'abc' is not a number"), ("300", "300 MB is out of range"), ("", "empty")):
        p.entry.value = typed
        p.button.click()
        assert said in html.unescape(p.status.value) and "Prediction =" not in p.status.value, typed


def test_recording_after_an_empty_reveal_replaces_the_stale_message(shown):
    """Voilà: Reveal pressed with no prediction, then one recorded: "No prediction recorded yet…" stayed."""
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=7, explain="Seven.")
    p.reveal_button.click()
    assert "No prediction recorded yet" in p.reveal_box.value
    p.record("5")
    assert "No prediction recorded yet" not in p.reveal_box.value and "press Reveal" in p.reveal_box.value
    assert "7" not in p.reveal_box.value
    p.reveal_button.click()
    assert p.revealed.prediction == 5.0 and p.reveal_box.value == p.revealed.html


# -- 7. the reveal spans the cell, at a normal line height ---------------------------------------------------
def test_the_reveal_spans_the_cell_at_a_normal_line_height(shown):
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=7, explain="Seven. " * 60)
    p.record(5)
    p.reveal_button.click()
    for box in (p.reveal_box, p.status):
        assert box.layout.width == "100%"
        assert "max-width:600px" not in box.value and re.search(r"line-height:1\.\d+", box.value)
    assert "max-width:600px" not in p.revealed.html

