"""Trial 50, bad inputs to the experiments layer: each gets an esxlab sentence, never a bare traceback.

Whole floats for integer parameters, fig6's empty schedule and too-short run, dict-style access to a
Result's traces, a Trace where a dict is expected, CSV folders and names, a decimal comma or an
overflowing number in ``--param``, and ``paper_series`` by figure number."""
import re

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.errors import ConfigError, Error
from esxlab.experiments import Result, sweeps
from esxlab.experiments.params import resolve


def quick_trace() -> esx.Trace:
    host = esx.Host()
    host.power_on(esx.VMConfig(name="dbench", max_mb=64))
    return host.run(seconds=5)


# -- whole floats for integer parameters (np.linspace, arithmetic, a slider) -------------------------
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


# -- fig6 -----------------------------------------------------------------------------------------------
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


# -- Result: traces, names, folders ----------------------------------------------------------------------
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


# -- --param: a decimal comma, a number too large for a float -----------------------------------------
def test_a_decimal_comma_is_told_apart_from_two_values(capsys):
    assert main(["sweep", "fig7", "--param", "tax_after=0,5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: sweep: --param tax_after=0,5 gives 2 values, 0 and 5: a comma separates values, and a decimal "
        "number is written with a point (0.5); fig7.tax_after = 5 is out of range; allowed: 0 ≤ tax_after ≤ 0.99.")


@pytest.mark.parametrize("text", ["tax_after=0.5,75", "clients=20,40", "tax_after=0,0.5"])
def test_values_that_do_not_read_as_a_decimal_comma_get_no_comma_sentence(text):
    sweeps.check_decimal_comma("fig7", text)          # allowed values, or no two whole numbers making one


@pytest.mark.parametrize("text", ["minutes=1e400", "minutes=60,-1e400", "sharing=esx,1e400"])
def test_a_number_too_large_for_a_float_is_not_reported_as_inf(text):
    with pytest.raises(ConfigError, match=r"1e400 is too large for a number \(Python would read it as inf\)"):
        sweeps.parse_param(text)


# -- paper_series by figure number, as experiments.get and reproduce --figure take it ------------------
@pytest.mark.parametrize("name", [7, "7", "Fig7", " fig7 "])
def test_paper_series_takes_the_figure_number(name):
    assert E.paper_series(name) == E.paper_series("fig7")


def test_paper_series_without_a_series_names_names_and_numbers():
    with pytest.raises(ConfigError, match=r"name = 4 has no digitized series; choose one of fig2, fig6, fig7, fig8, "
                                          r"or its number \(2, 6, 7, 8\)"):
        E.paper_series(4)


def test_render_table_wraps_footnotes_at_spaces():
    """A browser trial of session 50: 05's printed table broke a long footnote mid-word ("(onl" / "y the split"),
    as a notebook's output breaks a long line anywhere; footnotes are wrapped at spaces, under their text."""
    from esxlab.experiments.result import FOOTNOTE_WIDTH, Row, render_table
    note = "fig7: " + " ".join(f"word{i}" for i in range(60))
    text = render_table([Row("fig7", "q", 1.0, 2.0, 0.1, note=note)])
    foot = text[text.index("[1] "):].splitlines()
    assert len(foot) > 1 and all(len(line) <= FOOTNOTE_WIDTH for line in foot)
    assert all(line.startswith("    ") for line in foot[1:])
    assert " ".join(line.strip() for line in foot) == f"[1] {note}", "no word split"
