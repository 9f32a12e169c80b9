"""esxlab.experiments: the paper's experiments at reduced size stay within their tolerances,
parameters move results the way the paper predicts, and ``python -m esxlab reproduce`` works.

Each ``within`` test names the quantities the model reproduces; rows the model is known to
miss carry a note in the table (see each module's docstring) and are not asserted here.
"""
from __future__ import annotations

import csv
import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments, experiments as E
from esxlab.errors import ConfigError, Error
from esxlab.experiments import fig6, fig7, fig8, paper, plots
from esxlab.experiments.cli import main
from esxlab.experiments.params import resolve
from esxlab.experiments.result import Result, Row, _columns, render_table, summarize

SEEDS = (0, 1)
FIG2_SMALL = dict(max_mb=128, sizes=(96, 112), clients=20, minutes=5, measure_from_min=2, dbench_start_s=30)
FIG7_SMALL = dict(vm_mb=128, available_mb=179, clients=20, minutes=24, tax_change_min=12, dbench_start_min=1)
REPL_SMALL = dict(vm_mb=128, available_mb=80, loop_mb=100, clients=20, minutes=3)


def assert_within(res: Result, quantities) -> None:
    for q in quantities:
        row = res.row(q)
        assert row.within, (f"seed {res.params['seed']}: {q}: esxlab {row.esxlab:.3g} vs paper {row.paper:.3g} "
                            f"± {row.tolerance}")


# -- the experiments ----------------------------------------------------------------------------
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
    off = E.fig7.run(seed=1, **dict(FIG7_SMALL, tax_after=0.0, minutes=16))
    quantities = [r.quantity for r in off.table]
    assert len(set(quantities)) == len(quantities), "each quantity once a run (sweeps pivot on them)"
    before, row = off.row("idle VM alloc, τ = 0 before the change"), off.row("idle VM alloc, τ = 0 after the change")
    assert before.within, "τ before the change is still the paper's 0"
    assert row.paper is None and row.within is None and "tax_after = 0.0, default 0.75" in row.note, \
        "with τ moved to 0 the table must not compare with the paper's 101 MB"


def test_fig7_runs_differing_after_the_change_fork_and_match_a_fresh_run_bit_for_bit():
    """A second run that differs only after the tax change forks the first run's host at the change."""
    from esxlab.experiments import common
    small = dict(FIG7_SMALL, minutes=16)
    common._prefixes.clear()
    E.fig7.run(seed=1, **dict(small, tax_after=0.25))
    assert len(common._prefixes) == 1
    forked = E.fig7.run(seed=1, **small)
    assert len(common._prefixes) == 1, "the second run reused the first one's prefix"
    common._prefixes.clear()
    fresh = E.fig7.run(seed=1, **small)
    a, b = _columns(forked.traces["run"]), _columns(fresh.traces["run"])
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a), "every trace column, bit for bit"
    assert [r.esxlab for r in forked.table] == [r.esxlab for r in fresh.table]


def test_the_tax_sweep_reuses_figure_7s_prefix_and_run_and_matches_a_fresh_sweep_bit_for_bit():
    """Figure 7's run is the tax sweep's τ = 0.75 copy: in one process it is simulated once."""
    from esxlab.experiments import common
    fig7 = dict(vm_mb=128, available_mb=179, clients=20, dbench_start_min=1, tax_change_min=8, minutes=12)
    sweep = dict(vm_mb=128, available_mb=179, clients=20, dbench_start_min=1, warmup_min=8, minutes=4,
                 tax_step=0.5, tax_max=0.75)
    common._prefixes.clear()
    common._kept.clear()
    first = E.fig7.run(seed=2, **fig7)
    assert len(common._prefixes) == 1 and len(common._kept) == 1
    shared = E.tax_sweep.run(seed=2, **sweep)
    assert len(common._prefixes) == 1, "the sweep forked Figure 7's warmed-up host"
    assert len(common._kept) == 3, "τ = 0 and 0.5 were run; τ = 0.75 was Figure 7's run"
    assert shared.value("idle VM alloc, τ = 0.75") == first.value("idle VM alloc, τ = 0.75")
    common._prefixes.clear()
    common._kept.clear()
    fresh = E.tax_sweep.run(seed=2, **sweep)
    a, b = shared.traces["sweep"], fresh.traces["sweep"]
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), "every column, bit for bit"


def test_tax_sweep_higher_tax_moves_memory_to_the_active_vm():
    res = E.tax_sweep.run(seed=0, vm_mb=128, available_mb=179, clients=20, warmup_min=6, minutes=4,
                          tax_step=0.5, tax_max=0.9)
    s = res.traces["sweep"]
    assert list(s["tax_rate"]) == [0, 0.5, 0.75, 0.9]
    assert (np.diff(s["idle_alloc"]) < 0.5).all() and s["idle_alloc"][-1] < s["idle_alloc"][0] - 20
    assert (np.diff(s["dbench_alloc"]) > -0.5).all()
    assert s["dbench_throughput"][-1] > 1.2 * s["dbench_throughput"][0]
    assert_within(res, ["idle VM alloc, τ = 0", "idle VM alloc, τ = 0.75"])


@pytest.mark.parametrize("seed", SEEDS)
def test_replacement_clock_interferes_with_the_guest(seed):
    res = E.replacement.run(seed=seed, **REPL_SMALL)
    assert_within(res, ["dbench: double paging, clock / random", "loop: swap-ins, clock / random"])
    assert res.value("dbench, random: double paging") > 0, "the set-up must exercise double paging"


def test_fig8_boot_storm_and_benchmarks_short():
    res = E.fig8.run(seed=0, bench_start_min=8, minutes=18)
    assert_within(res, ["SQL Server lowest alloc (min 160 MB)", "aggregate alloc peak at boot",
                        "zero pages shared at boot", "paged after the boot storm"])
    for quantity in ("aggregate balloon", "aggregate alloc", "sharing saves after benchmarks start"):
        row = res.row(quantity)
        assert row.paper is None and "benchmarks run 10 min, paper 66" in row.note, \
            "10 minutes of benchmarks end before the averages over the paper's 66 settle: not compared"
    assert res.row("aggregate alloc peak at boot").paper is not None, "an earlier benchmark start only shifts the boot rows"
    assert E.fig8.run(seed=0, bench_start_min=8, minutes=18, tax_rate=0).row("aggregate balloon").paper is None, \
        "τ = 0 is not the paper's setting: not compared"
    tr = res.traces["run"]
    states = np.array(tr.state_names())
    assert states[-1] == "high" and np.mean(np.isin(states[tr.minutes >= 7.6], ["hard", "low"])) < 0.02, \
        "after the boot storm the host balloons (soft) and returns to high, it hardly pages"
    for name, (mx, mn, _) in E.fig8.VMS.items():
        assert np.nanmin(tr.vm(name).alloc[tr.minutes >= 8]) >= mn - 1, f"{name} fell below its min"
    assert res.traces["aggregate"]["balloon"].max() > 50, "ESX balloons once the benchmarks start"


def test_same_seed_same_result_other_seed_other_result():
    short = dict(minutes=12, schedule=[(0, 0), (3, 100), (8, 0)])
    a, b, c = (E.fig6.run(seed=s, **short) for s in (3, 3, 4))
    assert np.array_equal(a.traces["estimates"]["estimate"], b.traces["estimates"]["estimate"])
    assert not np.array_equal(a.traces["estimates"]["estimate"], c.traces["estimates"]["estimate"])
    assert a.params == dict(b.params) and a.params["schedule"] == short["schedule"]


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, match", [
    ("fig7", dict(tax_after=1.0), "tax_after = 1.0 is out of range"),
    ("fig7", dict(taxafter=0.5), "no parameter 'taxafter'"),
    ("fig7", dict(tax_change_min=70), "tax_change_min ≤ minutes − 4"),
    ("fig2", dict(sizes=(64,)), "balloon would exceed its cap"),
    ("fig2", dict(sizes="big"), "sizes must be a list"),
    ("fig6", dict(schedule=[(1, 300)]), "must fit in 80 % of vm_mb"),
    ("fig8", dict(sharing="sometimes"), "sharing = 'sometimes' is not allowed"),
    ("fig8", dict(clients=3), "no parameter 'clients'"),
    ("replacement", dict(available_mb=300), "the host must page"),
    ("tax_sweep", dict(sharing="sometimes"), "sharing = 'sometimes' is not allowed"),
])
def test_bad_parameters_raise_config_error_sentences(name, params, match):
    with pytest.raises(esx.ConfigError, match=match):
        E.get(name).run(**params)


def test_bad_seed():
    with pytest.raises(esx.ConfigError, match="seed"):
        E.fig7.run(seed=-1)


def test_registry_modules_declare_title_params_and_tolerances():
    for name in E.EXPERIMENTS:
        mod = E.get(name)
        assert mod.TITLE and callable(mod.run) and mod.PARAMS
        assert "olerance" in mod.__doc__, f"{name}: the docstring must state its tolerances"
        for key, spec in mod.PARAMS.items():
            spec.validate(name, key, spec.default)
    assert E.lookup(7) == "fig7" and E.lookup("fig2") == "fig2" and E.lookup("tax_sweep") == "tax_sweep"


# -- the result table ---------------------------------------------------------------------------
def test_row_relations_and_rendering(tmp_path):
    rows = [Row("x", "near", 10, 11, 2), Row("x", "far", 10, 13, 2, "MB"), Row("x", "at least", 30, 29, 0, "%", "≥"),
            Row("x", "at most", 20, 25, 0, "MB", "≤", note="explained"), Row("x", "beyond", None, 5, None)]
    assert [r.within for r in rows] == [True, False, False, False, None]
    res = Result("x", {"seed": 0}, traces={"series": {"t": np.arange(3), "v": np.ones(3)}}, table=rows)
    text = res.render()
    assert "NO [1]" in text and "[1] explained" in text and "≥ 30 %" in text
    assert not res.within and len(res.failures) == 3
    paths = res.to_csv(tmp_path)
    table = list(csv.DictReader(open(paths[0])))
    assert [r["within"] for r in table] == ["True", "False", "False", "False", ""]
    assert list(csv.reader(open(tmp_path / "x_series.csv")))[0] == ["t", "v"]
    with pytest.raises(esx.ConfigError, match="no quantity 'nope'"):
        res.row("nope")


# -- the command line ---------------------------------------------------------------------------
def test_cli_one_figure_with_csv(tmp_path, capsys):
    assert main(["--figure", "6", "--seed", "1", "--csv", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "[1/1] fig6" in err and "within tolerance" in err
    assert "estimate at 16 min" in out and "within" in out.splitlines()[0]
    assert (tmp_path / "fig6_table.csv").exists() and (tmp_path / "fig6_estimates.csv").exists()
    assert (tmp_path / "all_table.csv").exists()


@pytest.mark.parametrize("argv, match", [(["--figure", "99"], "unknown experiment '99'"),
                                         (["--seed", "x"], "invalid int value"),
                                         (["--seed", "-2"], "non-negative"),
                                         (["--colour"], "unrecognized arguments")])
def test_cli_bad_input_exit_code_2(argv, match, capsys):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_main_dispatches_reproduce(capsys):
    from esxlab.__main__ import main as top
    assert top(["reproduce", "--figure", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


# -- fig5: page sharing in production deployments -------------------------------------------------
FIG5_SMALL = dict(scale=0.5, minutes=3)


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


def test_fig2_off_the_papers_setting_is_not_compared():
    res = E.fig2.run(seed=0, clients=1, sizes=(128, 192), minutes=3, measure_from_min=2, dbench_start_s=30)
    assert all(r.paper is None and r.within is None and "(1 dbench client; the paper ran 40)" in r.note
               for r in res.table), "with 1 client no row may be marked NO against the paper's 40-client numbers"


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


# -- edge parameters (each failed before its fix) ---------------------------------------------------
def test_fig8_memory_below_the_five_vms_reservations_is_refused_by_its_range():
    """fig8's five VMs reserve min + overhead = 896 MB: below it the run used to die in admission control."""
    with pytest.raises(esx.ConfigError, match=r"fig8.memory_mb = 800 is out of range; allowed: 896 ≤ memory_mb"):
        E.fig8.run(seed=0, memory_mb=800)


def test_remap_io_with_low_memory_holding_every_page_compares_nothing():
    """No bounce copies even without remapping: no ratio to take (it used to be log10(0), a crash)."""
    row = E.remap_io.run(seed=0, low_mb=128, minutes=1).row("orders of magnitude fewer copies")
    assert row.paper is None and row.within is None and "no bounce copies" in row.note
    with pytest.raises(esx.ConfigError, match="low_mb"):
        E.remap_io.run(seed=0, low_mb=129)


def test_replacement_without_double_paging_claims_nothing():
    """One client: neither policy double-pages; 0 / 0 used to read as 0, "clock is better", NO."""
    row = E.replacement.run(seed=0, clients=1).row("dbench: double paging, clock / random")
    assert row.within is None and "no double paging" in row.note


def test_fig7_idle_estimate_of_a_vm_of_another_size_is_not_compared():
    res = E.fig7.run(seed=0, vm_mb=16, available_mb=128)
    assert res.row("idle VM active estimate").within is None
    assert all(r.note.count("vm_mb = 16") <= 1 for r in res.table)


@pytest.mark.parametrize("name, one, other", [
    ("fig2", FIG2_SMALL, dict(FIG2_SMALL, max_mb=144)),
    ("fig4", dict(max_vms=3, minutes=5), dict(max_vms=4, minutes=5)),
    ("esx_today", dict(limit_mb=16), dict(limit_mb=32, vm_mb=80)),
    ("fig7", dict(FIG7_SMALL, minutes=16, tax_after=0.0), dict(FIG7_SMALL, minutes=16, tax_after=0.5)),
], ids=["fig2 max_mb", "fig4 max_vms", "esx_today limit_mb", "fig7 tax_after"])
def test_quantities_are_named_the_same_whatever_the_parameters(name, one, other):
    """A sweep's tidy table pivots on ``quantity``: a parameter's value may show in a row's label
    (e.g. "10 VMs: zero pages", "idle VM alloc, τ = 0.75"), never in its quantity."""
    a, b = (E.get(name).run(seed=0, **params).table for params in (one, other))
    assert [r.quantity for r in a] == [r.quantity for r in b]
    assert [r.title for r in a] != [r.title for r in b], "the labels still show the values"


def test_a_row_is_keyed_by_its_quantity_and_shown_by_its_label(tmp_path):
    res = Result("x", {"seed": 0})
    res.add("alloc after the change", 100, 101, 2, "MB", label="alloc, τ = 0.75")
    res.add("split", 10, 10, 1)
    assert res.row("alloc, τ = 0.75") is res.row("alloc after the change")
    assert "alloc, τ = 0.75" in res.render() and "after the change" not in res.render()
    rows = list(csv.DictReader(open(res.to_csv(tmp_path)[0])))
    assert [(r["quantity"], r["label"]) for r in rows] == [("alloc after the change", "alloc, τ = 0.75"),
                                                           ("split", "split")]


def test_fig4_with_two_vms_runs_and_lists_that_case_once():
    quantities = [r.quantity for r in E.fig4.run(seed=0, max_vms=2, minutes=5).table]
    assert len(quantities) == len(set(quantities))


def test_ksm_vs_esx_says_why_a_half_way_time_is_nan():
    row = E.ksm_vs_esx.run(seed=0, sleep_ms=10000, minutes=5).row("ksm: minutes to half the final savings")
    assert np.isnan(row.esxlab) and "saved nothing" in row.note


def test_settings_where_a_comparison_means_nothing_are_not_compared():
    """Rows compared with the paper only at its setting: Figure 5 at a scan
    rate of 1 page/s (14 rows NO before), remapping with no low memory (NO before), Figure 8's
    averages over benchmarks that ran longer than the paper's 66 min."""
    fig5 = E.fig5.run(seed=0, workload="A", scan_total_pages_s=1, minutes=2)
    assert all(r.paper is None and "scan_total_pages_s = 1" in r.note for r in fig5.table)
    remap = E.remap_io.run(seed=0, low_mb=0, minutes=1).row("orders of magnitude fewer copies")
    assert remap.paper is None and "low_mb = 0" in remap.note
    fig8 = E.fig8.run(seed=0, bench_start_min=8, minutes=80)
    row = fig8.row("aggregate alloc")
    assert row.paper is None and "benchmarks run 72 min, paper 66: these averages take in the quiet" in row.note


def test_fig6_samples_the_pages_its_knob_says():
    """Notebook 06's try-it asks for a run with n = 10 sampled pages (§5.3's n, 100 in the paper): the
    knob reaches the sampler, so the estimate's path changes and the rows leave the paper's set-up."""
    from esxlab.experiments import fig6
    ten, paper = (fig6.run(0, minutes=12, sample_pages=n) for n in (10, 100))
    assert not np.array_equal(ten.traces["estimates"]["estimate"], paper.traces["estimates"]["estimate"])
    assert ten.row("estimate at 11 min").within is None and paper.row("estimate at 11 min").within is not None


def test_an_unknown_quantity_lists_them_as_the_table_shows_them():
    """The table's label typed with "tau" for "τ": the error lists the labels the table shows
    (each also works), with the stable names (CSV, sweeps) beside those that differ."""
    res = E.fig7.run(seed=0)
    with pytest.raises(ConfigError) as err:
        res.value("idle VM alloc, tau = 0.75")
    assert "'idle VM alloc, τ = 0.75' (or 'idle VM alloc after the change')" in str(err.value)
    assert res.value("idle VM alloc, τ = 0.75") == res.value("idle VM alloc after the change")


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def unlisted():
    """A module in esxlab/experiments/ that is not in EXPERIMENTS (removed afterwards)."""
    path = ROOT / "esxlab" / "experiments" / "zz_unlisted_probe.py"
    path.write_text("PARAMS = {}\n\ndef run(seed=0):\n    pass\n")
    try:
        yield path.stem
    finally:
        path.unlink()


def quick_trace() -> esx.Trace:
    host = esx.Host()
    host.power_on(esx.VMConfig(name="dbench", max_mb=64))
    return host.run(seconds=5)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Experiment runs go to disk: here, to a throw-away folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_rules_are_declared_once_beside_params():
    """The experiments state their rules as RULES (data) that run() and --list both read: no
    experiment words a rule between its parameters in a require() of its own."""
    for name in E.EXPERIMENTS:
        module = E.get(name)
        assert "require(" not in inspect.getsource(module), name
        for rule in getattr(module, "RULES", ()):
            assert rule.names(resolve(name, module.PARAMS, {})), (name, rule.text)
    with pytest.raises(esx.ConfigError) as err:
        E.fig7.run(tax_change_min=70)
    assert str(err.value).startswith(f"fig7 needs {E.fig7.RULES[0].text} ({E.fig7.RULES[0].why}); got ")


def test_one_seed_shows_the_value_alone_and_two_seeds_mean_and_sd():
    row = Row("x", "alloc", 100, 108, 15, "MB")
    one = render_table(summarize([[row]]))
    assert "± 0" not in one.replace("± 15 MB", "") and "108 MB" in one and "esxlab (1 seed)" in one
    two = render_table(summarize([[row], [row]]))
    assert "108 ± 0 MB" in two and "esxlab mean ± sd" in two, "two equal seeds: a real zero spread"


@pytest.mark.parametrize("where, reason", [("file", "is an existing file, not a directory"),
                                           ("file/sub", r"cannot be created \(Not a directory\)")])
def test_result_to_csv_refuses_a_directory_it_cannot_make(tmp_path, where, reason):
    (tmp_path / "file").write_text("")
    with pytest.raises(esx.ConfigError, match=rf"^Result.to_csv: directory = {tmp_path / where} {reason}; allowed"):
        Result("x", {}, table=[Row("x", "q", 1, 1, 1)]).to_csv(tmp_path / where)


@pytest.mark.parametrize("rows", ["x", None, [1], 3])
def test_render_table_refuses_what_is_not_a_list_of_rows(rows):
    with pytest.raises(esx.ConfigError, match=r"^render_table: rows = .* is not allowed; give a list of Row"):
        render_table(rows)


def test_dir_lists_the_names_loaded_on_first_use():
    names = dir(E)
    assert {"sweep", "SweepFailed", "SweepInterrupted", "SweepTable", "fig7", "esx_today", "get"} <= set(names)
    assert names == sorted(names)


def test_a_time_in_minutes_off_a_tick_is_named_by_the_parameter_set(capsys):
    """`--param tax_change_min=31.33` is inside --list's range; it used to fail inside the run with
    "run: minutes = 28.33 is 1699.8 s", a value the user never typed."""
    from esxlab.experiments import cli, fig7
    assert cli.sweep_main(["fig7", "--param", "tax_change_min=31.33"]) == 2
    err = capsys.readouterr().err
    assert "fig7 tax_change_min = 31.33 min is 1879.8 s, not a whole number of seconds" in err, err
    assert "e.g. 31.25 or 31.5" in err
    with pytest.raises(esx.ConfigError, match=r"fig7 minutes = 60.01 min is 3600.6 s"):
        fig7.run(minutes=60.01)


def test_an_experiment_file_not_in_experiments_is_named_as_such(unlisted):
    """It read 'no module of that import name on sys.path', though the file was in esxlab/experiments/."""
    with pytest.raises(ConfigError, match=f"esxlab/experiments/{unlisted}.py exists but is not in "
                                          "esxlab.experiments.EXPERIMENTS: add it there"):
        esx.experiments.lookup(unlisted)
    with pytest.raises(AttributeError, match="is not in esxlab.experiments.EXPERIMENTS"):
        getattr(esx.experiments, unlisted)


def test_a_helper_module_of_the_package_is_not_called_an_unlisted_experiment():
    with pytest.raises(ConfigError) as err:
        esx.experiments.lookup("runner")
    assert "not in esxlab.experiments.EXPERIMENTS" not in str(err.value)


@pytest.mark.parametrize("experiment, name", [(e, n) for e in E.EXPERIMENTS for n, s in E.get(e).PARAMS.items()
                                               if s.integer])
def test_every_integer_param_given_a_whole_float_resolves_to_that_int(experiment, name):
    specs = E.get(experiment).PARAMS
    value = getattr(resolve(experiment, specs, {name: float(specs[name].default)}), name)
    assert type(value) is int and value == specs[name].default
    assert type(getattr(resolve(experiment, specs, {name: np.int64(specs[name].default)}), name)) is int


def test_a_whole_float_runs_as_the_int_and_a_fraction_is_refused():
    assert E.esx_today.run(vms=4.0).table == E.esx_today.run(vms=4).table
    with pytest.raises(ConfigError, match=r"esx_today.vms must be a whole number, got 4.5; allowed: whole numbers"):
        E.esx_today.run(vms=4.5)


def test_a_missing_trace_names_the_traces_there_are_and_where_a_vms_series_are():
    res = Result("mine", {}, traces={"run": quick_trace()})
    with pytest.raises(KeyError) as caught:
        res.traces["dbench"]
    assert isinstance(caught.value, Error)
    assert str(caught.value) == ("Result.traces has no trace 'dbench'; it has: 'run' ('dbench' is a VM: its series "
                                 "are res.traces['run'].vm('dbench')).")
    assert res.traces.get("dbench") is None and "dbench" not in res.traces      # a dict still
    with pytest.raises(KeyError, match="has no trace 'x'; it has: none"):
        Result("mine", {}).traces["x"]


@pytest.mark.parametrize("traces, got", [("trace", "got a Trace"), (5, "got 5 (int)")])
def test_traces_that_are_not_a_dict_are_refused_with_the_dict_form(traces, got):
    with pytest.raises(ConfigError, match=r"Result.traces must be a dict of name → trace .*e.g. "
                                          rf"traces={{'run': trace}}; {re.escape(got)}\."):
        Result("mine", {}, traces=quick_trace() if traces == "trace" else traces)


def test_a_trace_that_is_not_one_value_per_row_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"trace 'run''s column 'value' has shape \(\), not one value per row"):
        Result("mine", {}, traces={"run": 5}).to_csv(tmp_path)


@pytest.mark.parametrize("name", ["a/b", "", "a\\b", None])
def test_a_name_that_cannot_start_a_file_name_is_blamed_not_the_folder(name):
    with pytest.raises(ConfigError, match=r"Result.name = .* is not allowed; allowed: a non-empty name without / or"):
        Result(name, {})


def test_params_and_folder_of_the_wrong_kind_get_sentences():
    with pytest.raises(ConfigError, match=r"Result.params = None is not allowed; allowed: a dict"):
        Result("mine", None)
    with pytest.raises(ConfigError, match=r"Result.to_csv: directory = None is not allowed; allowed: a directory's "
                                          r"name, e.g. 'out/'"):
        Result("mine", {}).to_csv(None)


@pytest.mark.parametrize("name", [7, "7", "Fig7", " fig7 "])
def test_paper_series_takes_the_figure_number(name):
    assert E.paper_series(name) == E.paper_series("fig7")


def test_paper_series_without_a_series_names_names_and_numbers():
    with pytest.raises(ConfigError, match=r"name = 4 has no digitized series; choose one of fig2, fig6, fig7, fig8, "
                                          r"or its number \(2, 6, 7, 8\)"):
        E.paper_series(4)


def test_render_table_wraps_footnotes_at_spaces():
    """05's printed table broke a long footnote mid-word ("(onl" / "y the split"),
    as a notebook's output breaks a long line anywhere; footnotes are wrapped at spaces, under their text."""
    from esxlab.experiments.result import FOOTNOTE_WIDTH, Row, render_table
    note = "fig7: " + " ".join(f"word{i}" for i in range(60))
    text = render_table([Row("fig7", "q", 1.0, 2.0, 0.1, note=note)])
    foot = text[text.index("[1] "):].splitlines()
    assert len(foot) > 1 and all(len(line) <= FOOTNOTE_WIDTH for line in foot)
    assert all(line.startswith("    ") for line in foot[1:])
    assert " ".join(line.strip() for line in foot) == f"[1] {note}", "no word split"


def test_a_row_not_compared_has_no_relation_in_either_csv(tmp_path):
    """An own experiment's rows without a paper value read relation '≈' though nothing was compared."""
    from esxlab.experiments.result import Row, write_table_csv
    from esxlab.experiments.sweeps import SweepTable
    rows = [Row("x", "measured", None, 1.0, None), Row("x", "compared", 2.0, 2.1, 0.5, relation="≥")]
    table = SweepTable("x", ("minutes",), (0,), ((1,),), (tuple(rows),))
    for path in (table.to_csv(tmp_path / "sweep.csv"), write_table_csv(rows, tmp_path / "table.csv")):
        with open(path, newline="") as f:
            got = [(r["quantity"], r["relation"], r["within"]) for r in csv.DictReader(f)]
        assert got == [("measured", "", ""), ("compared", "≥", "True")], path.name


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


def test_setup_window_reads_the_moved_knobs():
    assert paper.setup_window("fig7", fig7.PARAMS, {}) == (60, "")
    assert paper.setup_window("fig7", fig7.PARAMS, dict(vm_mb=128))[0] == -math.inf
    assert paper.setup_window("fig7", fig7.PARAMS, dict(tax_change_min=20))[0] == 20
    assert paper.setup_window("fig8", fig8.PARAMS, dict(minutes=18, bench_start_min=8)) == \
        (8, "bench_start_min = 8, default 17")
    assert paper.setup_window("fig8", fig8.PARAMS, dict(bench_start_min=30, minutes=60))[0] == 17
    assert paper.setup_window("fig6", fig6.PARAMS, dict(minutes=30)) == (30, "")


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


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_python_says_the_same(value):
    with pytest.raises(ConfigError, match=rf"^fig7.tax_after = {value!r} is not a finite number; allowed: 0 ≤ "
                                          r"tax_after ≤ 0.99\.$"):
        E.sweep("fig7", params={"tax_after": [value]})
    with pytest.raises(ConfigError, match=rf"^fig7.tax_after = {value!r} is not a finite number"):
        E.fig7.run(tax_after=value)
