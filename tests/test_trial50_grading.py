"""An instructor's trial (session 50) of exercises/grade.py. Each test fails on the code before.

1. Answer cells that read the answers through ``operator.methodcaller('_' + 'solve')``, ``getattr(type(p), chr(95) +
   'solve')``, ``vars(type(p))['_' + 'solve']`` or a function's ``__globals__`` (the problems' hidden state) scored
   full marks with no "flagged for review" note.
2. An answer cell that raised (``ZeroDivisionError``) showed only as its check cell's ``NameError``.
"""
from __future__ import annotations

import copy
import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from esxlab import problems
from esxlab.exercises import graded
from esxlab.problems import base
from esxlab.problems.instructor import solve
from answers import answered, grade_script

ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"

#: the trial's answer cells that read the answers, each with what its notes must name
LEAKS = [
    ("import operator; d = operator.methodcaller('_' + 'solve')(p); rhos, victim = d['rhos'], d['victim']",
     ["operator.methodcaller(…)", "out of pieces: \"'_' +\""]),
    ("d = getattr(type(p), chr(95) + 'solve')(p); rhos, victim = d['rhos'], d['victim']",
     ["getattr(type(p), …)", "out of pieces: 'chr(95)'"]),
    ("d = vars(type(p))['_' + 'solve'](p); rhos, victim = d['rhos'], d['victim']",
     ["'vars(type(p))'", "out of pieces: \"'_' +\""]),
    ("g = p.check.__func__.__globals__; held = g['_' + 'HIDDEN']",
     ["internals with 'p.check.__func__.__globals__'", "out of pieces: \"'_' +\""]),
]


def _flags(source: str, grade_id: str = "rho-answer", exercise: str = "idle_memory_tax") -> list[str]:
    given = nbformat.read(RELEASE / f"{exercise}.ipynb", as_version=4)
    return grade_script().flags(given, answered(given, {grade_id: source}))


# -- 1: the trial's leaks are flagged, and honest code is not ---------------------------------------------------------
@pytest.mark.parametrize("source", [source for source, _ in LEAKS])
def test_the_trial_s_leaks_read_the_answers(source):
    """Each cell does reach the answers (or the store of every problem's hidden state): the flags are not idle."""
    p = problems.RhoVictim(0)
    ran = {"p": p}
    exec(source, ran)
    if "held" in ran:
        assert ran["held"] is base._HIDDEN and p in ran["held"]
    else:
        right = solve(p)
        assert (list(ran["rhos"]), ran["victim"]) == (list(right["rhos"]), right["victim"])


@pytest.mark.parametrize("source, found", LEAKS)
def test_the_trial_s_leaks_are_flagged(source, found):
    notes = _flags(source)
    assert notes and all(n.startswith("flagged for review: rho-answer ") for n in notes), notes
    for what in found:
        assert any(what in n for n in notes), (what, notes)


@pytest.mark.parametrize("source, found", [
    ("from operator import methodcaller as mc\nd = mc(name)(p)", "'methodcaller as mc'"),
    ("g = getattr\nd = g(type(p), name)(p)", "'g = getattr'"),
    ("import operator as op\nd = op.attrgetter(name)(p)", "op.attrgetter(…)"),
    ("d = getattr(p.vms[0], key)", "getattr(p.vms[0], …)"),
    ("d = getattr(type(p), '_' 'solve')(p)", "out of pieces: \"'_'\" ("),
    ("d = getattr(type(p), f'_{name}')(p)", "out of pieces: \"f'_{\""),
    ("d = vars(type(p))['\\x5fsolve'](p)", "out of pieces: '\\\\x5f'"),
    ("from esxlab.problems.base import _HIDDEN", "imports a private name: 'from esxlab.problems.base import _HIDDEN'"),
    ("cells = p.check.__func__.__closure__", "'p.check.__func__.__closure__'"),
    ("k = type(p).__mro__[1]", "'__mro__'"),
    ("k = p.__class__", "'p.__class__'"),
    ("import gc\nheld = gc.get_referents(p)", "'get_referents'"),
    ("import sys\nf = sys._getframe().f_back.f_globals", "'f_back'"),
])
def test_other_routes_to_the_answers_are_flagged(source, found):
    notes = _flags(source)
    assert notes and all(n.startswith("flagged for review: rho-answer ") for n in notes), notes
    assert any(found in n for n in notes), notes


def test_no_solution_is_flagged():
    grade = grade_script()
    for source in sorted(SOURCE.glob("*.ipynb")):
        given = nbformat.read(RELEASE / source.name, as_version=4)
        assert grade.flags(given, nbformat.read(source, as_version=4)) == [], source.name


@pytest.mark.parametrize("source", [
    "from operator import attrgetter\nbiggest = max(q.running, key=attrgetter('max_mb'))",
    "import operator\nby_mode = operator.attrgetter('sharing.mode')(cfg)",
    "vms = getattr(p, 'vms')\nfirst = getattr(type(p), 'describe')",
    "print(p.__class__.__name__, type(p).__name__)\nprint('_' * 40)",
    "key = v['name'] + '_' + str(3)\nlabel = '_'.join(['a', 'b'])",
    "class Mine:\n    def kind(self):\n        return self.__class__, vars(self), getattr(self, name)",
    "mine = vars()\nprint('use getattr(type(p), name) or methodcaller(x) or __globals__ and gc.get_objects')",
])
def test_honest_code_is_not_flagged(source):
    assert _flags(source, "admission-answer", "free_memory_states") == []


# -- 2: an answer cell that raised is named with its error -----------------------------------------------------------
def test_an_answer_cell_that_raised_gets_a_note_but_one_as_handed_out_does_not():
    grade = grade_script()
    given = nbformat.read(RELEASE / "ballooning.ipynb", as_version=4)
    work = copy.deepcopy(given)
    at = {graded(c).get("grade_id"): i for i, c in enumerate(work.cells)}
    long = "x" * 300
    assert grade._raised(given, work, {at["balloon-answer"]: {"status": "error", "ename": "ValueError",
                                                              "evalue": f"{long}\nits second line"}}) == [
        f"answer cell balloon-answer raised ValueError: {long[:grade.ERROR_CHARS - 1]}…"]
    assert grade._raised(given, work, {at["balloon-answer"]: {"status": "error", "ename": "KeyError",
                                                              "evalue": ""}}) == [
        "answer cell balloon-answer raised KeyError"]
    unanswered = {"status": "error", "ename": "NotImplementedError", "evalue": ""}
    assert grade._raised(given, work, {at["balloon-answer"]: unanswered}) == []
    check = {"status": "error", "ename": "NameError", "evalue": "name 'balloon_mb' is not defined"}
    assert grade._raised(given, work, {at["balloon-check"]: check}) == [], "only answer cells: a check shows its own"
    assert grade._raised(given, work, {at["balloon-answer"]: {"status": "ok"}}) == []


def test_grade_py_names_the_error_of_an_answer_cell(tmp_path):
    solved = nbformat.read(SOURCE / "ballooning.ipynb", as_version=4)
    students = {"zed": answered(solved, {"balloon-answer": "balloon_mb = p.balloon_mb / 0\nswap_mb = 0"}),
                "ada": solved, "una": nbformat.read(RELEASE / "ballooning.ipynb", as_version=4)}
    for name, nb in students.items():
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    done = subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), str(RELEASE / "ballooning.ipynb"),
                           "zed.ipynb", "ada.ipynb", "una.ipynb", "--hints", "--csv", "balloon.csv"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    out = done.stdout
    assert done.returncode == 0, (out, done.stderr)
    assert ("== zed.ipynb\nanswer cell balloon-answer raised ZeroDivisionError: division by zero\n"
            "balloon-check  0 / 3  NameError: name 'balloon_mb' is not defined") in out, out
    assert "== ada.ipynb\nballoon-check  3 / 3  correct" in out, out
    assert "== una.ipynb\nballoon-check  0 / 3  not answered yet" in out, out
    assert out.count("raised") == 1, out
    with open(tmp_path / "balloon.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["zed"]["notes"] == "answer cell balloon-answer raised ZeroDivisionError: division by zero", rows
    assert rows["ada"]["notes"] == rows["una"]["notes"] == "", rows
