"""Errors that say what is wrong in a sentence: the parameter, its value, what is allowed."""
from __future__ import annotations

import dataclasses
import decimal
import difflib
import functools
import importlib.metadata
import inspect
import math
import numbers
import os
import re
import sys
import unicodedata
from collections.abc import Collection, Iterable
from typing import Any

import numpy as np


def first_line(text: str, limit: int) -> str:
    """The first non-blank line of ``text`` (an error's message), at most ``limit`` characters: cut with "…" where
    longer, for a one-line report of an error."""
    first = next(iter(str(text).strip().splitlines()), "")
    return first if len(first) <= limit else first[:limit - 1].rstrip() + "…"


class Error(Exception):
    """Base class of every error esxlab raises on purpose."""


class ConfigError(Error, ValueError):
    """A parameter is outside its allowed range or of the wrong kind."""


class AdmissionError(Error):
    """A VM may not power on: a memory or swap reservation (paper §6.2) is short."""


class Stall(Error):
    """The host could not find machine memory for a fault right now; the VM waits (§6.3)."""


class HostStopped(Error):
    """A host whose tick an error stopped half-way (a workload's or a policy's of one's own, say) cannot run on:
    some of its VMs stepped and others did not, and its clock is a second ahead of its trace."""


class PolicyError(Error):
    """A replacement policy of one's own answered ``victims()`` with pages the host may not page out, or with fewer
    than asked while more qualify (§3.3)."""


#: esxlab's own directory: frames from its files are the package's, not a user's
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """``warnings.warn``'s ``stacklevel``, called by the function that warns, that names the first frame outside
    esxlab: the user's line (a call of ``sweep``, a ``VMConfig``), however many of esxlab's calls lie between
    (a preset, ``replace``, a dataclass's generated ``__init__``)."""
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and (frame.f_code.co_filename.startswith(_PACKAGE)
                                        or (frame.f_code.co_filename == "<string>" and frame.f_code.co_name == "__init__")
                                        or frame.f_code.co_filename == dataclasses.__file__):
        frame, level = frame.f_back, level + 1
    return level


def _bound(x: float) -> str:
    """A range bound as a person writes it: 1048576, not 1.04858e+06; 0.05 stays 0.05."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def describe_range(name: str, lo: float | None, hi: float | None,
                   lo_open: bool = False, hi_open: bool = False, hi_name: str = "") -> str:
    """Render an allowed range, e.g. ``0 ≤ tax_rate < 1`` (whole numbers in full: ``≤ 1048576``);
    ``hi_name``: what an upper bound that depends on other parameters stands for, e.g.
    ``0 ≤ dup_mb ≤ files_mb / 2 = 4``."""
    left = f"{_bound(lo)} {'<' if lo_open else '≤'} " if lo is not None else ""
    right = f" {'<' if hi_open else '≤'} {f'{hi_name} = ' if hi_name else ''}{_bound(hi)}" if hi is not None else ""
    return f"{left}{name}{right}" if (left or right) else f"any finite {name}"


def check_number(owner: str, name: str, value: object, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, integer: bool = False, hi_name: str = "") -> None:
    """Raise ConfigError unless ``value`` is a finite real number (a Python or numpy int or float, not
    a bool, a Fraction or a Decimal) inside [lo, hi] (open ends as asked); a whole number if ``integer``. Integers too
    large for a float (``10**400``) are refused with a sentence, never an ``OverflowError``.
    ``hi_name``: the other parameters an upper bound comes from, named in the sentence before its value
    (``"files_mb / 2"`` reads ``dup_mb ≤ files_mb / 2 = 4``)."""
    kind = type(value)                       # plain Python numbers first: validation runs every tick
    if kind is not int and kind is not float:
        kind = _kind(value)

    def refuse(problem: str, allowed: str = "") -> ConfigError:     # the sentence: only for a value refused
        label = f"{owner}.{name}" if owner else name
        return ConfigError(f"{label}{problem}; allowed: {allowed}"
                           f"{describe_range(name, lo, hi, lo_open, hi_open, hi_name)}.")

    if kind is not float and kind is not int:
        if kind is None and isinstance(value, (numbers.Real, decimal.Decimal)):
            raise refuse(f" = {shorten(value)} is a {type(value).__name__}, not a float or an int (give a float, "
                         f"e.g. 0.5)")
        raise refuse(f" must be a number, got {shorten(value)} ({type(value).__name__})")
    try:
        as_float = float(value)
    except OverflowError:
        raise refuse(f" = {shorten(value)} is too large for a number esxlab can use") from None
    if math.isnan(as_float) or math.isinf(as_float):
        raise refuse(f" = {value!r} is not a finite number")
    if integer and kind is not int and not as_float.is_integer():
        raise refuse(f" must be a whole number, got {value!r}", "whole numbers, ")
    x = value if kind is int else as_float    # (a float16 compared with 1048576 would cast the bound to inf)
    bad = ((lo is not None and (x < lo or (lo_open and x == lo)))
           or (hi is not None and (x > hi or (hi_open and x == hi))))
    if bad:
        frac = as_float / 100                             # 75 for 75 %: a percentage where a fraction is asked
        if (lo is not None and hi is not None and 0 <= lo and hi <= 1 and value >= 10
                and lo <= frac <= hi and not (hi_open and frac == hi) and not (lo_open and frac == lo)):
            raise refuse(f" = {shorten(value)} is out of range: a fraction of 1 ({frac:g} for {value:g} %)")
        raise refuse(f" = {shorten(value)} is out of range")


def check_choice(owner: str, name: str, value: object, choices: Collection[Any]) -> Any:
    """Return the element of ``choices`` equal to ``value`` (so numpy scalars come back as the
    plain Python value), or raise ConfigError. Equality is of the same kind: ``True`` is not
    the choice ``1`` (nor ``1`` the choice ``True``), and an array is never a choice."""
    kind = _kind(value)
    for c in choices:
        if kind is not None and kind is _kind(c) and value == c:
            return c
    label = f"{owner}.{name}" if owner else name
    allowed = ", ".join(repr(c) for c in choices)
    cased = [c for c in choices if isinstance(c, str) and isinstance(value, str) and c == value.strip().lower()]
    hint = f" (did you mean {cased[0]!r}?)" if cased else ""          # 'ESX', 'Windows': the choices are lower case
    raise ConfigError(f"{label} = {shorten(value)} is not allowed{hint}; choose one of {allowed}.")


def _kind(x) -> type | None:
    """bool, int, float or str for scalars of those kinds (Python or numpy), else None (a Fraction, a Decimal)."""
    if isinstance(x, (bool, np.bool_)):
        return bool
    if isinstance(x, numbers.Integral) and not isinstance(x, np.timedelta64):   # (numpy makes a time span Integral)
        return int
    if isinstance(x, (float, np.floating)):    # not a Fraction or a Decimal: esxlab formats numbers as floats
        return float
    if isinstance(x, str):
        return str
    return None


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the name of ``known`` closest to ``name`` (capitals aside: TAX_RATE finds
    tax_rate), or ``""`` when none is close (:func:`difflib.get_close_matches`' default cut-off) and none or several
    begin with ``name`` (ksm: ksm_vs_esx)."""
    lower = {k.lower(): k for k in known}
    key = str(name).lower()
    close = difflib.get_close_matches(key, list(lower), 1) or [k for k in lower if key and k.startswith(key)][:2]
    return f" (did you mean {lower[close[0]]!r}?)" if len(close) == 1 else ""


def check_known(owner: str, given: Iterable[str], known: Collection[str],
                none: str = "it takes no parameters") -> None:
    """ConfigError naming the first (alphabetically) of the parameter names ``given`` that is not in ``known``,
    the known one it is closest to, if any, and all the known ones (``none``, a phrase, when there are none):
    the one wording of every "no such parameter" (classes, configurations, experiments, sweeps)."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        allowed = f"its parameters are: {', '.join(sorted(known))}" if known else none
        raise ConfigError(f"{owner} has no parameter {unknown[0]!r}{did_you_mean(unknown[0], known)}; {allowed}.")


def check_call(cls: type, args: tuple, kwargs: dict) -> None:
    """For a call ``cls(*args, **kwargs)`` (a workload's, from its metaclass): ConfigError, naming what ``cls(...)``
    takes, for a parameter name it does not take, more positional parameters than it has, or a required one
    missing, with a call that gives them (not Python's TypeError)."""
    named, positional, _, call = _parameters(cls)
    if named is not None:
        check_known(cls.__name__, kwargs, named)
    if positional is not None and len(args) > positional:
        given = f"got {len(args)} positional ({', '.join(shorten(a) for a in args)})"
        if not named:
            raise ConfigError(f"{cls.__name__} takes no parameters; {given}.")
        raise ConfigError(f"{cls.__name__} takes at most {positional} parameters; {given}; better: by name, "
                          f"e.g. {named[0]}=….")
    missing = missing_parameters(cls, args, kwargs)
    if missing:
        raise ConfigError(f"{cls.__name__} needs its parameter{'s' * (len(missing) > 1)} "
                          f"{', '.join(map(repr, missing))}; call it as {cls.__name__}{call}.")


def missing_parameters(cls: type, args: tuple = (), kwargs: dict | None = None) -> list[str]:
    """The parameters without a default that ``cls(*args, **kwargs)`` leaves out (all of them for ``cls()``)."""
    return [name for name, place in _parameters(cls)[2]
            if name not in (kwargs or {}) and (place is None or place >= len(args))]


@functools.cache
def _parameters(cls: type) -> tuple[tuple[str, ...] | None, int | None, tuple[tuple[str, int | None], ...], str]:
    """What ``cls.__init__`` takes: its names taken by name (None with ``**kwargs``), how many it takes by
    position (None with ``*args``), those without a default with their place (None: by name only), and a call
    that gives the required ones, ``(inner, start_s)`` (keyword-only ones as ``rate=…``; ``…`` for the others)."""
    if cls.__init__ is object.__init__:
        return (), 0, (), "()"
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    named = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    required = tuple((p.name, None if p.kind == p.KEYWORD_ONLY else i) for i, p in enumerate(params)
                     if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    call = [name if at is not None else f"{name}=…" for name, at in required]
    call += ["…"] * (len(required) < len(params))                   # the optional ones
    return (None if any(p.kind == p.VAR_KEYWORD for p in params) else named,
            None if any(p.kind == p.VAR_POSITIONAL for p in params) else positional,
            required, f"({', '.join(call)})")


def install_hint(extra: str) -> str:
    """How to install the optional dependencies ``extra`` (a name in pyproject.toml's
    [project.optional-dependencies]): ``pip install 'esxlab[extra]'`` where esxlab is installed (from the
    handout's wheel, or ``pip install -e`` in a checkout: pip then adds only the extra's packages), and
    ``pip install -e '.[extra]'`` in the checkout where it runs uninstalled (from its source tree)."""
    try:
        importlib.metadata.distribution("esxlab")
    except importlib.metadata.PackageNotFoundError:
        return f"install the '{extra}' extra: pip install -e '.[{extra}]' in the esxlab checkout"
    return f"install the '{extra}' extra: pip install 'esxlab[{extra}]'"


def ascii_digits(text: str) -> str | None:
    """``text`` with its decimal digits other than ASCII 0-9 written in ASCII ("٣" → "3", "０-３" → "0-3"); None if it
    has none: Python's int() and re's ``\\d`` read Arabic-Indic ٣ or full-width ３ as 3, and the command line, which
    writes a seed back in ASCII (the table, the CSV, --seeds in its sentences), refuses them with this spelling."""
    written = "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text)
    return written if written != text else None


def _repr(value: object) -> str:
    """``repr(value)``, or what it is where Python refuses to print it (an integer of more than 4300 digits)."""
    try:
        return repr(value)
    except ValueError:
        return f"an integer of about {value.bit_length() * 0.30103:.0f} digits"


def shorten(value: object, limit: int = 60) -> str:
    """``repr(value)`` on one line for a sentence (a 2-D array's, a DataFrame's repr spans lines: joined, each
    line's indentation dropped), shortened (a 400-digit integer or a big array stays readable)."""
    text = " ".join(line.strip() for line in _repr(value).splitlines())
    return text if len(text) <= limit else f"{text[:limit - 12]}…{text[-10:]}"


def array_shape(value: object, limit: int = 60) -> str | None:
    """What an array, a pandas Series or DataFrame is, on one line ("an array of shape (2, 2) (float64)", "a
    DataFrame of shape (3, 1)"), where its repr spans lines or is longer than ``limit``; else None (a short
    1-D array, anything else: its repr says it)."""
    shape = getattr(value, "shape", None)
    text = _repr(value)
    if not isinstance(shape, tuple) or not shape or ("\n" not in text and len(text) <= limit):
        return None
    kind = "array" if type(value) is np.ndarray else type(value).__name__
    dtype = getattr(value, "dtype", None)          # (a DataFrame has one per column)
    of = f" ({dtype})" if dtype is not None else ""
    return f"{with_article(kind)} of shape {shape}{of}"


def with_article(word: str) -> str:
    """``word`` after "a" or "an", as it is said: "an" before a vowel ("an int", "an Index"), "a" before a consonant
    and before a "u" said as "you" ("a Mine", "a uint8", "a UserList", "a UUID"). Invented."""
    said_you = re.match(r"u(?:[ui]|[^aeiou][aeiou])", word, re.I) is not None
    return f"{'an' if word[:1].lower() in 'aeiou' and not said_you else 'a'} {word}"


def shown(value: object) -> str:
    """``value`` on one line for a sentence: :func:`array_shape` for an array whose repr spans lines or would be
    cut short, else :func:`shorten`'s repr."""
    return array_shape(value) or shorten(value)
