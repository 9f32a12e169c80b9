"""The base of every seeded exercise problem: a seed poses the problem, the model answers it.

Like OSTEP's homework simulators: ``Problem(seed)`` draws its parameters from a child
stream of the seed (so other seeds pose other problems), :meth:`~Problem.describe` states
them for the notebook, and ``_solve`` runs esxlab's own model on them — no answer is
written down anywhere. ``_expect`` adds tolerances, a teaching hint and the *typical
mistakes* (the model run the wrong way: tax ignored, hysteresis ignored, gains swapped...)
for :mod:`esxlab.checks`, which names the mistake an answer matches. The answers are kept off
the object a student holds (no public method, nothing in tab completion or ``help()``, nothing in
``vars(p)``: a problem's private state that gives an answer away is a :class:`Hidden` attribute); an
instructor previews them with :mod:`esxlab.problems.instructor`.
(invented: the exercise framework)
"""
from __future__ import annotations

import traceback
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import checks
from ..checks import Expect, Mistake, both
from ..config import PAGES_PER_MB
from ..errors import ConfigError, Error
from ..rng import Streams

MAX_DRAWS = 200
# (the unit asked for, the unit a student gave) → (that unit's number per asked unit, the hint)
UNIT_SLIPS = {
    ("MB", "pages"): (PAGES_PER_MB, "those look like pages; give MB (256 pages of 4 KB make one MB)."),
    ("pages", "MB"): (1 / PAGES_PER_MB, "those look like MB; give pages (256 pages of 4 KB make one MB)."),
    ("MB", "GB"): (1 / 1024, "that looks like the answer in GB; give it in MB."),
    ("MB", "KB"): (1024, "that looks like the answer in KB; give it in MB (1024 KB make one MB)."),
    ("fraction", "%"): (100, "that looks like a percentage; give a fraction (the percentage divided by 100)."),
    ("shares/page", "shares/MB"): (PAGES_PER_MB, "it looks as if P was counted in MB; ρ is shares per 4 KB page "
                                                 "(256 per MB)."),
    ("shares/page", "shares/GB"): (1024 * PAGES_PER_MB, "it looks as if P was counted in GB; ρ is shares per 4 KB "
                                                        "page (262,144 per GB)."),
    ("shares/page", "%"): (100, "those look like ρ × 100, as if ρ were a percentage; ρ is a ratio of shares to "
                                "pages: give it as it is (0.0xyz or 0.00xyz)."),
}


#: each problem's hidden state (:class:`Hidden`), by problem: off the instance, so ``vars(p)`` shows none of it
_HIDDEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_UNSET = object()


class Hidden:
    """A private attribute of a problem kept off the instance: read and written as ``self._x``, but held in
    this module (by problem, weakly), so that ``vars(p)``, ``p.__dict__`` and ``dir(p)``'s values show none of
    it (the trial of session 49: ``vars(p)['_expected']`` held every answer). For what gives an answer away: the
    expectations, a drawn secret, a cached solution or run. ``default``: what it reads before it is set (else
    AttributeError). (invented: the exercise framework)"""

    def __init__(self, default: Any = _UNSET) -> None:
        self.default = default
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, problem: Any, owner: type | None = None) -> Any:
        if problem is None:
            return self
        held = _HIDDEN.get(problem, {})
        if self.name in held:
            return held[self.name]
        if self.default is _UNSET:
            raise AttributeError(f"{type(problem).__name__!r} object has no attribute {self.name!r}")
        return self.default

    def __set__(self, problem: Any, value: Any) -> None:
        _HIDDEN.setdefault(problem, {})[self.name] = value


def _raised_in(err: BaseException) -> str:
    """Where ``err`` was raised, as the innermost frame of its traceback in esxlab's sources: its function, file
    and line (a frame of numpy's below it says less)."""
    package = Path(__file__).resolve().parents[1]
    *_, frame = [f for f in traceback.extract_tb(err.__traceback__)
                 if Path(f.filename).resolve().is_relative_to(package)]
    file = Path(frame.filename).resolve().relative_to(package.parent).as_posix()
    return f"{frame.name}, {file} line {frame.lineno}"


def pick(rng: np.random.Generator, options: Sequence) -> Any:
    """One of ``options``, drawn from ``rng``, as the plain Python value."""
    return options[int(rng.integers(len(options)))]


def slip(right: float | Sequence[float], factor: float, hint: str) -> tuple[Mistake, ...]:
    """The right answer (a number or a list of them) times ``factor``, as a student who slipped would
    write it (in another unit, or as a fraction of another quantity): a :class:`~esxlab.checks.Mistake`
    slip with ``hint`` and ``scale`` |factor|, which the checker names only for an answer nearer it than 0
    (within the answer's tolerance times the factor, if larger; within 5 % of it, if smaller: see
    :class:`~esxlab.checks.Mistake`); none if the answer is 0, which reads the same scaled. (invented: the
    exercise framework)"""
    if not np.any(right):
        return ()
    return (Mistake([x * factor for x in right] if isinstance(right, (list, tuple)) else right * factor, hint,
                    slip=True, scale=abs(factor)),)


def swapped(a: str, right_a: float, b: str, right_b: float, hint: str,
            hint_b: str | None = None) -> tuple[tuple[Mistake, ...], tuple[Mistake, ...]]:
    """The two answers ``a`` and ``b`` (their names and right values) written in each other's place: for
    each, a :class:`~esxlab.checks.Mistake` with ``hint`` (``b``'s with ``hint_b`` if given, else one that
    names both and points to ``a``'s line, so the reason is read once), named only when the other answer is the
    first's right value too, so the student sees it on both lines (as ``(a's mistakes, b's mistakes)``);
    none when the two right values are equal, which no swap can tell apart. (invented: the exercise
    framework)"""
    if right_a == right_b:
        return (), ()
    hint_b = hint_b or f"`{a}` and `{b}` look swapped (why: see `{a}` above)."
    return (Mistake(right_b, hint, given={b: right_a}),), (Mistake(right_a, hint_b, given={a: right_b}),)


def differing(right: Any, *mistakes: Mistake) -> tuple[Mistake, ...]:
    """Those of ``mistakes`` whose value is not ``right`` (an exact answer: a count, a list of choices): a
    mistake that changes no answer in some draws is listed only where it does, so that
    :meth:`Problem._mistakes_apart` turns down no draw it kept before the mistake was added. (invented: the
    exercise framework)"""
    return tuple(m for m in mistakes if m.value != right)


def paired(e: Expect, *made: tuple[Any, Mistake, Mistake]) -> Expect:
    """``e`` with two of its typical mistakes made together (:func:`~esxlab.checks.both`) added to its mistakes, one
    for each ``(value, first, second)`` of ``made`` (``value``: the model run with both mistakes), where it tells the
    student something: outside ``e``'s tolerance of the right answer (a pair within it would turn down draws that
    seeds posed before it was listed, :meth:`Problem._mistakes_apart`), of each of ``e``'s mistakes, and of every
    other pair (two diagnoses of one value would be told at once, joined by ``checks.ALSO``). (invented: the
    exercise framework)"""
    def near(a: Any, b: Any) -> bool:
        return checks._close(e, a, b)
    pairs = tuple(both(value, first, second) for i, (value, first, second) in enumerate(made)
                  if not near(value, e.value) and not any(near(value, m.value) for m in e.mistakes)
                  and not any(near(value, other) for j, (other, _, _) in enumerate(made) if j != i))
    return replace(e, mistakes=e.mistakes + pairs)


def unit_mistakes(right: float | Sequence[float], unit: str, *given: str) -> tuple[Mistake, ...]:
    """The right answer (a number or a list of them, in ``unit``) as a student who worked in each
    unit of ``given`` would write it, with its hint (:data:`UNIT_SLIPS`): a :func:`slip` per unit, none if
    the answer is 0. (invented: the exercise framework)"""
    for other in given:
        if (unit, other) not in UNIT_SLIPS:
            raise ConfigError(f"unit_mistakes has no slip from {unit!r} to {other!r}; "
                              f"choose one of {', '.join(f'{a} → {b}' for a, b in UNIT_SLIPS)}.")
    return tuple(m for other in given for m in slip(right, *UNIT_SLIPS[unit, other]))


class Problem:
    """Base class. Subclasses draw parameters in :meth:`_draw`, may reject dull draws in
    :meth:`_interesting`, and implement :meth:`describe`, ``_solve`` (the answers, by running
    the model) and ``_expect`` (one :class:`~esxlab.checks.Expect` per answer), and name those answers in
    ``ANSWER_NAMES`` (``checks.check`` names the class from them when it is given no problem), and
    ``VARIABLE`` the name its exercise notebook gives it (``p``; ``q`` for a notebook's second problem), which
    ``checks.check`` suggests when it is given no problem. State that gives an answer away is :class:`Hidden`.
    Posing raises esxlab's own errors and NotImplementedError as they are; any other error (numpy's, from a class
    constant changed to values the draw cannot use) as a :class:`ConfigError` naming the problem and seed."""

    ANSWER_NAMES: tuple[str, ...] = ()
    VARIABLE = "p"
    _expected = Hidden(None)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        checks._define(cls)                     # (what a check compares the class with)

    def __init__(self, seed: int = 0) -> None:
        streams = Streams(seed)
        self.seed = streams.seed
        self.streams = streams
        self._expected = None
        rng = streams.child(f"problem:{type(self).__name__}")
        try:
            for _ in range(MAX_DRAWS):
                self._expected = None
                self._draw(rng)
                if self._interesting():
                    return
        except (Error, NotImplementedError):
            raise
        except Exception as err:                 # a bare numpy or Python error: say which problem and seed
            raise ConfigError(f"{type(self).__name__}(seed={self.seed}) could not be posed: {type(err).__name__}: "
                              f"{err} (raised in {_raised_in(err)}). A class constant of the problem (its drawn "
                              "ranges) may have been changed to values it cannot pose; run "
                              "tests/test_problems_checks.py after changing one.") from err
        raise Error(f"{type(self).__name__}(seed={seed}) drew no usable problem in {MAX_DRAWS} tries.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed})"

    def _draw(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _interesting(self) -> bool:
        return True

    def describe(self) -> str:
        """The problem statement: its parameters and what to answer."""
        raise NotImplementedError

    def _solve(self) -> dict[str, Any]:
        """The answers, computed by running the model."""
        raise NotImplementedError

    def _expectations(self) -> list[Expect]:
        """What :func:`esxlab.checks.check` compares each answer with (computed once)."""
        if self._expected is None:
            self._expected = self._expect()
        return self._expected

    def _expect(self) -> list[Expect]:
        raise NotImplementedError

    def _mistakes_apart(self) -> bool:
        """Whether every typical mistake of every answer but an object lies outside the answer's
        tolerance (a choice: differs from it), so that a student who makes it is told so (for
        :meth:`_interesting`)."""
        for e in self._expectations():
            if e.kind != "object" and any(checks._close(e, m.value, e.value) for m in e.mistakes):
                return False
        return True

    def check(self, **answers: Any) -> None:
        """Same as ``checks.check(self, **answers)``."""
        checks.check(self, **answers)


checks._define(Problem)
