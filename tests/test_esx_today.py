"""Issue 15's teaching side: the esx_today experiment (later ESX rows), its two-era dashboard, and
the SharingStopped problem answered by the model."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import esxlab as esx
from esxlab import checks, experiments as E, problems
from esxlab.checks import CheckFailed
from esxlab.experiments import esx_today
from esxlab.problems.instructor import solve

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


@pytest.fixture(scope="module")
def res():
    return esx_today.run(seed=0)


def test_minfree_rows_are_the_documented_sliding_scale(res):
    for gb, mb in esx_today.MINFREE_MB.items():
        row = res.row(f"minFree of a {gb} GB host")
        assert row.kind == "set-up" and row.within and row.paper == mb and "later ESX" in row.note
    # the scale by hand, band by band: 6 % of 4 GB, 4 % of 8 GB, 2 % of 16 GB, 1 % of the rest
    assert esx_today.MINFREE_MB[128] == pytest.approx(0.06 * 4096 + 0.04 * 8192 + 0.02 * 16384 + 0.01 * 102400)


def test_a_limit_is_respected_on_an_idle_host_balloon_first(res):
    p = res.params
    row = res.row(f"alloc of a {p['vm_mb']:g} MB VM limited to {p['limit_mb']:g} MB on an idle host")
    assert row.within and "later ESX" in row.note
    tr = res.traces["limit"]
    assert set(tr.state_names()) == {"high"}, "the host never left high: the limit alone reclaims"
    assert res.value("limited VM: ballooned") > res.value("limited VM: swapped")
    working_set = p["vm_mb"] * p["busy_pct"] / 100
    assert working_set > p["limit_mb"] + 10 and tr.vm("limited").alloc.max() < p["limit_mb"] + 4
    assert res.value("limited VM: ballooned") + res.value("limited VM: swapped") >= working_set - p["limit_mb"], \
        "what the VM touches beyond its limit is reclaimed"


def test_large_pages_share_nothing_until_pressure_breaks_them(res):
    calm = res.row("large pages, no pressure: saved by sharing")
    broken = res.row("large pages, once pressure breaks them: saved by sharing")
    assert calm.within and broken.within and calm.relation == "≤" and broken.relation == "≥"
    tr = res.traces["large_pages"]
    before = tr.minutes < res.params["calm_min"]
    assert "high" in set(np.array(tr.state_names())[before])
    assert tr.host.shared_saved[~before].max() > 10 * max(tr.host.shared_saved[before].max(), 0.1)


def test_the_eras_differ_where_the_documentation_says(res):
    old, new = res.traces["esx2002"], res.traces["esxi6"]
    assert "clear" not in old.state_names() and "clear" in new.state_names()
    assert res.value("esx2002: saved by compression") == 0 < res.value("esxi6: saved by compression")
    assert res.value("esx2002: compressed at the end") == 0


def test_compression_keeps_pages_that_would_have_been_swapped(monkeypatch):
    """ESXi 6 against itself without compression (against 2002 it also balloons less: its balloon stops in hard)."""
    p = esx_today.resolve("esx_today", esx_today.PARAMS, {})
    swapped = {}
    for compression in (True, False):
        monkeypatch.setattr(esx_today, "preset", lambda era, **o: esx.HostConfig.esxi6(compression=compression, **o))
        tr, _ = esx_today.run_era(p, "esxi6", 0)
        swapped[compression] = sum(float(tr.vm(n).swapped[-1]) for n in tr.vm_names)
    assert swapped[True] < swapped[False], swapped


def test_on_a_256_mb_host_esxi6_pages_more_because_it_keeps_more_free():
    """Notebook 12's "Try it" answer: ESXi 6's goal (300 % of minFree) leaves lower targets, so the jump at 1 min
    pages more victims (swapped + compressed) than 2002 does."""
    p = esx_today.resolve("esx_today", esx_today.PARAMS, {"host_mb": 256})
    out = {}
    for era in ("esx2002", "esxi6"):
        tr, host = esx_today.run_era(p, era, 0)
        last = {f: sum(float(getattr(tr.vm(n), f)[-1]) for n in tr.vm_names) for f in ("swapped", "compressed")}
        targets = sum(float(tr.vm(n).target[tr.t == 70][0]) for n in tr.vm_names)
        out[era] = (host.states.goal / esx.PAGES_PER_MB, targets, last["swapped"] + last["compressed"])
    (goal02, tg02, paged02), (goal6, tg6, paged6) = out["esx2002"], out["esxi6"]
    assert goal6 > 2.5 * goal02 and tg6 < tg02 - 20, out
    assert paged6 > paged02 > 0, out


@pytest.mark.parametrize("params, match", [(dict(limit_mb=512), "limit_mb below the working set"),
                                           (dict(calm_min=6, minutes=6), r"calm_min \+ 1 < minutes"),
                                           (dict(vms=1), "vms = 1 is out of range")])
def test_bad_parameters_are_sentences(params, match):
    with pytest.raises(esx.ConfigError, match=match):
        esx_today.run(**params)


def test_era_dashboard_draws_both_eras_and_follows_its_slider():
    from esxlab import views
    dash = views.EraDashboard(["limit_mb"])
    left, right = (dash.era_charts[e].lines.y.copy() for e in esx_today.ERAS)
    assert left.shape == right.shape and not np.array_equal(left, right)
    assert dash.vm_pick.value == "limited"
    calm = dash.run.result.params["calm_min"]
    assert dash.sharing.event.visible and list(dash.sharing.event.x) == [calm, calm]
    assert list(dash.sharing.event.labels) == ["hog starts"], "an event, labelled: not the dashed minute cursor"
    assert not any(c.cursor.visible for c in (dash.sharing, *dash.era_charts.values())), "whole runs: no cursor"
    before = dash.series.lines.y.copy()
    dash.controls["limit_mb"].value = 24
    assert not np.array_equal(before, dash.series.lines.y)


# -- SharingStopped: the model finds the cause the scenario planted ------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_sharing_stopped_is_answered_by_the_model(seed):
    p = problems.SharingStopped(seed)
    got = solve(p)
    assert got["cause"] == p._planted, (p.describe(), got)
    assert got["comes_back"] == ("yes" if p._planted == "large pages" else "no")
    assert p._saved() < p.SAVES_MB


def test_every_cause_is_posed_by_some_seed():
    assert {problems.SharingStopped(s)._planted for s in range(12)} == set(problems.SharingStopped.CAUSES)


def test_sharing_stopped_teaches_its_typical_mistakes():
    for seed in range(4):
        p = problems.SharingStopped(seed)
        right = solve(p)
        for wrong in set(p.CAUSES) - {right["cause"]}:
            with pytest.raises(CheckFailed, match="`cause` is not right") as err:
                checks.check(p, **{**right, "cause": wrong})
            assert p._decoy(wrong) in str(err.value)
        flipped = "no" if right["comes_back"] == "yes" else "yes"
        with pytest.raises(CheckFailed, match="breaks large pages up"):
            checks.check(p, **{**right, "comes_back": flipped})


def test_large_pages_row_is_not_compared_when_the_hog_makes_no_pressure():
    """16 VMs: the host sized for them leaves the hog no pressure, no large page breaks, and the
    "once pressure breaks them" row has nothing to compare (it used to say NO)."""
    row = esx_today.run(seed=0, vms=16).row("large pages, once pressure breaks them: saved by sharing")
    assert row.within is None and "no pressure" in row.note


@pytest.mark.parametrize("host_mb", [64])
def test_vms_that_do_not_fit_the_host_are_a_sentence_not_a_traceback(host_mb, capsys):
    """16 VMs on a 64 MB host: admission control refuses one of the experiment's own VMs; run()
    says which sizes do not fit and what is allowed, and the sweep CLI prints it (exit 2). (On an
    80 MB host they were refused too until a fault stopped paging the booting VM's own kernel
    while the others still had pages above their min: they boot now, and run.)"""
    from esxlab.experiments import esx_today
    from esxlab.__main__ import main
    with pytest.raises(esx.ConfigError, match=f"vms = 16 .* host_mb = {host_mb} MB .* allowed: a larger host_mb"):
        esx_today.run(vms=16, host_mb=host_mb)
    assert main(["sweep", "esx_today", "--param", "vms=16", "--param", f"host_mb={host_mb}",
                 "--seeds", "0"]) == 2
    assert "error: esx_today: vms = 16" in capsys.readouterr().err


def test_esx_today_heads_its_column_later_esx_in_print_and_on_the_command_line():
    """``res.render()`` and ``reproduce --figure esx_today`` headed esx_today's VMware values "paper"."""
    assert esx_today.run().render().split()[2:4] == ["later", "ESX"]
    out = subprocess.run([sys.executable, "-m", "esxlab", "reproduce", "--figure", "esx_today"], capture_output=True,
                         text=True, check=True).stdout
    assert out.split("\n")[0].split()[2:4] == ["later", "ESX"]


def test_esxi6_balloons_stop_in_hard_and_the_papers_keep_inflating():
    """Later ESX's hard state compresses and swaps, the balloon stops (paper-notes §5.2's later-ESX actions); the
    paper's hard state pages the whole excess while the balloon goes on inflating (§6.3)."""
    from esxlab.reclaim import HARD, LOW, plan
    for state in (HARD, LOW):
        args = (state, 100, 1000, 10, 1000, True, True)
        assert plan(*args) == (110, 100) and plan(*args, hard_balloon=False) == (10, 100)
    from esxlab.experiments import esx_today
    p = esx_today.resolve("esx_today", esx_today.PARAMS, {})
    tr, host = esx_today.run_era(p, "esxi6", 0)
    hard = np.isin(np.asarray(tr.host.state[:-1]), [HARD, LOW])
    assert hard.any()
    for n in tr.vm_names:
        grew = np.diff(np.asarray(tr.vm(n).balloon)) > 1e-9
        assert not (grew & hard).any(), n


def test_esx_today_reruns_only_the_limit_when_only_the_limit_moves():
    from esxlab.experiments import common
    small = dict(minutes=3, calm_min=1)
    common._kept.clear()
    first = E.esx_today.run(seed=1, **small)
    assert len(common._kept) == 3, "two eras and the large-page part are kept"
    moved = E.esx_today.run(seed=1, limit_mb=16, **small)
    assert len(common._kept) == 3, "nothing new kept: only the limit's part ran again"
    assert moved.traces["esxi6"] is first.traces["esxi6"] and moved.traces["limit"] is not first.traces["limit"]
    common._kept.clear()
    fresh = E.esx_today.run(seed=1, limit_mb=16, **small)
    assert [r.esxlab for r in moved.table] == [r.esxlab for r in fresh.table]
