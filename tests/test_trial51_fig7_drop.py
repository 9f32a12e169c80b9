"""How fast Figure 7's idle VM falls after the tax change (esxlab/experiments/fig7.py's docstring, "Not compared:
how fast the idle VM falls"): the paper's within ≈ 0.6 min; esxlab's first targets rest on dbench's estimate at the
change, which reads lower than the paper's."""
import numpy as np
import pytest

from esxlab.experiments import fig7


def timeline(seed):
    res = fig7.run(seed)
    tr, c = res.traces["run"], res.params["tax_change_min"]
    m, idle = tr.minutes, tr.vm("idle")
    at = int(np.searchsorted(m, c))
    settled = float(np.mean(idle.alloc[(m >= c + 3) & (m < c + 25)]))
    drop = idle.alloc[at] - settled
    after = lambda part: float(m[np.flatnonzero((m > c) & (idle.alloc <= idle.alloc[at] - part * drop))[0]] - c)
    first = float(idle.target[np.flatnonzero((m > c) & (idle.target < idle.alloc[at] - 1))[0]])
    dbench = tr.vm("dbench").active
    return dict(tau0=float(np.mean(dbench[(m >= 10) & (m < c)])), at_change=float(dbench[at]), first=first,
                t75=after(0.75), t90=after(0.9), settled=settled)


@pytest.fixture(scope="module")
def runs():
    return [timeline(seed) for seed in range(4)]


def test_the_docstrings_ranges_over_seeds_0_to_3(runs):
    span = lambda key: (min(r[key] for r in runs), max(r[key] for r in runs))
    assert 151.5 <= span("at_change")[0] and span("at_change")[1] <= 157.5
    assert 158.5 <= span("tau0")[0] and span("tau0")[1] <= 167 < 174          # the paper's ≈ 174 MB at τ = 0
    assert 122.5 <= span("first")[0] and span("first")[1] <= 126
    assert 0.3 <= span("t75")[0] and span("t75")[1] <= 0.5
    assert 0.6 <= span("t90")[0] and span("t90")[1] <= 2.1 and span("t90")[1] > 0.6     # slower than the paper's
    assert 105 <= span("settled")[0] and span("settled")[1] <= 107.5


def test_dbenchs_estimate_before_the_change_is_a_row_and_its_note_says_why_it_reads_low():
    res = fig7.run(0)
    row = res.row("dbench active estimate before the change")
    assert (row.paper, row.tolerance, row.relation, row.kind) == (174, 15, "≈", "prediction")
    assert 159 <= row.esxlab <= 160.5 and row.within and row.title == "dbench active estimate, τ = 0"
    assert row.note == fig7.DBENCH_HELD and "157–167 MB over seeds 0–9 (mean 160)" in row.note, "said when within"
    biased = [fig7.run(s).row("dbench active estimate before the change").esxlab for s in (4, 5, 7)]
    assert all(157 <= v < 159 for v in biased), biased            # seeds the tolerance does not cover
    moved = fig7.run(0, tax_before=0.25, minutes=40).row("dbench active estimate before the change")
    assert moved.paper is None, "another τ before the change is not the paper's setting"
