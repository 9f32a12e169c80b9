"""Figure 6: active-memory sampling (paper §5.3–5.4; esxlab/experiments/fig6.py): its rows, notes, docstring and
parameters against the paper's numbers."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.errors import ConfigError
from esxlab.experiments import fig6
from esxlab.experiments.result import Result, summarize

from conftest import assert_within

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


SLOW, FAST = esx.HostConfig().slow_gain, esx.HostConfig().fast_gain


def paper_curve(curve: str) -> dict[float, float]:
    s = esx.experiments.paper_series("fig6")["series"][curve]
    return dict(zip(s["x"], s["y"]))


def test_fig6_empty_schedule_says_what_a_schedule_is(capsys):
    with pytest.raises(ConfigError, match=r"fig6.schedule must name at least one \(minute, MB\) step, got \(\); "
                                          r"e.g. \(\(0, 0\), \(8.5, 50\)\)"):
        E.fig6.run(schedule=())
    assert main(["sweep", "fig6", "--param", "schedule=()"]) == 2
    assert "error: fig6.schedule must name at least one (minute, MB) step" in capsys.readouterr().err


def test_fig6_too_short_for_a_row_is_refused_with_the_minimum():
    with pytest.raises(ConfigError, match=r"fig6.minutes = 1 is out of range; allowed: 9 ≤ minutes ≤ 600 \(9 min: "
                                          r"the table's first row is the paper's estimate at 8 min"):
        E.fig6.run(minutes=1)
    assert [r.quantity for r in E.fig6.run(minutes=9).table] == ["estimate at 8 min"]


def test_the_papers_slow_average_stays_put_where_its_fast_one_jumps():
    slow, fast = paper_curve("slow"), paper_curve("fast")
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


@pytest.mark.parametrize("schedule,step", [
    ([(0, 0), (10, 100), (5, 50), (2, 0)], r"the step \(5, 50\) after \(10, 100\): minute 5 is not later than 10"),
    ([(0, 0), (3, 100), (3, 50)], r"the step \(3, 50\) after \(3, 100\): minute 3 is not later than 3"),
])
def test_a_schedule_out_of_time_order_is_refused_naming_the_first_step_out_of_order(schedule, step):
    """Sorted silently before: (5, 50) typed after (10, 100), a slip for (15, 50), ran another curve than asked."""
    with pytest.raises(esx.ConfigError, match=rf"^fig6\.schedule has {step}; allowed: steps in time order, each at a "
                                              r"later minute than the one before, e\.g\. \(\(0, 0\), \(8\.5, 50\), "
                                              r"\(10\.6, 150\)\)\.$"):
        fig6.run(schedule=schedule, minutes=12)


def test_a_schedule_in_time_order_still_runs_and_the_papers_counts_as_not_moved():
    res = fig6.run(schedule=[(0, 0), (3, 100), (8, 0)], minutes=9)
    assert res.params["schedule"] == [(0, 0), (3, 100), (8, 0)]
    assert fig6.PARAMS["schedule"].validate("fig6", "schedule", fig6.SCHEDULE) == fig6.SCHEDULE


def test_fig6_estimate_follows_the_toucher_up_fast_and_down_slowly():
    runs = [E.fig6.run(seed=seed) for seed in range(4)]
    mean = Result("fig6", {"seed": "0-3"}, table=summarize([r.table for r in runs]))
    assert_within(mean, [f"estimate at {m} min" for m in E.fig6.PAPER_ESTIMATE]
                  + ["zero page thread spike (fast EWMA peak after exit)"])
    assert all(r.within or r.note for r in mean.table), "every miss names its cause"
    res = runs[0]
    e = res.traces["estimates"]
    at = lambda minute, key="estimate": float(np.interp(minute, e["minute"], e[key]))
    assert at(11.6) >= 0.8 * 150, "an increase is followed within a period or two (fast EWMA)"
    assert at(28.6) >= 0.5 * 150, "a decrease is followed slowly (slow EWMA)"
    assert at(33.6) < 40, "…but it is followed"
    assert (e["estimate"] >= np.maximum(e["slow"], e["fast"]) - 1e-9).all(), "estimate = max of the averages"


def test_fig6_a_drop_inside_a_sampling_period_shows_when_that_period_ends():
    """phase_s = 0 puts the 23.5-min drop on a period boundary: by 24 min a whole period has read
    the smaller working set; at the default phase the period holding the drop ends only at 24¼ min."""
    at_24 = {}
    for phase in (0, 15):
        e = E.fig6.run(seed=0, minutes=25, phase_s=phase).traces["estimates"]
        assert e["minute"][0] == 1 / 60, "the traces keep the figure's clock whatever the phase"
        at_24[phase] = float(np.interp(24, e["minute"], e["estimate"]))
    assert at_24[15] > at_24[0] + 15, at_24


def test_fig6_samples_the_pages_its_knob_says():
    """Notebook 06's try-it asks for a run with n = 10 sampled pages (§5.3's n, 100 in the paper): the
    knob reaches the sampler, so the estimate's path changes and the rows leave the paper's set-up."""
    from esxlab.experiments import fig6
    ten, paper = (fig6.run(0, minutes=12, sample_pages=n) for n in (10, 100))
    assert not np.array_equal(ten.traces["estimates"]["estimate"], paper.traces["estimates"]["estimate"])
    assert ten.row("estimate at 11 min").within is None and paper.row("estimate at 11 min").within is not None


def test_fig6_the_decay_note_numbers_are_measured_and_no_phase_reaches_the_paper_at_21_min():
    """DECAY_NOTE: without sampling noise the model reads ≈ 18 MB above the paper at 20 min (the period holding the
    drop ends at 19.75 min and still reads the old working set) and falls 54 MB to 21 min where the paper's curve
    falls 26 MB; moving the phase cannot lift 21 min to the paper's 195 MB (a phase that puts the drop on a period
    boundary lets a third period end, which only lowers it)."""
    def at(phase):
        e = E.fig6.run(seed=0, minutes=22, sample_pages=10000, phase_s=phase).traces["estimates"]
        return [float(np.interp(m, e["minute"], e["estimate"])) for m in (20, 21)]
    at20, at21 = at(15)
    paper = E.fig6.PAPER_ESTIMATE
    assert (round(at20), round(at21), round(at20 - at21)) == (239, 185, 54) and paper[20] - paper[21] == 26
    assert round(at20 - paper[20]) == 18 and round(paper[21] - at21) == 10
    assert "≈ 18 MB above the paper at 20 min" in E.fig6.DECAY_NOTE and "≈ 10 MB below the paper" in E.fig6.DECAY_NOTE
    by_phase = [at(phase)[1] for phase in range(0, 30, 3)]
    assert (round(min(by_phase)), round(max(by_phase))) == (170, 186) and max(by_phase) < paper[21] - 5, by_phase
    assert round(at(0)[0]) < at20 - 20, "at phase 0 the drop falls on a boundary: 20 min already reads the new set"


def test_a_watcher_sees_every_tick_of_fig6():
    """Figure 6 steps its host itself (to read the sampler each second), where other experiments call Host.run: a
    dashboard's watcher (esxlab.host.watching) saw only the 60 ticks before minute 0, so notebook 06's busy line never
    counted the run's minutes and a superseded run could not be cut short (session 68's review)."""
    from esxlab.host import watching
    seen = []
    p = fig6.PARAMS
    with watching(lambda host: seen.append(host.time)):
        fig6.run(seed=0, minutes=p["minutes"].lo)
    ticks = int(p["minutes"].lo * 60)
    assert len(seen) >= ticks and seen[-ticks:] == list(range(seen[-1] - ticks + 1, seen[-1] + 1))
