"""Simulated time, shared read-only by the components that need "now": one tick is one second."""
from __future__ import annotations


class Clock:
    """``clock.t``: seconds since the host started; only the host advances it."""

    def __init__(self) -> None:
        self.t = 0
