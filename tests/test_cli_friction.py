"""A fresh tester's frictions with the command line: the workers named, what ``sweep --list`` tells,
and progress inside a single slow task."""
import inspect
import io
import time

import pytest
from tqdm import tqdm

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.experiments import runner, sweeps
from esxlab.experiments.params import resolve


@pytest.fixture
def two_cores(monkeypatch):
    """A 2-core computer, and the ``n_jobs`` each run asked joblib for."""
    monkeypatch.setattr(runner, "cpu_count", lambda: 2, raising=False)
    asked = []
    real = runner.parallel_config

    def spy(**kw):
        asked.append(kw.get("n_jobs"))
        return real(**kw)

    monkeypatch.setattr(runner, "parallel_config", spy)
    return asked


# -- 1. --jobs: the note and the last line name the workers actually used ----------------------------
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


# -- 2. sweep --list: how to write values, and the rules between parameters -------------------------
def test_list_shows_the_rules_between_parameters_as_sentences(capsys):
    for name in ("fig7", "esx_today", "replacement"):
        assert main(["sweep", name, "--list"]) == 0
        out = " ".join(capsys.readouterr().out.split())          # unwrapped
        assert "Rules between parameters" in out
        for rule in E.get(name).RULES:
            assert f"- {rule.text}: {rule.why}." in out
    assert main(["sweep", "esx_today", "--list"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "limit_mb below the working set, busy_pct % of vm_mb: a limit at or above it never binds." in out
    assert main(["sweep", "remap_io", "--list"]) == 0
    assert "Rules between parameters: none" in capsys.readouterr().out


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


def test_a_grid_point_that_breaks_a_rule_is_refused_before_anything_runs(monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    rule = E.esx_today.RULES[0]
    with pytest.raises(esx.ConfigError, match=f"^esx_today needs {rule.text} [(]{rule.why}[)]; got .*limit_mb = 512"):
        E.sweep("esx_today", {"limit_mb": [16, 512]})


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


# -- 3. progress inside a single task ---------------------------------------------------------------
def test_a_single_task_run_here_shows_its_simulated_minutes(two_cores, capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=3", "--seeds", "0", "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "task 1/1: " in err and " simulated min" in err, "one task in this process: its minutes are shown"


def test_tasks_in_other_processes_show_no_minutes_they_cannot_report(two_cores, capsys):
    assert runner.execute(runner.run_one, [("remap_io", s, {"minutes": 1}) for s in (0, 1)], jobs=2,
                          progress="t") and two_cores == [2]
    assert "simulated min" not in capsys.readouterr().err


def test_the_minute_line_counts_sixty_ticks_a_minute_from_zero_for_each_task():
    line = tqdm(file=io.StringIO())
    count = runner._Minutes(line, 2)
    for _ in range(150):
        count(None)
    assert line.n == 2
    count.next_task(2)
    for _ in range(60):
        count(None)
    assert line.n == 1 and line.desc.strip() == "task 2/2"


def test_the_bars_clock_runs_on_while_no_task_finishes():
    out = io.StringIO()
    bar = tqdm(total=1, file=out, mininterval=0)
    with runner._clock([bar], every_s=0.05):
        time.sleep(0.5)
    assert out.getvalue().count("0/1") >= 4, "redrawn while nothing finished"


def test_the_bars_clock_keeps_quiet_where_stderr_is_a_file(capsys):
    """A new instructor's log of one `reproduce` held 5.6 KB of the bar redrawn every second."""
    runner.execute(time.sleep, [(2.5,)], progress="waiting")
    err = capsys.readouterr().err
    assert err.count("0/1") <= 1 and "1/1" in err, err


def test_a_note_names_both_limits_when_cores_and_tasks_are_as_many(two_cores, capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--seeds", "0-1", "--jobs", "4"]) == 0
    out, err = capsys.readouterr()
    assert "note: sweep: --jobs = 4 is more than this computer's 2 cores and the 2 tasks to run; running 2 at a " \
           "time." in err and out.rstrip().endswith("s, 2 workers") and two_cores == [2]


def test_a_whole_number_written_as_a_float_is_that_integer_and_a_size_twice_is_refused():
    """A fresh tester: `--param threshold=1e1` ran and was labelled threshold=10.0; `fig2 sizes=(128,128)`
    ran and printed its rows twice. Now 1e1 is the integer 10, and a size named twice is refused."""
    from esxlab.errors import ConfigError
    from esxlab.experiments import sweeps
    name, values = sweeps.parse_param("vms=4e0,8.0")
    grid = sweeps.check_grid("ksm_vs_esx", {name: values})
    assert grid["vms"] == [4, 8] and all(type(v) is int for v in grid["vms"])
    with pytest.raises(ConfigError, match="twice"):
        sweeps.check_grid("fig2", dict([sweeps.parse_param("sizes=(128,128)")]))
