"""Checkers for the graded exercises: one line in a notebook, a sentence that teaches.

``checks.check(problem, name=value, ...)`` compares each answer with what the problem's
simulation says (:meth:`esxlab.problems.Problem.expect`): first its type, then its value
within a stated tolerance. A wrong answer raises :class:`CheckFailed` (an
``AssertionError``, so nbval and nbgrader count it) with a sentence saying what to
reconsider — naming the typical mistake the answer matches, if any — and never the right
value. An answer still ``None`` (the starter code) raises ``NotImplementedError``: not
attempted is not the same as wrong. The pattern follows Kaggle's learntools checkers.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import feedback  # noqa: F401  (notebooks show a checker's sentence alone)
from .errors import ConfigError

KINDS = ("number", "numbers", "choice", "choices", "object")


class CheckFailed(AssertionError):
    """A wrong answer; the message says what to reconsider without giving the answer away."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer (computed by running the model the wrong way) and its hint."""

    value: Any
    hint: str


@dataclass(frozen=True)
class Expect:
    """What one answer must be.

    ``kind``: "number" (a real within ``tol``), "numbers" (a list of them), "choice" (one of
    ``choices``), "choices" (a list of them) or "object" (an instance of ``cls``, judged by
    ``judge``, which returns None if right or a hint). ``tol`` is absolute, in ``unit``, or a
    fraction of the right value when ``rel``.
    """

    name: str
    kind: str
    value: Any
    hint: str
    tol: float = 0.0
    rel: bool = False
    unit: str = ""
    choices: tuple = ()
    mistakes: tuple[Mistake, ...] = ()
    cls: type | None = None
    judge: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Expect.kind = {self.kind!r} is not allowed; choose one of {', '.join(KINDS)}.")

    @property
    def tolerance(self) -> str:
        """The tolerance as the failure message states it."""
        if self.kind not in ("number", "numbers"):
            return ""
        each = "each " if self.kind == "numbers" else ""
        if self.rel:
            return f" ({each}within ±{100 * self.tol:g} %)"
        return f" ({each}within ±{self.tol:g}{' ' + self.unit if self.unit else ''})"


def _is_number(x: Any) -> bool:
    """A real number a float can hold (``10**400`` is not: it would overflow the comparison)."""
    if not isinstance(x, numbers.Real) or isinstance(x, (bool, np.bool_)):
        return False
    try:
        float(x)
    except OverflowError:
        return False
    return True


def _describe(x: Any) -> str:
    text = repr(x)
    return f"{text[:40]}… ({type(x).__name__})" if len(text) > 40 else f"{text} ({type(x).__name__})"


def _type_error(e: Expect, value: Any) -> str | None:
    """A sentence if ``value`` has the wrong type or shape for ``e``, else None."""
    single = {"number": "a number (int or float)", "choice": f"a str, one of {', '.join(map(repr, e.choices))}"}
    if e.kind in single:
        ok = _is_number(value) if e.kind == "number" else isinstance(value, str)
        if not ok:
            return f"`{e.name}` must be {single[e.kind]}; got {_describe(value)}."
        if e.kind == "choice" and value not in e.choices:
            return f"`{e.name}` must be one of {', '.join(map(repr, e.choices))}; got {value!r}."
        return None
    if e.kind == "object":
        if isinstance(value, type) and issubclass(value, e.cls):
            return f"`{e.name}` must be an instance of {e.cls.__name__}: call your class, e.g. `{value.__name__}()`."
        if not isinstance(value, e.cls):
            return f"`{e.name}` must be an instance of {e.cls.__name__}; got {_describe(value)}."
        return None
    item = "number" if e.kind == "numbers" else "choice"
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or np.ndim(value) == 0:
        return f"`{e.name}` must be a list of {len(e.value)} items; got {_describe(value)}."
    if len(value) != len(e.value):
        return f"`{e.name}` must have {len(e.value)} items, one per entry of the problem; got {len(value)}."
    for i, v in enumerate(value):
        msg = _type_error(Expect(f"{e.name}[{i}]", item, None, e.hint, choices=e.choices), v)
        if msg:
            return msg
    return None


def _close(e: Expect, got: Any, want: Any) -> bool:
    """Whether ``got`` equals ``want`` within the tolerance (element-wise for lists)."""
    if e.kind in ("numbers", "choices"):
        return len(got) == len(want) and all(_close(_item(e), g, w) for g, w in zip(got, want))
    if e.kind == "number":
        return abs(float(got) - float(want)) <= (e.tol * abs(float(want)) if e.rel else e.tol) + 1e-12
    return got == want


def _item(e: Expect) -> Expect:
    return Expect(e.name, "number" if e.kind == "numbers" else "choice", None, e.hint, e.tol, e.rel, e.unit, e.choices)


def _value_error(e: Expect, value: Any) -> str | None:
    """A teaching sentence if ``value`` is wrong, else None."""
    if e.kind == "object":
        return e.judge(value)
    if _close(e, value, e.value):
        return None
    hint = next((m.hint for m in e.mistakes if _close(e, value, m.value)), e.hint)
    where = ""
    if e.kind in ("numbers", "choices"):
        wrong = [i for i, (g, w) in enumerate(zip(value, e.value)) if not _close(_item(e), g, w)]
        where = f" (first wrong item: `{e.name}[{wrong[0]}]`)"
    return f"`{e.name}` is not right{e.tolerance}{where}: {hint}"


def verify(e: Expect, value: Any) -> None:
    """Check one answer: not attempted, then type, then value."""
    if value is None or value is Ellipsis:
        raise NotImplementedError(f"`{e.name}` is not answered yet: replace None with your answer.")
    msg = _type_error(e, value) or _value_error(e, value)
    if msg:
        raise CheckFailed(msg)


def check(problem, **answers: Any) -> None:
    """Check every answer ``problem`` asks for; print one line if all are right.

    ``checks.check(p, rhos=rhos, victim=victim)``. Raises :class:`CheckFailed` (an
    AssertionError) on the first wrong answer, ``NotImplementedError`` on an unanswered one.
    """
    from .problems import Problem
    if not isinstance(problem, Problem):
        if isinstance(problem, type) and issubclass(problem, Problem):
            fix = f"create it first, e.g. `p = problems.{problem.__name__}(seed=0)`, then `check(p, ...)`"
        else:
            fix = "pass the problem object the exercise created, e.g. `p = problems.RhoVictim(seed=0)`"
        raise ConfigError(f"check() needs a problem from esxlab.problems as its first argument; got "
                          f"{_describe(problem)}: {fix}.")
    expected = problem.expect()
    names = [e.name for e in expected]
    if set(answers) != set(names):
        raise ConfigError(f"check() for {type(problem).__name__} needs exactly the answers "
                          f"{', '.join(names)}; got {', '.join(answers) or 'none'}.")
    for e in expected:
        verify(e, answers[e.name])
    tolerances = "; ".join(f"{e.name}{e.tolerance}" for e in expected)
    print(f"Correct: {tolerances}.")
