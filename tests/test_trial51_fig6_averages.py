"""Figure 6's slow and fast averages against the paper's grey curves: where the paper's slow average stays put while
its fast one jumps, no pair of moving averages fed the same readings draws both (esxlab/experiments/fig6.py's
docstring, "The averages themselves")."""
import numpy as np
import pytest

import esxlab as esx
from esxlab.experiments import fig6

SLOW, FAST = esx.HostConfig().slow_gain, esx.HostConfig().fast_gain


def paper(curve: str) -> dict[float, float]:
    s = esx.experiments.paper_series("fig6")["series"][curve]
    return dict(zip(s["x"], s["y"]))


def test_the_papers_slow_average_stays_put_where_its_fast_one_jumps():
    slow, fast = paper("slow"), paper("fast")
    for before, at in ((10, 11), (26, 28)):
        assert abs(slow[at] - slow[before]) <= 2 and fast[at] - fast[before] >= 58
    # one period's reading that lifts the fast average (gain 0.7) by 90 MB lifts the slow one (0.25) by ≈ 40 MB
    reading = fast[10] + (fast[11] - fast[10]) / FAST
    assert (SLOW, FAST) == (0.25, 0.7) and round(SLOW * (reading - slow[10])) == 41
    at28 = fast[26] + (fast[28] - fast[26]) / FAST            # the docstring's "less clearly": ≈ 19 MB at 28 min
    assert round(SLOW * (at28 - slow[26])) == 19
    # … and 0.25 is the gain of the paper's own next periods: readings ≈ 170 MB (150 + 8 % + 8), then ≈ 220 MB
    after_two = slow[11] + (1 - (1 - SLOW) ** 2) * (170 - slow[11])
    assert abs(after_two - slow[12]) < 3
    one = slow[12] + SLOW * (170 - slow[12])
    assert abs(one + SLOW * (220 - one) - slow[13]) < 3


@pytest.mark.parametrize("seed,at11,at28", [(0, 74, 199), (1, 87, 193), (2, 78, 181), (3, 77, 193)])
def test_esxlabs_slow_average_moves_with_the_reading_and_the_estimate_stays_within(seed, at11, at28):
    res = fig6.run(seed)
    e = res.traces["estimates"]
    read = lambda key, m: round(float(e[key][np.searchsorted(e["minute"], m)]))
    assert (read("slow", 11), read("slow", 28)) == (at11, at28)
    for m in (11, 28):
        assert read("estimate", m) in (read("fast", m), read("fast_current", m)) and read("estimate", m) > read("slow", m) + 10
    assert res.row("estimate at 11 min").within


def test_06_points_at_the_two_markers_and_its_dashboard_draws_the_papers_slow_and_fast():
    from notebook_cells import prose as notebook_prose, run_until
    prose = notebook_prose("06_active_memory_sampling")
    assert "slow average twice stays put where its fast one jumps (minutes 11 and 28)" in prose
    assert "cannot do with the slow gain the paper's next minutes show" in prose
    assert "The averages themselves" in fig6.__doc__
    dash = run_until("06_active_memory_sampling", "views.ExperimentDashboard(")["dash"]
    points, note = dash.paper_points(None)
    assert {"slow", "fast", "estimate"} <= set(points) and note == "", (set(points), note)
    assert points["slow"][1][list(points["slow"][0]).index(11)] == 35
