"""Ctrl-C in a sweep keeps the seeds that finished (a tester lost 15 minutes of runs to one Ctrl-C)."""
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
    assert "2 runs of remap_io (1 grid point × 2 seeds)" in captured.out
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
