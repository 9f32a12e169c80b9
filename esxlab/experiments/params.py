"""Experiment parameters declared once, as data: validation and notebook sliders both read them.

Each experiment module lists its knobs in ``PARAMS`` (name → :class:`Param`) and starts
``run(seed=0, **params)`` with ``p = resolve("fig7", PARAMS, params)``: unknown names and
out-of-range values raise :class:`~esxlab.errors.ConfigError` with a sentence.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

from .. import rng
from ..errors import ConfigError, check_choice, check_number


@dataclass(frozen=True)
class Param:
    """A knob: default, allowed range (or choices), slider label and unit.

    ``check`` replaces the numeric check for structured values (e.g. a toucher schedule);
    it raises ConfigError itself.
    """

    default: Any
    label: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    unit: str = ""
    integer: bool = False
    choices: tuple | None = None
    check: Callable[[str, Any], None] | None = None

    def validate(self, owner: str, name: str, value: Any) -> None:
        if self.check is not None:
            self.check(f"{owner}.{name}", value)
        elif self.choices is not None:
            check_choice(owner, name, value, self.choices)
        else:
            check_number(owner, name, value, self.lo, self.hi, integer=self.integer)


def resolve(owner: str, specs: dict[str, Param], given: dict[str, Any]) -> SimpleNamespace:
    """Defaults overridden by ``given``, every value validated; ``vars(result)`` is the params dict."""
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise ConfigError(f"{owner} has no parameter {unknown[0]!r}; its parameters are: "
                          f"{', '.join(specs)}.")
    values = {name: given.get(name, spec.default) for name, spec in specs.items()}
    for name, value in values.items():
        specs[name].validate(owner, name, value)
    return SimpleNamespace(**values)


def check_seed(seed: Any) -> int:
    """The experiments' seed rule is the host's (:func:`esxlab.rng.check_seed`)."""
    return rng.check_seed(seed, "run: seed")


def require(condition: bool, sentence: str) -> None:
    """Raise ConfigError(sentence) unless ``condition`` (cross-parameter rules)."""
    if not condition:
        raise ConfigError(sentence)


def moved(specs: dict[str, Param], p: SimpleNamespace, names: tuple[str, ...]) -> str:
    """Which of the knobs ``names`` left their default (the paper's setting), as text for
    :meth:`.result.Result.add`'s ``off_setting`` ("" when none did)."""
    return ", ".join(f"{n} = {getattr(p, n)!r}, paper {specs[n].default!r}" for n in names
                     if getattr(p, n) != specs[n].default)
