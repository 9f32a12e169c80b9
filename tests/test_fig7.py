"""Figure 7: the idle memory tax (paper §5.4; esxlab/experiments/fig7.py): its rows, notes, docstring and parameters
against the paper's numbers."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.experiments import fig7, paper_series
from esxlab.experiments.result import _columns

from conftest import assert_within

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


ROOT = Path(__file__).resolve().parents[1]
SHORT = "this run is shorter than the paper's"


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


@pytest.fixture(scope="module")
def estimates():
    """Seed → dbench's estimate before the change, seeds 0–9: once for the module (ten runs are more than the
    experiments keep, :data:`esxlab.experiments.common.RUNS_KEPT`)."""
    return {s: fig7.run(s).row("dbench active estimate before the change").esxlab for s in range(10)}


def _p(**kw) -> SimpleNamespace:
    return SimpleNamespace(**{**{k: spec.default for k, spec in fig7.PARAMS.items()}, **kw})


def test_figure_7s_note_on_the_sum_says_what_the_model_does():
    """The note: the targets still add up to the same memory, the allocations settle a few MB below them."""
    res = fig7.run(seed=0)
    row = res.row("sum of allocations after the change")
    assert "its allocations settle a few MB below them" in row.note and "not 14" in row.note, row.note
    tr = res.traces["run"]
    late = (50, 60)
    targets = sum(tr.mean(vm, "target", *late) for vm in ("idle", "dbench"))
    allocs = sum(tr.mean(vm, "alloc", *late) for vm in ("idle", "dbench"))
    before = sum(tr.mean(vm, "target", 20, 31) for vm in ("idle", "dbench"))
    assert abs(targets - before) < 1, (targets, before)             # the same available memory
    assert 0 < targets - allocs < 8, (targets, allocs)               # a few MB below the targets
    assert abs(allocs - row.esxlab) < 2 and row.esxlab < before      # the row's sum falls by a few MB


def test_the_docstrings_ranges_over_seeds_0_to_3(runs):
    span = lambda key: (min(r[key] for r in runs), max(r[key] for r in runs))
    assert 148 <= span("at_change")[0] and span("at_change")[1] <= 160.5
    assert 157.5 <= span("tau0")[0] and span("tau0")[1] <= 165.5 < 174        # the paper's ≈ 174 MB at τ = 0
    assert 121.5 <= span("first")[0] and span("first")[1] <= 126.5
    assert 0.3 <= span("t75")[0] and span("t75")[1] <= 0.5
    assert 0.6 <= span("t90")[0] and span("t90")[1] <= 2.05 and span("t90")[1] > 0.6    # slower than the paper's
    assert 105.5 <= span("settled")[0] and span("settled")[1] <= 108.5


def test_dbenchs_estimate_before_the_change_is_a_row_and_its_note_says_why_it_reads_low(estimates):
    res = fig7.run(4)
    row = res.row("dbench active estimate before the change")
    assert (row.paper, row.tolerance, row.relation, row.kind) == (174, 15, "≈", "prediction")
    assert 162.5 <= row.esxlab <= 163.5 and row.within and row.title == "dbench active estimate, τ = 0"
    assert row.note == fig7.DBENCH_HELD and "157–166 MB over seeds 0–9 (mean 160)" in row.note, "said when within"
    biased = [estimates[s] for s in (0, 5, 7)]
    assert all(157 <= v < 159 for v in biased), biased            # seeds the tolerance does not cover
    moved = fig7.run(0, tax_before=0.25, minutes=40).row("dbench active estimate before the change")
    assert moved.paper is None, "another τ before the change is not the paper's setting"


def test_figure_2s_bars_give_about_18_percent_where_figure_7_says_over_30():
    g = fig7.paper_gain_from_fig2()
    assert g["configured"] == pytest.approx(100 * (17.49125 / 14.8459375 - 1))        # 13.70 + 19/32 × 1.93, …
    assert g["configured"] == pytest.approx(17.82, abs=0.01) and g["ballooned"] == pytest.approx(19.57, abs=0.01)
    assert max(g.values()) < 30


def test_the_bars_read_closely_enough_that_reading_cannot_close_the_gap():
    """fig7's docstring, the README and notebook 05: the digitized bars give back the overheads the paper states
    (§3.2: 4.4 % at 128 MB, 1.4 % at 224 MB) to 0.1 point, and 30 % needs both interpolated readings ≈ 0.8 MB/s off."""
    s = paper_series("fig2")["series"]
    conf, ball = dict(zip(s["configured"]["x"], s["configured"]["y"])), dict(zip(s["ballooned"]["x"], s["ballooned"]["y"]))
    assert abs(100 * (1 - ball[128] / conf[128]) - 4.4) < 0.1 and abs(100 * (1 - ball[224] / conf[224]) - 1.4) < 0.1
    lo, hi = (float(np.interp(mb, s["configured"]["x"], s["configured"]["y"])) for mb in (179, 243))
    off = (1.3 * lo - hi) / 2.3                   # (hi + off) / (lo − off) = 1.30
    assert round(off, 1) == 0.8
    doc = " ".join(fig7.__doc__.split())
    assert "both readings off by ≈ 0.8 MB/s, in opposite directions" in doc and "1.4 % at 224 MB, to 0.1 point" in doc
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "(they give back the paper's own 4.4 % and 1.4 % overheads) that reading cannot close the gap" in readme
    assert fig7.paper_gain_from_fig2(243, 179)["configured"] < 0        # the docstring: a loss


def test_the_ballooned_curve_ends_at_the_configured_256_mb_bar():
    s = paper_series("fig2")["series"]
    assert 256 not in s["ballooned"]["x"]                    # the paper draws no balloon at 256 MB
    g = fig7.paper_gain_from_fig2(224, 256)
    assert g["ballooned"] == pytest.approx(100 * (17.80 / 16.80 - 1))
    assert g["configured"] == pytest.approx(100 * (17.80 / 17.04 - 1))
    assert fig7.paper_gain_from_fig2(192, 192) == {"configured": 0.0, "ballooned": 0.0}


@pytest.mark.parametrize("kw", [dict(before_mb=100), dict(after_mb=300), dict(before_mb="179")])
def test_sizes_outside_figure_2_are_refused_with_the_range(kw):
    with pytest.raises(esx.ConfigError, match="allowed: 128 ≤"):
        fig7.paper_gain_from_fig2(**kw)


def test_the_gain_rows_note_quotes_the_function():
    assert f"≈ {fig7.paper_gain_from_fig2()['configured']:.0f} %" in fig7.GAIN
    assert "≈ 18 %" in fig7.GAIN and "≈ 18 %" in " ".join(esx.workloads.Dbench.__doc__.split())
    assert "paper_gain_from_fig2" in fig7.__doc__


def test_the_readme_lists_it_among_the_papers_own_misfits():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    part = readme[readme.index("Where the paper's own numbers do not fit together"):readme.index("`reproduce --csv DIR`")]
    assert "only 18 % faster than at 179 MB (20 % on the ballooned bars)" in part
    assert "`fig7.paper_gain_from_fig2()`; notebook 05 asks it" in part
    g = fig7.paper_gain_from_fig2()
    assert round(g["configured"]) == 18 and round(g["ballooned"]) == 20


def test_only_a_run_shorter_than_the_papers_before_or_after_the_change_is_short():
    assert fig7.short_run(_p()) == ""
    assert fig7.short_run(_p(minutes=90, tax_change_min=40)) == "", "longer before and after: not short"
    assert "(4 min from dbench's start to the change and 4 after it; the paper's 28 and 29)" in \
        fig7.short_run(_p(minutes=11, tax_change_min=7))
    assert SHORT in fig7.short_run(_p(dbench_start_min=10)), "dbench starting later shortens the part before"
    assert SHORT in fig7.short_run(_p(minutes=50)), "a shorter part after the change"


def test_a_short_runs_misses_name_its_length_before_the_models_cause():
    res = fig7.run(seed=0, minutes=11, tax_change_min=7)
    missed = [r for r in res.table if r.within is False]
    assert missed, "the 4-minute windows miss at least the idle VM's estimate"
    settled = "sum of allocations after the change"         # misses alike at the paper's length: not the run's
    assert all(r.note.startswith(f"fig7: {SHORT}") for r in missed if r.quantity != settled), [r.note for r in missed]
    assert SHORT not in res.row(settled).note and "whatever the run's length" in res.row(settled).note
    idle = res.row("idle VM active estimate")
    assert idle.within is False and "At the paper's length: the idle Windows VM's background activity" in idle.note


def test_a_full_length_runs_notes_do_not_blame_the_length():
    assert not any(SHORT in r.note for r in fig7.run(seed=0).table)


def test_the_idle_vms_note_quotes_the_runs_own_file_set():
    assert "clients × 6 MB = 240 MB" in fig7.idle_after(40)
    assert "clients × 6 MB = 480 MB" in fig7.idle_after(80)


def test_dbench_scaled_grows_the_activity_with_the_clients_and_is_the_default_at_40():
    from esxlab.workloads import Dbench
    assert Dbench.scaled(80).accesses_per_s == 16000 and Dbench.scaled(80).clients == 80
    assert vars(Dbench.scaled(40)) == vars(Dbench()), "the paper's 40 clients: Dbench's defaults"


def test_figure_7_at_twice_the_papers_sizes_keeps_its_shape():
    """At 716 MB available, 512 MB VMs and 80 clients, with 8000 accesses a second for
    80 clients the dbench estimate was 295 MB and the allocations after the tax, their split and the gain
    all missed; with the activity scaled they are the paper's scaled, within the 1× tolerances."""
    res = fig7.run(seed=0, available_mb=716, vm_mb=512, clients=80)
    for q in ("idle VM alloc after the change", "dbench VM alloc after the change",
              "split dbench − idle after the change", "dbench throughput gain"):
        assert res.row(q).within, (q, res.row(q))
    active = res.row("dbench active estimate after the change")
    assert active.paper == 2 * 197 and active.within, "compared in the paper's setting scaled, as the allocations"
    idle = res.row("idle VM active estimate")
    assert idle.within is None and "does not grow with the sizes" in idle.note, "the Windows background is fixed"
    assert "dropped by 28 MB" in fig7.idle_after(80, 2) and "fell to ≈ 202 MB" in fig7.idle_after(80, 2), \
        "a note quotes the paper's numbers scaled as the table's"


FIG7_SMALL = dict(vm_mb=128, available_mb=179, clients=20, minutes=24, tax_change_min=12, dbench_start_min=1)


def test_fig7_idle_memory_tax():
    res = E.fig7.run(seed=0)
    assert_within(res, ["idle VM alloc, τ = 0", "dbench VM alloc, τ = 0", "idle VM alloc, τ = 0.75",
                        "dbench VM alloc, τ = 0.75", "split dbench − idle after the change",
                        "dbench throughput gain", "idle VM active estimate", "dbench active estimate, τ = 0.75"])
    assert all(r.within is not False or r.note for r in res.table), "every miss names its cause"


def test_fig7_small_the_tax_moves_memory_and_leaves_the_papers_setting_uncompared():
    res = E.fig7.run(seed=1, **FIG7_SMALL)
    assert_within(res, ["idle VM alloc, τ = 0", "dbench VM alloc, τ = 0", "dbench VM alloc, τ = 0.75"])
    assert res.value("idle VM alloc, τ = 0.75") < res.value("idle VM alloc, τ = 0") - 15
    off = E.fig7.run(seed=1, **dict(FIG7_SMALL, tax_rate=0.0, minutes=16))
    quantities = [r.quantity for r in off.table]
    assert len(set(quantities)) == len(quantities), "each quantity once a run (sweeps pivot on them)"
    before, row = off.row("idle VM alloc, τ = 0 before the change"), off.row("idle VM alloc, τ = 0 after the change")
    assert before.within, "τ before the change is still the paper's 0"
    assert row.paper is None and row.within is None and "tax_rate = 0.0, default 0.75" in row.note, \
        "with τ moved to 0 the table must not compare with the paper's 101 MB"


def test_fig7_runs_differing_after_the_change_fork_and_match_a_fresh_run_bit_for_bit():
    """A second run that differs only after the tax change forks the first run's host at the change."""
    from esxlab.experiments import common
    small = dict(FIG7_SMALL, minutes=16)
    common._prefixes.clear()
    E.fig7.run(seed=1, **dict(small, tax_rate=0.25))
    assert len(common._prefixes) == 1
    forked = E.fig7.run(seed=1, **small)
    assert len(common._prefixes) == 1, "the second run reused the first one's prefix"
    common._prefixes.clear()
    fresh = E.fig7.run(seed=1, **small)
    a, b = _columns(forked.traces["run"]), _columns(fresh.traces["run"])
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a), "every trace column, bit for bit"
    assert [r.esxlab for r in forked.table] == [r.esxlab for r in fresh.table]


def test_fig7_idle_estimate_of_a_vm_of_another_size_is_not_compared():
    res = E.fig7.run(seed=0, vm_mb=16, available_mb=128)
    assert res.row("idle VM active estimate").within is None
    assert all(r.note.count("vm_mb = 16") <= 1 for r in res.table)


def test_figure_2s_dbench_here_gains_about_25_percent_and_asks_for_less():
    """Figure 2's dbench (fig2.PARAMS' fit) in Figure 7's set-up: a smaller, more skewed file set fits in ≈ 232 MB,
    and the gain stays short of the paper's 30 % (≈ 25 %): the figures need two dbenches (fig7's docstring)."""
    from esxlab.experiments import fig2
    res = fig7.run(seed=0, **{k: fig2.PARAMS[k].default for k in ("mb_per_client", "zipf_alpha")})
    assert 22 < res.value("dbench throughput gain") < 27
    assert 225 < res.value("dbench VM alloc after the change") < 243 - 5
    assert not res.row("dbench throughput gain").within and res.row("dbench active estimate after the change").esxlab < 170


def test_a_label_names_one_quantity_across_a_sweep_of_tau():
    """At τ = 0 on both sides of the change, dbench's estimate after it was labelled "τ = 0", the label the run at
    τ = 0.75 gives the estimate before it: a sweep's table could not tell the two apart."""
    short = dict(dbench_start_min=1, tax_change_min=6, minutes=11)
    named: dict[str, set[str]] = {}
    for tau in (0, 0.75):
        for r in fig7.run(tax_rate=tau, **short).table:
            named.setdefault(r.title, set()).add(r.quantity)
    assert all(len(q) == 1 for q in named.values()), {t: q for t, q in named.items() if len(q) > 1}


def test_the_docstrings_sharing_on_and_seeds_0_to_9_numbers_are_the_runs(estimates):
    """The docstring said the dbench VM grows to 232 of 256 MB at τ = 0 with sharing on (seed 0), where the run's
    row reads 250 MB, and that dbench's estimate before the change reads 157–167 MB over seeds 0–9, where the runs
    (since Dbench draws float32) read 157–166 MB, mean 160, as the row's note says."""
    doc = " ".join(fig7.__doc__.split())
    shared = fig7.run(0, sharing="esx")
    alloc = shared.value("dbench VM alloc, τ = 0")
    assert 240 < alloc < 256, alloc
    assert f"grows toward its max already at τ = 0 ({alloc:.0f} of 256 MB with seed 0;" in doc
    est = list(estimates.values())
    span = f"{min(est):.0f}–{max(est):.0f} MB over seeds 0–9, mean {np.mean(est):.0f}"
    assert f"the model reads low ({span})" in doc, (span, est)
    note = f"{min(est):.0f}–{max(est):.0f} MB over seeds 0–9 (mean {np.mean(est):.0f})"
    assert note in fig7.DBENCH_HELD, "the row's note gives the same span"


def test_the_docstring_names_the_windows_the_rows_average_over():
    """A student reading a sweep's 'idle VM alloc after the change' could not learn over which minutes it is a mean:
    neither help(fig7) nor the README said. The docstring's minutes are windows()'s at the defaults, and the rows
    are the trace's means over them."""
    (b0, b1) = fig7.windows(_p())
    for text in (f"minutes {b0[0]:.3g}–{b0[1]:g} by default", f"minutes {b1[0]:g}–{b1[1]:g}",
                 f"minutes {b0[0]:.3g}–{b1[1]:g}"):
        assert text in " ".join(fig7.__doc__.split()), text
    res = fig7.run(0)
    tr = res.traces["run"]
    thr = [tr.mean("dbench", "throughput", *b) for b in (b0, b1)]
    assert res.row("idle VM alloc before the change").esxlab == tr.mean("idle", "alloc", *b0)
    assert res.row("dbench VM alloc after the change").esxlab == tr.mean("dbench", "alloc", *b1)
    assert res.row("idle VM active estimate").esxlab == tr.mean("idle", "active", b0[0], b1[1])
    assert res.row("dbench throughput gain").esxlab == 100 * (thr[1] / thr[0] - 1)
