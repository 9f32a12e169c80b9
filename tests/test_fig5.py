"""Figure 5 (a table): page sharing in three production deployments (paper §4.3; esxlab/experiments/fig5.py): its rows,
notes, docstring and parameters against the paper's numbers."""
from __future__ import annotations


import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.experiments import fig5
from esxlab.sharing.esx import PageSharing

from conftest import assert_within

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


TABLE = "sharing table at its largest, % of host memory"


def test_fig5_table_row_is_a_half_percent_bound():
    res = fig5.run(seed=0)
    row = res.row(TABLE)
    assert row.paper == 0.5 and row.relation == "≤" and row.tolerance == 0 and row.kind == "set-up"
    tops = {k: fig5.table_pct(res.traces[k].host.sharing_table, 64 + sum(v.mb + 8 for v in fig5.DEPLOYMENTS[k].vms))
            for k in "ABC"}
    assert row.esxlab == pytest.approx(max(tops.values())) and row.title == f"sharing table at its largest " \
        f"({max(tops, key=tops.get)}), % of host memory"
    assert row.within and 0.1 < row.esxlab < 100 * 16 / 4096, "at most one 16-byte entry per page"


def test_table_pct_is_the_peak_share_of_memory():
    assert fig5.table_pct(np.array([0.0, 3.0, 5.0, 4.0]), 1000) == pytest.approx(0.5)
    assert fig5.table_pct(np.array([np.nan, 2.0]), 100) == pytest.approx(2.0)
    assert fig5.table_pct(np.array([]), 100) == 0.0


def test_fig5_table_row_can_fail(monkeypatch):
    """With 64-byte entries (KSM's size) the same table takes four times the memory: ≈ 1.45 %, over the bound."""
    small = dict(workload="C", scale=0.4, minutes=2)
    assert fig5.run(seed=0, **small).row(TABLE).within is True
    monkeypatch.setattr(PageSharing, "frame_bytes", 64)
    row = fig5.run(seed=0, **small).row(TABLE)
    assert row.within is False and row.esxlab > 1 and "16 bytes per scanned page" in row.note


def test_fig5_table_row_not_compared_with_ksm():
    row = fig5.run(seed=0, workload="C", scale=0.4, minutes=2, sharing="ksm").row(TABLE)
    assert row.paper is None and row.within is None


FIG5_SMALL = dict(scale=0.5, minutes=3)
SEEDS = (0, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_fig5_production_sharing_small_ordering_and_tolerances(seed):
    res = E.fig5.run(seed=seed, **FIG5_SMALL)
    shared = {k: res.value(f"{k}: shared, % of VM memory") for k in "ABC"}
    assert shared["A"] > shared["B"] > shared["C"], f"the paper's order A > B > C in shared %: {shared}"
    for k in "ABC":
        assert 0 < res.value(f"{k}: reclaimed") < res.value(f"{k}: shared"), "one copy of each shared page stays"
    assert res.value("A: zero pages") > 0, "NT zeroes its free memory: A has zero pages too"
    assert_within(res, [f"{k}: {q}" for k in "ABC" for q in ("shared, % of VM memory", "shared",
                                                              "reclaimed, % of VM memory", "reclaimed")]
                  + ["B: zero pages", "C: zero pages"])


def test_fig5_invented_deployments_keep_the_papers_counts_totals_and_size_ranges():
    stated = {"A": (10, "windows", None, None), "B": (9, "linux", 64, 768), "C": (5, "linux", 32, 512)}
    for key, (count, os, lo, hi) in stated.items():
        vms = E.fig5.DEPLOYMENTS[key].vms
        sizes = [v.mb for v in vms]
        assert len(vms) == count and {v.os for v in vms} == {os}
        assert sum(sizes) == pytest.approx(E.fig5.PAPER[key][0]), f"{key}: sizes must sum to the paper's total"
        if lo is not None:
            assert min(sizes) == lo and max(sizes) == hi, f"{key}: sizes span the paper's range"


def test_fig5_without_sharing_nothing_is_shared():
    res = E.fig5.run(workload="C", sharing="off", scale=0.4, minutes=2)
    assert res.value("C: shared") == 0 and res.value("C: zero pages") == 0
    assert res.row("C: shared").paper is None and "sharing = 'off'" in res.row("C: shared").note, \
        "without sharing the run is not the paper's setting: not compared"


@pytest.mark.parametrize("params, match", [(dict(workload="D"), "workload = 'D' is not allowed"),
                                           (dict(scale=0.2), r"scale = 0.2 is out of range; allowed: 0.4"),
                                           (dict(sharing="on"), "sharing = 'on' is not allowed"),
                                           (dict(minutes=2, warm_s=300), "must be shorter than the run")])
def test_fig5_bad_parameters_raise_config_error_sentences(params, match):
    with pytest.raises(esx.ConfigError, match=match):
        E.fig5.run(**params)
