"""An instructor's trial (stop 48): grading a class with exercises/grade.py.

Before, grade.py took one notebook; a student's endless loop stopped it after 600 s with a traceback and no
score (the points already earned lost), and so did a cell that killed its kernel; a class needed a shell loop
parsing "N / M points"; and an answer cell calling ``esxlab.problems.instructor.solve`` scored full marks
unremarked. Each case below failed before.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from esxlab import exercises
from answers import grade_script

pytest.importorskip("nbclient")                         # the "exercises" extra; the "test" extra installs it
ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"
GUIDE = (ROOT / "exercises" / "README.md").read_text()


def _student(tmp_path: Path, name: str, answers: dict[str, str]) -> Path:
    """The solved idle_memory_tax notebook with the answer cells ``answers`` (grade id → source) replaced."""
    nb = nbformat.read(SOURCE / "idle_memory_tax.ipynb", as_version=4)
    for cell in nb.cells:
        key = exercises.graded(cell).get("grade_id")
        if key in answers:
            cell.source = answers[key]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _grade(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600, env=env)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_class_is_graded_at_once_into_a_csv_with_loops_dead_kernels_and_cheats_noted(tmp_path):
    ada = _student(tmp_path, "ada", {})
    loop = _student(tmp_path, "loop", {"targets-answer": "while True:\n    pass\n"})
    dead = _student(tmp_path, "dead", {"targets-answer": "import os\nos._exit(1)\n"})
    cheat = _student(tmp_path, "cheat", {"rho-answer": "from esxlab.problems.instructor import solve\n"
                                                       "globals().update(solve(p))\n"})
    (tmp_path / "junk.ipynb").write_text("not json")
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(ada), str(loop), str(dead), str(cheat),
                  "junk.ipynb", "--csv", "grades.csv", "--timeout", "7.5")    # (a fraction crashed nbclient)
    assert done.returncode == 1, "a file that could not be graded"
    assert done.stderr == ("error: STUDENT junk.ipynb cannot be read as a notebook (NotJSONError); allowed: an "
                           ".ipynb file of the exercises.\n"), "named on stderr, and nothing of the dying kernel's log"
    out = done.stdout
    assert f"== {loop}\nstopped: targets-answer ran over the timeout of 8 s; the check cells after it score 0\n" \
           "2 / 4 points" in out, out
    assert f"== {dead}\nflagged for review: targets-answer reads the private attribute 'os._exit'\nstopped: " \
           "targets-answer killed its kernel; the check cells after it score 0\n2 / 4 points" in out, out
    assert f"== {cheat}\nflagged for review: rho-answer names 'instructor' (esxlab.problems.instructor computes the " \
           "answers)\n4 / 4 points" in out, out
    assert f"== {ada}\n4 / 4 points" in out, "a student graded after another gets fresh locked cells"
    with open(tmp_path / "grades.csv", newline="") as f:
        assert next(csv.reader(f)) == ["student", "exercise", "seed", "graded_at", "rho-check", "targets-check",
                                       "points", "possible", "notes", "hints"]
    rows = _rows(tmp_path / "grades.csv")
    assert [(r["student"], r["rho-check"], r["targets-check"], r["points"], r["possible"]) for r in rows] == [
        ("ada", "2", "2", "4", "4"), ("loop", "2", "0", "2", "4"), ("dead", "2", "0", "2", "4"),
        ("cheat", "2", "2", "4", "4"), ("junk", "", "", "", "4")], "a refused file has a row, points empty"
    assert {(r["exercise"], r["seed"]) for r in rows} == {("idle_memory_tax.ipynb", "0")}
    assert rows[0]["notes"] == "" and rows[3]["notes"].startswith("flagged for review: rho-answer")
    assert rows[4]["notes"] == "refused: STUDENT junk.ipynb cannot be read as a notebook (NotJSONError); allowed: an " \
                               ".ipynb file of the exercises."
    assert rows[0]["hints"] == "rho-check: correct; targets-check: correct"
    assert rows[1]["hints"].endswith("targets-check: not run")


def test_a_csv_of_another_exercise_is_refused_before_any_grading(tmp_path):
    (tmp_path / "grades.csv").write_text("student,rho-check,targets-check,points,possible,notes\n")
    done = _grade(tmp_path, str(RELEASE / "sampling.ipynb"), str(SOURCE / "sampling.ipynb"), "--csv", "grades.csv")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: --csv grades.csv holds other columns") and "sampling-check" in done.stderr


def test_a_students_own_private_state_a_comment_and_another_seed(tmp_path):
    """A second instructor's trial: ``self._calls`` in a student's own class and a comment naming the instructor were
    flagged as if they read the answers; a notebook of another seed scored 0 with no word why."""
    grade = grade_script()
    given = nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4)
    own = nbformat.read(_student(tmp_path, "own", {"rho-answer": "class Mine:\n    def __init__(self):\n"
                                                                 "        self._calls = 0   # as the instructor showed\n"
                                                                 "victim = 'web'\n"}), as_version=4)
    assert grade.flags(given, own) == []
    sly = nbformat.read(_student(tmp_path, "sly", {"rho-answer": "victim = p._victim   # mine"}), as_version=4)
    assert grade.flags(given, sly) == ["flagged for review: rho-answer reads the private attribute 'p._victim'"], \
        "comments are left out without losing the code's own spelling (untokenize had made it `p ._victim`)"
    other = _student(tmp_path, "other", {})
    nb = nbformat.read(other, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("SEED = 0", "SEED = 7")
    nbformat.write(nb, other)
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(other))
    assert done.returncode == 0 and done.stdout.startswith(
        "graded with the handed-out SEED = 0; this notebook had SEED = 7 (another handout?)\n"), done.stdout


def test_bad_options_are_refused_before_any_grading(tmp_path):
    release = str(RELEASE / "sampling.ipynb")
    for value in ("0", "-1", "abc", "inf", "nan"):
        done = _grade(tmp_path, release, release, "--timeout", value)
        assert done.returncode == 2 and f"--timeout: {value!r}: allowed: a number of seconds > 0" in done.stderr
    for where, why in (("no/such/folder/g.csv", "its folder does not exist"), (".", "is a folder")):
        done = _grade(tmp_path, release, release, "--csv", where)
        assert done.returncode == 1 and done.stdout == "" and done.stderr == \
            f"error: --csv {where}: {why}; allowed: a file in an existing folder.\n"
    done = _grade(tmp_path, release, "nobody.ipynb", "--csv", "one.csv")
    assert done.stderr == "error: STUDENT nobody.ipynb does not exist; allowed: an .ipynb file of the exercises.\n"
    assert done.returncode == 1 and [r["notes"] for r in _rows(tmp_path / "one.csv")] == [
        "refused: STUDENT nobody.ipynb does not exist; allowed: an .ipynb file of the exercises."], "a row, alone too"


def test_a_notebook_that_rewrites_the_package_stops_the_grading(tmp_path):
    """It appended a pass-all check() to esxlab/checks.py of the grader's own install: every student after it got
    full marks, unflagged. Here on a copy of the package, so the checkout stays as it is."""
    shutil.copytree(ROOT / "esxlab", tmp_path / "copy" / "esxlab", ignore=shutil.ignore_patterns("__pycache__"))
    sly = _student(tmp_path, "sly", {"rho-answer": "import esxlab.checks\n"
                                                   "with open(esxlab.checks.__file__, 'a') as f:\n"
                                                   "    f.write('\\n# rewritten\\n')\n"})
    ada = _student(tmp_path, "ada", {})
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "copy")}
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(sly), str(ada), "--csv", "g.csv", env=env)
    assert "# rewritten" in (tmp_path / "copy" / "esxlab" / "checks.py").read_text(), "the kernel ran the copy"
    assert done.returncode == 1 and f"== {ada}" not in done.stdout, "no student is graded after it"
    assert "stopped grading: the esxlab package's files changed while this notebook ran" in done.stderr
    assert "this notebook's points are void" in done.stderr
    row, rest = _rows(tmp_path / "g.csv")
    assert row["student"] == "sly" and "stopped grading" in row["notes"]
    assert row["rho-check"] == row["targets-check"] == row["points"] == "", "no points for the notebook that did it"
    assert rest["student"] == "ada" and rest["points"] == "" and rest["notes"].startswith("not graded: "), \
        "a student after it is named, not dropped (the trial of session 49)"


def test_each_notebook_runs_in_a_folder_of_its_own(tmp_path):
    """A reviewer's case: the kernel worked in grade.py's own folder, so from a checkout's root it imported the
    checkout's esxlab (not the one installed, which the guard hashes), and a notebook that left an `esxlab/` there
    graded every later student with its own checker."""
    planted = _student(tmp_path, "planted", {"rho-answer": "import os, pathlib\nvictim = 'x'\n"
                                                           "pathlib.Path('esxlab').mkdir()\n"
                                                           "pathlib.Path('esxlab/__init__.py').write_text('')\n"
                                                           "where = os.getcwd()\nprint(where)\n"})
    wrong = _student(tmp_path, "wrong", {"rho-answer": "rhos, victim = [0, 0, 0], 'nobody'"})
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(planted), str(wrong), "--hints")
    assert not (tmp_path / "esxlab").exists(), "the notebook's folder is not grade.py's"
    assert f"== {wrong}\n" in done.stdout and done.stdout.rstrip().endswith("2 / 4 points"), done.stdout


def test_no_solution_is_flagged_and_the_guide_says_what_is(tmp_path):
    grade = grade_script()
    for source in sorted(SOURCE.glob("*.ipynb")):
        given = nbformat.read(RELEASE / source.name, as_version=4)
        assert grade.flags(given, nbformat.read(source, as_version=4)) == [], source.name
    assert "flagged for review" in GUIDE and "--timeout" in GUIDE and "--csv" in GUIDE
    assert 'pip wheel --no-deps -w "$OUT" .' in GUIDE, "how to hand out the package without the solutions"


def test_the_handout_recipe_names_the_wheel_this_version_builds():
    """The guide's recipe copies exercises/HANDOUT.md as the handout's README, and both name the wheel of
    pyproject.toml's version (a new version would otherwise leave students a command that finds no file)."""
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    wheel = f"esxlab-{version}-py3-none-any.whl"
    handout = (ROOT / "exercises" / "HANDOUT.md").read_text()
    assert 'cp exercises/HANDOUT.md "$OUT/README.md"' in GUIDE and "rm -rf build" in GUIDE
    assert f'pip install "{wheel}[lab]"' in handout and f'pip install "{wheel}[lab]"' in GUIDE
    assert "# YOUR CODE HERE" in handout and "SEED" in handout


def test_the_capstone_wants_a_policy_of_ones_own():
    """`policy = esx.swap.ClockReplacement()`, the model's own LRU-like policy, earned the capstone's 4 points."""
    import esxlab as esx
    from esxlab import checks, problems

    class Renamed(esx.swap.ClockReplacement):
        name = "mine"

    class Delegating(esx.swap.ReplacementPolicy):         # (a reviewer's case: the class check let it pass)
        def victims(self, vm, n, rng, protect):
            return esx.swap.ClockReplacement().victims(vm, n, rng, protect)

    for policy in (esx.swap.ClockReplacement(), Renamed(), Delegating()):
        with pytest.raises(checks.CheckFailed, match="victims\\(\\) calls esxlab's own ClockReplacement; the "
                                                     "capstone asks for a policy of your own"):
            checks.check(problems.BeatRandom(0), policy=policy)
    assert esx.swap.ClockReplacement.victims.__qualname__ == "ClockReplacement.victims", "the spy is gone after"
