"""Sweeps as a researcher-tester found them: Ctrl-C kept no finished run, a row compared with nothing read
relation '≈', and modules of your own named like a package experiment or run as __main__."""
from __future__ import annotations

import csv

import pytest

from esxlab.__main__ import main
from esxlab.experiments import SweepInterrupted, sweep, sweeps


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


def test_a_module_of_your_own_named_like_a_package_experiment_runs_its_own_code(tmp_path, monkeypatch):
    """A fig7.py of your own, given as the module, ran the package's Figure 7."""
    import sys

    from esxlab import experiments as E
    (tmp_path / "fig7.py").write_text(
        "from esxlab.experiments import remap_io\nfrom esxlab.experiments.params import Param\n\n"
        'PARAMS = {"minutes": Param(1, "run length", 1, 3, integer=True, unit="min")}\n\n\n'
        "def run(seed=0, minutes=1):\n    return remap_io.run(seed=seed, minutes=minutes)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fig7", raising=False)
    import importlib
    mine = importlib.import_module("fig7")
    table = sweep(mine, {"minutes": [1]})
    assert table.experiment == "fig7"
    assert table.tables[0] == tuple(E.remap_io.run(seed=0, minutes=1).table)


def test_a_script_run_as_main_is_named_by_its_file():
    import types

    from esxlab.experiments import lookup
    from esxlab.experiments.params import Param
    module = types.ModuleType("__main__")
    module.__file__ = "/somewhere/myexp.py"
    module.PARAMS, module.run = {"x": Param(1, "x", 0, 2)}, lambda seed=0, x=1: None
    assert lookup(module) == "myexp"


# -- a third tester's findings ------------------------------------------------------------------------------
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


@pytest.mark.parametrize("name, why", [("taxsamp.py", "a file name: give its import name, 'taxsamp'"),
                                       ("taxsmp", "no module of that import name on sys.path")])
def test_an_unknown_own_experiment_says_why(name, why):
    import esxlab as esx
    with pytest.raises(esx.ConfigError, match=f"^unknown experiment '{name}' \\({why}"):
        sweep(name)
