"""A researcher's sweeps (stop 39): a run that raises, seeds that add different rows, a module that does not
compile. Each was a traceback of dozens of lines that kept none of the runs that had finished."""
import sys
import textwrap

import pytest

from esxlab.__main__ import main
from esxlab.errors import ConfigError
from esxlab.experiments import SweepFailed, sweep

STUDY = '''
from esxlab.experiments import Result
from esxlab.experiments.params import Param, resolve

PARAMS = {"x": Param(1, "a knob", 0, 10, step=1, unit="")}


def run(seed=0, **params):
    p = resolve("study", PARAMS, params)
    if p.x == 2 and seed == 1:
        raise ValueError(f"the model blew up at x={p.x} seed {seed}")
    res = Result("study", dict(vars(p), seed=seed))
    res.add("x squared", None, p.x ** 2, 0, "")
    if seed == 1 and p.x == 3:
        res.add("only in seed 1", None, 1, 0, "")
    return res
'''


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A module of the researcher's own, ``study``, importable from ``tmp_path`` (the current directory)."""
    (tmp_path / "study.py").write_text(STUDY)
    (tmp_path / "broken.py").write_text("PARAMS = {}\ndef run(seed=0)\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for name in ("study", "broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_a_run_that_raises_is_named_in_one_sentence_and_the_finished_seeds_are_kept(study):
    with pytest.raises(SweepFailed) as failed:
        sweep("study", {"x": [1, 2]}, seeds=range(3))
    assert str(failed.value) == ("sweep: study.run(seed=1, x=2) raised ValueError at study.py line 11: the model "
                                 "blew up at x=2 seed 1; run that call alone for its traceback")
    assert failed.value.table.seeds == (0,) and len(failed.value.table.tables) == 2
    assert isinstance(failed.value.__cause__.__cause__, ValueError), "the traceback is kept in this process"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_writes_the_finished_seeds_then_names_the_run(study, capsys, jobs):
    assert main(["sweep", "study", "--param", "x=1,2", "--seeds", "0-2", "--jobs", jobs, "--csv", "out.csv"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.splitlines()[-1].startswith("error: sweep: study.run(seed=1, x=2) raised "
                                                                        "ValueError at study.py line 11")
    if jobs == "1":                    # in parallel, seed 1 may fail before seed 0 has finished
        assert "2 runs of study (2 grid points × 1 seed; a run failed: 6 runs asked for)" in out
        assert len((study / "out.csv").read_text().splitlines()) == 3      # a header, seed 0 at x = 1 and x = 2


def test_seeds_with_different_rows_name_the_row_and_the_seed_after_the_csv_is_written(study, capsys):
    assert main(["sweep", "study", "--param", "x=1,3", "--seeds", "0-1", "--csv", "out.csv"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("error: summarize: the seeds' tables list different quantities (study x=3, seed 1 "
                                    "has 'only in seed 1', which study x=3, seed 0 has not); every seed must run the "
                                    "same experiments with the same parameters, and add the same rows.")
    assert len((study / "out.csv").read_text().splitlines()) == 6, "every run's rows are written first"


def test_a_module_that_does_not_compile_is_one_sentence(study, capsys):
    assert main(["sweep", "broken", "--param", "x=1"]) == 2
    assert capsys.readouterr().err == ("error: experiment module 'broken' does not compile: broken.py line 2: "
                                       "SyntaxError: expected ':'; fix it and run again.\n")
    with pytest.raises(ConfigError, match="does not compile"):
        sweep("broken", {})
