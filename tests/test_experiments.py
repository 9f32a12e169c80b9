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
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments, experiments as E
from esxlab.errors import ConfigError, Error
from esxlab.experiments import fig6, fig7, fig8, paper, plots
from esxlab.experiments.params import resolve
from esxlab.experiments.result import Result, Row, render_table, summarize

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder

FIG2_SMALL = dict(max_mb=128, sizes=(96, 112), clients=20, minutes=5, measure_from_min=2, dbench_start_s=30)
FIG7_SMALL = dict(vm_mb=128, available_mb=179, clients=20, minutes=24, tax_change_min=12, dbench_start_min=1)


# -- the experiments ----------------------------------------------------------------------------


def test_same_seed_same_result_other_seed_other_result():
    short = dict(minutes=12, schedule=[(0, 0), (3, 100), (8, 0)])
    a, b, c = (E.fig6.run(seed=s, **short) for s in (3, 3, 4))
    assert np.array_equal(a.traces["estimates"]["estimate"], b.traces["estimates"]["estimate"])
    assert not np.array_equal(a.traces["estimates"]["estimate"], c.traces["estimates"]["estimate"])
    assert a.params == dict(b.params) and a.params["schedule"] == short["schedule"]


# -- parameters ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params, match", [
    ("fig7", dict(tax_rate=1.0), "tax_rate = 1.0 is out of range"),
    ("fig7", dict(taxafter=0.5), "no parameter 'taxafter'"),
    ("fig7", dict(tax_change_min=70), "tax_change_min ≤ minutes − 4"),
    ("fig2", dict(sizes=(64,)), "balloon would exceed its cap"),
    ("fig2", dict(sizes="big"), "sizes must be a list"),
    ("fig6", dict(schedule=[(1, 300)]), "must fit in 80 % of vm_mb"),
    ("fig8", dict(sharing="sometimes"), "sharing = 'sometimes' is not allowed"),
    ("fig8", dict(clients=3), "no parameter 'clients'"),
    ("replacement", dict(available_mb=300), "the host must page"),
    ("balloon_vs_paging", dict(mild_pct=50), "the tight squeeze takes more than the mild one"),
    ("tax_sweep", dict(sharing="sometimes"), "sharing = 'sometimes' is not allowed"),
])
def test_bad_parameters_raise_config_error_sentences(name, params, match):
    with pytest.raises(esx.ConfigError, match=match):
        E.get(name).run(**params)


def test_bad_seed():
    with pytest.raises(esx.ConfigError, match="seed"):
        E.fig7.run(seed=-1)


@pytest.mark.parametrize("name", E.EXPERIMENTS)
def test_help_of_run_says_what_it_returns_and_refuses(name):
    """Each run's docstring read only "Run …; its parameters … override PARAMS": by_name, which wraps every one,
    adds what it returns and when it raises, in one wording."""
    import pydoc
    text = " ".join(pydoc.render_doc(E.get(name).run, renderer=pydoc.plaintext).split())
    assert "override :data:`PARAMS`. Returns a :class:`~esxlab.experiments.result.Result` (its ``table`` of rows " \
           "against the paper, or its REFERENCE, and its ``traces``); ConfigError for an unknown parameter, a value " \
           "out of its PARAMS range or breaking one of its RULES, or a bad seed." in text, text


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
    table = list(csv.DictReader(paths[0].read_text().splitlines()))
    assert [r["within"] for r in table] == ["True", "False", "False", "False", ""]
    assert list(csv.reader((tmp_path / "x_series.csv").read_text().splitlines()))[0] == ["t", "v"]
    with pytest.raises(esx.ConfigError, match="no quantity 'nope'"):
        res.row("nope")


# -- the command line ---------------------------------------------------------------------------


# -- fig5: page sharing in production deployments -------------------------------------------------


# -- edge parameters (each failed before its fix) ---------------------------------------------------


@pytest.mark.parametrize("name, one, other", [
    ("fig2", FIG2_SMALL, dict(FIG2_SMALL, max_mb=144)),
    ("fig4", dict(max_vms=3, minutes=5), dict(max_vms=4, minutes=5)),
    ("esx_today", dict(limit_mb=16), dict(limit_mb=32, vm_mb=80)),
    ("fig7", dict(FIG7_SMALL, minutes=16, tax_rate=0.0), dict(FIG7_SMALL, minutes=16, tax_rate=0.5)),
], ids=["fig2 max_mb", "fig4 max_vms", "esx_today limit_mb", "fig7 tax_rate"])
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
    rows = list(csv.DictReader(res.to_csv(tmp_path)[0].read_text().splitlines()))
    assert [(r["quantity"], r["label"]) for r in rows] == [("alloc after the change", "alloc, τ = 0.75"),
                                                           ("split", "split")]


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


@pytest.mark.parametrize("name", [7, "7", "Fig7", " fig7 ", 7.0, "7.0", np.float64(7.0), E.fig7])
def test_paper_series_takes_the_figure_number(name):
    """As experiments.get takes it (paper_series(7.0) was refused, where get(7.0) is fig7)."""
    assert E.get(name) is E.fig7
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


def test_a_results_table_and_its_csv_list_rows_in_the_order_the_printed_table_shows(tmp_path):
    """fig7 adds its set-up checks first, the printed table shows them last: the CSV listed them first."""
    from esxlab.experiments.result import write_table_csv
    res = Result("mine", {})
    res.add("check a", 1, 1, 0.1, kind="set-up")
    res.add("first", 1, 1, 0.1)
    res.add("check b", 1, 1, 0.1, kind="set-up")
    res.add("second", 1, 1, 0.1)
    order = ["first", "second", "check a", "check b"]
    assert [r.quantity for r in res.table] == order
    text = res.render()
    assert sorted(order, key=lambda q: text.index(q + " ")) == order
    with open(write_table_csv(res.table, tmp_path / "t.csv"), newline="") as f:
        assert [r["quantity"] for r in csv.DictReader(f)] == order
    kinds = [r.kind for r in fig7.run(seed=0, minutes=40).table]
    assert kinds == sorted(kinds, key=lambda k: k != "prediction") and "set-up" in kinds


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
    with pytest.raises(ConfigError, match=rf"^fig7.tax_rate = {value!r} is not a finite number; allowed: 0 ≤ "
                                          r"tax_rate ≤ 0.99\.$"):
        E.sweep("fig7", params={"tax_rate": [value]})
    with pytest.raises(ConfigError, match=rf"^fig7.tax_rate = {value!r} is not a finite number"):
        E.fig7.run(tax_rate=value)


@pytest.mark.parametrize("args, says", [
    (("q", None, np.array([1.0, 2.0]), None), "esxlab = array([1., 2.]) (ndarray, an array of shape (2,): give one "
                                                "number, e.g. its mean) is not allowed; allowed: one number."),
    (("q", 100, 90, -5), "tolerance = -5 is not allowed; allowed: one number ≥ 0, or None (not compared)."),
    (("q", None, "3", None), "esxlab = '3' (str) is not allowed; allowed: one number."),
    (("q", "1", 2, None), "paper = '1' (str) is not allowed; allowed: one number, or None (not compared)."),
    (("q", 1, True, 1), "esxlab = True (bool) is not allowed"),
    (("q", float("nan"), 1, 1), "paper = nan is not allowed: give None for a quantity the paper gives no value for"),
    (("q", 1, np.complex128(1 + 2j), 1), f"esxlab = {np.complex128(1 + 2j)!r} (complex128) is not allowed"),
    (("q", 1, [2.0], 1), "esxlab = [2.0] (list, a list of shape (1,): give one number, e.g. its mean)"),
])
def test_result_add_takes_one_number_per_value(args, says):
    """Result.add, an experiment of one's own's entry point: a trace's window passed where its mean was meant failed
    inside numpy (TypeError: only 0-dimensional arrays …), a negative tolerance and a string were taken."""
    res = Result("mine", {})
    with pytest.raises(ConfigError) as raised:
        res.add(*args)
    assert str(raised.value) == f"mine: Result.add('q'): {says}" or says in str(raised.value)
    assert res.table == []
    assert math.isnan(res.add("unmeasured", None, float("nan"), None).esxlab), "NaN: a run could not measure it"
    assert res.add("f32", 1, np.float32(2.5), np.int64(1)).within is False


@pytest.mark.parametrize("name", list(E.EXPERIMENTS))
def test_parameters_given_by_position_are_one_sentence(name):
    """fig7.run(0, 0.5) raised Python's TypeError ('run() takes from 0 to 1 positional arguments but 2 were given')."""
    module = getattr(E, name)
    first = next(iter(module.PARAMS))
    with pytest.raises(ConfigError, match=re.escape(
            f"{name}.run takes the seed by position (or as seed=) and its parameters by name; got 2 values by "
            f"position (0, {{}}); e.g. {name}.run(0, {first}=…).")):
        module.run(0, {})
    with pytest.raises(ConfigError, match=re.escape("got 1 value by position (3) and seed=1; e.g. ")):
        module.run(3, seed=1)
    assert list(inspect.signature(module.run).parameters) == ["seed", "params"], "the signature shown is run's own"
    with pytest.raises(ConfigError, match=re.escape(f"{name}.run has no parameter 'Seed' (did you mean 'seed'?); "
                                                    "its parameters are: ")):
        module.run(Seed=1)


@pytest.mark.parametrize("value, says", [
    (0.5, "e.g. fig7.run(0, mb_per_client=0.5) (0.5 is a value of mb_per_client, zipf_alpha, tax_before, tax_rate, "
          "dbench_start_min)."),
    ("esx", "e.g. fig7.run(0, sharing='esx')."),
    (-5, "e.g. fig7.run(0, available_mb=…)."),
    (0.01, "e.g. fig7.run(0, zipf_alpha=0.01) (0.01 is a value of zipf_alpha, tax_before, tax_rate)."),   # 0.6 s: no
    (np.float64(0.5), "e.g. fig7.run(0, mb_per_client=0.5) (0.5 is a value of mb_per_client, zipf_alpha, "
                      "tax_before, tax_rate, dbench_start_min)."),
])
def test_a_value_given_by_position_is_shown_with_the_parameters_that_take_it(value, says):
    """The example named fig7's first parameter whatever the value (fig7.run(0, 0.5) → available_mb=…: a helper's
    trial); it now names the parameters the value fits."""
    with pytest.raises(ConfigError) as e:
        E.fig7.run(0, value)
    assert str(e.value).endswith(says)
    with pytest.raises(ConfigError, match=r"^esx_today.run takes the seed by position"):
        E.esx_today.run(0, Fraction(1, 2))      # (a review: a TypeError from inside the example's check)


@pytest.mark.parametrize("seed, hinted", [(0.5, True), (np.float64(0.75), True), (-1, False), (2.0, False)])
def test_a_fraction_given_as_the_seed_says_the_first_argument_is_the_seed(seed, hinted):
    """fig7.run(0.5), meant for the tax rate, said only that seed = 0.5 is not allowed (a new user's trial)."""
    with pytest.raises(esx.ConfigError) as e:
        E.fig7.run(seed)
    assert str(e.value).startswith(f"run: seed = {seed!r} is not allowed; allowed: a non-negative integer")
    assert ("; run's first argument by position is the seed, so give the experiment's parameters by name "
            "(e.g. fig7.run(tax_rate=0.5))." in str(e.value)) == hinted
