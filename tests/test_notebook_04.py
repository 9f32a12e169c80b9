"""Notebook 04 · Content-based page sharing (paper §4, Figures 3–4; notebooks/04_page_sharing.ipynb): its prose,
reveals, guards, Try it and questions."""
from __future__ import annotations


import numpy as np
import pytest

import esxlab as esx
from esxlab.experiments import fig4
from esxlab.experiments.result import Result

from notebook_cells import cell, cells, cells as _cells, flat, run_cells, run_until, text


MB = esx.PAGES_PER_MB
# the paper's Figure 4, digitized (shared/paper-notes.md, "Figure 4 data"): VM memory, shared, reclaimed, zero MB
FIGURE_4 = {1: (38.8, 6.6, 4.9, 2.7), 2: (78.1, 47.7, 28.4, 5.2), 3: (117.2, 76.0, 53.8, 8.0),
            4: (156.6, 103.3, 79.9, 10.3), 5: (195.6, 130.2, 106.2, 13.0), 6: (234.5, 156.7, 130.9, 15.6),
            7: (273.4, 181.7, 155.6, 17.2), 8: (312.6, 210.6, 183.2, 19.9), 9: (351.9, 235.6, 208.0, 22.0),
            10: (390.8, 262.0, 234.1, 24.4)}


@pytest.fixture(scope="module")
def sharing():
    """Lesson 04 run up to its Reveal (four SPEC95 VMs, 4 simulated minutes)."""
    return run_until("04_page_sharing", "guess.reveal(")


@pytest.fixture(scope="module")
def sharing_to_hints():
    return run_until("04_page_sharing", "hints waiting for a twin")


def test_04_says_how_rare_a_64_bit_collision_is_and_its_numbers_hold():
    import math
    from notebook_cells import prose as notebook_prose
    prose = notebook_prose("04_page_sharing")
    assert "$1 - e^{-n^2/2^{65}}$, under 50 % until $n \\approx 2^{32}$ pages" in prose
    assert "$\\approx 7.6 \\times 10^{-6}$ (0.00076 %), under the paper's 0.01 %" in prose
    chance = lambda n: 1 - math.exp(-n * n / 2 ** 65)
    assert round(chance(2 ** 24) * 1e6, 1) == 7.6 and chance(2 ** 24) < 1e-4
    assert chance(2 ** 32) < 0.5 < chance(2 ** 33)


def test_04_predict_gives_the_identical_mb_of_this_workload(sharing):
    predict = text("04_page_sharing", "## Predict, then observe")
    assert "By minute 4 each VM holds about **22 MB** that are identical in all four" in predict
    assert "its kernel's 3 MB of OS code" in predict and "22 MB in place of 12" in predict
    assert abs(sharing["common"] - 22) < 0.5 and sharing["host"].vm("vm0").guest.image_pages == 3 * MB
    explain = sharing["guess"]._answer[1]
    assert f"A guess near {3 * sharing['common']:.0f} MB applied the worked example" in explain, explain
    assert f"sharing saves {sharing['most']:.1f} MB once the scanner has found every copy" in explain


def test_04_the_scanner_visits_pages_in_a_random_order_once_per_pass():
    crux = text("04_page_sharing", "## The crux")
    assert ("picks pages **in a random order** (the paper says only \"randomly\"; esxlab draws a random permutation, "
            "so each page once per pass)") in crux
    assert "the paper does not say how the host's cap is split" in crux
    assert not [c.source for c in cells("04_page_sharing") if "at random" in c.source]


def test_04_figure_4_try_it_says_where_the_answer_is():
    try_it = text("04_page_sharing", "## Try it")
    paper = fig4.PAPER[10]
    assert f"about {100 * paper[1] / paper[0]:.0f} %" in try_it
    assert "`python -m esxlab reproduce --figure 4`" in try_it and "`print(esx.experiments.fig4.run(seed=0).render())`" in try_it
    assert callable(esx.experiments.fig4.run)


def test_04_reveal_and_try_it_point_to_readable_compared_output():
    reveal = flat(cell("04_page_sharing", "guess.reveal("))
    assert "fig4.run(max_vms=4) gives esxlab's" not in reveal
    assert "print(esx.experiments.fig4.run(seed=0, max_vms=4).render())" in reveal and "fig4.PAPER[4]" in reveal
    assert "at 4 VMs esxlab shares less than the paper, outside the tolerance" in reveal
    assert fig4.run(seed=0, max_vms=4).row("4 VMs: shared, % of VM memory").within is False, "as the reveal warns"
    try_it = flat(cell("04_page_sharing", "## Try it"))
    assert "about 15 s" not in try_it and "fig4.run(seed=0).table`" not in try_it
    assert "`print(esx.experiments.fig4.run(seed=0).render())`" in try_it and "a few seconds" in try_it
    assert callable(Result.render)


def test_04_reveal_quotes_the_papers_4_vm_column(sharing_to_hints):
    explain = sharing_to_hints["guess"]._answer[1]
    vm, _, reclaimed, _ = FIGURE_4[4]
    assert f"about {100 * reclaimed / vm:.0f} % of 4 VMs' memory after 30 minutes ({reclaimed} of {vm} MB" in explain


def test_04_shows_the_stale_hint_and_cow_counters_and_says_why_they_stay_0(sharing_to_hints):
    printout = cell("04_page_sharing", "hints waiting for a twin")
    assert "{st.stale_hints}" in printout and "{st.cow_breaks}" in printout
    st = sharing_to_hints["st"]
    assert st.stale_hints == 0 and st.cow_breaks == 0
    text = flat(cell("04_page_sharing", "The last line counts the two events"))
    assert "both stay at 0 in this run" in text and "only ever read" in text
    assert "notebook 09" in text and "notebook 10" in text


def test_04_and_11_draw_the_sharing_curves_without_free_memory():
    """*free* (≈ 200–265 MB) on the same axis squashed *shared saved* (0–33 MB) into the bottom 30 px;
    04 says above its dashboard that either scan cap alone changes nothing."""
    for name, fields in (("04_page_sharing", '("shared_saved", "zero_shared")'), ("11_esx_vs_ksm", '("shared_saved",)')):
        src = next(c.source for c in _cells(name) if "views.SimDashboard(" in c.source)
        assert f"host_fields={fields}" in src, name
    text = next(c.source for c in _cells("04_page_sharing") if "## Predict, then observe" in c.source)
    assert "raising either\nslider on its own changes nothing" in text and "raise both" in text
    eleven = "\n".join(c.source for c in _cells("11_esx_vs_ksm") if c.cell_type == "markdown")
    assert "`sharing.mode`" not in eleven and "`ksm_pages_to_scan`" not in eleven and "*KSM pages_to_scan*" in eleven


def test_04_the_host_chart_follows_the_sharing_dropdown():
    """Sharing switched off on the lesson's dashboard: the hidden check under the printout switched it off and back
    to see the chart follow, and each move redrew the dashboard at its last minute, away from where the student had
    scrubbed the minute slider (session 67); it computes that run now."""
    dash = run_cells("04", "ae2b9c76")["dash"]
    before = dash.plotted("host")
    dash.controls["sharing.mode"].value = "off"
    assert dash.run.trace.host.shared_saved.max() == 0 and not np.array_equal(before[0], dash.plotted("host")[0])
