"""Errors that say what is wrong in a sentence: the parameter, its value, what is allowed."""
from __future__ import annotations


class Error(Exception):
    """Base class of every error esxlab raises on purpose."""


class ConfigError(Error, ValueError):
    """A parameter is outside its allowed range or of the wrong kind."""


class AdmissionError(Error):
    """A VM may not power on: a memory or swap reservation (paper §6.2) is short."""


class Stall(Error):
    """The host could not find machine memory for a fault right now; the VM waits (§6.3)."""


def describe_range(name: str, lo: float | None, hi: float | None,
                   lo_open: bool = False, hi_open: bool = False) -> str:
    """Render an allowed range, e.g. ``0 ≤ tax_rate < 1``."""
    left = f"{lo:g} {'<' if lo_open else '≤'} " if lo is not None else ""
    right = f" {'<' if hi_open else '≤'} {hi:g}" if hi is not None else ""
    return f"{left}{name}{right}" if (left or right) else f"any finite {name}"


def check_number(owner: str, name: str, value, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, integer: bool = False) -> None:
    """Raise ConfigError unless ``value`` is a finite number inside [lo, hi] (open ends as asked)."""
    import math
    import numbers

    label = f"{owner}.{name}" if owner else name
    allowed = describe_range(name, lo, hi, lo_open, hi_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{label} must be a number, got {value!r} ({type(value).__name__}); allowed: {allowed}.")
    if math.isnan(value) or math.isinf(value):
        raise ConfigError(f"{label} = {value!r} is not a finite number; allowed: {allowed}.")
    if integer and not float(value).is_integer():
        raise ConfigError(f"{label} must be a whole number, got {value!r}; allowed: whole numbers, {allowed}.")
    bad = ((lo is not None and (value < lo or (lo_open and value == lo)))
           or (hi is not None and (value > hi or (hi_open and value == hi))))
    if bad:
        raise ConfigError(f"{label} = {value!r} is out of range; allowed: {allowed}.")


def check_choice(owner: str, name: str, value, choices) -> None:
    """Raise ConfigError unless ``value`` is one of ``choices``."""
    if value not in choices:
        label = f"{owner}.{name}" if owner else name
        allowed = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{label} = {value!r} is not allowed; choose one of {allowed}.")
