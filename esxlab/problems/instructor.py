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

from typing import Any

from ..checks import Expect, problem_of
from .base import Problem


def solve(problem: Problem) -> dict[str, Any]:
    """The answers to ``problem``, by running esxlab's model on its parameters."""
    return problem_of(problem, "solve")._solve()


def expect(problem: Problem) -> list[Expect]:
    """What :func:`esxlab.checks.check` compares each answer of ``problem`` with: value,
    tolerance, hint and typical mistakes."""
    return problem_of(problem, "expect")._expectations()
