"""Trial 50's finding 3 (a browser trial): the dashboards' charts never drew the paper's values, which stood only
in the table beside each chart. The dashboards of Figures 6, 7 and 8 now draw the paper's digitized points
(:mod:`esxlab.experiments.paper`) on the chart of the same quantities, as grey markers, one shape per quantity,
with a "paper" legend entry; only where the run is at the paper's set-up (else hidden, the legend says why).
Figure 2's chart (accesses/s against the paper's MB/s) is left out on purpose. The mapping from the paper's
series keys to esxlab's series is one, shared with the static plots (``reproduce --plots``)."""
from __future__ import annotations

import inspect
import math
import time

import numpy as np
import pytest

from esxlab import views
from esxlab.experiments import fig2, fig6, fig7, fig8, paper, plots
from esxlab.views import components
from esxlab.views.components import PAPER_COLOR, PAPER_MARKERS, TimeSeries
from esxlab.views.dashboards import ALL_VMS


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Experiment runs go to disk: here, to a throw-away folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def digitized(name: str, key: str, until: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """The paper's series ``key`` of figure ``name`` up to minute ``until``, points without a value left out."""
    s = paper.paper_series(name)["series"][key]
    pts = [(x, y) for x, y in zip(s["x"], s["y"]) if y is not None and x <= until]
    return np.array([x for x, _ in pts], dtype=float), np.array([y for _, y in pts], dtype=float)


def drawn(chart: TimeSeries) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The paper's points a chart shows: quantity → (x, y) of its visible marks."""
    return {q: (np.asarray(m.x, dtype=float), np.asarray(m.y, dtype=float))
            for q, m in zip(chart.paper_quantities, chart.paper) if m.visible}


def legend_paper(chart: TimeSeries) -> str:
    """The legend's "paper" entry (the text after the lines' entries)."""
    value = chart.legend.value
    return value[value.index("<b>paper</b>"):] if "<b>paper</b>" in value else ""


@pytest.fixture(scope="module")
def fig7_dash():
    return views.ExperimentDashboard(fig7, ["tax_after"], panels=("table", "series"))


# -- one mapping, shared --------------------------------------------------------------------------------------
def test_the_static_plots_and_the_dashboards_share_one_mapping():
    assert plots.esxlab_series is paper.esxlab_series
    assert not hasattr(plots, "_esxlab_series")
    src = inspect.getsource(plots)
    assert 'res.traces["aggregate"]' not in src and "tr.vm(vm)" not in src       # no copy left behind
    assert paper.split_key("citrix_active") == ("citrix", "active")
    assert paper.split_key("all_alloc") == (paper.ALL, "alloc")
    assert paper.split_key("estimate") == (None, "estimate")
    res = fig7.run(seed=0, minutes=40)
    ours = paper.esxlab_series("fig7", res)
    assert set(ours) == set(paper.paper_series("fig7")["series"])
    np.testing.assert_array_equal(ours["idle_alloc"][1], res.traces["run"].vm("idle").alloc)


# -- Figure 7 (notebook 05) -----------------------------------------------------------------------------------
def test_fig7_draws_the_paper_allocation_of_the_vm_picked(fig7_dash):
    d = fig7_dash
    d.set(tax_after=0.75)
    assert d.paper_chart is d.series and d.series.paper_quantities == ("alloc",)
    for vm in ("idle", "dbench"):
        d.vm_pick.value = vm
        points = drawn(d.series)
        assert list(points) == ["alloc"]
        x, y = digitized("fig7", f"{vm}_alloc")
        np.testing.assert_array_equal(points["alloc"][0], x)
        np.testing.assert_array_equal(points["alloc"][1], y)
        assert d.series.ys.min <= y.min() and d.series.ys.max >= y.max()       # the axes take the points in
        assert d.series.xs.min <= x.min() and d.series.xs.max >= x.max()
        assert "<b>paper</b>" in d.series.legend.value and "alloc" in legend_paper(d.series)
        assert "not drawn" not in legend_paper(d.series)


def test_the_paper_marks_are_grey_of_their_own_shape_over_the_lines_under_the_cursor(fig7_dash):
    chart = fig7_dash.series
    mark = chart.paper[0]
    assert list(mark.colors) == [PAPER_COLOR] and mark.marker == PAPER_MARKERS[0][0] != chart.lines.marker
    assert PAPER_COLOR not in chart.lines.colors
    marks = list(chart.figure.marks)
    assert marks.index(chart.lines) < marks.index(mark) < marks.index(chart.cursor)
    assert PAPER_MARKERS[0][1] in legend_paper(chart)


def test_fig7_with_another_tax_after_keeps_the_paper_before_the_change_only(fig7_dash):
    d = fig7_dash
    d.set(tax_after=0.5)
    d.vm_pick.value = "idle"
    x, _ = drawn(d.series)["alloc"]
    assert x.max() <= 31 and len(x) == len(digitized("fig7", "idle_alloc", 31)[0]) >= 2
    assert "to minute 31 only" in legend_paper(d.series) and "tax_after = 0.5" in legend_paper(d.series)
    d.set(tax_after=0.75)
    assert len(drawn(d.series)["alloc"][0]) == len(digitized("fig7", "idle_alloc")[0])
    assert "only" not in legend_paper(d.series)


def test_fig7_off_the_paper_set_up_hides_the_paper_and_says_why():
    d = views.ExperimentDashboard(fig7, ["tax_after"], fixed=dict(tax_before=0.25), panels=("series",))
    assert drawn(d.series) == {}
    note = legend_paper(d.series)
    assert "off the paper&#x27;s set-up" in note and "tax_before = 0.25" in note
    # the table agrees: its before-the-change rows are not compared either
    assert all(r.paper is None for r in d.run.result.table if r.kind == "set-up")


# -- Figure 8 (notebook 09) -----------------------------------------------------------------------------------
def test_fig8_draws_the_sum_and_the_vms_the_paper_plots():
    d = views.ExperimentDashboard(fig8, ["tax_rate"], trace_key="run", fixed=dict(minutes=40), sum_vms=True,
                                  panels=("series",))
    assert d.vm_pick.value == ALL_VMS
    assert d.series.paper_quantities == ("alloc", "active", "balloon", "shared")
    assert len({m.marker for m in d.series.paper}) == 4
    points = drawn(d.series)
    assert set(points) == {"alloc", "active", "balloon", "shared"}
    for q, (x, y) in points.items():
        px, py = digitized("fig8", f"all_{q}", 40)
        np.testing.assert_array_equal(x, px)
        np.testing.assert_array_equal(y, py)
    assert d.series.ys.max >= max(y.max() for _, y in points.values())
    d.vm_pick.value = "sql"                      # SQL Server has no point before it boots (None): left out
    x, y = drawn(d.series)["alloc"]
    np.testing.assert_array_equal(x, digitized("fig8", "sql_alloc", 40)[0])
    assert np.isfinite(y).all()
    d.vm_pick.value = "exchange"                 # the paper plots no Exchange panel
    assert drawn(d.series) == {}
    assert "Figure 8 plots" in legend_paper(d.series) and "citrix" in legend_paper(d.series)
    d.vm_pick.value = "citrix"
    assert set(drawn(d.series)) == {"alloc", "active", "balloon", "shared"}
    d.set(tax_rate=0.5)
    assert drawn(d.series) == {} and "tax_rate = 0.5" in legend_paper(d.series)


def test_fig8_as_notebook_09_runs_it_keeps_the_paper_boot_only():
    """09 starts the benchmarks at minute 8 (the paper's at 17): the runs part ways there."""
    d = views.ExperimentDashboard(fig8, ["tax_rate"], trace_key="run", fixed=dict(minutes=18, bench_start_min=8),
                                  panels=("series",), sum_vms=True)
    points = drawn(d.series)
    assert points and all(x.max() <= 8 for x, _ in points.values())
    assert "to minute 8 only" in legend_paper(d.series) and "bench_start_min = 8" in legend_paper(d.series)
    assert d.series.xs.max <= 18 + 1e-9                         # the axis stays the run's


# -- Figure 6 (notebook 06) -----------------------------------------------------------------------------------
def test_fig6_draws_the_paper_on_the_estimates_chart_not_the_vm_series():
    d = views.ExperimentDashboard(fig6, ["sweep_s"], trace_key="run",
                                  xy=("estimates", ("toucher", "slow", "fast", "estimate")), panels=("table", "series"))
    assert d.paper_chart is d.xy and d.series.paper == []
    points = drawn(d.xy)
    assert set(points) == {"slow", "fast", "estimate"}, "the toucher's schedule is esxlab's input: read off the figure"
    assert components.PAPER_COLOR not in components.OTHER_COLORS and "#555555" not in components.OTHER_COLORS, \
        "the paper's grey points apart from every series' colour (a student's check: 'fast' was #555555)"
    np.testing.assert_array_equal(points["estimate"][1], digitized("fig6", "estimate")[1])
    assert "<b>paper</b>" not in d.series.legend.value
    d.set(sweep_s=6)
    assert drawn(d.xy) == {} and "sweep_s = 6" in legend_paper(d.xy)
    d.set(sweep_s=5)
    assert len(drawn(d.xy)) == 3


# -- Figure 2 (notebook 02): left out, on purpose ---------------------------------------------------------------
def test_fig2_draws_no_paper_points_its_units_differ():
    d = views.ExperimentDashboard(fig2, ["clients"], trace_key="ballooned_128", xy=("bars", ("configured", "ballooned")),
                                  panels=("series",), fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2,
                                                                 dbench_start_s=30))
    assert d.paper_chart is None and d.xy.paper == [] and d.series.paper == []
    assert "paper" not in d.xy.legend.value


# -- fast: the paper's series are built once per figure ---------------------------------------------------------
def test_picking_a_vm_stays_fast_and_builds_no_series_again(fig7_dash):
    d = fig7_dash
    d.set(tax_after=0.75)
    before = paper._points.cache_info()
    t = time.perf_counter()
    for _ in range(20):
        d.vm_pick.value = "idle"
        d.vm_pick.value = "dbench"
    per_pick = (time.perf_counter() - t) / 40
    after = paper._points.cache_info()
    assert after.misses == before.misses and after.hits > before.hits
    assert per_pick < 0.05, per_pick


def test_setup_window_reads_the_moved_knobs():
    assert paper.setup_window("fig7", fig7.PARAMS, {}) == (60, "")
    assert paper.setup_window("fig7", fig7.PARAMS, dict(vm_mb=128))[0] == -math.inf
    assert paper.setup_window("fig7", fig7.PARAMS, dict(tax_change_min=20))[0] == 20
    assert paper.setup_window("fig8", fig8.PARAMS, dict(minutes=18, bench_start_min=8)) == \
        (8, "bench_start_min = 8, default 17")
    assert paper.setup_window("fig8", fig8.PARAMS, dict(bench_start_min=30, minutes=60))[0] == 17
    assert paper.setup_window("fig6", fig6.PARAMS, dict(minutes=30)) == (30, "")
