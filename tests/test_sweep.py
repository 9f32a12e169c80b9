"""Sweeps: one experiment over a grid of its parameters and seeds, run by joblib or a Dask cluster."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import csv
import inspect
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from tqdm import tqdm

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.errors import ConfigError
from esxlab.experiments import SweepFailed, SweepInterrupted, common, runner, sweep, sweeps
from esxlab.experiments.result import Row
from esxlab.experiments.sweeps import SweepTable, parse_param

ROOT = Path(__file__).resolve().parents[1]
GRID = {"minutes": [1, 2], "packets_per_s": [1000, 2000]}      # remap_io: ≈ 0.1 s a run


@pytest.fixture(scope="module")
def serial():
    return E.sweep("remap_io", GRID, seeds=[0, 1])


def test_tidy_table_has_one_row_per_run_and_quantity(serial):
    quantities = [r.quantity for r in E.remap_io.run(seed=0, minutes=1, packets_per_s=1000).table]
    assert len(serial) == 2 * 2 * 2 * len(quantities) and len(serial.tables) == 8
    assert serial.columns[:3] == ("experiment", "minutes", "packets_per_s")
    records = serial.records()
    assert [r["quantity"] for r in records[:len(quantities)]] == quantities
    last = records[-1]
    assert (last["minutes"], last["packets_per_s"], last["seed"]) == (2, 2000, 1)
    assert last["value"] == E.remap_io.run(seed=1, minutes=2, packets_per_s=2000).value(last["quantity"]), \
        "each row is that run's number, bit for bit"


def test_summary_is_mean_and_sd_per_grid_point(serial):
    rows = serial.summary()
    assert len(rows) == len(serial) // 2
    first = rows[0]
    assert first.experiment == "remap_io minutes=1 packets_per_s=1000"
    seeds = [v["value"] for v in serial.records() if v["quantity"] == first.quantity
             and (v["minutes"], v["packets_per_s"]) == (1, 1000)]
    assert first.values == tuple(seeds) and first.esxlab == pytest.approx(sum(seeds) / 2)


def test_csv_round_trips_the_numbers(serial, tmp_path):
    rows = list(csv.DictReader(open(serial.to_csv(tmp_path / "s.csv"))))
    assert list(rows[0]) == list(serial.columns) and len(rows) == len(serial)
    assert [float(r["value"]) for r in rows] == [r["value"] for r in serial.records()]


def test_fig7_over_tax_rate_names_each_quantity_once_and_the_same_at_every_point(tmp_path, capsys):
    """In ``sweep fig7 --param tax_rate=0,0.75 --csv``, the idle VM's allocation after the
    change was 'idle VM alloc, τ = 0 after the change' at one point and 'idle VM alloc, τ = 0.75' at
    the other, and 'idle VM alloc, τ = 0' meant before the change at 0.75 only: no pivot possible.
    Quantities are now the same at every point; the printed table still shows τ."""
    out = tmp_path / "fig7.csv"
    small = ["vm_mb=128", "available_mb=179", "clients=20", "minutes=16", "tax_change_min=12", "dbench_start_min=1"]
    params = [x for p in ["tax_rate=0,0.75", *small] for x in ("--param", p)]
    assert main(["sweep", "fig7", *params, "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "idle VM alloc, τ = 0.75" in text and "idle VM alloc, τ = 0 after the change" in text
    at: dict[str, list[str]] = {}
    for r in csv.DictReader(open(out)):
        at.setdefault(r["tax_rate"], []).append(r["quantity"])
    assert at["0"] == at["0.75"] and len(set(at["0"])) == len(at["0"])
    assert "idle VM alloc after the change" in at["0"] and "idle VM alloc before the change" in at["0"]


def test_the_documented_fig7_sweep_over_tax_rate_runs_from_a_shell(tmp_path):
    """The command the README and benchmarks/bench_sweep.py give, ``python -m esxlab sweep fig7 --param
    tax_rate=0,0.25,0.5,0.75,0.95 --seeds 0-19``, on a grid of two τ and one seed at the paper's length (it
    failed with "fig7 has no parameter 'tax_rate'" while the parameter was named otherwise): at τ = 0 the
    two VMs still split evenly after the change and nothing is compared; at 0.75 the paper's rows are."""
    out = tmp_path / "fig7.csv"
    run = subprocess.run([sys.executable, "-m", "esxlab", "sweep", "fig7", "--param", "tax_rate=0,0.75",
                          "--seeds", "0", "--jobs", "1", "--csv", str(out)], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "fig7 tax_rate=0.75  idle VM alloc, τ = 0.75" in run.stdout
    assert run.stdout.rstrip().splitlines()[-1].startswith("2 runs of fig7 (2 grid points × 1 seed), ")
    rows = list(csv.DictReader(open(out)))
    assert list(rows[0])[:3] == ["experiment", "tax_rate", "seed"] and {r["seed"] for r in rows} == {"0"}
    at = {tau: {r["quantity"]: r for r in rows if r["tax_rate"] == tau} for tau in ("0", "0.75")}
    assert len(rows) == 2 * len(at["0"]) and set(at["0"]) == set(at["0.75"])
    no_tax, tax = at["0"], at["0.75"]
    assert abs(float(no_tax["split dbench − idle after the change"]["value"])) < 5, "no tax: no split"
    assert no_tax["idle VM alloc after the change"]["within"] == ""          # off the paper's setting: not compared
    assert "tax_rate = 0, default 0.75" in no_tax["idle VM alloc after the change"]["note"]
    for q in ("idle VM alloc after the change", "dbench VM alloc after the change",
              "split dbench − idle after the change", "dbench throughput gain"):
        assert tax[q]["within"] == "True", (q, tax[q]["value"], tax[q]["paper"])
    assert float(tax["idle VM alloc after the change"]["value"]) < \
        float(no_tax["idle VM alloc after the change"]["value"]) - 50, "the tax takes the idle VM's idle memory"
    for q in ("idle VM alloc before the change", "dbench VM alloc before the change"):
        assert tax[q]["value"] == no_tax[q]["value"], "both points fork from the same run up to the change"


def test_cli_prints_the_summary_and_writes_the_tidy_csv(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0-1", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "remap_io minutes=2" in text and "esxlab mean ± sd" in text and "4 runs of remap_io" in text
    rows = list(csv.DictReader(open(out)))
    assert {r["seed"] for r in rows} == {"0", "1"} and {r["minutes"] for r in rows} == {"1", "2"}


@pytest.mark.parametrize("text, name, values", [("tax_rate=0,0.25,0.95", "tax_rate", [0, 0.25, 0.95]),
                                                ("sharing=esx,off", "sharing", ["esx", "off"]),
                                                ("sizes=(128, 160),(96,)", "sizes", [(128, 160), (96,)]),
                                                # literals that hold braces are not a shell's braces (a review)
                                                ('x="{b}"', "x", ["{b}"]), ("x={'a': 1}", "x", [{"a": 1}]),
                                                ("x=(1,{2})", "x", [(1, {2})])])
def test_parse_param(text, name, values):
    assert sweeps.parse_param(text) == (name, values)


@pytest.mark.parametrize("text, where, fixed", [("tax_rate=0.5,", "after its last comma", "tax_rate=0.5"),
                                                ("tax_rate=0,,0.5", "between two commas", "tax_rate=0,0.5"),
                                                ("tax_rate=,0.5", "before its first comma", "tax_rate=0.5"),
                                                ("sizes=(128,160),", "after its last comma", "'sizes=(128,160)'")])
def test_an_empty_value_is_refused_wherever_it_is(text, where, fixed):
    """`tax_rate=0.5,` ran (one value: the whole text read as a list literal), `tax_rate=0,,0.5` was refused as
    "must be a number, got ''"."""
    with pytest.raises(esx.ConfigError) as err:
        sweeps.parse_param(text)
    assert str(err.value) == (f"sweep: --param {text!r} has an empty value {where}; allowed: a value between each two "
                              f"commas, e.g. --param {fixed}.")
    assert sweeps.parse_param("sizes=(128,)") == ("sizes", [(128,)]), "a tuple's comma is not an empty value"


@pytest.mark.parametrize("text, item, fixed", [("tax_rate=0.5 0.6", "0.5 0.6", "0.5,0.6"),
                                               ("tax_rate=0.5;0.6", "0.5;0.6", "0.5,0.6"),
                                               ("tax_rate=0, 0.5 0.75", "0.5 0.75", "0,0.5,0.75")])
def test_values_apart_but_not_by_commas_are_told_to_use_commas(text, item, fixed):
    """`--param 'tax_rate=0.5 0.6'` reached the parameter as one word: "must be a number, got '0.5 0.6' (str)"."""
    with pytest.raises(esx.ConfigError) as err:
        sweeps.parse_param(text)
    assert str(err.value) == (f"sweep: --param {text!r} has {item!r} as one value; allowed: values separated by "
                              f"commas, e.g. --param tax_rate={fixed}.")
    assert sweeps.parse_param("sharing=esx off") == ("sharing", ["esx off"]), "words are left to the parameter's check"


@pytest.mark.parametrize("args, match", [
    (("fig99", None, 0), "unknown experiment 'fig99'"),
    # the name fig7's τ after the change had before it became tax_rate: no alias keeps it
    (("fig7", {"tax_after": [0, 0.5]}, 0), r"fig7 has no parameter 'tax_after' \(did you mean 'tax_rate'\?\); its parameters are: available_mb"),
    (("fig7", {"tax_rate": [0.5, 1.5]}, 0), r"tax_rate = 1.5 is out of range; allowed: 0 ≤ tax_rate ≤ 0.99"),
    (("fig7", {"sharing": ["esx", "on"]}, 0), "sharing = 'on' is not allowed; choose one of"),
    (("fig7", {"tax_rate": []}, 0), "tax_rate has no values"),
    (("fig7", {"tax_rate": [0.5, 0.5]}, 0), "names a value twice"),
    (("fig7", [("tax_rate", 0.5)], 0), "give a dict of parameter name"),
    (("fig7", None, []), "seeds is empty"),
    (("fig7", None, [0, -1]), "seeds = -1 is not allowed"),
    (("fig7", None, [1, 1]), "names a seed twice"),
    (("fig7", None, "3-1"), "seeds = '3-1' is not allowed"),
    (("fig7", None, 1.5), "seeds = 1.5 is not allowed"),
])
def test_bad_input_is_refused_with_a_sentence_before_any_run(args, match, monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match=match):
        E.sweep(*args)


@pytest.mark.parametrize("jobs", [0, 1.5, True])
def test_bad_jobs_are_refused(jobs, monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match="^sweep: jobs = .* is not allowed"):
        E.sweep("remap_io", seeds=0, jobs=jobs)


@pytest.mark.parametrize("scheduler", ["nowhere", "tcp://host:port", 8786])
def test_a_malformed_scheduler_address_is_refused(scheduler):
    with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = .* (is not a valid address .*allowed: HOST:PORT "
                                              r"with a port from 1 to 65535|is not allowed; give the scheduler's "
                                              r"address as a str)"):
        E.sweep("remap_io", {"minutes": [1]}, scheduler=scheduler)


def test_a_rule_between_parameters_is_the_experiments_sentence():
    with pytest.raises(esx.ConfigError, match="fig7 needs dbench_start_min [+] 4 ≤ tax_change_min ≤ minutes − 4"):
        E.sweep("fig7", {"tax_change_min": [58]})


@pytest.mark.parametrize("params, allowed", [
    ({"minutes": [20, 30]}, "; allowed with the others as they are: tax_change_min from 7 to 16."),
    ({"tax_change_min": [58]}, "; allowed with the others as they are: minutes from 62 to 1200."),
    ({"vm_mb": [4000]}, "; allowed with the others as they are: available_mb from 2000 to 8192."),
    ({"minutes": [20], "tax_change_min": [31]}, ", minutes = 20.")])
def test_a_rule_that_refuses_a_swept_value_says_which_values_of_the_others_keep_it(params, allowed):
    """A fresh user's `--param minutes=20,30` for Figure 7 (the README's example of braces, written as told) was told
    the rule and the values it broke, with no word of which tax_change_min would do: the parameters left at their
    defaults are tried, each alone, and a run of whole numbers that keeps the rule is named (none, where every
    parameter the rule names was given)."""
    with pytest.raises(esx.ConfigError) as e:
        E.sweep("fig7", params)
    assert str(e.value).startswith("fig7 needs ") and str(e.value).endswith(allowed), str(e.value)


@pytest.mark.parametrize("argv, match", [(["fig7", "--param", "tax_rate"], "give name=value"),
                                         (["fig7", "--jobs", "2", "--scheduler", "tcp://h:1"], "not allowed with"),
                                         (["fig7", "--param", "minutes=5", "--param", "minutes=6"], "given twice"),
                                         (["fig7", "--csv", "/no/such/dir/x.csv"], "cannot be written (its "
                                                                                   "directory '/no/such/dir' does not "
                                                                                   "exist); allowed: a file name in"),
                                         (["fig7", "--csv", f"{__file__}/x.csv"], f"(its directory '{__file__}' "
                                                                                  "is not a directory)"),
                                         (["fig7", "--param", "tax_rate=2"], "tax_rate = 2 is out of range")])
def test_cli_refuses_bad_arguments(argv, match, capsys):
    assert main(["sweep", *argv]) == 2
    assert match in capsys.readouterr().err


def _progress_line(seconds: int) -> str:
    """What a run of ``seconds`` prints on stderr where it counts as long (PROGRESS_AFTER_S = 0)."""
    before, esx.host.PROGRESS_AFTER_S = esx.host.PROGRESS_AFTER_S, 0.0
    try:
        with contextlib.redirect_stderr(io.StringIO()) as err:
            esx.Host(esx.HostConfig(memory_mb=64), seed=0).run(seconds=seconds)
    finally:
        esx.host.PROGRESS_AFTER_S = before
    return err.getvalue()


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_in_the_runners_tasks_leave_the_progress_to_its_bar(jobs):
    """reproduce and sweep show a bar per task: a run inside a task (here, in this process or in
    loky workers) prints no "simulated X/Y min" line over it."""
    assert "simulated 2/2 min" in _progress_line(120), "alone, such a run shows its line"
    assert runner.execute(_progress_line, [(120,), (60,)], jobs=jobs) == ["", ""]


def test_a_dask_cluster_gives_the_serial_table_bit_for_bit(serial):
    from distributed import LocalCluster          # the "cluster" extra; the "test" extra installs it
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        table = E.sweep("remap_io", GRID, seeds=[0, 1], scheduler=cluster.scheduler_address)
        results = runner.run_many(["remap_io"], [0, 1], scheduler=cluster.scheduler_address)
        assert runner.execute(_progress_line, [(120,)], scheduler=cluster.scheduler_address) == [""], \
            "a Dask worker's runs leave the progress to the bar too"
    assert table == serial, "same grid, same seeds: the same numbers whichever runner"
    assert [r.table for r in results.values()] == [r.table for r in runner.run_many(["remap_io"], [0, 1]).values()]


@pytest.mark.parametrize("jobs", [2, 3])
def test_grouping_runs_of_a_seed_into_tasks_keeps_the_table(serial, jobs, monkeypatch):
    """However a seed's grid points are grouped into tasks (one group per seed, or split across workers),
    every table sits at its own point and seed, bit for bit."""
    monkeypatch.setattr(runner, "cpu_count", lambda: 4, raising=False)     # 3 jobs run 3 at a time anywhere
    assert sweeps._groups(4, 2, jobs, None) == (1 if jobs == 2 else 2)
    assert E.sweep("remap_io", GRID, seeds=[0, 1], jobs=jobs).tables == serial.tables


def test_a_fig7_sweep_over_tax_rate_forks_each_seeds_prefix_and_matches_single_runs():
    """Figure 7's runs of one seed share the minutes before the tax change; the sweep forks them, and
    each table equals that run made alone from a cold start."""
    from esxlab.experiments import common
    small = dict(vm_mb=128, available_mb=179, clients=20, minutes=14, tax_change_min=8, dbench_start_min=1)
    table = E.sweep("fig7", {**{k: [v] for k, v in small.items()}, "tax_rate": [0.25, 0.75]}, seeds=[2])
    for i, tau in enumerate((0.25, 0.75)):
        common._prefixes.clear()
        assert table.tables[i] == tuple(E.fig7.run(seed=2, **small, tax_rate=tau).table)


def test_cli_list_without_an_experiment_lists_the_experiments(capsys):
    """A new user's trial: `sweep --list` was an error (exit 2) naming the experiments without their titles."""
    assert main(["sweep", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("experiments (sweep EXPERIMENT --list lists one's parameters, sweep EXPERIMENT --quantities "
                        "its quantities):")
    assert [x.split()[0] for x in lines[1:]] == list(E.EXPERIMENTS)
    assert lines[1 + E.EXPERIMENTS.index("fig7")] == f"  fig7{' ' * 15}{E.fig7.TITLE}"
    columns = {line.index(E.get(name).TITLE) for line, name in zip(lines[1:], E.EXPERIMENTS)}
    assert columns == {len("  balloon_vs_paging  ")}, "the titles start in one column, after the longest name"


def test_cli_lists_an_experiments_parameters_with_default_and_range(capsys, monkeypatch):
    monkeypatch.setattr(sweeps, "sweep", lambda *a, **k: pytest.fail("--list runs nothing"))
    assert main(["sweep", "7", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"fig7: {E.fig7.TITLE}"
    assert lines[2].split() == ["parameter", "default", "allowed", "unit", "--param", "example", "meaning"]
    assert lines[4].split()[:6] == ["available_mb", "358", "64", "≤", "available_mb", "≤"]
    tax_rate = next(x for x in lines if x.startswith("tax_rate "))
    assert tax_rate.split()[1] == "0.75" and "0 ≤ tax_rate ≤ 0.99" in tax_rate
    assert "whole numbers, 1 ≤ clients ≤ 400" in next(x for x in lines if x.startswith("clients "))
    assert "one of 'esx', 'ksm', 'off'" in next(x for x in lines if x.startswith("sharing "))
    assert lines[4 + len(E.fig7.PARAMS)] == "", "the table has a row per parameter, then the rules"


def test_cli_sweep_jobs_above_the_cores_run_as_many_as_there_are_cores(capsys, monkeypatch):
    monkeypatch.setattr(runner, "cpu_count", lambda: 2, raising=False)
    assert runner.check_jobs(1000, "sweep: --jobs") == 2, "1000 worker processes for one run"
    assert main(["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0-2", "--jobs", "1000"]) == 0
    out, err = capsys.readouterr()
    assert "note: sweep: --jobs = 1000 is more than this computer's 2 cores; running 2 at a time." in err
    assert out.rstrip().endswith("s, 2 workers")


CURSOR_UP = "\x1b[A"
STUDY = '''
from esxlab.experiments import Result
from esxlab.experiments.params import Param, resolve
import esxlab as esx

PARAMS = {"x": Param(1, "a knob", 0, 10, step=1, unit="")}


def run(seed=0, **params):
    p = resolve("typo_study", PARAMS, params)
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=seed)
    host.power_on(esx.VMConfig(name="a", max_mb=32))
    tr = host.run(seconds=2)
    res = Result("typo_study", dict(vars(p), seed=seed))
    res.add("alloc", None, tr.mean("a", "allocs"), 0, "MB")
    return res
'''


def tiny_sweep() -> SweepTable:
    return SweepTable("x", ("minutes",), (0,), ((1,),), ((Row("x", "q", None, 1.0, None, note="why blank"),),))


def test_a_tables_repr_is_one_line_not_its_rows():
    """`table` alone in a notebook printed the dataclass: every Row of every run (13 kB for 2 τ × 2 seeds of
    Figure 7)."""
    rows = tuple(Row("x", f"q{i}", None, 1.0, None) for i in range(3))
    table = SweepTable("x", ("minutes",), (0, 1), ((1,), (2,)), (rows,) * 4)
    assert repr(table) == ("<SweepTable: 4 runs of x (2 grid points × 2 seeds), 12 rows; records(), summary(), "
                           "to_csv(path)>")
    assert repr(tiny_sweep()).startswith("<SweepTable: 1 run of x (1 grid point × 1 seed), 1 row;")


def progress_of(stream) -> str:
    """What a one-task run in this process writes on ``stream`` as stderr."""
    before, sys.stderr = sys.stderr, stream
    try:
        runner.execute(runner.run_one, [("remap_io", 0, {"minutes": 3})], jobs=1, progress="t")
    finally:
        sys.stderr = before
    return stream.getvalue()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def ctrl_c_in_third_task(monkeypatch):
    """The third task a sweep starts is stopped by Ctrl-C."""
    calls = []
    tables = sweeps._tables

    def stopping(*args):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return tables(*args)
    monkeypatch.setattr(sweeps, "_tables", stopping)


@pytest.fixture
def typo_study(tmp_path, monkeypatch):
    (tmp_path / "typo_study.py").write_text(STUDY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "typo_study", raising=False)
    return tmp_path


def test_a_grid_point_that_breaks_a_rule_is_refused_before_anything_runs(monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    rule = E.esx_today.RULES[0]
    with pytest.raises(esx.ConfigError, match=f"^esx_today needs {rule.text} [(]{rule.why}[)]; got .*limit_mb = 512"):
        E.sweep("esx_today", {"limit_mb": [16, 512]})


def test_a_single_task_run_here_shows_its_simulated_minutes(two_cores, capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=3", "--seeds", "0", "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "task 1/1 (seed 0, 1 run): " in err and " simulated min" in err, \
        "one task in this process: its minutes are shown"


def test_tasks_in_other_processes_show_no_minutes_they_cannot_report(two_cores, capsys):
    assert runner.execute(runner.run_one, [("remap_io", s, {"minutes": 1}) for s in (0, 1)], jobs=2,
                          progress="t") and two_cores == [2]
    assert "simulated min" not in capsys.readouterr().err


def test_the_minute_line_counts_sixty_ticks_a_minute_from_zero_for_each_task(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    count = runner._Minutes(2, line_from=0.0)
    for _ in range(150):
        count(None)
    assert count.line.n == 2
    count.next_task(2)
    for _ in range(60):
        count(None)
    assert count.line.n == 1 and count.line.desc.strip() == "task 2/2"


def test_the_bars_clock_runs_on_while_no_task_finishes():
    out = io.StringIO()
    bar = tqdm(total=1, file=out, mininterval=0)
    with runner._clock(lambda: [bar], every_s=0.05):
        time.sleep(0.5)
    assert out.getvalue().count("0/1") >= 4, "redrawn while nothing finished"


def test_the_bars_clock_keeps_quiet_where_stderr_is_a_file(capsys):
    """A log of one `reproduce` held 5.6 KB of the bar redrawn every second."""
    runner.execute(time.sleep, [(2.5,)], progress="waiting")
    err = capsys.readouterr().err
    assert err.count("0/1") <= 1 and "1/1" in err, err


def test_a_whole_number_written_as_a_float_is_that_integer_and_a_size_twice_is_refused():
    """`--param threshold=1e1` ran and was labelled threshold=10.0; `fig2 sizes=(128,128)`
    ran and printed its rows twice. Now 1e1 is the integer 10, and a size named twice is refused."""
    from esxlab.errors import ConfigError
    from esxlab.experiments import sweeps
    name, values = sweeps.parse_param("vms=4e0,8.0")
    grid = sweeps.check_grid("ksm_vs_esx", {name: values})
    assert grid["vms"] == [4, 8] and all(type(v) is int for v in grid["vms"])
    with pytest.raises(ConfigError, match="twice"):
        sweeps.check_grid("fig2", dict([sweeps.parse_param("sizes=(128,128)")]))


def test_a_one_seed_sweep_prints_no_spread(capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=1"]) == 0
    out = capsys.readouterr().out
    assert "esxlab (1 seed)" in out and "mean ± sd" not in out


@pytest.mark.parametrize("where, reason", [(".", "Is a directory"), ("missing/x.csv", "No such file or directory")])
def test_sweep_table_to_csv_refuses_a_path_it_cannot_write(tmp_path, where, reason):
    path = tmp_path / where
    with pytest.raises(esx.ConfigError, match=rf"^SweepTable.to_csv: path = '{path}' cannot be written \({reason}\); "
                                              r"allowed: a file name in an existing, writable directory\.$"):
        tiny_sweep().to_csv(path)


@pytest.mark.parametrize("path, shown", [(5, "5 (int)"), (None, "None (NoneType)"), (b"s.csv", "b's.csv' (bytes)")])
def test_sweep_table_to_csv_refuses_what_is_not_a_files_name_with_a_sentence(path, shown):
    """`to_csv(5)` raised Python's TypeError "expected str, bytes or os.PathLike object, not int"."""
    with pytest.raises(esx.ConfigError) as err:
        tiny_sweep().to_csv(path)
    assert str(err.value) == (f"SweepTable.to_csv: path = {shown} is not a file's name; allowed: a str or pathlib.Path "
                              "naming a file in an existing, writable directory, e.g. 'results.csv'.")


def test_the_sweep_csv_keeps_the_note_that_explains_a_blank_paper(tmp_path):
    rows = list(csv.DictReader(open(tiny_sweep().to_csv(tmp_path / "s.csv"))))
    assert rows[0]["paper"] == "" and rows[0]["note"] == "why blank"
    for column in ("relation", "within", "kind", "note", "value"):
        assert f"``{column}``" in SweepTable.__doc__, column


def test_numpy_values_read_as_plain_numbers_in_names_and_notes():
    table = sweep("remap_io", {"minutes": np.linspace(1, 2, 2), "packets_per_s": np.arange(1000, 3000, 1000)},
                  seeds=[0])
    assert table == sweep("remap_io", {"minutes": [1.0, 2.0], "packets_per_s": [1000, 2000]}, seeds=[0])
    assert [type(v) for v in table.points[0]] == [float, int]
    assert table.summary()[0].experiment == "remap_io minutes=1.0 packets_per_s=1000"
    fig7 = sweep("fig7", {"tax_rate": np.linspace(0, 0.75, 2), "minutes": [16], "tax_change_min": [12],
                          "dbench_start_min": [1], "vm_mb": [128], "available_mb": [179], "clients": [20]}, seeds=[0])
    notes = " ".join(str(r["note"]) for r in fig7.records()) + " ".join(r.experiment for r in fig7.summary())
    assert "np." not in notes and "tax_rate = 0.0, default 0.75" in notes


def test_two_spellings_of_one_value_are_one_value_named_twice(monkeypatch, capsys):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match=r"^sweep: fig7\.tax_rate = \[0, 0\.5, 0\.0\] names a value twice \(0 "
                                              r"and 0\.0 are equal\); each must appear once\.$"):
        sweep("fig7", {"tax_rate": [0, 0.5, 0.0]})
    assert main(["sweep", "fig7", "--param", "tax_rate=0,0.0"]) == 2
    assert capsys.readouterr().err == ("error: sweep: fig7.tax_rate = [0, 0.0] names a value twice (0 and 0.0 are "
                                       "equal); each must appear once.\n")
    with pytest.raises(esx.ConfigError, match=r"= \[\(128, 160\), \(128\.0, 160\)\] names a value twice"):
        sweep("fig2", {"sizes": [(128, 160), (128.0, 160)]})


def test_numpy_jobs_are_jobs_and_a_float_is_refused_in_words_that_fit(monkeypatch):
    monkeypatch.setattr(runner, "cpu_count", lambda: 2, raising=False)
    assert runner.check_jobs(np.int64(2), "sweep: jobs") == 2
    assert sweep("remap_io", {"minutes": [1, 2]}, seeds=[0, 1], jobs=np.int64(2)) == sweep("remap_io", {"minutes": [1, 2]},
                                                                                          seeds=[0, 1])
    with pytest.raises(esx.ConfigError, match=r"^sweep: jobs = 2\.0 is not allowed; give the number of parallel runs "
                                              r"as an int ≥ 1 \(e\.g\. 2\), not a float\.$"):
        sweep("remap_io", jobs=2.0)


@pytest.mark.parametrize("seeds", [range(2000), (s for s in range(1500))])
def test_the_api_allows_as_many_seeds_as_the_command_line(seeds, monkeypatch, capsys):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match=r"^sweep: seeds = .* names (2000|more than 1000) seeds; allowed: at "
                                              r"most 1000\.$"):
        sweep("remap_io", seeds=seeds)
    assert main(["sweep", "remap_io", "--seeds", "0-1999"]) == 2
    assert capsys.readouterr().err.endswith("names 2000 seeds; allowed: at most 1000.\n")


def test_a_backward_seed_range_is_named_as_such():
    with pytest.raises(ConfigError, match=r"the range 3-1 runs backwards; write it low to high \(1-3\)"):
        runner.parse_seeds("3-1", "sweep: seeds")


def test_the_running_task_line_has_one_colon(monkeypatch):
    """"  task 2/3: 7 simulated min", not "  task 2/3: : 7 …" (tqdm's set_description adds a ": ")."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    minutes = runner._Minutes(3, line_from=0.0)
    minutes.next_task(2)
    minutes.line.update(7)
    assert str(minutes.line).startswith("  task 2/3: 7 simulated min"), str(minutes.line)
    minutes.close()


def test_progress_to_a_file_moves_no_cursor_and_still_counts_minutes():
    err = progress_of(io.StringIO())
    assert "\x1b" not in err, repr(err[:200])
    assert re.search(r"1/1 \[.*task 1/1: \d+ simulated min\]", err), repr(err)


def test_progress_on_a_terminal_keeps_its_second_line():
    err = progress_of(Terminal())
    assert CURSOR_UP in err and "task 1/1: " in err


def test_sweep_list_says_where_a_bound_comes_from():
    """`sweep fig8 --list` showed "896 ≤ memory_mb ≤ 65536" without the why that its error gives."""
    from esxlab.experiments import sweeps
    text = sweeps.describe_params("fig8")
    assert "Where a bound comes from:\n  - memory_mb's 896 MB: the five VMs' min + 32 MB of overhead each" in text
    assert "tax_rate's" not in text
    assert "Where a bound comes from" not in sweeps.describe_params("fig7")


def test_an_interrupted_sweep_keeps_the_table_of_the_seeds_that_finished(ctrl_c_in_third_task):
    with pytest.raises(SweepInterrupted) as stop:
        sweep("remap_io", {"minutes": [1, 2]}, seeds="0-3")
    assert isinstance(stop.value, KeyboardInterrupt), "except KeyboardInterrupt still catches it"
    assert stop.value.table.seeds == (0, 1) and stop.value.table.points == ((1,), (2,))
    assert (stop.value.runs, stop.value.total) == (4, 8)
    assert "after 4 of 8 runs" in str(stop.value) and "2 seeds" in str(stop.value)
    assert stop.value.table == sweep("remap_io", {"minutes": [1, 2]}, seeds="0-1"), "the same runs as a shorter sweep"


def test_the_command_line_prints_and_writes_the_finished_seeds_then_exits_130(ctrl_c_in_third_task, tmp_path,
                                                                                 capsys):
    out = tmp_path / "x.csv"
    code = main(["sweep", "remap_io", "--param", "minutes=1", "--seeds", "0-5", "--csv", str(out)])
    captured = capsys.readouterr()
    assert code == 130
    assert "2 runs of remap_io (1 grid point × 2 seeds; interrupted: 6 runs asked for)" in captured.out
    assert captured.err.splitlines()[-1].startswith("interrupted: sweep remap_io interrupted after 2 of 6 runs")
    with open(out, newline="") as f:
        assert {row["seed"] for row in csv.DictReader(f)} == {"0", "1"}


def test_ctrl_c_before_any_seed_finished_writes_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sweeps, "_tables", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
    out = tmp_path / "x.csv"
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--csv", str(out)]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert "after 0 of 1 runs" in captured.err.splitlines()[-1]


def test_a_sweep_stopped_before_any_seed_finished_has_an_empty_summary(monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(SweepInterrupted, match="no seed had finished all its runs: its table is empty") as stop:
        sweep("remap_io", {"minutes": [1]}, seeds="0-2")
    assert stop.value.table.summary() == []


def test_the_command_line_says_the_csv_was_not_written_and_the_footer_that_it_was_cut(ctrl_c_in_third_task,
                                                                                      tmp_path, capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--seeds", "0-5", "--csv", str(tmp_path / "a.csv")]) \
        == 130
    assert "(1 grid point × 2 seeds; interrupted: 6 runs asked for)" in capsys.readouterr().out


def test_no_csv_is_named_as_not_written(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sweeps, "_tables", lambda *args: (_ for _ in ()).throw(KeyboardInterrupt))
    out = tmp_path / "x.csv"
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--csv", str(out)]) == 130
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"(--csv {out} not written)")


def test_the_sweep_csv_has_the_label_the_printed_table_shows(tmp_path):
    from esxlab.experiments.result import Row
    from esxlab.experiments.sweeps import SweepTable
    table = SweepTable("x", ("minutes",), (0,), ((1,),), ((Row("x", "alloc later", None, 1.0, None,
                                                                label="alloc, min 3-6"),),))
    with open(table.to_csv(tmp_path / "s.csv"), newline="") as f:
        row = next(csv.DictReader(f))
    assert (row["quantity"], row["label"]) == ("alloc later", "alloc, min 3-6")


def test_an_esxlab_error_inside_a_run_names_the_run_and_the_line_of_the_experiment(typo_study, capsys):
    with pytest.raises(SweepFailed) as failed:
        sweep("typo_study", {"x": [1]}, seeds=[0])
    text = str(failed.value)
    assert text.startswith("sweep: typo_study.run(seed=0, x=1) raised ConfigError at typo_study.py line 15: ")
    assert "'allocs'" in text and text.endswith("; run that call alone for its traceback")
    assert main(["sweep", "typo_study", "--param", "x=1,2"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1].startswith(
        "error: sweep: typo_study.run(seed=0, x=1) raised ConfigError at typo_study.py line 15: ")


def test_a_run_borrowed_from_another_file_names_that_files_line(typo_study, capsys):
    (typo_study / "borrowed.py").write_text("from typo_study import PARAMS, run\n")
    with pytest.raises(SweepFailed) as failed:
        sweep("borrowed", {"x": [1]}, seeds=[0])
    assert str(failed.value).startswith("sweep: borrowed.run(seed=0, x=1) raised ConfigError at typo_study.py "
                                        "line 15: ")
    assert ".;" not in str(failed.value), "the esxlab sentence's full stop is not doubled"


def test_words_stay_words():
    assert parse_param("sharing=off,esx") == ("sharing", ["off", "esx"])
    assert parse_param("sizes=(128,160),(192,224)") == ("sizes", [(128, 160), (192, 224)])


def test_sweep_is_its_plan_run():
    plan = sweeps.Plan.of("remap_io", {"minutes": [1, 2]}, "0")
    assert (plan.jobs, plan.scheduler, plan.workers) == (1, None, 1)
    assert plan.run() == E.sweep("remap_io", {"minutes": [1, 2]}, "0")


def test_a_zero_dimensional_array_is_one_value_or_one_seed(monkeypatch):
    """sweep(..., {'minutes': np.array(1)}) raised 'iteration over a 0-d array', seeds=np.array(3) 'len() of unsized
    object' (a helper's trial); np.int64(3) and 1-d arrays worked."""
    assert sweeps.check_grid("remap_io", {"minutes": np.array(1)}) == {"minutes": [1]}
    assert sweeps.check_seeds(np.array(3)) == [3] and sweeps.check_seeds(np.arange(2)) == [0, 1]


@pytest.mark.parametrize("params, seeds, says", [
    ({"sharing": {"esx", "off"}}, 0, r"^sweep: fig7.sharing = \{.*\} is a set, whose order is Python's, not the one "
                                     r"written \(a set of words comes in another order in every Python process\), and "
                                     r"the table's rows would follow it; allowed: a list \(or a range, a numpy array\), "
                                     r"e.g. sorted\(values\).$"),
    ({"sharing": {"esx": 1}}, 0, r"^sweep: fig7.sharing = \{'esx': 1\} is a mapping \(dict\), whose keys would be "
                                 r"taken as the values; allowed: a list .*, e.g. list\(values.values\(\)\).$"),
    (None, {0, 1}, r"^sweep: seeds = \{0, 1\} is a set, whose order is Python's"),
    (None, {0: "a"}, r"^sweep: seeds = \{0: 'a'\} is a mapping \(dict\), whose keys would be taken"),
])
def test_a_set_or_a_dict_of_values_is_refused(params, seeds, says, monkeypatch):
    """A set of values was taken in the order of its hashes, which PYTHONHASHSEED changes (four orders of the CSV's
    rows in four runs); a dict's keys were taken silently."""
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match=says):
        sweep("fig7", params, seeds=seeds)


@pytest.mark.parametrize("keywords, says", [
    (dict(minutes=[1, 2]), "sweep() has no keyword 'minutes'; it takes experiment, params, seeds, jobs, scheduler, "
                           "progress, and the experiment's parameters go in params, each with its values: "
                           "sweep(experiment, params={'minutes': [...]})."),
    (dict(seed=[0, 1]), "sweep() has no keyword 'seed' (did you mean 'seeds'?); it takes experiment, params, seeds, "
                        "jobs, scheduler, progress."),
])
def test_a_keyword_sweep_does_not_take_is_one_sentence(keywords, says, monkeypatch):
    """A newcomer's trial: sweep("remap_io", minutes=[1, 2]) raised "TypeError: sweep() got an unexpected keyword
    argument 'minutes'", with no word of params."""
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError) as e:
        sweep("remap_io", **keywords)
    assert str(e.value) == says
    assert list(inspect.signature(sweep).parameters) == ["experiment", "params", "seeds", "jobs", "scheduler",
                                                         "progress"], "help(sweep) shows its own signature"


def test_a_sweep_run_again_says_its_runs_were_kept_not_simulated(monkeypatch):
    """A second identical sweep in one process returned at once from the runs this process keeps, saying nothing:
    a student timing it, or wondering whether it ran, could not tell."""
    monkeypatch.setattr(common, "_kept", type(common._kept)())          # (this test's own, empty caches)
    monkeypatch.setattr(common, "_prefixes", type(common._prefixes)())
    small = dict(vm_mb=[128], available_mb=[179], clients=[20], minutes=[14], tax_change_min=[8], dbench_start_min=[1])
    first = sweep("fig7", {**small, "tax_rate": [0.25, 0.75]}, seeds=[3])
    again = sweep("fig7", {**small, "tax_rate": [0.25, 0.75]}, seeds=[3])
    assert (first.kept, again.kept) == (0, 2) and first.tables == again.tables
    assert "(2 grid points × 1 seed; 2 kept from an earlier run, not simulated again)" in repr(again)
    assert "kept" not in repr(first)


def test_a_sweep_shows_its_bar_once_it_has_taken_a_while_unless_told(monkeypatch, capsys):
    """sweep()'s bar was off unless progress=True, so a long sweep in a notebook said nothing for minutes, where
    Host.run shows its line once it has taken PROGRESS_AFTER_S; the dashboards' runner stays silent."""
    sweep("remap_io", {"minutes": [1, 2]}, seeds=[4])
    assert "sweep remap_io" not in capsys.readouterr().err, "a short sweep stays quiet"
    monkeypatch.setattr(sweeps, "PROGRESS_AFTER_S", 0.01)
    # (tqdm draws an update only 0.1 s after its last drawing: runs faster than that would show nothing)
    monkeypatch.setattr(runner, "tqdm", functools.partial(tqdm, mininterval=0))
    sweep("remap_io", {"minutes": [1, 2]}, seeds=[5])
    assert "sweep remap_io: 100%" in capsys.readouterr().err
    sweep("remap_io", {"minutes": [1, 2]}, seeds=[6], progress=False)
    runner.execute(runner.run_one, [("remap_io", 7, {"minutes": 1})], label="dashboard precompute")
    assert capsys.readouterr().err == ""
    with pytest.raises(ConfigError, match=r"^sweep.progress = 'yes' is not allowed; choose one of None, True, False\.$"):
        sweep("remap_io", {"minutes": [1]}, progress="yes")


def test_a_sweep_table_equals_another_with_the_same_rows_however_many_runs_were_kept():
    """A review: ``kept`` took part in ``==``, so a fig7 sweep run twice compared unequal to itself (kept 0, then 4)."""
    table = SweepTable("fig7", {"tax_rate": (0.0,)}, (0,), ((0.0,),), ((),))
    assert table == dataclasses.replace(table, kept=4)


def test_the_bars_clock_draws_nothing_before_the_bars_delay():
    """A review: the runner's clock redrew a sweep's bar every second, and tqdm's refresh() ignores its delay, so the
    bar meant to show after 5 s showed after 1 s in a terminal."""
    late, now = io.StringIO(), io.StringIO()
    for file, delay in ((late, 60), (now, 0)):
        bar = tqdm(total=3, file=file, delay=delay)
        with runner._clock(lambda: [bar], every_s=0.01, shown_at=time.monotonic() + delay):
            time.sleep(0.1)
    assert late.getvalue() == "" and now.getvalue() != ""


def test_the_running_tasks_line_draws_nothing_before_its_delay(monkeypatch):
    """A fresh user: a 3 s sweep with jobs=1 in a terminal printed "task 1/2: 0 simulated min" and "task 2/2: …" at
    once, where the bar waits 5 s: tqdm's reset() and set_description_str() draw at once, and reset() restarted the
    clock the delay counts from, so the minutes never showed."""
    late, now = io.StringIO(), io.StringIO()
    for file, delay in ((late, 60), (now, 0)):
        monkeypatch.setattr(sys, "stderr", file)
        minutes = runner._Minutes(2, line_from=time.monotonic() + delay)
        for k in (1, 2):
            minutes.next_task(k)
            for _ in range(120):
                minutes(None)
        assert minutes.lines() == [] if delay else minutes.line.n == 2
        minutes.close()
    assert late.getvalue() == "" and "task 2/2: 0 simulated min" in now.getvalue()


def test_the_clocks_thread_gets_the_running_tasks_line_or_none_as_the_task_closes_it(monkeypatch):
    """The clock's thread asked for the task's line while the task's thread closed it: read twice, ``line`` could be
    a line, then None, handed to the clock as a line to redraw ('NoneType' object has no attribute 'refresh' killed
    the clock's thread). Here the task's thread closes it between any two reads."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())

    class Closing(runner._Minutes):
        @property
        def line(self):
            line, self._line = self._line, None                  # the task's thread closes it right after this read
            return line

        @line.setter
        def line(self, value):
            self._line = value

    minutes = Closing(2, line_from=0.0)
    shown = minutes._line
    first = minutes.lines()
    assert len(first) == 1 and first[0] is shown, first
    assert minutes.lines() == []
    shown.close()


def _waits_then_simulates(wait_s: float, minutes: int) -> int:
    """A task that waits ``wait_s`` seconds, then simulates ``minutes`` minutes of a small host."""
    time.sleep(wait_s)
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=32))
    host.run(seconds=60 * minutes)
    return minutes


def test_a_tasks_line_shown_after_the_delay_counts_its_clock_from_the_tasks_start(monkeypatch):
    """A task that started before the sweep's delay passed (a line waiting for its first drawing) showed the sweep's
    clock on its line, not its own: task 2, started at 1.5 s and shown after the 2 s delay, read 00:02. (Here task 2
    starts at 4 s and shows after a 4.5 s delay, so a slow machine has 3 s to simulate its 2 minutes.)"""
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    assert runner.execute(_waits_then_simulates, [(4.0, 1), (0.8, 2)], progress="t", delay=4.5) == [1, 2]
    clocks = re.findall(r"task 2/2: \d+ simulated min \[(\d\d):(\d\d)", err.getvalue())
    assert clocks and all(int(m) * 60 + int(s) < 4 for m, s in clocks), clocks


def test_a_number_parameter_given_as_text_is_shown_as_python_numbers():
    """A fresh user: ``params={"tax_rate": "0,0.5"}`` (the command line's way to write it) was told only "must be a
    number"."""
    with pytest.raises(ConfigError, match=re.escape("sweep: fig7.tax_rate = '0,0.5' is text; give numbers, not "
                                                    "quoted: params={'tax_rate': [0, 0.5]} (the command line writes "
                                                    "the same as --param tax_rate=0,0.5).")):
        sweep("fig7", {"tax_rate": "0,0.5"})
    with pytest.raises(ConfigError, match=r"must be a number, got 'abc'"):
        sweep("fig7", {"tax_rate": "abc"})


@pytest.mark.parametrize("key, text, numbers, written", [
    ("tax_rate", "1e-3", "[0.001]", "0.001"), ("tax_rate", " 0 , .5 , ", "[0, 0.5]", "0,0.5"),
    ("tax_rate", "08", "[8]", "8"), ("clients", "10-12", "[10, 11, 12]", "10,11,12"),
    ("tax_rate", "0-2", "[0, 0.99]", "0,0.99"), ("tax_rate", "0-0.5", "[0, 0.5]", "0,0.5"),
    ("clients", "1000000-1000002", "[1000000, 1000001, 1000002]", "1000000,1000001,1000002")])   # (were one 1e+06)
def test_text_that_reads_as_numbers_is_shown_as_the_python_numbers_it_reads(key, text, numbers, written):
    """The numbers shown are Python's: "08" is no Python literal, and "0-2" (a range, as --seeds writes one) read as
    [0-2] would be [-2]; a range is written out as --param's error writes it, a whole-number parameter's value by value,
    a fraction's by its ends (a fresh user's tax_rate "0-2" was shown as [0, 1, 2], as if τ took whole numbers)."""
    ends = {"0-2": "0 and 0.99 are the range's ends: add the values you want between them; 0.99 for 2, the most "
                   "tax_rate allows; ",
            "0-0.5": "0 and 0.5 are the range's ends: add the values you want between them; ",
            "1000000-1000002": "clients allows none of these: whole numbers, 1 ≤ clients ≤ 400; "}.get(text, "")
    with pytest.raises(ConfigError, match=re.escape(f"give numbers, not quoted: params={{{key!r}: {numbers}}} "
                                                    f"({ends}the command line writes the same as --param "
                                                    f"{key}={written}).")):
        sweep("fig7", {key: text})


@pytest.mark.parametrize("text", [".", "e", "E", "-", "+", "0,,1", "1e", "٣", "nan", "1e400", "0..", "--1"])
def test_text_that_does_not_read_as_numbers_is_not_shown_as_numbers(text):
    """The check for "text of numbers" took any run of digits, signs, dots and e's: "." was shown as params={'tax_rate':
    [.]}, which is not Python."""
    with pytest.raises(ConfigError, match=re.escape(f"fig7.tax_rate must be a number, got {text!r} (str)")):
        sweep("fig7", {"tax_rate": text})


@pytest.mark.parametrize("value, written", [(0.5, "0.5"), (2.0, "2"), (1e-3, "0.001"), (0.1, "0.1"),
                                            (1234567.5, "1234567.5"), (1 / 3, "0.3333333333333333"), (7, "7")])
def test_a_value_is_written_for_the_command_line_as_the_same_number(value, written):
    """A float was written to 6 significant digits: 1234567.5 as 1.23457e+06, another number (session 68's review)."""
    from esxlab.experiments.sweeps import _compact
    assert _compact(value) == written and float(written) == value


def test_the_running_tasks_line_says_what_the_task_holds(monkeypatch):
    """`sweep fig7 --param tax_rate=0,0.5 --seeds 0-2 --jobs 1` (6 runs) showed "task 1/3: 33 simulated min" growing
    to 89 with no word of the task being a seed's two runs (forked at the tax change: 60 + 29 minutes)."""
    plan = sweeps.Plan.of("fig7", {"tax_rate": [0, 0.5]}, "0-2")
    holds = [plan._holds(task) for task in plan.tasks]
    assert holds == [(f"seed {s}, 2 runs", None) for s in range(3)], "a forked run's minutes are not known before"
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    minutes = runner._Minutes(3, line_from=0.0, holds=holds)
    minutes.next_task(2)
    minutes.line.update(33)
    assert str(minutes.line).startswith("  task 2/3 (seed 1, 2 runs): 33 simulated min ["), str(minutes.line)
    minutes.close()


def test_a_tasks_line_gives_the_total_an_experiment_knows_before_running(monkeypatch):
    """Figure 2 says what it simulates (fig2.planned_hosts): a task's line gives its minutes in all, and, as each run
    simulates several hosts, how many (a review: "2 runs" of Figure 2 and "450 simulated min" did not add up)."""
    plan = sweeps.Plan.of("fig2", {"minutes": [4, 5], "sizes": [(128, 192)], "measure_from_min": [2]}, [0])
    assert [plan._holds(task) for task in plan.tasks] == [("seed 0, 2 runs of 5 hosts", 5 * (4 + 5))]
    plan = sweeps.Plan.of("fig2", {"sizes": [(128,), (128, 192)]}, [0])
    assert [plan._holds(task) for task in plan.tasks] == [("seed 0, 2 runs, 8 hosts", 8 * 10)]
    plan = sweeps.Plan.of(_planning(0), {"minutes": [1, 2]}, [0])       # one host a run: not counted
    assert [plan._holds(task) for task in plan.tasks] == [("seed 0, 2 runs", 3)]
    assert runner._holds((("fig2",), 3)) == ("fig2 (9 hosts), seed 3", 9 * 10) and \
        runner._holds((("fig7", "tax_sweep"), 0)) == ("fig7 + tax_sweep, seed 0", None)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    minutes = runner._Minutes(1, line_from=0.0, holds=[("seed 0, 2 runs", 45)])
    minutes.line.update(33)
    assert str(minutes.line).startswith("  task 1/1 (seed 0, 2 runs): 33 of 45 simulated min ["), str(minutes.line)
    minutes.close()
    bar = tqdm(total=1, file=io.StringIO())
    runner._Minutes(1, bar=bar, holds=[("seed 0, 2 runs", 45)])
    assert bar.postfix == "task 1/1 (seed 0, 2 runs): 0 of 45 simulated min", bar.postfix


def test_an_experiments_hosts_are_what_its_run_simulates():
    """fig2.planned_hosts, the totals the task line and the dashboard's busy line give, counted by the ticks a watcher sees."""
    from esxlab.experiments import fig2
    params = dict(sizes=(128, 192), minutes=3, measure_from_min=2, dbench_start_s=30, clients=10)
    seen = []
    with esx.host.watching(lambda host: seen.append(id(host))):
        fig2.run(0, **params)
    planned = fig2.planned_hosts(**params)
    assert len(planned) == len(dict.fromkeys(seen)) == 5 and sum(m for _, m in planned) == len(seen) / 60
    assert [what for what, _ in planned] == ["a 256 MB VM", "a 128 MB VM", "a 256 MB VM ballooned to 128 MB",
                                              "a 192 MB VM", "a 256 MB VM ballooned to 192 MB"]


def _ticks(n: int) -> int:
    """A task that tells this thread's watcher of ``n`` ticks, as :meth:`Host.run` does after each of its ticks."""
    for _ in range(n):
        esx.host.stepped(None)
    return n


@pytest.mark.parametrize("stream, ticks, total, last", [(Terminal, 1620, 27, "27 of 27 simulated min"),
                                                        (io.StringIO, 450, 7.5, "7.5 of 7.5 simulated min"),
                                                        (Terminal, 450, None, "7.5 simulated min")])
def test_a_finished_tasks_line_reads_all_the_minutes_it_simulated(stream, ticks, total, last, monkeypatch):
    """`sweep fig2 … --jobs 1` in a terminal: a task of 27 simulated minutes ended reading "26 of 27" (its line is drawn
    at most every 0.1 s, and its last updates were not), and one of 7.5 minutes (minutes=2.5) read "7 of 7.5" on a
    terminal or in a file (minutes counted whole)."""
    err = stream()
    monkeypatch.setattr(sys, "stderr", err)
    assert runner.execute(_ticks, [(ticks,)], progress="t", holds=lambda task: ("", total)) == [ticks]
    frames = [f for f in re.split(r"\r|\n|\x1b\[A", err.getvalue()) if "simulated min" in f]
    assert last in frames[-1], frames[-3:]


def _planning(extra_min: float):
    """An experiment module of one's own whose planned_hosts lists its one host's minutes, plus ``extra_min``."""
    import types
    from esxlab.experiments.params import Param, resolve
    module = types.ModuleType("planning")
    module.PARAMS = {"minutes": Param(2, "run length", 1, 10, unit="min")}

    def run(seed=0, **params):
        p = resolve("planning", module.PARAMS, params)
        host = esx.Host(esx.HostConfig(memory_mb=64), seed=seed)
        host.power_on(esx.VMConfig(name="a", max_mb=32))
        host.run(minutes=p.minutes)
        res = E.Result("planning", dict(vars(p), seed=seed))
        res.add("a alloc", None, host.vm("a").stats().alloc, None, "MB")
        return res

    module.run = run
    module.planned_hosts = lambda **params: [("a 32 MB VM", resolve("planning", module.PARAMS, params).minutes
                                              + extra_min)]
    return module


def test_a_run_that_simulates_other_minutes_than_its_experiment_planned_is_warned_of_once(recwarn):
    """An experiment's planned_hosts was never checked against what its run simulates: one of one's own that listed
    a host too many (or minutes too few) made the running task's line give a wrong total, with no word of it."""
    sweep(_planning(0), {"minutes": [1, 2]}, seeds=[0, 1])
    assert not [w for w in recwarn if "planned_hosts" in str(w.message)], "what was planned ran: no warning"
    with pytest.warns(UserWarning) as caught:
        sweep(_planning(1.5), {"minutes": [1, 2]}, seeds=[0, 1])
    said = [str(w.message) for w in caught if "planned_hosts" in str(w.message)]
    assert said == ["sweep: planning's planned_hosts(minutes=1) lists 2.5 simulated minutes, but its run at seed 0 "
                    "simulated 1, so a progress line's total is wrong; make planned_hosts list every host that "
                    "run() simulates, with its minutes (or remove it: the lines then count minutes without a "
                    "total)."], said


def test_a_run_that_takes_some_of_its_hosts_from_the_cache_is_not_warned_of(recwarn):
    """Only runs kept whole were left out of the check of planned_hosts: a run that takes one of its hosts from
    common.kept (keyed on the seed alone, so the second grid point finds it) simulated less than planned and was
    warned of, though planned_hosts listed what run() runs (a review)."""
    from esxlab.experiments.params import resolve
    module, key = _planning(0), object()            # (a key of its own: nothing else in this process has kept it)
    module.__name__ = "partly_kept"

    def run(seed=0, **params):
        p = resolve("partly_kept", module.PARAMS, params)
        common.kept((key, seed), lambda: esx.Host(esx.HostConfig(memory_mb=64), seed=seed).run(minutes=1))
        host = esx.Host(esx.HostConfig(memory_mb=64), seed=seed)
        host.run(minutes=p.minutes)
        res = E.Result("partly_kept", dict(vars(p), seed=seed))
        res.add("minutes", None, p.minutes, None, "min")
        return res

    module.run = run
    module.planned_hosts = lambda **params: [("a host kept across runs", 1),
                                             ("a host", resolve("partly_kept", module.PARAMS, params).minutes)]
    table = sweep(module, {"minutes": [1, 2]}, seeds=[0])
    assert table.kept == 0, "the second run simulated its own host: not kept whole"
    assert not [str(w.message) for w in recwarn if "planned_hosts" in str(w.message)]


def test_a_tasks_line_shown_after_the_delay_has_a_rate_and_comes_after_the_bar(monkeypatch):
    """`sweep(...)` with the default progress (in a terminal): the minutes line first read "[00:04, ? simulated min/s]"
    though 49 minutes were done (tqdm's rate counts from the line's initial minutes), and came a second before the
    bar (the bar's clock draws it once a second)."""
    line = runner._TaskLine(time.monotonic() - 4.0, initial=49, unit=" simulated min", file=io.StringIO())
    assert re.search(r"49 simulated min \[00:0[45], 1[0-9]\.\d\d simulated min/s\]", str(line)), str(line)
    line.close()
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    bar = tqdm(total=3, desc="sweep x", file=err, delay=60)
    assert err.getvalue() == ""
    minutes = runner._Minutes(3, line_from=0.0, above=bar)
    shown = err.getvalue()
    assert "sweep x" in shown and "task 1/3" in shown and shown.index("sweep x") < shown.index("task 1/3"), shown
    minutes.close()
    bar.close()
