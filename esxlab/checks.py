"""Checkers for the graded exercises: one line in a notebook, a sentence that teaches.

``checks.check(problem, name=value, ...)`` poses the problem afresh from its seed and compares
each answer with what its simulation says (the problem's ``_expect``): first its type, then its
value within a stated tolerance. A wrong answer raises :class:`CheckFailed` (an
``AssertionError``, so nbval and nbgrader count it) with a sentence saying what to
reconsider — naming the typical mistake the answer matches, if any, and saying if it is (also)
the right value cut or rounded to too few decimal places — and never the right value. A choice may be typed
in another case or with other spaces ('High ' for 'high'), as in the lesson Questions. Every
answer is checked: the wrong ones are named together, a line each. An answer still ``None`` (the
starter code, or the student's code that found no answer) or ``...`` (a placeholder of the student's) raises
``NotImplementedError`` if none is wrong: not attempted is not the same as wrong. The pattern follows Kaggle's
learntools checkers.

The notebooks' locked check cells reload this module before calling :func:`check`, so an
answer cell that rebinds ``checks.check`` changes nothing; :class:`CheckFailed` survives the
reload (it is the same class before and after), and so does the seed the locked set-up cell
records (:func:`handed_out`), which a check compares the problem's seed with.
"""
from __future__ import annotations

import decimal
import math
import numbers
import os
import re
import sys
import weakref
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import feedback  # noqa: F401  (notebooks show a checker's sentence alone)
from .errors import ConfigError, array_shape, did_you_mean, shorten

KINDS = ("number", "numbers", "choice", "choices", "object")
# decimal places at which a wrong answer is recognised as the right one cut or rounded (invented): a rounding
# fails only where 10⁻ᵖ exceeds the tolerance, and every exercise's tolerance is above 10⁻⁵ (the smallest,
# RhoVictim's ±1 % of ρ ≥ 0.0014, is 1.4·10⁻⁵) but for exact whole numbers, which no rounding changes: places
# 0–6 cover them all with room to spare
PLACES = range(7)
#: the hint of an answer that is the right one cut or rounded too far (:func:`_rounded_hint`): to how many decimal
#: places and significant figures, the precision that keeps within the tolerance and what the answer looks like at it,
#: its digits as x (``{example}``: " (as 0.xx, not 0.4)"), never the right value; not whether it was cut or rounded,
#: which would tell the next digit (invented: the exercise framework)
ROUNDED = ("that looks like the right answer cut or rounded to {places} ({figures}), which is outside the tolerance: "
           "{keep}{example}.")
# how near a slip into a smaller unit (GB for MB) an answer must be to read as it, as a fraction of the slip's value
# (invented): a student rounds the other unit to 2 significant figures, at most 5 % off (0.19 for 0.1924 GB)
SLIP_NEAR = 0.05
ANOTHER_ORDER = "those are the right values in another order; give them in the order {order}."
ALSO = " Another mistake gives the same answer: "      # joins the hints of mistakes that give one value
#: the hint of an answer that two typical mistakes made together explain (:func:`_combined`, :func:`both`), each
#: mistake's own hint in turn (invented: the exercise framework)
TWO = "that looks like two mistakes made together. "
BOTH = TWO + "First, {first} Second, {second}"
#: joins a listed pair's halves (its :data:`BOTH` after :data:`TWO`) to a simpler reading of the same answer, which
#: is told first (:func:`_mistake_hint`)
PAIR_TOO = " Two rule mistakes made together give the same answer too. "
#: the second mistake of :data:`BOTH` for a typical mistake's value cut or rounded early (:func:`_rounded_too`): how
#: (cut, rounded), to how many decimal places and significant figures, and the precision that keeps within the
#: tolerance (which the message's first words state: it was said twice)
ROUNDED_TOO = ("the result was then {how} to {places} ({figures}), which is outside the tolerance: {keep}, and round "
               "only the final answer.")
#: a number as typed, at the start of a text: a decimal point or a decimal comma, an exponent (also the lesson boxes')
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
#: what may follow the number as its unit: a word starting with a letter, % or ×, and no digit
UNIT_WORD = re.compile(r"(?:[^\W\d_]|[%×])\D*$")
#: a percentage's sign or word, as typed after a number in a text answer ("13%", "80 percent")
PERCENT = re.compile(r"%|per ?cent", re.IGNORECASE)
#: a thousands separator: a comma, a space, a no-break space or a thin space (U+202F, U+00A0, U+2009)
THOUSANDS_SEPS = ", \u00a0\u2009\u202f"
#: a number written with thousands separators, English style: 1 to 3 digits (not a lone 0), then groups
#: of exactly three digits, all behind the same separator, then perhaps a decimal point (or a decimal comma
#: after space-grouped thousands, as in French: 1 234,5); also the lesson boxes'
GROUPED_NUMBER = re.compile(rf"([+-]?)([1-9]\d{{0,2}}(?P<sep>[{THOUSANDS_SEPS}])\d{{3}}(?:(?P=sep)\d{{3}})*)([.,]\d+)?"
                            r"(?![\d.,])")


try:                # importlib.reload keeps the module's globals: keep the class, so `except CheckFailed` holds
    CheckFailed      # noqa: B018
except NameError:
    class CheckFailed(AssertionError):
        """A wrong answer; the message says what to reconsider without giving the answer away."""


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer (computed by running the model the wrong way) and its hint.

    ``slip``: the right value in another unit (pages for MB, GB, a percentage...). 0 reads the same in
    every unit, so a slip is named only for an answer nearer its value than 0. ``scale``: a slip's
    factor (its value over the right one); above 1 the slip is named within the answer's tolerance times
    it, as a student writes the other unit as precisely (0.5 % for a fraction within 0.005); below 1 (a
    smaller unit: GB for MB) only within :data:`SLIP_NEAR` (5 %) of its value, item by item, and never beyond
    the answer's tolerance: ±1 MB around 0.149 GB would call anything from 0.075 to 1.15 "GB".
    ``given``: the other answers (name → value) this mistake comes with; it is named only when the
    student's are those (each within its own tolerance), and then rather than a mistake of the same value
    that names none. ``rounding_first``: for an answer that is also the right one cut or rounded, the rounding hint
    comes first and this one after it (a mistake whose value lies that near the right one: the student more
    likely rounded). ``paired``: two mistakes made together (:func:`both`), which :func:`_combined` does not pair with a
    third (its hint would hold "two mistakes made together" twice).
    """

    value: Any
    hint: str
    slip: bool = False
    given: Mapping[str, Any] = field(default_factory=dict)
    scale: float = 1.0
    rounding_first: bool = False
    paired: bool = False


@dataclass(frozen=True)
class Carried:
    """An answer worked out rightly from other answers that are wrong (a knock-on error): ``value(answers)``
    gives it from the student's other answers (name → value; those of the wrong type left out), raising
    ``KeyError``, ``TypeError`` or ``ValueError`` where they cannot give one; ``hint`` says so. Named first,
    before any typical mistake of the same value. The same works out a typical mistake from the student's own
    other answers, so that its hint is told whatever those are (SamplingEstimate: the mean of one's own averages
    as the estimate); a value it shares with another of the answer's Carried is for one of them to refuse
    (raise), as both are told (invented: the exercise framework)."""

    value: Callable[[Mapping[str, Any]], Any]
    hint: str


@dataclass(frozen=True)
class Expect:
    """What one answer must be.

    ``kind``: "number" (a real within ``tol``), "numbers" (a list of them), "choice" (one of
    ``choices``), "choices" (a list of them) or "object" (an instance of ``cls``, judged by
    ``judge``, which returns None if right or a hint). ``tol`` is absolute, in ``unit``, or a
    fraction of the right value when ``rel``. ``rounded_hint`` is the hint for a numeric answer whose
    wrong items are the right ones cut or rounded (``{places}``: e.g. "3 or 4 decimal places"), or
    None where such a number is likelier another mistake than a rounding. ``order``: the order of a
    "numbers" answer's items, as "give them in the order …" ends (e.g. "of p.vms (web, db, mail)"), for
    an answer that is the right values in another order. ``carried``: a "number" or "choice" answer worked out
    rightly from wrong other answers (:class:`Carried`, or a tuple of them: a typical mistake worked out from
    them too), named with its own hint. ``nonnegative``: an amount (MB, pages) that cannot be negative: a negative
    answer is never right, even within the tolerance of a right 0, and one no typical mistake explains (a
    shrinking balloon's "increase" is negative) is told so, not given the hint. ``per``: what each item of a
    "numbers" or "choices" answer stands for, one of the problem's things as its statement lists them, in the
    singular ("VM", "reading"; the plural adds an s): a list of the wrong length is told how many VMs the problem
    has and that one value is wanted per VM, in ``order`` ("one value too few … Did your answer cell stop
    part-way?" misled a student who listed two of three VMs). ``none_hint``: why an answer the student's own code
    left None has one all the same (e.g. "the page is always remapped within p.bursts"), told beside "replace None
    with your answer".
    ``allowed``: for a "number" answer, the values it can take at all:
    a function of the answer that returns None for one it can be, else what it must be, a phrase that starts with
    "must" ("must lie between 0 and 1: it is a fraction"); an answer outside them is never right, even within
    the tolerance, and one that no typical mistake explains is told that ("`f` must lie between 0 and 1 …; got
    -0.13 (float).") instead of the general hint.
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
    rounded_hint: str | None = ROUNDED
    order: str = ""
    carried: Carried | tuple[Carried, ...] | None = None
    nonnegative: bool = False
    per: str = ""
    none_hint: str = ""
    allowed: Callable[[Any], str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"Expect.kind = {self.kind!r} is not allowed; choose one of {', '.join(KINDS)}.")
        # (by shape, not isinstance: a check cell reloads this module, and the problems keep the Carried they made)
        if not all(callable(getattr(c, "value", None)) and hasattr(c, "hint") for c in self.each_carried):
            raise ConfigError(f"Expect.carried = {shorten(self.carried)} is not allowed; give one Carried, or a "
                              "tuple of them.")

    @property
    def each_carried(self) -> tuple[Carried, ...]:
        """:attr:`carried` as a tuple (empty for None)."""
        return () if self.carried is None else self.carried if isinstance(self.carried, tuple) else (self.carried,)

    @property
    def tolerance(self) -> str:
        """The tolerance as the failure message states it ("exact" for none)."""
        if self.kind not in ("number", "numbers"):
            return ""
        each = "each " if self.kind == "numbers" else ""
        if self.tol == 0:                        # not "within ±0 s"
            return f" ({each}exact)"
        if self.rel:
            return f" ({each}within ±{100 * self.tol:g} %)"
        if self.unit == "%":                     # an absolute margin on a percentage: not "±0.1 %", which reads relative
            return f" ({each}within ±{self.tol:g} percentage points)"
        # a factor's margin is a plain number: "within ±0.01", not "within ±0.01 ×"
        unit = f" {self.unit}" if self.unit and self.unit != "×" else ""
        return f" ({each}within ±{self.tol:g}{unit})"


def _is_real(x: Any) -> bool:
    """A real number, of any kind: int, float, numpy scalar, Fraction, Decimal or a 0-d numeric array. Not a numpy
    time span (``np.timedelta64(33, 's')``), which numpy makes an integer type but no float holds."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return np.issubdtype(x.dtype, np.number) and not np.issubdtype(x.dtype, np.complexfloating) \
            and not np.issubdtype(x.dtype, np.timedelta64)
    return isinstance(x, (numbers.Real, decimal.Decimal)) and not isinstance(x, (bool, np.bool_, np.timedelta64))


def _too_large(x: Any) -> bool:
    """Whether a float cannot hold ``x`` (``10**400``: it would overflow the comparison)."""
    try:
        float(x)
    except OverflowError:
        return True
    return False


def _not_finite(x: Any) -> str | None:
    """"not a number" for a NaN, "infinite" for ±inf, else None (a number too large for a float is
    :func:`_too_large`'s)."""
    try:
        f = float(x)
    except OverflowError:
        return None
    except ValueError:                           # Decimal('sNaN')
        return "not a number"
    return "not a number" if math.isnan(f) else "infinite" if math.isinf(f) else None


def _describe(x: Any) -> str:
    """``x`` on one line for a sentence, with its type: "-3 (int)", "an array of shape (2, 2) (float64)"."""
    return array_shape(x) or f"{shorten(x)} ({type(x).__name__})"


def _type_error(e: Expect, value: Any, names: Sequence[str] = ()) -> str | None:
    """A sentence if ``value`` has the wrong type or shape for ``e``, else None. ``names``: the problem's answers, for
    :func:`_not_one_number`."""
    single = {"number": "a number (int or float)", "choice": f"a str, one of {', '.join(map(repr, e.choices))}"}
    if e.kind in single:
        ok = _is_real(value) if e.kind == "number" else isinstance(value, str)
        if not ok:
            told = _not_one_number(e, value, names) if e.kind == "number" else None
            return told or f"`{e.name}` must be {single[e.kind]}; got {_describe(value)}."
        odd = _not_finite(value) if e.kind == "number" else None
        if odd:
            return f"`{e.name}` is {value} ({odd}): give a finite number (int or float)."
        if e.kind == "number" and _too_large(value):
            return f"`{e.name}` is too large to be an answer here (a float cannot hold it); got {_describe(value)}."
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
    each = "".join(f", {part}" for part in (e.per and f"one per {e.per}", e.order and f"in the order {e.order}")
                   if part)
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or _ndim(value) == 0:
        return f"`{e.name}` must be a list of {_values(len(e.value))}{each}; got {_describe(value)}."
    nested = _nested(e, value, each)
    if nested:
        return nested
    if len(value) != len(e.value):
        return _wrong_length(e, len(value), each)
    for i, v in enumerate(value):
        msg = _type_error(Expect(f"{e.name}[{i}]", item, None, e.hint, choices=e.choices), v)
        if msg:
            return msg
    return None


def _not_one_number(e: Expect, value: Any, names: Sequence[str]) -> str | None:
    """The sentence for a "number" answer given as a tuple or list of numbers (``remap_s = (82, 4)``: where the
    problem asks for several answers, ``names``, each goes in its own name) or as text, a number with a unit after it
    (``"197 MB"``) or alone (``"82"``); else None."""
    if isinstance(value, (tuple, list)) and value and all(map(_is_real, value)):
        several = len(value) > 1 and len(names) > 1
        apart = f": each answer goes in its own name ({', '.join(f'`{n}`' for n in names)})" if several else ""
        return (f"`{e.name}` is a sequence of {_values(len(value))}, {_describe(value)}, where one number is "
                f"expected{apart}.")
    typed = value.strip() if isinstance(value, str) else ""
    number = GROUPED_NUMBER.match(typed) or PLAIN_NUMBER.match(typed)
    written = _written(number[0]) if number else None
    if written is None:
        return None
    rest = typed[number.end():].strip()
    if not rest:
        return f"`{e.name}` is text, {value!r}, where a number is expected: give it without quotes{written}."
    if UNIT_WORD.match(rest):
        if not written and PERCENT.fullmatch(rest) and _a_fraction_as_percentage(e, float(number[0])):
            return (f"`{e.name}` is text, {value!r}, where one number is expected: give it as a fraction (the "
                    "percentage divided by 100), without quotes.")
        unit = f", in {e.unit}" if e.unit else ""
        return (f"`{e.name}` is text, {value!r}, where one number is expected: give the number alone{unit}, "
                f"without quotes{written}.")
    return None


def _a_fraction_as_percentage(e: Expect, number: float) -> bool:
    """Whether ``number``, typed with a percent sign, is no value answer ``e`` allows (:attr:`Expect.allowed`) but a
    hundredth of it is: a fraction given as a percentage (invented: the exercise framework)."""
    return e.allowed is not None and e.allowed(number) is not None and e.allowed(number / 100) is None


def _written(number: str) -> str | None:
    """What else to change in ``number``, a number as typed in a text answer, to write it in Python ("" if nothing;
    None if it cannot be read, "1,234,5"): a decimal comma ("8,2") becomes a point; thousands separators go, read
    the English way as the lesson boxes read them ("16,384" is 16384, but may be a decimal comma too, so both are
    named)."""
    grouped = GROUPED_NUMBER.fullmatch(number)
    if not grouped:
        return f" and with a decimal point ({number.replace(',', '.')})" if "," in number else ""
    digits, ambiguous = grouped_reading(grouped)
    if digits is None:
        return None
    if ambiguous:
        return (f" and without the comma ({digits}), or with a decimal point ({number.replace(',', '.')}) "
                "if the comma is a decimal comma")
    point = ", with a decimal point" if (grouped[4] or ".").startswith(",") else ""
    return f" and without the thousands separators{point} ({digits})"


def grouped_reading(grouped: re.Match) -> tuple[str | None, bool]:
    """How a number that :data:`GROUPED_NUMBER` matched reads, as the exercise checks and the lesson boxes read it:
    (the number as Python writes it, "1,234,567.5" → "1234567.5", "1 234,5" → "1234.5"; None where a comma both
    groups and marks the decimal, "1,234,5"), and whether it is ambiguous: one comma before three digits and no
    fraction ("16,384": read as 16384, but perhaps a decimal comma)."""
    sign, whole, sep, fraction = grouped.groups()
    if sep == "," and (fraction or ".").startswith(","):
        return None, False
    ambiguous = sep == "," and whole.count(",") == 1 and not fraction
    return sign + re.sub(f"[{THOUSANDS_SEPS}]", "", whole) + (fraction or "").replace(",", "."), ambiguous


def _ndim(x: Any) -> int:
    """``np.ndim(x)``; 1 for a ragged list (``[[1, 2], 3]``), of which numpy makes no array."""
    try:
        return np.ndim(x)
    except ValueError:
        return 1


def _nested(e: Expect, value: Any, each: str) -> str | None:
    """The sentence for a list answer given as a table (a 2-D array or DataFrame, a list with a list in it), else
    None: a list of one list is not a list one value long, cut short by an answer cell that stopped."""
    flat = f"give `{e.name}` as a flat list of {_values(len(e.value))}{each}"
    if hasattr(value, "shape") and _ndim(value) > 1:
        return f"`{e.name}` has {_ndim(value)} dimensions (shape {value.shape}): {flat}."
    inner = next(((i, v) for i, v in enumerate(value) if _ndim(v) > 0), None)
    if inner is None:
        return None
    i, v = inner
    kind = {list: "a list", tuple: "a tuple"}.get(type(v), "an array")
    return f"`{e.name}[{i}]` is {kind}: {flat}, not a list of lists."


def _values(n: int) -> str:
    """"1 value", "3 values"."""
    return f"{n} value" if n == 1 else f"{n} values"


def _wrong_length(e: Expect, got: int, each: str) -> str:
    """The sentence for a list answer of ``got`` items where ``e`` expects another number: how many were given, by
    how many it is off ("one value too many", "2 values too few") and what the question expects: one value per VM
    (:attr:`Expect.per`) in its order and how many VMs the problem has, else how many values (``each``: ", in the
    order [memory, swap]", or "" where the answer names none). An empty list is asked whether the answer cell
    stopped before it filled it; a list too short, only if the cell fills it in a loop (a student who listed two of
    three VMs did not stop part-way)."""
    want = len(e.value)
    if e.per:
        order = f", in the order {e.order}" if e.order else ""
        expects = f"; this problem has {want} {e.per}s, and one value is wanted per {e.per}{order}"
    else:
        expects = f", and this question expects {_values(want) if got == 0 else want}{each}"
    if got == 0:
        return (f"`{e.name}` is an empty list{expects}. Did your answer cell stop before it filled it? Run it again "
                "and read its error.")
    off = abs(got - want)
    how = f"{'one value' if off == 1 else _values(off)} too {'many' if got > want else 'few'}"
    loop = (" If your answer cell fills it in a loop, check that the cell ran to its end: run it again and read its "
            "error.") if got < want else ""
    return f"`{e.name}` has {how}: you gave {_values(got)}{expects}.{loop}"


def spelling(text: str) -> str:
    """``text`` as choices (and the lesson widgets' units) are matched whatever their case and spaces: lower
    case, single spaces."""
    return " ".join(text.lower().split())


def as_choice(e: Expect, value: Any) -> Any:
    """``value`` with a str that names one of ``e.choices`` in another case or with other spaces ('High ',
    'DB') read as that choice, as the lesson Questions read a typed choice (an exact match first; a spelling
    that two choices share stays as typed); for "choices", each item of a list, tuple or 1-D numpy array (states
    built with np.where). A str of a subclass (numpy's str too) is read as the plain str it holds: a subclass's own
    ``==`` could say it equals any choice (an integrity trial: ``class S(str): __eq__ = lambda s, o: True`` passed
    every choice answer). Anything else as it is (invented: the exercise framework)."""
    if isinstance(value, str):
        value = str.__str__(value)              # the characters it holds, as an exact str
    if e.kind == "choices" and (isinstance(value, (list, tuple)) or isinstance(value, np.ndarray) and value.ndim == 1):
        return [as_choice(_item(e), v) for v in value]
    if e.kind != "choice" or not isinstance(value, str) or value in e.choices:
        return value
    alike = [c for c in e.choices if isinstance(c, str) and spelling(c) == spelling(value)]
    return alike[0] if len(alike) == 1 else value


def _held(e: Expect, value: Any) -> Any:
    """A "numbers" or "choices" answer as the items it holds: a list or tuple of a subclass, or another sequence (a
    deque), as the list of the items it yields; an array-like (a numpy array of a subclass, a pandas Series or
    DataFrame) as a plain numpy array, whose shape :func:`_type_error` tells; a list, a tuple, a plain numpy array
    and what is no sequence (a str, a dict, a number) as it is. The checks count a list's items with ``len`` and
    compare them by iterating, which an object of one's own can make disagree (an integrity trial: a sequence whose
    len is the expected one and which yields nothing passed `states`). (invented: the exercise framework)"""
    if e.kind not in ("numbers", "choices") or type(value) in (list, tuple, np.ndarray) \
            or isinstance(value, (str, bytes, dict)):
        return value
    if isinstance(value, np.ndarray) or hasattr(value, "shape"):
        try:
            return np.asarray(value)
        except Exception:                       # noqa: BLE001 (an object of one's own): read by its items below
            pass
    try:
        return list(value)
    except TypeError:                           # no sequence: _type_error says what it is
        return value


def _close(e: Expect, got: Any, want: Any) -> bool:
    """Whether ``got`` equals ``want`` within the tolerance (element-wise for lists)."""
    if e.kind in ("numbers", "choices"):
        return len(got) == len(want) and all(_close(_item(e), g, w) for g, w in zip(got, want))
    if e.kind == "number":
        return abs(float(got) - float(want)) <= (e.tol * abs(float(want)) if e.rel else e.tol) + 1e-12
    return got == want


def _item(e: Expect) -> Expect:
    return Expect(e.name, "number" if e.kind == "numbers" else "choice", None, e.hint, e.tol, e.rel, e.unit, e.choices)


def _distance(e: Expect, got: Any, want: Any) -> float:
    """How far ``got`` is from ``want``: the largest difference of an item, 0 for an equal choice."""
    if e.kind in ("numbers", "choices"):
        return max((_distance(_item(e), g, w) for g, w in zip(got, want)), default=0.0)
    if e.kind == "number":
        return abs(float(got) - float(want))
    return 0.0 if got == want else float("inf")


def _rounded_places(got: Any, want: Any) -> int | None:
    """The fewest decimal places p (of PLACES) to which ``want`` cut (towards zero) or rounded (to
    the nearest) is ``got``, else None. Only places that keep a significant figure of ``want`` count
    (0 is no rounding of 0.4, nor 1 of 0.6), and none at which ``want`` already is a p-place number
    (to within float noise): its one rounding is itself, and a number a whole unit away is another
    mistake, as is a neighbour that is neither cut nor rounded (0.2 for 0.13)."""
    g, w = float(got), float(want)
    for p in PLACES:
        if 10.0 ** -p > abs(w) or abs(w - round(w, p)) <= 1e-9 * abs(w):
            continue
        if any(math.isclose(g, c, rel_tol=1e-9, abs_tol=1e-12) for c in _cut_and_rounded(w, p)):
            return p
    return None


def _places_text(places: list[int], unit: str = "decimal place") -> str:
    """[1] → "1 decimal place", [3, 4] → "3 or 4 decimal places"; ``unit`` "significant figure": [2] → "2
    significant figures"."""
    listed = ", ".join(map(str, places[:-1])) + " or " * (len(places) > 1) + str(places[-1])
    return f"{listed} {unit}{'' if places == [1] else 's'}"


def _rounded_hint(e: Expect, value: Any) -> str | None:
    """``e.rounded_hint`` if ``value`` is numeric and each of its wrong items is its right value cut or
    rounded to a few decimal places (:func:`_rounded_places`), else None. Its fields: ``places``, ``figures`` (the
    significant figures those places keep), ``keep`` (:func:`_keep`) and ``example`` (the first wrong item as given
    beside what it looks like at that precision, :func:`_shape`; left out where the item as given has another sign or
    power of ten than the right value, whose form would then tell its next digit: 9.96 given as 10.0, 0.995 as 1).
    It said only "give more significant figures" before, not how many the check needs (a review of session 70).
    (invented: the exercise framework)"""
    rounding = _rounding(e, value, e.value)
    if rounding is None:
        return None
    places, wrong = rounding
    precision = _precision(e, e.value if e.kind == "numbers" else [e.value])
    given, right, _ = wrong[0]
    alike = given and right and (given > 0) == (right > 0) and _power(given) == _power(right)
    example = f" (as {_shape(right, precision)}, not {_as_given(given)})" if precision and alike else ""
    return e.rounded_hint.format(places=places, figures=_figures_text(wrong), keep=_keep(precision), example=example)


def _rounding(e: Expect, value: Any, want: Any) -> tuple[str, list[tuple[Any, float, int]]] | None:
    """For ``value``, ``want`` (the right value, or a typical mistake's) cut or rounded too far
    (:func:`_rounded_from`): the decimal places as told ("3 or 4 decimal places") and each wrong item (as given, its
    value in ``want``, its places); None if it is no such value."""
    places = _rounded_from(e, value, want)
    if places is None:
        return None
    item, pairs = (_item(e), list(zip(value, want))) if e.kind == "numbers" else (e, [(value, want)])
    return places, [(g, float(w), _rounded_places(g, w)) for g, w in pairs if not _close(item, g, w)]


def _figures_text(wrong: list[tuple[Any, float, int]]) -> str:
    """The significant figures the wrong items of :func:`_rounding` keep ("2 significant figures")."""
    return _places_text(sorted({_figures(w, p) for _, w, p in wrong}), "significant figure")


def _as_given(x: Any) -> str:
    """A number of an answer as the student wrote it: 75 for an int, 0.4 for a float of any kind."""
    return str(int(x)) if _whole(x) else repr(float(x))


def _rounded_from(e: Expect, value: Any, want: Any) -> str | None:
    """The decimal places ("3 or 4 decimal places") to which each item of ``value`` that is not within ``e``'s
    tolerance of ``want`` (the right value, or a typical mistake's) is ``want``'s cut or rounded
    (:func:`_rounded_places`); None if one is not, if none is outside the tolerance, or where ``e`` names no
    rounding (:attr:`Expect.rounded_hint` None: a round number there is likelier another mistake)."""
    if e.kind not in ("number", "numbers") or e.rounded_hint is None:
        return None
    item, pairs = (_item(e), zip(value, want)) if e.kind == "numbers" else (e, [(value, want)])
    places = [_rounded_places(g, w) for g, w in pairs if not _close(item, g, w)]
    if not places or None in places:
        return None
    return _places_text(sorted(set(places)))


def _cut_and_rounded(w: float, places: int) -> tuple[float, float]:
    """``w`` cut (towards zero) and rounded (to the nearest) to ``places`` decimal places."""
    unit = 10.0 ** -places
    return math.copysign(math.floor(abs(w) / unit + 1e-9) * unit, w), round(w, places)  # (+1e-9: 0.29 / 0.01 is 28.99…)


def _figures(w: float, places: int) -> int:
    """How many significant figures ``w`` keeps at ``places`` decimal places (0.04578 at 3: 2; 12.34 at 1: 3): the
    inverse of :func:`_places`."""
    return places + _power(w) + 1


def _power(w: float) -> int:
    """The power of ten of ``w``'s first significant figure (0.0356: −2; 75.6: 1)."""
    return math.floor(math.log10(abs(w)))


def _places(w: float, figures: int) -> int:
    """The decimal places at which ``w`` keeps ``figures`` significant figures (0.04578 at 2: 3; 12.34 at 3: 1;
    negative for figures left of the point): the inverse of :func:`_figures`."""
    return figures - 1 - _power(w)


#: a precision (:func:`_precision`): how many, and of what ("decimal place" or "significant figure")
_Precision = tuple[int, str]


def _precision(e: Expect, want: Sequence[float]) -> _Precision | None:
    """The fewest decimal places (an absolute tolerance) or significant figures (a relative one) that keep each of
    ``want`` (the values a student works out) within ``e``'s tolerance however it is cut or rounded; None beyond 15,
    and for an exact answer."""
    item = _item(e) if e.kind == "numbers" else e
    if not e.rel:
        fits = [p for p in range(16) if e.tol and all(_close(item, c, w) for w in want for c in _cut_and_rounded(w, p))]
        return (fits[0], "decimal place") if fits else None
    need = [next((n for n in range(1, 16) if all(_close(item, c, w) for c in _cut_and_rounded(w, _places(w, n)))), 16)
            for w in want if w]
    return (max(need), "significant figure") if need and max(need) < 16 else None


def _keep(precision: _Precision | None) -> str:
    """A :func:`_precision` as :data:`ROUNDED` and :data:`ROUNDED_TOO` say it: "keep 3 significant figures or more",
    "keep 2 decimal places or more"; "keep more significant figures" for None."""
    if precision is None:
        return "keep more significant figures"
    return f"keep {_places_text([precision[0]], precision[1])} or more"


def _shape(w: float, precision: _Precision) -> str:
    """What ``w`` looks like written to ``precision``, its digits from the first nonzero one as x (0.0356 to 3
    significant figures: 0.0xxx; 75.668 to 1 decimal place: xx.x): the form the check wants without its value, as the
    exercises' statements write one (0.0xyz). (invented: the exercise framework)"""
    n, unit = precision
    written = f"{abs(w):.{max(n if unit == 'decimal place' else _places(w, n), 0)}f}"
    lead = len(written) - len(written.lstrip("0."))           # the zeros before the first significant figure
    return "-" * (w < 0) + written[:lead] + re.sub(r"\d", "x", written[lead:])


def _rounded_too(e: Expect, value: Any, want: Any) -> str | None:
    """:data:`ROUNDED_TOO` for ``value``, a typical mistake's value ``want`` cut or rounded to a few decimal places
    (:func:`_rounded_from`): whether each wrong item was cut or rounded (both where the two agree), to how many
    decimal places and so significant figures, and the precision that keeps within the tolerance
    (:func:`_keep`, for every item of ``want`` and of the right answer, which the student works out once the rule is
    fixed); None if it is no such value. It said only "give more significant figures" before, not how the answer was
    rounded nor how many figures the check wants (session 70). (invented: the exercise framework)"""
    rounding = _rounding(e, value, want)
    if rounding is None:
        return None
    places, wrong = rounding
    right = e.value if e.kind == "numbers" else [e.value]       # (the precision it needs once the rule is fixed)
    matched = [{way for way, x in zip(("cut", "rounded"), _cut_and_rounded(w, p))
                if math.isclose(float(g), x, rel_tol=1e-9, abs_tol=1e-12)} for g, w, p in wrong]
    common = set.intersection(*matched)          # one way for every item; both (cut and rounded agree), or mixed
    how = common.pop() if len(common) == 1 else "cut or rounded"
    ours = want if e.kind == "numbers" else [want]
    return ROUNDED_TOO.format(how=how, places=places, figures=_figures_text(wrong),
                              keep=_keep(_precision(e, [float(w) for w in [*ours, *right]])))


def _slip_rounded(e: Expect, value: Any, slipped: Any) -> bool:
    """Whether ``value`` is a slip's value (another unit) as a student prints it, each item that value or
    it cut or rounded to a few decimal places (:func:`_rounded_places`): 3,174 pages in MB is 12.3984375,
    printed 12.4 or 12.39 (an exact count would otherwise read as a slip only when given to every digit)."""
    if e.kind not in ("number", "numbers") or e.kind == "numbers" and len(value) != len(slipped):
        return False
    pairs = zip(value, slipped) if e.kind == "numbers" else [(value, slipped)]
    return all(math.isclose(float(g), float(w), rel_tol=1e-9) or _rounded_places(g, w) is not None for g, w in pairs)


def _windows(e: Expect, m: Mistake) -> tuple[Expect, ...]:
    """The tolerances an answer must lie within around mistake ``m``'s value to read as it (:class:`Mistake`):
    the answer's, times a slip's scale above 1; for a slip into a smaller unit, also :data:`SLIP_NEAR` of it."""
    if not m.slip or m.scale == 1:
        return (e,)
    if m.scale > 1:
        return (e if e.rel else replace(e, tol=e.tol * m.scale),)
    return e, replace(e, tol=SLIP_NEAR, rel=True)


def _named(e: Expect, value: Any, m: Mistake, others: Mapping[str, tuple[Expect, Any]]) -> bool:
    """Whether ``value`` reads as mistake ``m``: within the tolerance of its value (:func:`_windows`), nearer it
    than 0 if it is a slip, and with the other answers it names (``others``: each answer's Expect and value). A
    value the answer cannot take (:func:`_impossible`) reads only as a mistake that gives one too: SamplingEstimate's
    f = -0.002 is no integer division (0), but a fraction below 0."""
    if _impossible(e, value) and not _impossible(e, m.value):
        return False
    zero = [0] * len(value) if e.kind == "numbers" else 0
    near = all(_close(w, value, m.value) for w in _windows(e, m)) or m.slip and _slip_rounded(e, value, m.value)
    if not near or m.slip and _distance(e, value, m.value) >= _distance(e, value, zero):
        return False
    return _with_given(m, others)


def _with_given(m: Mistake, others: Mapping[str, tuple[Expect, Any]]) -> bool:
    """Whether the other answers (``others``: each answer's Expect and value) are those mistake ``m`` comes with
    (:attr:`Mistake.given`), each within its own tolerance."""
    return all(name in others and _type_error(*others[name]) is None and _close(*others[name], want)
               for name, want in m.given.items())


def _mistake_hint(e: Expect, value: Any, others: Mapping[str, tuple[Expect, Any]]) -> str:
    """The hint of the typical mistake nearest to ``value`` among those it reads as (:func:`_named`), else
    the rounding hint if ``value`` is the right answer cut or rounded, else :data:`ANOTHER_ORDER` if it is
    the right values in another order, else the general hint. An answer worked out rightly from wrong other answers
    (:attr:`Expect.carried`: each that matches) gets that hint first, and a mistake it also reads as after it.
    Two mistakes can give the same value (HotPageRemap's "no window" and "a restart forgets the copies"): then
    ``value`` matches both equally well, and both hints are given (joined by :data:`ALSO`), unless one of them
    names the other answers (then it alone). A mistake's value can also be the right answer cut or rounded (0.4
    for 0.442 beside a mistake of 0.398; SamplingEstimate's ``p.true_fraction`` is often its t/n rounded, and the
    two cannot be told apart): the rounding hint then follows the mistake's, joined the same way (or leads, for a
    mistake marked :attr:`Mistake.rounding_first`). An answer none of these explains may be two mistakes made
    together (:func:`_combined`). An answer that only listed pairs (:func:`both`) read as may have a simpler reading
    too, the right answer or one mistake rounded early or in another unit: that is told first, and the pair after it
    (:data:`PAIR_TOO`), unless a one-mistake reading's value lies nearer the answer than the pair's (a review of
    session 70: TaxTargets(20)'s goal of 0.8 is "the tax rate in effect now", 0.75, rounded, or the pair 0.8029, and
    was told only the pair; BalloonSplit(5)'s 0.0941 is a mistake of 96.375 MB in GB, not the pair's 0 within ±0.5 MB).
    A choice worked out rightly from the student's own answers keeps, beside that hint, only mistakes that name
    other answers: the rule was right, so a typical mistake of the rule that happens to pick the same choice is not
    what happened."""
    near = [(_distance(e, value, m.value), m) for m in e.mistakes if _named(e, value, m, others)]
    carried = _carried(e, value, others)
    if not near and not carried:
        reordered = _reordered(e, value) and ANOTHER_ORDER.format(order=e.order or "the problem asks for")
        return _rounded_hint(e, value) or reordered or _combined(e, value, others)[1] or e.hint
    best = min((d for d, _ in near), default=0.0)
    tied = [m for d, m in near if d - best <= 1e-9 * (1 + _size(m.value))]
    given_only = any(t.given for t in tied) or bool(carried) and e.kind == "choice"
    hints = carried + [m.hint for m in tied if m.given or not given_only]
    rounded = _rounded_hint(e, value)
    if not carried and all(m.paired for m in tied):
        nearest, combined = _combined(e, value, others)
        simpler = [h for h in (rounded, combined) if h]
        if simpler:                 # first; then the pair, unless a one-mistake reading lies nearer the answer
            pairs = "" if combined and nearest < best else "".join(PAIR_TOO + h.removeprefix(TWO)
                                                                  for h in dict.fromkeys(hints))
            return ALSO.join(simpler) + pairs
    if rounded:
        hints = [rounded, *hints] if any(m.rounding_first for m in tied) else [*hints, rounded]
    return ALSO.join(dict.fromkeys(hints))


def _combined(e: Expect, value: Any, others: Mapping[str, tuple[Expect, Any]]) -> tuple[float, str]:
    """The hint (:data:`BOTH`) for a numeric ``value`` that a typical mistake of the model (not a slip) explains
    together with a slip (its value in the slip's unit, :func:`_scaled_reads`: ρ without the tax, per MB) or with a
    rounding (its value cut or rounded early to a few decimal places, :data:`ROUNDED_TOO`: ρ without the tax, 0.19
    for 0.1924), with the other answers that mistake names (:func:`_with_given`); the nearest such pairs, joined by
    :data:`ALSO`, with their distance from ``value`` (to the mistake's value in the slip's unit, or before it was
    rounded); (inf, "") if none does. A student's trial (session 68) was given the general hint for these. Two slips,
    or a slip rounded, are no such pair: a slip is already named as printed, rounded (:func:`_slip_rounded`); nor is a
    mistake that is already two (:attr:`Mistake.paired`) paired with a third. A value
    the answer cannot take (:func:`_impossible`) is told what the answer must be instead (a goal tax rate of 1.0 is no
    k = 1.6 cut to 0 decimal places). (invented: the exercise framework)"""
    if e.kind not in ("number", "numbers") or _impossible(e, value):
        return math.inf, ""
    found = []
    for m in (m for m in e.mistakes if not m.slip and not m.paired and _with_given(m, others)):
        for s in (s for s in e.mistakes if s.slip):
            scaled = [x * s.scale for x in m.value] if e.kind == "numbers" else m.value * s.scale
            if _scaled_reads(e, value, scaled, s.scale):
                found.append((_distance(e, value, scaled), BOTH.format(first=m.hint, second=s.hint)))
        rounded = _rounded_too(e, value, m.value)
        if rounded:
            found.append((_distance(e, value, m.value), BOTH.format(first=m.hint, second=rounded)))
    best = min((d for d, _ in found), default=math.inf)
    return best, ALSO.join(dict.fromkeys(h for d, h in found if d - best <= 1e-9 * (1 + _size(value))))


def _scaled_reads(e: Expect, value: Any, scaled: Any, scale: float) -> bool:
    """Whether ``value`` reads as a typical mistake's value in a slip's unit (``scaled``, ``scale`` times it): within
    the answer's tolerance times ``scale`` (a smaller unit too, unlike a slip alone's :data:`SLIP_NEAR`: two mistakes
    together are named only where they explain the answer closely), or that value as printed, cut or rounded
    (:func:`_slip_rounded`); and nearer it than 0."""
    window = e if e.rel else replace(e, tol=e.tol * scale)
    zero = [0] * len(value) if e.kind == "numbers" else 0
    return (_close(window, value, scaled) or _slip_rounded(e, value, scaled)) \
        and _distance(e, value, scaled) < _distance(e, value, zero)


def both(value: Any, first: Mistake, second: Mistake) -> Mistake:
    """A typical mistake that is two others made together (``value``: the model run with both), told with both
    hints (:data:`BOTH`) and named with the other answers either names: for a problem whose mistakes are the model
    run the wrong way, which :func:`_combined` cannot combine from their values (BalloonSplit's "no cap" and an
    absent driver taken as usable; ``problems.base.paired`` lists them for the other problems). (invented: the
    exercise framework)"""
    return Mistake(value, BOTH.format(first=first.hint, second=second.hint), given={**first.given, **second.given},
                   paired=True)


def hint_for(e: Expect, value: Any) -> str:
    """What a wrong ``value`` of ``e`` is told, judged alone (no other answers): its typical mistake's hint,
    the rounding hint, or the general one (:func:`_mistake_hint`)."""
    return _mistake_hint(e, value, {})


def _carried(e: Expect, value: Any, others: Mapping[str, tuple[Expect, Any]]) -> list[str]:
    """The hints of those of ``e.carried`` (one :class:`Carried` or a tuple of them) that work ``value`` out from
    the other answers (within the tolerance), in their order."""
    if not e.each_carried or e.kind not in ("number", "choice"):
        return []
    given = {name: v for name, (ex, v) in others.items() if _type_error(ex, v) is None}
    hints = []
    for carried in e.each_carried:
        try:
            want = carried.value(given)
        except (KeyError, TypeError, ValueError):
            continue
        if _close(e, value, want):
            hints.append(carried.hint)
    return hints


def _reordered(e: Expect, value: Any) -> bool:
    """Whether a "numbers" answer holds the right values, each within the tolerance, in another order. Sorted
    item by item: a tolerance window's ends grow with the value it surrounds (absolute or relative), so if any
    order matches them, the sorted one does."""
    return e.kind == "numbers" and _close(e, sorted(map(float, value)), sorted(map(float, e.value)))


def _size(v: Any) -> float:
    """The largest magnitude in a number or a list of them (1 for anything else)."""
    try:
        return float(np.max(np.abs(np.asarray(v, dtype=float)))) if np.size(v) else 0.0
    except (TypeError, ValueError):
        return 1.0


def _not_whole(e: Expect, value: Any) -> bool:
    """Whether an exact number's right value is whole and ``value`` is not (a count, a second)."""
    return e.kind == "number" and e.tol == 0 and float(e.value).is_integer() and not float(value).is_integer()


def _negative(e: Expect, value: Any) -> str | None:
    """The sentence for an amount (:attr:`Expect.nonnegative`) with a negative item, else None."""
    if not e.nonnegative or np.min(np.asarray(value, dtype=float)) >= 0:
        return None
    unit = f" in {e.unit}" if e.unit else ""
    return f"`{e.name}` cannot be negative: it is an amount{unit}; got {_describe(value)}."


def _outside(e: Expect, value: Any) -> str | None:
    """The sentence for a "number" answer outside the values it can take (:attr:`Expect.allowed`), else None."""
    must = e.allowed(value) if e.allowed is not None and e.kind == "number" else None
    return f"`{e.name}` {must}; got {_describe(value)}." if must else None


def _impossible(e: Expect, value: Any) -> str | None:
    """The sentence for a value ``e``'s answer cannot take (:func:`_negative`, :func:`_outside`), else None."""
    return _negative(e, value) or _outside(e, value)


def _value_error(e: Expect, value: Any, others: Mapping[str, tuple[Expect, Any]]) -> str | None:
    """A teaching sentence if ``value`` is wrong, else None. A value the answer cannot take (a negative amount, a
    fraction above 1) is wrong even within the tolerance of the right one (-0.5 MB for 0 within ±0.5 MB)."""
    if e.kind == "object":
        return e.judge(value)
    negative, outside = _negative(e, value), _outside(e, value)
    if _close(e, value, e.value):
        return negative or outside
    hint = _mistake_hint(e, value, others)
    if hint == e.hint and negative:                  # no mistake explains it
        return negative
    if hint == e.hint and _not_whole(e, value):      # the count may be right, the kind of number is not
        hint = f"the answer is a whole number, and {float(value)!r} is not one: {hint}"
    elif hint == e.hint and outside:                 # no mistake explains it, nor can it be
        return outside
    told = e.tolerance
    if e.kind in ("numbers", "choices"):    # one parenthesis: "(each within ±1 %; first wrong item: `x[1]`)"
        wrong = [i for i, (g, w) in enumerate(zip(value, e.value)) if not _close(_item(e), g, w)]
        item = f"first wrong item: `{e.name}[{wrong[0]}]`"
        told = f"{told[:-1]}; {item})" if told else f" ({item})"
    return f"`{e.name}` is not right{told}: {hint}"


def verify(e: Expect, value: Any, others: Mapping[str, tuple[Expect, Any]] | None = None) -> None:
    """Check one answer: not attempted, then type, then value (a choice whatever its case: :func:`as_choice`; a list
    as the items it holds: :func:`_held`).
    ``others``: the problem's answers by name, each with its Expect, for the mistakes that come with other
    answers (:attr:`Mistake.given`)."""
    _judge(e, as_choice(e, _held(e, value)), others or {})


def _judge(e: Expect, value: Any, others: Mapping[str, tuple[Expect, Any]]) -> None:
    """:func:`verify` of an answer already read by :func:`as_choice`. None is the starter code's, or what the
    student's own code computed (a loop that found nothing, a function without ``return``): the sentence covers
    both, with :attr:`Expect.none_hint` where the answer gives one. ``...`` is a placeholder the student typed:
    told to replace it, not None."""
    if value is Ellipsis:
        raise NotImplementedError(f"`{e.name}` is not answered yet: replace `...` with your answer.")
    if value is None:
        why = f": {e.none_hint}" if e.none_hint else " (or a function of yours returned nothing: no `return`)"
        raise NotImplementedError(f"`{e.name}` is not answered yet: replace None with your answer (if you did, check "
                                  f"that you spelled `{e.name}` so, and that your answer cell ran to its end: run it "
                                  "again and read its error). If your code computed None, it found no answer, and "
                                  f"this problem has one{why}.")
    msg = _type_error(e, value, tuple(others)) or _value_error(e, value, others)
    if msg:
        raise CheckFailed(msg)


def problem_of(problem: Any, caller: str, more: str = "", answers: tuple[str, ...] = ()) -> Any:
    """``problem`` if it is a problem object of a class that a module under ``esxlab/problems/`` holds (not one that
    only names such a module in its ``__module__``, nor one made before its module was reloaded: :func:`_held_by_module`;
    the second is told to restart the kernel), else ConfigError saying
    what ``caller`` (``caller(p<more>)``) needs: a class is told to create it first, a problem defined
    elsewhere is told where problems live (an answer cell's own could agree with any answer), anything else is
    shown the problem class that asks for ``answers`` (:func:`_asking`). A check is in an exercise notebook,
    whose set-up cell sets ``SEED``: the suggestion creates the problem from it, under the name the notebook
    gives it (``Problem.VARIABLE``), not from seed 0 (the trial of session 49)."""
    from . import problems
    from .problems import Problem
    cls = type(problem)
    named = cls.__module__.startswith("esxlab.problems.")
    held = _held_by_module(cls) if named else None
    if isinstance(problem, Problem) and held is cls:
        return problem
    if isinstance(problem, Problem) and isinstance(held, type) and issubclass(held, Problem):
        raise ConfigError(f"{caller}() cannot check this {cls.__name__}: {cls.__module__} was loaded again "
                          "(importlib.reload) after its class was made, so it is no longer esxlab's; restart the kernel "
                          "(Kernel → Restart Kernel) and run the notebook again.")
    seed = "SEED" if caller == "check" else "0"
    if isinstance(problem, type) and issubclass(problem, Problem):
        name = problem.VARIABLE
        raise ConfigError(f"{caller}() needs a problem object; got the class {shorten(problem)}: create it first, "
                          f"e.g. `{name} = problems.{problem.__name__}(seed={seed})`, then `{caller}({name}{more})`.")
    if isinstance(problem, Problem):
        where = f"is not a class of {cls.__module__}, the module it names" if named else \
            f"is defined in {cls.__module__}"
        fix = (f"{cls.__name__} {where}, and only problems of modules under esxlab/problems/ "
               "are checked (a class defined elsewhere, in an answer cell too, could agree with any answer): an "
               "instructor adds one there (exercises/README.md, 'Adding a problem')")
    else:
        asking = _asking(answers)
        name = getattr(problems, asking).VARIABLE
        fix = (f"pass the problem object the exercise created, e.g. `{name} = problems.{asking}(seed={seed})`, "
               f"then `{caller}({name}{more})`")
    raise ConfigError(f"{caller}() needs a problem from esxlab.problems as its first argument; got "
                      f"{_describe(problem)}: {fix}.")


def _held_by_module(cls: type) -> Any:
    """What the module ``cls.__module__`` names holds under ``cls``'s qualified name (None if nothing), which is
    ``cls`` for esxlab's own: a class of one's own can name any module in ``__module__`` (an integrity trial: an
    answer cell's subclass of SamplingEstimate that set it to "esxlab.problems.sampling", with answers of its own in
    ``_expect``, passed the check); another problem class there means the module was reloaded since ``cls`` was
    made (a review: such a student was told to ask an instructor to add the problem)."""
    held: Any = sys.modules.get(cls.__module__)
    for part in cls.__qualname__.split("."):
        held = getattr(held, part, None)
    return held


try:                # importlib.reload keeps the module's globals: a check cell's reload keeps what was recorded
    _DEFINED         # noqa: B018
except NameError:
    #: each problem class's own attributes as its class statement defined them (by class, weakly): :func:`_changed`
    _DEFINED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _define(cls: type) -> None:
    """Record ``cls``'s own attributes as its class statement defined them (``Problem.__init_subclass__`` calls it
    for every problem class, and ``esxlab.problems.base`` for Problem)."""
    _DEFINED[cls] = dict(vars(cls))


def _changed(cls: type) -> str:
    """The first attribute ("RhoVictim.RHO_TOL") of ``cls`` or of a problem class it derives from that is not the one
    its class statement defined (rebound, added or deleted since; not what Python caches there, :func:`_cached`), else
    "". A check poses the problem afresh from its class, so a class changed in the kernel poses and answers another
    problem (an integrity trial: ``type(p).RHO_TOL = 1.0`` in an answer cell made every ρ within ±100 % right).
    Compared by identity: a list or dict constant changed in place is not seen (the problems' drawn choices are
    tuples). (invented: the exercise framework)"""
    for c in cls.__mro__:
        then, now = _DEFINED.get(c), vars(c)
        if then is None:
            continue
        for name in [*then, *(n for n, v in now.items() if n not in then and not _cached(n, v))]:
            if name not in now or name not in then or now[name] is not then[name]:
                return f"{c.__name__}.{name}"
    return ""


def _cached(name: str, value: Any) -> bool:
    """Whether a class attribute added after the class statement is one Python adds itself when asked: a dunder that
    is data, neither a function nor a descriptor (an empty ``__annotations__``, the ``__slotnames__`` copyreg keeps
    once an instance was copied), unlike ``__init__`` added to a class that had none."""
    return name.startswith("__") and name.endswith("__") and not callable(value) and not hasattr(value, "__get__")


def _asking(answers: tuple[str, ...]) -> str:
    """The name of the problem class whose ``ANSWER_NAMES`` are ``answers`` (the exercise a call comes from), else
    RhoVictim's, the first exercise's (invented: the exercise framework)."""
    from . import problems
    found = [n for n in problems.__all__ if answers and set(getattr(problems, n).ANSWER_NAMES) == set(answers)]
    return found[0] if found else "RhoVictim"


try:                # importlib.reload keeps the module's globals: a check cell's reload keeps the count
    _CHECKS_RUN      # noqa: B018
except NameError:
    #: how many times :func:`check` was called in this kernel (one item, so that it is changed in place)
    _CHECKS_RUN = [0]


def checks_run() -> int:
    """How many times :func:`check` was called in this kernel, whatever it said. ``exercises/grade.py`` runs each
    check cell once and compares: more calls mean code of the student's own called the checker, as a search does
    that tries values against it until none is named wrong (an integrity trial: an answer cell trying 0.000, 0.001,
    … earned sampling's 3 points unflagged). (invented: the exercise framework)"""
    return _CHECKS_RUN[0]


def check(problem: Any, *by_position: Any, **answers: Any) -> None:
    """Check every answer ``problem`` asks for; print one line if all are right.

    ``checks.check(p, rhos=rhos, victim=victim)``: answers go by name (ConfigError for one given by position).
    The problem is posed afresh from its class
    and seed, so only the seed of the object passed in counts (and a class changed in the kernel fails the check:
    :func:`_changed`). Every answer is checked: raises
    :class:`CheckFailed` (an AssertionError) naming each wrong answer (and any unanswered one), else
    ``NotImplementedError`` naming each unanswered one (:func:`_together`).
    """
    _CHECKS_RUN[0] += 1
    cls = type(problem_of(problem, "check", ", ...", tuple(answers)))
    rebound = _changed(cls)
    if rebound:
        raise CheckFailed(f"{rebound} is not as esxlab defines it (a cell of yours changed it), and the check "
                          "poses the problem from its class, so it would check another problem: restart the kernel "
                          "(Kernel → Restart Kernel) and run the notebook again without that change.")
    _verdict(cls(problem.seed), problem, by_position, answers)


def check_posed(posed: Any, **answers: Any) -> None:
    """:func:`check` on ``posed``, a problem its caller posed itself from class and seed, and so trusts: its
    expectations as computed once per problem object, not posed afresh. ``exercises/grade.py`` re-checks each
    student's answers, exported from the kernel as data, on problems it posed once for the class run, in its own
    process. (invented: the exercise framework)"""
    _verdict(posed, posed, (), answers)


def _verdict(posed: Any, problem: Any, by_position: tuple, answers: dict[str, Any]) -> None:
    """The verdict of :func:`check` on the answers to ``posed`` (``problem``: the object the caller passed, which a
    note about its seed names)."""
    cls = type(posed)
    expected = posed._expectations()
    names = [e.name for e in expected]
    if by_position:
        named = ", ".join(f"{n}={n}" for n in names)
        raise ConfigError(f"check() takes each answer by its name, e.g. checks.check(p, {named}); got "
                          f"{len(by_position)} without a name ({', '.join(shorten(v) for v in by_position)}).")
    if set(answers) != set(names):
        unused = [n for n in names if n not in answers]
        got = [a + ("" if a in names else did_you_mean(a, unused)) for a in answers]
        raise ConfigError(f"check() for {cls.__name__} needs exactly the answers "
                          f"{', '.join(names)}; got {', '.join(got) or 'none'}.")
    given = {e.name: (e, as_choice(e, _held(e, answers[e.name]))) for e in expected}
    wrong: list[str] = []
    unanswered: list[str] = []
    todo: list[tuple[Expect, Any]] = []
    for e, value in given.values():
        try:
            _judge(e, value, given)
        except CheckFailed as failed:
            wrong.append(str(failed))
        except NotImplementedError as left:
            unanswered.append(str(left))
            todo.append((e, value))
    other_seed = _other_seed(problem)          # said with every verdict: a check of another seed is no grade
    if wrong:
        raise CheckFailed(_together(wrong + unanswered, len(expected)) + other_seed)
    if unanswered:
        raise NotImplementedError((_not_yet(todo) or _together(unanswered, len(expected))) + other_seed)
    tolerances = "; ".join(f"{e.name}{e.tolerance}" for e in expected)
    print(f"Correct: {tolerances}.{other_seed}")


def _notebook_main() -> Any:
    """The kernel's ``__main__`` (the namespace of a notebook's cells), or None outside a notebook (a script, a
    test, a terminal's IPython)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    if shell is None or "Terminal" in type(shell).__name__:
        return None
    return sys.modules.get("__main__")


#: the environment variable through which ``exercises/grade.py`` tells a student's kernel the handed-out seed: while
#: it is set, a check of a problem of another seed fails (a student who posed an easier seed as ``p``, or set
#: ``SEED`` again, in a cell of their own passed every check)
GRADING_SEED = "ESXLAB_GRADING_SEED"

try:                # importlib.reload keeps the module's globals: a check cell's reload keeps the record
    _HANDED_OUT      # noqa: B018
except NameError:
    #: the seed :func:`handed_out` recorded (key "seed"), which a later ``SEED = ...`` in a cell does not change
    _HANDED_OUT: dict[str, int] = {}


def _whole(x: Any) -> bool:
    """Whether ``x`` is a whole number (an int, a numpy integer; not a bool)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def handed_out(seed: Any) -> None:
    """Record ``seed``, the ``SEED`` of an exercise's locked set-up cell, as the seed the exercise was handed out
    with: a check in the notebook then warns about a problem of another seed even after a cell of the student's
    own sets ``SEED`` again (the instructor's trial: ``SEED = 5`` in an answer cell, the problem posed again from
    it, and "Correct" for answers that grading gave 0). Anything but a whole number records nothing (the checks
    then compare with ``SEED`` as it stands, as for a notebook whose set-up cell has no such line). (invented: the
    exercise framework)"""
    if _whole(seed):
        _HANDED_OUT["seed"] = int(seed)
    else:
        _HANDED_OUT.pop("seed", None)


def _other_seed(problem: Any) -> str:
    """A line (after a line break) saying that ``problem`` is of another seed than the one the exercise was handed
    out with, which grading uses (exercises/grade.py); "" outside a notebook, where the seeds agree, or where the
    handed-out seed is not known. That seed is the one the set-up cell recorded (:func:`handed_out`), whatever
    ``SEED`` holds now; in a notebook whose set-up cell records none (a copy handed out before), ``SEED`` as it
    stands, if a whole number. A student who tries another seed in a new cell under the notebook's own name ``p``
    and reruns the check cell saw "Correct" for answers that grading then gave 0 (the trial of session 49), and so
    did one who also set ``SEED`` again (an instructor's trial). While ``exercises/grade.py`` grades
    (:data:`GRADING_SEED` set), a problem of another seed than the handed-out one fails the check (CheckFailed): a
    problem posed again at an easier seed, or ``SEED`` set again, earns nothing."""
    graded = os.environ.get(GRADING_SEED, "")
    if graded.isdigit() and int(graded) != problem.seed:
        raise CheckFailed(f"this problem is {type(problem).__name__}(seed={problem.seed}), but the exercise was "
                          f"handed out with SEED = {graded}, and is graded on that seed: pose it with "
                          f"`{problem.VARIABLE} = problems.{type(problem).__name__}(seed=SEED)` and answer it.")
    main = _notebook_main()
    if main is None:
        return ""
    now = getattr(main, "SEED", None)
    recorded = _HANDED_OUT.get("seed")
    seed = recorded if recorded is not None else now
    if not _whole(seed) or seed == problem.seed:
        return ""
    cls = type(problem).__name__
    named = [k for k, v in vars(main).items() if v is problem and not k.startswith("_")]
    name = f"`{named[0]}`" if named else "the problem checked"
    var = named[0] if named else problem.VARIABLE
    if var != problem.VARIABLE:            # a problem of one's own, to explore (other = problems.X(seed=5))
        return (f"\nNote: {name} is {cls}(seed={problem.seed}), not this notebook's graded problem: this check "
                f"says nothing about your grade, which checks `{problem.VARIABLE}` (SEED = {seed}).")
    given = (f"this exercise was handed out with SEED = {seed} (its set-up cell)" if recorded is not None
             else f"this notebook's SEED is {seed}")
    if _whole(now) and now != seed:        # a cell of the student's own set SEED again
        fix = (f"A cell of yours sets SEED = {now}: delete that line, then run the notebook again from the top "
               "(Run → Run All Cells).")
    else:
        fix = (f"Pose the graded problem again (`{var} = problems.{cls}(seed=SEED)`), rerun your answer cell, then "
               "this check.")
    return (f"\nCareful: {name} is {cls}(seed={problem.seed}), but {given}, and grading checks your answers with "
            f"SEED = {seed}: this check says nothing about your grade. {fix}")


def _not_yet(todo: list[tuple[Expect, Any]]) -> str:
    """One sentence for several answers (each with its value) none of which is given yet (the notebook as handed
    out, or ``...`` typed for each), instead of the same long sentence once for each under "need another look"; ""
    for one answer, where an answer has a :attr:`Expect.none_hint` of its own, or where some are None and some
    ``...`` (each is then told apart)."""
    placeholders = {value is Ellipsis for _, value in todo}
    if len(todo) < 2 or any(e.none_hint for e, _ in todo) or len(placeholders) > 1:
        return ""
    names = [f"`{e.name}`" for e, _ in todo]
    listed = f"{', '.join(names[:-1])} and {names[-1]}"
    if placeholders == {True}:
        return f"{listed} are not answered yet: replace each `...` with your answer."
    return (f"{listed} are not answered yet: replace None with your answers (if you did, check that you spelled "
            "their names so, and that your answer cell ran to its end: run it again and read its error). If your "
            "code computed None, it found no answer, and this problem has one (or a function of yours returned "
            "nothing: no `return`).")


def _together(messages: list[str], asked: int) -> str:
    """One message alone; several as one line each under a count, so a student fixes them all at once."""
    if len(messages) == 1:
        return messages[0]
    count = ("Both answers" if asked == 2 else f"All {asked} answers") if len(messages) == asked \
        else f"{len(messages)} of the {asked} answers"
    return f"{count} need another look:\n" + "\n".join(f"- {m}" for m in messages)
