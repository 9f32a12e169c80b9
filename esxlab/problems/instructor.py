"""For instructors: a problem's answers and what its checker expects, to preview a seed.

The problem object a student holds has no public method that gives its answers away
(``solve``/``expect`` were one call away in the student's kernel); this module, which the
exercise notebooks never import, is the instructor's way in::

    from esxlab import problems
    from esxlab.problems.instructor import expect, solve
    p = problems.RhoVictim(seed=7); print(p.describe()); solve(p)

esxlab is open source: a student who reads the package can still find the answers, so the
grades are for practice and feedback (see exercises/README.md). (invented: the exercise framework)
"""
from __future__ import annotations

from numbers import Real
from typing import Any

from ..checks import Expect, problem_of
from ..errors import shorten
from .base import Problem


def solve(problem: Problem) -> dict[str, Any]:
    """The answers to ``problem``, by running esxlab's model on its parameters."""
    return problem_of(problem, "solve")._solve()


def expect(problem: Problem) -> Expectations:
    """What :func:`esxlab.checks.check` compares each answer of ``problem`` with: value,
    tolerance, hint and typical mistakes (a list of :class:`~esxlab.checks.Expect`, printed one answer a paragraph)."""
    return Expectations(problem_of(problem, "expect")._expectations())


class Expectations(list):
    """:func:`expect`'s list of :class:`~esxlab.checks.Expect`, shown for a reader: each answer's name, kind, value
    and tolerance, its hint, and each typical mistake's value and hint (numbers to 4 significant digits), where the
    dataclasses' own repr printed one line of thousands of characters (an instructor's trial)."""

    def __repr__(self) -> str:
        return "\n\n".join(_described(e) for e in self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:      # IPython's display of the cell's value
        printer.text(repr(self))


def _described(e: Expect) -> str:
    if e.kind == "object":
        what = f"an instance of {getattr(e.cls, '__name__', 'any class')}, judged by the checker"
    elif e.kind in ("choice", "choices"):
        what = f"{_shown(e.value)} (one of {', '.join(map(repr, e.choices))})"
    else:                                # the tolerance as the checker states it (Expect.tolerance)
        what = f"{_shown(e.value)}{f' {e.unit}' if e.unit else ''}{e.tolerance}"
    lines = [f"{e.name} ({e.kind}): {what}", f"  hint: {e.hint}"]
    lines += [f"  {'slip' if m.slip else 'mistake'}: {_shown(m.value)} → {m.hint}" for m in e.mistakes]
    return "\n".join(lines)


def _shown(value: Any) -> str:
    """``value`` for :class:`Expectations`: numbers to 4 significant digits, lists of them item by item."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, Real) and not isinstance(value, bool):
        return f"{value:.4g}"
    return shorten(value)
