"""Trial 51: small input-checking gaps: Figure 6's schedule out of time order, an experiment looked up by a whole
float (7.0), and a whole percentage of exactly 1 that may be the fraction 1 typed for 100 % (balloon_max_pct=1.0).

(Two gaps checked in the same trial were already closed, with tests elsewhere: a policy's negative PPN is named in
its PolicyError, test_trial50_policy.py's "negative" case; ``repr`` of a powered-off VM says so,
test_trial50_api.py's test_a_powered_off_vm_takes_no_memory_by_any_way_in.)
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments
from esxlab.experiments import fig6


# -- 1. Figure 6's schedule must be in time order ------------------------------------------------------------
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


# -- 2. an experiment by its figure number as a whole float --------------------------------------------------
@pytest.mark.parametrize("number,name", [(7.0, "fig7"), (np.float64(6.0), "fig6"), (7, "fig7"), ("8", "fig8"),
                                         ("7.0", "fig7"), (" 8.00 ", "fig8")])
def test_a_figure_number_may_be_a_whole_float(number, name):
    assert experiments.lookup(number) == name
    assert experiments.get(number) is experiments.get(name)


@pytest.mark.parametrize("number", [7.5, float("nan"), True, "7.5", "7."])
def test_a_figure_number_that_is_not_whole_is_refused_listing_the_figures(number):
    with pytest.raises(esx.ConfigError, match=rf"^unknown experiment {re.escape(repr(number))}; choose a figure "
                                              r"number \(2, 4, 5, 6, 7, 8\), a name \(fig2, "):
        experiments.get(number)


# -- 5. exactly 1 in a whole percentage that may be the fraction 1 -------------------------------------------
@pytest.mark.parametrize("value", [1.0, 1, np.float64(1.0)])
def test_balloon_max_pct_of_exactly_one_warns_that_it_reads_as_one_percent(value):
    """Allowed (test_trial50_api: 0 and 1 are whole percentages), but 1.0 for "all of max" gave a 1 % cap silently."""
    with pytest.warns(UserWarning, match=rf"^VMConfig\.balloon_max_pct = {re.escape(repr(value))} is read as 1 % of "
                                         r"max; if you meant the fraction 1, balloon_max_pct is a percentage \(100 for "
                                         r"100 %\)\.$"):
        config = esx.VMConfig(balloon_max_pct=value)
    assert config.balloon_max_pct == 1 and config.balloon_cap_pages == int(config.max_pages / 100)


def test_replace_warns_too_and_other_values_do_not():
    with pytest.warns(UserWarning, match=r"^VMConfig\.balloon_max_pct = 1 is read as 1 % of max"):
        esx.VMConfig().replace(balloon_max_pct=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pct in (0, 5, 65, 100):
            esx.VMConfig(balloon_max_pct=pct)
        # 1 % is a slider position of these (step 1): a value one sets on purpose, no warning
        esx.HostConfig(compression_cache_pct=1, remap=esx.RemapConfig(low_reserve_pct=1))


def test_a_fraction_below_one_is_still_refused_not_warned():
    with pytest.raises(esx.ConfigError, match=r"looks like a fraction of 1, but balloon_max_pct is a percentage"):
        esx.VMConfig(balloon_max_pct=0.65)
