"""Helpers for the exercises' tests: the message a wrong answer gets, its line about one answer, and
exercises/grade.py as a module."""
from __future__ import annotations

import copy
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from esxlab import checks
from esxlab.exercises import graded

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"


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
    return nbformat.read(Path(__file__).resolve().parents[1] / folder / f"{name}.ipynb", as_version=4).cells
