"""Figure 2: the overhead of ballooning (paper §3.2; esxlab/experiments/fig2.py): its rows, notes, docstring and
parameters against the paper's numbers."""
from __future__ import annotations

import html
import re

import pytest

import esxlab as esx
from esxlab import experiments as E, views
from esxlab.__main__ import main
from esxlab.experiments import fig2, sweeps
from esxlab.workloads.general import MB_PER_CLIENT, ZIPF_ALPHA

from conftest import assert_within

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


#: notebook 02's dashboard of Figure 2
NOTEBOOK = dict(trace_key="ballooned_128", xy=("bars", ("configured", "ballooned")), panels=("table", "series", "why"),
                fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30))


def numbers(text: str) -> dict[str, int]:
    """note text → its number, from footnotes "[n] text" (plain, its lines wrapped under the text, or in the
    dashboard's HTML)."""
    plain = re.sub(r"\n {4,}(?=\S)", " ", html.unescape(re.sub(r"<[^>]+>", "\n", text)))
    lines = re.findall(r"^\[(\d+)\] (.+)$", plain, re.M)
    return {note: int(n) for n, note in lines}


def test_fig2_has_no_sharing_parameter_to_move(capsys):
    """fig2's sharing changed nothing (bit-identical off and esx) but marked rows "not compared"."""
    assert "sharing" not in E.fig2.PARAMS
    with pytest.raises(esx.ConfigError, match="fig2 has no parameter 'sharing'"):
        sweeps.check_grid("fig2", {"sharing": ["off", "esx"]})
    assert main(["sweep", "fig2", "--list"]) == 0
    assert "sharing" not in [line.split(" ")[0] for line in capsys.readouterr().out.splitlines()]


def test_fig2s_note_does_not_credit_the_paper_with_esxlabs_scaling_rule():
    """The paper ran Figure 2 at 40 clients and 128–256 MB only; 50 clients for 320 MB is esxlab's rule."""
    from esxlab.experiments import fig2
    text = fig2.run(clients=20, max_mb=320, sizes=(256,), minutes=4, measure_from_min=3).render()
    assert "50 for 320 MB" not in text
    assert "esxlab compares a 320 MB VM only with 50 (40 scaled by max_mb / 256)" in " ".join(text.split()), text


#: Figure 7's dbench (Dbench's defaults) run in Figure 2's set-up, where its throughput rows miss with a note
FIG7_DBENCH = dict(mb_per_client=MB_PER_CLIENT, zipf_alpha=ZIPF_ALPHA)


def test_the_dashboard_and_run_number_the_same_note_alike():
    """Notebook 02's dashboard, with Figure 7's dbench and a 160 MB bar so that two rows miss with different notes,
    numbers the notes as the printed table of the same run does."""
    fixed = {**NOTEBOOK["fixed"], **FIG7_DBENCH, "sizes": (128, 160, 192)}      # a throughput row and 160 MB's miss
    dash = views.ExperimentDashboard(fig2, ["clients"], **dict(NOTEBOOK, fixed=fixed))
    dash.idle()
    shown = numbers(dash.table.widget.value)
    full = numbers(fig2.run(seed=0, **fixed).render())
    assert shown == full, (shown, full)
    assert list(full.values()) == [1, 2] and "Figure 7" in list(full)[0], "the 160 MB throughput row's note first"


def test_the_rows_follow_the_sizes_each_gap_before_the_bars_set_up_checks():
    """The table (and its CSV) lists rows as the printed table shows them: each size's gap, then the set-up checks
    of its bar."""
    res = fig2.run(seed=0, sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)
    assert [r.quantity for r in res.table] == [
        "balloon overhead at 128 MB", "balloon overhead at 192 MB",
        "configured throughput at 128 MB / at max_mb", "configured throughput at 192 MB / at max_mb"]


FIG2_SMALL = dict(max_mb=128, sizes=(96, 112), clients=20, minutes=5, measure_from_min=2, dbench_start_s=30)
SEEDS = (0, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_fig2_balloon_overhead_small_and_more_balloon_costs_more(seed):
    res = E.fig2.run(seed=seed, **FIG2_SMALL)
    assert_within(res, ["balloon overhead at 96 MB", "balloon overhead at 112 MB"])
    bars = res.traces["bars"]
    assert (bars["ballooned"] < bars["configured"]).all(), "a ballooned VM never beats a configured one"
    assert bars["overhead_pct"][0] > bars["overhead_pct"][1], "a bigger balloon costs more (§3.2, Fig. 2)"
    assert bars["configured"][0] < bars["configured"][1], "more memory, more dbench throughput"
    held = [d for t in res.traces.values() if isinstance(t, esx.Trace)
            for d in t.decisions if d.action == "balloon held"]
    assert held and "whatever the host" in held[0].why, "the log says the experiment held the balloon (the Why? panel)"


def test_fig2_off_the_papers_setting_is_not_compared():
    res = E.fig2.run(seed=0, clients=1, sizes=(128, 192), minutes=3, measure_from_min=2, dbench_start_s=30)
    assert all(r.paper is None and r.within is None and "(1 dbench client; the paper ran 40)" in r.note
               for r in res.table), "with 1 client no row may be marked NO against the paper's 40-client numbers"


def test_figure_2s_own_dbench_fits_its_bars_and_figure_7s_does_not():
    """The paper's two dbenches cannot be one model (fig7.paper_gain_from_fig2): Figure 2's own fit (fig2.PARAMS)
    puts every configured-throughput ratio within the digitizing error, Figure 7's (Dbench's defaults) misses three,
    steeper near 256 MB, with the note that says so."""
    assert (fig2.PARAMS["mb_per_client"].default, fig2.PARAMS["zipf_alpha"].default) == (5.2, 0.9)
    own = fig2.run(seed=0)
    assert [r.title for r in own.table if r.paper is not None and not r.within] == ["balloon overhead at 160 MB"]
    ratios = {r.title: r for r in own.table if "throughput" in r.title}
    assert len(ratios) == 4 and all(abs(r.esxlab - r.paper) < 0.04 for r in ratios.values()), ratios
    assert {r.kind for r in ratios.values()} == {"set-up"}, "fitted to, so not counted as predictions"
    theirs = fig2.run(seed=0, **FIG7_DBENCH)
    off = [r for r in theirs.table if "throughput" in r.title and not r.within]
    assert [r.title for r in off] == [f"configured throughput at {mb} MB / at 256 MB" for mb in (160, 192, 224)]
    assert all(0.055 < r.paper - r.esxlab < 0.095 and r.note == fig2.STEEPER for r in off), off


def test_the_docstrings_fit_scores_and_overheads_are_the_runs_of_seeds_0_to_3():
    """The docstring's fit scores (the sum of squared misses of the seeds' means in units of their tolerances, every
    row but the 160 MB overhead, seeds 0–3) gave (5.2, 0.9) and (5.1, 0.9) 1.21 and 1.20, and Figure 2's and Figure
    7's dbench 5.27 % and 4.84 % at 128 MB, from before Dbench drew float32: the runs give 1.17, 1.18, 5.28 % and
    4.83 %. (5.2, 0.925) still scores 1.09, the best of the three."""
    import numpy as np
    doc = " ".join(fig2.__doc__.split())
    seeds = range(4)

    def means(**params):
        runs = [fig2.run(seed=s, **params) for s in seeds]
        return {r.quantity: (float(np.mean([run.row(r.quantity).esxlab for run in runs])), r) for r in runs[0].table}

    def score(m):
        return sum(((v - r.paper) / r.tolerance) ** 2 for q, (v, r) in m.items()
                   if r.paper is not None and q != "balloon overhead at 160 MB")
    # Figure 2's dbench (its defaults, (5.2, 0.9): one of the scored points) and Figure 7's (Dbench's defaults)
    mine, theirs = means(), means(**FIG7_DBENCH)
    assert (fig2.PARAMS["mb_per_client"].default, fig2.PARAMS["zipf_alpha"].default) == (5.2, 0.9)
    best, own, other = (score(means(mb_per_client=5.2, zipf_alpha=0.925)), score(mine),
                        score(means(mb_per_client=5.1, zipf_alpha=0.9)))
    assert best < min(own, other)
    assert (f"(5.2, 0.925) scored {best:.2f}, (5.2, 0.9) and (5.1, 0.9) {own:.2f} and {other:.2f}; the rounder "
            "values were kept") in doc, (best, own, other)
    # the overheads' means
    mb = (128, 160, 192, 224)
    ov = lambda m, size: m[f"balloon overhead at {size} MB"][0]
    paper = {size: mine[f"balloon overhead at {size} MB"][1].paper for size in mb}
    assert all(ov(mine, size) > ov(theirs, size) for size in mb), "all four a little larger"
    further = [size for size in mb if abs(ov(mine, size) - paper[size]) > abs(ov(theirs, size) - paper[size])]
    assert len(further) == 3, further
    assert (f"makes all four overheads a little larger, three of them further from the paper's "
            f"({ov(mine, 128):.2f} % against {ov(theirs, 128):.2f} % at 128 MB, seeds 0–3)") in doc
    ratio = lambda size: mine[f"configured throughput at {size} MB / at max_mb"]
    assert [f"{abs(ratio(size)[0] - ratio(size)[1].paper):.3f}" for size in (128, 192)] == ["0.027", "0.033"]
    assert "seeds 0–3: 0.027 above the paper's ratio at 128 MB to 0.033 below at 192 MB" in doc
