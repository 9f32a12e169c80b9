"""Experiment parameters declared once, as data: validation and notebook sliders both read them.

Each experiment module lists its knobs in ``PARAMS`` (name → :class:`~esxlab.config.Param`, the
one parameter type that configuration fields and the views' controls use too) and starts
``run(seed=0, **params)`` with ``p = resolve("fig7", PARAMS, params)``: unknown names and
out-of-range values raise :class:`~esxlab.errors.ConfigError` with a sentence.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .. import rng
from ..config import Param, SharingConfig
from ..errors import ConfigError

__all__ = ["Param", "check_seed", "moved", "require", "resolve", "sharing"]


def sharing(default: str = "off") -> Param:
    """The experiments' ``sharing`` knob: :class:`~esxlab.config.SharingConfig`'s ``mode``
    (its label, choices and source) with the experiment's own default."""
    return SharingConfig.controls()["mode"].replace(default=default)


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
