"""Helpers for the exercises' tests: the message a wrong answer gets, its line about one answer, an
exercise's cells and text, and exercises/grade.py as a module."""
from __future__ import annotations

import copy
import json
import math
import re
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from esxlab import checks
from esxlab.checks import CheckFailed
from esxlab.exercises import graded

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
ROOT, SOURCE = EXERCISES.parent, EXERCISES / "source"
GUIDE = (EXERCISES / "README.md").read_text()


def fails(problem, answers: dict, exc: type[Exception] = checks.CheckFailed) -> str:
    """The message ``checks.check(problem, **answers)`` fails with (``exc``)."""
    with pytest.raises(exc) as failed:
        checks.check(problem, **answers)
    return str(failed.value)


def line(message: str, name: str) -> str:
    """The line of a check's ``message`` about answer ``name``."""
    return next(text for text in message.splitlines() if f"`{name}` is not right" in text)


def grade_script() -> ModuleType:
    """exercises/grade.py as a module (it is a script of the checkout, not of the package)."""
    sys.path.insert(0, str(EXERCISES))
    try:
        import grade
    finally:
        sys.path.remove(str(EXERCISES))
    return grade


def answered(given, answers: dict[str, str]):
    """A copy of notebook ``given`` with the answer cells ``answers`` (grade id → source) replaced."""
    work = copy.deepcopy(given)
    for cell in work.cells:
        if graded(cell).get("grade_id") in answers:
            cell.source = answers[graded(cell)["grade_id"]]
    return work


def exercise_cells(name: str, folder: str = "exercises/source") -> list:
    """The cells of exercise ``name`` in ``folder`` (the solutions; "exercises/release" for the student version)."""
    return nbformat.read(ROOT / folder / f"{name}.ipynb", as_version=4).cells


def feedback(problem, **answers) -> str:
    """The message ``checks.check(problem, **answers)`` fails with: :func:`fails` with the answers as keywords."""
    return fails(problem, answers)


def verify_message(e, value) -> str:
    """The message ``checks.verify(e, value)`` fails with (CheckFailed): one expectation's feedback."""
    with pytest.raises(CheckFailed) as err:
        checks.verify(e, value)
    return str(err.value)


def places_named(msg: str) -> set[int]:
    """The decimal places a rounding hint names ("cut or rounded to 2 or 3 decimal places" → {2, 3})."""
    found = re.search(r"cut or rounded to ([\d, or]+) decimal place", msg)
    return {int(x) for x in re.findall(r"\d+", found.group(1))} if found else set()


def cut(w: float, p: int) -> float:
    """``w`` cut (not rounded) to ``p`` decimal places."""
    return math.trunc(w * 10 ** p + math.copysign(1e-9, w)) / 10 ** p


def exercise_markdown(notebook: str) -> str:
    """All of exercise ``notebook``'s cells' text (the solution's), one after another."""
    cells = json.loads((SOURCE / f"{notebook}.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


def answer_line(message: str, name: str) -> str:
    """The line of a check's message about answer ``name``."""
    return next(line for line in message.splitlines() if line.lstrip("- ").startswith(f"`{name}` "))


def background(name: str, folder: str) -> str:
    """Exercise ``name``'s *Background* cell in ``folder``, as one line."""
    cells = nbformat.read(ROOT / folder / f"{name}.ipynb", as_version=4).cells
    return " ".join(next(c.source for c in cells if c.source.startswith("## Background")).split())


def solved(name: str):
    """Exercise ``name``'s solution notebook."""
    return nbformat.read(SOURCE / f"{name}.ipynb", as_version=4)


def guide_section(start: str, end: str) -> str:
    """exercises/README.md from ``start`` to the next ``end``."""
    return GUIDE[GUIDE.index(start):GUIDE.index(end, GUIDE.index(start))]
