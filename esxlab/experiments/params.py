"""Experiment parameters declared once, as data: validation and notebook sliders both read them.

Each experiment module lists its knobs in ``PARAMS`` (name → :class:`~esxlab.config.Param`, the
one parameter type that configuration fields and the views' controls use too), the rules between
them in ``RULES`` (a tuple of :class:`Rule`, e.g. Figure 7's ``dbench_start_min + 4 ≤
tax_change_min ≤ minutes − 4``), and starts ``run(seed=0, **params)`` with
``p = resolve("fig7", PARAMS, params, RULES)``: unknown names, out-of-range values and values
that break a rule raise :class:`~esxlab.errors.ConfigError` with a sentence. ``sweep EXPERIMENT
--list`` prints the same ``PARAMS`` and ``RULES``, and a sweep checks every grid point against
them before anything runs.
"""
from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import rng
from ..config import Param, SharingConfig
from ..errors import ConfigError, check_known, shorten

__all__ = ["Param", "Rule", "check_seed", "check_whole_seconds", "moved", "plain", "require", "resolve", "sharing"]


@dataclass(frozen=True)
class Rule:
    """A rule between an experiment's parameters, declared once as data beside its ``PARAMS``:
    :func:`resolve` refuses values that break it and ``sweep EXPERIMENT --list`` prints it.

    ``text`` is the rule in the parameters' names ("dbench_start_min + 4 ≤ tax_change_min ≤
    minutes − 4"), ``why`` the reason, as a clause ("the host must page"). ``holds(p)`` tells
    whether the values ``p`` keep it; None for a rule only the run can tell (e.g. whether the
    host's admission control takes the VMs: the run raises its own sentence, with what the host
    said). ``shows(p)``, if given, adds the derived numbers the rule compares (e.g. "vm_mb / 2 =
    128") to the error."""

    text: str
    why: str
    holds: Callable[[SimpleNamespace], bool] | None = None
    shows: Callable[[SimpleNamespace], str] | None = None

    def names(self, p: SimpleNamespace) -> list[str]:
        """The parameters of ``p`` the rule's text names, in ``p``'s order."""
        return [n for n in vars(p) if re.search(rf"(?<![\w.]){re.escape(n)}(?!\w)", self.text)]

    def sentence(self) -> str:
        """The rule as ``--list`` prints it: "text: why."."""
        return f"{self.text}: {self.why}."

    def error(self, owner: str, p: SimpleNamespace, free: Mapping[str, Param] | None = None) -> ConfigError:
        """The sentence for values ``p`` that break the rule: "fig7 needs … (why); got … = …", then, of the
        parameters ``free`` (name → Param: those left at their defaults, which the caller did not choose), the values
        of each that would keep it with the others as they are, where :meth:`keeping` finds them ("; allowed with the
        others as they are: tax_change_min from 7 to 16": a fresh user's minutes=20 for Figure 7 was told only the
        rule)."""
        got = ", ".join(f"{n} = {shorten(getattr(p, n))}" for n in self.names(p))
        shown = f" ({self.shows(p)})" if self.shows else ""
        keeps = [k for n, spec in (free or {}).items() if n in self.names(p) and (k := self.keeping(owner, p, n, spec))]
        allowed = f"; allowed with the others as they are: {' or '.join(keeps)}" if keeps else ""
        return ConfigError(f"{owner} needs {self.text} ({self.why}); got {got}{shown}{allowed}.")

    def keeping(self, owner: str, p: SimpleNamespace, name: str, spec: Param) -> str | None:
        """The whole numbers of parameter ``name`` (``spec``) that keep the rule, the other values of ``p`` as they
        are: "tax_change_min from 7 to 16", or "… = 7" for one; None where there are none, where they are not one run
        of whole numbers, for a rule only the run can tell, or for a parameter not counted in whole numbers (an
        ``integer`` one, or one whose default is a whole number: 60 minutes, 358 MB) between bounds at most
        :data:`MAX_TRIED` apart. Invented."""
        whole = spec.integer or (isinstance(spec.default, int) and not isinstance(spec.default, bool))
        if self.holds is None or spec.lo is None or spec.hi is None or not whole or spec.hi - spec.lo > MAX_TRIED:
            return None
        kept = [v for v in range(math.ceil(spec.lo), math.floor(spec.hi) + 1)
                if self.holds(SimpleNamespace(**{**vars(p), name: v})) and refusal(owner, name, spec, v) is None]
        if not kept or kept[-1] - kept[0] + 1 != len(kept):
            return None
        return f"{name} = {kept[0]}" if len(kept) == 1 else f"{name} from {kept[0]} to {kept[-1]}"


#: the most whole numbers :meth:`Rule.keeping` tries
MAX_TRIED = 100_000


def refusal(owner: str, name: str, spec: Param, value: Any) -> ConfigError | None:
    """The ConfigError ``spec`` raises for ``value`` (an open bound refuses its end), None if it allows it."""
    try:
        spec.validate(owner, name, value)
    except ConfigError as e:
        return e
    return None


def sharing(default: str = "off") -> Param:
    """The experiments' ``sharing`` knob: :class:`~esxlab.config.SharingConfig`'s ``mode``
    (its label, choices and source) with the experiment's own default."""
    return SharingConfig.controls()["mode"].replace(default=default)


def resolve(owner: str, specs: dict[str, Param], given: dict[str, Any],
            rules: Iterable[Rule] = ()) -> SimpleNamespace:
    """Defaults overridden by ``given``, every value validated (a whole number for an ``integer``
    Param, e.g. 10.0, comes back as the int), then every one of ``rules`` that can be told from the
    values checked (:class:`Rule`: its sentence says which values of the parameters not ``given`` would keep it,
    where it can tell); ``vars(result)`` is the params dict."""
    check_known(owner, given, specs)
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        value = spec.validate(owner, name, given.get(name, spec.default))
        if spec.unit == "min" and value is not None:
            check_whole_seconds(owner, name, value)
        # a whole number given as 10.0 (np.linspace, arithmetic, a slider) is that int: runs use it in range()
        values[name] = int(value) if spec.integer and value is not None else value
    p = SimpleNamespace(**values)
    for rule in rules:
        if rule.holds is not None and not rule.holds(p):
            raise rule.error(owner, p, {n: spec for n, spec in specs.items() if n not in given})
    return p


def check_whole_seconds(owner: str, name: str, minutes: float) -> None:
    """ConfigError unless ``minutes`` comes to a whole number of seconds: one tick is one simulated
    second, so a time in minutes (a run length, a moment in the run) must fall on a tick."""
    seconds = minutes * 60
    if abs(seconds - round(seconds)) > 1e-6:
        lo = math.floor(seconds / 15) * 15 / 60
        raise ConfigError(f"{owner} {name} = {minutes!r} min is {seconds:.6g} s, not a whole number of seconds; "
                          f"allowed: minutes that fall on a tick (one tick is one simulated second), e.g. {lo:g} "
                          f"or {lo + 0.25:g}.")


#: what every package experiment's ``run`` returns and refuses, added to its docstring by :func:`by_name`
RUN_CONTRACT = ("Returns a :class:`~esxlab.experiments.result.Result` (its ``table`` of rows against the paper, or its "
                "REFERENCE, and its ``traces``); ConfigError for an unknown parameter, a value out of its PARAMS range "
                "or breaking one of its RULES, or a bad seed.")


def by_name(run: Callable[..., Any]) -> Callable[..., Any]:
    """An experiment's ``run(seed=0, **params)``, refusing more than the seed by position, or the seed twice, with a
    ConfigError that says how to give the parameters (``fig7.run(0, 0.5)`` raised Python's TypeError), and a name it
    does not take with ``seed`` among the names it lists (``Seed=1`` listed the parameters without it); the signature
    shown is ``run``'s own, its docstring ``run``'s followed by :data:`RUN_CONTRACT`."""
    name = run.__module__.rsplit(".", 1)[-1]

    @functools.wraps(run)
    def checked(*args: Any, **params: Any) -> Any:
        specs = sys.modules[run.__module__].PARAMS
        check_known(f"{name}.run", params, ["seed", *specs])
        if len(args) > 1 or (args and "seed" in params):
            given = ", ".join(shorten(v) for v in args)
            seed = args[0] if isinstance(args[0], int) and args[0] >= 0 else 0
            raise ConfigError(f"{name}.run takes the seed by position (or as seed=) and its parameters by name; got "
                              f"{len(args)} value{'s' if len(args) > 1 else ''} by position ({given})"
                              f"{' and seed=' + shorten(params['seed']) if 'seed' in params else ''}; "
                              f"{_example(name, specs, seed, args[1:])}")
        return run(*args, **params)
    checked.__doc__ = f"{run.__doc__ or ''} {RUN_CONTRACT}".lstrip()
    return checked


def _example(name: str, specs: dict[str, Param], seed: int, values: tuple) -> str:
    """"e.g. fig7.run(0, name=value)." for the first of ``values`` and the first parameter that takes it (as
    :func:`resolve` would: a time on a tick too), adding the others that take it too ("0.5 is a value of tax_before,
    tax_rate"), or ``first=…`` when none takes it (or there is no value: the seed twice)."""
    value = plain(values[0]) if values else None
    takes = [param for param, spec in specs.items() if values and _takes(name, param, spec, value)]
    if not takes:
        return f"e.g. {name}.run({seed}, {next(iter(specs))}=…)."
    also = f" ({shorten(value)} is a value of {', '.join(takes)})" if len(takes) > 1 else ""
    return f"e.g. {name}.run({seed}, {takes[0]}={shorten(value)}){also}."


def _takes(owner: str, name: str, spec: Param, value: Any) -> bool:
    """Whether parameter ``name`` takes ``value`` (:func:`resolve`'s checks of one value); False for any error."""
    try:
        spec.validate(owner, name, value)
        if spec.unit == "min":
            check_whole_seconds(owner, name, value)
        return True
    except Exception:                              # noqa: BLE001 (any value a student typed: Fraction, an object)
        return False


def plain(value: Any) -> Any:
    """``value`` with numpy scalars as the Python numbers, bools and strings they hold (in a tuple too), so that a
    grid point's name and a run's notes read 0.5, not np.float64(0.5), as for values given in a list (a 0-d array,
    np.array(0.5), too)."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value)
    return value


def check_seed(seed: Any) -> int:
    """The experiments' seed rule is the host's (:func:`esxlab.rng.check_seed`); a fraction given as the seed says that
    ``run``'s first argument by position is the seed (``fig7.run(0.5)`` meant for the tax rate: a new user's trial)."""
    try:
        return rng.check_seed(seed, "run: seed")
    except ConfigError as err:
        if isinstance(seed, (float, np.floating)) and not float(seed).is_integer():
            raise ConfigError(f"{str(err).rstrip('.')}; run's first argument by position is the seed, so give the "
                              "experiment's parameters by name (e.g. fig7.run(tax_rate=0.5)).") from None
        raise


def require(condition: bool, sentence: str) -> None:
    """Raise ConfigError(sentence) unless ``condition`` (a check inside a run; a rule between an
    experiment's parameters is a :class:`Rule` in its ``RULES`` instead, so that ``--list`` shows it)."""
    if not condition:
        raise ConfigError(sentence)


def moved(specs: dict[str, Param], p: SimpleNamespace, names: tuple[str, ...]) -> str:
    """Which of the knobs ``names`` left their default (the set-up compared with the paper: its
    values where it gives them, invented ones where it does not), as text for
    :meth:`.result.Result.add`'s ``off_setting`` ("" when none did): "threshold = 8, default 16"."""
    return ", ".join(f"{n} = {getattr(p, n)!r}, default {specs[n].default!r}" for n in names
                     if getattr(p, n) != specs[n].default)
