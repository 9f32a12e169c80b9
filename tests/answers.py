"""Helpers for the checker's tests: the message a wrong answer gets, and its line about one answer."""
from __future__ import annotations

import pytest

from esxlab import checks


def fails(problem, answers: dict, exc: type[Exception] = checks.CheckFailed) -> str:
    """The message ``checks.check(problem, **answers)`` fails with (``exc``)."""
    with pytest.raises(exc) as failed:
        checks.check(problem, **answers)
    return str(failed.value)


def line(message: str, name: str) -> str:
    """The line of a check's ``message`` about answer ``name``."""
    return next(text for text in message.splitlines() if f"`{name}` is not right" in text)
