"""The command line (`python -m esxlab …`): argparse, messages, --list, exit codes."""
from __future__ import annotations

import csv
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.errors import ConfigError, describe_range
from esxlab.experiments import EXPERIMENTS, cli, runner, sweeps
from esxlab.experiments.cli import main as reproduce_main

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


def ends(lo: str = "0", hi: str = "0.5") -> str:
    """What a range given by its ends only, ``lo`` and ``hi``, is told beside them."""
    return f"{lo} and {hi} are the range's ends: add the values you want between them"
MISSING = ("error: sweep: the following arguments are required: EXPERIMENT; give one of "
           f"{', '.join(EXPERIMENTS)}, or a figure number.\n")


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _error(capsys, argv) -> str:
    assert cli.sweep_main(argv) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("argv, note", [
    (["reproduce", "--figure", "remap_io", "--seeds", "0", "--jobs", "2"],
     "note: reproduce: --jobs = 2 is more than the 1 task to run; running 1 at a time."),
    (["reproduce", "--figure", "remap_io", "--jobs", "4"],
     "note: reproduce: --jobs = 4 is more than the 1 task to run; running 1 at a time."),
    (["sweep", "remap_io", "--param", "minutes=1", "--seeds", "0", "--jobs", "2"],
     "note: sweep: --jobs = 2 is more than the 1 task to run; running 1 at a time."),
])
def test_one_task_is_one_worker_in_the_note_and_the_last_line(argv, note, two_cores, capsys):
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert note in err and "2 at a time" not in err
    assert out.rstrip().endswith(("s, 1 worker", "s, 1 worker)")), out.splitlines()[-1]
    assert two_cores == [1], "the number named is the number joblib was asked for"


def test_as_many_workers_as_tasks_and_cores_are_named_without_a_note(two_cores, capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0", "--jobs", "2"]) == 0
    out, err = capsys.readouterr()
    assert "note:" not in err and out.rstrip().endswith("s, 2 workers") and two_cores == [2]


def test_list_shows_the_rules_between_parameters_as_sentences(capsys):
    for name in ("fig7", "esx_today", "replacement", "remap_io"):
        assert main(["sweep", name, "--list"]) == 0
        out = " ".join(capsys.readouterr().out.split())          # unwrapped
        assert "Rules between parameters" in out
        for rule in E.get(name).RULES:
            assert f"- {rule.text}: {rule.why}." in out
    assert main(["sweep", "esx_today", "--list"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "limit_mb below the working set, busy_pct % of vm_mb: a limit at or above it never binds." in out
    assert main(["sweep", "fig4", "--list"]) == 0
    assert "Rules between parameters: none" in capsys.readouterr().out


@pytest.mark.parametrize("argv, ignored, options", [
    (["fig7", "--list", "--param", "tax_rate=5"], "fig7's parameters and runs nothing, so --param tax_rate=5", "--param"),
    (["fig7", "--list", "--seeds", "0-3", "--csv", "x.csv"], "fig7's parameters and runs nothing, so --seeds 0-3 "
                                                             "--csv x.csv", "--seeds, --csv"),
    (["--list", "--jobs", "2"], "the experiments and runs nothing, so --jobs 2", "--jobs"),
    (["fig7", "--quantities", "--param", "tax_rate=5"], "the quantities of one run of fig7 at its defaults and runs "
                                                        "no sweep, so --param tax_rate=5", "--param")])
def test_list_with_an_option_of_a_run_is_refused_not_ignored(argv, ignored, options, capsys):
    """`sweep fig7 --list --param tax_rate=5` listed fig7's parameters, the invalid --param unchecked and ignored."""
    flag = "--list" if "--list" in argv else "--quantities"
    assert main(["sweep", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"error: sweep: {flag} lists {ignored} would be ignored; allowed: {flag} alone, or "
                                 f"{options} without {flag}, to run a sweep.\n")
    assert main(["sweep", "fig7", "--list", "--seeds", "0", "--jobs", "1"]) == 0, "the defaults change nothing"


def test_quantities_lists_the_names_the_sweep_table_gives_them(capsys, monkeypatch):
    """A student filtering a sweep's table on its `quantity` column had no way to learn the names but to run a sweep
    and read its CSV: the printed tables show the labels ("idle VM alloc, τ = 0.75"), and --list the parameters."""
    monkeypatch.setattr(runner, "execute", lambda *a, **k: pytest.fail("--quantities runs no sweep"))
    assert main(["sweep", "7", "--quantities"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"fig7: {E.fig7.TITLE}"
    table = lines[lines.index(next(x for x in lines if x.startswith("quantity "))):]
    assert table[0].split() == ["quantity", "kind", "unit"]
    rows = E.fig7.run(seed=0).table
    named = [x for x in table[2:] if not x.startswith(" ")]
    assert [x[:len(r.quantity)] for x, r in zip(named, rows)] == [r.quantity for r in rows]
    assert len(named) == len(rows)
    idle = table.index(next(x for x in table if x.startswith("idle VM alloc after the change ")))
    assert " ".join(table[idle].split()) == "idle VM alloc after the change prediction MB"
    assert table[idle + 1] == "    printed as: idle VM alloc, τ = 0.75", "its label below it, where it differs"
    split = table.index(next(x for x in table if x.startswith("split dbench")))
    assert not table[split + 1].startswith(" "), "no blank label, which said nothing: printed as its name"
    assert max(map(len, table)) <= 80, "narrow for a terminal (a column of labels made it 92 characters)"
    assert main(["sweep", "fig7", "--list", "--quantities"]) == 0, "both: the parameters, then the quantities"
    out = capsys.readouterr().out
    assert out.index("parameter  ") < out.index("quantity  ")


def test_list_shows_how_to_write_values_of_a_tuple_parameter(capsys):
    assert main(["sweep", "fig2", "--list"]) == 0
    out = capsys.readouterr().out
    sizes = next(x for x in out.splitlines() if x.startswith("sizes "))
    assert "'sizes=(128,160,192,224),(128,192)'" in sizes
    assert "max_mb=256," in next(x for x in out.splitlines() if x.startswith("max_mb "))
    text = " ".join(out.split())
    assert "A tuple is one value, written in parentheses: --param 'sizes=(128,160,192,224),(128,192)' is two " \
           "values of sizes, and 'sizes=(128,)' one value of one element" in text


@pytest.mark.parametrize("name", E.EXPERIMENTS)
def test_every_listed_example_is_a_sweep_the_experiment_accepts(name):
    """What --list shows for a parameter, typed after --param, is accepted as it is (two values)."""
    for key in E.get(name).PARAMS:
        text = sweeps.example(name, key)
        param, values = sweeps.parse_param(text.strip("'"))
        spec = E.get(name).PARAMS[key]
        assert param == key and len(values) == 2, text
        assert values[0] == spec.default or isinstance(spec.default, tuple), "the default first, or the default's shape"
        sweeps.check_rules(name, sweeps.check_grid(name, {param: values}))


def test_a_tuple_parameter_given_numbers_says_how_to_write_tuples(capsys):
    assert main(["sweep", "fig2", "--param", "sizes=128,160"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: sweep: fig2.sizes = 128 is not a tuple") and "; allowed: tuples" in err
    assert "--param 'sizes=(128,160,192,224),(128,192)' (two values)" in err


def test_a_note_names_both_limits_when_cores_and_tasks_are_as_many(two_cores, capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--seeds", "0-1", "--jobs", "4"]) == 0
    out, err = capsys.readouterr()
    assert "note: sweep: --jobs = 4 is more than this computer's 2 cores and the 2 tasks to run; running 2 at a " \
           "time." in err and out.rstrip().endswith("s, 2 workers") and two_cores == [2]


def test_a_csv_the_checks_before_running_let_through_is_one_error_line_after_it(monkeypatch, tmp_path, capsys):
    """For root, sweep --csv /proc/x.csv and reproduce --csv /proc pass the checks made before running,
    then raised FileNotFoundError once the run was done."""
    from esxlab.experiments import cli
    monkeypatch.setattr(cli, "_check_writable_file", lambda name: None)
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--csv", str(tmp_path / "missing" / "x.csv")]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines()[-1].startswith("error: sweep: --csv "), "the option, not SweepTable.to_csv: path ="
    # the sweep's results are not lost: its summary and count line are printed before the error
    assert "bounce copies" in out and out.rstrip().endswith("s, 1 worker"), out
    (tmp_path / "out" / "remap_io_table.csv").mkdir(parents=True)       # a directory where a file goes
    assert main(["reproduce", "--figure", "remap_io", "--csv", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("error: write_table_csv: path = ")


@pytest.mark.parametrize("argv, target", [(["sweep", "remap_io"], (sweeps.Plan, "run")),
                                          (["reproduce", "--figure", "6"], (runner, "run_many"))])
def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys, argv, target):
    monkeypatch.setattr(*target, interrupt)
    try:
        code = main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() (a traceback)")
    assert code == 130
    assert capsys.readouterr().err.splitlines()[-1:] == ["interrupted"]


def test_a_sweep_stopped_before_any_seed_says_its_csv_was_not_written():
    """Lost before a seed finished, the line did not say the CSV was not written, as Ctrl-C's does."""
    from esxlab.experiments import cli
    assert cli._unwritten("out.csv", type("T", (), {"seeds": []})()) == " (--csv out.csv not written)"
    assert cli._unwritten("out.csv", type("T", (), {"seeds": [0]})()) == "" == cli._unwritten(None, None)


def test_the_list_says_minutes_fall_on_a_tick():
    from esxlab.experiments import sweeps
    text = " ".join(sweeps.describe_params("fig7").split())
    assert "A time in minutes must fall on a tick, a whole number of seconds" in text


def test_one_number_in_parentheses_is_not_a_tuple_and_the_error_says_how_to_write_one(capsys):
    assert "a tuple only with a comma: (128,))" in _error(capsys, ["fig2", "--param", "sizes=(128)"])
    with pytest.raises(ConfigError) as err:
        sweeps.check_grid("fig2", {"sizes": ["esx"]})
    assert "with a comma" not in str(err.value)


@pytest.mark.parametrize("argv", [[], ["--param", "tax_rate=0,0.5"]], ids=lambda a: " ".join(a) or "-")
def test_a_sweep_without_an_experiment_names_the_experiments(argv, capsys):
    assert cli.sweep_main(argv) == 2
    assert capsys.readouterr().err == MISSING


def test_the_parser_reproduce_shares_does_not_read_sweep_s_messages():
    """The shared Parser turns argparse's message into a sentence and adds nothing; sweep's parser takes
    no EXPERIMENT (sweep_main names the experiments)."""
    with pytest.raises(ConfigError) as err:
        cli.Parser(prog="python -m esxlab reproduce").error("the following arguments are required: EXPERIMENT")
    assert str(err.value) == "reproduce: the following arguments are required: EXPERIMENT."
    assert cli._sweep_parser().parse_args(["--list"]).experiment is None


def test_a_decimal_comma_is_told_apart_from_two_values(capsys):
    assert main(["sweep", "fig7", "--param", "tax_rate=0,5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: sweep: --param tax_rate=0,5 gives 2 values, 0 and 5: a comma separates values, and a decimal "
        "number is written with a point (0.5); fig7.tax_rate = 5 is out of range; allowed: 0 ≤ tax_rate ≤ 0.99.")


@pytest.mark.parametrize("text", ["tax_rate=0.5,75", "clients=20,40", "tax_rate=0,0.5"])
def test_values_that_do_not_read_as_a_decimal_comma_get_no_comma_sentence(text):
    sweeps.check_decimal_comma("fig7", text)          # allowed values, or no two whole numbers making one


@pytest.mark.parametrize("text", ["minutes=1e400", "minutes=60,-1e400", "sharing=esx,1e400"])
def test_a_number_too_large_for_a_float_is_not_reported_as_inf(text):
    with pytest.raises(ConfigError, match=r"1e400 is too large for a number \(Python would read it as inf\)"):
        sweeps.parse_param(text)


ARGV = ["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0"]


def allowed(name: str, key: str) -> str:
    """The range ``key`` of experiment ``name`` allows, from its ``PARAMS`` (e.g. "0 ≤ tax_rate ≤ 0.99.")."""
    spec = E.get(name).PARAMS[key]
    return describe_range(key, spec.lo, spec.hi, spec.lo_open, spec.hi_open) + "."


@pytest.mark.parametrize("typed, shown", [("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("NaN", "nan"),
                                          ("0.5,inf", "inf")])
def test_the_command_line_says_not_finite_and_what_is_allowed(typed, shown, capsys):
    assert main(["sweep", "fig7", "--param", f"tax_rate={typed}"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: fig7.tax_rate = {shown} is not a finite number; allowed: {allowed('fig7', 'tax_rate')}\n"
    assert "must be a number" not in err


def test_nan_inside_a_tuple_and_for_a_whole_number_parameter(capsys):
    assert main(["sweep", "fig2", "--param", "sizes=(128,nan)"]) == 2
    assert "sizes[1] = nan is not a finite number; allowed: 16 ≤" in capsys.readouterr().err
    assert main(["sweep", "fig2", "--param", "clients=inf"]) == 2
    assert capsys.readouterr().err == f"error: fig2.clients = inf is not a finite number; allowed: " \
                                      f"{allowed('fig2', 'clients')}\n"


TUPLES = ("allowed: tuples in parentheses, each ( closed by a ) after it, holding numbers, tuples or words in quotes "
          "('esx'), commas between them, e.g. (128,160),(192,224) (two values).")


@pytest.mark.parametrize("typed, problem", [
    ("sizes=(128,abc)", "abc in (128,abc) is not a number or a tuple"),
    ("sizes=(128,160", "the ( that opens (128,160 is never closed"),
    ("sizes=(128,160),(192", "the ( that opens (192 is never closed"),
    ("sizes=128,160)", "the ) that ends 128,160) closes no ("),
    ("sizes=(128 160)", "(128 160) does not read as a tuple (invalid syntax. Perhaps you forgot a comma?)"),
    ("schedule=((0,0),(8.5,x))", "x in ((0,0),(8.5,x)) is not a number or a tuple")])
def test_a_tuple_that_does_not_read_is_named_by_the_part_that_does_not(typed, problem, capsys):
    """`sizes=(128,abc)` and `sizes=(128,160` both said "fig2.sizes = '(128' is not a tuple": the text split at
    every comma once it did not read as a whole."""
    assert main(["sweep", "fig6" if typed.startswith("schedule") else "fig2", "--param", typed]) == 2
    assert capsys.readouterr().err == f"error: sweep: --param {typed!r}: {problem}; {TUPLES}\n"


@pytest.mark.parametrize("name, typed, named", [
    ("fig2", "sizes=(128,160,192,99999)", "fig2.sizes[3] = 99999 is out of range; allowed: 16 ≤ fig2.sizes[3] ≤ 4096."),
    ("fig6", "schedule=((0,0),(8.5,9999999))", "fig6.schedule[1] MB = 9999999 is out of range; allowed: 0 ≤ "
                                               "fig6.schedule[1] MB ≤ 1000000.")])
def test_a_tuples_element_out_of_range_is_named_by_its_place_as_typed(name, typed, named, capsys):
    """It said "fig2.sizes = 99999.0 is out of range; allowed: 16 ≤ fig2.sizes ≤ 4096"."""
    assert main(["sweep", name, "--param", typed]) == 2
    assert capsys.readouterr().err == f"error: {named}\n"


def test_one_cli_sweep_builds_one_plan(monkeypatch, capsys):
    built = []
    real = sweeps.Plan.__init__

    def counted(self, *args, **kwargs):
        built.append(args[0] if args else kwargs["name"])
        real(self, *args, **kwargs)

    monkeypatch.setattr(sweeps.Plan, "__init__", counted)
    assert main(ARGV) == 0
    assert built == ["remap_io"], f"{len(built)} plans built for one sweep"
    out = capsys.readouterr().out
    table = E.sweep("remap_io", {"minutes": [1, 2]}, 0)
    assert out.startswith(E.render_table(table.summary()) + "\n\n2 runs of remap_io (2 grid points × 1 seed), ")
    assert out.rstrip().endswith("s, 1 worker")


@pytest.mark.parametrize("argv, match", [(["--figure", "99"], "error: reproduce: unknown experiment '99'"),
                                         (["--seed", "x"], "invalid int value"),
                                         # int() reads 3_0 as 30, as --seeds does not (a review)
                                         (["--seed", "3_0"], "invalid int value: '3_0'; allowed: a whole number"),
                                         (["--seed", "-2"], "non-negative"),
                                         (["--colour"], "unrecognized arguments")])
def test_cli_bad_input_exit_code_2(argv, match, capsys):
    assert reproduce_main(argv) == 2
    assert match in capsys.readouterr().err


def test_main_dispatches_reproduce(capsys):
    from esxlab.__main__ import main as top
    assert top(["reproduce", "--figure", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("call, said", [
    (lambda: main(["sweep", "fig7", "--param", "TAX_RATE=0.5"]), "has no parameter 'TAX_RATE' (did you mean 'tax_rate'?)"),
    (lambda: esx.HostConfig(memroy_mb=454), "has no parameter 'memroy_mb' (did you mean 'memory_mb'?)"),
    (lambda: esx.VMConfig("a", 64, shars=5), "has no parameter 'shars' (did you mean 'shares'?)"),
    (lambda: esx.experiments.fig7.run(tax_rat=0.5), "has no parameter 'tax_rat' (did you mean 'tax_rate'?)"),
])
def test_a_misspelled_parameter_name_gets_the_close_one(call, said, capsys):
    """A typo or the wrong capitals listed every name but did not say which was meant (checks.check did)."""
    try:
        code = call()
    except esx.ConfigError as e:
        message = str(e)
    else:
        assert code == 2
        message = capsys.readouterr().err
    assert said in message, message


@pytest.mark.parametrize("call, owner, known", [
    (lambda: esx.experiments.fig7.run(bogus=1), "fig7.run", ["seed", *E.fig7.PARAMS]),
    (lambda: esx.experiments.sweep("fig7", params={"bogus": [1]}), "sweep: fig7", E.fig7.PARAMS),
    (lambda: esx.HostConfig(bogus=1), "HostConfig", [f.name for f in dataclasses.fields(esx.HostConfig)]),
    (lambda: esx.workloads.Toucher(bogus=1), "Toucher", ["schedule", "sweep_s", "cpu_us_per_access", "os_overhead",
                                                         "free_at_exit"]),
])
def test_an_unknown_parameter_has_one_wording_everywhere(call, owner, known):
    """Three checks said it three ways ("known parameters: …" sorted for classes and configurations, "its parameters
    are: …" in PARAMS' order for experiments and sweeps); errors.check_known is now the one."""
    with pytest.raises(ConfigError) as e:
        call()
    assert str(e.value) == f"{owner} has no parameter 'bogus'; its parameters are: {', '.join(sorted(known))}."


def test_a_name_close_to_none_gets_no_guess():
    with pytest.raises(esx.ConfigError) as e:
        esx.HostConfig(zzz=1)
    assert "did you mean" not in str(e.value) and "its parameters are: balloon_stuck_s" in str(e.value)


def _never_runs(monkeypatch):
    """Fail the test if anything runs: the refusals below come before any run."""
    monkeypatch.setattr(runner, "execute", lambda *a, **k: pytest.fail("ran before refusing"))


@pytest.mark.parametrize("argv, says", [
    (["reproduce", "--figure", ""], "error: reproduce: --figure '' names no experiment; allowed: a figure number or "
                                    "an experiment's name, e.g. --figure 7 (without --figure: all of them).\n"),
    (["reproduce", "--figure", " , "], "error: reproduce: --figure ' , ' names no experiment"),
    (["reproduce", "--readme", ""], "error: reproduce: --readme = '' is not an existing file; allowed: a file "
                                    "holding the generated-table markers"),
    (["reproduce", "--seeds", ""], "error: reproduce: --seeds = '' is not allowed; give non-negative seeds"),
    (["sweep", "remap_io", "--csv", ""], "error: sweep: --csv '' is an empty name; allowed: a file name"),
    (["sweep", "remap_io", "--csv", "out/"], "error: sweep: --csv out/ names a directory, and sweep writes its tidy "
                                             "table to one file (the summary goes to standard output); allowed: a "
                                             "file name in an existing, writable directory, e.g. --csv out/sweep.csv."),
    (["sweep", "remap_io", "--csv", "-"], "error: sweep: --csv - names standard output, and sweep writes"),
    (["sweep", "remap_io", "--csv", "."], "error: sweep: --csv . names a directory, and sweep writes"),   # existing
    (["reproduce", "--figure", "7", "--csv", "out.csv"], "error: reproduce: --csv out.csv names a file, and reproduce "
                                                         "writes several CSV files (a table, each run's traces) into a "
                                                         "directory; allowed: a directory, e.g. --csv out/ (sweep --csv "
                                                         "takes one file).\n"),
    (["sweep", "remap_io", "--seeds", "1-0"], "error: sweep: --seeds = '1-0' is not allowed: the range 1-0 runs "
                                              "backwards"),
    (["sweep", "fig7", "--param", "minutes=60,30-32"], "error: sweep: --param 'minutes=60,30-32' writes '30-32', a "
                                                       "range, which --param does not take (--seeds takes one, "
                                                       "written 0-3); allowed: every value written out, separated by "
                                                       "commas, e.g. --param minutes=60,30,31,32.\n"),
    (["sweep", "fig7", "--param", "minutes=08-10,20-100"], "error: sweep: --param 'minutes=08-10,20-100' writes "
                                                           "'08-10' and '20-100', ranges, which --param does not take "
                                                           "(--seeds takes one, written 0-3); allowed: every value "
                                                           "written out, separated by commas, e.g. --param "
                                                           "minutes=8,9,10,20,100 "
                                                           "(" + ends("20", "100") + ").\n"),
])
def test_what_a_helper_found_an_option_silently_took_is_refused_before_running(argv, says, monkeypatch, capsys,
                                                                                tmp_path):
    """--figure '' ran all eleven experiments, --readme '' ran them and wrote no README, --seeds '' ran seed 0;
    --csv out/ wrote a file named out, --csv - a file named -; the CLI named --seeds as 'seeds'; minutes=1-3 was
    refused as 'must be a number, got '1-3' (str)', with no word of ranges."""
    _never_runs(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(says)
    assert not any(tmp_path.iterdir()), "nothing written"


PUT = f"; put the lines {runner.BEGIN!r} and {runner.END!r}, in this order, where the table goes."


@pytest.mark.parametrize("text, says", [
    ("no markers\n", f"lacks the markers {runner.BEGIN!r} and {runner.END!r}{PUT}"),
    (f"{runner.BEGIN}\nold table\n", f"lacks the marker {runner.END!r}{PUT}"),
    (f"{runner.END}\n{runner.BEGIN}\n", f"has its end marker before its begin marker{PUT}"),
    ("\udcff not UTF-8", "is not UTF-8 text; allowed: a Markdown file (UTF-8) holding the generated-table markers."),
])
def test_a_readme_without_both_markers_is_refused_before_running(text, says, monkeypatch, capsys, tmp_path):
    """A README with the begin marker alone passed the check, ran every experiment (22 s), then died with a traceback
    saying both markers were missing; a file that is not UTF-8 raised UnicodeDecodeError."""
    _never_runs(monkeypatch)
    readme = tmp_path / "README.md"
    readme.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main(["reproduce", "--readme", str(readme)]) == 2
    assert capsys.readouterr().err == f"error: reproduce: --readme = {str(readme)!r} {says}\n"


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_csv_that_fills_the_disk_keeps_the_summary_and_says_so(capsys):
    """--csv /dev/full (writes fail: no space left) raised OSError after the sweep and lost its summary."""
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--csv", "/dev/full"]) == 2
    out, err = capsys.readouterr()
    assert "bounce copies" in out and out.rstrip().endswith("s, 1 worker"), out
    assert err.splitlines()[-1] == ("error: sweep: --csv '/dev/full' could not be written to the end (No space left on "
                                    "device); what it holds is incomplete: free space, or give a file elsewhere, and "
                                    "write it again.")


def test_a_file_named_like_a_package_experiment_is_noted(monkeypatch, capsys, tmp_path):
    """A helper's fig7.py (PARAMS x) in the current directory: `sweep fig7 --param x=1` said fig7 has no parameter
    'x', listing the package's, with no word of the file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fig7.py").write_text("PARAMS = {}\n")
    assert main(["sweep", "fig7", "--param", "x=1"]) == 2
    assert capsys.readouterr().err.startswith(
        "note: fig7 is the package's experiment (esxlab.experiments.fig7), not ./fig7.py; to sweep your file, give it "
        "a name of its own (e.g. my_fig7.py) and sweep that name.\nerror: sweep: fig7 has no parameter 'x'")


def test_a_readme_that_changes_during_the_run_is_one_error_line(monkeypatch, capsys, tmp_path):
    """A review: the README checked before the run, then edited (its end marker gone) while it ran, raised the
    ConfigError as a traceback after the run, where --csv's failure is one line."""
    readme = tmp_path / "README.md"
    readme.write_text(f"{runner.BEGIN}\n{runner.END}\n")
    def run_many(*args, **kwargs):
        readme.write_text(runner.BEGIN)
        return {}

    monkeypatch.setattr(runner, "run_many", run_many)
    assert main(["reproduce", "--readme", str(readme)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: reproduce: --readme = {str(readme)!r} lacks the marker {runner.END!r}{PUT}")


#: a sitecustomize for the process that CTRL_C_ROLE names ("main": python -m esxlab; "worker": a loky worker): a
#: Ctrl-C (SIGINT to the process group, as a terminal sends it) as that process starts to import CTRL_C_MODULE
CTRL_C_AT = '''
import os, signal, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == os.environ["CTRL_C_MODULE"]:
            sys.meta_path.remove(self)
            os.killpg(0, signal.SIGINT)

argv = " ".join(sys.orig_argv)
if ("popen_loky_posix" in argv) == (os.environ["CTRL_C_ROLE"] == "worker") and "-m" in argv:
    sys.meta_path.insert(0, CtrlC())
'''


@pytest.mark.skipif(not hasattr(os, "killpg") or runner.cpu_count() < 2, reason="POSIX process groups; 2 workers")
@pytest.mark.parametrize("role, module", [("main", "numpy"), ("main", "joblib"), ("worker", "joblib")],
                         ids=["while esxlab loads", "while the sweep command loads", "while a worker starts"])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_code_130(role, module, tmp_path):
    """Ctrl-C in the first half second of `sweep … --jobs 2` printed a traceback: the command's own while esxlab (numpy)
    loaded, exit code -2 (SIGINT), or a loky worker's while it imported joblib, beside the command's sentence."""
    (tmp_path / "sitecustomize.py").write_text(CTRL_C_AT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(esx.__file__).parents[1])]),
               CTRL_C_ROLE=role, CTRL_C_MODULE=module)
    done = subprocess.run([sys.executable, "-m", "esxlab", "sweep", "remap_io", "--param", "minutes=1,2", "--seeds",
                           "0-1", "--jobs", "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          start_new_session=True)
    lines = [line for line in done.stderr.replace("\r", "\n").splitlines() if line.strip()
             and not line.startswith("sweep remap_io:")]                                # the bar
    assert (done.returncode, len(lines)) == (130, 1), done.stderr
    assert lines[0].startswith("interrupted"), done.stderr


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
def test_a_run_started_deaf_to_ctrl_c_stays_deaf(tmp_path):
    """A review: a job a shell script starts in the background ignores SIGINT, and a Ctrl-C for the foreground job
    left it running; the handler installed while esxlab loads (and Python's, put back after) then stopped it, exit
    130. Started with SIGINT ignored, the sweep runs to its end whatever Ctrl-C it is sent while it loads."""
    (tmp_path / "sitecustomize.py").write_text(CTRL_C_AT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(esx.__file__).parents[1])]),
               CTRL_C_ROLE="main", CTRL_C_MODULE="numpy")
    done = subprocess.run([sys.executable, "-m", "esxlab", "sweep", "remap_io", "--param", "minutes=1", "--seeds",
                           "0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert done.returncode == 0 and "interrupted" not in done.stderr, done.stderr
    assert "remap_io minutes=1" in done.stdout, done.stdout


def test_values_in_braces_say_to_separate_them_with_commas(monkeypatch, capsys):
    """`--param 'minutes={1,2}'` (a shell's brace expansion, quoted) said "fig7.minutes must be a number, got '{1'
    (str)", with no word of how to give several values."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", "minutes={20,30}"]) == 2
    assert capsys.readouterr().err == ("error: sweep: --param 'minutes={20,30}' writes its values in braces, which "
                                       "--param does not take; allowed: several values separated by commas, without "
                                       "braces, e.g. --param minutes=20,30.\n")
    assert main(["sweep", "fig7", "--param", "minutes={1,20}"]) == 2, "fig7 runs at least 2 minutes"
    assert capsys.readouterr().err.endswith("braces, e.g. --param minutes=20 (1 left out: minutes does not allow it).\n")
    assert main(["sweep", "fig7", "--param", "minutes={30..32}"]) == 2, "a shell's brace range: the values written out"
    assert capsys.readouterr().err.endswith("without braces, e.g. --param minutes=30,31,32.\n")


def test_values_a_shell_split_into_words_are_told_to_go_in_one_param(monkeypatch, capsys):
    """`--param minutes={1,2}` unquoted reaches esxlab as `--param minutes=1 minutes=2`; the hint said "give each
    parameter its own --param, e.g. --param minutes=2", which would give minutes twice."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", "minutes=1", "minutes=2"]) == 2
    assert capsys.readouterr().err == ("error: sweep: unrecognized arguments: minutes=2; several values of minutes go "
                                       "in one --param, commas between them: --param minutes=1,2 (a shell splits "
                                       "minutes={…} unquoted into words).\n")
    assert main(["sweep", "fig7", "--param=minutes=1", "tax_rate=0.5"]) == 2, "another parameter: its own --param"
    assert capsys.readouterr().err.endswith("give each parameter its own --param, e.g. --param tax_rate=0.5.\n")


@pytest.mark.parametrize("argv, written", [
    (["sweep", "fig7", "--param", "tax_rate=0,", "0.5"], "--param tax_rate=0,0.5"),
    (["sweep", "fig7", "--param=tax_rate=0,", "0.25,", "0.5", "--seeds", "0"], "--param=tax_rate=0,0.25,0.5"),
    (["sweep", "fig7", "--param", "tax_rate=", "0.5"], "--param tax_rate=0.5"),
    (["sweep", "fig7", "--param", "tax_rate=0.5", "--seeds", "0,", "1"], "--seeds 0,1"),
    (["reproduce", "--seeds", "0,", "1"], "--seeds 0,1"),
    (["sweep", "fig7", "--param", "tax_rate=0.5,", "-0.25,", "-0.5,", "0", "--seeds", "0"],
     "--param tax_rate=0.5,-0.25,-0.5,0"),
    (["sweep", "fig7", "--par", "tax_rate=0,", "0.5"], "--par tax_rate=0,0.5"),
    (["sweep", "fig7", "--param", "tax_rate", "=", "0.5", "--seeds", "0"], "--param tax_rate=0.5"),
    (["sweep", "fig7", "--param", "tax_rate", "=0.5"], "--param tax_rate=0.5"),
    (["sweep", "fig7", "--param=tax_rate", "=0,", "0.5"], "--param=tax_rate=0,0.5"),
    (["sweep", "fig7", "--param", "tax_rate=0.5", "--seeds", "0", ",", "1"], "--seeds 0,1"),
    (["sweep", "fig7", "--param", "tax_rate=0.5", "--seeds", "0", ",1"], "--seeds 0,1"),
    (["reproduce", "--seeds", "0", ",", "1", "--jobs", "2"], "--seeds 0,1")])
def test_a_list_a_space_split_into_words_is_told_to_be_written_without_spaces(argv, written, monkeypatch, capsys):
    """A student's `--param tax_rate=0, 0.5` (unquoted) reaches esxlab as two words; the error said only
    "unrecognized arguments: 0.5.", which does not say the space is the mistake. A space before the comma or '='
    said as little: `--seeds 0 , 1` "unrecognized arguments: , 1.", and `--param tax_rate = 0.5` "give each parameter
    its own --param, e.g. --param =."."""
    _never_runs(monkeypatch)
    assert main(argv) == 2
    assert capsys.readouterr().err.endswith(f"; a space before or after a comma or '=' splits the value into words: "
                                            f"write it without spaces, {written} (or in quotes).\n")


@pytest.mark.parametrize("argv, written, at", [
    (["sweep", "fig7", "--seeds", "0", "-", "3"], "--seeds 0-3", "a range's '-'"),
    (["sweep", "fig7", "--seeds", "0", "-3", "--jobs", "2"], "--seeds 0-3", "a range's '-'"),
    (["sweep", "fig7", "--seeds", "0-", "3"], "--seeds 0-3", "a range's '-'"),
    (["sweep", "fig7", "--seeds=0", "-", "3"], "--seeds=0-3", "a range's '-'"),
    (["reproduce", "--seeds", "0", "-", "3", ",", "5"], "--seeds 0-3,5", "a range's '-' or a comma")])
def test_a_range_a_space_split_into_words_is_told_to_be_written_without_spaces(argv, written, at, monkeypatch, capsys):
    """`--seeds 0 - 3` said only "unrecognized arguments: - 3.", where `--seeds 0 , 1` is told the space split it."""
    _never_runs(monkeypatch)
    assert main(argv) == 2
    assert capsys.readouterr().err.endswith(f"; a space before or after {at} splits the value into words: write it "
                                            f"without spaces, {written} (or in quotes).\n")


@pytest.mark.parametrize("argv, written", [
    (["sweep", "fig7", "--param", "tax_rate=0", "-", "0.5"], "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["sweep", "fig7", "--param", "tax_rate=0-", "0.5", "--seeds", "0"], "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["sweep", "fig7", "--param=tax_rate=0", "-0.5"], "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["sweep", "fig7", "--param", "tax_rate=0,", "0.25", "-", "0.5"],
     "--param tax_rate=0,0.25,0.5 (" + ends("0.25") + ")"),
    (["sweep", "fig7", "--param", "clients=10", "-", "12"], "--param clients=10,11,12")])
def test_a_param_range_a_space_split_into_words_is_told_to_write_the_values(argv, written, monkeypatch, capsys):
    """`--param tax_rate=0 - 0.5` said only "unrecognized arguments: - 0.5.", where `--seeds 0 - 3` is told the space
    split it; --param takes a list, not a range: the values are written out as `--param tax_rate=0-0.5`'s error
    writes them (a fraction parameter's by its ends)."""
    _never_runs(monkeypatch)
    assert main(argv) == 2
    assert capsys.readouterr().err.endswith(f"; {argv[2].split('=')[0]} takes a list of values, not a range (a space "
                                            f"around its '-' split it into words): write every value, commas between "
                                            f"them and no spaces, e.g. {written}.\n")


@pytest.mark.parametrize("words, joint, written", [
    (["tax_rate=0", "-", "0.5", "-", "1"], "-", "--param tax_rate=0,0.5 (1 left out: tax_rate does not allow it)"),
    (["tax_rate=0", "..", "0.5"], "..", "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["tax_rate=0..", "0.5"], "..", "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["tax_rate=0", "..0.5"], "..", "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["tax_rate=0", ":", "0.5"], ":", "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["tax_rate=0", "to", "0.5"], "to", "--param tax_rate=0,0.5 (" + ends() + ")"),
    (["minutes=40", "to", "42"], "to", "--param minutes=40,41,42")])
def test_a_param_range_split_at_any_joint_is_told_to_write_the_values_as_a_list(words, joint, written, monkeypatch,
                                                                                  capsys):
    """`--param tax_rate=0 - 0.5 - 1` was shown `--param tax_rate=0-0.5-1`, itself a range, as the way to write it;
    `0 .. 0.5`, `0 : 0.5` and `0 to 0.5` got no hint at all ("unrecognized arguments: .. 0.5.")."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", *words]) == 2
    assert capsys.readouterr().err.endswith(f"; --param takes a list of values, not a range (a space around its "
                                            f"{joint!r} split it into words): write every value, commas between them "
                                            f"and no spaces, e.g. {written}.\n")


@pytest.mark.parametrize("text, written", [
    ("tax_rate=0-0.5-1", "tax_rate=0,0.5 (1 left out: tax_rate does not allow it)"),
    ("tax_rate=0 to 0.5", "tax_rate=0,0.5 (" + ends() + ")"),
    ("minutes=40-50-60", "minutes=40,50,60"),
    ("tax_rate=0:1:0.25", "tax_rate=0,0.25,0.5,0.75,0.99 (0.99 for 1, the most tax_rate allows)"),     # start:stop:step
    ("tax_rate=0:0.25:1", "tax_rate=0,0.25,0.5,0.75,0.99 (0.99 for 1, the most tax_rate allows)"),     # start:step:stop
    ("tax_rate=-0.5:1:0.5", "tax_rate=0,0.5,0.99 (0 for -0.5, the least tax_rate allows; 0.99 for 1, the most "
                            "tax_rate allows)"),
    ("minutes=20:40:10", "minutes=20,30,40")])
def test_a_chain_of_numbers_or_a_range_written_with_to_is_refused_as_a_range(text, written, monkeypatch, capsys):
    """`--param tax_rate=0-0.5-1` said "fig7.tax_rate must be a number, got '0-0.5-1' (str)", with no word of ranges,
    and so did `'tax_rate=0 to 0.5'`; then a fresh user was shown `tax_rate=0,0.5,1`, itself refused (τ < 1), and
    `0:1:0.25` (a start, stop and step) as the three values 0, 1 and 0.25, then as 0,0.25,0.5,0.75 with 1 left out,
    where `0-1` is brought to 0.99 (a fresh user): a stepped range's refused end is brought to the bound too. The
    list shown is one the sweep takes."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", text]) == 2
    assert capsys.readouterr().err.endswith(f"which --param does not take (--seeds takes one, written 0-3); allowed: "
                                            f"every value written out, separated by commas, e.g. --param {written}.\n")
    name, values = sweeps.parse_param(written.split(" (")[0])
    assert sweeps.check_grid("fig7", {name: values})


@pytest.mark.parametrize("text, told", [
    ("tax_rate=[0,0.5]", "writes its values in brackets, which --param does not take; allowed: several values "
                         "separated by commas, without brackets, e.g. --param tax_rate=0,0.5."),
    ("tax_rate=0,0.25,...,0.75", "leaves the values between 0.25 and 0.75 to '...', which --param does not take; "
                                 "allowed: every value written out, separated by commas, e.g. "
                                 "--param tax_rate=0,0.25,0.5,0.75."),
    ("tax_rate=0,0.25,…,1", "leaves the values between 0.25 and 1 to '…', which --param does not take; allowed: every "
                            "value written out, separated by commas, e.g. --param tax_rate=0,0.25,0.5,0.75 (1 left "
                            "out: tax_rate does not allow it)."),
    ("tax_rate=0,...,0.5", "leaves the values between 0 and 0.5 to '...', which --param does not take; allowed: every "
                           "value written out, separated by commas, e.g. --param tax_rate=0,0.5 (" + ends() + ").")])
def test_a_list_in_brackets_or_an_ellipsis_is_told_how_to_write_the_values(text, told, monkeypatch, capsys):
    """A fresh user's `tax_rate=[0,0.5]` and `0,...,1` were told "must be a number, got [0, 0.5] (list)" and
    "got Ellipsis (ellipsis)"."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", text]) == 2
    assert capsys.readouterr().err.endswith(f"--param {text!r} {told}\n")


@pytest.mark.parametrize("words, told", [
    (["--seeds", "0", "to", "3"], "unrecognized arguments: to 3; --seeds takes a range written with '-' and no spaces, "
                                  "not 'to': --seeds 0-3."),
    (["--seeds", "0", "..", "3"], "unrecognized arguments: .. 3; --seeds takes a range written with '-' and no "
                                  "spaces, not '..': --seeds 0-3."),
    (["--seeds", "0", "–", "3"], "unrecognized arguments: – 3; --seeds takes a range written with '-' and no "
                                 "spaces, not '–' (an en dash): --seeds 0-3."),
    (["--param", "tax_rate=0", "—", "0.5"], "unrecognized arguments: — 0.5; --param takes a list of values, not a "
                                            "range (a space around its '—' (an em dash) split it into words): write "
                                            "every value, commas between them and no spaces, e.g. --param "
                                            "tax_rate=0,0.5 (" + ends() + ")."),
    (["--param", "tax_rate=0.5", "to"], "unrecognized arguments: to.")])
def test_seeds_written_with_to_are_told_the_dash_and_a_range_without_its_end_is_not_joined(words, told, monkeypatch,
                                                                                           capsys):
    """A review: `--seeds 0 to 3` got no hint, and `--param tax_rate=0.5 to` was told to write `tax_rate=0.5to`."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", *words]) == 2
    assert capsys.readouterr().err == f"error: sweep: {told}\n"



@pytest.mark.parametrize("command, seeds, joint, written", [
    ("sweep", "0–3", "'–' (an en dash)", "0-3"),
    ("sweep", "0—3", "'—' (an em dash)", "0-3"),
    ("sweep", "0−3", "'−' (a minus sign)", "0-3"),
    ("sweep", "0..3", "'..'", "0-3"),
    ("sweep", "0:3", "':'", "0-3"),
    ("sweep", "0 to 3,5", "'to'", "0-3,5"),
    ("reproduce", "0–3", "'–' (an en dash)", "0-3")])
def test_seeds_joined_by_a_dash_that_is_not_ascii_or_another_joint_are_told_the_ascii_dash(command, seeds, joint,
                                                                                         written, monkeypatch, capsys):
    """A fresh user: `--seeds 0–3` (the README's prose writes an en dash, editors turn "-" into one) was told "give
    non-negative seeds as a range (0-3)", which looks the same on screen; so were `0—3`, `0..3` and `0:3`, while
    `0 .. 3` was told to write 0-3. Each is told its joint, named where it is not ASCII, and the form with "-"."""
    _never_runs(monkeypatch)
    assert main([command, *(["fig7"] if command == "sweep" else []), "--seeds", seeds]) == 2
    assert capsys.readouterr().err == (f"error: {command}: --seeds = {seeds!r} is not allowed: a range of seeds is "
                                       f"written with '-', not {joint}; write {written!r}.\n")


def test_a_param_range_joined_by_an_en_dash_is_a_range():
    """A fresh user: `--param 'tax_rate=0–0.5'` was refused as "must be a number, got '0–0.5' (str)", not as a range
    (which --param does not take), with its values written out."""
    with pytest.raises(ConfigError, match=r"writes '0–0\.5', a range, which --param does not take .* e\.g\. --param "
                                          r"tax_rate=0,0\.5 \(0 and 0\.5"):
        sweeps.parse_param("tax_rate=0–0.5", E.get("fig7").PARAMS)


@pytest.mark.parametrize("command, words, told", [
    ("sweep", ["fig7", "--seeds", "0-3", "--seeds", "0"], "--seeds is given twice, in --seeds 0-3 --seeds 0; give it "
                                                          "once with all its values."),
    ("sweep", ["fig7", "--seeds=0-3", "--see", "0", "--seeds", "1"], "--seeds is given 3 times, in --seeds=0-3 --see 0 "
                                                                     "--seeds 1; give it once with all its values."),
    ("sweep", ["fig7", "--jobs", "1", "--jobs", "2"], "--jobs is given twice, in --jobs 1 --jobs 2; give it once."),
    ("reproduce", ["--seed", "1", "--seed", "2"], "--seed is given twice, in --seed 1 --seed 2; give it once.")])
def test_an_option_of_one_value_given_twice_is_refused(command, words, told, monkeypatch, capsys):
    """A fresh user: `--seeds 0-3 --seeds 0` silently ran seed 0 alone (argparse keeps the last), while a parameter
    given in two --param is refused."""
    _never_runs(monkeypatch)
    monkeypatch.setattr(runner, "run_many", lambda *a, **k: pytest.fail("ran before refusing"))
    assert main([command, *words]) == 2
    assert capsys.readouterr().err == f"error: {command}: {told}\n"


def test_a_tuple_parameter_still_takes_one_value_in_brackets():
    """Figure 2's sizes are tuples: sizes=[128,160] is one value, not a list in brackets."""
    assert sweeps.parse_param("sizes=[128,160]", E.get("fig2").PARAMS) == ("sizes", [[128, 160]])


def test_the_hint_for_a_split_range_reads_the_experiment_from_the_one_parse(monkeypatch, capsys):
    """`--param tax_rate=0 - 0.5`'s hint parsed the command line a second time to find the experiment (whose PARAMS
    say τ counts in fractions): the words are parsed once."""
    _never_runs(monkeypatch)
    parses = []
    parse = cli.Parser.parse_known_args
    monkeypatch.setattr(cli.Parser, "parse_known_args", lambda self, *a, **k: parses.append(a) or parse(self, *a, **k))
    assert main(["sweep", "fig7", "--param", "tax_rate=0", "-", "0.5"]) == 2
    assert capsys.readouterr().err.endswith(f"e.g. --param tax_rate=0,0.5 ({ends()}).\n") and len(parses) == 1, parses


PLANS_A_MINUTE_TOO_MANY = """
import esxlab as esx
from esxlab.experiments.params import Param, check_seed, resolve

PARAMS = {"minutes": Param(2, "run length", 1, 10, unit="min")}


def planned_hosts(**params):
    return [("a 32 MB VM", resolve("liar", PARAMS, params).minutes + 1)]


def run(seed=0, **params):
    seed, p = check_seed(seed), resolve("liar", PARAMS, params)
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=seed)
    host.power_on(esx.VMConfig(name="a", max_mb=32))
    host.run(minutes=p.minutes)
    res = esx.experiments.Result("liar", dict(vars(p), seed=seed))
    res.add("a alloc", None, host.vm("a").stats().alloc, None, "MB")
    return res
"""


def test_a_warning_during_a_sweep_is_a_line_of_its_own(tmp_path, monkeypatch, capsys):
    """A warning given while a sweep ran (an experiment's planned_hosts that lists other minutes than its run
    simulates) was written into the progress bar's line as Python shows it, "<frozen runpy>:88: UserWarning: …"."""
    (tmp_path / "liar.py").write_text(PLANS_A_MINUTE_TOO_MANY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "liar", raising=False)
    assert main(["sweep", "liar", "--param", "minutes=1,2", "--seeds", "0-1"]) == 0
    err = capsys.readouterr().err
    said = "warning: sweep: liar's planned_hosts(minutes=1) lists 2 simulated minutes, but its run at seed 0 simulated 1,"
    assert ("\r" + said in err or "\n" + said in err) and err.count("warning:") == 1 and "UserWarning" not in err, err


@pytest.mark.parametrize("argv", [["sweep", "fig7", "--param", "tax_rate=0,", "--jbos", "2"],
                                  ["sweep", "fig7", "--seeds", "0-", "--jbos", "2"]])
def test_a_mistyped_option_after_a_list_is_not_joined_to_it(argv, monkeypatch, capsys):
    """`--param tax_rate=0, --jbos 2` was told to write "--param tax_rate=0,--jbos": an option continues no list."""
    _never_runs(monkeypatch)
    assert main(argv) == 2
    assert capsys.readouterr().err.endswith("unrecognized arguments: --jbos 2 (did you mean '--jobs'?).\n")


@pytest.mark.parametrize("argv", [["sweep", "fig7,", "fig2"], ["sweep", "fig7", "--csv", "out,", "x"],
                                  ["reproduce", "--csv", "out=", "x"], ["sweep", "fig7", ",", "fig2"],
                                  ["sweep", "fig7", "--csv", "out", "=x"], ["sweep", "fig7", "=0.5"]])
def test_a_word_after_a_value_that_is_no_list_is_not_told_to_join_it(argv, monkeypatch, capsys):
    """A review: `sweep fig7, fig2` was told to write "fig7,fig2" (one experiment only), and a word after a file name
    ending in ',' or '=' to join the two; and `tax_rate=0, -0.5` to write "--param tax_rate=0," (its value lost).
    A stray "=0.5" with no name before it was told "give each parameter its own --param, e.g. --param =0.5"."""
    _never_runs(monkeypatch)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "splits the value into words" not in err and "--param =" not in err


@pytest.mark.parametrize("text", ["tax_rate=0..0.75", "tax_rate=0:0.75"])
def test_a_range_written_with_two_dots_or_a_colon_is_refused_as_a_range(text, monkeypatch, capsys):
    """`tax_rate=0..0.75` and `tax_rate=0:0.75` said "fig7.tax_rate must be a number, got '0..0.75' (str)"; --param
    takes no range (README, Sweeps: NAME=V1,V2,…), and 1-3 already said so with the values written out."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", text]) == 2
    assert capsys.readouterr().err == (f"error: sweep: --param {text!r} writes {text.partition('=')[2]!r}, a range, "
                                       "which --param does not take (--seeds takes one, written 0-3); allowed: every "
                                       "value written out, separated by commas, e.g. --param tax_rate=0,0.75 ("
                                       f"{ends(hi='0.75')}).\n")


@pytest.mark.parametrize("text, written", [("tax_rate=0-2", "tax_rate=0,0.99 (" + ends(hi="0.99") + "; 0.99 for 2, "
                                                            "the most tax_rate allows)"),
                                           ("tax_rate='{0..1}'", "tax_rate=0,0.99 (" + ends(hi="0.99") +
                                            "; 0.99 for 1, the most tax_rate allows)"),
                                           ("clients=10-12", "clients=10,11,12")])
def test_a_range_of_a_fraction_parameter_is_written_by_its_ends(text, written, monkeypatch, capsys):
    """A fresh user's `--param tax_rate=0-2` was told to write `--param tax_rate=0,1,2`, as if τ (0 to 0.99) took whole
    numbers; a whole-number parameter's range is still written out value by value."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7", "--param", text.replace("'", "")]) == 2
    assert capsys.readouterr().err.endswith(f"e.g. --param {written}.\n")


@pytest.mark.parametrize("text, written", [
    ("tax_rate=0-1", "tax_rate=0,0.99 (" + ends(hi="0.99") + "; 0.99 for 1, the most tax_rate allows)"),
    ("tax_rate=-1-0.5", "tax_rate=0,0.5 (" + ends() + "; 0 for -1, the least tax_rate allows)"),
    ("tax_rate=0-0.5,1", "tax_rate=0,0.5 (" + ends() + "; 1 left out: tax_rate does not allow it)"),
    ("tax_rate=0.5,0-1", "tax_rate=0.5,0,0.99 (" + ends(hi="0.99") + "; 0.99 for 1, the most tax_rate allows)"),
    ("tax_rate=0-0.25,0.5-1", "tax_rate=0,0.25,0.5,0.99 (the ranges' ends are 0 and 0.25, and 0.5 and 0.99: add the "
                              "values you want between each two; 0.99 for 1, the most tax_rate allows)"),
    ("clients=350-450", "clients=350,400 (" + ends("350", "400") + "; 400 for 450, the most clients allows)")])
def test_a_range_given_by_its_ends_names_them_and_brings_a_refused_end_within_the_parameters_range(
        text, written, monkeypatch, capsys):
    """A review: `--param tax_rate=0-1` was told `e.g. --param tax_rate=0,1 (those are the range's ends: …)`, 1 itself
    refused (τ ≤ 0.99) with no word of it, and beside other values "those" read as every value listed
    (`tax_rate=0,0.5 (those are the range's ends…; 1 left out…)`). The ends are named, and one the parameter refuses is
    its bound, said so: the list shown is one the sweep takes."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig7" if "tax_rate" in text else "fig2", "--param", text]) == 2
    assert capsys.readouterr().err.endswith(f"allowed: every value written out, separated by commas, e.g. --param "
                                            f"{written}.\n")
    name, values = sweeps.parse_param(written.split(" (")[0])
    assert sweeps.check_grid("fig7" if "tax_rate" in text else "fig2", {name: values})


@pytest.mark.parametrize("text, told", [
    ("tax_rate=1-2", "tax_rate=1,2 (tax_rate allows none of these: 0 ≤ tax_rate ≤ 0.99)"),
    ("tax_rate=0.995-1", "tax_rate=0.995,1 (tax_rate allows none of these: 0 ≤ tax_rate ≤ 0.99)"),
    ("tax_rate=2-4-6", "tax_rate=2,4,6 (tax_rate allows none of these: 0 ≤ tax_rate ≤ 0.99)"),
    ("clients=500-600", "clients=500,600 (clients allows none of these: whole numbers, 1 ≤ clients ≤ 400)")])
def test_a_range_outside_the_parameters_range_is_kept_and_said_to_be_refused(text, told, monkeypatch, capsys):
    """A range whose ends cannot both be brought within the parameter's range (it lies above it) keeps them, and says
    what the parameter allows, rather than suggesting them as if allowed (a review: `tax_rate=1-2` was told to add
    values between its ends, and `2-4-6`, every value refused, nothing)."""
    _never_runs(monkeypatch)
    assert main(["sweep", "fig2" if "clients" in text else "fig7", "--param", text]) == 2
    assert capsys.readouterr().err.endswith(f"e.g. --param {told}.\n")


@pytest.mark.parametrize("argv, says", [
    (["sweep", "remap_io", "--seeds", "٣"], "error: sweep: --seeds = '٣' is not allowed: seeds are ASCII whole numbers "
                                           "(digits 0-9); write '3'.\n"),
    (["sweep", "remap_io", "--seeds", "０-３"], "error: sweep: --seeds = '０-３' is not allowed: seeds are ASCII whole "
                                              "numbers (digits 0-9); write '0-3'.\n"),
    (["sweep", "remap_io", "--seeds", "０–３"], "error: sweep: --seeds = '０–３' is not allowed: seeds are ASCII whole "
                                              "numbers (digits 0-9); write '0-3'.\n"),
    (["reproduce", "--seeds", "1,٢"], "error: reproduce: --seeds = '1,٢' is not allowed: seeds are ASCII whole numbers "
                                      "(digits 0-9); write '1,2'.\n"),
    (["reproduce", "--seed", "٣"], "error: reproduce: argument --seed: invalid int value: '٣'; allowed: a whole number "
                                   "≥ 0 in ASCII digits (0-9), e.g. --seed 3.\n"),
    (["sweep", "remap_io", "--jobs", "２"], "error: sweep: argument --jobs/-j: invalid int value: '２'; allowed: a whole "
                                           "number ≥ 1 in ASCII digits (0-9), e.g. --jobs 2.\n"),
], ids=["Arabic-Indic", "full-width range", "full-width range, en dash", "reproduce --seeds", "reproduce --seed", "--jobs"])
def test_seeds_in_digits_other_than_ascii_are_refused(argv, says, monkeypatch, capsys):
    """int() and re's \\d read Arabic-Indic ٣ and full-width ３ as 3: `--seeds ٣` ran seed 3, `--seeds 0-٣` seeds 0-3."""
    _never_runs(monkeypatch)
    assert main(argv) == 2
    assert capsys.readouterr().err == says
    with pytest.raises(ConfigError, match=r"^sweep: seeds = '٣' is not allowed: seeds are ASCII whole numbers"):
        E.sweep("remap_io", seeds="٣")


@pytest.mark.parametrize("argv", [["sweep", "nope"], ["sweep", "nope", "--list"], ["sweep", "99", "--param", "x=1"]])
def test_an_unknown_experiment_to_sweep_begins_with_sweep(argv, capsys):
    """`sweep nope` said 'error: unknown experiment 'nope' …', without the 'sweep:' of the command's other errors
    (reproduce --figure has had its 'reproduce:' since ad39dfe)."""
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: sweep: unknown experiment {argv[1]!r}")


def test_the_table_keeps_the_seeds_in_the_order_given_in_python_and_on_the_command_line(tmp_path, capsys):
    """sweep(…, seeds=range(3, 0, -1)) and --seeds 3,2,1 run and list seeds 3, 2, 1, neither sorted (the docstring
    says so)."""
    table = E.sweep("remap_io", {"minutes": [1]}, seeds=range(3, 0, -1))
    assert table.seeds == (3, 2, 1) and list(dict.fromkeys(r["seed"] for r in table.records())) == [3, 2, 1]
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--seeds", "3,2,1", "--csv",
                 str(tmp_path / "t.csv")]) == 0
    capsys.readouterr()
    with (tmp_path / "t.csv").open(newline="") as f:
        assert list(dict.fromkeys(row["seed"] for row in csv.DictReader(f))) == ["3", "2", "1"]
    table.to_csv(tmp_path / "api.csv")
    assert (tmp_path / "api.csv").read_text() == (tmp_path / "t.csv").read_text(), "the same table, in the same order"
