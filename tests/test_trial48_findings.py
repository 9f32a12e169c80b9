"""An instructor's trial (stop 48): grading a class with exercises/grade.py.

Before, grade.py took one notebook; a student's endless loop stopped it after 600 s with a traceback and no
score (the points already earned lost), and so did a cell that killed its kernel; a class needed a shell loop
parsing "N / M points"; and an answer cell calling ``esxlab.problems.instructor.solve`` scored full marks
unremarked. Each case below failed before.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from esxlab import exercises

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


def _grade(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600)


def test_a_class_is_graded_at_once_into_a_csv_with_loops_dead_kernels_and_cheats_noted(tmp_path):
    ada = _student(tmp_path, "ada", {})
    loop = _student(tmp_path, "loop", {"targets-answer": "while True:\n    pass\n"})
    dead = _student(tmp_path, "dead", {"targets-answer": "import os\nos._exit(1)\n"})
    cheat = _student(tmp_path, "cheat", {"rho-answer": "from esxlab.problems.instructor import solve\n"
                                                       "globals().update(solve(p))\n"})
    (tmp_path / "junk.ipynb").write_text("not json")
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(ada), str(loop), str(dead), str(cheat),
                  "junk.ipynb", "--csv", "grades.csv", "--timeout", "8")
    assert done.returncode == 1, "a file that could not be graded"
    assert done.stderr == ("error: STUDENT junk.ipynb cannot be read as a notebook (NotJSONError); allowed: an "
                           ".ipynb file of the exercises.\n"), "named on stderr, and nothing of the dying kernel's log"
    out = done.stdout
    assert f"== {loop}\nstopped: targets-answer ran over the timeout of 8 s; the check cells after it score 0\n" \
           "2 / 4 points" in out, out
    assert f"== {dead}\nstopped: targets-answer killed its kernel; the check cells after it score 0\n2 / 4 points" \
        in out.replace("flagged for review: targets-answer reads a private attribute ('os._exit')\n", ""), out
    assert f"== {cheat}\nflagged for review: rho-answer uses esxlab.problems.instructor, which computes the " \
           "answers ('instructor')\n4 / 4 points" in out, out
    assert f"== {ada}\n4 / 4 points" in out, "a student graded after another gets fresh locked cells"
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "rho-check", "targets-check", "points", "possible", "notes"]
    assert [r[:5] for r in rows[1:]] == [[str(ada), "2", "2", "4", "4"], [str(loop), "2", "0", "2", "4"],
                                         [str(dead), "2", "0", "2", "4"], [str(cheat), "2", "2", "4", "4"]]
    assert rows[1][5] == "" and rows[4][5].startswith("flagged for review: rho-answer")


def test_a_csv_of_another_exercise_is_refused_before_any_grading(tmp_path):
    (tmp_path / "grades.csv").write_text("student,rho-check,targets-check,points,possible,notes\n")
    done = _grade(tmp_path, str(RELEASE / "sampling.ipynb"), str(SOURCE / "sampling.ipynb"), "--csv", "grades.csv")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: --csv grades.csv holds other columns") and "sampling-check" in done.stderr


def test_no_solution_is_flagged_and_the_guide_says_what_is(tmp_path):
    sys.path.insert(0, str(ROOT / "exercises"))
    try:
        import grade
    finally:
        sys.path.remove(str(ROOT / "exercises"))
    for source in sorted(SOURCE.glob("*.ipynb")):
        given = nbformat.read(RELEASE / source.name, as_version=4)
        assert grade.flags(given, nbformat.read(source, as_version=4)) == [], source.name
    assert "flagged for review" in GUIDE and "--timeout" in GUIDE and "--csv" in GUIDE
    assert 'pip wheel --no-deps -w "$OUT" .' in GUIDE, "how to hand out the package without the solutions"
