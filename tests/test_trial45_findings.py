"""A fresh user's findings (stop 45): a student notebook missing a check cell, or the wrong notebook, crashed the
grader with a bare KeyError; an esxlab error inside a sweep's run did not name the run; a source notebook an
instructor had run and saved could not be built; ``reproduce`` took --seed and --seeds together. (invented: the
kit's own upkeep)"""
import subprocess
import sys

from pathlib import Path

import nbformat
import pytest

from esxlab import exercises
from esxlab.__main__ import main
from esxlab.experiments import SweepFailed, sweep
from answers import grade_script

ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"


def _grade_py(tmp_path, given: Path, work, *options: str) -> subprocess.CompletedProcess:
    nbformat.write(work, tmp_path / "student.ipynb")
    return subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), str(given),
                           str(tmp_path / "student.ipynb"), *options], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)


def _solved(name: str):
    return nbformat.read(SOURCE / f"{name}.ipynb", as_version=4)


def test_a_deleted_check_cell_is_put_back_where_it_stood_and_named(tmp_path):
    nb = _solved("idle_memory_tax")
    nb.cells = [c for c in nb.cells if exercises.graded(c).get("grade_id") != "targets-check"]
    done = _grade_py(tmp_path, RELEASE / "idle_memory_tax.ipynb", nb, "--hints")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.strip().split("\n")
    assert lines[0] == f"put back as handed out: targets-check (deleted from {tmp_path / 'student.ipynb'})"
    assert lines[-1] == "4 / 4 points", "the student's answers are graded by the check put back"
    assert done.stderr == "", "the kernel's own log is no part of a grade (it warned of TCP on every run)"


def test_put_back_inserts_after_the_cell_before_it_in_the_handed_out_notebook():
    given = nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4)
    work = _solved("idle_memory_tax")
    ids = [exercises.graded(c).get("grade_id") for c in work.cells]
    gone = ("setup", "rho-check", "targets-problem")         # a problem cell follows a markdown cell (no grade id)
    work.cells = [c for c in work.cells if exercises.graded(c).get("grade_id") not in gone]
    assert grade_script().put_back(given, work) == list(gone)
    assert [exercises.graded(c).get("grade_id") for c in work.cells] == ids
    assert grade_script().put_back(given, work) == [], "nothing left to put back"


def test_a_deleted_problem_cell_is_put_back_after_its_markdown_and_the_answers_still_count(tmp_path):
    """A reviewer's case: a problem cell follows a markdown cell, which has no grade id; it was put back at the
    top, before the setup it needs, and its check failed with a NameError (2 / 4)."""
    nb = _solved("idle_memory_tax")
    nb.cells = [c for c in nb.cells if exercises.graded(c).get("grade_id") != "targets-problem"]
    done = _grade_py(tmp_path, RELEASE / "idle_memory_tax.ipynb", nb)
    assert done.stdout.strip().split("\n")[-1] == "4 / 4 points", done.stdout


def test_another_exercise_sharing_grade_ids_is_named_as_missing_answers(tmp_path):
    """esx_today and page_sharing both have sharing-problem/-answer/-check: a page_sharing notebook graded
    against esx_today is not refused, but its missing answers are named."""
    done = _grade_py(tmp_path, RELEASE / "esx_today.ipynb", _solved("page_sharing"))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "missing answer cells: limits-answer" in done.stdout and "another exercise's notebook?" in done.stdout


def test_the_wrong_notebook_is_refused_in_one_sentence(tmp_path):
    done = _grade_py(tmp_path, RELEASE / "sampling.ipynb", _solved("idle_memory_tax"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (f"error: STUDENT {tmp_path / 'student.ipynb'} has none of the answer cells of HANDED_OUT "
                           f"{RELEASE / 'sampling.ipynb'} (sampling-answer): another exercise's notebook, or every "
                           "answer cell deleted; allowed: a student's copy of sampling.ipynb.\n")


# --- a sweep's run that misuses esxlab ----------------------------------------------------------------------

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


@pytest.fixture
def typo_study(tmp_path, monkeypatch):
    (tmp_path / "typo_study.py").write_text(STUDY)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "typo_study", raising=False)
    return tmp_path


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


# --- a source notebook run and saved -----------------------------------------------------------------------

def test_a_source_notebook_run_and_saved_builds_the_same_release(tmp_path):
    pytest.importorskip("nbgrader")
    from nbclient import NotebookClient

    nb = _solved("sampling")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                   record_timing=True).execute()
    assert any(c.get("outputs") for c in nb.cells) and "version" in nb.metadata.language_info
    nbformat.write(nb, tmp_path / "sampling.ipynb")
    assert exercises.release_text(tmp_path / "sampling.ipynb") == (RELEASE / "sampling.ipynb").read_text()


def test_a_source_notebook_is_left_as_it_is_by_a_build(tmp_path):
    pytest.importorskip("nbgrader")
    (tmp_path / "source").mkdir()
    nb = _solved("sampling")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="previewed\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, tmp_path / "source" / "sampling.ipynb")
    before = (tmp_path / "source" / "sampling.ipynb").read_text()
    assert exercises.main(["build", "--source", str(tmp_path / "source")]) == 0
    assert (tmp_path / "source" / "sampling.ipynb").read_text() == before
    assert (tmp_path / "release" / "sampling.ipynb").read_text() == (RELEASE / "sampling.ipynb").read_text()


# --- reproduce's seeds ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--seed", "0", "--seeds", "0-2"], ["--seeds", "0-2", "--seed", "0"]])
def test_reproduce_refuses_seed_and_seeds_together_even_at_the_default(argv, capsys):
    assert main(["reproduce", "--figure", "7", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--seed" in err and "--seeds" in err


def test_a_seed_that_is_not_a_whole_number_says_what_is_allowed(capsys):
    assert main(["reproduce", "--figure", "7", "--seed", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "1.5" in err and "whole number" in err and "Traceback" not in err


def test_the_readme_says_how_to_test_one_notebook():
    readme = (ROOT / "README.md").read_text()
    assert "pytest notebooks/05_idle_memory_tax.ipynb" in readme





# --- a misspelt answer keyword ---------------------------------------------------------------------------------

def test_a_misspelt_answer_keyword_is_named_with_the_answer_it_is_close_to():
    from esxlab import checks, problems
    from esxlab.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        checks.check(problems.RhoVictim(seed=0), rhos=[1.0, 2.0, 3.0], victm="db")
    assert str(err.value) == ("check() for RhoVictim needs exactly the answers rhos, victim; got rhos, victm (did you "
                              "mean victim?).")
    with pytest.raises(ConfigError) as err:
        checks.check(problems.RhoVictim(seed=0), rhos=[1.0, 2.0, 3.0], victim="db", victm="db")
    assert str(err.value).endswith("got rhos, victim, victm."), "no answer already given is suggested"


# --- a student's findings in the notebooks ---------------------------------------------------------------------

def _source(notebook: str) -> str:
    return "\n".join(c.source for c in nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4).cells)


def test_the_tours_prediction_and_its_reveal_are_the_same_quantity():
    """The box asked for the MB *ballooned*, while the Reveal told a student who guessed τ × the idle MB that the run
    bears it out, with ballooned + swapped: the reveal compared the guess with the ballooned part alone."""
    src = _source("00_tour")
    assert "will ESX have reclaimed (ballooned + swapped)?" in src and 'guess.reveal(actual=gave["idle"],' in src
    assert "keeps touching about 8 MB" in src, "the idle MB the Reveal's reasoning needs is given before the box"


def test_ksm_says_before_the_try_it_that_a_first_scan_merges_nothing():
    assert "nothing can merge before a page's second scan" in " ".join(_source("11_esx_vs_ksm").split())
